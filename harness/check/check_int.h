/*
 * check_int.h — what the files of the check module share and nobody else needs.
 */
#ifndef RH_CHECK_INT_H
#define RH_CHECK_INT_H

#include <libpq-fe.h>

#include "check/check.h"
#include "cluster/cluster.h"
#include "migrations/migset.h"
#include "migrations/profile.h"

/* Append a finding; file/migration/detail may be NULL. Returns it for further fields. */
rh_check_finding *rh_check_add(rh_check_result *r, rh_check_level level, char step, const char *code,
                               const char *migration, const char *file, int line, const char *detail,
                               const char *fmt, ...) __attribute__((format(printf, 9, 10)));

/*
 * A finding's file is one that exists at head, so that an annotation lands on the diff: a folder,
 * a migration.sql missing at head (P3015, a removed migration) keep their name in the message only.
 */
void rh_check_keep_head_files(rh_check_result *r, const rh_migset *head);

/*
 * How a tool sends each pending migration, for rh_check_trace_pending: the text the server gets (the
 * file, or what the tool sends of it with line breaks kept) appended to text, and *autocommit = 1 when
 * each statement commits on its own (Prisma >= 7.4 sending a file statement by statement).
 */
typedef struct rh_check_sender {
    void (*text)(const rh_check_result *r, const rh_migration *m, rh_buf *text, int *autocommit);
    const char *file_suffix;  /* a migration's file: r->migrations/NAME + this ("/migration.sql", ".sql") */
    int one_transaction;      /* every pending file in one transaction, committed after the last (drizzle-kit) */
} rh_check_sender;

/*
 * (f): trace what head's deploy runs (r->pending, in head's order) on db (DB_PROBE: a copy of the upgrade path
 * taken before head; as the cluster's superuser when as_admin), with one tracer, so a table an earlier pending migration creates is not "existing"
 * for a later one; each file as `how` sends it; the first failing file ends the trace (later ones may
 * depend on it). Fills r->traces (a trace's file: r->migrations/NAME + suffix, or NAME when r->migrations is
 * NULL); measures when r->scaled (locks.c).
 */
int rh_check_trace_pending(rh_check_result *r, rh_cluster *c, const char *db, int as_admin, const rh_migset *head,
                           const rh_check_sender *how, rh_err *err);

/* Whether name is one of the n names (r->pending, a ledger's applied ones ...). */
int rh_check_in_names(char *const *names, size_t n, const char *name);

/* The senders: the default tool's under r->profile (run.c), another tool's (r->tool; tool_check.c). */
extern const rh_check_sender rh_check_default_sender;
rh_check_sender rh_check_tool_sender(const struct rh_tool *tool);

/* (f) as findings (run.c): the traces' locks ranked by what they block, rewrites, parse errors. */
void rh_check_lock_findings(rh_check_result *r);

/* The line a failure of migration `name` points at: the statement its trace ran outside the transaction
   (25001) or that failed in the trace; else 1 (run.c). */
int rh_check_failure_line(const rh_check_result *r, const char *name, const char *sqlstate);

/* --scale / --rows: the upgrade path's tables filled to production's sizes (at most fill_max rows each when
   > 0); r->scaled and r->fill say what was done, notices what was not (run.c). */
int rh_check_fill_to_scale(rh_check_result *r, PGconn *upgrade, const rh_scale *scale, long long fill_max, rh_err *err);

/* (g): a seed file loaded as one simple query (run.c). */
int rh_check_load_seed(PGconn *conn, const char *path, rh_err *err);


/* Drop NOTICE messages on a connection. */
void rh_check_quiet(PGconn *conn);

/* --max-block & co.: an error finding per statement and table whose measured waits exceed the limits
   of r (blockers.c). */
void rh_check_add_block_findings(rh_check_result *r);
/* Will rh_check_add_block_findings make that error for statement st and table (a probe of it waited past
   its limit)? The lock warning of that statement and table then stays out: one finding, with the wait. */
int rh_check_over_block_limit(const rh_check_result *r, const rh_check_stmt *st, const char *table);

/* Production's row count for each measured wait, and an estimate at it where the wait was spent on work
   linear in rows (a rewrite, a scan, an index build) and production has more rows than were measured. */
void rh_check_estimate(rh_check_result *r, const rh_scale *production);

/*
 * Isolation of the paths (isolate.c): why a check's paths need clusters of their own (a migration of
 * base or head, or the seed, may touch the cluster's global objects: migrations/globals.h), or NULL
 * when they may share one. Caller frees.
 */
