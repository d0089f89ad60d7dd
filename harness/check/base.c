/*
 * base.c — the default --base of `rehearse check`: where the pull request's branch left main.
 *
 * The merge-base of HEAD with origin/main, else main (then origin/master, master), found with
 * libgit2 (source/git.h has no merge-base call; this is the only one rehearse needs).
 */
#include <git2.h>
#include <stdio.h>
#include <string.h>

#include "check/check.h"
#include "util/buf.h"

int rh_check_default_base(const char *repo_path, char **spec, char *how, size_t howsz, rh_err *err)
{
    static const char *const mains[] = {"origin/main", "main", "origin/master", "master"};
    git_libgit2_init();
    git_repository *repo = NULL;
    int rc = -1;
    if (git_repository_open_ext(&repo, repo_path, 0, NULL) < 0) {
        rh_err_set(err, "not a git repository: %s (nor any parent folder)", repo_path);
        goto out;
    }
    git_oid head;
    if (git_reference_name_to_id(&head, repo, "HEAD") < 0) {
        rh_err_set(err, "%s: HEAD does not name a commit (empty repository?); give --base", repo_path);
        goto out;
    }
    for (size_t i = 0; i < sizeof mains / sizeof mains[0]; i++) {
        git_object *obj = NULL;
        if (git_revparse_single(&obj, repo, mains[i]) < 0)
            continue;
        git_object *commit = NULL;
        int ok = git_object_peel(&commit, obj, GIT_OBJECT_COMMIT);
        git_object_free(obj);
        if (ok < 0)
            continue;
        git_oid mb;
        ok = git_merge_base(&mb, repo, &head, git_object_id(commit));
        git_object_free(commit);
        if (ok < 0)
            continue;
        char hex[GIT_OID_HEXSZ + 1];
        git_oid_tostr(hex, sizeof hex, &mb);
        *spec = rh_xstrdup(hex);
        snprintf(how, howsz, "merge-base of HEAD and %s", mains[i]);
        rc = 0;
        goto out;
    }
    rh_err_set(err, "%s: no default --base: none of origin/main, main, origin/master, master shares history "
               "with HEAD (in CI, fetch the target branch, e.g. `git fetch origin main`, or give --base)",
               repo_path);
out:
    git_repository_free(repo);
    git_libgit2_shutdown();
    return rc;
}
