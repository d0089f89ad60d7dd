/*
 * measure.c — the lock tracer's measuring mode (check --scale): what a migration statement costs the
 * application, measured, not looked up. While the tracer's backend runs a statement, a watcher
 * connection reads that backend's relation locks; as soon as it holds one on a pre-existing table,
 * two probe connections send a read (SELECT 1 ... LIMIT 1) and a write (INSERT ... SELECT ... WHERE
 * false: RowExclusiveLock, no change) of that table, and pg_blocking_pids() says whether they wait for
 * the migration. A probe that still waits when the statement ends keeps waiting through the rest of the
 * transaction, as an application query would: its wait belongs to the statement whose lock it met.
 *
 * Why probes start only once the lock is seen: a probe sent earlier takes its own lock and finishes
 * in microseconds, and would say "not blocked" of a statement that blocks everyone for minutes.
 *
 * The tracer does work of its own between statements (reading pg_locks, pg_class, scan counts) that
 * production does not do; the meter's clock stops while it does (rh_check_meter_pause/resume), so
 * waits and hold times count the migration's time only.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check_int.h"
#include "util/buf.h"

/* Probed tables at most: two connections each; more would run into max_connections. */
#define MAX_PROBED_TABLES 32

typedef struct probe {
    PGconn *conn;
    int pid;
    int busy;
    double start;        /* meter clock */
    rh_check_stmt *st;   /* whose wait this is */
    size_t wait;         /* index in st->waits */
} probe;

typedef struct mtable {
    unsigned long oid;
    char *name;          /* as the tracer names it */
    int strength;        /* strongest lock mode seen on it when its probes last started (this transaction) */
    probe ops[2];        /* read, write */
} mtable;

struct rh_check_meter {
    char *conninfo;
    PGconn *watch;
    mtable *tables;
    size_t n;
    double paused_total, pause_start;
    int paused;
};

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double rh_check_meter_clock(const rh_check_meter *m)
{
    double now = wall_ms();
    return now - m->paused_total - (m->paused ? now - m->pause_start : 0);
}

void rh_check_meter_pause(rh_check_meter *m)
{
    if (m && !m->paused) {
        m->paused = 1;
        m->pause_start = wall_ms();
    }
}

void rh_check_meter_resume(rh_check_meter *m)
{
    if (m && m->paused) {
        m->paused = 0;
        m->paused_total += wall_ms() - m->pause_start;
    }
}

rh_check_meter *rh_check_meter_new(const char *conninfo, rh_err *err)
{
    rh_check_meter *m = rh_xcalloc(1, sizeof *m);
    m->conninfo = rh_xstrdup(conninfo);
    m->watch = PQconnectdb(conninfo);
    if (PQstatus(m->watch) != CONNECTION_OK) {
        rh_err_set(err, "measuring: cannot connect a watcher: %s", PQerrorMessage(m->watch));
        rh_check_meter_free(m);
        return NULL;
    }
    rh_check_quiet(m->watch);
    return m;
}

static void drop_tables(rh_check_meter *m)
{
    for (size_t i = 0; i < m->n; i++) {
        for (int k = 0; k < 2; k++)
            if (m->tables[i].ops[k].conn)
                PQfinish(m->tables[i].ops[k].conn);
        free(m->tables[i].name);
    }
    free(m->tables);
    m->tables = NULL;
    m->n = 0;
}

void rh_check_meter_free(rh_check_meter *m)
{
    if (!m)
        return;
    drop_tables(m);
    PQfinish(m->watch);
    free(m->conninfo);
    free(m);
}

void rh_check_meter_add_table(rh_check_meter *m, unsigned long oid, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->tables[i].oid == oid)
            return;
    m->tables = rh_xrealloc(m->tables, (m->n + 1) * sizeof *m->tables);
    mtable *t = &m->tables[m->n++];
    memset(t, 0, sizeof *t);
    t->oid = oid;
    t->name = rh_xstrdup(name);
}

/* Consume what arrived on a probe; 1 when its query is through (results drained, errors ignored). */
static int probe_done(probe *p)
{
    if (!PQconsumeInput(p->conn))
        return 1;
    if (PQisBusy(p->conn))
        return 0;
    PGresult *r;
    while ((r = PQgetResult(p->conn)))
        PQclear(r);
    return 1;
}

/* Start the read and the write probe of table t for statement st; rows from the watcher's reading. */
static int start_probes(rh_check_meter *m, mtable *t, rh_check_stmt *st, long long rows, rh_err *err)
{
    /* the name resolves as the migration role sees it now (a table renamed by an earlier migration) */
    char oidtxt[24];
    snprintf(oidtxt, sizeof oidtxt, "%lu", t->oid);
    const char *params[1] = {oidtxt};
    PGresult *r = PQexecParams(m->watch, "SELECT $1::oid::regclass::text", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        PQclear(r);
        return 0; /* gone: nothing to probe */
    }
    char *name = rh_xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    char *sql[2] = {rh_xasprintf("SELECT 1 FROM %s LIMIT 1", name),
                    rh_xasprintf("INSERT INTO %s SELECT * FROM %s WHERE false", name, name)};
    free(name);
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++) {
        probe *p = &t->ops[k];
        assert(!p->busy);
        if (!p->conn) {
            p->conn = PQconnectdb(m->conninfo);
            if (PQstatus(p->conn) != CONNECTION_OK) {
                rc = rh_err_set(err, "measuring: cannot connect a probe: %s", PQerrorMessage(p->conn));
                PQfinish(p->conn);
                p->conn = NULL;
                break;
            }
            rh_check_quiet(p->conn);
            p->pid = PQbackendPID(p->conn);
        }
        st->waits = rh_xrealloc(st->waits, (st->n_waits + 1) * sizeof *st->waits);
        rh_check_wait *w = &st->waits[st->n_waits];
        memset(w, 0, sizeof *w);
        w->table = rh_xstrdup(t->name);
        w->write = k;
        w->rows = rows;
        w->ms = -1;
        p->st = st;
        p->wait = st->n_waits++;
        p->start = rh_check_meter_clock(m);
        p->busy = PQsendQuery(p->conn, sql[k]);
        if (!p->busy)
            w->ms = 0; /* could not even be sent: no wait to report */
    }
    free(sql[0]);
    free(sql[1]);
    return rc;
}

