/*
 * test_fs.c — the one reader of given files (issue 17.9) and confinement (issues 17.4, 17.5):
 * special files and oversized files are refused without reading; a log tail reads only the end;
 * a path is inside a root only when its real path is, never through a .git folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/fs_int.h"

static const char *tdir;   /* this test's folder (rh_test_tmpdir makes a new one per call) */

static char *at(const char *name)
{
    return rh_xasprintf("%s/%s", tdir, name);
}

static void refused(const char *path, const char *want)
{
    char *data = NULL;
    size_t len = 0;
    rh_err err;
    if (rh_fs_read(path, &data, &len, &err) == 0)
        fail_msg("%s was read (%zu bytes)", path, len);
    if (!strstr(err.msg, want))
        fail_msg("%s: '%s' lacks '%s'", path, err.msg, want);
    assert_null(data);
}

static void test_special_files_are_refused(void **state)
{
    (void)state;
    tdir = rh_test_tmpdir();
    char *fifo = at("fifo"), *dir = at("dir"), *big = at("big");
    assert_int_equal(mkfifo(fifo, 0600), 0);   /* no writer: an ordinary open would block forever */
    assert_int_equal(mkdir(dir, 0700), 0);
    int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)RH_FS_READ_MAX + 1), 0);
    close(fd);
    refused(fifo, "a FIFO (named pipe)");
    refused(dir, "a directory");
    refused("/dev/zero", "a character device");
    refused(big, "16777217 bytes, over rehearse's limit of 16 MiB");
    /* a migration may be larger */
    char *data;
    size_t len;
    rh_err err;
    assert_int_equal(rh_fs_read_max(big, RH_FS_MIGRATION_MAX, &data, &len, &err), 0);
    assert_int_equal(len, RH_FS_READ_MAX + 1);
    free(data);
    free(fifo);
    free(dir);
    free(big);
}

static void test_tail_reads_only_the_end(void **state)
{
    (void)state;
    tdir = rh_test_tmpdir();
    char *log = at("server.log");
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)RH_FS_READ_MAX * 2), 0);   /* a log over the reader's limit */
    assert_int_equal(pwrite(fd, "last line\n", 10, (off_t)RH_FS_READ_MAX * 2), 10);
    close(fd);
    char *data;
    size_t len;
    rh_err err;
    assert_int_equal(rh_fs_read_tail(log, 4096, &data, &len, &err), 0);
    assert_int_equal(len, 4096);
    assert_string_equal(data + len - 10, "last line\n");
    free(data);
    free(log);
}

static void test_inside(void **state)
{
    (void)state;
    tdir = rh_test_tmpdir();
    char *root = at("root"), *rootx = at("rootx"), *secret = at("rootx/secret"), *in = at("root/in.sql");
    char *link_out = at("root/out.sql"), *link_in = at("root/in-link.sql"), *git = at("root/.git");
    char *gitcfg = at("root/.git/config"), *gitish = at("root/.github");
    assert_int_equal(mkdir(root, 0700), 0);
    assert_int_equal(mkdir(rootx, 0700), 0);   /* shares root's prefix: not inside it */
    assert_int_equal(mkdir(git, 0700), 0);
    assert_int_equal(mkdir(gitish, 0700), 0);
    rh_err err;
    assert_int_equal(rh_fs_write(secret, "TOPSECRET\n", 10, 0600, &err), 0);
    assert_int_equal(rh_fs_write(in, "select 1;\n", 10, 0600, &err), 0);
    assert_int_equal(rh_fs_write(gitcfg, "token\n", 6, 0600, &err), 0);
    assert_int_equal(symlink(secret, link_out), 0);
    assert_int_equal(symlink("in.sql", link_in), 0);
    const char *roots[] = {root};
    assert_int_equal(rh_fs_inside(in, roots, 1, NULL), 1);
    assert_int_equal(rh_fs_inside(link_in, roots, 1, NULL), 1);
    assert_int_equal(rh_fs_inside(root, roots, 1, NULL), 1);
    assert_int_equal(rh_fs_inside(gitish, roots, 1, NULL), 1);   /* .github is not .git */
    assert_int_equal(rh_fs_inside(secret, roots, 1, NULL), 0);
    assert_int_equal(rh_fs_inside(link_out, roots, 1, NULL), 0);
    assert_int_equal(rh_fs_inside(gitcfg, roots, 1, NULL), 0);
    assert_int_equal(rh_fs_inside(git, roots, 1, NULL), 0);
    char *absent = at("root/absent");
    assert_int_equal(rh_fs_inside(absent, roots, 1, NULL), -1);
    free(absent);
    const char *slash[] = {"/"};
    assert_int_equal(rh_fs_inside(secret, slash, 1, NULL), 1);

    char *data = NULL;
    size_t len;
    assert_int_equal(rh_fs_read_inside(link_out, roots, 1, RH_FS_READ_MAX, &data, &len, &err), -1);
    assert_null(data);
    assert_non_null(strstr(err.msg, "out.sql ("));
    assert_non_null(strstr(err.msg, "rootx/secret) is outside"));
    assert_null(strstr(err.msg, "TOPSECRET"));
    assert_int_equal(rh_fs_read_inside(link_in, roots, 1, RH_FS_READ_MAX, &data, &len, &err), 0);
    assert_string_equal(data, "select 1;\n");
    free(data);

    /* the git work tree holding a folder */
    char *top = rh_fs_git_toplevel(gitish);
    char *realroot = realpath(root, NULL);
    assert_non_null(top);
    assert_string_equal(top, realroot);
    free(top);
    free(realroot);
    assert_null(rh_fs_git_toplevel(rootx));
    free(root);
    free(rootx);
    free(secret);
    free(in);
    free(link_out);
    free(link_in);
    free(git);
    free(gitcfg);
    free(gitish);
}

