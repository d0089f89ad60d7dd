/*
 * test_check.c — `rehearse check` on fixture repositories built in the test (libgit2), against
 * real PostgreSQL clusters: an edited applied migration (upgrade path != clean deploy), the seed's
 * CONCURRENTLY in a multi-statement file (fails with 25001, caught by running it), the lock modes
 * of ADD COLUMN ... NOT NULL DEFAULT now() / CREATE INDEX / CREATE INDEX CONCURRENTLY, a table
 * rewrite, data-dependent failures with --seed, the default base, the output formats and the CLI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check.h"
#include "source/git.h"
#include "cluster/internal.h"
#include "test_git_fixture.h"
#include "tools/tool.h"
#include "testlib.h"

/* The first finding with this code, or NULL. */
static const rh_check_finding *finding(const rh_check_result *r, const char *code)
{
    for (size_t i = 0; i < r->n_findings; i++)
        if (strcmp(r->findings[i].code, code) == 0)
            return &r->findings[i];
    return NULL;
}

static const rh_check_trace *trace(const rh_check_result *r, const char *migration)
{
    for (size_t i = 0; i < r->n_traces; i++)
        if (strcmp(r->traces[i].migration, migration) == 0)
            return &r->traces[i];
    return NULL;
}

/* Does statement `st` hold (acquire) `mode` on `relation`? */
static int has_lock(const rh_check_stmt *st, const char *relation, const char *mode)
{
    for (size_t i = 0; i < st->n_locks; i++)
        if (strcmp(st->locks[i].relation, relation) == 0 && strcmp(st->locks[i].mode, mode) == 0)
            return 1;
    return 0;
}

static void dump(const rh_check_result *r)
{
    rh_buf b;
    rh_buf_init(&b);
    rh_check_format_human(r, 0, &b);
    fprintf(stderr, "%s", b.data);
    rh_buf_free(&b);
}

/* Run the check or fail the test with rehearse's message. */
static void run(rh_check_opts *o, rh_check_result *r)
{
    rh_err err;
    rh_err_clear(&err);
    if (rh_check_run(o, r, &err) < 0) {
        fprintf(stderr, "rh_check_run: %s\n", err.msg);
        fail();
    }
}

static const char user_v1[] = "CREATE TABLE \"User\" (\n    \"id\" SERIAL NOT NULL,\n    \"name\" TEXT,\n"
                              "    CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\")\n);\n";

/* An applied migration edited after base: a deployed database keeps the old version, so the
   upgrade path differs from a clean deploy; (c) must catch it and (d) name the edit. */
static void test_edited_applied_migration(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", user_v1);
    fx_put(r, "prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n");
    fx_commit(r, "init");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250101000000_init",
                 "CREATE TABLE \"User\" (\n    \"id\" SERIAL NOT NULL,\n    \"name\" TEXT,\n    \"email\" TEXT NOT NULL,\n"
                 "    CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\")\n);\n");
    fx_migration(r, "20250201000000_name_idx", "CREATE INDEX \"User_name_idx\" ON \"User\"(\"name\");\n");
    fx_commit(r, "edit init, add index");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    assert_true(res.clean_ok);
    assert_true(res.upgrade_ok);
    assert_int_equal(res.n_added, 1);
    assert_string_equal(res.added[0], "20250201000000_name_idx");
    assert_true(res.catalog_compared);
    assert_true(res.catalog_differences > 0);
    const rh_check_finding *f = finding(&res, "catalog-differs");
    if (!f)
        dump(&res);
    assert_non_null(f);
    assert_int_equal(f->level, RH_CHECK_ERROR);
    assert_non_null(f->detail);
    assert_non_null(strstr(f->detail, "email"));
    assert_string_equal(f->file, "prisma/migrations/20250101000000_init/migration.sql");
    const rh_check_finding *e = finding(&res, "edited");
    assert_non_null(e);
    assert_int_equal(e->level, RH_CHECK_ERROR);
    assert_int_equal(e->step, 'd');
    assert_true(rh_check_count(&res, RH_CHECK_ERROR) >= 2);
    rh_check_result_free(&res);
    fx_free(r);
}

static int upgrade_connections;

static void count_upgrade_connections(const char *dbname, const char *user)
{
    (void)user;
    if (strcmp(dbname, "rehearse_check_upgrade") == 0)
        __atomic_add_fetch(&upgrade_connections, 1, __ATOMIC_RELAXED);
}

/* The upgrade path connects for base's deploy and again for head's (production's next deploy is a new
   process), cold and warm. Before, a check with the state cache on opened a third connection between
   them that ran nothing unless a seed or a fill followed: a backend started for nothing (3 != 2). */
static void test_upgrade_path_opens_a_connection_per_deploy(void **state)
{
    (void)state;
    char *old_cache = getenv("REHEARSE_CACHE_DIR") ? strdup(getenv("REHEARSE_CACHE_DIR")) : NULL;
    char *old_off = getenv("REHEARSE_NO_CACHE") ? strdup(getenv("REHEARSE_NO_CACHE")) : NULL;
    setenv("REHEARSE_CACHE_DIR", fx_tmpdir(), 1);
    unsetenv("REHEARSE_NO_CACHE");
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", user_v1);
    fx_put(r, "prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n");
    fx_commit(r, "init");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250201000000_name_idx", "CREATE INDEX \"User_name_idx\" ON \"User\"(\"name\");\n");
    fx_commit(r, "add index");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    for (int warm = 0; warm < 2; warm++) {
        rh_check_result res;
        upgrade_connections = 0;
        rh_cluster_connect_hook = count_upgrade_connections;
        run(&o, &res);
        rh_cluster_connect_hook = NULL;
        assert_int_equal(res.cached, warm ? 1 : 0); /* the cold check published base's state */
        assert_true(res.upgrade_ok);
        assert_true(res.catalog_compared);
        assert_int_equal(upgrade_connections, 2);
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

/*
 * The lock trace (f) runs beside the upgrade path (b): cold, head's deploy does not connect (the hook holds
 * it) until the trace has connected to its database; warm, from base's whole state on one path, base's
 * deploy does not either (the trace knows what head's deploy will run before base's deploy confirms it).
 * Before, (f) began only after (b) had finished, so the hook waited in vain (its bound, 60 s, only ends a
 * failing run). The trace is the one a trace after (b) takes: the new index's ShareLock on its table.
 */
static pthread_mutex_t beside_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t beside_cv = PTHREAD_COND_INITIALIZER;
static int beside_upgrades, beside_probe_seen, beside_waited_in_vain, beside_hold_at;

static void hold_head_deploy_until_the_trace(const char *dbname, const char *user)
{
    (void)user;
    pthread_mutex_lock(&beside_mu);
    if (strcmp(dbname, "rehearse_check_locks") == 0) {
        beside_probe_seen = 1;
        pthread_cond_broadcast(&beside_cv);
    } else if (strcmp(dbname, "rehearse_check_upgrade") == 0 && ++beside_upgrades == beside_hold_at) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 60;
        while (!beside_probe_seen)
            if (pthread_cond_timedwait(&beside_cv, &beside_mu, &until) != 0) {
                beside_waited_in_vain = 1;
                break;
            }
    }
    pthread_mutex_unlock(&beside_mu);
}

