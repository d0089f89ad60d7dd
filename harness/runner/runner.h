/*
 * runner.h — running scenarios: each on its own fresh cluster, in worker processes, with a time
 * limit; selecting them (--filter, --shard K/N); and the result model the report module prints.
 *
 * The runner decides pass / fail; it prints nothing (report/ formats results). A scenario runs in
 * a forked worker so that a crash or a hang in one is reported and cleaned up (the cluster
 * module's watchdog stops a dead worker's server) while the others go on. Results come back in
 * the order of the scenario list, whatever the number of workers.
 */
#ifndef RH_RUNNER_H
#define RH_RUNNER_H

#include <stddef.h>

#include "migrations/profile.h"
#include "scenario/scenario.h"
#include "util/buf.h"
#include "util/err.h"

/* ---- results ---------------------------------------------------------------------------------- */

typedef enum rh_status {
    RH_PASS,
    RH_FAIL,     /* a step's expectation did not hold */
    RH_ERROR,    /* the scenario could not run: parse error, setup failure, crash, timeout */
    RH_SKIP,     /* `skip` in the file */
} rh_status;

typedef struct rh_result {
    char *path;          /* the scenario file */
    char *name;          /* its title */
    rh_status status;
    int timed_out;       /* ERROR because it ran past its time limit */
    int crashed;         /* ERROR because the worker died (signal number in `signal`) */
    int signal;
    int worker_pid;      /* the process that ran it (0 with no_fork); its clusters carry this owner */
    double ms;           /* wall time the scenario held its slot: from its turn to its result */
    double steps_ms;     /* the steps' own time */
    double overhead_ms;  /* ms - steps_ms: what running it in rehearse added to the suite's time */
    double setup_ms;     /* cluster start and connections (hidden from ms when the worker was warm) */
    size_t steps_run;    /* steps executed (the failing one included) */
    size_t steps_total;

    /* where and why it failed (NULL when it passed) */
    char *file;          /* the failing step's file (may be an included file) */
    int line;
    char *step;          /* the step as written */
    char *message;       /* one paragraph: what went wrong */
    char *expected;      /* the expectation in words, when there is one */
    char *actual;        /* what happened instead */
    char *diff;          /* catalog diff, when the step compares catalogs */
    char *output;        /* the last migration tool command's output, when it matters */
    char *output_tool;   /* ... and the tool that printed it ("prisma", "dbmate", "command"); NULL: unknown */
    char *log_tail;      /* the server log's last lines */
    char *kept;          /* --keep-failed: how to connect to the cluster left running */
    char *kept_id;       /* ... and its id, for `rehearse clusters --stop ID` */
    char *skip_reason;

    int superuser;       /* its SQL and commands ran as the cluster's superuser (--superuser, `superuser`) */
    /* The Prisma profiles the scenario used (read with its migrations, set by a `prisma` step, or
       used for a clean deploy of a revision), in first-use order, each once; none when it read no
       migrations. */
    struct rh_result_profile *profiles;
    size_t n_profiles;
    char *postgres;      /* the server version it ran on ("15.18"); NULL when no cluster started */
    char *pg_note;       /* production's version, where known (a restored dump's header), is not that major */
    char *context;       /* a failure: the failing step's file, the lines around it ("  12 | deploy\n"),
                            the step's line marked with '>'; NULL when it could not be read */

    /* the steps that ran, in order (the HTML report shows each, and the ledger after it) */
    struct rh_result_step *steps;
    size_t n_steps;
} rh_result;

/* A ledger row as a report shows it (engine/engine.h rh_ledger_row, with how long it took). */
typedef struct rh_result_ledger_row {
    char *name;
    int finished, rolled_back, applied_steps;
    char started[40];    /* "2025-07-08 21:12:14.951584 UTC" */
    double ms;           /* finished_at - started_at; -1 unknown: not finished, or the tool records none */
} rh_result_ledger_row;

/* A lock a migration held on a table that existed before the deploy (the strongest mode seen). */
typedef struct rh_result_lock {
    char *relation;      /* schema-qualified unless in the default schema, as check's trace names it */
    char *mode;          /* "AccessExclusiveLock" ... */
} rh_result_lock;

/* One migration of a deploy step, traced with check's lock tracer (run --trace-locks, runner/trace.c). */
typedef struct rh_result_trace {
    char *migration;
    double ms;           /* its statements' time on the copy */
    int failed;          /* a statement failed there: the trace stops */
    char *transaction;   /* the tool's transaction it ran in (rh_check_trace_tx_name): "file", "run" (drizzle-kit:
                                every pending file in one, so the locks of the files before it are still held and
                                listed here too, until the run commits), "per-statement" */
    rh_result_lock *locks;
    size_t n_locks;
} rh_result_trace;

