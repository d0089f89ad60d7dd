/*
 * run_html.c — a `rehearse run` as one self-contained HTML page (report.h rh_report_html): the
 * verdict; per scenario its steps with their times, the ledger table after each step that changed
 * it, a timeline bar per migration (the ledger's started_at to finished_at); a failure with the
 * server's message, the scenario file's lines around the failing step, expected / actual, the
 * catalog diff side by side, Prisma's output and the server log. Failing scenarios come open, the
 * others folded (<details>, no script). Text goes through rh_report_html_text.
 */
#include "report/report.h"

#include <string.h>

#include "check/check.h"
#include "report/escape.h"
#include "report/html.h"

static void ledger_table(const rh_result_step *st, rh_buf *out)
{
    rh_buf_puts(out, "<table class=\"ledger\"><tr><th>migration</th><th>state</th><th>applied steps</th>"
                     "<th>started at</th><th>took</th></tr>\n");
    for (size_t k = 0; k < st->n_ledger; k++) {
        const rh_result_ledger_row *l = &st->ledger[k];
        const char *state = l->rolled_back ? "rolled back" : l->finished ? "applied" : "failed";
        rh_buf_puts(out, "<tr><td>");
        rh_report_html_text(out, l->name);
        rh_buf_printf(out, "</td><td class=\"%s\">%s</td><td>%d</td><td>", l->finished || l->rolled_back ? "" : "error",
                      state, l->applied_steps);
        rh_report_html_text(out, l->started);
        if (l->ms >= 0)
            rh_buf_printf(out, "</td><td>%.1f ms</td></tr>\n", l->ms);
        else /* finished, but the tool records no duration (dbmate, drizzle) */
            rh_buf_puts(out, l->finished && !l->rolled_back ? "</td><td>unknown</td></tr>\n" : "</td><td>–</td></tr>\n");
    }
    if (!st->n_ledger)
        rh_buf_puts(out, "<tr><td colspan=\"5\">(no rows)</td></tr>\n");
    rh_buf_puts(out, "</table>\n");
}

/* run --trace-locks: the latest trace of a migration among the steps (a later deploy may run it again) */
static const rh_result_trace *trace_of(const rh_result *r, const char *name, int *any)
{
    for (size_t i = r->n_steps; i-- > 0;) {
        const rh_result_step *st = &r->steps[i];
        if (st->trace_note) /* --trace-locks was asked for, this deploy could not be traced */
            *any = 1;
        for (size_t k = st->n_traces; k-- > 0;) {
            *any = 1;
            if (st->traces[k].migration && name && strcmp(st->traces[k].migration, name) == 0)
                return &st->traces[k];
        }
    }
    return NULL;
}

static void locks_cell(const rh_result_trace *t, rh_buf *out)
{
    rh_buf_puts(out, "<td class=\"locks\">");
    if (!t) {
        rh_buf_puts(out, "not traced");
    } else {
        for (size_t k = 0; k < t->n_locks; k++)
            rh_report_html_lock(out, t->locks[k].mode, t->locks[k].relation);
        if (!t->n_locks)
            rh_buf_puts(out, "none on a table that existed before");
        const char *runs = rh_check_tx_word_runs(t->transaction);
        if (runs && strcmp(t->transaction, "run") == 0) { /* drizzle-kit: the locks of the files before it too */
            rh_buf_puts(out, "<span class=\"note\">held until the run commits (");
            rh_report_html_text(out, runs);
            rh_buf_puts(out, ")</span>");
        } else if (runs) {
            rh_buf_puts(out, "<span class=\"note\">(");
            rh_report_html_text(out, runs);
            rh_buf_puts(out, ")</span>");
        }
        if (t->failed)
            rh_buf_puts(out, "<span class=\"error\">(a statement failed: the trace stops there)</span>");
    }
    rh_buf_puts(out, "</td>");
}

/* The last ledger the scenario saw, as one bar per migration scaled to the longest; with
   --trace-locks, the locks each one held. */
/* The last step whose ledger the timeline shows (the default tool's ledger); NULL: no timeline. */
static const rh_result_step *timeline_ledger(const rh_result *r)
{
    const rh_result_step *last = NULL;
    for (size_t i = 0; i < r->n_steps; i++)
        if (r->steps[i].ledger_changed)
            last = &r->steps[i];
    return last && last->n_ledger ? last : NULL;
}

