/*
 * git_int.h — what a tool's reader of a revision (tools/NAME/) needs of an open repository beyond
 * git.h: libgit2's objects behind rh_git_repo, a revision's trees and blobs, and the damage guard
 * every answer must pass through (odb_guard_int.h).
 */
#ifndef RH_GIT_INT_H
#define RH_GIT_INT_H

#include <git2.h>

#include "source/git.h"
#include "source/odb_guard_int.h"

struct rh_git_walk_memo; /* git.c: what rh_git_find_files found, per revision, name and depth */

struct rh_git_repo {
    git_repository *repo;
    char *path;         /* as the user gave it, for messages */
    rh_git_guard *guard; /* reads loose objects (owned by the repository's object database) */
    struct rh_git_walk_memo *walks; /* finished walks of this handle, answered again without walking */
};

/* How many folder walks rh_git_find_files has made in this process (not those answered from a handle's
   memo): for tests. */
unsigned long rh_git_walk_count(void);

/*
 * A damaged object seen by any read so far (even one whose failure a caller took for "absent")
 * makes the answer -1 with the object named: a wrong migration set is worse than none. Returns rc
 * when nothing was damaged.
 */
int rh_git_damage_check(const rh_git_repo *repo, int rc, rh_err *err);

/* libgit2's last error message (never NULL). */
const char *rh_git_lg2_msg(void);

/* The root tree of a revision (not WORKTREE); -1 with err naming the revision. */
int rh_git_rev_tree(rh_git_repo *repo, const rh_git_rev *rev, git_tree **tree, rh_err *err);

/* The tree at `path` in the revision's root tree (path "" is the root). 1 found, 0 absent or not a tree;
   *mode (when given) says what the path is. */
int rh_git_subtree(rh_git_repo *repo, git_tree *root, const char *path, git_tree **out, git_filemode_t *mode);

/* A blob's bytes, NUL-terminated, malloc'd; -1 when it cannot be read. */
int rh_git_read_blob(rh_git_repo *repo, const git_oid *id, char **data, size_t *len);

/* "a/b" (b alone when a is NULL or ""). Malloc'd. */
char *rh_git_join(const char *a, const char *b);

/* Resolve a symlink target (relative to the folder `dir`) to a normalised tree path; NULL if it leaves the tree. */
char *rh_git_normalise_target(const char *dir, const char *target);

#endif
