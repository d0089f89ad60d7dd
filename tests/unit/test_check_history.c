/*
 * test_check_history.c — `rehearse check` findings that come from the shape of the history:
 * a head that deploys on production's database but not on an empty one (a), a base that does not
 * deploy (b), migrations removed / added out of order / folders without migration.sql (d),
 * transaction control inside a file (f), and an unchanged folder (no finding at all).
 * Fixture repositories are built in the test with libgit2; each run uses a real cluster.
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

static const rh_check_finding *finding(const rh_check_result *r, const char *code)
{
    for (size_t i = 0; i < r->n_findings; i++)
        if (strcmp(r->findings[i].code, code) == 0)
            return &r->findings[i];
    return NULL;
}

static void dump(const rh_check_result *r)
{
    rh_buf b;
    rh_buf_init(&b);
    rh_check_format_human(r, 0, &b);
    fprintf(stderr, "%s", b.data);
    rh_buf_free(&b);
}

static void run(rh_check_opts *o, rh_check_result *r)
{
    rh_err err;
    rh_err_clear(&err);
    if (rh_check_run(o, r, &err) < 0) {
        fprintf(stderr, "rh_check_run: %s\n", err.msg);
        fail();
    }
}

/* Production is fine (the table came from base) but a fresh database cannot be built any more:
   the table's creation was edited away. (a) must say so; (e) must not blame production. */
static void test_clean_deploy_fails_upgrade_passes(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"Account\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_migration(r, "20250102000000_audit", "CREATE TABLE \"Audit\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "base");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250102000000_audit", "-- moved to a later migration\nSELECT 1;\n");
    fx_migration(r, "20250201000000_audit_note", "ALTER TABLE \"Audit\" ADD COLUMN \"note\" TEXT;\n");
    fx_commit(r, "head");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main", .no_locks = 1};
    rh_check_result res;
    run(&o, &res);
    assert_false(res.clean_ok);
    assert_true(res.upgrade_ok);
    const rh_check_finding *f = finding(&res, "clean-deploy-failed");
    if (!f)
        dump(&res);
    assert_non_null(f);
    assert_int_equal(f->step, 'a');
    assert_int_equal(f->level, RH_CHECK_ERROR);
    assert_string_equal(f->migration, "20250201000000_audit_note");
    assert_non_null(strstr(f->message, "42P01")); /* undefined_table */
    assert_null(finding(&res, "fails-in-production"));
    assert_non_null(finding(&res, "edited"));
    assert_false(res.catalog_compared);
    rh_check_result_free(&res);
    fx_free(r);
}

/* Removed after base, added before an applied one, a folder without migration.sql (P3015). */
static void test_history_hazards(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_a", "CREATE TABLE \"A\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_migration(r, "20250301000000_c", "CREATE TABLE \"C\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_migration(r, "20250401000000_d", "CREATE TABLE \"D\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "base");
    fx_tag(r, "base", "main", 0);
    fx_rm(r, "prisma/migrations/20250401000000_d");
    fx_migration(r, "20250201000000_b", "CREATE TABLE \"B\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_put(r, "prisma/migrations/20250501000000_e/README.md", "the SQL is coming\n");
    fx_commit(r, "head");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    const rh_check_finding *removed = finding(&res, "removed");
    const rh_check_finding *ooo = finding(&res, "out-of-order");
    const rh_check_finding *nosql = finding(&res, "no-sql");
    if (!removed || !ooo || !nosql)
        dump(&res);
    assert_non_null(removed);
    assert_int_equal(removed->step, 'd');
    assert_int_equal(removed->level, RH_CHECK_WARNING);
    assert_non_null(ooo);
    assert_string_equal(ooo->migration, "20250201000000_b");
    assert_string_equal(ooo->file, "prisma/migrations/20250201000000_b/migration.sql");
    assert_non_null(nosql);
    assert_int_equal(nosql->level, RH_CHECK_ERROR);
    /* Prisma stops at the folder with P3015, in production and on a clean database */
    const rh_check_finding *e = finding(&res, "fails-in-production");
    assert_non_null(e);
    assert_non_null(strstr(e->message, "P3015"));
    assert_string_equal(e->migration, "20250501000000_e");
    rh_check_result_free(&res);
    fx_free(r);
}

/* A base that does not deploy cannot stand for production: said once, the upgrade path skipped. */
static void test_base_does_not_deploy(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_broken", "CREATE TABLE \"X\" (\"id\" INTEGR PRIMARY KEY);\n");
    fx_commit(r, "base");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250101000000_broken", "CREATE TABLE \"X\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "fix");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    assert_true(res.clean_ok);
    assert_false(res.base_ok);
    assert_false(res.upgrade_ok);
    const rh_check_finding *f = finding(&res, "base-deploy-failed");
    assert_non_null(f);
    assert_int_equal(f->step, 'b');
    assert_null(finding(&res, "fails-in-production"));
    assert_int_equal(res.n_traces, 0);
    rh_check_result_free(&res);
    fx_free(r);
}

