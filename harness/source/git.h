/*
 * git.h — the source module: a repository opened with libgit2, revisions resolved, and a
 * migrations folder read at a revision straight from the object database.
 *
 * Reading never touches the work tree, the index or HEAD: a revision's files come from its
 * commit's tree. The pseudo-revision WORKTREE means the files on disk (uncommitted changes
 * included). Every error names what the user gave: the path, the revision, the folder.
 */
#ifndef RH_GIT_H
#define RH_GIT_H

#include <stddef.h>

#include "migrations/migset.h"
#include "util/err.h"

/* The pseudo-revision for the files on disk. */
#define RH_GIT_WORKTREE "WORKTREE"

typedef struct rh_git_repo rh_git_repo; /* opaque */

typedef struct rh_git_rev {
    char spec[256];     /* as the user gave it ("v1", "HEAD~2", "WORKTREE") */
    char sha[41];       /* the commit, hex; "" for WORKTREE */
    char short_sha[8];  /* first 7 hex digits; "" for WORKTREE */
    int worktree;       /* 1 for WORKTREE */
    char label[300];    /* for messages: "v1 (abc1234)" or "WORKTREE (files on disk)" */
} rh_git_rev;

/* libgit2's global state, set up once per process and kept until exit (rh_git_open calls it; so does any
   other direct user of libgit2, instead of git_libgit2_init/shutdown). */
void rh_git_init(void);

/*
 * Open the repository that holds `path` (the repository folder, any folder below its work tree,
 * or a bare repository). Fails with "not a git repository: PATH (nor any parent folder)" or
 * "no such folder: PATH".
 */
int rh_git_open(rh_git_repo **out, const char *path, rh_err *err);
void rh_git_close(rh_git_repo *repo);

/* The work tree (with a trailing '/'), or NULL for a bare repository. */
const char *rh_git_workdir(const rh_git_repo *repo);
/* The .git folder (or the bare repository's folder). */
const char *rh_git_gitdir(const rh_git_repo *repo);

/*
 * Resolve anything git_revparse_single accepts (full or short sha, branch, remote branch, tag,
 * `HEAD~3`, `v1^`, `main@{1}` ...) to a commit; annotated tags are peeled. "WORKTREE" resolves to
 * the files on disk. Errors: unknown revision, empty repository, revision that is not a commit.
 * Every reader here fails (-1) once a damaged object was read, naming it and `git fsck`.
 */
int rh_git_resolve(rh_git_repo *repo, const char *spec, rh_git_rev *out, rh_err *err);

/*
 * The merge-base of revisions a and b (anything rh_git_resolve takes but WORKTREE) as a hex sha in
 * out[41]. 1 found; 0 when a or b names no commit or they share no history; -1 when the repository
 * is damaged (err names the object).
 */
int rh_git_merge_base(rh_git_repo *repo, const char *a, const char *b, char *out, rh_err *err);

/* 1 when the repository is a shallow clone (.git/shallow). libgit2 1.5 does not read that file:
   rh_git_merge_base walks such a history itself, stopping at the cut as git does; what lies below the
   cut (HEAD~N past the depth) is unknown, and the errors say it is a shallow clone. */
int rh_git_is_shallow(rh_git_repo *repo);

/*
 * Turn a user's migrations path into a path relative to the repository root: an absolute path
 * inside the work tree is made relative, "./" and trailing '/' are dropped. Malloc'd.
 */
char *rh_git_relpath(const rh_git_repo *repo, const char *path, rh_err *err);

/*
 * Read one file at a revision (from the object database, or from disk for WORKTREE). Returns 1
 * and fills *data (NUL-terminated, malloc'd) / *len when the file exists, 0 when it does not,
 * -1 on error.
 */
int rh_git_read_file(rh_git_repo *repo, const rh_git_rev *rev, const char *path, char **data, size_t *len,
                     rh_err *err);

/*
 * Call fn for every regular file at the revision whose base name is `basename` (e.g.
 * "package.json"), depth first, skipping node_modules, .git and folders deeper than max_depth.
 * `relpath` is relative to the repository root. A non-zero return from fn stops the walk.
 */
typedef int (*rh_git_file_fn)(const char *relpath, void *ctx);
int rh_git_find_files(rh_git_repo *repo, const rh_git_rev *rev, const char *basename, int max_depth,
                      rh_git_file_fn fn, void *ctx, rh_err *err);

/* Whether `path` is a folder at the revision (1), absent or not a folder (0), or -1 on error. */
int rh_git_is_dir(rh_git_repo *repo, const rh_git_rev *rev, const char *path, rh_err *err);

/* ---- benchmarks ------------------------------------------------------------------------------------- */

/*
 * Build a repository at `dir` (must not exist or be empty) with one commit holding
 * prisma/migrations with n migrations (realistic names and a few KB of SQL each), tagged "bench".
 */
int rh_git_bench_fixture(const char *dir, int n, rh_err *err);

/*
 * Time rh_git_open + rh_git_resolve + the default tool's reader of `path` at `rev`, `iterations` times;
 * median and minimum wall time in milliseconds.
 */
int rh_git_bench_read(const char *repo_path, const char *rev, const char *path, int iterations,
                      double *median_ms, double *min_ms, size_t *n_migrations, rh_err *err);

#endif
