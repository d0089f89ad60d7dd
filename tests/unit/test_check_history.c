/*
 * test_check_history.c — `rehearse check` findings that come from the shape of the history:
 * a head that deploys on production's database but not on an empty one (a), a base that fails
 * and the recovery production runs before head (b, 10.4), migrations removed / added out of order / folders without migration.sql (d),
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

/* The commands of a recovery finding's detail, without Prisma's output after them. */
static int has_commands(const rh_check_result *r, const char *commands)
{
    const rh_check_finding *f = finding(r, "recovery-path");
    return f && f->detail && strncmp(f->detail, commands, strlen(commands)) == 0 && r->recovery &&
           strcmp(r->recovery, commands) == 0;
}

/* 10.4: base fails at X (P3018, a failed ledger row), head edits X: the pull request that fixes the
   broken migration. Production runs `resolve --rolled-back X`, then deploys head; check follows that
   path and judges head on it (before: base-deploy-failed and edited, two errors, upgrade path skipped). */
static void test_recovery_edited(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"W\" (\"id\" INTEGER PRIMARY KEY, \"party\" INTEGER);\n");
    fx_migration(r, "20250102000000_broken",
                 "ALTER TABLE \"W\" ADD COLUMN \"note\" TEXT;\n"
                 "CREATE INDEX CONCURRENTLY \"W_party_idx\" ON \"W\"(\"party\");\n");
    fx_migration(r, "20250103000000_after", "CREATE TABLE \"After\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "base");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250102000000_broken",
                 "ALTER TABLE \"W\" ADD COLUMN \"note\" TEXT;\n"
                 "CREATE INDEX \"W_party_idx\" ON \"W\"(\"party\");\n");
    fx_migration(r, "20250201000000_new", "ALTER TABLE \"After\" ADD COLUMN \"v\" INTEGER;\n");
    fx_commit(r, "fix");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    if (rh_check_count(&res, RH_CHECK_ERROR) || !res.recovered)
        dump(&res);
    assert_true(res.clean_ok);
    assert_false(res.base_ok);
    assert_true(res.recovered);
    assert_string_equal(res.recovered_from, "20250102000000_broken");
    assert_true(res.upgrade_ok);
    assert_int_equal(rh_check_count(&res, RH_CHECK_ERROR), 0);
    assert_null(finding(&res, "base-deploy-failed"));
    assert_true(has_commands(&res, "npx prisma migrate resolve --rolled-back 20250102000000_broken\n"
                                   "npx prisma migrate deploy\n"));
    const rh_check_finding *p = finding(&res, "recovery-path");
    assert_int_equal(p->level, RH_CHECK_NOTICE);
    assert_non_null(strstr(p->message, "25001"));
    assert_non_null(strstr(p->message, "deploys on that path"));
    /* the edit is what production runs on that path: not "never runs the new version" */
    const rh_check_finding *e = finding(&res, "edited");
    assert_non_null(e);
    assert_int_equal(e->level, RH_CHECK_NOTICE);
    assert_null(strstr(e->message, "never runs"));
    assert_non_null(strstr(e->message, "recovery path"));
    /* (c) on the recovery path: the same schema as a clean deploy */
    assert_true(res.catalog_compared);
    assert_int_equal(res.catalog_differences, 0);
    /* what head's deploy runs there: the fixed migration, the one after it, the new one */
    assert_int_equal(res.n_pending, 3);
    assert_string_equal(res.pending[0], "20250102000000_broken");
    assert_int_equal(res.n_traces, 3);
    assert_string_equal(res.traces[0].migration, "20250102000000_broken");

    /* the JSON names the recovery commands in order */
    rh_buf b;
    rh_buf_init(&b);
    rh_check_format_json(&res, &b);
    assert_non_null(strstr(b.data, "\"recovery\""));
    assert_non_null(strstr(b.data, "\"npx prisma migrate resolve --rolled-back 20250102000000_broken\""));
    rh_buf_reset(&b);
    rh_check_format_human(&res, 0, &b);
    assert_non_null(strstr(b.data, "$ npx prisma migrate resolve --rolled-back 20250102000000_broken\n"
                                   "        $ npx prisma migrate deploy\n"));
    rh_buf_free(&b);
    rh_check_result_free(&res);
    fx_free(r);
}

