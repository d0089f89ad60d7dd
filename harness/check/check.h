/*
 * check.h — `rehearse check`: the pull-request gate for a migrations folder.
 *
 * One run answers "would this branch's migrations deploy to production as they are?" on one
 * throwaway cluster with a few databases:
 *   (a) clean deploy of head;
 *   (b) the upgrade path: deploy base, (g) load an optional seed, then deploy head; when base itself
 *       fails at X, production's recovery first (`resolve --rolled-back X` when X left a failed ledger
 *       row, nothing after P3015), as the team would run it to ship head's fix;
 *   (c) catalog of the upgrade path = catalog of the clean deploy, else a readable diff;
 *   (d) history hazards between base and head (source/history.h);
 *   (e) a new migration that fails the way production's runner runs it (the engine runs it so);
 *   (f) per statement of each new migration: the relation locks it takes and the tables it
 *       rewrites, observed on the server (pg_locks, pg_class.relfilenode) on a copy of the
 *       upgrade-path database.
 * Every problem becomes a finding with a level; formatters (human, JSON, JUnit, GitHub
 * annotations) print a result; nothing here prints by itself.
 */
#ifndef RH_CHECK_H
#define RH_CHECK_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

#include "migrations/profile.h"
#include "scale/scale.h"
#include "source/git.h"
#include "util/buf.h"
#include "util/err.h"

/* ---- findings ------------------------------------------------------------------------------- */

typedef enum rh_check_level { RH_CHECK_NOTICE = 0, RH_CHECK_WARNING = 1, RH_CHECK_ERROR = 2 } rh_check_level;

typedef struct rh_check_finding {
    rh_check_level level;
    char step;          /* 'a'..'g': which part of the check found it */
    char *code;         /* stable machine id: "clean-deploy-failed", "fails-in-production", "catalog-differs",
                           "edited", "access-exclusive", "table-rewrite", ... */
    char *migration;    /* NULL if none */
    char *file;         /* repository-relative file that exists at head (migration.sql), NULL if none:
                           annotations land on it (rh_check_keep_head_files) */
    int line;           /* 1-based line in file, 0 if unknown */
    char *message;      /* one line */
    char *detail;       /* several lines (a catalog diff, the server's message), NULL if none */
} rh_check_finding;

/* "notice" / "warning" / "error". */
const char *rh_check_level_name(rh_check_level level);
/* Parse a level name; -1 if unknown. */
int rh_check_level_parse(const char *s, rh_check_level *out);

/* ---- the lock report (f) ---------------------------------------------------------------------- */

typedef struct rh_check_lock {
    char *relation;     /* schema-qualified unless in the default schema: "User", "audit"."Log" */
    char relkind;       /* pg_class.relkind: 'r' table, 'p' partitioned, 'i' index, 'S' sequence ... */
    char *mode;         /* pg_locks.mode: "AccessExclusiveLock", "ShareLock", ... */
    int existed_before; /* the relation existed before the first migration the tracer ran (at base, for
                           check): tables made by earlier new migrations are not "existing" */
    double held_ms;     /* measuring mode: how long it was held (from the statement's start to the end of
                           its transaction: the rest of the file for a file run as one transaction, the
                           statement for an autocommit one); -1 when not measured */
} rh_check_lock;

/*
 * Measuring mode (check --scale): a read or a write of a pre-existing table, sent by a probe
 * connection as soon as the statement was seen holding a lock on it, and how long it waited.
 */
typedef struct rh_check_wait {
    char *table;        /* as rh_check_lock.relation names it */
    int write;          /* 0: a read (SELECT 1 FROM t LIMIT 1); 1: a write (INSERT INTO t SELECT * FROM t WHERE
                           false: takes RowExclusiveLock, changes nothing) */
    int blocked;        /* seen waiting for the migration's backend (pg_blocking_pids) */
    double ms;          /* from the probe's start until it got through, without the tracer's own work
                           between statements (production does not have it) */
    long long rows;     /* the table's rows when measured (pg_class.reltuples: the filler ANALYZEs) */
    long long production_rows; /* --scale/--rows' count for the table; -1 when it names none */
    double estimate_ms;        /* an ESTIMATE at production_rows, -1 when none: only when production has
                                  more rows than measured and the wait was spent on work linear in rows */
    const char *linear;        /* that work ("rewrite", "scan", "index build"); NULL when none */
} rh_check_wait;

