/*
 * test_report_html.c — check's HTML page carries repository and server text as text: a migration
 * name, statement, message or server error holding markup (<script>, quotes, &) stays text, and the
 * page stays self-contained (no reference out of it). The browser test (tests/cli/check_html.test.sh)
 * reads a real check's page in Chromium.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "report/check_html.h"
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
    rh_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(markup_stays_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
