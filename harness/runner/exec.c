/*
 * exec.c — runs one scenario in this process: a fresh cluster, the steps in order, the first
 * failing step recorded in the result with the server log's tail, and every connection, thread and
 * server stopped on every path (or the cluster kept with --keep-failed).
 *
 * This file holds the run loop and the steps that need no helper of their own: setup (repo,
 * migrations, prisma, checkout), sql / sql-file / restore, set / env, snapshot, restart, sleep.
 */
#include "runner/exec_int.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "migrations/split.h"
#include "scale/scale.h"
#include "util/fs.h"
#include "util/pgenv.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- failures ---------------------------------------------------------------------------------- */

static int fail_v(rh_ctx *ctx, rh_status status, const rh_scn_step *st, const char *expected, const char *actual,
                  const char *fmt, va_list ap)
{
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    if (ctx->res->status == RH_PASS)   /* the first failure is the one reported */
        rh_result_fail(ctx->res, status, st, msg, expected, actual);
    free(msg);
    return -1;
}

int rh_fail(rh_ctx *ctx, const rh_scn_step *st, const char *expected, const char *actual, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_v(ctx, RH_FAIL, st, expected, actual, fmt, ap);
    va_end(ap);
    return -1;
}

int rh_setup_error(rh_ctx *ctx, const rh_scn_step *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_v(ctx, RH_ERROR, st, NULL, NULL, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- the migrations of the current checkout --------------------------------------------------- */

static void drop_set(rh_ctx *ctx)
{
    if (ctx->have_set)
        rh_migset_free(&ctx->set);
    memset(&ctx->set, 0, sizeof ctx->set);
    ctx->have_set = 0;
}

static int open_repo(rh_ctx *ctx, const rh_scn_step *st)
{
    if (ctx->repo)
        return 0;
    rh_err err;
    /* checked again here: the parser let a path that did not resolve yet pass */
    if (rh_scn_path_allowed(ctx->s, ctx->repo_path, &err) <= 0)
        return rh_setup_error(ctx, st, "repo %s: %s", ctx->repo_path, err.msg);
    if (rh_git_open(&ctx->repo, ctx->repo_path, &err) < 0)
        return rh_setup_error(ctx, st, "repo %s: %s", ctx->repo_path, err.msg);
    return 0;
}

void rh_ctx_load_spec(rh_ctx *ctx, rh_load_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    if (ctx->repo_path) {
        spec->git = ctx->repo;
        spec->migrations = ctx->migrations;
    } else {
        spec->dir = ctx->migrations_dir;
    }
    if (ctx->profile_explicit) { /* a `prisma V` step: every set of the scenario in its order */
        spec->tool_version = ctx->profile.version;
        spec->override_label = ctx->profile_source;
    }
}

int rh_ctx_default_tool(const rh_ctx *ctx)
{
    return !ctx->tool || ctx->tool == rh_tools[0];
}

void rh_ctx_keep_output(rh_ctx *ctx, char *text)
{
    free(ctx->res->output);
    free(ctx->res->output_tool);
    ctx->res->output = text;
    ctx->res->output_tool = rh_xstrdup((ctx->tool ? ctx->tool : rh_tools[0])->name);
}

/* Another tool's folder: its own reader, at the checkout's revision or on disk. */
static int tool_migset(rh_ctx *ctx, const rh_scn_step *st)
{
    rh_err err;
    const rh_tool *t = ctx->tool;
    int rc;
    if (ctx->repo_path) {
        const char *rev = ctx->rev.worktree ? "WORKTREE" : ctx->rev.sha;
        const char *path = ctx->migrations ? ctx->migrations : t->default_migrations;
        if (!ctx->migrations && !t->default_migrations[0])
            return rh_setup_error(ctx, st, "tool %s: name the folder its command reads with `migrations PATH`",
                                  t->name);
        rh_load_spec spec = {.tool = t, .repo = ctx->repo_path, .rev = rev, .migrations = path};
        rc = rh_source_load_set(&spec, &ctx->set, NULL, &err);
        if (rc < 0)
            return rh_setup_error(ctx, st, "%s at %s (tool %s): %s", path, ctx->rev.label, t->name, err.msg);
    } else {
        rh_load_spec spec = {.tool = t, .dir = ctx->migrations_dir};
        rc = rh_source_load_set(&spec, &ctx->set, NULL, &err);
        if (rc < 0)
            return rh_setup_error(ctx, st, "migrations %s (tool %s): %s", ctx->migrations_dir, t->name, err.msg);
    }
    ctx->have_set = 1;
    return 0;
}

/*
 * The default tool found no migrations (no folder, or an empty set) and no `tool` step named one: is
 * the folder another tool's, or .sql files of no known tool? The default tool would deploy nothing and
 * exit 0 ("No migration found"), so a step that runs it is an error naming the tool to put first, as
 * the CLI's detection refuses such a folder. A `checkout` only reads ahead: it leaves the set unread
 * (1) for a `tool` step after it. 0: nobody else's folder, the default tool's answer stands.
 */
static int other_tools_folder(rh_ctx *ctx, const rh_scn_step *st)
{
    if (ctx->tool)
        return 0;
    char why[1024] = "";
    rh_err err;
    const rh_tool *t;
    if (ctx->repo_path)
        t = rh_tool_detect_rev(ctx->repo_path, ctx->rev.worktree ? "WORKTREE" : ctx->rev.spec, ctx->migrations, why,
                               sizeof why, &err);
    else
        t = rh_tool_detect_dir(ctx->migrations_dir, &err);
    if (t == RH_TOOL_DEFAULT)
        return 0;
    if (st->kind == RH_STEP_CHECKOUT)
        return 1;
    if (!t)
        return rh_setup_error(ctx, st, "%s (in a scenario: `tool NAME`, or `tool command \"CMD\"`)", err.msg);
    if (ctx->repo_path)
        return rh_setup_error(ctx, st, "%s: a scenario names its tool: put `tool %s` before this step", why, t->name);
    return rh_setup_error(ctx, st, "migrations %s holds %s migrations: a scenario names its tool: put `tool %s` before this step",
                          ctx->migrations_dir, t->name, t->name);
}

int rh_ctx_migset(rh_ctx *ctx, const rh_scn_step *st, const rh_migset **out)
{
    rh_err err;
    if (ctx->have_set) {
        *out = &ctx->set;
        return 0;
    }
    if (!ctx->repo_path && !ctx->migrations_dir)
        return rh_setup_error(ctx, st, "no migrations: the scenario names neither `repo` nor `migrations`");
    if (!ctx->repo_path && rh_scn_path_allowed(ctx->s, ctx->migrations_dir, &err) <= 0)
        return rh_setup_error(ctx, st, "migrations %s: %s", ctx->migrations_dir, err.msg);
    if (ctx->repo_path) {
        if (open_repo(ctx, st) < 0)
            return -1;
        if (!ctx->have_rev) {
            if (rh_git_resolve(ctx->repo, "HEAD", &ctx->rev, &err) < 0)
                return rh_setup_error(ctx, st, "repo %s: no checkout yet and HEAD does not resolve: %s",
                                      ctx->repo_path, err.msg);
            ctx->have_rev = 1;
        }
    }
    if (!rh_ctx_default_tool(ctx)) {
        if (tool_migset(ctx, st) < 0)
            return -1;
        *out = &ctx->set;
        return 0;
    }
    rh_load_spec spec;
    rh_ctx_load_spec(ctx, &spec);
    spec.resolved = &ctx->rev;
    rh_loaded l;
    if (rh_source_load(&spec, &l, &err) < 0) {
        int other = strstr(err.msg, "no migrations folder found") ? other_tools_folder(ctx, st) : 0;
        if (other) { /* an error said, or a checkout before the scenario's `tool` step: nothing read */
            *out = &ctx->set;
            return other < 0 ? -1 : 0;
        }
        if (!ctx->repo_path)
            return rh_setup_error(ctx, st, "migrations %s: %s", ctx->migrations_dir, err.msg);
        if (!ctx->migrations && strncmp(err.msg, "no migrations folder found", 26) == 0)
            return rh_setup_error(ctx, st, "%s at %s: %s (name the folder with `migrations PATH`)", ctx->repo_path,
                                  ctx->rev.label, err.msg);
        return rh_setup_error(ctx, st, "%s", err.msg);
    }
    int other = l.set.n == 0 ? other_tools_folder(ctx, st) : 0;
    if (other) {
        rh_loaded_free(&l);
        *out = &ctx->set;
        return other < 0 ? -1 : 0;
    }
    ctx->set = l.set;
    memset(&l.set, 0, sizeof l.set);
    ctx->profile = l.choice.profile;
    snprintf(ctx->profile_source, sizeof ctx->profile_source, "%s", l.choice.source);
    ctx->profile_from = l.choice.from;
    rh_result_add_profile(ctx->res, &ctx->profile, ctx->profile_from, ctx->profile_source);
    rh_loaded_free(&l);
    ctx->have_set = 1;
    *out = &ctx->set;
    return 0;
}

static int step_checkout(rh_ctx *ctx, const rh_scn_step *st)
{
    rh_err err;
    if (!ctx->repo_path)
        return rh_setup_error(ctx, st, "checkout %s: no repository; add `repo PATH` before it", st->arg);
    if (open_repo(ctx, st) < 0)
        return -1;
    if (rh_git_resolve(ctx->repo, st->arg, &ctx->rev, &err) < 0)
        return rh_setup_error(ctx, st, "checkout %s: %s", st->arg, err.msg);
    ctx->have_rev = 1;
    drop_set(ctx);
    const rh_migset *set;
    return rh_ctx_migset(ctx, st, &set);   /* read now so that a bad folder fails at this line */
}

/* ---- connections -------------------------------------------------------------------------------- */

static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *rh_ctx_connect(rh_ctx *ctx, const char *dbname, rh_err *err)
{
    PGconn *c = rh_cluster_connect(ctx->cluster, dbname, err);
    if (c)
        PQsetNoticeProcessor(c, no_notices, NULL);
    return c;
}

PGconn *rh_ctx_connect_admin(rh_ctx *ctx, rh_err *err)
{
    PGconn *c = rh_cluster_connect_admin(ctx->cluster, NULL, err);
    if (c)
        PQsetNoticeProcessor(c, no_notices, NULL);
    return c;
}

PGconn *rh_ctx_connect_user(rh_ctx *ctx, rh_err *err)
{
    rh_buf ci, opts;
    rh_buf_init(&ci);
    rh_buf_init(&opts);
    for (size_t i = 0; i < ctx->npgenv; i++) {
        int added = rh_pgenv_to_conninfo(ctx->pgenv[2 * i], ctx->pgenv[2 * i + 1], &ci, &opts);
        assert(added == 1); /* step_env keeps no other */
        (void)added;
    }
    rh_pgenv_options(&ci, opts.data);
    PGconn *c = rh_cluster_connect_with(ctx->cluster, NULL, ci.len ? ci.data : NULL, err);
    rh_buf_free(&ci);
    rh_buf_free(&opts);
    if (c)
        PQsetNoticeProcessor(c, no_notices, NULL);
    return c;
}

int rh_ctx_reconnect(rh_ctx *ctx, const rh_scn_step *st)
{
    rh_err err;
    if (!ctx->conn || PQstatus(ctx->conn) != CONNECTION_OK) {
        PQfinish(ctx->conn);
        if (!(ctx->conn = rh_ctx_connect(ctx, NULL, &err)))
            return rh_setup_error(ctx, st, "%s", err.msg);
    }
    return 0;
}

/* After a restart every connection is gone, whatever PQstatus still believes. */
static int reconnect_all(rh_ctx *ctx, const rh_scn_step *st)
{
    PQfinish(ctx->conn);
    ctx->conn = NULL;
    rh_sessions_close(ctx);
    return rh_ctx_reconnect(ctx, st);
}

int rh_ctx_blocked(rh_ctx *ctx, int pid)
{
    char p[16];
    snprintf(p, sizeof p, "%d", pid);
    const char *params[] = {p};
    PGresult *r = PQexecParams(ctx->conn, "SELECT cardinality(pg_blocking_pids($1::int))", 1, NULL, params, NULL,
                               NULL, 0);
    int n = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

int rh_ctx_catalog(rh_ctx *ctx, const rh_scn_step *st, const rh_catalog **out)
{
    if (!ctx->cat_cache) {
        rh_err err;
        rh_catalog_opts co = {0};
        if (!rh_ctx_default_tool(ctx) && ctx->ledger_tool) /* the scenario's tool's ledger is left out */
            co.ledger_tool = ctx->ledger_tool;
        if (rh_catalog_snapshot(ctx->conn, &co, &ctx->cat_cache, &err) < 0)
            return rh_setup_error(ctx, st, "catalog snapshot: %s", err.msg);
    }
    *out = ctx->cat_cache;
    return 0;
}

/* ---- SQL ------------------------------------------------------------------------------------------ */

/* Run text as one simple-query message, or statement by statement; fills sqlstate/message of the first error. */
static int run_sql(PGconn *conn, const char *text, int each, char sqlstate[6], rh_buf *message)
{
    sqlstate[0] = 0;
    rh_split split = {0};
    rh_err err;
    size_t n = 1;
    if (each && rh_sql_split(&split, text, strlen(text), &err) == 0)
        n = split.n;
    else
        each = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        PGresult *r = PQexec(conn, each ? split.items[i].text : text);
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_COPY_IN) {
            /* no data to feed: end the COPY with an error so the connection stays usable */
            PQclear(r);
            PQputCopyEnd(conn, "rehearse scenarios cannot feed COPY FROM STDIN; use INSERTs or COPY FROM a file");
            while ((r = PQgetResult(conn)) != NULL) {
                if (PQresultStatus(r) == PGRES_FATAL_ERROR && !sqlstate[0]) {
                    const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
                    snprintf(sqlstate, 6, "%s", code ? code : "57014");
                    rh_buf_puts(message, "COPY FROM STDIN is not supported in scenarios (use INSERTs)");
                }
                PQclear(r);
            }
            rc = -1;
            continue;
        }
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY) {
            const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            /* the server's FATAL (57P01 ...) is lost with the connection: libpq reports a connection failure */
            if ((!code || !*code) && PQstatus(conn) != CONNECTION_OK)
                code = "08006";
            snprintf(sqlstate, 6, "%s", code ? code : "");
            const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
            rh_buf_puts(message, m ? m : PQerrorMessage(conn));
            if (each)
                rh_buf_printf(message, " (statement %zu, line %d)", i + 1, split.items[i].line);
            rc = -1;
        }
        PQclear(r);
    }
    if (each)
        rh_split_free(&split);
    return rc;
}

