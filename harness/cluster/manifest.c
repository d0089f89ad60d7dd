/*
 * manifest.c — what a template's files looked like when it was built, so that a damaged template
 * (a truncated catalog file, pg_control, PG_VERSION or pg_hba.conf) is noticed before a cluster is
 * copied from it.
 *
 * Checked before every cluster start, so it must be cheap: every file's size and modification
 * time (one fstatat each, no reads), plus a SHA-256 of the few small files a server cannot start
 * without or that decide who may log in. A change that keeps a big file's size and time (a bit
 * flip with the time put back) is not seen; a truncation or a rewrite is.
 *
 * Format, one line per regular file (paths relative to the data directory, no spaces in them):
 *   f SIZE MTIME_SEC MTIME_NSEC PATH
 *   s SHA256HEX PATH
 */
#include "cluster/internal.h"

#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Small files whose content is checked, not only their size. */
static const char *const checksummed[] = {
    "PG_VERSION", "global/pg_control", "global/pg_filenode.map", "pg_hba.conf", "pg_ident.conf",
    "postgresql.conf", "postgresql.auto.conf",
};

#define MAX_CHECKSUMMED_BYTES (1024 * 1024)

/* SHA-256 of a file under dirfd as 64 hex digits; -1 if it cannot be read. */
static int file_sha256(int dirfd, const char *rel, char hex[65])
{
    int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    unsigned char buf[16384];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    size_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ok = ok && n == 0;
            break;
        }
        total += (size_t)n;
        ok = ok && total <= MAX_CHECKSUMMED_BYTES && EVP_DigestUpdate(ctx, buf, (size_t)n) == 1;
    }
    close(fd);
    unsigned char md[32];
    unsigned mdlen = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* Append an `f` line for every regular file under dirfd (prefix: its path so far). */
static int walk(int dirfd, const char *prefix, rh_buf *out, rh_err *err)
{
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return rh_err_errno(err, "cannot list %s", *prefix ? prefix : ".");
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *rel = *prefix ? rh_xasprintf("%s/%s", prefix, e->d_name) : rh_xstrdup(e->d_name);
        struct stat st;
        if (strchr(e->d_name, ' ') || strchr(e->d_name, '\n')) {
            rc = rh_err_set(err, "unexpected file name '%s' in a template", rel);
        } else if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = rh_err_errno(err, "cannot stat %s", rel);
        } else if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
            if (sub < 0)
                rc = rh_err_errno(err, "cannot open %s", rel);
            else {
                rc = walk(sub, rel, out, err);
                close(sub);
            }
        } else if (S_ISREG(st.st_mode)) {
            rh_buf_printf(out, "f %lld %lld %ld %s\n", (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                          (long)st.st_mtim.tv_nsec, rel);
        }
        free(rel);
    }
    closedir(d);
    return rc;
}

int rh_manifest_write(const char *datadir, const char *path, rh_err *err)
{
    int dirfd = open(datadir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return rh_err_errno(err, "cannot open %s", datadir);
    rh_buf out;
    rh_buf_init(&out);
    int rc = walk(dirfd, "", &out, err);
    for (size_t i = 0; rc == 0 && i < sizeof checksummed / sizeof *checksummed; i++) {
        char hex[65];
        if (file_sha256(dirfd, checksummed[i], hex) < 0) {
            if (errno == ENOENT)
                continue; /* not every version has every file */
            rc = rh_err_errno(err, "cannot read %s/%s", datadir, checksummed[i]);
        } else {
            rh_buf_printf(&out, "s %s %s\n", hex, checksummed[i]);
        }
    }
    close(dirfd);
    if (rc == 0)
        rc = rh_fs_write(path, out.data ? out.data : "", out.len, 0644, err);
    rh_buf_free(&out);
    return rc;
}

int rh_manifest_check(const char *datadir, const char *path, char *why, size_t whylen)
{
    char *text = NULL;
    rh_err e;
    if (rh_fs_read(path, &text, NULL, &e) < 0) {
        snprintf(why, whylen, "no manifest: %s", e.msg);
        return 0;
    }
    int dirfd = open(datadir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        snprintf(why, whylen, "cannot open %s: %s", datadir, strerror(errno));
        free(text);
        return 0;
    }
    int ok = 1, files = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); ok && line; line = strtok_r(NULL, "\n", &save)) {
        long long size = -1, sec = -1;
        long nsec = -1;
        char name[1024], hex[65];
        struct stat st;
        if (sscanf(line, "f %lld %lld %ld %1023s", &size, &sec, &nsec, name) == 4) {
            files++;
            if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                snprintf(why, whylen, "%s: %s", name, strerror(errno)), ok = 0;
            else if (!S_ISREG(st.st_mode) || st.st_size != size)
                snprintf(why, whylen, "%s: %lld bytes, %lld when it was built", name, (long long)st.st_size, size),
                    ok = 0;
            else if (st.st_mtim.tv_sec != sec || st.st_mtim.tv_nsec != nsec)
                snprintf(why, whylen, "%s: modified since it was built", name), ok = 0;
        } else if (sscanf(line, "s %64s %1023s", hex, name) == 2) {
            char now[65];
            if (file_sha256(dirfd, name, now) < 0 || strcmp(now, hex) != 0)
                snprintf(why, whylen, "%s: its content changed since it was built", name), ok = 0;
        } else {
            snprintf(why, whylen, "the manifest %s has a bad line", path);
            ok = 0;
        }
    }
    if (ok && files == 0) {
        snprintf(why, whylen, "the manifest %s lists no files", path);
        ok = 0;
    }
    close(dirfd);
    free(text);
    return ok;
}
