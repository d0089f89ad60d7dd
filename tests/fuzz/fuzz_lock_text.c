/*
 * fuzz_lock_text.c — a fuzz target for the session texts lockwait.c takes as plain (runner/lock_text.c):
 * any bytes are an answer, never a crash; a plain text stays plain with a statement of its own added.
 * scripts/fuzz.sh builds and runs it with libFuzzer.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner/lock_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char more[] = ";COMMIT";
    char *text = malloc(size + sizeof more);
    memcpy(text, data, size);
    text[size] = 0;
    int plain = rh_lock_text_plain(text);
    if (plain && strlen(text) == size) {
        memcpy(text + size, more, sizeof more);
        assert(rh_lock_text_plain(text));
    }
    free(text);
    return 0;
}
