/*
 * probe.c — what a migration statement costs the application, measured: while a backend runs it, a
 * watcher connection reads that backend's relation locks; as soon as it holds one on a watched table,
 * two probe connections send a read (SELECT 1 ... LIMIT 1) and a write (INSERT ... SELECT ... WHERE
 * false: RowExclusiveLock, no change) of that table, and pg_blocking_pids() says whether they wait
 * for it (the way isolationtester watches steps: queries sent without blocking, a watcher asking who
 * waits for whom). A probe that still waits when the statement ends keeps waiting through the rest
 * of the statement's transaction, as an application query would.
 *
 * Why probes start only once the lock is seen: a probe sent earlier takes its own lock and finishes
 * in microseconds, and would say "not blocked" of a statement that blocks everyone for minutes.
 *
 * The meter's clock can be paused: check's tracer does work of its own between statements that
 * production does not do (rh_scale_meter_pause/resume), and waits count the migration's time only.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scale/scale.h"
#include "util/buf.h"

/* Connections the meter leaves to the rest of the run (check's other deploys, catalog reads). */
#define SPARE_CONNECTIONS 4

typedef struct probe {
    PGconn *conn;
    int pid;
    int busy;
    double start;        /* meter clock */
    size_t result;       /* index in the meter's results */
} probe;

typedef struct mtable {
    unsigned long oid;
    char *name;          /* as the caller names it */
    int strength;        /* strongest lock mode (1..8) seen on it when its probes last started */
    probe ops[2];        /* read, write */
} mtable;

struct rh_scale_meter {
    char *conninfo;
    PGconn *watch;
    mtable *tables;
    size_t n;
    rh_scale_probe *results;
    size_t n_results;
    double paused_total, pause_start;
    int paused;
    size_t max_connected; /* tables that may hold probe connections at once (two each) */
};

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void pause_1ms(void)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

double rh_scale_meter_clock(const rh_scale_meter *m)
{
    double now = wall_ms();
    return now - m->paused_total - (m->paused ? now - m->pause_start : 0);
}

void rh_scale_meter_pause(rh_scale_meter *m)
{
    if (m && !m->paused) {
        m->paused = 1;
        m->pause_start = wall_ms();
    }
}

void rh_scale_meter_resume(rh_scale_meter *m)
{
    if (m && m->paused) {
        m->paused = 0;
        m->paused_total += wall_ms() - m->pause_start;
    }
}

rh_scale_meter *rh_scale_meter_new(const char *conninfo, rh_err *err)
{
    rh_scale_meter *m = rh_xcalloc(1, sizeof *m);
    m->conninfo = rh_xstrdup(conninfo);
    m->watch = PQconnectdb(conninfo);
    if (PQstatus(m->watch) != CONNECTION_OK) {
        rh_err_set(err, "measuring: cannot connect a watcher: %s", PQerrorMessage(m->watch));
        rh_scale_meter_free(m);
        return NULL;
    }
    PQsetNoticeProcessor(m->watch, quiet, NULL);
    /* two probe connections per table, as many tables as the server has connections left for (measuring
       clusters run with max_connections raised: RH_SCALE_MEASURING_SETTINGS); past that, unprobed */
    PGresult *r = PQexec(m->watch, "SELECT current_setting('max_connections')::int "
                                   "- current_setting('superuser_reserved_connections')::int "
                                   "- coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int "
                                   "- (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int");
    long free_slots = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atol(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    m->max_connected = free_slots > SPARE_CONNECTIONS ? (size_t)(free_slots - SPARE_CONNECTIONS) / 2 : 0;
    return m;
}

void rh_scale_meter_free(rh_scale_meter *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        for (int k = 0; k < 2; k++)
            if (m->tables[i].ops[k].conn)
                PQfinish(m->tables[i].ops[k].conn);
        free(m->tables[i].name);
    }
    free(m->tables);
    for (size_t i = 0; i < m->n_results; i++)
        free(m->results[i].table);
    free(m->results);
    PQfinish(m->watch);
    free(m->conninfo);
    free(m);
}

void rh_scale_meter_watch(rh_scale_meter *m, unsigned long oid, const char *name)
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

/* A new outcome of t's read (write 0) or write probe for the caller's tag, not measured yet (ms -1). */
static rh_scale_probe *add_result(rh_scale_meter *m, const mtable *t, int write, size_t tag, long long rows)
{
    m->results = rh_xrealloc(m->results, (m->n_results + 1) * sizeof *m->results);
    rh_scale_probe *x = &m->results[m->n_results++];
    memset(x, 0, sizeof *x);
    x->table = rh_xstrdup(t->name);
    x->write = write;
    x->rows = rows;
    x->tag = tag;
    x->ms = -1;
    return x;
}