/*
 * A sql step is one `psql` run: whatever transaction it leaves open (a BEGIN without COMMIT, or
 * one an error aborted, as a failed `--each` file leaves) ends with it, so the next step does not
 * meet 25P02. A connection the SQL lost (pg_terminate_backend of itself) is opened again.
 */
int rh_ctx_end_sql(rh_ctx *ctx, const rh_scn_step *st)
{
    if (PQstatus(ctx->conn) != CONNECTION_OK)
        return rh_ctx_reconnect(ctx, st);
    if (PQtransactionStatus(ctx->conn) == PQTRANS_IDLE)
        return 0;
    PGresult *r = PQexec(ctx->conn, "ROLLBACK");
    PQclear(r);
    if (PQstatus(ctx->conn) != CONNECTION_OK || PQtransactionStatus(ctx->conn) != PQTRANS_IDLE) {
        PQfinish(ctx->conn);
        ctx->conn = NULL;
        return rh_ctx_reconnect(ctx, st);
    }
    return 0;
}

/* Check how a piece of SQL ended against the step's outcome. */
static int sql_outcome(rh_ctx *ctx, const rh_scn_step *st, int rc, const char *sqlstate, const char *msg)
{
    const rh_scn_outcome *o = &st->outcome;
    if (o->kind == RH_OUT_ANY)
        return 0;
    char *exp = rh_scn_outcome_text(o);
    char *act = rc == 0 ? rh_xstrdup("ok") : rh_xasprintf("error %s: %s", sqlstate, msg);
    int ok = o->kind == RH_OUT_ERROR ? (rc < 0 && strcmp(o->code, sqlstate) == 0) : rc == 0;
    int ret = 0;
    if (!ok)
        ret = rh_fail(ctx, st, exp, act, "the SQL did not end as the scenario expects");
    free(exp);
    free(act);
    return ret;
}