static void timeline(const rh_result *r, rh_buf *out)
{
    const rh_result_step *last = timeline_ledger(r);
    if (!last)
        return;
    double max = 0;
    for (size_t k = 0; k < last->n_ledger; k++)
        max = last->ledger[k].ms > max ? last->ledger[k].ms : max;
    int traced = 0;
    (void)trace_of(r, NULL, &traced);
    rh_buf_printf(out, "<h4>Migrations (the ledger at the end: started_at to finished_at)</h4>\n"
                       "<table class=\"timeline\"><tr><th>migration</th><th>duration</th>%s</tr>\n",
                  traced ? "<th>locks held on existing tables (--trace-locks: replayed on a copy made before "
                           "its deploy)</th>" : "");
    for (size_t k = 0; k < last->n_ledger; k++) {
        const rh_result_ledger_row *l = &last->ledger[k];
        const char *cls = l->rolled_back ? "bar rolled" : l->finished ? "bar" : "bar failed";
        rh_buf_puts(out, "<tr><td>");
        rh_report_html_text(out, l->name);
        if (l->ms >= 0) {
            rh_buf_puts(out, "</td><td>");
            rh_report_html_bar(out, cls, l->ms, max);
            rh_buf_puts(out, "</td>");
        } else {
            rh_buf_printf(out, "</td><td><div class=\"%s\" style=\"width:2px\"></div>%s</td>", cls,
                          l->rolled_back ? "rolled back" : l->finished ? "duration unknown" : "did not finish");
        }
        if (traced)
            locks_cell(trace_of(r, l->name, &traced), out);
        rh_buf_puts(out, "</tr>\n");
    }
    rh_buf_puts(out, "</table>\n");
}

static void failure(const rh_result *r, rh_buf *out)
{
    rh_buf_puts(out, "<div class=\"failure\">");
    if (r->file) {
        rh_buf_puts(out, "<p>at <code>");
        rh_report_html_text(out, r->file);
        rh_buf_printf(out, ":%d</code>", r->line);
        if (r->step) {
            rh_buf_puts(out, ": <code>");
            rh_report_html_text(out, r->step);
            rh_buf_puts(out, "</code>");
        }
        rh_buf_puts(out, "</p>\n");
    }
    if (r->message) {
        rh_buf_puts(out, "<pre class=\"message error\">");
        rh_report_html_text(out, r->message);
        rh_buf_puts(out, "</pre>\n");
    }
    if (r->context)
        rh_report_html_context(out, r->context);
    if (r->expected || r->actual) {
        rh_buf_puts(out, "<table class=\"expect\"><tr><th>expected</th><td><pre>");
        rh_report_html_text(out, r->expected ? r->expected : "–");
        rh_buf_puts(out, "</pre></td></tr><tr><th>actual</th><td><pre>");
        rh_report_html_text(out, r->actual ? r->actual : "–");
        rh_buf_puts(out, "</pre></td></tr></table>\n");
    }
    if (r->diff && *r->diff) {
        rh_buf_puts(out, "<h4>Catalog diff</h4>\n");
        rh_report_html_diff(out, r->diff);
    }
    rh_buf tool_title;
    rh_buf_init(&tool_title);
    rh_report_output_title(r, 1, &tool_title);
    const char *const titles[] = {tool_title.data, "Server log (last lines)"};
    const char *texts[] = {r->output, r->log_tail};
    for (int i = 0; i < 2; i++) {
        if (!texts[i] || !*texts[i])
            continue;
        rh_buf_puts(out, "<h4>");
        rh_report_html_text(out, titles[i]);
        rh_buf_puts(out, "</h4>\n<pre>");
        rh_report_html_text(out, texts[i]);
        rh_buf_puts(out, "</pre>\n");
    }
    rh_buf_free(&tool_title);
    if (r->kept) {
        rh_buf_puts(out, "<p>cluster kept running; connect with <code>");
        rh_report_html_text(out, r->kept);
        rh_buf_puts(out, "</code></p>\n");
    }
    rh_buf_puts(out, "</div>\n");
}

