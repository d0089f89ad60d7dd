/*
 * run_markdown.c — a `rehearse run` as a pull-request comment (GitHub Markdown): the verdict first,
 * a row per scenario that did not pass (status, file:line link relative to the repository, what went
 * wrong) with its details folded (expected/actual, catalog diff, the migration tool's output, the server log),
 * the passing ones folded in one list; under GitHub's comment limit, cut with a line saying what was
 * cut. The same rules as check's comment (check_markdown.c, escape.h).
 */
#include <assert.h>
#include <string.h>

#include "report/check_markdown.h"
#include "report/escape.h"
#include "report/report.h"

#define CUT_RESERVE 400

static void fold(rh_buf *out, const char *title, const char *text)
{
    if (!text || !*text)
        return;
    rh_buf_printf(out, "  <details><summary>%s</summary>\n\n", title);
    rh_report_markdown_code(out, text);
    rh_buf_puts(out, "\n  </details>\n");
}

static void failed_md(const rh_result *r, rh_buf *out)
{
    rh_buf_printf(out, "- **%s** ", rh_report_status_word(r));
    const char *file = r->file ? r->file : r->path;
    int line = r->file && r->line > 0 ? r->line : 1;
    rh_buf_puts(out, "[");
    rh_report_markdown_text(out, file);
    rh_buf_printf(out, ":%d](", line);
    rh_report_uri_path(out, file);
    rh_buf_printf(out, "#L%d) ", line);
    rh_report_markdown_text(out, r->name ? r->name : r->path);
    if (r->message) {
        rh_buf_puts(out, ": ");
        rh_report_markdown_text(out, r->message);
    }
    rh_buf_putc(out, '\n');
    if (r->expected || r->actual) {
        rh_buf e;
        rh_buf_init(&e);
        rh_buf_printf(&e, "expected: %s\nactual:   %s\n", r->expected ? r->expected : "-", r->actual ? r->actual : "-");
        fold(out, "expected vs actual", e.data);
        rh_buf_free(&e);
    }
    fold(out, "catalog diff", r->diff);
    rh_buf title;
    rh_buf_init(&title);
    rh_report_output_title(r, 1, &title);
    fold(out, title.data, r->output);
    rh_buf_free(&title);
    fold(out, "server log", r->log_tail);
}

void rh_report_markdown(const rh_run *run, rh_buf *out)
{
    size_t start = out->len;
    int ok = run->failed == 0 && run->errors == 0;
    rh_buf_printf(out, "### %s rehearse run: %s\n\n", ok ? "✅" : "❌",
                  ok ? "every scenario passed" : "scenarios failed");
    rh_buf_printf(out, "%zu passed, %zu failed, %zu error(s), %zu skipped · %zu scenario(s) in %.1f s\n\n", run->passed,
                  run->failed, run->errors, run->skipped, run->n, run->wall_ms / 1000.0);
    size_t cut = 0, shown = 0;
    rh_buf part;
    rh_buf_init(&part);
    for (size_t i = 0; i < run->n; i++) {
        const rh_result *r = &run->results[i];
        if (r->status == RH_PASS || r->status == RH_SKIP)
            continue;
        rh_buf_reset(&part);
        failed_md(r, &part);
        if (cut || out->len - start + part.len + CUT_RESERVE > RH_REPORT_MARKDOWN_LIMIT) {
            cut++;
            continue;
        }
        rh_buf_append(out, part.data, part.len);
        shown++;
    }
    /* the scenarios that passed or were skipped, folded: one line each while they fit */
    size_t others = run->n - shown - cut, listed = 0;
    if (others && !cut) {
        rh_buf_printf(out, "\n<details><summary>%zu passed or skipped</summary>\n\n", others);
        for (size_t i = 0; i < run->n; i++) {
            const rh_result *r = &run->results[i];
            if (r->status != RH_PASS && r->status != RH_SKIP)
                continue;
            rh_buf_reset(&part);
            rh_buf_printf(&part, "- %s ", rh_report_status_word(r));
            rh_report_markdown_text(&part, r->path);
            rh_buf_putc(&part, '\n');
            if (out->len - start + part.len + CUT_RESERVE > RH_REPORT_MARKDOWN_LIMIT)
                break;
            rh_buf_append(out, part.data, part.len);
            listed++;
        }
        rh_buf_puts(out, "\n</details>\n");
    }
    rh_buf_free(&part);
    if (cut || listed < others)
        rh_buf_printf(out, "\n**cut:** %zu failed scenario(s) and %zu passed or skipped did not fit in a comment "
                      "(%d characters); `rehearse run --format json` has them all.\n",
                      cut, others - listed, RH_REPORT_MARKDOWN_LIMIT);
    assert(out->len - start <= RH_REPORT_MARKDOWN_LIMIT);
}
