/*
 * migset.h — the migration set model: the migrations a tool sees in its folder, in its apply order.
 *
 * Each entry keeps its file's bytes (or is marked as missing them) and SHA-256 checksum, and what is
 * odd about it. A tool's reader fills the set (rh_tool.read, in tools/NAME/, on disk or at a revision,
 * entered through source/loader.h); a profile orders it (migrations/profile.h).
 */
#ifndef RH_MIGSET_H
#define RH_MIGSET_H

#include <stddef.h>

#include "util/err.h"

typedef struct rh_migration {
    char *name;          /* the migration's identity in its tool (its folder's or file's name), exact bytes */
    char *sql;           /* its SQL file's bytes, NUL-terminated; NULL when it has none */
    size_t sql_len;
    char checksum[65];   /* lowercase hex SHA-256 of the bytes; "" when sql is NULL */
    char *problem;       /* why this entry is odd (symlink, gitlink, invisible characters ...); NULL if fine */
    int refused;         /* its file leads out of the repository: not read (a reader given a root) */
    long long stamp;     /* a tool's own ordering value kept beside the file (drizzle's journal `when`); 0: none */
} rh_migration;

/* A set-level problem: what is wrong, and the folder-relative file it is about (NULL: none). */
typedef struct rh_set_problem {
    char *text;
    char *file;
} rh_set_problem;

typedef struct rh_migset {
    rh_migration *items;
    size_t n;
    char *lock_provider; /* the provider a tool's lock file names (e.g. migration_lock.toml); NULL: none */
    int has_lock_file;   /* the folder holds that lock file */
    char *origin;        /* where it came from, for messages: "db/migrations at v1 (abc1234)" or a path */
    /*
     * Things in the folder that the tool does not list but a person would expect it to (a symbolic
     * link to a directory, a file named like a migration ...): one message each, never silently
     * dropped. Entries that the tool does list but that are odd carry their own `problem` instead.
     */
    rh_set_problem *problems;
    size_t n_problems;
    size_t cap;          /* allocated items (internal) */
} rh_migset;

/* Find an entry by name; NULL if absent. */
const rh_migration *rh_migset_find(const rh_migset *set, const char *name);

/* Index of an entry by name, or -1. */
long rh_migset_index(const rh_migset *set, const char *name);

void rh_migset_free(rh_migset *set);

/* ---- building a set (used by the tools' folder readers) -------------------------------------- */

/* Append an entry named `name` (len bytes, may hold any byte but NUL); sql stays NULL. */
rh_migration *rh_migset_push(rh_migset *set, const char *name, size_t len);

/* Give an entry its file's bytes (copied) and checksum. */
void rh_migration_set_sql(rh_migration *m, const void *sql, size_t len);

/* Add a problem to an entry ("; "-separated when there are several). */
void rh_migration_add_problem(rh_migration *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Add a set-level problem. */
void rh_migset_add_problem(rh_migset *set, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add a set-level problem about one file of the folder (`file` relative to it): check compares these
   by file between base and head. */
void rh_migset_add_file_problem(rh_migset *set, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Check a name (an entry's, or a file's beside it) for what makes a folder look right to a person
 * but wrong to the tool: invalid UTF-8, invisible or control characters (U+200E, U+200B,
 * U+FEFF, ...). Returns a malloc'd description ("contains invisible character U+200E at byte 13")
 * or NULL when the name is clean.
 */
char *rh_name_oddity(const char *name, size_t len);

/* A printable form of a name: invisible and non-UTF-8 bytes shown as <U+200E> / <0xff>. Malloc'd. */
char *rh_name_printable(const char *name, size_t len);

/* ---- checksums -------------------------------------------------------------------------------- */

/* Lowercase hex SHA-256 (libcrypto) of len bytes into out[65]. */
void rh_checksum_hex(const void *data, size_t len, char out[65]);

/* SHA-256 (libcrypto) of len bytes into md. */
void rh_sha256(const void *data, size_t len, unsigned char md[32]);

#endif