typedef struct rh_check_stmt {
    int line;           /* 1-based line of the statement in migration.sql */
    char *text;         /* the statement, shortened to one line for reports */
    char *sql;          /* the statement complete, as written (from its first keyword) */
    char *keywords;     /* leading words as written ("CREATE INDEX CONCURRENTLY", "alter table t20 add"): a label;
                           compare without regard to case */
    rh_check_lock *locks;   /* relation locks this statement acquired (new since the previous one) */
    size_t n_locks;
    char **rewrites;    /* pre-existing tables whose relfilenode changed (rewritten) */
    size_t n_rewrites;
    char **scans;       /* pre-existing tables this statement read in full (a sequential scan started:
                           pg_stat_get_xact_numscans), i.e. work that grows with the table */
    size_t n_scans;
    int outside_tx;     /* ran outside the transaction (it cannot run inside one: 25001) */
    int skipped;        /* transaction control (BEGIN/COMMIT ...) the tracer does not execute */
    char sqlstate[6];   /* "" unless it failed */
    char *error;        /* the server's message when it failed */
    double ms;          /* wall time */
    rh_check_wait *waits; /* measuring mode: the probes this statement's locks met, read and write per table
                             it was first seen locking (a probe still waiting from an earlier statement of the
                             same transaction counts for that one) */
    size_t n_waits;
    char **unprobed;    /* measuring mode: pre-existing tables it was seen locking whose reads and writes were
                           not probed (the measuring cluster had no connections left: two per table) */
    size_t n_unprobed;
} rh_check_stmt;

typedef struct rh_check_trace {
    char *migration;
    char *file;         /* repository-relative migration.sql (or the name given to the tracer) */
    rh_check_stmt *stmts;
    size_t n;
    int failed;         /* a statement failed: the trace stops there */
    char *parse_error;  /* libpg_query could not split the file */
    int measured;       /* run in measuring mode: waits and held_ms are filled */
    int autocommit;     /* each statement ran in a transaction of its own (Prisma >= 7.4 sending a file
                           statement by statement), not the file in one */
    int sent_split;     /* the tool sends the file statement by statement, each its own query (measured or not):
                           what the file's own BEGIN/COMMIT do depends on it (migrations/txblock.h) */
    int run_tx;         /* traced in the one transaction a tool runs every pending file in (drizzle-kit) */
    int tx_goes_on;     /* its last transaction did not commit at the file's end: the tool runs every pending
                           file in one transaction (drizzle-kit), so its locks are held while the files after
                           it run, until the whole run commits */
} rh_check_trace;

/*
 * A tracer runs migration scripts statement by statement on `conn` (a throwaway database!), inside a
 * transaction (statements that cannot run in one run outside it, their locks observed from a second
 * connection made with `conninfo`), reading the backend's relation locks from pg_locks, the
 * relfilenodes of pre-existing tables and the sequential scans started on them after each statement.
 * "Pre-existing" means: there when the tracer was made, so a table created by an earlier migration of
 * the same set is new. Each migration's transaction is committed so the next one sees its effects; on
 * a failing statement it is rolled back and trace->failed is set (not an error: return 0). -1 only
 * when rehearse itself cannot trace (connection lost ...).
 */
typedef struct rh_check_tracer rh_check_tracer;
rh_check_tracer *rh_check_tracer_new(PGconn *conn, const char *conninfo, rh_err *err);
int rh_check_tracer_run(rh_check_tracer *t, const char *name, const char *file, const char *sql, size_t len,
                        rh_check_trace *out, rh_err *err);
void rh_check_tracer_free(rh_check_tracer *t);

/*
 * Measuring mode: while each statement runs, probe connections (made with the tracer's conninfo) try a
 * read and a write of every pre-existing table it is seen locking, and the wait of each is recorded
 * (rh_check_stmt.waits), with how long each lock was held. Meant for tables filled to production's
 * size (check --scale). -1 when the watcher connection cannot be made.
 */
