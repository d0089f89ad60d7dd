/*
 * test_runner.c — the runner on real clusters: each scenario in a forked worker with a fresh
 * cluster; steps that pass and steps that fail (with the failing line and expected vs actual);
 * sessions holding locks while a background deploy waits; faults; timeouts, crashes, keep-failed,
 * sharding and filtering; results in path order whatever -j is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "scale/scale.h"
#include "cluster/cluster.h"
#include "runner/runner.h"
#include "util/fs.h"
#include "testlib.h"

static const char *dir;   /* scenarios and migrations of this test binary */

static char *path_of(const char *name)
{
    return rh_xasprintf("%s/%s", dir, name);
}

static void write_at(const char *name, const char *text)
{
    char *p = path_of(name);
    rh_test_write_file(p, text);
    free(p);
}

/* A migrations folder: users table, a CONCURRENTLY index in a multi-statement file, a slow one. */
static int setup(void **state)
{
    (void)state;
    dir = rh_test_tmpdir();
    write_at("migs/20250101000000_init/migration.sql",
             "CREATE TABLE \"User\" (id serial PRIMARY KEY, email text NOT NULL);\n"
             "INSERT INTO \"User\" (email) SELECT 'u' || i FROM generate_series(1, 100) i;\n");
    write_at("migs/20250102000000_name/migration.sql", "ALTER TABLE \"User\" ADD COLUMN name text;\n");
    write_at("migs/20250103000000_idx/migration.sql",
             "CREATE INDEX \"User_name_idx\" ON \"User\"(name);\n"
             "CREATE INDEX CONCURRENTLY \"User_email_idx\" ON \"User\"(email);\n");
    write_at("cic/20250101000000_init/migration.sql",
             "CREATE TABLE \"User\" (id serial PRIMARY KEY, email text NOT NULL);\n");
    write_at("cic/20250102000000_cic/migration.sql", "CREATE INDEX CONCURRENTLY \"User_email_idx\" ON \"User\"(email);\n");
    /* every run of it is cut by a fault (cancel, restart): the sleep outlasts any delay before the fault
       fires (3 s could run out under valgrind on a loaded machine); the scenario's limit bounds a hang */
    write_at("cic/20250103000000_slow/migration.sql", "SELECT pg_sleep(600);\nCREATE TABLE slow (x int);\n");
    return 0;
}

/* Run scenario files (names relative to dir) and return the run. */
static void run_files(rh_run *run, int jobs, const char *const *names, const rh_runner_opts *base)
{
    size_t n = 0;
    while (names[n])
        n++;
    char **files = rh_xcalloc(n + 1, sizeof *files);
    for (size_t i = 0; i < n; i++)
        files[i] = path_of(names[i]);
    rh_runner_opts o = base ? *base : (rh_runner_opts){0};
    o.jobs = jobs;
    rh_err err;
    if (rh_runner_run(&o, files, n, run, &err) < 0) {
        fprintf(stderr, "runner: %s\n", err.msg);
        fail();
    }
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
}

static void dump(const rh_result *r)
{
    fprintf(stderr, "%s: status %d at %s:%d: %s\n  expected: %s\n  actual: %s\n%s\n%s\n", r->path, r->status,
            r->file ? r->file : "-", r->line, r->message ? r->message : "", r->expected ? r->expected : "",
            r->actual ? r->actual : "", r->diff ? r->diff : "", r->output ? r->output : "");
}

static void assert_pass(const rh_result *r)
{
    if (r->status != RH_PASS) {
        dump(r);
        fail();
    }
}

/* Every kind of step, in a scenario that must pass. */
static void test_steps_pass(void **state)
{
    (void)state;
    write_at("pass.scenario",
             "scenario \"every step, passing\"\n"
             "migrations migs\n"
             "expect order 20250101000000_init 20250102000000_name 20250103000000_idx\n"
             "deploy => fails 20250103000000_idx sqlstate 25001\n"
             "expect output contains \"CREATE INDEX CONCURRENTLY cannot run inside a transaction block\"\n"
             "expect ledger failed 20250103000000_idx\n"
             "expect ledger applied 2\n"
             "expect ledger rows 3\n"
             "expect ledger order 20250101000000_init 20250102000000_name\n"
             "expect ledger checksum 20250101000000_init matches\n"
             "expect status failed 20250103000000_idx\n"
             "expect index \"User_name_idx\" absent\n"
             "deploy => error P3009\n"
             "status => exit 1\n"
             "resolve --rolled-back 20250103000000_idx\n"
             "expect ledger rolled-back 20250103000000_idx\n"
             "expect status pending 1 20250103000000_idx\n"
             "# by hand, one statement at a time, as psql < migration.sql\n"
             "sql-file --each --migration 20250103000000_idx\n"
             "resolve --applied 20250103000000_idx\n"
             "expect status up-to-date\n"
             "expect ledger rows 20250103000000_idx 2\n"
             "expect index \"User_email_idx\" valid\n"
             "expect column \"User\".name nullable\n"
             "expect column \"User\".email type text\n"
             "expect table \"User\"\n"
             "expect table nope absent\n"
             "expect query \"select count(*) from \\\"User\\\"\" = 100\n"
             "expect query \"select null\" = null\n"
             "expect query \"select 1\" != 2\n"
             "expect query <<SQL rows 3\n"
             "  select * from generate_series(1, 3)\n"
             "SQL\n"
             "expect query \"select nope from \\\"User\\\"\" error 42703\n"
             "expect query \"select 1\" ok\n"
             "sql \"insert into \\\"User\\\" (id, email) values (1, 'x')\" => error 23505\n"
             "snapshot before\n"
             "sql <<SQL\n"
             "  create table extra (x int);\n"
             "SQL\n"
             "expect catalog != snapshot before\n"
             "sql \"drop table extra\"\n"
             "expect catalog = snapshot before\n"
             "# a session holds a lock; the deploy waits in the background; release lets it go\n"
             "sql \"delete from _prisma_migrations where migration_name = '20250102000000_name'\"\n"
             "sql \"alter table \\\"User\\\" drop column name cascade\"\n"
             "session app <<SQL\n"
             "  begin;\n"
             "  select count(*) from \"User\";\n"
             "SQL\n"
             "deploy &\n"
             "wait deploy blocked\n"
             "session other \"select 1\"\n"
             "release app\n"
             "wait deploy => ok\n"
             "expect column \"User\".name present\n"
             "# lock_timeout: the deploy gives up with 55P03\n"
             "sql \"delete from _prisma_migrations where migration_name = '20250102000000_name'\"\n"
             "sql \"alter table \\\"User\\\" drop column name cascade\"\n"
             "session app \"begin; select 1 from \\\"User\\\" limit 1\"\n"
             "set lock_timeout 200ms\n"
             "deploy => fails 20250102000000_name sqlstate 55P03\n"
             "rollback app\n"
             "reset lock_timeout\n"
             "resolve --rolled-back 20250102000000_name\n"
             "deploy\n"
             "# Prisma's advisory lock held elsewhere: P1002\n"
             "session holder \"select pg_advisory_lock(72707369)\"\n"
             "set rehearse.advisory_lock_timeout 300ms\n"
             "deploy => error P1002\n"
             "release holder\n"
             "deploy => ok\n"
             "# a session that waits on a lock, then is cancelled\n"
             "session a \"begin; lock table \\\"User\\\" in access exclusive mode\"\n"
             "session b \"select * from \\\"User\\\"\" => blocked\n"
             "wait b blocked\n"
             "cancel b\n"
             "session b \"select 1\" => ok\n"
             "commit a\n"
             "terminate b\n"
             "restart\n"
             "expect query \"select count(*) from \\\"User\\\"\" = 100\n");
    const char *names[] = {"pass.scenario", NULL};
    rh_run run;
    run_files(&run, 1, names, NULL);
    assert_int_equal(run.n, 1);
    assert_pass(&run.results[0]);
    assert_int_equal(run.results[0].steps_run, run.results[0].steps_total);
    assert_int_equal(rh_run_exit_code(&run), 0);
    rh_run_free(&run);
}