static void test_lock_trace_runs_beside_the_upgrade_path(void **state)
{
    (void)state;
    char *old_cache = getenv("REHEARSE_CACHE_DIR") ? strdup(getenv("REHEARSE_CACHE_DIR")) : NULL;
    char *old_off = getenv("REHEARSE_NO_CACHE") ? strdup(getenv("REHEARSE_NO_CACHE")) : NULL;
    setenv("REHEARSE_CACHE_DIR", fx_tmpdir(), 1);
    unsetenv("REHEARSE_NO_CACHE");
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", user_v1);
    fx_put(r, "prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n");
    fx_commit(r, "init");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250201000000_name_idx", "CREATE INDEX \"User_name_idx\" ON \"User\"(\"name\");\n");
    fx_commit(r, "add index");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    for (int warm = 0; warm < 2; warm++) {
        rh_check_result res;
        beside_upgrades = beside_probe_seen = beside_waited_in_vain = 0;
        beside_hold_at = warm ? 1 : 2; /* warm, one path: before base's deploy; cold: before head's */
        rh_cluster_connect_hook = hold_head_deploy_until_the_trace;
        run(&o, &res);
        rh_cluster_connect_hook = NULL;
        assert_int_equal(res.cached, warm ? 1 : 0);
        assert_int_equal(res.one_path, warm);
        assert_false(beside_waited_in_vain);
        assert_true(res.upgrade_ok);
        const rh_check_trace *t = trace(&res, "20250201000000_name_idx");
        assert_non_null(t);
        assert_int_equal(t->n, 1);
        assert_string_equal(rh_check_trace_strongest(t, "\"User\""), "ShareLock");
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

static int probe_connections;

static void count_probe_connections(const char *dbname, const char *user)
{
    (void)user;
    if (strcmp(dbname, "rehearse_check_locks") == 0)
        __atomic_add_fetch(&probe_connections, 1, __ATOMIC_RELAXED);
}

/* The cache's one state entry (a cold check published it), its ledger row of base's migration marked failed in
   the upgrade path's database only: the probe's database still holds base's state, so a warm check takes one
   path and starts the early trace, but base's deploy then stops (P3009, a failed migration in the ledger). */
static void fail_the_cached_upgrade_ledger(void)
{
    rh_cluster_opts none = {0};
    char *states = rh_state_dir(&none), *entry = NULL;
    DIR *d = opendir(states);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && strlen(e->d_name) > 64) {
            assert_null(entry); /* the one entry */
            entry = rh_xasprintf("%s/%s", states, e->d_name);
        }
    closedir(d);
    assert_non_null(entry);
    char key[65];
    snprintf(key, sizeof key, "%s", entry + strlen(entry) - 64);
    rh_cluster_opts from = {.state = entry};
    rh_cluster *c = NULL;
    rh_err err;
    if (rh_cluster_start(&c, &from, &err) < 0)
        fail_msg("start from the state: %s", err.msg);
    PGconn *conn = rh_cluster_connect_admin(c, "rehearse_check_upgrade", &err);
    assert_non_null(conn);
    /* a failed row (not finished, not rolled back): base's deploy stops with P3009 */
    PGresult *r = PQexec(conn, "UPDATE _prisma_migrations SET finished_at = NULL");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(conn);
    assert_int_equal(rh_fs_rmtree(entry, &err), 0); /* else the same key's valid entry stays */
    if (rh_state_save(c, &none, key, "test: the upgrade path's ledger row failed", &err) < 0)
        fail_msg("save: %s", err.msg);
    assert_int_equal(rh_cluster_stop(c, &err), 0);
    free(entry);
    free(states);
}

/*
 * 16fffb0's fallback: warm on one path, the early trace (f) has started when base's deploy does not end on
 * the cached state (here it fails: its ledger holds a failed row). The trace is dropped (it traced what no deploy
 * runs), (a) deploys head from nothing on a database of its own, and the check reports base's failure.
 * (A ledger row removed instead makes the engine refuse the state: "does not hold the first 1 migrations".)
 * Before this test no run reached that path.
 */
static void test_early_trace_dropped_when_base_deploy_leaves_the_cached_state(void **state)
{
    (void)state;
    char *old_cache = getenv("REHEARSE_CACHE_DIR") ? strdup(getenv("REHEARSE_CACHE_DIR")) : NULL;
    char *old_off = getenv("REHEARSE_NO_CACHE") ? strdup(getenv("REHEARSE_NO_CACHE")) : NULL;
    setenv("REHEARSE_CACHE_DIR", fx_tmpdir(), 1);
    unsetenv("REHEARSE_NO_CACHE");
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", user_v1);
    fx_put(r, "prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n");
    fx_commit(r, "init");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250201000000_name_idx", "CREATE INDEX \"User_name_idx\" ON \"User\"(\"name\");\n");
    fx_commit(r, "add index");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res); /* cold: publishes base's state */
    assert_int_equal(res.cached, 0);
    assert_true(res.cache_published);
    rh_check_result_free(&res);
    fail_the_cached_upgrade_ledger();

    probe_connections = 0;
    rh_cluster_connect_hook = count_probe_connections;
    run(&o, &res);
    rh_cluster_connect_hook = NULL;
    assert_int_equal(res.cached, 1);
    assert_true(probe_connections >= 1); /* the early trace ran */
    assert_false(res.one_path);
    assert_false(res.base_ok);
    if (!res.recovered)
        assert_non_null(finding(&res, "base-deploy-failed"));
    assert_true(res.clean_ok); /* head from nothing, not on the dropped trace's database */
    if (!res.recovered)
        assert_int_equal(res.n_traces, 0);
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

/* Seed 001: CREATE INDEX CONCURRENTLY in a multi-statement file fails with 25001 when Prisma runs
   it; the check finds it by running it, points at the statement's line; alone in its own file it
   passes, and its lock is ShareUpdateExclusiveLock. */
static void test_concurrently_in_multi_statement_file(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20251201000000_init",
                 "CREATE TABLE \"WaitlistEntry\" (\"id\" SERIAL PRIMARY KEY, \"contactId\" INTEGER);\n");
    fx_commit(r, "init");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20251225_step6_waitlist_party_only",
                 "-- step 6\nALTER TABLE \"WaitlistEntry\" ADD COLUMN \"clientPartyId\" INTEGER;\n\n"
                 "CREATE INDEX CONCURRENTLY \"WaitlistEntry_clientPartyId_idx\"\n"
                 "    ON \"WaitlistEntry\"(\"clientPartyId\");\n");
    fx_commit(r, "incident");
    fx_tag(r, "incident", "main", 0);

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "incident"};
    rh_check_result res;
    run(&o, &res);
    assert_false(res.upgrade_ok);
    const rh_check_finding *f = finding(&res, "fails-in-production");
    if (!f)
        dump(&res);
    assert_non_null(f);
    assert_int_equal(f->level, RH_CHECK_ERROR);
    assert_int_equal(f->step, 'e');
    assert_string_equal(f->migration, "20251225_step6_waitlist_party_only");
    assert_non_null(strstr(f->message, "25001"));
    assert_int_equal(f->line, 4); /* the CREATE INDEX CONCURRENTLY statement */
    assert_string_equal(f->file, "prisma/migrations/20251225_step6_waitlist_party_only/migration.sql");
    /* the clean deploy fails the same way: one finding, not two */
    assert_null(finding(&res, "clean-deploy-failed"));

    /* output formats of this result */
    rh_buf b;
    rh_buf_init(&b);
    rh_check_format_github(&res, &b);
    assert_non_null(strstr(b.data, "::error file=prisma/migrations/20251225_step6_waitlist_party_only/"
                                   "migration.sql,line=4,title=rehearse check (e) fails-in-production::"));
    assert_null(strstr(b.data, "25001\n")); /* multi-line text is escaped (%0A), one command per line */
    rh_buf_reset(&b);
    rh_check_format_json(&res, &b);
    json_object *root = json_tokener_parse(b.data);
    assert_non_null(root);
    json_object *fs = NULL, *counts = NULL, *err = NULL;
    assert_true(json_object_object_get_ex(root, "findings", &fs));
    assert_true(json_object_array_length(fs) >= 1);
    assert_true(json_object_object_get_ex(root, "counts", &counts));
    assert_true(json_object_object_get_ex(counts, "error", &err));
    assert_true(json_object_get_int(err) >= 1);
    json_object_put(root);
    rh_buf_reset(&b);
    rh_check_format_junit(&res, RH_CHECK_ERROR, &b);
    assert_non_null(strstr(b.data, "<failure type=\"error\""));
    assert_non_null(strstr(b.data, "name=\"(e) new migrations as production runs them\""));
    rh_buf_free(&b);
    rh_check_result_free(&res);

    /* the fix: the index alone in its own migration */
    fx_rm(r, "prisma/migrations/20251225_step6_waitlist_party_only");
    fx_migration(r, "20251225_step6_waitlist_party_only",
                 "ALTER TABLE \"WaitlistEntry\" ADD COLUMN \"clientPartyId\" INTEGER;\n");
    fx_migration(r, "20251225_step7_index",
                 "CREATE INDEX CONCURRENTLY \"WaitlistEntry_clientPartyId_idx\" ON \"WaitlistEntry\"(\"clientPartyId\");\n");
    fx_commit(r, "fixed");
    o.head = "main";
    run(&o, &res);
    if (rh_check_count(&res, RH_CHECK_ERROR) != 0)
        dump(&res);
    assert_int_equal(rh_check_count(&res, RH_CHECK_ERROR), 0);
    assert_true(res.upgrade_ok);
    assert_int_equal(res.catalog_differences, 0);
    const rh_check_trace *t = trace(&res, "20251225_step7_index");
    assert_non_null(t);
    assert_int_equal(t->n, 1);
    assert_true(t->stmts[0].outside_tx);
    assert_true(has_lock(&t->stmts[0], "\"WaitlistEntry\"", "ShareUpdateExclusiveLock"));
    rh_check_result_free(&res);
    fx_free(r);
}

