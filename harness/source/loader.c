/*
 * loader.c — a tool's revision (or folder) → migration set, order and profile, for every command (loader.h).
 */
#include "source/loader.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/folder.h"
#include "tools/tool.h"
#include "util/buf.h"

int rh_profile_choose(const rh_tool *tool, rh_git_repo *repo, const rh_git_rev *rev, const char *migrations,
                      const char *override, const char *override_label, rh_profile_choice *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    if (!tool)
        tool = RH_TOOL_DEFAULT;
    if (override) {
        const char *label = override_label ? override_label : tool->version_option;
        if (rh_tool_profile(tool, &out->profile, override, err) < 0)
            return rh_err_prefix(err, "%s", label);
        out->from = RH_PROFILE_FROM_OVERRIDE;
        if (override_label)
            snprintf(out->source, sizeof out->source, "%s", override_label);
        else
            snprintf(out->source, sizeof out->source, "%s %s", tool->version_option, override);
        return 0;
    }
    rh_err derr;
    rh_err_clear(&derr);
    int found = 0;
    char version[64], source[512];
    rh_profile_from from = RH_PROFILE_FROM_DEFAULT;
    if (repo && rev && tool->detect_version)
        found = tool->detect_version(repo, rev, migrations, version, sizeof version, source, sizeof source, &from,
                                     &derr);
    if (found == 1 && rh_tool_profile(tool, &out->profile, version, &derr) == 0) {
        out->from = from;
        snprintf(out->source, sizeof out->source, "%s at %s", source, rev->label);
        return 0;
    }
    int rc = rh_tool_profile(tool, &out->profile, NULL, err);
    assert(rc == 0);
    (void)rc;
    out->from = RH_PROFILE_FROM_DEFAULT;
    if (found != 0) { /* a package.json that is not JSON, a range such as "latest" */
        snprintf(out->note, sizeof out->note, "%.590s", derr.msg);
        snprintf(out->source, sizeof out->source, "default (%.590s)", derr.msg);
    } else if (repo && rev) {
        snprintf(out->source, sizeof out->source, "default (no %s dependency found at %s)", tool->name, rev->label);
    } else {
        snprintf(out->source, sizeof out->source, "default (a plain folder names no %s version)",
                 tool->title ? tool->title : tool->name);
    }
    return 0;
}

void rh_loaded_free(rh_loaded *l)
{
    if (!l)
        return;
    rh_migset_free(&l->set);
    free(l->migrations);
    memset(l, 0, sizeof *l);
}

static const rh_tool *tool_of(const rh_load_spec *spec)
{
    return spec->tool ? spec->tool : RH_TOOL_DEFAULT;
}

/* The profile (a tool that has them) or, for one that has not, an override refused. */
static int choose(const rh_load_spec *spec, rh_git_repo *git, const rh_git_rev *rev, const char *migrations,
                  rh_loaded *out, rh_err *err)
{
    const rh_tool *tool = tool_of(spec);
    if (spec->caller_orders) /* detecting a version here walks the revision's tree for nothing */
        return 0;
    if (!tool->profile_from_version) {
        if (spec->tool_version) /* callers refuse it first, naming their option */
            return rh_tool_profile(tool, &out->choice.profile, spec->tool_version, err);
        return 0;
    }
    return rh_profile_choose(tool, git, rev, migrations, spec->tool_version, spec->override_label, &out->choice, err);
}

static int load_dir(const rh_load_spec *spec, rh_loaded *out, rh_err *err)
{
    if (rh_folder_load_dir(&out->set, spec->dir, tool_of(spec)->read, err) < 0)
        return -1;
    out->migrations = rh_xstrdup(spec->dir);
    return choose(spec, NULL, NULL, NULL, out, err);
}

static int load_git(const rh_load_spec *spec, rh_git_repo *git, rh_loaded *out, rh_err *err)
{
    const rh_tool *tool = tool_of(spec);
    rh_err not_found;
    rh_err_clear(&not_found);
    if (spec->resolved)
        out->rev = *spec->resolved;
    else if (rh_git_resolve(git, spec->rev ? spec->rev : "HEAD", &out->rev, err) < 0)
        return -1;
    if (spec->migrations) {
        if (!(out->migrations = rh_git_relpath(git, spec->migrations, err)))
            return rh_err_prefix(err, "--migrations");
    } else if (rh_tool_find_folder(tool, git, &out->rev, &out->migrations, err) < 0) {
        if (!spec->base)
            return -1;
        not_found = *err; /* a base where nothing is found: absent when its usual folder is, else this */
        out->migrations = rh_xstrdup(tool->default_migrations);
    }
    rh_err rerr;
    int rc = rh_folder_load_rev(&out->set, git, &out->rev, out->migrations, tool->read, &rerr);
    if (rc != RH_FOLDER_ABSENT && not_found.msg[0]) { /* say what find_folder said */
        *err = not_found;
        return -1;
    }
    if (rc < 0)
        *err = rerr;
    if (rc == RH_FOLDER_ABSENT && spec->base) { /* the folder appears later: at this revision nothing of it was applied */
        memset(&out->set, 0, sizeof out->set);
        out->set.origin = rh_xasprintf("%s at %s (absent)", *out->migrations ? out->migrations : ".", out->rev.label);
        out->absent = 1;
        rc = 0;
    }
    if (rc < 0)
        return -1;
    return choose(spec, git, &out->rev, out->migrations, out, err);
}

int rh_source_load(const rh_load_spec *spec, rh_loaded *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    assert(spec->dir || spec->git || spec->repo);
    int rc;
    if (spec->dir && !spec->git && !spec->repo) {
        rc = load_dir(spec, out, err);
    } else {
        rh_git_repo *git = spec->git;
        if (!git && rh_git_open(&git, spec->repo, err) < 0)
            return -1;
        rc = load_git(spec, git, out, err);
        if (!spec->git)
            rh_git_close(git);
    }
    if (rc < 0) {
        rh_loaded_free(out);
        return -1;
    }
    if (tool_of(spec)->profile_from_version && !spec->caller_orders)
        rh_migset_sort(&out->set, &out->choice.profile);
    return 0;
}

int rh_source_load_set(const rh_load_spec *spec, rh_migset *set, int *absent, rh_err *err)
{
    memset(set, 0, sizeof *set);
    rh_loaded l;
    if (rh_source_load(spec, &l, err) < 0)
        return -1;
    *set = l.set;
    memset(&l.set, 0, sizeof l.set);
    if (absent)
        *absent = l.absent;
    rh_loaded_free(&l);
    return 0;
}