static void steps(const rh_result *r, rh_buf *out)
{
    if (!r->n_steps)
        return;
    int in_timeline = timeline_ledger(r) != NULL; /* else a deploy's traced locks go under its step */
    double max = 0;
    for (size_t i = 0; i < r->n_steps; i++)
        max = r->steps[i].ms > max ? r->steps[i].ms : max;
    rh_buf_puts(out, "<h4>Steps (and the ledger after each step that changed it)</h4>\n"
                     "<table class=\"steps\"><tr><th>line</th><th>step</th><th>time</th></tr>\n");
    for (size_t i = 0; i < r->n_steps; i++) {
        const rh_result_step *st = &r->steps[i];
        rh_buf_printf(out, "<tr%s><td>%d</td><td><code>", st->failed ? " class=\"error\"" : "", st->line);
        rh_report_html_text(out, st->source);
        rh_buf_printf(out, "</code>%s</td><td>", st->failed ? " <b>← failed here</b>" : "");
        rh_report_html_bar(out, "bar", st->ms, max);
        rh_buf_puts(out, "</td></tr>\n");
        if (st->wait_note) { /* a lock wait whose outcome was proven: not waited out */
            rh_buf_printf(out, "<tr><td></td><td colspan=\"2\" class=\"note\">%.1f s not waited: ",
                          st->wait_skipped_ms / 1000.0);
            rh_report_html_text(out, st->wait_note);
            rh_buf_puts(out, "</td></tr>\n");
        }
        if (st->trace_note) { /* --trace-locks could not trace this deploy: why */
            rh_buf_puts(out, "<tr><td></td><td colspan=\"2\" class=\"note\">locks ");
            rh_report_html_text(out, st->trace_note);
            rh_buf_puts(out, "</td></tr>\n");
        }
        if (st->n_traces && !in_timeline) {
            rh_buf_puts(out, "<tr><td></td><td colspan=\"2\"><table class=\"ledger\"><tr><th>migration</th>"
                             "<th>locks held on existing tables (--trace-locks)</th></tr>\n");
            for (size_t k = 0; k < st->n_traces; k++) {
                rh_buf_puts(out, "<tr><td>");
                rh_report_html_text(out, st->traces[k].migration);
                rh_buf_puts(out, "</td>");
                locks_cell(&st->traces[k], out);
                rh_buf_puts(out, "</tr>\n");
            }
            rh_buf_puts(out, "</table></td></tr>\n");
        }
        if (st->ledger_changed || st->ledger_gone) {
            rh_buf_puts(out, "<tr><td></td><td colspan=\"2\">");
            if (st->ledger_gone)
                rh_buf_puts(out, "<p>the ledger table is gone</p>");
            else
                ledger_table(st, out);
            rh_buf_puts(out, "</td></tr>\n");
        }
    }
    rh_buf_puts(out, "</table>\n");
}

void rh_report_html(const rh_run *run, rh_buf *out)
{
    int ok = !run->failed && !run->errors;
    rh_report_html_head(out, "rehearse run");
    if (ok)
        rh_buf_printf(out, "<h1 id=\"verdict\" class=\"pass\">rehearse run: every scenario passed</h1>\n");
    else
        rh_buf_printf(out, "<h1 id=\"verdict\" class=\"fail\">rehearse run: %zu failed, %zu error(s)</h1>\n",
                      run->failed, run->errors);
    rh_buf_printf(out, "<p id=\"counts\">%zu scenario(s): %zu passed, %zu failed, %zu error(s), %zu skipped in %.1f s "
                       "(-j %d)%s</p>\n", run->n, run->passed, run->failed, run->errors, run->skipped,
                  run->wall_ms / 1000.0, run->jobs, run->interrupted ? " · interrupted" : "");
    for (size_t i = 0; i < run->n; i++) {
        const rh_result *r = &run->results[i];
        const char *word = rh_report_status_word(r);
        int bad = r->status == RH_FAIL || r->status == RH_ERROR;
        rh_buf_printf(out, "<details class=\"scenario\" id=\"scenario-%zu\"%s><summary><b class=\"%s\">%s</b> ", i + 1,
                      bad ? " open" : "", word, word);
        rh_report_html_text(out, r->name ? r->name : r->path);
        rh_buf_puts(out, " <small>");
        rh_report_html_text(out, r->path);
        if (r->status == RH_SKIP) {
            rh_buf_puts(out, " · skipped: ");
            rh_report_html_text(out, r->skip_reason);
        } else {
            rh_buf_printf(out, " · %.2f s", r->ms / 1000.0);
        }
        if (r->postgres) {
            rh_buf_puts(out, " · PostgreSQL ");
            rh_report_html_text(out, r->postgres);
        }
        rh_buf_puts(out, "</small></summary>\n");
        if (bad)
            failure(r, out);
        timeline(r, out);
        steps(r, out);
        rh_buf_puts(out, "</details>\n");
    }
    rh_buf_puts(out, "</body></html>\n");
}
