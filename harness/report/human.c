/*
 * human.c — the report people read: one line per scenario in path order, then each failure in
 * full (where, what was expected, what happened, catalog diff, the migration tool's output, server log tail,
 * how to connect to a kept cluster), then the totals. Colour only when asked (a terminal).
 */
#include "report/report.h"
#include "report/escape.h"
#include "report/profile.h"
#include "tools/tool.h"

#include <string.h>

#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_DIM "\033[2m"
#define C_BOLD "\033[1m"
#define C_RESET "\033[0m"

const char *rh_report_status_word(const rh_result *r)
{
    switch (r->status) {
    case RH_PASS: return "PASS";
    case RH_FAIL: return "FAIL";
    case RH_SKIP: return "SKIP";
    case RH_ERROR: return r->timed_out ? "TIMEOUT" : r->crashed ? "CRASH" : "ERROR";
    }
    return "?";
}

void rh_report_output_title(const rh_result *r, int heading, rh_buf *out)
{
    const rh_tool *tool = r->output_tool ? rh_tool_find(r->output_tool) : NULL;
    if (!tool)
        rh_buf_puts(out, heading ? "Tool output" : "tool output");
    else if (!tool->file_suffix) /* command mode: the user's own command line printed it */
        rh_buf_puts(out, heading ? "The command's output" : "the command's output");
    else
        rh_buf_printf(out, "%s output", heading && tool->title ? tool->title : tool->name);
}

static const char *status_color(const rh_result *r)
{
    switch (r->status) {
    case RH_PASS: return C_GREEN;
    case RH_SKIP: return C_YELLOW;
    default: return C_RED;
    }
}

static void c(rh_buf *out, int color, const char *code)
{
    if (color)
        rh_buf_puts(out, code);
}

/* Append text with every line indented. */
static void indented(rh_buf *out, const char *text, const char *indent)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n) {
            rh_buf_puts(out, indent);
        } else {
            /* an empty line keeps its margin ("    |") but no trailing blanks */
            size_t k = strlen(indent);
            while (k && indent[k - 1] == ' ')
                k--;
            rh_buf_append(out, indent, k);
        }
        rh_report_term_textn(out, p, n);
        rh_buf_putc(out, '\n');
        p += n + (nl ? 1 : 0);
    }
}

void rh_report_progress_line(const rh_result *r, size_t done, size_t total, int color, rh_buf *out)
{
    rh_report_term_printf(out, "[%zu/%zu] ", done, total);
    c(out, color, status_color(r));
    rh_report_term_printf(out, "%-5s", rh_report_status_word(r));
    c(out, color, C_RESET);
    rh_report_term_printf(out, " %s (%.2f s)\n", r->path, r->ms / 1000.0);
}

static void failure(const rh_result *r, int color, rh_buf *out)
{
    rh_buf_putc(out, '\n');
    c(out, color, C_BOLD);
    c(out, color, status_color(r));
    rh_report_term_printf(out, "%s", rh_report_status_word(r));
    c(out, color, C_RESET);
    c(out, color, C_BOLD);
    rh_report_term_printf(out, " %s", r->name);
    c(out, color, C_RESET);
    rh_report_term_printf(out, "  (%s)\n", r->path);
    if (r->file && r->line) {
        rh_report_term_printf(out, "  at %s:%d", r->file, r->line);
        if (r->step) {
            rh_buf_puts(out, ": ");
            c(out, color, C_BOLD);
            /* the step as written, without its leading blanks */
            const char *s = r->step;
            while (*s == ' ' || *s == '\t')
                s++;
            rh_report_term_text(out, s);
            c(out, color, C_RESET);
        }
        rh_buf_putc(out, '\n');
    }
    if (r->message)
        indented(out, r->message, "  ");
    if (r->expected) {
        c(out, color, C_GREEN);
        rh_buf_puts(out, "  expected: ");
        c(out, color, C_RESET);
        if (strchr(r->expected, '\n')) {
            rh_buf_putc(out, '\n');
            indented(out, r->expected, "    ");
        } else {
            rh_report_term_printf(out, "%s\n", r->expected);
        }
    }
    if (r->actual) {
        c(out, color, C_RED);
        rh_buf_puts(out, "  actual:   ");
        c(out, color, C_RESET);
        if (strchr(r->actual, '\n')) {
            rh_buf_putc(out, '\n');
            indented(out, r->actual, "    ");
        } else {
            rh_report_term_printf(out, "%s\n", r->actual);
        }
    }
    if (r->diff && *r->diff) {
        rh_buf_puts(out, "  catalog diff:\n");
        const char *p = r->diff;
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            const char *col = p[0] == '-' ? C_RED : p[0] == '+' ? C_GREEN : p[0] == '~' ? C_YELLOW : NULL;
            rh_buf_puts(out, "    ");
            if (col)
                c(out, color, col);
            rh_report_term_textn(out, p, n);
            if (col)
                c(out, color, C_RESET);
            rh_buf_putc(out, '\n');
            p += n + (nl ? 1 : 0);
        }
    }
    if (r->output && *r->output) {
        rh_buf_puts(out, "  ");
        rh_report_output_title(r, 0, out);
        rh_buf_puts(out, ":\n");
        c(out, color, C_DIM);
        indented(out, r->output, "    | ");
        c(out, color, C_RESET);
    }
    if (r->log_tail && *r->log_tail) {
        rh_buf_puts(out, "  server log (last lines):\n");
        c(out, color, C_DIM);
        indented(out, r->log_tail, "    | ");
        c(out, color, C_RESET);
    }
    if (r->kept)
        rh_report_term_printf(out, "  cluster kept running; connect with:\n    %s\n  stop it with: rehearse clusters --stop %s\n",
                      r->kept, r->kept_id ? r->kept_id : "ID");
}