/* One file of `size` bytes whose content depends on its name and offset. */
static void write_patterned(const char *path, size_t size, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    assert_true(fd >= 0);
    unsigned char block[4096];
    for (size_t off = 0; off < size;) {
        size_t n = size - off < sizeof block ? size - off : sizeof block;
        for (size_t i = 0; i < n; i++)
            block[i] = (unsigned char)((off + i) * 31 + strlen(path));
        assert_int_equal(write(fd, block, n), (ssize_t)n);
        off += n;
    }
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void assert_same_file(const char *a, const char *b)
{
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    rh_err err;
    assert_int_equal(rh_fs_read(a, &x, &nx, &err), 0);
    assert_int_equal(rh_fs_read(b, &y, &ny, &err), 0);
    assert_int_equal(nx, ny);
    assert_memory_equal(x, y, nx);
    struct stat sa, sb;
    assert_int_equal(stat(a, &sa), 0);
    assert_int_equal(stat(b, &sb), 0);
    assert_int_equal(sa.st_mode, sb.st_mode);
    free(x);
    free(y);
}

/* rh_fs_copytree copies every byte and mode, within one file system and from one into another (a
   cache on disk into a run folder in /dev/shm: reflinks and copy_file_range refused, the way that
   works remembered for the rest of the tree), and with read/write where the kernel refuses every way
   (rh_fs_copytree_plain: no file system here does), empty and multi-block files alike. */
static void test_copytree_within_and_across_file_systems(void **state)
{
    (void)state;
    tdir = rh_test_tmpdir();
    static const struct { const char *name; size_t size; mode_t mode; } files[] = {
        {"empty", 0, 0600}, {"one", 1, 0644}, {"sub/page", 8192, 0600}, {"sub/odd", 65537, 0640},
        {"sub/deeper/big", 3 * 1024 * 1024 + 5, 0600},
    };
    char *src = at("src");
    char *sub = rh_xasprintf("%s/sub/deeper", src);
    rh_err err;
    assert_int_equal(rh_fs_mkdir_p(sub, 0700, &err), 0);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char *p = rh_xasprintf("%s/%s", src, files[i].name);
        write_patterned(p, files[i].size, files[i].mode);
        free(p);
    }
    char shm[] = "/dev/shm/rehearse-test-fs-XXXXXX";
    char *targets[3] = {at("copy"), at("plain"), NULL};
    if (mkdtemp(shm))
        targets[2] = rh_xasprintf("%s/copy", shm);
    for (int t = 0; t < 3 && targets[t]; t++) {
        int rc = t == 1 ? rh_fs_copytree_plain(src, targets[t], (uid_t)-1, (gid_t)-1, &err)
                        : rh_fs_copytree(src, targets[t], (uid_t)-1, (gid_t)-1, &err);
        if (rc < 0)
            fail_msg("copy to %s: %s", targets[t], err.msg);
        for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
            char *a = rh_xasprintf("%s/%s", src, files[i].name), *b = rh_xasprintf("%s/%s", targets[t], files[i].name);
            assert_same_file(a, b);
            free(a);
            free(b);
        }
        free(targets[t]);
    }
    if (targets[2])
        assert_int_equal(rh_fs_rmtree(shm, &err), 0);
    free(sub);
    free(src);
}

