/*
 * result.c — the result of a scenario: filling in a failure, freeing, the run's exit code, and the
 * JSON form a worker process sends back to the runner.
 */
#include "runner/runner.h"
#include "tools/tool.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rh_result_free(rh_result *r)
{
    if (!r)
        return;
    free(r->path);
    free(r->name);
    free(r->file);
    free(r->step);
    free(r->message);
    free(r->expected);
    free(r->actual);
    free(r->diff);
    free(r->output);
    free(r->output_tool);
    free(r->log_tail);
    free(r->kept);
    free(r->kept_id);
    free(r->skip_reason);
    for (size_t i = 0; i < r->n_profiles; i++)
        free(r->profiles[i].source);
    free(r->profiles);
    free(r->postgres);
    free(r->pg_note);
    free(r->context);
    for (size_t i = 0; i < r->n_steps; i++) {
        rh_result_step *st = &r->steps[i];
        free(st->file);
        free(st->source);
        for (size_t k = 0; k < st->n_ledger; k++)
            free(st->ledger[k].name);
        free(st->ledger);
        rh_result_traces_free(st->traces, st->n_traces);
        free(st->trace_note);
        free(st->wait_note);
    }
    free(r->steps);
    memset(r, 0, sizeof *r);
}

void rh_result_add_profile(rh_result *r, const rh_profile *p, rh_profile_from from, const char *source)
{
    for (size_t i = 0; i < r->n_profiles; i++)
        if (strcmp(r->profiles[i].profile.version, p->version) == 0 && strcmp(r->profiles[i].source, source) == 0)
            return;
    r->profiles = rh_xrealloc(r->profiles, (r->n_profiles + 1) * sizeof *r->profiles);
    r->profiles[r->n_profiles++] = (rh_result_profile){.profile = *p, .from = from, .source = rh_xstrdup(source)};
}

static char *dup_or_null(const char *s)
{
    return s ? rh_xstrdup(s) : NULL;
}

void rh_result_traces_free(rh_result_trace *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].migration);
        free(t[i].transaction);
        for (size_t k = 0; k < t[i].n_locks; k++) {
            free(t[i].locks[k].relation);
            free(t[i].locks[k].mode);
        }
        free(t[i].locks);
    }
    free(t);
}

rh_result_step *rh_result_add_step(rh_result *r, const char *file, int line, const char *source, double ms,
                                   int failed)
{
    r->steps = rh_xrealloc(r->steps, (r->n_steps + 1) * sizeof *r->steps);
    rh_result_step *st = &r->steps[r->n_steps++];
    *st = (rh_result_step){.file = dup_or_null(file), .line = line, .source = dup_or_null(source), .ms = ms,
                           .failed = failed};
    return st;
}

void rh_result_fail(rh_result *r, rh_status st, const rh_scn_step *step, const char *message, const char *expected,
                    const char *actual)
{
    r->status = st;
    free(r->file);
    free(r->step);
    free(r->message);
    free(r->expected);
    free(r->actual);
    r->file = step ? rh_xstrdup(step->file) : rh_xstrdup(r->path ? r->path : "");
    r->line = step ? step->line : 0;
    r->step = step && step->source ? rh_xstrdup(step->source) : NULL;
    r->message = dup_or_null(message);
    r->expected = dup_or_null(expected);
    r->actual = dup_or_null(actual);
}

void rh_run_free(rh_run *run)
{
    for (size_t i = 0; i < run->n; i++)
        rh_result_free(&run->results[i]);
    free(run->results);
    memset(run, 0, sizeof *run);
}

int rh_run_exit_code(const rh_run *run)
{
    if (run->errors)
        return 2;
    return run->failed ? 1 : 0;
}

/* ---- JSON transport ---------------------------------------------------------------------------- */

