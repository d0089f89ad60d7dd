/*
 * format.c — a check result as text: the human summary, JSON, JUnit XML and GitHub workflow
 * annotations. Formatting only: the decisions (levels, exit code) are made elsewhere.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "check/check.h"
#include "check/check_int.h"
#include "report/escape.h"
#include "report/profile.h"
#include "tools/tool.h"
#include "util/buf.h"

static const char *const step_titles[] = {
    ['a' - 'a'] = "clean deploy of head",
    ['b' - 'a'] = "upgrade path (base, then head)",
    ['c' - 'a'] = "catalog: upgrade path = clean deploy",
    ['d' - 'a'] = "history hazards between base and head",
    ['e' - 'a'] = "new migrations as production runs them",
    ['f' - 'a'] = "locks and rewrites of new migrations",
    ['g' - 'a'] = "seed data",
};

static const char *step_title(char step)
{
    return step >= 'a' && step <= 'g' ? step_titles[step - 'a'] : "check";
}

static size_t count_step(const rh_check_result *r, char step, rh_check_level at_least)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_findings; i++)
        if (r->findings[i].step == step && r->findings[i].level >= at_least)
            n++;
    return n;
}

/* A step's state, the same in every format. */
typedef enum step_state { STEP_PASSED, STEP_FAILED, STEP_SKIPPED, STEP_NOT_RUN } step_state;
static const char *const state_words[] = {"passed", "failed", "skipped", "not-run"};

/*
 * failed: the step did not do its job, or found an error-level problem; skipped: not asked for
 * (--no-locks, no --seed); not-run: an earlier failure left nothing to run it on (no catalog to
 * compare, a base that does not deploy). Warnings and notices do not fail a step: the counts say.
 */
static step_state step_state_of(const rh_check_result *r, char step)
{
    int errors = count_step(r, step, RH_CHECK_ERROR) > 0;
    switch (step) {
    case 'a': return r->clean_ok && !errors ? STEP_PASSED : STEP_FAILED;
    case 'b': return (r->base_ok || r->recovered) && r->upgrade_ok && !errors ? STEP_PASSED : STEP_FAILED;
    case 'c': return !r->catalog_compared ? STEP_NOT_RUN : r->catalog_differences || errors ? STEP_FAILED : STEP_PASSED;
    case 'e': return !r->base_ok && !r->recovered ? STEP_NOT_RUN : errors ? STEP_FAILED : STEP_PASSED;
    case 'f':
        if (r->locks_skipped)
            return STEP_SKIPPED;
        return r->n_pending && !r->n_traces ? STEP_NOT_RUN : errors ? STEP_FAILED : STEP_PASSED;
    case 'g': return r->seed == 0 ? STEP_SKIPPED : r->seed < 0 ? STEP_NOT_RUN : errors ? STEP_FAILED : STEP_PASSED;
    default: return errors ? STEP_FAILED : STEP_PASSED;
    }
}

static const char *relkind_word(char k)
{
    switch (k) {
    case 'r': return "table";
    case 'p': return "partitioned table";
    case 'm': return "materialized view";
    case 'i': case 'I': return "index";
    case 'S': return "sequence";
    case 'v': return "view";
    default: return "relation";
    }
}

/* One line per step with its state, as a person scans it in a CI log. */
static void human_step(const rh_check_result *r, rh_buf *out, char step, const char *state, int color)
{
    step_state st = step_state_of(r, step);
    int w = count_step(r, step, RH_CHECK_WARNING) > 0, skip = st == STEP_SKIPPED || st == STEP_NOT_RUN;
    const char *mark = st == STEP_FAILED ? "FAIL" : w ? "warn" : skip ? "skip" : "ok";
    const char *c0 = "", *c1 = "";
    if (color) {
        c0 = st == STEP_FAILED ? "\033[31m" : w ? "\033[33m" : skip ? "\033[2m" : "\033[32m";
        c1 = "\033[0m";
    }
    rh_buf_printf(out, "  (%c) %-42s %s%-4s%s  ", step, step_title(step), c0, mark, c1);
    rh_report_term_printf(out, "%s\n", state); /* may name a migration: repository text */
}

/* "1.23 s" / "850 ms" */
static void put_ms(rh_buf *b, double ms)
{
    if (ms >= 1000)
        rh_buf_printf(b, "%.2f s", ms / 1000);
    else
        rh_buf_printf(b, "%.0f ms", ms);
}

