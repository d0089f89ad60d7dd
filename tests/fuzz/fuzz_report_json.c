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
#include "tools/prisma/profile.h"
#include "tools/tool.h"

/* The registry as the reader needs it (a recorded profile is the default tool's): linking the real
   one would bring every tool in. */
static const rh_tool fuzz_default_tool = {
    .name = "prisma",
    .profile_from_version = rh_prisma_profile_from_version,
    .profile_describe = rh_prisma_profile_describe,
    .default_version = RH_PRISMA_DEFAULT_VERSION,
};
const rh_tool *const rh_tools[] = {&fuzz_default_tool, NULL};

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
