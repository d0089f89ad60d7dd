/* fs.c — whole-file I/O, recursive copy and removal (see fs.h). */
#include "util/fs.h"
#include "util/fs_int.h"
#include "util/buf.h"
#include "util/workers.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a file is, for an error that says why it is not read. */
static const char *kind_of(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO (named pipe)" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

/* Read the file at open_path (opened with extra flags), naming it `path` in errors. */
static int read_regular(const char *open_path, int flags, const char *path, size_t max, char **data, size_t *len,
                        rh_err *err)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; the type is checked before any read */
    int fd = open(open_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | flags);
    if (fd < 0)
        return rh_err_errno(err, "cannot open %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rh_err_errno(err, "cannot stat %s", path);
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return rh_err_set(err, "cannot read %s: it is %s; rehearse reads only regular files", path, kind_of(st.st_mode));
    }
    if ((unsigned long long)st.st_size > max) {
        close(fd);
        return rh_err_set(err, "cannot read %s: it is %lld bytes, over rehearse's limit of %zu MiB for this file",
                          path, (long long)st.st_size, max >> 20);
    }
    rh_buf b;
    rh_buf_init(&b);
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rh_err_errno(err, "cannot read %s", path);
            close(fd);
            rh_buf_free(&b);
            return -1;
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max) {   /* the file grew while being read */
            close(fd);
            rh_buf_free(&b);
            return rh_err_set(err, "cannot read %s: it grew over rehearse's limit of %zu MiB while being read", path,
                              max >> 20);
        }
        rh_buf_append(&b, chunk, (size_t)n);
    }
    close(fd);
    if (len)
        *len = b.len;
    *data = rh_buf_steal(&b);
    rh_buf_free(&b);
    return 0;
}

int rh_fs_read_max(const char *path, size_t max, char **data, size_t *len, rh_err *err)
{
    return read_regular(path, 0, path, max, data, len, err);
}

int rh_fs_read_tail(const char *path, size_t max, char **data, size_t *len, rh_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return rh_err_errno(err, "cannot open %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return rh_err_set(err, "cannot read %s: not a regular file", path);
    }
    off_t from = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
    char *buf = rh_xmalloc(max + 1);
    size_t got = 0;
    while (got < max) {
        ssize_t n = pread(fd, buf + got, max - got, from + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *data = buf;
    if (len)
        *len = got;
    return 0;
}

int rh_fs_read(const char *path, char **data, size_t *len, rh_err *err)
{
    return read_regular(path, 0, path, RH_FS_READ_MAX, data, len, err);
}

int rh_fs_inside(const char *path, const char *const *roots, size_t nroots, char **real)
{
    if (real)
        *real = NULL;
    char *r = realpath(path, NULL);
    if (!r)
        return -1;
    int inside = 0;
    for (size_t i = 0; i < nroots && !inside; i++) {
        char *root = realpath(roots[i], NULL);
        if (!root)
            continue;   /* a root that does not exist holds nothing */
        size_t n = strlen(root);
        if (n == 1)     /* "/" */
            n = 0;
        inside = strncmp(r, root, n) == 0 && (r[n] == '/' || r[n] == '\0');
        /* a repository's .git folder holds its config (CI tokens) and objects: never a file to read */
        for (const char *g = r + n; inside && (g = strstr(g, "/.git")) != NULL; g += 5)
            if (g[5] == '/' || g[5] == '\0')
                inside = 0;
        free(root);
    }
    if (inside && real)
        *real = r;
    else
        free(r);
    return inside;
}

char *rh_fs_git_toplevel(const char *dir)
{
    char *d = realpath(dir, NULL);
    if (!d)
        return NULL;
    for (;;) {
        char *dotgit = rh_xasprintf("%s/.git", strcmp(d, "/") == 0 ? "" : d);
        struct stat st;
        int found = lstat(dotgit, &st) == 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode));
        free(dotgit);
        if (found)
            return d;
        char *slash = strrchr(d, '/');
        if (!slash || slash == d) {   /* "/" itself is nobody's repository here */
            free(d);
            return NULL;
        }
        *slash = '\0';
    }
}