char *rh_check_isolation_reason(const rh_migset *base, const rh_migset *head, const char *seed_file);
/*
 * Fork *c (no connection open on it): it stops cleanly, and two clusters start from its data directory;
 * *c becomes one, *twin the other. copts: *c's options (the fork never touches their state cache).
 */
int rh_check_fork(rh_cluster **c, const rh_cluster_opts *copts, rh_cluster **twin, rh_err *err);

/* `check --keep` of an isolated check: keep each path's cluster (NULL: none) and say how to reach each. */
char *rh_check_keep_isolated(rh_cluster *upgrade, rh_cluster *clean, rh_cluster *probe);

/* The databases of a check's cluster: one per path. */
#define DB_CLEAN "rehearse_check_clean"
#define DB_UPGRADE "rehearse_check_upgrade"
#define DB_PROBE "rehearse_check_locks"

/*
 * The deployed-state cache in a check (state.c): base's state (the longest cached prefix of its
 * migrations) in two databases, the upgrade path's and the lock probe's (which becomes the clean
 * deploy's when (a) needs a database of its own that starts from it), so that a warm check starts its
 * cluster from it and deploys only the rest; a cold one publishes base's state at the end.
 */
typedef struct rh_check_cache {
    int on;                 /* the cache is used (not --no-cache, not --keep, REHEARSE_NO_CACHE unset) */
    char (*ka)[65];         /* keys of base's prefixes, [0 .. na] */
    char (*kb)[65];         /* keys of head's prefixes, [0 .. nb] */
    size_t na, nb;
    size_t common;          /* leading migrations base and head share (same names, bytes, order) */
    size_t cached;          /* base migrations the cluster starts with (0: a miss) */
    char *entry;            /* the cache entry started from */
    int saving;             /* copies of base's state were made, to publish at the end */
    int globals_changed;    /* publishing found the cluster's globals changed by the run (not published) */
    char *fingerprint;      /* the cluster's global catalogs before any migration ran (state.c) */
    int probe_held;         /* DB_PROBE holds the cached state, untouched (not made (a)'s database) */
    int whole_only;         /* the tool continues only a whole run's state (tools/tool.h RH_TOOL_RESUME_WHOLE) */
} rh_check_cache;

struct rh_tool;
/* Keys (the tool's name, NULL: the default tool, and its profile are part of them) and lookup, before the
   cluster starts (copts->state is set on a hit). */
void rh_check_cache_find(rh_check_cache *cc, int on, const struct rh_tool *tool, const rh_profile *profile,
                         int superuser, const rh_migset *base, const rh_migset *head, rh_cluster_opts *copts);
/* The check's cluster, from the state found: one that does not start (pruned by another process
   meanwhile, damaged) is a miss, said on stderr, and the cluster starts fresh; never a failed check. */
int rh_check_cache_start(rh_check_cache *cc, rh_cluster **cluster, rh_cluster_opts *copts, rh_err *err);
/* After the start: the databases a miss creates empty. On a hit: *one_path when (a) and (b) are one run
   (base's whole state cached, head starting with it, loads_between 0: no seed or fill between base and
   head), with no database of (a)'s own; else (a)'s database is the cached state (head starts with the
   cached migrations: *clean_resumed of them) or empty (it does not). */
int rh_check_cache_databases(rh_check_cache *cc, rh_cluster *cluster, int loads_between, size_t *clean_resumed,
                             int *one_path, rh_err *err);
/* After base deployed on `upgrade` (exit 0, not recovered): on a miss, copy its state for publishing
   when its session left nothing behind. Closes *upgrade (the caller reopens it). */
int rh_check_cache_copy(rh_check_cache *cc, rh_cluster *cluster, PGconn **upgrade, rh_err *err);
/* At the end, every connection closed: publish the copies (the server stops). A failure is said, not fatal. */
int rh_check_cache_publish(rh_check_cache *cc, rh_cluster *cluster, const rh_cluster_opts *copts, const char *base_label);
void rh_check_cache_free(rh_check_cache *cc);
/* The backstop: the run changed the cluster's globals (cc->globals_changed) though the paths shared one
   cluster (isolated NULL): a warning that the verdict may not be production's. */
void rh_check_shared_globals_warning(rh_check_result *r, const char *isolated, const rh_check_cache *cc);

#endif
