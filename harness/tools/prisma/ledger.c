/*
 * ledger.c — reads and writes Prisma's `_prisma_migrations` table with the statements and row
 * states of prisma-engines (sql-schema-connector: postgres flavour create_migrations_table and
 * sql_migration_persistence). Every write is its own autocommit statement, as in Prisma.
 * Timestamps come from the server's clock; ids are UUID v4 from libcrypto's RNG.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/prisma/prisma_int.h"

/* The DDL of PRISMA_MIGRATE.md §1, byte for byte what Prisma sends. */
static const char LEDGER_DDL[] =
    "CREATE TABLE _prisma_migrations (\n"
    "    id                  VARCHAR(36) PRIMARY KEY NOT NULL,\n"
    "    checksum            VARCHAR(64) NOT NULL,\n"
    "    finished_at         TIMESTAMPTZ,\n"
    "    migration_name      VARCHAR(255) NOT NULL,\n"
    "    logs                TEXT,\n"
    "    rolled_back_at      TIMESTAMPTZ,\n"
    "    started_at          TIMESTAMPTZ NOT NULL DEFAULT now(),\n"
    "    applied_steps_count INTEGER NOT NULL DEFAULT 0\n"
    ");";

/* The columns Prisma reads and writes, with the types its DDL gives them. */
static const struct {
    const char *name;
    const char *type;
} LEDGER_COLUMNS[] = {
    {"id", "character varying(36)"},
    {"checksum", "character varying(64)"},
    {"finished_at", "timestamp with time zone"},
    {"migration_name", "character varying(255)"},
    {"logs", "text"},
    {"rolled_back_at", "timestamp with time zone"},
    {"started_at", "timestamp with time zone"},
    {"applied_steps_count", "integer"},
};

/* Fill err from a failed result, naming what we were doing; clears the result. */
int rh_prisma_pg_error(PGconn *conn, PGresult *r, rh_err *err, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorMessage(r) : NULL;
    if (!msg || !*msg)
        msg = PQerrorMessage(conn);
    rh_err_set(err, "%s: %s%s%s", what, state ? "SQLSTATE " : "", state ? state : "", state ? ": " : "");
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof err->msg - len, "%s", msg);
    len = strlen(err->msg);
    while (len > 0 && err->msg[len - 1] == '\n')
        err->msg[--len] = '\0';
    if (state)
        rh_err_code(err, state);
    PQclear(r);
    return -1;
}

/* Run a statement that returns no rows (parameters optional). */
static int exec_params(PGconn *conn, const char *sql, int n, const char *const *params, rh_err *err,
                       const char *what)
{
    PGresult *r = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return rh_prisma_pg_error(conn, r, err, what);
    PQclear(r);
    return 0;
}

