/*
 * scale.h — production's shape without production's data (issue 14).
 *
 * `rehearse stats` prints one read-only query; a user runs it on production (or a replica) and
 * gets one JSON document: per table its estimated rows, table and index size, dead tuples, and per
 * column the planner's statistics a generator needs (null fraction, distinct count, average width).
 * No row data: the query reads pg_class, pg_index, pg_namespace, pg_stats (never its value arrays)
 * and pg_stat_user_tables, and takes no lock on any user table.
 *
 * The same document, or `--rows TABLE=N` guesses, is loaded here into an rh_scale: the one loader.
 */
#ifndef RH_SCALE_H
#define RH_SCALE_H

#include <stddef.h>

#include "util/err.h"

/* The version the stats document carries in "rehearse_stats"; the loader refuses others. */
#define RH_SCALE_STATS_VERSION 1

typedef struct rh_scale_column {
    char *name;
    double null_frac;    /* fraction of rows that are NULL, 0..1 */
    double n_distinct;   /* > 0: distinct values; < 0: minus the fraction of rows that are distinct (pg_stats) */
    int avg_width;       /* average bytes of a non-null value */
} rh_scale_column;

typedef struct rh_scale_table {
    char *schema;          /* NULL: any schema (a --rows guess without "schema.") */
    char *name;
    long long rows;        /* estimated rows (reltuples; n_live_tup when never analyzed) */
    long long table_bytes; /* -1: unknown (a --rows guess) */
    long long index_bytes; /* -1: unknown */
    long long dead_tuples; /* -1: unknown */
    rh_scale_column *columns;
    size_t ncolumns;
} rh_scale_table;

typedef struct rh_scale {
    rh_scale_table *tables;
    size_t ntables;
    char server_version[16]; /* production's PostgreSQL ("15.18", from server_version_num); "" if unknown */
} rh_scale;

/* The read-only statistics query `rehearse stats` prints (works on PostgreSQL 14 to 18). */
const char *rh_scale_stats_query(void);

/* Load a stats document (the query's output) from a file; tables are added to *s. */
int rh_scale_load(rh_scale *s, const char *path, rh_err *err);

/* The same from text; origin names it in errors (a file name). */
int rh_scale_parse(rh_scale *s, const char *json, const char *origin, rh_err *err);

/*
 * Add or override one table's row count from "TABLE=N" or "SCHEMA.TABLE=N" (--rows). N may carry
 * a k/M/G suffix (10M = 10 000 000). The error names the argument and what was expected.
 */
int rh_scale_add_rows(rh_scale *s, const char *arg, rh_err *err);

/* A row count: a whole number, optionally with k, M or G (10M = 10 000 000), at most 4000G; -1 if not. */
int rh_scale_parse_count(const char *text, long long *out);

/* The table (schema NULL matches a table of any schema, and a guess without schema matches any); NULL if none. */
const rh_scale_table *rh_scale_find(const rh_scale *s, const char *schema, const char *name);

void rh_scale_free(rh_scale *s);

/* ---- the filler ------------------------------------------------------------------------------ */

#include <libpq-fe.h>

/* What the filler did to one table. */
typedef struct rh_scale_filled {
    char *schema, *name;
    long long before;   /* rows before */
    long long target;   /* rows asked for */
    long long inserted; /* rows added (0 when skipped) */
    double ms;          /* the load: the rows' COPY and putting back the indexes and foreign keys, without ANALYZE */
    long long parent_keys_read; /* parent rows read for its foreign keys (0 when every parent was filled by this
                                   fill from empty: the keys are then the parent's generated ones, fill.c) */
    char *note;         /* NULL, or what was done instead (skipped: why; cycle broken; columns left NULL) */
} rh_scale_filled;

