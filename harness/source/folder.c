/*
 * folder.c — a migrations folder on disk or at a git revision behind one interface (folder.h): the
 * disk side lists with lstat and reads through links as the system does (at WORKTREE confined to
 * the work tree); the revision side reads trees and blobs from git's object database, following a
 * symbolic link to a blob of the same revision as a checkout would, never writing anything out.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/folder.h"
#include "source/git_int.h"
#include "util/buf.h"
#include "util/fs.h"

struct rh_folder {
    char *origin;          /* "DIR" or "PATH at LABEL" */
    /* on disk */
    char *dir;             /* NULL at a revision */
    const char *root;      /* WORKTREE: every file read stays inside it; NULL: no bound */
    /* at a revision */
    rh_git_repo *repo;
    const rh_git_rev *rev;
    char *path;            /* relative to the repository root ("" the root) */
    git_tree *top;         /* the revision's root tree: where links lead */
    git_tree *tree;        /* the folder's tree */
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const rh_folder_entry *)a)->name, ((const rh_folder_entry *)b)->name);
}

static rh_entry_kind git_kind(git_filemode_t mode)
{
    switch (mode) {
    case GIT_FILEMODE_BLOB:
    case GIT_FILEMODE_BLOB_EXECUTABLE:
        return RH_ENTRY_FILE;
    case GIT_FILEMODE_TREE:
        return RH_ENTRY_DIR;
    case GIT_FILEMODE_LINK:
        return RH_ENTRY_LINK;
    case GIT_FILEMODE_COMMIT:
        return RH_ENTRY_GITLINK;
    default:
        return RH_ENTRY_OTHER;
    }
}

static rh_entry_kind disk_kind(const struct stat *st)
{
    if (S_ISREG(st->st_mode))
        return RH_ENTRY_FILE;
    if (S_ISDIR(st->st_mode))
        return RH_ENTRY_DIR;
    if (S_ISLNK(st->st_mode))
        return RH_ENTRY_LINK;
    return RH_ENTRY_OTHER;
}

static char *strip_slashes(const char *path)
{
    char *p = rh_xstrdup(path);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    return p;
}

static int open_disk(rh_folder **out, const char *dir, const char *root, const char *origin, rh_err *err)
{
    struct stat st;
    int bad = stat(dir, &st) < 0;
    if (!bad && !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        bad = 1;
    }
    if (bad)
        return rh_err_errno(err, "cannot read the migrations folder %s", origin);
    rh_folder *f = rh_xcalloc(1, sizeof *f);
    f->dir = strip_slashes(dir);
    f->root = root;
    f->origin = rh_xstrdup(origin);
    *out = f;
    return 0;
}

int rh_folder_open_dir(rh_folder **out, const char *dir, rh_err *err)
{
    *out = NULL;
    char *d = strip_slashes(dir);
    int rc = open_disk(out, d, NULL, dir, err); /* named as the user wrote it */
    free(d);
    return rc;
}

static int open_worktree(rh_folder **out, rh_git_repo *repo, const rh_git_rev *rev, const char *path, rh_err *err)
{
    const char *wd = rh_git_workdir(repo);
    char *joined = rh_git_join(wd, path);
    char *full = strip_slashes(joined);
    free(joined);
    const char *shown = *path ? path : ".";
    struct stat st;
    int rc = 0;
    if (stat(full, &st) < 0) {
        rh_err_set(err, "the folder %s does not exist at %s", shown, rev->label);
        rc = RH_FOLDER_ABSENT;
    }
    else if (!S_ISDIR(st.st_mode))
        rc = rh_err_set(err, "%s is a file, not a folder, at %s", shown, rev->label);
    else if (rh_fs_inside(full, &wd, 1, NULL) != 1) {
        char *real = realpath(full, NULL);
        rc = rh_err_set(err, "the folder %s leads out of the repository (to %s) at %s; rehearse reads only inside the "
                             "work tree %s", shown, real ? real : "?", rev->label, wd);
        free(real);
    }
    if (rc == 0) {
        char *origin = rh_xasprintf("%s at %s", shown, rev->label);
        rc = open_disk(out, full, wd, origin, err);
        free(origin);
    }
    free(full);
    return rc;
}

