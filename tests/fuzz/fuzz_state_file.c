/*
 * fuzz_state_file.c — a fuzz target for the files kept with a deployed state, read back from the
 * cache folder: the checksummed wrapper of every such file (cluster/state_file.c), the catalog
 * file inside it (engine/catalog_file.c) and the file of a scenario's cached steps
 * (runner/steps_file.c). scripts/fuzz.sh builds and runs it with libFuzzer.
 *
 * Input (fuzz_text.h): the first byte picks the parser (% 3 == 2: the steps file; else odd: the
 * wrapper, even: the catalog file); the rest is the file (and, after a NUL, the catalog file's
 * expected origin). The properties: any bytes are read or
 * refused, never a crash or a read out of bounds; what is read writes back to the same bytes
 * (the catalog file) or reads back to the same text (the wrapper).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "engine/cached.h"
#include "fuzz_text.h"
#include "runner/steps_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *second;
    char *file = fuzz_text(data, size, &second);
    if (!file)
        return 0;
    if (data[0] % 3 == 2) {
        rh_steps_record rec;
        if (rh_steps_file_parse(file, &rec)) {
            char *again = rh_steps_file_format(rec.steps, rec.n, rec.have_output ? rec.output : NULL, rec.findings,
                                               rec.n_findings);
            assert(again && strcmp(again, file) == 0);
            free(again);
            rh_steps_record_free(&rec);
        }
    } else if (data[0] & 1) {
        char *text = NULL;
        if (rh_state_file_unwrap(file, strlen(file), &text)) {
            char *again = rh_state_file_wrap(text), *back = NULL;
            assert(rh_state_file_unwrap(again, strlen(again), &back) == 1 && strcmp(back, text) == 0);
            free(back);
            free(again);
        }
        free(text);
    } else { /* the origin expected: the text after the first NUL, else a usual one */
        const char *origin = *second ? second : "catalog-code 0123\noptions ledger=0\n";
        char *catalog = NULL, *globals = NULL;
        if (rh_state_catalog_parse(file, origin, &catalog, &globals)) {
            char *again = rh_state_catalog_format(origin, globals, catalog);
            assert(strcmp(again, file) == 0);
            free(again);
        }
        free(catalog);
        free(globals);
    }
    free(file);
    return 0;
}