/* The lock report names the right modes, per statement, and flags ACCESS EXCLUSIVE on an existing
   table; a type change that rewrites the table is reported, ADD COLUMN ... DEFAULT now() is not. */
static void test_lock_modes(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init",
                 "CREATE TABLE \"Order\" (\"id\" INTEGER PRIMARY KEY, \"total\" INTEGER);\n"
                 "INSERT INTO \"Order\" SELECT g, g * 10 FROM generate_series(1, 100) g;\n");
    fx_commit(r, "init");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250201000000_created_at",
                 "ALTER TABLE \"Order\" ADD COLUMN \"createdAt\" TIMESTAMP(3) NOT NULL DEFAULT now();\n");
    fx_migration(r, "20250202000000_idx", "CREATE INDEX \"Order_createdAt_idx\" ON \"Order\"(\"createdAt\");\n");
    fx_migration(r, "20250203000000_idx_conc",
                 "CREATE INDEX CONCURRENTLY \"Order_total_idx\" ON \"Order\"(\"total\");\n");
    fx_migration(r, "20250204000000_bigint",
                 "CREATE TABLE \"Audit\" (\"id\" SERIAL PRIMARY KEY);\n"
                 "ALTER TABLE \"Order\" ALTER COLUMN \"total\" TYPE BIGINT;\n");
    /* seed 002's pattern: a foreign key NOT VALID, then VALIDATE */
    fx_migration(r, "20250205000000_fk",
                 "ALTER TABLE \"Audit\" ADD COLUMN \"orderId\" INTEGER;\n"
                 "ALTER TABLE \"Audit\" ADD CONSTRAINT \"Audit_orderId_fkey\" FOREIGN KEY (\"orderId\") "
                 "REFERENCES \"Order\"(\"id\") NOT VALID;\n"
                 "ALTER TABLE \"Audit\" VALIDATE CONSTRAINT \"Audit_orderId_fkey\";\n");
    fx_commit(r, "head");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    if (res.n_traces != 5)
        dump(&res);
    assert_int_equal(res.n_traces, 5);

    const rh_check_trace *t = trace(&res, "20250201000000_created_at");
    assert_non_null(t);
    assert_int_equal(t->n, 1);
    assert_true(has_lock(&t->stmts[0], "\"Order\"", "AccessExclusiveLock"));
    assert_int_equal(t->stmts[0].n_rewrites, 0); /* a non-volatile default: no rewrite since PostgreSQL 11 */
    assert_string_equal(rh_check_trace_strongest(t, "\"Order\""), "AccessExclusiveLock");

    t = trace(&res, "20250202000000_idx");
    assert_non_null(t);
    assert_true(has_lock(&t->stmts[0], "\"Order\"", "ShareLock"));
    assert_string_equal(rh_check_trace_strongest(t, "\"Order\""), "ShareLock");
    assert_false(t->stmts[0].outside_tx);

    t = trace(&res, "20250203000000_idx_conc");
    assert_non_null(t);
    assert_true(t->stmts[0].outside_tx);
    assert_string_equal(rh_check_trace_strongest(t, "\"Order\""), "ShareUpdateExclusiveLock");

    t = trace(&res, "20250204000000_bigint");
    assert_non_null(t);
    assert_int_equal(t->n, 2);
    assert_int_equal(t->stmts[0].n_rewrites, 0);
    assert_int_equal(t->stmts[1].n_rewrites, 1);
    assert_string_equal(t->stmts[1].rewrites[0], "\"Order\"");
    assert_int_equal(t->stmts[1].line, 2);
    /* the new table's locks are not flagged: it did not exist before the migration */
    for (size_t i = 0; i < t->stmts[0].n_locks; i++)
        if (strcmp(t->stmts[0].locks[i].relation, "\"Audit\"") == 0)
            assert_false(t->stmts[0].locks[i].existed_before);
    /* nor in the next migration: "existing" means at base, not before each migration */
    const rh_check_trace *fk = trace(&res, "20250205000000_fk");
    assert_non_null(fk);
    for (size_t j = 0; j < fk->n; j++)
        for (size_t i = 0; i < fk->stmts[j].n_locks; i++)
            if (strcmp(fk->stmts[j].locks[i].relation, "\"Audit\"") == 0)
                assert_false(fk->stmts[j].locks[i].existed_before);

    t = trace(&res, "20250205000000_fk");
    assert_non_null(t);
    assert_int_equal(t->n, 3);
    assert_true(has_lock(&t->stmts[1], "\"Order\"", "ShareRowExclusiveLock"));
    assert_false(has_lock(&t->stmts[1], "\"Order\"", "AccessExclusiveLock"));
    assert_true(has_lock(&t->stmts[2], "\"Audit\"", "ShareUpdateExclusiveLock"));

    /* findings, ranked: the type change holds ACCESS EXCLUSIVE while it rewrites "Order" (warnings
       access-exclusive + table-rewrite); the plain CREATE INDEX holds SHARE while it reads "Order"
       (warning blocks-writes, with the CONCURRENTLY alternative); ADD COLUMN ... DEFAULT now() and the
       NOT VALID foreign key are catalog-only (notices lock-queue); CONCURRENTLY and VALIDATE: nothing.
       "Audit" was created by an earlier migration of the same pull request: never "existing". */
    size_t ae = 0, rw = 0, bw = 0, lq = 0;
    for (size_t i = 0; i < res.n_findings; i++) {
        const rh_check_finding *f = &res.findings[i];
        if (f->step == 'f')
            assert_null(strstr(f->message, "table \"Audit\""));
        if (strcmp(f->code, "access-exclusive") == 0) {
            ae++;
            assert_int_equal(f->level, RH_CHECK_WARNING);
            assert_string_equal(f->migration, "20250204000000_bigint");
            assert_non_null(strstr(f->message, "rewrites \"Order\""));
        }
        if (strcmp(f->code, "table-rewrite") == 0) {
            rw++;
            assert_string_equal(f->migration, "20250204000000_bigint");
            assert_int_equal(f->line, 2);
        }
        if (strcmp(f->code, "blocks-writes") == 0) {
            bw++;
            assert_int_equal(f->level, RH_CHECK_WARNING);
            assert_string_equal(f->migration, "20250202000000_idx");
            assert_non_null(strstr(f->message, "ShareLock"));
            assert_non_null(strstr(f->message, "CREATE INDEX CONCURRENTLY"));
            assert_non_null(f->detail); /* without --scale: durations need production's sizes */
            assert_non_null(strstr(f->detail, "--scale FILE"));
        }
        if (strcmp(f->code, "lock-queue") == 0) {
            lq++;
            assert_int_equal(f->level, RH_CHECK_NOTICE);
            assert_true(strcmp(f->migration, "20250201000000_created_at") == 0 ||
                        (strcmp(f->migration, "20250205000000_fk") == 0 && f->line == 2));
            assert_non_null(strstr(f->message, "lock_timeout"));
        }
    }
    assert_int_equal(ae, 1);
    assert_int_equal(rw, 1);
    assert_int_equal(bw, 1);
    assert_int_equal(lq, 2);
    assert_int_equal(trace(&res, "20250202000000_idx")->stmts[0].n_scans, 1);
    assert_int_equal(trace(&res, "20250201000000_created_at")->stmts[0].n_scans, 0);
    assert_int_equal(rh_check_count(&res, RH_CHECK_ERROR), 0);
    assert_int_equal(res.catalog_differences, 0);
    rh_check_result_free(&res);
    fx_free(r);
}

