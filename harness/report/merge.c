/* merge.c — reading `rehearse run --format json` reports back and merging them (see merge.h). */
#include "report/merge.h"
#include "tools/tool.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

static const char *str_of(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                                                           : NULL;
}

static char *dup_of(json_object *o, const char *k)
{
    const char *s = str_of(o, k);
    return s ? rh_xstrdup(s) : NULL;
}

static double num_of(json_object *o, const char *k)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return 0;
    return json_object_get_double(v);
}

/* A count or a line number: a whole number from 0 to max, 0 when absent; -1 when it is something else (a
   report no rehearse wrote: converting an out-of-range double to an integer is undefined). */
static long long whole_of(json_object *o, const char *k, long long max)
{
    double d = num_of(o, k);
    return d >= 0 && d <= (double)max && d == (double)(long long)d ? (long long)d : -1;
}

static int bool_of(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* The line of byte offset `off` in text (1-based). */
static int line_at(const char *text, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off && text[i]; i++)
        line += text[i] == '\n';
    return line;
}

static int read_scenario(json_object *so, rh_result *r, rh_err *err)
{
    static const char *const words[] = {"pass", "fail", "error", "skip"};
    static const rh_status states[] = {RH_PASS, RH_FAIL, RH_ERROR, RH_SKIP};
    const char *path = str_of(so, "path"), *status = str_of(so, "status");
    if (!path || !*path)
        return rh_err_set(err, "expected \"path\": the scenario file");
    size_t k = 0;
    while (k < 4 && (!status || strcmp(status, words[k]) != 0))
        k++;
    if (k == 4)
        return rh_err_set(err, "%s: expected \"status\": \"pass\", \"fail\", \"error\" or \"skip\"", path);
    long long signal = whole_of(so, "signal", 255), run = whole_of(so, "steps_run", INT32_MAX),
              total = whole_of(so, "steps_total", INT32_MAX);
    json_object *f;
    int has_failure = json_object_object_get_ex(so, "failure", &f) && json_object_is_type(f, json_type_object);
    long long line = has_failure ? whole_of(f, "line", INT32_MAX) : 0;
    if (signal < 0 || run < 0 || total < 0 || line < 0)
        return rh_err_set(err, "%s: \"signal\", \"steps_run\", \"steps_total\" and the failure's \"line\" must be "
                               "whole numbers from 0 (signal: to 255)", path);
    memset(r, 0, sizeof *r);
    r->path = rh_xstrdup(path);
    r->name = dup_of(so, "name");
    r->status = states[k];
    r->timed_out = bool_of(so, "timed_out");
    r->superuser = bool_of(so, "superuser");
    r->crashed = bool_of(so, "crashed");
    r->signal = (int)signal;
    r->ms = num_of(so, "ms");
    r->overhead_ms = num_of(so, "overhead_ms");
    r->steps_ms = num_of(so, "steps_ms");
    r->setup_ms = num_of(so, "setup_ms");
    r->steps_run = (size_t)run;
    r->steps_total = (size_t)total;
    if (has_failure) {
        r->file = dup_of(f, "file");
        r->line = (int)line;
        r->step = dup_of(f, "step");
        r->message = dup_of(f, "message");
        r->expected = dup_of(f, "expected");
        r->actual = dup_of(f, "actual");
        r->diff = dup_of(f, "diff");
        r->output = dup_of(f, "output");
        r->output_tool = dup_of(f, "output_tool");
        r->log_tail = dup_of(f, "log_tail");
        r->kept = dup_of(f, "kept");
        r->kept_id = dup_of(f, "kept_id");
        r->context = dup_of(f, "context");
    }
    r->skip_reason = dup_of(so, "skip_reason");
    r->postgres = dup_of(so, "postgres");
    r->pg_note = dup_of(so, "postgres_note");
    json_object *profiles;
    if (json_object_object_get_ex(so, "profiles", &profiles) && json_object_is_type(profiles, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(profiles); i++) {
            json_object *po = json_object_array_get_idx(profiles, i);
            const char *version = str_of(po, "version"), *from = str_of(po, "from"), *source = str_of(po, "source");
            rh_profile p;
            rh_err perr;
            if (!version || !source || rh_tool_profile(RH_TOOL_DEFAULT, &p, version, &perr) < 0)
                continue; /* a version this build does not know: the scenario's other results still count */
            rh_profile_from pf = RH_PROFILE_FROM_DEFAULT;
            for (int w = 0; w < 4; w++)
                if (from && strcmp(from, rh_profile_from_name((rh_profile_from)w)) == 0)
                    pf = (rh_profile_from)w;
            rh_result_add_profile(r, &p, pf, source);
        }
    }
    rh_result_steps_from_json(so, r);
    return 0;
}

