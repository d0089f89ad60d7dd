/*
 * test_security.c — containment of untrusted migrations (issue 17.1), played as attacks:
 * COPY ... TO PROGRAM from a migration is refused by default and works only with --superuser;
 * a migration running programs as the server's OS account (with --superuser) cannot log into
 * another cluster of the same account, kept or not; no cluster trusts anyone (pg_hba.conf);
 * the default role is a managed service's migration user (owns its database, creates schemas and
 * trusted extensions, reads no server files); a scenario's `superuser` line opts in, and says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "testlib.h"
#include "util/fs.h"

/* A migrations folder with one migration holding sql; returns the folder (caller frees). */
static char *migrations_with(const char *name, const char *sql)
{
    char *dir = rh_xasprintf("%s/%s", rh_test_tmpdir(), name);
    char *file = rh_xasprintf("%s/20250101000000_attack/migration.sql", dir);
    rh_test_write_file(file, sql);
    free(file);
    return dir;
}

static int deploy(const char *migrations, int superuser, char **out, char **err)
{
    char *argv[] = {REHEARSE_BIN, "deploy", "--migrations-dir", (char *)migrations,
                    superuser ? "--superuser" : NULL, NULL};
    return rh_test_run(argv, NULL, out, err);
}

/* A file the server's account can create: /tmp is world-writable. */
static char *marker_path(const char *what)
{
    return rh_xasprintf("/tmp/rehearse-attack-%d-%s", (int)getpid(), what);
}

static void test_copy_to_program_refused_by_default(void **state)
{
    (void)state;
    char *marker = marker_path("copy");
    unlink(marker);
    /* the program reads what COPY writes: one that exits first makes the server's write fail with EPIPE
     * ("could not close pipe to external command"), a race a loaded machine lost under ASan */
    char *sql = rh_xasprintf("COPY (SELECT 1) TO PROGRAM 'cat >/dev/null; id > %s';\n", marker);
    char *dir = migrations_with("copy-program", sql);
    char *out, *err;
    int rc = deploy(dir, 0, &out, &err);
    if (rc != 1 || !strstr(err, "pg_execute_server_program")) {
        fprintf(stderr, "rc=%d\n%s\n%s\n", rc, out, err);
        fail();
    }
    assert_false(rh_fs_exists(marker));
    free(out), free(err);

    /* --superuser opts in, and says so */
    rc = deploy(dir, 1, &out, &err);
    if (rc != 0) {
        fprintf(stderr, "rc=%d\n%s\n%s\n", rc, out, err);
        fail();
    }
    assert_non_null(strstr(err, "superuser"));
    assert_true(rh_fs_exists(marker));
    unlink(marker);
    free(out), free(err);
    free(sql);
    free(dir);
    free(marker);
}

/*
 * Cluster B runs (and is kept: its pgpass file exists; the owner gets in with the printed line). A migration of cluster A, with --superuser,
 * runs psql as the server's OS account against B's socket, as each role, with and without B's
 * pgpass file. Before per-cluster passwords, trust authentication let it create a table in B.
 */
