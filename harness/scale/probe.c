/*
 * probe.c — what one migration statement costs the application: its duration, and whether a read
 * and a write of each affected table waited for it, measured with probe connections (the way
 * isolationtester watches steps: queries are sent without blocking, and pg_blocking_pids() on a
 * watcher connection says who waits for whom).
 *
 * Why probes start only once the statement holds a lock on a table: a probe that arrives first takes
 * its own lock and finishes in microseconds, and would report "not blocked" for a statement that
 * blocks everyone for minutes. A statement that ends before it is seen holding one (milliseconds:
 * a nullable ADD COLUMN) blocked nobody measurably; then no probe runs (probed = 0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scale/scale.h"
#include "util/buf.h"

static double now_ms(void)
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

typedef struct probe {
    PGconn *conn;
    int pid, done, blocked;
    double start, end;
} probe;

/* Consume what arrived; 1 when the query is complete (its results drained; a failure into cost). */
static int finished(PGconn *c, rh_scale_cost *cost)
{
    if (!PQconsumeInput(c))
        return 1;
    if (PQisBusy(c))
        return 0;
    PGresult *r;
    while ((r = PQgetResult(c))) {
        if (cost && PQresultStatus(r) == PGRES_FATAL_ERROR && !cost->error) {
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
    size_t np = ntables * 2;
    probe *pr = rh_xcalloc(np + 1, sizeof *pr);
    PGconn *stmt = PQconnectdb(conninfo), *watch = PQconnectdb(conninfo);
    int rc = -1;
    for (size_t i = 0; i < np; i++)
        pr[i].conn = PQconnectdb(conninfo);
    if (PQstatus(stmt) != CONNECTION_OK || PQstatus(watch) != CONNECTION_OK) {
        rh_err_set(err, "measuring a statement: cannot connect: %s", PQerrorMessage(stmt));
        goto done;
    }
    for (size_t i = 0; i < np; i++)
        if (PQstatus(pr[i].conn) != CONNECTION_OK) {
            rh_err_set(err, "measuring a statement: cannot connect a probe: %s", PQerrorMessage(pr[i].conn));
            goto done;
        }
    out->waits = rh_xcalloc(ntables + 1, sizeof *out->waits);
    out->n = ntables;
    /* the tables as one regclass array literal, and each probe's SQL */
    rh_buf oids;
    rh_buf_init(&oids);
    rh_buf_puts(&oids, "ARRAY[");
    char **probe_sql = rh_xcalloc(np + 1, sizeof *probe_sql);
    for (size_t i = 0; i < ntables; i++) {
        out->waits[i].table = rh_xstrdup(tables[i]);
        char *id = PQescapeIdentifier(watch, tables[i], strlen(tables[i]));
        char *lit = id ? PQescapeLiteral(watch, id, strlen(id)) : NULL;
        rh_buf_printf(&oids, "%s%s::regclass::oid", i ? ", " : "", lit ? lit : "NULL");
        probe_sql[2 * i] = rh_xasprintf("SELECT 1 FROM %s LIMIT 1", id ? id : "\"?\"");
        probe_sql[2 * i + 1] = rh_xasprintf("INSERT INTO %s SELECT * FROM %s WHERE false", id ? id : "\"?\"",
                                            id ? id : "\"?\"");
        PQfreemem(lit);
        PQfreemem(id);
    }
    rh_buf_puts(&oids, "]");
    int spid = PQbackendPID(stmt);
    char *holds = rh_xasprintf("SELECT count(*) FROM pg_locks WHERE pid = %d AND relation = ANY (%s)", spid, oids.data);
    rh_buf waiting;
    rh_buf_init(&waiting);
    rh_buf_printf(&waiting, "SELECT p FROM unnest(ARRAY[");
    for (size_t i = 0; i < np; i++) {
        pr[i].pid = PQbackendPID(pr[i].conn);
        rh_buf_printf(&waiting, "%s%d", i ? ", " : "", pr[i].pid);
    }
    rh_buf_printf(&waiting, "]::int[]) p WHERE %d = ANY (pg_blocking_pids(p))", spid);

    double t0 = now_ms(), t_end = 0;
    int stmt_done = 0;
    if (!PQsendQuery(stmt, sql)) {
        rh_err_set(err, "measuring a statement: %s", PQerrorMessage(stmt));
        goto free_sql;
    }
    /* wait until the statement holds (or waits for) a lock on a table, or ends */
    while (!(stmt_done = finished(stmt, out))) {
        PGresult *r = PQexec(watch, holds);
        int seen = PQresultStatus(r) == PGRES_TUPLES_OK && atoi(PQgetvalue(r, 0, 0)) > 0;
        PQclear(r);
        if (seen)
            break;
        pause_1ms();
    }
    if (stmt_done)
        t_end = now_ms();
    out->probed = !stmt_done;
    for (size_t i = 0; out->probed && i < np; i++) {
        pr[i].start = now_ms();
        PQsendQuery(pr[i].conn, probe_sql[i]);
    }
    /* until the statement and every probe are through: who waits for the statement's backend? */
    for (;;) {
        int pending = 0;
        if (!stmt_done && finished(stmt, out)) {
            stmt_done = 1;
            t_end = now_ms();
        }
        for (size_t i = 0; out->probed && i < np; i++)
            if (!pr[i].done && finished(pr[i].conn, NULL)) {
                pr[i].done = 1;
                pr[i].end = now_ms();
            }
        for (size_t i = 0; out->probed && i < np; i++)
            pending += !pr[i].done;
        if (stmt_done && !pending)
            break;
        if (pending) {
            PGresult *r = PQexec(watch, waiting.data);
            for (int k = 0; PQresultStatus(r) == PGRES_TUPLES_OK && k < PQntuples(r); k++)
                for (size_t i = 0; i < np; i++)
                    if (pr[i].pid == atoi(PQgetvalue(r, k, 0)))
                        pr[i].blocked = 1;
            PQclear(r);
        }
        pause_1ms();
    }
    out->ms = t_end - t0;
    for (size_t i = 0; i < ntables && out->probed; i++) {
        out->waits[i].read_blocked = pr[2 * i].blocked;
        out->waits[i].write_blocked = pr[2 * i + 1].blocked;
        out->waits[i].read_wait_ms = pr[2 * i].end - pr[2 * i].start;
        out->waits[i].write_wait_ms = pr[2 * i + 1].end - pr[2 * i + 1].start;
    }
    rc = 0;
free_sql:
    for (size_t i = 0; i < np; i++)
        free(probe_sql[i]);
    free(probe_sql);
    free(holds);
    rh_buf_free(&oids);
    rh_buf_free(&waiting);
done:
    for (size_t i = 0; i < np; i++)
        PQfinish(pr[i].conn);
    free(pr);
    PQfinish(stmt);
    PQfinish(watch);
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
