/*
 * plan.h — how a migration tool sends one migration file, and what follows (the common model every
 * tool's plan hook fills, rh_tool.plan_file): the whole file as one query (one implicit transaction:
 * atomic; CONCURRENTLY fails with 25001 beside other statements), statement by statement in
 * autocommit (not atomic: a failure leaves the earlier ones; CONCURRENTLY allowed), or the whole file
 * because the tool's own splitter rejects part of it (where, and why).
 */
#ifndef RH_PLAN_H
#define RH_PLAN_H

#include <stddef.h>

typedef enum rh_send_mode {
    RH_SEND_WHOLE,          /* the file as one query */
    RH_SEND_STATEMENTS,     /* statement by statement, each its own query */
    RH_SEND_WHOLE_FALLBACK, /* the tool splits files, but its splitter rejects this one: whole */
} rh_send_mode;

typedef struct rh_plan {
    rh_send_mode mode;
    size_t n_stmts;         /* statements PostgreSQL's parser finds (0 when it rejects the file) */
    size_t n_parts;         /* RH_SEND_STATEMENTS: the queries the tool's own splitter cuts the file into */
    int atomic;             /* 1: a failure leaves nothing of the file (one implicit transaction or one statement) */
    size_t n_concurrently;  /* statements that cannot run in a transaction block (CONCURRENTLY, VACUUM ...) */
    int concurrently_fails; /* 1: they will fail with 25001 (sent with other statements as one query) */
    int fallback_line;      /* RH_SEND_WHOLE_FALLBACK: line of the first statement the splitter rejects */
    char fallback_reason[240];
    char rejected[240];     /* PostgreSQL's parser rejects the file (COPY ... FROM STDIN with its data, a typo): its
                               message; the server then refuses the whole query, nothing of it runs. "" otherwise */
} rh_plan;

/*
 * Zero out and count what PostgreSQL itself decides, whatever the tool: the statements its parser
 * finds in sql (len bytes), and those it refuses inside a transaction block (migrations/txblock.h).
 */
void rh_plan_count(const char *sql, size_t len, rh_plan *out);

/* "whole", "statements", "whole-fallback" (JSON). */
const char *rh_send_mode_name(rh_send_mode mode);

#endif
