/*
 * test_engine.c — the migrate engine on a real server, through its C API: ledger rows and
 * their states, what one simple-query message per file means (CONCURRENTLY, BEGIN/COMMIT), the
 * fault hook (the deploying backend terminated at migration N), the advisory lock (P1002 and
 * PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK), bad input (a foreign ledger table, a name over 255 bytes,
 * non-UTF-8 text), rehearse's status findings and the unverified split-statements profile.
 * Texts are checked against real Prisma in tests/conformance/engine.test.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "tools/prisma/prisma.h"
#include "migrations/migset.h"
#include "migrations/profile.h"
#include "testlib.h"
#include "tools/prisma/profile.h"

/* A set built in memory; sql NULL means a folder without migration.sql. */
static void add(rh_migset *set, const char *name, const char *sql)
{
    rh_migration *m = rh_migset_push(set, name, strlen(name));
    if (sql)
        rh_migration_set_sql(m, sql, strlen(sql));
}

static rh_profile profile(const char *v)
{
    rh_profile p;
    rh_err err;
    assert_int_equal(rh_prisma_profile_from_version(&p, v, &err), 0);
    return p;
}

/* Run a deploy with the default profile; returns the engine's return value. */
static int deploy(PGconn *c, rh_migset *set, rh_engine_opts *eo, rh_engine_result *res)
{
    static rh_profile p;
    p = profile(RH_PRISMA_DEFAULT_VERSION);
    rh_migset_sort(set, &p);
    rh_engine_opts def = {0};
    if (!eo)
        eo = &def;
    if (!eo->profile)
        eo->profile = &p;
    rh_engine_result_init(res);
    rh_err err;
    rh_err_clear(&err);
    int rc = rh_prisma_deploy(c, set, eo, res, &err);
    if (rc < 0)
        fail_msg("deploy: %s", err.msg);
    return rc;
}

static long count(PGconn *c, const char *sql)
{
    char *v = rh_test_value(c, sql);
    long n = v ? atol(v) : -1;
    free(v);
    return n;
}

/* Whether a relation exists (to_regclass), without leaking the value. */
static int rel_exists(PGconn *c, const char *rel)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT to_regclass('%s')::text", rel);
    char *v = rh_test_value(c, sql);
    int found = v != NULL;
    free(v);
    return found;
}

static void clean_deploy_writes_prismas_rows(void **state)
{
    PGconn *c = rh_test_fresh_db(NULL);
    rh_migset set = {0};
    add(&set, "20250102000000_b", "CREATE TABLE b (id INT);");
    add(&set, "20250101000000_a", "CREATE TABLE a (id INT);\nCREATE TABLE a2 (id INT);");
    rh_engine_result res;
    assert_int_equal(deploy(c, &set, NULL, &res), 0);
    assert_int_equal(res.exit_code, 0);
    assert_int_equal(res.n_applied, 2);
    assert_string_equal(res.applied[0], "20250101000000_a");
    assert_non_null(strstr(res.out.data, "2 migrations found in prisma/migrations\n"));
    assert_non_null(strstr(res.out.data, "All migrations have been successfully applied.\n"));
    assert_int_equal(res.errout.len, 0);

    /* one row per migration: finished, one step, logs NULL, UUID v4 id, the file's checksum */
    assert_int_equal(count(c, "SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL AND "
                              "rolled_back_at IS NULL AND applied_steps_count = 1 AND logs IS NULL AND "
                              "id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'"),
                     2);
    char *first = rh_test_value(c, "SELECT migration_name FROM _prisma_migrations ORDER BY started_at LIMIT 1");
    assert_string_equal(first, "20250101000000_a");
    free(first);
    char *sum = rh_test_value(c, "SELECT checksum FROM _prisma_migrations WHERE migration_name = '20250102000000_b'");
    assert_string_equal(sum, rh_migset_find(&set, "20250102000000_b")->checksum);
    free(sum);
    rh_engine_result_free(&res);

    /* nothing pending the second time */
    assert_int_equal(deploy(c, &set, NULL, &res), 0);
    assert_int_equal(res.n_applied, 0);
    assert_non_null(strstr(res.out.data, "No pending migrations to apply.\n"));
    rh_engine_result_free(&res);
    rh_migset_free(&set);
    PQfinish(c);
}

