/*
 * detect.h — which Prisma a revision of a repository uses (its package.json and lock files) and
 * where its migrations folder is, read from git's object database (detect.c, lockfile.c).
 */
#ifndef RH_TOOLS_PRISMA_DETECT_H
#define RH_TOOLS_PRISMA_DETECT_H

#include "source/git.h"
#include "util/err.h"

typedef struct rh_prisma_version {
    char version[64];   /* "6.19.3": exact from a lock file, else the minimum of the range */
    char range[64];     /* the range in package.json ("^6.19.0"), "" if only a lock file said it */
    char source[512];   /* where it came from: "apps/api/package.json devDependencies.prisma ^6.19.0,
                           pnpm-lock.yaml 6.19.3" */
} rh_prisma_version;

/*
 * The Prisma version a revision uses: the `prisma` package (else `@prisma/client`) in a
 * package.json (dependencies / devDependencies; the one closest to `near`, e.g. the migrations
 * folder, else the shallowest), refined by the package-lock.json, pnpm-lock.yaml or yarn.lock that
 * installs that package: its workspace root's (npm/yarn "workspaces", pnpm-workspace.yaml), else its
 * own folder's. Returns 1 when found, 0 when the revision names no Prisma, -1 on
 * error (also: a package.json that is not JSON while none names Prisma, or a range that names no
 * version such as "latest": err says which file). `near` may be NULL.
 */
int rh_git_detect_prisma(rh_git_repo *repo, const rh_git_rev *rev, const char *near, rh_prisma_version *out,
                         rh_err *err);

/*
 * Prisma's default migrations folder at a revision: next to the schema named by package.json's
 * "prisma": {"schema": ...}, else prisma/migrations when it exists, else next to a schema.prisma
 * found in the tree (the shallowest; one with a migrations folder beside it first). Malloc'd path
 * relative to the root in *out. Fails with a message naming what was looked for.
 */
int rh_git_default_migrations(rh_git_repo *repo, const rh_git_rev *rev, char **out, rh_err *err);

#endif
