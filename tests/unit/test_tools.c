/*
 * test_tools.c — the migration-tool seam (tools/tool.h): the registry, detection of a folder's
 * tool, Prisma reached through the interface doing what the engine does, and dbmate's migrate on a
 * real server (texts, exit code 2, ledger rows, one query per up section, transaction:false,
 * CONCURRENTLY, its marker errors) and drizzle-kit's migrate (one transaction, the older-`when` skip, bad
 * journals). Their texts are checked against the real CLIs in
 * tests/conformance/dbmate/ and tests/conformance/drizzle/.
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
#include "report/profile.h"
#include "source/history.h"
#include "tools/prisma/prisma.h"
#include "source/loader.h"
#include "tools/tool.h"
#include "util/fs.h"
#include "testlib.h"
#include "tools/prisma/profile.h"

static const char USERS[] = "-- migrate:up\n"
                            "create table users (id serial primary key, email text not null);\n"
                            "create index users_email on users (email);\n\n"
                            "-- migrate:down\ndrop table users;\n";
static const char ADD_NAME[] = "-- migrate:up\nalter table users add column name text;\n\n"
                               "-- migrate:down\nalter table users drop column name;\n";
static const char BAD[] = "-- migrate:up\nalter table users add column age int;\n"
                          "alter table nosuch add column x int;\n\n-- migrate:down\n";

/* A fresh folder holding the given files (name, text pairs, NULL-terminated). */
static char *folder(const char *first, ...)
{
    static int seq;
    char *dir = NULL;
    if (asprintf(&dir, "%s/f%d", rh_test_tmpdir(), seq++) < 0)
        fail();
    va_list ap;
    va_start(ap, first);
    for (const char *name = first; name; name = va_arg(ap, const char *)) {
        const char *text = va_arg(ap, const char *);
        char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
            fail();
        rh_test_write_file(path, text);
        free(path);
    }
    va_end(ap);
    return dir;
}

/* Durations vary: "Applied: X in 7.61ms" -> "Applied: X in D". */
static void mask_durations(char *s)
{
    for (char *p = strstr(s, " in "); p; p = strstr(p + 1, " in ")) {
        char *eol = strchr(p, '\n');
        if (!eol)
            break;
        memmove(p + 5, eol, strlen(eol) + 1);
        p[4] = 'D';
    }
}

static int run_verb(const rh_tool *t, const char *verb, PGconn *c, const rh_migset *set, rh_engine_result *res)
{
    rh_engine_result_init(res);
    rh_err err;
    rh_err_clear(&err);
    const rh_tool_verb *v = rh_tool_verb_find(t, verb);
    assert_non_null(v);
    int rc = v->run(c, set, NULL, &(rh_engine_opts){0}, res, &err);
    if (rc < 0)
        fail_msg("%s %s: %s", t->name, verb, err.msg);
    return rc;
}

static void registry_finds_tools_by_name(void **state)
{
    (void)state;
    assert_string_equal(rh_tool_find("prisma")->name, "prisma");
    assert_string_equal(rh_tool_find("dbmate")->name, "dbmate");
    assert_null(rh_tool_find("flyway"));
    assert_null(rh_tool_find(NULL));
    char names[256];
    assert_string_equal(rh_tool_names(names, sizeof names), "prisma, dbmate, drizzle, command");
    for (size_t i = 0; rh_tools[i]; i++) { /* every tool has a deploy; a tool with a ledger can read it */
        assert_non_null(rh_tool_verb_find(rh_tools[i], "deploy"));
        assert_true(!rh_tools[i]->ledger_table || rh_tools[i]->ledger_read);
        assert_non_null(rh_tools[i]->read);
    }
    assert_null(rh_tool_verb_find(rh_tool_find("dbmate"), "resolve --applied"));
    /* the default tool reads revisions and judges histories through the interface (source/ names no tool) */
    assert_non_null(RH_TOOL_DEFAULT->history_findings);
}

/* The checksum rule is the tool's: Prisma's accepts a file whose line endings changed, equality does not. */
static void checksum_comparison_is_the_tools_rule(void **state)
{
    (void)state;
    rh_migset set = {0};
    rh_migration *lf = rh_migset_push(&set, "m", 1);
    rh_migration_set_sql(lf, "SELECT 1;\nSELECT 2;\n", 20);
    char crlf_sum[65];
    rh_checksum_hex("SELECT 1;\r\nSELECT 2;\r\n", 22, crlf_sum);
    assert_true(rh_tool_checksum_matches(RH_TOOL_DEFAULT, lf->checksum, lf));
    assert_true(rh_tool_checksum_matches(RH_TOOL_DEFAULT, crlf_sum, lf)); /* Prisma: LF -> CRLF matches */
    assert_true(rh_tool_checksum_matches(rh_tool_find("drizzle"), lf->checksum, lf));
    assert_false(rh_tool_checksum_matches(rh_tool_find("drizzle"), crlf_sum, lf)); /* no rule: the same bytes */
    assert_false(rh_tool_checksum_matches(RH_TOOL_DEFAULT, NULL, lf));
    rh_migration *none = rh_migset_push(&set, "n", 1);
    assert_false(rh_tool_checksum_matches(RH_TOOL_DEFAULT, crlf_sum, none)); /* no file */
    rh_migset_free(&set);
}

/* Profiles come through the tool: the default tool's default version, its words; a tool of one behaviour has none. */
static void profiles_are_the_tools(void **state)
{
    (void)state;
    rh_profile p;
    rh_err err;
    assert_int_equal(rh_tool_profile(RH_TOOL_DEFAULT, &p, NULL, &err), 0);
    assert_string_equal(p.version, RH_TOOL_DEFAULT->default_version);
    assert_int_equal(rh_tool_profile(RH_TOOL_DEFAULT, &p, "5.22.0", &err), 0);
    assert_int_equal(p.order, RH_ORDER_BYTES);
    rh_buf b;
    rh_buf_init(&b);
    RH_TOOL_DEFAULT->profile_describe(&p, &b);
    assert_non_null(strstr(b.data, "byte order (Prisma < 6.6)"));
    rh_buf_reset(&b);
    rh_report_profile_line(&p, "x", &b); /* the report names the tool as people write it */
    assert_true(strncmp(b.data, "Prisma 5.22.0 profile, from x: byte order", 41) == 0);
    rh_buf_free(&b);
    assert_int_equal(rh_tool_profile(rh_tool_find("dbmate"), &p, "2.36.0", &err), -1);
    assert_string_equal(err.msg, "dbmate has one behaviour: it takes no version");
    /* a tool that does not look for its folder at a revision has it at its usual path */
    char *dir = NULL;
    assert_int_equal(rh_tool_find_folder(rh_tool_find("dbmate"), NULL, NULL, &dir, &err), 0);
    assert_string_equal(dir, "db/migrations");
    free(dir);
    assert_null(rh_tool_find("dbmate")->detect_version);
    assert_string_equal(RH_TOOL_DEFAULT->version_option, "--prisma-version");
    for (size_t i = 0; rh_tools[i]; i++) /* the three hooks come together */
        assert_true(!rh_tools[i]->profile_from_version == !rh_tools[i]->default_version &&
                    !rh_tools[i]->profile_from_version == !rh_tools[i]->profile_describe);
}