/*
 * Each sql step is one psql run: a failed `sql-file --each` that opened BEGIN, a BEGIN left open, a
 * query that aborted its own transaction, a step that lost its connection: the next step starts clean
 * (it used to get 25P02 "current transaction is aborted").
 */
static void test_sql_steps_like_psql(void **state)
{
    (void)state;
    write_at("psql/half.sql", "BEGIN;\ncreate table half (id int);\ninsert into nope values (1);\nCOMMIT;\n");
    write_at("psql.scenario",
             "migrations migs\n"
             "sql-file --each psql/half.sql => error 42P01\n"
             "sql \"select 1\"\n"
             "expect table half absent\n"
             "sql \"begin; create table open_tx (id int)\"\n"
             "expect table open_tx absent\n"
             "sql \"begin; select * from nope\" => error 42P01\n"
             "expect query \"select 2\" = 2\n"
             "expect query \"begin; select * from nope\" error 42P01\n"
             "sql \"create table after (id int)\"\n"
             "expect table after present\n"
             "sql \"select pg_terminate_backend(pg_backend_pid())\" => error 08006\n"
             "expect query \"select 3\" = 3\n"
             "deploy => error P3005\n");
    const char *names[] = {"psql.scenario", NULL};
    rh_run run;
    run_files(&run, 1, names, NULL);
    assert_int_equal(run.n, 1);
    assert_pass(&run.results[0]);
    assert_int_equal(run.results[0].steps_run, run.results[0].steps_total);
    rh_run_free(&run);
}

/* Every catalog assertion of the language against a schema that has each kind of object. */
static void test_catalog_assertions(void **state)
{
    (void)state;
    write_at("_objects.inc",
             "sql <<SQL\n"
             "create extension if not exists pgcrypto;\n"
             "create schema app;\n"
             "create type \"Role\" as enum ('USER', 'ADMIN');\n"
             "create domain posint as int not null check (value > 0);\n"
             "create table a (id int generated always as identity primary key, n text default 'x' collate \"C\",\n"
             "                r \"Role\", g int generated always as (id * 2) stored);\n"
             "create table b (id int, a_id int, constraint b_chk check (id > 0),\n"
             "                constraint b_u unique (a_id) deferrable);\n"
             "alter table b add constraint b_a_fk foreign key (a_id) references a not valid;\n"
             "create unique index b_id_idx on b (id);\n"
             "create view v as select 1 as x;\n"
             "create materialized view mv as select 1 as x;\n"
             "create function f() returns int language sql as 'select 1';\n"
             "create trigger trg before insert on b for each row execute function suppress_redundant_updates_trigger();\n"
             "alter table b disable trigger trg;\n"
             "create sequence s1;\n"
             "alter table b enable row level security;\n"
             "create policy p on b using (true);\n"
             "create table app.\"Odd.Name\" (\"Col\" int);\n"
             "SQL\n");
    write_at("objects.scenario",
             "include _objects.inc\n"
             "expect schema app\n"
             "expect schema nope absent\n"
             "expect extension pgcrypto\n"
             "expect extension pgcrypto version 1.3\n"
             "expect table a\n"
             "expect table a exists\n"
             "expect table app.\"Odd.Name\"\n"
             "expect column app.\"Odd.Name\".\"Col\" type integer\n"
             "expect column a.id identity\n"
             "expect column a.g generated\n"
             "expect column a.n default \"'x'::text\"\n"
             "expect column a.n collation C\n"
             "expect column a.id not-null\n"
             "expect column a.n nullable\n"
             "expect column b.id no-default\n"
             "expect index a_pkey primary\n"
             "expect index b_id_idx unique\n"
             "expect index b_id_idx valid\n"
             "expect index b_id_idx table b\n"
             "expect constraint b.b_a_fk not-validated\n"
             "expect constraint b.b_chk validated\n"
             "expect constraint b.b_a_fk type foreign-key\n"
             "expect constraint b.b_u deferrable\n"
             "expect constraint b.b_chk not-deferrable\n"
             "expect constraint b.b_chk definition \"CHECK ((id > 0))\"\n"
             "expect enum \"Role\" labels USER ADMIN\n"
             "expect domain posint not-null\n"
             "expect view v\n"
             "expect matview mv\n"
             "expect function f\n"
             "expect trigger b.trg disabled\n"
             "expect sequence s1\n"
             "expect policy b.p\n");
    /* and each one can fail */
    static const char *const wrong[] = {
        "expect column a.n identity\n",       "expect column a.n generated\n",
        "expect column a.id nullable\n",      "expect column a.n no-default\n",
        "expect index b_id_idx primary\n",    "expect index b_id_idx not-unique\n",
        "expect constraint b.b_a_fk validated\n", "expect constraint b.b_chk deferrable\n",
        "expect constraint b.b_u not-deferrable\n", "expect enum \"Role\" labels ADMIN USER\n",
        "expect trigger b.trg enabled\n",     "expect table a absent\n",
        "expect extension pgcrypto version 9.9\n", "expect column a.nn present\n",
        NULL};
    const char *names[32] = {"objects.scenario"};
    size_t n = 1;
    for (size_t i = 0; wrong[i]; i++, n++) {
        char file[64], *text = rh_xasprintf("include _objects.inc\n%s", wrong[i]);
        snprintf(file, sizeof file, "wrong%02zu.scenario", i);
        write_at(file, text);
        free(text);
        names[n] = strdup(file);
    }
    names[n] = NULL;
    rh_run run;
    run_files(&run, 2, names, NULL);
    assert_pass(&run.results[0]);
    for (size_t i = 1; i < n; i++) {
        if (run.results[i].status != RH_FAIL || run.results[i].line != 2) {
            fprintf(stderr, "%s should fail at line 2:\n", wrong[i - 1]);
            dump(&run.results[i]);
            fail();
        }
        free((char *)names[i]);
    }
    /* a missing column suggests the near one */
    assert_non_null(strstr(run.results[n - 1].message, "\"n\""));
    rh_run_free(&run);
}

