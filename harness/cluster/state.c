/*
 * state.c — deployed states in the cache (see cluster.h): a stopped cluster's data directory kept
 * beside the initdb templates, in the same entry layout (data/, manifest, secret, marker written
 * last) and checked the same way (rh_cache_entry_valid), so that a cluster starts from it exactly
 * as it starts from a template.
 *
 * CACHE/states/NAME where NAME = the template's name (server version, encoding, locale, template
 * format) + STATE_FORMAT + the caller's key. Writers build CACHE/states/.tmp-PID-N-KEY and rename
 * it into place after an fsync of every file, so a reader sees a whole entry or none, and a writer
 * killed halfway leaves only a .tmp folder that pruning removes once its process is gone. Readers
 * copy an entry under a shared flock of CACHE/states/.lock; pruning holds it exclusively, so an
 * entry is never deleted while a cluster is being copied from it.
 */
#include "cluster/internal.h"

#include "report/escape.h" /* the one terminal escaper: paths in messages are the user's */
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_MARKER "REHEARSE_STATE"
#define STATE_META "meta"
#define STATE_SECRET "secret"
#define STATE_MANIFEST "manifest"
/* A caller's file NAME is kept as FILE_PREFIX NAME, apart from the entry's own files. */
#define FILE_PREFIX "x-"
/* Bumped whenever what a state entry holds changes, so that older entries are never used. */
#define STATE_FORMAT "s1"
#define LOCK_NAME ".lock"

void (*rh_state_before_marker_hook)(void);

char *rh_state_dir(const rh_cluster_opts *opts)
{
    char *cache = rh_template_cache_dir(opts);
    char *dir = rh_xasprintf("%s/states", cache);
    free(cache);
    return dir;
}

unsigned long long rh_state_max_bytes(void)
{
    const char *e = getenv("REHEARSE_CACHE_MAX_MB");
    char *end = NULL;
    unsigned long long mb = e && *e ? strtoull(e, &end, 10) : 0;
    if (!e || !*e || (end && *end))
        mb = 4096;
    return mb * 1024ULL * 1024ULL;
}

static int key_ok(const char *key)
{
    if (!key || strlen(key) != 64)
        return 0;
    for (const char *p = key; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

static char *entry_name(const rh_pgbin *bin, const rh_cluster_opts *opts, const char *key)
{
    char *tk = rh_template_key(bin, opts);
    char *name = rh_xasprintf("%s-" STATE_FORMAT "-%s", tk, key);
    free(tk);
    return name;
}

static char *marker_text(const char *name)
{
    return rh_xasprintf("rehearse state " STATE_FORMAT ": %s\n", name);
}

static int lock_states(const char *dir, int how, rh_err *err)
{
    if (rh_fs_mkdir_p(dir, 0700, err) < 0)
        return rh_err_prefix(err, "state cache");
    char *path = rh_xasprintf("%s/" LOCK_NAME, dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        rh_err_errno(err, "cannot open the state cache's lock %s", path);
        free(path);
        return -1;
    }
    while (flock(fd, how) < 0) {
        if (errno != EINTR) {
            rh_err_errno(err, "cannot lock %s", path);
            close(fd);
            free(path);
            return -1;
        }
    }
    free(path);
    return fd;
}

int rh_state_lock_shared(const rh_cluster_opts *opts, rh_err *err)
{
    char *dir = rh_state_dir(opts);
    int fd = lock_states(dir, LOCK_SH, err);
    free(dir);
    return fd;
}

int rh_state_lookup(const rh_cluster_opts *opts, const char *key, char **entry, rh_err *err)
{
    *entry = NULL;
    if (!key_ok(key))
        return rh_err_set(err, "state cache: a key is 64 lowercase hex digits, not '%s'", key ? key : "(null)");
    const rh_pgbin *bin = rh_cluster_pgbin_for(opts, err);
    if (!bin)
        return -1;
    char *dir = rh_state_dir(opts);
    char *name = entry_name(bin, opts, key);
    char *path = rh_xasprintf("%s/%s", dir, name);
    char *marker = marker_text(name);
    int hit = rh_cache_entry_valid(path, STATE_MARKER, marker, NULL, 0);
    if (hit) {
        /* least recently used goes first: the marker's time is the last use */
        char *m = rh_xasprintf("%s/" STATE_MARKER, path);
        (void)utimensat(AT_FDCWD, m, NULL, 0);
        free(m);
        *entry = path;
        path = NULL;
    }
    free(marker);
    free(path);
    free(name);
    free(dir);
    return hit;
}

int rh_state_meta(const char *entry, char **meta, rh_err *err)
{
    char *path = rh_xasprintf("%s/" STATE_META, entry);
    int rc = rh_fs_read(path, meta, NULL, err);
    free(path);
    return rc;
}

/* The WAL segment holding the shutdown checkpoint ("Latest checkpoint's REDO WAL file"), from pg_controldata. */
static int redo_segment(const rh_pgbin *bin, const char *datadir, char out[64])
{
    char exe[4200];
    snprintf(exe, sizeof exe, "%s/pg_controldata", bin->bindir);
    char *argv[] = {exe, (char *)datadir, NULL};
    rh_buf b;
    rh_buf_init(&b);
    rh_err ignored;
    int rc = rh_spawn_capture(argv, &b, &ignored);
    const char *label = "Latest checkpoint's REDO WAL file:";
    const char *p = rc == 0 && b.data ? strstr(b.data, label) : NULL;
    int ok = 0;
    if (p) {
        p += strlen(label);
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, "\n");
        if (n == 24) {
            memcpy(out, p, n);
            out[n] = '\0';
            ok = 1;
        }
    }
    rh_buf_free(&b);
    return ok ? 0 : -1;
}

/*
 * After a clean shutdown the server needs only the segment of its last checkpoint; the others are
 * recycled segments kept for reuse (16 of 1 MB here): not copied into every cluster.
 */
static void drop_recycled_wal(const rh_pgbin *bin, const char *datadir)
{
    char redo[64];
    if (redo_segment(bin, datadir, redo) < 0)
        return; /* keep them all: correct, only larger */
    char *wal = rh_xasprintf("%s/pg_wal", datadir);
    DIR *d = opendir(wal);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strlen(e->d_name) != 24 || strspn(e->d_name, "0123456789ABCDEF") != 24 || strcmp(e->d_name, redo) == 0)
            continue;
        char *f = rh_xasprintf("%s/%s", wal, e->d_name);
        unlink(f);
        free(f);
    }
    if (d)
        closedir(d);
    free(wal);
}

