/* clean.c — the catalog of a clean deploy of a revision on a fresh cluster (see clean.h). */
#include "check/clean.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cached.h"
#include "engine/clean.h"
#include "report/escape.h"
#include "source/loader.h"
#include "tools/tool.h"

/* The catalog kept with the whole set's state (engine/cached.h): 1 with *out and *globals, else 0. */
static int kept_catalog(const rh_state_deploy *sd, const rh_migset *set, const rh_catalog_opts *copts,
                        FILE *notes, rh_catalog **out, char **globals)
{
    rh_catalog_opts none = {0};
    char *text = NULL, *g = NULL;
    if (!sd->on || sd->cached != set->n || !rh_state_catalog_get(sd->entry, copts ? copts : &none, &text, &g))
        return 0;
    rh_err err;
    int ok = rh_catalog_parse(text, "the state cache's catalog", out, &err) == 0;
    free(text);
    if (!ok) { /* checksummed, printed by this very code: never expected; deploy as if not kept */
        rh_report_term_eprintf("rehearse: state cache: %s\n", err.msg);
        free(g);
        return 0;
    }
    if (notes)
        fprintf(notes, "rehearse: note: %s: all %zu migrations and their catalog come from the state cache "
                       "(--no-cache deploys them)\n", set->origin ? set->origin : "clean deploy", set->n);
    if (globals)
        *globals = g;
    else
        free(g);
    return 1;
}

int rh_clean_deploy_catalog(const rh_tool *tool, const rh_clean_source *src, const rh_migset *set,
                            const rh_engine_opts *eo, const rh_catalog_opts *copts, rh_catalog **out, char **globals,
                            rh_engine_result *res, rh_err *err)
{
    rh_cluster_opts none = {0};
    rh_cluster_opts co = src->cluster ? *src->cluster : none;
    co.state = NULL;
    if (globals)
        *globals = NULL;
    /* the tool's ledger is left out of the catalog (engine/clean.h): the kept text's options say so */
    rh_catalog_opts no_opts = {0};
    rh_catalog_opts cat_opts = copts ? *copts : no_opts;
    if (!cat_opts.ledger_tool)
        cat_opts.ledger_tool = tool ? tool : RH_TOOL_DEFAULT;
    copts = &cat_opts;
    rh_state_deploy sd;
    rh_state_deploy_find(&sd, tool, eo->profile, RH_STATE_LAYOUT_FRESH, &co, set, src->no_cache);
    if (kept_catalog(&sd, set, copts, src->notes, out, globals)) { /* no server needed */
        rh_state_deploy_free(&sd);
        return 0;
    }
    rh_cluster *c = NULL;
    PGconn *conn = NULL;
    int rc = -1;
    int started = rh_cluster_start(&c, &co, err) == 0;
    if (!started && sd.entry) { /* a state that does not start is a miss, never a failed command */
        rh_report_term_eprintf("rehearse: state cache not used: %s\n", err->msg);
        rh_state_deploy_forget(&sd, &co);
        started = rh_cluster_start(&c, &co, err) == 0;
    }
    if (started && (conn = rh_cluster_connect(c, NULL, err))) {
        if (sd.cached && src->notes)
            fprintf(src->notes, "rehearse: note: %s: the first %zu of %zu migrations come from the state cache "
                                "(--no-cache deploys them all)\n", set->origin ? set->origin : "clean deploy",
                    sd.cached, set->n);
        rh_state_deploy_started(&sd, c);
        rh_engine_opts with = *eo;
        with.resumed = sd.cached;
        rc = rh_engine_clean_snapshot_with(tool, conn, set, &with, copts, out, res, err);
        char *meta = rh_xasprintf("clean deploy of %s: %zu migrations (in postgres)\n",
                                  set->origin ? set->origin : "a migrations folder", set->n);
        int clean = rc == 0 && rh_engine_session_clean(conn);
        PQfinish(conn);
        conn = NULL;
        if (rc == 0) {
            rh_state_deploy_keep_catalog(&sd, c, &co, copts, *out);
            if (globals && sd.globals)
                *globals = rh_xstrdup(sd.globals);
        }
        rh_state_deploy_publish(&sd, c, clean, &co, rc == 0 ? 0 : 1, meta);
        free(meta);
    }
    if (conn)
        PQfinish(conn);
    rh_err ignored;
    rh_cluster_stop(c, &ignored);
    rh_state_deploy_free(&sd);
    return rc;
}

