/*
 * engine.h — Prisma Migrate's deploy / resolve / status, faithful to a version profile
 * (../shared/PRISMA_MIGRATE.md), run on a connection the caller owns.
 *
 * The engine does to the database what `prisma migrate deploy|resolve|status` does (same ledger
 * statements, same row states, each migration.sql sent as one simple-query message) and returns
 * what Prisma would have printed and exited with, in a result struct: nothing is printed here.
 * The caller supplies the PGconn (so a scenario runner can SET lock_timeout on it first, run other
 * sessions and inject faults around it) and a migration set already sorted by the profile.
 *
 * Ledger I/O (the `_prisma_migrations` table) is in ledger.c with the rh_ledger_* prefix.
 * Server notices raised by migration scripts are dropped, as Prisma shows none: the connection's
 * notice processor is swapped for the script and restored afterwards with a NULL argument.
 */
#ifndef RH_ENGINE_H
#define RH_ENGINE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "cluster/cluster.h"
#include "migrations/migset.h"
#include "migrations/profile.h"
#include "util/buf.h"
#include "util/err.h"

/* Prisma's advisory lock key and its give-up time (schema engine, postgres flavour). */
#define RH_ENGINE_ADVISORY_LOCK_KEY 72707369
#define RH_ENGINE_ADVISORY_LOCK_TIMEOUT_MS 10000

/*
 * Called before each migration script is sent (after its ledger row was inserted): the migration's
 * name, its 0-based index among the migrations this deploy applies, and the backend pid of the
 * engine's connection. A runner injects faults here ("terminate the deploying backend at
 * migration N"). Return 0 to go on; non-zero stops the deploy as if the connection had failed
 * before the script was sent (the row stays as Prisma would leave it: started, not finished).
 */
typedef int (*rh_engine_hook)(void *data, const char *name, size_t index, int backend_pid);

typedef struct rh_engine_opts {
    const rh_profile *profile;   /* NULL: the default profile (RH_PROFILE_DEFAULT_VERSION) */
    const char *provider;        /* the schema's datasource provider; NULL: "postgresql" */
    int advisory_lock;           /* 0: Prisma's rule (off when PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK
                                    is set and not "" or "0"); 1 always; -1 never */
    int lock_timeout_ms;         /* 0: RH_ENGINE_ADVISORY_LOCK_TIMEOUT_MS */
    rh_engine_hook before_migration;
    void *hook_data;
} rh_engine_opts;

/* rehearse's own findings (things Prisma stays silent about). */
typedef enum rh_finding_kind {
    RH_FINDING_EDITED_AFTER_APPLY,  /* a finished row's checksum differs from the file */
    RH_FINDING_FOLDER_GONE,         /* a ledger row whose folder is not in the set */
    RH_FINDING_WILL_REAPPLY,        /* every row of a name is rolled back: deploy applies it again */
    RH_FINDING_FAILED_ROW,          /* a failed row (deploy stops with P3009 until resolved) */
    RH_FINDING_HIDDEN_LEDGER,       /* a _prisma_migrations in a schema Prisma does not look in */
    RH_FINDING_SKIPPED,             /* a pending migration the tool passes over without a word (drizzle's older `when`) */
} rh_finding_kind;

typedef struct rh_finding {
    rh_finding_kind kind;
    char *name;
    char *detail;   /* one line: checksums, where the file came from ... */
} rh_finding;

typedef struct rh_engine_result {
    int exit_code;              /* as Prisma's CLI: 0 or 1 */
    char code[16];              /* Prisma error code ("P3018", "P3009", "P1002" ...); "" if none */
    char *failed_migration;     /* the migration that failed (P3018, P3015); NULL otherwise */
    char sqlstate[6];           /* of the failing statement; "" if none */
    char *db_message;           /* the server's primary message of the failure; NULL if none */
    rh_buf out;                 /* what Prisma prints on stdout */
    rh_buf errout;              /* what Prisma prints on stderr */
    size_t n_found;             /* entries of the migrations folder */
    size_t n_applied;           /* migrations applied (deploy) or rows changed (resolve) */
    size_t n_pending;           /* pending when the command started (deploy, status) */
    char **applied;             /* names applied by this deploy, in order */
    rh_finding *findings;       /* status (and deploy): rehearse's own findings */
    size_t n_findings;
} rh_engine_result;

void rh_engine_result_init(rh_engine_result *res);
void rh_engine_result_free(rh_engine_result *res);