static int step_sql(rh_ctx *ctx, const rh_scn_step *st)
{
    char *owned = NULL;
    const char *text = st->text;
    rh_err err;
    if (st->kind == RH_STEP_SQL_FILE) {
        if (st->from_migration) {
            const rh_migset *set;
            if (rh_ctx_migset(ctx, st, &set) < 0)
                return -1;
            const rh_migration *m = rh_migset_find(set, st->arg);
            if (!m || !m->sql)
                return rh_setup_error(ctx, st, "sql-file --migration %s: %s at %s", st->arg,
                                      m ? "the folder has no migration.sql" : "no such migration",
                                      ctx->have_rev ? ctx->rev.label : "the migrations folder");
            text = m->sql;
        } else {
            size_t len;
            if (rh_scn_read_file(ctx->s, st->arg, &owned, &len, &err) < 0)
                return rh_setup_error(ctx, st, "sql-file: %s", err.msg);
            const char *nul = memchr(owned, 0, len);
            if (nul) {   /* libpq would send the text up to it and drop the rest without a word */
                size_t at = (size_t)(nul - owned);
                free(owned);
                return rh_setup_error(ctx, st, "sql-file %s: a NUL byte at offset %zu (is this a binary file?)",
                                      st->arg, at);
            }
            text = owned;
        }
    }
    char state[6];
    rh_buf msg;
    rh_buf_init(&msg);
    int rc = run_sql(ctx->conn, text, st->each, state, &msg);
    int ret = sql_outcome(ctx, st, rc, state, msg.data);
    if (ret == 0)
        ret = rh_ctx_end_sql(ctx, st);
    rh_buf_free(&msg);
    free(owned);
    return ret;
}

/* pg_dump's plain output may hold psql meta-commands (\connect, \restrict): drop those lines. */
static char *strip_meta(const char *text)
{
    rh_buf b;
    rh_buf_init(&b);
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (p[0] != '\\')
            rh_buf_append(&b, p, len);
        p += len;
    }
    return rh_buf_steal(&b);
}

/* pg_dump's header names production's version: say so when the rehearsal runs another major. */
static void note_dump_version(rh_ctx *ctx, const char *text)
{
    const char *h = strstr(text, "-- Dumped from database version ");
    if (!h || h - text > 4096)
        return;
    h += strlen("-- Dumped from database version ");
    char ver[32] = "";
    sscanf(h, "%31[0-9.]", ver);
    const rh_pgbin *bin = rh_cluster_pgbin(ctx->cluster);
    if (!ver[0] || atoi(ver) == bin->major || ctx->res->pg_note)
        return;
    ctx->res->pg_note = rh_pgver_mismatch_note(ver, "the restored dump's header", "this rehearsal ran on", bin->version);
}

/* scale FILE | scale TABLE ROWS: fill the existing tables to that size, server-side (scale/fill.c). */
static int step_scale(rh_ctx *ctx, const rh_scn_step *st)
{
    rh_err err;
    rh_scale scale = {0};
    char *data = NULL;
    size_t len;
    int bad = 0;
    if (st->arg) /* read through the scenario's confinement, like every file it names */
        bad = rh_scn_read_file(ctx->s, st->arg, &data, &len, &err) < 0 || rh_scale_parse(&scale, data, st->arg, &err) < 0;
    else
        bad = rh_scale_add_rows(&scale, st->arg2, &err) < 0;
    free(data);
    PGconn *c = bad ? NULL : rh_ctx_connect(ctx, NULL, &err);
    rh_scale_fill_result fill = {0};
    int rc = 0;
    if (bad || !c || rh_scale_fill(c, &scale, &fill, &err) < 0)
        rc = rh_setup_error(ctx, st, "scale: %s", err.msg);
    else if (!st->arg && fill.nunmatched) /* a guess names one table: a typo must not pass as "filled" */
        rc = rh_setup_error(ctx, st, "scale: the database has no table %s now: nothing filled (expected a table "
                                     "that the steps so far create, SCHEMA.TABLE for another schema than public)",
                            scale.tables[fill.unmatched[0]].name);
    for (size_t i = 0; rc == 0 && i < fill.n; i++)
        if (fill.tables[i].before + fill.tables[i].inserted < fill.tables[i].target) /* short of its size: say why */
            rc = rh_setup_error(ctx, st, "scale: table %s.%s: %lld of %lld rows after filling: %s",
                                fill.tables[i].schema, fill.tables[i].name,
                                fill.tables[i].before + fill.tables[i].inserted, fill.tables[i].target,
                                fill.tables[i].note ? fill.tables[i].note : "no reason given");
    if (c)
        PQfinish(c);
    rh_scale_fill_result_free(&fill);
    rh_scale_free(&scale);
    return rc;
}

