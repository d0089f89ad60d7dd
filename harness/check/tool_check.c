/*
 * tool_check.c — `rehearse check` for a tool other than the default (--tool NAME, or detected at
 * head): the steps of the default tool's check, every path deployed with the tool's own deploy,
 * filling the same rh_check_result, so every report format (human, json, junit, markdown, sarif,
 * html, GitHub annotations) prints it:
 *   (a) clean deploy of head and its catalog; (b) base, (g) the seed, then head on top of it;
 *   (c) the two catalogs compared (the tool's ledger left out); (d) the tool's own hazards between
 *   base and head (rh_tool.history_findings), files edited after base applied them, files removed; (e) head's deploy failing on the upgrade path, at the
 *   file and line of the statement; (f) the lock trace of what head's deploy runs, on a copy of the
 *   upgrade path taken before it, each file as the tool sends it (rh_tool.sent_text), and per new
 *   migration how the tool sends it (rh_tool.plan_file).
 * With --scale/--rows the upgrade path is filled after base (the tool's ledger left alone) and (f)
 * measures, as for Prisma. A base that fails at a file its ledger does not record is production's
 * recovery path (the fix deployed with the tool's deploy). Base's deployed state comes from the state
 * cache and is published to it through the same helpers as the default tool's check (check/state.c:
 * the tool's name is in the key; a tool that continues only a whole run's state, drizzle-kit, never
 * has (a) continue base's state: head's clean deploy is one run of everything), with the same "one
 * path" when (a) and (b) are the same run. Not for other tools yet (docs/tools.md): Prisma's other
 * history hazards (renamed, out of order ...). --pg LIST: check/versions.c.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "check/check.h"
#include "check/check_int.h"
#include "cluster/cluster.h"
#include "engine/clean.h"
#include "source/git.h"
#include "source/history.h"
#include "source/loader.h"
#include "tools/tool.h"
#include "util/buf.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* The repository-relative file of a migration ("db/migrations/2024_a.sql", "drizzle/0001_b.sql"). */
static char *file_of(const rh_tool *tool, const rh_check_result *r, const char *name)
{
    return rh_xasprintf("%s/%s%s", r->migrations, name, tool->file_suffix ? tool->file_suffix : "");
}

/* What the tool printed for a failed deploy, for a finding's detail; "" when nothing. */
static char *tool_output(const rh_engine_result *res)
{
    return rh_xasprintf("%s%s", res->out.data ? res->out.data : "", res->errout.data ? res->errout.data : "");
}

/* "SQLSTATE 25001: CREATE INDEX CONCURRENTLY cannot run inside a transaction block (exit 2)" */
static char *failure_words(const rh_engine_result *res)
{
    if (res->sqlstate[0])
        return rh_xasprintf("SQLSTATE %s: %s (exit %d)", res->sqlstate, res->db_message ? res->db_message : "",
                            res->exit_code);
    return rh_xasprintf("exit %d%s%s", res->exit_code, res->db_message ? ": " : "",
                        res->db_message ? res->db_message : "");
}

/* (d): the tool's own hazards (its history_findings hook, as history --tool) as errors on head's files, and a
   rename that runs nothing (dbmate's same version) as a notice: head's file is not new to production. */
static void add_hazards(rh_check_result *r, const rh_tool *tool, const rh_migset *base, const rh_migset *head)
{
    if (!tool->history_findings)
        return;
    rh_git_history h = {.from = r->base, .to = r->head, .tool = tool->name, .migrations = r->migrations,
                        .a = *base, .b = *head}; /* the sets and the folder stay the caller's */
    tool->history_findings(&h);
    for (size_t i = 0; i < h.n; i++) {
        const rh_hist_finding *f = &h.items[i];
        if (f->hazard)
            rh_check_add(r, RH_CHECK_ERROR, 'd', rh_hist_code(f), f->name, f->file, f->file ? 1 : 0, NULL, "%s",
                         f->message);
        else if (f->kind == RH_HIST_RENAMED)
            rh_check_add(r, RH_CHECK_NOTICE, 'd', rh_hist_code(f), f->name, f->file, f->file ? 1 : 0, NULL, "%s",
                         f->message);
    }
    rh_hist_free_findings(&h);
}

