/*
 * prisma.h — Prisma Migrate's deploy / resolve / status, faithful to a version profile
 * (../shared/PRISMA_MIGRATE.md), run on a connection the caller owns; its ledger `_prisma_migrations`;
 * `rehearse bench deploy`. Generic modules reach these through the tool interface (tools/tool.h,
 * rh_tool_prisma); tests and Prisma's own files call them directly.
 *
 * The engine does to the database what `prisma migrate deploy|resolve|status` does (same ledger
 * statements, same row states, each migration.sql sent as one simple-query message) and returns
 * what Prisma would have printed and exited with, in a result struct (engine/engine.h): nothing is
 * printed here. The caller supplies the PGconn (so a scenario runner can SET lock_timeout on it
 * first, run other sessions and inject faults around it) and a migration set already sorted by
 * the profile.
 *
 * Ledger I/O is in ledger.c with the rh_prisma_ledger_* prefix. Server notices raised by migration
 * scripts are dropped, as Prisma shows none: the connection's notice processor is swapped for the
 * script and restored afterwards with a NULL argument.
 */
#ifndef RH_TOOLS_PRISMA_H
#define RH_TOOLS_PRISMA_H

#include <libpq-fe.h>

#include "engine/engine.h"
#include "migrations/plan.h"
#include "migrations/profile.h"
#include "util/buf.h"

/* Prisma's advisory lock key and its give-up time (schema engine, postgres flavour). */
#define RH_PRISMA_ADVISORY_LOCK_KEY 72707369
#define RH_PRISMA_ADVISORY_LOCK_TIMEOUT_MS 10000

/*
 * `prisma migrate deploy`. set must be sorted by the profile (rh_migset_sort). Returns the exit
 * code Prisma would have returned (0 or 1, also in res->exit_code), or -1 with err filled when
 * rehearse itself could not run the command (a ledger table of the wrong shape, a bad argument).
 */
int rh_prisma_deploy(PGconn *conn, const rh_migset *set, const rh_engine_opts *opts,
                     rh_engine_result *res, rh_err *err);

/* `prisma migrate resolve --applied NAME`. Same return convention. */
int rh_prisma_resolve_applied(PGconn *conn, const rh_migset *set, const char *name,
                              const rh_engine_opts *opts, rh_engine_result *res, rh_err *err);

/* `prisma migrate resolve --rolled-back NAME`. Same return convention. */
int rh_prisma_resolve_rolled_back(PGconn *conn, const rh_migset *set, const char *name,
                                  const rh_engine_opts *opts, rh_engine_result *res, rh_err *err);

/*
 * `prisma migrate status`: Prisma's texts and exit code, plus rehearse's findings in
 * res->findings (edited after apply, rows whose folder is gone, names deploy will apply again).
 */
int rh_prisma_status(PGconn *conn, const rh_migset *set, const rh_engine_opts *opts,
                     rh_engine_result *res, rh_err *err);

/*
 * libpq rejects Prisma's own query parameters (schema=, connection_limit=, pgbouncer= ...): return
 * the URL without them (malloc'd); schema= (decoded as Prisma does: '+' a space, %XY, any other '%' kept) goes to *schema (malloc'd, or NULL
 * when absent). Anything that is not a postgres:// or postgresql:// URL is returned unchanged. NULL with err when
 * schema= decodes to a NUL byte (%00): Prisma 6.19.3 keeps the byte in the name, which no PostgreSQL name can hold.
 */
char *rh_prisma_database_url(const char *url, char **schema, rh_err *err);

/*
 * How the profile's Prisma sends migration m (rh_tool.plan_file; plan.c): whole, or statement by
 * statement when the profile splits and sqlparser 0.61 parses the file (profile NULL: whole). lines
 * (may be NULL) gets "NAME: how" and, when CONCURRENTLY fails with 25001, "NAME: fails with 25001 ...".
 * Returns 1 when it fails so, else 0.
 */