static int step_restore_schema(rh_ctx *ctx, const rh_scn_step *st)
{
    rh_err err;
    char *data = NULL;
    size_t len;
    if (!st->text && rh_scn_read_file(ctx->s, st->arg, &data, &len, &err) < 0)
        return rh_setup_error(ctx, st, "restore schema: %s", err.msg);
    char *text = strip_meta(st->text ? st->text : data);
    free(data);
    note_dump_version(ctx, text);
    /* a dump sets search_path to '' for its session: use a connection of its own */
    PGconn *c = rh_ctx_connect(ctx, NULL, &err);
    if (!c) {
        free(text);
        return rh_setup_error(ctx, st, "%s", err.msg);
    }
    char state[6];
    rh_buf msg;
    rh_buf_init(&msg);
    int rc = run_sql(c, text, 0, state, &msg);
    PQfinish(c);
    free(text);
    if (rc < 0) {
        rh_setup_error(ctx, st, "restore schema %s: SQLSTATE %s: %s", st->arg ? st->arg : "(heredoc)", state, msg.data);
        rh_buf_free(&msg);
        return -1;
    }
    rh_buf_free(&msg);
    return 0;
}

/*
 * One CSV record (RFC 4180 quoting) starting at *p; fields are malloc'd. Returns the field count;
 * *bad is set when a quoted field never closes (the rest of the text would be swallowed into it).
 */
static size_t csv_record(const char **p, char ***fields, int *bad)
{
    size_t n = 0;
    *fields = NULL;
    *bad = 0;
    const char *s = *p;
    if (!*s)
        return 0;
    for (;;) {
        rh_buf f;
        rh_buf_init(&f);
        if (*s == '"') {
            s++;
            int closed = 0;
            while (*s) {
                if (*s == '"' && s[1] == '"') {
                    rh_buf_putc(&f, '"');
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    closed = 1;
                    break;
                } else {
                    rh_buf_putc(&f, *s++);
                }
            }
            if (!closed)
                *bad = 1;
        }
        while (*s && *s != ',' && *s != '\n' && *s != '\r')
            rh_buf_putc(&f, *s++);
        *fields = rh_xrealloc(*fields, (n + 1) * sizeof **fields);
        (*fields)[n++] = rh_buf_steal(&f);
        rh_buf_free(&f);
        if (*s == ',') {
            s++;
            continue;
        }
        if (*s == '\r')
            s++;
        if (*s == '\n')
            s++;
        break;
    }
    *p = s;
    return n;
}

static void free_fields(char **f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(f[i]);
    free(f);
}

/* The migrations at the current checkout, for a ledger value that needs them (loaded once, on demand). */
typedef struct restore_at {
    rh_ctx *ctx;
    const rh_scn_step *st;
} restore_at;

static const rh_migset *restore_set(void *data)
{
    restore_at *at = data;
    const rh_migset *set;
    return rh_ctx_migset(at->ctx, at->st, &set) == 0 ? set : NULL;
}

/* restore ledger FILE | <<END: CSV rows with a header naming the tool's ledger columns, written as its rows. */
static int step_restore_ledger(rh_ctx *ctx, const rh_scn_step *st)
{
    const rh_tool *tool = rh_ctx_default_tool(ctx) ? RH_TOOL_DEFAULT : ctx->ledger_tool;
    /* rh_scenario_check_tools (tools_check.c), which every run calls first, refused a tool without a row writer */
    assert(tool && tool->ledger_insert_row);
    const char *const *cols = tool->ledger_columns;
    size_t NC = 0;
    while (cols[NC])
        NC++;
    rh_err err;
    char *data = NULL;
    size_t len;
    if (!st->text && rh_scn_read_file(ctx->s, st->arg, &data, &len, &err) < 0)
        return rh_setup_error(ctx, st, "restore ledger: %s", err.msg);
    const char *p = st->text ? st->text : data;
    const char *what = st->arg ? st->arg : "(heredoc)";
    char **hdr;
    int bad;
    size_t nh = csv_record(&p, &hdr, &bad);
    int *map = rh_xcalloc(NC, sizeof *map);
    for (size_t k = 0; k < NC; k++)
        map[k] = -1;
    int rc = 0;
    if (bad)
        rc = rh_setup_error(ctx, st, "restore ledger %s: a quoted field of the header is never closed", what);
    for (size_t i = 0; i < nh && rc == 0; i++) {
        int found = 0;
        for (size_t k = 0; k < NC; k++)
            if (strcmp(hdr[i], cols[k]) == 0) {
                map[k] = (int)i;
                found = 1;
            }
        if (!found) {
            rh_buf names;
            rh_buf_init(&names);
            for (size_t k = 0; k < NC; k++)
                rh_buf_printf(&names, "%s%s", k ? ", " : "", cols[k]);
            rc = rh_setup_error(ctx, st, "restore ledger %s: unknown column '%s' in the header (columns: %s)", what,
                                hdr[i], names.data);
            rh_buf_free(&names);
        }
    }
    int named = 0;
    for (size_t k = 0; k < NC; k++)
        named |= map[k] >= 0 && strcmp(cols[k], tool->ledger_name_column) == 0;
    if (rc == 0 && !named)
        rc = rh_setup_error(ctx, st, "restore ledger %s: the header needs a %s column", what, tool->ledger_name_column);
    int exists = 0;
    if (rc == 0 && tool->ledger_exists(ctx->conn, &exists, &err) < 0)
        rc = rh_setup_error(ctx, st, "restore ledger: %s", err.msg);
    if (rc == 0 && !exists && tool->ledger_create(ctx->conn, &err) < 0)
        rc = rh_setup_error(ctx, st, "restore ledger: %s", err.msg);
    int recno = 1;
    /* where a record starts: the CSV file's line, or the scenario's line for a heredoc */
    const char *from = st->text ? st->text : data;
    int line = 1;
    for (const char *q = from; q < p; q++)
        line += *q == '\n';
    while (rc == 0 && *p) {
        char **f;
        char at[4200];
        if (st->text)
            snprintf(at, sizeof at, "%s:%d", st->file, st->line + line);
        else
            snprintf(at, sizeof at, "%s:%d", st->arg, line);
        const char *start = p;
        size_t nf = csv_record(&p, &f, &bad);
        for (const char *q = start; q < p; q++)
            line += *q == '\n';
        recno++;
        if (nf == 0 || (nf == 1 && !f[0][0])) {
            free_fields(f, nf);
            continue;
        }
        if (bad || nf != nh) {
            if (bad)
                rc = rh_setup_error(ctx, st, "restore ledger %s: record %d: a quoted field is never closed", at,
                                    recno);
            else
                rc = rh_setup_error(ctx, st, "restore ledger %s: record %d has %zu fields, the header %zu", at,
                                    recno, nf, nh);
            free_fields(f, nf);
            break;
        }
        const char **v = rh_xcalloc(NC, sizeof *v);
        for (size_t k = 0; k < NC; k++)
            v[k] = map[k] >= 0 && (size_t)map[k] < nf && f[map[k]][0] ? f[map[k]] : NULL;
        restore_at here = {ctx, st};
        if (tool->ledger_insert_row(ctx->conn, v, restore_set, &here, &err) < 0)
            rc = rh_setup_error(ctx, st, "restore ledger %s: record %d: %s", at, recno, err.msg);
        free(v);
        free_fields(f, nf);
    }
    free_fields(hdr, nh);
    free(map);
    free(data);
    return rc;
}

/* ---- the rest ------------------------------------------------------------------------------------ */