static void test_cluster_cannot_log_into_another(void **state)
{
    (void)state;
    rh_cluster *b;
    rh_err e;
    rh_cluster_opts opts = {0};
    assert_int_equal(rh_cluster_start(&b, &opts, &e), 0);
    char *bdir = rh_xstrdup(rh_cluster_dir(b));
    char *bid = rh_xstrdup(rh_cluster_id(b));
    char *bconninfo = rh_xstrdup(rh_cluster_conninfo(b));
    char *bindir = rh_xstrdup(rh_cluster_pgbin(b)->bindir);
    char *psql = rh_xasprintf("%s/psql", bindir);
    rh_cluster_keep(b);

    /* the owner gets in with what `rehearse clusters` prints (its password is in ID.pgpass) */
    char *argv_list[] = {REHEARSE_BIN, "clusters", NULL};
    char *listing = NULL;
    assert_int_equal(rh_test_run(argv_list, NULL, &listing, NULL), 0);
    char *want = rh_xasprintf("PGPASSFILE='%s.pgpass' psql -h '%s' -p 5432 -U 'migrator' postgres", bdir, bdir);
    if (!strstr(listing, want))
        fail_msg("`rehearse clusters` does not print %s:\n%s", want, listing);
    char *shell = rh_xasprintf("PATH=%s:$PATH %s -X -A -t -w -c 'select current_user'", bindir, want);
    char *argv_sh[] = {"/bin/sh", "-c", shell, NULL};
    char *who = NULL;
    assert_int_equal(rh_test_run(argv_sh, NULL, &who, NULL), 0);
    assert_string_equal(who, "migrator\n");
    free(who), free(shell);
    /* a kept cluster has libpq's standard 4096-iteration secrets: clients like Go's lib/pq refuse fewer */
    shell = rh_xasprintf("PGPASSFILE='%s.pgpass' %s -X -A -t -w -h '%s' -U postgres -d postgres -c \"select "
                         "string_agg(rolname || ' ' || split_part(rolpassword, ':', 1), ',' order by rolname) "
                         "from pg_authid where rolname in ('migrator', 'postgres')\"",
                         bdir, psql, bdir);
    char *argv_sh2[] = {"/bin/sh", "-c", shell, NULL};
    assert_int_equal(rh_test_run(argv_sh2, NULL, &who, NULL), 0);
    assert_string_equal(who, "migrator SCRAM-SHA-256$4096,postgres SCRAM-SHA-256$4096\n");
    free(who), free(shell), free(want), free(listing);

    char *marker = marker_path("cross");
    unlink(marker);
    rh_buf sql;
    rh_buf_init(&sql);
    const char *roles[] = {"postgres", "migrator"};
    for (int i = 0; i < 2; i++)
        for (int withpass = 0; withpass < 2; withpass++)
            rh_buf_printf(&sql,
                          "COPY (SELECT 1) TO PROGRAM 'cat >/dev/null; %s%s.pgpass %s -w -h %s -p 5432 -U %s -d postgres "
                          "-c \"CREATE TABLE pwned_%d_%d (x int)\" >> %s 2>&1; cat %s.pgpass >> %s 2>&1; true';\n",
                          withpass ? "PGPASSFILE=" : "PGNOTHING=", bdir, psql, bdir, roles[i], i, withpass, marker,
                          bdir, marker);
    char *dir = migrations_with("cross-cluster", sql.data);
    char *out, *err;
    int rc = deploy(dir, 1, &out, &err);
    if (rc != 0) {
        fprintf(stderr, "rc=%d\n%s\n%s\n", rc, out, err);
        fail();
    }
    /* the programs ran (so the attack was really tried) and were refused */
    char *log = NULL;
    assert_int_equal(rh_fs_read(marker, &log, NULL, &e), 0);
    assert_non_null(strstr(log, "password"));
    if (geteuid() == 0) /* root's pgpass file is not readable by the server's account */
        assert_null(strstr(log, ":5432:"));

    PGconn *conn = PQconnectdb(bconninfo);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    char *n = rh_test_value(conn, "select count(*) from pg_class where relname like 'pwned%'");
    assert_string_equal(n, "0");
    free(n);
    PQfinish(conn);

    assert_int_equal(rh_cluster_stop_id(bid, &e), 0);
    unlink(marker);
    free(log), free(out), free(err), free(dir), free(marker), free(psql), free(bconninfo), free(bid), free(bdir);
    free(bindir);
    rh_buf_free(&sql);
}

/* Only password (scram-sha-256) lines: no trust, in the cluster and in the template it came from. */
static void test_no_trust_in_pg_hba(void **state)
{
    (void)state;
    rh_cluster *c;
    rh_err e;
    rh_cluster_opts opts = {0};
    assert_int_equal(rh_cluster_start(&c, &opts, &e), 0);
    char *path = rh_xasprintf("%s/data/pg_hba.conf", rh_cluster_dir(c));
    char *text = NULL;
    assert_int_equal(rh_fs_read(path, &text, NULL, &e), 0);
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (!*line || *line == '#')
            continue;
        lines++;
        assert_null(strstr(line, "trust"));
        assert_null(strstr(line, "peer"));
        assert_non_null(strstr(line, "scram-sha-256"));
    }
    assert_true(lines > 0);
    free(text);
    free(path);

    /* the superuser's password is the cluster's own: the psql line alone does not get in */
    char *conninfo = rh_xasprintf("host=%s port=5432 user=postgres dbname=postgres", rh_cluster_dir(c));
    PGconn *conn = PQconnectdb(conninfo);
    assert_int_not_equal(PQstatus(conn), CONNECTION_OK);
    PQfinish(conn);
    free(conninfo);
    assert_int_equal(rh_cluster_stop(c, &e), 0);
}

