/*
 * test_cluster.c — the cluster engine against real PostgreSQL servers: start, query, stop; several
 * at once; the server account when root; missing binaries; concurrent template builds; and no
 * cluster left behind when rehearse is interrupted or killed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "cluster/internal.h"
#include "testlib.h"
#include "util/buf.h"
#include "util/fs.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait for a path to disappear and a pid to die; true if both happened. The bound (5 min) is a guard
   against a hang, not a timing: under valgrind on a loaded machine a watchdog's cleanup took seconds. */
static int gone_eventually(const char *dir, pid_t pid)
{
    for (int waited = 0; waited < 300000; waited += 10) {
        if (!rh_fs_exists(dir) && !rh_proc_alive(pid))
            return 1;
        sleep_ms(10);
    }
    return 0;
}

static void test_start_query_stop(void **state)
{
    rh_cluster *c;
    rh_err err;
    rh_cluster_opts opts = {0};
    assert_int_equal(rh_cluster_start(&c, &opts, &err), 0);
    char *dir = rh_xstrdup(rh_cluster_dir(c));
    pid_t pid = rh_cluster_pid(c);
    assert_true(rh_proc_alive(pid));

    PGconn *conn = rh_cluster_connect(c, NULL, &err);
    assert_non_null(conn);
    char *v = rh_test_value(conn, "select current_setting('fsync') || ' ' || current_setting('listen_addresses') || '|'");
    assert_string_equal(v, "off |");
    free(v);
    v = rh_test_value(conn, "select current_user");
    assert_string_equal(v, "migrator");
    free(v);
    PQfinish(conn);

    /* the socket directory is private */
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    assert_int_equal(rh_cluster_stop(c, &err), 0);
    assert_false(rh_fs_exists(dir));
    assert_false(rh_proc_alive(pid));
    free(dir);
}

/*
 * A start waits for the server by its postmaster.pid ("ready", as pg_ctl -w): the passwords' connection is
 * the first the server sees. Before, the start pinged (PQping every 2 ms): a backend forked for the ping
 * that answered, and one more for each "the database system is starting up" refusal before it (>= 2 here).
 */
static void test_start_forks_no_backend_to_wait(void **state)
{
    (void)state;
    rh_cluster *c;
    rh_err err;
    const char *settings[] = {"log_connections=on", NULL};
    rh_cluster_opts opts = {.settings = settings};
    assert_int_equal(rh_cluster_start(&c, &opts, &err), 0);
    rh_buf log;
    rh_buf_init(&log);
    rh_cluster_log_tail(c, &log, 1000);
    int received = 0;
    for (const char *p = log.data; p && (p = strstr(p, "connection received")); p++)
        received++;
    if (received != 1)
        fail_msg("%d connections before the start returned (1: the passwords'):\n%s", received, log.data);
    rh_buf_free(&log);
    PGconn *conn = rh_cluster_connect(c, NULL, &err);
    assert_non_null(conn);
    PQfinish(conn);
    assert_int_equal(rh_cluster_stop(c, &err), 0);
}

/*
 * rh_cluster_stop removes the databases' files while the server exits (immediate shutdown), then the rest
 * after the wait. A backend still writing (a table being filled, a sort spilling to base/pgsql_tmp) when
 * the stop begins must leave neither a file nor a process: the first pass may race it, the second cleans up.
 */
static void test_stop_while_a_backend_writes_leaves_nothing(void **state)
{
    (void)state;
    rh_cluster *c;
    rh_err err;
    rh_cluster_opts opts = {0};
    assert_int_equal(rh_cluster_start(&c, &opts, &err), 0);
    char *dir = rh_xstrdup(rh_cluster_dir(c));
    pid_t pid = rh_cluster_pid(c);
    PGconn *conn = rh_cluster_connect(c, NULL, &err);
    assert_non_null(conn);
    rh_test_exec(conn, "SET work_mem = '64kB'");
    assert_int_equal(PQsendQuery(conn, "CREATE TABLE filling AS SELECT g, md5(g::text) AS m FROM "
                                       "generate_series(1, 3000000) g ORDER BY md5(g::text)"), 1);
    /* until the backend has written something of its own under base/ */
    char *tmp = rh_xasprintf("%s/data/base/pgsql_tmp", dir);
    for (int i = 0; i < 5000 && !rh_fs_exists(tmp); i++)
        usleep(2000);
    free(tmp);
    PQconsumeInput(conn);
    assert_true(PQisBusy(conn)); /* still at work when the stop begins */
    assert_int_equal(rh_cluster_stop(c, &err), 0);
    assert_false(rh_fs_exists(dir));
    assert_false(rh_proc_alive(pid));
    PQfinish(conn);
    free(dir);
}

