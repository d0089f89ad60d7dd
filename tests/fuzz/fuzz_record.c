/*
 * fuzz_record.c — a fuzz target for the two texts that tell rehearse which process it started
 * (cluster/record.c): a cluster's record RUN_DIR/ID.owner and the watchdog's "A" lines.
 * scripts/fuzz.sh builds and runs it with libFuzzer.
 *
 * Input: the first byte picks the parser; the rest is the text. The property: any bytes parse or
 * are refused, never a crash, a read out of bounds or an unterminated executable path.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t len = size - 1;
    char *text = malloc(len + 1); /* both parsers read NUL-terminated text */
    if (!text)
        return 0;
    memcpy(text, data + 1, len);
    text[len] = '\0';
    if (data[0] & 1) {
        rh_cluster_record r;
        if (rh_record_parse(text, &r) == 0)
            assert(memchr(r.server.exe, '\0', sizeof r.server.exe) && !strchr(r.server.exe, '\n'));
    } else {
        rh_proc_ref ref;
        char *dir = NULL;
        if (rh_watchdog_line_parse(text, &ref, &dir) == 0)
            assert(dir >= text && dir <= text + len && memchr(ref.exe, '\0', sizeof ref.exe) && !strchr(ref.exe, '\t'));
    }
    free(text);
    return 0;
}
