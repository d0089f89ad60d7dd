/*
 * git.c — repositories, revisions and migration folders read from the object database
 * (see git.h). libgit2 only: no `git` subprocess, no checkout.
 */
#include "source/git.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "source/git_int.h"
#include "util/buf.h"
#include "util/fs.h"

/*
 * A damaged object seen by any read so far (even one whose failure a caller took for "absent")
 * makes the answer -1 with the object named: a wrong migration set is worse than none.
 */
int rh_git_damage_check(const rh_git_repo *repo, int rc, rh_err *err)
{
    const char *damage = rh_git_guard_damage(repo->guard);
    if (!damage)
        return rc;
    rh_err_set(err, "the git repository at %s is damaged: %s", repo->path, damage);
    return -1;
}

const char *rh_git_lg2_msg(void)
{
    const git_error *e = git_error_last();
    return e && e->message ? e->message : "unknown libgit2 error";
}

static void lg2_shutdown_at_exit(void)
{
    git_libgit2_shutdown();
}

static void lg2_init(void)
{
    git_libgit2_init();
    /* rehearse only reads objects; a repository owned by another user (a CI checkout) is fine. */
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
    atexit(lg2_shutdown_at_exit);
}

/* Once per process, kept until exit: each time libgit2's count of users rises from zero, its init
   parses the system's whole CA bundle (mbedtls builds, about 5 ms of CPU), though rehearse never speaks
   https; libgit2 1.5 has no option to skip that, so it is done once, not once per repository opened. */
void rh_git_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, lg2_init);
}

