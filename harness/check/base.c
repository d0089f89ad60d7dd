/*
 * base.c — the default --base of `rehearse check`: where the pull request's branch left main.
 *
 * The merge-base of HEAD with origin/main, else main (then origin/master, master), through
 * source/git.h like every read of the repository (so a damaged object is reported, not looped on).
 */
#include <stdio.h>
#include <string.h>

#include "check/check.h"
#include "source/git.h"
#include "util/buf.h"

int rh_check_default_base(const char *repo_path, char **spec, char *how, size_t howsz, rh_err *err)
{
    static const char *const mains[] = {"origin/main", "main", "origin/master", "master"};
    rh_git_repo *repo = NULL;
    if (rh_git_open(&repo, repo_path, err) < 0)
        return -1;
    int rc = -1, found;
    char hex[41]; /* a hex sha */
    /* HEAD with itself: does HEAD name a commit? */
    if ((found = rh_git_merge_base(repo, "HEAD", "HEAD", hex, err)) <= 0) {
        if (found == 0)
            rh_err_set(err, "%s: HEAD does not name a commit (empty repository?); give --base", repo_path);
        goto out;
    }
    for (size_t i = 0; i < sizeof mains / sizeof mains[0]; i++) {
        if ((found = rh_git_merge_base(repo, "HEAD", mains[i], hex, err)) < 0)
            goto out;
        if (found == 0)
            continue;
        *spec = rh_xstrdup(hex);
        snprintf(how, howsz, "merge-base of HEAD and %s", mains[i]);
        rc = 0;
        goto out;
    }
    if (rh_git_is_shallow(repo)) /* the walks stopped at the clone's cut: fetching main would not help */
        rh_err_set(err, "%s: no default --base: the repository is a shallow clone, and where HEAD left "
                   "origin/main, main, origin/master or master is below its cut (fetch all of the history: "
                   "`git fetch --unshallow`, or actions/checkout's `fetch-depth: 0`, GitLab's `GIT_DEPTH: 0`; "
                   "or give --base)", repo_path);
    else
        rh_err_set(err, "%s: no default --base: none of origin/main, main, origin/master, master shares history "
                   "with HEAD (in CI, fetch the target branch, e.g. `git fetch origin main`, or give --base)",
                   repo_path);
out:
    rh_git_close(repo);
    return rc;
}