/* The upgrade path ends where a clean deploy ends (and a drift is seen). */
static void test_clean(void **state)
{
    (void)state;
    write_at("okmigs/20250101000000_init/migration.sql", "CREATE TABLE a (id int PRIMARY KEY);\n");
    write_at("okmigs/20250102000000_b/migration.sql", "CREATE TABLE b (id int REFERENCES a);\n");
    write_at("clean.scenario",
             "migrations okmigs\n"
             "deploy\n"
             "expect catalog = clean\n"
             "sql \"create index b_id on b (id)\"\n"
             "expect catalog != clean\n"
             "expect catalog = clean\n");
    const char *names[] = {"clean.scenario", NULL};
    rh_run run;
    run_files(&run, 1, names, NULL);
    rh_result *r = &run.results[0];
    assert_int_equal(r->status, RH_FAIL);
    assert_int_equal(r->line, 6);
    assert_non_null(r->diff);
    assert_non_null(strstr(r->diff, "b_id"));
    rh_run_free(&run);
}

/*
 * The ledger after each step, recorded where it changed: not read again after a step that changes
 * nothing (an `expect`), but read after an `expect query`, whose SQL may change it.
 */
static void test_ledger_after_each_step(void **state)
{
    (void)state;
    write_at("okmigs/20250101000000_init/migration.sql", "CREATE TABLE a (id int PRIMARY KEY);\n");
    write_at("okmigs/20250102000000_b/migration.sql", "CREATE TABLE b (id int REFERENCES a);\n");
    write_at("ledger.scenario",
             "migrations okmigs\n"
             "deploy\n"
             "expect ledger applied 2\n"
             "sql \"DELETE FROM _prisma_migrations WHERE migration_name = '20250102000000_b'\"\n"
             "expect ledger applied 1\n"
             "expect query \"WITH d AS (DELETE FROM _prisma_migrations RETURNING 1) SELECT count(*) FROM d\" = 1\n"
             "expect ledger rows 0\n"
             "expect table a present\n");
    const char *names[] = {"ledger.scenario", NULL};
    rh_run run;
    run_files(&run, 1, names, NULL);
    rh_result *r = &run.results[0];
    assert_pass(r);
    assert_int_equal(r->n_steps, 8);
    static const int changed[8] = {0, 1, 0, 1, 0, 1, 0, 0}, rows[8] = {0, 2, 0, 1, 0, 0, 0, 0};
    for (size_t i = 0; i < r->n_steps; i++) {
        assert_int_equal(r->steps[i].ledger_changed, changed[i]);
        assert_int_equal(r->steps[i].n_ledger, rows[i]);
    }
    rh_run_free(&run);
}

/* A golden catalog file (rehearse snapshot's text form) compares with the scenario's database. */
static void test_catalog_file(void **state)
{
    (void)state;
    PGconn *c = rh_test_fresh_db(NULL);
    rh_test_exec(c, "create table golden (id int primary key, name text not null)");
    rh_catalog *cat;
    rh_err err;
    rh_catalog_opts co = {0};
    assert_int_equal(rh_catalog_snapshot(c, &co, &cat, &err), 0);
    rh_buf text;
    rh_buf_init(&text);
    rh_catalog_text(cat, &text);
    write_at("golden/catalog.txt", text.data);
    rh_buf_free(&text);
    rh_catalog_free(cat);
    PQfinish(c);
    write_at("golden.scenario",
             "sql \"create table golden (id int primary key, name text not null)\"\n"
             "expect catalog = file golden/catalog.txt\n"
             "sql \"alter table golden alter column name drop not null\"\n"
             "expect catalog != file golden/catalog.txt\n"
             "expect catalog = file golden/catalog.txt\n");
    const char *names[] = {"golden.scenario", NULL};
    rh_run run;
    run_files(&run, 1, names, NULL);
    rh_result *r = &run.results[0];
    if (r->status != RH_FAIL || r->line != 5 || !r->diff || !strstr(r->diff, "not-null")) {
        dump(r);
        fail();
    }
    rh_run_free(&run);
}

/* A migration edited after it was applied: Prisma says nothing, rehearse's finding does. */
static void test_findings(void **state)
{
    (void)state;
    write_at("edit1/20250101000000_init/migration.sql", "CREATE TABLE t (id int);\n");
    write_at("edit2/20250101000000_init/migration.sql", "CREATE TABLE t (id int, name text);\n");
    write_at("findings.scenario",
             "migrations edit1\n"
             "deploy\n"
             "expect findings none\n"
             "migrations edit2\n"
             "deploy\n"
             "expect ledger checksum 20250101000000_init differs\n"
             "expect finding edited-after-apply 20250101000000_init\n"
             "expect findings none\n");
    const char *names[] = {"findings.scenario", NULL};
    rh_run run;
    run_files(&run, 1, names, NULL);
    rh_result *r = &run.results[0];
    if (r->status != RH_FAIL || r->line != 8 || !strstr(r->actual, "edited-after-apply 20250101000000_init")) {
        dump(r);
        fail();
    }
    rh_run_free(&run);
}