/*
 * `env NAME VALUE`. A libpq variable (PG...) is kept for the connections the scenario's steps stand for
 * (its sessions, the Prisma commands: rh_ctx_connect_user) and given to each as conninfo keywords: set in
 * the process environment, it reached every connection rehearse opened after the step, its own too (the
 * clean deploy's CREATE DATABASE, catalog reads, the ledger checks after a restart), so `env PGOPTIONS
 * "-c default_transaction_read_only=on"` broke `expect catalog = clean`. An empty value removes it.
 * Any other variable goes to the environment (a worker process of its own: nobody else sees it).
 */
static int step_env(rh_ctx *ctx, const rh_scn_step *st)
{
    if (strncmp(st->arg, "PG", 2) != 0) {
        setenv(st->arg, st->arg2, 1);
        return 0;
    }
    rh_buf ci, opts;
    rh_buf_init(&ci);
    rh_buf_init(&opts);
    int usable = rh_pgenv_to_conninfo(st->arg, st->arg2, &ci, &opts);
    rh_buf_free(&ci);
    rh_buf_free(&opts);
    if (usable == 0)
        return rh_setup_error(ctx, st, "env %s: the scenario's connections go to its own cluster, as its own role: "
                              "a variable saying where or as whom has nothing to change", st->arg);
    if (usable < 0)
        return rh_setup_error(ctx, st, "env %s: not a libpq variable that can be given to one connection (PGOPTIONS, "
                              "PGAPPNAME, PGTZ, PGDATESTYLE, PGCLIENTENCODING, PGCONNECT_TIMEOUT ... are)", st->arg);
    for (size_t i = 0; i < ctx->npgenv; i++)
        if (strcmp(ctx->pgenv[2 * i], st->arg) == 0) {
            free(ctx->pgenv[2 * i]);
            free(ctx->pgenv[2 * i + 1]);
            memmove(&ctx->pgenv[2 * i], &ctx->pgenv[2 * i + 2], (ctx->npgenv - i - 1) * 2 * sizeof *ctx->pgenv);
            ctx->npgenv--;
            break;
        }
    if (*st->arg2) {
        ctx->pgenv = rh_xrealloc(ctx->pgenv, (ctx->npgenv + 1) * 2 * sizeof *ctx->pgenv);
        ctx->pgenv[2 * ctx->npgenv] = rh_xstrdup(st->arg);
        ctx->pgenv[2 * ctx->npgenv + 1] = rh_xstrdup(st->arg2);
        ctx->npgenv++;
    }
    return 0;
}

static int step_set(rh_ctx *ctx, const rh_scn_step *st)
{
    if (strcmp(st->arg, "rehearse.advisory_lock_timeout") == 0) {
        long ms = st->kind == RH_STEP_RESET ? 0 : rh_scn_parse_duration(st->arg2);
        if (ms < 0)
            return rh_setup_error(ctx, st, "set %s: '%s' is not a duration", st->arg, st->arg2);
        ctx->advisory_timeout_ms = ms;
        return 0;
    }
    /* remove any earlier value; `set` appends the new one */
    for (size_t i = 0; i < ctx->ngucs; i++)
        if (strcmp(ctx->gucs[2 * i], st->arg) == 0) {
            free(ctx->gucs[2 * i]);
            free(ctx->gucs[2 * i + 1]);
            memmove(&ctx->gucs[2 * i], &ctx->gucs[2 * i + 2], (ctx->ngucs - i - 1) * 2 * sizeof *ctx->gucs);
            ctx->ngucs--;
            break;
        }
    if (st->kind == RH_STEP_SET) {
        /* check it now, so a misspelt setting fails at its own line */
        const char *params[] = {st->arg, st->arg2};
        PGresult *r = PQexecParams(ctx->conn, "SELECT set_config($1, $2, true)", 2, NULL, params, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok) {
            rh_setup_error(ctx, st, "set %s %s: %s", st->arg, st->arg2, PQresultErrorMessage(r));
            PQclear(r);
            return -1;
        }
        PQclear(r);
        ctx->gucs = rh_xrealloc(ctx->gucs, (ctx->ngucs + 1) * 2 * sizeof *ctx->gucs);
        ctx->gucs[2 * ctx->ngucs] = rh_xstrdup(st->arg);
        ctx->gucs[2 * ctx->ngucs + 1] = rh_xstrdup(st->arg2);
        ctx->ngucs++;
    }
    return 0;
}

static int step_snapshot(rh_ctx *ctx, const rh_scn_step *st)
{
    const rh_catalog *cat;
    if (rh_ctx_catalog(ctx, st, &cat) < 0)
        return -1;
    for (size_t i = 0; i < ctx->nsnapshots; i++)
        if (strcmp(ctx->snapshots[i].name, st->arg) == 0) {
            rh_catalog_free(ctx->snapshots[i].cat);
            ctx->snapshots[i].cat = ctx->cat_cache;
            ctx->cat_cache = NULL;
            return 0;
        }
    ctx->snapshots = rh_xrealloc(ctx->snapshots, (ctx->nsnapshots + 1) * sizeof *ctx->snapshots);
    ctx->snapshots[ctx->nsnapshots].name = rh_xstrdup(st->arg);
    ctx->snapshots[ctx->nsnapshots].cat = ctx->cat_cache;   /* the snapshot keeps the cached catalog */
    ctx->nsnapshots++;
    ctx->cat_cache = NULL;
    return 0;
}

static int step_restart(rh_ctx *ctx, const rh_scn_step *st)
{
    rh_err err;
    if (rh_cluster_restart(ctx->cluster, &err) < 0)
        return rh_setup_error(ctx, st, "restart: %s", err.msg);
    return reconnect_all(ctx, st);
}

/* prisma VERSION (or tool prisma VERSION): the default tool's version profile for every set read. */
static int step_profile(rh_ctx *ctx, const rh_scn_step *st, const char *said, const char *version)
{
    rh_err err;
    if (rh_tool_profile(RH_TOOL_DEFAULT, &ctx->profile, version, &err) < 0)
        return rh_setup_error(ctx, st, "%s %s: %s", said, version, err.msg);
    ctx->profile_explicit = 1;
    ctx->profile_from = RH_PROFILE_FROM_OVERRIDE;
    snprintf(ctx->profile_source, sizeof ctx->profile_source, "%s %s (%s:%d)", said, version, st->file,
             st->line);
    if (ctx->have_set) /* in effect for the set already read; else recorded when one is read */
        rh_result_add_profile(ctx->res, &ctx->profile, ctx->profile_from, ctx->profile_source);
    if (ctx->have_set)
        rh_migset_sort(&ctx->set, &ctx->profile);
    return 0;
}

/* The tool the command steps that follow run (t), whose ledger the expectations read (lt), its command line. */
static void switch_tool(rh_ctx *ctx, const rh_tool *t, const rh_tool *lt, const char *cmd)
{
    int was_default = rh_ctx_default_tool(ctx);
    ctx->tool = t;
    ctx->ledger_tool = lt && lt->ledger_table ? lt : NULL;
    free(ctx->tool_cmd);
    ctx->tool_cmd = t->external && cmd ? rh_xstrdup(cmd) : NULL;
    if (was_default != rh_ctx_default_tool(ctx) || !rh_ctx_default_tool(ctx))
        drop_set(ctx); /* another tool reads the folder its own way */
}

