/*
 * machine.c — the reports programs read: TAP version 13 (with YAML diagnostics, as prove and
 * pg_prove read them), JUnit XML (the Jenkins / GitLab / GitHub test-report schema: testsuites >
 * testsuite > testcase with failure / error / skipped), JSON, and GitHub Actions annotations.
 */
#include "report/report.h"
#include "report/profile.h"

#include "report/escape.h"
#include "util/utf8.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The failure as plain text (what the human report prints), for TAP and JUnit bodies. */
static void detail(const rh_result *r, rh_buf *out)
{
    if (r->file && r->line)
        rh_buf_printf(out, "at %s:%d%s%s\n", r->file, r->line, r->step ? ": " : "", r->step ? r->step : "");
    if (r->message)
        rh_buf_printf(out, "%s\n", r->message);
    if (r->expected)
        rh_buf_printf(out, "expected: %s\n", r->expected);
    if (r->actual)
        rh_buf_printf(out, "actual:   %s\n", r->actual);
    if (r->diff && *r->diff)
        rh_buf_printf(out, "catalog diff:\n%s%s", r->diff, r->diff[strlen(r->diff) - 1] == '\n' ? "" : "\n");
    if (r->output && *r->output) {
        rh_report_output_title(r, 0, out);
        rh_buf_printf(out, ":\n%s%s", r->output, r->output[strlen(r->output) - 1] == '\n' ? "" : "\n");
    }
    if (r->kept)
        rh_buf_printf(out, "cluster kept running; connect with: %s\n", r->kept);
}

/* ---- TAP 13 ----------------------------------------------------------------------------------------- */

/*
 * A YAML block scalar (`key: |`) so any text is safe; control characters become spaces. prove's
 * YAMLish reader takes the first line's indentation as the block's, so that line's leading blanks
 * are dropped (a later line indented less would end the block early).
 */
static void yaml_block(rh_buf *out, const char *key, const char *raw)
{
    if (!raw || !*raw)
        return;
    rh_buf safe; /* a TAP stream is read in terminals too: no escape sequences from the repository */
    rh_buf_init(&safe);
    rh_report_term_text(&safe, raw);
    const char *text = safe.data;
    rh_buf_printf(out, "  %s: |\n", key);
    const char *p = text;
    while (*p == ' ' || *p == '\t')
        p++;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        rh_buf_puts(out, "    ");
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)p[i];
            if (ch >= 0x80) {
                /* well-formed UTF-8 is kept (rh_report_term_text made stray bytes U+FFFD) */
                uint32_t cp;
                size_t len = rh_utf8_decode((const unsigned char *)p + i, n - i, &cp);
                if (len) {
                    rh_buf_append(out, p + i, len);
                    i += len - 1;
                } else {
                    rh_buf_putc(out, '?');
                }
                continue;
            }
            rh_buf_putc(out, ch < 0x20 && ch != '\t' ? ' ' : (char)ch);
        }
        rh_buf_putc(out, '\n');
        p += n + (nl ? 1 : 0);
    }
    rh_buf_free(&safe);
}

/* A test description: one line, `#` escaped (it starts a directive in TAP). */
static void tap_desc(rh_buf *out, const char *raw)
{
    rh_buf safe; /* control characters shown, not obeyed (rh_report_term_text) */
    rh_buf_init(&safe);
    rh_report_term_text(&safe, raw);
    for (const char *s = safe.data; *s; s++) {
        if (*s == '\n' || *s == '\r')
            rh_buf_putc(out, ' ');
        else if (*s == '#')
            rh_buf_puts(out, "\\#");
        else if (*s == '\\')
            rh_buf_puts(out, "\\\\");
        else
            rh_buf_putc(out, *s);
    }
    rh_buf_free(&safe);
}

void rh_report_tap(const rh_run *run, rh_buf *out)
{
    rh_buf_printf(out, "TAP version 13\n1..%zu\n", run->n);
    for (size_t i = 0; i < run->n; i++) {
        const rh_result *r = &run->results[i];
        int ok = r->status == RH_PASS || r->status == RH_SKIP;
        rh_buf_printf(out, "%s %zu - ", ok ? "ok" : "not ok", i + 1);
        tap_desc(out, r->name ? r->name : r->path);
        if (r->status == RH_SKIP) {
            rh_buf_puts(out, " # SKIP ");
            tap_desc(out, r->skip_reason ? r->skip_reason : "");
        }
        rh_buf_putc(out, '\n');
        for (size_t k = 0; k < r->n_profiles; k++) { /* diagnostic lines: TAP consumers show them */
            rh_buf line;
            rh_buf_init(&line);
            rh_report_profile_line(&r->profiles[k].profile, r->profiles[k].source, &line);
            rh_buf_puts(out, "# ");
            tap_desc(out, line.data);
            rh_buf_putc(out, '\n');
            rh_buf_free(&line);
        }
        if (r->pg_note) {
            rh_buf_puts(out, "# note: ");
            tap_desc(out, r->pg_note);
            rh_buf_putc(out, '\n');
        }
        if (ok)
            continue;
        rh_buf_puts(out, "  ---\n");
        yaml_block(out, "message", r->message);
        rh_buf_printf(out, "  severity: %s\n", r->status == RH_FAIL ? "fail" : r->timed_out ? "timeout"
                                                : r->crashed ? "crash" : "error");
        yaml_block(out, "scenario", r->path);
        if (r->file && r->line) {
            rh_buf_printf(out, "  line: %d\n", r->line);
            yaml_block(out, "file", r->file);
        }
        yaml_block(out, "step", r->step);
        yaml_block(out, "expected", r->expected);
        yaml_block(out, "actual", r->actual);
        yaml_block(out, "diff", r->diff);
        yaml_block(out, "output", r->output);
        yaml_block(out, "log", r->log_tail);
        yaml_block(out, "kept", r->kept);
        rh_buf_puts(out, "  ...\n");
    }
}

