/*
 * fs_int.h — for tests of util/fs.c: the copy a system takes when its file systems refuse every copy
 * in the kernel (reflink, copy_file_range, sendfile). No file system here refuses all three, so the
 * read/write path of rh_fs_copytree is otherwise never run.
 */
#ifndef RH_FS_INT_H
#define RH_FS_INT_H

#include <sys/types.h>

#include "util/err.h"

/* rh_fs_copytree, every file copied with read/write only. */
int rh_fs_copytree_plain(const char *src, const char *dst, uid_t uid, gid_t gid, rh_err *err);

#endif
