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
} rh_clean_source;

/* Deploy REV cleanly and snapshot it. A deploy that fails is an error quoting Prisma's message. */
int rh_clean_catalog(const rh_clean_source *src, const char *rev, const rh_catalog_opts *copts, rh_catalog **out,
                     rh_err *err);

/* rh_catalog_rev_resolver adaptor: ctx is a const rh_clean_source *. */
int rh_clean_rev_resolver(const char *rev, const rh_catalog_opts *opts, rh_catalog **out, void *ctx, rh_err *err);

#endif