/* A data directory's shape: several database folders, copied by more than one thread (folder by
   folder), a link kept as a link, and, as root (preparing a cluster for the server's account), every
   folder, file and the top owned by the account asked for. */
static void test_copytree_of_many_folders_keeps_every_file_and_owner(void **state)
{
    (void)state;
    tdir = rh_test_tmpdir();
    char *src = at("src");
    rh_err err;
    enum { FOLDERS = 9, FILES = 7 };
    for (int f = 0; f < FOLDERS; f++)
        for (int i = 0; i < FILES; i++) {
            char *dir = rh_xasprintf("%s/base/%d", src, 16384 + f);
            assert_int_equal(rh_fs_mkdir_p(dir, 0700, &err), 0);
            char *p = rh_xasprintf("%s/%d%s", dir, 1000 + i, i % 3 ? "" : "_fsm");
            write_patterned(p, (size_t)(f * 4099 + i * 8192), 0600);
            free(p);
            free(dir);
        }
    char *top = rh_xasprintf("%s/PG_VERSION", src), *link = rh_xasprintf("%s/pg_link", src);
    write_patterned(top, 3, 0600);
    assert_int_equal(symlink("base/16384", link), 0);
    struct passwd *nobody = geteuid() == 0 ? getpwnam("nobody") : NULL;
    uid_t uid = nobody ? nobody->pw_uid : (uid_t)-1;
    gid_t gid = nobody ? nobody->pw_gid : (gid_t)-1;
    char *dst = at("copy");
    if (rh_fs_copytree(src, dst, uid, gid, &err) < 0)
        fail_msg("copy: %s", err.msg);
    for (int f = 0; f < FOLDERS; f++)
        for (int i = 0; i < FILES; i++) {
            char *a = rh_xasprintf("%s/base/%d/%d%s", src, 16384 + f, 1000 + i, i % 3 ? "" : "_fsm");
            char *b = rh_xasprintf("%s/base/%d/%d%s", dst, 16384 + f, 1000 + i, i % 3 ? "" : "_fsm");
            assert_same_file(a, b);
            struct stat st;
            assert_int_equal(stat(b, &st), 0);
            if (nobody)
                assert_int_equal(st.st_uid, uid);
            char *dir = rh_xasprintf("%s/base/%d", dst, 16384 + f);
            assert_int_equal(stat(dir, &st), 0);
            if (nobody)
                assert_int_equal(st.st_uid, uid);
            free(dir);
            free(a);
            free(b);
        }
    char target[64];
    char *dlink = rh_xasprintf("%s/pg_link", dst);
    ssize_t n = readlink(dlink, target, sizeof target - 1);
    assert_int_equal(n, (ssize_t)strlen("base/16384"));
    target[n] = '\0';
    assert_string_equal(target, "base/16384");
    struct stat st;
    assert_int_equal(stat(dst, &st), 0);
    if (nobody)
        assert_int_equal(st.st_uid, uid);
    char *dtop = rh_xasprintf("%s/PG_VERSION", dst);
    assert_same_file(top, dtop);
    free(dtop);
    free(dlink);
    free(dst);
    free(link);
    free(top);
    free(src);
}

static int later_is_16384(const char *folder)
{
    return strcmp(folder, "base/16384") == 0;
}

/* base/1 in stage 1, base/16384 in stage 2, the rest now */
static int stage_of(const char *folder)
{
    return strcmp(folder, "base/16384") == 0 ? 2 : strcmp(folder, "base/1") == 0 ? 1 : 0;
}

static int skip_init(const char *folder, const char *name)
{
    (void)folder;
    return strcmp(name, "skip.init") == 0;
}

/* rh_fs_copytree_start (a cluster's start): on return every folder exists and every file but those of the
   folders left for later is there; rh_fs_copy_wait(1) brings stage 1's, rh_fs_copy_finish the rest, byte
   for byte; a file the filter skips is copied nowhere; with nothing left for later nothing runs on. */