/*
 * Two JSON forms of a result exist on purpose, and differ in shape: this one is the private
 * worker-to-runner transport (flat, every field, status as its number, one line, read back by
 * rh_result_from_json); report/machine.c writes the public `--format json` report (status as a
 * word, timed_out / crashed only when true, the failure fields nested under "failure" and only for
 * a failure or an error), whose shape users' scripts rely on. The field groups they share are
 * written once, by the two functions below, so both forms name and fill them alike.
 */

static void put_str(json_object *o, const char *k, const char *v)
{
    if (v)
        json_object_object_add(o, k, json_object_new_string(v));
}

void rh_result_json_times(struct json_object *o, const rh_result *r)
{
    json_object_object_add(o, "ms", json_object_new_double(r->ms));
    json_object_object_add(o, "overhead_ms", json_object_new_double(r->overhead_ms));
    json_object_object_add(o, "steps_ms", json_object_new_double(r->steps_ms));
    json_object_object_add(o, "setup_ms", json_object_new_double(r->setup_ms));
    json_object_object_add(o, "steps_run", json_object_new_int64((int64_t)r->steps_run));
    json_object_object_add(o, "steps_total", json_object_new_int64((int64_t)r->steps_total));
}

void rh_result_json_failure(struct json_object *o, const rh_result *r)
{
    put_str(o, "file", r->file);
    json_object_object_add(o, "line", json_object_new_int(r->line));
    put_str(o, "step", r->step);
    put_str(o, "message", r->message);
    put_str(o, "expected", r->expected);
    put_str(o, "actual", r->actual);
    put_str(o, "diff", r->diff);
    put_str(o, "output", r->output);
    put_str(o, "output_tool", r->output_tool);
    put_str(o, "log_tail", r->log_tail);
    put_str(o, "kept", r->kept);
    put_str(o, "kept_id", r->kept_id);
    put_str(o, "context", r->context);
}

void rh_result_json_steps(struct json_object *o, const rh_result *r)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < r->n_steps; i++) {
        const rh_result_step *st = &r->steps[i];
        json_object *so = json_object_new_object();
        put_str(so, "file", st->file);
        json_object_object_add(so, "line", json_object_new_int(st->line));
        put_str(so, "source", st->source);
        json_object_object_add(so, "ms", json_object_new_double(st->ms));
        json_object_object_add(so, "failed", json_object_new_boolean(st->failed));
        if (st->ledger_gone)
            json_object_object_add(so, "ledger_gone", json_object_new_boolean(1));
        if (st->ledger_changed) {
            json_object *rows = json_object_new_array();
            for (size_t k = 0; k < st->n_ledger; k++) {
                const rh_result_ledger_row *l = &st->ledger[k];
                json_object *lo = json_object_new_object();
                put_str(lo, "name", l->name);
                put_str(lo, "started", l->started);
                json_object_object_add(lo, "finished", json_object_new_boolean(l->finished));
                json_object_object_add(lo, "rolled_back", json_object_new_boolean(l->rolled_back));
                json_object_object_add(lo, "applied_steps", json_object_new_int(l->applied_steps));
                json_object_object_add(lo, "ms", l->ms >= 0 ? json_object_new_double(l->ms) : NULL);
                json_object_array_add(rows, lo);
            }
            json_object_object_add(so, "ledger", rows);
        }
        if (st->n_traces) {
            json_object *traces = json_object_new_array();
            for (size_t k = 0; k < st->n_traces; k++) {
                const rh_result_trace *t = &st->traces[k];
                json_object *to = json_object_new_object();
                put_str(to, "migration", t->migration);
                json_object_object_add(to, "ms", json_object_new_double(t->ms));
                json_object_object_add(to, "failed", json_object_new_boolean(t->failed));
                put_str(to, "transaction", t->transaction);
                json_object *held = json_object_new_array();
                for (size_t j = 0; j < t->n_locks; j++) {
                    json_object *lo = json_object_new_object();
                    put_str(lo, "relation", t->locks[j].relation);
                    put_str(lo, "mode", t->locks[j].mode);
                    json_object_array_add(held, lo);
                }
                json_object_object_add(to, "held", held);
                json_object_array_add(traces, to);
            }
            json_object_object_add(so, "locks", traces);
        }
        put_str(so, "locks_note", st->trace_note);
        put_str(so, "wait_note", st->wait_note);
        if (st->wait_note)
            json_object_object_add(so, "wait_skipped_ms", json_object_new_double(st->wait_skipped_ms));
        json_object_array_add(arr, so);
    }
    json_object_object_add(o, "steps", arr);
}