/*
 * (d) what every tool shares (rh_tool_history_changed, as history --tool writes it): a file edited after
 * base applied it is an error (production never runs the new version, and the tool says nothing:
 * tests/conformance/{dbmate,drizzle} "edited after apply"), a file removed a warning (production keeps what
 * it did). Codes as Prisma's history hazards. Returns the first edited one (head's name, in head's set).
 */
static const char *add_changed(rh_check_result *r, const rh_tool *tool, const rh_migset *base, const rh_migset *head,
                               const rh_engine_result *at_base)
{
    rh_git_history h = {.from = r->base, .to = r->head, .tool = tool->name, .migrations = r->migrations,
                        .a = *base, .b = *head}; /* the sets and the folder stay the caller's */
    rh_tool_history_changed(tool, &h);
    const char *first = NULL;
    for (size_t i = 0; i < h.n; i++) {
        const rh_hist_finding *f = &h.items[i];
        const rh_migration *b = NULL; /* f->name is the printable form of head's name */
        for (size_t k = 0; f->kind == RH_HIST_EDITED && k < head->n && !b; k++) {
            char *shown = rh_name_printable(head->items[k].name, strlen(head->items[k].name));
            b = strcmp(shown, f->name) == 0 ? &head->items[k] : NULL;
            free(shown);
        }
        if (f->kind == RH_HIST_REMOVED) {
            rh_check_add(r, RH_CHECK_WARNING, 'd', "removed", f->name, NULL, 0, NULL, "%s", f->message);
        } else if (f->kind == RH_HIST_EDITED && b &&
                   rh_check_in_names(at_base->applied, at_base->n_applied, b->name)) {
            rh_check_add(r, RH_CHECK_ERROR, 'd', "edited", f->name, f->file, 1, NULL, "%s", f->message);
            first = first ? first : b->name;
        }
    }
    rh_hist_free_findings(&h);
    return first;
}

/* Per new migration, how the tool sends it: the first line of its plan without "NAME: ". */
static void add_send_modes(rh_check_result *r, const rh_tool *tool, const rh_migset *head)
{
    r->added_send = rh_xcalloc(r->n_added ? r->n_added : 1, sizeof *r->added_send);
    for (size_t k = 0; tool->plan_file && k < r->n_added; k++) {
        const rh_migration *m = rh_migset_find(head, r->added[k]);
        if (!m)
            continue;
        rh_buf plan;
        rh_buf_init(&plan);
        rh_plan counts;
        tool->plan_file(m, NULL, &counts, &plan);
        size_t skip = strlen(m->name) + 2;
        const char *first = plan.len > skip && strncmp(plan.data, m->name, skip - 2) == 0 ? plan.data + skip : plan.data;
        const char *nl = first ? strchr(first, '\n') : NULL;
        r->added_send[k] = first ? rh_xstrndup(first, nl ? (size_t)(nl - first) : strlen(first)) : NULL;
        rh_buf_free(&plan);
    }
}

/* (f): a file as the tool sends it (dbmate: the up section only, lines kept); never statement by statement. */
static void tool_sends(const rh_check_result *r, const rh_migration *m, rh_buf *text, int *autocommit)
{
    *autocommit = 0;
    if (r->tool->sent_text)
        r->tool->sent_text(m, text);
    else
        rh_buf_append(text, m->sql, m->sql_len);
}

rh_check_sender rh_check_tool_sender(const rh_tool *tool)
{
    /* drizzle-kit runs every pending file in one transaction: each lock is held until the whole run commits */
    rh_check_sender how = {.text = tool_sends, .file_suffix = tool->file_suffix ? tool->file_suffix : "",
                           .one_transaction = tool->txn == RH_TOOL_TXN_PER_RUN};
    return how;
}

/*
 * (b) base fails at X on an empty database, so production's deploy stopped there too. A tool whose ledger
 * keeps applied migrations only (dbmate: X's transaction rolled back; drizzle: the whole run's) has no row
 * for X and needs no repair verb: production recovers with the fix itself, head deployed with the tool's
 * deploy, which runs X again (checked with the real CLIs: tests/conformance/dbmate and drizzle, "repair").
 * Returns 1 recovered (r->recovered, recovered_from, recovery), 0 when the ledger records X (the tool would
 * pass over it) or the failure names no migration of base, -1 with err.
 */
