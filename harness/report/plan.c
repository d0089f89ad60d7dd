/* plan.c — `rehearse plan`'s report (see plan.h). */
#include "report/plan.h"

#include <assert.h>
#include <json-c/json.h>

#include "report/check_markdown.h"
#include "report/escape.h"
#include "report/profile.h"

void rh_report_plan_mode(const rh_plan *plan, rh_buf *out)
{
    size_t n = plan->n_stmts;
    const char *s = n == 1 ? "" : "s";
    if (plan->rejected[0]) {
        rh_report_term_printf(out, "one query, which PostgreSQL's parser rejects (%s): nothing of it runs", plan->rejected);
        return;
    }
    switch (plan->mode) {
    case RH_SEND_WHOLE:
        rh_buf_printf(out, "one implicit transaction (%zu statement%s)", n, s);
        break;
    case RH_SEND_STATEMENTS:
        rh_buf_printf(out, "%zu autocommit statement%s", n, s);
        break;
    case RH_SEND_WHOLE_FALLBACK:
        rh_report_term_printf(out, "one implicit transaction (%zu statement%s): sqlparser 0.61 rejects %s at line %d", n, s,
                      plan->fallback_reason, plan->fallback_line);
        break;
    }
}

/* The line saying who sends the files: the profile, or another tool. */
static void sender_line(const rh_plan_sender *by, rh_buf *out)
{
    if (by->tool)
        rh_buf_printf(out, "how %s (%s) sends each migration", by->tool, by->tool_says ? by->tool_says : by->tool);
    else
        rh_report_profile_line(by->profile, by->source, out);
}

/* How an entry is sent, in one phrase. */
static void how_of(const rh_plan_entry *e, rh_buf *out)
{
    if (e->how)
        rh_report_term_text(out, e->how);
    else
        rh_report_plan_mode(&e->plan, out);
}

/* Does the entry fail as written (another tool's word, else CONCURRENTLY in the implicit transaction)? */
static int fails_as_written(const rh_plan_entry *e)
{
    return e->fails || (e->plan.n_concurrently && e->plan.concurrently_fails);
}

void rh_report_plan_human(const rh_plan_sender *by, const rh_plan_entry *e, size_t n, rh_buf *out)
{
    sender_line(by, out);
    rh_buf_puts(out, "\n");
    if (n == 0)
        rh_buf_puts(out, "no migrations\n");
    for (size_t i = 0; i < n; i++) {
        const rh_plan *pl = &e[i].plan;
        rh_report_term_printf(out, "%s: ", e[i].name);
        how_of(&e[i], out);
        rh_buf_puts(out, pl->atomic ? "; atomic" : "; NOT atomic: a failure leaves the statements before it applied");
        if (e[i].fails)
            rh_report_term_printf(out, "; %s", e[i].fails);
        else if (by->tool && pl->n_concurrently)
            rh_buf_puts(out, "; CONCURRENTLY allowed");
        else if (pl->n_concurrently)
            rh_buf_puts(out, pl->concurrently_fails ? "; CONCURRENTLY fails with 25001 (inside the implicit transaction)"
                                                    : "; CONCURRENTLY allowed");
        rh_buf_puts(out, "\n");
    }
    size_t fails = 0;
    for (size_t i = 0; by->tool && i < n; i++)
        fails += fails_as_written(&e[i]) != 0;
    if (by->tool && n)
        rh_buf_printf(out, fails ? "%zu migration(s) fail as written\n" : "every migration applies as written\n", fails);
}

void rh_report_plan_json(const rh_plan_sender *by, const rh_plan_entry *e, size_t n, rh_buf *out)
{
    json_object *root = json_object_new_object();
    json_object_object_add(root, "profile",
                           by->tool ? NULL : rh_report_profile_json(by->profile, by->from, by->source));
    if (by->tool)
        json_object_object_add(root, "tool", json_object_new_string(by->tool));
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        const rh_plan *pl = &e[i].plan;
        json_object *m = json_object_new_object();
        json_object_object_add(m, "name", json_object_new_string(e[i].name));
        json_object_object_add(m, "mode", json_object_new_string(rh_send_mode_name(pl->mode)));
        json_object_object_add(m, "statements", json_object_new_int64((int64_t)pl->n_stmts));
        json_object_object_add(m, "atomic", json_object_new_boolean(pl->atomic));
        json_object_object_add(m, "concurrently", json_object_new_int64((int64_t)pl->n_concurrently));
        json_object_object_add(m, "concurrently_fails", json_object_new_boolean(pl->concurrently_fails));
        json_object *fb = NULL;
        if (pl->mode == RH_SEND_WHOLE_FALLBACK) {
            fb = json_object_new_object();
            json_object_object_add(fb, "line", json_object_new_int(pl->fallback_line));
            json_object_object_add(fb, "reason", json_object_new_string(pl->fallback_reason));
        }
        json_object_object_add(m, "fallback", fb);
        json_object_object_add(m, "rejected", pl->rejected[0] ? json_object_new_string(pl->rejected) : NULL);
        if (by->tool) {
            json_object_object_add(m, "how", e[i].how ? json_object_new_string(e[i].how) : NULL);
            json_object_object_add(m, "fails", e[i].fails ? json_object_new_string(e[i].fails) : NULL);
        }
        json_object_array_add(arr, m);
    }
    json_object_object_add(root, "migrations", arr);
    rh_report_json_write(root, out);
    json_object_put(root);
}