/* Measuring mode: the statement and table whose lock made an application query wait longest, first. */
static void human_worst_blocker(const rh_check_result *r, int color, rh_buf *out)
{
    const rh_check_trace *t = NULL;
    const rh_check_stmt *st = NULL;
    const rh_check_wait *w = rh_check_worst_wait(r, &t, &st);
    if (!w)
        return;
    rh_buf_printf(out, "  %sworst blocker:%s ", color ? "\033[1m" : "", color ? "\033[0m" : "");
    rh_report_term_printf(out, "%s:%d %s on %s (%lld rows when measured):", t->file, st->line, st->keywords, w->table,
                          w->rows);
    for (size_t k = 0; k < st->n_waits; k++) {
        const rh_check_wait *x = &st->waits[k];
        if (strcmp(x->table, w->table) != 0)
            continue;
        rh_buf_printf(out, " %s %s", x->write ? "writes" : "reads", x->blocked ? "waited" : "did not wait");
        if (x->blocked) {
            rh_buf_putc(out, ' ');
            put_ms(out, x->ms);
        }
        if (x->blocked && x->estimate_ms >= 0) {
            rh_buf_printf(out, " (ESTIMATE at production's %lld rows: ", x->production_rows);
            put_ms(out, x->estimate_ms);
            rh_buf_putc(out, ')');
        }
        rh_buf_putc(out, ';');
    }
    out->data[--out->len] = '\0';
    rh_buf_putc(out, '\n');
}

/* How a tool wraps its files in transactions, for the summary line. */
static const char *tool_txn_words(const rh_tool *t)
{
    switch (t->txn) {
    case RH_TOOL_TXN_PER_FILE: return "a transaction per file";
    case RH_TOOL_TXN_PER_RUN: return "every pending file in one transaction";
    default: return "no transaction of its own";
    }
}

/* A traced file's transaction, as the tool sent it: the run's (drizzle-kit), one per statement (measured Prisma
   >= 7.4), none for a file of statements that cannot run in one (a lone CREATE INDEX CONCURRENTLY, sent alone);
   otherwise the file's, less the statements marked outside it. */
const char *rh_check_trace_tx_name(const rh_check_trace *t)
{
    return t->run_tx ? "run" : t->autocommit ? "per-statement" : "file";
}

const char *rh_check_tx_word_runs(const char *word)
{
    if (word && strcmp(word, "run") == 0)
        return "every pending migration runs in one transaction";
    if (word && strcmp(word, "per-statement") == 0)
        return "each statement commits on its own";
    return NULL;
}

const char *rh_check_trace_runs(const rh_check_trace *t)
{
    const char *said = rh_check_tx_word_runs(t->run_tx || t->autocommit ? rh_check_trace_tx_name(t) : NULL);
    if (said)
        return said;
    size_t ran = 0, outside = 0;
    for (size_t i = 0; i < t->n; i++) {
        ran += !t->stmts[i].skipped;
        outside += !t->stmts[i].skipped && t->stmts[i].outside_tx;
    }
    if (outside > 0 && outside == ran)
        return ran == 1 ? "its one statement, sent alone, runs outside a transaction"
                        : "its statements run outside a transaction";
    if (outside > 0)
        return "the file runs as one transaction, less the statements marked outside one";
    return "the file runs as one transaction";
}