static void test_copytree_start_leaves_named_folders_for_later(void **state)
{
    (void)state;
    tdir = rh_test_tmpdir();
    char *src = at("src");
    rh_err err;
    static const char *const now[] = {"PG_VERSION", "global/1260", "global/empty", "pg_wal/000000010000000000000001"};
    static const char *const first[] = {"base/1/1259", "base/1/empty"};
    static const char *const later[] = {"base/16384/2619", "base/16384/2619_fsm", "base/16384/16390", "base/16384/zero"};
    static const char *const skipped[] = {"global/skip.init", "base/1/skip.init", "base/16384/skip.init"};
    const char *const *lists[] = {now, later, skipped, first};
    for (int l = 0; l < 4; l++)
        for (int i = 0; i < (l == 2 ? 3 : l == 3 ? 2 : 4); i++) {
            char *p = rh_xasprintf("%s/%s", src, lists[l][i]);
            char *dir = rh_xstrdup(p);
            *strrchr(dir, '/') = '\0';
            assert_int_equal(rh_fs_mkdir_p(dir, 0700, &err), 0);
            write_patterned(p, strstr(p, "empty") || strstr(p, "zero") ? 0 : (size_t)(i * 70001 + 8192), 0600);
            free(dir);
            free(p);
        }
    rh_fs_copy_filter filter = {.later = stage_of, .skip = skip_init};
    for (int round = 0; round < 2; round++) { /* round 1: no folder left for later */
        char *dst = at(round ? "copy-whole" : "copy");
        rh_fs_copy *rest = (rh_fs_copy *)&err; /* must be set */
        rh_fs_copy_filter f = filter;
        if (round)
            f.later = NULL;
        if (rh_fs_copytree_start(src, dst, (uid_t)-1, (gid_t)-1, &f, &rest, &err) < 0)
            fail_msg("copy: %s", err.msg);
        for (int i = 0; i < 4; i++) {
            char *a = rh_xasprintf("%s/%s", src, now[i]), *b = rh_xasprintf("%s/%s", dst, now[i]);
            assert_same_file(a, b);
            free(a);
            free(b);
        }
        char *ldir = rh_xasprintf("%s/base/16384", dst);
        struct stat st;
        assert_int_equal(stat(ldir, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        free(ldir);
        if (round)
            assert_null(rest);
        assert_int_equal(rh_fs_copy_wait(rest, 1, &err), 0);
        for (int i = 0; i < 2; i++) {
            char *a = rh_xasprintf("%s/%s", src, first[i]), *b = rh_xasprintf("%s/%s", dst, first[i]);
            assert_same_file(a, b);
            free(a);
            free(b);
        }
        assert_int_equal(rh_fs_copy_wait(rest, 2, &err), 0);
        assert_int_equal(rh_fs_copy_finish(rest, &err), 0);
        for (int i = 0; i < 4; i++) {
            char *a = rh_xasprintf("%s/%s", src, later[i]), *b = rh_xasprintf("%s/%s", dst, later[i]);
            assert_same_file(a, b);
            free(a);
            free(b);
        }
        for (int i = 0; i < 3; i++) {
            char *b = rh_xasprintf("%s/%s", dst, skipped[i]);
            assert_int_equal(lstat(b, &st), -1);
            free(b);
        }
        free(dst);
    }
    assert_int_equal(rh_fs_copy_finish(NULL, &err), 0);
    free(src);
}

/* skip for the later folder's files (the copy's own thread) waits until the caller's frame is gone */
static int gate_open;

static int skip_after_the_gate(const char *folder, const char *name)
{
    if (folder && strcmp(folder, "base/16384") == 0)
        while (!__atomic_load_n(&gate_open, __ATOMIC_ACQUIRE))
            sched_yield();
    return strncmp(name, "skip", 4) == 0;
}

/* A caller whose filter lives in its own frame, gone when the copy's thread goes on. */
static __attribute__((noinline)) rh_fs_copy *start_with_a_filter_of_this_frame(const char *src, const char *dst)
{
    rh_fs_copy_filter f = {.later = later_is_16384, .skip = skip_after_the_gate};
    rh_fs_copy *rest = NULL;
    rh_err err;
    if (rh_fs_copytree_start(src, dst, (uid_t)-1, (gid_t)-1, &f, &rest, &err) < 0)
        fail_msg("copy: %s", err.msg);
    return rest;
}

static __attribute__((noinline)) void overwrite_the_stack(void)
{
    volatile char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0;
}

/* The later thread reads the filter after rh_fs_copytree_start returned: it must be its own copy. Before,
   it kept the caller's pointer (cluster.c's filter was a local of a returned function: ASan's
   stack-use-after-scope in a check's fork), so with that frame overwritten the skip was NULL and the
   skipped files were copied. */
static void test_copytree_start_keeps_its_own_filter(void **state)
{
    (void)state;
    tdir = rh_test_tmpdir();
    char *src = at("src-gate"), *dst = at("copy-gate");
    rh_err err;
    char *dir = rh_xasprintf("%s/base/16384", src);
    assert_int_equal(rh_fs_mkdir_p(dir, 0700, &err), 0);
    for (int i = 0; i < 8; i++) {
        char *a = rh_xasprintf("%s/%s_%d", dir, i % 2 ? "skip" : "keep", i);
        write_patterned(a, 100, 0600);
        free(a);
    }
    __atomic_store_n(&gate_open, 0, __ATOMIC_RELEASE);
    rh_fs_copy *rest = start_with_a_filter_of_this_frame(src, dst);
    assert_non_null(rest);
    overwrite_the_stack();
    __atomic_store_n(&gate_open, 1, __ATOMIC_RELEASE);
    assert_int_equal(rh_fs_copy_finish(rest, &err), 0);
    for (int i = 0; i < 8; i++) {
        char *b = rh_xasprintf("%s/base/16384/%s_%d", dst, i % 2 ? "skip" : "keep", i);
        struct stat st;
        assert_int_equal(lstat(b, &st) == 0, i % 2 == 0);
        free(b);
    }
    free(dir);
    free(src);
    free(dst);
}

/* Descriptors >= 3 open without FD_CLOEXEC, as a bit set of their numbers (below 1024). */
static void inheritable_fds(unsigned char set[128])
{
    memset(set, 0, 128);
    for (int fd = 3; fd < 1024; fd++) {
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0 && !(fl & FD_CLOEXEC))
            set[fd / 8] |= (unsigned char)(1u << (fd % 8));
    }
}

/* While the later folders copy (a server start, other threads' forks: a check's twins, a tool's command),
   the copy holds only close-on-exec descriptors: a program another thread executes meanwhile inherits none
   of the data directories. Before, the tree's two top folders were dup()ed without it. */
static void test_copytree_start_leaves_no_inheritable_descriptor(void **state)
{
    (void)state;
    tdir = rh_test_tmpdir();
    char *src = at("src-cloexec"), *dst = at("copy-cloexec");
    rh_err err;
    char *dir = rh_xasprintf("%s/base/16384", src);
    assert_int_equal(rh_fs_mkdir_p(dir, 0700, &err), 0);
    char *a = rh_xasprintf("%s/keep_0", dir);
    write_patterned(a, 100, 0600);
    unsigned char before[128], during[128];
    inheritable_fds(before);
    __atomic_store_n(&gate_open, 0, __ATOMIC_RELEASE); /* the later copy waits: its descriptors stay open */
    rh_fs_copy *rest = start_with_a_filter_of_this_frame(src, dst);
    assert_non_null(rest);
    inheritable_fds(during);
    __atomic_store_n(&gate_open, 1, __ATOMIC_RELEASE);
    assert_int_equal(rh_fs_copy_finish(rest, &err), 0);
    for (int fd = 3; fd < 1024; fd++)
        if ((during[fd / 8] & ~before[fd / 8]) & (1u << (fd % 8)))
            fail_msg("descriptor %d of the running copy is inherited by exec", fd);
    free(a);
    free(dir);
    free(src);
    free(dst);
}

/* rm -rf of a tree of many folders (removed on several threads): everything goes, a link inside goes
   without what it points at (a folder outside keeps its files), a link given as the path is removed
   itself, a missing path is fine. */
static void test_rmtree_removes_all_and_follows_no_link(void **state)
{
    (void)state;
    tdir = rh_test_tmpdir();
    char *tree = at("tree"), *outside = at("outside");
    rh_err err;
    assert_int_equal(rh_fs_mkdir_p(outside, 0700, &err), 0);
    char *kept = rh_xasprintf("%s/kept", outside);
    write_patterned(kept, 100, 0600);
    for (int f = 0; f < 9; f++)
        for (int i = 0; i < 5; i++) {
            char *dir = rh_xasprintf("%s/base/%d/sub%d", tree, f, i % 2);
            assert_int_equal(rh_fs_mkdir_p(dir, 0700, &err), 0);
            char *p = rh_xasprintf("%s/file%d", dir, i);
            write_patterned(p, (size_t)(i * 5000), 0400);
            free(p);
            free(dir);
        }
    char *empty = rh_xasprintf("%s/empty/deeper", tree);
    assert_int_equal(rh_fs_mkdir_p(empty, 0700, &err), 0);
    char *link_dir = rh_xasprintf("%s/base/3/to_outside", tree), *link_file = rh_xasprintf("%s/to_kept", tree);
    assert_int_equal(symlink(outside, link_dir), 0);
    assert_int_equal(symlink(kept, link_file), 0);
    if (rh_fs_rmtree(tree, &err) < 0)
        fail_msg("rmtree: %s", err.msg);
    struct stat st;
    assert_int_equal(lstat(tree, &st), -1);
    assert_int_equal(stat(kept, &st), 0);
    assert_int_equal(st.st_size, 100);
    /* a missing path; a link as the path */
    assert_int_equal(rh_fs_rmtree(tree, &err), 0);
    char *top_link = at("top_link");
    assert_int_equal(symlink(outside, top_link), 0);
    assert_int_equal(rh_fs_rmtree(top_link, &err), 0);
    assert_int_equal(lstat(top_link, &st), -1);
    assert_int_equal(stat(kept, &st), 0);
    assert_int_equal(rh_fs_rmtree(outside, &err), 0);
    assert_int_equal(lstat(outside, &st), -1);
    free(top_link);
    free(link_dir);
    free(link_file);
    free(empty);
    free(kept);
    free(outside);
    free(tree);
}

/* Set or clear a file's immutable flag (root: unlink then fails with EPERM); 0 when the file system or the
   process cannot. */
static int set_immutable(const char *path, int on)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int flags = 0, ok = fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
    flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
    ok = ok && ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* rm -rf goes on past a file it cannot remove, in every folder the workers take, and says so: one file kept
   in each of 9 folders (immutable), everything else gone, the error names a kept file. The threads' part (a
   helper's error comes back) is test_workers'; this is what the removal promises on top of it. */
static void test_rmtree_goes_on_past_errors_and_reports_one(void **state)
{
    (void)state;
    tdir = rh_test_tmpdir();
    char *tree = at("tree");
    rh_err err;
    enum { FOLDERS = 9, FILES = 4 };
    char *kept[FOLDERS];
    for (int f = 0; f < FOLDERS; f++) {
        for (int i = 0; i < FILES; i++) {
            char *dir = rh_xasprintf("%s/base/%d", tree, f);
            assert_int_equal(rh_fs_mkdir_p(dir, 0700, &err), 0);
            char *p = rh_xasprintf("%s/file%d", dir, i);
            write_patterned(p, (size_t)(i * 100), 0600);
            free(p);
            free(dir);
        }
        kept[f] = rh_xasprintf("%s/base/%d/file0", tree, f);
        if (!set_immutable(kept[f], 1)) {
            for (int k = 0; k < f; k++)
                set_immutable(kept[k], 0);
            for (int k = 0; k <= f; k++)
                free(kept[k]);
            assert_int_equal(rh_fs_rmtree(tree, &err), 0);
            free(tree);
            skip(); /* no immutable flag here (file system or capability) */
        }
    }
    int rc = rh_fs_rmtree(tree, &err);
    int kept_all = 1, gone_all = 1, cleared = 1; /* the flags are cleared before any assertion can stop the test */
    for (int f = 0; f < FOLDERS; f++) {
        struct stat st;
        kept_all &= stat(kept[f], &st) == 0;
        for (int i = 1; i < FILES; i++) {
            char *p = rh_xasprintf("%s/base/%d/file%d", tree, f, i);
            gone_all &= lstat(p, &st) == -1 && errno == ENOENT;
            free(p);
        }
        cleared &= set_immutable(kept[f], 0);
        free(kept[f]);
    }
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err.msg, "cannot remove file0"));
    assert_true(kept_all);
    assert_true(gone_all);
    assert_true(cleared);
    assert_int_equal(rh_fs_rmtree(tree, &err), 0);
    free(tree);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_special_files_are_refused),
        cmocka_unit_test(test_tail_reads_only_the_end),
        cmocka_unit_test(test_inside),
        cmocka_unit_test(test_copytree_within_and_across_file_systems),
        cmocka_unit_test(test_copytree_of_many_folders_keeps_every_file_and_owner),
        cmocka_unit_test(test_copytree_start_leaves_named_folders_for_later),
        cmocka_unit_test(test_copytree_start_keeps_its_own_filter),
        cmocka_unit_test(test_copytree_start_leaves_no_inheritable_descriptor),
        cmocka_unit_test(test_rmtree_removes_all_and_follows_no_link),
        cmocka_unit_test(test_rmtree_goes_on_past_errors_and_reports_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
