/*
 * fuzz_scale.c — a fuzz target for the one loader of production's shape (scale/load.c): stats
 * documents (--scale) and --rows guesses. scripts/fuzz.sh builds and runs it with libFuzzer.
 *
 * Input: the first byte picks the parser (even: stats document, odd: --rows argument); the rest is
 * the text. The property: any bytes load or give an error message, never a crash, a leak, or a
 * table without a name or with negative rows.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scale/scale.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    rh_scale s = {0};
    rh_err err;
    rh_err_clear(&err);
    int rc = data[0] % 2 ? rh_scale_add_rows(&s, text, &err) : rh_scale_parse(&s, text, "fuzz.json", &err);
    if (rc < 0 && !err.msg[0])
        abort();
    for (size_t i = 0; i < s.ntables; i++) {
        if (!s.tables[i].name || s.tables[i].rows < 0)
            abort();
        (void)rh_scale_find(&s, s.tables[i].schema, s.tables[i].name);
    }
    rh_scale_free(&s);
    free(text);
    return 0;
}