static int open_rev_unguarded(rh_folder *f, rh_err *err)
{
    const char *shown = *f->path ? f->path : ".";
    if (rh_git_rev_tree(f->repo, f->rev, &f->top, err) < 0)
        return -1;
    git_filemode_t mode = 0;
    if (rh_git_subtree(f->repo, f->top, f->path, &f->tree, &mode))
        return 0;
    if (mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE)
        return rh_err_set(err, "%s is a file, not a folder, at %s", shown, f->rev->label);
    if (mode == GIT_FILEMODE_LINK)
        return rh_err_set(err, "%s is a symbolic link, not a folder, at %s (give the folder it points to)", shown,
                          f->rev->label);
    if (mode == GIT_FILEMODE_COMMIT)
        return rh_err_set(err, "%s is a submodule at %s: its files are not in this repository", shown, f->rev->label);
    rh_err_set(err, "the folder %s does not exist at %s", shown, f->rev->label);
    return RH_FOLDER_ABSENT;
}

int rh_folder_open_rev(rh_folder **out, rh_git_repo *repo, const rh_git_rev *rev, const char *path, rh_err *err)
{
    *out = NULL;
    if (rev->worktree)
        return open_worktree(out, repo, rev, path, err);
    rh_folder *f = rh_xcalloc(1, sizeof *f);
    f->repo = repo;
    f->rev = rev;
    f->path = strip_slashes(path);
    if (strcmp(f->path, "/") == 0 || strcmp(f->path, ".") == 0)
        f->path[0] = '\0';
    f->origin = rh_xasprintf("%s at %s", *f->path ? f->path : ".", rev->label);
    int rc = rh_git_damage_check(repo, open_rev_unguarded(f, err), err);
    if (rc < 0) {
        rh_folder_close(f, -1, NULL);
        return rc;
    }
    *out = f;
    return 0;
}

int rh_folder_close(rh_folder *f, int rc, rh_err *err)
{
    if (!f)
        return rc;
    if (f->repo && err)
        rc = rh_git_damage_check(f->repo, rc, err);
    git_tree_free(f->tree);
    git_tree_free(f->top);
    free(f->path);
    free(f->dir);
    free(f->origin);
    free(f);
    return rc;
}

const char *rh_folder_origin(const rh_folder *f)
{
    return f->origin;
}

char *rh_folder_describe(const rh_folder *f, const char *rel)
{
    if (f->dir && !f->root)
        return rh_xasprintf("%s/%s", f->dir, rel);
    const char *at = strstr(f->origin, " at ");
    assert(at);
    return rh_xasprintf("%.*s/%s%s", (int)(at - f->origin), f->origin, rel, at);
}

void rh_folder_entries_free(rh_folder_entry *entries, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(entries[i].name);
    free(entries);
}

static int list_disk(rh_folder *f, const char *sub, rh_folder_entry **out, size_t *n, rh_err *err)
{
    char *here = *sub ? rh_xasprintf("%s/%s", f->dir, sub) : rh_xstrdup(f->dir);
    DIR *d = opendir(here);
    if (!d) {
        char *shown = *sub ? rh_folder_describe(f, sub) : rh_xstrdup(f->origin);
        rh_err_errno(err, "%s: cannot open the folder", shown);
        free(shown);
        free(here);
        return -1;
    }
    size_t cap = 16;
    *out = rh_xcalloc(cap, sizeof **out);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = rh_xasprintf("%s/%s", here, e->d_name);
        struct stat st;
        rh_entry_kind kind = lstat(p, &st) == 0 ? disk_kind(&st) : RH_ENTRY_NONE;
        free(p);
        if (kind == RH_ENTRY_NONE)
            continue; /* gone since it was listed */
        if (*n == cap)
            *out = rh_xrealloc(*out, (cap *= 2) * sizeof **out);
        (*out)[*n].name = rh_xstrdup(e->d_name);
        (*out)[(*n)++].kind = kind;
    }
    closedir(d);
    free(here);
    return 0;
}

/* The tree of sub below the folder (a new reference); NULL when it is not a folder. */
static git_tree *subtree(rh_folder *f, const char *sub)
{
    git_tree *t = NULL;
    if (!*sub)
        return git_tree_dup(&t, f->tree) == 0 ? t : NULL;
    return rh_git_subtree(f->repo, f->tree, sub, &t, NULL) ? t : NULL;
}

static int list_rev(rh_folder *f, const char *sub, rh_folder_entry **out, size_t *n, rh_err *err)
{
    git_tree *t = subtree(f, sub);
    if (!t) {
        char *shown = rh_folder_describe(f, sub);
        rh_err_set(err, "%s: cannot read the folder: %s", shown, rh_git_lg2_msg());
        free(shown);
        return -1;
    }
    size_t count = git_tree_entrycount(t);
    *out = rh_xcalloc(count ? count : 1, sizeof **out);
    for (size_t i = 0; i < count; i++) {
        const git_tree_entry *e = git_tree_entry_byindex(t, i);
        (*out)[i].name = rh_xstrdup(git_tree_entry_name(e));
        (*out)[i].kind = git_kind(git_tree_entry_filemode(e));
    }
    *n = count;
    git_tree_free(t);
    return 0;
}

