/*
 * fuzz_dbmate.c — a fuzz target for dbmate's file reader and marker parser (tools/dbmate: the folder,
 * `-- migrate:up [transaction:false]` / `-- migrate:down` sections, the CONCURRENTLY hazards that split
 * the up section). scripts/fuzz.sh builds and runs it with libFuzzer.
 *
 * Input: the bytes of one migration file, written as 20240101000000_x.sql into a fresh folder that the
 * tool's reader loads; the tool's hazards then parse its markers and statements. The property: any
 * bytes load and are judged, never a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_folder.h"
#include "tools/tool.h"
#include "util/buf.h"

extern const rh_tool rh_tool_dbmate;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_folder("dbmate", "");
    fuzz_folder_write("20240101000000_x.sql", data, size);
    rh_err err;
    rh_migset set;
    rh_err_clear(&err);
    if (rh_tool_dbmate.load_dir(&set, dir, NULL, &err) < 0)
        abort(); /* a readable folder always loads: dbmate judges a file when it applies it */
    if (set.n != 1)
        abort();
    rh_buf out;
    rh_buf_init(&out);
    size_t n = rh_tool_dbmate.history_hazards(NULL, &set, "-", "fuzz", &out);
    if (n > 1 || (n == 1) != (out.len > 0))
        abort();
    rh_buf_free(&out);
    (void)rh_tool_dbmate.detect_dir(dir);
    rh_migset_free(&set);
    return 0;
}