/* X removed at head and replaced by a new migration: resolve --rolled-back X (Prisma accepts it
   with the folder gone), deploy; X's removal is no hazard there. */
static void test_recovery_replaced(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"T\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_migration(r, "20250102000000_broken", "CREATE TABLE \"X\" (\"id\" INTEGR PRIMARY KEY);\n");
    fx_commit(r, "base");
    fx_tag(r, "base", "main", 0);
    fx_rm(r, "prisma/migrations/20250102000000_broken");
    fx_migration(r, "20250103000000_x_again", "CREATE TABLE \"X\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "replace");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    if (rh_check_count(&res, RH_CHECK_WARNING) || !res.recovered)
        dump(&res);
    assert_true(res.recovered);
    assert_true(res.upgrade_ok);
    assert_true(has_commands(&res, "npx prisma migrate resolve --rolled-back 20250102000000_broken\n"
                                   "npx prisma migrate deploy\n"));
    const rh_check_finding *gone = finding(&res, "removed");
    assert_non_null(gone);
    assert_int_equal(gone->level, RH_CHECK_NOTICE);
    assert_non_null(strstr(gone->message, "rolled back"));
    assert_int_equal(rh_check_count(&res, RH_CHECK_WARNING), 0);
    assert_int_equal(res.catalog_differences, 0);
    rh_check_result_free(&res);
    fx_free(r);
}

/* P3015 at base (a folder without migration.sql: no ledger row): production simply deploys again. */
static void test_recovery_no_sql(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"T\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_put(r, "prisma/migrations/20250102000000_pending/README.md", "the SQL is coming\n");
    fx_commit(r, "base");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250102000000_pending", "ALTER TABLE \"T\" ADD COLUMN \"v\" INTEGER;\n");
    fx_commit(r, "the SQL");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    if (rh_check_count(&res, RH_CHECK_ERROR) || !res.recovered)
        dump(&res);
    assert_true(res.recovered);
    assert_true(res.upgrade_ok);
    assert_true(has_commands(&res, "npx prisma migrate deploy\n"));
    assert_non_null(strstr(finding(&res, "recovery-path")->message, "P3015"));
    assert_int_equal(finding(&res, "edited")->level, RH_CHECK_NOTICE);
    assert_int_equal(rh_check_count(&res, RH_CHECK_ERROR), 0);
    rh_check_result_free(&res);
    fx_free(r);
}

/* X unchanged at head: the recovery path fails again at X, an error that says so. */
static void test_recovery_unchanged(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_broken", "CREATE TABLE \"X\" (\"id\" INTEGR PRIMARY KEY);\n");
    fx_commit(r, "base");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250201000000_more", "CREATE TABLE \"Y\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "head");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    const rh_check_finding *f = finding(&res, "fails-in-production");
    if (!f)
        dump(&res);
    assert_non_null(f);
    assert_true(res.recovered);
    assert_false(res.upgrade_ok);
    assert_int_equal(f->level, RH_CHECK_ERROR);
    assert_string_equal(f->migration, "20250101000000_broken");
    assert_non_null(strstr(f->message, "recovery path"));
    assert_non_null(strstr(f->message, "head leaves it as it is at base"));
    assert_non_null(strstr(finding(&res, "recovery-path")->message, "fails on that path"));
    assert_non_null(finding(&res, "not-reached"));
    rh_check_result_free(&res);
    fx_free(r);
}

/* Base fails at X because of W, an earlier migration production applied; head edits W, not X. On
   the recovery path W is not run again, so X fails again: an error, and W's edit stays an error. */