void rh_check_format_human(const rh_check_result *r, int color, rh_buf *out)
{
    rh_report_term_printf(out, "rehearse check: %s, base %s [%s] -> head %s\n", r->migrations ? r->migrations : "?",
                  r->base.label, r->base_how, r->head.label);
    human_worst_blocker(r, color, out);
    rh_buf_puts(out, "  ");
    if (r->tool) /* another tool than the default: it has no Prisma profile */
        rh_buf_printf(out, "tool %s: every path deployed as `%s` deploys (%s)", r->tool->name,
                      r->tool->verbs[0].tool_says, tool_txn_words(r->tool));
    else
        rh_report_profile_line(&r->profile, r->profile_source, out);
    rh_buf pg;
    rh_buf_init(&pg);
    rh_check_postgres_text(r, RH_CHECK_ERROR, &pg);
    rh_report_term_printf(out, "\n  %s", pg.data);
    rh_buf_free(&pg);
    rh_report_term_printf(out, "\n  %zu migration(s) at base, %zu at head, %zu new\n", r->n_base, r->n_head, r->n_added);
    for (size_t i = 0; i < r->n_added; i++) {
        const char *send = r->added_send ? r->added_send[i] : NULL;
        rh_report_term_printf(out, "    new: %s%s%s%s\n", r->added[i], send ? "  (sent as " : "", send ? send : "",
                              send ? ")" : "");
    }
    char st[200];
    snprintf(st, sizeof st, "%s", r->clean_ok ? "deployed" : "failed");
    human_step(r, out, 'a', st, color);
    if (r->recovered)
        snprintf(st, sizeof st, "base fails at %.80s; %s after production's recovery:", r->recovered_from,
                 r->upgrade_ok ? "deployed" : "failed");
    else
        snprintf(st, sizeof st, "%s", !r->base_ok ? "base does not deploy" : r->upgrade_ok ? "deployed" : "failed");
    human_step(r, out, 'b', st, color);
    for (const char *p = r->recovered ? r->recovery : ""; *p;) { /* the commands, in order */
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        rh_report_term_printf(out, "        $ %.*s\n", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
    if (r->scaled) {
        size_t tables = 0;
        for (size_t i = 0; i < r->fill.n; i++)
            tables += r->fill.tables[i].inserted > 0;
        rh_report_term_printf(out, "        filled %lld row(s) in %zu table(s) before head's migrations (--scale/--rows, %.1f s)",
                      r->fill.rows, tables, r->fill.ms / 1000);
        if (r->fill_max > 0)
            rh_buf_printf(out, ", at most %lld per table (--fill-max)", r->fill_max);
        rh_buf_putc(out, '\n');
    }
    if (r->catalog_compared && r->one_path)
        snprintf(st, sizeof st, "same schema (one run: base's cached state, then head's new migrations)");
    else if (r->catalog_compared)
        snprintf(st, sizeof st, "%s", r->catalog_differences ? "schemas differ" : "same schema");
    else
        snprintf(st, sizeof st, "not compared (a deploy failed)");
    human_step(r, out, 'c', st, color);
    snprintf(st, sizeof st, "%zu finding(s)", count_step(r, 'd', RH_CHECK_NOTICE));
    human_step(r, out, 'd', st, color);
    snprintf(st, sizeof st, "%s", count_step(r, 'e', RH_CHECK_ERROR) ? "a migration fails"
                                  : r->base_ok || r->recovered ? "no failure" : "not checked (base does not deploy)");
    human_step(r, out, 'e', st, color);
    if (r->locks_skipped)
        snprintf(st, sizeof st, "skipped (--no-locks)");
    else
        snprintf(st, sizeof st, "%zu of %zu migration(s) to deploy traced", r->n_traces, r->n_pending);
    human_step(r, out, 'f', st, color);

    for (size_t i = 0; i < r->n_traces; i++) {
        const rh_check_trace *t = &r->traces[i];
        rh_report_term_printf(out, "\n  locks of %s (%s)%s%s%s%s:\n", t->migration, t->file,
                              r->n_pgs ? " on PostgreSQL " : "", r->n_pgs ? r->postgres : "",
                              t->measured ? ", measured; " : t->run_tx ? "; " : "",
                              t->measured || t->run_tx ? rh_check_trace_runs(t) : "");
        for (size_t j = 0; j < t->n; j++) {
            const rh_check_stmt *s = &t->stmts[j];
            rh_report_term_printf(out, "    line %-4d %s%s\n", s->line, s->text,
                          s->skipped ? "   [transaction control: not run by the tracer]"
                          : s->outside_tx ? "   [runs outside a transaction]" : "");
            if (t->measured && !s->skipped) { /* its duration on the filled tables (a CONCURRENTLY build's time) */
                rh_buf_puts(out, "              ran for ");
                put_ms(out, s->ms);
                rh_buf_putc(out, '\n');
            }
            size_t created = 0;
            for (size_t k = 0; k < s->n_locks; k++) {
                const rh_check_lock *l = &s->locks[k];
                if (!l->existed_before) {
                    created++;
                    continue;
                }
                int flag = strcmp(l->mode, "AccessExclusiveLock") == 0 &&
                           (l->relkind == 'r' || l->relkind == 'p' || l->relkind == 'm');
                rh_report_term_printf(out, "              %-26s %s %s%s", l->mode, relkind_word(l->relkind), l->relation,
                              flag ? "   <- blocks reads and writes" : "");
                if (l->held_ms >= 0) {
                    rh_buf_puts(out, ", held ");
                    put_ms(out, l->held_ms);
                }
                rh_buf_putc(out, '\n');
            }
            if (created)
                rh_report_term_printf(out, "              (+ %zu lock(s) on relations this migration creates)\n", created);
            for (size_t k = 0; k < s->n_rewrites; k++)
                rh_report_term_printf(out, "              rewrites table %s\n", s->rewrites[k]);
            for (size_t k = 0; k < s->n_scans; k++)
                rh_report_term_printf(out, "              reads every row of table %s\n", s->scans[k]);
            for (size_t k = 0; k < s->n_waits; k++) {
                const rh_check_wait *w = &s->waits[k];
                rh_report_term_printf(out, "              a %s of %s (%lld rows) %s", w->write ? "write" : "read", w->table,
                              w->rows, w->blocked ? "waited " : "did not wait\n");
                if (w->blocked) {
                    put_ms(out, w->ms);
                    if (w->estimate_ms >= 0) {
                        rh_buf_printf(out, "; ESTIMATE at production's %lld rows (linear in rows: %s): ",
                                      w->production_rows, w->linear);
                        put_ms(out, w->estimate_ms);
                    }
                    rh_buf_putc(out, '\n');
                }
            }
            for (size_t k = 0; k < s->n_unprobed; k++)
                rh_report_term_printf(out, "              reads and writes of %s not probed (no connection left)\n",
                                      s->unprobed[k]);
            if (s->error)
                rh_report_term_printf(out, "              failed: SQLSTATE %s: %s\n", s->sqlstate, s->error);
        }
        if (t->parse_error)
            rh_report_term_printf(out, "    not split: %s\n", t->parse_error);
    }

    if (r->n_findings)
        rh_buf_puts(out, "\nfindings:\n");
    for (size_t i = 0; i < r->n_findings; i++) {
        const rh_check_finding *f = &r->findings[i];
        const char *c0 = "", *c1 = "";
        if (color) {
            c0 = f->level == RH_CHECK_ERROR ? "\033[31m" : f->level == RH_CHECK_WARNING ? "\033[33m" : "\033[36m";
            c1 = "\033[0m";
        }
        rh_buf_printf(out, "  %s%-7s%s ", c0, rh_check_level_name(f->level), c1);
        if (f->file)
            rh_report_term_printf(out, "%s:%d: ", f->file, f->line ? f->line : 1);
        rh_report_term_printf(out, "[%c %s] %s\n", f->step, f->code, f->message);
        if (f->detail) {
            const char *p = f->detail;
            while (*p) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                rh_buf_puts(out, "          ");
                rh_report_term_textn(out, p, n);
                rh_buf_putc(out, '\n');
                p += n + (nl ? 1 : 0);
            }
        }
    }
    rh_report_term_printf(out, "\n%zu error(s), %zu warning(s), %zu notice(s) in %.2f s\n", rh_check_count(r, RH_CHECK_ERROR),
                  rh_check_count(r, RH_CHECK_WARNING) - rh_check_count(r, RH_CHECK_ERROR),
                  rh_check_count(r, RH_CHECK_NOTICE) - rh_check_count(r, RH_CHECK_WARNING), r->ms_total / 1000.0);
    if (r->superuser)
        rh_buf_puts(out, "migrations ran as the cluster's superuser (--superuser)\n");
    if (r->cached)
        rh_buf_printf(out, "base's first %zu migration(s) came from the state cache (--no-cache: deploy them)\n", r->cached);
    if (r->kept)
        rh_report_term_printf(out, "cluster kept: %s\n", r->kept);
}

static json_object *jstr(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

/* Base fails at failed_at: the commands production runs, in order, before head's deploy; NULL if not. */
static json_object *recovery_json(const rh_check_result *r)
{
    if (!r->recovered)
        return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "failed_at", jstr(r->recovered_from));
    json_object *cmds = json_object_new_array();
    for (const char *p = r->recovery; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        json_object_array_add(cmds, json_object_new_string_len(p, (int)n));
        p += n + (nl ? 1 : 0);
    }
    json_object_object_add(o, "commands", cmds);
    return o;
}

/* --scale / --rows: what the filler did before head's migrations, table by table; null without. */
static json_object *scale_json(const rh_check_result *r)
{
    if (!r->scaled)
        return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "rows", json_object_new_int64(r->fill.rows));
    json_object_object_add(o, "ms", json_object_new_double(r->fill.ms));
    json_object *tables = json_object_new_array();
    for (size_t i = 0; i < r->fill.n; i++) {
        const rh_scale_filled *f = &r->fill.tables[i];
        json_object *t = json_object_new_object();
        json_object_object_add(t, "schema", jstr(f->schema));
        json_object_object_add(t, "table", jstr(f->name));
        json_object_object_add(t, "rows_before", json_object_new_int64(f->before));
        json_object_object_add(t, "rows_asked", json_object_new_int64(f->target));
        json_object_object_add(t, "rows_inserted", json_object_new_int64(f->inserted));
        json_object_object_add(t, "ms", json_object_new_double(f->ms));
        json_object_object_add(t, "note", f->note ? jstr(f->note) : NULL);
        json_object_array_add(tables, t);
    }
    json_object_object_add(o, "tables", tables);
    return o;
}

