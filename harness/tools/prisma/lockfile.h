/*
 * lockfile.h — reading package managers' files without git: which version a lock file installs
 * for a package (package-lock.json v1-v3, pnpm-lock.yaml v5-v9, yarn.lock classic and berry), and
 * which folders a workspace declares (package.json "workspaces", pnpm-workspace.yaml). Pure text
 * parsers over NUL-terminated bytes (fuzzed: tests/fuzz/fuzz_lockfile.c); detect.c decides which
 * files to read at a revision.
 */
#ifndef RH_TOOLS_PRISMA_LOCKFILE_H
#define RH_TOOLS_PRISMA_LOCKFILE_H

#include <stddef.h>

typedef enum rh_lock_kind { RH_LOCK_NPM, RH_LOCK_PNPM, RH_LOCK_YARN } rh_lock_kind;

/* "package-lock.json", "pnpm-lock.yaml", "yarn.lock" */
const char *rh_lock_file_name(rh_lock_kind kind);

/*
 * The version of `pkgname` that the lock file `data` (NUL-terminated) installs for the package in
 * folder `pkgdir_rel` (relative to the lock file's folder, "" for the same folder), whose
 * package.json names it with `range` (may be NULL). Returns 1 and fills out, or 0 when the file
 * names no such version.
 */
int rh_lock_version(rh_lock_kind kind, const char *data, const char *pkgname, const char *pkgdir_rel,
                    const char *range, char *out, size_t outsz);

typedef enum rh_workspace_kind { RH_WORKSPACE_PACKAGE_JSON, RH_WORKSPACE_PNPM } rh_workspace_kind;

/*
 * The workspace patterns a package.json ("workspaces": [...] or {"packages": [...]}) or a
 * pnpm-workspace.yaml (`packages:` list) declares: a malloc'd array of malloc'd strings in *out
 * (NULL when there are none); returns how many. data is NUL-terminated, len its length.
 */
size_t rh_workspace_patterns(rh_workspace_kind kind, const char *data, size_t len, char ***out);
void rh_workspace_patterns_free(char **patterns, size_t n);

/*
 * Is the folder `rel` (relative to the workspace root) one of the workspace's packages: matched by
 * a pattern and by no later '!' pattern? Globs as npm, yarn and pnpm read them.
 */
int rh_workspace_has(char *const *patterns, size_t n, const char *rel);

#endif
