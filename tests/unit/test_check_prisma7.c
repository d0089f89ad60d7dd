/*
 * test_check_prisma7.c — `rehearse check` says how Prisma >= 7.4 sends each new migration where it
 * matters (issue 11.4): a multi-statement file sent statement by statement is not atomic (warning
 * not-atomic); one that sqlparser 0.61 rejects is sent whole after all (notice send-mode, naming the
 * statement). Under 6.19.3 neither is said: every file is one implicit transaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "test_git_fixture.h"
#include "testlib.h"

static const rh_check_finding *finding(const rh_check_result *r, const char *code, const char *migration)
{
    for (size_t i = 0; i < r->n_findings; i++)
        if (strcmp(r->findings[i].code, code) == 0 && r->findings[i].migration &&
            strcmp(r->findings[i].migration, migration) == 0)
            return &r->findings[i];
    return NULL;
}

static void check_with(const char *repo, const char *version, rh_check_result *res)
{
    rh_check_opts o = {.repo = repo, .base = "v1", .head = "v2", .tool_version = version};
    rh_err err;
    rh_err_clear(&err);
    if (rh_check_run(&o, res, &err) < 0) {
        fprintf(stderr, "rh_check_run: %s\n", err.msg);
        fail();
    }
}

static void check_says_how_prisma_7_sends_new_migrations(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"User\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "v1");
    fx_tag(r, "v1", "HEAD", 0);
    fx_migration(r, "20250201000000_split", "ALTER TABLE \"User\" ADD COLUMN \"a\" TEXT;\n"
                                            "CREATE INDEX CONCURRENTLY \"User_a_idx\" ON \"User\"(\"a\");\n");
    fx_migration(r, "20250202000000_do", "ALTER TABLE \"User\" ADD COLUMN \"b\" TEXT;\n"
                                         "DO $$ BEGIN PERFORM 1; END $$;\n");
    fx_commit(r, "v2");
    fx_tag(r, "v2", "HEAD", 0);

    rh_check_result res;
    check_with(r->path, "7.10.1", &res);
    const rh_check_finding *f = finding(&res, "not-atomic", "20250201000000_split");
    assert_non_null(f);
    assert_int_equal(f->level, RH_CHECK_WARNING);
    assert_non_null(strstr(f->message, "2 autocommit statements"));
    f = finding(&res, "send-mode", "20250202000000_do");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "sqlparser 0.61 rejects DO blocks at line 2"));
    assert_int_equal(f->line, 2);
    assert_null(finding(&res, "not-atomic", "20250202000000_do"));

    /* every new migration's mode is in the report, risky or not: human and JSON (markdown: test_report_markdown) */
    rh_buf b;
    rh_buf_init(&b);
    rh_check_format_human(&res, 0, &b);
    assert_non_null(strstr(b.data, "    new: 20250201000000_split  (sent as 2 autocommit statements)\n"));
    assert_non_null(strstr(b.data, "    new: 20250202000000_do  (sent as one implicit transaction (2 statements): "
                                   "sqlparser 0.61 rejects DO blocks at line 2)\n"));
    rh_buf_reset(&b);
    rh_check_format_json(&res, &b);
    assert_non_null(strstr(b.data, "\"20250201000000_split\":\"2 autocommit statements\""));
    rh_check_result_free(&res);

    check_with(r->path, "6.19.3", &res);
    assert_null(finding(&res, "not-atomic", "20250201000000_split"));
    assert_null(finding(&res, "send-mode", "20250202000000_do"));
    rh_buf_reset(&b);
    rh_check_format_human(&res, 0, &b);
    assert_non_null(strstr(b.data, "    new: 20250201000000_split  (sent as one implicit transaction (2 statements))\n"));
    rh_buf_free(&b);
    rh_check_result_free(&res);
    fx_free(r);
}

/* A file's own BEGIN, as the file is sent: under a split-statements profile a file sqlparser 0.61 rejects
   is one query after all, so the statements before its BEGIN join the block (as under 6.19.3); a file it
   parses is sent statement by statement, and they commit alone. Before, the profile alone decided: the
   fallback file's BEGIN went unmentioned. */
static void transaction_control_follows_how_the_file_is_sent(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"User\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "v1");
    fx_tag(r, "v1", "HEAD", 0);
    fx_migration(r, "20250201000000_whole", "CREATE TABLE \"A\" (\"id\" INTEGER);\nBEGIN;\n"
                                            "DO $$ BEGIN PERFORM 1; END $$;\nCOMMIT;\n");
    fx_migration(r, "20250202000000_split", "CREATE TABLE \"B\" (\"id\" INTEGER);\nBEGIN;\n"
                                            "CREATE TABLE \"C\" (\"id\" INTEGER);\nCOMMIT;\n");
    fx_commit(r, "v2");
    fx_tag(r, "v2", "HEAD", 0);
    rh_check_result res;
    check_with(r->path, "7.10.1", &res);
    const rh_check_finding *f = finding(&res, "transaction-control", "20250201000000_whole");
    assert_non_null(f);
    assert_int_equal(f->line, 2);
    assert_non_null(strstr(f->message, "BEGIN after 1 statement(s) of the same file"));
    assert_null(finding(&res, "transaction-control", "20250202000000_split"));
    rh_check_result_free(&res);
    check_with(r->path, "6.19.3", &res); /* every file whole: both BEGINs gather the statement before them */
    assert_non_null(finding(&res, "transaction-control", "20250201000000_whole"));
    assert_non_null(finding(&res, "transaction-control", "20250202000000_split"));
    rh_check_result_free(&res);
    fx_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_says_how_prisma_7_sends_new_migrations),
        cmocka_unit_test(transaction_control_follows_how_the_file_is_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