/* ---- JUnit XML -------------------------------------------------------------------------------------- */

/* "scenarios/004/partial.scenario" -> "scenarios.004.partial" */
static void classname(rh_buf *out, const char *path)
{
    rh_buf b;
    rh_buf_init(&b);
    size_t n = strlen(path);
    if (n > 9 && strcmp(path + n - 9, ".scenario") == 0)
        n -= 9;
    for (size_t i = 0; i < n; i++)
        rh_buf_putc(&b, path[i] == '/' ? '.' : path[i]);
    rh_report_xml_text(out, b.data);
    rh_buf_free(&b);
}

void rh_report_junit(const rh_run *run, rh_buf *out)
{
    char stamp[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    size_t failures = run->failed, errors = run->errors;
    rh_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    rh_buf_printf(out, "<testsuites name=\"rehearse\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"%.3f\">\n",
                  run->n, failures, errors, run->wall_ms / 1000.0);
    rh_buf_printf(out, "  <testsuite name=\"rehearse\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" "
                       "time=\"%.3f\" timestamp=\"%s\" hostname=\"",
                  run->n, failures, errors, run->skipped, run->wall_ms / 1000.0, stamp);
    rh_report_xml_text(out, host);
    rh_buf_puts(out, "\">\n");
    for (size_t i = 0; i < run->n; i++) {
        const rh_result *r = &run->results[i];
        rh_buf_puts(out, "    <testcase name=\"");
        rh_report_xml_text(out, r->name ? r->name : r->path);
        rh_buf_puts(out, "\" classname=\"");
        classname(out, r->path);
        rh_buf_printf(out, "\" time=\"%.3f\"", r->ms / 1000.0);
        if (r->status == RH_PASS && !r->n_profiles && !r->pg_note) {
            rh_buf_puts(out, "/>\n");
            continue;
        }
        rh_buf_puts(out, ">\n");
        if (r->n_profiles || r->pg_note) { /* the profiles the scenario used: the test case's output */
            rh_buf line;
            rh_buf_init(&line);
            for (size_t k = 0; k < r->n_profiles; k++) {
                if (k)
                    rh_buf_putc(&line, '\n');
                rh_report_profile_line(&r->profiles[k].profile, r->profiles[k].source, &line);
            }
            if (r->pg_note)
                rh_buf_printf(&line, "%snote: %s", r->n_profiles ? "\n" : "", r->pg_note);
            rh_buf_puts(out, "      <system-out>");
            rh_report_xml_text(out, line.data);
            rh_buf_puts(out, "</system-out>\n");
            rh_buf_free(&line);
        }
        if (r->status == RH_PASS) {
            rh_buf_puts(out, "    </testcase>\n");
            continue;
        }
        if (r->status == RH_SKIP) {
            rh_buf_puts(out, "      <skipped message=\"");
            rh_report_xml_text(out, r->skip_reason);
            rh_buf_puts(out, "\"/>\n");
        } else {
            const char *el = r->status == RH_FAIL ? "failure" : "error";
            rh_buf_printf(out, "      <%s type=\"%s\" message=\"", el, r->status == RH_FAIL ? "fail" : r->timed_out
                          ? "timeout" : r->crashed ? "crash" : "error");
            /* the message attribute: where and the first line */
            rh_buf m;
            rh_buf_init(&m);
            if (r->file && r->line)
                rh_buf_printf(&m, "%s:%d: ", r->file, r->line);
            if (r->message) {
                const char *nl = strchr(r->message, '\n');
                rh_buf_append(&m, r->message, nl ? (size_t)(nl - r->message) : strlen(r->message));
            }
            rh_report_xml_text(out, m.data);
            rh_buf_puts(out, "\">");
            rh_buf_reset(&m);
            detail(r, &m);
            rh_report_xml_text(out, m.data);
            rh_buf_free(&m);
            rh_buf_printf(out, "</%s>\n", el);
            if (r->log_tail && *r->log_tail) {
                rh_buf_puts(out, "      <system-err>");
                rh_report_xml_text(out, r->log_tail);
                rh_buf_puts(out, "</system-err>\n");
            }
        }
        rh_buf_puts(out, "    </testcase>\n");
    }
    rh_buf_puts(out, "  </testsuite>\n</testsuites>\n");
}

/* ---- JSON ------------------------------------------------------------------------------------------- */

/*
 * The public `--format json` report. Not the worker-to-runner transport (rh_result_to_json in
 * runner/result.c), and different on purpose: statuses are words, timed_out / crashed appear only
 * when true, the failure is a nested "failure" object present only for a failure or an error —
 * the shape scripts read. The timing and failure field groups are the runner's own writers, so the
 * two forms name and fill them alike.
 */

static void jstr(json_object *o, const char *k, const char *v)
{
    if (v)
        json_object_object_add(o, k, json_object_new_string(v));
}

void rh_report_json(const rh_run *run, rh_buf *out)
{
    json_object *root = json_object_new_object();
    json_object *sum = json_object_new_object();
    json_object_object_add(sum, "total", json_object_new_int64((int64_t)run->n));
    json_object_object_add(sum, "passed", json_object_new_int64((int64_t)run->passed));
    json_object_object_add(sum, "failed", json_object_new_int64((int64_t)run->failed));
    json_object_object_add(sum, "errors", json_object_new_int64((int64_t)run->errors));
    json_object_object_add(sum, "skipped", json_object_new_int64((int64_t)run->skipped));
    json_object_object_add(sum, "wall_ms", json_object_new_double(run->wall_ms));
    json_object_object_add(sum, "jobs", json_object_new_int(run->jobs));
    json_object_object_add(sum, "exit_code", json_object_new_int(rh_run_exit_code(run)));
    json_object_object_add(root, "summary", sum);
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < run->n; i++) {
        const rh_result *r = &run->results[i];
        json_object *o = json_object_new_object();
        jstr(o, "path", r->path);
        jstr(o, "name", r->name);
        static const char *const st[] = {"pass", "fail", "error", "skip"};
        json_object_object_add(o, "status", json_object_new_string(st[r->status]));
        if (r->timed_out)
            json_object_object_add(o, "timed_out", json_object_new_boolean(1));
        if (r->superuser)
            json_object_object_add(o, "superuser", json_object_new_boolean(1));
        if (r->crashed) {
            json_object_object_add(o, "crashed", json_object_new_boolean(1));
            json_object_object_add(o, "signal", json_object_new_int(r->signal));
        }
        rh_result_json_times(o, r);
        rh_result_json_steps(o, r);
        if (r->status == RH_FAIL || r->status == RH_ERROR) {
            json_object *f = json_object_new_object();
            rh_result_json_failure(f, r);
            json_object_object_add(o, "failure", f);
        }
        jstr(o, "skip_reason", r->skip_reason);
        jstr(o, "postgres", r->postgres);
        jstr(o, "postgres_note", r->pg_note);
        if (r->n_profiles) {
            json_object *profiles = json_object_new_array();
            for (size_t k = 0; k < r->n_profiles; k++)
                json_object_array_add(profiles, rh_report_profile_json(&r->profiles[k].profile, r->profiles[k].from,
                                                                       r->profiles[k].source));
            json_object_object_add(o, "profiles", profiles);
        }
        json_object_array_add(arr, o);
    }
    json_object_object_add(root, "scenarios", arr);
    rh_report_json_write(root, out);
    json_object_put(root);
}

/* ---- GitHub Actions ----------------------------------------------------------------------------------- */

void rh_report_github(const rh_run *run, rh_buf *out)
{
    for (size_t i = 0; i < run->n; i++) {
        const rh_result *r = &run->results[i];
        if (r->status != RH_FAIL && r->status != RH_ERROR)
            continue;
        rh_buf_puts(out, "::error file=");
        rh_report_github_escape(out, r->file ? r->file : r->path, 1);
        if (r->line)
            rh_buf_printf(out, ",line=%d", r->line);
        rh_buf_puts(out, ",title=");
        rh_buf t;
        rh_buf_init(&t);
        rh_buf_printf(&t, "rehearse %s: %s", rh_report_status_word(r), r->name ? r->name : r->path);
        rh_report_github_escape(out, t.data, 1);
        rh_buf_reset(&t);
        rh_buf_puts(out, "::");
        if (r->message)
            rh_buf_puts(&t, r->message);
        if (r->expected)
            rh_buf_printf(&t, "\nexpected: %s", r->expected);
        if (r->actual)
            rh_buf_printf(&t, "\nactual:   %s", r->actual);
        rh_report_github_escape(out, t.data, 0);
        rh_buf_free(&t);
        rh_buf_putc(out, '\n');
    }
}
