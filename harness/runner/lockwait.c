/*
 * lockwait.c — a lock wait whose end is known need not be waited out.
 *
 * When rehearse's own engine asks for Prisma's advisory lock and another connection holds it, the
 * real Prisma waits its whole time limit (10 s) and gives up with P1002. If rehearse can prove that
 * nothing can release the lock before that limit, the outcome is decided when the wait begins, and
 * the engine gives up at once with exactly what it prints at the limit; the step's report says that
 * the wait was not waited out and how much of it was skipped (never counted as time it took).
 *
 * The proof is an allow-list; anything it does not know means "wait for real":
 *  - static (rh_lockwait_arm): the command runs in the foreground with no fault armed, no command
 *    runs in the background, it is rehearse's own engine, and the scenario's time limit is beyond
 *    the wait (a limit that would end the scenario during the wait is an end of its own);
 *  - on the server (decide): every client backend besides the engine's and the control connection
 *    is a session of this scenario, idle (no statement in flight, as the server and the runner
 *    see it: nothing else runs while a foreground step runs, so no step can end a holder);
 *  - every holder (pg_blocking_pids: the holders and the waiters ahead) is such a session whose
 *    texts only took or freed advisory locks or opened or ended a transaction (no SET, no function
 *    that could set one), with idle_session_timeout and idle_in_transaction_session_timeout 0 when
 *    it connected (its database, role and PGOPTIONS settings) and 0 in the server's configuration
 *    now (a reload reaches a session that did not set them itself);
 *  - the engine's connection (a twin of it: same connection settings and `set` list) has
 *    statement_timeout and lock_timeout 0: else the server could end the wait first, differently.
 */
#include "runner/exec_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runner/lock_text.h"
#include "tools/prisma/prisma.h"

/* The scenario's time limit must lie this far beyond the end of the wait (the runner's clock
   started a moment before this process's estimate of it). */
#define DEADLINE_MARGIN_MS 1000.0

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- the proof ----------------------------------------------------------------------------------- */

/* "{1,2,3}" into pids (at most max); the count, or -1 when it does not read. */
static int int_array(const char *s, int *out, int max)
{
    if (!s || *s != '{')
        return -1;
    int n = 0;
    s++;
    while (*s && *s != '}') {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || n == max)
            return -1;
        out[n++] = (int)v;
        s = end;
        if (*s == ',')
            s++;
    }
    return *s == '}' ? n : -1;
}

static rh_session *session_of(rh_ctx *ctx, int pid)
{
    for (size_t i = 0; i < ctx->nsessions; i++)
        if (ctx->sessions[i].pid == pid && pid > 0)
            return &ctx->sessions[i];
    return NULL;
}

/*
 * The settings a server-side end could come from, on a twin of the engine's connection: the idle
 * timeouts as the configuration gives them (before the `set` list), then statement_timeout and
 * lock_timeout with the `set` list applied. 1: all off; 0: not (or unknown).
 */
static int timeouts_off(rh_ctx *ctx)
{
    rh_err err;
    PGconn *c = rh_ctx_command_connection(ctx, 0, &err);
    if (!c)
        return 0;
    int pid = PQbackendPID(c);
    /* a value the session's database or role or PGOPTIONS set hides the configuration's: unknown */
    PGresult *r = PQexec(c, "SELECT bool_and(setting = '0' AND source IN ('default', 'configuration file', "
                            "'command line', 'environment variable', 'override')) FROM pg_settings "
                            "WHERE name IN ('idle_session_timeout', 'idle_in_transaction_session_timeout')");
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (ok && rh_ctx_apply_set(ctx, c, &err) < 0)
        ok = 0;
    if (ok) {
        r = PQexec(c, "SELECT current_setting('statement_timeout') = '0' AND current_setting('lock_timeout') = '0'");
        ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
    }
    PQfinish(c);
    rh_ctx_wait_gone(ctx->conn, pid, 2000); /* as a closed connection of the scenario's is gone */
    return ok;
}

