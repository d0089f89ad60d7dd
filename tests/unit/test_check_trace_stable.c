/*
 * test_check_trace_stable.c — the lock trace of a successful CREATE INDEX CONCURRENTLY is the same every
 * time: ShareUpdateExclusiveLock on its table, and nothing on the index it makes. Before, the sampler
 * that reads pg_locks while the statement runs outside a transaction sometimes caught the
 * AccessExclusiveLock the build's first phase holds on its new, still invisible index (about 1 check in
 * 8-24), so two reports of one check differed ("oid 16422 AccessExclusiveLock").
 *
 * Two ways: the statement traced many times as it comes (the race, which the old code lost now and
 * then), and once with that first phase held open — another session has created a relation of the
 * index's name and not committed, so the build waits on it while it holds the new index's lock — which
 * the old code lost every time. A helper thread lets the other session go when it sees the build wait
 * for it (pg_blocking_pids) and the tracer done with that wait (its blocker's RowExclusiveLock on the
 * table gone: the tracer reads the locks, then lets its blocker go), not after a delay.
 *
 * REINDEX INDEX CONCURRENTLY and DROP INDEX CONCURRENTLY end by dropping an index they first set dead
 * (no query plans on it or writes to it any more) under AccessExclusiveLock; a sample caught that lock
 * about 1 check in 12. The final drop is held open the same way: another session has updated the
 * index's pg_attribute row and not committed, so the drop, holding the lock, waits for it; the helper
 * lets it go once the tracer has read pg_locks twice since (its reading at the first has completed).
 * REFRESH MATERIALIZED VIEW CONCURRENTLY (in a transaction) locked temporary tables it made and
 * dropped itself, reported by oid, a different one each run.
 * DETACH PARTITION ... CONCURRENTLY listed no lock at all: it holds none while it waits for the
 * parent's users, then takes its locks in a transaction too short for a sample; the tracer's second
 * blocker (ACCESS SHARE on the partitions) makes it ask for the partition's AccessExclusiveLock in view.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/check.h"
#include "testlib.h"
#include "util/buf.h"

static const char cic[] = "CREATE INDEX CONCURRENTLY \"Order_total_idx\" ON \"Order\"(\"total\");\n";

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The trace's locks as sorted "relation mode" lines. */
static char *lock_set(const rh_check_trace *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += t->stmts[i].n_locks;
    char **lines = calloc(n ? n : 1, sizeof *lines);
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++)
        for (size_t j = 0; j < t->stmts[i].n_locks; j++)
            lines[k++] = rh_xasprintf("%s %s", t->stmts[i].locks[j].relation, t->stmts[i].locks[j].mode);
    qsort(lines, k, sizeof *lines, by_text);
    rh_buf b;
    rh_buf_init(&b);
    for (size_t i = 0; i < k; i++) {
        rh_buf_printf(&b, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    char *s = rh_buf_steal(&b);
    rh_buf_free(&b);
    return s;
}

static PGconn *table_db(char **db)
{
    PGconn *conn = rh_test_fresh_db(db);
    rh_test_exec(conn, "CREATE TABLE \"Order\" (\"id\" INTEGER PRIMARY KEY, \"total\" INTEGER);"
                       "INSERT INTO \"Order\" SELECT g, g * 10 FROM generate_series(1, 1000) g");
    return conn;
}

/* Trace the CREATE INDEX CONCURRENTLY, check it succeeded, return its lock set; drop the index after. */
static char *trace_once(PGconn *conn, const char *conninfo)
{
    rh_check_trace tr;
    rh_err err;
    if (rh_check_trace_migration(conn, conninfo, "20250203000000_idx_conc", NULL, cic, strlen(cic), &tr, &err) < 0)
        fail_msg("trace: %s", err.msg);
    assert_int_equal(tr.n, 1);
    assert_true(tr.stmts[0].outside_tx);
    assert_null(tr.stmts[0].error);
    char *set = lock_set(&tr);
    rh_check_trace_free(&tr);
    rh_test_exec(conn, "DROP INDEX \"Order_total_idx\"");
    return set;
}

static const char want[] = "\"Order\" ShareUpdateExclusiveLock\n";

static void test_trace_is_the_same_every_time(void **state)
{
    (void)state;
    char *db = NULL;
    PGconn *conn = table_db(&db);
    char *conninfo = rh_cluster_conninfo_db(rh_test_cluster(), db);
    for (int i = 0; i < 16; i++) {
        char *set = trace_once(conn, conninfo);
        if (strcmp(set, want) != 0)
            fail_msg("run %d: locks\n%sinstead of\n%s", i + 1, set, want);
        free(set);
    }
    free(conninfo);
    free(db);
    PQfinish(conn);
}

/* The other session and what the helper thread saw. */
typedef struct holder {
    PGconn *other;   /* holds an uncommitted relation named like the index */
    PGconn *watch;   /* reads pg_blocking_pids */
    int waited;      /* the build was seen waiting for `other`, after the tracer read its locks */
} holder;

static void *let_go_when_waited_for(void *arg)
{
    holder *h = arg;
    char pid[16];
    snprintf(pid, sizeof pid, "%d", PQbackendPID(h->other));
    const char *params[1] = {pid};
    /* 60000 polls: a bound so that a build that never waits cannot hang the test, not a timing */
    for (int i = 0; i < 60000 && !h->waited; i++) {
        PGresult *r = PQexecParams(h->watch,
                                   "SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid)) "
                                   "AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND NOT EXISTS (SELECT FROM pg_locks "
                                   "WHERE relation = '\"Order\"'::regclass AND mode = 'RowExclusiveLock')",
                                   1, NULL, params, NULL, NULL, 0);
        h->waited = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "0") != 0;
        PQclear(r);
        if (!h->waited)
            usleep(1000);
    }
    PQclear(PQexec(h->other, "ROLLBACK"));
    return NULL;
}