/* BEGIN/COMMIT inside a file: the tracer keeps its own transaction and says so; locks still read. */
static void test_transaction_control_in_file(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"T\" (\"id\" INTEGER PRIMARY KEY, \"v\" INTEGER);\n");
    fx_commit(r, "base");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250201000000_two_parts",
                 "BEGIN;\nCREATE INDEX \"T_v_idx\" ON \"T\"(\"v\");\nCOMMIT;\n"
                 "/* then */ UPDATE \"T\" SET \"v\" = 1;\n");
    /* BEGIN first and COMMIT last: nothing can be left half-applied, so nothing to say */
    fx_migration(r, "20250202000000_wrapped", "BEGIN;\nUPDATE \"T\" SET \"v\" = 2;\nCOMMIT;\n");
    fx_commit(r, "head");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    assert_int_equal(res.n_traces, 2);
    const rh_check_trace *t = &res.traces[0];
    assert_int_equal(t->n, 4);
    assert_true(t->stmts[0].skipped);
    assert_true(t->stmts[2].skipped);
    assert_int_equal(t->stmts[3].line, 4);
    assert_string_equal(t->stmts[3].text, "UPDATE \"T\" SET \"v\" = 1");
    assert_string_equal(rh_check_trace_strongest(t, "\"T\""), "ShareLock");
    /* one notice, on the COMMIT in the middle (the BEGIN is first: nothing joins it) */
    const rh_check_finding *f = finding(&res, "transaction-control");
    assert_non_null(f);
    assert_int_equal(f->level, RH_CHECK_NOTICE);
    assert_string_equal(f->migration, "20250201000000_two_parts");
    assert_int_equal(f->line, 3);
    assert_non_null(strstr(f->message, "COMMIT in the middle of the file commits the 1 statement(s) before it"));
    size_t n_tc = 0;
    for (size_t i = 0; i < res.n_findings; i++)
        n_tc += strcmp(res.findings[i].code, "transaction-control") == 0;
    assert_int_equal(n_tc, 1);
    /* the plain CREATE INDEX holds SHARE while it reads "T": the one warning */
    assert_int_equal(rh_check_count(&res, RH_CHECK_WARNING), 1);
    const rh_check_finding *w = finding(&res, "blocks-writes");
    assert_non_null(w);
    assert_int_equal(w->line, 2);
    rh_check_result_free(&res);
    fx_free(r);
}

/*
 * Head's deploy on the upgrade path starts from a new connection, as production's next `prisma
 * migrate deploy` process does (issue 10.2): a temp table base's migration left in its session is
 * gone. Both files in one clean deploy (one process) do meet it. Before, the upgrade path reused
 * base's connection (with --no-locks) and blamed production with 42P07.
 */
static void test_head_deploys_on_a_new_connection(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"T\" (\"id\" INTEGER);\nCREATE TEMP TABLE scratch (x int);\n");
    fx_commit(r, "base");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250201000000_next", "CREATE TEMP TABLE scratch (x int);\nCREATE TABLE \"U\" (\"id\" INTEGER);\n");
    fx_commit(r, "head");
    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main", .no_locks = 1};
    rh_check_result res;
    run(&o, &res);
    assert_true(res.base_ok);
    assert_true(res.upgrade_ok);
    assert_null(finding(&res, "fails-in-production"));
    assert_false(res.clean_ok); /* one process: the temp table is still there for the second file */
    rh_check_result_free(&res);
    fx_free(r);
}

/* Nothing changed: no finding, nothing traced. */
static void test_unchanged_folder(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"T\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "base");
    rh_check_opts o = {.repo = r->path, .base = "main", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    assert_true(res.clean_ok && res.base_ok && res.upgrade_ok);
    assert_int_equal(res.n_added, 0);
    assert_int_equal(res.n_findings, 0);
    assert_int_equal(res.catalog_differences, 0);
    rh_check_result_free(&res);
    fx_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_deploy_fails_upgrade_passes),
        cmocka_unit_test(test_history_hazards),
        cmocka_unit_test(test_base_does_not_deploy),
        cmocka_unit_test(test_transaction_control_in_file),
        cmocka_unit_test(test_head_deploys_on_a_new_connection),
        cmocka_unit_test(test_unchanged_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
