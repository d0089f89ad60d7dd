/*
 * versions.c — `check --pg 14,17`: the whole check on each PostgreSQL version, merged into one
 * result (see rh_check_run_versions in check.h), and the one text that says which versions ran.
 */
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "check/check_int.h"
#include "cluster/cluster.h"
#include "tools/tool.h"
#include "util/buf.h"

#define MAX_VERSIONS 16

static int str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int same_finding(const rh_check_finding *a, const rh_check_finding *b)
{
    return a->level == b->level && a->step == b->step && a->line == b->line && str_eq(a->code, b->code) &&
           str_eq(a->migration, b->migration) && str_eq(a->file, b->file) && str_eq(a->message, b->message) &&
           str_eq(a->detail, b->detail);
}

/* A finding that says the migration did not deploy on that version. */
static int is_failure(const rh_check_finding *f)
{
    return f->level == RH_CHECK_ERROR && f->migration &&
           (strcmp(f->code, "clean-deploy-failed") == 0 || strcmp(f->code, "fails-in-production") == 0 ||
            strcmp(f->code, "base-deploy-failed") == 0);
}

static const rh_check_finding *failure_of(const rh_check_result *r, const char *migration)
{
    for (size_t i = 0; i < r->n_findings; i++)
        if (is_failure(&r->findings[i]) && strcmp(r->findings[i].migration, migration) == 0)
            return &r->findings[i];
    return NULL;
}

/* "14, 17" for the versions whose bit is set in mask. */
static void names_of(const rh_check_result *res, size_t nv, unsigned mask, rh_buf *out)
{
    const char *sep = "";
    for (size_t i = 0; i < nv; i++)
        if (mask & (1u << i)) {
            rh_buf_printf(out, "%s%s", sep, res[i].postgres ? res[i].postgres : "?");
            sep = ", ";
        }
}

/* Findings of every version into out: once when all give it, else named after those that do. */
static void merge_findings(rh_check_result *out, rh_check_result *res, size_t nv, const char *const *asked)
{
    unsigned all = (1u << nv) - 1;
    for (size_t i = 0; i < nv; i++)
        for (size_t j = 0; j < res[i].n_findings; j++) {
            const rh_check_finding *f = &res[i].findings[j];
            unsigned mask = 1u << i;
            int seen = 0;
            for (size_t k = 0; k < nv && !seen; k++)
                for (size_t l = 0; l < res[k].n_findings && !seen; l++) {
                    if (k == i && l == j)
                        continue;
                    if (same_finding(f, &res[k].findings[l])) {
                        if (k < i || (k == i && l < j))
                            seen = 1; /* merged with the earlier one */
                        else
                            mask |= 1u << k;
                    }
                }
            if (seen)
                continue;
            if (mask == all) {
                rh_check_add(out, f->level, f->step, f->code, f->migration, f->file, f->line, f->detail, "%s",
                             f->message);
                continue;
            }
            rh_buf who;
            rh_buf_init(&who);
            const char *sep = "";
            for (size_t k = 0; k < nv; k++)
                if (mask & (1u << k)) {
                    rh_buf_printf(&who, "%s%s", sep, asked[k]);
                    sep = ", ";
                }
            rh_check_add(out, f->level, f->step, f->code, f->migration, f->file, f->line, f->detail, "[pg %s] %s",
                         who.data, f->message);
            rh_buf_free(&who);
        }
}

/* A migration that fails on some versions and deploys on others: the error that names both. */
static void add_differences(rh_check_result *out, rh_check_result *res, size_t nv)
{
    for (size_t i = 0; i < nv; i++)
        for (size_t j = 0; j < res[i].n_findings; j++) {
            const rh_check_finding *f = &res[i].findings[j];
            if (!is_failure(f) || failure_of(&res[i], f->migration) != f)
                continue;
            unsigned failing = 0, all = (1u << nv) - 1;
            int earlier = 0; /* reported once, by the first version it fails on */
            for (size_t k = 0; k < nv; k++)
                if (failure_of(&res[k], f->migration)) {
                    failing |= 1u << k;
                    earlier = earlier || k < i;
                }
            if (earlier || failing == all)
                continue;
            rh_buf ok, bad;
            rh_buf_init(&ok);
            rh_buf_init(&bad);
            names_of(res, nv, all & ~failing, &ok);
            names_of(res, nv, failing, &bad);
            rh_check_add(out, RH_CHECK_ERROR, 'e', "differs-across-versions", f->migration, f->file, f->line, f->detail,
                         "%s deploys on PostgreSQL %s but fails on PostgreSQL %s: %s", f->migration, ok.data, bad.data,
                         f->message);
            rh_buf_free(&ok);
            rh_buf_free(&bad);
        }
}