static int recover_base(rh_check_result *r, const rh_tool *tool, PGconn *upgrade, const rh_migset *base,
                        const rh_engine_result *rbase, rh_err *err)
{
    const char *x = rbase->failed_migration;
    const rh_migration *m = x ? rh_migset_find(base, x) : NULL;
    if (!m || !tool->ledger_applied_only || !tool->ledger_exists || !tool->ledger_read)
        return 0;
    rh_ledger ledger = {0};
    int exists = 0, recorded = 0;
    if (tool->ledger_exists(upgrade, &exists, err) < 0 || (exists && tool->ledger_read(upgrade, &ledger, err) < 0))
        return rh_err_prefix(err, "reading the ledger after base failed");
    for (size_t i = 0; i < ledger.n; i++)
        recorded |= rh_tool_row_is(tool, &ledger.rows[i], m);
    rh_ledger_free(&ledger);
    if (recorded)
        return 0;
    r->recovered = 1;
    r->recovered_from = rh_xstrdup(x);
    r->recovery = rh_xasprintf("%s\n", tool->verbs[0].tool_says);
    return 1;
}

/* Does a row of the ledger record m, by the tool's identity (rh_tool_row_is)? */
static int recorded(const rh_tool *tool, const rh_ledger *rows, const rh_migration *m)
{
    for (size_t i = 0; m && i < rows->n; i++)
        if (rh_tool_row_is(tool, &rows->rows[i], m))
            return 1;
    return 0;
}

/* Head's deploy does not run pending[j] after all. */
static void drop_pending(rh_check_result *r, size_t j)
{
    assert(j < r->n_pending);
    free(r->pending[j]);
    memmove(&r->pending[j], &r->pending[j + 1], (r->n_pending - j - 1) * sizeof *r->pending);
    r->n_pending--;
}

/* (b) on a recovery path: what base did, how production recovers, and whether head deploys on that path. */
static void add_recovery_notice(rh_check_result *r, const rh_tool *tool, const rh_migset *head,
                                const rh_engine_result *rbase)
{
    char *what = failure_words(rbase), *out = tool_output(rbase);
    char *detail = rh_xasprintf("%s%s%s", r->recovery, *out ? "\nbase's deploy on an empty database:\n" : "", out);
    char *file = rh_migset_find(head, r->recovered_from) ? file_of(tool, r, r->recovered_from) : NULL;
    rh_check_add(r, RH_CHECK_NOTICE, 'b', "recovery-path", r->recovered_from, file, file ? 1 : 0, detail,
                 "base %s fails at %s (%s), so production's deploy stopped there too, with no ledger row for it; "
                 "production recovers with `%s` of the fix, which runs it again, and head %s %s on that path",
                 r->base.label, r->recovered_from, what, tool->verbs[0].tool_says, r->head.label,
                 r->upgrade_ok ? "deploys" : "fails");
    free(file);
    free(detail);
    free(out);
    free(what);
}

/* (e): head's deploy fails on the upgrade path: where, and what the tool printed. */
static void add_production_failure(rh_check_result *r, const rh_tool *tool, const rh_migset *base,
                                   const rh_migset *head, const rh_engine_result *up, const rh_engine_result *clean)
{
    const char *name = up->failed_migration;
    char *what = failure_words(up);
    char *out = tool_output(up);
    char *file = name && rh_migset_find(head, name) ? file_of(tool, r, name) : NULL;
    rh_buf detail;
    rh_buf_init(&detail);
    const rh_migration *m = name ? rh_migset_find(head, name) : NULL;
    rh_plan counts;
    if (m && tool->plan_file) /* how the tool sends the file says why (25001 ...) */
        tool->plan_file(m, NULL, &counts, &detail);
    rh_buf_puts(&detail, out);
    int same = clean->failed_migration && name && strcmp(clean->failed_migration, name) == 0 &&
               strcmp(clean->sqlstate, up->sqlstate) == 0;
    char *path = r->recovered ? rh_xasprintf(" on production's recovery path (%s fails at %s; then `%s`)",
                                             r->recovered_from, r->base.label, tool->verbs[0].tool_says)
                              : rh_xstrdup("");
    const rh_migration *at_base = name && r->recovered && strcmp(name, r->recovered_from) == 0
                                      ? rh_migset_find(base, name) : NULL;
    int unchanged = at_base && m && strcmp(at_base->checksum, m->checksum) == 0;
    rh_check_add(r, RH_CHECK_ERROR, 'e', "fails-in-production", name, file,
                 file ? rh_check_failure_line(r, name, up->sqlstate) : 0, detail.data,
                 "%s fails when deployed after %s%s, as `%s` runs it in production: %s%s%s", name ? name : "the deploy",
                 r->base.label, path, tool->verbs[0].tool_says, what, same ? " (a clean deploy fails the same way)" : "",
                 unchanged ? " (head leaves it as it is at base, where it fails)" : "");
    free(path);
    rh_buf_free(&detail);
    free(file);
    free(out);
    free(what);
}

