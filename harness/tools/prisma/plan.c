/*
 * plan.c — how a Prisma version sends one migration file (rh_tool.plan_file): every version before
 * 7.4 sends it whole, as one simple query; the split-statements profile (>= 7.4) sends it statement
 * by statement in autocommit when sqlparser 0.61 parses the whole file, else whole
 * (sqlparser_model.h), as exec.c does.
 */
#include <string.h>

#include "migrations/plan.h"
#include "report/plan.h"
#include "tools/prisma/prisma.h"
#include "tools/prisma/sqlparser_model.h"

int rh_prisma_plan_file(const rh_migration *m, const rh_profile *profile, rh_plan *out, rh_buf *lines)
{
    const char *sql = m->sql ? m->sql : "";
    size_t len = m->sql ? m->sql_len : 0;
    rh_plan_count(sql, len, out);
    out->mode = RH_SEND_WHOLE;
    if (profile && profile->exec == RH_EXEC_SPLIT_STATEMENTS) {
        rh_split_decision d;
        rh_sqlparser_decide(sql, len, &d);
        if (d.split && out->rejected[0]) {
            /* sqlparser parses it, PostgreSQL's parser cannot cut it (COPY ... FROM STDIN with its data):
               exec.c sends it whole, and the server rejects it */
        } else if (d.split) {
            out->mode = RH_SEND_STATEMENTS;
            out->n_parts = d.n_stmts;
        } else {
            out->mode = RH_SEND_WHOLE_FALLBACK;
            out->fallback_line = d.line;
            memcpy(out->fallback_reason, d.reason, sizeof out->fallback_reason);
        }
    }
    out->atomic = out->mode != RH_SEND_STATEMENTS || out->n_stmts <= 1;
    out->concurrently_fails = out->mode != RH_SEND_STATEMENTS && out->n_concurrently > 0 && out->n_stmts > 1;
    if (lines) {
        rh_buf_printf(lines, "%s: ", m->name);
        rh_report_plan_mode(out, lines);
        rh_buf_puts(lines, "\n");
        if (out->concurrently_fails)
            rh_buf_printf(lines, "%s: fails with 25001: CONCURRENTLY inside the implicit transaction\n", m->name);
    }
    return out->concurrently_fails;
}
