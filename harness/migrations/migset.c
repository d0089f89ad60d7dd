/*
 * migset.c — the migration set: building it, reading a plain folder with Prisma's listing rules,
 * describing odd names, and checksums (SHA-256 through libcrypto's EVP interface).
 */
#include "migrations/migset.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fs.h"
#include "util/utf8.h"

/* ---- building ----------------------------------------------------------------------------------- */

rh_migration *rh_migset_push(rh_migset *set, const char *name, size_t len)
{
    if (set->n == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 32;
        set->items = rh_xrealloc(set->items, set->cap * sizeof *set->items);
    }
    rh_migration *m = &set->items[set->n++];
    memset(m, 0, sizeof *m);
    m->name = rh_xstrndup(name, len);
    return m;
}

void rh_migration_set_sql(rh_migration *m, const void *sql, size_t len)
{
    free(m->sql);
    m->sql = rh_xmalloc(len + 1);
    if (len)
        memcpy(m->sql, sql, len);
    m->sql[len] = '\0';
    m->sql_len = len;
    rh_checksum_hex(m->sql, len, m->checksum);
}

void rh_migration_add_problem(rh_migration *m, const char *fmt, ...)
{
    rh_buf b;
    rh_buf_init(&b);
    if (m->problem) {
        rh_buf_puts(&b, m->problem);
        rh_buf_puts(&b, "; ");
        free(m->problem);
    }
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    rh_buf_puts(&b, s);
    free(s);
    m->problem = rh_buf_steal(&b);
    rh_buf_free(&b);
}

void rh_migset_add_problem(rh_migset *set, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    set->problems = rh_xrealloc(set->problems, (set->n_problems + 1) * sizeof *set->problems);
    set->problems[set->n_problems++] = s;
}

char *rh_lock_provider_parse(const char *toml, size_t len)
{
    const char *p = toml, *end = toml + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) >= 8 && memcmp(p, "provider", 8) == 0) {
            const char *v = p + 8;
            while (v < eol && (*v == ' ' || *v == '\t' || *v == '='))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (ve > v && *v == '"')
                v++;
            if (ve > v && ve[-1] == '"')
                ve--;
            return rh_xstrndup(v, (size_t)(ve - v));
        }
        p = eol + 1;
    }
    return NULL;
}

void rh_migset_set_lock(rh_migset *set, const char *toml, size_t len)
{
    set->has_lock_file = 1;
    free(set->lock_provider);
    set->lock_provider = rh_lock_provider_parse(toml, len);
}

const rh_migration *rh_migset_find(const rh_migset *set, const char *name)
{
    long i = rh_migset_index(set, name);
    return i < 0 ? NULL : &set->items[i];
}

long rh_migset_index(const rh_migset *set, const char *name)
{
    if (!set || !name)
        return -1;
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->items[i].name, name) == 0)
            return (long)i;
    return -1;
}

void rh_migset_free(rh_migset *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        free(set->items[i].name);
        free(set->items[i].sql);
        free(set->items[i].problem);
    }
    for (size_t i = 0; i < set->n_problems; i++)
        free(set->problems[i]);
    free(set->problems);
    free(set->items);
    free(set->lock_provider);
    free(set->origin);
    memset(set, 0, sizeof *set);
}

/* ---- names -------------------------------------------------------------------------------------- */

/* Characters that a person does not see (or sees as a plain space) in a file listing. */
static int invisible(uint32_t c)
{
    return c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0) || c == 0xA0 || c == 0xAD ||
           c == 0x034F || c == 0x061C || c == 0x115F || c == 0x1160 || c == 0x17B4 || c == 0x17B5 ||
           (c >= 0x180B && c <= 0x180E) || (c >= 0x2000 && c <= 0x200F) ||
           (c >= 0x2028 && c <= 0x202F) || (c >= 0x205F && c <= 0x206F) || c == 0x3000 ||
           c == 0x3164 || (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF || c == 0xFFA0 ||
           (c >= 0xFFF0 && c <= 0xFFFB) || (c >= 0x1D173 && c <= 0x1D17A) ||
           (c >= 0xE0000 && c <= 0xE0FFF);
}