/* One measured probe: which operation, on which table and how many rows, whether and how long it waited. */
static json_object *wait_json(const rh_check_wait *w)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "table", jstr(w->table));
    json_object_object_add(o, "operation", jstr(w->write ? "write" : "read"));
    json_object_object_add(o, "blocked", json_object_new_boolean(w->blocked));
    json_object_object_add(o, "waited_ms", json_object_new_double(w->ms));
    json_object_object_add(o, "rows", json_object_new_int64(w->rows));
    json_object_object_add(o, "production_rows", w->production_rows >= 0 ? json_object_new_int64(w->production_rows) : NULL);
    if (w->estimate_ms >= 0) { /* an estimate, never a measurement: its own object, with its basis */
        json_object *e = json_object_new_object();
        json_object_object_add(e, "ms", json_object_new_double(w->estimate_ms));
        json_object_object_add(e, "rows", json_object_new_int64(w->production_rows));
        json_object_object_add(e, "linear_in_rows", jstr(w->linear));
        json_object_object_add(o, "estimate", e);
    } else {
        json_object_object_add(o, "estimate", NULL);
    }
    return o;
}

/* The worst blocker (null when nothing waited): where, and its measurement. */
static json_object *worst_json(const rh_check_result *r)
{
    const rh_check_trace *t = NULL;
    const rh_check_stmt *st = NULL;
    const rh_check_wait *w = rh_check_worst_wait(r, &t, &st);
    if (!w)
        return NULL;
    json_object *o = wait_json(w);
    json_object_object_add(o, "migration", jstr(t->migration));
    json_object_object_add(o, "file", jstr(t->file));
    json_object_object_add(o, "line", json_object_new_int(st->line));
    json_object_object_add(o, "keywords", jstr(st->keywords));
    return o;
}

