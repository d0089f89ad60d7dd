/*
 * prisma_int.h — internals shared by Prisma Migrate's files (not part of prisma.h).
 */
#ifndef RH_TOOLS_PRISMA_INT_H
#define RH_TOOLS_PRISMA_INT_H

#include <libpq-fe.h>

#include "tools/prisma/prisma.h"

/* Fill err from a failed PGresult (or the connection's message), prefixed by what; clears r. */
int rh_prisma_pg_error(PGconn *conn, PGresult *r, rh_err *err, const char *what);

/* applied_steps_count + 1 and finished_at, two autocommit statements in one pipeline. */
int rh_prisma_ledger_record_success(PGconn *conn, const char *id, rh_err *err);

/* The failure of one script, as the server reported it. */
typedef struct rh_exec_failure {
    char sqlstate[6];
    char *message;        /* primary message */
    char *display;        /* tokio-postgres DbError Display: "ERROR: msg[\nDETAIL: d][\nHINT: h]" */
    char *debug;          /* tokio-postgres DbError Debug: "DbError { severity: \"ERROR\", ... }" */
    int connection_lost;  /* the server went away (no SQLSTATE; Prisma's P1017) */
} rh_exec_failure;

void rh_exec_failure_free(rh_exec_failure *f);

/*
 * Run one migration script by the profile's strategy: the whole text as one simple-query message,
 * or (split profile, unverified) statement by statement with a whole-script fallback when the
 * parser fails. Returns 0 on success, 1 on a server-reported failure (f filled). After a failure
 * the session is outside any transaction block: an aborted block opened by the script's own
 * BEGIN is rolled back, as Prisma's dropped connection is (the ledger write comes next).
 */
int rh_exec_script(PGconn *conn, const rh_profile *profile, const char *sql, size_t len, rh_exec_failure *f);

/*
 * Prisma's advisory lock: SELECT pg_advisory_lock(72707369), given up after timeout_ms (the query
 * is cancelled). Returns 0 locked, 1 timed out, -1 error (err filled). While it waits, opts->lock_wait
 * (when set) may decide the outcome early: then it gives up as at the time limit and *skipped_ms is
 * the part of the limit not waited out (0 otherwise).
 */
int rh_exec_advisory_lock(PGconn *conn, int timeout_ms, const rh_engine_opts *opts, long *skipped_ms, rh_err *err);
void rh_exec_advisory_unlock(PGconn *conn);

/* Prisma's CLI error frame on stderr: "Error: CODE\n\nMESSAGE\n\n" (or "Error: MESSAGE\n"). */
void rh_text_error(rh_engine_result *res, const char *code, const char *message);

/* The CLI's first lines on stdout (schema and datasource). */
/* The CLI's first lines: "Prisma schema loaded from ..." (stdout in 6.x; stderr, with a period, in 7.x)
   and the datasource line. */
/* The profile of opts, or the default one (in storage) when the caller gave none. */
const rh_profile *rh_prisma_profile(const rh_engine_opts *opts, rh_profile *storage);

void rh_text_prelude(PGconn *conn, const rh_profile *profile, const char *url_schema, rh_engine_result *res);

/* "\nN migrations found in prisma/migrations\n" / "\nNo migration found in prisma/migrations\n". */
void rh_text_found(rh_buf *out, size_t n);

/* The P3018 message (ends with "\n") for a failed script. */
char *rh_text_p3018(const char *name, const rh_exec_failure *f);

/* Whether an advisory lock should be taken under these options and the environment. */
int rh_prisma_lock_wanted(const rh_engine_opts *opts);

#endif