char *rh_name_oddity(const char *name, size_t len)
{
    const unsigned char *s = (const unsigned char *)name;
    rh_buf b;
    rh_buf_init(&b);
    size_t i = 0;
    while (i < len) {
        uint32_t c;
        size_t k = rh_utf8_decode(s + i, len - i, &c);
        if (k == 0) {
            if (b.len)
                rh_buf_puts(&b, ", ");
            rh_buf_printf(&b, "is not valid UTF-8 (byte 0x%02x at offset %zu)", s[i], i);
            i++;
            continue;
        }
        if (invisible(c)) {
            if (b.len)
                rh_buf_puts(&b, ", ");
            rh_buf_printf(&b, "contains the invisible character U+%04X at byte %zu", (unsigned)c, i);
        }
        i += k;
    }
    if (b.len == 0) {
        rh_buf_free(&b);
        return NULL;
    }
    char *r = rh_buf_steal(&b);
    rh_buf_free(&b);
    return r;
}

char *rh_name_printable(const char *name, size_t len)
{
    const unsigned char *s = (const unsigned char *)name;
    rh_buf b;
    rh_buf_init(&b);
    size_t i = 0;
    while (i < len) {
        uint32_t c;
        size_t k = rh_utf8_decode(s + i, len - i, &c);
        if (k == 0) {
            rh_buf_printf(&b, "<0x%02x>", s[i]);
            i++;
        } else if (invisible(c)) {
            rh_buf_printf(&b, "<U+%04X>", (unsigned)c);
            i += k;
        } else {
            rh_buf_append(&b, s + i, k);
            i += k;
        }
    }
    char *r = rh_buf_steal(&b);
    rh_buf_free(&b);
    return r;
}

/* ---- the plain folder ------------------------------------------------------------------------------ */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(((const rh_migration *)a)->name, ((const rh_migration *)b)->name);
}

/* Note the names in a migration directory that look like migration.sql but are not. */
static void note_lookalikes(rh_migration *m, const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (strcmp(n, "migration.sql") == 0 || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        if (strncmp(n, "migration.sql", 13) == 0 || strstr(n, "migration.sql") ||
            strcasecmp(n, "migration.sql") == 0) {
            char *pn = rh_name_printable(n, strlen(n));
            char *odd = rh_name_oddity(n, strlen(n));
            rh_migration_add_problem(m, "beside it a file named '%s'%s%s", pn,
                                     odd ? " which " : "", odd ? odd : "");
            free(pn);
            free(odd);
        }
    }
    closedir(d);
}

int rh_migset_from_dir(rh_migset *out, const char *dir, rh_err *err)
{
    return rh_migset_from_dir_within(out, dir, NULL, err);
}

