/*
 * trace.c — `run --trace-locks`: the locks each migration of a deploy step held, for run's HTML
 * page. The deploy itself is not touched (it runs as the tool runs it, timed as always): just before
 * it, the scenario's database is copied (CREATE DATABASE ... TEMPLATE, which needs no other
 * connection to it); after it, the migrations it ran are replayed on the copy with check's lock
 * tracer (check/locks.c: statement by statement, pg_locks read after each, sent as the scenario's
 * tool sends them: Prisma's profile, dbmate's up section, one transaction or statement by statement), and the copy
 * is dropped. A deploy that cannot be copied (a session or a `deploy &` is connected) or whose SQL
 * rehearse does not send (`tool command`) gets a note saying why instead.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check.h"
#include "migrations/plan.h"
#include "runner/exec_int.h"
#include "tools/tool.h"
#include "util/buf.h"

#define TRACE_DB "rehearse_lock_trace"
#define SCENARIO_DB "postgres" /* rh_cluster_connect(c, NULL)'s database: the scenario's */

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void note(rh_ctx *ctx, const char *fmt, const char *detail)
{
    free(ctx->trace_note);
    rh_buf b;
    rh_buf_init(&b);
    rh_buf_printf(&b, fmt, detail);
    ctx->trace_note = rh_buf_steal(&b);
}

