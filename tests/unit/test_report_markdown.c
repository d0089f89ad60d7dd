/*
 * test_report_markdown.c — `rehearse check --format markdown`, the pull-request comment: verdict
 * first, a row per new migration (how it runs, its worst lock on an existing table), findings with
 * file:line links relative to the repository, details folded, text from the repository escaped, and
 * the whole kept under GitHub's 65,536-character comment limit with a line saying what was cut.
 * Results are built by hand: formatting needs no cluster.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/check_markdown.h"
#include "report/escape.h"
#include "report/plan.h"
#include "report/report.h"
#include "test_git_fixture.h"
#include "testlib.h"
#include "util/fs.h"
#include "tools/prisma/prisma.h"
#include "tools/prisma/profile.h"

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

#define NEW1 "20250201000000_add_index"
#define NEW2 "20250301000000_concurrently"
#define FILE1 "prisma/migrations/" NEW1 "/migration.sql"

static rh_check_lock locks1[] = {
    {.relation = "User", .relkind = 'r', .mode = "RowExclusiveLock", .existed_before = 1},
    {.relation = "User", .relkind = 'r', .mode = "AccessExclusiveLock", .existed_before = 1},
    {.relation = "Fresh", .relkind = 'r', .mode = "AccessExclusiveLock", .existed_before = 0},
};
static rh_check_lock locks2[] = {
    {.relation = "User", .relkind = 'r', .mode = "ShareUpdateExclusiveLock", .existed_before = 1},
};
static rh_check_stmt stmts1[] = {
    {.line = 1, .text = "UPDATE \"User\" SET a = 1", .locks = &locks1[0], .n_locks = 1},
    {.line = 3, .text = "ALTER TABLE \"User\" ...", .locks = &locks1[1], .n_locks = 2},
};
static rh_check_stmt stmts2[] = {
    {.line = 1, .text = "CREATE INDEX CONCURRENTLY", .locks = locks2, .n_locks = 1, .outside_tx = 1},
};
static rh_check_trace traces[] = {
    {.migration = NEW1, .file = FILE1, .stmts = stmts1, .n = 2},
    {.migration = NEW2, .file = "x", .stmts = stmts2, .n = 1},
};
static char *added[] = {NEW1, NEW2};

static void make_result(rh_check_result *r, rh_check_finding *f, size_t nf)
{
    memset(r, 0, sizeof *r);
    snprintf(r->base.label, sizeof r->base.label, "main (abc1234)");
    snprintf(r->head.label, sizeof r->head.label, "WORKTREE (files on disk)");
    r->migrations = "prisma/migrations";
    r->added = added;
    r->n_added = 2;
    r->traces = traces;
    r->n_traces = 2;
    r->findings = f;
    r->n_findings = nf;
    r->clean_ok = r->base_ok = r->upgrade_ok = 1;
    r->ms_total = 4200;
}

static void structure(void **state)
{
    (void)state;
    rh_check_finding f[] = {
        {.level = RH_CHECK_ERROR, .step = 'f', .code = "access-exclusive", .migration = NEW1, .file = FILE1,
         .line = 3, .message = "blocks reads [and](http://evil) <script>x</script> | `tick`",
         .detail = "ALTER TABLE \"User\" ...\n``` not a fence end\n"},
        {.level = RH_CHECK_NOTICE, .step = 'd', .code = "out-of-order", .message = "no file here"},
    };
    rh_check_result r;
    make_result(&r, f, 2);
    rh_buf b;
    rh_buf_init(&b);
    rh_report_check_markdown(&r, RH_CHECK_ERROR, &b);
    const char *md = b.data;

    /* verdict first */
    assert_true(starts_with(md, "### ❌ rehearse check: these migrations would not deploy as they are\n\n"));
    assert_non_null(strstr(md, "1 error(s), 0 warning(s), 1 notice(s)"));
    /* a row per new migration: how it runs (the human report's words) and its worst lock on a table that existed
       before; a lone CONCURRENTLY runs wholly outside a transaction (before: "partly outside a transaction") */
    assert_non_null(strstr(md, "| [20250201000000\\_add\\_index](" FILE1 ") | – | the file runs as one transaction | "
                               "AccessExclusiveLock |\n"));
    assert_non_null(strstr(md, "| [20250301000000\\_concurrently](prisma/migrations/" NEW2 "/migration.sql) | – | its one "
                               "statement, sent alone, runs outside a transaction | ShareUpdateExclusiveLock |\n"));
    assert_null(strstr(md, "partly outside"));
    assert_null(strstr(md, "held for")); /* no --scale: nothing measured on filled tables */
    /* the finding links to its file and line, relative to the repository */
    assert_non_null(strstr(md, "(prisma/migrations/20250201000000_add_index/migration.sql#L3)"));
    assert_non_null(strstr(md, "[prisma\\/migrations\\/20250201000000\\_add\\_index\\/migration\\.sql:3]("));
    /* repository text opens no link, tag, cell or code span */
    assert_null(strstr(md, "<script>"));
    assert_null(strstr(md, "](http"));
    assert_non_null(strstr(md, "\\<script\\>x\\<\\/script\\> \\| \\`tick\\`"));
    /* details folded, in a fence longer than any backtick run inside */
    assert_int_equal(count_of(md, "<details>"), 1);
    assert_int_equal(count_of(md, "</details>"), 1);
    assert_non_null(strstr(md, "````\nALTER TABLE \"User\" ...\n``` not a fence end\n````\n"));
    assert_non_null(strstr(md, "`(d) out-of-order` no file here"));

    /* all clean: the verdict says so */
    rh_check_result ok;
    make_result(&ok, NULL, 0);
    rh_buf_reset(&b);
    rh_report_check_markdown(&ok, RH_CHECK_ERROR, &b);
    assert_true(starts_with(b.data, "### ✅ rehearse check: these migrations deploy\n"));
    assert_null(strstr(b.data, "findings"));
    rh_buf_free(&b);
}