static void test_trace_while_the_new_index_is_invisible(void **state)
{
    (void)state;
    char *db = NULL;
    PGconn *conn = table_db(&db);
    rh_cluster *c = rh_test_cluster();
    char *conninfo = rh_cluster_conninfo_db(c, db);
    rh_err err;
    holder h = {.other = rh_cluster_connect(c, db, &err), .watch = rh_cluster_connect(c, db, &err)};
    assert_non_null(h.other);
    assert_non_null(h.watch);
    /* the build's first phase inserts the index's pg_class row after it locks the index: a row of the same
       name that another transaction has not committed makes it wait there, its new index locked */
    rh_test_exec(h.other, "BEGIN; CREATE TABLE \"Order_total_idx\" (x int)");
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, let_go_when_waited_for, &h), 0);
    char *set = trace_once(conn, conninfo);
    pthread_join(th, NULL);
    assert_true(h.waited); /* the window was played */
    if (strcmp(set, want) != 0)
        fail_msg("locks\n%sinstead of\n%s", set, want);
    free(set);
    PQfinish(h.other);
    PQfinish(h.watch);
    free(conninfo);
    free(db);
    PQfinish(conn);
}

/* What the helper thread of a held final drop saw. */
typedef struct dropper {
    PGconn *other; /* holds an uncommitted update of the index's pg_attribute row */
    PGconn *watch;
    const char *verb; /* the statement's first word, for pg_stat_activity */
    int waited;       /* the drop waited for `other` and the tracer read pg_locks (whole) while it did */
} dropper;

/* One value of a one-row query with one text parameter ("" on an error or no row). */
static char *value1(PGconn *conn, const char *sql, const char *param)
{
    const char *params[1] = {param};
    PGresult *r = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
    char *v = rh_xstrdup(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)
                             ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return v;
}

/* The latest start of the tracer's pg_locks reading after `after` (a timestamptz), or "". */
static char *reading_after(PGconn *watch, const char *after)
{
    return value1(watch, "SELECT max(query_start)::text FROM pg_stat_activity WHERE query LIKE "
                         "'SELECT l.relation::bigint, l.mode%' AND query_start > $1::timestamptz", after);
}

