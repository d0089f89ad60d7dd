/*
 * folder.c — Prisma's migrations folder on disk (folder.h): its listing rules, names that look like
 * migration.sql, migration_lock.toml's provider, and Prisma's checksum comparison.
 */
#include "tools/prisma/folder.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fs.h"

/* ---- migration_lock.toml ---------------------------------------------------------------------- */

char *rh_prisma_lock_provider(const char *toml, size_t len)
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

void rh_prisma_set_lock(rh_migset *set, const char *toml, size_t len)
{
    set->has_lock_file = 1;
    free(set->lock_provider);
    set->lock_provider = rh_prisma_lock_provider(toml, len);
}

/* ---- the folder ------------------------------------------------------------------------------- */

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

int rh_prisma_read_dir(rh_migset *out, const char *dir, const char *root, rh_err *err)
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
        rh_prisma_set_lock(out, toml, tlen);
        free(toml);
    }
    rh_buf_free(&path);
    if (out->n)
        qsort(out->items, out->n, sizeof *out->items, cmp_names);
    return 0;
}

/* ---- Prisma's checksum comparison -------------------------------------------------------------- */

/* Prisma's old rendering: each byte as {:x}, no padding (so 32 to 64 characters). */
static void hex_old(const unsigned char md[32], char out[65])
{
    size_t o = 0;
    for (int i = 0; i < 32; i++)
        o += (size_t)snprintf(out + o, 65 - o, "%x", md[i]);
}

static int digest_matches(const char *stored, size_t slen, const void *data, size_t len)
{
    char hex[65];
    if (slen == 64) {
        rh_checksum_hex(data, len, hex);
    } else {
        unsigned char md[32];
        rh_sha256(data, len, md);
        hex_old(md, hex);
    }
    return strcmp(hex, stored) == 0;
}

int rh_prisma_checksum_matches(const char *stored, const char *sql, size_t len)
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
