/*
 * migset.h — the migration set model: what Prisma sees in a migrations folder.
 *
 * Entries are every directory of the folder (Prisma's listing rule: directories only, no filter
 * on names, hidden ones included); each keeps its migration.sql bytes (or is marked as missing
 * it) and SHA-256 checksum. The set is filled from a plain folder (here) or from a git revision
 * (source/git.h) and ordered by a version profile (migrations/profile.h).
 */
#ifndef RH_MIGSET_H
#define RH_MIGSET_H

#include <stddef.h>

#include "util/err.h"

typedef struct rh_migration {
    char *name;          /* directory name, exact bytes */
    char *sql;           /* migration.sql bytes, NUL-terminated; NULL when the folder has none */
    size_t sql_len;
    char checksum[65];   /* lowercase hex SHA-256 of the bytes; "" when sql is NULL */
    char *problem;       /* why this entry is odd (symlink, gitlink, invisible characters ...); NULL if fine */
    int refused;         /* its migration.sql leads out of the repository: not read (rh_migset_from_dir_within) */
    long long stamp;     /* a tool's own ordering value kept beside the file (drizzle's journal `when`); 0: none */
} rh_migration;

typedef struct rh_migset {
    rh_migration *items;
    size_t n;
    char *lock_provider; /* provider from migration_lock.toml; NULL when the file is absent */
    int has_lock_file;
    char *origin;        /* where it came from, for messages: "prisma/migrations at v1 (abc1234)" or a path */
    /*
     * Things in the folder that Prisma does not list but a person would expect it to (a symbolic
     * link to a directory, a file named like a migration ...): one message each, never silently
     * dropped. Entries that Prisma does list but that are odd carry their own `problem` instead.
     */
    char **problems;
    size_t n_problems;
    size_t cap;          /* allocated items (internal) */
} rh_migset;

/* Read a plain folder from disk (Prisma's rules). Entries come in byte order; see rh_migset_sort. */
int rh_migset_from_dir(rh_migset *out, const char *dir, rh_err *err);

/*
 * The same, for a folder of a repository's work tree: a migration.sql or migration_lock.toml whose
 * real path (links followed) is outside root is not read; the migration is marked with a problem.
 */
int rh_migset_from_dir_within(rh_migset *out, const char *dir, const char *root, rh_err *err);

/* Find an entry by name; NULL if absent. */
const rh_migration *rh_migset_find(const rh_migset *set, const char *name);

/* Index of an entry by name, or -1. */
long rh_migset_index(const rh_migset *set, const char *name);

void rh_migset_free(rh_migset *set);

/* ---- building a set (used by the plain-folder and git readers) ------------------------------ */

/* Append an entry named `name` (len bytes, may hold any byte but NUL); sql stays NULL. */
rh_migration *rh_migset_push(rh_migset *set, const char *name, size_t len);

/* Give an entry its migration.sql bytes (copied) and checksum. */
void rh_migration_set_sql(rh_migration *m, const void *sql, size_t len);

/* Add a problem to an entry ("; "-separated when there are several). */
void rh_migration_add_problem(rh_migration *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Add a set-level problem. */
void rh_migset_add_problem(rh_migset *set, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record migration_lock.toml's content: has_lock_file = 1 and lock_provider parsed as Prisma does. */
void rh_migset_set_lock(rh_migset *set, const char *toml, size_t len);

/*
 * The provider in a migration_lock.toml (malloc'd), or NULL when no line starts with `provider`.
 * Like Prisma: the first line starting with "provider", the value after '=' without quotes.
 */
char *rh_lock_provider_parse(const char *toml, size_t len);

/*
 * Check an entry name and the names beside migration.sql for what makes a folder look right to a
 * person but wrong to Prisma: invalid UTF-8, invisible or control characters (U+200E, U+200B,
 * U+FEFF, ...). Returns a malloc'd description ("contains invisible character U+200E at byte 13")
 * or NULL when the name is clean.
 */
char *rh_name_oddity(const char *name, size_t len);

/* A printable form of a name: invisible and non-UTF-8 bytes shown as <U+200E> / <0xff>. Malloc'd. */
char *rh_name_printable(const char *name, size_t len);

/* ---- checksums -------------------------------------------------------------------------------- */

/* Lowercase hex SHA-256 (libcrypto) of len bytes into out[65]. */
void rh_checksum_hex(const void *data, size_t len, char out[65]);

/*
 * Prisma's checksum comparison (schema-connector/src/checksum.rs): `stored` matches the script if
 * it equals the hash of the bytes as they are, with every CRLF turned into LF, or with every LF
 * turned into CRLF. A stored value whose length is not 64 is compared in the old format (each
 * byte as %x, no leading zero). Returns 1 on a match, 0 otherwise.
 */
int rh_checksum_matches(const char *stored, const char *sql, size_t len);

#endif