/*
 * rh_cluster_cpu_s (bench scale's CPU figures): the server's CPU grows by what a backend burnt, also once
 * that backend has exited (its times then live in the postmaster's reaped-children times). The first
 * version read 0.02 - 0.03 s after 0.66 - 0.80 s (under valgrind every time): the backend was reaped
 * between the read of the postmaster's times and the scan of its children; the scan is now repeated
 * until the postmaster's times are the same before and after it.
 */
static void test_server_cpu_counts_exited_backends(void **state)
{
    (void)state;
    rh_cluster *c;
    rh_err err;
    rh_cluster_opts opts = {0};
    assert_int_equal(rh_cluster_start(&c, &opts, &err), 0);
    double before = rh_cluster_cpu_s(c);
    assert_true(before >= 0);
    PGconn *conn = rh_cluster_connect(c, NULL, &err);
    assert_non_null(conn);
    char *v = rh_test_value(conn, "SELECT count(*) FROM generate_series(1, 5000000)");
    assert_string_equal(v, "5000000");
    free(v);
    PQfinish(conn); /* the backend exits, then the postmaster reaps it */
    double after = rh_cluster_cpu_s(c);
    assert_int_equal(rh_cluster_stop(c, &err), 0);
    if (after < before + 0.1) /* counting 5 000 000 rows costs the backend far more than 0.1 s of CPU */
        fail_msg("server CPU %.2f s before, %.2f s after a backend counted 5 000 000 rows", before, after);
}

static void test_two_clusters_at_once(void **state)
{
    rh_cluster *a, *b;
    rh_err err;
    rh_cluster_opts opts = {0};
    assert_int_equal(rh_cluster_start(&a, &opts, &err), 0);
    assert_int_equal(rh_cluster_start(&b, &opts, &err), 0);
    assert_string_not_equal(rh_cluster_dir(a), rh_cluster_dir(b));
    PGconn *ca = rh_cluster_connect(a, NULL, &err), *cb = rh_cluster_connect(b, NULL, &err);
    assert_non_null(ca);
    assert_non_null(cb);
    rh_test_exec(ca, "create table only_in_a(x int)");
    char *v = rh_test_value(cb, "select count(*) from pg_class where relname = 'only_in_a'");
    assert_string_equal(v, "0");
    free(v);
    PQfinish(ca);
    PQfinish(cb);
    assert_int_equal(rh_cluster_stop(a, &err), 0);
    assert_int_equal(rh_cluster_stop(b, &err), 0);
}

static void test_server_runs_unprivileged_when_root(void **state)
{
    if (geteuid() != 0)
        skip();
    rh_cluster *c;
    rh_err err;
    rh_cluster_opts opts = {0};
    assert_int_equal(rh_cluster_start(&c, &opts, &err), 0);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", (int)rh_cluster_pid(c));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_not_equal(st.st_uid, 0);
    assert_int_equal(rh_cluster_stop(c, &err), 0);

    rh_runas ra;
    assert_int_equal(rh_runas_resolve(&ra, "no-such-account-xyz", &err), -1);
    assert_non_null(strstr(err.msg, "no-such-account-xyz"));
    assert_int_equal(rh_runas_resolve(&ra, "root", &err), -1);
    assert_non_null(strstr(err.msg, "root"));
}