static void concurrently_in_a_multi_statement_file_fails_whole(void **state)
{
    PGconn *c = rh_test_fresh_db(NULL);
    rh_migset set = {0};
    add(&set, "20250101000000_a", "CREATE TABLE w (id INT);");
    add(&set, "20250102000000_cic", "CREATE TABLE x (id INT);\nCREATE INDEX CONCURRENTLY w_id ON w (id);");
    add(&set, "20250103000000_c", "CREATE TABLE c (id INT);");
    rh_engine_result res;
    assert_int_equal(deploy(c, &set, NULL, &res), 1);
    assert_string_equal(res.code, "P3018");
    assert_string_equal(res.sqlstate, "25001");
    assert_string_equal(res.failed_migration, "20250102000000_cic");
    assert_non_null(strstr(res.errout.data, "Error: P3018\n\nA migration failed to apply."));
    assert_non_null(strstr(res.errout.data, "\n\nMigration name: 20250102000000_cic\n\nDatabase error code: "
                                            "25001\n\nDatabase error:\nERROR: CREATE INDEX CONCURRENTLY "
                                            "cannot run inside a transaction block\n"));
    /* nothing of the file stays; the row is failed with the P3018 text in logs */
    assert_false(rel_exists(c, "x"));
    assert_int_equal(count(c, "SELECT count(*) FROM _prisma_migrations WHERE migration_name = "
                              "'20250102000000_cic' AND finished_at IS NULL AND applied_steps_count = 0 AND "
                              "logs LIKE 'A migration failed to apply.%Database error code: 25001%'"),
                     1);
    assert_int_equal(count(c, "SELECT count(*) FROM _prisma_migrations"), 2);
    rh_engine_result_free(&res);

    /* P3009 with Prisma's line for the failed row */
    assert_int_equal(deploy(c, &set, NULL, &res), 1);
    assert_string_equal(res.code, "P3009");
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "The `20250102000000_cic` migration started at "
                             "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{3}|\\.[0-9]{6})? UTC failed\n",
                             REG_EXTENDED),
                     0);
    assert_int_equal(regexec(&re, res.errout.data, 0, NULL, 0), 0);
    regfree(&re);
    rh_engine_result_free(&res);
    rh_migset_free(&set);
    PQfinish(c);
}

static void begin_commit_in_a_file_is_a_partial_apply(void **state)
{
    PGconn *c = rh_test_fresh_db(NULL);
    rh_migset set = {0};
    add(&set, "20250101000000_p", "BEGIN;\nCREATE TABLE kept (id INT);\nCOMMIT;\nCREATE TABLE lost (id INT);\n"
                                  "SELECT 1/0;");
    add(&set, "20250102000000_lone", "CREATE INDEX CONCURRENTLY kept_id ON kept (id);");
    rh_engine_result res;
    assert_int_equal(deploy(c, &set, NULL, &res), 1);
    assert_string_equal(res.sqlstate, "22012");
    assert_true(rel_exists(c, "kept"));
    assert_false(rel_exists(c, "lost"));
    rh_engine_result_free(&res);

    /* resolve --applied: the failed row rolled back, a new row with logs '' and one timestamp */
    rh_err err;
    rh_engine_result_init(&res);
    assert_int_equal(rh_prisma_resolve_applied(c, &set, "20250101000000_p", NULL, &res, &err), 0);
    assert_non_null(strstr(res.out.data, "\nMigration 20250101000000_p marked as applied.\n"));
    assert_int_equal(count(c, "SELECT count(*) FROM _prisma_migrations WHERE rolled_back_at IS NOT NULL AND "
                              "finished_at IS NULL"),
                     1);
    assert_int_equal(count(c, "SELECT count(*) FROM _prisma_migrations WHERE logs = '' AND started_at = "
                              "finished_at AND applied_steps_count = 0"),
                     1);
    rh_engine_result_free(&res);

    /* a lone CREATE INDEX CONCURRENTLY succeeds */
    assert_int_equal(deploy(c, &set, NULL, &res), 0);
    assert_int_equal(res.n_applied, 1);
    assert_int_equal(count(c, "SELECT count(*) FROM pg_index WHERE indexrelid = 'kept_id'::regclass AND indisvalid"), 1);
    rh_engine_result_free(&res);
    rh_migset_free(&set);
    PQfinish(c);
}

/*
 * A statement failing inside the file's own BEGIN ... COMMIT (issue 10.1): the session is left in
 * an aborted block. Prisma reports the statement's SQLSTATE in P3018 and writes logs (oracle:
 * txn_inside); before the fix rehearse reported 25P02 from its own ledger write, logs NULL.
 */