/* Other backends on the scenario's database than ctx->conn's: the copy would wait for them. */
static int others_connected(PGconn *admin, int own_pid, rh_err *err)
{
    char pid[16];
    snprintf(pid, sizeof pid, "%d", own_pid);
    const char *params[] = {SCENARIO_DB, pid};
    PGresult *r = PQexecParams(admin,
                               "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> $2::int "
                               "AND pid <> pg_backend_pid()",
                               2, NULL, params, NULL, NULL, 0);
    int n = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        n = atoi(PQgetvalue(r, 0, 0));
    else
        rh_err_set(err, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return n;
}

int rh_trace_begin(rh_ctx *ctx, const rh_scn_step *st)
{
    ctx->trace_copy = 0;
    if (!ctx->opts->trace_locks || st->kind != RH_STEP_DEPLOY)
        return 0;
    ctx->trace_ms = now_ms();
    if (ctx->tool && ctx->tool->external) {
        note(ctx, "not traced: %s", "a command's deploy (rehearse does not know what it sends)");
    } else if (st->background || ctx->bg || ctx->nsessions) {
        note(ctx, "not traced: %s", st->background ? "a deploy in the background (its copy would race the steps after it)"
                                    : "a session or a background command is connected to the database (a copy needs none)");
    } else {
        rh_err err;
        rh_err_clear(&err);
        PGconn *admin = rh_cluster_connect_admin(ctx->cluster, "template1", &err);
        if (admin)
            PQsetNoticeProcessor(admin, quiet, NULL); /* DROP DATABASE IF EXISTS's notice */
        int others = admin ? others_connected(admin, ctx->conn ? PQbackendPID(ctx->conn) : 0, &err) : -1;
        if (others == 0) {
            /* the scenario's own idle connection goes: reconnected below, as after a server restart */
            PQfinish(ctx->conn);
            ctx->conn = NULL;
            PGresult *r = PQexec(admin, "DROP DATABASE IF EXISTS " TRACE_DB " WITH (FORCE)");
            PQclear(r);
            /* owned by the migration role, as the scenario's database is (public is the owner's) */
            const char *user = rh_cluster_user(ctx->cluster);
            char *owner = PQescapeIdentifier(admin, user, strlen(user));
            char *sql = rh_xasprintf("CREATE DATABASE " TRACE_DB " TEMPLATE " SCENARIO_DB " OWNER %s", owner);
            PQfreemem(owner);
            r = PQexec(admin, sql);
            free(sql);
            if (PQresultStatus(r) == PGRES_COMMAND_OK)
                ctx->trace_copy = 1;
            else
                note(ctx, "not traced: the copy failed: %s", PQresultErrorMessage(r));
            PQclear(r);
        } else if (others > 0) {
            note(ctx, "not traced: %s", "another connection uses the database (a copy needs none)");
        } else {
            note(ctx, "not traced: %s", err.msg);
        }
        PQfinish(admin);
    }
    ctx->trace_ms = now_ms() - ctx->trace_ms;
    return ctx->trace_copy;
}

/* A traced migration as the report shows it: the strongest lock on each table that existed before. */
static void keep_trace(rh_ctx *ctx, const rh_check_trace *t)
{
    ctx->traces = rh_xrealloc(ctx->traces, (ctx->n_traces + 1) * sizeof *ctx->traces);
    rh_result_trace *o = &ctx->traces[ctx->n_traces++];
    memset(o, 0, sizeof *o);
    o->migration = rh_xstrdup(t->migration);
    o->failed = t->failed;
    for (size_t i = 0; i < t->n; i++) {
        const rh_check_stmt *s = &t->stmts[i];
        o->ms += s->ms;
        for (size_t k = 0; k < s->n_locks; k++) {
            const rh_check_lock *l = &s->locks[k];
            size_t j = 0;
            while (j < o->n_locks && strcmp(o->locks[j].relation, l->relation) != 0)
                j++;
            if (!l->existed_before || j < o->n_locks)
                continue;
            o->locks = rh_xrealloc(o->locks, (o->n_locks + 1) * sizeof *o->locks);
            o->locks[o->n_locks].relation = rh_xstrdup(l->relation);
            o->locks[o->n_locks++].mode = rh_xstrdup(rh_check_trace_strongest(t, l->relation));
        }
    }
}

void rh_trace_end(rh_ctx *ctx, const rh_engine_result *res)
{
    if (!ctx->trace_copy)
        return;
    double t0 = now_ms();
    ctx->trace_copy = 0;
    rh_err err;
    rh_err_clear(&err);
    PGconn *conn = ctx->res->superuser ? rh_cluster_connect_admin(ctx->cluster, TRACE_DB, &err)
                                       : rh_cluster_connect(ctx->cluster, TRACE_DB, &err);
    char *conninfo = rh_cluster_conninfo_db(ctx->cluster, TRACE_DB);
    rh_check_tracer *tracer = conn ? rh_check_tracer_new(conn, conninfo, &err) : NULL;
    if (conn)
        PQsetNoticeProcessor(conn, quiet, NULL);
    /* what the deploy ran: the migrations it applied, then the one that failed */
    size_t n = res->n_applied + (res->failed_migration ? 1 : 0);
    for (size_t i = 0; tracer && i < n; i++) {
        const char *name = i < res->n_applied ? res->applied[i] : res->failed_migration;
        const rh_migration *m = rh_migset_find(&ctx->set, name);
        if (!m || !m->sql)
            continue;
        /* as the tool sends it: the text (dbmate's up section), one transaction or statement by statement */
        rh_plan plan;
        int by_default = rh_ctx_default_tool(ctx); /* the profile is the default tool's */
        rh_tool_plan(by_default ? RH_TOOL_DEFAULT : ctx->tool, m, by_default ? &ctx->profile : NULL, &plan, NULL);
        rh_buf sent;
        rh_buf_init(&sent);
        if (!by_default && ctx->tool->sent_text)
            ctx->tool->sent_text(m, &sent);
        else
            rh_buf_append(&sent, m->sql, m->sql_len);
        rh_check_tracer_autocommit(tracer, plan.mode == RH_SEND_STATEMENTS);
        rh_check_trace t;
        memset(&t, 0, sizeof t);
        int rc = rh_check_tracer_run(tracer, m->name, m->name, sent.data ? sent.data : "", sent.len, &t, &err);
        rh_buf_free(&sent);
        int failed = t.failed;
        if (rc == 0)
            keep_trace(ctx, &t);
        rh_check_trace_free(&t);
        if (rc < 0 || failed)
            break; /* later migrations may depend on this one */
    }
    if (!tracer)
        note(ctx, "not traced: %s", err.msg);
    else if (err.msg[0])
        note(ctx, "trace stopped: %s", err.msg);
    rh_check_tracer_free(tracer);
    free(conninfo);
    PQfinish(conn);
    rh_cluster_drop_db(ctx->cluster, TRACE_DB, &err);
    ctx->trace_ms += now_ms() - t0;
}
