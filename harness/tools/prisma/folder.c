/*
 * folder.c — Prisma's migrations folder, on disk or at a git revision (folder.h): its listing rules,
 * names that look like migration.sql, migration_lock.toml's provider, and Prisma's checksum comparison.
 */
#include "tools/prisma/folder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "source/git_int.h"
#include "util/buf.h"

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

/*
 * One reader for a folder on disk and at a revision (source/folder.h). Where they differ, a checkout
 * and git's objects show different things: on disk the system follows a link (Prisma's readdir sees
 * a link, not a folder); at a revision rehearse sees the link's text and submodules, and says so.
 */

/* Names beside a missing migration.sql that look like it ("migration.sql" + U+200E, "Migration.sql"). */
static void note_lookalikes(rh_migration *m, rh_folder *f, const char *dir)
{
    rh_folder_entry *e = NULL;
    size_t n = 0;
    rh_err err;
    if (rh_folder_list(f, dir, &e, &n, &err) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *nm = e[i].name;
        if (strcmp(nm, "migration.sql") == 0)
            continue;
        if (strstr(nm, "migration.sql") || strcasecmp(nm, "migration.sql") == 0) {
            char *pn = rh_name_printable(nm, strlen(nm));
            char *odd = rh_name_oddity(nm, strlen(nm));
            rh_migration_add_problem(m, "beside it a file named '%s'%s%s", pn, odd ? " which " : "", odd ? odd : "");
            free(pn);
            free(odd);
        }
    }
    rh_folder_entries_free(e, n);
}

static void no_sql(rh_migration *m, rh_folder *f, const char *dir)
{
    rh_migration_add_problem(m, "no migration.sql (Prisma stops with P3015 when it reaches it)");
    note_lookalikes(m, f, dir);
}

/* A migration's migration.sql in a checkout: links followed by the system, never out of the work tree. */
static void read_sql_on_disk(rh_migration *m, rh_folder *f, const char *dir, const char *rel)
{
    if (rh_folder_kind(f, rel) == RH_ENTRY_LINK)
        rh_migration_add_problem(m, "migration.sql is a symbolic link");
    char *real = NULL, *data = NULL;
    size_t len = 0;
    rh_err err;
    if (rh_folder_leads_out(f, rel, &real)) {
        /* a link out of the repository (to /etc/passwd ...): never read, never quoted */
        m->refused = 1;
        rh_migration_add_problem(m, "migration.sql leads out of the repository (to %s): rehearse does not read it "
                                    "(Prisma would, from a checkout)", real ? real : "?");
        free(real);
    } else {
        int rc = rh_folder_read(f, rel, &data, &len, NULL, &err);
        if (rc == 1) {
            rh_migration_set_sql(m, data, len);
            free(data);
        } else if (rc < 0 || rh_folder_target_kind(f, rel) == RH_ENTRY_OTHER) {
            /* there is a file, rehearse does not read it (over the size limit; a device, FIFO or socket,
               or a link to /dev/zero): P3015 follows, and "no migration.sql" would send the user looking
               for a file that is there */
            m->refused = 1;
            rh_migration_add_problem(m, "migration.sql is not read: %s (Prisma would try to read it)",
                                     rc < 0 ? err.msg : "it is a device, FIFO or socket, not a regular file");
        } else {
            no_sql(m, f, dir);
        }
    }
}

/* A migration's migration.sql in git's objects: what the entry is, and a link's text. */
static void read_sql_in_objects(rh_migration *m, rh_folder *f, const char *dir, const char *rel)
{
    char *data = NULL, *link = NULL;
    size_t len = 0;
    rh_err err;
    switch (rh_folder_kind(f, rel)) {
    case RH_ENTRY_NONE:
        no_sql(m, f, dir);
        break;
    case RH_ENTRY_FILE:
        if (rh_folder_read(f, rel, &data, &len, NULL, &err) == 1)
            rh_migration_set_sql(m, data, len);
        else
            rh_migration_add_problem(m, "migration.sql cannot be read: %s", rh_git_lg2_msg());
        break;
    case RH_ENTRY_LINK: {
        if (rh_folder_link(f, rel, &link, &err) != 1) {
            rh_migration_add_problem(m, "migration.sql is a symbolic link that cannot be read");
            break;
        }
        int rc = rh_folder_read(f, rel, &data, &len, NULL, &err); /* to a file of the same revision */
        if (rc == 1)
            rh_migration_set_sql(m, data, len);
        if (rc != 0)
            rh_migration_add_problem(m, "migration.sql is a symbolic link to '%s' (read through it, as a checkout "
                                        "would; on Windows checkouts it becomes a text file)", link);
        else
            rh_migration_add_problem(m, "migration.sql is a symbolic link to '%s', which is not a file in the "
                                        "repository (Prisma cannot read it: P3015)", link);
        break;
    }
    case RH_ENTRY_DIR:
        rh_migration_add_problem(m, "migration.sql is a folder, not a file (Prisma cannot read it: P3015)");
        break;
    case RH_ENTRY_GITLINK:
        rh_migration_add_problem(m, "migration.sql is a submodule (gitlink), not a file (Prisma cannot read it: P3015)");
        break;
    case RH_ENTRY_OTHER:
        rh_migration_add_problem(m, "migration.sql has an unexpected git mode (Prisma cannot read it: P3015)");
        break;
    }
    free(data);
    free(link);
}