static void failure_inside_the_files_own_block_is_recorded(void **state)
{
    (void)state;
    PGconn *c = rh_test_fresh_db(NULL);
    rh_migset set = {0};
    add(&set, "20250101000000_a", "CREATE TYPE \"Status\" AS ENUM ('open', 'done');");
    add(&set, "20250102000000_b", "BEGIN;\nALTER TYPE \"Status\" ADD VALUE 'done';\nCOMMIT;\n");
    add(&set, "20250103000000_c", "CREATE TABLE pre (id INT);\nBEGIN;\nCREATE TABLE inside (id INT);\n"
                                  "SELECT 1/0;\nCOMMIT;\n");
    rh_engine_result res;
    assert_int_equal(deploy(c, &set, NULL, &res), 1);
    assert_string_equal(res.code, "P3018");
    assert_string_equal(res.sqlstate, "42710");
    assert_string_equal(res.failed_migration, "20250102000000_b");
    assert_non_null(strstr(res.errout.data, "Database error code: 42710\n"));
    assert_int_equal(PQtransactionStatus(c), PQTRANS_IDLE);
    assert_int_equal(count(c, "SELECT count(*) FROM _prisma_migrations WHERE migration_name = '20250102000000_b' "
                              "AND finished_at IS NULL AND logs LIKE '%Database error code: 42710%'"),
                     1);
    rh_engine_result_free(&res);

    /* fixed and redeployed: c's statement before BEGIN joins the block and is undone with it */
    rh_err err;
    rh_engine_result_init(&res);
    assert_int_equal(rh_prisma_resolve_rolled_back(c, &set, "20250102000000_b", NULL, &res, &err), 0);
    rh_engine_result_free(&res);
    rh_migration_set_sql(&set.items[1], "SELECT 1;", strlen("SELECT 1;"));
    assert_int_equal(deploy(c, &set, NULL, &res), 1);
    assert_string_equal(res.sqlstate, "22012");
    assert_int_equal(PQtransactionStatus(c), PQTRANS_IDLE);
    assert_false(rel_exists(c, "pre"));
    assert_false(rel_exists(c, "inside"));
    assert_int_equal(count(c, "SELECT count(*) FROM _prisma_migrations WHERE migration_name = '20250103000000_c' "
                              "AND logs LIKE '%Database error code: 22012%'"),
                     1);
    rh_engine_result_free(&res);
    rh_migset_free(&set);
    PQfinish(c);
}

/* The fault hook: terminate the deploying backend from another connection at migration 1. */
typedef struct hook_ctx {
    PGconn *admin;
    size_t at;
    int calls;
    int seen_pid;
} hook_ctx;

static int terminate_at(void *data, const char *name, size_t index, int pid)
{
    hook_ctx *h = data;
    h->calls++;
    h->seen_pid = pid;
    if (index == h->at) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", pid);
        rh_test_exec(h->admin, sql);
    }
    return 0;
}

static void hook_can_kill_the_deploying_backend(void **state)
{
    char *db;
    PGconn *c = rh_test_fresh_db(&db);
    rh_err cerr;
    hook_ctx h = {.admin = rh_cluster_connect(rh_test_cluster(), db, &cerr), .at = 1};
    assert_non_null(h.admin);
    rh_migset set = {0};
    add(&set, "20250101000000_a", "CREATE TABLE a (id INT);");
    add(&set, "20250102000000_b", "CREATE TABLE b (id INT);");
    add(&set, "20250103000000_c", "CREATE TABLE c (id INT);");
    rh_engine_opts eo = {.before_migration = terminate_at, .hook_data = &h};
    rh_engine_result res;
    assert_int_equal(deploy(c, &set, &eo, &res), 1);
    assert_int_equal(h.calls, 2);
    assert_true(h.seen_pid > 0);
    assert_string_equal(res.code, "P1017");
    assert_string_equal(res.failed_migration, "20250102000000_b");
    assert_non_null(strstr(res.errout.data, "Error: P1017\n\nServer has closed the connection.\n"));
    /* as Prisma leaves it: a finished, b started and never finished, logs NULL (nobody could write them) */
    assert_int_equal(count(h.admin, "SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL"), 1);
    assert_int_equal(count(h.admin, "SELECT count(*) FROM _prisma_migrations WHERE migration_name = "
                                    "'20250102000000_b' AND finished_at IS NULL AND logs IS NULL"),
                     1);
    assert_false(rel_exists(h.admin, "b"));
    rh_engine_result_free(&res);
    rh_migset_free(&set);
    PQfinish(c);
    PQfinish(h.admin);
    free(db);
}