static void test_binaries_not_found(void **state)
{
    rh_pgbin bin;
    rh_err err;
    const char *dir = rh_test_tmpdir();
    assert_int_equal(rh_pgbin_find(&bin, dir, &err), -1);
    assert_non_null(strstr(err.msg, dir));
    assert_non_null(strstr(err.msg, "initdb"));

    /* With PATH and PG_BINDIR pointing nowhere the message lists what was tried. */
    assert_int_equal(rh_pgbin_find(&bin, NULL, &err), 0); /* found on this machine */
    assert_true(bin.major >= 10);
    setenv("PG_BINDIR", dir, 1);
    assert_int_equal(rh_pgbin_find(&bin, NULL, &err), 0); /* falls through to the next place */
    unsetenv("PG_BINDIR");
}

/* Two processes that build the same (new) template cache at once both end up with a good one. */
static void test_concurrent_template_build(void **state)
{
    const char *cache = rh_test_tmpdir();
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            rh_cluster *c;
            rh_err err;
            rh_cluster_opts opts = {.cache_dir = cache};
            if (rh_cluster_start(&c, &opts, &err) < 0) {
                fprintf(stderr, "child %d: %s\n", i, err.msg);
                _exit(1);
            }
            PGconn *conn = rh_cluster_connect(c, NULL, &err);
            int ok = conn && PQstatus(conn) == CONNECTION_OK;
            PQfinish(conn);
            rh_cluster_stop(c, &err);
            _exit(ok ? 0 : 1);
        }
    }
    for (int i = 0; i < 2; i++) {
        int status;
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
}

/* A template whose build was interrupted (no marker) is rebuilt, not used. */
static void test_partial_template_rebuilt(void **state)
{
    const char *cache = rh_test_tmpdir();
    rh_pgbin bin;
    rh_err err;
    assert_int_equal(rh_pgbin_find(&bin, NULL, &err), 0);
    rh_cluster_opts opts = {.cache_dir = cache};
    char *path = NULL;
    assert_int_equal(rh_template_ensure(&bin, &opts, &path, &err), 0);
    /* damage it: drop the marker and a catalog file, as a killed copy would */
    char *marker = rh_xasprintf("%s/REHEARSE_TEMPLATE", path);
    char *control = rh_xasprintf("%s/data/global/pg_control", path);
    assert_int_equal(unlink(marker), 0);
    assert_int_equal(unlink(control), 0);
    char *again = NULL;
    assert_int_equal(rh_template_ensure(&bin, &opts, &again, &err), 0);
    assert_string_equal(path, again);
    assert_true(rh_fs_exists(marker));
    assert_true(rh_fs_exists(control));
    free(marker);
    free(control);
    free(path);
    free(again);
}

/* Cut a file to half its size (a full disk, a killed writer). */
static void truncate_half(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size / 2), 0);
}

/*
 * A complete template (marker in place) whose pg_control, PG_VERSION, a catalog file or pg_hba.conf
 * was damaged afterwards is noticed through its manifest and rebuilt: the next cluster starts and
 * answers. Before the manifest, each of these failed every later run (PANIC, "not a valid data
 * directory", no pg_hba.conf entry) without naming the cache.
 */
static void test_damaged_template_rebuilt(void **state)
{
    const char *cache = rh_test_tmpdir();
    rh_cluster_opts opts = {.cache_dir = cache};
    rh_pgbin bin;
    rh_err err;
    assert_int_equal(rh_pgbin_find(&bin, NULL, &err), 0);
    char *path = NULL;
    assert_int_equal(rh_template_ensure(&bin, &opts, &path, &err), 0);
    /* base/5 is the postgres database (the one connected to); 1259 is pg_class's file in a fresh initdb */
    const char *victims[] = {"global/pg_control", "PG_VERSION", "base/5/1259", "pg_hba.conf"};
    for (size_t i = 0; i < sizeof victims / sizeof *victims; i++) {
        char *file = rh_xasprintf("%s/data/%s", path, victims[i]);
        truncate_half(file);
        rh_cluster *c = NULL;
        if (rh_cluster_start(&c, &opts, &err) != 0)
            fail_msg("after damaging %s: %s", victims[i], err.msg);
        PGconn *conn = rh_cluster_connect(c, NULL, &err);
        if (!conn)
            fail_msg("after damaging %s: %s", victims[i], err.msg);
        char *v = rh_test_value(conn, "select count(*) > 50 from pg_class");
        assert_string_equal(v, "t");
        free(v);
        PQfinish(conn);
        assert_int_equal(rh_cluster_stop(c, &err), 0);
        /* the template was rebuilt whole */
        struct stat st;
        assert_int_equal(stat(file, &st), 0);
        assert_true(st.st_size > 0);
        free(file);
    }
    free(path);
}