int rh_git_open(rh_git_repo **out, const char *path, rh_err *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) < 0)
        return rh_err_errno(err, "no such folder: %s", path);
    if (!S_ISDIR(st.st_mode))
        return rh_err_set(err, "not a folder: %s", path);
    rh_git_init();
    git_repository *repo = NULL;
    int rc = git_repository_open_ext(&repo, path, 0, NULL);
    if (rc < 0) {
        if (rc == GIT_ENOTFOUND)
            rh_err_set(err, "not a git repository: %s (nor any parent folder)", path);
        else
            rh_err_set(err, "cannot open the git repository at %s: %s", path, rh_git_lg2_msg());
        return -1;
    }
    rh_git_repo *r = rh_xcalloc(1, sizeof *r);
    r->repo = repo;
    r->path = rh_xstrdup(path);
    if (rh_git_guard_install(repo, &r->guard) < 0) {
        rh_err_set(err, "cannot read the objects of the git repository at %s: %s", path, rh_git_lg2_msg());
        rh_git_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

static void walk_memo_free(struct rh_git_walk_memo *m);

void rh_git_close(rh_git_repo *repo)
{
    if (!repo)
        return;
    walk_memo_free(repo->walks);
    git_repository_free(repo->repo);
    free(repo->path);
    free(repo);
}

const char *rh_git_workdir(const rh_git_repo *repo)
{
    return git_repository_workdir(repo->repo);
}

const char *rh_git_gitdir(const rh_git_repo *repo)
{
    return git_repository_path(repo->repo);
}

/* No commit at all: HEAD unborn and no reference anywhere (whatever HEAD's branch is called). */
static int has_no_commits(rh_git_repo *repo)
{
    if (git_repository_head_unborn(repo->repo) != 1)
        return 0;
    git_strarray refs = {0};
    if (git_reference_list(&refs, repo->repo) < 0)
        return 0;
    int none = refs.count == 0;
    git_strarray_dispose(&refs);
    return none;
}

/*
 * libgit2 1.5.1's revparse leaks the reference when the object it names cannot be read. Read the
 * object behind a leading reference name first (through the guard, which records damage), so that
 * a damaged one is reported before revparse meets it. 0, or -1 when damage is known. unreadable (41
 * bytes, or NULL): the name's object id when it cannot be read and the guard saw nothing (a packed
 * object: the guard reads loose ones), else left as it is.
 */
static int check_ref_target(rh_git_repo *repo, const char *spec, char *unreadable)
{
    size_t n = strcspn(spec, "~^@:");
    char name[256];
    if (n > 0 && n < sizeof name) {
        memcpy(name, spec, n);
        name[n] = '\0';
        git_reference *ref = NULL, *direct = NULL;
        git_odb *odb = NULL;
        git_odb_object *obj = NULL;
        if (git_reference_dwim(&ref, repo->repo, name) == 0 && git_reference_resolve(&direct, ref) == 0 &&
            git_repository_odb(&odb, repo->repo) == 0) {
            if (git_odb_read(&obj, odb, git_reference_target(direct)) == 0)
                git_odb_object_free(obj);
            else if (unreadable) /* a pack the guard does not read: damaged, or a ref to a missing object */
                git_oid_tostr(unreadable, GIT_OID_HEXSZ + 1, git_reference_target(direct));
        }
        git_odb_free(odb);
        git_reference_free(direct);
        git_reference_free(ref);
    }
    return rh_git_guard_damage(repo->guard) ? -1 : 0;
}

static int resolve_unguarded(rh_git_repo *repo, const char *spec, rh_git_rev *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    if (!spec || !*spec)
        return rh_err_set(err, "empty revision");
    snprintf(out->spec, sizeof out->spec, "%s", spec);
    if (strcmp(spec, RH_GIT_WORKTREE) == 0) {
        if (git_repository_is_bare(repo->repo))
            return rh_err_set(err, "revision WORKTREE: the repository at %s is bare, it has no work tree",
                              repo->path);
        out->worktree = 1;
        snprintf(out->label, sizeof out->label, "WORKTREE (files on disk)");
        return 0;
    }
    git_object *obj = NULL, *peeled = NULL;
    char unreadable[GIT_OID_HEXSZ + 1] = "";
    if (check_ref_target(repo, spec, unreadable) < 0)
        return -1; /* damage_check says which object */
    /* not "unknown": the name is there, its object is not readable (revparse would fail on it too, and
       libgit2 1.5.1's revparse leaks the reference then) */
    if (unreadable[0])
        return rh_err_set(err, "revision '%s' names object %s, which cannot be read from the repository at %s: "
                          "the repository is damaged or incomplete (`git fsck` says what is wrong)", spec,
                          unreadable, repo->path);
    int rc = git_revparse_single(&obj, repo->repo, spec);
    if (rc < 0) {
        if (has_no_commits(repo))
            return rh_err_set(err, "unknown revision '%s': the repository at %s has no commits yet", spec,
                              repo->path);
        if (rc == GIT_ENOTFOUND && git_repository_is_shallow(repo->repo) == 1)
            return rh_err_set(err, "unknown revision '%s' in the repository at %s, a shallow clone: its history "
                              "stops at the clone's depth (fetch all of it: `git fetch --unshallow`, or "
                              "actions/checkout's `fetch-depth: 0`, GitLab's `GIT_DEPTH: 0`)", spec, repo->path);
        if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH)
            return rh_err_set(err, "unknown revision '%s' in the repository at %s", spec, repo->path);
        if (rc == GIT_EAMBIGUOUS)
            return rh_err_set(err, "ambiguous revision '%s' in the repository at %s: give more digits", spec,
                              repo->path);
        return rh_err_set(err, "cannot resolve revision '%s' in the repository at %s: %s", spec, repo->path,
                          rh_git_lg2_msg());
    }
    rc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
    if (rc < 0) {
        rh_err_set(err, "revision '%s' is a %s, not a commit", spec, git_object_type2string(git_object_type(obj)));
        git_object_free(obj);
        return -1;
    }
    git_oid_tostr(out->sha, sizeof out->sha, git_object_id(peeled));
    memcpy(out->short_sha, out->sha, 7);
    out->short_sha[7] = '\0';
    if (strncmp(spec, out->sha, strlen(spec)) == 0 && strlen(spec) >= 4)
        snprintf(out->label, sizeof out->label, "%s", out->short_sha);
    else
        snprintf(out->label, sizeof out->label, "%.255s (%s)", spec, out->short_sha);
    git_object_free(peeled);
    git_object_free(obj);
    return 0;
}

