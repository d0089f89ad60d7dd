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

/* ---- measuring mode of the tracer (measure.c) ---- */

typedef struct rh_check_meter rh_check_meter;
rh_check_meter *rh_check_meter_new(const char *conninfo, rh_err *err);
void rh_check_meter_free(rh_check_meter *m);
/* A pre-existing table whose reads and writes are probed when the traced backend locks it. */
void rh_check_meter_add_table(rh_check_meter *m, unsigned long oid, const char *name);
/*
 * While backend pid runs statement st (or holds its locks): start probes on the tables it was newly
 * seen locking (stronger than when their probes last started), record who waits for it, collect the
 * probes that got through into st->waits (or the earlier statement that started them). -1 when the
 * watcher connection fails.
 */
int rh_check_meter_poll(rh_check_meter *m, int pid, rh_check_stmt *st, rh_err *err);
/* After the transaction ended: wait for every probe to get through; the next transaction starts afresh. */
void rh_check_meter_drain(rh_check_meter *m);
/* The meter's clock (ms): wall time without the tracer's own work between statements. */
double rh_check_meter_clock(const rh_check_meter *m);
void rh_check_meter_pause(rh_check_meter *m);
void rh_check_meter_resume(rh_check_meter *m);

#endif