int rh_fs_read_inside(const char *path, const char *const *roots, size_t nroots, size_t max, char **data,
                      size_t *len, rh_err *err)
{
    char *real = NULL;
    int in = rh_fs_inside(path, roots, nroots, &real);
    if (in < 0)
        return rh_err_errno(err, "cannot open %s", path);
    if (!in) {
        char *r = realpath(path, NULL);
        rh_buf b;
        rh_buf_init(&b);
        for (size_t i = 0; i < nroots; i++)
            rh_buf_printf(&b, "%s%s", i ? (i + 1 == nroots ? " and " : ", ") : "", roots[i]);
        int same = r && strcmp(r, path) == 0;
        rh_err_set(err, "%s%s%s%s is outside %s: rehearse reads only files inside %s", path, same || !r ? "" : " (",
                   same || !r ? "" : r, same || !r ? "" : ")", nroots ? b.data : "every allowed folder",
                   nroots > 1 ? "them" : "it");
        rh_buf_free(&b);
        free(r);
        return -1;
    }
    /* the real path holds no link: O_NOFOLLOW keeps a link swapped in since from being followed */
    int rc = read_regular(real, O_NOFOLLOW, path, max, data, len, err);
    free(real);
    return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int rh_fs_write(const char *path, const void *data, size_t len, mode_t mode, rh_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return rh_err_errno(err, "cannot create %s", path);
    if (write_all(fd, data, len) < 0) {
        rh_err_errno(err, "cannot write %s", path);
        close(fd);
        return -1;
    }
    if (close(fd) < 0)
        return rh_err_errno(err, "cannot write %s", path);
    return 0;
}

int rh_fs_append(const char *path, const void *data, size_t len, rh_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return rh_err_errno(err, "cannot open %s", path);
    if (write_all(fd, data, len) < 0) {
        rh_err_errno(err, "cannot write %s", path);
        close(fd);
        return -1;
    }
    if (close(fd) < 0)
        return rh_err_errno(err, "cannot write %s", path);
    return 0;
}

int rh_fs_mkdir_p(const char *path, mode_t mode, rh_err *err)
{
    char *p = rh_xstrdup(path);
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char saved = *s;
            *s = '\0';
            if (mkdir(p, mode) < 0 && errno != EEXIST) {
                rh_err_errno(err, "cannot create directory %s", p);
                free(p);
                return -1;
            }
            *s = saved;
            if (saved == '\0')
                break;
        }
    }
    free(p);
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return rh_err_set(err, "%s exists and is not a directory", path);
    return 0;
}

/*
 * rm -rf, folder by folder on up to RM_WORKERS threads: the folders are listed first (each opened
 * without following a link), then each thread takes the next folder and removes its files, then the
 * folders go, deepest first. A cluster's stop waits for this (a deployed state's 2282 files); folders,
 * not files, are the unit: removals in one folder queue on its lock.
 */
#define RM_WORKERS 4

typedef struct rm_folder {
    int fd;     /* the folder */
    int parent; /* index of its parent in the plan; -1: the top (removed from AT_FDCWD) */
    char *name; /* its name in the parent */
} rm_folder;

typedef struct rm_plan {
    rm_folder *folders;
    size_t n, cap;
    const char *top;
    int failed; /* the first error is in err; the removal goes on (as rm -rf does) */
    rh_err err;
} rm_plan;

/* An error of the listing or of the folders' removal (one thread: the workers' come back through the pool). */
static void rm_failed(rm_plan *p, const rh_err *e)
{
    if (!p->failed) {
        p->failed = 1;
        p->err = *e;
    }
}