char *rh_git_relpath(const rh_git_repo *repo, const char *path, rh_err *err)
{
    const char *wd = rh_git_workdir(repo);
    const char *p = path;
    char real[PATH_MAX];
    if (path[0] == '/') {
        if (!wd) {
            rh_err_set(err, "an absolute folder (%s) needs a repository with a work tree", path);
            return NULL;
        }
        /* compare canonical forms so that /tmp vs /private/tmp-style links don't matter */
        char rwd[PATH_MAX];
        const char *cmpwd = realpath(wd, rwd) ? rwd : wd;
        const char *cmpp = realpath(path, real) ? real : path;
        size_t n = strlen(cmpwd);
        while (n > 0 && cmpwd[n - 1] == '/')
            n--;
        if (strncmp(cmpp, cmpwd, n) != 0 || (cmpp[n] != '/' && cmpp[n] != '\0')) {
            rh_err_set(err, "the folder %s is outside the repository's work tree %s", path, wd);
            return NULL;
        }
        p = cmpp + n;
    }
    while (*p == '/' || (p[0] == '.' && p[1] == '/'))
        p += (*p == '/') ? 1 : 2;
    /* `../outside` is as much outside as an absolute path: no .. may climb above the root */
    int depth = 0;
    for (const char *s = p; *s;) {
        size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.')
            depth--;
        else if (n > 0 && !(n == 1 && s[0] == '.'))
            depth++;
        if (depth < 0) {
            rh_err_set(err, "the folder %s is outside the repository (.. climbs above its root)", path);
            return NULL;
        }
        s += n + (s[n] == '/');
    }
    char *r = rh_xstrdup(p);
    size_t n = strlen(r);
    while (n > 0 && r[n - 1] == '/')
        r[--n] = '\0';
    if (strcmp(r, ".") == 0)
        r[0] = '\0';
    return r;
}

/* ---- trees ------------------------------------------------------------------------------------------ */

int rh_git_rev_tree(rh_git_repo *repo, const rh_git_rev *rev, git_tree **tree, rh_err *err)
{
    git_oid oid;
    git_commit *commit = NULL;
    if (git_oid_fromstr(&oid, rev->sha) < 0 || git_commit_lookup(&commit, repo->repo, &oid) < 0)
        return rh_err_set(err, "cannot read commit %s: %s", rev->label, rh_git_lg2_msg());
    int rc = git_commit_tree(tree, commit);
    git_commit_free(commit);
    if (rc < 0)
        return rh_err_set(err, "cannot read the tree of %s: %s", rev->label, rh_git_lg2_msg());
    return 0;
}

/* The tree at `path` in the revision's root tree (path "" is the root). 1 found, 0 absent or not a tree. */
int rh_git_subtree(rh_git_repo *repo, git_tree *root, const char *path, git_tree **out, git_filemode_t *mode)
{
    *out = NULL;
    if (mode)
        *mode = 0;
    if (!*path) {
        return git_tree_dup(out, root) == 0;
    }
    git_tree_entry *e = NULL;
    if (git_tree_entry_bypath(&e, root, path) < 0)
        return 0;
    if (mode)
        *mode = git_tree_entry_filemode(e);
    int ok = 0;
    if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
        ok = git_tree_lookup(out, repo->repo, git_tree_entry_id(e)) == 0;
    git_tree_entry_free(e);
    return ok;
}

int rh_git_read_blob(rh_git_repo *repo, const git_oid *id, char **data, size_t *len)
{
    git_blob *blob = NULL;
    if (git_blob_lookup(&blob, repo->repo, id) < 0)
        return -1;
    size_t n = (size_t)git_blob_rawsize(blob);
    *data = rh_xmalloc(n + 1);
    memcpy(*data, git_blob_rawcontent(blob), n);
    (*data)[n] = '\0';
    *len = n;
    git_blob_free(blob);
    return 0;
}

char *rh_git_join(const char *a, const char *b)
{
    if (!a || !*a)
        return rh_xstrdup(b);
    return rh_xasprintf("%s/%s", a, b);
}

