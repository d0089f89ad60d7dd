/*
 * parse.c — the scenario parser's driver: a file's text into logical lines (lex.c), each line to the
 * reader of its step family (parse_setup.c, parse_command.c, parse_sql.c, parse_expect.c), includes
 * read in place without loops, and the result or the collected errors (see scenario.h and
 * docs/scenarios.md). Errors point at the word that is wrong, say what was expected, and suggest the
 * nearest keyword for a typo.
 */
#include "scenario/scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/parse_int.h"
#include "util/buf.h"
#include "util/fs.h"

/* include FILE: the file is read in place; a cycle or a missing file is an error at this line. */
static int st_include(cur *c, const rh_tok *kw)
{
    parser *p = c->p;
    if (p->flags & RH_SCN_NO_INCLUDE)
        return rh_scnp_err(c, kw, NULL, "include is not allowed here");
    const rh_tok *t = rh_scnp_need(c, "a file to include", "relative to this file, e.g. include _setup.inc");
    if (!t || rh_scnp_need_end(c, NULL) < 0)
        return -1;
    if (p->depth >= MAX_INCLUDE_DEPTH)
        return rh_scnp_err(c, t, NULL, "includes nested more than %d deep", MAX_INCLUDE_DEPTH);
    char *path = rh_scnp_path(c, t->text);
    if (rh_scnp_check_path(c, t, path, "include") < 0) {
        free(path);
        return -1;
    }
    char *canon = realpath(path, NULL);
    if (!canon) {
        rh_scnp_err(c, t, "paths are relative to the including file", "cannot include '%s': %s", path, strerror(errno));
        free(path);
        return -1;
    }
    for (int i = 0; i <= p->depth; i++)
        if (p->stack[i] && strcmp(p->stack[i], canon) == 0) {
            rh_scnp_err(c, t, "an included file must not include itself, directly or not", "include cycle: '%s'", path);
            free(path);
            free(canon);
            return -1;
        }
    char *data;
    size_t dlen;
    rh_err ferr;
    if (rh_scn_read_file(p->s, path, &data, &dlen, &ferr) < 0) {
        rh_scnp_err(c, t, NULL, "cannot include '%s': %s", path, ferr.msg);
        free(path);
        free(canon);
        return -1;
    }
    if (p->text_bytes + dlen > RH_FS_READ_MAX) {
        /* the same file included many times must not add up to what one file may not be */
        rh_scnp_err(c, t, NULL, "cannot include '%s': the scenario and its includes would hold %zu bytes, over "
                                "rehearse's limit of %zu MiB", path, p->text_bytes + dlen, RH_FS_READ_MAX >> 20);
        free(data);
        free(path);
        free(canon);
        return -1;
    }
    p->text_bytes += dlen;
    p->depth++;
    p->stack[p->depth] = canon;
    int rc = rh_scnp_file(p, path, data, dlen, t, c);
    p->stack[p->depth] = NULL;
    p->depth--;
    free(canon);
    free(data);
    free(path);
    return rc;
}

/* Every step keyword, for "did you mean" on an unknown one. */
static const char *const step_words[] = {
    "scenario", "repo", "migrations", "prisma", "checkout", "deploy", "status", "resolve", "sql", "sql-file",
    "session", "wait", "commit", "rollback", "release", "cancel", "terminate", "set", "reset", "env",
    "fault", "restart", "restore", "snapshot", "expect", "include", "timeout", "skip", "superuser", "sleep",
    "postgres", "scale", "tool", "repair", NULL};


/* The step keywords and the reader of each (header settings and include are handled before). */
static const struct {
    const char *kw;
    int (*read)(cur *c, rh_scn_step *st, const char *k);
} readers[] = {
    {"repo", rh_scnp_st_setup},         {"migrations", rh_scnp_st_setup}, {"prisma", rh_scnp_st_setup},
    {"checkout", rh_scnp_st_setup},     {"deploy", rh_scnp_st_engine},    {"status", rh_scnp_st_engine},
    {"resolve", rh_scnp_st_engine},     {"sql", rh_scnp_st_sql},          {"sql-file", rh_scnp_st_sql},
    {"session", rh_scnp_st_session},    {"wait", rh_scnp_st_wait},        {"commit", rh_scnp_st_session_end},
    {"rollback", rh_scnp_st_session_end}, {"release", rh_scnp_st_session_end},
    {"cancel", rh_scnp_st_session_end}, {"terminate", rh_scnp_st_session_end},
    {"set", rh_scnp_st_set},            {"env", rh_scnp_st_set},          {"reset", rh_scnp_st_reset},
    {"fault", rh_scnp_st_fault},        {"restart", rh_scnp_st_restart},  {"restore", rh_scnp_st_restore},
    {"snapshot", rh_scnp_st_snapshot},  {"sleep", rh_scnp_st_sleep},      {"expect", rh_scnp_st_expect},
    {"scale", rh_scnp_st_scale},
    {"tool", rh_scnp_st_tool},          {"repair", rh_scnp_st_engine},
};

