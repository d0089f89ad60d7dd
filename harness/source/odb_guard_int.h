/*
 * odb_guard_int.h — the source module's guard in front of libgit2's loose objects (odb_guard.c).
 *
 * libgit2 1.5.1 loops forever inflating a truncated loose object (its zstream treats zlib's
 * Z_BUF_ERROR as "retry" with no more input to give: libgit2 issue 7342, fixed after 1.5), and a
 * caller that swallows a read error (a missing file is normal for a tool's folder rules) turns a damaged
 * object into a wrong answer (P3015). The guard reads loose objects itself, bounded, checks each
 * one completely (zlib stream end, the header's size, the object id), and remembers the first
 * damaged one so that every reader reports it, whatever it did with the failed read.
 */
#ifndef RH_ODB_GUARD_INT_H
#define RH_ODB_GUARD_INT_H

#include <git2.h>

typedef struct rh_git_guard rh_git_guard;

/* Put the guard in front of the repository's object database (it is owned and freed by it). */
int rh_git_guard_install(git_repository *repo, rh_git_guard **out);

/* The first damaged object read, as a message naming it and what to run; NULL if none. */
const char *rh_git_guard_damage(const rh_git_guard *g);

#endif
