/*
 * fuzz_dbmate.c — a fuzz target for dbmate's file reader and marker parser (tools/dbmate: the folder,
 * `-- migrate:up [transaction:false]` / `-- migrate:down` sections, the CONCURRENTLY hazards that split
 * the up section). scripts/fuzz.sh builds and runs it with libFuzzer.
 *
 * Input: the bytes of one migration file, written as 20240101000000_x.sql into a fresh folder that the
 * tool's reader loads; the tool's history findings then parse its markers and statements. The property: any
 * bytes load and are judged, never a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_folder.h"
#include "source/history.h"
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
    if (rh_folder_load_dir(&set, dir, rh_tool_dbmate.read, &err) < 0)
        abort(); /* a readable folder always loads: dbmate judges a file when it applies it */
    if (set.n != 1)
        abort();
    /* its hazards as history --tool asks them: the file new at `to`, nothing at `from` */
    rh_git_history h = {.to = {.label = "fuzz"}, .from = {.label = "-"}, .migrations = "db/migrations", .b = set};
    rh_tool_dbmate.history_findings(&h);
    if (h.n > 1 || h.n_hazards != h.n || (h.n == 1 && (!h.items[0].code || !h.items[0].file || !h.items[0].message)))
        abort();
    rh_hist_free_findings(&h);
    /* what check's trace sends: the file's text with all but the up section blanked, line breaks kept */
    const char *sql = set.items[0].sql ? set.items[0].sql : "";
    rh_buf sent;
    rh_buf_init(&sent);
    rh_tool_dbmate.sent_text(&set.items[0], &sent);
    if (sent.len != strlen(sql))
        abort();
    for (size_t i = 0; i < sent.len; i++)
        if ((sql[i] == '\n') != (sent.data[i] == '\n') || (sent.data[i] != ' ' && sent.data[i] != sql[i]))
            abort();
    rh_buf_free(&sent);
    /* plan: a CONCURRENTLY that fails is a file that fails; a failing file says why */
    rh_plan plan;
    rh_buf lines;
    rh_buf_init(&lines);
    int bad = rh_tool_dbmate.plan_file(&set.items[0], NULL, &plan, &lines);
    if ((plan.concurrently_fails && !bad) || (bad && !lines.len) || plan.n_concurrently > plan.n_stmts)
        abort();
    rh_buf_free(&lines);
    rh_folder *f = NULL;
    if (rh_folder_open_dir(&f, dir, &err) < 0)
        abort();
    (void)rh_tool_dbmate.detect(f);
    rh_folder_close(f, 0, NULL);
    rh_migset_free(&set);
    return 0;
}
