/*
 * exec.c — sends migration scripts to the server the way Prisma's schema engine does (one
 * simple-query message per file, so PostgreSQL's implicit-transaction rules apply), turns a
 * failure into the fields and texts Prisma shows (tokio-postgres DbError Display and Debug), and
 * takes Prisma's advisory lock with its client-side time limit.
 */
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "migrations/split.h"
#include "tools/prisma/sqlparser_model.h"
#include "tools/prisma/prisma_int.h"

void rh_exec_failure_free(rh_exec_failure *f)
{
    free(f->message);
    free(f->display);
    free(f->debug);
    memset(f, 0, sizeof *f);
}

/* Rust's Debug for a string: quoted, with \" \\ \n \r \t and \u{..} escapes. */
static void debug_str(rh_buf *b, const char *s)
{
    rh_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': rh_buf_puts(b, "\\\""); break;
        case '\\': rh_buf_puts(b, "\\\\"); break;
        case '\n': rh_buf_puts(b, "\\n"); break;
        case '\r': rh_buf_puts(b, "\\r"); break;
        case '\t': rh_buf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                rh_buf_printf(b, "\\u{%x}", *p);
            else
                rh_buf_putc(b, (char)*p);
        }
    }
    rh_buf_putc(b, '"');
}

/* `name: Some("value")` or `name: None`, as #[derive(Debug)] prints an Option<String>. */
static void debug_opt(rh_buf *b, const char *name, const char *value)
{
    rh_buf_printf(b, ", %s: ", name);
    if (!value) {
        rh_buf_puts(b, "None");
        return;
    }
    rh_buf_puts(b, "Some(");
    debug_str(b, value);
    rh_buf_putc(b, ')');
}

/* tokio-postgres's Severity enum name for the non-localized severity. */
static const char *parsed_severity(const char *v)
{
    static const struct { const char *pg, *rust; } map[] = {
        {"PANIC", "Panic"}, {"FATAL", "Fatal"}, {"ERROR", "Error"}, {"WARNING", "Warning"},
        {"NOTICE", "Notice"}, {"DEBUG", "Debug"}, {"INFO", "Info"}, {"LOG", "Log"},
    };
    for (size_t i = 0; v && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(v, map[i].pg) == 0)
            return map[i].rust;
    return NULL;
}

/* Fill f from an error result: the fields Prisma's P3018 shows, in its formats. */
static void failure_from_result(PGconn *conn, const PGresult *r, rh_exec_failure *f)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!state || PQstatus(conn) == CONNECTION_BAD) {
        f->connection_lost = PQstatus(conn) == CONNECTION_BAD;
        const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(conn);
        if (!m || !*m)
            m = PQerrorMessage(conn);
        f->message = rh_xstrdup(m);
        size_t n = strlen(f->message);
        while (n > 0 && (f->message[n - 1] == '\n' || f->message[n - 1] == ' '))
            f->message[--n] = '\0';
        f->display = rh_xstrdup(f->message);
        f->debug = rh_xstrdup("");
        if (state)
            snprintf(f->sqlstate, sizeof f->sqlstate, "%s", state);
        return;
    }
    snprintf(f->sqlstate, sizeof f->sqlstate, "%s", state);
    const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY);
    const char *sev_nl = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
    f->message = rh_xstrdup(msg ? msg : "");

    rh_buf d;
    rh_buf_init(&d);
    rh_buf_printf(&d, "%s: %s", sev ? sev : "ERROR", msg ? msg : "");
    if (detail)
        rh_buf_printf(&d, "\nDETAIL: %s", detail);
    if (hint)
        rh_buf_printf(&d, "\nHINT: %s", hint);
    f->display = rh_buf_steal(&d);

    rh_buf b;
    rh_buf_init(&b);
    rh_buf_puts(&b, "DbError { severity: ");
    debug_str(&b, sev ? sev : "ERROR");
    const char *ps = parsed_severity(sev_nl);
    rh_buf_printf(&b, ", parsed_severity: %s%s%s", ps ? "Some(" : "None", ps ? ps : "", ps ? ")" : "");
    rh_buf_printf(&b, ", code: SqlState(E%s), message: ", state);
    debug_str(&b, msg ? msg : "");
    debug_opt(&b, "detail", detail);
    debug_opt(&b, "hint", hint);
    const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
    const char *ipos = PQresultErrorField(r, PG_DIAG_INTERNAL_POSITION);
    const char *iq = PQresultErrorField(r, PG_DIAG_INTERNAL_QUERY);
    if (pos) {
        rh_buf_printf(&b, ", position: Some(Original(%s))", pos);
    } else if (ipos) {
        rh_buf_printf(&b, ", position: Some(Internal { position: %s, query: ", ipos);
        debug_str(&b, iq ? iq : "");
        rh_buf_puts(&b, " })");
    } else {
        rh_buf_puts(&b, ", position: None");
    }
    debug_opt(&b, "where_", PQresultErrorField(r, PG_DIAG_CONTEXT));
    debug_opt(&b, "schema", PQresultErrorField(r, PG_DIAG_SCHEMA_NAME));
    debug_opt(&b, "table", PQresultErrorField(r, PG_DIAG_TABLE_NAME));
    debug_opt(&b, "column", PQresultErrorField(r, PG_DIAG_COLUMN_NAME));
    debug_opt(&b, "datatype", PQresultErrorField(r, PG_DIAG_DATATYPE_NAME));
    debug_opt(&b, "constraint", PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME));
    debug_opt(&b, "file", PQresultErrorField(r, PG_DIAG_SOURCE_FILE));
    const char *line = PQresultErrorField(r, PG_DIAG_SOURCE_LINE);
    if (line)
        rh_buf_printf(&b, ", line: Some(%s)", line);
    else
        rh_buf_puts(&b, ", line: None");
    debug_opt(&b, "routine", PQresultErrorField(r, PG_DIAG_SOURCE_FUNCTION));
    rh_buf_puts(&b, " }");
    f->debug = rh_buf_steal(&b);
}

