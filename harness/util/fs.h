/*
 * fs.h — file-system helpers: whole-file reads and writes, recursive copy and removal.
 */
#ifndef RH_FS_H
#define RH_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

/* Read a whole file; *data is NUL-terminated (not counted in *len). Caller frees. */
int rh_fs_read(const char *path, char **data, size_t *len, rh_err *err);

/* Write a whole file (created or truncated) with the given mode. */
int rh_fs_write(const char *path, const void *data, size_t len, mode_t mode, rh_err *err);

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

/* True if path exists (any type). */
int rh_fs_exists(const char *path);

#endif
