/*
 * globals.h — may a migration touch what every database of a cluster shares?
 *
 * A check runs several deploys (the clean deploy, the upgrade path, the lock trace) as databases of
 * one throwaway cluster. They meet in the cluster's global objects: roles and their memberships and
 * settings, databases and their settings and ACLs, tablespaces, subscriptions, parameter ACLs,
 * replication slots and origins, shared comments and labels, the server's configuration (ALTER
 * SYSTEM); and one database's SQL can reach another's (dblink, postgres_fdw) or its backends
 * (pg_terminate_backend). When a migration may touch any of these, each deploy needs a cluster of its
 * own (docs/check.md, "Isolation").
 *
 * The detector is a deliberately quote-blind word scan: string literals, dollar-quoted bodies (DO
 * blocks, functions), quoted identifiers and comments are read as if they were code, so dynamic SQL
 * written out as text is seen. A false positive costs time (more clusters), a false negative a wrong
 * verdict; SQL assembled from pieces ('CREATE ' || 'DATA' || 'BASE') is not seen (docs/check.md).
 */
#ifndef RH_MIGRATIONS_GLOBALS_H
#define RH_MIGRATIONS_GLOBALS_H

#include <stddef.h>

#include "migrations/migset.h"

/*
 * Whether sql (len bytes, need not be NUL-terminated, may hold NUL bytes) may touch a cluster's
 * global objects or reach another database. *what (may be NULL) gets a static description of the
 * first match ("CREATE DATABASE", "GRANT role membership"), or NULL.
 */
int rh_sql_may_touch_globals(const char *sql, size_t len, const char **what);

/* The same over every migration of set (those with SQL); *name (may be NULL) gets the first matching
   migration's name (owned by set). */
int rh_migset_may_touch_globals(const rh_migset *set, const char **what, const char **name);

#endif
