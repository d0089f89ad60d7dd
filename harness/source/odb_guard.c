/*
 * odb_guard.c — an object database backend consulted before libgit2's own loose-object reader
 * (see odb_guard_int.h for why): it reads a loose object with bounded work, checks it whole, and
 * hands it to libgit2, or fails naming the object, its file and `git fsck`.
 */
#include "source/odb_guard_int.h"

#include <errno.h>
#include <fcntl.h>
#include <git2/sys/odb_backend.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <limits.h>
#include <zlib.h>

#include "util/buf.h"

/* Above libgit2's packed (2) and loose (1) backends: asked first. */
#define GUARD_PRIORITY 3
/* zlib's deflate never shrinks data more than about 1032:1; a header claiming more is a lie. */
#define ZLIB_MAX_RATIO 1032

struct rh_git_guard {
    git_odb_backend parent; /* first: libgit2 hands this pointer back to the callbacks */
    char *objects;          /* the repository's objects/ folder */
    char *damage;           /* the first damaged object read (message), NULL if none */
};

const char *rh_git_guard_damage(const rh_git_guard *g)
{
    return g ? g->damage : NULL;
}

/* Record (the first) damage, set libgit2's error to it, and return libgit2's generic error. */
static int damaged(rh_git_guard *g, const char *hex, const char *path, const char *what)
{
    char *msg = rh_xasprintf("git object %s (%s): %s. Run `git fsck` in the repository to list the "
                             "damaged objects, and restore them (fetch or clone again) before rehearsing it",
                             hex, path, what);
    git_error_set_str(GIT_ERROR_ODB, msg);
    if (!g->damage)
        g->damage = msg;
    else
        free(msg);
    return GIT_ERROR;
}

/* A zlib stream starts with a CMF/FLG pair whose 16-bit value is a multiple of 31 (RFC 1950). */
static int is_zlib(const unsigned char *p, size_t n)
{
    return n >= 2 && (p[0] & 0x8F) == 0x08 && ((p[0] << 8) | p[1]) % 31 == 0;
}

/* The whole file (a regular one). -1 with errno on failure (EINVAL: not a regular file). */
static int read_all(int fd, unsigned char **data, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        return -1;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    unsigned char *buf = rh_xmalloc(cap);
    for (;;) {
        if (n == cap) /* the file grew while read: take what it holds now */
            buf = rh_xrealloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *data = buf;
    *len = n;
    return 0;
}

/*
 * Inflate a loose object completely, with work bounded by its size: every zlib call either makes
 * progress or ends the loop. On success *out (malloc'd, NUL after) holds "TYPE SIZE\0CONTENT" and
 * *why is NULL; else *why says what is wrong.
 */
static void inflate_bounded(const unsigned char *in, size_t in_len, char **out, size_t *out_len, const char **why)
{
    *why = NULL;
    *out = NULL;
    *out_len = 0;
    if (in_len > UINT_MAX) {
        *why = "it is too large to check";
        return;
    }
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK) {
        *why = "zlib cannot start";
        return;
    }
    size_t limit = in_len * ZLIB_MAX_RATIO + 64, cap = in_len * 4 + 64, len = 0;
    char *buf = rh_xmalloc(cap + 1);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)in_len;
    for (;;) {
        if (len == cap) {
            if (cap >= limit) {
                *why = "it inflates to more than its compressed size allows";
                break;
            }
            cap = cap * 2 > limit ? limit : cap * 2;
            buf = rh_xrealloc(buf, cap + 1);
        }
        size_t room = cap - len;
        zs.next_out = (Bytef *)buf + len;
        zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        int zr = inflate(&zs, Z_NO_FLUSH);
        len = (size_t)((char *)zs.next_out - buf);
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_OK)
            continue;
        if (zr == Z_BUF_ERROR && zs.avail_out == 0)
            continue; /* out of room only: grow */
        if (zr == Z_BUF_ERROR) /* no progress with room to write: the input ran out before the end */
            *why = "it is truncated (its compressed data ends before the object does)";
        else
            *why = zs.msg ? zs.msg : "zlib cannot inflate it";
        break;
    }
    if (!*why && zs.avail_in > 0)
        *why = "it has data after its compressed stream";
    inflateEnd(&zs);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
}

/*
 * Read and check the loose object `id`: 0 with its content (libgit2's allocation), GIT_ENOTFOUND
 * when there is no loose file (a packed object), GIT_PASSTHROUGH for the old loose format libgit2
 * reads itself, GIT_ERROR when damaged (recorded).
 */