/* Resolve a symlink target (relative to the folder `dir`) to a normalised tree path; NULL if it leaves the tree. */
char *rh_git_normalise_target(const char *dir, const char *target)
{
    if (target[0] == '/')
        return NULL;
    char *full = rh_git_join(dir, target);
    char **parts = rh_xcalloc(strlen(full) + 1, sizeof *parts);
    size_t np = 0;
    char *save = NULL;
    for (char *t = strtok_r(full, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0)
            continue;
        if (strcmp(t, "..") == 0) {
            if (np == 0) {
                free(parts);
                free(full);
                return NULL;
            }
            np--;
            continue;
        }
        parts[np++] = t;
    }
    rh_buf b;
    rh_buf_init(&b);
    for (size_t i = 0; i < np; i++) {
        if (i)
            rh_buf_putc(&b, '/');
        rh_buf_puts(&b, parts[i]);
    }
    free(parts);
    free(full);
    char *r = rh_buf_steal(&b);
    rh_buf_free(&b);
    return r;
}

/* ---- single files and walks ------------------------------------------------------------------------- */

static int read_file_unguarded(rh_git_repo *repo, const rh_git_rev *rev, const char *path, char **data,
                               size_t *len, rh_err *err)
{
    *data = NULL;
    if (len)
        *len = 0;
    size_t dummy;
    size_t *lp = len ? len : &dummy;
    if (rev->worktree) {
        const char *wd = rh_git_workdir(repo);
        char *full = rh_git_join(wd, path);
        struct stat st;
        int rc = 0;
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
            rc = rh_fs_read_inside(full, &wd, 1, RH_FS_READ_MAX, data, lp, err) == 0 ? 1 : -1;
        free(full);
        return rc;
    }
    git_tree *root = NULL;
    if (rh_git_rev_tree(repo, rev, &root, err) < 0)
        return -1;
    git_tree_entry *e = NULL;
    int rc = 0;
    if (git_tree_entry_bypath(&e, root, path) == 0 &&
        (git_tree_entry_filemode(e) == GIT_FILEMODE_BLOB || git_tree_entry_filemode(e) == GIT_FILEMODE_BLOB_EXECUTABLE)) {
        rc = rh_git_read_blob(repo, git_tree_entry_id(e), data, lp) == 0 ? 1 : -1;
        if (rc < 0)
            rh_err_set(err, "cannot read %s at %s: %s", path, rev->label, rh_git_lg2_msg());
    }
    git_tree_entry_free(e);
    git_tree_free(root);
    return rc;
}

static int is_dir_unguarded(rh_git_repo *repo, const rh_git_rev *rev, const char *path, rh_err *err)
{
    if (rev->worktree) {
        char *full = rh_git_join(rh_git_workdir(repo), path);
        struct stat st;
        /* a folder linked out of the repository is still found, so that reading it says why it is refused */
        int ok = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
        free(full);
        return ok;
    }
    git_tree *root = NULL, *dir = NULL;
    if (rh_git_rev_tree(repo, rev, &root, err) < 0)
        return -1;
    int ok = rh_git_subtree(repo, root, path, &dir, NULL);
    git_tree_free(dir);
    git_tree_free(root);
    return ok;
}

static int skip_dir(const char *name)
{
    return strcmp(name, "node_modules") == 0 || strcmp(name, ".git") == 0;
}

static int walk_tree(rh_git_repo *repo, git_tree *tree, const char *prefix, const char *basename, int depth,
                     int max_depth, rh_git_file_fn fn, void *ctx)
{
    size_t n = git_tree_entrycount(tree);
    /* files of this folder first, then sub-folders: shallow matches come first */
    for (size_t i = 0; i < n; i++) {
        const git_tree_entry *e = git_tree_entry_byindex(tree, i);
        git_filemode_t m = git_tree_entry_filemode(e);
        if ((m == GIT_FILEMODE_BLOB || m == GIT_FILEMODE_BLOB_EXECUTABLE) &&
            strcmp(git_tree_entry_name(e), basename) == 0) {
            char *rel = rh_git_join(prefix, basename);
            int stop = fn(rel, ctx);
            free(rel);
            if (stop)
                return stop;
        }
    }
    if (depth >= max_depth)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const git_tree_entry *e = git_tree_entry_byindex(tree, i);
        if (git_tree_entry_type(e) != GIT_OBJECT_TREE || skip_dir(git_tree_entry_name(e)))
            continue;
        git_tree *sub = NULL;
        if (git_tree_lookup(&sub, repo->repo, git_tree_entry_id(e)) < 0)
            continue;
        char *rel = rh_git_join(prefix, git_tree_entry_name(e));
        int stop = walk_tree(repo, sub, rel, basename, depth + 1, max_depth, fn, ctx);
        free(rel);
        git_tree_free(sub);
        if (stop)
            return stop;
    }
    return 0;
}

