/*
 * split.h — a migration script cut into statements by PostgreSQL's own parser (libpg_query).
 *
 * For per-statement work: the `check` hazards (CREATE INDEX CONCURRENTLY in a multi-statement
 * file, transaction control in a file), and the split-statements execution profile. Offsets are
 * byte offsets into the script; statement text excludes the terminating ';'.
 */
#ifndef RH_SPLIT_H
#define RH_SPLIT_H

#include <stddef.h>

#include "util/err.h"

typedef struct rh_stmt {
    size_t offset;   /* where the statement starts in the script (the parser's stmt_location) */
    size_t len;      /* its length (stmt_len; the rest of the script for a last statement without ';') */
    char *text;      /* the statement, trimmed of surrounding white space, NUL-terminated */
    int line;        /* 1-based line of its first non-blank character */
} rh_stmt;

typedef struct rh_split {
    rh_stmt *items;
    size_t n;
} rh_split;

/*
 * Split sql (len bytes; need not be NUL-terminated) with pg_query_split_with_parser. A syntax
 * error fails with "syntax error at or near ... (line L, column C)" in err; `out` is then empty.
 * Empty statements (";;") and comment-only text produce no entries.
 */
int rh_sql_split(rh_split *out, const char *sql, size_t len, rh_err *err);

void rh_split_free(rh_split *s);

/* Skip white space and comments (line comments, nested block comments); *lines (may be NULL)
   counts the newlines skipped. */
const char *rh_sql_skip_blank(const char *p, int *lines);

/* Leading keywords of a statement, upper-cased and single-spaced ("CREATE INDEX CONCURRENTLY"):
   for quick classification. Comments are skipped. Returns out. */
char *rh_stmt_keywords(const char *text, int nwords, char *out, size_t outsz);
/* The same leading words as written ("ALTER TABLE t20 ADD"): a label for reports, whose identifiers must
   read as the statement has them (an unquoted identifier is folded to lower case, never upper). */
char *rh_stmt_words(const char *text, int nwords, char *out, size_t outsz);

#endif