/* 10.5: lock findings rank real risk. A table made by an earlier migration of the same pull request
   is not "existing"; a catalog-only ADD COLUMN is a lock-queue notice, but the same lock held while a
   backfill reads the table is a warning; LOCK TABLE is reported with its mode. */
static void test_lock_ranking(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init",
                 "CREATE TABLE \"Order\" (\"id\" INTEGER PRIMARY KEY, \"total\" INTEGER);\n"
                 "CREATE TABLE \"Log\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "init");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250201000000_item", "CREATE TABLE \"Item\" (\"id\" INTEGER PRIMARY KEY, \"name\" TEXT);\n");
    fx_migration(r, "20250202000000_item_more",
                 "ALTER TABLE \"Item\" ADD COLUMN \"price\" INTEGER NOT NULL DEFAULT 0;\n"
                 "CREATE INDEX \"Item_name_idx\" ON \"Item\"(\"name\");\n"
                 "ALTER TABLE \"Item\" ALTER COLUMN \"price\" TYPE BIGINT;\n");
    fx_migration(r, "20250203000000_note", "ALTER TABLE \"Order\" ADD COLUMN \"note\" TEXT;\n");
    fx_migration(r, "20250204000000_backfill",
                 "ALTER TABLE \"Order\" ADD COLUMN \"cents\" INTEGER;\n"
                 "UPDATE \"Order\" SET \"cents\" = \"total\" * 100;\n");
    fx_migration(r, "20250204500000_idx", "CREATE INDEX IF NOT EXISTS \"Log_id_idx\" ON \"Log\"(\"id\");\n");
    fx_migration(r, "20250205000000_lock",
                 "LOCK TABLE \"Log\" IN SHARE MODE;\n"
                 "COMMENT ON TABLE \"Log\" IS 'audit';\n");
    fx_commit(r, "head");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main"};
    rh_check_result res;
    run(&o, &res);
    assert_int_equal(res.n_traces, 6);
    size_t warnings = 0, item = 0;
    const rh_check_finding *note = NULL, *backfill = NULL, *lock = NULL;
    for (size_t i = 0; i < res.n_findings; i++) {
        const rh_check_finding *f = &res.findings[i];
        if (strstr(f->message, "\"Item\""))
            item++;
        if (f->level >= RH_CHECK_WARNING)
            warnings++;
        if (strcmp(f->migration ? f->migration : "", "20250203000000_note") == 0)
            note = f;
        if (strcmp(f->migration ? f->migration : "", "20250204000000_backfill") == 0)
            backfill = f;
        if (strcmp(f->code, "lock-table") == 0)
            lock = f;
        if (strcmp(f->code, "blocks-writes") == 0) { /* the plain CREATE INDEX IF NOT EXISTS on "Log" */
            assert_string_equal(f->migration, "20250204500000_idx");
            assert_true(strncmp(f->message, "CREATE INDEX takes ShareLock on existing table \"Log\"", 50) == 0);
        }
    }
    if (item || warnings != 2 || !note || !backfill || !lock)
        dump(&res);
    assert_int_equal(item, 0); /* before: AccessExclusiveLock and rewrite warnings on "Item" */
    assert_string_equal(note->code, "lock-queue");
    assert_int_equal(note->level, RH_CHECK_NOTICE);
    assert_non_null(strstr(note->message, "AccessExclusiveLock"));
    assert_non_null(strstr(note->message, "lock_timeout"));
    assert_string_equal(backfill->code, "access-exclusive");
    assert_int_equal(backfill->level, RH_CHECK_WARNING);
    assert_int_equal(backfill->line, 1);
    assert_non_null(strstr(backfill->message, "line 2 (UPDATE) reads every row of \"Order\""));
    assert_int_equal(warnings, 2); /* the backfill and the CREATE INDEX */
    assert_int_equal(lock->level, RH_CHECK_NOTICE);
    assert_non_null(strstr(lock->message, "ShareLock"));
    assert_non_null(strstr(lock->message, "\"Log\""));
    rh_check_result_free(&res);
    fx_free(r);
}

/* check --tool NAME on repository r (base "base", head "main"), or fail the test with rehearse's message. */
static void run_tool(const char *tool, fx_repo *r, const rh_scale *scale, rh_check_result *res)
{
    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main", .scale = scale};
    rh_err err;
    rh_err_clear(&err);
    assert_non_null(rh_tool_find(tool));
    if (rh_check_tool(rh_tool_find(tool), &o, res, &err) < 0) {
        fprintf(stderr, "rh_check_tool %s: %s\n", tool, err.msg);
        fail();
    }
}

/* The finding of migration `name` with this code, or NULL. */
static const rh_check_finding *finding_of(const rh_check_result *r, const char *name, const char *code)
{
    for (size_t i = 0; i < r->n_findings; i++)
        if (strcmp(r->findings[i].code, code) == 0 && strcmp(r->findings[i].migration ? r->findings[i].migration : "",
                                                             name) == 0)
            return &r->findings[i];
    return NULL;
}

/*
 * drizzle-kit migrate runs every pending migration in ONE transaction (tests/conformance/drizzle, "failing
 * migration": nothing of the run stays): a brief ACCESS EXCLUSIVE in one file is held while a later file
 * rewrites a table, until the whole run commits. dbmate commits each file: the same lock is brief there.
 * Before, the trace committed after every file and both said "brief" (lock-queue).
 */