/* Start the read and the write probe of table t for the caller's tag; rows from the watcher's reading. */
static int start_probes(rh_scale_meter *m, mtable *t, size_t tag, long long rows)
{
    /* the name resolves as the probes' role sees it now (a table renamed since it was watched) */
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
                /* out of connections: this table goes unprobed (said in its outcome), the measurement goes on */
                PQfinish(p->conn);
                p->conn = NULL;
                t->strength = 99;
                for (int j = k; j < 2; j++)
                    add_result(m, t, j, tag, rows)->unprobed = 1;
                break;
            }
            PQsetNoticeProcessor(p->conn, quiet, NULL);
            p->pid = PQbackendPID(p->conn);
        }
        rh_scale_probe *x = add_result(m, t, k, tag, rows);
        p->result = m->n_results - 1;
        p->start = rh_scale_meter_clock(m);
        p->busy = PQsendQuery(p->conn, sql[k]);
        if (!p->busy)
            x->ms = 0; /* could not even be sent: no wait to report */
    }
    free(sql[0]);
    free(sql[1]);
    return rc;
}

/* Collect the probes that got through. */
static void collect(rh_scale_meter *m)
{
    for (size_t i = 0; i < m->n; i++)
        for (int k = 0; k < 2; k++) {
            probe *p = &m->tables[i].ops[k];
            if (p->busy && probe_done(p)) {
                p->busy = 0;
                m->results[p->result].ms = rh_scale_meter_clock(m) - p->start;
            }
        }
}

/*
 * Who waits: each busy probe that pg_blocking_pids() shows waiting for backend pidtxt is marked blocked.
 * Returns how many busy probes are not yet settled: neither through nor waiting for any lock (a probe
 * sent but not yet at its lock). Unmarked probes still busy after that are only in flight.
 */