/* A zeroed step at the end of the list; it counts once its line is read without error. */
static rh_scn_step *new_step(parser *p)
{
    rh_scenario *s = p->s;
    if (s->nsteps == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        s->steps = rh_xrealloc(s->steps, p->cap * sizeof *s->steps);
    }
    rh_scn_step *st = &s->steps[s->nsteps];
    memset(st, 0, sizeof *st);
    return st;
}


/* Read one logical line into a step (or a header setting). */
static int parse_line(cur *c)
{
    parser *p = c->p;
    rh_lline *l = c->l;
    const rh_tok *kw = &l->toks[0];
    /* locate `=>` and a final `&` */
    c->arrow = l->n;
    for (size_t i = 1; i < l->n; i++)
        if (rh_scnp_is(&l->toks[i], "=>")) {
            c->arrow = i;
            break;
        }
    c->end = c->arrow;
    c->amp = 0;
    if (c->end > 1 && rh_scnp_is(&l->toks[c->end - 1], "&")) {
        c->amp = 1;
        c->end--;
    }
    c->i = 1;

    if (kw->quoted) {
        return rh_scnp_err(c, kw, "a line starts with a step keyword, e.g. deploy, sql, expect",
                           "expected a step, got a quoted word");
    }
    const char *k = kw->text;
    if (c->amp && strcmp(k, "deploy") && strcmp(k, "status") && strcmp(k, "resolve"))  /* not repair either */
        return rh_scnp_err(c, &l->toks[c->end], "only deploy, status and resolve can run in the background",
                           "unexpected '&'");

    int h = rh_scnp_header(c, kw);
    if (h <= 0)
        return h;
    if (strcmp(k, "include") == 0) {
        if (rh_scnp_no_heredoc(c, k) < 0)
            return -1;
        return st_include(c, kw);
    }

    rh_scn_step *st = new_step(p);
    st->file = c->file;
    st->line = kw->line;
    st->col = kw->col;
    int rc = 1;
    for (size_t i = 0; i < sizeof readers / sizeof readers[0] && rc == 1; i++)
        if (strcmp(readers[i].kw, k) == 0)
            rc = readers[i].read(c, st, k);
    if (rc == 1) {
        char hint[512];
        rh_scnp_suggest(hint, sizeof hint, k, step_words);
        rc = rh_scnp_err(c, kw, hint, "unknown step '%s'", k);
    }
    rc = rh_scnp_check_line(c, st, k, rc);
    st->source = rh_xstrdup(l->source ? l->source : "");
    p->s->nsteps++;
    if (rc < 0) {
        /* keep the model consistent: drop the half-read step */
        p->s->nsteps--;
        rh_scn_step_clear(&p->s->steps[p->s->nsteps]);
    }
    return rc;
}

/* One copy of each file name, owned by the scenario: steps point at it. */
static const char *intern_file(parser *p, const char *path)
{
    rh_scenario *s = p->s;
    for (size_t i = 0; i < s->nfiles; i++)
        if (strcmp(s->files[i], path) == 0)
            return s->files[i];
    s->files = rh_xrealloc(s->files, (s->nfiles + 1) * sizeof *s->files);
    s->files[s->nfiles] = rh_xstrdup(path);
    return s->files[s->nfiles++];
}