/* One step that ran. */
typedef struct rh_result_step {
    char *file;
    int line;
    char *source;        /* the step's first line as written */
    double ms;
    int failed;          /* the scenario stopped here */
    int ledger_changed;  /* the ledger after this step differs from after the previous one (or first seen):
                            ledger holds it (n_ledger may be 0: the table exists and is empty) */
    int ledger_gone;     /* the ledger table existed after an earlier step and does not now */
    rh_result_ledger_row *ledger;
    size_t n_ledger;
    /* run --trace-locks, a deploy step: the locks each migration it ran took, traced on a copy of the
       database made just before it; trace_note says why a deploy was not traced (NULL otherwise) */
    rh_result_trace *traces;
    size_t n_traces;
    char *trace_note;
    /* a command that gave up its lock wait at once because its outcome was proven (runner/lockwait.c):
       why (NULL otherwise), and how much of the tool's time limit was not waited out (not in ms) */
    char *wait_note;
    double wait_skipped_ms;
} rh_result_step;

void rh_result_traces_free(rh_result_trace *t, size_t n);

/* Append a step (strings copied); returns it so the caller fills the ledger. */
rh_result_step *rh_result_add_step(rh_result *r, const char *file, int line, const char *source, double ms,
                                   int failed);

/* One profile a scenario used, and where it came from (source/loader.h). */
typedef struct rh_result_profile {
    rh_profile profile;
    rh_profile_from from;
    char *source;
} rh_result_profile;

void rh_result_free(rh_result *r);

/* Record that the scenario used a profile (once per version and source). */
void rh_result_add_profile(rh_result *r, const rh_profile *p, rh_profile_from from, const char *source);

/* Set the failure fields of a result (strings are copied; NULL is fine). */
void rh_result_fail(rh_result *r, rh_status st, const rh_scn_step *step, const char *message, const char *expected,
                    const char *actual);

/* The results of a run, in scenario order, with the totals. */
typedef struct rh_run {
    rh_result *results;
    size_t n;
    size_t passed, failed, errors, skipped;
    double wall_ms;
    int jobs;
    int interrupted;     /* the signal (SIGINT, SIGTERM, SIGHUP) that stopped the run early, else 0;
                            the scenarios it cut short or never started are errors saying so */
} rh_run;

void rh_run_free(rh_run *run);

/* 0 all passed or skipped, 1 a scenario failed, 2 an error (parse, setup, crash, timeout). */
int rh_run_exit_code(const rh_run *run);

/* ---- choosing scenarios ----------------------------------------------------------------------- */

/*
 * Expand the paths (files, or folders searched recursively for *.scenario) into a sorted,
 * de-duplicated list. A path that does not exist is an error naming it.
 */
int rh_runner_collect(const char *const *paths, size_t npaths, char ***files, size_t *nfiles, rh_err *err);

/*
 * A dangling symlink (path names a link whose target does not exist): -1 with err naming the path
 * and the target; else 0. Collecting keeps such *.scenario links so that the run reports them.
 */
int rh_runner_check_link(const char *path, rh_err *err);

/* Does this scenario fall in shard k of n (1-based)? Stable: depends only on the file's path. */
int rh_runner_in_shard(const char *path, int k, int n);

/* Parse "K/N" (1 <= K <= N). */
int rh_runner_parse_shard(const char *s, int *k, int *n, rh_err *err);

/* ---- running ---------------------------------------------------------------------------------- */

typedef struct rh_runner_opts {
    int jobs;                 /* workers; 0 or 1: one at a time (still in a forked worker) */
    const char *filter;       /* keep scenarios whose name or path contains this; NULL: all */
    int shard_k, shard_n;     /* 0/0: no sharding */
    int keep_failed;          /* leave a failed scenario's cluster running */
    int superuser;            /* --superuser: every scenario's SQL and commands run as the superuser */
    long timeout_ms;          /* per scenario unless the file says `timeout`; 0: 120 s */
    const char *pg_bin;       /* PostgreSQL binaries; NULL: search */
    const char *pg_version;   /* --pg: "17", "17.10"; NULL: $REHEARSE_PG or any */
    int no_fork;              /* run in this process (debugging; a crash takes the run down) */
    int no_warm;              /* do not start the next scenario's cluster while one runs */
    int trace_locks;          /* --trace-locks: trace each deploy step's locks (rh_exec_opts.trace_locks) */
    int no_cache;             /* --no-cache (rh_exec_opts) */
    const struct rh_scale *scale; /* --scale FILE / --rows TABLE=N (rh_exec_opts.scale); NULL: none */
    const char *const *allow; /* --allow-path: more folders scenarios may read files in (rh_scn_parse_file_allow) */
    size_t nallow;
    const char *timings_path; /* durations of earlier runs: the longest scenarios start first; NULL: none */
    /* called in the parent as each scenario ends (in completion order) and once when all are done */
    void (*progress)(void *ctx, const rh_result *r, size_t done, size_t total);
    void *progress_ctx;
} rh_runner_opts;