/* tool NAME [VERSION] | tool command "CMD" [ledger NAME] | prisma VERSION: checked before the cluster started (tools_check.c). */
static int step_tool(rh_ctx *ctx, const rh_scn_step *st)
{
    const rh_tool *t = rh_tool_find(st->arg);
    const rh_tool *lt = st->value ? rh_tool_find(st->value) : t;
    if (!t || !lt)
        return rh_setup_error(ctx, st, "tool %s: no such tool", !t ? st->arg : st->value);
    switch_tool(ctx, t, lt, st->arg2);
    if (st->arg2 && !t->external) { /* a version: the default tool's profiles (tools_check.c refused others) */
        char said[96]; /* as written: `tool prisma 7.10`, or short, `prisma 7.10` */
        snprintf(said, sizeof said, "%s%s", st->n ? "" : "tool ", t->name);
        return step_profile(ctx, st, said, st->arg2);
    }
    return 0;
}

/* Steps that only look never invalidate the cached catalog. */
static int changes_nothing(rh_scn_kind k)
{
    return k >= RH_STEP_EXPECT_CATALOG || k == RH_STEP_SNAPSHOT || k == RH_STEP_SET || k == RH_STEP_RESET ||
           k == RH_STEP_ENV || k == RH_STEP_FAULT || k == RH_STEP_CHECKOUT ||
           k == RH_STEP_REPO || k == RH_STEP_MIGRATIONS || k == RH_STEP_SLEEP || k == RH_STEP_TOOL;
}

int rh_ctx_step(rh_ctx *ctx, const rh_scn_step *st)
{
    if (!changes_nothing(st->kind) && ctx->cat_cache) {
        rh_catalog_free(ctx->cat_cache);
        ctx->cat_cache = NULL;
    }
    if (ctx->bg && st->kind != RH_STEP_WAIT && st->kind != RH_STEP_EXPECT_OUTPUT && ctx->cat_cache) {
        rh_catalog_free(ctx->cat_cache);   /* a background command changes things under us */
        ctx->cat_cache = NULL;
    }
    switch (st->kind) {
    case RH_STEP_REPO:
        free(ctx->repo_path);
        ctx->repo_path = rh_xstrdup(st->arg);
        if (ctx->repo)
            rh_git_close(ctx->repo);
        ctx->repo = NULL;
        ctx->have_rev = 0;
        drop_set(ctx);
        return 0;
    case RH_STEP_MIGRATIONS:
        free(ctx->migrations);
        free(ctx->migrations_dir);
        ctx->migrations = rh_xstrdup(st->arg);
        ctx->migrations_dir = rh_xstrdup(st->arg2);
        drop_set(ctx);
        return 0;
    case RH_STEP_TOOL:
        return step_tool(ctx, st);
    case RH_STEP_CHECKOUT:
        return step_checkout(ctx, st);
    case RH_STEP_DEPLOY:
    case RH_STEP_STATUS:
    case RH_STEP_RESOLVE:
    case RH_STEP_REPAIR:
        return rh_step_command(ctx, st);
    case RH_STEP_SQL:
    case RH_STEP_SQL_FILE:
        return step_sql(ctx, st);
    case RH_STEP_SESSION:
        return rh_step_session(ctx, st);
    case RH_STEP_WAIT:
        if (strcmp(st->arg, "deploy") == 0 || strcmp(st->arg, "status") == 0 || strcmp(st->arg, "resolve") == 0)
            return rh_step_command_wait(ctx, st);
        return rh_step_session_wait(ctx, st);
    case RH_STEP_COMMIT:
    case RH_STEP_ROLLBACK:
    case RH_STEP_RELEASE:
    case RH_STEP_CANCEL:
    case RH_STEP_TERMINATE:
        return rh_step_session_end(ctx, st);
    case RH_STEP_SET:
    case RH_STEP_RESET:
        return step_set(ctx, st);
    case RH_STEP_ENV:
        return step_env(ctx, st);
    case RH_STEP_FAULT:
        if (st->fault_action == RH_FAULT_CANCEL && st->fault_trigger == RH_FAULT_BEFORE_MIGRATION)
            return rh_setup_error(ctx, st, "fault cancel before ...: nothing runs yet to cancel; use `fault cancel at`");
        ctx->fault = st;
        return 0;
    case RH_STEP_RESTART:
        return step_restart(ctx, st);
    case RH_STEP_RESTORE_SCHEMA:
        return step_restore_schema(ctx, st);
    case RH_STEP_RESTORE_LEDGER:
        return step_restore_ledger(ctx, st);
    case RH_STEP_SNAPSHOT:
        return step_snapshot(ctx, st);
    case RH_STEP_SLEEP:
        usleep((useconds_t)st->n * 1000);
        return 0;
    case RH_STEP_SCALE:
        return step_scale(ctx, st);
    default:
        return rh_step_expect(ctx, st);
    }
}

/*
 * The server log's last lines worth reading: readiness probes during a start ("the database system
 * is starting up") and start-up chatter say nothing about the failure. NULL when nothing is left.
 */
static char *log_excerpt(const char *log, int max_lines)
{
    static const char *const noise[] = {"the database system is starting up", "database system is ready",
                                        "listening on Unix socket", "database system was shut down at",
                                        "starting PostgreSQL", NULL};
    rh_buf keep;
    rh_buf_init(&keep);
    const char *p = log;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
        int drop = 0;
        for (int i = 0; noise[i] && !drop; i++)
            drop = memmem(p, n, noise[i], strlen(noise[i])) != NULL;
        if (!drop)
            rh_buf_append(&keep, p, n);
        p += n;
    }
    /* the last max_lines lines of what is left */
    int lines = 0;
    size_t at = keep.len;
    while (at > 0) {
        at--;
        if (keep.data[at] == '\n' && at + 1 < keep.len && ++lines >= max_lines) {
            at++;
            break;
        }
    }
    char *out = keep.len && at < keep.len ? rh_xstrdup(keep.data + at) : NULL;
    rh_buf_free(&keep);
    return out;
}

void rh_ctx_free(rh_ctx *ctx)
{
    rh_command_abort(ctx);
    rh_sessions_close(ctx);
    PQfinish(ctx->conn);
    drop_set(ctx);
    if (ctx->repo)
        rh_git_close(ctx->repo);
    free(ctx->repo_path);
    free(ctx->migrations);
    free(ctx->migrations_dir);
    free(ctx->tool_cmd);
    for (size_t i = 0; i < ctx->n_findings; i++) {
        free(ctx->findings[i].name);
        free(ctx->findings[i].detail);
    }
    free(ctx->findings);
    for (size_t i = 0; i < 2 * ctx->ngucs; i++)
        free(ctx->gucs[i]);
    free(ctx->gucs);
    for (size_t i = 0; i < 2 * ctx->npgenv; i++)
        free(ctx->pgenv[i]);
    free(ctx->pgenv);
    for (size_t i = 0; i < ctx->nsnapshots; i++) {
        free(ctx->snapshots[i].name);
        rh_catalog_free(ctx->snapshots[i].cat);
    }
    free(ctx->snapshots);
    rh_catalog_free(ctx->cat_cache);
    rh_buf_free(&ctx->last_output);
    rh_result_traces_free(ctx->traces, ctx->n_traces);
    free(ctx->trace_note);
    free(ctx->wait_note);
    rh_state_deploy_free(&ctx->state);
    rh_ctx_steps_free(ctx);
}