static int write_file(const char *dir, const char *name, const char *text, mode_t mode, rh_err *err)
{
    char *path = rh_xasprintf("%s/%s", dir, name);
    int rc = rh_fs_write(path, text, strlen(text), mode, err);
    free(path);
    return rc;
}

/* Rename a folder out of the way, then delete it: readers that look it up by name no longer find it. */
static void remove_entry(const char *dir, const char *name, unsigned long long *freed)
{
    static int seq;
    char *from = rh_xasprintf("%s/%s", dir, name);
    char *trash = rh_xasprintf("%s/.trash-%d-%d", dir, (int)getpid(), ++seq);
    if (freed)
        *freed += rh_fs_tree_bytes(from);
    rh_err ignored;
    if (rename(from, trash) == 0)
        rh_fs_rmtree(trash, &ignored);
    else
        rh_fs_rmtree(from, &ignored);
    free(trash);
    free(from);
}

static int file_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n <= 64 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* Write f into folder dir (an entry or a staging folder): temporary name, fsync, rename, fsync dir. */
static int write_entry_file(const char *dir, const rh_state_file *f, rh_err *err)
{
    static int seq;
    if (!file_name_ok(f->name))
        return rh_err_set(err, "state cache: a file name is lowercase letters, digits and '-', not '%s'",
                          f->name ? f->name : "(null)");
    char *bytes = rh_state_file_wrap(f->text ? f->text : "");
    char *tmp = rh_xasprintf("%s/.tmp-%d-%d-" FILE_PREFIX "%s", dir, (int)getpid(), ++seq, f->name);
    char *final = rh_xasprintf("%s/" FILE_PREFIX "%s", dir, f->name);
    int rc = rh_fs_write(tmp, bytes, strlen(bytes), 0644, err);
    if (rc == 0) {
        int fd = open(tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
            rc = rh_err_errno(err, "cannot sync %s", tmp);
        if (fd >= 0)
            close(fd);
    }
    if (rc == 0 && rename(tmp, final) < 0)
        rc = rh_err_errno(err, "cannot rename %s", tmp);
    if (rc < 0)
        unlink(tmp);
    int dfd = rc == 0 ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(final);
    free(tmp);
    free(bytes);
    return rc;
}

int rh_state_put_file(const rh_cluster_opts *opts, const char *entry, const rh_state_file *f, rh_err *err)
{
    int lk = rh_state_lock_shared(opts, err);
    if (lk < 0)
        return -1;
    int rc;
    char *marker = rh_xasprintf("%s/" STATE_MARKER, entry);
    if (!rh_fs_exists(marker)) /* pruned since it was looked up: nothing to add to */
        rc = rh_err_set(err, "state cache: the entry %s is gone", entry);
    else
        rc = write_entry_file(entry, f, err);
    free(marker);
    close(lk);
    return rc;
}

int rh_state_get_file(const char *entry, const char *name, char **text)
{
    *text = NULL;
    if (!file_name_ok(name))
        return 0;
    char *path = rh_xasprintf("%s/" FILE_PREFIX "%s", entry, name);
    char *data = NULL;
    size_t len = 0;
    rh_err ignored;
    int rc = rh_fs_read(path, &data, &len, &ignored);
    free(path);
    if (rc < 0)
        return 0;
    int ok = rh_state_file_unwrap(data, len, text);
    free(data);
    return ok;
}

int rh_state_save(rh_cluster *c, const rh_cluster_opts *opts, const char *key, const char *meta, rh_err *err)
{
    return rh_state_save_with(c, opts, key, meta, NULL, 0, err);
}

int rh_state_save_with(rh_cluster *c, const rh_cluster_opts *opts, const char *key, const char *meta,
                       const rh_state_file *files, size_t nfiles, rh_err *err)
{
    if (!key_ok(key))
        return rh_err_set(err, "state cache: a key is 64 lowercase hex digits, not '%s'", key ? key : "(null)");
    if (rh_cluster_shutdown_clean(c, err) < 0)
        return -1;
    static int seq;
    const rh_pgbin *bin = rh_cluster_pgbin(c);
    char *dir = rh_state_dir(opts);
    char *name = entry_name(bin, opts, key);
    char *final = rh_xasprintf("%s/%s", dir, name);
    char *staging = rh_xasprintf("%s/.tmp-%d-%d-%.8s", dir, (int)getpid(), ++seq, key);
    char *sdata = rh_xasprintf("%s/data", staging);
    char *marker = marker_text(name);
    int rc = -1;
    rh_err ignored;
    if (rh_fs_mkdir_p(dir, 0700, err) < 0)
        goto out;
    rh_fs_rmtree(staging, &ignored);
    if (mkdir(staging, 0700) < 0) {
        rh_err_errno(err, "cannot create %s", staging);
        goto out;
    }
    if (rh_fs_copytree(rh_cluster_datadir(c), sdata, (uid_t)-1, (gid_t)-1, err) < 0)
        goto out;
    drop_recycled_wal(bin, sdata);
    char *mpath = rh_xasprintf("%s/" STATE_MANIFEST, staging);
    int wrc = rh_manifest_write(sdata, mpath, err);
    free(mpath);
    if (wrc < 0 || write_file(staging, STATE_SECRET, rh_cluster_admin_password(c), 0600, err) < 0 ||
        write_file(staging, STATE_META, meta ? meta : "", 0644, err) < 0)
        goto out;
    for (size_t i = 0; i < nfiles; i++)
        if (write_entry_file(staging, &files[i], err) < 0)
            goto out;
    /* every byte on disk before the marker says the entry is whole, and the marker before the rename */
    if (rh_state_before_marker_hook) /* tests: a writer killed here must leave nothing usable */
        rh_state_before_marker_hook();
    if (rh_fs_sync_tree(staging, err) < 0 || write_file(staging, STATE_MARKER, marker, 0644, err) < 0 ||
        rh_fs_sync_tree(staging, err) < 0)
        goto out;
    if (rename(staging, final) < 0) {
        if (errno != EEXIST && errno != ENOTEMPTY) {
            rh_err_errno(err, "cannot publish the state %s", final);
            goto out;
        }
        if (!rh_cache_entry_valid(final, STATE_MARKER, marker, NULL, 0)) {
            /* a damaged entry of the same key: replace it, never under a reader */
            int lk = lock_states(dir, LOCK_EX, err);
            if (lk < 0)
                goto out;
            remove_entry(dir, name, NULL);
            int moved = rename(staging, final) == 0;
            close(lk);
            if (!moved) {
                rh_err_errno(err, "cannot publish the state %s", final);
                goto out;
            }
        } /* else another process published the same state first: ours goes */
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    rc = 0;
    rh_err perr;
    if (rh_state_prune(opts, rh_state_max_bytes(), NULL, NULL, &perr) < 0)
        rh_report_term_eprintf("rehearse: state cache: %s\n", perr.msg);
out:
    if (rh_fs_exists(staging))
        rh_fs_rmtree(staging, &ignored);
    free(marker);
    free(sdata);
    free(staging);
    free(final);
    free(name);
    free(dir);
    return rc;
}

typedef struct listed {
    char *name;
    unsigned long long bytes;
    long long used;    /* seconds, for `cache list` */
    long long used_ns; /* the order: entries used within one second are still ordered */
} listed;

static int by_use_oldest_first(const void *a, const void *b)
{
    const listed *x = a, *y = b;
    return x->used_ns < y->used_ns ? -1 : x->used_ns > y->used_ns ? 1 : strcmp(x->name, y->name);
}

/* A writer's staging folder (.tmp-PID-...) whose process is gone. */
static int dead_writer(const char *name)
{
    int pid = atoi(name + 5);
    return pid <= 0 || !rh_proc_alive((pid_t)pid);
}

/* Complete entries (their marker exists), with size and last use; leftovers removed when `clean`. */
static int scan(const char *dir, listed **out, size_t *n, int clean, size_t *removed, unsigned long long *freed)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, LOCK_NAME))
            continue;
        if (e->d_name[0] == '.') {
            if (clean && (strncmp(e->d_name, ".trash-", 7) == 0 ||
                          (strncmp(e->d_name, ".tmp-", 5) == 0 && dead_writer(e->d_name)))) {
                remove_entry(dir, e->d_name, freed);
                if (removed)
                    (*removed)++;
            }
            continue;
        }
        char *m = rh_xasprintf("%s/%s/" STATE_MARKER, dir, e->d_name);
        struct stat st;
        int whole = stat(m, &st) == 0;
        free(m);
        if (!whole) {
            /* never published by rename without a marker: not an entry of ours */
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = rh_xrealloc(*out, cap * sizeof **out);
        }
        char *p = rh_xasprintf("%s/%s", dir, e->d_name);
        (*out)[*n] = (listed){.name = rh_xstrdup(e->d_name), .bytes = rh_fs_tree_bytes(p), .used = (long long)st.st_mtime,
                            .used_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec};
        free(p);
        (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, by_use_oldest_first);
    return 0;
}