static void test_drizzle_holds_locks_until_the_run_commits(void **state)
{
    (void)state;
    fx_repo *d = fx_repo_new(0);
    const char *entry = "{\"idx\":%d,\"version\":\"7\",\"when\":%d000,\"tag\":\"%s\",\"breakpoints\":true}";
    char e0[200], e1[200], e2[200], journal[700];
    snprintf(e0, sizeof e0, entry, 0, 1700000000, "0000_ab");
    snprintf(e1, sizeof e1, entry, 1, 1700000100, "0001_note");
    snprintf(e2, sizeof e2, entry, 2, 1700000200, "0002_wide");
    fx_put(d, "drizzle/0000_ab.sql", "CREATE TABLE \"a\" (\"id\" integer);--> statement-breakpoint\n"
                                     "CREATE TABLE \"b\" (\"id\" integer);\n");
    snprintf(journal, sizeof journal, "{\"version\":\"7\",\"dialect\":\"postgresql\",\"entries\":[%s]}\n", e0);
    fx_put(d, "drizzle/meta/_journal.json", journal);
    fx_commit(d, "base");
    fx_tag(d, "base", "main", 0);
    fx_put(d, "drizzle/0001_note.sql", "ALTER TABLE \"a\" ADD COLUMN \"note\" text;\n");
    fx_put(d, "drizzle/0002_wide.sql", "ALTER TABLE \"b\" ALTER COLUMN \"id\" SET DATA TYPE bigint;\n");
    snprintf(journal, sizeof journal, "{\"version\":\"7\",\"dialect\":\"postgresql\",\"entries\":[%s,%s,%s]}\n",
             e0, e1, e2);
    fx_put(d, "drizzle/meta/_journal.json", journal);
    fx_commit(d, "head");

    rh_check_result res;
    run_tool("drizzle", d, NULL, &res);
    if (res.n_traces != 2 || !finding_of(&res, "0001_note", "access-exclusive"))
        dump(&res);
    assert_int_equal(res.n_traces, 2);
    assert_true(res.traces[0].run_tx && res.traces[1].run_tx);
    assert_true(res.traces[0].tx_goes_on);  /* 0001's transaction is still open while 0002 runs */
    assert_false(res.traces[1].tx_goes_on); /* the last: the run commits after it */
    assert_int_equal(res.traces[1].stmts[0].n_rewrites, 1);
    const rh_check_finding *f = finding_of(&res, "0001_note", "access-exclusive");
    assert_non_null(f);
    assert_int_equal(f->level, RH_CHECK_WARNING);
    assert_string_equal(f->file, "drizzle/0001_note.sql");
    assert_int_equal(f->line, 1);
    assert_non_null(strstr(f->message, "AccessExclusiveLock on existing table a and holds it while line 1 of "
                                       "drizzle/0002_wide.sql (ALTER TABLE) rewrites b, in the same transaction "
                                       "(`drizzle-kit migrate` runs every pending migration in one transaction)"));
    assert_null(finding_of(&res, "0001_note", "lock-queue"));
    rh_buf b;
    rh_buf_init(&b);
    rh_check_format_json(&res, &b);
    assert_true(strstr(b.data, "\"transaction\": \"run\"") || strstr(b.data, "\"transaction\":\"run\""));
    rh_buf_free(&b);
    rh_check_result_free(&res);

    /* measured (--rows): 0001's lock on a is held from its start until the run commits after 0002, so longer
       than 0002's own lock on b (same clock, same end); the probes that met it are 0001's */
    rh_scale scale = {0};
    rh_err err;
    assert_int_equal(rh_scale_add_rows(&scale, "a=2000", &err), 0);
    assert_int_equal(rh_scale_add_rows(&scale, "b=2000", &err), 0);
    run_tool("drizzle", d, &scale, &res);
    assert_int_equal(res.n_traces, 2);
    assert_true(res.traces[0].measured && res.traces[0].tx_goes_on);
    const rh_check_stmt *note = &res.traces[0].stmts[0], *wide = &res.traces[1].stmts[0];
    double held_a = -1, held_b = -1;
    for (size_t i = 0; i < note->n_locks; i++)
        if (strcmp(note->locks[i].relation, "a") == 0 && strcmp(note->locks[i].mode, "AccessExclusiveLock") == 0)
            held_a = note->locks[i].held_ms;
    for (size_t i = 0; i < wide->n_locks; i++)
        if (strcmp(wide->locks[i].relation, "b") == 0 && strcmp(wide->locks[i].mode, "AccessExclusiveLock") == 0)
            held_b = wide->locks[i].held_ms;
    assert_true(held_b >= 0);
    assert_true(held_a >= held_b);
    size_t waits_a = 0;
    for (size_t i = 0; i < note->n_waits; i++)
        waits_a += strcmp(note->waits[i].table, "a") == 0;
    assert_true(waits_a > 0);
    rh_check_result_free(&res);
    rh_scale_free(&scale);
    fx_free(d);

    /* dbmate: a transaction per file, so the lock goes when 0001's file commits */
    fx_repo *m = fx_repo_new(0);
    fx_put(m, "db/migrations/20240101000000_ab.sql", "-- migrate:up\nCREATE TABLE a (id integer);\n"
                                                     "CREATE TABLE b (id integer);\n-- migrate:down\n");
    fx_commit(m, "base");
    fx_tag(m, "base", "main", 0);
    fx_put(m, "db/migrations/20240102000000_note.sql",
           "-- migrate:up\nALTER TABLE a ADD COLUMN note text;\n-- migrate:down\n");
    fx_put(m, "db/migrations/20240103000000_wide.sql",
           "-- migrate:up\nALTER TABLE b ALTER COLUMN id SET DATA TYPE bigint;\n-- migrate:down\n");
    fx_commit(m, "head");
    run_tool("dbmate", m, NULL, &res);
    assert_int_equal(res.n_traces, 2);
    assert_false(res.traces[0].run_tx || res.traces[0].tx_goes_on);
    f = finding_of(&res, "20240102000000_note.sql", "lock-queue");
    if (!f)
        dump(&res);
    assert_non_null(f);
    assert_null(strstr(f->message, "same transaction"));
    rh_check_result_free(&res);
    fx_free(m);
}

/*
 * A lock finding names the statement by its leading words as written: `alter table t20 add` read
 * "ALTER TABLE T20 ADD" before, an identifier upper-cased that PostgreSQL folds to lower case. The words
 * written in lower case still classify the statement (CREATE INDEX: the CONCURRENTLY hint).
 */
static void test_lock_labels_keep_identifiers_as_written(void **state)
{
    (void)state;
    fx_repo *m = fx_repo_new(0);
    fx_put(m, "db/migrations/20240101000000_t20.sql", "-- migrate:up\ncreate table t20 (id int);\n-- migrate:down\n");
    fx_commit(m, "base");
    fx_tag(m, "base", "main", 0);
    fx_put(m, "db/migrations/20240102000000_note.sql",
           "-- migrate:up\nalter table t20 add column note text;\ncreate index t20_id on t20 (id);\n-- migrate:down\n");
    fx_commit(m, "head");
    rh_check_result res;
    run_tool("dbmate", m, NULL, &res);
    const rh_check_finding *alter = finding_of(&res, "20240102000000_note.sql", "access-exclusive");
    const rh_check_finding *index = finding_of(&res, "20240102000000_note.sql", "blocks-writes");
    if (!alter || !index)
        dump(&res);
    assert_non_null(alter);
    assert_non_null(index);
    assert_non_null(strstr(alter->message, "alter table t20 add takes AccessExclusiveLock on existing table t20"));
    assert_non_null(strstr(index->message, "create index t20_id on takes ShareLock on existing table t20"));
    assert_non_null(strstr(index->message, "CONCURRENTLY"));
    for (size_t i = 0; i < res.n_findings; i++)
        assert_null(strstr(res.findings[i].message, "T20"));
    rh_check_result_free(&res);
    fx_free(m);
}