typedef struct rh_scale_fill_result {
    rh_scale_filled *tables; /* in fill order: parents before children */
    size_t n;
    long long rows;          /* rows inserted in all */
    double ms;               /* all INSERTs */
    size_t *unmatched;       /* the scale's tables (indexes into rh_scale.tables) that name no table of the
                                database (the tool's ledger included): a mistyped --rows, or a table production
                                has and the migrations do not; the caller says which */
    size_t nunmatched;
} rh_scale_fill_result;

/*
 * Fill the tables of conn's database that *s names up to their row counts, parents first: rehearse
 * generates the rows (scale/values.c) and streams them in chunks (COPY ... FROM STDIN, binary), so its
 * memory does not grow with the rows.
 * Values have the column's type; NOT NULL columns get a value (or their DEFAULT), nullable ones
 * NULL at the stats' null_frac; unique and primary-key columns distinct values; foreign keys the
 * keys of the parent's rows (spread so that a composite unique key over two foreign keys stays
 * unique). A CHECK constraint is satisfied when the generated values pass it; when they do not,
 * the table is skipped and its note says so. A foreign-key cycle is broken at a table whose cycle
 * columns are nullable (left NULL, said in its note). -1 only when the database cannot be read.
 * Each table is loaded in one transaction the bulk way (docs/scale.md): its plain indexes and own
 * foreign keys are dropped and put back exactly (validated), empty tables are truncated first so
 * that the load writes no WAL; a failure rolls that table back to how it was.
 */
int rh_scale_fill(PGconn *conn, const rh_scale *s, rh_scale_fill_result *out, rh_err *err);
void rh_scale_fill_result_free(rh_scale_fill_result *r);

/* How to fill; zeroed = rh_scale_fill's way. */
typedef struct rh_scale_fill_opts {
    int direct; /* 1: for `rehearse bench scale` to compare against: the same rows through the table's indexes
                   and foreign-key triggers as they are; 0: the bulk way (docs/scale.md) */
    long long bulk_from_rows; /* the bulk way from this many rows to add (0: RH_SCALE_BULK_FROM_ROWS); fewer are
                                 inserted directly (the same rows) */
    const struct rh_tool *ledger_tool; /* whose ledger table is never filled (tools/tool.h); NULL: the default
                                          tool's */
} rh_scale_fill_opts;

/* Below this many rows to add, a table is inserted into directly: `rehearse bench scale` at 5 000 rows had
   the bulk way at 0.7x the direct one for User, at 20 000 rows 1.2x (load 17). */
#define RH_SCALE_BULK_FROM_ROWS 10000

/* rh_scale_fill with options (opts NULL: the defaults). */
int rh_scale_fill_with(PGconn *conn, const rh_scale *s, const rh_scale_fill_opts *opts, rh_scale_fill_result *out,
                       rh_err *err);

/* ---- what a statement costs the application ---------------------------------------------------- */

/* A probe of one table while the statement runs: did a read / a write wait on the statement's locks? */
typedef struct rh_scale_wait {
    char *table;
    int read_blocked, write_blocked;    /* seen in pg_blocking_pids() waiting for the statement's backend */
    double read_wait_ms, write_wait_ms; /* from the probe's start until it got through */
} rh_scale_wait;

typedef struct rh_scale_cost {
    double ms;            /* the statement's duration */
    int probed;           /* probes ran (0: the statement ended before it was seen holding a lock on a table) */
    char sqlstate[6];     /* "" when it succeeded */
    char *error;          /* the server's message and detail when it failed; NULL otherwise */
    rh_scale_wait *waits; /* one per table asked about */
    size_t n;
} rh_scale_cost;

/*
 * The meter (probe.c), the one way rehearse measures who waits for a migration's backend: a watcher
 * connection reads the backend's relation locks; once it holds one on a watched table (stronger than
 * when that table's probes last started), a read (SELECT 1 FROM t LIMIT 1) and a write (INSERT INTO t
 * SELECT * FROM t WHERE false: RowExclusiveLock, no change) of it start on probe connections of their
 * own, and pg_blocking_pids() says whether they wait for the backend. Used by rh_scale_measure (one
 * autocommit statement) and by check's lock tracer (statements in a transaction, check/locks.c).
 */