static void *let_go_when_drop_waits(void *arg)
{
    dropper *d = arg;
    char pid[16];
    snprintf(pid, sizeof pid, "%d", PQbackendPID(d->other));
    char *like = rh_xasprintf("%s %%", d->verb);
    char *since = NULL; /* when the drop was first seen waiting */
    char *first = NULL; /* a reading begun after that */
    /* 600000 polls: a bound so that a drop that never waits cannot hang the test, not a timing */
    for (int i = 0; i < 600000 && !d->waited; i++) {
        if (!since) {
            char *sql = rh_xasprintf("SELECT clock_timestamp()::text FROM pg_stat_activity WHERE $1::int = "
                                     "ANY(pg_blocking_pids(pid)) AND query LIKE '%s'", like);
            char *v = value1(d->watch, sql, pid);
            free(sql);
            if (*v)
                since = v;
            else
                free(v);
        } else if (!first) {
            char *v = reading_after(d->watch, since);
            if (*v)
                first = v;
            else
                free(v);
        } else {
            char *v = reading_after(d->watch, first);
            d->waited = *v != '\0'; /* a later reading began: the one at `first` has ended */
            free(v);
        }
        if (!d->waited)
            usleep(1000);
    }
    PQclear(PQexec(d->other, "ROLLBACK"));
    free(since);
    free(first);
    free(like);
    return NULL;
}

/* Trace `sql` (which ends by dropping "Order_total_idx" as a dead index) with that drop held open. */
static void trace_held_drop(const char *sql, const char *verb, const char *want_set)
{
    char *db = NULL;
    PGconn *conn = table_db(&db);
    rh_test_exec(conn, "CREATE INDEX \"Order_total_idx\" ON \"Order\"(\"total\")");
    rh_cluster *c = rh_test_cluster();
    char *conninfo = rh_cluster_conninfo_db(c, db);
    rh_err err;
    dropper d = {.other = rh_cluster_connect(c, db, &err), .watch = rh_cluster_connect(c, db, &err), .verb = verb};
    assert_non_null(d.other);
    assert_non_null(d.watch);
    /* the test cluster's role is a superuser: it may update a catalog row (no lock on the index itself) */
    rh_test_exec(d.other, "BEGIN; UPDATE pg_attribute SET attnum = attnum "
                          "WHERE attrelid = '\"Order_total_idx\"'::regclass");
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, let_go_when_drop_waits, &d), 0);
    rh_check_trace tr;
    if (rh_check_trace_migration(conn, conninfo, "20250203000000_reindex", NULL, sql, strlen(sql), &tr, &err) < 0)
        fail_msg("trace: %s", err.msg);
    pthread_join(th, NULL);
    assert_true(d.waited); /* the window was played */
    assert_int_equal(tr.n, 1);
    assert_true(tr.stmts[0].outside_tx);
    assert_null(tr.stmts[0].error);
    char *set = lock_set(&tr);
    rh_check_trace_free(&tr);
    if (strcmp(set, want_set) != 0)
        fail_msg("%slocks\n%sinstead of\n%s", sql, set, want_set);
    free(set);
    PQfinish(d.other);
    PQfinish(d.watch);
    free(conninfo);
    free(db);
    PQfinish(conn);
}

static void test_reindex_concurrently_final_drop(void **state)
{
    (void)state;
    trace_held_drop("REINDEX INDEX CONCURRENTLY \"Order_total_idx\";\n", "REINDEX",
                    "\"Order\" ShareUpdateExclusiveLock\n\"Order_total_idx\" ShareUpdateExclusiveLock\n");
}

static void test_drop_index_concurrently_final_drop(void **state)
{
    (void)state;
    trace_held_drop("DROP INDEX CONCURRENTLY \"Order_total_idx\";\n", "DROP",
                    "\"Order\" ShareUpdateExclusiveLock\n\"Order_total_idx\" ShareUpdateExclusiveLock\n");
}