/*
 * base fails at a dbmate file: its transaction rolled back, no ledger row, so production recovers by deploying
 * the fix (`dbmate migrate` runs the file again; tests/conformance/dbmate "repair"). The check follows that
 * path instead of stopping at base-deploy-failed (before); a head that leaves the file as it is fails on it.
 */
static void test_dbmate_base_failure_recovers_with_the_fix(void **state)
{
    (void)state;
    fx_repo *m = fx_repo_new(0);
    fx_put(m, "db/migrations/20240101000000_a.sql", "-- migrate:up\nCREATE TABLE a (id integer);\n-- migrate:down\n");
    fx_put(m, "db/migrations/20240102000000_b.sql",
           "-- migrate:up\nCREATE TABLE b (id integer);\nALTER TABLE nosuch ADD COLUMN x integer;\n-- migrate:down\n");
    fx_commit(m, "base");
    fx_tag(m, "base", "main", 0);
    fx_put(m, "db/migrations/20240102000000_b.sql", "-- migrate:up\nCREATE TABLE b (id integer);\n-- migrate:down\n");
    fx_put(m, "db/migrations/20240103000000_c.sql", "-- migrate:up\nCREATE TABLE c (id integer);\n-- migrate:down\n");
    fx_commit(m, "head");
    rh_check_result res;
    run_tool("dbmate", m, NULL, &res);
    if (!res.recovered || finding(&res, "base-deploy-failed"))
        dump(&res);
    assert_true(res.recovered);
    assert_string_equal(res.recovered_from, "20240102000000_b.sql");
    assert_string_equal(res.recovery, "dbmate migrate\n");
    assert_null(finding(&res, "base-deploy-failed"));
    assert_null(finding(&res, "edited")); /* the fix of a file base never applied is no hazard */
    const rh_check_finding *f = finding(&res, "recovery-path");
    assert_non_null(f);
    assert_int_equal(f->level, RH_CHECK_NOTICE);
    assert_string_equal(f->file, "db/migrations/20240102000000_b.sql");
    assert_non_null(strstr(f->message, " deploys on that path"));
    assert_true(res.upgrade_ok && res.catalog_compared);
    assert_int_equal(res.catalog_differences, 0);
    assert_int_equal(res.n_pending, 2); /* b (again) and c */
    assert_int_equal(rh_check_count(&res, RH_CHECK_ERROR), 0);
    rh_check_result_free(&res);

    /* head leaves the failing file as it is: production's recovery path fails on it again */
    fx_put(m, "db/migrations/20240102000000_b.sql",
           "-- migrate:up\nCREATE TABLE b (id integer);\nALTER TABLE nosuch ADD COLUMN x integer;\n-- migrate:down\n");
    fx_commit(m, "head leaves b");
    run_tool("dbmate", m, NULL, &res);
    assert_true(res.recovered);
    f = finding(&res, "fails-in-production");
    if (!f)
        dump(&res);
    assert_non_null(f);
    assert_non_null(strstr(f->message, "on production's recovery path (20240102000000_b.sql fails at base"));
    assert_non_null(strstr(f->message, "(head leaves it as it is at base, where it fails)"));
    assert_int_equal(f->line, 3);
    rh_check_result_free(&res);
    fx_free(m);

    /* drizzle: the failing run leaves nothing, not even 0000 (one transaction): the fix deploys it all */
    fx_repo *d = fx_repo_new(0);
    const char *entry = "{\"idx\":%d,\"version\":\"7\",\"when\":%d000,\"tag\":\"%s\",\"breakpoints\":true}";
    char e0[200], e1[200], journal[500];
    snprintf(e0, sizeof e0, entry, 0, 1700000000, "0000_a");
    snprintf(e1, sizeof e1, entry, 1, 1700000100, "0001_b");
    snprintf(journal, sizeof journal, "{\"version\":\"7\",\"dialect\":\"postgresql\",\"entries\":[%s,%s]}\n", e0, e1);
    fx_put(d, "drizzle/0000_a.sql", "CREATE TABLE \"a\" (\"id\" integer);\n");
    fx_put(d, "drizzle/0001_b.sql", "ALTER TABLE \"nosuch\" ADD COLUMN \"x\" integer;\n");
    fx_put(d, "drizzle/meta/_journal.json", journal);
    fx_commit(d, "base");
    fx_tag(d, "base", "main", 0);
    fx_put(d, "drizzle/0001_b.sql", "CREATE TABLE \"b\" (\"id\" integer);\n");
    fx_commit(d, "head");
    run_tool("drizzle", d, NULL, &res);
    if (!res.recovered)
        dump(&res);
    assert_true(res.recovered);
    assert_string_equal(res.recovered_from, "0001_b");
    assert_string_equal(res.recovery, "drizzle-kit migrate\n");
    assert_true(res.upgrade_ok && res.catalog_compared);
    assert_int_equal(res.catalog_differences, 0);
    assert_int_equal(res.n_pending, 2); /* 0000 too: the failed run kept nothing of it */
    assert_int_equal(rh_check_count(&res, RH_CHECK_ERROR), 0);
    rh_check_result_free(&res);
    fx_free(d);
}

/*
 * A dbmate file merged with a version older than base's newest: production applies it after that one (dbmate
 * 2.36 migrate: exit 0, no word; --strict refuses it), a clean deploy before: out-of-order on its file. A new
 * file with a newer version is not. Before, no finding.
 */
static void test_dbmate_older_version_is_out_of_order(void **state)
{
    (void)state;
    fx_repo *m = fx_repo_new(0);
    fx_put(m, "db/migrations/20240101000000_a.sql", "-- migrate:up\nCREATE TABLE a (id integer);\n-- migrate:down\n");
    fx_put(m, "db/migrations/20240103000000_c.sql", "-- migrate:up\nCREATE TABLE c (id integer);\n-- migrate:down\n");
    fx_commit(m, "base");
    fx_tag(m, "base", "main", 0);
    fx_put(m, "db/migrations/20240102000000_b.sql", "-- migrate:up\nCREATE TABLE b (id integer);\n-- migrate:down\n");
    fx_put(m, "db/migrations/20240104000000_d.sql", "-- migrate:up\nCREATE TABLE d (id integer);\n-- migrate:down\n");
    fx_commit(m, "head");
    rh_check_result res;
    run_tool("dbmate", m, NULL, &res);
    const rh_check_finding *f = finding(&res, "out-of-order");
    if (!f)
        dump(&res);
    assert_non_null(f);
    assert_int_equal(f->level, RH_CHECK_ERROR);
    assert_string_equal(f->migration, "20240102000000_b.sql");
    assert_string_equal(f->file, "db/migrations/20240102000000_b.sql");
    assert_non_null(strstr(f->message, "older than 20240103000000_c.sql"));
    assert_non_null(strstr(f->message, "--strict"));
    size_t n = 0;
    for (size_t i = 0; i < res.n_findings; i++)
        n += strcmp(res.findings[i].code, "out-of-order") == 0;
    assert_int_equal(n, 1); /* not 20240104000000_d.sql */
    rh_check_result_free(&res);
    fx_free(m);
}

