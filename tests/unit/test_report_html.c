/*
 * test_report_html.c — check's HTML page carries repository and server text as text: a migration
 * name, statement, message or server error holding markup (<script>, quotes, &) stays text, and the
 * page stays self-contained (no reference out of it); run's page likewise for every field of a result,
 * its steps and ledger rows; the catalog diff side by side. The browser tests (tests/cli/check_html.test.sh,
 * run_html.test.sh) read real pages in Chromium.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "report/check_html.h"
#include "report/html.h"
#include "report/report.h"
#include "testlib.h"

static void markup_stays_text(void **state)
{
    (void)state;
    rh_check_lock lock = {.relation = "\"User<b>\"", .relkind = 'r', .mode = "AccessExclusiveLock", .existed_before = 1};
    rh_check_stmt stmt = {.line = 2, .text = "ALTER TABLE \"x\" -- <script>alert(1)</script>", .locks = &lock,
                          .n_locks = 1, .ms = 3.5, .sqlstate = "42P01", .error = "relation \"<img src=x>\" does not exist"};
    rh_check_trace trace = {.migration = "20250201000000_<i>x</i>", .file = "f", .stmts = &stmt, .n = 1, .failed = 1};
    rh_check_finding f = {.level = RH_CHECK_ERROR, .step = 'e', .code = "fails-in-production", .file = "a&b/migration.sql",
                          .line = 2, .message = "fails: <iframe src=\"https://evil\">", .detail = "line 1\n</pre><b>"};
    rh_check_result r;
    memset(&r, 0, sizeof r);
    r.traces = &trace;
    r.n_traces = 1;
    r.findings = &f;
    r.n_findings = 1;
    r.migrations = "prisma/migrations";
    rh_buf b;
    rh_buf_init(&b);
    rh_report_check_html(&r, RH_CHECK_ERROR, &b);
    assert_null(strstr(b.data, "<script"));
    assert_null(strstr(b.data, "<img"));
    assert_null(strstr(b.data, "<iframe"));
    assert_null(strstr(b.data, "<i>"));
    assert_null(strstr(b.data, "</pre><b>"));
    assert_non_null(strstr(b.data, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(b.data, "20250201000000_&lt;i&gt;x&lt;/i&gt;"));
    assert_non_null(strstr(b.data, "<code>a&amp;b/migration.sql:2</code>"));
    assert_non_null(strstr(b.data, "failed: SQLSTATE 42P01: relation &quot;&lt;img src=x&gt;&quot; does not exist"));
    assert_non_null(strstr(b.data, "<h1 id=\"verdict\" class=\"fail\">rehearse check: these migrations would not deploy"));
    assert_null(strstr(b.data, "held for")); /* no --scale: nothing measured on filled tables */
    /* with --scale/--rows: how long the worst lock was held, as the Markdown comment's column says */
    r.scaled = 1;
    r.fill.rows = 50000;
    rh_buf_reset(&b);
    rh_report_check_html(&r, RH_CHECK_ERROR, &b);
    assert_non_null(strstr(b.data, "worst lock on an existing table: AccessExclusiveLock, held for 0.004 s (measured, 50000 "
                                   "row(s) filled)</p>"));
    rh_buf_free(&b);
}