int rh_check_tracer_measure(rh_check_tracer *t, rh_err *err);
/* Measuring mode: the files run next are sent statement by statement, each committed on its own (Prisma
   >= 7.4's split sending), instead of as one transaction (unmeasured, the tracer keeps one). */
void rh_check_tracer_autocommit(rh_check_tracer *t, int on);
/* The files run next share one transaction, as a tool that runs every pending file in one does (drizzle-kit):
   a file's end does not commit (trace->tx_goes_on); rh_check_tracer_end commits after the last one. */
void rh_check_tracer_one_transaction(rh_check_tracer *t, int on);
/* Commit the transaction still open after the last file (one transaction mode); measuring: attach the waits
   of its statements. Nothing to do otherwise. */
int rh_check_tracer_end(rh_check_tracer *t, rh_err *err);

/*
 * run --trace-locks (runner/trace.c): the migrations `names` of set (n, in the order the deploy ran them) traced
 * on database db of cluster c (as its superuser when as_admin) as check's (f) traces head's pending ones: one
 * tracer, each file as `tool` sends it (NULL: the default tool, under profile), in the tool's transactions
 * (drizzle-kit: one for the whole run, trace->tx_goes_on). *traces gets *n_traces (the first failing one ends
 * them; free each with rh_check_trace_free, then the array); -1 with err when rehearse cannot trace.
 */
struct rh_cluster;
struct rh_tool;
int rh_check_trace_deploy(struct rh_cluster *c, const char *db, int as_admin, const struct rh_tool *tool,
                          const rh_profile *profile, const rh_migset *set, char *const *names, size_t n,
                          rh_check_trace **traces, size_t *n_traces, rh_err *err);

/* One migration with a tracer of its own (pre-existing = there when this migration starts). */
int rh_check_trace_migration(PGconn *conn, const char *conninfo, const char *name, const char *file,
                             const char *sql, size_t len, rh_check_trace *out, rh_err *err);
void rh_check_trace_free(rh_check_trace *t);

/* Strength of a pg_locks mode name, 1 (AccessShareLock) .. 8 (AccessExclusiveLock); 0 if unknown. */
int rh_check_lock_strength(const char *mode);

/* The lock a trace holds at the end on a relation: the strongest mode seen; NULL if none. */
const char *rh_check_trace_strongest(const rh_check_trace *t, const char *relation);

/* How the file ran, as the tool sent it: "the file runs as one transaction", "its one statement, sent alone, runs
   outside a transaction", "every pending migration runs in one transaction" ... (format.c): the one wording of
   the human and the markdown reports. */
const char *rh_check_trace_runs(const rh_check_trace *t);
/* The same words for a trace known by its JSON word (rh_check_trace_tx_name: "run", "per-statement"), as run
   --trace-locks keeps it; NULL for "file" (and anything else): the file's own transaction. */
const char *rh_check_tx_word_runs(const char *word);
/* The same as a JSON word (check's and run --trace-locks' "transaction"): "run", "per-statement" or "file". */
const char *rh_check_trace_tx_name(const rh_check_trace *t);

/* ---- a check run ---------------------------------------------------------------------------- */

typedef struct rh_check_opts {
    const char *repo;           /* repository folder; NULL: "." */
    const char *base;           /* NULL: rh_check_default_base */
    const char *head;           /* NULL: WORKTREE */
    const char *migrations;     /* folder inside the repository; NULL: Prisma's default at head */
    const char *tool_version; /* NULL: detected at head, else the default profile */
    const char *seed_file;      /* (g) SQL file loaded after base on the upgrade path; NULL: none */
    const char *pg_bin;         /* NULL: search */
    const char *pg_version;     /* --pg: "17", "17.10"; NULL: $REHEARSE_PG or any */
    int no_locks;               /* skip (f) */
    int keep;                   /* leave the cluster running (rh_cluster_keep) and say where */
    int superuser;              /* migrations run as the cluster's superuser, not the migration role */
    const rh_scale *scale;      /* --scale / --rows: tables filled to these sizes before head's migrations; NULL: none */
    /* --max-block, --max-write-block, --max-read-block (ms; 0: none): with --scale, an error finding when a
       measured read / write of an existing table waits longer for a statement */
    double max_block_ms, max_write_block_ms, max_read_block_ms;
    long long fill_max;         /* --fill-max N: fill each table to at most N rows (0: production's count); the
                                   waits of work linear in rows are then also estimated at production's count */
    int no_cache;               /* --no-cache: neither use nor publish deployed states (check/state.c) */
} rh_check_opts;

