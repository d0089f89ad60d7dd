/*
 * lock_text.h — the session texts that cannot change how a session ends (lock_text.c).
 */
#ifndef RH_RUNNER_LOCK_TEXT_H
#define RH_RUNNER_LOCK_TEXT_H

/* 1 when every statement of text is BEGIN / START TRANSACTION / COMMIT / ROLLBACK / END / ABORT or a
   SELECT of advisory-lock functions (pg_advisory_lock ... pg_advisory_unlock_shared) on one or two
   integer literals; 0 for anything else (NULL included). */
int rh_lock_text_plain(const char *text);

#endif
