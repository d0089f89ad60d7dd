/*
 * exec_int.h — internals of running one scenario (not part of the public API): the run context
 * every step works on, and the functions of exec.c, session.c, command.c and checks.c.
 */
#ifndef RH_RUNNER_EXEC_INT_H
#define RH_RUNNER_EXEC_INT_H

#include <libpq-fe.h>
#include <pthread.h>

#include "catalog/catalog.h"
#include "cluster/cluster.h"
#include "engine/cached.h"
#include "engine/engine.h"
#include "migrations/migset.h"
#include "migrations/profile.h"
#include "runner/runner.h"
#include "runner/steps_file.h"
#include "source/git.h"
#include "source/loader.h"
#include "tools/tool.h"

typedef struct rh_session {
    char *name;
    PGconn *conn;
    int pid;
    int busy;            /* statements in flight */
    char sqlstate[6];    /* of the first error of the statements last sent; "" if none */
    char *error;         /* its message */
    /* what lockwait.c needs to prove that the session cannot end or let a lock go by itself */
    int plain;           /* every text it was sent only takes/frees advisory locks or opens/ends a transaction */
    int idle_timeouts_off; /* idle_session_timeout and idle_in_transaction_session_timeout were 0 when it connected */
} rh_session;

typedef struct rh_snapshot {
    char *name;
    rh_catalog *cat;
} rh_snapshot;

struct rh_job;

typedef struct rh_ctx {
    const rh_scenario *s;
    const rh_exec_opts *opts;
    rh_result *res;
    rh_cluster *cluster;
    rh_cluster_opts cluster_opts; /* what it was started with (cached.c starts it again from a state) */
    PGconn *conn;                /* the application's / DBA's connection: sql, expect */
                                 /* (each Prisma command opens its own: command.c) */

    /* where the migrations come from */
    char *repo_path;
    rh_git_repo *repo;
    char *migrations;            /* `migrations` as written (inside the repo) */
    char *migrations_dir;        /* ... resolved against the file (no repo) */
    rh_git_rev rev;
    int have_rev;
    rh_migset set;
    int have_set;
    rh_profile profile;
    int profile_explicit;        /* a `prisma V` step */
    rh_profile_from profile_from;
    char profile_source[1100];   /* where the profile came from (source/loader.h) */

    const rh_tool *tool;         /* whose commands deploy/status/repair run (`tool NAME`; rh_tools[0] before) */
    char *tool_cmd;              /* `tool command "CMD"`: the command line */
    const rh_tool *ledger_tool;  /* whose ledger expect ledger/status read: the tool's, or `ledger NAME`'s */
    rh_finding *findings;        /* of the last command of a tool other than the default (expect finding) */
    size_t n_findings;

    char **gucs;                 /* name, value, name, value ... */
    size_t ngucs;                /* pairs */
    char **pgenv;                /* `env PG...`: name, value, ... for sessions and commands only (util/pgenv.h) */
    size_t npgenv;               /* pairs */
    long advisory_timeout_ms;    /* `set rehearse.advisory_lock_timeout` */

    rh_session *sessions;
    size_t nsessions;
    rh_snapshot *snapshots;
    size_t nsnapshots;
    rh_catalog *cat_cache;       /* snapshot of the current state, until a step changes things */

    const rh_scn_step *fault;    /* armed for the next Prisma command */
    struct rh_job *bg;           /* Prisma command running with & */
    rh_buf last_output;
    int have_output;
    int clean_seq;
    long wait_ms;                /* limit of waits for locks / sessions */
    double deadline_ms;          /* when the runner stops the scenario (rh_exec_opts.deadline_ms); 0: never */

    /* run --trace-locks (trace.c): the current deploy step's copy, traces and note, which
       record_step moves into the step's result; trace_ms is not the step's own time */
    int trace_copy;
    rh_result_trace *traces;
    size_t n_traces;
    char *trace_note;
    double trace_ms;
    /* the current command step's lock wait that was not waited out (lockwait.c): why, and how much */
    char *wait_note;
    double wait_skipped_ms;

    /* the first deploy through the state cache (cached.c) */
    rh_state_deploy state;
    const rh_scn_step *cache_step; /* the deploy it serves */
    size_t resumed;              /* the next deploy continues a state holding this many migrations */
    int want_session_clean;      /* the next command says whether its session ended clean ... */
    int session_clean;           /* ... here (rh_engine_session_clean) */

    /* the steps before the first sql/session/fault through the state cache (cached.c) */
    size_t steps_end;            /* they are steps [0, steps_end); 0: not cached */
    char steps_key[65];          /* the key of the state after them */
    int steps_hit;               /* the cluster starts from that state: they are replayed */
    char *steps_entry;           /* ... its entry (cluster_opts.state points at it) */
    rh_steps_record steps_rec;   /* ... and what they recorded */
} rh_ctx;

