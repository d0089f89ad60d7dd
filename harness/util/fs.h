/*
 * fs.h — file-system helpers: whole-file reads and writes, recursive copy and removal.
 */
#ifndef RH_FS_H
#define RH_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

/* The largest file rehearse reads for a scenario or a command (scenarios, includes, sql-file, restore ...). */
#define RH_FS_READ_MAX ((size_t)16 << 20)
/* A migration.sql may be larger: PostgreSQL takes a query string up to 1 GiB. */
#define RH_FS_MIGRATION_MAX ((size_t)1 << 30)

/*
 * The one reader of files rehearse is given: a whole regular file of at most RH_FS_READ_MAX bytes
 * (rh_fs_read_max: at most max). A FIFO, device, socket or directory is refused without blocking
 * or reading it, and so is a larger file; the error names the path, what it is and the limit.
 * *data is NUL-terminated (not counted in *len). Caller frees.
 */
int rh_fs_read(const char *path, char **data, size_t *len, rh_err *err);
int rh_fs_read_max(const char *path, size_t max, char **data, size_t *len, rh_err *err);

/* The last max bytes (or fewer) of a regular file, e.g. a server log of any size. Caller frees. */
int rh_fs_read_tail(const char *path, size_t max, char **data, size_t *len, rh_err *err);

/*
 * Confinement. A path is inside a root when its real path (every symbolic link resolved) is the
 * root's real path or below it, and not in a `.git` folder below the root. 1 inside (*real, when real is not NULL, gets the malloc'd real
 * path), 0 outside, -1 the path does not resolve (errno says why).
 */
int rh_fs_inside(const char *path, const char *const *roots, size_t nroots, char **real);

/* The work tree of the git repository holding dir (the nearest parent with a .git), real path, malloc'd; NULL if none. */
char *rh_fs_git_toplevel(const char *dir);

/*
 * rh_fs_read_max of a file that must be inside one of roots. Outside: -1, the error names the path,
 * where it leads and the roots, and nothing of the file is read.
 */
int rh_fs_read_inside(const char *path, const char *const *roots, size_t nroots, size_t max, char **data,
                      size_t *len, rh_err *err);

/* Write a whole file (created or truncated) with the given mode. */
int rh_fs_write(const char *path, const void *data, size_t len, mode_t mode, rh_err *err);

/* Append to a file (created 0644 if absent): a file others write too, as $GITHUB_STEP_SUMMARY. */
int rh_fs_append(const char *path, const void *data, size_t len, rh_err *err);

/* mkdir -p; existing directories are fine. */
int rh_fs_mkdir_p(const char *path, mode_t mode, rh_err *err);

/* rm -rf; a missing path is fine. Does not follow symbolic links. */
int rh_fs_rmtree(const char *path, rh_err *err);

/*
 * Copy the tree at src to dst (which must not exist), keeping modes. When uid is not (uid_t)-1,
 * every created entry is owned by uid:gid (used when root prepares a cluster for the account the
 * server runs as). Regular files are cloned (FICLONE) where the file system allows it.
 */
int rh_fs_copytree(const char *src, const char *dst, uid_t uid, gid_t gid, rh_err *err);

/* How many stages of folders rh_fs_copytree_start can leave for later. */
#define RH_FS_COPY_STAGES 2

/* What rh_fs_copytree_start copies differently; folder is a path below the tree's top ("" for the top,
   "base/16384"), name a file's name in it. Either may be NULL. */
typedef struct rh_fs_copy_filter {
    /* 0: its files are copied before rh_fs_copytree_start returns; 1 to RH_FS_COPY_STAGES: while the caller
       goes on, every folder of stage 1 before any of stage 2 */
    int (*later)(const char *folder);
    int (*skip)(const char *folder, const char *name); /* not copied at all */
} rh_fs_copy_filter;

/* A copy still running (rh_fs_copytree_start); rh_fs_copy_finish waits for it. */
typedef struct rh_fs_copy rh_fs_copy;

/*
 * rh_fs_copytree, except that the files of the folders filter->later puts in a stage are copied on a thread
 * of their own after every other file is there: on return the tree's folders all exist and every file of
 * stage 0 is copied, and *later (NULL when there was nothing left) must be passed to rh_fs_copy_finish,
 * which waits for the rest and returns its error. On error nothing is left running (*later is NULL).
 * The filter is copied: the caller's may go before the copy ends.
 */
int rh_fs_copytree_start(const char *src, const char *dst, uid_t uid, gid_t gid, const rh_fs_copy_filter *filter,
                         rh_fs_copy **later, rh_err *err);
/* Wait until every file of the stages up to stage is copied (NULL: nothing to wait for): 0, or -1 with err
   set when a stage failed (nothing more is copied then). */
int rh_fs_copy_wait(rh_fs_copy *later, int stage, rh_err *err);
/* Wait for what rh_fs_copytree_start left running (NULL: nothing) and free it: 0, or -1 with err set. */
int rh_fs_copy_finish(rh_fs_copy *later, rh_err *err);

/* fsync every regular file and folder under path (and path itself): before a cache entry is published. */
int rh_fs_sync_tree(const char *path, rh_err *err);
/* Bytes on disk under path (st_blocks), not following links; 0 if it is gone. */
unsigned long long rh_fs_tree_bytes(const char *path);
/* True if path exists (any type). */
int rh_fs_exists(const char *path);

#endif