static int mark_waiting(rh_scale_meter *m, const char *pidtxt)
{
    rh_buf pids;
    rh_buf_init(&pids);
    rh_buf_putc(&pids, '{');
    for (size_t i = 0; i < m->n; i++)
        for (int k = 0; k < 2; k++)
            if (m->tables[i].ops[k].busy)
                rh_buf_printf(&pids, "%s%d", pids.len > 1 ? "," : "", m->tables[i].ops[k].pid);
    rh_buf_putc(&pids, '}');
    int unsettled = 0;
    if (pids.len > 2) {
        const char *p2[2] = {pids.data, pidtxt};
        PGresult *r = PQexecParams(m->watch,
                                   "SELECT p, $2::int = ANY (b) FROM unnest($1::int[]) p, pg_blocking_pids(p) b "
                                   "WHERE cardinality(b) > 0",
                                   2, NULL, p2, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        for (size_t i = 0; i < m->n; i++)
            for (int k = 0; k < 2; k++) {
                probe *p = &m->tables[i].ops[k];
                if (!p->busy)
                    continue;
                int queued = 0;
                for (int row = 0; ok && row < PQntuples(r); row++)
                    if (atoi(PQgetvalue(r, row, 0)) == p->pid) {
                        queued = 1;
                        if (strcmp(PQgetvalue(r, row, 1), "t") == 0)
                            m->results[p->result].blocked = 1;
                    }
                unsettled += !queued;
            }
        PQclear(r);
        if (!ok)
            unsettled = 0; /* the watcher failed: nothing to wait for */
    }
    rh_buf_free(&pids);
    return unsettled;
}

int rh_scale_meter_poll(rh_scale_meter *m, int pid, size_t tag, rh_err *err)
{
    collect(m);
    /* the backend's locks on the watched tables, each mode's strength (1..8), and each table's rows */
    rh_buf oids;
    rh_buf_init(&oids);
    rh_buf_putc(&oids, '{');
    for (size_t i = 0; i < m->n; i++)
        rh_buf_printf(&oids, "%s%lu", i ? "," : "", m->tables[i].oid);
    rh_buf_putc(&oids, '}');
    char pidtxt[16];
    snprintf(pidtxt, sizeof pidtxt, "%d", pid);
    const char *params[2] = {pidtxt, oids.data};
    PGresult *r = PQexecParams(
        m->watch,
        "SELECT l.relation::bigint, coalesce(array_position(ARRAY['AccessShareLock', 'RowShareLock', "
        "'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', "
        "'AccessExclusiveLock'], l.mode), 0), c.reltuples::bigint FROM pg_locks l "
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
        int strength = atoi(PQgetvalue(r, row, 1));
        size_t connected = 0; /* tables with probe connections: at most max_connected */
        for (size_t i = 0; i < m->n; i++)
            connected += m->tables[i].ops[0].conn != NULL;
        for (size_t i = 0; i < m->n; i++) {
            mtable *t = &m->tables[i];
            if (t->oid != oid || strength <= t->strength || t->ops[0].busy || t->ops[1].busy)
                continue;
            t->strength = strength;
            long long rows = strtoll(PQgetvalue(r, row, 2), NULL, 10);
            if (!t->ops[0].conn && connected >= m->max_connected) {
                /* the server has no connections left for it: this table goes unprobed, and its outcome says so */
                add_result(m, t, 0, tag, rows)->unprobed = 1;
                add_result(m, t, 1, tag, rows)->unprobed = 1;
                continue;
            }
            rc = start_probes(m, t, tag, rows);
        }
    }
    PQclear(r);
    if (rc < 0)
        return -1;

    mark_waiting(m, pidtxt);
    return 0;
}

int rh_scale_meter_settle(rh_scale_meter *m, int pid, size_t tag, rh_err *err)
{
    if (rh_scale_meter_poll(m, pid, tag, err) < 0)
        return -1;
    char pidtxt[16];
    snprintf(pidtxt, sizeof pidtxt, "%d", pid);
    double t0 = wall_ms();
    while (mark_waiting(m, pidtxt) > 0) {
        if (wall_ms() - t0 > 60000)
            break; /* a probe neither through nor queued after a minute: never hang on it */
        pause_1ms();
        collect(m);
    }
    return 0;
}

void rh_scale_meter_drain(rh_scale_meter *m)
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
            /* the transaction is over: nothing of ours should hold them; never hang on it */
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

size_t rh_scale_meter_take(rh_scale_meter *m, rh_scale_probe **out)
{
    for (size_t i = 0; i < m->n; i++)
        assert(!m->tables[i].ops[0].busy && !m->tables[i].ops[1].busy); /* drained first */
    size_t n = m->n_results;
    *out = m->results;
    m->results = NULL;
    m->n_results = 0;
    return n;
}

/* Consume what arrived on the statement's connection; 1 when it is through (a failure into cost). */
static int statement_done(PGconn *c, rh_scale_cost *cost)
{
    if (!PQconsumeInput(c))
        return 1;
    if (PQisBusy(c))
        return 0;
    PGresult *r;
    while ((r = PQgetResult(c))) {
        if (PQresultStatus(r) == PGRES_FATAL_ERROR && !cost->error) {
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            snprintf(cost->sqlstate, sizeof cost->sqlstate, "%s", state ? state : "");
            cost->error = rh_xstrdup(PQresultErrorMessage(r));
        }
        PQclear(r);
    }
    return 1;
}

int rh_scale_measure(const char *conninfo, const char *sql, const char *const *tables, size_t ntables,
                     rh_scale_cost *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    rh_scale_meter *m = rh_scale_meter_new(conninfo, err);
    PGconn *stmt = PQconnectdb(conninfo);
    int rc = -1;
    if (!m)
        goto done;
    if (PQstatus(stmt) != CONNECTION_OK) {
        rh_err_set(err, "measuring a statement: cannot connect: %s", PQerrorMessage(stmt));
        goto done;
    }
    out->waits = rh_xcalloc(ntables + 1, sizeof *out->waits);
    out->n = ntables;
    for (size_t i = 0; i < ntables; i++) {
        out->waits[i].table = rh_xstrdup(tables[i]);
        const char *params[1] = {tables[i]};
        /* the name as an identifier (quoted), found by the search_path */
        PGresult *r = PQexecParams(stmt, "SELECT to_regclass(quote_ident($1))::oid::bigint", 1, NULL, params, NULL,
                                   NULL, 0);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
            rh_scale_meter_watch(m, strtoul(PQgetvalue(r, 0, 0), NULL, 10), tables[i]);
        PQclear(r);
    }
    int pid = PQbackendPID(stmt);
    double t0 = wall_ms();
    if (!PQsendQuery(stmt, sql)) {
        rh_err_set(err, "measuring a statement: %s", PQerrorMessage(stmt));
        goto done;
    }
    while (!statement_done(stmt, out)) {
        if (rh_scale_meter_poll(m, pid, 0, err) < 0)
            goto done;
        pause_1ms();
    }
    out->ms = wall_ms() - t0;
    rh_scale_meter_drain(m);
    rh_scale_probe *res = NULL;
    size_t n = rh_scale_meter_take(m, &res);
    for (size_t j = 0; j < n; j++) {
        if (res[j].unprobed) {
            free(res[j].table);
            continue;
        }
        out->probed = 1;
        for (size_t i = 0; i < ntables; i++)
            if (strcmp(res[j].table, tables[i]) == 0) {
                rh_scale_wait *w = &out->waits[i];
                *(res[j].write ? &w->write_blocked : &w->read_blocked) = res[j].blocked;
                *(res[j].write ? &w->write_wait_ms : &w->read_wait_ms) = res[j].ms;
            }
        free(res[j].table);
    }
    free(res);
    rc = 0;
done:
    PQfinish(stmt);
    rh_scale_meter_free(m);
    return rc;
}

void rh_scale_cost_free(rh_scale_cost *c)
{
    for (size_t i = 0; c && i < c->n; i++)
        free(c->waits[i].table);
    if (c) {
        free(c->waits);
        free(c->error);
        memset(c, 0, sizeof *c);
    }
}
