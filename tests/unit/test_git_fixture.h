/*
 * test_git_fixture.h — fixtures for the source/migrations tests: temporary folders and git
 * repositories built commit by commit with libgit2 (files, symlinks, gitlinks, branches, merges,
 * annotated and lightweight tags), so each test states the history it needs in a few lines.
 *
 * Header-only (static functions) so that these tests need neither a cluster nor testlib.c.
 */
#ifndef RH_TEST_GIT_FIXTURE_H
#define RH_TEST_GIT_FIXTURE_H

#include <errno.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"
#include "util/fs.h"

#define FX_UNUSED __attribute__((unused))

static char *fx_dirs[256];
static int fx_ndirs;

static void fx_cleanup(void)
{
    rh_err err;
    for (int i = 0; i < fx_ndirs; i++) {
        rh_fs_rmtree(fx_dirs[i], &err);
        free(fx_dirs[i]);
    }
    fx_ndirs = 0;
}

/* A new temporary directory, removed at exit. */
static FX_UNUSED const char *fx_tmpdir(void)
{
    if (fx_ndirs == 0)
        atexit(fx_cleanup);
    char tmpl[] = "/tmp/rehearse-test-XXXXXX";
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        abort();
    }
    if (fx_ndirs < 256)
        fx_dirs[fx_ndirs++] = strdup(tmpl);
    return fx_dirs[fx_ndirs - 1];
}

/* Write a file, creating its parent directories. */
static FX_UNUSED void fx_write_file(const char *path, const void *data, size_t len)
{
    rh_err err;
    char *dir = strdup(path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        if (rh_fs_mkdir_p(dir, 0755, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            abort();
        }
    }
    free(dir);
    if (rh_fs_write(path, data, len, 0644, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
}

#endif
