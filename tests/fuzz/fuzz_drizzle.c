/*
 * fuzz_drizzle.c — a fuzz target for drizzle-kit's journal reader (tools/drizzle: meta/_journal.json
 * and the files it names). scripts/fuzz.sh builds and runs it with libFuzzer.
 *
 * Input: the journal text up to the first NUL byte, then the bytes of 0000_a.sql. They are written into
 * a fresh folder that the tool's reader loads. The property: any bytes load or give an error message
 * naming the journal, never a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/tool.h"
#include "util/fs.h"

extern const rh_tool rh_tool_drizzle;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void remove_dir(void)
{
    rh_err err;
    rh_fs_rmtree(dir, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rh_err err;
    if (!dir[0]) {
        atexit(remove_dir);
        snprintf(dir, sizeof dir, "/tmp/fuzz-drizzle-%d", (int)getpid());
        char meta[96];
        snprintf(meta, sizeof meta, "%s/meta", dir);
        if (rh_fs_mkdir_p(meta, 0700, &err) < 0)
            abort();
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t jlen = nul ? (size_t)(nul - data) : size;
    char path[128];
    snprintf(path, sizeof path, "%s/meta/_journal.json", dir);
    if (rh_fs_write(path, data, jlen, 0600, &err) < 0)
        abort();
    snprintf(path, sizeof path, "%s/0000_a.sql", dir);
    if (rh_fs_write(path, nul ? nul + 1 : (const uint8_t *)"", nul ? size - jlen - 1 : 0, 0600, &err) < 0)
        abort();
    rh_migset set;
    rh_err_clear(&err);
    int rc = rh_tool_drizzle.load_dir(&set, dir, NULL, &err);
    if (rc < 0 && !strstr(err.msg, "_journal.json"))
        abort();
    if (rc == 0)
        rh_migset_free(&set);
    return 0;
}
