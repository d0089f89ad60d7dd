/* html.c — the parts the HTML pages share (see html.h). */
#include "report/html.h"

#include <stdlib.h>
#include <string.h>

#include "report/escape.h"

static const char style[] =
    "body{font:15px/1.45 system-ui,sans-serif;max-width:75em;margin:1em auto;padding:0 1em;color:#222}"
    "h1.fail{color:#b00}h1.pass{color:#070}table{border-collapse:collapse;width:100%}"
    "td,th{border-bottom:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}"
    ".bar{background:#48c;height:.8em;min-width:2px}.bar.failed{background:#b00}.bar.rolled{background:#999}"
    ".lock-ae{color:#b00;font-weight:bold}"
    "pre{background:#f4f4f4;padding:.5em;overflow-x:auto;white-space:pre-wrap}"
    ".error,.FAIL,.ERROR,.TIMEOUT,.CRASH{color:#b00}.warning,.SKIP{color:#a60}.notice{color:#06a}.PASS{color:#070}"
    "table.diff td{font-family:monospace;white-space:pre-wrap;width:50%}"
    "td.del{background:#fdd}td.add{background:#dfd}td.obj{background:#eee;font-weight:bold}"
    "mark{background:#fe9}table.ledger{margin:.2em 0 .6em 2em;width:auto}table.ledger td{font-size:90%}"
    "@media print{body{max-width:none}details{display:block}"
    ".bar,td.del,td.add,mark{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

void rh_report_html_head(rh_buf *out, const char *title)
{
    rh_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width\"><title>");
    rh_report_html_text(out, title);
    rh_buf_printf(out, "</title><style>%s</style></head><body>\n", style);
}

typedef struct line_run {
    const char **s;
    size_t *n;
    size_t len, cap;
} line_run;

static void run_push(line_run *r, const char *s, size_t n)
{
    if (r->len == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 8;
        r->s = rh_xrealloc(r->s, r->cap * sizeof *r->s);
        r->n = rh_xrealloc(r->n, r->cap * sizeof *r->n);
    }
    r->s[r->len] = s;
    r->n[r->len++] = n;
}

static void cell(rh_buf *out, const char *cls, const char *s, size_t n)
{
    rh_buf_printf(out, "<td class=\"%s\">", cls);
    char *t = strndup(s, n);
    rh_report_html_text(out, t);
    free(t);
    rh_buf_puts(out, "</td>");
}

/* The pending removed and added lines, paired row by row. */
static void flush(rh_buf *out, line_run *del, line_run *add)
{
    size_t rows = del->len > add->len ? del->len : add->len;
    for (size_t i = 0; i < rows; i++) {
        rh_buf_puts(out, "<tr>");
        if (i < del->len)
            cell(out, "del", del->s[i], del->n[i]);
        else
            rh_buf_puts(out, "<td></td>");
        if (i < add->len)
            cell(out, "add", add->s[i], add->n[i]);
        else
            rh_buf_puts(out, "<td></td>");
        rh_buf_puts(out, "</tr>\n");
    }
    del->len = add->len = 0;
}

void rh_report_html_diff(rh_buf *out, const char *diff)
{
    line_run del = {0}, add = {0};
    const char *left = NULL, *right = NULL;
    size_t nleft = 0, nright = 0;
    rh_buf rows;
    rh_buf_init(&rows);
    for (const char *p = diff ? diff : ""; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n >= 4 && strncmp(p, "--- ", 4) == 0 && !left) {
            left = p + 4, nleft = n - 4;
        } else if (n >= 4 && strncmp(p, "+++ ", 4) == 0 && !right) {
            right = p + 4, nright = n - 4;
        } else if (p[0] == '-') {
            if (add.len) /* a removal after additions starts a new pair of runs */
                flush(&rows, &del, &add);
            run_push(&del, p, n);
        } else if (p[0] == '+') {
            run_push(&add, p, n);
        } else {
            flush(&rows, &del, &add);
            rh_buf_puts(&rows, "<tr><td class=\"obj\" colspan=\"2\">");
            char *t = strndup(p, n);
            rh_report_html_text(&rows, t);
            free(t);
            rh_buf_puts(&rows, "</td></tr>\n");
        }
        p += n + (nl ? 1 : 0);
    }
    flush(&rows, &del, &add);
    rh_buf_puts(out, "<table class=\"diff\"><tr><th>");
    char *t = left ? strndup(left, nleft) : NULL;
    rh_report_html_text(out, t ? t : "before");
    free(t);
    rh_buf_puts(out, "</th><th>");
    t = right ? strndup(right, nright) : NULL;
    rh_report_html_text(out, t ? t : "after");
    free(t);
    rh_buf_puts(out, "</th></tr>\n");
    rh_buf_append(out, rows.data, rows.len);
    rh_buf_puts(out, "</table>\n");
    rh_buf_free(&rows);
    free(del.s), free(del.n), free(add.s), free(add.n);
}

void rh_report_html_context(rh_buf *out, const char *text)
{
    rh_buf_puts(out, "<pre class=\"context\">");
    for (const char *p = text ? text : ""; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *t = strndup(p, n);
        if (p[0] == '>')
            rh_buf_puts(out, "<mark>");
        rh_report_html_text(out, t);
        if (p[0] == '>')
            rh_buf_puts(out, "</mark>");
        rh_buf_putc(out, '\n');
        free(t);
        p += n + (nl ? 1 : 0);
    }
    rh_buf_puts(out, "</pre>\n");
}

void rh_report_html_bar(rh_buf *out, const char *cls, double ms, double max_ms)
{
    rh_buf_printf(out, "<div class=\"%s\" style=\"width:%.0f%%\"></div>%.1f ms", cls,
                  max_ms > 0 ? 100.0 * ms / max_ms : 0.0, ms);
}

void rh_report_html_lock(rh_buf *out, const char *mode, const char *relation)
{
    rh_buf_printf(out, "<span class=\"%s\">", mode && strcmp(mode, "AccessExclusiveLock") == 0 ? "lock-ae" : "lock");
    rh_report_html_text(out, mode);
    rh_buf_puts(out, "</span> ");
    rh_report_html_text(out, relation);
    rh_buf_puts(out, "<br>");
}