/* Two ledgers alike, row by row (what a report would show of them). */
static int ledger_same(const rh_result_step *prev, const rh_ledger *l)
{
    if (prev->n_ledger != l->n)
        return 0;
    for (size_t i = 0; i < l->n; i++) {
        const rh_result_ledger_row *a = &prev->ledger[i];
        const rh_ledger_row *b = &l->rows[i];
        if (strcmp(a->name, b->migration_name) != 0 || a->finished != b->finished ||
            a->rolled_back != b->rolled_back || a->applied_steps != b->applied_steps_count ||
            strcmp(a->started, b->started_at_text) != 0)
            return 0;
    }
    return 1;
}

/*
 * Record a step that ran and, when it changed, the ledger after it (the HTML report's table per
 * step). Read on the scenario's connection only when it is idle, in a transaction of its own with
 * a short lock_timeout (a session may hold the table on purpose), rolled back: the scenario sees
 * nothing of it. *last: the step that recorded the ledger last; NULL before any.
 */
/*
 * A step after which the ledger is what the previous step's record read: it changes nothing in the
 * database (run_step's changes_nothing, minus `expect query`, whose SQL is the scenario's, and
 * `sleep`, which waits for something else), and nothing runs beside it (a background command, a
 * session's statement in flight).
 */
static int ledger_left_alone(const rh_ctx *ctx, const rh_scn_step *st)
{
    if (!changes_nothing(st->kind) || st->kind == RH_STEP_EXPECT_QUERY || st->kind == RH_STEP_SLEEP || ctx->bg)
        return 0;
    for (size_t i = 0; i < ctx->nsessions; i++)
        if (ctx->sessions[i].busy)
            return 0;
    return 1;
}

/*
 * The step's record, with the ledger after it when it differs from the last one recorded (*last, *had).
 * *known: the previous record read the ledger, so that a step that leaves it alone needs no read (four
 * round trips per step, most of a scenario's time outside its steps).
 */
static void record_step(rh_ctx *ctx, const rh_scn_step *st, double ms, int failed, size_t *last, int *had, int *known)
{
    rh_result_step *rs = rh_result_add_step(ctx->res, st->file, st->line, st->source, ms, failed);
    rs->traces = ctx->traces; /* --trace-locks (trace.c) */
    rs->n_traces = ctx->n_traces;
    rs->trace_note = ctx->trace_note;
    ctx->traces = NULL;
    ctx->n_traces = 0;
    ctx->trace_note = NULL;
    rs->wait_note = ctx->wait_note; /* lockwait.c */
    rs->wait_skipped_ms = ctx->wait_note ? ctx->wait_skipped_ms : 0;
    ctx->wait_note = NULL;
    PGconn *c = ctx->conn;
    if (*known && ledger_left_alone(ctx, st))
        return; /* the same ledger as after the previous step: nothing to record */
    *known = 0;
    /* while a `deploy &` runs, "the ledger after this step" would be a race: not recorded */
    if (ctx->bg || !c || PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE)
        return;
    PGresult *r = PQexec(c, "BEGIN; SET LOCAL lock_timeout = '200ms'");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    rh_ledger l = {0};
    int exists = 0;
    rh_err err;
    ok = ok && RH_TOOL_DEFAULT->ledger_exists(c, &exists, &err) == 0 && (!exists || RH_TOOL_DEFAULT->ledger_read(c, &l, &err) == 0);
    PQclear(PQexec(c, "ROLLBACK"));
    *known = ok;
    if (ok && !exists && *had) {
        rs = &ctx->res->steps[ctx->res->n_steps - 1];
        rs->ledger_gone = 1;
        *had = 0;
    } else if (ok && exists) {
        rh_result_step *prev = *had ? &ctx->res->steps[*last] : NULL;
        rs = &ctx->res->steps[ctx->res->n_steps - 1];
        if (!prev || !ledger_same(prev, &l)) {
            rs->ledger_changed = 1;
            rs->n_ledger = l.n;
            rs->ledger = rh_xcalloc(l.n ? l.n : 1, sizeof *rs->ledger);
            for (size_t i = 0; i < l.n; i++) {
                rh_result_ledger_row *d = &rs->ledger[i];
                d->name = rh_xstrdup(l.rows[i].migration_name);
                d->finished = l.rows[i].finished;
                d->rolled_back = l.rows[i].rolled_back;
                d->applied_steps = l.rows[i].applied_steps_count;
                d->ms = l.rows[i].ms;
                snprintf(d->started, sizeof d->started, "%s", l.rows[i].started_at_text);
            }
            *last = ctx->res->n_steps - 1;
            *had = 1;
        }
    }
    rh_ledger_free(&l);
}

/* The failing step's file around its line, for the reports: "  11 | ...\n> 12 | deploy\n". */
static char *context_lines(const char *file, int line)
{
    char *data = NULL;
    size_t len = 0;
    rh_err err;
    if (!file || line <= 0 || rh_fs_read_max(file, 4 << 20, &data, &len, &err) < 0)
        return NULL;
    rh_buf b;
    rh_buf_init(&b);
    int n = 1;
    for (const char *p = data; p < data + len && n <= line + 3; n++) {
        const char *nl = memchr(p, '\n', (size_t)(data + len - p));
        size_t k = nl ? (size_t)(nl - p) : (size_t)(data + len - p);
        if (n >= line - 3)
            rh_buf_printf(&b, "%c%4d | %.*s\n", n == line ? '>' : ' ', n, (int)k, p);
        p += k + 1;
    }
    free(data);
    if (!b.len) {
        rh_buf_free(&b);
        return NULL;
    }
    return rh_buf_steal(&b);
}

/*
 * The version a scenario runs on (*pg): its own `postgres VERSION` (over $REHEARSE_PG, a default),
 * else --pg's. With both they must agree ("14" agrees with "14.23"; the more precise one is used);
 * -1 when they do not: the scenario is about another version and is skipped (`run --pg 16,17`).
 * from: who asked, for the error when that version is not there ("" when --pg did).
 */
static int scenario_pg(const rh_scenario *s, const char *want, const char **pg, char *from, size_t fromsz)
{
    from[0] = '\0';
    *pg = want && *want ? want : NULL;
    if (!s->postgres)
        return 0;
    int ma, mi, sa, si;
    if (*pg && rh_pgver_parse(*pg, &ma, &mi) && rh_pgver_parse(s->postgres, &sa, &si)) {
        if (ma != sa || (mi >= 0 && si >= 0 && mi != si))
            return -1;
        if (mi >= 0)
            return 0; /* --pg is the more precise */
    }
    *pg = s->postgres;
    snprintf(from, fromsz, "the scenario's `postgres %s` (%s:%d)", s->postgres, s->path, s->postgres_line);
    return 0;
}

/* The step loop: steps [from, to) in order, each recorded; stops at the first that fails. */
typedef struct steps_loop {
    rh_ctx *ctx;
    double steps_ms;
    size_t ledger_step;
    int had_ledger;
    int ledger_known; /* record_step: the ledger after the last step was read */
} steps_loop;

