/*
 * fuzz_sqlparser_model.c — a fuzz target for the split decision (migrations/sqlparser_model.c): its
 * lexer, the COPY-data handling, the psql-variable rewrite and the parse-tree rules; and, on the same
 * SQL, the globals detector's word scan (migrations/globals.c).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I harness -I /usr/include/json-c \
 *         tests/fuzz/fuzz_sqlparser_model.c harness/migrations/sqlparser_model.c harness/migrations/split.c \
 *         harness/migrations/globals.c harness/util/buf.c harness/util/err.c -lpg_query -ljson-c -o fuzz_sqlparser_model
 *   ./fuzz_sqlparser_model -max_total_time=60 -max_len=4096 tests/fuzz/corpus_sql
 *
 * The property: any bytes give a decision; nothing crashes, leaks or reads out of bounds; a file
 * judged whole names a reason; a split file has statements only if PostgreSQL's parser found them;
 * the detector names what it found exactly when it says yes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "migrations/globals.h"
#include "tools/prisma/sqlparser_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rh_split_decision d;
    rh_sqlparser_decide((const char *)data, size, &d);
    if (!d.split && !d.reason[0])
        abort();
    if (memchr(d.reason, '\0', sizeof d.reason) == NULL)
        abort();
    const char *what = NULL;
    if (rh_sql_may_touch_globals((const char *)data, size, &what) != (what != NULL))
        abort();
    return 0;
}