/* The folder that relative paths in a file are read from. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return rh_xstrdup(".");
    if (slash == path)
        return rh_xstrdup("/");
    return rh_xstrndup(path, (size_t)(slash - path));
}

/* Read one file's text; returns -1 if it added an error. */
int rh_scnp_file(parser *p, const char *path, const char *text, size_t len, const rh_tok *from, cur *fromc)
{
    const char *file = intern_file(p, path);
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        /* a UTF-8 byte order mark (Windows editors): invisible, so not part of the first word */
        text += 3;
        len -= 3;
    }
    const char *nul = memchr(text, 0, len);
    if (nul) {
        /* the lexer reads C strings: everything after a NUL would be dropped without a word */
        int line = 1, col = 1;
        for (const char *q = text; q < nul; q++, col++)
            if (*q == '\n') {
                line++;
                col = 0;
            }
        rh_scn_diag(&p->diag, file, NULL, line, col, "a scenario is a text file",
                    "a NUL byte (is this a binary file?)");
        p->nerrors++;
        if (from && p->nerrors <= MAX_ERRORS)
            rh_buf_printf(&p->diag, "  (included from %s:%d:%d)\n", fromc->file, from->line, from->col);
        return -1;
    }
    char *dir = dir_of(path);
    rh_lexer lx;
    rh_lex_init(&lx, file, text, len);
    int before = p->nerrors;
    for (;;) {
        rh_lline l;
        int r = rh_lex_next(&lx, &l, &p->diag);
        if (r == 0)
            break;
        if (r < 0) {
            p->nerrors++;
            continue;
        }
        cur c = {p, file, dir, &l, 0, 0, 0, 0};
        if (l.n == 0) {
            /* a line holding only a heredoc marker */
            rh_tok at = {NULL, NULL, l.line, l.heredoc_col, 0};
            rh_scnp_err(&c, &at, "a heredoc belongs to a step on the same line: sql <<SQL", "a heredoc without a step");
        } else {
            parse_line(&c);
        }
        rh_lline_free(&l);
        if (p->nerrors > MAX_ERRORS)
            break;
    }
    free(dir);
    if (from && p->nerrors > before && p->nerrors <= MAX_ERRORS)
        rh_buf_printf(&p->diag, "  (included from %s:%d:%d)\n", fromc->file, from->line, from->col);
    return p->nerrors > before ? -1 : 0;
}

/* The scenario's name when it has no `scenario` line: its file name without the extension. */
static char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    return dot && dot != b ? rh_xstrndup(b, (size_t)(dot - b)) : rh_xstrdup(b);
}

static int parse_text(rh_scenario **out, const char *path, const char *text, size_t len, int flags,
                      const char *const *allow, size_t nallow, const rh_scn_tools *tools, rh_err *err)
{
    *out = NULL;
    parser p;
    memset(&p, 0, sizeof p);
    p.flags = flags;
    p.tools = tools;
    p.text_bytes = len;
    p.s = rh_xcalloc(1, sizeof *p.s);
    p.s->path = rh_xstrdup(path);
    p.s->dir = dir_of(path);
    rh_scnp_set_roots(p.s, allow, nallow);
    rh_buf_init(&p.diag);
    p.stack[0] = (flags & RH_SCN_NO_INCLUDE) ? NULL : realpath(path, NULL);
    rh_scnp_file(&p, path, text, len, NULL, NULL);
    free(p.stack[0]);
    rh_scnp_check_end(&p);
    free(p.bg_source);
    for (size_t i = 0; i < p.nsessions; i++)
        free(p.sessions[i]);
    free(p.sessions);
    for (size_t i = 0; i < p.nsnapshots; i++)
        free(p.snapshots[i]);
    free(p.snapshots);
    if (p.nerrors) {
        if (p.nerrors > MAX_ERRORS)
            rh_buf_printf(&p.diag, "(%d more errors not shown)\n", p.nerrors - MAX_ERRORS);
        rh_err_set(err, "%s", p.diag.data);
        /* drop the trailing newline: callers print messages with their own */
        size_t n = strlen(err->msg);
        while (n && err->msg[n - 1] == '\n')
            err->msg[--n] = 0;
        rh_buf_free(&p.diag);
        rh_scn_free(p.s);
        return -1;
    }
    rh_buf_free(&p.diag);
    if (!p.s->name)
        p.s->name = base_name(path);
    *out = p.s;
    return 0;
}

int rh_scn_parse_string(rh_scenario **out, const char *path, const char *text, size_t len, int flags,
                        const rh_scn_tools *tools, rh_err *err)
{
    return parse_text(out, path, text, len, flags, NULL, 0, tools, err);
}

int rh_scn_parse_file_allow(rh_scenario **out, const char *path, const char *const *allow, size_t nallow,
                            const rh_scn_tools *tools, rh_err *err)
{
    char *data;
    size_t len;
    *out = NULL;
    /* the file itself too: a *.scenario link in a collected folder may lead anywhere */
    rh_scenario where = {.dir = dir_of(path)};
    rh_scnp_set_roots(&where, allow, nallow);
    int rrc = rh_scn_read_file(&where, path, &data, &len, err);
    for (size_t i = 0; i < where.nroots; i++)
        free(where.roots[i]);
    free(where.roots);
    free(where.dir);
    if (rrc < 0)
        return -1;
    int rc = parse_text(out, path, data, len, 0, allow, nallow, tools, err);
    free(data);
    return rc;
}

int rh_scn_parse_file(rh_scenario **out, const char *path, const rh_scn_tools *tools, rh_err *err)
{
    return rh_scn_parse_file_allow(out, path, NULL, 0, tools, err);
}