/* A first template build in a run folder made 0700 (by mkdtemp, as here) works: initdb reaches its workdir. */
static void test_template_build_in_private_run_dir(void **state)
{
    assert_int_equal(chmod(rh_cluster_run_dir(), 0700), 0);
    rh_cluster_opts opts = {.cache_dir = rh_test_tmpdir()};
    rh_pgbin bin;
    rh_err err;
    assert_int_equal(rh_pgbin_find(&bin, NULL, &err), 0);
    char *path = NULL;
    if (rh_template_ensure(&bin, &opts, &path, &err) != 0)
        fail_msg("%s", err.msg);
    free(path);
}

/* Errors that may come from the cache name it: a failed build, a server that does not start. */
static void test_cache_named_in_errors(void **state)
{
    const char *cache = rh_test_tmpdir();
    rh_cluster *c = NULL;
    rh_err err;
    rh_cluster_opts bad_locale = {.cache_dir = cache, .locale = "xx_NO.such-locale"};
    assert_int_equal(rh_cluster_start(&c, &bad_locale, &err), -1);
    assert_non_null(strstr(err.msg, cache));
    assert_non_null(strstr(err.msg, "initdb"));

    const char *settings[] = {"shared_buffers=not-a-size", NULL};
    rh_cluster_opts bad_setting = {.cache_dir = cache, .settings = settings};
    assert_int_equal(rh_cluster_start(&c, &bad_setting, &err), -1);
    assert_non_null(strstr(err.msg, cache));
    assert_non_null(strstr(err.msg, "shared_buffers"));
}

/*
 * A child plays rehearse: it starts a cluster, reports the directory and server pid through a
 * pipe, and then waits to be killed (or interrupted) by the test.
 */
static pid_t child_with_cluster(char *dir, size_t dirlen, pid_t *server, int install_handlers)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        if (install_handlers)
            rh_cluster_install_signal_handlers();
        rh_cluster *c;
        rh_err err;
        rh_cluster_opts opts = {0};
        if (rh_cluster_start(&c, &opts, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            _exit(1);
        }
        dprintf(p[1], "%d %s\n", (int)rh_cluster_pid(c), rh_cluster_dir(c));
        close(p[1]);
        for (;;)
            pause();
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    int spid = 0;
    assert_int_equal(fscanf(f, "%d %4095s", &spid, dir), 2);
    fclose(f);
    (void)dirlen;
    *server = spid;
    assert_true(rh_proc_alive(spid));
    assert_true(rh_fs_exists(dir));
    return pid;
}

static void test_sigkill_leaves_nothing(void **state)
{
    char dir[4096];
    pid_t server;
    pid_t kid = child_with_cluster(dir, sizeof dir, &server, 0);
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);
    assert_true(gone_eventually(dir, server));
}

static void test_sigint_cleans_up_before_exit(void **state)
{
    int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        char dir[4096];
        pid_t server;
        pid_t kid = child_with_cluster(dir, sizeof dir, &server, 1);
        kill(kid, sigs[i]);
        int status;
        assert_int_equal(waitpid(kid, &status, 0), kid);
        /* died of the signal, as a well-behaved program does ... */
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), sigs[i]);
        /* ... and only after its cluster was gone */
        assert_false(rh_fs_exists(dir));
        assert_true(gone_eventually(dir, server));
    }
}

