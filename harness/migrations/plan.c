/* plan.c — how a Prisma version sends one migration file (see plan.h). */
#include "migrations/plan.h"

#include <string.h>

#include "migrations/split.h"
#include "migrations/sqlparser_model.h"

/* Statements PostgreSQL refuses inside a transaction block (25001), by their leading keywords. */
static int needs_autocommit(const char *text)
{
    char kw[128];
    rh_stmt_keywords(text, 6, kw, sizeof kw);
    static const char *const heads[] = {"CREATE INDEX CONCURRENTLY", "CREATE UNIQUE INDEX CONCURRENTLY",
        "DROP INDEX CONCURRENTLY", "REINDEX INDEX CONCURRENTLY", "REINDEX TABLE CONCURRENTLY",
        "REINDEX SCHEMA CONCURRENTLY", "REINDEX DATABASE CONCURRENTLY", "VACUUM", "CREATE DATABASE", "DROP DATABASE",
        "ALTER SYSTEM", "CREATE TABLESPACE", "DROP TABLESPACE"};
    for (size_t i = 0; i < sizeof heads / sizeof *heads; i++)
        if (strncmp(kw, heads[i], strlen(heads[i])) == 0 &&
            (kw[strlen(heads[i])] == '\0' || kw[strlen(heads[i])] == ' '))
            return 1;
    return strstr(kw, "DETACH PARTITION") && strstr(text, "CONCURRENTLY");
}

void rh_plan_file(const rh_profile *profile, const char *sql, size_t len, rh_plan *out)
{
    memset(out, 0, sizeof *out);
    rh_split s;
    rh_err err;
    rh_err_clear(&err);
    if (rh_sql_split(&s, sql, len, &err) == 0) {
        out->n_stmts = s.n;
        for (size_t i = 0; i < s.n; i++)
            out->n_concurrently += (size_t)needs_autocommit(s.items[i].text);
        rh_split_free(&s);
    }
    out->mode = RH_SEND_WHOLE;
    if (profile && profile->exec == RH_EXEC_SPLIT_STATEMENTS) {
        rh_split_decision d;
        rh_sqlparser_decide(sql, len, &d);
        if (d.split) {
            out->mode = RH_SEND_STATEMENTS;
        } else {
            out->mode = RH_SEND_WHOLE_FALLBACK;
            out->fallback_line = d.line;
            memcpy(out->fallback_reason, d.reason, sizeof out->fallback_reason);
        }
    }
    out->atomic = out->mode != RH_SEND_STATEMENTS || out->n_stmts <= 1;
    out->concurrently_fails = out->mode != RH_SEND_STATEMENTS && out->n_concurrently > 0 && out->n_stmts > 1;
}

const char *rh_send_mode_name(rh_send_mode mode)
{
    switch (mode) {
    case RH_SEND_WHOLE: return "whole";
    case RH_SEND_STATEMENTS: return "statements";
    case RH_SEND_WHOLE_FALLBACK: return "whole-fallback";
    }
    return "?";
}
