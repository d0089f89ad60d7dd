/*
 * check_markdown.c — a check result as a pull-request comment (see check_markdown.h).
 */
#include "report/check_markdown.h"

#include <assert.h>
#include <string.h>

#include "report/escape.h"
#include "tools/tool.h"

/* PostgreSQL's table lock modes, weakest first (the conflict table's order). */
static const char *const lock_modes[] = {
    "AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
    "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock",
};

static int lock_rank(const char *mode)
{
    for (size_t i = 0; i < sizeof lock_modes / sizeof *lock_modes; i++)
        if (strcmp(mode, lock_modes[i]) == 0)
            return (int)i;
    return -1;
}

const char *rh_report_trace_worst_lock(const rh_check_trace *t)
{
    const char *worst = NULL;
    for (size_t i = 0; i < t->n; i++)
        for (size_t k = 0; k < t->stmts[i].n_locks; k++) {
            const rh_check_lock *l = &t->stmts[i].locks[k];
            if (l->existed_before && (!worst || lock_rank(l->mode) > lock_rank(worst)))
                worst = l->mode;
        }
    return worst;
}

static int takes_lock(const rh_check_stmt *s, const char *mode)
{
    for (size_t k = 0; k < s->n_locks; k++)
        if (s->locks[k].existed_before && strcmp(s->locks[k].mode, mode) == 0)
            return 1;
    return 0;
}

double rh_report_trace_block_ms(const rh_check_trace *t)
{
    const char *worst = rh_report_trace_worst_lock(t);
    if (!worst)
        return -1;
    if (t->measured) { /* measuring mode timed each lock: the longest hold of that mode */
        double longest = -1;
        for (size_t i = 0; i < t->n; i++)
            for (size_t k = 0; k < t->stmts[i].n_locks; k++) {
                const rh_check_lock *l = &t->stmts[i].locks[k];
                if (l->existed_before && strcmp(l->mode, worst) == 0 && l->held_ms > longest)
                    longest = l->held_ms;
            }
        if (longest >= 0)
            return longest;
    }
    double held = 0;
    int holding = 0; /* the transaction holds it from the statement that took it until its end */
    for (size_t i = 0; i < t->n; i++) {
        const rh_check_stmt *s = &t->stmts[i];
        if (s->skipped)
            continue;
        if (s->outside_tx) {
            held += takes_lock(s, worst) ? s->ms : 0;
            continue;
        }
        holding |= takes_lock(s, worst);
        held += holding ? s->ms : 0;
    }
    return held;
}

static const rh_check_trace *trace_of(const rh_check_result *r, const char *migration)
{
    for (size_t i = 0; i < r->n_traces; i++)
        if (strcmp(r->traces[i].migration, migration) == 0)
            return &r->traces[i];
    return NULL;
}

/* How production runs the migration, as the tracer saw it (in the human report's words: rh_check_trace_runs). */
static const char *execution_mode(const rh_check_result *r, const rh_check_trace *t)
{
    if (!t)
        return r->locks_skipped ? "not traced (--no-locks)" : "not traced";
    if (t->parse_error)
        return "not split (parse error)";
    return rh_check_trace_runs(t);
}

static void finding_md(const rh_check_finding *f, rh_buf *out)
{
    static const char *const icons[] = {[RH_CHECK_NOTICE] = "ℹ️", [RH_CHECK_WARNING] = "⚠️", [RH_CHECK_ERROR] = "❌"};
    rh_buf_printf(out, "- %s **%s** ", icons[f->level], rh_check_level_name(f->level));
    if (f->file) {
        int line = f->line ? f->line : 1;
        rh_buf_puts(out, "[");
        rh_report_markdown_text(out, f->file);
        rh_buf_printf(out, ":%d](", line);
        rh_report_uri_path(out, f->file);
        rh_buf_printf(out, "#L%d) ", line);
    }
    rh_buf_printf(out, "`(%c) ", f->step);
    rh_report_uri_path(out, f->code); /* a code is [a-z-]: the same bytes, and no backtick */
    rh_buf_puts(out, "` ");
    rh_report_markdown_text(out, f->message);
    rh_buf_putc(out, '\n');
    if (f->detail) {
        rh_buf_puts(out, "  <details><summary>details</summary>\n\n");
        rh_report_markdown_code(out, f->detail);
        rh_buf_puts(out, "\n  </details>\n");
    }
}

/* The room kept free for the line saying what was cut and the closing lines. */
#define CUT_RESERVE 400