/* A directory entry: a migration (Prisma lists every directory, hidden ones too, whatever its name). */
static void read_migration(rh_migset *out, rh_folder *f, const char *name)
{
    size_t nlen = strlen(name);
    rh_migration *m = rh_migset_push(out, name, nlen);
    char *odd = rh_name_oddity(name, nlen);
    if (odd) {
        rh_migration_add_problem(m, "the directory name %s", odd);
        free(odd);
    }
    char *rel = rh_xasprintf("%s/migration.sql", name);
    if (rh_folder_in_objects(f))
        read_sql_in_objects(m, f, name, rel);
    else
        read_sql_on_disk(m, f, name, rel);
    free(rel);
}

/* A submodule: a checkout makes an empty folder (or the submodule's files) there, and Prisma lists it. */
static void read_gitlink(rh_migset *out, rh_folder *f, const char *name)
{
    size_t nlen = strlen(name);
    rh_migration *m = rh_migset_push(out, name, nlen);
    char sha[8] = "?";
    rh_folder_gitlink(f, name, sha, sizeof sha);
    rh_migration_add_problem(m, "is a git submodule (gitlink to commit %s), not a folder of this repository: "
                                "a checkout holds an empty folder and Prisma stops with P3015 on it", sha);
    char *odd = rh_name_oddity(name, nlen);
    if (odd) {
        rh_migration_add_problem(m, "the directory name %s", odd);
        free(odd);
    }
}

/* A symbolic link in the folder: Prisma's readdir(withFileTypes) sees a link, not a directory. */
static void note_link(rh_migset *out, rh_folder *f, const char *name)
{
    char *pn = rh_name_printable(name, strlen(name));
    int to_dir = rh_folder_target_kind(f, name) == RH_ENTRY_DIR;
    if (!rh_folder_in_objects(f)) {
        if (to_dir)
            rh_migset_add_problem(out, "'%s' is a symbolic link to a directory: Prisma does not list it as a migration", pn);
    } else {
        char *target = NULL;
        rh_err err;
        if (rh_folder_link(f, name, &target, &err) == 1)
            rh_migset_add_problem(out, "'%s' is a symbolic link to '%s'%s: Prisma lists only real folders, so it is "
                                       "not a migration", pn, target, to_dir ? " (a folder)" : "");
        else
            rh_migset_add_problem(out, "'%s' is a symbolic link: Prisma lists only real folders, so it is not a "
                                       "migration", pn);
        free(target);
    }
    free(pn);
}

/* migration_lock.toml: in a checkout read as the system reads it (through a link, inside the work tree at
   WORKTREE); at a revision only a file entry (a link is said above, and not read). */
static void read_lock(rh_migset *out, rh_folder *f)
{
    if (rh_folder_in_objects(f) && rh_folder_kind(f, "migration_lock.toml") != RH_ENTRY_FILE)
        return;
    char *toml = NULL;
    size_t len = 0;
    rh_err err;
    if (rh_folder_read(f, "migration_lock.toml", &toml, &len, NULL, &err) == 1)
        rh_prisma_set_lock(out, toml, len);
    free(toml);
}

int rh_prisma_read(rh_migset *out, rh_folder *f, rh_err *err)
{
    out->origin = rh_xstrdup(rh_folder_origin(f));
    rh_folder_entry *e = NULL;
    size_t n = 0;
    if (rh_folder_list(f, "", &e, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) { /* in byte order of the names: the set's order before a profile's */
        switch (e[i].kind) {
        case RH_ENTRY_DIR:
            read_migration(out, f, e[i].name);
            break;
        case RH_ENTRY_GITLINK:
            read_gitlink(out, f, e[i].name);
            break;
        case RH_ENTRY_LINK:
            note_link(out, f, e[i].name);
            break;
        default:
            break; /* files are ignored, as Prisma does (migration_lock.toml below) */
        }
    }
    rh_folder_entries_free(e, n);
    read_lock(out, f);
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