/*
 * `prisma migrate deploy`. set must be sorted by the profile (rh_migset_sort). Returns the exit
 * code Prisma would have returned (0 or 1, also in res->exit_code), or -1 with err filled when
 * rehearse itself could not run the command (a ledger table of the wrong shape, a bad argument).
 */
int rh_engine_deploy(PGconn *conn, const rh_migset *set, const rh_engine_opts *opts,
                     rh_engine_result *res, rh_err *err);

/* `prisma migrate resolve --applied NAME`. Same return convention. */
int rh_engine_resolve_applied(PGconn *conn, const rh_migset *set, const char *name,
                              const rh_engine_opts *opts, rh_engine_result *res, rh_err *err);

/* `prisma migrate resolve --rolled-back NAME`. Same return convention. */
int rh_engine_resolve_rolled_back(PGconn *conn, const rh_migset *set, const char *name,
                                  const rh_engine_opts *opts, rh_engine_result *res, rh_err *err);

/*
 * `prisma migrate status`: Prisma's texts and exit code, plus rehearse's findings in
 * res->findings (edited after apply, rows whose folder is gone, names deploy will apply again).
 */
int rh_engine_status(PGconn *conn, const rh_migset *set, const rh_engine_opts *opts,
                     rh_engine_result *res, rh_err *err);

/* A short label for a finding kind ("edited-after-apply", ...). */
const char *rh_finding_kind_name(rh_finding_kind kind);

/* ---- the ledger (`_prisma_migrations`) ---------------------------------------------------- */

typedef struct rh_ledger_row {
    char *id;
    char *checksum;
    char *migration_name;
    char *logs;                 /* NULL for SQL NULL */
    int finished;               /* finished_at IS NOT NULL */
    int rolled_back;            /* rolled_back_at IS NOT NULL */
    int applied_steps_count;
    char started_at_text[40];   /* "2025-07-08 21:12:14.951584 UTC" as Prisma prints it */
} rh_ledger_row;

typedef struct rh_ledger {
    rh_ledger_row *rows;        /* ORDER BY started_at ASC, as Prisma reads them */
    size_t n;
} rh_ledger;

/* Does `_prisma_migrations` resolve through the search_path? Checks its shape when it does. */
int rh_ledger_exists(PGconn *conn, int *exists, rh_err *err);

/* Any table in current_schema() (Prisma's P3005 "database schema is not empty" rule)? */
int rh_ledger_schema_has_tables(PGconn *conn, int *has, rh_err *err);

/* CREATE TABLE _prisma_migrations exactly as Prisma does. */
int rh_ledger_create(PGconn *conn, rh_err *err);

/* Read every row, ordered as Prisma orders them. */
int rh_ledger_load(PGconn *conn, rh_ledger *out, rh_err *err);
void rh_ledger_free(rh_ledger *ledger);

/* A new UUID v4 (from the OS's cryptographic RNG via libcrypto), 36 characters + NUL. */
int rh_ledger_new_id(char out[37], rh_err *err);

/* The single-row writes of a deploy (each its own autocommit statement). */
int rh_ledger_record_started(PGconn *conn, const char *id, const char *name, const char *checksum,
                             rh_err *err);
int rh_ledger_record_step(PGconn *conn, const char *id, rh_err *err);
int rh_ledger_record_finished(PGconn *conn, const char *id, rh_err *err);
int rh_ledger_record_failed(PGconn *conn, const char *id, const char *logs, rh_err *err);
int rh_ledger_mark_rolled_back(PGconn *conn, const char *id, rh_err *err);
/* resolve --applied's row: logs '', started_at = finished_at, applied_steps_count 0. */
int rh_ledger_insert_applied(PGconn *conn, const char *id, const char *name, const char *checksum,
                             rh_err *err);

/* ---- benchmark (`rehearse bench deploy`) --------------------------------------------------- */

typedef struct rh_engine_bench_opts {
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
} rh_engine_bench_opts;

/*
 * Deploy the history on fresh clusters by each method (rehearse's engine, the floor: the same files
 * back to back on one connection without a ledger, a psql-per-file loop, prisma-oracle) and write
 * medians, per-migration costs and ratios to report. Returns 0, or -1 with err filled.
 */
int rh_engine_bench(const rh_engine_bench_opts *opts, rh_buf *report, rh_err *err);

/* Write a synthetic history of n migrations (tables, columns, indexes, FKs ...) into dir. */
int rh_engine_generate_history(const char *dir, int n, rh_err *err);

#endif