int rh_prisma_plan_file(const rh_migration *m, const rh_profile *profile, rh_plan *out, rh_buf *lines);

/* Prisma's findings between two revisions (rh_tool.history_findings; history.c). */
struct rh_git_history;
void rh_prisma_history_findings(struct rh_git_history *h);

/* ---- the ledger (`_prisma_migrations`) ---------------------------------------------------- */

/* Does `_prisma_migrations` resolve through the search_path? Checks its shape when it does. */
int rh_prisma_ledger_exists(PGconn *conn, int *exists, rh_err *err);

/* Any table in current_schema() (Prisma's P3005 "database schema is not empty" rule)? */
int rh_prisma_ledger_schema_has_tables(PGconn *conn, int *has, rh_err *err);

/* CREATE TABLE _prisma_migrations exactly as Prisma does. */
int rh_prisma_ledger_create(PGconn *conn, rh_err *err);

/* Read every row, ordered as Prisma orders them. */
int rh_prisma_ledger_load(PGconn *conn, rh_ledger *out, rh_err *err);

/* A new UUID v4 (from the OS's cryptographic RNG via libcrypto), 36 characters + NUL. */
int rh_prisma_ledger_new_id(char out[37], rh_err *err);

/* The single-row writes of a deploy (each its own autocommit statement). */
int rh_prisma_ledger_record_started(PGconn *conn, const char *id, const char *name, const char *checksum,
                             rh_err *err);
int rh_prisma_ledger_record_step(PGconn *conn, const char *id, rh_err *err);
int rh_prisma_ledger_record_finished(PGconn *conn, const char *id, rh_err *err);
int rh_prisma_ledger_record_failed(PGconn *conn, const char *id, const char *logs, rh_err *err);
int rh_prisma_ledger_mark_rolled_back(PGconn *conn, const char *id, rh_err *err);
/* `restore ledger`'s columns (NULL-terminated) and one row of it (tools/tool.h: ledger_insert_row). */
extern const char *const rh_prisma_ledger_columns[];
int rh_prisma_ledger_insert_row(PGconn *conn, const char *const *values, const rh_migset *(*current_set)(void *data),
                         void *data, rh_err *err);

/* resolve --applied's row: logs '', started_at = finished_at, applied_steps_count 0. */
int rh_prisma_ledger_insert_applied(PGconn *conn, const char *id, const char *name, const char *checksum,
                             rh_err *err);

/* ---- benchmark (`rehearse bench deploy`) --------------------------------------------------- */

typedef struct rh_prisma_bench_opts {
    const char *migrations_dir; /* NULL: a generated history of `generate` migrations */
    int generate;               /* 0: 200 */
    int runs;                   /* per method; 0: 5 */
    int with_oracle;            /* also time prisma-oracle (slow: ~1.5 s + the deploy per run) */
    int oracle_runs;            /* runs of the oracle; 0: min(runs, 3) */
    const char *oracle_path;    /* NULL: $REHEARSE_ORACLE or ../shared/oracle/prisma-oracle */
    int with_psql;              /* also time a psql-per-file loop */
    const char *psql_path;      /* NULL: psql next to the cluster's postgres binaries */
    int json;                   /* report as JSON instead of text */
    const rh_cluster_opts *cluster; /* options of the fresh clusters (--pg-bin, --run-as); NULL: defaults */
    const char *prisma_version; /* also time rehearse on this version's profile (e.g. 7.10.1), same runs */
} rh_prisma_bench_opts;

/*
 * Deploy the history on fresh clusters by each method (rehearse's engine, the floor: the same files
 * back to back on one connection without a ledger, a psql-per-file loop, prisma-oracle) and write
 * medians, per-migration costs and ratios to report. Returns 0, or -1 with err filled.
 */
int rh_prisma_bench(const rh_prisma_bench_opts *opts, rh_buf *report, rh_err *err);

/* Write a synthetic history of n migrations (tables, columns, indexes, FKs ...) into dir. */
int rh_prisma_generate_history(const char *dir, int n, rh_err *err);

#endif