/*
 * The one selection rule of `run` and `run --list`: in the shard (--shard K/N), and --filter found
 * in the path or in the title (NULL when the file does not parse: only its path can match).
 */
int rh_runner_selects(const rh_runner_opts *o, const char *path, const char *title);

/*
 * rh_runner_selects for a file not parsed yet (`run --list`): parses it only when the filter is not
 * in its path. 1 selected, 0 not, -1 selected but a dangling symlink (err names it and its target).
 */
int rh_runner_select_file(const rh_runner_opts *o, const char *path, rh_err *err);

/*
 * Parse, select and run the scenario files. Scenarios that do not parse are results with status
 * ERROR (the parser's message in `message`). Returns 0 with *run filled (even when scenarios
 * fail), -1 for a problem with the run itself (err).
 */
int rh_runner_run(const rh_runner_opts *opts, char *const *files, size_t nfiles, rh_run *run, rh_err *err);

/*
 * Run one parsed scenario in this process on a fresh cluster and fill *res. Used by the workers,
 * and by tests. Never exits; returns 0 when it ran (whatever the status), -1 only on misuse.
 */
typedef struct rh_exec_opts {
    int keep_failed;
    int superuser;            /* as the superuser (--superuser; a scenario's `superuser` line does it for one) */
    const char *pg_bin;
    const char *pg_version;
    long step_timeout_ms;     /* limit of waits for locks, sessions and `wait`: 0 = 10 s */
    double deadline_ms;       /* CLOCK_MONOTONIC ms at which the runner stops the scenario (at the latest); 0: no limit */
    int trace_locks;          /* trace the locks of each foreground deploy on a copy (runner/trace.c) */
    int no_cache;             /* --no-cache: the first deploy neither starts from nor publishes a state */
    const struct rh_scale *scale; /* run --scale/--rows: before each migration a deploy sends, the tables that
                                     exist are filled to these sizes (as deploy --scale); no cached states */
    void (*on_step)(void *ctx, size_t index);   /* called before each step (a worker reports progress) */
    void *on_step_ctx;
    /* called (with on_step_ctx) when a command gave up a lock wait of ms at once (runner/lockwait.c):
       the runner counts them against the time limit, as if they had been waited */
    void (*on_wait_skipped)(void *ctx, double ms);
    /*
     * Called once the cluster is up, before the first step; returns how many ms it waited (a warm
     * worker waits here for its turn, and that wait is not the scenario's time).
     */
    double (*before_steps)(void *ctx);
    /* Called with the final result before the cluster is stopped (the runner goes on meanwhile). */
    void (*on_result)(void *ctx, const rh_result *res);
    void *cb_ctx;
} rh_exec_opts;

int rh_scenario_run(const rh_scenario *s, const rh_exec_opts *opts, rh_result *res);

/*
 * Before a cluster starts: every `tool` step names a registered tool, and every step after it is
 * something that tool can do (its verbs, a ledger to read, faults only through rehearse's engine).
 * Returns 0, or -1 with err holding "FILE:LINE:COL: error: ..." lines as the parser writes them.
 */
int rh_scenario_check_tools(const rh_scenario *s, rh_err *err);

/* The tools registry's answers to the scenario parser's questions (scenario.h rh_scn_tools). */
void rh_runner_scn_tools(rh_scn_tools *out);

/* `rehearse bench scenarios [--format human|json] [--no-warm] [PATH...]` (argv[0] is "scenarios"). */
int rh_runner_bench(int argc, char **argv);

/*
 * Result transport between a worker and the runner (JSON text: flat, every field). Not the public
 * `--format json` report (report/machine.c), whose shape differs on purpose; see result.c.
 */
char *rh_result_to_json(const rh_result *r);
int rh_result_from_json(const char *text, rh_result *r, rh_err *err);

/*
 * The field groups both JSON forms of a result share, added to a json-c object: the timings
 * (ms, overhead_ms, steps_ms, setup_ms, steps_run, steps_total) and where and why it failed
 * (file, line, step, message, expected, actual, diff, output, log_tail, kept, kept_id; NULL
 * strings left out).
 */
struct json_object;
void rh_result_json_times(struct json_object *o, const rh_result *r);
void rh_result_json_failure(struct json_object *o, const rh_result *r);
/* "steps": [{"file", "line", "source", "ms", "failed", "ledger": [{"name", "started", "finished",
   "rolled_back", "applied_steps", "ms"}] | absent when unchanged, "ledger_gone", "locks": [{"migration",
   "ms", "failed", "held": [{"relation", "mode"}]}] and "locks_note" when traced}], and back. */
void rh_result_json_steps(struct json_object *o, const rh_result *r);
void rh_result_steps_from_json(struct json_object *o, rh_result *r);

#endif