/* (a): a clean deploy of head on DB_CLEAN (continuing a cached state when eo->resumed says so), then its catalog.
   Isolated (own_opts: isolate.c), on a fresh cluster of its own (*own), from nothing. */
static int clean_deploy(rh_check_result *r, const rh_tool *tool, rh_cluster *c, const rh_cluster_opts *own_opts,
                        rh_cluster **own, const rh_migset *head, const rh_engine_opts *eo,
                        const rh_catalog_opts *copts, PGconn **conn, rh_catalog **cat, rh_engine_result *res,
                        rh_err *err)
{
    double ta = now_ms();
    rh_engine_opts fresh = *eo;
    if (own_opts) {
        if (rh_cluster_start(own, own_opts, err) < 0 || rh_cluster_create_db(*own, DB_CLEAN, err) < 0)
            return rh_err_prefix(err, "a cluster of its own for the clean deploy");
        c = *own;
        fresh.resumed = 0;
        eo = &fresh;
    }
    if (!(*conn = rh_cluster_connect(c, DB_CLEAN, err)))
        return -1;
    rh_check_quiet(*conn);
    int crc = rh_engine_clean_snapshot_with(tool, *conn, head, eo, copts, cat, res, err);
    if (crc < 0)
        return rh_err_prefix(err, "clean deploy of %s", r->head.label);
    r->clean_ok = crc == 0;
    r->ms_clean = now_ms() - ta;
    return 0;
}