/* 3000 findings with long details: cut under the limit, saying how many, the folds still closed. */
static void size_cut(void **state)
{
    (void)state;
    enum { N = 3000 };
    rh_check_finding *f = calloc(N, sizeof *f);
    char detail[400];
    memset(detail, 'd', sizeof detail - 1);
    detail[sizeof detail - 1] = 0;
    for (size_t i = 0; i < N; i++)
        f[i] = (rh_check_finding){.level = RH_CHECK_WARNING, .step = 'f', .code = "table-rewrite", .file = FILE1,
                                  .line = (int)i + 1, .message = "rewrites table \"User\" while holding its lock",
                                  .detail = detail};
    rh_check_result r;
    make_result(&r, f, N);
    rh_buf b;
    rh_buf_init(&b);
    rh_report_check_markdown(&r, RH_CHECK_ERROR, &b);
    assert_true(b.len <= RH_REPORT_MARKDOWN_LIMIT);
    assert_true(b.len > RH_REPORT_MARKDOWN_LIMIT - 1000); /* filled, not cut early */
    size_t shown = count_of(b.data, "- ⚠️ **warning**");
    assert_true(shown > 10 && shown < N);
    char line[200];
    snprintf(line, sizeof line, "**cut:** 0 migration row(s) and %zu finding(s) did not fit", (size_t)N - shown);
    assert_non_null(strstr(b.data, line));
    assert_int_equal(count_of(b.data, "<details>"), count_of(b.data, "</details>"));
    assert_non_null(strstr(b.data, "<sub>rehearse check in 4.2 s</sub>\n"));
    rh_buf_free(&b);
    free(f);
}

/*
 * With --scale/--rows the table says how long the worst lock was held on the filled tables: in the
 * transaction from the statement that took it to the end; outside it, that statement's own time.
 */
