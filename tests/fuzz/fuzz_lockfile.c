/*
 * fuzz_lockfile.c — a fuzz target for the package managers' files rehearse reads to find the Prisma
 * version (tools/prisma/lockfile.h): package-lock.json, pnpm-lock.yaml, yarn.lock, package.json
 * "workspaces" and pnpm-workspace.yaml. scripts/fuzz.sh builds and runs it with libFuzzer.
 *
 * Input: the first byte picks the file kind, the second the package folder asked about; the rest is
 * the file. The property: any bytes give a version or none, never a crash, a leak, a read out of
 * bounds or an unterminated answer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/prisma/lockfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const char *const folders[] = {"", "packages/db", ".", "apps/api/x"};
    int kind = data[0] % 5;
    const char *rel = folders[data[1] % 4];
    size_t len = size - 2;
    char *text = malloc(len + 1); /* the parsers read NUL-terminated text, as files are read */
    if (!text)
        return 0;
    memcpy(text, data + 2, len);
    text[len] = '\0';
    if (kind < 3) {
        char out[64];
        memset(out, 'x', sizeof out);
        if (rh_lock_version((rh_lock_kind)kind, text, "prisma", rel, "^6.0.1", out, sizeof out) == 1 &&
            memchr(out, '\0', sizeof out) == NULL)
            abort();
    } else {
        char **patterns = NULL;
        size_t n = rh_workspace_patterns(kind == 3 ? RH_WORKSPACE_PACKAGE_JSON : RH_WORKSPACE_PNPM, text, len,
                                         &patterns);
        for (size_t i = 0; i < n; i++)
            if (!patterns[i])
                abort();
        (void)rh_workspace_has(patterns, n, rel);
        rh_workspace_patterns_free(patterns, n);
    }
    free(text);
    return 0;
}
