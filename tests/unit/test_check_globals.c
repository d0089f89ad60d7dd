/*
 * test_check_globals.c — `rehearse check` when migrations touch what a cluster's databases share
 * (check/isolate.c, docs/check.md "Isolation of the paths"). Production deploys each migration once,
 * on a server of its own; the check's paths used to be databases of one cluster, so a second path
 * running the same CREATE DATABASE / CREATE ROLE failed with "already exists": a wrong
 * fails-in-production. Each case: every path passes, the lock trace ran the statement, and the
 * paths were isolated. Cold, warm (base from the state cache) and --no-cache must agree.
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
#include "migrations/globals.h"
#include "tools/tool.h"
#include "test_git_fixture.h"
#include "testlib.h"

static const char init_sql[] = "CREATE TABLE \"t\" (\"id\" SERIAL NOT NULL, CONSTRAINT \"t_pkey\" PRIMARY KEY (\"id\"));\n";

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

/* A repository whose base holds init (and base_extra when given), and whose head adds head_sql. */
static fx_repo *repo_with(const char *base_extra, const char *head_sql)
{
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", init_sql);
    if (base_extra)
        fx_migration(r, "20250101000001_base_extra", base_extra);
    fx_put(r, "prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n");
    fx_commit(r, "base");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250201000000_new", head_sql);
    fx_commit(r, "head");
    return r;
}

/* Every path deployed head, nothing failed, and the new migration was traced to its end. */
static void assert_all_paths_pass(const rh_check_result *res)
{
    if (!res->clean_ok || !res->upgrade_ok || finding(res, "fails-in-production") ||
        finding(res, "clean-deploy-failed") || finding(res, "trace-stopped") || finding(res, "catalog-differs"))
        dump(res);
    assert_true(res->clean_ok);
    assert_true(res->upgrade_ok);
    assert_null(finding(res, "fails-in-production"));
    assert_null(finding(res, "clean-deploy-failed"));
    assert_null(finding(res, "trace-stopped"));
    assert_null(finding(res, "catalog-differs"));
    assert_non_null(finding(res, "isolated-paths"));
    int traced = 0;
    for (size_t i = 0; i < res->n_traces; i++)
        if (strcmp(res->traces[i].migration, "20250201000000_new") == 0) {
            assert_false(res->traces[i].failed);
            traced = 1;
        }
    assert_true(traced);
}

/* The one played in session 7: 4 of 4 --no-cache checks said fails-in-production (42P04), old code. */
static void test_new_create_database(void **state)
{
    (void)state;
    fx_repo *r = repo_with(NULL, "CREATE DATABASE side_db;\n");
    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main", .no_cache = 1};
    rh_check_result res;
    run(&o, &res);
    assert_all_paths_pass(&res);
    rh_check_result_free(&res);
    fx_free(r);
}

/* Under --superuser: (a) passed, (b) and (e) failed "42710: role "app_ro" already exists" (old code). */
static void test_new_role_as_superuser(void **state)
{
    (void)state;
    fx_repo *r = repo_with(NULL, "CREATE ROLE app_ro NOLOGIN;\nGRANT SELECT ON \"t\" TO app_ro;\n");
    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main", .superuser = 1};
    rh_check_result res;
    run(&o, &res);
    assert_all_paths_pass(&res);
    rh_check_result_free(&res);
    fx_free(r);
}

/* Dynamic SQL: the role is created by a DO block's EXECUTE. */
static void test_role_from_a_do_block(void **state)
{
    (void)state;
    fx_repo *r = repo_with(NULL, "DO $$ BEGIN EXECUTE 'CREATE ROLE app_ro NOLOGIN'; END $$;\n"
                                 "GRANT SELECT ON \"t\" TO app_ro;\n");
    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main", .superuser = 1};
    rh_check_result res;
    run(&o, &res);
    assert_all_paths_pass(&res);
    rh_check_result_free(&res);
    fx_free(r);
}

/* A base migration that creates a database: the clean deploy and base's deploy both run it. */
static void test_base_creates_a_database(void **state)
{
    (void)state;
    fx_repo *r = repo_with("CREATE DATABASE side_db;\n", "CREATE INDEX \"t_id_idx\" ON \"t\"(\"id\");\n");
    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main", .no_cache = 1};
    rh_check_result res;
    run(&o, &res);
    assert_true(res.base_ok);
    assert_all_paths_pass(&res);
    rh_check_result_free(&res);
    fx_free(r);
}

/* Cold and warm agree: base's state from the cache (published by a check of the same base with a harmless
   head), then the CREATE DATABASE head. Nothing the run changed outside its databases gets published. */
