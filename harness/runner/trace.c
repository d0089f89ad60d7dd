/*
 * trace.c — `run --trace-locks`: the locks each migration of a deploy step held, for run's HTML
 * page. The deploy itself is not touched (it runs as the tool runs it, timed as always): just before
 * it, the scenario's database is copied (CREATE DATABASE ... TEMPLATE, which needs no other
 * connection to it); after it, the migrations it ran are replayed on the copy as check traces head's
 * pending ones (rh_check_trace_deploy, check/locks.c: statement by statement, pg_locks read after each, sent
 * as the scenario's tool sends them: Prisma's profile, dbmate's up section; in the tool's transactions:
 * drizzle-kit's one for the whole run, so a file's locks are held while the later files run), and the copy
 * is dropped. A deploy that cannot be copied (a session or a `deploy &` is connected) or whose SQL
 * rehearse does not send (`tool command`) gets a note saying why instead.
 */
#include <assert.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check.h"
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

/* Add mode on relation to a trace's locks, or raise the mode kept there to it when stronger. */
static void hold(rh_result_trace *o, const char *relation, const char *mode)
{
    size_t j = 0;
    while (j < o->n_locks && strcmp(o->locks[j].relation, relation) != 0)
        j++;
    if (j < o->n_locks) {
        if (rh_check_lock_strength(mode) > rh_check_lock_strength(o->locks[j].mode)) {
            free(o->locks[j].mode);
            o->locks[j].mode = rh_xstrdup(mode);
        }
        return;
    }
    o->locks = rh_xrealloc(o->locks, (o->n_locks + 1) * sizeof *o->locks);
    o->locks[o->n_locks].relation = rh_xstrdup(relation);
    o->locks[o->n_locks++].mode = rh_xstrdup(mode);
}

/*
 * A traced migration as the report shows it: the strongest lock on each table that existed before. In a
 * transaction that goes on from the file before (carry: the last kept trace, drizzle-kit's one run), the
 * locks that file held are still held while this one runs: listed too.
 */
static void keep_trace(rh_ctx *ctx, const rh_check_trace *t, int carry)
{
    assert(!carry || ctx->n_traces > 0);
    ctx->traces = rh_xrealloc(ctx->traces, (ctx->n_traces + 1) * sizeof *ctx->traces);
    rh_result_trace *o = &ctx->traces[ctx->n_traces++];
    const rh_result_trace *carried = carry ? o - 1 : NULL;
    memset(o, 0, sizeof *o);
    o->migration = rh_xstrdup(t->migration);
    o->failed = t->failed;
    o->transaction = rh_xstrdup(rh_check_trace_tx_name(t));
    for (size_t k = 0; carried && k < carried->n_locks; k++)
        hold(o, carried->locks[k].relation, carried->locks[k].mode);
    for (size_t i = 0; i < t->n; i++) {
        const rh_check_stmt *s = &t->stmts[i];
        o->ms += s->ms;
        for (size_t k = 0; k < s->n_locks; k++)
            if (s->locks[k].existed_before)
                hold(o, s->locks[k].relation, s->locks[k].mode);
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
    /* what the deploy ran: the migrations it applied, then the one that failed, traced as check traces head's
       (check/locks.c): one tracer, each file as the tool sends it, in the tool's transactions */
    size_t n = res->n_applied + (res->failed_migration ? 1 : 0);
    char **names = rh_xcalloc(n ? n : 1, sizeof *names);
    for (size_t i = 0; i < n; i++)
        names[i] = i < res->n_applied ? res->applied[i] : res->failed_migration;
    int by_default = rh_ctx_default_tool(ctx); /* the profile is the default tool's */
    rh_check_trace *traces = NULL;
    size_t n_traces = 0;
    int rc = rh_check_trace_deploy(ctx->cluster, TRACE_DB, ctx->res->superuser, by_default ? NULL : ctx->tool,
                                   by_default ? &ctx->profile : NULL, &ctx->set, names, n, &traces, &n_traces, &err);
    free(names);
    int goes_on = 0; /* the transaction of the file before goes on into this one (drizzle-kit's run) */
    for (size_t i = 0; i < n_traces; i++) {
        keep_trace(ctx, &traces[i], goes_on);
        goes_on = traces[i].tx_goes_on;
        rh_check_trace_free(&traces[i]);
    }
    free(traces);
    if (rc < 0)
        note(ctx, n_traces ? "trace stopped: %s" : "not traced: %s", err.msg);
    rh_cluster_drop_db(ctx->cluster, TRACE_DB, &err);
    ctx->trace_ms += now_ms() - t0;
}