int rh_folder_list(rh_folder *f, const char *sub, rh_folder_entry **out, size_t *n, rh_err *err)
{
    *out = NULL;
    *n = 0;
    int rc = f->dir ? list_disk(f, sub, out, n, err) : list_rev(f, sub, out, n, err);
    if (rc < 0) {
        rh_folder_entries_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    if (*n > 1)
        qsort(*out, *n, sizeof **out, by_name); /* disk order is the file system's; git's sorts folders as "name/" */
    return 0;
}

/* What rel is on disk: the link itself (follow 0) or what it leads to (follow 1). */
static rh_entry_kind disk_kind_at(const rh_folder *f, const char *rel, int follow)
{
    char *p = rh_xasprintf("%s/%s", f->dir, rel);
    struct stat st;
    rh_entry_kind kind = (follow ? stat(p, &st) : lstat(p, &st)) == 0 ? disk_kind(&st) : RH_ENTRY_NONE;
    free(p);
    return kind;
}

rh_entry_kind rh_folder_kind(rh_folder *f, const char *rel)
{
    if (f->dir)
        return disk_kind_at(f, rel, 0);
    git_tree_entry *e = NULL;
    if (git_tree_entry_bypath(&e, f->tree, rel) < 0)
        return RH_ENTRY_NONE;
    rh_entry_kind kind = git_kind(git_tree_entry_filemode(e));
    git_tree_entry_free(e);
    return kind;
}

static int read_disk(rh_folder *f, const char *rel, char **data, size_t *len, char **target, rh_err *err)
{
    char *p = rh_xasprintf("%s/%s", f->dir, rel);
    struct stat st;
    int rc = 0;
    if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode) && target) {
        char buf[4096];
        ssize_t n = readlink(p, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = '\0';
        *target = rh_xstrdup(buf);
    }
    if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
        rc = f->root ? rh_fs_read_inside(p, &f->root, 1, RH_FS_MIGRATION_MAX, data, len, err)
                     : rh_fs_read_max(p, RH_FS_MIGRATION_MAX, data, len, err);
        rc = rc < 0 ? -1 : 1;
    }
    free(p);
    return rc;
}

/* "cannot read PATH/REL at REV: why" (libgit2's last error); -1. */
static int read_failed(rh_folder *f, const char *rel, rh_err *err)
{
    char *shown = rh_folder_describe(f, rel);
    rh_err_set(err, "cannot read %s: %s", shown, rh_git_lg2_msg());
    free(shown);
    return -1;
}

/* The entry the link rel (whose text is link) leads to in the revision, as a checkout would follow it
   (relative to the link's folder, never out of the repository); NULL: nothing there. */
static git_tree_entry *link_target(rh_folder *f, const char *rel, const char *link)
{
    char *at = rh_git_join(f->path, rel); /* the link's folder, from the repository root */
    char *slash = strrchr(at, '/');
    if (slash)
        *slash = '\0';
    else
        at[0] = '\0';
    char *tp = rh_git_normalise_target(at, link);
    git_tree_entry *te = NULL;
    if (!tp || !*tp || git_tree_entry_bypath(&te, f->top, tp) < 0)
        te = NULL;
    free(tp);
    free(at);
    return te;
}

static int read_rev(rh_folder *f, const char *rel, char **data, size_t *len, char **target, rh_err *err)
{
    git_tree_entry *e = NULL;
    if (git_tree_entry_bypath(&e, f->tree, rel) < 0)
        return 0;
    int rc = 0;
    rh_entry_kind kind = git_kind(git_tree_entry_filemode(e));
    if (kind == RH_ENTRY_FILE) {
        rc = rh_git_read_blob(f->repo, git_tree_entry_id(e), data, len) == 0 ? 1 : -1;
    } else if (kind == RH_ENTRY_LINK) {
        char *link = NULL;
        size_t llen = 0;
        if (rh_git_read_blob(f->repo, git_tree_entry_id(e), &link, &llen) < 0) {
            rc = -1;
        } else {
            git_tree_entry *te = link_target(f, rel, link);
            if (te && git_kind(git_tree_entry_filemode(te)) == RH_ENTRY_FILE)
                rc = rh_git_read_blob(f->repo, git_tree_entry_id(te), data, len) == 0 ? 1 : -1;
            git_tree_entry_free(te);
            if (target)
                *target = link;
            else
                free(link);
        }
    }
    if (rc < 0)
        read_failed(f, rel, err);
    git_tree_entry_free(e);
    return rc;
}

