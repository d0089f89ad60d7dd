/*
 * history.h — what changed in a migrations folder between two revisions, and the hazards in it.
 *
 * A database deployed at the first revision meets the second one's folder: migrations removed or
 * renamed, edited after apply, inserted before already applied ones, entries without their file,
 * names whose order differs between the folder orders, and odd entries (symlinks, submodules,
 * invisible characters). The kinds are common; each tool's history_findings hook (tools/tool.h)
 * decides which apply and says what the tool does with each, and adds its own (RH_HIST_TOOL).
 */
#ifndef RH_HISTORY_H
#define RH_HISTORY_H

#include <stddef.h>

#include "migrations/migset.h"
#include "migrations/profile.h"
#include "source/git.h"
#include "source/loader.h"
#include "util/err.h"

typedef enum rh_hist_kind {
    RH_HIST_ADDED,          /* new at `to` (not a hazard by itself) */
    RH_HIST_REMOVED,        /* gone at `to` */
    RH_HIST_RENAMED,        /* same bytes, new name */
    RH_HIST_EDITED,         /* same name, new bytes */
    RH_HIST_OUT_OF_ORDER,   /* new, and sorts before the last migration of `from` */
    RH_HIST_NO_SQL,         /* a folder without migration.sql at `to` */
    RH_HIST_ORDER_DIFFERS,  /* a name at `to` that ICU order puts before others byte order puts first
                               (one finding per migration, listing the names it moves past) */
    RH_HIST_PROBLEM,        /* an odd entry at `to` (symlink, submodule, invisible characters ...) */
    RH_HIST_TOOL,           /* a hazard of the tool's own (its history_findings hook): `code` says which */
} rh_hist_kind;

typedef struct rh_hist_finding {
    rh_hist_kind kind;
    int hazard;      /* 1: counts as a finding (exit 1); 0: a note */
    char *name;      /* the migration (for a rename: the new name) */
    char *other;     /* rename: the old name; out-of-order: the last migration of `from`;
                        order-differs: the first of `others`; NULL otherwise */
    char **others;   /* order-differs: every name `name` moves past (ICU puts `name` first, byte
                        order puts these first), in ICU order; NULL otherwise */
    size_t n_others;
    char *file;      /* the file or folder concerned, from the repository root */
    char *message;   /* one sentence naming the file and the revisions */
    char *code;      /* RH_HIST_TOOL: the tool's kind ("skipped-in-production"); NULL otherwise */
} rh_hist_finding;

typedef struct rh_git_history_opts {
    const char *migrations;      /* folder from the repository root; NULL: the tool's find_folder at `to` */
    const char *tool_version;  /* NULL: detected at `to`, else the default tool's default_version */
} rh_git_history_opts;

typedef struct rh_git_history {
    rh_git_rev from, to;
    const char *tool;            /* another tool whose sets and hazards these are (history --tool); NULL: the
                                    default tool's (profile and profile_* unset otherwise) */
    char *migrations;            /* the folder compared */
    rh_profile profile;          /* the folder order used for out-of-order findings */
    rh_profile_from profile_from;
    char profile_source[1100];   /* "--prisma-version 6.6", "package.json devDependencies.prisma ^6.19.0 at v2 (...)",
                                    "default (...)": chosen by rh_profile_choose */
    rh_migset a, b;              /* the sets at `from` and `to`, in the profile's order */
    int a_missing;               /* the folder does not exist at `from` (everything counts as added) */
    rh_hist_finding *items;
    size_t n;
    size_t n_hazards;
} rh_git_history;

/*
 * Add a finding to h (the tool's history_findings hook calls it): name/other are copied printable,
 * file is taken over (malloc'd or NULL), the message is formatted; a hazard counts in n_hazards.
 */
rh_hist_finding *rh_hist_add(rh_git_history *h, rh_hist_kind kind, int hazard, const char *name, const char *other,
                             char *file, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/*
 * Renames between h->a and h->b (same bytes, new name), paired as Prisma's history pairs them: each entry
 * of a whose name is gone at b, with the first entry of b not yet paired whose name is new and whose bytes
 * are the same. A malloc'd array of h->b.n: [j] = 1 + the index in h->a that b's entry j was renamed
 * from, 0 when it was not. hist_finding.c.
 */
size_t *rh_hist_renames(const rh_git_history *h);

/* Free h's findings (items), leaving the rest of h as it is. hist_finding.c, with rh_hist_add. */
void rh_hist_free_findings(rh_git_history *h);

/* Compare the migrations folder at two revisions. Fails (exit 2 material) on unknown revisions,
   a folder missing at `to`, and the like; the message names what the user gave. */
int rh_git_history_compute(rh_git_repo *repo, const char *from, const char *to, const rh_git_history_opts *opts,
                           rh_git_history *out, rh_err *err);

void rh_git_history_free(rh_git_history *h);

/* "added", "removed", "renamed", "edited", "out-of-order", "no-sql", "order-differs", "problem", "tool" */
const char *rh_hist_kind_name(rh_hist_kind kind);
/* What reports call a finding: another tool's code, else its kind's name. */
const char *rh_hist_code(const rh_hist_finding *f);

#endif