/* The engine's hook (rh_engine_opts.lock_wait): 1 proven stuck, 0 not blocked yet, -1 wait for real. */
static int decide(void *data, int backend_pid)
{
    rh_lockwait *lw = data;
    rh_ctx *ctx = lw->ctx;
    PGconn *c = ctx->conn;
    if (!c || PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE)
        return -1;
    char p[16];
    snprintf(p, sizeof p, "%d", backend_pid);
    const char *params[] = {p};
    PGresult *r = PQexecParams(
        c,
        "SELECT pg_blocking_pids($1::int),"
        " array(SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'"
        "        AND pid <> $1::int AND pid <> pg_backend_pid()),"
        " array(SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'"
        "        AND pid <> $1::int AND pid <> pg_backend_pid()"
        "        AND state IS DISTINCT FROM 'idle' AND state IS DISTINCT FROM 'idle in transaction'"
        "        AND state IS DISTINCT FROM 'idle in transaction (aborted)')",
        1, NULL, params, NULL, NULL, 0);
    int blockers[64], others[64], busy[64];
    int nb = -1, no = -1, nbusy = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        nb = int_array(PQgetvalue(r, 0, 0), blockers, 64);
        no = int_array(PQgetvalue(r, 0, 1), others, 64);
        nbusy = int_array(PQgetvalue(r, 0, 2), busy, 64);
    }
    PQclear(r);
    if (nb < 0 || no < 0 || nbusy < 0)
        return -1;
    if (nb == 0)
        return 0; /* the request has not reached the lock table yet (or was just granted) */
    if (nbusy > 0)
        return -1; /* a statement in flight somewhere: it could end a holder */
    for (int i = 0; i < no; i++)
        if (!session_of(ctx, others[i]))
            return -1; /* another client: what it does next is not the scenario's to know */
    for (size_t i = 0; i < ctx->nsessions; i++)
        if (ctx->sessions[i].busy)
            return -1;
    lw->holders[0] = 0;
    for (int i = 0; i < nb; i++) {
        rh_session *s = session_of(ctx, blockers[i]);
        if (!s || !s->plain || !s->idle_timeouts_off)
            return -1;
        size_t used = strlen(lw->holders);
        snprintf(lw->holders + used, sizeof lw->holders - used, "%s%s", used ? ", " : "", s->name);
    }
    return timeouts_off(ctx) ? 1 : -1;
}

void rh_lockwait_arm(rh_ctx *ctx, const rh_scn_step *st, int has_fault, rh_lockwait *lw, rh_engine_opts *eo)
{
    memset(lw, 0, sizeof *lw);
    lw->ctx = ctx;
    if (st->background || has_fault || ctx->bg || !rh_ctx_default_tool(ctx))
        return;
    if (ctx->tool && ctx->tool->external)
        return;
    long limit = eo->lock_timeout_ms > 0 ? eo->lock_timeout_ms : RH_PRISMA_ADVISORY_LOCK_TIMEOUT_MS;
    if (ctx->deadline_ms > 0 && ctx->deadline_ms - now_ms() < (double)limit + DEADLINE_MARGIN_MS)
        return; /* the scenario's time limit could end it during the wait */
    eo->lock_wait = decide;
    eo->lock_wait_data = lw;
}

char *rh_lockwait_note(const rh_lockwait *lw, const rh_engine_result *res)
{
    if (res->lock_wait_skipped_ms <= 0)
        return NULL;
    int many = strchr(lw->holders, ',') != NULL;
    return rh_xasprintf("Prisma's wait for its advisory lock was not waited out: the lock is held by session%s %s, "
                        "idle, and nothing in the scenario can end %s before Prisma gives up (no statement in "
                        "flight, no background command, fault, other client or idle timeout), so the outcome "
                        "was answered at once",
                        many ? "s" : "", lw->holders, many ? "them" : "it");
}
