/*
 * txblock.h — PostgreSQL's own rules for a migration file's transactions, whatever tool sends it:
 * which statements it refuses inside a transaction block (25001), and what it does with the
 * transaction control (BEGIN, COMMIT ...) of a file sent as one simple-query message.
 *
 * Such a message runs as one implicit transaction block, and its own transaction control changes
 * that: statements before an explicit BEGIN join its block; a COMMIT in the middle commits what
 * came before it, so a later failure leaves a partial apply; a BEGIN never closed leaves the block
 * open after the file. tests/unit/test_txblock.c checks each of these on a real server.
 *
 * A tool that sends each statement as its own simple query instead (a split-statements profile,
 * migrations/profile.h): a statement outside an explicit block commits on its own, so nothing
 * joins a BEGIN, and a COMMIT commits only what ran since its BEGIN.
 */
#ifndef RH_TXBLOCK_H
#define RH_TXBLOCK_H

#include <stddef.h>

typedef enum rh_txblock_effect {
    RH_TXBLOCK_NONE,         /* not transaction control, or nothing can be left half-applied by it */
    RH_TXBLOCK_JOINS,        /* BEGIN after statements: they join its block (commit or roll back with it) */
    RH_TXBLOCK_PARTIAL,      /* COMMIT with statements after it: what came before stays if they fail */
    RH_TXBLOCK_UNTERMINATED, /* BEGIN with no COMMIT/ROLLBACK after it: the block is still open after the file */
    RH_TXBLOCK_ROLLBACK,     /* ROLLBACK/ABORT: undoes what ran in its block, and the file still "succeeds" */
} rh_txblock_effect;

/* Whether PostgreSQL refuses the statement (its text) inside a transaction block with 25001: CREATE INDEX
   CONCURRENTLY, VACUUM, CREATE DATABASE, ALTER SYSTEM, DETACH PARTITION ... CONCURRENTLY ... */
int rh_txblock_refused(const char *text);
/* The same rule, naming what it matched ("VACUUM", "CREATE INDEX CONCURRENTLY"); NULL when not refused. */
const char *rh_txblock_refused_name(const char *text);

/* Whether a statement's leading words (rh_stmt_keywords or rh_stmt_words: any case) are transaction control. */
int rh_txblock_is_control(const char *keywords);

/* Whether they end the transaction block (COMMIT, END, ROLLBACK, ABORT, PREPARE TRANSACTION; not
   ROLLBACK TO or the two-phase forms). */
int rh_txblock_ends(const char *keywords);

/*
 * The effect of statement i of a file of n statements, given each statement's leading keywords
 * (rh_stmt_keywords, or as written: compared without regard to case). *before (may be NULL) gets the number of statements
 * the effect is about: for JOINS and UNTERMINATED the statements that joined the block before the
 * BEGIN, for PARTIAL those committed by the COMMIT, for ROLLBACK those it undoes. split: each
 * statement is sent as its own query, else the file is one query.
 */
rh_txblock_effect rh_txblock_effect_of(const char *const *keywords, size_t n, size_t i, int split, size_t *before);

#endif
