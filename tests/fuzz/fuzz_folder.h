/*
 * fuzz_folder.h — the scratch folder of a fuzz target whose reader loads files from disk (fuzz_dbmate,
 * fuzz_drizzle): made once per process under /tmp, removed at exit; each input is written into it.
 * Any failure here is the harness's, not the reader's: abort, so libFuzzer stops on it.
 */
#ifndef REHEARSE_FUZZ_FOLDER_H
#define REHEARSE_FUZZ_FOLDER_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/fs.h"

static char fuzz_dir[64];

static void fuzz_folder_remove(void)
{
    rh_err err;
    rh_fs_rmtree(fuzz_dir, &err);
}

/* /tmp/fuzz-NAME-PID, made (with the subfolder sub, "" for none) on the first call. */
static const char *fuzz_folder(const char *name, const char *sub)
{
    if (!fuzz_dir[0]) {
        snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/fuzz-%s-%d", name, (int)getpid());
        char path[128];
        snprintf(path, sizeof path, "%s/%s", fuzz_dir, sub);
        rh_err err;
        if (rh_fs_mkdir_p(path, 0700, &err) < 0)
            abort();
        atexit(fuzz_folder_remove);
    }
    return fuzz_dir;
}

/* Write len bytes of data as the folder's file rel (replacing the last input's). */
static void fuzz_folder_write(const char *rel, const void *data, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir, rel);
    rh_err err;
    if (rh_fs_write(path, data, len, 0600, &err) < 0)
        abort();
}

#endif