/* Collect the probes that got through. */
static void collect(rh_check_meter *m)
{
    for (size_t i = 0; i < m->n; i++)
        for (int k = 0; k < 2; k++) {
            probe *p = &m->tables[i].ops[k];
            if (p->busy && probe_done(p)) {
                p->busy = 0;
                p->st->waits[p->wait].ms = rh_check_meter_clock(m) - p->start;
            }
        }
}

int rh_check_meter_poll(rh_check_meter *m, int pid, rh_check_stmt *st, rh_err *err)
{
    collect(m);
    /* the backend's locks on the tables measured, strongest mode per table, and the rows of each */
    rh_buf oids;
    rh_buf_init(&oids);
    rh_buf_putc(&oids, '{');
    for (size_t i = 0; i < m->n; i++)
        rh_buf_printf(&oids, "%s%lu", i ? "," : "", m->tables[i].oid);
    rh_buf_putc(&oids, '}');
    char pidtxt[16];
    snprintf(pidtxt, sizeof pidtxt, "%d", pid);
    const char *params[2] = {pidtxt, oids.data};
    PGresult *r = PQexecParams(m->watch,
                               "SELECT l.relation::bigint, l.mode, c.reltuples::bigint FROM pg_locks l "
                               "JOIN pg_class c ON c.oid = l.relation WHERE l.pid = $1::int "
                               "AND l.locktype = 'relation' AND l.relation = ANY ($2::oid[])",
                               2, NULL, params, NULL, NULL, 0);
    rh_buf_free(&oids);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rh_err_set(err, "measuring: reading pg_locks: %s", PQerrorMessage(m->watch));
        PQclear(r);
        return -1;
    }
    int rc = 0;
    for (int row = 0; row < PQntuples(r) && rc == 0; row++) {
        unsigned long oid = strtoul(PQgetvalue(r, row, 0), NULL, 10);
        int strength = rh_check_lock_strength(PQgetvalue(r, row, 1));
        for (size_t i = 0; i < m->n && i < MAX_PROBED_TABLES; i++) {
            mtable *t = &m->tables[i];
            if (t->oid != oid || strength <= t->strength || t->ops[0].busy || t->ops[1].busy)
                continue;
            t->strength = strength;
            rc = start_probes(m, t, st, strtoll(PQgetvalue(r, row, 2), NULL, 10), err);
        }
    }
    PQclear(r);
    if (rc < 0)
        return -1;

    /* who waits for the migration's backend */
    rh_buf pids;
    rh_buf_init(&pids);
    rh_buf_putc(&pids, '{');
    for (size_t i = 0; i < m->n; i++)
        for (int k = 0; k < 2; k++)
            if (m->tables[i].ops[k].busy)
                rh_buf_printf(&pids, "%s%d", pids.len > 1 ? "," : "", m->tables[i].ops[k].pid);
    rh_buf_putc(&pids, '}');
    if (pids.len > 2) {
        const char *p2[2] = {pids.data, pidtxt};
        r = PQexecParams(m->watch, "SELECT p FROM unnest($1::int[]) p WHERE $2::int = ANY (pg_blocking_pids(p))", 2,
                         NULL, p2, NULL, NULL, 0);
        for (int row = 0; PQresultStatus(r) == PGRES_TUPLES_OK && row < PQntuples(r); row++) {
            int waiting = atoi(PQgetvalue(r, row, 0));
            for (size_t i = 0; i < m->n; i++)
                for (int k = 0; k < 2; k++) {
                    probe *p = &m->tables[i].ops[k];
                    if (p->busy && p->pid == waiting)
                        p->st->waits[p->wait].blocked = 1;
                }
        }
        PQclear(r);
    }
    rh_buf_free(&pids);
    return 0;
}

static void pause_1ms(void)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

void rh_check_meter_drain(rh_check_meter *m)
{
    double t0 = wall_ms();
    int cancelled = 0;
    for (;;) {
        collect(m);
        int busy = 0;
        for (size_t i = 0; i < m->n; i++)
            busy |= m->tables[i].ops[0].busy | m->tables[i].ops[1].busy;
        if (!busy)
            break;
        if (!cancelled && wall_ms() - t0 > 60000) {
            /* the migration's transaction is over: nothing of ours should hold them; never hang on it */
            for (size_t i = 0; i < m->n; i++)
                for (int k = 0; k < 2; k++)
                    if (m->tables[i].ops[k].busy) {
                        PGcancel *c = PQgetCancel(m->tables[i].ops[k].conn);
                        char buf[256];
                        if (c)
                            PQcancel(c, buf, sizeof buf);
                        PQfreeCancel(c);
                    }
            cancelled = 1;
        }
        pause_1ms();
    }
    for (size_t i = 0; i < m->n; i++)
        m->tables[i].strength = 0; /* a new transaction: locks are taken anew */
}