/* Fail the current step (status FAIL); returns -1. */
int rh_fail(rh_ctx *ctx, const rh_scn_step *st, const char *expected, const char *actual, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The scenario could not run a step (status ERROR); returns -1. */
int rh_setup_error(rh_ctx *ctx, const rh_scn_step *st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* What the loader needs for this scenario's repository or folder, folder path and `prisma` step. */
void rh_ctx_load_spec(rh_ctx *ctx, rh_load_spec *spec);
/* The migrations of the current checkout (read lazily with the loader, sorted by the profile). */
int rh_ctx_migset(rh_ctx *ctx, const rh_scn_step *st, const rh_migset **out);
/* A connection of the cluster whose notices (WARNINGs of a shutdown ...) are not printed. */
PGconn *rh_ctx_connect(rh_ctx *ctx, const char *dbname, rh_err *err);
/* The superuser's connection, for what rehearse does itself (faults: cancel, terminate). */
PGconn *rh_ctx_connect_admin(rh_ctx *ctx, rh_err *err);
/* A connection of the scenario's own steps (a session, a Prisma command): rh_ctx_connect plus the scenario's
   `env PG...` variables. rehearse's own reads and checks use rh_ctx_connect and never see them. */
PGconn *rh_ctx_connect_user(rh_ctx *ctx, rh_err *err);
/* Reconnect what a server restart broke. */
int rh_ctx_reconnect(rh_ctx *ctx, const rh_scn_step *st);
/* After a sql step or query: roll back a transaction it left open, reconnect a lost connection. */
int rh_ctx_end_sql(rh_ctx *ctx, const rh_scn_step *st);
/* Blocking pids of a backend (0: not waiting on a lock), via the control connection. */
int rh_ctx_blocked(rh_ctx *ctx, int pid);
/* wait until backend PID has left pg_stat_activity, asking through VIA (command.c) */
void rh_ctx_wait_gone(PGconn *via, int pid, int max_tries);
/* A snapshot of the scenario database (cached until a step changes things). */
int rh_ctx_catalog(rh_ctx *ctx, const rh_scn_step *st, const rh_catalog **out);

/* Is the scenario's tool the default one (whose own paths the engine, loader and checks take)? */
int rh_ctx_default_tool(const rh_ctx *ctx);
/* The failure's tool output (owned text, replaces any before), labelled with the scenario's tool that printed it. */
void rh_ctx_keep_output(rh_ctx *ctx, char *text);

/* trace.c: before a deploy step, copy the database (1) or say why not; after it, trace what it ran
   on the copy and drop the copy. */
int rh_trace_begin(rh_ctx *ctx, const rh_scn_step *st);
void rh_trace_end(rh_ctx *ctx, const rh_engine_result *res);

/* session.c */
int rh_step_session(rh_ctx *ctx, const rh_scn_step *st);
int rh_step_session_wait(rh_ctx *ctx, const rh_scn_step *st);
int rh_step_session_end(rh_ctx *ctx, const rh_scn_step *st);   /* commit, rollback, release, cancel, terminate */
void rh_sessions_close(rh_ctx *ctx);

/* command.c: Prisma commands, faults, background jobs */
int rh_step_command(rh_ctx *ctx, const rh_scn_step *st);
int rh_step_command_wait(rh_ctx *ctx, const rh_scn_step *st);
void rh_command_abort(rh_ctx *ctx);  /* stop a background command at the end of a failed scenario */
int rh_engine_opts_for(rh_ctx *ctx, rh_engine_opts *eo);
/* A connection as each command gets it: the scenario's `set` list applied when apply_set (rh_ctx_apply_set). */
PGconn *rh_ctx_command_connection(rh_ctx *ctx, int apply_set, rh_err *err);
int rh_ctx_apply_set(rh_ctx *ctx, PGconn *c, rh_err *err);
/* A clean deploy's options (`expect catalog = clean`, the cache's catalog of one): the scenario's, at
   profile, without the advisory lock; res initialised (free it with rh_engine_result_free). */
void rh_clean_deploy_opts(rh_ctx *ctx, const rh_profile *profile, rh_engine_opts *eo, rh_engine_result *res);

/*
 * cached.c — the scenario's first deploy through the state cache:
 *  - rh_ctx_cache_prefix: the index of that deploy when the cache may serve it (only repo /
 *    migrations / prisma / checkout steps before it: they run before the cluster starts), else 0;
 *  - rh_ctx_cache_find: after those steps, the longest cached prefix of the set they checked out
 *    (ctx->cluster_opts.state points at it; the deploy resumes that many);
 *  - rh_ctx_cache_forget: the cluster did not start from it (said on stderr with why);
 *  - rh_ctx_cache_started: the cluster is up, before the deploy;
 *  - rh_ctx_cache_after: after each step (rc); after that deploy, publish the set's state and go on
 *    on the same data. -1: a setup error (said).
 */
size_t rh_ctx_cache_prefix(rh_ctx *ctx);
void rh_ctx_cache_find(rh_ctx *ctx, const rh_scn_step *deploy);
void rh_ctx_cache_forget(rh_ctx *ctx, const char *why);
void rh_ctx_cache_started(rh_ctx *ctx);
int rh_ctx_cache_after(rh_ctx *ctx, const rh_scn_step *st, int rc);

/*
 * cached.c — the steps before the first sql/session/fault (deploy, status, resolve, expectations,
 * checkouts: each a function of the state before it and its inputs) through the state cache:
 *  - rh_ctx_steps_find: before the cluster starts, those steps' key (a dry run of their checkouts on
 *    a context of its own); on a hit, the cluster options point at the state after them and
 *    steps_hit is set; on a miss, steps_end says where to publish;
 *  - rh_ctx_steps_forget: the cluster did not start from it;
 *  - rh_ctx_steps_replay: on a hit, after the cluster started: the checkouts run, every other step
 *    is recorded as it was when the state was made; returns the index it stopped at (steps_end, or
 *    a failed checkout's); *last, *had as record_step keeps them;
 *  - rh_ctx_steps_publish: before step i runs (i == nsteps: after the last), publish the state
 *    when i ends those steps on a miss; -1 when the server could not start again.
 */
void rh_ctx_steps_find(rh_ctx *ctx, size_t first_deploy);
void rh_ctx_steps_forget(rh_ctx *ctx, const char *why);
size_t rh_ctx_steps_replay(rh_ctx *ctx, size_t *last, int *had);
int rh_ctx_steps_publish(rh_ctx *ctx, size_t i);
void rh_ctx_steps_free(rh_ctx *ctx);

/* exec.c: run one step (no record); free a context's own resources (not its cluster). */
int rh_ctx_step(rh_ctx *ctx, const rh_scn_step *st);
void rh_ctx_free(rh_ctx *ctx);
/*
 * `expect catalog = clean [REV]` through the state cache: 1 with *out when the catalog of a clean
 * deploy of set comes from a fresh cluster (or the catalog kept with the set's state) whose global
 * catalogs are this cluster's; 0: deploy it here as without the cache.
 */
int rh_ctx_cached_clean_catalog(rh_ctx *ctx, const rh_migset *set, const rh_profile *profile, rh_catalog **out);

/*
 * lockwait.c — a lock wait whose end is known need not be waited out: rh_lockwait_arm sets
 * eo->lock_wait for a foreground command of rehearse's own engine when nothing else of the scenario
 * runs meanwhile; the hook then answers 1 only when every holder of the lock is an idle session
 * that nothing can end before the tool gives up (docs/scenarios.md, "Lock waits not waited out").
 * rh_lockwait_note: after the command, the report's note when it did not wait (NULL otherwise).
 */
typedef struct rh_lockwait {
    rh_ctx *ctx;
    char holders[256];           /* the holders' names, for the note */
} rh_lockwait;
void rh_lockwait_arm(rh_ctx *ctx, const rh_scn_step *st, int has_fault, rh_lockwait *lw, rh_engine_opts *eo);
char *rh_lockwait_note(const rh_lockwait *lw, const rh_engine_result *res);

/* checks.c: expect ... */
int rh_step_expect(rh_ctx *ctx, const rh_scn_step *st);
/*
 * checks.c: the set and profile `expect catalog = clean [REV]` deploys (REV's own, its profile added
 * to the report; else the current checkout's); *other holds REV's set: rh_loaded_free it.
 */
int rh_ctx_clean_set(rh_ctx *ctx, const rh_scn_step *st, rh_loaded *other, const rh_migset **set,
                     const rh_profile **profile);

/* Append a one-line description of an engine result ("exit 1, P3018 at NAME, SQLSTATE 25001: msg"). */
void rh_describe_engine(const rh_engine_result *r, int rc, const rh_err *err, rh_buf *out);

#endif