static void scaled_block_column(void **state)
{
    (void)state;
    rh_check_stmt s1[] = {
        {.line = 1, .text = "UPDATE", .locks = &locks1[0], .n_locks = 1, .ms = 100},
        {.line = 3, .text = "ALTER", .locks = &locks1[1], .n_locks = 2, .ms = 500},
        {.line = 5, .text = "UPDATE again", .ms = 250},
    };
    rh_check_stmt s2[] = {
        {.line = 1, .text = "SELECT 1", .ms = 40},
        {.line = 2, .text = "CREATE INDEX CONCURRENTLY", .locks = locks2, .n_locks = 1, .outside_tx = 1, .ms = 1200},
    };
    rh_check_trace t[] = {
        {.migration = NEW1, .file = FILE1, .stmts = s1, .n = 3},
        {.migration = NEW2, .file = "x", .stmts = s2, .n = 2},
    };
    rh_check_result r;
    make_result(&r, NULL, 0);
    r.traces = t;
    r.scaled = 1;
    r.fill.rows = 250000;
    rh_buf b;
    rh_buf_init(&b);
    rh_report_check_markdown(&r, RH_CHECK_ERROR, &b);
    assert_non_null(strstr(b.data, "| held for (measured, 250000 row(s) filled) |\n|---|---|---|---|---|\n"));
    assert_non_null(strstr(b.data, "| the file runs as one transaction | AccessExclusiveLock | 0.750 s |\n"));
    assert_non_null(strstr(b.data, "| the file runs as one transaction, less the statements marked outside one | "
                                   "ShareUpdateExclusiveLock | 1.200 s |\n"));
    /* measuring mode timed the locks itself: its figure wins */
    rh_check_lock timed = {.relation = "User", .relkind = 'r', .mode = "AccessExclusiveLock", .existed_before = 1,
                           .held_ms = 2345};
    s1[1].locks = &timed;
    s1[1].n_locks = 1;
    t[0].measured = 1;
    assert_true(rh_report_trace_block_ms(&t[0]) > 2344.9 && rh_report_trace_block_ms(&t[0]) < 2345.1);
    rh_buf_free(&b);
}

/* 3000 new migrations with long names: the rows are cut, the line says how many, the findings too. */
static void rows_cut(void **state)
{
    (void)state;
    enum { N = 3000 };
    char **names = calloc(N, sizeof *names);
    for (size_t i = 0; i < N; i++)
        names[i] = rh_xasprintf("20250101%06zu_a_rather_long_migration_name_that_fills_the_comment_quickly", i);
    rh_check_finding f = {.level = RH_CHECK_WARNING, .step = 'f', .code = "x", .message = "m"};
    rh_check_result r;
    make_result(&r, &f, 1);
    r.added = names;
    r.n_added = N;
    rh_buf b;
    rh_buf_init(&b);
    rh_report_check_markdown(&r, RH_CHECK_ERROR, &b);
    assert_true(b.len <= RH_REPORT_MARKDOWN_LIMIT && b.len > RH_REPORT_MARKDOWN_LIMIT - 1000);
    size_t shown = count_of(b.data, "_the_comment_quickly/migration.sql)");
    assert_true(shown > 10 && shown < N);
    char line[200];
    snprintf(line, sizeof line, "**cut:** %zu migration row(s) and 1 finding(s) did not fit", (size_t)N - shown);
    assert_non_null(strstr(b.data, line));
    rh_buf_free(&b);
    for (size_t i = 0; i < N; i++)
        free(names[i]);
    free(names);
}

/* How the profile's Prisma sends sql (its plan hook). */
static void plan_sql(const rh_profile *p, const char *sql, rh_plan *out)
{
    rh_migration m = {.name = "m", .sql = (char *)sql, .sql_len = strlen(sql)};
    rh_prisma_plan_file(&m, p, out, NULL);
}