/* List folder fd (index self) and every folder below it. */
static void rm_plan_folders(rm_plan *p, size_t self)
{
    int lfd = openat(p->folders[self].fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = lfd < 0 ? NULL : fdopendir(lfd);
    rh_err e;
    if (!d) {
        if (lfd >= 0)
            close(lfd);
        rh_err_errno(&e, "cannot list %s (in %s)", p->folders[self].name, p->top);
        rm_failed(p, &e);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
            continue;
        int fd = openat(p->folders[self].fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            /* not a folder (a link, a file of unknown type), or gone: the file pass removes it */
            if (errno != ENOTDIR && errno != ELOOP && errno != ENOENT) {
                rh_err_errno(&e, "cannot open %s (in %s)", de->d_name, p->top);
                rm_failed(p, &e);
            }
            continue;
        }
        if (p->n == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 32;
            p->folders = rh_xrealloc(p->folders, p->cap * sizeof *p->folders);
        }
        size_t child = p->n++;
        p->folders[child] = (rm_folder){.fd = fd, .parent = (int)self, .name = rh_xstrdup(de->d_name)};
        rm_plan_folders(p, child);
    }
    closedir(d);
}

/* Remove everything in folder i of the plan but its folders (an item of rh_run_workers): on an error, the
   rest still goes, and the first error is returned. */
static int rm_folder_files(void *arg, size_t i, size_t slot, rh_err *err)
{
    (void)slot;
    const rm_plan *p = arg;
    const rm_folder *f = &p->folders[i];
    int lfd = openat(f->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = lfd < 0 ? NULL : fdopendir(lfd);
    if (!d) {
        if (lfd >= 0)
            close(lfd);
        return rh_err_errno(err, "cannot list %s (in %s)", f->name, p->top);
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_type == DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(f->fd, de->d_name, 0) == 0 || errno == ENOENT)
            continue;
        if (errno == EISDIR && de->d_type == DT_UNKNOWN)
            continue; /* a folder: listed by the plan, removed after its files */
        if (rc == 0)
            rc = rh_err_errno(err, "cannot remove %s (in %s)", de->d_name, p->top);
    }
    closedir(d);
    return rc;
}

int rh_fs_rmtree(const char *path, rh_err *err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return rh_err_errno(err, "cannot remove %s (in %s)", path, path);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) < 0 && errno != ENOENT)
            return rh_err_errno(err, "cannot remove %s (in %s)", path, path);
        return 0;
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return rh_err_errno(err, "cannot open %s (in %s)", path, path);
    rm_plan p = {.top = path};
    p.cap = 32;
    p.folders = rh_xcalloc(p.cap, sizeof *p.folders);
    p.folders[p.n++] = (rm_folder){.fd = fd, .parent = -1, .name = rh_xstrdup(path)};
    rm_plan_folders(&p, 0);
    rh_err files_err;
    if (rh_run_workers(rm_folder_files, &p, p.n, RM_WORKERS, 0, &files_err) < 0)
        rm_failed(&p, &files_err);
    /* the folders, deepest first: a folder is listed after its parent */
    for (size_t i = p.n; i-- > 0;) {
        rm_folder *f = &p.folders[i];
        int parent = f->parent < 0 ? AT_FDCWD : p.folders[f->parent].fd;
        if (unlinkat(parent, f->name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
            rh_err e;
            rh_err_errno(&e, "cannot remove directory %s (in %s)", f->name, path);
            rm_failed(&p, &e);
        }
    }
    for (size_t i = 0; i < p.n; i++) {
        close(p.folders[i].fd);
        free(p.folders[i].name);
    }
    free(p.folders);
    if (p.failed) {
        *err = p.err;
        return -1;
    }
    return 0;
}

/*
 * How the files of one tree copy are copied, learnt from the first ones: a way the two file systems
 * refuse (no reflinks; copy_file_range between file systems of different kinds, as from a cache on
 * disk into a run folder in /dev/shm) is not tried again for every file.
 */
typedef struct copy_how {
    int no_clone, no_range, no_sendfile;
} copy_how;

static int refused(int e)
{
    return e == EXDEV || e == ENOSYS || e == EINVAL || e == EOPNOTSUPP || e == ENOTTY;
}

/* Copy in the kernel: a reflink, else copy_file_range, else sendfile (one copy, not two through a
   buffer), until end-of-file or `size` bytes (the size the tree's listing saw: a copy is of a tree
   nothing writes, a stopped cluster or a cache entry, so the call that would only say end-of-file is
   saved). 1 done; 0 refused: the caller goes on with read/write from the file offsets (each way here
   moves both offsets alike); -1 error. */