/* Resolve the table through the search_path as Prisma's unqualified name does; check its columns. */
int rh_prisma_ledger_exists(PGconn *conn, int *exists, rh_err *err)
{
    *exists = 0;
    PGresult *r = PQexec(conn,
                         "SELECT a.attname, format_type(a.atttypid, a.atttypmod), n.nspname"
                         "  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                         "  JOIN pg_namespace n ON n.oid = c.relnamespace"
                         " WHERE a.attrelid = to_regclass('_prisma_migrations')"
                         "   AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return rh_prisma_pg_error(conn, r, err, "looking for the ledger table _prisma_migrations");
    int n = PQntuples(r);
    if (n == 0) {
        PQclear(r);
        return 0;
    }
    *exists = 1;
    for (size_t i = 0; i < sizeof LEDGER_COLUMNS / sizeof LEDGER_COLUMNS[0]; i++) {
        int found = 0;
        for (int row = 0; row < n; row++) {
            if (strcmp(PQgetvalue(r, row, 0), LEDGER_COLUMNS[i].name) != 0)
                continue;
            found = 1;
            if (strcmp(PQgetvalue(r, row, 1), LEDGER_COLUMNS[i].type) != 0) {
                rh_err_set(err,
                           "the ledger table %s._prisma_migrations has column %s of type %s; Prisma's "
                           "ledger has %s (this is not a table Prisma Migrate created)",
                           PQgetvalue(r, row, 2), LEDGER_COLUMNS[i].name, PQgetvalue(r, row, 1),
                           LEDGER_COLUMNS[i].type);
                PQclear(r);
                return -1;
            }
        }
        if (!found) {
            rh_err_set(err,
                       "the ledger table %s._prisma_migrations has no column %s (expected %s); this is "
                       "not a table Prisma Migrate created",
                       PQgetvalue(r, 0, 2), LEDGER_COLUMNS[i].name, LEDGER_COLUMNS[i].type);
            PQclear(r);
            return -1;
        }
    }
    PQclear(r);
    return 0;
}

/* Prisma's P3005 test: is there any table in the schema the ledger would be created in? */
int rh_prisma_ledger_schema_has_tables(PGconn *conn, int *has, rh_err *err)
{
    PGresult *r = PQexec(conn, "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = "
                               "c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN "
                               "('r', 'p'))");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return rh_prisma_pg_error(conn, r, err, "checking whether the database schema is empty");
    *has = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return 0;
}

/* Create the ledger with Prisma's DDL. */
int rh_prisma_ledger_create(PGconn *conn, rh_err *err)
{
    PGresult *r = PQexec(conn, LEDGER_DDL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return rh_prisma_pg_error(conn, r, err, "creating the ledger table _prisma_migrations");
    PQclear(r);
    return 0;
}

/* Format a timestamp as chrono's Display does: fraction only as long as needed (0, 3 or 6 digits). */
static void format_started_at(char out[40], const char *base, const char *us_text)
{
    long us = strtol(us_text, NULL, 10);
    if (us == 0)
        snprintf(out, 40, "%s UTC", base);
    else if (us % 1000 == 0)
        snprintf(out, 40, "%s.%03ld UTC", base, us / 1000);
    else
        snprintf(out, 40, "%s.%06ld UTC", base, us);
}

/* Load every row in Prisma's order (started_at ascending). */
int rh_prisma_ledger_load(PGconn *conn, rh_ledger *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    PGresult *r = PQexec(conn, "SELECT id, checksum, migration_name, logs, finished_at IS NOT NULL,"
                               " rolled_back_at IS NOT NULL, applied_steps_count,"
                               " to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
                               " to_char(started_at AT TIME ZONE 'UTC', 'US'),"
                               " extract(epoch FROM finished_at - started_at) * 1000"
                               " FROM _prisma_migrations ORDER BY started_at ASC");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return rh_prisma_pg_error(conn, r, err, "reading the ledger table _prisma_migrations");
    size_t n = (size_t)PQntuples(r);
    out->rows = rh_xcalloc(n ? n : 1, sizeof *out->rows);
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        rh_ledger_row *row = &out->rows[i];
        int ri = (int)i;
        row->id = rh_xstrdup(PQgetvalue(r, ri, 0));
        row->checksum = rh_xstrdup(PQgetvalue(r, ri, 1));
        row->migration_name = rh_xstrdup(PQgetvalue(r, ri, 2));
        row->logs = PQgetisnull(r, ri, 3) ? NULL : rh_xstrdup(PQgetvalue(r, ri, 3));
        row->finished = strcmp(PQgetvalue(r, ri, 4), "t") == 0;
        row->rolled_back = strcmp(PQgetvalue(r, ri, 5), "t") == 0;
        row->applied_steps_count = atoi(PQgetvalue(r, ri, 6));
        format_started_at(row->started_at_text, PQgetvalue(r, ri, 7), PQgetvalue(r, ri, 8));
        row->ms = PQgetisnull(r, ri, 9) ? -1 : atof(PQgetvalue(r, ri, 9));
    }
    PQclear(r);
    return 0;
}

/* Prisma's ids are uuid::Uuid::new_v4(): 122 random bits, version 4, RFC 4122 variant. */
int rh_prisma_ledger_new_id(char out[37], rh_err *err)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return rh_err_set(err, "could not get random bytes for a migration id (libcrypto RAND_bytes)");
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

/* record_migration_started: the row exists from the moment the script is about to be sent. */
int rh_prisma_ledger_record_started(PGconn *conn, const char *id, const char *name, const char *checksum,
                             rh_err *err)
{
    const char *p[3] = {id, checksum, name};
    return exec_params(conn,
                       "INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name)"
                       " VALUES ($1, $2, clock_timestamp(), $3)",
                       3, p, err, "recording the start of a migration in _prisma_migrations");
}

/* record_successful_step: applied_steps_count + 1 (one step per script). */
int rh_prisma_ledger_record_step(PGconn *conn, const char *id, rh_err *err)
{
    const char *p[1] = {id};
    return exec_params(conn,
                       "UPDATE _prisma_migrations SET applied_steps_count = applied_steps_count + 1"
                       " WHERE id = $1",
                       1, p, err, "recording a successful step in _prisma_migrations");
}

/* record_migration_finished: finished_at = now. */
int rh_prisma_ledger_record_finished(PGconn *conn, const char *id, rh_err *err)
{
    const char *p[1] = {id};
    return exec_params(conn, "UPDATE _prisma_migrations SET finished_at = clock_timestamp() WHERE id = $1",
                       1, p, err, "recording a finished migration in _prisma_migrations");
}

/* record_failed_step: the error text goes into logs; finished_at stays NULL. */
int rh_prisma_ledger_record_failed(PGconn *conn, const char *id, const char *logs, rh_err *err)
{
    const char *p[2] = {logs, id};
    return exec_params(conn, "UPDATE _prisma_migrations SET logs = $1 WHERE id = $2", 2, p, err,
                       "recording a failed migration in _prisma_migrations");
}

/* mark_migration_rolled_back_by_id. */
int rh_prisma_ledger_mark_rolled_back(PGconn *conn, const char *id, rh_err *err)
{
    const char *p[1] = {id};
    return exec_params(conn,
                       "UPDATE _prisma_migrations SET rolled_back_at = clock_timestamp() WHERE id = $1", 1,
                       p, err, "marking a migration rolled back in _prisma_migrations");
}

/* mark_migration_applied: one timestamp for started_at and finished_at, logs '', no steps. */
int rh_prisma_ledger_insert_applied(PGconn *conn, const char *id, const char *name, const char *checksum,
                             rh_err *err)
{
    const char *p[3] = {id, checksum, name};
    return exec_params(conn,
                       "WITH t AS (SELECT clock_timestamp() AS ts)"
                       " INSERT INTO _prisma_migrations (id, checksum, started_at, finished_at,"
                       " migration_name, logs, applied_steps_count)"
                       " SELECT $1, $2, t.ts, t.ts, $3, '', 0 FROM t",
                       3, p, err, "recording a migration as applied in _prisma_migrations");
}

/*
 * record_successful_step then record_migration_finished, still two statements each in its own
 * transaction (a Sync after each), but sent in one libpq pipeline to save a round trip per migration.
 */
int rh_prisma_ledger_record_success(PGconn *conn, const char *id, rh_err *err)
{
    const char *p[1] = {id};
    if (!PQenterPipelineMode(conn))
        return rh_prisma_ledger_record_step(conn, id, err) || rh_prisma_ledger_record_finished(conn, id, err) ? -1 : 0;
    static const char *const sql[2] = {
        "UPDATE _prisma_migrations SET applied_steps_count = applied_steps_count + 1 WHERE id = $1",
        "UPDATE _prisma_migrations SET finished_at = clock_timestamp() WHERE id = $1"};
    int rc = 0, sent = 0;
    for (int i = 0; i < 2; i++) {
        if (!PQsendQueryParams(conn, sql[i], 1, NULL, p, NULL, NULL, 0) || !PQpipelineSync(conn)) {
            rc = rh_prisma_pg_error(conn, NULL, err, "recording a finished migration in _prisma_migrations");
            break;
        }
        sent++;
    }
    /* each statement: its result, NULL, then the sync's PGRES_PIPELINE_SYNC */
    for (int synced = 0; synced < sent && PQstatus(conn) != CONNECTION_BAD;) {
        PGresult *r = PQgetResult(conn);
        if (!r)
            continue; /* the end of one statement's results; its sync follows */
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            synced++;
        } else if (st != PGRES_COMMAND_OK && rc == 0) {
            rc = rh_prisma_pg_error(conn, r, err, "recording a finished migration in _prisma_migrations");
            continue;
        }
        PQclear(r);
    }
    PQexitPipelineMode(conn);
    return rc;
}