/* Why the clean deploy of rev failed, in the words of its tool's result. */
static int deploy_failed(const rh_tool *tool, const char *rev, const rh_loaded *l, const rh_engine_result *res,
                         rh_err *err)
{
    if (tool->profile_from_version) /* a tool with versions: which one, and where it was read */
        return rh_err_set(err, "the clean deploy of %s fails (%s %s, from %s):\n%s", rev,
                          tool->title ? tool->title : tool->name, l->choice.profile.version, l->choice.source,
                          res->errout.len ? res->errout.data : res->out.data);
    return rh_err_set(err, "the clean deploy of %s fails (tool %s, exit %d%s%s):\n%s%s", rev, tool->name,
                      res->exit_code, res->failed_migration ? ", at " : "",
                      res->failed_migration ? res->failed_migration : "", res->out.len ? res->out.data : "",
                      res->errout.len ? res->errout.data : "");
}

int rh_clean_catalog(const rh_clean_source *src, const char *rev, const rh_catalog_opts *copts, rh_catalog **out,
                     rh_err *err)
{
    *out = NULL;
    const rh_tool *tool = src->tool ? rh_tool_find(src->tool) : NULL;
    if (src->tool && !tool) {
        char names[256];
        return rh_err_set(err, "--tool %s: no such migration tool (known: %s)", src->tool,
                          rh_tool_names(names, sizeof names));
    }
    if (!tool) { /* detected at the revision: another tool's folder, else the default's loader as before */
        char why[1024];
        tool = rh_tool_detect_rev(src->repo ? src->repo : ".", rev, src->migrations, why, sizeof why, err);
        if (!tool)
            return rh_err_prefix(err, "clean deploy of %s", rev);
        if (tool != RH_TOOL_DEFAULT && src->notes)
            rh_report_term_fprintf(src->notes, "rehearse: note: %s (detected; give --tool NAME to say otherwise)\n", why);
    }
    int dflt = tool == RH_TOOL_DEFAULT;
    rh_load_spec spec = {.tool = tool, .repo = src->repo ? src->repo : ".", .rev = rev, .migrations = src->migrations,
                         .tool_version = dflt ? src->tool_version : NULL, .base = src->base};
    rh_loaded l;
    if (rh_source_load(&spec, &l, err) < 0)
        return dflt ? rh_err_prefix(err, "clean deploy of %s", rev)
                    : rh_err_prefix(err, "clean deploy of %s (tool %s)", rev, tool->name);
    if (l.absent && src->notes) /* as check and plan take a base without the folder */
        rh_report_term_fprintf(src->notes, "rehearse: note: %s: rev:%s is the schema of an empty database\n",
                               l.set.origin, rev);
    if (l.choice.note[0] && src->notes) /* as deploy --rev: go on as the default version, and say so */
        rh_report_term_fprintf(src->notes, "rehearse: note: %s; behaving as %s %s (give %s)\n", l.choice.note,
                               tool->title ? tool->title : tool->name, l.choice.profile.version, tool->version_option);
    rh_engine_result res;
    rh_engine_result_init(&res);
    rh_engine_opts eo = {.profile = tool->profile_from_version ? &l.choice.profile : NULL};
    int rc = rh_clean_deploy_catalog(dflt ? NULL : tool, src, &l.set, &eo, copts, out, NULL, &res, err);
    if (rc == 1)
        rc = deploy_failed(tool, rev, &l, &res, err);
    rh_engine_result_free(&res);
    rh_loaded_free(&l);
    return rc;
}

int rh_clean_rev_resolver(const char *rev, const rh_catalog_opts *opts, rh_catalog **out, void *ctx, rh_err *err)
{
    return rh_clean_catalog(ctx, rev, opts, out, err);
}