static int copy_in_kernel(int in, int out, off_t size, copy_how *how)
{
    if (!how->no_clone) {
        if (ioctl(out, FICLONE, in) == 0)
            return 1;
        if (refused(errno))
            how->no_clone = 1;
    }
    int range = !how->no_range;
    off_t copied = 0;
    while (range || !how->no_sendfile) {
        ssize_t n = range ? copy_file_range(in, NULL, out, NULL, 1 << 30, 0) : sendfile(out, in, NULL, 1 << 30);
        if (n > 0 && (copied += n) >= size)
            return 1;
        if (n > 0)
            continue;
        if (n == 0)
            return 1;
        if (errno == EINTR)
            continue;
        if (!refused(errno))
            return -1;
        if (range) {
            how->no_range = 1;
            range = 0;
        } else {
            how->no_sendfile = 1;
        }
    }
    return 0;
}

static int copy_file(int sdir, int ddir, const char *name, const struct stat *st, uid_t uid, gid_t gid,
                     copy_how *how, rh_err *err)
{
    /* an empty file (a third of a data directory's: empty relations) is only created */
    int in = st->st_size == 0 ? -1 : openat(sdir, name, O_RDONLY | O_CLOEXEC);
    if (in < 0 && st->st_size != 0)
        return rh_err_errno(err, "cannot open %s for copying", name);
    int out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st->st_mode & 07777);
    if (out < 0) {
        if (in >= 0)
            close(in);
        return rh_err_errno(err, "cannot create %s", name);
    }
    int rc = 0;
    int done = in < 0 ? 1 : copy_in_kernel(in, out, st->st_size, how);
    if (done < 0) {
        rc = rh_err_errno(err, "cannot copy %s", name);
    } else if (!done) {
        char chunk[65536];
        ssize_t r;
        while ((r = read(in, chunk, sizeof chunk)) > 0)
            if (write_all(out, chunk, (size_t)r) < 0) {
                r = -1;
                break;
            }
        if (r < 0)
            rc = rh_err_errno(err, "cannot copy %s", name);
    }
    if (rc == 0 && uid != (uid_t)-1 && fchown(out, uid, gid) < 0)
        rc = rh_err_errno(err, "cannot change the owner of %s", name);
    if (in >= 0)
        close(in);
    if (close(out) < 0 && rc == 0)
        rc = rh_err_errno(err, "cannot write %s", name);
    return rc;
}

/*
 * A tree is copied folder by folder, by up to COPY_WORKERS threads (the caller's among them): the
 * folders are made first, in one pass, then each worker takes the next folder not yet taken and copies
 * its files. A data directory's bulk is a few database folders of similar size, so two cores copy it in
 * about half the time (a cluster's start waits for it). Folders, not files, are the unit: creating
 * files in one folder from two threads would only queue on that folder's lock.
 */
#define COPY_WORKERS 4

typedef struct copy_folder {
    int sfd, dfd;
    char *shown; /* its path below the tree's top, for errors ("" for the top) */
} copy_folder;

typedef struct copy_plan {
    copy_folder *folders;
    size_t n, cap;
    size_t first; /* the folders a run of the workers takes: [first, n) (later ones are at the end) */
    uid_t uid;
    gid_t gid;
    rh_fs_copy_filter filter; /* a copy: the later thread reads it after the caller's has gone */
    copy_how how[COPY_WORKERS]; /* each worker's: the way that works, learnt once per thread */
} copy_plan;

/* Make the folders below sdir in ddir (owned as asked) and list every folder, sdir's first. Takes sdir
   and ddir (closed with the plan). */