/* Restore a production copy: schema dump + ledger rows, then deploy the rest. */
static void test_restore(void **state)
{
    (void)state;
    write_at("prod/schema.sql",
             "SET statement_timeout = 0;\n"
             "SELECT pg_catalog.set_config('search_path', '', false);\n"
             "\\restrict abc\n"
             "CREATE TABLE public.\"User\" (id serial PRIMARY KEY, email text NOT NULL);\n"
             "\\unrestrict abc\n");
    write_at("restore.scenario",
             "migrations migs\n"
             "restore schema prod/schema.sql\n"
             "restore ledger <<CSV\n"
             "migration_name,checksum,started_at,finished_at\n"
             "20250101000000_init,=,2025-01-01 10:00:00+00,2025-01-01 10:00:01+00\n"
             "CSV\n"
             "expect ledger applied 20250101000000_init\n"
             "expect ledger checksum 20250101000000_init matches\n"
             "expect status pending 2\n"
             "fault terminate before 20250103000000_idx\n"
             "deploy => error P1017\n"
             "expect query \"select count(*) from \\\"User\\\"\" = 0\n");
    const char *names[] = {"restore.scenario", NULL};
    rh_run run;
    run_files(&run, 1, names, NULL);
    assert_pass(&run.results[0]);
    rh_run_free(&run);
}

