/*
 * clean.h — "the schema a clean deploy of revision REV produces": the migrations folder of REV
 * loaded as every command loads it (source/loader.h), deployed on a fresh cluster with the
 * revision's Prisma profile and snapshotted (engine/clean.h), continuing the longest prefix of the
 * set the state cache holds and publishing the set's state (engine/cached.h). Used by
 * `rehearse snapshot --rev`, `rehearse diff rev:A rev:B` (as the catalog module's rev resolver).
 */
#ifndef RH_CHECK_CLEAN_H
#define RH_CHECK_CLEAN_H

#include <stdio.h>

#include "catalog/catalog.h"
#include "cluster/cluster.h"

typedef struct rh_clean_source {
    const char *repo;            /* a folder inside the repository; NULL: "." */
    const char *migrations;      /* path of the migrations folder; NULL: Prisma's default at REV */
    const char *tool_version;  /* NULL: detected at REV, else the default profile */
    const rh_cluster_opts *cluster; /* NULL: defaults */
    const char *tool;            /* the migration tool (a registered name); NULL: detected at REV */
    FILE *notes;                 /* where to say what was detected (NULL: nowhere) */
    int no_cache;                /* --no-cache: deploy every migration, publish no state (engine/cached.h) */
    int base;                    /* the revision is a base (diff's A): a folder absent there is an empty
                                    database's schema (said in notes), as check and plan take such a base */
} rh_clean_source;

/*
 * SET deployed by TOOL (NULL: the default) on a fresh cluster with src's cluster options and
 * snapshotted with copts (NULL: defaults): the one clean-deploy path of every tool. The cluster
 * starts from the cached state of the set's longest deployed prefix, the whole set's state is
 * published after a successful deploy with the catalog (engine/cached.h); when the whole set is
 * cached with its catalog, that is the answer and no server starts. *globals (globals may be NULL):
 * the fresh cluster's global catalogs as the deploy found them (rh_state_globals), for a caller that
 * uses the catalog in place of a deploy in another cluster (a scenario's `clean REV`) to compare with
 * that cluster's (NULL when the cache is off). 0 with *out set, 1 when the deploy fails (res says how),
 * -1 on a setup error.
 */
struct rh_tool;
struct rh_engine_result;
struct rh_engine_opts;
struct rh_migset;
int rh_clean_deploy_catalog(const struct rh_tool *tool, const rh_clean_source *src, const struct rh_migset *set,
                            const struct rh_engine_opts *eo, const rh_catalog_opts *copts, rh_catalog **out,
                            char **globals, struct rh_engine_result *res, rh_err *err);

/* Deploy REV cleanly with its tool (src->tool, else detected at REV) and snapshot it: the set loaded
   as every command loads it (source/loader.h). A deploy that fails is an error quoting the tool. */
int rh_clean_catalog(const rh_clean_source *src, const char *rev, const rh_catalog_opts *copts, rh_catalog **out,
                     rh_err *err);

/* rh_catalog_rev_resolver adaptor: ctx is a const rh_clean_source *. */
int rh_clean_rev_resolver(const char *rev, const rh_catalog_opts *opts, rh_catalog **out, void *ctx, rh_err *err);

#endif
