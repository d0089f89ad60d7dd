/*
 * fuzz_report_json.c — a fuzz target for `rehearse report merge`'s reader of run reports
 * (report/merge.c): any bytes are read as a report or refused, never a crash; what is read merges.
 * scripts/fuzz.sh builds and runs it with libFuzzer.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "report/merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rh_run run;
    memset(&run, 0, sizeof run);
    rh_err err;
    /* the same bytes twice: read, merged, and every scenario found in both */
    if (rh_report_read_json("fuzz", (const char *)data, size, &run, &err) == 0 &&
        rh_report_read_json("fuzz", (const char *)data, size, &run, &err) == 0)
        assert(run.n == 0 || rh_report_merge_finish(&run, &err) < 0);
    rh_run_free(&run);
    return 0;
}