/* Drop the notifications libpq holds for this session: rehearse never reads them. */
static void drop_notifies(PGconn *conn)
{
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL)
        PQfreemem(n);
}

/*
 * The next result, dropping notifications as they are read: a migration that LISTENs and then sends
 * pg_notify() a million times gets every one back before its query ends, and libpq would keep them all
 * (they arrive before the end of the query, so dropping them after PQgetResult would be too late).
 */
static PGresult *next_result(PGconn *conn)
{
    while (PQisBusy(conn)) {
        drop_notifies(conn);
        struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
        if (pfd.fd < 0 || (poll(&pfd, 1, -1) < 0 && errno != EINTR) || !PQconsumeInput(conn))
            break; /* PQgetResult reports the broken connection */
    }
    drop_notifies(conn);
    return PQgetResult(conn);
}

/*
 * One simple-query message; every result is drained; the first error is the failure. Rows come one at
 * a time and are dropped (single-row mode): a migration's SELECT of 10 GB (`SELECT repeat('x', 1e8)
 * FROM generate_series(1, 100)`) must not be held whole in rehearse's memory, as libpq holds a result
 * until it is complete. The server sends the same either way.
 */
static int exec_simple(PGconn *conn, const char *sql, rh_exec_failure *f)
{
    if (!PQsendQuery(conn, sql)) {
        failure_from_result(conn, NULL, f);
        return 1;
    }
    (void)PQsetSingleRowMode(conn); /* 0 only when too late: then libpq keeps the results whole, as before */
    int failed = 0;
    PGresult *r;
    while ((r = next_result(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (!failed && (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE || st == PGRES_NONFATAL_ERROR)) {
            failure_from_result(conn, r, f);
            failed = 1;
        } else if (st == PGRES_COPY_IN) {
            /* A script that starts COPY FROM STDIN: Prisma has no data to send either. */
            PQputCopyEnd(conn, "COPY FROM STDIN is not supported in a migration script");
        } else if (st == PGRES_COPY_OUT) {
            char *buf;
            while (PQgetCopyData(conn, &buf, 0) > 0)
                PQfreemem(buf);
        }
        PQclear(r);
        if (PQstatus(conn) == CONNECTION_BAD)
            break;
    }
    if (!failed && PQstatus(conn) == CONNECTION_BAD) {
        failure_from_result(conn, NULL, f);
        failed = 1;
    }
    return failed;
}

/* Prisma shows no server notices (NOTICE: ... already exists, skipping); neither do we. */
static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static int exec_script(PGconn *conn, const rh_profile *profile, const char *sql, size_t len, rh_exec_failure *f);

/*
 * After a failed script, give the ledger write a session outside any transaction block, as
 * Prisma's does: a statement that fails after the file's own BEGIN leaves the session in an
 * aborted block (the rest of the message, its COMMIT included, is skipped), where every query
 * fails with 25P02. Prisma 6.19.3 (observed with the oracle, server log) drops that connection and
 * writes the failure into `logs` on a new one, so the server rolls the block back: ROLLBACK does
 * the same to the database. A script that fails leaves nothing of an open block committed either way.
 */
static void end_failed_block(PGconn *conn)
{
    if (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) == PQTRANS_IDLE)
        return;
    PQclear(PQexec(conn, "ROLLBACK"));
    assert(PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) == PQTRANS_IDLE);
}

int rh_exec_script(PGconn *conn, const rh_profile *profile, const char *sql, size_t len, rh_exec_failure *f)
{
    /* libpq cannot tell us the previous processor's argument: it is restored with NULL (fine for
       libpq's default processor; documented in prisma.h). */
    PQnoticeProcessor prev = PQsetNoticeProcessor(conn, drop_notice, NULL);
    int rc = exec_script(conn, profile, sql, len, f);
    if (rc != 0)
        end_failed_block(conn);
    PQsetNoticeProcessor(conn, prev, NULL);
    return rc;
}