static int load(rh_git_guard *g, const git_oid *id, void **data, size_t *len, git_object_t *type)
{
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof hex, id);
    char *path = rh_xasprintf("%s/%.2s/%s", g->objects, hex, hex + 2);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        int rc = e == ENOENT || e == ENOTDIR ? GIT_ENOTFOUND : damaged(g, hex, path, strerror(e));
        free(path);
        return rc;
    }
    unsigned char *file = NULL;
    size_t file_len = 0;
    int rc = read_all(fd, &file, &file_len);
    int e = errno;
    close(fd);
    if (rc < 0) {
        rc = damaged(g, hex, path, e == EINVAL ? "it is not a regular file" : strerror(e));
        free(path);
        return rc;
    }
    if (!is_zlib(file, file_len)) {
        free(file);
        rc = file_len ? GIT_PASSTHROUGH : damaged(g, hex, path, "it is empty");
        free(path);
        return rc;
    }

    char *raw = NULL;
    size_t raw_len = 0;
    const char *why = NULL;
    inflate_bounded(file, file_len, &raw, &raw_len, &why);
    free(file);
    char what[200];
    if (!why) {
        /* "TYPE SIZE\0": a known type, a decimal size equal to what follows the NUL */
        const char *nul = memchr(raw, '\0', raw_len), *sp = memchr(raw, ' ', raw_len);
        char tname[16];
        if (!nul || !sp || sp > nul || (size_t)(sp - raw) >= sizeof tname) {
            why = "it has no object header";
        } else {
            memcpy(tname, raw, (size_t)(sp - raw));
            tname[sp - raw] = '\0';
            *type = git_object_string2type(tname);
            char *end = NULL;
            errno = 0;
            unsigned long long declared = strtoull(sp + 1, &end, 10);
            size_t body = raw_len - (size_t)(nul + 1 - raw);
            if (*type != GIT_OBJECT_BLOB && *type != GIT_OBJECT_TREE && *type != GIT_OBJECT_COMMIT &&
                *type != GIT_OBJECT_TAG) {
                why = "its header names no object type";
            } else if (end != nul || sp[1] < '0' || sp[1] > '9' || errno) {
                why = "its header has no valid size";
            } else if (declared != body) {
                snprintf(what, sizeof what, "its header says %llu bytes, it holds %zu", declared, body);
                why = what;
            } else {
                git_oid actual;
                if (git_odb_hash(&actual, nul + 1, body, *type) < 0 || !git_oid_equal(&actual, id)) {
                    why = "its content does not match its id (a changed byte)";
                } else {
                    *len = body;
                    *data = git_odb_backend_data_alloc(&g->parent, body + 1);
                    if (!*data) {
                        free(raw);
                        free(path);
                        return GIT_ERROR;
                    }
                    memcpy(*data, nul + 1, body);
                    ((char *)*data)[body] = '\0';
                }
            }
        }
    }
    free(raw);
    rc = why ? damaged(g, hex, path, why) : 0;
    free(path);
    return rc;
}

static int guard_read(void **data, size_t *len, git_object_t *type, git_odb_backend *b, const git_oid *id)
{
    return load((rh_git_guard *)b, id, data, len, type);
}

/*
 * An abbreviated id: libgit2 asks every backend (to find ambiguity), its loose reader included, so
 * each loose candidate is checked here first; a damaged one stops the search before libgit2 reads it.
 */
static int guard_read_prefix(git_oid *out, void **data, size_t *len, git_object_t *type, git_odb_backend *b,
                             const git_oid *short_id, size_t hexlen)
{
    rh_git_guard *g = (rh_git_guard *)b;
    *data = NULL;
    if (hexlen >= GIT_OID_HEXSZ) {
        git_oid_cpy(out, short_id);
        return load(g, short_id, data, len, type);
    }
    if (hexlen < 2)
        return GIT_PASSTHROUGH;
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof hex, short_id);
    hex[hexlen] = '\0';
    char *dirpath = rh_xasprintf("%s/%.2s", g->objects, hex);
    DIR *d = opendir(dirpath);
    free(dirpath);
    if (!d)
        return GIT_ENOTFOUND;
    int rc = GIT_ENOTFOUND;
    size_t found = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strlen(de->d_name) != GIT_OID_HEXSZ - 2 || strncmp(de->d_name, hex + 2, hexlen - 2) != 0)
            continue;
        char full[GIT_OID_HEXSZ + 1];
        snprintf(full, sizeof full, "%.2s%s", hex, de->d_name);
        git_oid id;
        if (git_oid_fromstr(&id, full) < 0)
            continue;
        void *d2 = NULL;
        size_t l2 = 0;
        git_object_t t2 = GIT_OBJECT_INVALID;
        int r = load(g, &id, &d2, &l2, &t2);
        if (r == GIT_ERROR) {
            git_odb_backend_data_free(b, *data);
            *data = NULL;
            rc = GIT_ERROR;
            break;
        }
        if (r != 0) {
            rc = r == GIT_PASSTHROUGH ? GIT_PASSTHROUGH : rc;
            continue;
        }
        if (++found > 1) {
            git_odb_backend_data_free(b, d2);
            continue; /* keep checking the other candidates; libgit2 reports the ambiguity */
        }
        git_oid_cpy(out, &id);
        *data = d2, *len = l2, *type = t2;
        rc = 0;
    }
    closedir(d);
    if (rc == 0 && found > 1) {
        git_odb_backend_data_free(b, *data);
        *data = NULL;
        git_error_set_str(GIT_ERROR_ODB, "ambiguous object id prefix");
        return GIT_EAMBIGUOUS;
    }
    return rc;
}

static void guard_free(git_odb_backend *b)
{
    rh_git_guard *g = (rh_git_guard *)b;
    free(g->objects);
    free(g->damage);
    free(g);
}

int rh_git_guard_install(git_repository *repo, rh_git_guard **out)
{
    *out = NULL;
    git_odb *odb = NULL;
    if (git_repository_odb(&odb, repo) < 0)
        return -1;
    rh_git_guard *g = rh_xcalloc(1, sizeof *g);
    git_odb_init_backend(&g->parent, GIT_ODB_BACKEND_VERSION);
    g->parent.read = guard_read;
    g->parent.read_prefix = guard_read_prefix;
    g->parent.free = guard_free;
    const char *common = git_repository_commondir(repo);
    size_t n = strlen(common);
    g->objects = rh_xasprintf("%s%sobjects", common, n && common[n - 1] == '/' ? "" : "/");
    int rc = git_odb_add_backend(odb, &g->parent, GUARD_PRIORITY);
    git_odb_free(odb);
    if (rc < 0) {
        guard_free(&g->parent);
        return -1;
    }
    *out = g;
    return 0;
}