/* `rehearse plan --format markdown`: the verdict and rows (CLI: tests/cli/plan.test.sh), and the cut. */
static void plan_comment(void **state)
{
    (void)state;
    rh_profile p6, p7;
    rh_err err;
    assert_int_equal(rh_prisma_profile_from_version(&p6, "6.19.3", &err), 0);
    assert_int_equal(rh_prisma_profile_from_version(&p7, "7.10.1", &err), 0);
    const char *sql = "ALTER TABLE \"User\" ADD COLUMN n int;\nCREATE INDEX CONCURRENTLY i ON \"User\"(n);\n";
    rh_plan_entry e[2] = {{.name = "20250101000000_a|<b>`c`"}, {.name = "20250102000000_two"}};
    plan_sql(&p6, sql, &e[0].plan);
    plan_sql(&p6, "SELECT 1;", &e[1].plan);
    rh_buf b;
    rh_buf_init(&b);
    rh_report_plan_markdown(&(rh_plan_sender){.profile = &p6, .source = "package.json"}, "prisma/migrations", e, 2, &b);
    assert_true(starts_with(b.data, "### ❌ rehearse plan: 1 migration(s) fail with 25001"));
    assert_non_null(strstr(b.data, "| [20250101000000\\_a\\|\\<b\\>\\`c\\`](prisma/migrations/20250101000000_a%7C%3Cb%3E%60c%60/"
                                   "migration.sql) | one implicit transaction \\(2 statements\\) | yes | ❌ fails with 25001 |\n"));
    rh_buf_reset(&b);
    plan_sql(&p7, sql, &e[0].plan);
    rh_report_plan_markdown(&(rh_plan_sender){.profile = &p7, .source = "package.json"}, NULL, e, 2, &b);
    assert_true(starts_with(b.data, "### ⚠️ rehearse plan: 1 migration(s) not atomic"));
    assert_non_null(strstr(b.data, "| 20250101000000\\_a\\|\\<b\\>\\`c\\` | 2 autocommit statements | **no** | allowed |\n"));

    enum { N = 3000 };
    rh_plan_entry *many = calloc(N, sizeof *many);
    char **names = calloc(N, sizeof *names);
    for (size_t i = 0; i < N; i++) {
        many[i].name = names[i] = rh_xasprintf("20250101%06zu_a_rather_long_migration_name", i);
        plan_sql(&p6, "SELECT 1;", &many[i].plan);
    }
    rh_buf_reset(&b);
    rh_report_plan_markdown(&(rh_plan_sender){.profile = &p6, .source = "package.json"}, "prisma/migrations", many, N,
                            &b);
    assert_true(starts_with(b.data, "### ✅ rehearse plan: 3000 migration(s), each atomic"));
    assert_true(b.len <= RH_REPORT_MARKDOWN_LIMIT && b.len > RH_REPORT_MARKDOWN_LIMIT - 1000);
    size_t shown = count_of(b.data, "_name/migration.sql)");
    char line[200];
    snprintf(line, sizeof line, "**cut:** %zu migration row(s) did not fit", (size_t)N - shown);
    assert_non_null(strstr(b.data, line));
    rh_buf_free(&b);
    for (size_t i = 0; i < N; i++)
        free(names[i]);
    free(names);
    free(many);
}

static void escape_rules(void **state)
{
    (void)state;
    rh_buf b;
    rh_buf_init(&b);
    rh_report_markdown_text(&b, "a*b_c\n[d]\x01\xff");
    assert_string_equal(b.data, "a\\*b\\_c \\[d\\]\xE2\x90\x81\xEF\xBF\xBD"); /* \x01 shown as U+2401 */
    rh_buf_reset(&b);
    rh_report_uri_path(&b, "a b/(c)#ü");
    assert_string_equal(b.data, "a%20b/%28c%29%23%C3%BC");
    rh_buf_reset(&b);
    rh_report_markdown_code(&b, "x````y");
    assert_string_equal(b.data, "`````\nx````y\n`````\n");
    rh_buf_free(&b);
}

/*
 * A real check: `--format markdown` on stdout, and with GITHUB_STEP_SUMMARY set the same comment
 * appended to that file (after what earlier steps wrote there), whatever --format is.
 */
static void cli_markdown_and_step_summary(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"Order\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "init");
    char *path = rh_xasprintf("%s/prisma/migrations/20250201000000_note/migration.sql", r->path);
    const char *sql = "ALTER TABLE \"Order\" ADD COLUMN \"note\" TEXT;\n";
    fx_write_file(path, sql, strlen(sql));
    free(path);
    char *summary = rh_xasprintf("%s/step_summary.md", rh_test_tmpdir());
    rh_test_write_file(summary, "earlier step\n");
    setenv("GITHUB_STEP_SUMMARY", summary, 1);

    char *out = NULL, *errout = NULL;
    char *argv[] = {REHEARSE_BIN, "check", "--repo", r->path, "--base", "main", "--format", "markdown", NULL};
    int rc = rh_test_run(argv, NULL, &out, &errout);
    if (rc != 0)
        fprintf(stderr, "rc=%d\n%s\n%s\n", rc, out, errout);
    assert_int_equal(rc, 0);
    assert_true(starts_with(out, "### ✅ rehearse check: these migrations deploy\n"));
    assert_non_null(strstr(out, "| [20250201000000\\_note](prisma/migrations/20250201000000_note/migration.sql) | one implicit transaction "
                                "\\(1 statement\\) | the file runs as one transaction | "
                                "AccessExclusiveLock |\n"));
    char *text = NULL;
    size_t len = 0;
    rh_err err;
    rh_err_clear(&err);
    assert_int_equal(rh_fs_read(summary, &text, &len, &err), 0);
    assert_true(starts_with(text, "earlier step\n### ✅ rehearse check"));
    /* the summary holds the comment (the timing line aside, it is the same text) */
    char *cut = strstr(out, "<sub>");
    assert_non_null(cut);
    *cut = 0;
    assert_non_null(strstr(text, out));
    free(text);
    free(out);
    free(errout);

    /* --format json: stdout is the JSON, the summary still gets the comment */
    char *argv_json[] = {REHEARSE_BIN, "check", "--repo", r->path, "--base", "main", "--format", "json", NULL};
    rc = rh_test_run(argv_json, NULL, &out, &errout);
    assert_int_equal(rc, 0);
    assert_true(out[0] == '{');
    assert_int_equal(rh_fs_read(summary, &text, &len, &err), 0);
    assert_int_equal(count_of(text, "### ✅ rehearse check"), 2);
    free(text);
    free(out);
    free(errout);
    unsetenv("GITHUB_STEP_SUMMARY");
    free(summary);
    fx_free(r);
}