/* The plan hook takes the version profile: the default tool sends a file whole before its split-statements
   profile, statement by statement at it, and whole again when its splitter rejects the file; a tool without
   profiles is asked with none. */
static void plan_hook_takes_the_profile(void **state)
{
    (void)state;
    rh_profile old, split;
    rh_err err;
    assert_int_equal(rh_tool_profile(RH_TOOL_DEFAULT, &old, "6.19.3", &err), 0);
    assert_int_equal(rh_tool_profile(RH_TOOL_DEFAULT, &split, "7.10.1", &err), 0);
    char cic[] = "ALTER TABLE t ADD COLUMN n int;\nCREATE INDEX CONCURRENTLY i ON t(n);\n";
    char dob[] = "ALTER TABLE t ADD COLUMN x int;\nDO $$ BEGIN PERFORM 1; END $$;\nCREATE INDEX CONCURRENTLY j ON t(x);\n";
    rh_migration m = {.name = "20240102_cic", .sql = cic, .sql_len = strlen(cic)};
    rh_plan plan;
    rh_buf lines;
    rh_buf_init(&lines);
    assert_int_equal(rh_tool_plan(RH_TOOL_DEFAULT, &m, &old, &plan, &lines), 1);
    assert_int_equal(plan.mode, RH_SEND_WHOLE);
    assert_true(plan.atomic && plan.concurrently_fails);
    assert_int_equal(plan.n_stmts, 2);
    assert_int_equal(plan.n_concurrently, 1);
    assert_string_equal(lines.data, "20240102_cic: one implicit transaction (2 statements)\n"
                                    "20240102_cic: fails with 25001: CONCURRENTLY inside the implicit transaction\n");
    rh_buf_reset(&lines);
    assert_int_equal(rh_tool_plan(RH_TOOL_DEFAULT, &m, &split, &plan, &lines), 0);
    assert_int_equal(plan.mode, RH_SEND_STATEMENTS);
    assert_int_equal(plan.n_parts, 2);
    assert_false(plan.atomic || plan.concurrently_fails);
    assert_string_equal(lines.data, "20240102_cic: 2 autocommit statements\n");
    m.sql = dob;
    m.sql_len = strlen(dob);
    assert_int_equal(rh_tool_plan(RH_TOOL_DEFAULT, &m, &split, &plan, NULL), 1);
    assert_int_equal(plan.mode, RH_SEND_WHOLE_FALLBACK);
    assert_int_equal(plan.fallback_line, 2);
    assert_string_equal(plan.fallback_reason, "DO blocks");
    assert_true(plan.atomic && plan.concurrently_fails);
    /* dbmate has no profiles: its plan is the same with or without one */
    char up[] = "-- migrate:up\nCREATE INDEX CONCURRENTLY i ON t(n);\n-- migrate:down\n";
    rh_migration d = {.name = "20240101000000_i.sql", .sql = up, .sql_len = strlen(up)};
    rh_plan with, without;
    assert_int_equal(rh_tool_plan(rh_tool_find("dbmate"), &d, &split, &with, NULL), 1);
    assert_int_equal(rh_tool_plan(rh_tool_find("dbmate"), &d, NULL, &without, NULL), 1);
    assert_memory_equal(&with, &without, sizeof with);
    /* a tool rehearse does not send for: a zeroed plan */
    assert_int_equal(rh_tool_plan(rh_tool_find("command"), &d, NULL, &plan, &lines), 0);
    assert_int_equal(plan.n_stmts, 0);
    rh_buf_free(&lines);
}

static void detection_names_the_one_tool_or_says_why_not(void **state)
{
    (void)state;
    rh_err err;
    char *p = folder("20240101_init/migration.sql", "create table a();", "migration_lock.toml",
                     "provider = \"postgresql\"\n", NULL);
    char *d = folder("20240101000000_init.sql", USERS, NULL);
    char *none = folder("README.md", "nothing\n", NULL);
    char *flyway = folder("V1__init.sql", "create table a (id int);\n", "README.md", "nothing\n", NULL);
    char *both = folder("20240101_init/migration.sql", "create table a();", "20240101000000_init.sql", USERS, NULL);
    assert_ptr_equal(rh_tool_detect_dir(p, &err), rh_tool_find("prisma"));
    assert_ptr_equal(rh_tool_detect_dir(d, &err), rh_tool_find("dbmate"));
    /* nothing any tool would read: the default tool's loader says what it finds (Prisma: "No migration found") */
    assert_ptr_equal(rh_tool_detect_dir(none, &err), RH_TOOL_DEFAULT);
    /* .sql files of no known tool: not the default tool's silence, an error naming one */
    assert_null(rh_tool_detect_dir(flyway, &err));
    assert_non_null(strstr(err.msg, "no known migration tool's files here (known: prisma, dbmate, drizzle, command): "
                                    "V1__init.sql is none of theirs"));
    assert_non_null(strstr(err.msg, flyway));
    assert_null(rh_tool_detect_dir(both, &err));
    assert_non_null(strstr(err.msg, "holds both prisma and dbmate migrations"));
    free(p), free(d), free(none), free(flyway), free(both);
}

/*
 * Every tool's reader reads a migration on disk up to the same limit as at a revision and as Prisma's
 * reader did (RH_FS_MIGRATION_MAX): before the one loader, a dbmate or drizzle file over 16 MiB on disk
 * was "over rehearse's limit of 16 MiB" while the same file at a revision was read.
 */