char *rh_result_to_json(const rh_result *r)
{
    json_object *o = json_object_new_object();
    put_str(o, "path", r->path);
    put_str(o, "name", r->name);
    json_object_object_add(o, "status", json_object_new_int(r->status));
    json_object_object_add(o, "superuser", json_object_new_int(r->superuser));
    json_object_object_add(o, "timed_out", json_object_new_int(r->timed_out));
    json_object_object_add(o, "crashed", json_object_new_int(r->crashed));
    json_object_object_add(o, "signal", json_object_new_int(r->signal));
    rh_result_json_times(o, r);
    rh_result_json_failure(o, r);
    rh_result_json_steps(o, r);
    put_str(o, "skip_reason", r->skip_reason);
    put_str(o, "postgres", r->postgres);
    put_str(o, "pg_note", r->pg_note);
    if (r->n_profiles) { /* the version is enough: the profile is a function of it */
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < r->n_profiles; i++) {
            json_object *po = json_object_new_object();
            put_str(po, "version", r->profiles[i].profile.version);
            json_object_object_add(po, "from", json_object_new_int(r->profiles[i].from));
            put_str(po, "source", r->profiles[i].source);
            json_object_array_add(arr, po);
        }
        json_object_object_add(o, "profiles", arr);
    }
    char *s = rh_xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

static char *get_str(json_object *o, const char *k)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || json_object_get_type(v) != json_type_string)
        return NULL;
    return rh_xstrdup(json_object_get_string(v));
}

static int64_t get_int(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static double get_double(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0;
}

static int get_bool(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_boolean(v) : 0;
}

void rh_result_steps_from_json(struct json_object *o, rh_result *r)
{
    json_object *arr;
    if (!json_object_object_get_ex(o, "steps", &arr) || !json_object_is_type(arr, json_type_array))
        return;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *so = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(so, json_type_object))
            continue;
        json_object *v;
        const char *file = json_object_object_get_ex(so, "file", &v) ? json_object_get_string(v) : NULL;
        const char *src = json_object_object_get_ex(so, "source", &v) ? json_object_get_string(v) : NULL;
        rh_result_step *st = rh_result_add_step(r, file, (int)get_int(so, "line"), src, get_double(so, "ms"),
                                                get_bool(so, "failed"));
        st->ledger_gone = get_bool(so, "ledger_gone");
        st->trace_note = get_str(so, "locks_note");
        st->wait_note = get_str(so, "wait_note");
        st->wait_skipped_ms = get_double(so, "wait_skipped_ms");
        json_object *traces;
        if (json_object_object_get_ex(so, "locks", &traces) && json_object_is_type(traces, json_type_array)) {
            st->n_traces = json_object_array_length(traces);
            st->traces = rh_xcalloc(st->n_traces ? st->n_traces : 1, sizeof *st->traces);
            for (size_t k = 0; k < st->n_traces; k++) {
                json_object *to = json_object_array_get_idx(traces, k), *held;
                rh_result_trace *t = &st->traces[k];
                if (!json_object_is_type(to, json_type_object))
                    continue;
                t->migration = get_str(to, "migration");
                t->ms = get_double(to, "ms");
                t->failed = get_bool(to, "failed");
                t->transaction = get_str(to, "transaction");
                if (!json_object_object_get_ex(to, "held", &held) || !json_object_is_type(held, json_type_array))
                    continue;
                t->n_locks = json_object_array_length(held);
                t->locks = rh_xcalloc(t->n_locks ? t->n_locks : 1, sizeof *t->locks);
                for (size_t j = 0; j < t->n_locks; j++) {
                    json_object *lo = json_object_array_get_idx(held, j);
                    if (!json_object_is_type(lo, json_type_object))
                        continue;
                    t->locks[j].relation = get_str(lo, "relation");
                    t->locks[j].mode = get_str(lo, "mode");
                }
            }
        }
        json_object *rows;
        if (!json_object_object_get_ex(so, "ledger", &rows) || !json_object_is_type(rows, json_type_array))
            continue;
        st->ledger_changed = 1;
        st->n_ledger = json_object_array_length(rows);
        st->ledger = rh_xcalloc(st->n_ledger ? st->n_ledger : 1, sizeof *st->ledger);
        for (size_t k = 0; k < st->n_ledger; k++) {
            json_object *lo = json_object_array_get_idx(rows, k);
            rh_result_ledger_row *l = &st->ledger[k];
            l->name = get_str(lo, "name");
            char *started = get_str(lo, "started");
            snprintf(l->started, sizeof l->started, "%s", started ? started : "");
            free(started);
            l->finished = get_bool(lo, "finished");
            l->rolled_back = get_bool(lo, "rolled_back");
            l->applied_steps = (int)get_int(lo, "applied_steps");
            json_object *ms;
            l->ms = json_object_object_get_ex(lo, "ms", &ms) && ms ? json_object_get_double(ms) : -1;
        }
    }
}