/* In a transaction: the temporary tables the refresh makes and drops itself are not in the trace. */
static void test_refresh_concurrently_without_its_temporary_tables(void **state)
{
    (void)state;
    char *db = NULL;
    PGconn *conn = table_db(&db);
    rh_test_exec(conn, "CREATE MATERIALIZED VIEW mv AS SELECT \"id\", \"total\" FROM \"Order\";"
                       "CREATE UNIQUE INDEX mv_id ON mv(\"id\")");
    char *conninfo = rh_cluster_conninfo_db(rh_test_cluster(), db);
    static const char sql[] = "REFRESH MATERIALIZED VIEW CONCURRENTLY mv;\n";
    rh_check_trace tr;
    rh_err err;
    if (rh_check_trace_migration(conn, conninfo, "20250203000000_refresh", NULL, sql, strlen(sql), &tr, &err) < 0)
        fail_msg("trace: %s", err.msg);
    assert_int_equal(tr.n, 1);
    assert_null(tr.stmts[0].error);
    char *set = lock_set(&tr);
    rh_check_trace_free(&tr);
    static const char want_set[] = "\"Order\" AccessShareLock\n\"Order_pkey\" AccessShareLock\n"
                                   "mv AccessShareLock\nmv ExclusiveLock\nmv RowExclusiveLock\n"
                                   "mv_id AccessShareLock\nmv_id RowExclusiveLock\n";
    if (strcmp(set, want_set) != 0)
        fail_msg("locks\n%sinstead of\n%s", set, want_set);
    free(set);
    free(conninfo);
    free(db);
    PQfinish(conn);
}

static void test_detach_concurrently_every_time(void **state)
{
    (void)state;
    char *db = NULL;
    PGconn *conn = rh_test_fresh_db(&db);
    rh_test_exec(conn, "CREATE TABLE m (id int, k int) PARTITION BY RANGE (k);"
                       "CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (100);"
                       "CREATE TABLE m2 PARTITION OF m FOR VALUES FROM (100) TO (200);"
                       "INSERT INTO m SELECT g, g % 200 FROM generate_series(1, 1000) g");
    char *conninfo = rh_cluster_conninfo_db(rh_test_cluster(), db);
    static const char sql[] = "ALTER TABLE m DETACH PARTITION m2 CONCURRENTLY;\n";
    /* the parent's ShareUpdateExclusiveLock and the partition's AccessExclusiveLock (which covers the
       ShareUpdateExclusiveLock the first transaction took on it) */
    static const char want_set[] = "m ShareUpdateExclusiveLock\nm2 AccessExclusiveLock\n";
    for (int i = 0; i < 4; i++) {
        rh_check_trace tr;
        rh_err err;
        if (rh_check_trace_migration(conn, conninfo, "20250203000000_detach", NULL, sql, strlen(sql), &tr, &err) < 0)
            fail_msg("trace: %s", err.msg);
        assert_int_equal(tr.n, 1);
        assert_true(tr.stmts[0].outside_tx);
        assert_null(tr.stmts[0].error);
        char *set = lock_set(&tr);
        rh_check_trace_free(&tr);
        if (strcmp(set, want_set) != 0)
            fail_msg("run %d: locks\n%sinstead of\n%s", i + 1, set, want_set);
        free(set);
        rh_test_exec(conn, "ALTER TABLE m ATTACH PARTITION m2 FOR VALUES FROM (100) TO (200)");
    }
    free(conninfo);
    free(db);
    PQfinish(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_is_the_same_every_time),
        cmocka_unit_test(test_trace_while_the_new_index_is_invisible),
        cmocka_unit_test(test_reindex_concurrently_final_drop),
        cmocka_unit_test(test_drop_index_concurrently_final_drop),
        cmocka_unit_test(test_refresh_concurrently_without_its_temporary_tables),
        cmocka_unit_test(test_detach_concurrently_every_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