void rh_report_human(const rh_run *run, const rh_report_opts *opts, rh_buf *out)
{
    int color = opts && opts->color;
    for (size_t i = 0; i < run->n; i++) {
        const rh_result *r = &run->results[i];
        c(out, color, status_color(r));
        rh_report_term_printf(out, "%-7s", rh_report_status_word(r));
        c(out, color, C_RESET);
        rh_report_term_printf(out, " %s", r->path);
        if (r->name && strcmp(r->name, r->path) != 0)
            rh_report_term_printf(out, " — %s", r->name);
        if (r->status == RH_SKIP)
            rh_report_term_printf(out, " (skipped: %s)\n", r->skip_reason ? r->skip_reason : "");
        else
            rh_report_term_printf(out, " (%.2f s%s)\n", r->ms / 1000.0, r->superuser ? ", as superuser" : "");
        for (size_t k = 0; k < r->n_profiles; k++) {
            c(out, color, C_DIM);
            rh_buf_puts(out, "        ");
            rh_report_profile_line(&r->profiles[k].profile, r->profiles[k].source, out);
            c(out, color, C_RESET);
            rh_buf_putc(out, '\n');
        }
        if (r->pg_note)
            rh_report_term_printf(out, "        note: %s\n", r->pg_note);
    }
    for (size_t i = 0; i < run->n; i++) {
        const rh_result *r = &run->results[i];
        if (r->status == RH_FAIL || r->status == RH_ERROR)
            failure(r, color, out);
    }
    rh_buf_putc(out, '\n');
    c(out, color, C_BOLD);
    rh_report_term_printf(out, "%zu scenario%s: ", run->n, run->n == 1 ? "" : "s");
    c(out, color, run->failed || run->errors ? C_RED : C_GREEN);
    rh_report_term_printf(out, "%zu passed, %zu failed, %zu error%s", run->passed, run->failed, run->errors,
                  run->errors == 1 ? "" : "s");
    c(out, color, C_RESET);
    c(out, color, C_BOLD);
    rh_report_term_printf(out, ", %zu skipped", run->skipped);
    c(out, color, C_RESET);
    rh_report_term_printf(out, " in %.2f s (-j %d)\n", run->wall_ms / 1000.0, run->jobs);
}

int rh_report_format_parse(const char *word, rh_report_format *out, rh_err *err)
{
    if (strcmp(word, "human") == 0 || strcmp(word, "text") == 0)
        *out = RH_REPORT_HUMAN;
    else if (strcmp(word, "tap") == 0)
        *out = RH_REPORT_TAP;
    else if (strcmp(word, "junit") == 0 || strcmp(word, "xml") == 0)
        *out = RH_REPORT_JUNIT;
    else if (strcmp(word, "json") == 0)
        *out = RH_REPORT_JSON;
    else if (strcmp(word, "markdown") == 0)
        *out = RH_REPORT_MARKDOWN;
    else if (strcmp(word, "html") == 0)
        *out = RH_REPORT_HTML;
    else
        return rh_err_set(err, "unknown format '%s' (human, tap, junit, json, markdown, html)", word);
    return 0;
}

void rh_report_write(const rh_run *run, rh_report_format fmt, const rh_report_opts *opts, rh_buf *out)
{
    switch (fmt) {
    case RH_REPORT_HUMAN: rh_report_human(run, opts, out); break;
    case RH_REPORT_TAP: rh_report_tap(run, out); break;
    case RH_REPORT_JUNIT: rh_report_junit(run, out); break;
    case RH_REPORT_JSON: rh_report_json(run, out); break;
    case RH_REPORT_MARKDOWN: rh_report_markdown(run, out); break;
    case RH_REPORT_HTML: rh_report_html(run, out); break;
    }
}