/* restore ledger's header and row errors name the file, the record and the tool's columns. */
static void test_restore_ledger_errors(void **state)
{
    (void)state;
    static const struct {
        const char *csv, *message;
    } cases[] = {
        {"migration_name,when\n20250101000000_init,1\n",
         "restore ledger (heredoc): unknown column 'when' in the header (columns: id, checksum, started_at, "
         "finished_at, rolled_back_at, migration_name, logs, applied_steps_count)"},
        {"checksum\n=\n", "restore ledger (heredoc): the header needs a migration_name column"},
        {"migration_name,checksum\n20250109000000_nope,=\n",
         "record 2: checksum '=' but migration '20250109000000_nope' has no migration.sql at the current checkout"},
        {"migration_name,applied_steps_count\n20250101000000_init,many\n",
         "record 2: invalid input syntax for type integer: \"many\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *text = rh_xasprintf("migrations migs\nrestore ledger <<CSV\n%sCSV\n", cases[i].csv);
        write_at("restore_bad.scenario", text);
        free(text);
        const char *names[] = {"restore_bad.scenario", NULL};
        rh_run run;
        run_files(&run, 1, names, NULL);
        rh_result *r = &run.results[0];
        if (r->status != RH_ERROR || !r->message || !strstr(r->message, cases[i].message)) {
            print_message("case %zu\n", i);
            dump(r);
            fail();
        }
        rh_run_free(&run);
    }
}

/*
 * scale TABLE ROWS and scale FILE fill the existing tables to that size; the stats' distinct count
 * makes a unique index fail as production's would (23505). Before: no such step (parse error).
 */
static void test_scale(void **state)
{
    (void)state;
    write_at("prod/stats.json",
             "{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": \"Item\", \"rows\": 3000, "
             "\"table_bytes\": 0, \"index_bytes\": 0, \"dead_tuples\": 0, \"columns\": [{\"name\": \"code\", "
             "\"null_frac\": 0, \"n_distinct\": 10, \"avg_width\": 8}]}]}\n");
    write_at("scale.scenario",
             "migrations migs\n"
             "deploy => fails 20250103000000_idx sqlstate 25001\n"
             "scale User 2k\n"
             "expect query \"select count(*) from \\\"User\\\"\" = 2000\n"
             "sql \"CREATE TABLE \\\"Item\\\" (id serial PRIMARY KEY, code text NOT NULL)\"\n"
             "scale prod/stats.json\n"
             "expect query \"select count(*) from \\\"Item\\\"\" = 3000\n"
             "expect query \"select count(DISTINCT code) from \\\"Item\\\"\" = 10\n"
             "sql \"CREATE UNIQUE INDEX \\\"Item_code_key\\\" ON \\\"Item\\\"(code)\" => error 23505\n");
    const char *names[] = {"scale.scenario", NULL};
    rh_run run;
    run_files(&run, 1, names, NULL);
    assert_pass(&run.results[0]);
    rh_run_free(&run);

    /* a guess naming no table (a typo) is the step's error (before: the scenario passed, nothing filled) */
    write_at("scale_typo.scenario", "migrations migs\ndeploy => fails 20250103000000_idx sqlstate 25001\nscale Usr 2k\n");
    const char *typo[] = {"scale_typo.scenario", NULL};
    run_files(&run, 1, typo, NULL);
    assert_int_equal(run.results[0].status, RH_ERROR);
    assert_non_null(strstr(run.results[0].message, "scale: the database has no table Usr now: nothing filled"));
    assert_int_equal(run.results[0].line, 3);
    rh_run_free(&run);
}

/*
 * run --scale FILE / --rows TABLE=N (rh_runner_opts.scale): every deploy step runs on tables of
 * production's size, filled before each migration it sends, as deploy --scale does. "Item" is made by
 * the first migration and filled to the stats' 3 000 rows over 10 codes before the second is sent: its
 * unique index fails with 23505 as production's would; --rows Tag=500 fills a table no stats name.
 * Without the option the same scenario deploys both (the index over an empty table). A fill that cannot
 * reach its size (a NOT NULL foreign key to an empty table) stops the deploy with a setup error naming
 * the table and why.
 */
static void test_run_scale(void **state)
{
    (void)state;
    write_at("runscale/stats.json",
             "{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": \"Item\", \"rows\": 3000, "
             "\"table_bytes\": 0, \"index_bytes\": 0, \"dead_tuples\": 0, \"columns\": [{\"name\": \"code\", "
             "\"null_frac\": 0, \"n_distinct\": 10, \"avg_width\": 8}]}]}\n");
    write_at("runscale/migs/20250101000000_init/migration.sql",
             "CREATE TABLE \"Item\" (id serial PRIMARY KEY, code text NOT NULL);\n"
             "CREATE TABLE \"Tag\" (id serial PRIMARY KEY, name text);\n");
    write_at("runscale/migs/20250102000000_code_key/migration.sql",
             "CREATE UNIQUE INDEX \"Item_code_key\" ON \"Item\"(code);\n");
    write_at("runscale/scaled.scenario",
             "migrations migs\n"
             "deploy => fails 20250102000000_code_key sqlstate 23505\n"
             "expect query \"select count(*) from \\\"Item\\\"\" = 3000\n"
             "expect query \"select count(*) from \\\"Tag\\\"\" = 500\n");
    write_at("runscale/plain.scenario", "migrations migs\ndeploy\nexpect query \"select count(*) from \\\"Item\\\"\" = 0\n");
    rh_scale scale = {0};
    rh_err err;
    rh_err_clear(&err);
    char *stats = path_of("runscale/stats.json");
    assert_int_equal(rh_scale_load(&scale, stats, &err), 0);
    free(stats);
    assert_int_equal(rh_scale_add_rows(&scale, "Tag=500", &err), 0);
    rh_runner_opts o = {.scale = &scale};
    const char *scaled[] = {"runscale/scaled.scenario", NULL};
    rh_run run;
    run_files(&run, 1, scaled, &o);
    assert_pass(&run.results[0]);
    rh_run_free(&run);
    const char *plain[] = {"runscale/plain.scenario", NULL};
    run_files(&run, 1, plain, NULL);
    assert_pass(&run.results[0]);
    rh_run_free(&run);
    rh_scale_free(&scale);

    /* a table the filler cannot bring to its size: said, the deploy stopped before the migration */
    write_at("runscale/fk/20250101000000_init/migration.sql",
             "CREATE TABLE \"Owner\" (id serial PRIMARY KEY);\n"
             "CREATE TABLE \"Pet\" (id serial PRIMARY KEY, \"ownerId\" integer NOT NULL REFERENCES \"Owner\"(id));\n");
    write_at("runscale/fk/20250102000000_more/migration.sql", "ALTER TABLE \"Pet\" ADD COLUMN name text;\n");
    write_at("runscale/short.scenario", "migrations fk\ndeploy\n");
    rh_scale pets = {0};
    assert_int_equal(rh_scale_add_rows(&pets, "Pet=100", &err), 0);
    o.scale = &pets;
    const char *shorts[] = {"runscale/short.scenario", NULL};
    run_files(&run, 1, shorts, &o);
    assert_int_equal(run.results[0].status, RH_ERROR);
    assert_non_null(strstr(run.results[0].message, "--scale/--rows: before 20250102000000_more: table public.Pet: 0 of 100 rows"));
    rh_run_free(&run);
    rh_scale_free(&pets);
}

/*
 * Every Prisma command starts from a new connection, as a new `prisma` process does (issue 10.2):
 * a plain SET, a temp table, a session advisory lock and a prepared statement that migration 1
 * leaves in its session are gone for the next deploy; the scenario's `set` still applies to it.
 * Before, one connection served every command: migration 2 failed (42P07 on the temp table) and
 * the lock stayed held.
 */
static void test_new_connection_per_command(void **state)
{
    (void)state;
    const char *m1 = "CREATE SCHEMA elsewhere;\n"
                     "SET search_path TO elsewhere, public;\n"
                     "CREATE TEMP TABLE scratch (x int);\n"
                     "SELECT pg_advisory_lock(4242);\n"
                     "PREPARE p AS SELECT 1;\n";
    write_at("sess1/20250101000000_leave_state/migration.sql", m1);
    write_at("sess2/20250101000000_leave_state/migration.sql", m1);
    write_at("sess2/20250102000000_next/migration.sql",
             "CREATE TEMP TABLE scratch (x int);\n"
             "PREPARE p AS SELECT 2;\n"
             "CREATE TABLE t2 (x int);\n"
             "DO $$ BEGIN IF current_setting('statement_timeout') <> '7s' THEN "
             "RAISE EXCEPTION 'set not applied: %', current_setting('statement_timeout'); END IF; END $$;\n");
    write_at("sessions.scenario",
             "set statement_timeout 7s\n"
             "migrations sess1\n"
             "deploy\n"
             "expect query \"select pg_try_advisory_lock(4242)\" = t\n"
             "sql \"select pg_advisory_unlock(4242)\"\n"
             "status => exit 0\n"
             "migrations sess2\n"
             "deploy\n"
             "expect ledger applied 2\n"
             "expect query \"select count(*) from pg_tables where schemaname = 'public' and tablename = 't2'\" = 1\n");
    const char *names[] = {"sessions.scenario", NULL};
    rh_run run;
    run_files(&run, 1, names, NULL);
    assert_pass(&run.results[0]);
    rh_run_free(&run);
}

/* An interrupted CREATE INDEX CONCURRENTLY leaves an INVALID index; faults at a migration. */
static void test_faults(void **state)
{
    (void)state;
    write_at("faults.scenario",
             "migrations cic\n"
             "sql-file --migration 20250101000000_init\n"
             "resolve --applied 20250101000000_init\n"
             "session reader <<SQL\n"
             "  begin isolation level repeatable read;\n"
             "  select count(*) from \"User\";\n"
             "SQL\n"
             "fault cancel when blocked\n"
             "deploy => fails 20250102000000_cic sqlstate 57014\n"
             "release reader\n"
             "expect index \"User_email_idx\" invalid\n"
             "resolve --rolled-back 20250102000000_cic\n"
             "sql \"drop index \\\"User_email_idx\\\"\"\n"
             "fault cancel at 20250103000000_slow\n"
             "deploy => fails 20250103000000_slow sqlstate 57014\n"
             "expect index \"User_email_idx\" valid\n"
             "expect table slow absent\n"
             "resolve --rolled-back 20250103000000_slow\n"
             "fault restart at 1\n"
             "deploy => any\n"
             "expect table slow absent\n"
             "expect ledger failed 20250103000000_slow\n");
    /* a fault that cannot fire is a failure of the command's step, naming the fault's line */
    write_at("nofire.scenario",
             "migrations migs\n"
             "fault terminate at 20250199999999_nope\n"
             "deploy => any\n");
    const char *names[] = {"faults.scenario", "nofire.scenario", NULL};
    rh_run run;
    run_files(&run, 2, names, NULL);
    assert_pass(&run.results[0]);
    rh_result *r = &run.results[1];
    assert_int_equal(r->status, RH_FAIL);
    assert_int_equal(r->line, 3);
    assert_non_null(strstr(r->message, "armed at"));
    assert_non_null(strstr(r->message, "nofire.scenario:2"));
    assert_non_null(strstr(r->message, "never fired"));
    rh_run_free(&run);
}

typedef struct failing {
    const char *file;
    const char *text;
    int line;
    const char *message, *expected, *actual;
} failing;

/* Each kind of failure names the step's line and says what was expected and what happened. */
static void test_failures(void **state)
{
    (void)state;
    static const failing cases[] = {
        {"f1.scenario", "migrations migs\ndeploy\n", 2, "`deploy` did not end", "ok", "P3018 at 20250103000000_idx"},
        {"f2.scenario", "migrations migs\ndeploy => any\nexpect ledger applied 3\n", 3, "2 row(s) are applied, expected 3",
         NULL, "failed      20250103000000_idx"},
        {"f3.scenario", "migrations migs\ndeploy => any\nexpect column \"User\".emial present\n", 3, "emial", NULL, NULL},
        {"f4.scenario", "sql \"create table t (x int)\"\nsnapshot a\nsql \"alter table t add y int\"\n"
                        "expect catalog = snapshot a\n", 4, "differs from snapshot a", NULL, NULL},
        {"f5.scenario", "sql \"select 1/0\"\n", 1, "the SQL did not end", "ok", "error 22012"},
        {"f6.scenario", "expect query \"select 2\" = 3\n", 1, "3", NULL, NULL},
        {"f7.scenario", "migrations migs\ndeploy => error P3009\n", 2, NULL, "error P3009", "exit 1, P3018"},
        {"f8.scenario", "migrations migs\nstatus => any\nexpect output contains \"nothing like it\"\n", 3,
         "does not contain \"nothing like it\"", NULL, NULL},
        {"f9.scenario", "session a \"select 1\" => blocked\n", 1, "session a did not end", "blocked", "ok"},
        {"f10.scenario", "migrations migs\ndeploy => any\nexpect status up-to-date\n", 3, "not up to date", "up to date",
         "1 failed row"},
    };
    size_t n = sizeof cases / sizeof cases[0];
    const char *names[16];
    for (size_t i = 0; i < n; i++) {
        write_at(cases[i].file, cases[i].text);
        names[i] = cases[i].file;
    }
    names[n] = NULL;
    rh_run run;
    run_files(&run, 2, names, NULL);
    assert_int_equal(run.n, n);
    assert_int_equal(run.failed, n);
    assert_int_equal(rh_run_exit_code(&run), 1);
    for (size_t i = 0; i < n; i++) {
        /* results come in the order of the list, whatever finished first */
        const rh_result *r = &run.results[i];
        char *want = path_of(cases[i].file);
        assert_string_equal(r->path, want);
        free(want);
        /* the server log's tail comes with failures the server logged (f1: 25001, f5: 22012) */
        int want_log = i == 0 || i == 4;
        int ok = r->status == RH_FAIL && r->line == cases[i].line && (!want_log || (r->log_tail && strstr(r->log_tail, "ERROR"))) &&
                 (!cases[i].message || (r->message && strstr(r->message, cases[i].message))) &&
                 (!cases[i].expected || (r->expected && strstr(r->expected, cases[i].expected))) &&
                 (!cases[i].actual || (r->actual && strstr(r->actual, cases[i].actual)));
        if (!ok) {
            fprintf(stderr, "case %s:\n", cases[i].file);
            dump(r);
            fail();
        }
    }
    rh_run_free(&run);
}

/* A hang is cut at its time limit, a crash is reported with its step; the others go on. */
static void test_timeout_and_crash(void **state)
{
    (void)state;
    /* the limit runs from the worker's turn, cluster start included: the hanging step comes first, so
     * which step the limit lands in does not depend on how long the start took (a step before it once
     * ran out of 2.5 s under valgrind at load 18), and 10 s is far above a start; the sleep outlasts it */
    write_at("t1-hang.scenario", "timeout 10s\nsql \"select pg_sleep(120)\"\n");
    write_at("t2-crash.scenario", "sql \"select 1\"\nsql \"select 2\"\nsql \"select 3\"\n");
    write_at("t3-ok.scenario", "sql \"select 1\"\n");
    write_at("t4-parse.scenario", "sql \"select 1\"\ndeplyo\n");
    write_at("t5-skip.scenario", "skip waiting for Prisma 7\nsql \"select 1/0\"\n");
    setenv("REHEARSE_TEST_CRASH", "t2-crash.scenario:1", 1);
    const char *names[] = {"t1-hang.scenario", "t2-crash.scenario", "t3-ok.scenario", "t4-parse.scenario",
                           "t5-skip.scenario", NULL};
    rh_run run;
    run_files(&run, 2, names, NULL);
    unsetenv("REHEARSE_TEST_CRASH");
    assert_int_equal(run.n, 5);
    rh_result *r = run.results;
    assert_int_equal(r[0].status, RH_ERROR);
    assert_true(r[0].timed_out);
    assert_int_equal(r[0].line, 2);
    assert_non_null(strstr(r[0].message, "timed out after 10.0 s"));
    assert_int_equal(r[1].status, RH_ERROR);
    assert_true(r[1].crashed);
    assert_int_equal(r[1].signal, 6);
    assert_int_equal(r[1].line, 2);
    assert_non_null(strstr(r[1].message, "died of signal 6"));
    assert_pass(&r[2]);
    assert_int_equal(r[3].status, RH_ERROR);
    assert_int_equal(r[3].line, 2);
    assert_non_null(strstr(r[3].message, "unknown step 'deplyo'"));
    assert_int_equal(r[4].status, RH_SKIP);
    assert_string_equal(r[4].skip_reason, "waiting for Prisma 7");
    assert_int_equal(run.errors, 3);
    assert_int_equal(rh_run_exit_code(&run), 2);
    int hung = r[0].worker_pid, crashed = r[1].worker_pid;
    assert_true(hung > 0 && crashed > 0);
    rh_run_free(&run);

    /* the killed workers' clusters are stopped by their watchdogs: none is left behind */
    rh_cluster_info *info = NULL;
    size_t ninfo = 0;
    rh_err err;
    int left = 1;
    for (int tries = 0; tries < 6000 && left; tries++) { /* 5 min: a guard against a hang, not a timing */
        free(info);
        assert_int_equal(rh_cluster_list(&info, &ninfo, &err), 0);
        left = 0;
        for (size_t i = 0; i < ninfo; i++)
            left += info[i].owner_pid == hung || info[i].owner_pid == crashed;
        if (left)
            usleep(50000);
    }
    free(info);
    assert_int_equal(left, 0);
}

static void test_keep_failed(void **state)
{
    (void)state;
    write_at("keep.scenario", "sql \"create table kept_here (x int)\"\nexpect table kept_here absent\n");
    const char *names[] = {"keep.scenario", NULL};
    rh_runner_opts o = {0};
    o.keep_failed = 1;
    rh_run run;
    run_files(&run, 1, names, &o);
    rh_result *r = &run.results[0];
    assert_int_equal(r->status, RH_FAIL);
    assert_non_null(r->kept);
    assert_non_null(strstr(r->kept, "psql"));
    assert_non_null(r->kept_id);
    /* the cluster is up, holds the table, and is listed as kept */
    rh_cluster_info *info = NULL;
    size_t ninfo = 0;
    rh_err err;
    assert_int_equal(rh_cluster_list(&info, &ninfo, &err), 0);
    const char *id = NULL;
    for (size_t i = 0; i < ninfo; i++)
        if (info[i].kept && strcmp(r->kept_id, info[i].id) == 0)
            id = info[i].id;
    assert_non_null(id);
    assert_int_equal(rh_cluster_stop_id(id, &err), 0);
    free(info);
    rh_run_free(&run);
}

/* -j does not change the order of results; --filter and --shard select. */
static void test_order_filter_shard(void **state)
{
    (void)state;
    write_at("o/a-slow.scenario", "scenario \"slow one\"\nsleep 600ms\n");
    write_at("o/b-fast.scenario", "sql \"select 1\"\n");
    write_at("o/c-fast.scenario", "sql \"select 1\"\n");
    const char *names[] = {"o/a-slow.scenario", "o/b-fast.scenario", "o/c-fast.scenario", NULL};
    rh_run run;
    run_files(&run, 3, names, NULL);
    assert_int_equal(run.n, 3);
    assert_non_null(strstr(run.results[0].path, "a-slow"));
    assert_non_null(strstr(run.results[2].path, "c-fast"));
    for (size_t i = 0; i < 3; i++)
        assert_pass(&run.results[i]);
    rh_run_free(&run);

    rh_runner_opts o = {0};
    o.filter = "slow one";   /* by title */
    run_files(&run, 2, names, &o);
    assert_int_equal(run.n, 1);
    assert_non_null(strstr(run.results[0].path, "a-slow"));
    rh_run_free(&run);

    /* collect: folders recursively, sorted, hidden folders skipped */
    write_at("o/.hidden/x.scenario", "sql \"select 1\"\n");
    write_at("o/sub/d.scenario", "sql \"select 1\"\n");
    write_at("o/_shared.inc", "sql \"select 1\"\n");
    char *odir = path_of("o");
    const char *paths[] = {odir};
    char **files;
    size_t nfiles;
    rh_err err;
    assert_int_equal(rh_runner_collect(paths, 1, &files, &nfiles, &err), 0);
    assert_int_equal(nfiles, 4);
    assert_non_null(strstr(files[0], "o/a-slow.scenario"));
    assert_non_null(strstr(files[3], "o/sub/d.scenario"));
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    const char *missing[] = {"/nonexistent/rehearse"};
    assert_int_equal(rh_runner_collect(missing, 1, &files, &nfiles, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/rehearse"));
    free(odir);
}

/* The order each scenario finished in (at -j1: the order they started in). */
typedef struct finish_order {
    char paths[4][1024];
    size_t n;
} finish_order;

static void note_finish(void *ctx, const rh_result *r, size_t done, size_t total)
{
    (void)done;
    (void)total;
    finish_order *f = ctx;
    if (f->n < 4)
        snprintf(f->paths[f->n++], sizeof f->paths[0], "%s", r->path);
}

/*
 * A run with the state cache and one without keep their durations apart: a warm run is ordered by
 * the last warm run's times, not by a --no-cache run's (before, one file served both, so in
 * `bench scenarios --cache` each warm round started in the order of the cold round before it).
 */
static void test_timings_are_kept_per_cache_mode(void **state)
{
    (void)state;
    write_at("tm/a.scenario", "sql \"select 1\"\n");
    write_at("tm/b.scenario", "sql \"select 1\"\n");
    char *a = path_of("tm/a.scenario"), *b = path_of("tm/b.scenario");
    char *cached = path_of("tm/times.tsv"), *uncached = path_of("tm/times-no-cache.tsv");
    /* the cached runs' file says b took longest, the uncached runs' file says a did */
    char *text = rh_xasprintf("9000\t%s\n1\t%s\n", b, a);
    rh_test_write_file(cached, text);
    free(text);
    text = rh_xasprintf("9000\t%s\n1\t%s\n", a, b);
    rh_test_write_file(uncached, text);
    free(text);
    const char *names[] = {"tm/a.scenario", "tm/b.scenario", NULL};
    const char *was = getenv("REHEARSE_NO_CACHE"); /* ctest sets it for every test */
    char *saved = was ? rh_xstrdup(was) : NULL;
    for (int no_cache = 1; no_cache >= 0; no_cache--) {
        if (no_cache)
            setenv("REHEARSE_NO_CACHE", "1", 1);
        else
            unsetenv("REHEARSE_NO_CACHE");
        finish_order f = {0};
        rh_runner_opts o = {0};
        o.timings_path = cached;
        o.progress = note_finish;
        o.progress_ctx = &f;
        rh_run run;
        run_files(&run, 1, names, &o);
        assert_int_equal(run.passed, 2);
        assert_int_equal(f.n, 2);
        /* longest first, by this kind of run's own times */
        assert_string_equal(f.paths[0], no_cache ? a : b);
        rh_run_free(&run);
    }
    if (saved)
        setenv("REHEARSE_NO_CACHE", saved, 1);
    free(saved);
    /* each run wrote its own file: both still hold both scenarios, with the real (short) times now */
    char *t1 = NULL, *t2 = NULL;
    size_t l1, l2;
    rh_err err;
    assert_int_equal(rh_fs_read(cached, &t1, &l1, &err), 0);
    assert_int_equal(rh_fs_read(uncached, &t2, &l2, &err), 0);
    assert_non_null(strstr(t1, a));
    assert_non_null(strstr(t2, a));
    assert_null(strstr(t1, "9000"));
    assert_null(strstr(t2, "9000"));
    free(t1);
    free(t2);
    free(a);
    free(b);
    free(cached);
    free(uncached);
}

static void test_shard_partition(void **state)
{
    (void)state;
    /* every file in exactly one shard, and adding files never moves the others */
    char name[64];
    int counts[4] = {0};
    int before[200];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "scenarios/%03d-x.scenario", i);
        int in = 0;
        for (int k = 1; k <= 4; k++)
            if (rh_runner_in_shard(name, k, 4)) {
                in++;
                counts[k - 1]++;
                before[i] = k;
            }
        assert_int_equal(in, 1);
        /* "./x" and "x" are the same file */
        char dotted[80];
        snprintf(dotted, sizeof dotted, "./%s", name);
        assert_true(rh_runner_in_shard(dotted, before[i], 4));
    }
    for (int k = 0; k < 4; k++)
        assert_true(counts[k] > 20);   /* no empty or lopsided shard */
    int k, n;
    rh_err err;
    assert_int_equal(rh_runner_parse_shard("2/4", &k, &n, &err), 0);
    assert_int_equal(k, 2);
    assert_int_equal(n, 4);
    assert_int_equal(rh_runner_parse_shard("5/4", &k, &n, &err), -1);
    assert_int_equal(rh_runner_parse_shard("0/4", &k, &n, &err), -1);
    assert_int_equal(rh_runner_parse_shard("x", &k, &n, &err), -1);
    assert_non_null(strstr(err.msg, "K/N"));
}

/* A *.scenario symlink to nothing is collected and reported (path and target), the rest still run. */
static void test_dangling_link(void **state)
{
    (void)state;
    write_at("dl/a-ok.scenario", "scenario \"fine\"\nsql \"select 1\"\n");
    write_at("dl/sub/c-ok.scenario", "sql \"select 1\"\n");
    char *link = path_of("dl/b-gone.scenario");
    char *link2 = path_of("dl/sub/d-gone.scenario");
    unlink(link), unlink(link2);
    assert_int_equal(symlink("removed/b.scenario", link), 0);
    assert_int_equal(symlink("/nonexistent/d.scenario", link2), 0);
    char *ddir = path_of("dl");
    const char *paths[] = {ddir};
    char **files;
    size_t nfiles;
    rh_err err;
    assert_int_equal(rh_runner_collect(paths, 1, &files, &nfiles, &err), 0);
    assert_int_equal(nfiles, 4);   /* two dangling links are two entries, not one "same file" */
    assert_non_null(strstr(files[1], "dl/b-gone.scenario"));
    assert_non_null(strstr(files[3], "dl/sub/d-gone.scenario"));
    assert_int_equal(rh_runner_check_link(files[0], &err), 0);
    assert_int_equal(rh_runner_check_link(files[1], &err), -1);
    assert_non_null(strstr(err.msg, "dl/b-gone.scenario"));
    assert_non_null(strstr(err.msg, "'removed/b.scenario', which does not exist"));
    rh_run run;
    rh_runner_opts o = {0};
    o.jobs = 2;
    assert_int_equal(rh_runner_run(&o, files, nfiles, &run, &err), 0);
    assert_int_equal(run.n, 4);
    assert_pass(&run.results[0]);
    assert_int_equal(run.results[1].status, RH_ERROR);
    assert_non_null(strstr(run.results[1].message, "cannot be read"));
    assert_non_null(strstr(run.results[1].message, "'removed/b.scenario'"));
    assert_pass(&run.results[2]);
    assert_int_equal(run.results[3].status, RH_ERROR);
    assert_non_null(strstr(run.results[3].message, "'/nonexistent/d.scenario'"));
    assert_int_equal(rh_run_exit_code(&run), 2);
    rh_run_free(&run);
    /* named on the command line: the error names the target too */
    const char *one[] = {link};
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    assert_int_equal(rh_runner_collect(one, 1, &files, &nfiles, &err), -1);
    assert_non_null(strstr(err.msg, "'removed/b.scenario', which does not exist"));
    free(ddir), free(link), free(link2);
}

/* run and run --list select alike: the filter matches the path or the title. */
static void test_select_rule(void **state)
{
    (void)state;
    write_at("sel/a.scenario", "scenario \"title words\"\nsql \"select 1\"\n");
    write_at("sel/b.scenario", "sql \"select 1\"\n");
    write_at("sel/c-broken.scenario", "scenario \"title words\"\ndeploy => fail x\n");
    char *a = path_of("sel/a.scenario"), *b = path_of("sel/b.scenario"), *c = path_of("sel/c-broken.scenario");
    rh_runner_opts o = {0};
    rh_err err;
    o.filter = "title words";
    assert_int_equal(rh_runner_selects(&o, a, "title words"), 1);
    assert_int_equal(rh_runner_selects(&o, a, NULL), 0);
    assert_int_equal(rh_runner_select_file(&o, a, &err), 1);   /* by title, as a run selects */
    assert_int_equal(rh_runner_select_file(&o, b, &err), 0);
    assert_int_equal(rh_runner_select_file(&o, c, &err), 0);   /* no title when it does not parse */
    o.filter = "c-broken";
    assert_int_equal(rh_runner_select_file(&o, c, &err), 1);
    o.filter = NULL;
    o.shard_n = 2;
    int in = 0;
    for (o.shard_k = 1; o.shard_k <= 2; o.shard_k++) {
        assert_int_equal(rh_runner_select_file(&o, a, &err), rh_runner_in_shard(a, o.shard_k, 2));
        in += rh_runner_select_file(&o, a, &err);
    }
    assert_int_equal(in, 1);
    /* the run keeps exactly what --list shows */
    o = (rh_runner_opts){0};
    o.filter = "title words";
    char *files[] = {a, b, c};
    rh_run run;
    assert_int_equal(rh_runner_run(&o, files, 3, &run, &err), 0);
    assert_int_equal(run.n, 1);
    assert_string_equal(run.results[0].path, a);
    rh_run_free(&run);
    free(a), free(b), free(c);
}

/* The JSON a worker sends back round-trips every field. */
static void test_result_json(void **state)
{
    (void)state;
    rh_result r = {0};
    r.path = strdup("a.scenario");
    r.name = strdup("n \"q\"\nline");
    r.status = RH_FAIL;
    r.line = 7;
    r.file = strdup("b.inc");
    r.diff = strdup("- x\n+ y\n");
    r.ms = 12.5;
    char *j = rh_result_to_json(&r);
    assert_null(strchr(j, '\n'));   /* one line on the pipe */
    rh_result back;
    rh_err err;
    assert_int_equal(rh_result_from_json(j, &back, &err), 0);
    assert_string_equal(back.name, r.name);
    assert_string_equal(back.diff, r.diff);
    assert_int_equal(back.line, 7);
    assert_int_equal(back.status, RH_FAIL);
    assert_true(back.ms > 12.4 && back.ms < 12.6);
    rh_result_free(&back);
    assert_int_equal(rh_result_from_json("not json", &back, &err), -1);
    free(j);
    rh_result_free(&r);
    rh_result_free(&back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_pass),
        cmocka_unit_test(test_sql_steps_like_psql),
        cmocka_unit_test(test_catalog_assertions),
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_ledger_after_each_step),
        cmocka_unit_test(test_catalog_file),
        cmocka_unit_test(test_findings),
        cmocka_unit_test(test_restore),
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_run_scale),
        cmocka_unit_test(test_restore_ledger_errors),
        cmocka_unit_test(test_new_connection_per_command),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_timeout_and_crash),
        cmocka_unit_test(test_keep_failed),
        cmocka_unit_test(test_order_filter_shard),
        cmocka_unit_test(test_timings_are_kept_per_cache_mode),
        cmocka_unit_test(test_shard_partition),
        cmocka_unit_test(test_result_json),
        cmocka_unit_test(test_dangling_link),
        cmocka_unit_test(test_select_rule),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