/* Everything but the findings from the first version; states and times of all versions. */
static void merge(rh_check_result *out, rh_check_result *res, size_t nv, const char *const *asked)
{
    *out = res[0];
    out->findings = NULL;
    out->n_findings = 0;
    out->postgres = res[0].postgres ? rh_xstrdup(res[0].postgres) : NULL;
    out->kept = NULL;
    /* res[0] keeps only what out did not take: its findings, postgres, kept */
    rh_check_result first = {.findings = res[0].findings, .n_findings = res[0].n_findings,
                             .postgres = res[0].postgres, .kept = res[0].kept};
    res[0] = first;

    out->pgs = rh_xcalloc(nv, sizeof *out->pgs);
    out->n_pgs = nv;
    rh_buf kept;
    rh_buf_init(&kept);
    for (size_t i = 0; i < nv; i++) {
        const rh_check_result *r = i == 0 ? out : &res[i];
        rh_check_pg *p = &out->pgs[i];
        p->asked = rh_xstrdup(asked[i]);
        p->postgres = rh_xstrdup(res[i].postgres ? res[i].postgres : "?");
        for (int l = RH_CHECK_NOTICE; l <= RH_CHECK_ERROR; l++)
            p->at_least[l] = rh_check_count(&res[i], (rh_check_level)l);
        p->deployed = r->clean_ok && r->upgrade_ok;
        if (res[i].kept)
            rh_buf_printf(&kept, "%s[pg %s] %s", kept.len ? "; " : "", asked[i], res[i].kept);
        if (i == 0)
            continue;
        out->clean_ok = out->clean_ok && r->clean_ok;
        out->base_ok = out->base_ok && r->base_ok;
        out->upgrade_ok = out->upgrade_ok && r->upgrade_ok;
        out->catalog_compared = out->catalog_compared && r->catalog_compared;
        if (r->catalog_differences > out->catalog_differences)
            out->catalog_differences = r->catalog_differences;
        if (r->seed < 0)
            out->seed = -1;
        out->ms_total += r->ms_total;
        out->ms_history += r->ms_history;
        out->ms_cluster += r->ms_cluster;
        out->ms_clean += r->ms_clean;
        out->ms_upgrade += r->ms_upgrade;
        out->ms_catalog += r->ms_catalog;
        out->ms_locks += r->ms_locks;
        out->ms_stop += r->ms_stop;
    }
    out->kept = kept.len ? rh_buf_steal(&kept) : NULL;
    rh_buf_free(&kept);
    merge_findings(out, res, nv, asked);
    add_differences(out, res, nv);
}

/* One check on one version: the default tool's, or another tool's (rh_check_tool). */
static int run_one(const struct rh_tool *tool, const rh_check_opts *opts, rh_check_result *out, rh_err *err)
{
    if (tool && tool != RH_TOOL_DEFAULT)
        return rh_check_tool(tool, opts, out, err);
    return rh_check_run(opts, out, err);
}

int rh_check_run_versions(const struct rh_tool *tool, const rh_check_opts *opts, rh_check_result *out, rh_err *err)
{
    if (!opts->pg_version || !strchr(opts->pg_version, ','))
        return run_one(tool, opts, out, err);
    memset(out, 0, sizeof *out);
    char *list = rh_xstrdup(opts->pg_version), *save = NULL;
    const char *asked[MAX_VERSIONS];
    size_t nv = 0;
    int rc = 0;
    for (char *v = strtok_r(list, ",", &save); v && rc == 0; v = strtok_r(NULL, ",", &save)) {
        rh_pgbin b;
        if (nv == MAX_VERSIONS)
            rc = rh_err_set(err, "--pg: at most %d versions", MAX_VERSIONS);
        else if (rh_pgbin_find_version(&b, opts->pg_bin, v, err) < 0)
            rc = -1;
        else
            asked[nv++] = v;
    }
    if (rc == 0 && nv < 2)
        rc = rh_err_set(err, "--pg %s: give two versions or more, separated by commas (--pg 14,17)", opts->pg_version);
    rh_check_result *res = rh_xcalloc(nv ? nv : 1, sizeof *res);
    for (size_t i = 0; rc == 0 && i < nv; i++) {
        rh_check_opts one = *opts;
        one.pg_version = asked[i];
        if (run_one(tool, &one, &res[i], err) < 0) {
            rh_err_prefix(err, "--pg %s", asked[i]);
            rc = -1;
        }
    }
    if (rc == 0)
        merge(out, res, nv, asked);
    for (size_t i = 0; i < nv; i++)
        rh_check_result_free(&res[i]);
    free(res);
    free(list);
    return rc;
}

void rh_check_postgres_text(const rh_check_result *r, rh_check_level fail_on, rh_buf *out)
{
    if (!r->n_pgs) {
        rh_buf_printf(out, "PostgreSQL %s", r->postgres ? r->postgres : "?");
        return;
    }
    rh_buf_puts(out, "PostgreSQL ");
    for (size_t i = 0; i < r->n_pgs; i++) {
        const rh_check_pg *p = &r->pgs[i];
        size_t failing = p->at_least[fail_on], errors = p->at_least[RH_CHECK_ERROR];
        rh_buf_printf(out, "%s%s (--pg %s): ", i ? "; " : "", p->postgres, p->asked);
        if (!failing && p->deployed)
            rh_buf_puts(out, "passed");
        else
            rh_buf_printf(out, "failed, %zu error(s)", errors);
    }
}
