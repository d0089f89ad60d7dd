/*
 * parse_words.c — reading a step's words: take the next one, require one, require the end of the
 * arguments, and tell what a word is (a count, a SQLSTATE, a name, a path).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/parse_int.h"

/* The next word of the step's arguments, not consumed (NULL at `=>`, `&` or the end). */
const rh_tok *rh_scnp_peek(cur *c)
{
    return c->i < c->end ? &c->l->toks[c->i] : NULL;
}

/* The next word of the step's arguments, consumed. */
const rh_tok *rh_scnp_take(cur *c)
{
    return c->i < c->end ? &c->l->toks[c->i++] : NULL;
}

/* A keyword is written unquoted: "ok" in quotes is a value, not the keyword. */
int rh_scnp_is(const rh_tok *t, const char *w)
{
    return t && !t->quoted && strcmp(t->text, w) == 0;
}

/* A required word: reports "expected WHAT" at the end of the line when missing. */
const rh_tok *rh_scnp_need(cur *c, const char *what, const char *hint)
{
    const rh_tok *t = rh_scnp_take(c);
    if (!t)
        rh_scnp_err(c, NULL, hint, "expected %s", what);
    return t;
}

/* Nothing may follow the step's arguments (before `=>`). */
int rh_scnp_need_end(cur *c, const char *hint)
{
    const rh_tok *t = rh_scnp_peek(c);
    if (t)
        return rh_scnp_err(c, t, hint, "unexpected '%s'", t->text);
    return 0;
}

/* A non-negative int-sized whole number; the error names what was expected. */
int rh_scnp_count(cur *c, const rh_tok *t, long *out, const char *what)
{
    if (!t)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(t->text, &end, 10);
    if (!isdigit((unsigned char)t->text[0]) || *end || errno || v < 0 || v > INT_MAX)
        return rh_scnp_err(c, t, NULL, "expected %s (a whole number), got '%s'", what, t->text);
    *out = v;
    return 0;
}

/* A count rather than a name (migration names start with digits too, but have more). */
int rh_scnp_all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Five digits or capital letters, as PostgreSQL reports them. */
int rh_scnp_is_sqlstate(const char *s)
{
    if (strlen(s) != 5)
        return 0;
    for (int i = 0; i < 5; i++)
        if (!isdigit((unsigned char)s[i]) && !isupper((unsigned char)s[i]))
            return 0;
    return 1;
}

/* A setting or variable name: it is sent to the server or the environment as written. */
int rh_scnp_is_ident(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.' || *s == '-'))
            return 0;
    return 1;
}

/* A single word argument and nothing else. */
int rh_scnp_one_arg(cur *c, rh_scn_step *st, const char *what, const char *hint)
{
    const rh_tok *t = rh_scnp_need(c, what, hint);
    if (!t)
        return -1;
    st->arg = rh_xstrdup(t->text);
    return rh_scnp_need_end(c, hint);
}

/* A path written in the scenario, relative to the file that holds the step. */
char *rh_scnp_path(cur *c, const char *path)
{
    if (path[0] == '/' || strcmp(c->dir, ".") == 0)
        return rh_xstrdup(path);
    return rh_xasprintf("%s/%s", c->dir, path);
}

/* The text of sql / session / query steps: one quoted word or the heredoc, not both. */
int rh_scnp_take_text(cur *c, rh_scn_step *st, const char *what)
{
    if (c->l->heredoc) {
        st->text = rh_xstrdup(c->l->heredoc);
        st->text_line = c->l->heredoc_line;
        return 0;
    }
    const rh_tok *t = rh_scnp_take(c);
    if (!t)
        return rh_scnp_err(c, NULL, "write it on the line in quotes, or open a heredoc: sql <<EOF ... EOF",
                           "expected %s", what);
    st->text = rh_xstrdup(t->text);
    st->text_line = t->line;
    return 0;
}

/* Only a few steps read a heredoc; elsewhere it would be dropped without a word. */
int rh_scnp_no_heredoc(cur *c, const char *kw)
{
    if (c->l->heredoc) {
        rh_tok at = {NULL, NULL, c->l->line, c->l->heredoc_col, 0};
        return rh_scnp_err(c, &at, "heredocs go with sql, sql-file, session, restore and expect query",
                           "'%s' takes no heredoc", kw);
    }
    return 0;
}

/* One more name of a list step (expect ledger order, expect status pending ...). */
void rh_scnp_add_name(rh_scn_step *st, const char *name)
{
    st->names = rh_xrealloc(st->names, (st->nnames + 1) * sizeof *st->names);
    st->names[st->nnames++] = rh_xstrdup(name);
}