/* If even the watchdog dies with rehearse, the next start reaps the leftover. */
static void test_leftover_reaped_at_next_start(void **state)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t kid = fork();
    if (kid == 0) {
        close(p[0]);
        rh_cluster *c;
        rh_err err;
        rh_cluster_opts opts = {0};
        if (rh_cluster_start(&c, &opts, &err) < 0)
            _exit(1);
        kill(rh_watchdog_pid(), SIGKILL);
        waitpid(rh_watchdog_pid(), NULL, 0);
        dprintf(p[1], "%d %s\n", (int)rh_cluster_pid(c), rh_cluster_dir(c));
        _exit(0);
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    char dir[4096];
    int spid = 0;
    assert_int_equal(fscanf(f, "%d %4095s", &spid, dir), 2);
    fclose(f);
    waitpid(kid, NULL, 0);
    sleep_ms(100);
    assert_true(rh_fs_exists(dir)); /* left behind: nobody was there to clean */

    rh_cluster_info *list;
    size_t n;
    rh_err err;
    assert_int_equal(rh_cluster_list(&list, &n, &err), 0);
    int seen = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].dir, dir) == 0) {
            seen = 1;
            assert_false(list[i].owner_alive);
            assert_false(list[i].kept);
        }
    free(list);
    assert_true(seen);

    int reaped = 0;
    assert_int_equal(rh_cluster_reap(&reaped, &err), 0);
    assert_true(reaped >= 1);
    assert_true(gone_eventually(dir, spid));
}

static void test_keep_then_stop_by_id(void **state)
{
    rh_cluster *c;
    rh_err err;
    rh_cluster_opts opts = {0};
    assert_int_equal(rh_cluster_start(&c, &opts, &err), 0);
    char *id = rh_xstrdup(rh_cluster_id(c));
    char *dir = rh_xstrdup(rh_cluster_dir(c));
    char *conninfo = rh_xstrdup(rh_cluster_conninfo(c));
    pid_t pid = rh_cluster_pid(c);
    char *psql = rh_cluster_psql_command(c);
    assert_non_null(strstr(psql, dir));
    free(psql);
    rh_cluster_keep(c);

    /* still serving, listed as kept, and not reaped */
    assert_int_equal(PQping(conninfo), PQPING_OK);
    int reaped;
    assert_int_equal(rh_cluster_reap(&reaped, &err), 0);
    assert_int_equal(PQping(conninfo), PQPING_OK);
    rh_cluster_info *list;
    size_t n;
    assert_int_equal(rh_cluster_list(&list, &n, &err), 0);
    int seen = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].id, id) == 0) {
            seen = 1;
            assert_true(list[i].kept);
            assert_int_equal(list[i].server_pid, pid);
        }
    free(list);
    assert_true(seen);

    assert_int_equal(rh_cluster_stop_id("../etc", &err), -1);
    assert_int_equal(rh_cluster_stop_id("no-such-cluster", &err), -1);
    assert_non_null(strstr(err.msg, "no-such-cluster"));
    assert_int_equal(rh_cluster_stop_id(id, &err), 0);
    assert_true(gone_eventually(dir, pid));
    free(id);
    free(dir);
    free(conninfo);
}

static void test_restart_keeps_data(void **state)
{
    rh_cluster *c;
    rh_err err;
    rh_cluster_opts opts = {0};
    assert_int_equal(rh_cluster_start(&c, &opts, &err), 0);
    PGconn *conn = rh_cluster_connect(c, NULL, &err);
    rh_test_exec(conn, "create table survived(x int); insert into survived values (42)");
    PQfinish(conn);
    pid_t before = rh_cluster_pid(c);
    assert_int_equal(rh_cluster_restart(c, &err), 0);
    assert_int_not_equal(rh_cluster_pid(c), before);
    conn = rh_cluster_connect(c, NULL, &err);
    assert_non_null(conn);
    char *v = rh_test_value(conn, "select x from survived");
    assert_string_equal(v, "42");
    free(v);
    PQfinish(conn);
    assert_int_equal(rh_cluster_stop(c, &err), 0);
}

/* A database copy (check's probe and clean copies, a state's spares, `clean` steps) copies files
   (STRATEGY FILE_COPY from PostgreSQL 15), not every page through the WAL (15's default, WAL_LOG: two to
   three times slower on the bench's 11 MB database); and the copy holds the data. */
