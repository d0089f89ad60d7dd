/*
 * query.c — query expectations against a live connection: a result equals a value, a statement
 * returns N rows, or it fails with a given SQLSTATE.
 */
#include "catalog/assert.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name, *code;
} conditions[] = {
    {"unique_violation", "23505"},       {"foreign_key_violation", "23503"},
    {"not_null_violation", "23502"},     {"check_violation", "23514"},
    {"exclusion_violation", "23P01"},    {"restrict_violation", "23001"},
    {"undefined_table", "42P01"},        {"undefined_column", "42703"},
    {"undefined_function", "42883"},     {"undefined_object", "42704"},
    {"duplicate_table", "42P07"},        {"duplicate_column", "42701"},
    {"duplicate_object", "42710"},       {"syntax_error", "42601"},
    {"insufficient_privilege", "42501"}, {"active_sql_transaction", "25001"},
    {"lock_not_available", "55P03"},     {"query_canceled", "57014"},
    {"deadlock_detected", "40P01"},      {"serialization_failure", "40001"},
    {"invalid_text_representation", "22P02"}, {"numeric_value_out_of_range", "22003"},
    {"string_data_right_truncation", "22001"}, {"division_by_zero", "22012"},
    {"object_in_use", "55006"},          {"feature_not_supported", "0A000"},
    {"datatype_mismatch", "42804"},      {"invalid_table_definition", "42P16"},
    {"dependent_objects_still_exist", "2BP01"}, {"raise_exception", "P0001"},
};

const char *rh_catalog_sqlstate_for(const char *name)
{
    for (size_t i = 0; i < sizeof conditions / sizeof conditions[0]; i++)
        if (strcmp(name, conditions[i].name) == 0)
            return conditions[i].code;
    return NULL;
}

static const char *condition_name(const char *code)
{
    for (size_t i = 0; code && i < sizeof conditions / sizeof conditions[0]; i++)
        if (strcmp(code, conditions[i].code) == 0)
            return conditions[i].name;
    return NULL;
}

/* The result as text: one cell as itself, several as "a|b" rows joined by newlines; NULL as "null". */
static void render(const PGresult *r, rh_buf *out)
{
    int nr = PQntuples(r), nf = PQnfields(r);
    for (int i = 0; i < nr; i++) {
        if (i)
            rh_buf_putc(out, '\n');
        for (int j = 0; j < nf; j++) {
            if (j)
                rh_buf_putc(out, '|');
            rh_buf_puts(out, PQgetisnull(r, i, j) ? "null" : PQgetvalue(r, i, j));
        }
    }
}

static void put_sql_head(rh_buf *m, const char *sql, const char *what)
{
    if (m)
        rh_buf_printf(m, "expected query `%s` %s\n", sql, what);
}

static int finish_tx(PGconn *conn, int savepoint, int failed)
{
    if (!savepoint)
        return 0;
    PGresult *r = PQexec(conn, failed ? "ROLLBACK TO SAVEPOINT rh_expect_query; RELEASE SAVEPOINT rh_expect_query"
                                      : "RELEASE SAVEPOINT rh_expect_query");
    PQclear(r);
    return 0;
}

int rh_catalog_check_query(PGconn *conn, const char *sql, rh_catalog_query_kind kind, const char *value,
                           rh_buf *m)
{
    if (!value && kind != RH_CATQ_EQUALS) {
        if (m)
            rh_buf_puts(m, "query expectation without a value\n");
        return RH_CATALOG_CHECK_ERROR;
    }
    const char *want_state = NULL;
    char *endp = NULL;
    long want_rows = 0;
    if (kind == RH_CATQ_RAISES) {
        want_state = rh_catalog_sqlstate_for(value);
        if (!want_state)
            want_state = value;
        if (strlen(want_state) != 5) {
            if (m)
                rh_buf_printf(m, "`%s` is neither a SQLSTATE (five characters, e.g. 23505) nor a known condition "
                                 "name (e.g. unique_violation)\n", value);
            return RH_CATALOG_CHECK_ERROR;
        }
    } else if (kind == RH_CATQ_ROWS) {
        want_rows = strtol(value, &endp, 10);
        if (endp == value || *endp || want_rows < 0) {
            if (m)
                rh_buf_printf(m, "`%s` is not a row count\n", value);
            return RH_CATALOG_CHECK_ERROR;
        }
    }
    int savepoint = PQtransactionStatus(conn) == PQTRANS_INTRANS;
    if (savepoint)
        PQclear(PQexec(conn, "SAVEPOINT rh_expect_query"));
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int failed = st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK;
    const char *state = failed ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    int rc = RH_CATALOG_CHECK_PASS;
    rh_buf what, actual;
    rh_buf_init(&what);
    rh_buf_init(&actual);
    if (kind == RH_CATQ_RAISES) {
        const char *cn = condition_name(want_state);
        rh_buf_printf(&what, "to fail with SQLSTATE %s%s%s%s", want_state, cn ? " (" : "", cn ? cn : "", cn ? ")" : "");
        if (!failed || !state || strcmp(state, want_state) != 0) {
            rc = RH_CATALOG_CHECK_FAIL;
            put_sql_head(m, sql, what.data);
            if (m && !failed) {
                render(r, &actual);
                rh_buf_printf(m, "  but it succeeded (%s%s%s)\n", PQcmdStatus(r), actual.len ? ", result: " : "",
                              actual.data);
            } else if (m) {
                const char *an = condition_name(state);
                rh_buf_printf(m, "  but it failed with SQLSTATE %s%s%s%s: %s", state ? state : "?", an ? " (" : "",
                              an ? an : "", an ? ")" : "", PQresultErrorMessage(r));
            }
        }
    } else if (failed) {
        rc = RH_CATALOG_CHECK_FAIL;
        if (kind == RH_CATQ_ROWS)
            rh_buf_printf(&what, "to return %ld row%s", want_rows, want_rows == 1 ? "" : "s");
        else
            rh_buf_printf(&what, "to return %s", value ? value : "null");
        put_sql_head(m, sql, what.data);
        if (m)
            rh_buf_printf(m, "  but it failed with SQLSTATE %s: %s", state ? state : "?", PQresultErrorMessage(r));
    } else if (kind == RH_CATQ_ROWS) {
        long got = st == PGRES_TUPLES_OK ? PQntuples(r) : strtol(PQcmdTuples(r), NULL, 10);
        if (got != want_rows) {
            rc = RH_CATALOG_CHECK_FAIL;
            rh_buf_printf(&what, "to return %ld row%s", want_rows, want_rows == 1 ? "" : "s");
            put_sql_head(m, sql, what.data);
            if (m)
                rh_buf_printf(m, "  actual: %ld row%s\n", got, got == 1 ? "" : "s");
        }
    } else {
        render(r, &actual);
        const char *want = value ? value : "null";
        if (strcmp(actual.data, want) != 0) {
            rc = RH_CATALOG_CHECK_FAIL;
            rh_buf_printf(&what, "= %s", want);
            put_sql_head(m, sql, what.data);
            if (m)
                rh_buf_printf(m, "  expected: %s\n  actual:   %s\n", want,
                              st == PGRES_COMMAND_OK ? "(no result set)" : PQntuples(r) ? actual.data : "(no rows)");
        }
    }
    PQclear(r);
    finish_tx(conn, savepoint, failed);
    rh_buf_free(&what);
    rh_buf_free(&actual);
    return rc;
}