static void test_recovery_cause_elsewhere(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_w", "CREATE TABLE \"W\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_migration(r, "20250102000000_x", "CREATE INDEX \"W_party_idx\" ON \"W\"(\"party\");\n");
    fx_commit(r, "base");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250101000000_w", "CREATE TABLE \"W\" (\"id\" INTEGER PRIMARY KEY, \"party\" INTEGER);\n");
    fx_commit(r, "head");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    const rh_check_finding *f = finding(&res, "fails-in-production");
    if (!f)
        dump(&res);
    assert_true(res.clean_ok); /* a fresh database is fine: only production is stuck */
    assert_true(res.recovered);
    assert_false(res.upgrade_ok);
    assert_non_null(f);
    assert_string_equal(f->migration, "20250102000000_x");
    assert_non_null(strstr(f->message, "42703")); /* undefined_column */
    const rh_check_finding *e = finding(&res, "edited");
    assert_non_null(e);
    assert_string_equal(e->migration, "20250101000000_w");
    assert_int_equal(e->level, RH_CHECK_ERROR); /* production applied W at base: it never runs the new one */
    rh_check_result_free(&res);
    fx_free(r);
}

/* The breederhq incident (scripts/make-fixtures.sh): `check --base incident --head fixed`, the pull
   request that removed CONCURRENTLY from step 6, passes, with the recovery path reported. */
static void test_recovery_breederhq_fixed(void **state)
{
    (void)state;
    const char *dir = fx_tmpdir();
    char *mk[] = {REHEARSE_SOURCE_DIR "/scripts/make-fixtures.sh", (char *)dir, "breederhq", NULL};
    assert_int_equal(rh_test_run(mk, NULL, NULL, NULL), 0);
    char repo[4096];
    snprintf(repo, sizeof repo, "%s/breederhq", dir);
    char *out = NULL, *errout = NULL;
    char *argv[] = {REHEARSE_BIN, "check", "--repo", repo, "--base", "incident", "--head", "fixed", "--no-color",
                    "--no-github", NULL};
    int rc = rh_test_run(argv, NULL, &out, &errout);
    if (rc != 0 || !strstr(out, "recovery-path"))
        fprintf(stderr, "%s\n%s\n", out, errout);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "deployed after production's recovery"));
    assert_non_null(strstr(out, "$ npx prisma migrate resolve --rolled-back 20251225_step6_waitlist_party_only\n"
                                "        $ npx prisma migrate deploy\n"));
    assert_non_null(strstr(out, "same schema"));
    assert_null(strstr(out, "base-deploy-failed"));
    assert_non_null(strstr(out, "\n0 error(s)"));
    free(out);
    free(errout);
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

/*
 * The pull request that adds the migrations folder: base has none (an empty base, as history, plan and
 * diff rev:A take it), and head's migrations are traced for locks. Before, the lock probe took base's
 * zero migrations for a whole cached state already in its database and connected to a database never
 * made: exit 2 "cannot connect to database rehearse_check_locks ... does not exist".
 */
static void test_base_without_the_folder(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "README.md", "no migrations yet\n");
    fx_commit(r, "base");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"T\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "head");
    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    assert_true(res.clean_ok && res.base_ok && res.upgrade_ok);
    assert_int_equal(res.n_base, 0);
    assert_int_equal(res.n_added, 1);
    assert_int_equal(res.catalog_differences, 0);
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
        cmocka_unit_test(test_recovery_edited),
        cmocka_unit_test(test_recovery_replaced),
        cmocka_unit_test(test_recovery_no_sql),
        cmocka_unit_test(test_recovery_unchanged),
        cmocka_unit_test(test_recovery_cause_elsewhere),
        cmocka_unit_test(test_recovery_breederhq_fixed),
        cmocka_unit_test(test_transaction_control_in_file),
        cmocka_unit_test(test_head_deploys_on_a_new_connection),
        cmocka_unit_test(test_unchanged_folder),
        cmocka_unit_test(test_base_without_the_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
