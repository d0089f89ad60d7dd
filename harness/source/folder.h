/*
 * folder.h — a migrations folder as a tool's reader sees it, either on disk or at a git revision
 * (read from git's object database: nothing is written to disk, the checkout is not touched).
 *
 * One small interface over both, so that a tool writes its listing rules once (tools/NAME/: its
 * `read` is one reader given either kind of folder). Names no tool.
 */
#ifndef RH_FOLDER_H
#define RH_FOLDER_H

#include <stddef.h>

#include "migrations/migset.h"
#include "source/git.h"
#include "util/err.h"

/* What a name in the folder is (symbolic links are not followed when listed). */
typedef enum rh_entry_kind {
    RH_ENTRY_NONE,    /* absent */
    RH_ENTRY_FILE,
    RH_ENTRY_DIR,
    RH_ENTRY_LINK,    /* a symbolic link */
    RH_ENTRY_GITLINK, /* a submodule (a revision's folder only; a checkout holds a folder there) */
    RH_ENTRY_OTHER,   /* a device, socket, fifo ... */
} rh_entry_kind;

typedef struct rh_folder_entry {
    char *name;
    rh_entry_kind kind;
} rh_folder_entry;

typedef struct rh_folder rh_folder; /* opaque */

/* The folder dir on disk; -1 with err ("cannot read the migrations folder DIR: why") when it is
   missing or not a folder. */
int rh_folder_open_dir(rh_folder **out, const char *dir, rh_err *err);

/* rh_folder_open_rev's answer (with err saying so) when nothing is at the path at that revision: a
   structured "absent" that a base revision's loader takes for an empty folder. Damage is never it. */
#define RH_FOLDER_ABSENT (-2)

/*
 * The folder `path` (relative to the repository root) at rev: from the object database, or for
 * WORKTREE on disk, where every file read must stay inside the work tree. RH_FOLDER_ABSENT with err
 * "the folder PATH does not exist at REV"; -1 with err: "PATH is a file, not a folder, at REV", a link,
 * a submodule, a damaged object (named).
 */
int rh_folder_open_rev(rh_folder **out, rh_git_repo *repo, const rh_git_rev *rev, const char *path, rh_err *err);

/*
 * Close f and give the reader's answer rc: at a revision, a damaged object seen by any read makes it
 * -1 with err naming the object (source/git_int.h, rh_git_damage_check), even when the reader took
 * the failure for "absent". NULL f: rc.
 */
int rh_folder_close(rh_folder *f, int rc, rh_err *err);

/* Where it is, for messages and rh_migset.origin: "DIR", or "PATH at v1 (abc1234)". */
const char *rh_folder_origin(const rh_folder *f);

/* A name below it, for messages: "DIR/REL", or "PATH/REL at v1 (abc1234)". Malloc'd. */
char *rh_folder_describe(const rh_folder *f, const char *rel);

/*
 * The entries of the sub-folder `sub` ("" the folder itself), in byte order of their names
 * ("." and ".." left out). -1 with err when sub is not a folder. Free with rh_folder_entries_free.
 */
int rh_folder_list(rh_folder *f, const char *sub, rh_folder_entry **out, size_t *n, rh_err *err);
void rh_folder_entries_free(rh_folder_entry *entries, size_t n);

/* What `rel` is (a link as a link). */
rh_entry_kind rh_folder_kind(rh_folder *f, const char *rel);

/*
 * Read the file `rel` (*data NUL-terminated, malloc'd). A symbolic link is followed as a checkout
 * would follow it: at a revision, to a file of the same revision (never out of the repository); on
 * disk by the system (at WORKTREE never out of the work tree). When rel is a link, *target (if
 * target is not NULL) gets its text, malloc'd, else NULL. Returns 1 read; 0 not a file (absent, a
 * folder, a submodule, a link to nothing the revision holds); -1 with err when it cannot be read.
 */
int rh_folder_read(rh_folder *f, const char *rel, char **data, size_t *len, char **target, rh_err *err);

/*
 * 1 when f is read from git's object database (a revision other than WORKTREE), 0 on disk (a plain
 * folder, WORKTREE), where the system follows links as a checkout does. A reader whose texts say what
 * git holds (a link's text, a submodule) asks.
 */
int rh_folder_in_objects(const rh_folder *f);

/* The text of the symbolic link rel (*text malloc'd): 1; 0 when rel is not a link; -1 with err when
   it cannot be read. */
int rh_folder_link(rh_folder *f, const char *rel, char **text, rh_err *err);

/* What rel leads to, a link followed once as rh_folder_read follows it (RH_ENTRY_NONE: nothing). */
rh_entry_kind rh_folder_target_kind(rh_folder *f, const char *rel);

/* At WORKTREE: 1 when rel, links followed, leads out of the work tree (*real: where, malloc'd, or
   NULL); else 0 (a plain folder has no bound; at a revision links stay inside by construction). */
int rh_folder_leads_out(rh_folder *f, const char *rel, char **real);

/* A submodule entry's commit, abbreviated to 7 hex digits (size >= 8): 1; 0 when rel is not one. */
int rh_folder_gitlink(rh_folder *f, const char *rel, char *sha, size_t size);

/*
 * A tool's reader of a folder (fills out, sets out->origin), run on the folder dir on disk or on
 * `path` at rev: out is zeroed first, freed on failure, and at a revision damage is checked.
 */
typedef int (*rh_folder_reader)(rh_migset *out, rh_folder *f, rh_err *err);
/* (rh_folder_load_rev passes RH_FOLDER_ABSENT on.) */
int rh_folder_load_dir(rh_migset *out, const char *dir, rh_folder_reader reader, rh_err *err);
int rh_folder_load_rev(rh_migset *out, rh_git_repo *repo, const rh_git_rev *rev, const char *path,
                       rh_folder_reader reader, rh_err *err);

#endif
