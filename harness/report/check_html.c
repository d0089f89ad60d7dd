/*
 * check_html.c — a check result as a self-contained HTML page (see check_html.h). Every piece of
 * text from the repository or the server goes through rh_report_html_text; the head and the
 * side-by-side catalog diff are html.c's, shared with run's page.
 */
#include "report/check_html.h"

#include <string.h>

#include "report/check_markdown.h"
#include "report/escape.h"
#include "report/html.h"

/* filled: --scale/--rows filled the tables (rows in all) before the trace: its times are measured there */
static void trace_html(const rh_check_trace *t, int filled, long long rows, rh_buf *out)
{
    double max_ms = 0;
    for (size_t i = 0; i < t->n; i++)
        max_ms = t->stmts[i].ms > max_ms ? t->stmts[i].ms : max_ms;
    rh_buf_puts(out, "<section class=\"migration\"><h3>");
    rh_report_html_text(out, t->migration);
    rh_buf_puts(out, "</h3>\n<p>worst lock on an existing table: ");
    const char *worst = rh_report_trace_worst_lock(t);
    rh_report_html_text(out, worst ? worst : "none");
    double held = rh_report_trace_block_ms(t);
    if (filled && held >= 0) /* the same figure as the Markdown comment's column */
        rh_buf_printf(out, ", held for %.3f s (measured, %lld row(s) filled)", held / 1000, rows);
    if (t->run_tx) { /* as the human and Markdown reports say it (rh_check_trace_runs) */
        rh_buf_puts(out, "; its locks held until the run commits (");
        rh_report_html_text(out, rh_check_trace_runs(t));
        rh_buf_puts(out, ")");
    }
    rh_buf_puts(out, "</p>\n<table><tr><th>line</th><th>statement</th><th>time</th><th>locks held</th></tr>\n");
    for (size_t i = 0; i < t->n; i++) {
        const rh_check_stmt *s = &t->stmts[i];
        rh_buf_printf(out, "<tr><td>%d</td><td><code>", s->line);
        rh_report_html_text(out, s->text);
        rh_buf_puts(out, "</code></td><td>");
        rh_report_html_bar(out, "bar", s->ms, max_ms);
        rh_buf_puts(out, "</td><td>");
        for (size_t k = 0; k < s->n_locks; k++) {
            const rh_check_lock *l = &s->locks[k];
            if (!l->existed_before)
                continue;
            rh_report_html_lock(out, l->mode, l->relation);
        }
        if (s->error) {
            rh_buf_printf(out, "<span class=\"error\">failed: SQLSTATE %s: ", s->sqlstate);
            rh_report_html_text(out, s->error);
            rh_buf_puts(out, "</span>");
        }
        rh_buf_puts(out, "</td></tr>\n");
    }
    rh_buf_puts(out, "</table></section>\n");
}

void rh_report_check_html(const rh_check_result *r, rh_check_level fail_on, rh_buf *out)
{
    size_t failing = rh_check_count(r, fail_on);
    size_t e = rh_check_count(r, RH_CHECK_ERROR), w = rh_check_count(r, RH_CHECK_WARNING) - e,
           n = rh_check_count(r, RH_CHECK_NOTICE) - w - e;
    rh_report_html_head(out, "rehearse check");
    rh_buf_printf(out, "<h1 id=\"verdict\" class=\"%s\">rehearse check: %s</h1>\n", failing ? "fail" : "pass",
                  failing ? "these migrations would not deploy as they are" : "these migrations deploy");
    rh_buf_printf(out, "<p id=\"counts\">%zu error(s), %zu warning(s), %zu notice(s) · ", e, w, n);
    rh_report_html_text(out, r->base.label);
    rh_buf_puts(out, " → ");
    rh_report_html_text(out, r->head.label);
    rh_buf_puts(out, " · ");
    rh_report_html_text(out, r->migrations);
    rh_buf_printf(out, " · %zu new migration(s) · %.1f s</p>\n", r->n_added, r->ms_total / 1000.0);
    rh_buf pg;
    rh_buf_init(&pg);
    rh_check_postgres_text(r, fail_on, &pg);
    rh_buf_puts(out, "<p id=\"postgres\">");
    rh_report_html_text(out, pg.data);
    rh_buf_puts(out, "</p>\n");
    rh_buf_free(&pg);
    if (r->n_traces) {
        rh_buf_puts(out, "<h2>New migrations</h2>\n");
        for (size_t i = 0; i < r->n_traces; i++)
            trace_html(&r->traces[i], r->scaled, r->fill.rows, out);
    }
    if (r->n_findings) {
        rh_buf_puts(out, "<h2>Findings</h2>\n<ul id=\"findings\">\n");
        for (size_t i = 0; i < r->n_findings; i++) {
            const rh_check_finding *f = &r->findings[i];
            const char *level = rh_check_level_name(f->level);
            rh_buf_printf(out, "<li class=\"%s\"><b>%s</b> ", level, level);
            if (f->file) {
                rh_buf_puts(out, "<code>");
                rh_report_html_text(out, f->file);
                rh_buf_printf(out, ":%d</code> ", f->line ? f->line : 1);
            }
            rh_buf_printf(out, "[%c ", f->step);
            rh_report_html_text(out, f->code);
            rh_buf_puts(out, "] ");
            rh_report_html_text(out, f->message);
            if (f->detail && strcmp(f->code, "catalog-differs") == 0) {
                rh_report_html_diff(out, f->detail); /* the clean deploy and the upgrade path side by side */
            } else if (f->detail) {
                rh_buf_puts(out, "<pre>");
                rh_report_html_text(out, f->detail);
                rh_buf_puts(out, "</pre>");
            }
            rh_buf_puts(out, "</li>\n");
        }
        rh_buf_puts(out, "</ul>\n");
    }
    rh_buf_puts(out, "</body></html>\n");
}