/* `run --format markdown`: failures first with links and folded details, passes folded; and the cut. */
static void run_comment(void **state)
{
    (void)state;
    rh_result res[3];
    memset(res, 0, sizeof res);
    res[0] = (rh_result){.path = "scenarios/a.scenario", .name = "adds a column", .status = RH_PASS};
    res[1] = (rh_result){.path = "scenarios/b.scenario", .name = "drops [x](y)", .status = RH_FAIL,
                         .file = "scenarios/b.scenario", .line = 7, .message = "catalog differs",
                         .expected = "same schema", .actual = "1 difference", .diff = "- column a\n+ column b\n",
                         .log_tail = "LOG: ok\n"};
    res[2] = (rh_result){.path = "scenarios/c.scenario", .status = RH_SKIP};
    rh_run run = {.results = res, .n = 3, .passed = 1, .failed = 1, .skipped = 1, .wall_ms = 2500};
    rh_buf b;
    rh_buf_init(&b);
    rh_report_write(&run, RH_REPORT_MARKDOWN, NULL, &b);
    assert_true(starts_with(b.data, "### ❌ rehearse run: scenarios failed\n\n1 passed, 1 failed, 0 error(s), 1 skipped"));
    assert_non_null(strstr(b.data, "- **FAIL** [scenarios\\/b\\.scenario:7](scenarios/b.scenario#L7) drops \\[x\\]\\(y\\): catalog differs\n"));
    assert_non_null(strstr(b.data, "<summary>catalog diff</summary>\n\n```\n- column a\n+ column b\n```\n"));
    assert_non_null(strstr(b.data, "expected: same schema\nactual:   1 difference\n"));
    assert_non_null(strstr(b.data, "<details><summary>2 passed or skipped</summary>\n\n- PASS scenarios\\/a\\.scenario\n- SKIP "));
    assert_int_equal(count_of(b.data, "<details>"), count_of(b.data, "</details>"));

    /* 2000 failures with long logs: cut under the limit, saying how many */
    enum { N = 2000 };
    rh_result *many = calloc(N, sizeof *many);
    char log[300];
    memset(log, 'l', sizeof log - 1);
    log[sizeof log - 1] = 0;
    for (size_t i = 0; i < N; i++)
        many[i] = (rh_result){.path = "scenarios/x.scenario", .status = RH_ERROR, .message = "setup failed",
                              .log_tail = log};
    rh_run big = {.results = many, .n = N, .errors = N};
    rh_buf_reset(&b);
    rh_report_markdown(&big, &b);
    assert_true(b.len <= RH_REPORT_MARKDOWN_LIMIT && b.len > RH_REPORT_MARKDOWN_LIMIT - 1000);
    size_t shown = count_of(b.data, "- **ERROR** ");
    char line[200];
    snprintf(line, sizeof line, "**cut:** %zu failed scenario(s) and 0 passed or skipped did not fit", (size_t)N - shown);
    assert_non_null(strstr(b.data, line));
    assert_int_equal(count_of(b.data, "<details>"), count_of(b.data, "</details>"));
    free(many);
    rh_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(structure),
        cmocka_unit_test(size_cut),
        cmocka_unit_test(escape_rules),
        cmocka_unit_test(scaled_block_column),
        cmocka_unit_test(rows_cut),
        cmocka_unit_test(plan_comment),
        cmocka_unit_test(run_comment),
        cmocka_unit_test(cli_markdown_and_step_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
