/*
 * folder.h — Prisma's migrations folder on disk: its listing rules (directories only, no filter on
 * names, hidden ones included; each directory's migration.sql), the same rules at a git revision
 * (revision.c), migration_lock.toml's provider, and Prisma's checksum comparison.
 */
#ifndef RH_TOOLS_PRISMA_FOLDER_H
#define RH_TOOLS_PRISMA_FOLDER_H

#include <stddef.h>

#include "migrations/migset.h"
#include "source/git.h"
#include "util/err.h"

/*
 * Read a plain folder from disk with Prisma's rules. Entries come in byte order (rh_migset_sort
 * orders them by a profile). root: the work tree of a repository, or NULL; when given, a
 * migration.sql or migration_lock.toml whose real path (links followed) is outside root is not
 * read, and the migration is marked with a problem.
 */
int rh_prisma_read_dir(rh_migset *out, const char *dir, const char *root, rh_err *err);

/*
 * Read the migrations folder `path` (relative to the repository root) at `rev` into `out`, with
 * Prisma's listing rules. Entries come in byte order (rh_migset_sort for a profile's).
 * Reported in the set, never silently skipped: symbolic links (set problem), submodules /
 * gitlinks (entry without sql + problem), non-UTF-8 names and names with invisible characters
 * (entry problem), look-alikes of migration.sql ("migration.sql" + U+200E).
 * Errors: "the folder PATH does not exist at REV" / "PATH is a file, not a folder, at REV".
 */
int rh_prisma_read_rev(rh_migset *out, rh_git_repo *repo, const rh_git_rev *rev, const char *path, rh_err *err);

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
