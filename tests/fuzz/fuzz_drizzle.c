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
#include <stdlib.h>
#include <string.h>

#include "fuzz_folder.h"
#include "tools/tool.h"

extern const rh_tool rh_tool_drizzle;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_folder("drizzle", "meta");
    const uint8_t *nul = memchr(data, 0, size);
    size_t jlen = nul ? (size_t)(nul - data) : size;
    fuzz_folder_write("meta/_journal.json", data, jlen);
    fuzz_folder_write("0000_a.sql", nul ? nul + 1 : (const uint8_t *)"", nul ? size - jlen - 1 : 0);
    rh_err err;
    rh_migset set;
    rh_err_clear(&err);
    int rc = rh_folder_load_dir(&set, dir, rh_tool_drizzle.read, &err);
    if (rc < 0 && !strstr(err.msg, "_journal.json"))
        abort();
    if (rc == 0)
        rh_migset_free(&set);
    return 0;
}
