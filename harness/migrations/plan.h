/*
 * plan.h — how a Prisma version will send one migration file, and what follows: one implicit
 * transaction (atomic; CONCURRENTLY fails with 25001 beside other statements), N autocommit
 * statements (not atomic: a failure leaves the earlier ones; CONCURRENTLY allowed), or, for
 * Prisma >= 7.4, the whole file because sqlparser 0.61 rejects part of it (and why).
 */
#ifndef RH_PLAN_H
#define RH_PLAN_H

#include <stddef.h>

#include "migrations/profile.h"

typedef enum rh_send_mode {
    RH_SEND_WHOLE,          /* the profile sends every file whole (< 7.4) */
    RH_SEND_STATEMENTS,     /* >= 7.4, sqlparser parses the file: statement by statement */
    RH_SEND_WHOLE_FALLBACK, /* >= 7.4, sqlparser rejects the file: whole */
} rh_send_mode;

typedef struct rh_plan {
    rh_send_mode mode;
    size_t n_stmts;         /* statements PostgreSQL's parser finds (0 when it rejects the file) */
    int atomic;             /* 1: a failure leaves nothing of the file (one implicit transaction or one statement) */
    size_t n_concurrently;  /* statements that cannot run in a transaction block (CONCURRENTLY, VACUUM ...) */
    int concurrently_fails; /* 1: they will fail with 25001 (sent with other statements as one query) */
    int fallback_line;      /* RH_SEND_WHOLE_FALLBACK: line of the first statement sqlparser rejects */
    char fallback_reason[240];
} rh_plan;

void rh_plan_file(const rh_profile *profile, const char *sql, size_t len, rh_plan *out);

/* "whole", "statements", "whole-fallback" (JSON). */
const char *rh_send_mode_name(rh_send_mode mode);

#endif