int rh_report_read_json(const char *name, const char *text, size_t len, rh_run *into, rh_err *err)
{
    json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *root = len > (size_t)INT32_MAX ? NULL : json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t off = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success) {
        json_object_put(root);
        return rh_err_set(err, "%s:%d: not JSON (%s); expected a `rehearse run --format json` report", name,
                          line_at(text, off), jerr == json_tokener_success ? "incomplete" : json_tokener_error_desc(jerr));
    }
    json_object *arr, *sum;
    if (!json_object_is_type(root, json_type_object) || !json_object_object_get_ex(root, "scenarios", &arr) ||
        !json_object_is_type(arr, json_type_array) || !json_object_object_get_ex(root, "summary", &sum) ||
        !json_object_is_type(sum, json_type_object)) {
        json_object_put(root);
        return rh_err_set(err, "%s: expected a `rehearse run --format json` report (an object with \"summary\" and "
                               "a \"scenarios\" array)", name);
    }
    long long jobs = whole_of(sum, "jobs", 4096);
    if (jobs < 0) {
        json_object_put(root);
        return rh_err_set(err, "%s: summary: \"jobs\" must be a whole number from 0 to 4096", name);
    }
    size_t n = json_object_array_length(arr);
    rh_result *rs = rh_xcalloc(n ? n : 1, sizeof *rs);
    for (size_t i = 0; i < n; i++) {
        json_object *so = json_object_array_get_idx(arr, i);
        rh_err e;
        if (!json_object_is_type(so, json_type_object) || read_scenario(so, &rs[i], &e) < 0) {
            rh_err_set(err, "%s: scenario %zu: %s", name, i + 1,
                       json_object_is_type(so, json_type_object) ? e.msg : "expected an object");
            for (size_t k = 0; k < i; k++)
                rh_result_free(&rs[k]);
            free(rs);
            json_object_put(root);
            return -1;
        }
    }
    into->results = rh_xrealloc(into->results, (into->n + n + 1) * sizeof *into->results);
    memcpy(into->results + into->n, rs, n * sizeof *rs);
    into->n += n;
    free(rs);
    double wall = num_of(sum, "wall_ms");
    into->wall_ms = wall > into->wall_ms ? wall : into->wall_ms;
    into->jobs += (int)jobs;
    json_object_put(root);
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const rh_result *)a)->path, ((const rh_result *)b)->path);
}

int rh_report_merge_finish(rh_run *run, rh_err *err)
{
    if (run->n)
        qsort(run->results, run->n, sizeof *run->results, by_path);
    run->passed = run->failed = run->errors = run->skipped = 0;
    for (size_t i = 0; i < run->n; i++) {
        if (i && strcmp(run->results[i].path, run->results[i - 1].path) == 0)
            return rh_err_set(err, "scenario %s is in two reports: give each shard's report once", run->results[i].path);
        switch (run->results[i].status) {
        case RH_PASS: run->passed++; break;
        case RH_FAIL: run->failed++; break;
        case RH_ERROR: run->errors++; break;
        case RH_SKIP: run->skipped++; break;
        }
    }
    return 0;
}