/* Every text field of a run result, its step and its ledger row hold markup: it stays text. */
static void run_page_markup_stays_text(void **state)
{
    (void)state;
    const char *evil = "<script>alert(1)</script><img src=x onerror=y>\033[2J";
    rh_result res;
    memset(&res, 0, sizeof res);
    res.status = RH_FAIL;
    char **fields[] = {&res.path, &res.name, &res.file, &res.step, &res.message, &res.expected, &res.actual,
                       &res.output, &res.log_tail, &res.kept, &res.postgres, &res.context};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        *fields[i] = strdup(evil);
    res.diff = strdup("--- <a>\n+++ <b>\n~ table <script>\n-   x <img>\n+   y <img>\n");
    rh_result_step *st = rh_result_add_step(&res, evil, 3, evil, 12.5, 1);
    st->ledger_changed = 1;
    st->n_ledger = 1;
    st->ledger = calloc(1, sizeof *st->ledger);
    st->ledger[0] = (rh_result_ledger_row){.name = strdup(evil), .ms = -1};
    strcpy(st->ledger[0].started, "<i>");
    /* --trace-locks: the migration's locks (relation and mode from the server) and a step's note */
    st->n_traces = 1;
    st->traces = calloc(1, sizeof *st->traces);
    st->traces[0] = (rh_result_trace){.migration = strdup(evil), .failed = 1, .n_locks = 1};
    st->traces[0].locks = calloc(1, sizeof *st->traces[0].locks);
    st->traces[0].locks[0] = (rh_result_lock){.relation = strdup(evil), .mode = strdup("AccessExclusiveLock")};
    st->trace_note = strdup(evil);
    rh_run run = {.results = &res, .n = 1, .failed = 1, .jobs = 1};
    rh_buf b;
    rh_buf_init(&b);
    rh_report_html(&run, &b);
    assert_null(strstr(b.data, "<script"));
    assert_null(strstr(b.data, "<img"));
    assert_null(strstr(b.data, "<i>"));
    assert_null(strstr(b.data, "<a>"));
    assert_null(strchr(b.data, '\033'));
    assert_non_null(strstr(b.data, "<h1 id=\"verdict\" class=\"fail\">rehearse run: 1 failed, 0 error(s)</h1>"));
    assert_non_null(strstr(b.data, "<details class=\"scenario\" id=\"scenario-1\" open>"));
    /* the diff side by side: the removed line left, the added one right, on one row */
    assert_non_null(strstr(b.data, "<tr><th>&lt;a&gt;</th><th>&lt;b&gt;</th></tr>"));
    assert_non_null(strstr(b.data, "<tr><td class=\"del\">-   x &lt;img&gt;</td><td class=\"add\">+   y &lt;img&gt;</td></tr>"));
    assert_non_null(strstr(b.data, "<td class=\"obj\" colspan=\"2\">~ table &lt;script&gt;</td>"));
    /* the timeline row of the ledger's migration carries its traced lock, in red */
    assert_non_null(strstr(b.data, "<td class=\"locks\"><span class=\"lock-ae\">AccessExclusiveLock</span> "
                                   "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(b.data, "(a statement failed: the trace stops there)"));
    assert_non_null(strstr(b.data, "class=\"note\">locks &lt;script&gt;"));
    rh_buf_free(&b);
    rh_result_free(&res);
}

/* A ledger row the tool keeps no duration for (dbmate, drizzle: ms -1, finished) reads "unknown", not
   "did not finish" or 0 ms. */
static void run_page_unknown_duration(void **state)
{
    (void)state;
    rh_result res;
    memset(&res, 0, sizeof res);
    res.status = RH_PASS;
    res.path = strdup("s.scenario");
    res.name = strdup("s");
    rh_result_step *st = rh_result_add_step(&res, "s.scenario", 3, "deploy", 12.5, 0);
    st->ledger_changed = 1;
    st->n_ledger = 2;
    st->ledger = calloc(2, sizeof *st->ledger);
    st->ledger[0] = (rh_result_ledger_row){.name = strdup("20240101000000"), .finished = 1, .ms = -1};
    st->ledger[1] = (rh_result_ledger_row){.name = strdup("20240102000000"), .finished = 0, .ms = -1};
    rh_run run = {.results = &res, .n = 1, .jobs = 1};
    rh_buf b;
    rh_buf_init(&b);
    rh_report_html(&run, &b);
    assert_non_null(strstr(b.data, "<td>20240101000000</td><td class=\"\">applied</td><td>0</td><td></td><td>unknown</td>"));
    assert_non_null(strstr(b.data, "<td>20240102000000</td><td class=\"error\">failed</td><td>0</td><td></td><td>–</td>"));
    assert_non_null(strstr(b.data, "style=\"width:2px\"></div>duration unknown</td>"));
    assert_non_null(strstr(b.data, "style=\"width:2px\"></div>did not finish</td>"));
    rh_buf_free(&b);
    rh_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(markup_stays_text),
        cmocka_unit_test(run_page_markup_stays_text),
        cmocka_unit_test(run_page_unknown_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
