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

/* ---- git repositories built commit by commit -------------------------------------------------- */

typedef struct fx_repo {
    git_repository *repo;
    git_index *index; /* in-memory: the tree of the next commit */
    char *path;       /* the folder given to rehearse (work tree, or the bare repository) */
    int bare;
    long clock;       /* commit times, increasing */
    char sha[41];     /* the last commit made */
} fx_repo;

static FX_UNUSED void fx_check(int rc, const char *what)
{
    if (rc < 0) {
        const git_error *e = git_error_last();
        fprintf(stderr, "fixture: %s: %s\n", what, e && e->message ? e->message : "?");
        abort();
    }
}

/* A new repository (HEAD -> main) in a temporary folder. */
static FX_UNUSED fx_repo *fx_repo_new(int bare)
{
    git_libgit2_init();
    fx_repo *r = calloc(1, sizeof *r);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", fx_tmpdir(), bare ? "repo.git" : "repo");
    git_repository_init_options o;
    git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
    o.flags = GIT_REPOSITORY_INIT_MKPATH | (bare ? GIT_REPOSITORY_INIT_BARE : 0);
    o.initial_head = "main";
    fx_check(git_repository_init_ext(&r->repo, path, &o), "init");
    fx_check(git_index_new(&r->index), "index");
    r->path = strdup(path);
    r->bare = bare;
    r->clock = 1700000000;
    return r;
}

static FX_UNUSED void fx_free(fx_repo *r)
{
    git_index_free(r->index);
    git_repository_free(r->repo);
    free(r->path);
    free(r);
    git_libgit2_shutdown();
}

static FX_UNUSED void fx_stage(fx_repo *r, const char *path, const void *data, size_t len, git_filemode_t mode)
{
    git_index_entry e;
    memset(&e, 0, sizeof e);
    e.path = path;
    e.mode = mode;
    fx_check(git_blob_create_from_buffer(&e.id, r->repo, data, len), "blob");
    fx_check(git_index_add(r->index, &e), path);
}

/* Stage a file (and, in a non-bare repository, write it to the work tree too). */
static FX_UNUSED void fx_put_bytes(fx_repo *r, const char *path, const void *data, size_t len)
{
    fx_stage(r, path, data, len, GIT_FILEMODE_BLOB);
    if (!r->bare) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", r->path, path);
        fx_write_file(full, data, len);
    }
}

static FX_UNUSED void fx_put(fx_repo *r, const char *path, const char *content)
{
    fx_put_bytes(r, path, content, strlen(content));
}

/* Stage a symbolic link (index only). */
static FX_UNUSED void fx_symlink(fx_repo *r, const char *path, const char *target)
{
    fx_stage(r, path, target, strlen(target), GIT_FILEMODE_LINK);
}

/* Stage a submodule entry (gitlink) pointing at a made-up commit (index only). */
static FX_UNUSED void fx_gitlink(fx_repo *r, const char *path)
{
    git_index_entry e;
    memset(&e, 0, sizeof e);
    e.path = path;
    e.mode = GIT_FILEMODE_COMMIT;
    fx_check(git_oid_fromstr(&e.id, "1234567890abcdef1234567890abcdef12345678"), "oid");
    fx_check(git_index_add(r->index, &e), path);
}

/* Unstage a file, or every file under a folder. */
static FX_UNUSED void fx_rm(fx_repo *r, const char *path)
{
    if (git_index_get_bypath(r->index, path, 0))
        fx_check(git_index_remove_bypath(r->index, path), path);
    else
        fx_check(git_index_remove_directory(r->index, path, 0), path);
}

/* Load the index from a revision's tree (to start a branch from there). */
static FX_UNUSED void fx_load(fx_repo *r, const char *rev)
{
    git_object *obj = NULL;
    git_tree *tree = NULL;
    fx_check(git_revparse_single(&obj, r->repo, rev), rev);
    fx_check(git_object_peel((git_object **)&tree, obj, GIT_OBJECT_TREE), rev);
    fx_check(git_index_read_tree(r->index, tree), rev);
    git_tree_free(tree);
    git_object_free(obj);
}

/* Commit the index on `branch` (its tip is the parent; `other`, when given, a second parent). */
static FX_UNUSED const char *fx_commit2(fx_repo *r, const char *branch, const char *other, const char *msg)
{
    git_oid tree_id, commit_id, parent_ids[2];
    git_commit *parents[2] = {NULL, NULL};
    size_t np = 0;
    char ref[512];
    snprintf(ref, sizeof ref, "refs/heads/%s", branch);
    if (git_reference_name_to_id(&parent_ids[0], r->repo, ref) == 0) {
        fx_check(git_commit_lookup(&parents[np], r->repo, &parent_ids[0]), "parent");
        np++;
    }
    if (other) {
        git_object *o = NULL;
        fx_check(git_revparse_single(&o, r->repo, other), other);
        fx_check(git_object_peel((git_object **)&parents[np], o, GIT_OBJECT_COMMIT), other);
        git_object_free(o);
        np++;
    }
    fx_check(git_index_write_tree_to(&tree_id, r->index, r->repo), "write tree");
    git_tree *tree = NULL;
    fx_check(git_tree_lookup(&tree, r->repo, &tree_id), "tree");
    git_signature *sig = NULL;
    fx_check(git_signature_new(&sig, "Fixture", "fixture@example.invalid", r->clock++, 0), "signature");
    fx_check(git_commit_create(&commit_id, r->repo, ref, sig, sig, NULL, msg, tree, np,
                               (const git_commit **)parents), "commit");
    git_signature_free(sig);
    git_tree_free(tree);
    for (size_t i = 0; i < np; i++)
        git_commit_free(parents[i]);
    git_oid_tostr(r->sha, sizeof r->sha, &commit_id);
    return r->sha;
}

static FX_UNUSED const char *fx_commit(fx_repo *r, const char *msg)
{
    return fx_commit2(r, "main", NULL, msg);
}

/* A branch at a revision. */
static FX_UNUSED void fx_branch(fx_repo *r, const char *name, const char *rev)
{
    git_object *obj = NULL;
    git_commit *c = NULL;
    git_reference *ref = NULL;
    fx_check(git_revparse_single(&obj, r->repo, rev), rev);
    fx_check(git_object_peel((git_object **)&c, obj, GIT_OBJECT_COMMIT), rev);
    fx_check(git_branch_create(&ref, r->repo, name, c, 1), name);
    git_reference_free(ref);
    git_commit_free(c);
    git_object_free(obj);
}

/* A tag on a revision: annotated (a tag object) or lightweight. */
static FX_UNUSED void fx_tag(fx_repo *r, const char *name, const char *rev, int annotated)
{
    git_object *obj = NULL;
    git_oid id;
    fx_check(git_revparse_single(&obj, r->repo, rev), rev);
    if (annotated) {
        git_signature *sig = NULL;
        fx_check(git_signature_new(&sig, "Fixture", "fixture@example.invalid", r->clock++, 0), "signature");
        fx_check(git_tag_create(&id, r->repo, name, obj, sig, "release", 0), name);
        git_signature_free(sig);
    } else {
        fx_check(git_tag_create_lightweight(&id, r->repo, name, obj, 0), name);
    }
    git_object_free(obj);
}

/* A migration folder with its migration.sql. */
static FX_UNUSED void fx_migration(fx_repo *r, const char *name, const char *sql)
{
    char path[1024];
    snprintf(path, sizeof path, "prisma/migrations/%s/migration.sql", name);
    fx_put(r, path, sql);
}

#endif