/* (g) data loaded after base makes a data-dependent failure show: SET NOT NULL on nulls. */
static void test_seed_makes_not_null_fail(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", user_v1);
    fx_commit(r, "init");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250301000000_name_required", "ALTER TABLE \"User\" ALTER COLUMN \"name\" SET NOT NULL;\n");
    fx_commit(r, "head");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main", .no_locks = 1};
    rh_check_result res;
    run(&o, &res);
    assert_int_equal(rh_check_count(&res, RH_CHECK_ERROR), 0); /* empty tables: nothing to trip on */
    rh_check_result_free(&res);

    char seed[4096];
    snprintf(seed, sizeof seed, "%s/seed.sql", fx_tmpdir());
    const char *rows = "INSERT INTO \"User\" (\"name\") VALUES ('a'), (NULL);\n";
    fx_write_file(seed, rows, strlen(rows));
    o.seed_file = seed;
    run(&o, &res);
    const rh_check_finding *f = finding(&res, "fails-in-production");
    if (!f)
        dump(&res);
    assert_non_null(f);
    assert_non_null(strstr(f->message, "23502"));
    assert_true(res.clean_ok); /* only the seeded upgrade path fails */
    assert_null(finding(&res, "clean-deploy-failed"));
    rh_check_result_free(&res);

    /* a seed that fails is a setup error naming the file */
    const char *bad = "INSERT INTO nope VALUES (1);\n";
    fx_write_file(seed, bad, strlen(bad));
    rh_err err;
    assert_int_equal(rh_check_run(&o, &res, &err), -1);
    assert_non_null(strstr(err.msg, "seed"));
    rh_check_result_free(&res);
    fx_free(r);
}


/*
 * --scale: base's "User" filled to 20 000 rows with the stats' 10 distinct names; head's unique index
 * on name then fails as production's would (23505), naming a colliding key. Empty tables pass.
 */
static void test_scale_unique_index_duplicates(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", user_v1);
    fx_commit(r, "init");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250301000000_name_unique", "CREATE UNIQUE INDEX \"User_name_key\" ON \"User\"(\"name\");\n");
    fx_commit(r, "head");

    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main", .no_locks = 1};
    rh_check_result res;
    run(&o, &res);
    assert_int_equal(rh_check_count(&res, RH_CHECK_ERROR), 0);
    assert_false(res.scaled);
    rh_check_result_free(&res);

    rh_scale s = {0};
    rh_err err;
    rh_err_clear(&err);
    assert_int_equal(rh_scale_parse(&s, "{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": "
                                        "\"User\", \"rows\": 20000, \"table_bytes\": 0, \"index_bytes\": 0, "
                                        "\"dead_tuples\": 0, \"columns\": [{\"name\": \"name\", \"null_frac\": 0.1, "
                                        "\"n_distinct\": 10, \"avg_width\": 8}]}]}",
                                    "prod.json", &err),
                     0);
    o.scale = &s;
    run(&o, &res);
    assert_true(res.scaled);
    assert_int_equal(res.fill.rows, 20000);
    const rh_check_finding *f = finding(&res, "fails-in-production");
    if (!f)
        dump(&res);
    assert_non_null(f);
    assert_non_null(strstr(f->message, "23505"));
    const char *why = f->detail && strstr(f->detail, "is duplicated") ? f->detail : f->message;
    assert_non_null(strstr(why, "Key (name)=(v"));
    assert_non_null(strstr(why, "is duplicated"));
    assert_true(res.clean_ok); /* a clean deploy has no rows to collide */
    assert_null(finding(&res, "scale-fill")); /* every table reached its size */
    rh_buf b;
    rh_buf_init(&b);
    rh_check_format_json(&res, &b);
    json_object *root = json_tokener_parse(b.data), *scale, *rows;
    assert_true(json_object_object_get_ex(root, "scale", &scale) && json_object_object_get_ex(scale, "rows", &rows));
    assert_int_equal(json_object_get_int64(rows), 20000);
    json_object_put(root);
    rh_buf_free(&b);
    rh_check_result_free(&res);
    rh_scale_free(&s);

    /* a table of production's stats that base does not have: said (before: nothing said). A --rows guess
       naming none (a typo): a setup error (before: exit 0, nothing filled, nothing said) */
    rh_scale gone = {0};
    assert_int_equal(rh_scale_parse(&gone, "{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": "
                                           "\"Gone\", \"rows\": 5, \"table_bytes\": 0, \"index_bytes\": 0, "
                                           "\"dead_tuples\": 0, \"columns\": []}]}",
                                       "prod.json", &err),
                     0);
    o.scale = &gone;
    run(&o, &res);
    f = finding(&res, "scale-fill");
    if (!f)
        dump(&res);
    assert_non_null(f);
    assert_non_null(strstr(f->message, "1 table(s) of --scale's stats are not in base's schema, so not filled: public.Gone"));
    rh_check_result_free(&res);
    assert_int_equal(rh_scale_add_rows(&gone, "Usr=100", &err), 0);
    rh_err_clear(&err);
    assert_int_equal(rh_check_run(&o, &res, &err), -1);
    assert_non_null(strstr(err.msg, "--rows Usr=100: base has no table Usr"));
    rh_check_result_free(&res);
    rh_scale_free(&gone);
    fx_free(r);
}

/* Default base: the merge-base of HEAD with main when the branch moved on. */
static void test_default_base(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", user_v1);
    char fork[41];
    snprintf(fork, sizeof fork, "%s", fx_commit(r, "init"));
    fx_migration(r, "20250102000000_feature", "CREATE TABLE \"F\" (id INT);\n");
    fx_commit2(r, "feature", "main", "feature");
    fx_load(r, "main");
    fx_migration(r, "20250103000000_main_moved", "CREATE TABLE \"M\" (id INT);\n");
    fx_commit(r, "main moves on");
    fx_check(git_repository_set_head(r->repo, "refs/heads/feature"), "set head");

    char *spec = NULL;
    char how[300];
    rh_err err;
    assert_int_equal(rh_check_default_base(r->path, &spec, how, sizeof how, &err), 0);
    assert_string_equal(spec, fork);
    assert_non_null(strstr(how, "main"));
    free(spec);

    fx_repo *empty = fx_repo_new(0);
    assert_int_equal(rh_check_default_base(empty->path, &spec, how, sizeof how, &err), -1);
    assert_non_null(strstr(err.msg, "--base"));
    fx_free(empty);
    fx_free(r);
}

/* Cut a fixture's history as `git clone --depth N` does: the commit objects `gone` removed, .git/shallow
   naming the commits `kept` whose parents are gone. */
static void make_shallow(fx_repo *r, const char *const *gone, size_t ngone, const char *const *kept, size_t nkept)
{
    char path[4200];
    for (size_t i = 0; i < ngone; i++) {
        snprintf(path, sizeof path, "%s/.git/objects/%.2s/%s", r->path, gone[i], gone[i] + 2);
        assert_int_equal(unlink(path), 0);
    }
    rh_buf b;
    rh_buf_init(&b);
    for (size_t i = 0; i < nkept; i++)
        rh_buf_printf(&b, "%s\n", kept[i]);
    snprintf(path, sizeof path, "%s/.git/shallow", r->path);
    fx_write_file(path, b.data, b.len);
    rh_buf_free(&b);
}

/*
 * A shallow clone (CI's default depth). libgit2 1.5 reads no .git/shallow: its merge-base failed at
 * the cut (and leaked) even where `git merge-base` finds main, and check said no main shares history.
 * Now the walk stops at the cut as git's does: the base is found. Where the cut hides where HEAD left
 * main, the error names the shallow clone and how to fetch the history (not "fetch main", which is there).
 */