static int walk_disk(const char *root, const char *prefix, const char *basename, int depth, int max_depth,
                     rh_git_file_fn fn, void *ctx)
{
    char *full = rh_git_join(root, prefix);
    DIR *d = opendir(full);
    if (!d) {
        free(full);
        return 0;
    }
    char **names = NULL;
    mode_t *modes = NULL; /* each name's lstat, once for both passes; 0 when it failed */
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        names = rh_xrealloc(names, (nn + 1) * sizeof *names);
        modes = rh_xrealloc(modes, (nn + 1) * sizeof *modes);
        names[nn] = rh_xstrdup(de->d_name);
        struct stat st;
        modes[nn++] = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_mode : 0;
    }
    closedir(d);
    int stop = 0;
    for (int pass = 0; pass < 2 && !stop; pass++) {
        for (size_t i = 0; i < nn && !stop; i++) {
            char *rel = rh_git_join(prefix, names[i]);
            if (pass == 0 && S_ISREG(modes[i]) && strcmp(names[i], basename) == 0)
                stop = fn(rel, ctx);
            else if (pass == 1 && S_ISDIR(modes[i]) && depth < max_depth && !skip_dir(names[i]))
                stop = walk_disk(root, rel, basename, depth + 1, max_depth, fn, ctx);
            free(rel);
        }
    }
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    free(modes);
    free(full);
    return stop;
}

/*
 * A finished walk: the files it found, in the order it found them. One command asks the same question of
 * a revision more than once (the tool's folder, then its version: a package.json walk each, the whole
 * tree of a large repository), and the answer is the same within one open handle: a revision's tree
 * never changes, and a work tree is read once per command as it is now.
 */
struct rh_git_walk_memo {
    char *key;  /* the revision (its commit, or the work tree), the name and the depth */
    char **hits;
    size_t n;
    struct rh_git_walk_memo *next;
};

static unsigned long walks_made;

unsigned long rh_git_walk_count(void)
{
    return __atomic_load_n(&walks_made, __ATOMIC_RELAXED);
}

static void walk_memo_free(struct rh_git_walk_memo *m)
{
    while (m) {
        struct rh_git_walk_memo *next = m->next;
        for (size_t i = 0; i < m->n; i++)
            free(m->hits[i]);
        free(m->hits);
        free(m->key);
        free(m);
        m = next;
    }
}

/* Records each file found, then hands it to the caller's function. */
typedef struct walk_rec {
    rh_git_file_fn fn;
    void *ctx;
    struct rh_git_walk_memo *memo;
} walk_rec;

static int record_hit(const char *relpath, void *arg)
{
    walk_rec *w = arg;
    w->memo->hits = rh_xrealloc(w->memo->hits, (w->memo->n + 1) * sizeof *w->memo->hits);
    w->memo->hits[w->memo->n++] = rh_xstrdup(relpath);
    return w->fn(relpath, w->ctx);
}

static int find_files_unguarded(rh_git_repo *repo, const rh_git_rev *rev, const char *basename, int max_depth,
                                rh_git_file_fn fn, void *ctx, rh_err *err)
{
    char *key = rh_xasprintf("%s\n%s\n%d", rev->worktree ? "WORKTREE" : rev->sha, basename, max_depth);
    for (struct rh_git_walk_memo *m = repo->walks; m; m = m->next) {
        if (strcmp(m->key, key) != 0)
            continue;
        free(key);
        for (size_t i = 0; i < m->n; i++)
            if (fn(m->hits[i], ctx))
                break;
        return 0;
    }
    git_tree *root = NULL;
    if (!rev->worktree && rh_git_rev_tree(repo, rev, &root, err) < 0) {
        free(key);
        return -1;
    }
    __atomic_add_fetch(&walks_made, 1, __ATOMIC_RELAXED);
    struct rh_git_walk_memo *memo = rh_xcalloc(1, sizeof *memo);
    memo->key = key;
    walk_rec w = {fn, ctx, memo};
    int stopped = rev->worktree ? walk_disk(rh_git_workdir(repo), "", basename, 0, max_depth, record_hit, &w)
                                : walk_tree(repo, root, "", basename, 0, max_depth, record_hit, &w);
    git_tree_free(root);
    if (stopped) { /* the caller stopped it: what it found is not the whole answer */
        walk_memo_free(memo);
        return 0;
    }
    memo->next = repo->walks;
    repo->walks = memo;
    return 0;
}