/*
 * A script holding a NUL byte cannot go out as libpq's C string: it would end at the NUL and the rest
 * of the file would be dropped unseen. Prisma sends every byte; the server then refuses the message
 * (oracle 6.19.3: "ERROR: invalid message format", 08P01, a failed ledger row; the native engine's
 * tokio-postgres refuses such a string before sending it). Fail the script as the server does, with
 * the fields PostgreSQL 15 reports (pq_getmsgend in pqformat.c).
 */
static void nul_byte_failure(rh_exec_failure *f)
{
    snprintf(f->sqlstate, sizeof f->sqlstate, "08P01");
    f->message = rh_xstrdup("invalid message format");
    f->display = rh_xstrdup("ERROR: invalid message format");
    f->debug = rh_xstrdup("DbError { severity: \"ERROR\", parsed_severity: Some(Error), code: SqlState(E08P01), "
                          "message: \"invalid message format\", detail: None, hint: None, position: None, where_: None, "
                          "schema: None, table: None, column: None, datatype: None, constraint: None, "
                          "file: Some(\"pqformat.c\"), line: Some(640), routine: Some(\"pq_getmsgend\") }");
}

static int exec_script(PGconn *conn, const rh_profile *profile, const char *sql, size_t len, rh_exec_failure *f)
{
    memset(f, 0, sizeof *f);
    if (memchr(sql, '\0', len)) {
        nul_byte_failure(f);
        return 1;
    }
    if (profile && profile->exec == RH_EXEC_SPLIT_STATEMENTS) {
        /* Prisma >= 7.4 (prisma-engines PR #5767): statement by statement, each in autocommit, when
           sqlparser 0.61 parses the whole file; else the whole file as one query. */
        rh_split_decision d;
        rh_sqlparser_decide(sql, len, &d);
        rh_split s;
        rh_err perr;
        rh_err_clear(&perr);
        if (d.split && rh_sql_split(&s, sql, len, &perr) == 0) {
            int rc = 0;
            for (size_t i = 0; i < s.n && rc == 0; i++)
                rc = exec_simple(conn, s.items[i].text, f);
            rh_split_free(&s);
            return rc;
        }
    }
    return exec_simple(conn, sql, f);
}

/* Milliseconds on a monotonic clock. */
static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int rh_exec_advisory_lock(PGconn *conn, int timeout_ms, const rh_engine_opts *opts, long *skipped_ms, rh_err *err)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%d)", RH_PRISMA_ADVISORY_LOCK_KEY);
    *skipped_ms = 0;
    if (!PQsendQuery(conn, sql))
        return rh_prisma_pg_error(conn, NULL, err, "taking Prisma's advisory lock");
    long deadline = now_ms() + timeout_ms;
    int timed_out = 0;
    int ask = opts && opts->lock_wait; /* the caller may prove the outcome before the limit */
    int round = 0;
    while (PQisBusy(conn)) {
        long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        if (ask && round > 0) {
            int d = opts->lock_wait(opts->lock_wait_data, PQbackendPID(conn));
            if (d > 0) {
                timed_out = 1;
                *skipped_ms = left;
                break;
            }
            ask = d == 0;
        }
        /* asking: short rounds at first (a lock request reaches the server's lock table in a moment) */
        long slice = ask ? (round < 10 ? 2 : 20) : 100;
        round++;
        struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(left > slice ? slice : left));
        if (pr < 0 && errno != EINTR)
            return rh_err_errno(err, "waiting for Prisma's advisory lock");
        if (!PQconsumeInput(conn))
            return rh_prisma_pg_error(conn, NULL, err, "waiting for Prisma's advisory lock");
    }
    if (timed_out) {
        PGcancel *c = PQgetCancel(conn);
        char ebuf[256];
        if (c) {
            PQcancel(c, ebuf, sizeof ebuf);
            PQfreeCancel(c);
        }
    }
    int failed = 0, got = 0;
    PGresult *r;
    rh_err_clear(err);
    while ((r = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            got = 1;
        } else if (!failed && !timed_out) {
            rh_prisma_pg_error(conn, r, err, "taking Prisma's advisory lock");
            failed = 1;
            continue;
        }
        PQclear(r);
    }
    if (failed)
        return -1;
    if (timed_out && got) /* granted just as the cancel went out: Prisma had given up; let it go */
        rh_exec_advisory_unlock(conn);
    return timed_out ? 1 : 0;
}

void rh_exec_advisory_unlock(PGconn *conn)
{
    if (PQstatus(conn) != CONNECTION_OK)
        return;
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%d)", RH_PRISMA_ADVISORY_LOCK_KEY);
    PQclear(PQexec(conn, sql));
}