static void test_database_copy_copies_files_not_wal(void **state)
{
    (void)state;
    rh_cluster *c;
    rh_err err;
    rh_cluster_opts opts = {0};
    assert_int_equal(rh_cluster_start(&c, &opts, &err), 0);
    PGconn *conn = rh_cluster_connect(c, NULL, &err);
    assert_non_null(conn);
    rh_test_exec(conn, "create table t as select g as id, repeat('x', 200) as pad from generate_series(1, 20000) g");
    PQfinish(conn);
    PGconn *admin = rh_cluster_connect_admin(c, "template1", &err); /* not the source: a copy needs it alone */
    assert_non_null(admin);
    char *before = rh_test_value(admin, "select pg_current_wal_lsn()::text");
    if (rh_cluster_copy_db(c, "postgres", "copied", &err) < 0)
        fail_msg("%s", err.msg);
    char *sql = rh_xasprintf("select pg_wal_lsn_diff(pg_current_wal_lsn(), '%s')::bigint", before);
    char *wal = rh_test_value(admin, sql);
    char *size = rh_test_value(admin, "select pg_database_size('postgres')");
    /* WAL_LOG writes at least the database's size (12 MB here); FILE_COPY a few records and checkpoints */
    if (rh_cluster_pgbin(c)->major >= 15 && atoll(wal) > atoll(size) / 4)
        fail_msg("the copy wrote %s bytes of WAL for a %s byte database", wal, size);
    PQfinish(admin);
    conn = rh_cluster_connect(c, "copied", &err);
    assert_non_null(conn);
    char *n = rh_test_value(conn, "select count(*) from t");
    assert_string_equal(n, "20000");
    PQfinish(conn);
    free(n);
    free(size);
    free(wal);
    free(sql);
    free(before);
    assert_int_equal(rh_cluster_stop(c, &err), 0);
}

static void test_bad_setting_shows_server_log(void **state)
{
    rh_cluster *c = NULL;
    rh_err err;
    const char *settings[] = {"shared_buffers=not-a-size", NULL};
    rh_cluster_opts opts = {.settings = settings};
    assert_int_equal(rh_cluster_start(&c, &opts, &err), -1);
    assert_null(c);
    assert_non_null(strstr(err.msg, "server log"));
    assert_non_null(strstr(err.msg, "shared_buffers"));
}

static char run_dir[] = "/dev/shm/rh-tc-XXXXXX";
static pid_t main_pid;

/* Registered first, so it runs last: after the test library has stopped its clusters. */
static void drop_run_dir(void)
{
    rh_err err;
    if (getpid() == main_pid && rh_fs_rmtree(run_dir, &err) < 0)   /* not in a forked child */
        fprintf(stderr, "%s\n", err.msg);
}

int main(void)
{
    /*
     * A run folder of its own: every rehearse process reaps the leftovers of dead ones when it
     * starts its first cluster, so a test run in parallel (ctest -j) could reap the leftover that
     * test_leftover_reaped_at_next_start must see left behind first.
     */
    if (access("/dev/shm", W_OK) != 0)
        snprintf(run_dir, sizeof run_dir, "/tmp/rh-tc-XXXXXX");
    if (!mkdtemp(run_dir)) {
        perror("mkdtemp");
        return 1;
    }
    setenv("REHEARSE_RUN_DIR", run_dir, 1);
    main_pid = getpid();
    atexit(drop_run_dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_query_stop),
        cmocka_unit_test(test_start_forks_no_backend_to_wait),
        cmocka_unit_test(test_stop_while_a_backend_writes_leaves_nothing),
        cmocka_unit_test(test_server_cpu_counts_exited_backends),
        cmocka_unit_test(test_two_clusters_at_once),
        cmocka_unit_test(test_server_runs_unprivileged_when_root),
        cmocka_unit_test(test_binaries_not_found),
        cmocka_unit_test(test_concurrent_template_build),
        cmocka_unit_test(test_partial_template_rebuilt),
        cmocka_unit_test(test_damaged_template_rebuilt),
        cmocka_unit_test(test_template_build_in_private_run_dir),
        cmocka_unit_test(test_cache_named_in_errors),
        cmocka_unit_test(test_sigkill_leaves_nothing),
        cmocka_unit_test(test_sigint_cleans_up_before_exit),
        cmocka_unit_test(test_leftover_reaped_at_next_start),
        cmocka_unit_test(test_keep_then_stop_by_id),
        cmocka_unit_test(test_restart_keeps_data),
        cmocka_unit_test(test_database_copy_copies_files_not_wal),
        cmocka_unit_test(test_bad_setting_shows_server_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
