/* plan.c — the common model of how a tool sends a migration file: PostgreSQL's part (see plan.h). */
#include "migrations/plan.h"

#include <stdio.h>
#include <string.h>

#include "migrations/split.h"
#include "migrations/txblock.h"

void rh_plan_count(const char *sql, size_t len, rh_plan *out)
{
    memset(out, 0, sizeof *out);
    rh_split s;
    rh_err err;
    rh_err_clear(&err);
    if (rh_sql_split(&s, sql, len, &err) == 0) {
        out->n_stmts = s.n;
        for (size_t i = 0; i < s.n; i++)
            out->n_concurrently += (size_t)rh_txblock_refused(s.items[i].text);
        rh_split_free(&s);
    } else {
        snprintf(out->rejected, sizeof out->rejected, "%.*s", (int)sizeof out->rejected - 1, err.msg);
    }
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