void rh_check_format_json(const rh_check_result *r, rh_buf *out)
{
    json_object *root = json_object_new_object();
    json_object_object_add(root, "migrations", jstr(r->migrations));
    json_object *base = json_object_new_object();
    json_object_object_add(base, "spec", jstr(r->base.spec));
    json_object_object_add(base, "sha", jstr(r->base.sha));
    json_object_object_add(base, "how", jstr(r->base_how));
    json_object_object_add(root, "base", base);
    json_object *head = json_object_new_object();
    json_object_object_add(head, "spec", jstr(r->head.spec));
    json_object_object_add(head, "sha", jstr(r->head.sha));
    json_object_object_add(root, "head", head);
    if (r->tool) /* another tool than the default: named; the Prisma keys are null */
        json_object_object_add(root, "tool", jstr(r->tool->name));
    json_object_object_add(root, "prisma", r->tool ? NULL : jstr(r->profile.version));
    json_object_object_add(root, "postgres", jstr(r->postgres));
    json_object *pgs = r->n_pgs ? json_object_new_array() : NULL;
    for (size_t i = 0; i < r->n_pgs; i++) {
        const rh_check_pg *p = &r->pgs[i];
        json_object *po = json_object_new_object();
        json_object_object_add(po, "asked", jstr(p->asked));
        json_object_object_add(po, "postgres", jstr(p->postgres));
        json_object_object_add(po, "deployed", json_object_new_boolean(p->deployed));
        json_object_object_add(po, "errors", json_object_new_int64((int64_t)p->at_least[RH_CHECK_ERROR]));
        json_object_object_add(po, "warnings", json_object_new_int64(
                                                   (int64_t)(p->at_least[RH_CHECK_WARNING] - p->at_least[RH_CHECK_ERROR])));
        json_object_object_add(po, "notices", json_object_new_int64(
                                                  (int64_t)(p->at_least[RH_CHECK_NOTICE] - p->at_least[RH_CHECK_WARNING])));
        json_object_array_add(pgs, po);
    }
    json_object_object_add(root, "postgres_versions", pgs);
    json_object_object_add(root, "superuser", json_object_new_boolean(r->superuser));
    json_object_object_add(root, "scale", scale_json(r));
    json_object_object_add(root, "worst_blocker", worst_json(r));
    json_object_object_add(root, "prisma_source", r->tool ? NULL : jstr(r->profile_source));
    json_object_object_add(root, "profile", r->tool ? NULL
                                                    : rh_report_profile_json(&r->profile, r->profile_from, r->profile_source));
    json_object_object_add(root, "migrations_at_base", json_object_new_int64((int64_t)r->n_base));
    json_object_object_add(root, "migrations_at_head", json_object_new_int64((int64_t)r->n_head));
    json_object *added = json_object_new_array();
    for (size_t i = 0; i < r->n_added; i++)
        json_object_array_add(added, jstr(r->added[i]));
    json_object_object_add(root, "new", added);
    /* how each new migration is sent (whole file or statement by statement), by name */
    json_object *sent = json_object_new_object();
    for (size_t i = 0; i < r->n_added; i++)
        json_object_object_add(sent, r->added[i], jstr(r->added_send ? r->added_send[i] : NULL));
    json_object_object_add(root, "sent_as", sent);

    /* one object per step, by name: its letter, title, state word and findings by level */
    static const struct { char step; const char *name; } step_names[] = {
        {'a', "clean_deploy"}, {'b', "upgrade_path"}, {'c', "catalog"}, {'d', "history"},
        {'e', "production"},   {'f', "locks"},        {'g', "seed"},
    };
    json_object *steps = json_object_new_object();
    for (size_t i = 0; i < sizeof step_names / sizeof *step_names; i++) {
        char step = step_names[i].step, letter[2] = {step, 0};
        json_object *so = json_object_new_object();
        json_object_object_add(so, "step", jstr(letter));
        json_object_object_add(so, "title", jstr(step_title(step)));
        json_object_object_add(so, "status", jstr(state_words[step_state_of(r, step)]));
        if (step == 'b') {
            json_object_object_add(so, "base", jstr(r->base_ok ? "passed" : "failed"));
            json_object_object_add(so, "recovery", recovery_json(r));
        }
        if (step == 'c')
            json_object_object_add(so, "differences", json_object_new_int64((int64_t)r->catalog_differences));
        size_t e = count_step(r, step, RH_CHECK_ERROR), w = count_step(r, step, RH_CHECK_WARNING),
               n = count_step(r, step, RH_CHECK_NOTICE);
        json_object_object_add(so, "errors", json_object_new_int64((int64_t)e));
        json_object_object_add(so, "warnings", json_object_new_int64((int64_t)(w - e)));
        json_object_object_add(so, "notices", json_object_new_int64((int64_t)(n - w)));
        json_object_object_add(steps, step_names[i].name, so);
    }
    json_object_object_add(root, "steps", steps);

    json_object *fs = json_object_new_array();
    for (size_t i = 0; i < r->n_findings; i++) {
        const rh_check_finding *f = &r->findings[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "level", jstr(rh_check_level_name(f->level)));
        char step[2] = {f->step, 0};
        json_object_object_add(o, "step", jstr(step));
        json_object_object_add(o, "code", jstr(f->code));
        json_object_object_add(o, "migration", jstr(f->migration));
        json_object_object_add(o, "file", jstr(f->file));
        json_object_object_add(o, "line", f->line ? json_object_new_int(f->line) : NULL);
        json_object_object_add(o, "message", jstr(f->message));
        json_object_object_add(o, "detail", jstr(f->detail));
        json_object_array_add(fs, o);
    }
    json_object_object_add(root, "findings", fs);

    json_object *traces = json_object_new_array();
    for (size_t i = 0; i < r->n_traces; i++) {
        const rh_check_trace *t = &r->traces[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "migration", jstr(t->migration));
        json_object_object_add(o, "file", jstr(t->file));
        json_object_object_add(o, "failed", json_object_new_boolean(t->failed));
        json_object_object_add(o, "parse_error", jstr(t->parse_error));
        json_object_object_add(o, "measured", json_object_new_boolean(t->measured));
        json_object_object_add(o, "transaction", jstr(rh_check_trace_tx_name(t)));
        json_object *stmts = json_object_new_array();
        for (size_t j = 0; j < t->n; j++) {
            const rh_check_stmt *s = &t->stmts[j];
            json_object *so = json_object_new_object();
            json_object_object_add(so, "line", json_object_new_int(s->line));
            json_object_object_add(so, "statement", jstr(s->sql ? s->sql : s->text));
            json_object_object_add(so, "keywords", jstr(s->keywords));
            json_object_object_add(so, "outside_transaction", json_object_new_boolean(s->outside_tx));
            json_object_object_add(so, "skipped", json_object_new_boolean(s->skipped));
            json_object_object_add(so, "ms", json_object_new_double(s->ms));
            json_object *locks = json_object_new_array();
            for (size_t k = 0; k < s->n_locks; k++) {
                json_object *lo = json_object_new_object();
                json_object_object_add(lo, "relation", jstr(s->locks[k].relation));
                json_object_object_add(lo, "kind", jstr(relkind_word(s->locks[k].relkind)));
                json_object_object_add(lo, "mode", jstr(s->locks[k].mode));
                json_object_object_add(lo, "existed_before", json_object_new_boolean(s->locks[k].existed_before));
                json_object_object_add(lo, "held_ms",
                                       s->locks[k].held_ms >= 0 ? json_object_new_double(s->locks[k].held_ms) : NULL);
                json_object_array_add(locks, lo);
            }
            json_object_object_add(so, "locks", locks);
            json_object *rw = json_object_new_array();
            for (size_t k = 0; k < s->n_rewrites; k++)
                json_object_array_add(rw, jstr(s->rewrites[k]));
            json_object_object_add(so, "rewrites", rw);
            json_object *sc = json_object_new_array();
            for (size_t k = 0; k < s->n_scans; k++)
                json_object_array_add(sc, jstr(s->scans[k]));
            json_object_object_add(so, "scans", sc);
            if (t->measured) {
                json_object *ws = json_object_new_array();
                for (size_t k = 0; k < s->n_waits; k++)
                    json_object_array_add(ws, wait_json(&s->waits[k]));
                json_object_object_add(so, "waits", ws);
                json_object *un = json_object_new_array(); /* locked, but no connection was left to probe them */
                for (size_t k = 0; k < s->n_unprobed; k++)
                    json_object_array_add(un, jstr(s->unprobed[k]));
                json_object_object_add(so, "unprobed", un);
            }
            if (s->error) {
                json_object_object_add(so, "sqlstate", jstr(s->sqlstate));
                json_object_object_add(so, "error", jstr(s->error));
            }
            json_object_array_add(stmts, so);
        }
        json_object_object_add(o, "statements", stmts);
        json_object_array_add(traces, o);
    }
    json_object_object_add(root, "locks", traces);

    json_object *counts = json_object_new_object();
    size_t e = rh_check_count(r, RH_CHECK_ERROR), w = rh_check_count(r, RH_CHECK_WARNING),
           n = rh_check_count(r, RH_CHECK_NOTICE);
    json_object_object_add(counts, "error", json_object_new_int64((int64_t)e));
    json_object_object_add(counts, "warning", json_object_new_int64((int64_t)(w - e)));
    json_object_object_add(counts, "notice", json_object_new_int64((int64_t)(n - w)));
    json_object_object_add(root, "counts", counts);
    /* the deployed-state cache (docs/state-cache.md): how much of base came from it, whether base was kept */
    json_object *cache = json_object_new_object();
    json_object_object_add(cache, "base_migrations_cached", json_object_new_int64((int64_t)r->cached));
    json_object_object_add(cache, "published", json_object_new_boolean(r->cache_published));
    json_object_object_add(cache, "one_path", json_object_new_boolean(r->one_path));
    json_object_object_add(root, "cache", cache);
    json_object *ms = json_object_new_object();
    json_object_object_add(ms, "total", json_object_new_double(r->ms_total));
    json_object_object_add(ms, "history", json_object_new_double(r->ms_history));
    json_object_object_add(ms, "cluster", json_object_new_double(r->ms_cluster));
    json_object_object_add(ms, "clean", json_object_new_double(r->ms_clean));
    json_object_object_add(ms, "upgrade", json_object_new_double(r->ms_upgrade));
    json_object_object_add(ms, "locks", json_object_new_double(r->ms_locks));
    json_object_object_add(ms, "catalog", json_object_new_double(r->ms_catalog));
    json_object_object_add(ms, "stop", json_object_new_double(r->ms_stop));
    json_object_object_add(root, "ms", ms);
    rh_report_json_write(root, out);
    json_object_put(root);
}