int rh_folder_read(rh_folder *f, const char *rel, char **data, size_t *len, char **target, rh_err *err)
{
    *data = NULL;
    *len = 0;
    if (target)
        *target = NULL;
    int rc = f->dir ? read_disk(f, rel, data, len, target, err) : read_rev(f, rel, data, len, target, err);
    if (rc != 1) {
        free(*data);
        *data = NULL;
        *len = 0;
    }
    return rc;
}

int rh_folder_in_objects(const rh_folder *f)
{
    return f->dir == NULL;
}

int rh_folder_link(rh_folder *f, const char *rel, char **text, rh_err *err)
{
    *text = NULL;
    if (f->dir) {
        char *p = rh_xasprintf("%s/%s", f->dir, rel);
        struct stat st;
        int rc = 0;
        if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode)) {
            char buf[4096];
            ssize_t n = readlink(p, buf, sizeof buf - 1);
            if (n < 0) {
                rc = rh_err_errno(err, "cannot read the link %s", p);
            } else {
                buf[n] = '\0';
                *text = rh_xstrdup(buf);
                rc = 1;
            }
        }
        free(p);
        return rc;
    }
    git_tree_entry *e = NULL;
    if (git_tree_entry_bypath(&e, f->tree, rel) < 0)
        return 0;
    int rc = 0;
    if (git_kind(git_tree_entry_filemode(e)) == RH_ENTRY_LINK) {
        size_t len = 0;
        rc = rh_git_read_blob(f->repo, git_tree_entry_id(e), text, &len) == 0 ? 1 : read_failed(f, rel, err);
    }
    git_tree_entry_free(e);
    return rc;
}

rh_entry_kind rh_folder_target_kind(rh_folder *f, const char *rel)
{
    if (f->dir)
        return disk_kind_at(f, rel, 1);
    rh_entry_kind kind = rh_folder_kind(f, rel);
    char *link = NULL;
    rh_err ignored;
    if (kind != RH_ENTRY_LINK || rh_folder_link(f, rel, &link, &ignored) != 1)
        return kind == RH_ENTRY_LINK ? RH_ENTRY_NONE : kind;
    git_tree_entry *te = link_target(f, rel, link);
    kind = te ? git_kind(git_tree_entry_filemode(te)) : RH_ENTRY_NONE;
    git_tree_entry_free(te);
    free(link);
    return kind;
}

int rh_folder_leads_out(rh_folder *f, const char *rel, char **real)
{
    *real = NULL;
    if (!f->dir || !f->root)
        return 0;
    char *p = rh_xasprintf("%s/%s", f->dir, rel);
    int out = rh_fs_inside(p, &f->root, 1, NULL) == 0;
    if (out)
        *real = realpath(p, NULL);
    free(p);
    return out;
}

int rh_folder_gitlink(rh_folder *f, const char *rel, char *sha, size_t size)
{
    assert(size >= 8);
    if (f->dir)
        return 0;
    git_tree_entry *e = NULL;
    if (git_tree_entry_bypath(&e, f->tree, rel) < 0)
        return 0;
    int yes = git_kind(git_tree_entry_filemode(e)) == RH_ENTRY_GITLINK;
    if (yes)
        git_oid_tostr(sha, 8, git_tree_entry_id(e));
    git_tree_entry_free(e);
    return yes;
}

static int load(rh_migset *out, rh_folder *f, rh_folder_reader reader, rh_err *err)
{
    if (rh_folder_close(f, reader(out, f, err), err) < 0) {
        rh_migset_free(out);
        return -1;
    }
    return 0;
}

int rh_folder_load_dir(rh_migset *out, const char *dir, rh_folder_reader reader, rh_err *err)
{
    memset(out, 0, sizeof *out);
    rh_folder *f = NULL;
    return rh_folder_open_dir(&f, dir, err) < 0 ? -1 : load(out, f, reader, err);
}

int rh_folder_load_rev(rh_migset *out, rh_git_repo *repo, const rh_git_rev *rev, const char *path,
                       rh_folder_reader reader, rh_err *err)
{
    memset(out, 0, sizeof *out);
    rh_folder *f = NULL;
    int rc = rh_folder_open_rev(&f, repo, rev, path, err);
    return rc < 0 ? rc : load(out, f, reader, err);
}