int rh_migset_from_dir_within(rh_migset *out, const char *dir, const char *root, rh_err *err)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return rh_err_errno(err, "cannot read the migrations folder %s", dir);
    out->origin = rh_xstrdup(dir);
    rh_buf path;
    rh_buf_init(&path);
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        rh_buf_reset(&path);
        rh_buf_printf(&path, "%s/%s", dir, n);
        struct stat st;
        if (lstat(path.data, &st) < 0)
            continue; /* vanished meanwhile */
        if (S_ISLNK(st.st_mode)) {
            /* Prisma's readdir(withFileTypes) sees a symbolic link, not a directory: not listed. */
            struct stat tst;
            char *pn = rh_name_printable(n, strlen(n));
            if (stat(path.data, &tst) == 0 && S_ISDIR(tst.st_mode))
                rh_migset_add_problem(out, "'%s' is a symbolic link to a directory: Prisma does not list it as a migration", pn);
            free(pn);
            continue;
        }
        if (!S_ISDIR(st.st_mode))
            continue; /* files are ignored, like Prisma does */
        rh_migration *m = rh_migset_push(out, n, strlen(n));
        char *odd = rh_name_oddity(n, strlen(n));
        if (odd) {
            rh_migration_add_problem(m, "the directory name %s", odd);
            free(odd);
        }
        rh_buf_puts(&path, "/migration.sql");
        struct stat sst;
        if (lstat(path.data, &sst) == 0 && S_ISLNK(sst.st_mode))
            rh_migration_add_problem(m, "migration.sql is a symbolic link");
        char *data = NULL;
        size_t len = 0;
        rh_err rerr;
        char *real = NULL;
        if (root && rh_fs_inside(path.data, &root, 1, NULL) == 0) {
            /* a link out of the repository (to /etc/passwd ...): never read, never quoted */
            real = realpath(path.data, NULL);
            m->refused = 1;
            rh_migration_add_problem(m, "migration.sql leads out of the repository (to %s): rehearse does not read "
                                        "it (Prisma would, from a checkout)", real ? real : "?");
            free(real);
        } else if (stat(path.data, &sst) == 0 && S_ISREG(sst.st_mode) &&
            rh_fs_read_max(path.data, RH_FS_MIGRATION_MAX, &data, &len, &rerr) == 0) {
            rh_migration_set_sql(m, data, len);
            free(data);
        } else {
            rh_migration_add_problem(m, "no migration.sql (Prisma stops with P3015 when it reaches it)");
            path.data[path.len - strlen("/migration.sql")] = '\0';
            note_lookalikes(m, path.data);
        }
    }
    closedir(d);

    rh_buf_reset(&path);
    rh_buf_printf(&path, "%s/migration_lock.toml", dir);
    char *toml = NULL;
    size_t tlen = 0;
    rh_err rerr;
    if (rh_fs_exists(path.data) && (!root || rh_fs_inside(path.data, &root, 1, NULL) == 1) &&
        rh_fs_read(path.data, &toml, &tlen, &rerr) == 0) {
        rh_migset_set_lock(out, toml, tlen);
        free(toml);
    }
    rh_buf_free(&path);
    if (out->n)
        qsort(out->items, out->n, sizeof *out->items, cmp_names);
    return 0;
}

/* ---- checksums ------------------------------------------------------------------------------------ */

static void sha256(const void *data, size_t len, unsigned char md[32])
{
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
        fprintf(stderr, "rehearse: libcrypto SHA-256 failed\n");
        abort();
    }
}

static void hex64(const unsigned char md[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[64] = '\0';
}

void rh_checksum_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    sha256(data, len, md);
    hex64(md, out);
}

/* Prisma's old rendering: each byte as {:x}, no padding (so 32 to 64 characters). */
static void hex_old(const unsigned char md[32], char out[65])
{
    size_t o = 0;
    for (int i = 0; i < 32; i++)
        o += (size_t)snprintf(out + o, 65 - o, "%x", md[i]);
}

static int digest_matches(const char *stored, size_t slen, const void *data, size_t len)
{
    unsigned char md[32];
    char hex[65];
    sha256(data, len, md);
    if (slen == 64)
        hex64(md, hex);
    else
        hex_old(md, hex);
    return strcmp(hex, stored) == 0;
}

int rh_checksum_matches(const char *stored, const char *sql, size_t len)
{
    if (!stored || !sql)
        return 0;
    size_t slen = strlen(stored);
    if (digest_matches(stored, slen, sql, len))
        return 1;
    /* script.replace("\r\n", "\n") */
    char *lf = rh_xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (sql[i] == '\r' && i + 1 < len && sql[i + 1] == '\n')
            continue;
        lf[n++] = sql[i];
    }
    int ok = digest_matches(stored, slen, lf, n);
    free(lf);
    if (ok)
        return 1;
    /* script.replace('\n', "\r\n"): every LF, including those already after a CR */
    size_t nl = 0;
    for (size_t i = 0; i < len; i++)
        nl += sql[i] == '\n';
    char *crlf = rh_xmalloc(len + nl + 1);
    n = 0;
    for (size_t i = 0; i < len; i++) {
        if (sql[i] == '\n')
            crlf[n++] = '\r';
        crlf[n++] = sql[i];
    }
    ok = digest_matches(stored, slen, crlf, n);
    free(crlf);
    return ok;
}