static int plan_folders(copy_plan *p, int sdir, int ddir, const char *shown, rh_err *err)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 32;
        p->folders = rh_xrealloc(p->folders, p->cap * sizeof *p->folders);
    }
    p->folders[p->n++] = (copy_folder){.sfd = sdir, .dfd = ddir, .shown = rh_xstrdup(shown)};
    /* a descriptor of its own: a dup would share the listing's offset with the copy's later listing */
    int sfd = openat(sdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = sfd < 0 ? NULL : fdopendir(sfd);
    if (!d) {
        if (sfd >= 0)
            close(sfd);
        return rh_err_errno(err, "cannot list directory %s", *shown ? shown : ".");
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
            continue;
        struct stat st;
        if (fstatat(sdir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = rh_err_errno(err, "cannot stat %s", e->d_name);
            break;
        }
        if (!S_ISDIR(st.st_mode))
            continue;
        char *sub = *shown ? rh_xasprintf("%s/%s", shown, e->d_name) : rh_xstrdup(e->d_name);
        if (mkdirat(ddir, e->d_name, st.st_mode & 07777) < 0)
            rc = rh_err_errno(err, "cannot create directory %s", sub);
        else if (p->uid != (uid_t)-1 && fchownat(ddir, e->d_name, p->uid, p->gid, AT_SYMLINK_NOFOLLOW) < 0)
            rc = rh_err_errno(err, "cannot change the owner of %s", sub);
        if (rc == 0) {
            int s2 = openat(sdir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            int d2 = openat(ddir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (s2 < 0 || d2 < 0) {
                rc = rh_err_errno(err, "cannot open directory %s", sub);
                if (s2 >= 0)
                    close(s2);
                if (d2 >= 0)
                    close(d2);
            } else {
                rc = plan_folders(p, s2, d2, sub, err);
            }
        }
        free(sub);
    }
    closedir(d);
    return rc;
}

/* Copy the files and links directly in one folder (its folders exist already). */
static int copy_folder_files(const copy_plan *p, const copy_folder *f, copy_how *how, rh_err *err)
{
    int sfd = openat(f->sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = sfd < 0 ? NULL : fdopendir(sfd);
    if (!d) {
        if (sfd >= 0)
            close(sfd);
        return rh_err_errno(err, "cannot list directory");
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_type == DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (p->filter.skip && p->filter.skip(f->shown, e->d_name))
            continue;
        struct stat st;
        if (fstatat(f->sfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = rh_err_errno(err, "cannot stat %s", e->d_name);
            break;
        }
        if (S_ISREG(st.st_mode)) {
            rc = copy_file(f->sfd, f->dfd, e->d_name, &st, p->uid, p->gid, how, err);
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = readlinkat(f->sfd, e->d_name, target, sizeof target - 1);
            if (n < 0) {
                rc = rh_err_errno(err, "cannot read link %s", e->d_name);
                break;
            }
            target[n] = '\0';
            if (symlinkat(target, f->dfd, e->d_name) < 0)
                rc = rh_err_errno(err, "cannot create link %s", e->d_name);
            else if (p->uid != (uid_t)-1 && fchownat(f->dfd, e->d_name, p->uid, p->gid, AT_SYMLINK_NOFOLLOW) < 0) {
                /* best effort: a link's own owner does not matter (access checks follow it) */
            }
        }
        /* folders were made by plan_folders; sockets, fifos and devices are not part of a data
           directory: skipped */
    }
    closedir(d);
    return rc;
}

/* Folder i of the plan, on worker slot (an item of rh_run_workers). */
static int copy_item(void *arg, size_t i, size_t slot, rh_err *err)
{
    copy_plan *p = arg;
    assert(slot < COPY_WORKERS && p->first + i < p->n);
    const copy_folder *f = &p->folders[p->first + i];
    if (copy_folder_files(p, f, &p->how[slot], err) == 0)
        return 0;
    if (*f->shown)
        rh_err_prefix(err, "%s", f->shown);
    return -1;
}

static void plan_free(copy_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        close(p->folders[i].sfd);
        close(p->folders[i].dfd);
        free(p->folders[i].shown);
    }
    free(p->folders);
}

/* Order the folders by the stage the filter gives them (0 now, then 1, then 2), each stage in the order
   listed; ends[k]: the end of stage k's folders. */
static void plan_split(copy_plan *p, size_t ends[RH_FS_COPY_STAGES + 1])
{
    copy_folder *sorted = rh_xcalloc(p->n ? p->n : 1, sizeof *sorted);
    size_t k = 0;
    for (int stage = 0; stage <= RH_FS_COPY_STAGES; stage++) {
        for (size_t i = 0; i < p->n; i++) {
            int want = p->filter.later ? p->filter.later(p->folders[i].shown) : 0;
            assert(want >= 0 && want <= RH_FS_COPY_STAGES);
            if (want == stage)
                sorted[k++] = p->folders[i];
        }
        ends[stage] = k;
    }
    assert(k == p->n);
    memcpy(p->folders, sorted, k * sizeof *sorted);
    free(sorted);
}

/* The folders left for later, copied on a thread of their own while the caller goes on, stage by stage. */
struct rh_fs_copy {
    copy_plan plan;
    size_t ends[RH_FS_COPY_STAGES + 1];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;  /* under mu: the last stage whose folders are all copied (or failed) */
    int rc;    /* under mu: -1 once a stage failed (err: its error); no later stage is copied */
    rh_err err;
    char *shown; /* "copying SRC to DST", for its errors */
};

static void *copy_later(void *arg)
{
    rh_fs_copy *c = arg;
    int rc = 0;
    rh_err e;
    for (int stage = 1; stage <= RH_FS_COPY_STAGES; stage++) {
        copy_plan view = c->plan; /* this stage's folders: [ends[stage - 1], ends[stage]) */
        view.first = c->ends[stage - 1];
        view.n = c->ends[stage];
        if (rc == 0 && view.n > view.first)
            rc = rh_run_workers(copy_item, &view, view.n - view.first, COPY_WORKERS, 1, &e);
        memcpy(c->plan.how, view.how, sizeof view.how);
        pthread_mutex_lock(&c->mu);
        if (rc < 0 && c->rc == 0) {
            c->rc = -1;
            c->err = e;
        }
        c->done = stage;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
    return NULL;
}

/* Copy sdir's tree into ddir (both open; neither closed here); with *later (filter->later), the folders it
   names are copied on a thread that *later stands for (NULL when there are none). */
static int copytree_fd(int sdir, int ddir, uid_t uid, gid_t gid, copy_how how, const rh_fs_copy_filter *filter,
                       rh_fs_copy **later, const char *shown, rh_err *err)
{
    copy_plan p = {.uid = uid, .gid = gid};
    if (filter)
        p.filter = *filter;
    for (size_t i = 0; i < COPY_WORKERS; i++)
        p.how[i] = how;
    /* close-on-exec: the later folders' copy holds these while other threads start programs */
    int s = fcntl(sdir, F_DUPFD_CLOEXEC, 0), d = s < 0 ? -1 : fcntl(ddir, F_DUPFD_CLOEXEC, 0);
    int rc = 0;
    if (s < 0 || d < 0) {
        rc = rh_err_errno(err, "dup");
        if (s >= 0)
            close(s);
    } else {
        rc = plan_folders(&p, s, d, "", err);
    }
    size_t ends[RH_FS_COPY_STAGES + 1] = {0};
    if (rc == 0 && later)
        plan_split(&p, ends);
    size_t now = rc == 0 && later ? ends[0] : p.n;
    if (rc == 0) {
        copy_plan head = p; /* the folders copied now: [0, now) */
        head.n = now;
        rc = rh_run_workers(copy_item, &head, now, COPY_WORKERS, 1, err);
        memcpy(p.how, head.how, sizeof p.how);
    }
    if (rc == 0 && now < p.n) {
        rh_fs_copy *c = rh_xcalloc(1, sizeof *c);
        c->plan = p;
        memcpy(c->ends, ends, sizeof ends);
        c->shown = rh_xstrdup(shown);
        pthread_mutex_init(&c->mu, NULL);
        pthread_cond_init(&c->cv, NULL);
        int e = pthread_create(&c->thread, NULL, copy_later, c);
        if (e == 0) {
            *later = c;
            return 0;
        }
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        free(c->shown);
        free(c);
        /* no thread: copied here and now */
        p.first = now;
        rc = rh_run_workers(copy_item, &p, p.n - now, COPY_WORKERS, 1, err);
    }
    plan_free(&p);
    return rc;
}

static int copytree_how(const char *src, const char *dst, uid_t uid, gid_t gid, copy_how how,
                        const rh_fs_copy_filter *filter, rh_fs_copy **later, rh_err *err)
{
    if (later)
        *later = NULL;
    struct stat st;
    if (stat(src, &st) < 0)
        return rh_err_errno(err, "cannot copy %s", src);
    if (mkdir(dst, st.st_mode & 07777) < 0)
        return rh_err_errno(err, "cannot create directory %s", dst);
    if (uid != (uid_t)-1 && chown(dst, uid, gid) < 0)
        return rh_err_errno(err, "cannot change the owner of %s", dst);
    int s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int d = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char *shown = rh_xasprintf("copying %s to %s", src, dst);
    int rc = 0;
    if (s < 0 || d < 0)
        rc = rh_err_errno(err, "cannot open %s or %s", src, dst);
    else if (copytree_fd(s, d, uid, gid, how, filter, later, shown, err) < 0)
        rc = rh_err_prefix(err, "%s", shown);
    free(shown);
    if (s >= 0)
        close(s);
    if (d >= 0)
        close(d);
    return rc;
}

int rh_fs_copytree(const char *src, const char *dst, uid_t uid, gid_t gid, rh_err *err)
{
    return copytree_how(src, dst, uid, gid, (copy_how){0}, NULL, NULL, err);
}

int rh_fs_copytree_start(const char *src, const char *dst, uid_t uid, gid_t gid, const rh_fs_copy_filter *filter,
                         rh_fs_copy **later, rh_err *err)
{
    assert(later);
    return copytree_how(src, dst, uid, gid, (copy_how){0}, filter, later, err);
}

int rh_fs_copy_wait(rh_fs_copy *later, int stage, rh_err *err)
{
    if (!later)
        return 0;
    assert(stage >= 1 && stage <= RH_FS_COPY_STAGES);
    pthread_mutex_lock(&later->mu);
    while (later->done < stage && later->rc == 0)
        pthread_cond_wait(&later->cv, &later->mu);
    int rc = later->rc;
    if (rc < 0) {
        *err = later->err;
        rh_err_prefix(err, "%s", later->shown);
    }
    pthread_mutex_unlock(&later->mu);
    return rc;
}

int rh_fs_copy_finish(rh_fs_copy *later, rh_err *err)
{
    if (!later)
        return 0;
    pthread_join(later->thread, NULL);
    int rc = later->rc;
    if (rc < 0) {
        *err = later->err;
        rh_err_prefix(err, "%s", later->shown);
    }
    pthread_cond_destroy(&later->cv);
    pthread_mutex_destroy(&later->mu);
    plan_free(&later->plan);
    free(later->shown);
    free(later);
    return rc;
}

int rh_fs_copytree_plain(const char *src, const char *dst, uid_t uid, gid_t gid, rh_err *err)
{
    return copytree_how(src, dst, uid, gid, (copy_how){.no_clone = 1, .no_range = 1, .no_sendfile = 1}, NULL, NULL, err);
}

int rh_fs_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int sync_fd_tree(int dirfd, const char *shown, rh_err *err)
{
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return rh_err_errno(err, "cannot list %s", shown);
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* gone meanwhile: nothing to sync */
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
            continue;
        int sub = openat(dirfd, e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
        if (sub < 0) {
            rc = rh_err_errno(err, "cannot open %s/%s", shown, e->d_name);
            break;
        }
        if (S_ISDIR(st.st_mode))
            rc = sync_fd_tree(sub, e->d_name, err);
        else if (fsync(sub) < 0)
            rc = rh_err_errno(err, "cannot fsync %s/%s", shown, e->d_name);
        close(sub);
    }
    closedir(d);
    if (rc == 0 && fsync(dirfd) < 0 && errno != EINVAL)
        rc = rh_err_errno(err, "cannot fsync %s", shown);
    return rc;
}

int rh_fs_sync_tree(const char *path, rh_err *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return rh_err_errno(err, "cannot open %s", path);
    int rc = sync_fd_tree(fd, path, err);
    close(fd);
    return rc;
}

static unsigned long long tree_bytes_fd(int dirfd)
{
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    unsigned long long total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        total += (unsigned long long)st.st_blocks * 512ULL;
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
            if (sub >= 0) {
                total += tree_bytes_fd(sub);
                close(sub);
            }
        }
    }
    closedir(d);
    return total;
}

unsigned long long rh_fs_tree_bytes(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    unsigned long long total = tree_bytes_fd(fd);
    close(fd);
    return total;
}