int rh_result_from_json(const char *text, rh_result *r, rh_err *err)
{
    memset(r, 0, sizeof *r);
    json_object *o = json_tokener_parse(text);
    if (!o || json_object_get_type(o) != json_type_object) {
        if (o)
            json_object_put(o);
        return rh_err_set(err, "a worker sent a result that is not JSON");
    }
    r->path = get_str(o, "path");
    r->name = get_str(o, "name");
    r->status = (rh_status)get_int(o, "status");
    r->timed_out = (int)get_int(o, "timed_out");
    r->crashed = (int)get_int(o, "crashed");
    r->signal = (int)get_int(o, "signal");
    r->ms = get_double(o, "ms");
    r->overhead_ms = get_double(o, "overhead_ms");
    r->steps_ms = get_double(o, "steps_ms");
    r->setup_ms = get_double(o, "setup_ms");
    r->steps_run = (size_t)get_int(o, "steps_run");
    r->steps_total = (size_t)get_int(o, "steps_total");
    r->file = get_str(o, "file");
    r->line = (int)get_int(o, "line");
    r->step = get_str(o, "step");
    r->message = get_str(o, "message");
    r->expected = get_str(o, "expected");
    r->actual = get_str(o, "actual");
    r->diff = get_str(o, "diff");
    r->output = get_str(o, "output");
    r->output_tool = get_str(o, "output_tool");
    r->log_tail = get_str(o, "log_tail");
    r->kept = get_str(o, "kept");
    r->kept_id = get_str(o, "kept_id");
    r->context = get_str(o, "context");
    rh_result_steps_from_json(o, r);
    r->skip_reason = get_str(o, "skip_reason");
    r->postgres = get_str(o, "postgres");
    r->pg_note = get_str(o, "pg_note");
    json_object *arr;
    if (json_object_object_get_ex(o, "profiles", &arr) && json_object_is_type(arr, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            json_object *po = json_object_array_get_idx(arr, i);
            char *pv = get_str(po, "version"), *src = get_str(po, "source");
            rh_profile p;
            rh_err perr;
            if (pv && src && rh_tool_profile(RH_TOOL_DEFAULT, &p, pv, &perr) == 0) /* the default tool's */
                rh_result_add_profile(r, &p, (rh_profile_from)get_int(po, "from"), src);
            free(pv);
            free(src);
        }
    }
    r->superuser = (int)get_int(o, "superuser");
    json_object_put(o);
    return 0;
}