static void advisory_lock_times_out_with_p1002(void **state)
{
    char *db;
    PGconn *c = rh_test_fresh_db(&db);
    rh_err cerr;
    PGconn *holder = rh_cluster_connect(rh_test_cluster(), db, &cerr);
    assert_non_null(holder);
    rh_test_exec(holder, "SELECT pg_advisory_lock(72707369)");
    rh_migset set = {0};
    add(&set, "20250101000000_a", "CREATE TABLE a (id INT);");
    rh_engine_opts eo = {.advisory_lock = 1, .lock_timeout_ms = 300};
    rh_engine_result res;
    assert_int_equal(deploy(c, &set, &eo, &res), 1);
    assert_string_equal(res.code, "P1002");
    assert_non_null(strstr(res.errout.data, "Context: Timed out trying to acquire a postgres advisory lock "
                                            "(SELECT pg_advisory_lock(72707369)). Timeout: 300ms."));
    assert_false(rel_exists(c, "_prisma_migrations"));
    rh_engine_result_free(&res);
    /* the cancelled wait left the connection usable */
    assert_int_equal(PQstatus(c), CONNECTION_OK);

    /* PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK: deploy goes through while the lock is held */
    setenv("PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK", "1", 1);
    rh_engine_opts env_rule = {0};
    assert_int_equal(deploy(c, &set, &env_rule, &res), 0);
    unsetenv("PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK");
    rh_engine_result_free(&res);
    rh_migset_free(&set);
    PQfinish(holder);
    PQfinish(c);
    free(db);
}

static void bad_input_gives_clear_errors(void **state)
{
    PGconn *c = rh_test_fresh_db(NULL);
    rh_err err;
    rh_engine_result res;

    /* a ledger table that Prisma did not create */
    rh_test_exec(c, "CREATE TABLE _prisma_migrations (id TEXT PRIMARY KEY, migration_name TEXT)");
    rh_migset set = {0};
    add(&set, "20250101000000_a", "CREATE TABLE a (id INT);");
    rh_profile p = profile(RH_PRISMA_DEFAULT_VERSION);
    rh_engine_opts eo = {.profile = &p};
    rh_engine_result_init(&res);
    assert_int_equal(rh_prisma_deploy(c, &set, &eo, &res, &err), -1);
    assert_non_null(strstr(err.msg, "_prisma_migrations has column id of type text"));
    rh_engine_result_free(&res);
    rh_test_exec(c, "DROP TABLE _prisma_migrations");

    /* a name longer than the ledger's VARCHAR(255): the INSERT fails, nothing runs */
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    memcpy(longname, "20250102000000_", 15);
    add(&set, longname, "CREATE TABLE never (id INT);");
    add(&set, "20250103000000_bad_utf8", "SELECT '\xff\xfe';");
    assert_int_equal(deploy(c, &set, NULL, &res), 1);
    assert_string_equal(res.sqlstate, "22001");
    assert_string_equal(res.failed_migration, longname);
    assert_false(rel_exists(c, "never"));
    assert_int_equal(count(c, "SELECT count(*) FROM _prisma_migrations"), 1);
    rh_engine_result_free(&res);
    rh_migset_free(&set);

    /* a non-UTF-8 script: stops before any row is written for it */
    rh_migset set2 = {0};
    add(&set2, "20250101000000_a", "CREATE TABLE a (id INT);");
    add(&set2, "20250103000000_bad_utf8", "SELECT '\xff\xfe';");
    assert_int_equal(deploy(c, &set2, NULL, &res), 1);
    assert_string_equal(res.failed_migration, "20250103000000_bad_utf8");
    assert_non_null(strstr(res.errout.data, "valid UTF-8"));
    assert_int_equal(count(c, "SELECT count(*) FROM _prisma_migrations WHERE migration_name LIKE '%bad_utf8'"), 0);
    rh_engine_result_free(&res);

    /* an empty file is a migration that does nothing, as in Prisma */
    rh_migset set3 = {0};
    add(&set3, "20250101000000_a", "CREATE TABLE a (id INT);");
    add(&set3, "20250104000000_empty", "");
    PGconn *c2 = rh_test_fresh_db(NULL);
    assert_int_equal(deploy(c2, &set3, NULL, &res), 0);
    assert_int_equal(res.n_applied, 2);
    rh_engine_result_free(&res);
    rh_migset_free(&set2);
    rh_migset_free(&set3);
    PQfinish(c2);
    PQfinish(c);
}