static void test_default_base_in_a_shallow_clone(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", user_v1);
    char cut[41], kept[41];
    snprintf(cut, sizeof cut, "%s", fx_commit(r, "init"));
    fx_migration(r, "20250102000000_main", "CREATE TABLE \"M\" (id INT);\n");
    snprintf(kept, sizeof kept, "%s", fx_commit(r, "main"));
    fx_migration(r, "20250103000000_feature", "CREATE TABLE \"F\" (id INT);\n");
    fx_commit2(r, "feature", "main", "feature");
    fx_check(git_repository_set_head(r->repo, "refs/heads/feature"), "set head");
    make_shallow(r, (const char *const[]){cut}, 1, (const char *const[]){kept}, 1);

    char *spec = NULL;
    char how[300];
    rh_err err;
    assert_int_equal(rh_check_default_base(r->path, &spec, how, sizeof how, &err), 0);
    assert_string_equal(spec, kept);
    free(spec);
    spec = NULL;
    rh_git_repo *g = NULL;
    rh_git_rev rev;
    assert_int_equal(rh_git_open(&g, r->path, &err), 0);
    assert_int_equal(rh_git_resolve(g, "HEAD~2", &rev, &err), -1); /* the cut commit */
    assert_non_null(strstr(err.msg, "shallow clone"));
    rh_git_close(g);
    fx_free(r);

    /* the feature branch left main below the cut: nothing to find */
    r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", user_v1);
    snprintf(cut, sizeof cut, "%s", fx_commit(r, "init"));
    fx_migration(r, "20250102000000_main", "CREATE TABLE \"M\" (id INT);\n");
    snprintf(kept, sizeof kept, "%s", fx_commit(r, "main"));
    fx_branch(r, "feature", cut);
    fx_load(r, "feature");
    fx_migration(r, "20250103000000_feature", "CREATE TABLE \"F\" (id INT);\n");
    char tip[41];
    snprintf(tip, sizeof tip, "%s", fx_commit2(r, "feature", NULL, "feature"));
    fx_check(git_repository_set_head(r->repo, "refs/heads/feature"), "set head");
    make_shallow(r, (const char *const[]){cut}, 1, (const char *const[]){kept, tip}, 2);
    assert_int_equal(rh_check_default_base(r->path, &spec, how, sizeof how, &err), -1);
    assert_null(spec);
    assert_non_null(strstr(err.msg, "shallow clone"));
    assert_non_null(strstr(err.msg, "git fetch --unshallow"));
    assert_null(strstr(err.msg, "fetch the target branch"));
    fx_free(r);
}

/* The command: exit codes, --fail-on, --format json, GitHub annotations, a bad revision. */
static void test_cli(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init",
                 "CREATE TABLE \"Order\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "init");
    /* head = WORKTREE (the default): a migration only on disk */
    char path[4096];
    snprintf(path, sizeof path, "%s/prisma/migrations/20250201000000_note/migration.sql", r->path);
    const char *note = "ALTER TABLE \"Order\" ADD COLUMN \"note\" TEXT;\n";
    fx_write_file(path, note, strlen(note));

    char *out = NULL, *errout = NULL;
    char *argv1[] = {REHEARSE_BIN, "check", "--repo", r->path, "--base", "main", "--no-color", NULL};
    int rc = rh_test_run(argv1, NULL, &out, &errout);
    if (rc != 0 || !strstr(out, "AccessExclusiveLock"))
        fprintf(stderr, "%s\n%s\n", out, errout);
    assert_int_equal(rc, 0); /* a notice (a brief AccessExclusiveLock) is below the default --fail-on error */
    assert_non_null(strstr(out, "AccessExclusiveLock"));
    assert_non_null(strstr(out, "20250201000000_note"));
    free(out);
    free(errout);

    /* a nullable column without a default is catalog-only: a routine pull request passes a
       --fail-on warning gate; --fail-on notice still sees the lock-queue notice */
    setenv("GITHUB_ACTIONS", "true", 1);
    char *argv2[] = {REHEARSE_BIN, "check", "--repo", r->path, "--base", "main", "--fail-on", "warning",
                     "--format", "json", NULL};
    rc = rh_test_run(argv2, NULL, &out, &errout);
    unsetenv("GITHUB_ACTIONS");
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "\"lock-queue\""));
    assert_null(strstr(out, "\"access-exclusive\""));
    /* the migration role by default (issue 17.1) */
    assert_true(strstr(out, "\"superuser\": false") || strstr(out, "\"superuser\":false"));
    /* annotations on stderr: the JSON on stdout must still parse */
    assert_null(strstr(out, "::notice"));
    assert_non_null(strstr(errout, "::notice file=prisma/migrations/20250201000000_note/migration.sql,line=1,"));
    free(out);
    free(errout);
    char *argv2b[] = {REHEARSE_BIN, "check", "--repo", r->path, "--base", "main", "--fail-on", "notice", "--github",
                      "--superuser", NULL};
    rc = rh_test_run(argv2b, NULL, &out, &errout);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "migrations ran as the cluster's superuser (--superuser)"));
    assert_non_null(strstr(out, "::notice file=prisma/migrations/20250201000000_note/migration.sql,line=1,") ||
                    strstr(errout, "::notice file=prisma/migrations/20250201000000_note/migration.sql,line=1,"));
    free(out);
    free(errout);

    char *argv3[] = {REHEARSE_BIN, "check", "--repo", r->path, "--base", "no-such-rev", NULL};
    rc = rh_test_run(argv3, NULL, &out, &errout);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(errout, "no-such-rev"));
    free(out);
    free(errout);

    char *argv4[] = {REHEARSE_BIN, "check", "--fail-on", "sometimes", NULL};
    assert_int_equal(rh_test_run(argv4, NULL, NULL, NULL), 2);
    fx_free(r);
}

/* rh_check_bench (for `rehearse bench check`) runs on a small generated history and reports JSON;
   no timing is asserted here. */
static void test_bench_smoke(void **state)
{
    (void)state;
    rh_check_bench_opts o = {.history = 12, .added = 3, .runs = 1, .json = 1};
    rh_buf b;
    rh_buf_init(&b);
    rh_err err;
    if (rh_check_bench(&o, &b, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
    json_object *root = json_tokener_parse(b.data);
    assert_non_null(root);
    json_object *v = NULL;
    assert_true(json_object_object_get_ex(root, "history", &v));
    assert_int_equal(json_object_get_int(v), 12);
    assert_true(json_object_object_get_ex(root, "total_ms", &v));
    assert_true(json_object_object_get_ex(root, "errors", &v));
    assert_int_equal(json_object_get_int(v), 0); /* the generated history deploys cleanly */
    assert_true(json_object_object_get_ex(root, "warnings", &v));
    assert_true(json_object_get_int(v) >= 1);    /* the ADD COLUMN's AccessExclusiveLock */
    json_object_put(root);
    rh_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_base),
        cmocka_unit_test(test_default_base_in_a_shallow_clone),
        cmocka_unit_test(test_edited_applied_migration),
        cmocka_unit_test(test_upgrade_path_opens_a_connection_per_deploy),
        cmocka_unit_test(test_lock_trace_runs_beside_the_upgrade_path),
        cmocka_unit_test(test_early_trace_dropped_when_base_deploy_leaves_the_cached_state),
        cmocka_unit_test(test_concurrently_in_multi_statement_file),
        cmocka_unit_test(test_lock_modes),
        cmocka_unit_test(test_lock_ranking),
        cmocka_unit_test(test_drizzle_holds_locks_until_the_run_commits),
        cmocka_unit_test(test_lock_labels_keep_identifiers_as_written),
        cmocka_unit_test(test_dbmate_base_failure_recovers_with_the_fix),
        cmocka_unit_test(test_dbmate_older_version_is_out_of_order),
        cmocka_unit_test(test_seed_makes_not_null_fail),
        cmocka_unit_test(test_scale_unique_index_duplicates),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_bench_smoke),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
