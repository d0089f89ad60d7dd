/*
 * command.c — the Prisma commands of a scenario (deploy, status, resolve) through the engine, in
 * the foreground or in a background thread (`deploy &`), with the faults armed for them.
 *
 * Each command runs on a connection of its own, opened for it and closed after it, as each
 * `prisma` process has its own: session state a migration leaves (a plain SET, temp tables,
 * session advisory locks, prepared statements, an open transaction) does not reach the next
 * command. The scenario's `set` list is applied to every one; `env` is in the process
 * environment, which libpq and the engine read. A background command's thread never shares a
 * connection with the main thread. A fault is carried out from a watcher thread with a connection
 * of its own: "at MIGRATION" waits until the engine's hook has announced that migration and the
 * backend is running its script (pg_stat_activity), "when blocked" until pg_blocking_pids() of the
 * deploying backend is not empty; "before MIGRATION" acts inside the hook itself.
 */
#include "runner/exec_int.h"
#include "scale/scale.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

typedef struct rh_job {
    rh_ctx *ctx;
    const rh_scn_step *st;
    PGconn *conn;
    int pid;
    rh_engine_opts eo;
    rh_engine_result res;
    rh_err err;
    int rc;
    pthread_t thread;
    int threaded;

    /* the fault */
    const rh_scn_step *fault;
    pthread_t watcher;
    int watching;
    PGconn *wconn;
    pthread_mutex_t mu;
    int stop;             /* the command ended */
    int target_reached;   /* the hook announced the fault's migration */
    int target_passed;    /* ... and then a later one */
    int fired;
    int restarted;
    char fault_error[RH_ERR_MAX + 64];

    /* run --scale/--rows: the tables that exist are filled before each migration is sent */
    const rh_scale *scale;
    char scale_error[RH_ERR_MAX + 128];
} rh_job;

static int target_matches(const rh_scn_step *f, const char *name, size_t index)
{
    if (f->arg)
        return strcmp(f->arg, name) == 0;
    return (long)index + 1 == f->n;
}

