/*
 * folder.h — Prisma's migrations folder, on disk or at a git revision (one reader over
 * source/folder.h): its listing rules, migration_lock.toml's provider, and Prisma's checksum comparison.
 */
#ifndef RH_TOOLS_PRISMA_FOLDER_H
#define RH_TOOLS_PRISMA_FOLDER_H

#include <stddef.h>

#include "migrations/migset.h"
#include "source/folder.h"
#include "util/err.h"

/*
 * Prisma's reader of its migrations folder (source/folder.h's rh_folder_reader), on disk or at a git
 * revision: every directory is a migration (no filter on names, hidden ones included) with its
 * migration.sql; entries come in byte order (rh_migset_sort orders them by a profile). Reported in
 * the set, never silently skipped: symbolic links (set problem), submodules (entry without sql +
 * problem), non-UTF-8 names and names with invisible characters (entry problem), look-alikes of
 * migration.sql ("migration.sql" + U+200E); at WORKTREE a migration.sql that leads out of the work tree
 * is not read (refused).
 */
int rh_prisma_read(rh_migset *out, rh_folder *f, rh_err *err);

/* Record migration_lock.toml's content: has_lock_file = 1 and lock_provider parsed as Prisma does. */
void rh_prisma_set_lock(rh_migset *set, const char *toml, size_t len);

/*
 * The provider in a migration_lock.toml (malloc'd), or NULL when no line starts with `provider`.
 * Like Prisma: the first line starting with "provider", the value after '=' without quotes.
 */
char *rh_prisma_lock_provider(const char *toml, size_t len);

/*
 * Prisma's checksum comparison (schema-connector/src/checksum.rs): `stored` matches the script if
 * it equals the hash of the bytes as they are, with every CRLF turned into LF, or with every LF
 * turned into CRLF. A stored value whose length is not 64 is compared in the old format (each
 * byte as %x, no leading zero). Returns 1 on a match, 0 otherwise.
 */
int rh_prisma_checksum_matches(const char *stored, const char *sql, size_t len);

#endif