static int has_finding(const rh_engine_result *r, rh_finding_kind k, const char *name)
{
    for (size_t i = 0; i < r->n_findings; i++)
        if (r->findings[i].kind == k && strcmp(r->findings[i].name, name) == 0)
            return 1;
    return 0;
}

static void status_reports_what_prisma_stays_silent_about(void **state)
{
    PGconn *c = rh_test_fresh_db(NULL);
    rh_migset set = {0};
    add(&set, "20250101000000_a", "CREATE TABLE a (id INT);\n");
    add(&set, "20250102000000_gone", "CREATE TABLE g (id INT);");
    add(&set, "20250103000000_fails", "SELECT 1/0;");
    rh_engine_result res;
    assert_int_equal(deploy(c, &set, NULL, &res), 1);
    rh_engine_result_free(&res);
    rh_err err;
    rh_engine_result_init(&res);
    assert_int_equal(rh_prisma_resolve_rolled_back(c, &set, "20250103000000_fails", NULL, &res, &err), 0);
    rh_engine_result_free(&res);

    /* a edited after apply, gone's folder deleted, fails rolled back */
    rh_migset now = {0};
    add(&now, "20250101000000_a", "CREATE TABLE a (id BIGINT);");
    add(&now, "20250103000000_fails", "SELECT 1;");
    rh_engine_result_init(&res);
    assert_int_equal(rh_prisma_status(c, &now, NULL, &res, &err), 0);
    assert_non_null(strstr(res.out.data, "Database schema is up to date!\n")); /* Prisma is silent */
    assert_true(has_finding(&res, RH_FINDING_EDITED_AFTER_APPLY, "20250101000000_a"));
    assert_true(has_finding(&res, RH_FINDING_FOLDER_GONE, "20250102000000_gone"));
    assert_true(has_finding(&res, RH_FINDING_WILL_REAPPLY, "20250103000000_fails"));
    assert_false(has_finding(&res, RH_FINDING_EDITED_AFTER_APPLY, "20250103000000_fails"));
    rh_engine_result_free(&res);

    /* a CRLF copy of an applied file is not "edited" (Prisma's checksum comparison) */
    rh_migset crlf = {0};
    add(&crlf, "20250101000000_a", "CREATE TABLE a (id INT);\r\n");
    rh_engine_result_init(&res);
    assert_int_equal(rh_prisma_status(c, &crlf, NULL, &res, &err), 0);
    assert_false(has_finding(&res, RH_FINDING_EDITED_AFTER_APPLY, "20250101000000_a"));
    rh_engine_result_free(&res);
    rh_migset_free(&set);
    rh_migset_free(&now);
    rh_migset_free(&crlf);
    PQfinish(c);
}

static void a_ledger_outside_the_search_path_is_reported(void **state)
{
    PGconn *c = rh_test_fresh_db(NULL);
    rh_test_exec(c, "CREATE SCHEMA other");
    rh_test_exec(c, "SET search_path TO other");
    rh_migset set = {0};
    add(&set, "20250101000000_a", "CREATE TABLE a (id INT);");
    rh_engine_result res;
    assert_int_equal(deploy(c, &set, NULL, &res), 0);
    rh_engine_result_free(&res);
    rh_test_exec(c, "SET search_path TO public");
    /* as Prisma: the ledger in "other" is invisible, the public schema is empty: a new ledger */
    assert_int_equal(deploy(c, &set, NULL, &res), 0);
    assert_int_equal(res.n_applied, 1);
    rh_engine_result_free(&res);
    rh_err err;
    rh_engine_result_init(&res);
    assert_int_equal(rh_prisma_status(c, &set, NULL, &res, &err), 0);
    assert_true(has_finding(&res, RH_FINDING_HIDDEN_LEDGER, "_prisma_migrations"));
    assert_non_null(strstr(res.findings[res.n_findings - 1].detail, "schema \"other\""));
    rh_engine_result_free(&res);
    rh_migset_free(&set);
    PQfinish(c);
}

