/*
 * history_markdown.c — `rehearse history` as a pull-request comment: the verdict (hazards or none),
 * then hazards before notes, each with its kind, a link to its file relative to the repository and
 * its message; under GitHub's comment limit, cut with a line saying what was cut.
 */
#include <assert.h>

#include "report/check_markdown.h"
#include "report/escape.h"
#include "report/history_markdown.h"

#define CUT_RESERVE 400

void rh_report_history_markdown(const rh_git_history *h, rh_buf *out)
{
    size_t start = out->len;
    rh_buf_printf(out, "### %s rehearse history: %s\n\n", h->n_hazards ? "❌" : "✅",
                  h->n_hazards ? "hazards between the two revisions" : "no hazards");
    rh_buf_printf(out, "%zu hazard(s), %zu note(s) · ", h->n_hazards, h->n - h->n_hazards);
    rh_report_markdown_text(out, h->from.label);
    rh_buf_puts(out, " → ");
    rh_report_markdown_text(out, h->to.label);
    rh_buf_puts(out, " · ");
    rh_report_markdown_text(out, h->migrations);
    rh_buf_puts(out, "\n\n");
    size_t cut = 0;
    rh_buf part;
    rh_buf_init(&part);
    for (int pass = 1; pass >= 0; pass--) /* hazards first */
        for (size_t i = 0; i < h->n; i++) {
            const rh_hist_finding *f = &h->items[i];
            if (f->hazard != pass)
                continue;
            rh_buf_reset(&part);
            rh_buf_printf(&part, "- **%s** `%s` ", pass ? "hazard" : "note", rh_hist_code(f));
            if (f->file) {
                rh_buf_puts(&part, "[");
                rh_report_markdown_text(&part, f->file);
                rh_buf_puts(&part, "](");
                rh_report_uri_path(&part, f->file);
                rh_buf_puts(&part, ") ");
            }
            rh_report_markdown_text(&part, f->message);
            rh_buf_putc(&part, '\n');
            if (cut || out->len - start + part.len + CUT_RESERVE > RH_REPORT_MARKDOWN_LIMIT) {
                cut++;
                continue;
            }
            rh_buf_append(out, part.data, part.len);
        }
    rh_buf_free(&part);
    if (cut)
        rh_buf_printf(out, "\n**cut:** %zu finding(s) did not fit in a comment (%d characters); "
                      "`rehearse history --format json` has them all.\n", cut, RH_REPORT_MARKDOWN_LIMIT);
    assert(out->len - start <= RH_REPORT_MARKDOWN_LIMIT);
}
