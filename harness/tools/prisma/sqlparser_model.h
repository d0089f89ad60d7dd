/*
 * sqlparser_model.h — whether Prisma >= 7.4 splits a migration file into statements.
 *
 * Prisma's schema engine (prisma-engines PR #5767, shipped from 7.4.0) sends a migration.sql
 * statement by statement, each in autocommit, only when the Rust crate sqlparser (0.61,
 * PostgreSQL dialect) parses the WHOLE file; otherwise it sends the file as one simple query
 * (one implicit transaction), as Prisma 6 does. This is a model of what sqlparser 0.61 accepts,
 * built on PostgreSQL's own parse tree (libpg_query): per statement node type and its options,
 * plus the few surface forms the tree does not keep. No node, no Rust: the conformance test
 * tests/conformance/sqlparser/split_decision.test.sh measures it against the real sqlparser 0.61;
 * docs/engine.md names every known disagreement.
 */
#ifndef RH_SQLPARSER_MODEL_H
#define RH_SQLPARSER_MODEL_H

#include <stddef.h>

typedef struct rh_split_decision {
    int split;          /* 1: sqlparser 0.61 parses the whole file: Prisma sends it statement by statement */
    size_t n_stmts;     /* statements PostgreSQL's parser finds in the file (0 when it rejects the file) */
    int line;           /* when split is 0: line of the first statement sqlparser rejects (0: the whole file) */
    char reason[240];   /* when split is 0: why sqlparser 0.61 rejects the file, e.g. "DO blocks" */
} rh_split_decision;

/* Decide for a script of len bytes (need not be NUL-terminated). Never fails: a file that
   PostgreSQL's parser rejects is judged rejected by sqlparser too (see docs/engine.md). */
void rh_sqlparser_decide(const char *sql, size_t len, rh_split_decision *out);

#endif