/* `check --pg 14,17`: how the check went on one of the versions. */
typedef struct rh_check_pg {
    char *asked;                /* as given to --pg: "14", "17.10" */
    char *postgres;             /* the server version it ran on: "14.23" */
    size_t at_least[3];         /* findings at or above each level (rh_check_count) on this version */
    int deployed;               /* clean deploy and upgrade path both deployed */
} rh_check_pg;

struct rh_tool;

typedef struct rh_check_result {
    const struct rh_tool *tool; /* the migration tool when it is not the default (rh_check_tool): its deploy
                                   made every path; profile, profile_from and profile_source are unset then */
    rh_git_rev base, head;
    char *postgres;             /* the server version the check ran on ("15.18"); with --pg LIST the first's */
    rh_check_pg *pgs;           /* --pg LIST: one per version, in the order given; NULL otherwise */
    size_t n_pgs;
    char base_how[300];         /* how the base was chosen ("--base", "merge-base of HEAD and origin/main") */
    char *migrations;           /* the folder checked, from the repository root */
    rh_profile profile;         /* head's profile (source/loader.h), used for every deploy of the check */
    rh_profile_from profile_from;
    char profile_source[1100];
    size_t n_base, n_head;      /* migrations at base and at head */
    char **added;               /* migrations new at head (in deploy order) */
    char **added_send;          /* per new migration, how the profile's Prisma sends it (rh_report_plan_mode:
                                   "one implicit transaction (2 statements)", "3 autocommit statements"); NULL
                                   when it has no migration.sql */
    size_t n_added;
    char **pending;             /* what head's deploy runs on the upgrade path, in order: the new migrations,
                                   and on a recovery path also the one that failed at base and those after it */
    size_t n_pending;

    int clean_ok;               /* (a) deployed */
    int base_ok;                /* base deployed on the upgrade path */
    int recovered;              /* base failed at recovered_from on an empty database (production stopped there
                                   too) and the upgrade path followed the recovery head implies */
    char *recovered_from;       /* the migration base fails at, when recovered */
    char *recovery;             /* the commands production runs before head deploys, in order, one per line */
    int upgrade_ok;             /* (b) head deployed after base (after the recovery, when recovered) */
    int catalog_compared;       /* (c) ran */
    int one_path;               /* (a) and (b) were the same run: base's whole cached state, then head's new
                                   migrations on a connection of their own (run.c); (c) equal by construction */
    size_t catalog_differences; /* objects that differ */
    int locks_skipped;          /* --no-locks: (f) not asked for */
    int superuser;              /* --superuser: migrations ran as the cluster's superuser */
    int seed;                   /* (g): 0 no --seed, 1 loaded after base, -1 not loaded (base failed) */

    rh_check_finding *findings;
    size_t n_findings;
    rh_check_trace *traces;     /* (f) one per new migration traced */
    size_t n_traces;

    char *kept;                 /* --keep: how to reach the cluster; NULL otherwise */
    int scaled;                 /* the upgrade path was filled (--scale / --rows) before head's deploy */
    rh_scale_fill_result fill;  /* what the filler did, table by table */
    double max_block_ms, max_read_block_ms, max_write_block_ms; /* the gate's limits as given (0: none) */
    long long fill_max;         /* --fill-max as given (0: none) */
    size_t cached;              /* base migrations the cluster started with, from the state cache (0: none) */
    int cache_published;        /* base's state was published to the cache at the end */
    double ms_total, ms_history, ms_cluster, ms_clean, ms_upgrade, ms_catalog, ms_locks, ms_stop;
    /* parts of those, for `rehearse bench check-cache`: cache lookup, the cluster start's copy / server
       start / passwords, base's deploy on the upgrade path, publishing base's state */
    double ms_lookup, ms_copy, ms_ready, ms_auth, ms_base, ms_publish;
} rh_check_result;