static void a_large_migration_reads_on_disk_as_at_a_revision(void **state)
{
    (void)state;
    size_t big = ((size_t)17 << 20);
    const char *head = "-- migrate:up\nSELECT 1;\n-- ";
    char *text = malloc(strlen(head) + big + 2);
    assert_non_null(text);
    strcpy(text, head);
    memset(text + strlen(head), 'x', big);
    strcpy(text + strlen(head) + big, "\n");
    char *dir = folder("20240101000000_big.sql", text, NULL);
    const rh_tool *t = rh_tool_find("dbmate");
    rh_migset set;
    rh_err err;
    rh_err_clear(&err);
    int rc = rh_source_load_set(&(rh_load_spec){.tool = t, .dir = dir}, &set, NULL, &err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(set.n, 1);
    assert_int_equal(set.items[0].sql_len, strlen(text));
    rh_migset_free(&set);
    free(text);
    free(dir);
}

/* Prisma through the interface: the same exit code, texts and ledger as the engine called directly. */
static void prisma_behind_the_interface_is_the_engine(void **state)
{
    (void)state;
    const rh_tool *t = rh_tool_find("prisma");
    char *dir = folder("20240102_b/migration.sql", "CREATE TABLE b (id int);", "20240101_a/migration.sql",
                       "CREATE TABLE a (id int);", "20240103_c/migration.sql", "CREATE TABLE c (id int); SELECT 1/0;",
                       NULL);
    rh_migset set;
    rh_err err;
    assert_int_equal(rh_source_load_set(&(rh_load_spec){.tool = t, .dir = dir}, &set, NULL, &err), 0);
    assert_string_equal(set.items[0].name, "20240101_a"); /* ordered by the default profile */
    PGconn *c1 = rh_test_fresh_db(NULL), *c2 = rh_test_fresh_db(NULL);
    rh_engine_result via_tool, direct;
    int rc1 = run_verb(t, "deploy", c1, &set, &via_tool);
    rh_engine_result_init(&direct);
    rh_profile prof;
    assert_int_equal(rh_prisma_profile_from_version(&prof, RH_PRISMA_DEFAULT_VERSION, &err), 0);
    int rc2 = rh_prisma_deploy(c2, &set, &(rh_engine_opts){.profile = &prof}, &direct, &err);
    assert_int_equal(rc1, 1);
    assert_int_equal(rc1, rc2);
    assert_string_equal(via_tool.code, direct.code);
    assert_string_equal(via_tool.failed_migration, "20240103_c");
    assert_int_equal(via_tool.errout.len, direct.errout.len);
    assert_memory_equal(via_tool.errout.data, direct.errout.data, direct.errout.len);
    rh_ledger l1, l2;
    assert_int_equal(t->ledger_read(c1, &l1, &err), 0);
    assert_int_equal(rh_prisma_ledger_load(c2, &l2, &err), 0);
    assert_int_equal(l1.n, 3);
    assert_int_equal(l1.n, l2.n);
    for (size_t i = 0; i < l1.n; i++) {
        assert_string_equal(l1.rows[i].migration_name, l2.rows[i].migration_name);
        assert_string_equal(l1.rows[i].checksum, l2.rows[i].checksum);
        assert_int_equal(l1.rows[i].finished, l2.rows[i].finished);
    }
    /* restore: the rows come back with their states in another database */
    PGconn *c3 = rh_test_fresh_db(NULL);
    assert_int_equal(t->ledger_create(c3, &err), 0);
    assert_int_equal(t->ledger_restore(c3, &l1, &err), 0);
    rh_ledger l3;
    assert_int_equal(t->ledger_read(c3, &l3, &err), 0);
    assert_int_equal(l3.n, 3);
    assert_string_equal(l3.rows[2].migration_name, "20240103_c");
    assert_false(l3.rows[2].finished);
    assert_non_null(l3.rows[2].logs);
    assert_true(l3.rows[0].finished);
    rh_ledger_free(&l1), rh_ledger_free(&l2), rh_ledger_free(&l3);
    rh_engine_result_free(&via_tool), rh_engine_result_free(&direct);
    PQfinish(c1), PQfinish(c2), PQfinish(c3);
    rh_migset_free(&set);
    free(dir);
}

/* dbmate migrate: texts as the real CLI prints them, exit 2, the failed file's transaction rolled back. */
static void dbmate_migrate_stops_at_a_failing_file_with_exit_2(void **state)
{
    (void)state;
    const rh_tool *t = rh_tool_find("dbmate");
    char *dir = folder("20240103000000_bad.sql", BAD, "20240101000000_create_users.sql", USERS,
                       "20240102000000_add_name.sql", ADD_NAME, "notes.txt", "not a migration", NULL);
    rh_migset set;
    rh_err err;
    assert_int_equal(rh_folder_load_dir(&set, dir, t->read, &err), 0);
    assert_int_equal(set.n, 3);
    PGconn *c = rh_test_fresh_db(NULL);
    rh_engine_result res;
    assert_int_equal(run_verb(t, "deploy", c, &set, &res), 2);
    assert_int_equal(res.exit_code, 2);
    char *out = strndup(res.out.data, res.out.len);
    mask_durations(out);
    assert_string_equal(out, "Applying: 20240101000000_create_users.sql\n"
                             "Applied: 20240101000000_create_users.sql in D\n"
                             "Applying: 20240102000000_add_name.sql\n"
                             "Applied: 20240102000000_add_name.sql in D\n"
                             "Applying: 20240103000000_bad.sql\n"
                             "Applied: 20240103000000_bad.sql in D\n");
    assert_int_equal(res.errout.len, strlen("Error: pq: relation \"nosuch\" does not exist (42P01)\n"));
    assert_memory_equal(res.errout.data, "Error: pq: relation \"nosuch\" does not exist (42P01)\n", res.errout.len);
    assert_string_equal(res.sqlstate, "42P01");
    assert_string_equal(res.failed_migration, "20240103000000_bad.sql");
    char *v = rh_test_value(c, "select string_agg(version, ',' order by version) from schema_migrations");
    assert_string_equal(v, "20240101000000,20240102000000");
    free(v);
    v = rh_test_value(c, "select count(*) from information_schema.columns where table_name = 'users' and "
                         "column_name = 'age'");
    assert_string_equal(v, "0"); /* the failing file's transaction took its first statement back */
    free(v);
    v = rh_test_value(c, "select format_type(atttypid, atttypmod) from pg_attribute where attrelid = "
                         "'public.schema_migrations'::regclass and attname = 'version'");
    assert_string_equal(v, "character varying");
    free(v);
    /* the ledger in the common model; a second migrate applies nothing new before the bad file */
    rh_ledger l;
    assert_int_equal(t->ledger_read(c, &l, &err), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.rows[1].migration_name, "20240102000000");
    assert_true(l.rows[1].finished);
    assert_true(l.rows[1].ms < 0); /* dbmate records no duration: unknown, not 0 ms */
    PGconn *c2 = rh_test_fresh_db(NULL);
    assert_int_equal(t->ledger_restore(c2, &l, &err), 0);
    v = rh_test_value(c2, "select count(*) from schema_migrations");
    assert_string_equal(v, "2");
    free(v);
    rh_ledger_free(&l);
    rh_engine_result_free(&res);
    assert_int_equal(run_verb(t, "deploy", c, &set, &res), 2);
    free(out);
    out = strndup(res.out.data, res.out.len);
    mask_durations(out);
    assert_string_equal(out, "Applying: 20240103000000_bad.sql\nApplied: 20240103000000_bad.sql in D\n");
    free(out);
    rh_engine_result_free(&res);
    assert_int_equal(run_verb(t, "status", c, &set, &res), 0); /* dbmate status: exit 0 with pending files */
    assert_string_equal(res.out.data, "[X] 20240101000000_create_users.sql\n[X] 20240102000000_add_name.sql\n"
                                      "[ ] 20240103000000_bad.sql\n\nApplied: 2\nPending: 1\n");
    rh_engine_result_free(&res);
    PQfinish(c), PQfinish(c2);
    rh_migset_free(&set);
    free(dir);
}

/* The up section is one query: CONCURRENTLY alone passes with transaction:false, with a second statement not. */
static void dbmate_concurrently_needs_transaction_false_and_a_file_of_its_own(void **state)
{
    (void)state;
    const rh_tool *t = rh_tool_find("dbmate");
    char *dir = folder("20240101000000_create_users.sql", USERS, "20240104000000_conc_ok.sql",
                       "-- migrate:up transaction:false\ncreate index concurrently users_e2 on users (email);\n\n"
                       "-- migrate:down\n",
                       "20240105000000_conc_two.sql",
                       "-- migrate:up transaction:false\ncreate index concurrently users_e3 on users (email);\n"
                       "select 1;\n\n-- migrate:down\n",
                       NULL);
    char *dir2 = folder("20240101000000_create_users.sql", USERS, "20240104000000_conc_tx.sql",
                        "-- migrate:up\ncreate index concurrently users_e2 on users (email);\n\n-- migrate:down\n", NULL);
    rh_migset set, set2;
    rh_err err;
    assert_int_equal(rh_folder_load_dir(&set, dir, t->read, &err), 0);
    assert_int_equal(rh_folder_load_dir(&set2, dir2, t->read, &err), 0);
    PGconn *c = rh_test_fresh_db(NULL), *c2 = rh_test_fresh_db(NULL);
    rh_engine_result res;
    assert_int_equal(run_verb(t, "deploy", c, &set, &res), 2);
    assert_string_equal(res.sqlstate, "25001");
    assert_string_equal(res.failed_migration, "20240105000000_conc_two.sql");
    assert_int_equal(res.n_applied, 2);
    char *v = rh_test_value(c, "select count(*) from pg_index where indexrelid = 'users_e2'::regclass and indisvalid");
    assert_string_equal(v, "1");
    free(v);
    rh_engine_result_free(&res);
    assert_int_equal(run_verb(t, "deploy", c2, &set2, &res), 2);
    assert_string_equal(res.sqlstate, "25001");
    assert_non_null(strstr(res.errout.data, "Error: pq: CREATE INDEX CONCURRENTLY cannot run inside a transaction "
                                            "block (25001)\n"));
    rh_engine_result_free(&res);
    PQfinish(c), PQfinish(c2);
    rh_migset_free(&set), rh_migset_free(&set2);
    free(dir), free(dir2);
}

/*
 * Which statements fail inside dbmate's transaction is PostgreSQL's one list (migrations/txblock.h), not
 * the word CONCURRENTLY: VACUUM fails (25001), REFRESH MATERIALIZED VIEW CONCURRENTLY runs. plan and history
 * say so, and the deploy on a real server does what they say.
 */
static void dbmate_asks_postgresqls_list_of_refused_statements(void **state)
{
    (void)state;
    const rh_tool *t = rh_tool_find("dbmate");
    char *dir = folder("20240101000000_create_users.sql", USERS, "20240102000000_mv.sql",
                       "-- migrate:up\ncreate materialized view mv as select 1 as id;\ncreate unique index mv_id on mv (id);\n"
                       "-- migrate:down\n",
                       "20240103000000_refresh.sql", "-- migrate:up\nrefresh materialized view concurrently mv;\n-- migrate:down\n",
                       "20240104000000_vacuum.sql", "-- migrate:up\nvacuum users;\n-- migrate:down\n", NULL);
    rh_migset set;
    rh_err err;
    assert_int_equal(rh_folder_load_dir(&set, dir, t->read, &err), 0);
    rh_plan plan;
    rh_buf out;
    rh_buf_init(&out);
    assert_int_equal(t->plan_file(&set.items[2], NULL, &plan, &out), 0);
    assert_int_equal(plan.n_concurrently, 0);
    assert_null(strstr(out.data, "25001"));
    rh_buf_free(&out);
    rh_buf_init(&out);
    assert_int_equal(t->plan_file(&set.items[3], NULL, &plan, &out), 1);
    assert_int_equal(plan.n_concurrently, 1);
    assert_non_null(strstr(out.data, "20240104000000_vacuum.sql: fails with 25001: VACUUM inside dbmate's transaction"));
    rh_buf_free(&out);
    rh_git_history h = {.migrations = "m"};
    snprintf(h.to.label, sizeof h.to.label, "v2");
    assert_int_equal(rh_folder_load_dir(&h.b, dir, t->read, &err), 0);
    t->history_findings(&h);
    assert_int_equal(h.n, 1);
    assert_string_equal(rh_hist_code(&h.items[0]), "concurrently-in-transaction");
    assert_string_equal(h.items[0].name, "20240104000000_vacuum.sql");
    assert_non_null(strstr(h.items[0].message, "new at v2: VACUUM inside the transaction dbmate wraps each file in"));
    rh_hist_free_findings(&h);
    rh_migset_free(&h.b);
    PGconn *c = rh_test_fresh_db(NULL);
    rh_engine_result res;
    assert_int_equal(run_verb(t, "deploy", c, &set, &res), 2);
    assert_int_equal(res.n_applied, 3); /* the refresh ran in dbmate's transaction */
    assert_string_equal(res.failed_migration, "20240104000000_vacuum.sql");
    assert_string_equal(res.sqlstate, "25001");
    rh_engine_result_free(&res);
    PQfinish(c);
    rh_migset_free(&set);
    free(dir);
}

/*
 * dbmate reads a file's markers when it applies it: its own error after the Applying line, exit 2; then
 * rehearse's line naming the file, the line and what was expected there (dbmate's names no line).
 */
static void dbmate_marker_errors_are_dbmates(void **state)
{
    (void)state;
    const rh_tool *t = rh_tool_find("dbmate");
    static const struct { const char *text, *error, *where; } cases[] = {
        {"\ncreate table x();\n", "Error: dbmate requires each migration to define an up block with '-- migrate:up'\n",
         "2: expected `-- migrate:up` before the first statement; the file has no such line"},
        {"-- migrate:down\ndrop table x;\n-- migrate:up\ncreate table x();\n",
         "Error: dbmate does not support statements preceding the '-- migrate:up' block\n",
         "1: expected nothing but blank lines before `-- migrate:up` (line 3)"},
        /* dbmate 2.36 wants a down block even to migrate */
        {"-- migrate:up\ncreate table x();\n", "Error: dbmate requires each migration to define a down block with "
                                               "'-- migrate:down'\n",
         "1: `-- migrate:up` here, but no `-- migrate:down` line after it: expected one (dbmate 2.36 requires it, "
         "even for migrate)"},
        {"--migrate:upp\ncreate table x();\n", "Error: dbmate requires each migration to define an up block with "
                                                "'-- migrate:up'\n",
         "1: `--migrate:upp` is not dbmate's marker: expected `-- migrate:up`"},
        {"-- migrate:up\ncreate table x();\n\n-- migrate:dwn\n", "Error: dbmate requires each migration to define a "
                                                                  "down block with '-- migrate:down'\n",
         "4: `-- migrate:dwn` is not dbmate's marker: expected `-- migrate:down`"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir = folder("20240106000000_x.sql", cases[i].text, NULL);
        rh_migset set;
        rh_err err;
        assert_int_equal(rh_folder_load_dir(&set, dir, t->read, &err), 0);
        PGconn *c = rh_test_fresh_db(NULL);
        rh_engine_result res;
        assert_int_equal(run_verb(t, "deploy", c, &set, &res), 2);
        assert_int_equal(res.out.len, strlen("Applying: 20240106000000_x.sql\n"));
        assert_memory_equal(res.out.data, "Applying: 20240106000000_x.sql\n", res.out.len);
        char *want = NULL;
        assert_true(asprintf(&want, "%srehearse: 20240106000000_x.sql:%s (in %s)\n", cases[i].error, cases[i].where,
                             dir) > 0);
        assert_string_equal(res.errout.data, want);
        free(want);
        rh_engine_result_free(&res);
        PQfinish(c);
        rh_migset_free(&set);
        free(dir);
    }
}


/* A drizzle-kit folder: TAG.sql files and meta/_journal.json listing (tag, when) pairs. */
static char *drizzle_folder(const char *journal, const char *first, ...)
{
    static int seq;
    char *dir = NULL;
    if (asprintf(&dir, "%s/z%d", rh_test_tmpdir(), seq++) < 0)
        fail();
    char *path = NULL;
    if (asprintf(&path, "%s/meta/_journal.json", dir) < 0)
        fail();
    rh_test_write_file(path, journal);
    free(path);
    va_list ap;
    va_start(ap, first);
    for (const char *name = first; name; name = va_arg(ap, const char *)) {
        const char *text = va_arg(ap, const char *);
        if (asprintf(&path, "%s/%s", dir, name) < 0)
            fail();
        rh_test_write_file(path, text);
        free(path);
    }
    va_end(ap);
    return dir;
}

#define J(tag, when) "{\"idx\":0,\"version\":\"7\",\"when\":" #when ",\"tag\":\"" tag "\",\"breakpoints\":true}"
static const char INIT[] = "CREATE TABLE \"users\" (\"id\" serial PRIMARY KEY NOT NULL, \"email\" text NOT NULL);\n"
                           "--> statement-breakpoint\nCREATE INDEX \"users_email\" ON \"users\" (\"email\");";
static const char NAME[] = "ALTER TABLE \"users\" ADD COLUMN \"name\" text;";

/* All pending entries in one transaction: a failure leaves nothing, prints nothing, exits 1. */
static void drizzle_migrate_is_one_transaction_and_silent_on_failure(void **state)
{
    (void)state;
    const rh_tool *t = rh_tool_find("drizzle");
    char *dir = drizzle_folder("{\"entries\":[" J("0000_init", 1700000000000) "," J("0001_name", 1700000100000) ","
                               J("0002_bad", 1700000200000) "]}",
                               "0000_init.sql", INIT, "0001_name.sql", NAME, "0002_bad.sql",
                               "CREATE TABLE \"t3\" (\"id\" int);\n--> statement-breakpoint\n"
                               "ALTER TABLE \"nosuch\" ADD COLUMN \"x\" int;",
                               NULL);
    rh_migset set;
    rh_err err;
    assert_int_equal(rh_folder_load_dir(&set, dir, t->read, &err), 0);
    assert_int_equal(set.n, 3);
    assert_true(set.items[1].stamp == 1700000100000LL);
    char hash[65];
    rh_checksum_hex(NAME, strlen(NAME), hash);
    assert_string_equal(set.items[1].checksum, hash); /* drizzle's hash: SHA-256 of the file */
    PGconn *c = rh_test_fresh_db(NULL);
    rh_engine_result res;
    assert_int_equal(run_verb(t, "deploy", c, &set, &res), 1);
    assert_int_equal(res.out.len, 0);
    assert_int_equal(res.errout.len, 0);
    assert_string_equal(res.sqlstate, "42P01");
    assert_string_equal(res.failed_migration, "0002_bad");
    assert_int_equal(res.n_findings, 1);
    char *v = rh_test_value(c, "select count(*) from drizzle.__drizzle_migrations");
    assert_string_equal(v, "0");
    free(v);
    v = rh_test_value(c, "select to_regclass('users') is null");
    assert_string_equal(v, "t");
    free(v);
    rh_engine_result_free(&res);
    PQfinish(c);
    rh_migset_free(&set);
    free(dir);
}

/* An entry merged with an older `when` than the newest row is skipped: rehearse reports it. */
static void drizzle_skips_an_entry_with_an_older_when_and_says_so(void **state)
{
    (void)state;
    const rh_tool *t = rh_tool_find("drizzle");
    char *before = drizzle_folder("{\"entries\":[" J("0000_init", 1700000000000) "," J("0001_name", 1700000100000) "]}",
                                  "0000_init.sql", INIT, "0001_name.sql", NAME, NULL);
    char *after = drizzle_folder("{\"entries\":[" J("0000_init", 1700000000000) "," J("0001_name", 1700000100000) ","
                                 J("0002_branch", 1700000050000) "," J("0003_t3", 1700000200000) "]}",
                                 "0000_init.sql", INIT, "0001_name.sql", NAME, "0002_branch.sql",
                                 "CREATE TABLE \"branch\" (\"id\" int);", "0003_t3.sql", "CREATE TABLE \"t3\" (\"id\" int);",
                                 NULL);
    rh_migset s1, s2;
    rh_err err;
    assert_int_equal(rh_folder_load_dir(&s1, before, t->read, &err), 0);
    assert_int_equal(rh_folder_load_dir(&s2, after, t->read, &err), 0);
    PGconn *c = rh_test_fresh_db(NULL);
    rh_engine_result res;
    assert_int_equal(run_verb(t, "deploy", c, &s1, &res), 0);
    assert_string_equal(res.out.data, "[\xe2\x9c\x93] migrations applied successfully!\n");
    rh_engine_result_free(&res);
    assert_int_equal(run_verb(t, "deploy", c, &s2, &res), 0);
    assert_int_equal(res.n_applied, 1);
    assert_string_equal(res.applied[0], "0003_t3");
    assert_int_equal(res.n_findings, 1);
    assert_int_equal(res.findings[0].kind, RH_FINDING_SKIPPED);
    assert_string_equal(res.findings[0].name, "0002_branch");
    char *v = rh_test_value(c, "select to_regclass('branch') is null and to_regclass('t3') is not null");
    assert_string_equal(v, "t");
    free(v);
    rh_engine_result_free(&res);
    rh_ledger l;
    assert_int_equal(t->ledger_read(c, &l, &err), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.rows[2].migration_name, "1700000200000");
    assert_true(l.rows[2].finished && l.rows[2].ms < 0); /* drizzle-kit records no duration */
    rh_ledger_free(&l);
    PQfinish(c);
    rh_migset_free(&s1), rh_migset_free(&s2);
    free(before), free(after);
}

/* Bad journals: a clear error naming the journal and the entry. */
/* Every tool's own history hazards come as structured findings (one hook for every tool, as Prisma's):
   kind tool, the tool's code, the file below the folder, the sentence; check and history --tool print them. */
static void history_findings_are_structured_for_every_tool(void **state)
{
    (void)state;
    const rh_tool *dz = rh_tool_find("drizzle"), *db = rh_tool_find("dbmate");
    char *before = drizzle_folder("{\"entries\":[" J("0000_init", 1700000000000) "," J("0001_name", 1700000100000) "]}",
                                  "0000_init.sql", INIT, "0001_name.sql", NAME, NULL);
    char *after = drizzle_folder("{\"entries\":[" J("0000_init", 1700000000000) "," J("0001_name", 1700000100000) ","
                                 J("0002_branch", 1700000050000) "]}",
                                 "0000_init.sql", INIT, "0001_name.sql", NAME, "0002_branch.sql",
                                 "CREATE TABLE \"branch\" (\"id\" int);", NULL);
    rh_err err;
    rh_git_history h = {.from = {.label = "v1"}, .to = {.label = "v2"}, .migrations = "drizzle"};
    assert_int_equal(rh_folder_load_dir(&h.a, before, dz->read, &err), 0);
    assert_int_equal(rh_folder_load_dir(&h.b, after, dz->read, &err), 0);
    dz->history_findings(&h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.n_hazards, 1);
    assert_int_equal(h.items[0].kind, RH_HIST_TOOL);
    assert_string_equal(rh_hist_code(&h.items[0]), "skipped-in-production");
    assert_string_equal(h.items[0].name, "0002_branch");
    assert_string_equal(h.items[0].file, "drizzle/0002_branch.sql");
    assert_string_equal(h.items[0].message, "0002_branch: new at v2, but its journal `when` 1700000050000 is not later "
                                            "than v1's newest entry 0001_name (1700000100000): drizzle-kit migrate on a "
                                            "database deployed at v1 passes over it without a word");
    rh_hist_free_findings(&h);
    rh_migset_free(&h.a), rh_migset_free(&h.b);

    char *d = folder("20240101000000_t.sql", "-- migrate:up\ncreate table t(a int);\n-- migrate:down\ndrop table t;\n",
                     "20240102000000_i.sql",
                     "-- migrate:up\ncreate index concurrently i on t(a);\n-- migrate:down\ndrop index i;\n",
                     "20240103000000_j.sql", "-- migrate:up transaction:false\ncreate index concurrently j on t(a);\n"
                     "select 1;\n-- migrate:down\ndrop index j;\n", NULL);
    rh_git_history g = {.from = {.label = "v1"}, .to = {.label = "v2"}, .migrations = "db/migrations"};
    assert_int_equal(rh_folder_load_dir(&g.b, d, db->read, &err), 0); /* nothing at v1: every file is new */
    db->history_findings(&g);
    assert_int_equal(g.n, 2);
    assert_string_equal(rh_hist_code(&g.items[0]), "concurrently-in-transaction");
    assert_string_equal(g.items[0].file, "db/migrations/20240102000000_i.sql");
    const char *said = "20240102000000_i.sql: new at v2: CONCURRENTLY inside the transaction";
    assert_true(strncmp(g.items[0].message, said, strlen(said)) == 0);
    assert_string_equal(rh_hist_code(&g.items[1]), "concurrently-with-other-statements");
    assert_non_null(strstr(g.items[1].message, "sends the up section's 2 statements as ONE query"));
    rh_hist_free_findings(&g);
    rh_migset_free(&g.b);
    free(before), free(after), free(d);
}

/* The findings of one tool between two folders as history --tool writes them: the common ones, then the tool's. */
static void tool_history(const rh_tool *t, const char *from_dir, const char *to_dir, rh_git_history *h)
{
    rh_err err;
    memset(h, 0, sizeof *h);
    snprintf(h->from.label, sizeof h->from.label, "v1");
    snprintf(h->to.label, sizeof h->to.label, "v2");
    h->migrations = "m", h->tool = t->name;
    assert_int_equal(rh_folder_load_dir(&h->a, from_dir, t->read, &err), 0);
    assert_int_equal(rh_folder_load_dir(&h->b, to_dir, t->read, &err), 0);
    rh_tool_history_changed(t, h);
    t->history_findings(h);
}

static void tool_history_free(rh_git_history *h)
{
    rh_hist_free_findings(h);
    rh_migset_free(&h->a), rh_migset_free(&h->b);
}

/*
 * A file renamed (same bytes, new name) is what the tool makes of it (checked with the real CLIs,
 * tests/conformance/{dbmate,drizzle}): dbmate keys on the version, drizzle-kit on the journal's `when`;
 * neither is a "removed" file. The common findings (edited, removed) have one writer.
 */
static void a_rename_is_what_the_tool_makes_of_it(void **state)
{
    (void)state;
    const rh_tool *db = rh_tool_find("dbmate"), *dz = rh_tool_find("drizzle");
    const char *T = "-- migrate:up\ncreate table t (v int);\n-- migrate:down\n";
    const char *ONE = "-- migrate:up\ninsert into t values (1);\n-- migrate:down\n";
    char *before = folder("20240101000000_t.sql", T, "20240102000000_one.sql", ONE, NULL);
    char *same = folder("20240101000000_t.sql", T, "20240102000000_insert_one.sql", ONE, NULL);
    char *newer = folder("20240101000000_t.sql", T, "20240103000000_insert_one.sql", ONE, NULL);
    rh_git_history h;
    tool_history(db, before, same, &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.n_hazards, 0); /* dbmate finds version 20240102000000 applied: nothing runs again */
    assert_int_equal(h.items[0].kind, RH_HIST_RENAMED);
    assert_string_equal(h.items[0].name, "20240102000000_insert_one.sql");
    assert_string_equal(h.items[0].other, "20240102000000_one.sql");
    assert_string_equal(h.items[0].file, "m/20240102000000_insert_one.sql");
    assert_non_null(strstr(h.items[0].message, "(same bytes, same version 20240102000000): dbmate keeps the version"));
    tool_history_free(&h);
    tool_history(db, before, newer, &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.n_hazards, 1); /* a new version: it runs again */
    assert_int_equal(h.items[0].kind, RH_HIST_RENAMED);
    assert_non_null(strstr(h.items[0].message, "runs the same SQL again as 20240103000000 (version 20240102000000's "
                                               "row stays)"));
    tool_history_free(&h);
    /* edited and removed, as before: one writer for history --tool and check */
    char *edited = folder("20240101000000_t.sql", "-- migrate:up\ncreate table t (v bigint);\n-- migrate:down\n", NULL);
    tool_history(db, before, edited, &h);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.items[0].kind, RH_HIST_EDITED);
    assert_string_equal(h.items[0].file, "m/20240101000000_t.sql");
    assert_int_equal(h.items[1].kind, RH_HIST_REMOVED);
    assert_string_equal(h.items[1].message, "20240102000000_one.sql exists at v1 but not at v2: a database deployed at v1 "
                                            "keeps what it did and its ledger row; `dbmate migrate` does not undo it");
    tool_history_free(&h);

    char *zb = drizzle_folder("{\"entries\":[" J("0000_init", 1700000000000) "," J("0001_one", 1700000100000) "]}",
                              "0000_init.sql", INIT, "0001_one.sql", NAME, NULL);
    char *zs = drizzle_folder("{\"entries\":[" J("0000_init", 1700000000000) "," J("0001_insert_one", 1700000100000) "]}",
                              "0000_init.sql", INIT, "0001_insert_one.sql", NAME, NULL);
    char *zl = drizzle_folder("{\"entries\":[" J("0000_init", 1700000000000) "," J("0001_insert_one", 1700000300000) "]}",
                              "0000_init.sql", INIT, "0001_insert_one.sql", NAME, NULL);
    tool_history(dz, zb, zs, &h);
    assert_int_equal(h.n, 1); /* not skipped-in-production, not removed */
    assert_int_equal(h.n_hazards, 0);
    assert_int_equal(h.items[0].kind, RH_HIST_RENAMED);
    assert_string_equal(h.items[0].file, "m/0001_insert_one.sql");
    assert_non_null(strstr(h.items[0].message, "passes over it: nothing runs again"));
    tool_history_free(&h);
    tool_history(dz, zb, zl, &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.n_hazards, 1);
    assert_non_null(strstr(h.items[0].message, "later than v1's newest entry 0001_one (1700000100000)"));
    tool_history_free(&h);
    free(before), free(same), free(newer), free(edited), free(zb), free(zs), free(zl);
}

/*
 * drizzle's plan asks PostgreSQL's one list too (migrations/txblock.h), statement by statement: a comment saying
 * "concurrently" is no statement, VACUUM fails in drizzle-kit's transaction (25001 on a real server).
 */
static void drizzle_asks_postgresqls_list_of_refused_statements(void **state)
{
    (void)state;
    const rh_tool *t = rh_tool_find("drizzle");
    char *dir = drizzle_folder("{\"entries\":[" J("0000_init", 1700000000000) "," J("0001_comment", 1700000100000) ","
                               J("0002_vacuum", 1700000200000) "]}",
                               "0000_init.sql", INIT, "0001_comment.sql",
                               "-- build it concurrently later\nALTER TABLE \"users\" ADD COLUMN \"name\" text;",
                               "0002_vacuum.sql", "VACUUM \"users\";", NULL);
    rh_migset set;
    rh_err err;
    assert_int_equal(rh_folder_load_dir(&set, dir, t->read, &err), 0);
    rh_plan plan;
    rh_buf out;
    rh_buf_init(&out);
    assert_int_equal(t->plan_file(&set.items[1], NULL, &plan, &out), 0); /* the old word search: 1 */
    assert_null(strstr(out.data, "25001"));
    rh_buf_free(&out);
    rh_buf_init(&out);
    assert_int_equal(t->plan_file(&set.items[2], NULL, &plan, &out), 1);
    assert_non_null(strstr(out.data, "0002_vacuum: fails with 25001: VACUUM cannot run inside drizzle-kit's transaction"));
    rh_buf_free(&out);
    PGconn *c = rh_test_fresh_db(NULL);
    rh_engine_result res;
    assert_int_equal(run_verb(t, "deploy", c, &set, &res), 1);
    assert_string_equal(res.sqlstate, "25001");
    assert_string_equal(res.failed_migration, "0002_vacuum");
    rh_engine_result_free(&res);
    PQfinish(c);
    rh_migset_free(&set);
    free(dir);
}

static void drizzle_bad_journals_are_named(void **state)
{
    (void)state;
    const rh_tool *t = rh_tool_find("drizzle");
    static const struct { const char *journal, *says; } cases[] = {
        {"{\"entries\":[" J("0000_missing", 1) "]}", "entry 0 names 0000_missing.sql, which cannot be read"},
        {"{\"entries\": 3}", "expected an \"entries\" array"},
        {"{\"entries\":[{\"tag\": 1}]}", "entry 0: expected {\"tag\": string"},
        {"not json", "meta/_journal.json: not JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir = drizzle_folder(cases[i].journal, NULL);
        rh_migset set;
        rh_err err;
        assert_int_equal(rh_folder_load_dir(&set, dir, t->read, &err), -1);
        if (!strstr(err.msg, cases[i].says) || !strstr(err.msg, "_journal.json"))
            fail_msg("case %zu: %s", i, err.msg);
        free(dir);
    }
    char *dir = drizzle_folder("{\"entries\":[" J("0000_init", 1) "]}", "0000_init.sql", INIT, "0001_stray.sql", NAME, NULL);
    rh_migset set;
    rh_err err;
    assert_int_equal(rh_folder_load_dir(&set, dir, t->read, &err), 0);
    assert_int_equal(set.n_problems, 1);
    assert_non_null(strstr(set.problems[0].text, "0001_stray.sql is not in meta/_journal.json"));
    rh_migset_free(&set);
    free(dir);
}

static int never(void *data, const char *name, size_t index, int backend_pid)
{
    (void)data, (void)name, (void)index, (void)backend_pid;
    return 0;
}

/* A before-migration hook (a --scale fill) that fails at the second file. */
static int refuse_second(void *data, const char *name, size_t index, int backend_pid)
{
    (void)name, (void)backend_pid;
    ++*(int *)data;
    return index == 1;
}

static char *value_of(PGconn *c, const char *sql)
{
    char *v = rh_test_value(c, sql);
    assert_non_null(v);
    return v;
}

/*
 * dbmate and drizzle stop before a migration whose hook fails, as Prisma's path does: the file is
 * never sent, the run says why (exit 1). Before, both ignored the hook's answer and applied the file.
 */
static void a_failed_hook_stops_dbmate_and_drizzle_before_the_file(void **state)
{
    (void)state;
    rh_err err;
    rh_engine_result res;
    int calls = 0;
    rh_engine_opts eo = {.before_migration = refuse_second, .hook_data = &calls};

    const rh_tool *db = rh_tool_find("dbmate");
    char *dir = folder("20240101000000_create_users.sql", USERS, "20240102000000_add_name.sql", ADD_NAME, NULL);
    rh_migset set;
    assert_int_equal(rh_folder_load_dir(&set, dir, db->read, &err), 0);
    PGconn *c = rh_test_fresh_db(NULL);
    rh_engine_result_init(&res);
    assert_int_equal(rh_tool_verb_find(db, "deploy")->run(c, &set, NULL, &eo, &res, &err), 1);
    assert_int_equal(calls, 2);
    assert_int_equal(res.exit_code, 1);
    assert_string_equal(res.failed_migration, "20240102000000_add_name.sql");
    assert_int_equal(res.n_applied, 1);
    assert_non_null(strstr(res.errout.data, "stopped before migration `20240102000000_add_name.sql` was sent"));
    char *v = value_of(c, "select count(*) from information_schema.columns where table_name = 'users' and column_name = 'name'");
    assert_string_equal(v, "0"); /* the second file was not sent */
    free(v);
    v = value_of(c, "select count(*) from schema_migrations");
    assert_string_equal(v, "1");
    free(v);
    rh_engine_result_free(&res);
    PQfinish(c);
    rh_migset_free(&set);
    free(dir);

    const rh_tool *dz = rh_tool_find("drizzle");
    dir = drizzle_folder("{\"entries\":[" J("0000_init", 1700000000000) "," J("0001_name", 1700000100000) "]}",
                         "0000_init.sql", INIT, "0001_name.sql", NAME, NULL);
    assert_int_equal(rh_folder_load_dir(&set, dir, dz->read, &err), 0);
    c = rh_test_fresh_db(NULL);
    calls = 0;
    rh_engine_result_init(&res);
    assert_int_equal(rh_tool_verb_find(dz, "deploy")->run(c, &set, NULL, &eo, &res, &err), 1);
    assert_int_equal(calls, 2);
    assert_int_equal(res.exit_code, 1);
    assert_string_equal(res.failed_migration, "0001_name");
    assert_int_equal(res.n_findings, 0); /* no SQL failed: the stop is said on errout, not as a failed row */
    assert_non_null(strstr(res.errout.data, "stopped before migration `0001_name` was sent"));
    v = value_of(c, "select to_regclass('users') is null"); /* one transaction: rolled back, nothing stays */
    assert_string_equal(v, "t");
    free(v);
    rh_engine_result_free(&res);
    PQfinish(c);
    rh_migset_free(&set);
    free(dir);
}

/* --migrate-command: CMD runs in a temporary copy of the folder, reaches the database, and its exit
   code and streams are the result; the copy is gone afterwards; engine hooks are refused. */
static void command_runs_in_a_copy_with_the_database_in_its_environment(void **state)
{
    (void)state;
    const rh_tool *t = rh_tool_find("command");
    char *dir = folder("db/migrations/001_a.sql", "create table from_cmd (id int);\n", "top.txt", "x", NULL);
    rh_migset set;
    rh_err err;
    assert_int_equal(rh_folder_load_dir(&set, dir, t->read, &err), 0);
    assert_int_equal(set.n, 2);
    assert_string_equal(set.items[0].name, "db/migrations/001_a.sql");
    char *dbname = NULL;
    PGconn *c = rh_test_fresh_db(&dbname);
    rh_pgbin pg;
    assert_int_equal(rh_pgbin_find(&pg, NULL, &err), 0);
    char *psql = NULL;
    if (asprintf(&psql, "%s/psql", pg.bindir) < 0)
        fail();
    char *cmd = NULL;
    if (asprintf(&cmd, "pwd >&2; '%s' -q -v ON_ERROR_STOP=1 \"$DATABASE_URL\" -f db/migrations/001_a.sql && "
                       "echo \"db=$PGDATABASE\"; echo bye >&2; exit 3", psql) < 0)
        fail();
    rh_engine_result res;
    rh_engine_result_init(&res);
    const rh_tool_verb *v = rh_tool_verb_find(t, "deploy");
    assert_int_equal(v->run(c, &set, cmd, &(rh_engine_opts){0}, &res, &err), 3);
    assert_int_equal(res.exit_code, 3);
    char *expect_out = NULL;
    if (asprintf(&expect_out, "db=%s\n", dbname) < 0)
        fail();
    assert_int_equal(res.out.len, strlen(expect_out));
    assert_memory_equal(res.out.data, expect_out, res.out.len);
    char *work = strndup(res.errout.data, res.errout.len);
    assert_non_null(strstr(work, "/rehearse-command-"));
    assert_non_null(strstr(work, "\nbye\n"));
    *strchr(work, '\n') = '\0';
    assert_false(rh_fs_exists(work)); /* the copy is removed */
    assert_null(strstr(work, dir));   /* and it was not the user's folder */
    char *val = rh_test_value(c, "select to_regclass('from_cmd') is not null");
    assert_string_equal(val, "t");
    free(val);
    rh_engine_result_free(&res);
    rh_engine_result_init(&res);
    assert_int_equal(v->run(c, &set, "true", &(rh_engine_opts){.before_migration = never}, &res, &err), -1);
    assert_non_null(strstr(err.msg, "command mode runs another program"));
    rh_engine_result_free(&res);
    free(work), free(expect_out), free(cmd), free(psql), free(dbname), free(dir);
    PQfinish(c);
    rh_migset_free(&set);
}

/* dbmate rollback: the newest applied file's down section, its row deleted; texts as dbmate 2.36 prints them. */
static void dbmate_rollback_undoes_the_newest_applied_file(void **state)
{
    (void)state;
    const rh_tool *t = rh_tool_find("dbmate");
    char *dir = folder("20240101000000_create_users.sql", USERS, "20240102000000_add_name.sql", ADD_NAME,
                       "20240103000000_bad_down.sql",
                       "-- migrate:up\ncreate table t3 (id int);\n-- migrate:down\ndrop table nosuch;\n", NULL);
    rh_migset set;
    rh_err err;
    assert_int_equal(rh_folder_load_dir(&set, dir, t->read, &err), 0);
    PGconn *c = rh_test_fresh_db(NULL);
    rh_engine_result res;
    /* nothing applied yet: dbmate's error, exit 2 */
    assert_int_equal(run_verb(t, "rollback", c, &set, &res), 2);
    assert_string_equal(res.errout.data, "Error: can't rollback: no migrations have been applied\n");
    rh_engine_result_free(&res);
    assert_int_equal(run_verb(t, "deploy", c, &set, &res), 0);
    rh_engine_result_free(&res);
    /* a failing down section: both lines printed, the error, exit 2, the row stays */
    assert_int_equal(run_verb(t, "rollback", c, &set, &res), 2);
    assert_non_null(strstr(res.out.data, "Rolling back: 20240103000000_bad_down.sql\nRolled back: "
                                         "20240103000000_bad_down.sql in "));
    assert_string_equal(res.errout.data, "Error: pq: table \"nosuch\" does not exist (42P01)\n");
    rh_engine_result_free(&res);
    char *v = rh_test_value(c, "select count(*) from schema_migrations");
    assert_string_equal(v, "3");
    free(v);
    /* with that row gone by hand, the next rollback takes 0102 and drops its column */
    PQclear(PQexec(c, "delete from schema_migrations where version = '20240103000000'"));
    assert_int_equal(run_verb(t, "rollback", c, &set, &res), 0);
    assert_int_equal(strncmp(res.out.data, "Rolling back: 20240102000000_add_name.sql\n", 42), 0);
    rh_engine_result_free(&res);
    v = rh_test_value(c, "select string_agg(version, ',') from schema_migrations");
    assert_string_equal(v, "20240101000000");
    free(v);
    v = rh_test_value(c, "select count(*) from information_schema.columns where table_name = 'users' and column_name = 'name'");
    assert_string_equal(v, "0");
    free(v);
    PQfinish(c);
    rh_migset_free(&set);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry_finds_tools_by_name),
        cmocka_unit_test(a_large_migration_reads_on_disk_as_at_a_revision),
        cmocka_unit_test(checksum_comparison_is_the_tools_rule),
        cmocka_unit_test(profiles_are_the_tools),
        cmocka_unit_test(plan_hook_takes_the_profile),
        cmocka_unit_test(detection_names_the_one_tool_or_says_why_not),
        cmocka_unit_test(prisma_behind_the_interface_is_the_engine),
        cmocka_unit_test(dbmate_migrate_stops_at_a_failing_file_with_exit_2),
        cmocka_unit_test(dbmate_concurrently_needs_transaction_false_and_a_file_of_its_own),
        cmocka_unit_test(dbmate_asks_postgresqls_list_of_refused_statements),
        cmocka_unit_test(dbmate_marker_errors_are_dbmates),
        cmocka_unit_test(dbmate_rollback_undoes_the_newest_applied_file),
        cmocka_unit_test(drizzle_migrate_is_one_transaction_and_silent_on_failure),
        cmocka_unit_test(drizzle_skips_an_entry_with_an_older_when_and_says_so),
        cmocka_unit_test(history_findings_are_structured_for_every_tool),
        cmocka_unit_test(a_rename_is_what_the_tool_makes_of_it),
        cmocka_unit_test(drizzle_asks_postgresqls_list_of_refused_statements),
        cmocka_unit_test(drizzle_bad_journals_are_named),
        cmocka_unit_test(command_runs_in_a_copy_with_the_database_in_its_environment),
        cmocka_unit_test(a_failed_hook_stops_dbmate_and_drizzle_before_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