int rh_check_tool(const rh_tool *tool, const rh_check_opts *o, rh_check_result *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    out->tool = tool;
    double t0 = now_ms();
    const char *repo_path = o->repo ? o->repo : ".";
    char *base_spec = NULL;
    if (o->base) {
        base_spec = rh_xstrdup(o->base);
        snprintf(out->base_how, sizeof out->base_how, "--base");
    } else if (rh_check_default_base(repo_path, &base_spec, out->base_how, sizeof out->base_how, err) < 0) {
        return -1;
    }
    rh_git_repo *repo = NULL;
    rh_migset bset = {0}, hset = {0};
    int have_b = 0, have_h = 0, rc = -1, probe = 0;
    rh_cluster *c = NULL, *clean_cluster = NULL, *probe_cluster = NULL; /* the last two: isolated (isolate.c) */
    PGconn *clean = NULL, *upgrade = NULL;
    char *isolated = NULL;
    rh_catalog *cat_clean = NULL, *cat_up = NULL;
    rh_engine_result rclean, rbase, rup;
    rh_engine_result_init(&rclean);
    rh_engine_result_init(&rbase);
    rh_engine_result_init(&rup);
    rh_ledger rows = {0}; /* the ledger after base (and the seed): what head's deploy starts from */
    rh_engine_opts eo = {0};
    rh_catalog_opts copts = {.ledger_tool = tool};
    rh_check_cache cc;
    memset(&cc, 0, sizeof cc);
    rh_cluster_opts co = {.pg_bin = o->pg_bin, .pg_version = o->pg_version, .superuser = o->superuser};

    if (rh_git_open(&repo, repo_path, err) < 0)
        goto out;
    if (rh_git_resolve(repo, base_spec, &out->base, err) < 0) {
        rh_err_prefix(err, "--base");
        goto out;
    }
    if (rh_git_resolve(repo, o->head ? o->head : RH_GIT_WORKTREE, &out->head, err) < 0) {
        rh_err_prefix(err, "--head");
        goto out;
    }
    int base_absent = 0; /* the folder appears between base and head: everything is new */
    rh_load_spec spec = {.tool = tool, .git = repo, .resolved = &out->base, .migrations = o->migrations, .base = 1};
    if (rh_source_load_set(&spec, &bset, &base_absent, err) < 0)
        goto out;
    have_b = 1;
    spec.resolved = &out->head;
    spec.base = 0;
    if (rh_source_load_set(&spec, &hset, NULL, err) < 0)
        goto out;
    have_h = 1;
    out->migrations = rh_xstrdup(o->migrations ? o->migrations : tool->default_migrations);
    out->n_base = bset.n;
    out->n_head = hset.n;
    /* new at head: not base's by name, nor by the tool's identity (dbmate: a file renamed with its version
       runs nothing in production) */
    out->added = rh_xcalloc(hset.n ? hset.n : 1, sizeof *out->added);
    for (size_t i = 0; i < hset.n; i++) {
        int known = rh_migset_find(&bset, hset.items[i].name) != NULL;
        for (size_t k = 0; tool->same_entry && k < bset.n && !known; k++)
            known = tool->same_entry(&bset.items[k], &hset.items[i]);
        if (!known)
            out->added[out->n_added++] = rh_xstrdup(hset.items[i].name);
    }
    /* a file the tool never applies (drizzle: not in the journal): an error when head brings it (the pull
       request adds a migration production will never run), a warning when base had it already */
    for (size_t i = 0; i < hset.n_problems; i++) {
        const char *file = hset.problems[i].file;
        int known = 0;
        for (size_t k = 0; file && k < bset.n_problems && !known; k++)
            known = bset.problems[k].file && strcmp(bset.problems[k].file, file) == 0;
        if (known || !file)
            rh_check_add(out, RH_CHECK_WARNING, 'd', "not-applied", NULL, NULL, 0, NULL, "%s", hset.problems[i].text);
        else
            rh_check_add(out, RH_CHECK_ERROR, 'd', "not-applied", NULL, NULL, 0, NULL,
                         "%s; it is new at head, so production would never run it", hset.problems[i].text);
    }
    add_hazards(out, tool, &bset, &hset);
    add_send_modes(out, tool, &hset);
    out->ms_history = now_ms() - t0;
    isolated = rh_check_isolation_reason(&bset, &hset, o->seed_file);
    if (isolated)
        rh_check_add(out, RH_CHECK_NOTICE, 'a', "isolated-paths", NULL, NULL, 0, NULL,
                     "%s: the clean deploy, the upgrade path and the lock trace each ran in a cluster of its own, "
                     "as production deploys on a server of its own",
                     isolated);

    double tc = now_ms();
    out->superuser = o->superuser;
    /* base's state from the cache (check/state.c, as the default tool's check: the tool's name is in the key) */
    rh_check_cache_find(&cc, !o->no_cache && !o->keep, tool, NULL, o->superuser, &bset, &hset, &co);
    /* measuring (--scale/--rows): connections for two probes per locked table, as check.c's Prisma path; a
       server setting only, so the state found above (its data) still fits */
    static const char *const measuring[] = RH_SCALE_MEASURING_SETTINGS;
    if (o->scale && !co.settings)
        co.settings = measuring;
    out->ms_lookup = now_ms() - tc;
    if (rh_check_cache_start(&cc, &c, &co, err) < 0)
        goto out;
    out->cached = cc.cached;
    rh_cluster_timing ct = rh_cluster_last_timing(c);
    out->ms_copy = ct.copy_us / 1000.0;
    out->ms_ready = ct.ready_us / 1000.0;
    out->ms_auth = ct.auth_us / 1000.0;
    out->postgres = rh_xstrdup(rh_cluster_pgbin(c)->version);
    /* one path: (a) would continue base's whole cached state with head's new migrations, as (b) does */
    int one_path = 0;
    rh_engine_opts eo_base = eo, eo_clean = eo;
    eo_base.resumed = cc.cached;
    if (rh_check_cache_databases(&cc, c, o->seed_file || o->scale, &eo_clean.resumed, &one_path, err) < 0 ||
        !(upgrade = rh_cluster_connect(c, DB_UPGRADE, err)))
        goto out;
    rh_check_quiet(upgrade);
    out->ms_cluster = now_ms() - tc;

    /* (a) clean deploy of head, then its catalog (not on one path: (b)'s run is (a)'s) */
    rh_cluster_opts co_clean = co;
    co_clean.state = NULL;
    const rh_cluster_opts *own = isolated ? &co_clean : NULL;
    if (!one_path && clean_deploy(out, tool, c, own, &clean_cluster, &hset, &eo_clean, &copts, &clean, &cat_clean,
                                  &rclean, err) < 0)
        goto out;

    /* (b) the upgrade path: base, (g) the seed, then head on a new connection (the tool's next process) */
    double tb = now_ms();
    if (rh_tool_run(tool, "deploy", upgrade, &bset, NULL, &eo_base, &rbase, err) < 0) {
        rh_err_prefix(err, "deploy of base %s", out->base.label);
        goto out;
    }
    out->ms_base = now_ms() - tb;
    out->base_ok = rbase.exit_code == 0;
    if (!out->base_ok) {
        /* the recovery's deploy is the tool's next process: a new connection, without base's session state */
        PQfinish(upgrade);
        if (!(upgrade = rh_cluster_connect(c, DB_UPGRADE, err)))
            goto out;
        rh_check_quiet(upgrade);
        if (recover_base(out, tool, upgrade, &bset, &rbase, err) < 0)
            goto out;
    }
    /* one path only when base's deploy found everything applied (it does on a whole cached state); else
       (a) runs on its own, on a copy of the probe's database, which still holds the cached state */
    if (one_path && !(out->base_ok && !out->recovered && rbase.n_applied == bset.n)) {
        one_path = 0;
        if ((!isolated && rh_cluster_copy_db(c, DB_PROBE, DB_CLEAN, err) < 0) ||
            clean_deploy(out, tool, c, own, &clean_cluster, &hset, &eo_clean, &copts, &clean, &cat_clean, &rclean,
                         err) < 0)
            goto out;
    }
    /* base's state, for the cache (a new connection afterwards, as the tool's next process has) */
    if (out->base_ok && cc.on) {
        if (rh_check_cache_copy(&cc, c, &upgrade, err) < 0 || !(upgrade = rh_cluster_connect(c, DB_UPGRADE, err)))
            goto out;
        rh_check_quiet(upgrade);
    }
    int on_path = out->base_ok || out->recovered; /* head deploys on what production has */
    if (!on_path) {
        char *what = failure_words(&rbase), *detail = tool_output(&rbase);
        rh_check_add(out, RH_CHECK_ERROR, 'b', "base-deploy-failed", rbase.failed_migration, NULL, 0, detail,
                     "base %s does not deploy on an empty database with `%s` (%s%s%s): the upgrade path cannot be "
                     "checked",
                     out->base.label, tool->verbs[0].tool_says, rbase.failed_migration ? rbase.failed_migration : "",
                     rbase.failed_migration ? ": " : "", what);
        free(what);
        free(detail);
    }
    const char *edited = add_changed(out, tool, &bset, &hset, &rbase);
    if (on_path && o->seed_file && rh_check_load_seed(upgrade, o->seed_file, err) < 0)
        goto out;
    out->seed = !o->seed_file ? 0 : on_path ? 1 : -1;
    out->max_block_ms = o->max_block_ms;
    out->max_read_block_ms = o->max_read_block_ms;
    out->max_write_block_ms = o->max_write_block_ms;
    out->fill_max = o->fill_max;
    if (on_path && o->scale && rh_check_fill_to_scale(out, upgrade, o->scale, o->fill_max, err) < 0)
        goto out;
    /* the ledger head's deploy starts from: a file it records under the tool's identity (dbmate: the version)
       runs nothing, even renamed */
    int have_rows = 0;
    if (on_path && tool->ledger_exists && tool->ledger_read &&
        (tool->ledger_exists(upgrade, &have_rows, err) < 0 || (have_rows && tool->ledger_read(upgrade, &rows, err) < 0))) {
        rh_err_prefix(err, "reading the ledger before head's deploy");
        goto out;
    }
    PQfinish(upgrade);
    upgrade = NULL;
    /* what head's deploy runs: head's migrations that base's deploy did not apply */
    out->pending = rh_xcalloc(hset.n ? hset.n : 1, sizeof *out->pending);
    for (size_t i = 0; i < hset.n; i++)
        if (!rh_check_in_names(rbase.applied, rbase.n_applied, hset.items[i].name))
            out->pending[out->n_pending++] = rh_xstrdup(hset.items[i].name);
    out->locks_skipped = o->no_locks;
    probe = on_path && !o->no_locks && out->n_pending > 0;
    /* a cached state's probe database already holds base's state, unless the path added to it (a base of
       no migration has no cached state: no probe database was made) */
    int probe_ready = cc.probe_held && cc.cached == bset.n && out->base_ok && !out->recovered && !o->seed_file &&
                      !o->scale;
    if (probe && cc.probe_held && !probe_ready && rh_cluster_drop_db(c, DB_PROBE, err) < 0)
        goto out;
    if (probe && !probe_ready && rh_cluster_copy_db(c, DB_UPGRADE, DB_PROBE, err) < 0)
        goto out;
    /* isolated: (f) gets this cluster as it is now, (b) goes on in a twin (the clean deploy's connection is on
       a cluster of its own) */
    if (isolated && probe && out->n_pending && rh_check_fork(&c, &co, &probe_cluster, err) < 0)
        goto out;
    if (!(upgrade = rh_cluster_connect(c, DB_UPGRADE, err)))
        goto out;
    rh_check_quiet(upgrade);
    if (on_path) {
        if (rh_tool_run(tool, "deploy", upgrade, &hset, NULL, &eo, &rup, err) < 0) {
            rh_err_prefix(err, "upgrade path %s -> %s", out->base.label, out->head.label);
            goto out;
        }
        out->upgrade_ok = rup.exit_code == 0;
        /* an entry the tool passed over (drizzle: an older journal `when`) is not what head's deploy runs */
        for (size_t i = 0; i < rup.n_findings; i++)
            for (size_t j = 0; rup.findings[i].kind == RH_FINDING_SKIPPED && j < out->n_pending; j++)
                if (strcmp(out->pending[j], rup.findings[i].name) == 0) {
                    drop_pending(out, j);
                    break;
                }
        /* nor is a file the ledger already records that the deploy did not run (dbmate: a file renamed with an
           applied version) */
        for (size_t j = out->n_pending; j-- > 0;)
            if (!rh_check_in_names(rup.applied, rup.n_applied, out->pending[j]) &&
                !(rup.failed_migration && strcmp(rup.failed_migration, out->pending[j]) == 0) &&
                recorded(tool, &rows, rh_migset_find(&hset, out->pending[j])))
                drop_pending(out, j);
    }
    out->ms_upgrade = now_ms() - tb;
    const rh_engine_result *cres = one_path ? &rup : &rclean; /* (a)'s result: (b)'s run on one path */
    out->one_path = one_path;
    if (one_path)
        out->clean_ok = rup.exit_code == 0;

    /* (f) locks, before the failure findings so those can point at the failing statement's line */
    double tf = now_ms();
    /* drizzle-kit runs every pending file in one transaction: each lock is held until the whole run commits */
    rh_check_sender how = rh_check_tool_sender(tool);
    if (probe && out->n_pending &&
        rh_check_trace_pending(out, probe_cluster ? probe_cluster : c, DB_PROBE, 0, &hset, &how, err) < 0)
        goto out;
    out->ms_locks = now_ms() - tf;

    /* (e) and (a) as findings */
    if (out->recovered)
        add_recovery_notice(out, tool, &hset, &rbase);
    if (on_path && !out->upgrade_ok)
        add_production_failure(out, tool, &bset, &hset, &rup, cres);
    if (!out->clean_ok && !(on_path && !out->upgrade_ok && cres->failed_migration && rup.failed_migration &&
                            strcmp(cres->failed_migration, rup.failed_migration) == 0 &&
                            strcmp(cres->sqlstate, rup.sqlstate) == 0)) {
        const char *name = cres->failed_migration;
        char *what = failure_words(cres), *detail = tool_output(cres);
        char *file = name && rh_migset_find(&hset, name) ? file_of(tool, out, name) : NULL;
        rh_check_add(out, RH_CHECK_ERROR, 'a', "clean-deploy-failed", name, file,
                     file ? rh_check_failure_line(out, name, cres->sqlstate) : 0, detail,
                     "a clean deploy of %s with `%s` fails at %s: %s", out->head.label, tool->verbs[0].tool_says,
                     name ? name : "the start", what);
        free(file);
        free(what);
        free(detail);
    }
    if (out->scaled) /* before the lock findings, as for Prisma: a lock whose ESTIMATE is past --max-block gets the error alone */
        rh_check_estimate(out, o->scale);
    rh_check_lock_findings(out);
    rh_check_add_block_findings(out);

    /* (c) */
    double tcat = now_ms();
    if (one_path) { /* one run: the same schema, no snapshot needed */
        out->catalog_compared = out->clean_ok && out->upgrade_ok;
    } else if (out->clean_ok && out->upgrade_ok) {
        if (rh_catalog_snapshot(upgrade, &copts, &cat_up, err) < 0) {
            rh_err_prefix(err, "catalog of the upgrade path");
            goto out;
        }
        rh_buf diff;
        rh_buf_init(&diff);
        char *la = rh_xasprintf("clean deploy of %s", out->head.label);
        char *lb = rh_xasprintf("upgrade path %s -> %s", out->base.label, out->head.label);
        out->catalog_compared = 1;
        out->catalog_differences = rh_catalog_diff(cat_clean, cat_up, &copts, la, lb, &diff);
        /* the usual cause: an entry head's deploy passed over (drizzle: an older journal `when`) */
        const char *skipped = NULL;
        for (size_t i = 0; !skipped && i < rup.n_findings; i++)
            if (rup.findings[i].kind == RH_FINDING_SKIPPED && rh_migset_find(&hset, rup.findings[i].name))
                skipped = rup.findings[i].name;
        const char *cause = skipped ? skipped : edited;
        char *file = cause ? file_of(tool, out, cause) : NULL;
        if (out->catalog_differences)
            rh_check_add(out, RH_CHECK_ERROR, 'c', "catalog-differs", cause, file, file ? 1 : 0, diff.data,
                         "the upgrade path (deploy %s, then %s with `%s`) ends in a different schema than a clean "
                         "deploy of %s: %zu object(s) differ%s%s%s",
                         out->base.label, out->head.label, tool->verbs[0].tool_says, out->head.label,
                         out->catalog_differences, cause ? "; likely cause: `" : "", cause ? cause : "",
                         skipped ? "` was passed over by head's deploy" : cause ? "` was edited after apply" : "");
        free(file);
        free(la);
        free(lb);
        rh_buf_free(&diff);
    }
    out->ms_catalog = now_ms() - tcat;
    rc = 0;
out:
    if (clean)
        PQfinish(clean);
    if (upgrade)
        PQfinish(upgrade);
    if (c && o->keep && rc == 0 && (clean_cluster || probe_cluster)) {
        out->kept = rh_check_keep_isolated(c, clean_cluster, probe_cluster);
        c = clean_cluster = probe_cluster = NULL;
    }
    for (int i = 0; i < 2; i++) { /* isolated: (a)'s and (f)'s own clusters, when not kept */
        rh_cluster **own_c = i ? &probe_cluster : &clean_cluster;
        rh_err e2;
        if (*own_c && rh_cluster_stop(*own_c, &e2) < 0)
            rh_check_add(out, RH_CHECK_ERROR, 'a', "cluster-cleanup", NULL, NULL, 0, NULL, "%s", e2.msg);
        *own_c = NULL;
    }
    if (c) {
        if (o->keep && rc == 0) {
            char *psql = rh_cluster_psql_command(c);
            out->kept = rh_xasprintf("%s  (databases: %s, %s%s)", psql ? psql : rh_cluster_url(c), DB_CLEAN,
                                     DB_UPGRADE, probe ? ", " DB_PROBE : "");
            free(psql);
            rh_cluster_keep(c);
        } else {
            double ts = now_ms();
            if (rc == 0 && cc.saving)
                out->cache_published = rh_check_cache_publish(&cc, c, &co, out->base.label) == 0;
            rh_check_shared_globals_warning(out, isolated, &cc);
            out->ms_publish = now_ms() - ts;
            rh_err e2;
            if (rh_cluster_stop(c, &e2) < 0)
                rh_check_add(out, RH_CHECK_ERROR, 'a', "cluster-cleanup", NULL, NULL, 0, NULL, "%s", e2.msg);
            out->ms_stop = now_ms() - ts;
        }
    }
    rh_check_cache_free(&cc);
    free(isolated);
    rh_ledger_free(&rows);
    rh_catalog_free(cat_clean);
    rh_catalog_free(cat_up);
    rh_engine_result_free(&rclean);
    rh_engine_result_free(&rbase);
    rh_engine_result_free(&rup);
    if (have_b)
        rh_migset_free(&bset);
    if (have_h)
        rh_migset_free(&hset);
    rh_git_close(repo);
    free(base_spec);
    out->ms_total = now_ms() - t0;
    return rc;
}