/* One test case per step (a .. f); findings at or above fail_on are its failures, others go to system-out. */
void rh_check_format_junit(const rh_check_result *r, rh_check_level fail_on, rh_buf *out)
{
    const char steps[] = "abcdef";
    size_t failures = 0, skipped = 0, tests = 6 + r->n_pgs;
    for (const char *s = steps; *s; s++) {
        step_state st = step_state_of(r, *s);
        failures += count_step(r, *s, fail_on) ? 1 : 0;
        skipped += (st == STEP_SKIPPED || st == STEP_NOT_RUN) && !count_step(r, *s, fail_on) ? 1 : 0;
    }
    for (size_t i = 0; i < r->n_pgs; i++)
        failures += r->pgs[i].at_least[fail_on] || !r->pgs[i].deployed;
    rh_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    rh_buf_printf(out, "<testsuites name=\"rehearse check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.3f\">\n",
                  tests, failures, r->ms_total / 1000.0);
    rh_buf_printf(out, "  <testsuite name=\"rehearse check ");
    rh_report_xml_text(out, r->migrations);
    rh_buf_printf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"%.3f\">\n", tests,
                  failures, skipped, r->ms_total / 1000.0);
    /* the profile every step used: the suite's properties */
    json_object *prof = r->tool ? json_object_new_object()
                                : rh_report_profile_json(&r->profile, r->profile_from, r->profile_source);
    rh_buf_puts(out, "    <properties>\n");
    if (r->tool) { /* another tool than the default: no Prisma profile */
        rh_buf_puts(out, "      <property name=\"tool\" value=\"");
        rh_report_xml_text(out, r->tool->name);
        rh_buf_puts(out, "\"/>\n");
    }
    json_object_object_foreach(prof, key, val) {
        rh_buf_printf(out, "      <property name=\"prisma.%s\" value=\"", key);
        rh_report_xml_text(out, json_object_get_string(val));
        rh_buf_puts(out, "\"/>\n");
    }
    rh_buf pg;
    rh_buf_init(&pg);
    rh_check_postgres_text(r, fail_on, &pg);
    rh_buf_puts(out, "      <property name=\"postgres\" value=\"");
    rh_report_xml_text(out, pg.data);
    rh_buf_puts(out, "\"/>\n");
    rh_buf_free(&pg);
    rh_buf_puts(out, "    </properties>\n");
    json_object_put(prof);
    for (size_t i = 0; i < r->n_pgs; i++) { /* --pg LIST: a test case per version */
        const rh_check_pg *p = &r->pgs[i];
        rh_buf_puts(out, "    <testcase classname=\"rehearse.check\" name=\"[pg ");
        rh_report_xml_text(out, p->asked);
        rh_buf_puts(out, "] PostgreSQL ");
        rh_report_xml_text(out, p->postgres);
        rh_buf_puts(out, "\">\n");
        if (p->at_least[fail_on] || !p->deployed) {
            char msg[200];
            snprintf(msg, sizeof msg, "%s on PostgreSQL %s: %zu error(s), %zu finding(s) at --fail-on %s or above",
                     p->deployed ? "deployed" : "does not deploy", p->postgres, p->at_least[RH_CHECK_ERROR],
                     p->at_least[fail_on], rh_check_level_name(fail_on));
            rh_buf_puts(out, "      <failure type=\"postgres\" message=\"");
            rh_report_xml_text(out, msg);
            rh_buf_puts(out, "\"/>\n");
        }
        rh_buf_puts(out, "    </testcase>\n");
    }
    for (const char *s = steps; *s; s++) {
        rh_buf_printf(out, "    <testcase classname=\"rehearse.check\" name=\"(%c) %s\">\n", *s, step_title(*s));
        rh_buf notes;
        rh_buf_init(&notes);
        for (size_t i = 0; i < r->n_findings; i++) {
            const rh_check_finding *f = &r->findings[i];
            if (f->step != *s)
                continue;
            if (f->level >= fail_on) {
                rh_buf_printf(out, "      <failure type=\"%s\" message=\"", rh_check_level_name(f->level));
                rh_report_xml_text(out, f->message);
                rh_buf_puts(out, "\">");
                rh_buf body;
                rh_buf_init(&body);
                if (f->file)
                    rh_buf_printf(&body, "%s:%d: ", f->file, f->line ? f->line : 1);
                rh_buf_puts(&body, f->message);
                if (f->detail)
                    rh_buf_printf(&body, "\n%s", f->detail);
                rh_report_xml_text(out, body.data);
                rh_buf_free(&body);
                rh_buf_puts(out, "</failure>\n");
            } else {
                rh_buf_printf(&notes, "%s: ", rh_check_level_name(f->level));
                if (f->file)
                    rh_buf_printf(&notes, "%s:%d: ", f->file, f->line ? f->line : 1);
                rh_buf_printf(&notes, "%s\n", f->message);
            }
        }
        step_state st = step_state_of(r, *s);
        if ((st == STEP_SKIPPED || st == STEP_NOT_RUN) && !count_step(r, *s, fail_on)) {
            rh_buf_puts(out, "      <skipped message=\"");
            rh_report_xml_text(out, st == STEP_SKIPPED ? "not asked for" : "not run: an earlier step failed");
            rh_buf_puts(out, "\"/>\n");
        }
        if (notes.len) {
            rh_buf_puts(out, "      <system-out>");
            rh_report_xml_text(out, notes.data);
            rh_buf_puts(out, "</system-out>\n");
        }
        rh_buf_free(&notes);
        rh_buf_puts(out, "    </testcase>\n");
    }
    rh_buf_puts(out, "  </testsuite>\n</testsuites>\n");
}

void rh_check_format_github(const rh_check_result *r, rh_buf *out)
{
    for (size_t i = 0; i < r->n_findings; i++) {
        const rh_check_finding *f = &r->findings[i];
        rh_buf_printf(out, "::%s ", rh_check_level_name(f->level));
        if (f->file) {
            rh_buf_puts(out, "file=");
            rh_report_github_escape(out, f->file, 1);
            rh_buf_printf(out, ",line=%d,", f->line ? f->line : 1);
        }
        rh_buf_puts(out, "title=");
        char title[160];
        snprintf(title, sizeof title, "rehearse check (%c) %s", f->step, f->code);
        rh_report_github_escape(out, title, 1);
        rh_buf_puts(out, "::");
        rh_buf msg;
        rh_buf_init(&msg);
        rh_buf_puts(&msg, f->message);
        if (f->detail) {
            rh_buf_putc(&msg, '\n');
            rh_buf_puts(&msg, f->detail);
        }
        rh_report_github_escape(out, msg.data, 0);
        rh_buf_free(&msg);
        rh_buf_putc(out, '\n');
    }
}