/* The default role: a managed service's migration user. */
static void test_migration_role_shape(void **state)
{
    (void)state;
    rh_cluster *c;
    rh_err e;
    rh_cluster_opts opts = {0};
    assert_int_equal(rh_cluster_start(&c, &opts, &e), 0);
    assert_false(rh_cluster_is_superuser(c));
    assert_int_equal(rh_cluster_create_db(c, "app", &e), 0);
    PGconn *conn = rh_cluster_connect(c, "app", &e);
    assert_non_null(conn);
    char *v = rh_test_value(conn, "select current_user || ' ' || rolsuper || ' ' || rolcreaterole || ' ' || "
                                  "pg_has_role('pg_execute_server_program', 'member') || ' ' || "
                                  "pg_has_role('pg_read_server_files', 'member') || ' ' || "
                                  "(select pg_get_userbyid(datdba) from pg_database where datname = current_database()) "
                                  "from pg_roles where rolname = current_user");
    assert_string_equal(v, "migrator false false false false migrator");
    free(v);
    /* what migrations do: schemas, trusted extensions, tables in public */
    rh_test_exec(conn, "create schema audit; create extension citext; create extension pgcrypto with schema audit; "
                       "create table public.t (x citext)");
    /* what they must not */
    const char *denied[] = {"select pg_read_file('/etc/passwd')", "copy public.t from '/etc/hostname'",
                            "copy (select 1) to program 'true'", "create extension file_fdw",
                            "alter system set fsync = on", "create role intruder superuser"};
    for (size_t i = 0; i < sizeof denied / sizeof *denied; i++) {
        PGresult *r = PQexec(conn, denied[i]);
        if (PQresultStatus(r) != PGRES_FATAL_ERROR)
            fail_msg("allowed to the migration role: %s", denied[i]);
        PQclear(r);
    }
    PQfinish(conn);
    assert_int_equal(rh_cluster_stop(c, &e), 0);

    /* --superuser: the user's role is the superuser */
    opts.superuser = 1;
    assert_int_equal(rh_cluster_start(&c, &opts, &e), 0);
    assert_true(rh_cluster_is_superuser(c));
    conn = rh_cluster_connect(c, NULL, &e);
    v = rh_test_value(conn, "select current_user || ' ' || rolsuper from pg_roles where rolname = current_user");
    assert_string_equal(v, "postgres true");
    free(v);
    PQfinish(conn);
    assert_int_equal(rh_cluster_stop(c, &e), 0);
}

/* A scenario opts in with `superuser`; the report says so; without it the same SQL is refused. */
static void test_scenario_superuser_line(void **state)
{
    (void)state;
    char *dir = rh_xasprintf("%s/scenarios", rh_test_tmpdir());
    char *with = rh_xasprintf("%s/with/s.scenario", dir), *without = rh_xasprintf("%s/without/s.scenario", dir);
    rh_test_write_file(with, "superuser\nsql \"copy (select 1) to program 'cat > /dev/null'\"\n");
    rh_test_write_file(without, "sql \"copy (select 1) to program 'cat > /dev/null'\" => error 42501\n");
    char *wdir = rh_xasprintf("%s/with", dir), *wodir = rh_xasprintf("%s/without", dir);
    char *argv1[] = {REHEARSE_BIN, "run", wdir, NULL};
    char *out, *err;
    int rc = rh_test_run(argv1, NULL, &out, &err);
    if (rc != 0 || !strstr(out, "as superuser")) {
        fprintf(stderr, "rc=%d\n%s\n%s\n", rc, out, err);
        fail();
    }
    free(out), free(err);
    char *argv2[] = {REHEARSE_BIN, "run", "--format", "json", wodir, NULL};
    rc = rh_test_run(argv2, NULL, &out, &err);
    if (rc != 0 || strstr(out, "superuser")) {
        fprintf(stderr, "rc=%d\n%s\n%s\n", rc, out, err);
        fail();
    }
    free(out), free(err);
    /* --superuser for every scenario */
    char *argv3[] = {REHEARSE_BIN, "run", "--superuser", "--format", "json", wdir, NULL};
    rc = rh_test_run(argv3, NULL, &out, &err);
    if (rc != 0 || !strstr(out, "\"superuser\":true")) {
        fprintf(stderr, "rc=%d\n%s\n%s\n", rc, out, err);
        fail();
    }
    free(out), free(err);
    free(with), free(without), free(wdir), free(wodir), free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_to_program_refused_by_default),
        cmocka_unit_test(test_cluster_cannot_log_into_another),
        cmocka_unit_test(test_no_trust_in_pg_hba),
        cmocka_unit_test(test_migration_role_shape),
        cmocka_unit_test(test_scenario_superuser_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
