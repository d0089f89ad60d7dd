/*
 * session.c — concurrent sessions, isolationtester style: each session is a connection of its own;
 * its statements are sent with PQsendQuery and completed without blocking, and the control
 * connection asks pg_blocking_pids() whether the session waits on a lock. So a session can take a
 * lock and keep it, or wait on one, while the scenario goes on.
 */
#include "runner/exec_int.h"
#include "runner/lock_text.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static rh_session *find(rh_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->nsessions; i++)
        if (strcmp(ctx->sessions[i].name, name) == 0)
            return &ctx->sessions[i];
    return NULL;
}

static void close_one(rh_session *s)
{
    PQfinish(s->conn);
    free(s->name);
    free(s->error);
    memset(s, 0, sizeof *s);
}

static void drop(rh_ctx *ctx, rh_session *s)
{
    size_t i = (size_t)(s - ctx->sessions);
    close_one(s);
    memmove(&ctx->sessions[i], &ctx->sessions[i + 1], (ctx->nsessions - i - 1) * sizeof *s);
    ctx->nsessions--;
}

void rh_sessions_close(rh_ctx *ctx)
{
    for (size_t i = 0; i < ctx->nsessions; i++)
        close_one(&ctx->sessions[i]);
    free(ctx->sessions);
    ctx->sessions = NULL;
    ctx->nsessions = 0;
}