const char *const rh_prisma_ledger_columns[] = {"id",          "checksum", "started_at",          "finished_at",
                                                "rolled_back_at", "migration_name", "logs", "applied_steps_count",
                                                NULL};

/* One row of `restore ledger`, values in rh_prisma_ledger_columns' order: a missing id is a new one, a
   missing or "=" checksum the file's at the current checkout, started_at now, applied_steps_count 1
   when finished (else 0). */
int rh_prisma_ledger_insert_row(PGconn *conn, const char *const *values, const rh_migset *(*current_set)(void *data),
                         void *data, rh_err *err)
{
    enum { ID, CHECKSUM, STARTED, FINISHED, ROLLED_BACK, NAME, LOGS, STEPS };
    char id[37], sum[65];
    const char *id_v = values[ID], *sum_v = values[CHECKSUM];
    if (!id_v) {
        if (rh_prisma_ledger_new_id(id, err) < 0)
            return -1;
        id_v = id;
    }
    if (!sum_v || strcmp(sum_v, "=") == 0) {
        const rh_migset *set = current_set(data);
        const rh_migration *m = set ? rh_migset_find(set, values[NAME] ? values[NAME] : "") : NULL;
        if (!m || !m->sql)
            return rh_err_set(err, "checksum '=' but migration '%s' has no migration.sql at the current checkout",
                              values[NAME] ? values[NAME] : "");
        rh_checksum_hex(m->sql, m->sql_len, sum);
        sum_v = sum;
    }
    const char *steps = values[STEPS] ? values[STEPS] : (values[FINISHED] ? "1" : "0");
    const char *params[8] = {id_v, sum_v, values[FINISHED], values[NAME], values[LOGS], values[ROLLED_BACK],
                             values[STARTED], steps};
    PGresult *r = PQexecParams(conn,
                               "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, "
                               "rolled_back_at, started_at, applied_steps_count) VALUES ($1, $2, $3, $4, $5, $6, "
                               "coalesce($7::timestamptz, now()), $8)",
                               8, NULL, params, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        rc = rh_err_set(err, "%s", m ? m : PQresultErrorMessage(r));
    }
    PQclear(r);
    return rc;
}