/* The room kept free for the line saying what was cut and the closing line. */
#define CUT_RESERVE 400

void rh_report_plan_markdown(const rh_plan_sender *by, const char *folder, const rh_plan_entry *e, size_t n,
                             rh_buf *out)
{
    size_t start = out->len, fails = 0, split = 0;
    for (size_t i = 0; i < n; i++) {
        fails += fails_as_written(&e[i]) != 0;
        split += !e[i].plan.atomic;
    }
    if (fails && by->tool)
        rh_buf_printf(out, "### ❌ rehearse plan: %zu migration(s) fail as %s runs them\n\n", fails,
                      by->tool_says ? by->tool_says : by->tool);
    else if (fails)
        rh_buf_printf(out, "### ❌ rehearse plan: %zu migration(s) fail with 25001 (CONCURRENTLY inside the implicit "
                      "transaction)\n\n", fails);
    else if (split)
        rh_buf_printf(out, "### ⚠️ rehearse plan: %zu migration(s) not atomic (a failure leaves the statements before "
                      "it applied)\n\n", split);
    else
        rh_buf_printf(out, "### ✅ rehearse plan: %zu migration(s), each atomic\n\n", n);
    rh_buf line;
    rh_buf_init(&line);
    sender_line(by, &line);
    rh_report_markdown_text(out, line.data);
    rh_buf_puts(out, "\n\n");
    size_t cut = 0;
    if (n) {
        rh_buf_puts(out, by->tool ? "| migration | how it is sent | atomic | as written |\n|---|---|---|---|\n"
                                  : "| migration | how it is sent | atomic | CONCURRENTLY |\n|---|---|---|---|\n");
        for (size_t i = 0; i < n; i++) {
            const rh_plan *pl = &e[i].plan;
            rh_buf_reset(&line);
            rh_buf_puts(&line, "| ");
            if (folder) {
                rh_buf_puts(&line, "[");
                rh_report_markdown_text(&line, e[i].name);
                rh_buf_puts(&line, "](");
                rh_report_uri_path(&line, folder);
                rh_buf_putc(&line, '/');
                if (e[i].file) {
                    rh_report_uri_path(&line, e[i].file);
                } else {
                    rh_report_uri_path(&line, e[i].name);
                    rh_buf_puts(&line, "/migration.sql");
                }
                if (pl->mode == RH_SEND_WHOLE_FALLBACK && pl->fallback_line > 0)
                    rh_buf_printf(&line, "#L%d", pl->fallback_line);
                rh_buf_puts(&line, ")");
            } else {
                rh_report_markdown_text(&line, e[i].name);
            }
            rh_buf_puts(&line, " | ");
            rh_buf mode;
            rh_buf_init(&mode);
            how_of(&e[i], &mode);
            rh_report_markdown_text(&line, mode.data);
            rh_buf_free(&mode);
            rh_buf_printf(&line, " | %s | ", pl->atomic ? "yes" : "**no**");
            if (e[i].fails) { /* another tool's own words */
                rh_buf_puts(&line, "❌ ");
                rh_report_markdown_text(&line, e[i].fails);
            } else {
                rh_buf_puts(&line, !pl->n_concurrently ? "–" : pl->concurrently_fails ? "❌ fails with 25001" : "allowed");
            }
            rh_buf_puts(&line, " |\n");
            if (out->len - start + line.len + CUT_RESERVE > RH_REPORT_MARKDOWN_LIMIT) {
                cut = n - i;
                break;
            }
            rh_buf_append(out, line.data, line.len);
        }
    } else {
        rh_buf_puts(out, "no migrations\n");
    }
    rh_buf_free(&line);
    if (cut)
        rh_buf_printf(out, "\n**cut:** %zu migration row(s) did not fit in a comment (%d characters); "
                      "`rehearse plan --format json` has them all.\n", cut, RH_REPORT_MARKDOWN_LIMIT);
    assert(out->len - start <= RH_REPORT_MARKDOWN_LIMIT);
}