int rh_git_resolve(rh_git_repo *repo, const char *spec, rh_git_rev *out, rh_err *err)
{
    return rh_git_damage_check(repo, resolve_unguarded(repo, spec, out, err), err);
}

int rh_git_is_dir(rh_git_repo *repo, const rh_git_rev *rev, const char *path, rh_err *err)
{
    return rh_git_damage_check(repo, is_dir_unguarded(repo, rev, path, err), err);
}

int rh_git_read_file(rh_git_repo *repo, const rh_git_rev *rev, const char *path, char **data, size_t *len,
                     rh_err *err)
{
    int rc = rh_git_damage_check(repo, read_file_unguarded(repo, rev, path, data, len, err), err);
    if (rc < 0 && *data) {
        free(*data);
        *data = NULL;
    }
    return rc;
}

int rh_git_find_files(rh_git_repo *repo, const rh_git_rev *rev, const char *basename, int max_depth,
                      rh_git_file_fn fn, void *ctx, rh_err *err)
{
    return rh_git_damage_check(repo, find_files_unguarded(repo, rev, basename, max_depth, fn, ctx, err), err);
}

/* A set of commit ids (open addressing; ids are hashes already, so their first bytes are the hash). */
typedef struct oid_set {
    git_oid *slots;
    unsigned char *used;
    size_t cap, n;
} oid_set;

static size_t oid_slot(const oid_set *s, const git_oid *id)
{
    size_t h;
    memcpy(&h, id->id, sizeof h);
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1))
        if (!s->used[i] || git_oid_equal(&s->slots[i], id))
            return i;
}

static int oid_set_has(const oid_set *s, const git_oid *id) { return s->cap && s->used[oid_slot(s, id)]; }

/* 1 when added, 0 when it was there */
static int oid_set_add(oid_set *s, const git_oid *id)
{
    if (2 * (s->n + 1) > s->cap) {
        oid_set bigger = {.cap = s->cap ? 2 * s->cap : 64};
        bigger.slots = rh_xcalloc(bigger.cap, sizeof *bigger.slots);
        bigger.used = rh_xcalloc(bigger.cap, 1);
        for (size_t i = 0; i < s->cap; i++)
            if (s->used[i])
                oid_set_add(&bigger, &s->slots[i]);
        free(s->slots);
        free(s->used);
        *s = bigger;
    }
    size_t i = oid_slot(s, id);
    if (s->used[i])
        return 0;
    s->used[i] = 1;
    git_oid_cpy(&s->slots[i], id);
    s->n++;
    return 1;
}

static void oid_set_free(oid_set *s)
{
    free(s->slots);
    free(s->used);
    memset(s, 0, sizeof *s);
}

#define SHALLOW_WALK_MAX 2000000 /* commits: a bound on the work, far past any shallow clone's depth */

/*
 * The commits reachable from `from` (itself included) into `seen`, breadth first; a parent that is
 * not in the repository is not walked to (the cut: git takes the commits .git/shallow names as having
 * no parents, and a shallow clone holds none of theirs). With `stop`: a commit in it is recorded in
 * `hits` (in the order met) and not walked past. -1 past the bound, or on an error.
 */
