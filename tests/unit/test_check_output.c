/*
 * test_check_output.c — what `rehearse check --format json` and the annotations tell a program:
 * statements complete (not cut for a terminal), each step as an object with a status word
 * (passed, failed, skipped, not-run), and annotations naming only files that exist at head (a
 * folder without migration.sql, which Prisma stops at with P3015, is named in the message only).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "test_git_fixture.h"
#include "testlib.h"

#define NEW_SQL_DIR "prisma/migrations/20250201000000_long"
#define NOSQL_DIR "prisma/migrations/20250301000000_nosql"

/* A statement far longer than a terminal line, over several lines. */
static const char long_stmt[] =
    "ALTER TABLE \"Order\"\n"
    "    ADD COLUMN \"shippingAddressLineOne\" TEXT,\n"
    "    ADD COLUMN \"shippingAddressLineTwo\" TEXT,\n"
    "    ADD COLUMN \"shippingAddressPostalCode\" TEXT,\n"
    "    ADD COLUMN \"shippingAddressCountryCode\" TEXT";

static void run_check(rh_check_opts *o, rh_check_result *r)
{
    rh_err err;
    rh_err_clear(&err);
    if (rh_check_run(o, r, &err) < 0)
        fail_msg("rh_check_run: %s", err.msg);
}

static json_object *json_of(const rh_check_result *r)
{
    rh_buf b;
    rh_buf_init(&b);
    rh_check_format_json(r, &b);
    json_object *root = json_tokener_parse(b.data);
    if (!root)
        fail_msg("not JSON:\n%s", b.data);
    rh_buf_free(&b);
    return root;
}

/* steps.NAME.status */
static const char *step_status(json_object *root, const char *name)
{
    json_object *steps = NULL, *step = NULL, *status = NULL;
    assert_true(json_object_object_get_ex(root, "steps", &steps));
    if (!json_object_object_get_ex(steps, name, &step) || !json_object_is_type(step, json_type_object))
        fail_msg("steps.%s is not an object", name);
    assert_true(json_object_object_get_ex(step, "status", &status));
    assert_true(json_object_is_type(status, json_type_string));
    return json_object_get_string(status);
}

/* base: one table; head (the worktree): a migration with a long statement, then a folder without SQL. */
static fx_repo *repo_with_long_and_nosql(void)
{
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"Order\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "init");
    char path[4096];
    snprintf(path, sizeof path, "%s/" NEW_SQL_DIR "/migration.sql", r->path);
    char *sql = rh_xasprintf("-- a comment before it\n%s;\n\n", long_stmt);
    fx_write_file(path, sql, strlen(sql));
    free(sql);
    snprintf(path, sizeof path, "%s/" NOSQL_DIR "/README", r->path);
    fx_write_file(path, "no sql here\n", 12);
    return r;
}

static void statements_complete_steps_as_words(void **state)
{
    (void)state;
    fx_repo *r = repo_with_long_and_nosql();
    rh_check_opts o = {.repo = r->path, .base = "main"};
    rh_check_result res;
    run_check(&o, &res);
    json_object *root = json_of(&res);

    /* the statement as written, every line of it */
    json_object *locks = NULL;
    assert_true(json_object_object_get_ex(root, "locks", &locks));
    assert_int_equal(json_object_array_length(locks), 1);
    json_object *stmts = NULL, *stmt = NULL;
    assert_true(json_object_object_get_ex(json_object_array_get_idx(locks, 0), "statements", &stmts));
    assert_true(json_object_object_get_ex(json_object_array_get_idx(stmts, 0), "statement", &stmt));
    assert_string_equal(json_object_get_string(stmt), long_stmt);

    /* P3015 at the folder without SQL: both deploys fail, so no catalog to compare; no --seed */
    assert_string_equal(step_status(root, "clean_deploy"), "failed");
    assert_string_equal(step_status(root, "upgrade_path"), "failed");
    assert_string_equal(step_status(root, "catalog"), "not-run");
    assert_string_equal(step_status(root, "history"), "failed"); /* no-sql is an error */
    assert_string_equal(step_status(root, "production"), "failed");
    assert_string_equal(step_status(root, "locks"), "passed");  /* a notice, not a failure */
    assert_string_equal(step_status(root, "seed"), "skipped");
    json_object *steps = NULL, *locks_step = NULL, *notices = NULL;
    json_object_object_get_ex(root, "steps", &steps);
    json_object_object_get_ex(steps, "locks", &locks_step);
    assert_true(json_object_object_get_ex(locks_step, "notices", &notices));
    assert_true(json_object_get_int(notices) >= 1); /* ACCESS EXCLUSIVE for a catalog-only change */
    json_object_put(root);

    /* annotations name only files that exist at head: never the folder or its missing migration.sql */
    rh_buf b;
    rh_buf_init(&b);
    rh_check_format_github(&res, &b);
    assert_null(strstr(b.data, "file=" NOSQL_DIR));
    assert_non_null(strstr(b.data, "file=" NEW_SQL_DIR "/migration.sql,line=2,"));
    assert_non_null(strstr(b.data, "20250301000000_nosql")); /* still named, in the message */
    for (size_t i = 0; i < res.n_findings; i++)
        if (res.findings[i].file)
            assert_string_equal(res.findings[i].file, NEW_SQL_DIR "/migration.sql");
    /* the JUnit report says which steps did not run */
    rh_buf_reset(&b);
    rh_check_format_junit(&res, RH_CHECK_ERROR, &b);
    assert_non_null(strstr(b.data, "name=\"(c) catalog: upgrade path = clean deploy\">\n      <skipped message=\"not run"));
    rh_buf_free(&b);
    rh_check_result_free(&res);
    fx_free(r);
}

static void skipped_and_not_run(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"Order\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "init");
    char path[4096];
    snprintf(path, sizeof path, "%s/prisma/migrations/20250201000000_note/migration.sql", r->path);
    const char *note = "ALTER TABLE \"Order\" ADD COLUMN \"note\" TEXT;\n";
    fx_write_file(path, note, strlen(note));

    /* --no-locks: (f) skipped; everything else passes */
    rh_check_opts o = {.repo = r->path, .base = "main", .no_locks = 1};
    rh_check_result res;
    run_check(&o, &res);
    json_object *root = json_of(&res);
    assert_string_equal(step_status(root, "clean_deploy"), "passed");
    assert_string_equal(step_status(root, "upgrade_path"), "passed");
    assert_string_equal(step_status(root, "catalog"), "passed");
    assert_string_equal(step_status(root, "locks"), "skipped");
    json_object_put(root);
    rh_check_result_free(&res);

    /* a base that fails at a migration head leaves as it is: on production's recovery path
       (resolve --rolled-back, deploy: issue 10.4) it fails again, so (e) fails */
    fx_migration(r, "20250102000000_broken", "SELECT 1/0;\n");
    fx_commit(r, "broken");
    o.no_locks = 0;
    run_check(&o, &res);
    root = json_of(&res);
    assert_string_equal(step_status(root, "upgrade_path"), "failed");
    assert_string_equal(step_status(root, "production"), "failed");
    json_object_put(root);
    rh_check_result_free(&res);
    fx_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(statements_complete_steps_as_words),
        cmocka_unit_test(skipped_and_not_run),
    };
    return cmocka_run_group_tests_name("check_output", tests, NULL, NULL);
}