int rh_state_prune(const rh_cluster_opts *opts, unsigned long long max_bytes, size_t *removed,
                   unsigned long long *freed, rh_err *err)
{
    if (removed)
        *removed = 0;
    if (freed)
        *freed = 0;
    char *dir = rh_state_dir(opts);
    int lk = lock_states(dir, LOCK_EX, err);
    if (lk < 0) {
        free(dir);
        return -1;
    }
    listed *l = NULL;
    size_t n = 0;
    int rc = scan(dir, &l, &n, 1, removed, freed);
    if (rc < 0)
        rh_err_errno(err, "cannot list the state cache %s", dir);
    unsigned long long total = 0;
    for (size_t i = 0; i < n; i++)
        total += l[i].bytes;
    for (size_t i = 0; rc == 0 && i < n && (total > max_bytes || max_bytes == 0); i++) {
        remove_entry(dir, l[i].name, freed);
        total -= l[i].bytes;
        if (removed)
            (*removed)++;
    }
    for (size_t i = 0; i < n; i++)
        free(l[i].name);
    free(l);
    close(lk);
    free(dir);
    return rc;
}

int rh_state_list(const rh_cluster_opts *opts, rh_state_info **out, size_t *n, rh_err *err)
{
    *out = NULL;
    *n = 0;
    char *dir = rh_state_dir(opts);
    listed *l = NULL;
    size_t k = 0;
    if (scan(dir, &l, &k, 0, NULL, NULL) < 0) {
        rh_err_errno(err, "cannot list the state cache %s", dir);
        free(dir);
        return -1;
    }
    *out = rh_xcalloc(k ? k : 1, sizeof **out);
    for (size_t i = 0; i < k; i++) {
        rh_state_info *s = &(*out)[k - 1 - i]; /* most recently used first */
        snprintf(s->name, sizeof s->name, "%s", l[i].name);
        s->bytes = l[i].bytes;
        s->used = l[i].used;
        char *entry = rh_xasprintf("%s/%s", dir, l[i].name);
        rh_err ignored;
        if (rh_state_meta(entry, &s->meta, &ignored) < 0)
            s->meta = NULL;
        free(entry);
        free(l[i].name);
    }
    free(l);
    *n = k;
    free(dir);
    return 0;
}

void rh_state_list_free(rh_state_info *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i].meta);
    free(list);
}
