/*
 * check_int.h — what the files of the check module share and nobody else needs.
 */
#ifndef RH_CHECK_INT_H
#define RH_CHECK_INT_H

#include <libpq-fe.h>

#include "check/check.h"
#include "migrations/migset.h"

/* Append a finding; file/migration/detail may be NULL. Returns it for further fields. */
rh_check_finding *rh_check_add(rh_check_result *r, rh_check_level level, char step, const char *code,
                               const char *migration, const char *file, int line, const char *detail,
                               const char *fmt, ...) __attribute__((format(printf, 9, 10)));

/*
 * A finding's file is one that exists at head, so that an annotation lands on the diff: a folder,
 * a migration.sql missing at head (P3015, a removed migration) keep their name in the message only.
 */
void rh_check_keep_head_files(rh_check_result *r, const rh_migset *head);

/* Strength of a pg_locks mode name, 1 (AccessShareLock) .. 8 (AccessExclusiveLock); 0 if unknown. */
int rh_check_lock_strength(const char *mode);

/* Drop NOTICE messages on a connection. */
void rh_check_quiet(PGconn *conn);

/* --max-block & co.: an error finding per statement and table whose measured waits exceed the limits
   of r (blockers.c). */
void rh_check_add_block_findings(rh_check_result *r);

/* Production's row count for each measured wait, and an estimate at it where the wait was spent on work
   linear in rows (a rewrite, a scan, an index build) and production has more rows than were measured. */
void rh_check_estimate(rh_check_result *r, const rh_scale *production);

#endif