/* Collect every result of the statements in flight; the first error is kept. */
static void collect(rh_session *s)
{
    PGresult *r;
    while ((r = PQgetResult(s->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_FATAL_ERROR && !s->sqlstate[0]) {
            const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
            snprintf(s->sqlstate, sizeof s->sqlstate, "%s", code ? code : "08006");
            free(s->error);
            s->error = rh_xstrdup(msg ? msg : PQerrorMessage(s->conn));
        } else if (st == PGRES_COPY_IN) {
            PQputCopyEnd(s->conn, "rehearse sessions do not feed COPY FROM STDIN");
        }
        PQclear(r);
    }
    if (PQstatus(s->conn) != CONNECTION_OK && !s->sqlstate[0]) {
        snprintf(s->sqlstate, sizeof s->sqlstate, "08006");
        free(s->error);
        s->error = rh_xstrdup(PQerrorMessage(s->conn));
    }
    s->busy = 0;
}

enum { W_DONE, W_BLOCKED, W_TIMEOUT };

/*
 * Wait until the session's statements complete, or (until_blocked) until it waits on a lock.
 * A statement that is merely slow is waited for, up to the limit.
 */
static int wait_session(rh_ctx *ctx, rh_session *s, int until_blocked, long limit_ms)
{
    long deadline = now_ms() + limit_ms;
    int round = 0;
    while (s->busy) {
        if (!PQconsumeInput(s->conn)) {
            collect(s);
            return W_DONE;
        }
        if (!PQisBusy(s->conn)) {
            collect(s);
            return W_DONE;
        }
        /* ask about locks every few rounds: a statement usually ends in well under a millisecond */
        if (until_blocked && round++ > 0 && rh_ctx_blocked(ctx, s->pid) > 0)
            return W_BLOCKED;
        if (now_ms() > deadline)
            return W_TIMEOUT;
        struct pollfd pfd = {.fd = PQsocket(s->conn), .events = POLLIN};
        poll(&pfd, 1, round < 5 ? 1 : 5);
    }
    return W_DONE;
}

/* How the session's statements ended, in words. */
static char *describe(const rh_session *s, int w)
{
    if (w == W_BLOCKED)
        return rh_xstrdup("blocked (waiting on a lock)");
    if (w == W_TIMEOUT)
        return rh_xstrdup("still running");
    if (s->sqlstate[0])
        return rh_xasprintf("error %s: %s", s->sqlstate, s->error ? s->error : "");
    return rh_xstrdup("ok");
}

static int check(rh_ctx *ctx, const rh_scn_step *st, rh_session *s, int w, int from_wait)
{
    const rh_scn_outcome *o = &st->outcome;
    int ok;
    switch (o->kind) {
    case RH_OUT_ANY: ok = 1; break;
    case RH_OUT_BLOCKED: ok = w == W_BLOCKED; break;
    case RH_OUT_ERROR: ok = w == W_DONE && strcmp(s->sqlstate, o->code) == 0; break;
    case RH_OUT_OK: ok = w == W_DONE && !s->sqlstate[0]; break;
    default: ok = (w == W_DONE && !s->sqlstate[0]) || (w == W_BLOCKED && !from_wait); break;
    }
    if (ok)
        return 0;
    char *exp = rh_scn_outcome_text(o);
    if (o->kind == RH_OUT_DEFAULT && !from_wait)
        free(exp), exp = rh_xstrdup("ok, or waiting on a lock");
    char *act = describe(s, w);
    rh_fail(ctx, st, exp, act, "session %s did not end as the scenario expects", s->name);
    free(exp);
    free(act);
    return -1;
}

int rh_step_session(rh_ctx *ctx, const rh_scn_step *st)
{
    rh_session *s = find(ctx, st->arg);
    rh_err err;
    if (!s) {
        PGconn *c = rh_ctx_connect_user(ctx, &err);
        if (!c)
            return rh_setup_error(ctx, st, "session %s: %s", st->arg, err.msg);
        ctx->sessions = rh_xrealloc(ctx->sessions, (ctx->nsessions + 1) * sizeof *ctx->sessions);
        s = &ctx->sessions[ctx->nsessions++];
        memset(s, 0, sizeof *s);
        s->name = rh_xstrdup(st->arg);
        s->conn = c;
        s->pid = PQbackendPID(c);
        /* lockwait.c: whether the server could end it while idle, as it connected (database, role,
           PGOPTIONS); read before its first statement, so nothing of it shows afterwards */
        PGresult *r = PQexec(c, "SELECT current_setting('idle_session_timeout') = '0'"
                                " AND current_setting('idle_in_transaction_session_timeout') = '0'");
        s->idle_timeouts_off = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                               strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
        s->plain = 1;
    }
    s->plain = s->plain && rh_lock_text_plain(st->text);
    if (s->busy)
        return rh_fail(ctx, st, NULL, NULL, "session %s still has statements in flight; add `wait %s` first", s->name,
                       s->name);
    s->sqlstate[0] = 0;
    if (!PQsendQuery(s->conn, st->text))
        return rh_setup_error(ctx, st, "session %s: %s", s->name, PQerrorMessage(s->conn));
    s->busy = 1;
    int w = wait_session(ctx, s, 1, ctx->wait_ms);
    if (w == W_TIMEOUT && st->outcome.kind != RH_OUT_ANY)
        return rh_fail(ctx, st, NULL, "still running", "session %s: its statements neither ended nor waited on a "
                       "lock within %ld ms", s->name, ctx->wait_ms);
    return check(ctx, st, s, w, 0);
}

int rh_step_session_wait(rh_ctx *ctx, const rh_scn_step *st)
{
    rh_session *s = find(ctx, st->arg);
    if (!s)
        return rh_setup_error(ctx, st, "wait %s: the session is closed (released, terminated or lost in a restart)",
                              st->arg);
    if (st->n) { /* wait NAME blocked */
        if (!s->busy)
            return rh_fail(ctx, st, "blocked", "no statement in flight", "wait %s blocked: the session has no "
                           "statement in flight", s->name);
        int w = wait_session(ctx, s, 1, ctx->wait_ms);
        if (w == W_BLOCKED)
            return 0;
        char *act = describe(s, w);
        rh_fail(ctx, st, "blocked", act, "wait %s blocked: the session did not wait on a lock within %ld ms (%s)",
                s->name, ctx->wait_ms, act);
        free(act);
        return -1;
    }
    int w = wait_session(ctx, s, 0, ctx->wait_ms);
    if (w == W_TIMEOUT)
        return rh_fail(ctx, st, NULL, "still running", "wait %s: its statements did not end within %ld ms", s->name,
                       ctx->wait_ms);
    return check(ctx, st, s, w, 1);
}

int rh_step_session_end(rh_ctx *ctx, const rh_scn_step *st)
{
    rh_session *s = find(ctx, st->arg);
    const char *kw = rh_scn_kind_name(st->kind);
    if (!s) {
        if (st->kind == RH_STEP_RELEASE)
            return 0;
        return rh_setup_error(ctx, st, "%s %s: the session is closed (released, terminated or lost in a restart)", kw,
                              st->arg);
    }
    switch (st->kind) {
    case RH_STEP_RELEASE:
        drop(ctx, s);
        return 0;
    case RH_STEP_CANCEL: {
        if (!s->busy)
            return rh_fail(ctx, st, NULL, NULL, "cancel %s: nothing is running in the session", s->name);
        PGcancel *c = PQgetCancel(s->conn);
        char ebuf[256];
        if (c) {
            PQcancel(c, ebuf, sizeof ebuf);
            PQfreeCancel(c);
        }
        wait_session(ctx, s, 0, ctx->wait_ms);
        return 0;
    }
    case RH_STEP_TERMINATE: {
        char p[16];
        snprintf(p, sizeof p, "%d", s->pid);
        const char *params[] = {p};
        PGresult *r = PQexecParams(ctx->conn, "SELECT pg_terminate_backend($1::int)", 1, NULL, params, NULL, NULL, 0);
        PQclear(r);
        drop(ctx, s);
        return 0;
    }
    default: {
        if (s->busy)
            return rh_fail(ctx, st, NULL, NULL, "%s %s: the session still has statements in flight; `wait %s` first",
                           kw, s->name, s->name);
        PGresult *r = PQexec(s->conn, st->kind == RH_STEP_COMMIT ? "COMMIT" : "ROLLBACK");
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            rh_fail(ctx, st, NULL, NULL, "%s %s: %s", kw, s->name, PQresultErrorMessage(r));
        PQclear(r);
        return ok ? 0 : -1;
    }
    }
}