static int walk_back(git_repository *r, const git_oid *from, oid_set *seen, const oid_set *stop, git_oid **hits,
                     size_t *nhits)
{
    git_odb *odb = NULL;
    if (git_repository_odb(&odb, r) < 0)
        return -1;
    size_t cap = 64, head = 0, tail = 0;
    git_oid *queue = rh_xcalloc(cap, sizeof *queue);
    if (oid_set_add(seen, from))
        git_oid_cpy(&queue[tail++], from);
    int rc = 0;
    while (head < tail && rc == 0) {
        git_oid id = queue[head++];
        if (stop && oid_set_has(stop, &id)) {
            *hits = rh_xrealloc(*hits, (*nhits + 1) * sizeof **hits);
            git_oid_cpy(&(*hits)[(*nhits)++], &id);
            continue;
        }
        git_commit *c = NULL;
        if (git_commit_lookup(&c, r, &id) < 0)
            continue; /* beyond the cut */
        for (unsigned i = 0; i < git_commit_parentcount(c); i++) {
            const git_oid *p = git_commit_parent_id(c, i);
            if (!p || !git_odb_exists(odb, p) || !oid_set_add(seen, p)) /* absent: the cut */
                continue;
            if (seen->n > SHALLOW_WALK_MAX) {
                rc = -1;
                break;
            }
            if (tail == cap)
                queue = rh_xrealloc(queue, (cap *= 2) * sizeof *queue);
            git_oid_cpy(&queue[tail++], p);
        }
        git_commit_free(c);
    }
    free(queue);
    git_odb_free(odb);
    return rc;
}

/*
 * The merge-base in a shallow clone, by hand: libgit2 1.5 reads no .git/shallow, so its own walk fails
 * (and leaks) at the cut. The common ancestors of a and b nearest b, less those that are ancestors of
 * another one; the first left (git prints one too). 1 found, 0 none, -1 past the walk's bound.
 */
static int shallow_merge_base(git_repository *r, const git_oid *a, const git_oid *b, git_oid *out)
{
    oid_set of_a = {0}, of_b = {0};
    git_oid *hits = NULL;
    size_t nhits = 0;
    int found = 0;
    if (walk_back(r, a, &of_a, NULL, NULL, NULL) < 0 || walk_back(r, b, &of_b, &of_a, &hits, &nhits) < 0) {
        found = -1;
        goto out;
    }
    for (size_t i = 0; i < nhits && !found; i++) {
        int below = 0; /* hits[i] is an ancestor of another hit: not the best */
        for (size_t j = 0; j < nhits && !below; j++) {
            if (j == i)
                continue;
            oid_set up = {0};
            if (walk_back(r, &hits[j], &up, NULL, NULL, NULL) < 0) {
                oid_set_free(&up);
                found = -1;
                goto out;
            }
            below = oid_set_has(&up, &hits[i]);
            oid_set_free(&up);
        }
        if (!below) {
            git_oid_cpy(out, &hits[i]);
            found = 1;
        }
    }
out:
    free(hits);
    oid_set_free(&of_a);
    oid_set_free(&of_b);
    return found;
}

static int merge_base_unguarded(rh_git_repo *repo, const char *a, const char *b, char *out)
{
    git_object *oa = NULL, *ob = NULL, *ca = NULL, *cb = NULL;
    int found = 0;
    if (check_ref_target(repo, a, NULL) < 0 || check_ref_target(repo, b, NULL) < 0)
        return -1; /* damage_check says which object */
    if (git_revparse_single(&oa, repo->repo, a) == 0 && git_revparse_single(&ob, repo->repo, b) == 0 &&
        git_object_peel(&ca, oa, GIT_OBJECT_COMMIT) == 0 && git_object_peel(&cb, ob, GIT_OBJECT_COMMIT) == 0) {
        git_oid mb;
        if (git_repository_is_shallow(repo->repo) == 1) /* libgit2's own walk fails at the cut */
            found = shallow_merge_base(repo->repo, git_object_id(ca), git_object_id(cb), &mb) == 1;
        else
            found = git_merge_base(&mb, repo->repo, git_object_id(ca), git_object_id(cb)) == 0;
        if (found)
            git_oid_tostr(out, GIT_OID_HEXSZ + 1, &mb);
    }
    git_object_free(ca);
    git_object_free(cb);
    git_object_free(oa);
    git_object_free(ob);
    return found;
}

int rh_git_merge_base(rh_git_repo *repo, const char *a, const char *b, char *out, rh_err *err)
{
    return rh_git_damage_check(repo, merge_base_unguarded(repo, a, b, out), err);
}

int rh_git_is_shallow(rh_git_repo *repo) { return git_repository_is_shallow(repo->repo) == 1; }