static void test_warm_agrees(void **state)
{
    (void)state;
    char *old_cache = getenv("REHEARSE_CACHE_DIR") ? strdup(getenv("REHEARSE_CACHE_DIR")) : NULL;
    char *old_off = getenv("REHEARSE_NO_CACHE") ? strdup(getenv("REHEARSE_NO_CACHE")) : NULL;
    setenv("REHEARSE_CACHE_DIR", fx_tmpdir(), 1);
    unsetenv("REHEARSE_NO_CACHE");
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", init_sql);
    fx_migration(r, "20250101000001_more", "CREATE TABLE \"u\" (\"id\" int);\n");
    fx_put(r, "prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n");
    fx_commit(r, "base");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250201000000_new", "CREATE INDEX \"t_id_idx\" ON \"t\"(\"id\");\n");
    fx_commit(r, "harmless head");
    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    assert_true(res.cache_published);
    assert_null(finding(&res, "isolated-paths"));
    rh_check_result_free(&res);

    fx_migration(r, "20250201000000_new", "CREATE DATABASE side_db;\n");
    fx_commit(r, "head with a database");
    for (int round = 0; round < 2; round++) { /* warm twice: the first must not have published side_db */
        run(&o, &res);
        assert_true(res.cached > 0);
        assert_false(res.cache_published);
        assert_all_paths_pass(&res);
        rh_check_result_free(&res);
    }
    fx_free(r);
    if (old_cache)
        setenv("REHEARSE_CACHE_DIR", old_cache, 1);
    else
        unsetenv("REHEARSE_CACHE_DIR");
    if (old_off)
        setenv("REHEARSE_NO_CACHE", old_off, 1);
    free(old_cache);
    free(old_off);
}

/* Another tool's check (check/tool_check.c) runs (a) before (b) in one cluster: the same CREATE DATABASE
   failed on (b) ("already exists"), though dbmate deploys it once in production. */
static void test_dbmate_new_database(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "db/migrations/20240101000000_a.sql", "-- migrate:up\nCREATE TABLE a (id integer);\n-- migrate:down\n");
    fx_commit(r, "base");
    fx_tag(r, "base", "main", 0);
    fx_put(r, "db/migrations/20240201000000_side_db.sql",
           "-- migrate:up transaction:false\nCREATE DATABASE side_db;\n-- migrate:down\n");
    fx_commit(r, "head");
    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main", .no_cache = 1};
    rh_check_result res;
    rh_err err;
    rh_err_clear(&err);
    if (rh_check_tool(rh_tool_find("dbmate"), &o, &res, &err) < 0) {
        fprintf(stderr, "rh_check_tool: %s\n", err.msg);
        fail();
    }
    if (!res.clean_ok || !res.upgrade_ok || !finding(&res, "isolated-paths") || finding(&res, "fails-in-production") ||
        finding(&res, "trace-stopped"))
        dump(&res);
    assert_true(res.clean_ok);
    assert_true(res.upgrade_ok);
    assert_non_null(finding(&res, "isolated-paths"));
    assert_null(finding(&res, "fails-in-production"));
    assert_null(finding(&res, "trace-stopped"));
    assert_int_equal(res.n_traces, 1);
    assert_false(res.traces[0].failed);
    rh_check_result_free(&res);
    fx_free(r);
}

/* The backstop: SQL that assembles its words (format('%s ROLE ...', 'ALTER')) is not seen by the scan, so the
   paths share one cluster; the run changes a role's setting, which publishing the state finds (the globals
   before and after differ): a warning that the verdict may not be production's, and no state kept. */
static void test_unseen_change_is_warned(void **state)
{
    (void)state;
    char *old_cache = getenv("REHEARSE_CACHE_DIR") ? strdup(getenv("REHEARSE_CACHE_DIR")) : NULL;
    char *old_off = getenv("REHEARSE_NO_CACHE") ? strdup(getenv("REHEARSE_NO_CACHE")) : NULL;
    setenv("REHEARSE_CACHE_DIR", fx_tmpdir(), 1);
    unsetenv("REHEARSE_NO_CACHE");
    static const char sql[] =
        "DO $$ BEGIN EXECUTE format('%s ROLE CURRENT_USER SET work_mem = ''8MB''', 'ALTER'); END $$;\n";
    assert_false(rh_sql_may_touch_globals(sql, sizeof sql - 1, NULL));
    fx_repo *r = repo_with(NULL, sql);
    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    assert_null(finding(&res, "isolated-paths"));
    assert_false(res.cache_published);
    const rh_check_finding *f = finding(&res, "shared-globals");
    if (!f)
        dump(&res);
    assert_non_null(f);
    assert_int_equal(f->level, RH_CHECK_WARNING);
    rh_check_result_free(&res);
    fx_free(r);
    if (old_cache)
        setenv("REHEARSE_CACHE_DIR", old_cache, 1);
    else
        unsetenv("REHEARSE_CACHE_DIR");
    if (old_off)
        setenv("REHEARSE_NO_CACHE", old_off, 1);
    free(old_cache);
    free(old_off);
}

/* No global object in sight: the one-cluster layout stays (the fast path), and says nothing. */
static void test_plain_migrations_share_one_cluster(void **state)
{
    (void)state;
    fx_repo *r = repo_with(NULL, "ALTER TABLE \"t\" ADD COLUMN \"role\" TEXT;\nGRANT SELECT ON \"t\" TO PUBLIC;\n");
    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main", .no_cache = 1};
    rh_check_result res;
    run(&o, &res);
    assert_true(res.clean_ok && res.upgrade_ok);
    assert_null(finding(&res, "isolated-paths"));
    rh_check_result_free(&res);
    fx_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_create_database),
        cmocka_unit_test(test_new_role_as_superuser),
        cmocka_unit_test(test_role_from_a_do_block),
        cmocka_unit_test(test_base_creates_a_database),
        cmocka_unit_test(test_warm_agrees),
        cmocka_unit_test(test_dbmate_new_database),
        cmocka_unit_test(test_unseen_change_is_warned),
        cmocka_unit_test(test_plain_migrations_share_one_cluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
