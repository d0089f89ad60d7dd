/*
 * revision.c — Prisma's migrations folder at a git revision (folder.h: rh_prisma_read_rev): its
 * listing rules read from git's object database (directories, submodules, symbolic links,
 * migration_lock.toml), or from disk for WORKTREE (folder.c's reader, confined to the work tree).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "source/git_int.h"
#include "tools/prisma/folder.h"
#include "util/buf.h"
#include "util/fs.h"

/* Report names beside a missing migration.sql that look like it ("migration.sql" + U+200E ...). */
static void note_tree_lookalikes(rh_migration *m, git_tree *dir)
{
    size_t n = git_tree_entrycount(dir);
    for (size_t i = 0; i < n; i++) {
        const git_tree_entry *e = git_tree_entry_byindex(dir, i);
        const char *nm = git_tree_entry_name(e);
        if (strcmp(nm, "migration.sql") == 0)
            continue;
        if (strstr(nm, "migration.sql") || strcasecmp(nm, "migration.sql") == 0) {
            char *pn = rh_name_printable(nm, strlen(nm));
            char *odd = rh_name_oddity(nm, strlen(nm));
            rh_migration_add_problem(m, "beside it a file named '%s'%s%s", pn, odd ? " which " : "",
                                     odd ? odd : "");
            free(pn);
            free(odd);
        }
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(((const rh_migration *)a)->name, ((const rh_migration *)b)->name);
}

/* Fill one entry's migration.sql from its directory tree. */
static void read_entry_sql(rh_git_repo *repo, git_tree *root, const char *dirpath, git_tree *dir, rh_migration *m)
{
    const git_tree_entry *e = git_tree_entry_byname(dir, "migration.sql");
    if (!e) {
        rh_migration_add_problem(m, "no migration.sql (Prisma stops with P3015 when it reaches it)");
        note_tree_lookalikes(m, dir);
        return;
    }
    git_filemode_t mode = git_tree_entry_filemode(e);
    char *data = NULL;
    size_t len = 0;
    if (mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE) {
        if (rh_git_read_blob(repo, git_tree_entry_id(e), &data, &len) == 0) {
            rh_migration_set_sql(m, data, len);
            free(data);
        } else {
            rh_migration_add_problem(m, "migration.sql cannot be read: %s", rh_git_lg2_msg());
        }
        return;
    }
    if (mode == GIT_FILEMODE_LINK) {
        if (rh_git_read_blob(repo, git_tree_entry_id(e), &data, &len) < 0) {
            rh_migration_add_problem(m, "migration.sql is a symbolic link that cannot be read");
            return;
        }
        char *target_path = rh_git_normalise_target(dirpath, data);
        git_tree_entry *te = NULL;
        if (target_path && git_tree_entry_bypath(&te, root, target_path) == 0 &&
            (git_tree_entry_filemode(te) == GIT_FILEMODE_BLOB ||
             git_tree_entry_filemode(te) == GIT_FILEMODE_BLOB_EXECUTABLE)) {
            char *sql = NULL;
            size_t sql_len = 0;
            if (rh_git_read_blob(repo, git_tree_entry_id(te), &sql, &sql_len) == 0) {
                rh_migration_set_sql(m, sql, sql_len);
                free(sql);
            }
            rh_migration_add_problem(m, "migration.sql is a symbolic link to '%s' (read through it, as a checkout "
                                        "would; on Windows checkouts it becomes a text file)", data);
        } else {
            rh_migration_add_problem(m, "migration.sql is a symbolic link to '%s', which is not a file in the "
                                        "repository (Prisma cannot read it: P3015)", data);
        }
        git_tree_entry_free(te);
        free(target_path);
        free(data);
        return;
    }
    if (mode == GIT_FILEMODE_TREE)
        rh_migration_add_problem(m, "migration.sql is a folder, not a file (Prisma cannot read it: P3015)");
    else if (mode == GIT_FILEMODE_COMMIT)
        rh_migration_add_problem(m, "migration.sql is a submodule (gitlink), not a file (Prisma cannot read it: P3015)");
    else
        rh_migration_add_problem(m, "migration.sql has an unexpected git mode %06o", (unsigned)mode);
}

static int read_migset_worktree(rh_git_repo *repo, const rh_git_rev *rev, const char *path, rh_migset *out,
                                rh_err *err)
{
    const char *wd = rh_git_workdir(repo);
    char *full = rh_git_join(wd, path);
    size_t n = strlen(full);
    while (n > 1 && full[n - 1] == '/')
        full[--n] = '\0';
    struct stat st;
    if (stat(full, &st) < 0) {
        free(full);
        return rh_err_set(err, "the folder %s does not exist at %s", *path ? path : ".", rev->label);
    }
    if (!S_ISDIR(st.st_mode)) {
        free(full);
        return rh_err_set(err, "%s is a file, not a folder, at %s", path, rev->label);
    }
    if (rh_fs_inside(full, &wd, 1, NULL) != 1) {
        /* a link (or ../) out of the repository: its files are not the revision's, nor ours to read */
        char *real = realpath(full, NULL);
        rh_err_set(err, "the folder %s leads out of the repository (to %s) at %s; rehearse reads only inside the "
                        "work tree %s", *path ? path : ".", real ? real : "?", rev->label, wd);
        free(real);
        free(full);
        return -1;
    }
    int rc = rh_prisma_read_dir(out, full, wd, err);
    free(full);
    if (rc < 0)
        return -1;
    free(out->origin);
    out->origin = rh_xasprintf("%s at %s", *path ? path : ".", rev->label);
    return 0;
}

static int read_migset_unguarded(rh_git_repo *repo, const rh_git_rev *rev, const char *path, rh_migset *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    if (rev->worktree)
        return read_migset_worktree(repo, rev, path, out, err);
    git_tree *root = NULL, *dir = NULL;
    if (rh_git_rev_tree(repo, rev, &root, err) < 0)
        return -1;
    git_filemode_t mode = 0;
    if (!rh_git_subtree(repo, root, path, &dir, &mode)) {
        git_tree_free(root);
        if (mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE)
            return rh_err_set(err, "%s is a file, not a folder, at %s", path, rev->label);
        if (mode == GIT_FILEMODE_LINK)
            return rh_err_set(err, "%s is a symbolic link, not a folder, at %s (give the folder it points to)", path,
                              rev->label);
        if (mode == GIT_FILEMODE_COMMIT)
            return rh_err_set(err, "%s is a submodule at %s: its files are not in this repository", path, rev->label);
        return rh_err_set(err, "the folder %s does not exist at %s", *path ? path : ".", rev->label);
    }
    out->origin = rh_xasprintf("%s at %s", *path ? path : ".", rev->label);

    size_t count = git_tree_entrycount(dir);
    for (size_t i = 0; i < count; i++) {
        const git_tree_entry *e = git_tree_entry_byindex(dir, i);
        const char *name = git_tree_entry_name(e);
        size_t name_len = strlen(name);
        git_filemode_t m = git_tree_entry_filemode(e);
        if (m == GIT_FILEMODE_TREE) {
            rh_migration *mig = rh_migset_push(out, name, name_len);
            char *odd = rh_name_oddity(name, name_len);
            if (odd) {
                rh_migration_add_problem(mig, "the directory name %s", odd);
                free(odd);
            }
            git_tree *sub = NULL;
            if (git_tree_lookup(&sub, repo->repo, git_tree_entry_id(e)) < 0) {
                rh_migration_add_problem(mig, "cannot read the folder: %s", rh_git_lg2_msg());
                continue;
            }
            char *dirpath = rh_git_join(path, name);
            read_entry_sql(repo, root, dirpath, sub, mig);
            free(dirpath);
            git_tree_free(sub);
        } else if (m == GIT_FILEMODE_COMMIT) {
            /* A checkout makes an empty folder (or the submodule's files): Prisma lists it. */
            rh_migration *mig = rh_migset_push(out, name, name_len);
            char sha[8];
            git_oid_tostr(sha, sizeof sha, git_tree_entry_id(e));
            rh_migration_add_problem(mig, "is a git submodule (gitlink to commit %s), not a folder of this repository: "
                                          "a checkout holds an empty folder and Prisma stops with P3015 on it", sha);
            char *odd = rh_name_oddity(name, name_len);
            if (odd) {
                rh_migration_add_problem(mig, "the directory name %s", odd);
                free(odd);
            }
        } else if (m == GIT_FILEMODE_LINK) {
            char *target = NULL;
            size_t tlen = 0;
            char *pn = rh_name_printable(name, name_len);
            if (rh_git_read_blob(repo, git_tree_entry_id(e), &target, &tlen) == 0) {
                char *tp = rh_git_normalise_target(path, target);
                git_tree_entry *te = NULL;
                int is_dir = tp && *tp && git_tree_entry_bypath(&te, root, tp) == 0 &&
                             git_tree_entry_type(te) == GIT_OBJECT_TREE;
                rh_migset_add_problem(out, "'%s' is a symbolic link to '%s'%s: Prisma lists only real folders, so it is "
                                           "not a migration", pn, target, is_dir ? " (a folder)" : "");
                git_tree_entry_free(te);
                free(tp);
                free(target);
            } else {
                rh_migset_add_problem(out, "'%s' is a symbolic link: Prisma lists only real folders, so it is not a "
                                           "migration", pn);
            }
            free(pn);
        } else if (strcmp(name, "migration_lock.toml") == 0) {
            char *toml = NULL;
            size_t tlen = 0;
            if (rh_git_read_blob(repo, git_tree_entry_id(e), &toml, &tlen) == 0) {
                rh_prisma_set_lock(out, toml, tlen);
                free(toml);
            }
        }
        /* other files are ignored, as Prisma does */
    }
    git_tree_free(dir);
    git_tree_free(root);
    if (out->n > 1)
        qsort(out->items, out->n, sizeof *out->items, cmp_names);
    return 0;
}


int rh_prisma_read_rev(rh_migset *out, rh_git_repo *repo, const rh_git_rev *rev, const char *path, rh_err *err)
{
    int rc = rh_git_damage_check(repo, read_migset_unguarded(repo, rev, path, out, err), err);
    if (rc < 0)
        rh_migset_free(out); /* what was read before the damage showed is not a migration set */
    return rc;
}
