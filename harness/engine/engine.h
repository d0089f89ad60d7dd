/*
 * engine.h — what every migration tool's command gives back (tools/tool.h): the options a command
 * runs with, its result (what the tool prints on stdout and stderr, its exit code, the failing
 * migration and SQLSTATE, rehearse's own findings), and the common ledger model that `expect
 * ledger`, `status`, `check` and reports read. Built and freed in result.c; the tools fill them
 * (tools/NAME/). Nothing is printed here: the caller decides where the texts go.
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

/*
 * Called before each migration script is sent (after its ledger row was inserted): the migration's
 * name, its 0-based index among the migrations this deploy applies, and the backend pid of the
 * engine's connection. A runner injects faults here ("terminate the deploying backend at
 * migration N"). Return 0 to go on; non-zero stops the deploy as if the connection had failed
 * before the script was sent (the row stays as the tool would leave it: started, not finished).
 */
typedef int (*rh_engine_hook)(void *data, const char *name, size_t index, int backend_pid);

typedef struct rh_engine_opts {
    const rh_profile *profile;   /* NULL: the tool's default profile */
    const char *provider;        /* the schema's datasource provider; NULL: "postgresql" */
    const char *url_schema;      /* the database URL's schema= (decoded); NULL: none, so Prisma's CLI names
                                    "public" in its Datasource line, whatever the connection's search_path */
    int advisory_lock;           /* 0: the tool's rule (its environment variable may turn it off);
                                    1 always; -1 never */
    int lock_timeout_ms;         /* 0: the tool's own give-up time for its lock */
    rh_engine_hook before_migration;
    void *hook_data;
    /*
     * deploy: the first `resumed` migrations of the set were applied to this database by an earlier
     * part of this same deploy (a cached state, engine/cached.h). They must be in the ledger; the
     * result counts and prints them as applied by this deploy, so that it reads as one deploy.
     */
    size_t resumed;
    /*
     * Asked while the tool waits for its advisory lock (backend_pid: the engine's connection, whose
     * lock request is in flight). 1: the caller proved that nothing can release the lock before the
     * tool gives up, so it gives up now, with exactly what it prints at its time limit (the result's
     * lock_wait_skipped_ms says how much of the wait was not waited out); 0: not decided, ask again;
     * -1: wait for real (not asked again). NULL: always wait for real.
     */
    int (*lock_wait)(void *data, int backend_pid);
    void *lock_wait_data;
} rh_engine_opts;

/* rehearse's own findings (things the tool stays silent about). */
typedef enum rh_finding_kind {
    RH_FINDING_EDITED_AFTER_APPLY,  /* a finished row's checksum differs from the file */
    RH_FINDING_FOLDER_GONE,         /* a ledger row whose folder is not in the set */
    RH_FINDING_WILL_REAPPLY,        /* every row of a name is rolled back: deploy applies it again */
    RH_FINDING_FAILED_ROW,          /* a failed row (deploy stops until it is resolved) */
    RH_FINDING_HIDDEN_LEDGER,       /* a ledger table in a schema the tool does not look in */
    RH_FINDING_SKIPPED,             /* a pending migration the tool passes over without a word (drizzle's older `when`) */
} rh_finding_kind;

typedef struct rh_finding {
    rh_finding_kind kind;
    char *name;
    char *detail;   /* one line: checksums, where the file came from ... */
} rh_finding;

typedef struct rh_engine_result {
    int exit_code;              /* as the tool's CLI exits */
    char code[16];              /* the tool's error code ("P3018", "P3009" ...); "" if none */
    char *failed_migration;     /* the migration that failed; NULL otherwise */
    char sqlstate[6];           /* of the failing statement; "" if none */
    char *db_message;           /* the server's primary message of the failure; NULL if none */
    rh_buf out;                 /* what the tool prints on stdout */
    rh_buf errout;              /* what the tool prints on stderr */
    size_t n_found;             /* entries of the migrations folder */
    size_t n_applied;           /* migrations applied (deploy) or rows changed (resolve) */
    size_t n_pending;           /* pending when the command started (deploy, status) */
    char **applied;             /* names applied by this deploy, in order */
    rh_finding *findings;       /* status (and deploy): rehearse's own findings */
    size_t n_findings;
    long lock_wait_skipped_ms;  /* > 0: the tool gave up its lock wait this much before its time limit,
                                   on the caller's proof (rh_engine_opts.lock_wait) */
} rh_engine_result;

void rh_engine_result_init(rh_engine_result *res);
void rh_engine_result_free(rh_engine_result *res);

/* A short label for a finding kind ("edited-after-apply", ...). */
const char *rh_finding_kind_name(rh_finding_kind kind);

/* ---- the common ledger model (each tool reads its own table into it) ---------------------------- */

typedef struct rh_ledger_row {
    char *id;
    char *checksum;
    char *migration_name;
    char *logs;                 /* NULL for SQL NULL */
    int finished;               /* finished_at IS NOT NULL */
    int rolled_back;            /* rolled_back_at IS NOT NULL */
    int applied_steps_count;
    char started_at_text[40];   /* "2025-07-08 21:12:14.951584 UTC" as the tool prints it */
    double ms;                  /* finished_at - started_at in ms (reports' timelines); -1 unknown: not finished,
                                   or the tool records no duration (dbmate, drizzle: see `finished`) */
} rh_ledger_row;

typedef struct rh_ledger {
    rh_ledger_row *rows;        /* in the order the tool reads them */
    size_t n;
} rh_ledger;

void rh_ledger_free(rh_ledger *ledger);

#endif
