/*
 * lex.h — the scenario lexer (internal to the scenario module): text into logical lines of words.
 *
 * A logical line is one physical line, or several joined by a trailing backslash, plus the body of
 * a heredoc it opened. Words follow shell quoting: "double" (with \" \\ \n \t escapes), 'single'
 * (literal), a backslash escapes the next character outside quotes, `#` at the start of a word
 * begins a comment.
 */
#ifndef RH_SCN_LEX_H
#define RH_SCN_LEX_H

#include <stddef.h>

#include "util/buf.h"

typedef struct rh_tok {
    char *text;      /* the word after quote removal */
    char *raw;       /* the word as written (quotes kept): object references are split on it */
    int line, col;   /* 1-based */
    int quoted;      /* some part of the word was quoted */
} rh_tok;

typedef struct rh_lline {
    rh_tok *toks;
    size_t n;
    int line;            /* first physical line */
    char *source;        /* the first physical line, for diagnostics and reports */
    char *heredoc;       /* body of `<<WORD`, or NULL; its token is removed from toks */
    int heredoc_line;    /* first line of the body */
    int heredoc_col;     /* column of the `<<WORD` token */
} rh_lline;

typedef struct rh_lexer {
    const char *file;    /* for messages */
    const char *text;
    size_t len;
    size_t pos;
    int line;            /* line number of text[pos] */
} rh_lexer;

void rh_lex_init(rh_lexer *lx, const char *file, const char *text, size_t len);

/*
 * Read the next logical line that holds at least one word. Returns 1 with *out filled, 0 at the
 * end of the text, -1 on a lexical error (a diagnostic is appended to diag; the lexer has moved
 * past the offending line so that the caller may continue).
 */
int rh_lex_next(rh_lexer *lx, rh_lline *out, rh_buf *diag);

void rh_lline_free(rh_lline *l);

/* Append "file:line:col: error: msg", the source line with a caret, and "  hint: ..." if hint. */
void rh_scn_diag(rh_buf *diag, const char *file, const char *source, int line, int col, const char *hint,
                 const char *fmt, ...) __attribute__((format(printf, 7, 8)));

#endif