/* Carry out the fault on the deploying backend (from the watcher or the hook). */
static void act(rh_job *job, PGconn *via)
{
    const rh_scn_step *f = job->fault;
    if (f->fault_action == RH_FAULT_RESTART) {
        rh_err err;
        if (rh_cluster_restart(job->ctx->cluster, &err) < 0)
            snprintf(job->fault_error, sizeof job->fault_error, "restart failed: %s", err.msg);
        job->restarted = 1;
    } else {
        char p[16];
        snprintf(p, sizeof p, "%d", job->pid);
        const char *params[] = {p};
        PGresult *r = PQexecParams(via,
                                   f->fault_action == RH_FAULT_TERMINATE ? "SELECT pg_terminate_backend($1::int)"
                                                                         : "SELECT pg_cancel_backend($1::int)",
                                   1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            snprintf(job->fault_error, sizeof job->fault_error, "%s", PQresultErrorMessage(r));
        PQclear(r);
    }
    job->fired = 1;
}

/*
 * run --scale/--rows: fill the tables that exist now to their sizes, on a connection of its own, as
 * `deploy --scale` does, so the migration about to be sent runs on tables of production's size. A table
 * left short of its size stops the deploy (as the scenario step `scale` does): the scenario did not get
 * the sizes it was run with. 0, or -1 with job->scale_error.
 */
static int fill_before(rh_job *job, const char *name)
{
    rh_err err;
    PGconn *c = rh_ctx_connect(job->ctx, NULL, &err);
    rh_scale_fill_result fill = {0};
    int rc = 0;
    if (!c || rh_scale_fill(c, job->scale, &fill, &err) < 0) {
        snprintf(job->scale_error, sizeof job->scale_error, "before %s: %s", name, err.msg);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < fill.n; i++) {
        const rh_scale_filled *f = &fill.tables[i];
        if (f->before + f->inserted < f->target) {
            snprintf(job->scale_error, sizeof job->scale_error, "before %s: table %s.%s: %lld of %lld rows after "
                     "filling: %s", name, f->schema, f->name, f->before + f->inserted, f->target,
                     f->note ? f->note : "no reason given");
            rc = -1;
        }
    }
    if (c)
        PQfinish(c);
    rh_scale_fill_result_free(&fill);
    return rc;
}

/* The engine's hook: announces each migration; --scale fills tables first; "before" faults act right here. */
static int hook(void *data, const char *name, size_t index, int backend_pid)
{
    rh_job *job = data;
    if (job->scale && fill_before(job, name) < 0)
        return 1; /* the deploy stops before this migration: the step reports why */
    if (!job->fault)
        return 0;
    pthread_mutex_lock(&job->mu);
    int match = target_matches(job->fault, name, index);
    if (job->target_reached && !match)
        job->target_passed = 1;
    if (match)
        job->target_reached = 1;
    int before = match && !job->fired && job->fault->fault_trigger == RH_FAULT_BEFORE_MIGRATION;
    pthread_mutex_unlock(&job->mu);
    if (before) {
        act(job, job->wconn);
        /* a terminated backend takes a moment to go: let the engine meet a dead connection */
        for (int i = 0; i < 200 && job->fault->fault_action == RH_FAULT_TERMINATE; i++) {
            char p[16];
            snprintf(p, sizeof p, "%d", backend_pid);
            const char *params[] = {p};
            PGresult *r = PQexecParams(job->wconn, "SELECT 1 FROM pg_stat_activity WHERE pid = $1::int", 1, NULL,
                                       params, NULL, NULL, 0);
            int gone = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 0;
            PQclear(r);
            if (gone)
                break;
            usleep(1000);
        }
    }
    return 0;
}

/* Is the deploying backend running a migration's script now (not a statement on the tool's ledger or its lock)? */
static int running_script(rh_job *job)
{
    char p[16], schema[128];
    snprintf(p, sizeof p, "%d", job->pid);
    const char *params[] = {p, rh_tool_ledger_parts(RH_TOOL_DEFAULT->ledger_table, schema, sizeof schema)};
    PGresult *r = PQexecParams(job->wconn,
                               "SELECT 1 FROM pg_stat_activity WHERE pid = $1::int AND state = 'active'"
                               " AND ($2::text IS NULL OR query NOT LIKE '%' || $2 || '%') AND query NOT LIKE '%pg_advisory%'",
                               2, NULL, params, NULL, NULL, 0);
    int yes = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    PQclear(r);
    return yes;
}

static int blocked(rh_job *job)
{
    char p[16];
    snprintf(p, sizeof p, "%d", job->pid);
    const char *params[] = {p};
    PGresult *r = PQexecParams(job->wconn, "SELECT cardinality(pg_blocking_pids($1::int))", 1, NULL, params, NULL,
                               NULL, 0);
    int n = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return n > 0;
}

static void *watch(void *data)
{
    rh_job *job = data;
    const rh_scn_step *f = job->fault;
    for (;;) {
        pthread_mutex_lock(&job->mu);
        int stop = job->stop, reached = job->target_reached, passed = job->target_passed, fired = job->fired;
        pthread_mutex_unlock(&job->mu);
        if (stop || fired)
            break;
        int go = 0;
        if (f->fault_trigger == RH_FAULT_WHEN_BLOCKED)
            go = blocked(job);
        else if (f->fault_trigger == RH_FAULT_AT_MIGRATION && reached && !passed)
            go = running_script(job);
        if (go) {
            pthread_mutex_lock(&job->mu);
            int again = !job->stop && !job->fired;
            pthread_mutex_unlock(&job->mu);
            if (again)
                act(job, job->wconn);
            break;
        }
        usleep(f->fault_trigger == RH_FAULT_WHEN_BLOCKED ? 3000 : 500);
    }
    return NULL;
}

int rh_engine_opts_for(rh_ctx *ctx, rh_engine_opts *eo)
{
    memset(eo, 0, sizeof *eo);
    eo->profile = &ctx->profile;
    eo->lock_timeout_ms = (int)ctx->advisory_timeout_ms;
    return 0;
}

void rh_clean_deploy_opts(rh_ctx *ctx, const rh_profile *profile, rh_engine_opts *eo, rh_engine_result *res)
{
    rh_engine_opts_for(ctx, eo);
    eo->profile = profile;
    eo->advisory_lock = -1; /* a database of its own: no other deploy to wait for */
    rh_engine_result_init(res);
}

/* The verb a step names in its tool's list ("deploy", "resolve --applied", a repair verb). */
static const char *verb_of(const rh_scn_step *st)
{
    switch (st->kind) {
    case RH_STEP_DEPLOY: return "deploy";
    case RH_STEP_STATUS: return "status";
    case RH_STEP_RESOLVE: return st->resolve_mode == RH_RESOLVE_APPLIED ? "resolve --applied" : "resolve --rolled-back";
    default: return st->arg;
    }
}

/* The scenario's tool runs the step's verb (the default tool before any `tool` step). */
static void *run_engine(void *data)
{
    rh_job *job = data;
    rh_ctx *ctx = job->ctx;
    const rh_scn_step *st = job->st;
    const rh_tool *t = ctx->tool ? ctx->tool : RH_TOOL_DEFAULT;
    const char *arg = st->kind == RH_STEP_RESOLVE ? st->arg : st->kind == RH_STEP_REPAIR ? st->arg2
                    : t->external ? ctx->tool_cmd : NULL;
    job->rc = rh_tool_run(t, verb_of(st), job->conn, &ctx->set, arg, &job->eo, &job->res, &job->err);
    pthread_mutex_lock(&job->mu);
    job->stop = 1;
    pthread_mutex_unlock(&job->mu);
    return NULL;
}

int rh_ctx_apply_set(rh_ctx *ctx, PGconn *c, rh_err *err)
{
    for (size_t i = 0; i < ctx->ngucs; i++) {
        const char *params[] = {ctx->gucs[2 * i], ctx->gucs[2 * i + 1]};
        PGresult *r = PQexecParams(c, "SELECT set_config($1, $2, false)", 2, NULL, params, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok)
            rh_err_set(err, "set %s %s: %s", ctx->gucs[2 * i], ctx->gucs[2 * i + 1], PQresultErrorMessage(r));
        PQclear(r);
        if (!ok)
            return -1;
    }
    return 0;
}

PGconn *rh_ctx_command_connection(rh_ctx *ctx, int apply_set, rh_err *err)
{
    PGconn *c = rh_ctx_connect_user(ctx, err);
    if (!c)
        return NULL;
    if (apply_set && rh_ctx_apply_set(ctx, c, err) < 0) {
        PQfinish(c);
        return NULL;
    }
    assert(PQtransactionStatus(c) == PQTRANS_IDLE);
    return c;
}

/* A new command's connection with the scenario's `set` list applied; NULL after a setup error. */
static PGconn *command_connection(rh_ctx *ctx, const rh_scn_step *st)
{
    rh_err err;
    PGconn *c = rh_ctx_command_connection(ctx, 1, &err);
    if (!c)
        rh_setup_error(ctx, st, "%s", err.msg);
    return c;
}

void rh_describe_engine(const rh_engine_result *r, int rc, const rh_err *err, rh_buf *out)
{
    if (rc < 0) {
        rh_buf_printf(out, "rehearse could not run the command: %s", err->msg);
        return;
    }
    rh_buf_printf(out, "exit %d", r->exit_code);
    if (r->code[0])
        rh_buf_printf(out, ", %s", r->code);
    if (r->failed_migration)
        rh_buf_printf(out, " at %s", r->failed_migration);
    if (r->sqlstate[0])
        rh_buf_printf(out, ", SQLSTATE %s", r->sqlstate);
    if (r->db_message)
        rh_buf_printf(out, ": %s", r->db_message);
    if (r->exit_code == 0 && r->n_applied)
        rh_buf_printf(out, " (%zu applied)", r->n_applied);
}

/* Compare what the command did with the step's `=> ...`. */
static int check_outcome(rh_ctx *ctx, const rh_scn_step *st, const rh_scn_step *outcome_of, rh_job *job)
{
    const rh_scn_outcome *o = &st->outcome;
    const rh_engine_result *r = &job->res;
    int ok;
    if (job->rc < 0) {
        rh_buf d;
        rh_buf_init(&d);
        rh_describe_engine(r, job->rc, &job->err, &d);
        rh_setup_error(ctx, st, "%s: %s", rh_scn_kind_name(outcome_of->kind), d.data);
        rh_buf_free(&d);
        return -1;
    }
    switch (o->kind) {
    case RH_OUT_ANY: ok = 1; break;
    case RH_OUT_EXIT: ok = r->exit_code == o->exit_code; break;
    case RH_OUT_ERROR: ok = strcmp(r->code, o->code) == 0; break;
    case RH_OUT_FAILS:
        ok = r->exit_code != 0 && r->failed_migration && strcmp(r->failed_migration, o->name) == 0 &&
             (!o->code[0] || strcmp(r->sqlstate, o->code) == 0);
        break;
    default: ok = r->exit_code == 0; break;
    }
    if (ok)
        return 0;
    char *exp = rh_scn_outcome_text(o);
    rh_buf act;
    rh_buf_init(&act);
    rh_describe_engine(r, job->rc, &job->err, &act);
    rh_fail(ctx, st, exp, act.data, "`%s` did not end as the scenario expects", rh_scn_kind_name(outcome_of->kind));
    free(exp);
    rh_buf_free(&act);
    if (!ctx->res->output && ctx->last_output.len)
        rh_ctx_keep_output(ctx, rh_xstrdup(ctx->last_output.data));
    return -1;
}

/* Wait until backend PID is gone from pg_stat_activity (a closed connection's backend exits a moment
   after PQfinish), polling through VIA every millisecond, at most MAX_TRIES times. */
void rh_ctx_wait_gone(PGconn *via, int pid, int max_tries)
{
    char p[16];
    snprintf(p, sizeof p, "%d", pid);
    const char *params[] = {p};
    for (int i = 0; i < max_tries; i++) {
        PGresult *r = PQexecParams(via, "SELECT 1 FROM pg_stat_activity WHERE pid = $1::int", 1, NULL, params, NULL,
                                   NULL, 0);
        int gone = PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0;
        PQclear(r);
        if (gone)
            return;
        usleep(1000);
    }
}

/*
 * The command's process ends: close its connection and wait (via the control connection) until
 * its backend is gone, so that what the session held (session advisory locks, temp tables) is
 * released before the next step looks, as when a `prisma` process has exited.
 */
static void close_command_connection(rh_job *job)
{
    if (!job->conn)
        return;
    int alive = PQstatus(job->conn) == CONNECTION_OK;
    PQfinish(job->conn);
    job->conn = NULL;
    PGconn *via = job->ctx->conn;
    if (!alive || job->pid <= 0 || !via || PQstatus(via) != CONNECTION_OK)
        return;
    rh_ctx_wait_gone(via, job->pid, 10000); /* a backend exits in milliseconds; give up after ~10 s */
}

static void job_free(rh_job *job)
{
    if (job->wconn)
        PQfinish(job->wconn);
    close_command_connection(job);
    rh_engine_result_free(&job->res);
    pthread_mutex_destroy(&job->mu);
    free(job);
}

/* Stop the watcher, keep the output, judge the fault and the outcome. */
static int finish(rh_ctx *ctx, rh_job *job, const rh_scn_step *st)
{
    pthread_mutex_lock(&job->mu);
    job->stop = 1;
    pthread_mutex_unlock(&job->mu);
    if (job->watching)
        pthread_join(job->watcher, NULL);
    rh_buf_reset(&ctx->last_output);
    rh_buf_append(&ctx->last_output, job->res.out.data, job->res.out.len);
    rh_buf_append(&ctx->last_output, job->res.errout.data, job->res.errout.len);
    ctx->have_output = 1;
    if (!rh_ctx_default_tool(ctx)) { /* what the tool's command found (drizzle's skipped entry) */
        for (size_t i = 0; i < ctx->n_findings; i++) {
            free(ctx->findings[i].name);
            free(ctx->findings[i].detail);
        }
        free(ctx->findings);
        ctx->findings = rh_xcalloc(job->res.n_findings + 1, sizeof *ctx->findings);
        ctx->n_findings = job->res.n_findings;
        for (size_t i = 0; i < job->res.n_findings; i++) {
            const rh_finding *f = &job->res.findings[i];
            ctx->findings[i].kind = f->kind;
            ctx->findings[i].name = f->name ? rh_xstrdup(f->name) : NULL;
            ctx->findings[i].detail = f->detail ? rh_xstrdup(f->detail) : NULL;
        }
    }
    int rc = 0;
    if (job->restarted) {
        /* every connection died with the server (the command's own goes with the job) */
        PQfinish(ctx->conn);
        ctx->conn = NULL;
        rh_sessions_close(ctx);
        if (rh_ctx_reconnect(ctx, st) < 0)
            rc = -1;
    }
    if (rc == 0 && job->scale_error[0])
        rc = rh_setup_error(ctx, st, "--scale/--rows: %s", job->scale_error);
    if (rc == 0 && job->fault_error[0])
        rc = rh_setup_error(ctx, job->fault, "fault %s: %s", job->fault->source, job->fault_error);
    if (rc == 0 && check_outcome(ctx, st, job->st, job) < 0)
        rc = -1;
    if (rc == 0 && job->fault && !job->fired)
        rc = rh_fail(ctx, st, "the fault to fire", "it never did",
                     "the fault armed at %s:%d (%s) never fired during this %s%s", job->fault->file, job->fault->line,
                     job->fault->source, rh_scn_kind_name(job->st->kind),
                     job->fault->fault_trigger == RH_FAULT_AT_MIGRATION
                         ? ": the migration did not run, or ended before it could be interrupted (make it wait on a "
                           "lock and use `fault ... when blocked`)"
                         : "");
    return rc;
}

int rh_step_command(rh_ctx *ctx, const rh_scn_step *st)
{
    const rh_migset *set;
    if (rh_ctx_migset(ctx, st, &set) < 0)
        return -1;
    rh_trace_begin(ctx, st); /* --trace-locks: a copy of the database before the deploy */
    if (rh_ctx_reconnect(ctx, st) < 0)
        return -1;
    PGconn *conn = command_connection(ctx, st);
    if (!conn)
        return -1;
    rh_job *job = rh_xcalloc(1, sizeof *job);
    pthread_mutex_init(&job->mu, NULL);
    job->ctx = ctx;
    job->st = st;
    job->conn = conn;
    job->pid = PQbackendPID(conn);
    rh_engine_result_init(&job->res);
    rh_engine_opts_for(ctx, &job->eo);
    job->eo.resumed = ctx->resumed; /* cached.c: the cluster holds a cached state of the first migrations */
    job->fault = ctx->fault;
    ctx->fault = NULL;   /* a fault is for one command */
    if (job->fault) {
        rh_err err;
        job->wconn = rh_ctx_connect_admin(ctx, &err);
        if (!job->wconn) {
            job_free(job);
            return rh_setup_error(ctx, st, "fault: %s", err.msg);
        }
        job->eo.before_migration = hook;
        job->eo.hook_data = job;
        if (job->fault->fault_trigger != RH_FAULT_BEFORE_MIGRATION) {
            if (pthread_create(&job->watcher, NULL, watch, job) != 0) {
                job_free(job);
                return rh_setup_error(ctx, st, "cannot start the fault watcher thread");
            }
            job->watching = 1;
        }
    }
    job->scale = ctx->opts->scale;
    if (job->scale) {
        job->eo.before_migration = hook;
        job->eo.hook_data = job;
    }
    rh_lockwait lw; /* a foreground command's: it lives as long as the command runs */
    rh_lockwait_arm(ctx, st, job->fault != NULL, &lw, &job->eo);
    if (st->background) {
        if (pthread_create(&job->thread, NULL, run_engine, job) != 0) {
            job->stop = 1;
            if (job->watching)
                pthread_join(job->watcher, NULL);
            job_free(job);
            return rh_setup_error(ctx, st, "cannot start a thread for `%s &`", rh_scn_kind_name(st->kind));
        }
        job->threaded = 1;
        ctx->bg = job;
        return 0;
    }
    run_engine(job);
    free(ctx->wait_note);
    ctx->wait_note = rh_lockwait_note(&lw, &job->res);
    ctx->wait_skipped_ms = (double)job->res.lock_wait_skipped_ms;
    if (ctx->wait_note) { /* the time limit runs on as if the wait had been waited */
        if (ctx->deadline_ms > 0)
            ctx->deadline_ms -= ctx->wait_skipped_ms;
        if (ctx->opts->on_wait_skipped)
            ctx->opts->on_wait_skipped(ctx->opts->on_step_ctx, ctx->wait_skipped_ms);
    }
    if (ctx->want_session_clean) /* cached.c: may this deploy's state be continued on another connection? */
        ctx->session_clean = job->rc == 0 && rh_engine_session_clean(job->conn);
    rh_trace_end(ctx, &job->res);
    int rc = finish(ctx, job, st);
    job_free(job);
    return rc;
}

int rh_step_command_wait(rh_ctx *ctx, const rh_scn_step *st)
{
    rh_job *job = ctx->bg;
    if (!job || strcmp(rh_scn_kind_name(job->st->kind), st->arg) != 0)
        return rh_setup_error(ctx, st, "wait %s: no %s is running in the background", st->arg, st->arg);
    if (st->n) { /* wait deploy blocked */
        long deadline = now_ms() + ctx->wait_ms;
        for (;;) {
            pthread_mutex_lock(&job->mu);
            int done = job->stop;
            pthread_mutex_unlock(&job->mu);
            if (rh_ctx_blocked(ctx, job->pid) > 0)
                return 0;
            if (done) {
                rh_buf d;
                rh_buf_init(&d);
                rh_describe_engine(&job->res, job->rc, &job->err, &d);
                rh_fail(ctx, st, "blocked", d.data, "wait %s blocked: the command ended instead (%s)", st->arg, d.data);
                rh_buf_free(&d);
                return -1;
            }
            if (now_ms() > deadline)
                return rh_fail(ctx, st, "blocked", "running, not waiting on a lock",
                               "wait %s blocked: it did not wait on a lock within %ld ms", st->arg, ctx->wait_ms);
            usleep(2000);
        }
    }
    pthread_join(job->thread, NULL);
    ctx->bg = NULL;
    int rc = finish(ctx, job, st);
    job_free(job);
    return rc;
}

void rh_command_abort(rh_ctx *ctx)
{
    rh_job *job = ctx->bg;
    if (!job)
        return;
    /* the scenario failed while the command ran: stop its backend so the thread returns */
    rh_err err;
    PGconn *c = ctx->cluster ? rh_ctx_connect(ctx, NULL, &err) : NULL;
    if (c) {
        char p[16];
        snprintf(p, sizeof p, "%d", job->pid);
        const char *params[] = {p};
        PQclear(PQexecParams(c, "SELECT pg_terminate_backend($1::int)", 1, NULL, params, NULL, NULL, 0));
        PQfinish(c);
    }
    pthread_join(job->thread, NULL);
    pthread_mutex_lock(&job->mu);
    job->stop = 1;
    pthread_mutex_unlock(&job->mu);
    if (job->watching)
        pthread_join(job->watcher, NULL);
    ctx->bg = NULL;
    job_free(job);
}
