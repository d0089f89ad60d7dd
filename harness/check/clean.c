/* clean.c — the catalog of a clean deploy of a revision (see clean.h). */
#include "check/clean.h"

#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "migrations/profile.h"
#include "source/git.h"

/* The migration set of REV, sorted by the profile the revision uses (or the one asked for). */
static int load_set(const rh_clean_source *src, const char *spec, rh_migset *set, rh_profile *profile, rh_err *err)
{
    rh_git_repo *repo = NULL;
    if (rh_git_open(&repo, src->repo ? src->repo : ".", err) < 0)
        return -1;
    int rc = -1;
    char *path = NULL;
    rh_git_rev rev;
    if (rh_git_resolve(repo, spec, &rev, err) < 0)
        goto out;
    if (src->migrations)
        path = rh_git_relpath(repo, src->migrations, err);
    else
        rh_git_default_migrations(repo, &rev, &path, err);
    if (!path)
        goto out;
    if (rh_git_read_migset(repo, &rev, path, set, err) < 0)
        goto out;
    const char *version = src->prisma_version;
    rh_prisma_version detected;
    if (!version) {
        int found = rh_git_detect_prisma(repo, &rev, path, &detected, err);
        if (found < 0) {
            rh_migset_free(set);
            goto out;
        }
        version = found ? detected.version : RH_PROFILE_DEFAULT_VERSION;
    }
    if (rh_profile_from_version(profile, version, err) < 0) {
        rh_migset_free(set);
        goto out;
    }
    rh_migset_sort(set, profile);
    rc = 0;
out:
    free(path);
    rh_git_close(repo);
    return rc;
}

int rh_clean_catalog(const rh_clean_source *src, const char *rev, const rh_catalog_opts *copts, rh_catalog **out,
                     rh_err *err)
{
    *out = NULL;
    rh_migset set;
    rh_profile profile;
    if (load_set(src, rev, &set, &profile, err) < 0)
        return rh_err_prefix(err, "clean deploy of %s", rev);
    rh_cluster_opts none = {0};
    rh_cluster *c = NULL;
    PGconn *conn = NULL;
    rh_engine_result res;
    rh_engine_result_init(&res);
    int rc = -1;
    if (rh_cluster_start(&c, src->cluster ? src->cluster : &none, err) < 0)
        goto out;
    if (!(conn = rh_cluster_connect(c, NULL, err)))
        goto out;
    rh_engine_opts eo = {.profile = &profile};
    int exit_code = rh_engine_deploy(conn, &set, &eo, &res, err);
    if (exit_code < 0)
        goto out;
    if (exit_code != 0) {
        rh_err_set(err, "the clean deploy of %s fails (Prisma %s):\n%s", rev, profile.version,
                   res.errout.len ? res.errout.data : res.out.data);
        goto out;
    }
    rc = rh_catalog_snapshot(conn, copts, out, err);
out:
    rh_engine_result_free(&res);
    if (conn)
        PQfinish(conn);
    rh_err ignored;
    rh_cluster_stop(c, &ignored);
    rh_migset_free(&set);
    return rc;
}

int rh_clean_rev_resolver(const char *rev, const rh_catalog_opts *opts, rh_catalog **out, void *ctx, rh_err *err)
{
    return rh_clean_catalog(ctx, rev, opts, out, err);
}
