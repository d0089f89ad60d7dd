/*
 * loader.h — the one way from "a tool, a revision (or a plain folder), a migrations path and an
 * optional version override" to "the migration set, in its order, with the tool's profile that orders
 * and applies it (a tool with profiles), and where that profile came from". Every command and every
 * tool uses it (deploy, status, resolve, history, check, plan, snapshot --rev, diff rev:, scenarios'
 * checkout and `expect catalog = clean REV`): the folder is opened here (source/folder.h, on disk or
 * from git's object database) and read by the tool's one reader, so the same input gives the same
 * set, order and profile everywhere.
 *
 * It lives in source/ (not migrations/) because it reads git: migrations/ is below source/.
 */
#ifndef RH_LOADER_H
#define RH_LOADER_H

#include "migrations/migset.h"
#include "migrations/profile.h"
#include "source/git.h"
#include "util/err.h"

struct rh_tool; /* tools/tool.h */

typedef struct rh_profile_choice {
    rh_profile profile;
    rh_profile_from from;
    /* One phrase for messages: "--prisma-version 6.6", "apps/api/package.json devDependencies.prisma
       ^6.19.0, yarn.lock 6.19.3 at v1 (abc1234)", "default (no prisma dependency at v1 (abc1234))". */
    char source[1100];
    /* Why detection fell back to the default (a package.json that is not JSON, a range such as
       "latest"): the user must hear it. "" otherwise. */
    char note[600];
} rh_profile_choice;

/*
 * The profile of `tool` (NULL: the default tool) for a revision: `override` when given (override_label names it in `source`, e.g.
 * "--prisma-version" or "prisma 6.6 (x.scenario:3)"; NULL: "--prisma-version"), else the version
 * detected at `rev` near the folder `migrations` (the tool's detect_version), else the default with a
 * note. repo/rev may be NULL (a plain folder: override or default). Fails only on an override that
 * is not a version (the message names the value and its label).
 */
int rh_profile_choose(const struct rh_tool *tool, rh_git_repo *repo, const rh_git_rev *rev, const char *migrations,
                      const char *override, const char *override_label, rh_profile_choice *out, rh_err *err);

/* What to load. Either `dir` (a plain folder on disk) or a repository and a revision. */
typedef struct rh_load_spec {
    const struct rh_tool *tool; /* whose folder; NULL: the default tool */
    const char *dir;            /* a plain migrations folder; no git */
    const char *repo;           /* a folder inside the repository (opened here); or: */
    rh_git_repo *git;           /* an open repository (borrowed); wins over `repo` */
    const char *rev;            /* revision spec or WORKTREE; or: */
    const rh_git_rev *resolved; /* an already-resolved revision (with `git`); wins over `rev` */
    const char *migrations;     /* folder inside the repository; NULL: the tool's find_folder at the revision */
    const char *tool_version; /* override; NULL: detected at the revision, else the default */
    const char *override_label; /* how to name the override in messages; NULL: "--prisma-version" */
    int base;                   /* a base revision (check's, plan's --base, history's --from, diff rev:A): a
                                   folder absent there is an empty set with `absent` set, not an error */
    int caller_orders;          /* the caller sorts the set with a profile of its own (check's base in head's
                                   order): no version detected at this revision, the set left unsorted and
                                   `choice` zeroed */
} rh_load_spec;

typedef struct rh_loaded {
    rh_migset set;              /* sorted in the profile's order */
    rh_profile_choice choice;   /* the profile and where it came from (zeroed for a tool without profiles) */
    rh_git_rev rev;             /* the revision read (zeroed for a plain folder) */
    char *migrations;           /* the folder: relative to the repository root, or `dir` */
    int absent;                 /* spec.base and the folder does not exist at the revision: set is empty,
                                   its origin "PATH at REV (absent)" */
} rh_loaded;

/*
 * Load the set. Errors name what the user gave: the repository, the revision, the folder, the
 * override; *out is then empty (rh_loaded_free is still safe). A damaged repository is an error even
 * for a base (never taken for an absent folder).
 */
int rh_source_load(const rh_load_spec *spec, rh_loaded *out, rh_err *err);
void rh_loaded_free(rh_loaded *l);

/* rh_source_load for a caller that wants the set alone: moved into *set (zeroed on failure); *absent
   (may be NULL) as rh_loaded.absent. */
int rh_source_load_set(const rh_load_spec *spec, rh_migset *set, int *absent, rh_err *err);

#endif