/* Returns the index it stopped at: `to`, or the failed step's. */
static size_t run_steps(steps_loop *l, size_t from, size_t to)
{
    rh_ctx *ctx = l->ctx;
    for (size_t i = from; i < to; i++) {
        const rh_scn_step *st = &ctx->s->steps[i];
        if (rh_ctx_steps_publish(ctx, i) < 0) { /* the steps before it are cached */
            record_step(ctx, st, 0, 1, &l->ledger_step, &l->had_ledger, &l->ledger_known);
            return i;
        }
        ctx->res->steps_run = i + 1;
        if (ctx->opts->on_step)
            ctx->opts->on_step(ctx->opts->on_step_ctx, i);
        double a = now_ms();
        ctx->trace_ms = 0;
        int rc = rh_ctx_step(ctx, st);
        if (rh_ctx_cache_after(ctx, st, rc) < 0)
            rc = -1;
        double ms = now_ms() - a - ctx->trace_ms; /* --trace-locks' copy and replay are not the step's */
        l->steps_ms += ms;
        record_step(ctx, st, ms, rc < 0, &l->ledger_step, &l->had_ledger, &l->ledger_known);
        if (rc < 0)
            return i;
    }
    if (to == ctx->s->nsteps && rh_ctx_steps_publish(ctx, to) < 0)
        return to - 1;
    return to;
}

int rh_scenario_run(const rh_scenario *s, const rh_exec_opts *opts, rh_result *res)
{
    static const rh_exec_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    memset(res, 0, sizeof *res);
    res->path = rh_xstrdup(s->path);
    res->name = rh_xstrdup(s->name);
    res->steps_total = s->nsteps;
    char pg_from[600];
    const char *pg;
    int other_pg = scenario_pg(s, opts->pg_version, &pg, pg_from, sizeof pg_from) < 0;
    if (s->skip || other_pg) {
        res->status = RH_SKIP;
        res->skip_reason = s->skip ? rh_xstrdup(s->skip)
                                   : rh_xasprintf("the scenario runs on PostgreSQL %s (postgres %s, line %d), not on "
                                                  "--pg %s",
                                                  s->postgres, s->postgres, s->postgres_line, opts->pg_version);
        if (opts->on_result)
            opts->on_result(opts->cb_ctx, res);
        return 0;
    }
    double t0 = now_ms();
    rh_err terr;
    if (rh_scenario_check_tools(s, &terr) < 0) { /* the runner checked it already; a direct caller may not have */
        rh_result_fail(res, RH_ERROR, NULL, terr.msg, NULL, NULL);
        if (opts->on_result)
            opts->on_result(opts->cb_ctx, res);
        return 0;
    }
    rh_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.s = s;
    ctx.opts = opts;
    ctx.res = res;
    ctx.wait_ms = opts->step_timeout_ms > 0 ? opts->step_timeout_ms : 10000;
    rh_buf_init(&ctx.last_output);
    rh_err err;
    rh_tool_profile(RH_TOOL_DEFAULT, &ctx.profile, NULL, &err);
    ctx.profile_from = RH_PROFILE_FROM_DEFAULT;
    snprintf(ctx.profile_source, sizeof ctx.profile_source, "default (no migrations read yet)");

    rh_cluster_opts *co = &ctx.cluster_opts;
    co->pg_bin = opts->pg_bin;
    co->superuser = opts->superuser || s->superuser;
    res->superuser = co->superuser;
    co->pg_version = pg;
    co->pg_version_from = pg_from[0] ? pg_from : NULL;
    steps_loop loop = {.ctx = &ctx};
    /* the steps before a first deploy the state cache can serve need no database: they run first,
       so that the cluster can start from the state (cached.c) */
    size_t first = rh_ctx_cache_prefix(&ctx);
    rh_ctx_steps_find(&ctx, first); /* or all the steps before the first sql/session/fault */
    if (ctx.steps_hit)
        first = 0;
    int ok = run_steps(&loop, 0, first) == first;
    double prefix_ms = loop.steps_ms;
    if (ok && first)
        rh_ctx_cache_find(&ctx, &s->steps[first]);
    /* every step comes from the state cache: none needs the server, so none starts (the report still
       names the server the state was made by: the same binaries, found as a start finds them) */
    rh_pgbin bin;
    if (ctx.steps_hit && ctx.steps_end == s->nsteps &&
        rh_pgbin_find_version_from(&bin, co->pg_bin, co->pg_version, co->pg_version_from, &err) == 0) {
        res->postgres = rh_xstrdup(bin.version);
        res->setup_ms = now_ms() - t0 - prefix_ms;
        if (opts->before_steps)
            t0 += opts->before_steps(opts->cb_ctx);
        ctx.deadline_ms = opts->deadline_ms;
        rh_ctx_steps_replay(&ctx, &loop.ledger_step, &loop.had_ledger);
    } else if (rh_cluster_start(&ctx.cluster, co, &err) < 0 && /* started even when one of those steps
                                                                  failed: the report names the server */
        (!co->state ||
         (ctx.steps_hit ? rh_ctx_steps_forget(&ctx, err.msg) : rh_ctx_cache_forget(&ctx, err.msg),
          rh_cluster_start(&ctx.cluster, co, &err) < 0))) {
        ctx.cluster = NULL;
        rh_result_fail(res, RH_ERROR, NULL, err.msg, NULL, NULL);
        rh_ctx_free(&ctx);
        res->ms = now_ms() - t0;
        res->overhead_ms = res->ms;
        if (opts->on_result)
            opts->on_result(opts->cb_ctx, res);
        return 0;
    } else {
        res->postgres = rh_xstrdup(rh_cluster_pgbin(ctx.cluster)->version);
        int connected = rh_ctx_reconnect(&ctx, NULL) == 0;
        res->setup_ms = now_ms() - t0 - prefix_ms;
        if (opts->before_steps)
            t0 += opts->before_steps(opts->cb_ctx); /* waiting for its turn is not the scenario's time */
        ctx.deadline_ms = opts->deadline_ms;
        rh_ctx_cache_started(&ctx);
        if (ok && connected && ctx.steps_hit) {
            first = rh_ctx_steps_replay(&ctx, &loop.ledger_step, &loop.had_ledger);
            ok = first == ctx.steps_end;
        }
        if (ok && connected)
            run_steps(&loop, first, s->nsteps);
    }
    double steps_ms = loop.steps_ms;
    double a = now_ms();
    rh_command_abort(&ctx);
    steps_ms += now_ms() - a;
    if (res->status != RH_PASS) {
        if (ctx.cluster) {
            rh_buf tail;
            rh_buf_init(&tail);
            rh_cluster_log_tail(ctx.cluster, &tail, 40);
            res->log_tail = log_excerpt(tail.data, 15);
            rh_buf_free(&tail);
        }
        res->context = context_lines(res->file, res->line);
    }
    rh_cluster *c = ctx.cluster;
    ctx.cluster = NULL;
    rh_ctx_free(&ctx);
    int keep = res->status == RH_FAIL && opts->keep_failed && c;
    if (keep) {
        res->kept = rh_cluster_psql_command(c);
        res->kept_id = rh_xstrdup(rh_cluster_id(c));
    }
    /* the result is final now: the runner may go on while this server stops */
    res->ms = now_ms() - t0;
    res->steps_ms = steps_ms;
    res->overhead_ms = res->ms - steps_ms;
    if (opts->on_result)
        opts->on_result(opts->cb_ctx, res);
    if (keep)
        rh_cluster_keep(c);
    else
        rh_cluster_stop(c, &err);
    return 0;
}