void rh_report_check_markdown(const rh_check_result *r, rh_check_level fail_on, rh_buf *out)
{
    size_t start = out->len;
    size_t failing = rh_check_count(r, fail_on);
    size_t e = rh_check_count(r, RH_CHECK_ERROR), w = rh_check_count(r, RH_CHECK_WARNING) - e,
           n = rh_check_count(r, RH_CHECK_NOTICE) - w - e;
    rh_buf_printf(out, "### %s rehearse check: %s\n\n", failing ? "❌" : "✅",
                  failing ? "these migrations would not deploy as they are" : "these migrations deploy");
    rh_buf_printf(out, "%zu error(s), %zu warning(s), %zu notice(s) · ", e, w, n);
    rh_report_markdown_text(out, r->base.label);
    rh_buf_puts(out, " → ");
    rh_report_markdown_text(out, r->head.label);
    rh_buf_puts(out, " · ");
    rh_report_markdown_text(out, r->migrations);
    rh_buf_printf(out, " · %zu new migration(s) · ", r->n_added);
    rh_buf pg;
    rh_buf_init(&pg);
    rh_check_postgres_text(r, fail_on, &pg);
    rh_report_markdown_text(out, pg.data);
    rh_buf_free(&pg);
    rh_buf_puts(out, "\n\n");

    /* the sections in order; each part is kept whole or cut with what follows */
    size_t cut_rows = 0, cut_findings = 0;
    rh_buf part;
    rh_buf_init(&part);
    if (r->n_added) {
        /* with --scale/--rows the statements ran on filled tables: how long the worst lock was held */
        if (r->scaled)
            rh_buf_printf(out, "| new migration | sent as | runs | worst lock on an existing table | held for (measured, "
                          "%lld row(s) filled) |\n|---|---|---|---|---|\n", r->fill.rows);
        else
            rh_buf_puts(out, "| new migration | sent as | runs | worst lock on an existing table |\n|---|---|---|---|\n");
        for (size_t i = 0; i < r->n_added; i++) {
            const rh_check_trace *t = trace_of(r, r->added[i]);
            const char *worst = t ? rh_report_trace_worst_lock(t) : NULL;
            rh_buf_reset(&part);
            rh_buf_puts(&part, "| [");
            rh_report_markdown_text(&part, r->added[i]);
            rh_buf_puts(&part, "](");
            rh_report_uri_path(&part, r->migrations ? r->migrations : ".");
            rh_buf_putc(&part, '/');
            rh_report_uri_path(&part, r->added[i]);
            rh_report_uri_path(&part, r->tool && r->tool->file_suffix ? r->tool->file_suffix : "/migration.sql");
            rh_buf_puts(&part, ") | ");
            const char *send = r->added_send ? r->added_send[i] : NULL;
            rh_report_markdown_text(&part, send ? send : "–");
            rh_buf_printf(&part, " | %s%s | %s |", execution_mode(r, t), t && t->failed && !t->parse_error ? " (fails)" : "",
                          worst ? worst : t ? "none" : "–");
            if (r->scaled) {
                double ms = t ? rh_report_trace_block_ms(t) : -1;
                if (ms >= 0)
                    rh_buf_printf(&part, " %.3f s |", ms / 1000);
                else
                    rh_buf_puts(&part, " – |");
            }
            rh_buf_putc(&part, '\n');
            if (out->len - start + part.len + CUT_RESERVE > RH_REPORT_MARKDOWN_LIMIT) {
                cut_rows = r->n_added - i;
                break;
            }
            rh_buf_append(out, part.data, part.len);
        }
        rh_buf_putc(out, '\n');
    }
    if (r->n_findings && !cut_rows) {
        rh_buf_puts(out, "#### findings\n\n");
        for (size_t i = 0; i < r->n_findings; i++) {
            rh_buf_reset(&part);
            finding_md(&r->findings[i], &part);
            if (out->len - start + part.len + CUT_RESERVE > RH_REPORT_MARKDOWN_LIMIT) {
                cut_findings = r->n_findings - i;
                break;
            }
            rh_buf_append(out, part.data, part.len);
        }
    } else if (r->n_findings) {
        cut_findings = r->n_findings;
    }
    rh_buf_free(&part);
    if (cut_rows || cut_findings)
        rh_buf_printf(out, "\n**cut:** %zu migration row(s) and %zu finding(s) did not fit in a comment "
                      "(%d characters); `rehearse check --format json` has them all.\n",
                      cut_rows, cut_findings, RH_REPORT_MARKDOWN_LIMIT);
    rh_buf_printf(out, "\n<sub>rehearse check in %.1f s</sub>\n", r->ms_total / 1000.0);
    assert(out->len - start <= RH_REPORT_MARKDOWN_LIMIT);
}
