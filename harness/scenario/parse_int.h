/*
 * parse_int.h — what the scenario parser's files share (internal to the scenario module): the
 * parser state, the line being read, and the helpers each step's reader uses. parse.c drives the
 * lines; parse_setup.c, parse_command.c, parse_sql.c, parse_expect*.c read one family of steps each.
 */
#ifndef RH_SCN_PARSE_INT_H
#define RH_SCN_PARSE_INT_H

#include <stddef.h>

#include "scenario/lex.h"
#include "scenario/scenario.h"
#include "util/buf.h"

#define MAX_ERRORS 8
#define MAX_INCLUDE_DEPTH 16

typedef struct parser {
    rh_scenario *s;
    size_t cap;
    rh_buf diag;
    int nerrors;
    int flags;
    const rh_scn_tools *tools;           /* the tools' answers (scenario.h); NULL: none asked */
    int depth;
    char *stack[MAX_INCLUDE_DEPTH + 1];  /* canonical paths of the files being read (include cycles) */
    size_t text_bytes;                   /* of the file and its includes so far: at most RH_FS_READ_MAX */
    /* what earlier steps made known, for checks that save a run */
    char **sessions;
    size_t nsessions;
    char **snapshots;
    size_t nsnapshots;
    int have_output;                     /* a Prisma command has ended before this line (steps are one
                                            linear list, includes read in place): `expect output` has
                                            something to look at */
    const char *background;              /* "deploy"/"status"/"resolve" started with & and not waited */
    const char *bg_file;                 /* where it was started, for "never waited for" */
    char *bg_source;
    int bg_line;
} parser;

/* One logical line being read. */
typedef struct cur {
    parser *p;
    const char *file;
    const char *dir;
    rh_lline *l;
    size_t i;        /* next word */
    size_t end;      /* words before `=>` / `&` */
    size_t arrow;    /* index of `=>`, or l->n */
    int amp;         /* a trailing `&` was given */
} cur;

/* parse_diag.c: report an error at a word (at the end of the line when at is NULL); always -1 */
int rh_scnp_err(cur *c, const rh_tok *at, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "did you mean 'x'?" for the closest of words (NULL-terminated), or "expected one of: ..." */
void rh_scnp_suggest(char *out, size_t n, const char *word, const char *const *words);

/* parse_words.c: the next word before `=>`/`&` (NULL at the end); take also moves past it */
const rh_tok *rh_scnp_peek(cur *c);
const rh_tok *rh_scnp_take(cur *c);
int rh_scnp_is(const rh_tok *t, const char *w);   /* t is the unquoted keyword w */
const rh_tok *rh_scnp_need(cur *c, const char *what, const char *hint);
int rh_scnp_need_end(cur *c, const char *hint);
int rh_scnp_one_arg(cur *c, rh_scn_step *st, const char *what, const char *hint);  /* into st->arg */
int rh_scnp_count(cur *c, const rh_tok *t, long *out, const char *what);
int rh_scnp_all_digits(const char *s);
int rh_scnp_is_sqlstate(const char *s);
int rh_scnp_is_ident(const char *s);
char *rh_scnp_path(cur *c, const char *path);

/* confine.c: the scenario's roots (its folder, its repository, the allowed folders) */
void rh_scnp_set_roots(rh_scenario *s, const char *const *allow, size_t nallow);
/* a path a step names must be inside them (an error at `at` otherwise); one that does not resolve yet passes */
int rh_scnp_check_path(cur *c, const rh_tok *at, const char *path, const char *what);
int rh_scnp_take_text(cur *c, rh_scn_step *st, const char *what);
int rh_scnp_no_heredoc(cur *c, const char *kw);
void rh_scnp_add_name(rh_scn_step *st, const char *name);

/* parse_command.c: the outcome after `=>`; allowed is a set of OUT_* (0: the step takes none) */
enum { OUT_ENGINE = 1, OUT_SQL = 2, OUT_BLOCKED = 4 };
int rh_scnp_outcome(cur *c, rh_scn_step *st, int allowed);

/* parse_sql.c: a session opened by an earlier line; a Prisma command's name (not a session's) */
int rh_scnp_known_session(parser *p, const char *name);
int rh_scnp_is_engine_name(const char *s);

/* The readers of the step families: each fills st from the words after the keyword k. */
int rh_scnp_st_setup(cur *c, rh_scn_step *st, const char *k);     /* parse_setup.c */
int rh_scnp_st_restore(cur *c, rh_scn_step *st, const char *k);
int rh_scnp_st_snapshot(cur *c, rh_scn_step *st, const char *k);
int rh_scnp_st_scale(cur *c, rh_scn_step *st, const char *k);
int rh_scnp_st_tool(cur *c, rh_scn_step *st, const char *k);
int rh_scnp_st_engine(cur *c, rh_scn_step *st, const char *k);    /* parse_command.c */
int rh_scnp_st_sql(cur *c, rh_scn_step *st, const char *k);       /* parse_sql.c */
int rh_scnp_st_session(cur *c, rh_scn_step *st, const char *k);
int rh_scnp_st_wait(cur *c, rh_scn_step *st, const char *k);
int rh_scnp_st_session_end(cur *c, rh_scn_step *st, const char *k);
int rh_scnp_st_set(cur *c, rh_scn_step *st, const char *k);
int rh_scnp_st_reset(cur *c, rh_scn_step *st, const char *k);
int rh_scnp_st_fault(cur *c, rh_scn_step *st, const char *k);
int rh_scnp_st_sleep(cur *c, rh_scn_step *st, const char *k);
int rh_scnp_st_restart(cur *c, rh_scn_step *st, const char *k);
int rh_scnp_st_expect(cur *c, rh_scn_step *st, const char *k);    /* parse_expect.c */
int rh_scnp_expect_object(cur *c, rh_scn_step *st, const rh_tok *kindtok);  /* parse_expect_object.c */

/* parse_setup.c: the header settings scenario, timeout and skip (no step); 1 if kw is none */
int rh_scnp_header(cur *c, const rh_tok *kw);

/* parse_check.c: checks across lines, after a step's line and after the last line */
int rh_scnp_check_line(cur *c, rh_scn_step *st, const char *k, int rc);
void rh_scnp_check_end(parser *p);

/* parse.c: read one file's text (an include reads its file in place) */
int rh_scnp_file(parser *p, const char *path, const char *text, size_t len, const rh_tok *from, cur *fromc);

/* model.c: free what a step owns (not the step itself) */
void rh_scn_step_clear(rh_scn_step *st);

#endif