static void split_profile_runs_concurrently_alone(void **state)
{
    PGconn *c = rh_test_fresh_db(NULL);
    rh_migset set = {0};
    add(&set, "20250101000000_a", "CREATE TABLE w (id INT);\nCREATE INDEX CONCURRENTLY w_id ON w (id);");
    rh_profile p = profile("7.4.0");
    assert_int_equal(p.exec, RH_EXEC_SPLIT_STATEMENTS);
    assert_false(p.verified);
    rh_migset_sort(&set, &p);
    rh_engine_opts eo = {.profile = &p};
    rh_engine_result res;
    rh_engine_result_init(&res);
    rh_err err;
    assert_int_equal(rh_prisma_deploy(c, &set, &eo, &res, &err), 0);
    assert_int_equal(count(c, "SELECT count(*) FROM pg_index WHERE indexrelid = 'w_id'::regclass"), 1);
    rh_engine_result_free(&res);
    rh_migset_free(&set);
    PQfinish(c);
}

/* Prisma >= 7.4 splits a file only when sqlparser 0.61 parses all of it: a DO block anywhere sends the
   whole file as one query, so a failure in it leaves nothing behind (atomic, as under 6.x). */
static void split_profile_sends_a_file_sqlparser_rejects_whole(void **state)
{
    PGconn *c = rh_test_fresh_db(NULL);
    rh_migset set = {0};
    add(&set, "20250101000000_a", "CREATE TABLE kept (id INT);\nDO $$ BEGIN RAISE NOTICE 'x'; END $$;\nSELECT 1/0;");
    rh_profile p = profile("7.10.1");
    assert_int_equal(p.exec, RH_EXEC_SPLIT_STATEMENTS);
    rh_migset_sort(&set, &p);
    rh_engine_opts eo = {.profile = &p};
    rh_engine_result res;
    rh_engine_result_init(&res);
    rh_err err;
    assert_int_not_equal(rh_prisma_deploy(c, &set, &eo, &res, &err), 0);
    assert_int_equal(count(c, "SELECT count(*) FROM pg_class WHERE relname = 'kept'"), 0);
    rh_engine_result_free(&res);
    /* without the DO block, the same file is split: the CREATE TABLE stays (a partial apply) */
    rh_migset_free(&set);
    memset(&set, 0, sizeof set);
    add(&set, "20250101000000_a", "CREATE TABLE kept (id INT);\nSELECT 1/0;");
    rh_migset_sort(&set, &p);
    PGconn *c2 = rh_test_fresh_db(NULL);
    rh_engine_result_init(&res);
    assert_int_not_equal(rh_prisma_deploy(c2, &set, &eo, &res, &err), 0);
    assert_int_equal(count(c2, "SELECT count(*) FROM pg_class WHERE relname = 'kept'"), 1);
    rh_engine_result_free(&res);
    rh_migset_free(&set);
    PQfinish(c2);
    PQfinish(c);
}

/*
 * A migration that LISTENs and notifies itself gets every notification back on rehearse's connection,
 * and libpq keeps them until they are read: 40 000 of 8 kB made rehearse's own peak memory 326 MB
 * (15 MB now). The engine drops them as they are read: none is left after the deploy.
 */
static void notifications_to_the_migration_session_are_not_kept(void **state)
{
    (void)state;
    PGconn *c = rh_test_fresh_db(NULL);
    rh_migset set = {0};
    add(&set, "20250101000000_a",
        "LISTEN x;\nSELECT count(pg_notify('x', i::text)) FROM generate_series(1, 1000) i;\n");
    rh_engine_result res;
    assert_int_equal(deploy(c, &set, NULL, &res), 0);
    PGnotify *n = PQnotifies(c);
    assert_null(n);
    PQfreemem(n);
    rh_engine_result_free(&res);
    rh_migset_free(&set);
    PQfinish(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_deploy_writes_prismas_rows),
        cmocka_unit_test(concurrently_in_a_multi_statement_file_fails_whole),
        cmocka_unit_test(begin_commit_in_a_file_is_a_partial_apply),
        cmocka_unit_test(failure_inside_the_files_own_block_is_recorded),
        cmocka_unit_test(hook_can_kill_the_deploying_backend),
        cmocka_unit_test(advisory_lock_times_out_with_p1002),
        cmocka_unit_test(bad_input_gives_clear_errors),
        cmocka_unit_test(status_reports_what_prisma_stays_silent_about),
        cmocka_unit_test(a_ledger_outside_the_search_path_is_reported),
        cmocka_unit_test(split_profile_runs_concurrently_alone),
        cmocka_unit_test(split_profile_sends_a_file_sqlparser_rejects_whole),
        cmocka_unit_test(notifications_to_the_migration_session_are_not_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
