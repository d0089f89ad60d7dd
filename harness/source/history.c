/*
 * history.c — two revisions' migration sets, read and ordered as the default tool reads them, and the
 * findings list its history_findings hook fills (see history.h; the tool's: tools/NAME/history.c).
 */
#include "source/history.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/loader.h"
#include "tools/tool.h"
#include "util/buf.h"

int rh_git_history_compute(rh_git_repo *repo, const char *from, const char *to, const rh_git_history_opts *opts,
                           rh_git_history *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    if (rh_git_resolve(repo, from, &out->from, err) < 0)
        return rh_err_prefix(err, "--from");
    if (rh_git_resolve(repo, to, &out->to, err) < 0)
        return rh_err_prefix(err, "--to");
    if (opts && opts->migrations) {
        out->migrations = rh_git_relpath(repo, opts->migrations, err);
        if (!out->migrations)
            return rh_err_prefix(err, "--migrations");
    } else {
        rh_err e2;
        if (rh_tool_find_folder(RH_TOOL_DEFAULT, repo, &out->to, &out->migrations, err) < 0 &&
            rh_tool_find_folder(RH_TOOL_DEFAULT, repo, &out->from, &out->migrations, &e2) < 0)
            return -1;
    }
    /* `to` as every command loads a revision (loader.h); `from` is read in `to`'s order: the order
       of the tool version that will deploy `to` on a database deployed at `from` */
    rh_load_spec spec = {.git = repo, .resolved = &out->to, .migrations = out->migrations,
                         .tool_version = opts ? opts->tool_version : NULL};
    rh_loaded to_set;
    if (rh_source_load(&spec, &to_set, err) < 0)
        goto fail;
    out->b = to_set.set;
    memset(&to_set.set, 0, sizeof to_set.set);
    out->profile = to_set.choice.profile;
    out->profile_from = to_set.choice.from;
    snprintf(out->profile_source, sizeof out->profile_source, "%s", to_set.choice.source);
    rh_loaded_free(&to_set);
    /* absent at `from`: the folder appears between the revisions, everything is new */
    spec.resolved = &out->from;
    spec.base = 1;
    spec.caller_orders = 1; /* in head's order, below */
    if (rh_source_load_set(&spec, &out->a, &out->a_missing, err) < 0)
        goto fail;
    rh_migset_sort(&out->a, &out->profile);

    if (RH_TOOL_DEFAULT->history_findings)
        RH_TOOL_DEFAULT->history_findings(out);
    return 0;
fail:
    rh_git_history_free(out);
    return -1;
}

void rh_git_history_free(rh_git_history *h)
{
    if (!h)
        return;
    rh_hist_free_findings(h);
    free(h->migrations);
    rh_migset_free(&h->a);
    rh_migset_free(&h->b);
    rh_git_rev from = h->from, to = h->to;
    memset(h, 0, sizeof *h);
    h->from = from;
    h->to = to;
}