typedef struct rh_scale_meter rh_scale_meter;

/* One probe's outcome. */
typedef struct rh_scale_probe {
    char *table;      /* the name it was watched under */
    int write;        /* 0: the read; 1: the write */
    int blocked;      /* seen waiting for the backend (pg_blocking_pids) */
    double ms;        /* on the meter's clock, from its start until it got through */
    long long rows;   /* the table's pg_class.reltuples when the probe started */
    size_t tag;       /* the caller's tag given to the poll that started it (a statement's index) */
    int unprobed;     /* the lock was seen, but the server had no connection left for this probe: not
                         measured (blocked 0, ms -1); never a silent gap */
} rh_scale_probe;

rh_scale_meter *rh_scale_meter_new(const char *conninfo, rh_err *err);
void rh_scale_meter_free(rh_scale_meter *m);
/* Server settings for a cluster that measures (check --scale): room for two probe connections per table
   of a migration that locks ~95 tables (rehearse's clusters otherwise allow 50 connections). */
#define RH_SCALE_MEASURING_SETTINGS {"max_connections=200", NULL}
/* Watch a table (by oid; name: how results name it). Tables get probe connections (two each, kept) as long
   as the server has connections left when the meter starts, less 4 (max_connections, reserved ones and
   those in use): the first that many tables a migration locks; a table past that goes unprobed (its
   outcomes say so: rh_scale_probe.unprobed). */
void rh_scale_meter_watch(rh_scale_meter *m, unsigned long oid, const char *name);
/*
 * While backend pid runs a statement (or holds its locks in an open transaction): start the probes of
 * the watched tables it was newly seen locking, tagged `tag`; note who waits for it; collect the
 * probes that got through. -1 when the watcher's query fails.
 */
int rh_scale_meter_poll(rh_scale_meter *m, int pid, size_t tag, rh_err *err);
/*
 * While backend pid is idle in its transaction after a statement, before anything lets its locks go (COMMIT,
 * ROLLBACK, the next statement): start the probes of every lock it holds on a watched table that has none yet
 * (a statement over before a poll saw it: the last one of a file, any fast one) and wait until each busy
 * probe is through or queued for a lock, so that "blocked" is known before the commit. Needs no timing: a
 * probe that conflicts with a lock pid holds cannot get through while pid sits in its transaction.
 */
int rh_scale_meter_settle(rh_scale_meter *m, int pid, size_t tag, rh_err *err);
/* After the backend's transaction ended: wait until every probe got through; locks count anew after. */
void rh_scale_meter_drain(rh_scale_meter *m);
/* Hand over the outcomes so far (drained first), in the order the probes started; the caller frees
   each table and the array. Returns their number. */
size_t rh_scale_meter_take(rh_scale_meter *m, rh_scale_probe **out);
/* The meter's clock (ms): wall time without the paused stretches (the caller's own work, which
   production does not do). Waits are measured on it. */
double rh_scale_meter_clock(const rh_scale_meter *m);
void rh_scale_meter_pause(rh_scale_meter *m);
void rh_scale_meter_resume(rh_scale_meter *m);

/*
 * Run sql (autocommit) on a new connection to conninfo and, once its backend holds a lock on one of
 * the tables (names, unqualified: the search_path finds them), start on other connections a read
 * (SELECT 1 ... LIMIT 1) and a write (INSERT ... SELECT ... WHERE false, which takes RowExclusiveLock
 * and changes nothing) of each table at once; report who waited for the statement and how long.
 * -1 only when connections cannot be made; a failing statement is reported in *out.
 */
int rh_scale_measure(const char *conninfo, const char *sql, const char *const *tables, size_t ntables,
                     rh_scale_cost *out, rh_err *err);
void rh_scale_cost_free(rh_scale_cost *c);

#endif