/* Measuring mode: the longest wait of an application read or write (blocked); NULL when none waited.
   *trace and *stmt (may be NULL) get where. */
const rh_check_wait *rh_check_worst_wait(const rh_check_result *r, const rh_check_trace **trace,
                                         const rh_check_stmt **stmt);
/* The safer way to make the change a statement makes, for a finding's detail (one sentence). */
const char *rh_check_safer_pattern(const char *sql);

/* Run the whole check. -1 (exit 2 material) for setup problems: unknown revision, no cluster ... */
int rh_check_run(const rh_check_opts *opts, rh_check_result *out, rh_err *err);
void rh_check_result_free(rh_check_result *r);

/* Findings at or above a level. */
size_t rh_check_count(const rh_check_result *r, rh_check_level at_least);

/*
 * --pg 14,17 (a comma in opts->pg_version): the whole check on each version in turn (all found
 * first: a missing one is a setup error before anything runs), merged into one result: a finding
 * every version gives is kept once, one that only some give names them ("[pg 14] ..."), and a
 * migration that deploys on one version and fails on another is an error finding naming both
 * (code "differs-across-versions"). r->pgs says how each version went. The lock report (traces)
 * is the first version's. Without a comma: one check. Each check is the default tool's (rh_check_run;
 * tool NULL or RH_TOOL_DEFAULT), or another tool's (rh_check_tool).
 */
int rh_check_run_versions(const struct rh_tool *tool, const rh_check_opts *opts, rh_check_result *out, rh_err *err);

/* "PostgreSQL 15.18", or per version "PostgreSQL 14.23 (--pg 14): failed, 1 error; 15.18 (--pg 15): passed";
   the one text every format prints. */
void rh_check_postgres_text(const rh_check_result *r, rh_check_level fail_on, rh_buf *out);

/*
 * The default base: the merge-base of HEAD with origin/main, else main (then origin/master,
 * master). *spec receives the commit's hex sha (malloc'd); `how` a description.
 */
int rh_check_default_base(const char *repo_path, char **spec, char *how, size_t howsz, rh_err *err);

/* ---- output --------------------------------------------------------------------------------- */

void rh_check_format_human(const rh_check_result *r, int color, rh_buf *out);
void rh_check_format_json(const rh_check_result *r, rh_buf *out);
/* One test case per step; findings at or above fail_on are failures, the others go to system-out. */
void rh_check_format_junit(const rh_check_result *r, rh_check_level fail_on, rh_buf *out);
/* GitHub workflow commands (`::error file=F,line=L,title=T::message`), one per finding. */
void rh_check_format_github(const rh_check_result *r, rh_buf *out);

/* ---- benchmark (`rehearse bench check`) ---------------------------------------------------- */

typedef struct rh_check_bench_opts {
    int history;       /* migrations at base; 0: 150 */
    int added;         /* new migrations at head (WORKTREE); 0: 3 */
    int runs;          /* 0: 3 */
    int json;          /* JSON instead of text */
    const char *pg_bin;
    const char *pg_version;
    const struct rh_tool *tool; /* check-cache: the tool whose check and folder (NULL: the default tool's) */
} rh_check_bench_opts;

/* Build a generated repository, run the whole check `runs` times, report median/min/max wall time. */
int rh_check_bench(const rh_check_bench_opts *opts, rh_buf *report, rh_err *err);

/*
 * `bench check-cache`: the same repository (default 250 + 3), the check cold (--no-cache) and warm
 * (base's state from the cache) interleaved run by run, and a cluster start from the template vs
 * from the state: medians side by side against the targets (warm <= 300 ms and <= 0.25 x cold;
 * a start from a state <= a fresh one + 20 ms).
 */
int rh_check_bench_cache(const rh_check_bench_opts *opts, rh_buf *report, rh_err *err);

/*
 * check for a tool other than the default (check/tool_check.c; `check --tool NAME`, or the tool detected
 * at head): the same steps and result as rh_check_run, every path deployed by the tool (its hazards for
 * (d), its way of sending a file for (e) and (f)); out->tool is set. Returns as rh_check_run.
 */
int rh_check_tool(const struct rh_tool *tool, const rh_check_opts *opts, rh_check_result *out, rh_err *err);

#endif
