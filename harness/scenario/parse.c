/*
 * parse.c — the scenario parser: logical lines from the lexer into steps (see scenario.h and
 * docs/scenarios.md). Each step keyword has one small function that reads its words. Errors point
 * at the word that is wrong, say what was expected, and suggest the nearest keyword for a typo.
 * The parser also checks what can be known before running: a `wait` names a session or command
 * started earlier, a snapshot is taken before it is compared, includes do not loop.
 */
#include "scenario/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/lex.h"
#include "util/buf.h"
#include "util/fs.h"

#define MAX_ERRORS 8
#define MAX_INCLUDE_DEPTH 16

typedef struct parser {
    rh_scenario *s;
    size_t cap;
    rh_buf diag;
    int nerrors;
    int flags;
    int depth;
    char *stack[MAX_INCLUDE_DEPTH + 1];  /* canonical paths of the files being read (include cycles) */
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

/* ---- diagnostics ----------------------------------------------------------------------------- */

/* The syntax of each step, shown as the hint of an error that has no better one. */
static const struct {
    const char *kw, *usage;
} usages[] = {
    {"scenario", "scenario \"TITLE\""},
    {"repo", "repo PATH"},
    {"migrations", "migrations PATH"},
    {"prisma", "prisma VERSION"},
    {"checkout", "checkout REV"},
    {"deploy", "deploy [&] [=> ok | fails NAME [sqlstate S] | error PCODE | exit N | any]"},
    {"status", "status [&] [=> ok | error PCODE | exit N | any]"},
    {"resolve", "resolve --applied NAME | --rolled-back NAME [&] [=> OUTCOME]"},
    {"sql", "sql [--each] \"SQL\" | <<EOF [=> ok | error SQLSTATE | any]"},
    {"sql-file", "sql-file [--each] PATH | --migration NAME [=> ok | error SQLSTATE | any]"},
    {"session", "session NAME \"SQL\" | <<EOF [=> ok | error SQLSTATE | blocked | any]"},
    {"wait", "wait NAME [blocked] [=> OUTCOME]"},
    {"commit", "commit SESSION"},
    {"rollback", "rollback SESSION"},
    {"release", "release SESSION"},
    {"cancel", "cancel SESSION"},
    {"terminate", "terminate SESSION"},
    {"set", "set NAME VALUE"},
    {"reset", "reset NAME"},
    {"env", "env NAME VALUE"},
    {"fault", "fault terminate|cancel|restart at MIGRATION | before MIGRATION | when blocked"},
    {"restart", "restart"},
    {"restore", "restore schema|ledger PATH | <<EOF"},
    {"snapshot", "snapshot NAME"},
    {"sleep", "sleep DURATION"},
    {"timeout", "timeout DURATION"},
    {"include", "include FILE"},
    {"expect", "expect KIND OBJECT [PROPERTY [VALUE]] | ledger ... | query ... | catalog ... | status ... | output ... | "
               "finding ..."},
};

static const char *usage_of(const cur *c)
{
    if (!c->l || c->l->n == 0 || c->l->toks[0].quoted)
        return NULL;
    for (size_t i = 0; i < sizeof usages / sizeof usages[0]; i++)
        if (strcmp(usages[i].kw, c->l->toks[0].text) == 0)
            return usages[i].usage;
    return NULL;
}

static int perr(cur *c, const rh_tok *at, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Report an error at a word (or at the end of the line when at is NULL). Always returns -1. */
static int perr(cur *c, const rh_tok *at, const char *hint, const char *fmt, ...)
{
    parser *p = c->p;
    p->nerrors++;
    if (p->nerrors > MAX_ERRORS)
        return -1;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = at ? at->line : c->l->line;
    int col = at ? at->col : (int)strlen(c->l->source ? c->l->source : "") + 1;
    /* a word on a continuation line: show just position, the stored source is the first line */
    const char *src = line == c->l->line ? c->l->source : NULL;
    char usage[512];
    if (!hint && usage_of(c)) {
        snprintf(usage, sizeof usage, "usage: %s (docs/scenarios.md)", usage_of(c));
        hint = usage;
    }
    rh_scn_diag(&p->diag, c->file, src, line, col, hint, "%s", msg);
    return -1;
}

/* Edit distance, for "did you mean" hints. */
static int distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    int d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            d[i][j] = v;
        }
    return d[la][lb];
}

/* "did you mean 'x'?" for the closest word of a list, or "expected one of: ..." */
static void suggest(char *out, size_t n, const char *word, const char *const *words)
{
    const char *best = NULL;
    int bd = 99;
    for (size_t i = 0; words[i]; i++) {
        int d = distance(word, words[i]);
        if (d < bd) {
            bd = d;
            best = words[i];
        }
    }
    size_t wl = strlen(word);
    if (best && bd <= 2 && (size_t)bd < wl) {
        snprintf(out, n, "did you mean '%s'?", best);
        return;
    }
    size_t off = (size_t)snprintf(out, n, "expected one of:");
    for (size_t i = 0; words[i] && off < n; i++)
        off += (size_t)snprintf(out + off, n - off, " %s", words[i]);
}

/* ---- word access ----------------------------------------------------------------------------- */

static const rh_tok *peek(cur *c)
{
    return c->i < c->end ? &c->l->toks[c->i] : NULL;
}

static const rh_tok *take(cur *c)
{
    return c->i < c->end ? &c->l->toks[c->i++] : NULL;
}

static int is(const rh_tok *t, const char *w)
{
    return t && !t->quoted && strcmp(t->text, w) == 0;
}

/* A required word: reports "expected WHAT" at the end of the line when missing. */
static const rh_tok *need(cur *c, const char *what, const char *hint)
{
    const rh_tok *t = take(c);
    if (!t)
        perr(c, NULL, hint, "expected %s", what);
    return t;
}

/* Nothing may follow the step's arguments (before `=>`). */
static int need_end(cur *c, const char *hint)
{
    const rh_tok *t = peek(c);
    if (t)
        return perr(c, t, hint, "unexpected '%s'", t->text);
    return 0;
}

static int parse_count(cur *c, const rh_tok *t, long *out, const char *what)
{
    if (!t)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(t->text, &end, 10);
    if (!isdigit((unsigned char)t->text[0]) || *end || errno || v < 0 || v > INT_MAX)
        return perr(c, t, NULL, "expected %s (a whole number), got '%s'", what, t->text);
    *out = v;
    return 0;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

static int is_sqlstate(const char *s)
{
    if (strlen(s) != 5)
        return 0;
    for (int i = 0; i < 5; i++)
        if (!isdigit((unsigned char)s[i]) && !isupper((unsigned char)s[i]))
            return 0;
    return 1;
}

static int is_prisma_code(const char *s)
{
    return strlen(s) == 5 && s[0] == 'P' && all_digits(s + 1);
}

static int is_ident(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.' || *s == '-'))
            return 0;
    return 1;
}

/* A path written in the scenario, relative to the file that holds the step. */
static char *resolve_path(cur *c, const char *path)
{
    if (path[0] == '/' || strcmp(c->dir, ".") == 0)
        return rh_xstrdup(path);
    return rh_xasprintf("%s/%s", c->dir, path);
}

/* The text of sql / session / query steps: one quoted word or the heredoc, not both. */
static int take_text(cur *c, rh_scn_step *st, const char *what)
{
    if (c->l->heredoc) {
        st->text = rh_xstrdup(c->l->heredoc);
        st->text_line = c->l->heredoc_line;
        return 0;
    }
    const rh_tok *t = take(c);
    if (!t)
        return perr(c, NULL, "write it on the line in quotes, or open a heredoc: sql <<EOF ... EOF",
                    "expected %s", what);
    st->text = rh_xstrdup(t->text);
    st->text_line = t->line;
    return 0;
}

static int no_heredoc(cur *c, const char *kw)
{
    if (c->l->heredoc) {
        rh_tok at = {NULL, NULL, c->l->line, c->l->heredoc_col, 0};
        return perr(c, &at, "heredocs go with sql, sql-file, session, restore and expect query",
                    "'%s' takes no heredoc", kw);
    }
    return 0;
}

/* ---- outcomes (`=> ...`) ------------------------------------------------------------------- */

enum { OUT_ENGINE = 1, OUT_SQL = 2, OUT_BLOCKED = 4 };

static int parse_outcome(cur *c, rh_scn_step *st, int allowed)
{
    if (c->arrow >= c->l->n)
        return 0;
    const rh_tok *arrow = &c->l->toks[c->arrow];
    size_t i = c->arrow + 1, n = c->l->n;
    rh_tok *w = i < n ? &c->l->toks[i] : NULL;
    static const char *const engine_words[] = {"ok", "any", "fails", "error", "exit", NULL};
    static const char *const sql_words[] = {"ok", "any", "error", NULL};
    static const char *const session_words[] = {"ok", "any", "error", "blocked", NULL};
    const char *const *words = (allowed & OUT_ENGINE) ? engine_words
                              : (allowed & OUT_BLOCKED) ? session_words : sql_words;
    if (!allowed)
        return perr(c, arrow, "only deploy, status, resolve, sql, sql-file, session and wait take an outcome",
                    "'%s' takes no expected outcome", rh_scn_kind_name(st->kind));
    if (!w) {
        char hint[256];
        suggest(hint, sizeof hint, "", words);
        return perr(c, NULL, hint, "expected an outcome after '=>'");
    }
    size_t used = 1;
    if (is(w, "ok")) {
        st->outcome.kind = RH_OUT_OK;
    } else if (is(w, "any")) {
        st->outcome.kind = RH_OUT_ANY;
    } else if (is(w, "blocked") && (allowed & OUT_BLOCKED)) {
        st->outcome.kind = RH_OUT_BLOCKED;
    } else if (is(w, "fails") && (allowed & OUT_ENGINE)) {
        rh_tok *name = i + 1 < n ? &c->l->toks[i + 1] : NULL;
        if (!name)
            return perr(c, NULL, "e.g. => fails 20251225_step6 sqlstate 25001",
                        "expected the migration that fails after 'fails'");
        st->outcome.kind = RH_OUT_FAILS;
        st->outcome.name = rh_xstrdup(name->text);
        used = 2;
        if (i + 2 < n && is(&c->l->toks[i + 2], "sqlstate")) {
            rh_tok *code = i + 3 < n ? &c->l->toks[i + 3] : NULL;
            if (!code)
                return perr(c, NULL, "a SQLSTATE is five characters, e.g. 25001", "expected a SQLSTATE after 'sqlstate'");
            if (!is_sqlstate(code->text))
                return perr(c, code, "a SQLSTATE is five digits or capital letters, e.g. 25001 or 55P03",
                            "'%s' is not a SQLSTATE", code->text);
            snprintf(st->outcome.code, sizeof st->outcome.code, "%s", code->text);
            used = 4;
        }
    } else if (is(w, "error")) {
        rh_tok *code = i + 1 < n ? &c->l->toks[i + 1] : NULL;
        if (!code)
            return perr(c, NULL, (allowed & OUT_ENGINE) ? "e.g. => error P3009" : "e.g. => error 23505",
                        "expected an error code after 'error'");
        if (allowed & OUT_ENGINE) {
            if (!is_prisma_code(code->text))
                return perr(c, code,
                            is_sqlstate(code->text)
                                ? "a failed migration's SQLSTATE is written: => fails MIGRATION sqlstate CODE"
                                : "Prisma error codes look like P3009, P3018, P1002",
                            "'%s' is not a Prisma error code", code->text);
        } else if (!is_sqlstate(code->text)) {
            return perr(c, code, "a SQLSTATE is five digits or capital letters, e.g. 23505 or 55P03",
                        "'%s' is not a SQLSTATE", code->text);
        }
        st->outcome.kind = RH_OUT_ERROR;
        snprintf(st->outcome.code, sizeof st->outcome.code, "%s", code->text);
        used = 2;
    } else if (is(w, "exit") && (allowed & OUT_ENGINE)) {
        rh_tok *code = i + 1 < n ? &c->l->toks[i + 1] : NULL;
        long v;
        if (!code)
            return perr(c, NULL, "e.g. => exit 1", "expected an exit code after 'exit'");
        if (parse_count(c, code, &v, "an exit code") < 0)
            return -1;
        st->outcome.kind = RH_OUT_EXIT;
        st->outcome.exit_code = (int)v;
        used = 2;
    } else {
        char hint[256];
        suggest(hint, sizeof hint, w->text, words);
        return perr(c, w, hint, "unknown outcome '%s'", w->text);
    }
    if (i + used < n)
        return perr(c, &c->l->toks[i + used], NULL, "unexpected '%s' after the outcome", c->l->toks[i + used].text);
    return 0;
}

/* ---- object references ("schema"."table"."column") ------------------------------------------- */

/*
 * Split a word as written into dotted parts, SQL style: "..." keeps dots and case, "" is a quote.
 * Unquoted parts are kept as written (Prisma names are case-sensitive). Returns the part count.
 */
static int split_ref(const char *raw, char **parts, int max)
{
    int n = 0;
    rh_buf b;
    rh_buf_init(&b);
    const char *s = raw;
    for (;;) {
        if (*s == '"' || *s == '\'') {
            char q = *s++;
            while (*s) {
                if (*s == q && s[1] == q) {
                    rh_buf_putc(&b, q);
                    s += 2;
                } else if (*s == q) {
                    s++;
                    break;
                } else {
                    rh_buf_putc(&b, *s++);
                }
            }
        } else if (*s == '.' || *s == 0) {
            if (n >= max || b.len == 0) {
                rh_buf_free(&b);
                for (int k = 0; k < n; k++)
                    free(parts[k]);
                return -1;
            }
            parts[n++] = rh_buf_steal(&b);
            if (*s == 0)
                break;
            s++;
        } else {
            rh_buf_putc(&b, *s++);
        }
    }
    rh_buf_free(&b);
    return n;
}

typedef struct objkind {
    const char *kind;
    int scope;                 /* 0: [schema.]name  1: [schema.]table.name  2: a table  3: a bare name */
    const char *const *props;  /* the properties; those ending in '=' take a value */
} objkind;

static const char *const p_common[] = {"present", "absent", NULL};
static const char *const p_table[] = {"present", "absent", NULL};
static const char *const p_column[] = {"present", "absent", "type=", "not-null", "nullable", "default=",
                                        "no-default", "identity", "generated", "collation=", NULL};
static const char *const p_index[] = {"present", "absent", "valid", "invalid", "unique", "not-unique",
                                       "primary", "definition=", "table=", NULL};
static const char *const p_constraint[] = {"present", "absent", "validated", "not-validated", "type=",
                                            "definition=", "deferrable", "not-deferrable", NULL};
static const char *const p_enum[] = {"present", "absent", "labels=", NULL};
static const char *const p_extension[] = {"present", "absent", "version=", NULL};
static const char *const p_view[] = {"present", "absent", "definition=", NULL};
static const char *const p_trigger[] = {"present", "absent", "enabled", "disabled", "definition=", NULL};
static const char *const p_function[] = {"present", "absent", "definition=", NULL};
static const char *const p_domain[] = {"present", "absent", "type=", "not-null", "nullable", "default=", "no-default",
                                        NULL};

static const objkind objkinds[] = {
    {"schema", 3, p_common},      {"extension", 3, p_extension}, {"table", 2, p_table},
    {"column", 1, p_column},      {"index", 0, p_index},         {"constraint", 1, p_constraint},
    {"trigger", 1, p_trigger},    {"policy", 1, p_common},       {"enum", 0, p_enum},
    {"sequence", 0, p_common},    {"view", 0, p_view},           {"function", 0, p_function},
    {"matview", 0, p_view},       {"domain", 0, p_domain},
};

static const char *const expect_words[] = {
    "catalog", "ledger", "query", "status", "output", "order", "finding", "findings", "schema", "extension", "table", "column",
    "index", "constraint", "trigger", "policy", "enum", "sequence", "view", "function", "matview", "domain", NULL};

static int expect_object(cur *c, rh_scn_step *st, const rh_tok *kindtok)
{
    const objkind *k = NULL;
    for (size_t i = 0; i < sizeof objkinds / sizeof objkinds[0]; i++)
        if (strcmp(objkinds[i].kind, kindtok->text) == 0)
            k = &objkinds[i];
    if (!k || kindtok->quoted) {
        char hint[512];
        suggest(hint, sizeof hint, kindtok->text, expect_words);
        return perr(c, kindtok, hint, "unknown assertion 'expect %s'", kindtok->text);
    }
    st->kind = RH_STEP_EXPECT_OBJECT;
    st->obj_kind = rh_xstrdup(k->kind);
    const char *forms[] = {"[SCHEMA.]NAME", "[SCHEMA.]TABLE.NAME", "[SCHEMA.]TABLE", "NAME"};
    const rh_tok *ref = take(c);
    if (!ref) {
        char what[128];
        snprintf(what, sizeof what, "the %s, written %s", k->kind, forms[k->scope]);
        return perr(c, NULL, "quote names with capitals or dots: \"WaitlistEntry\".\"clientPartyId\"", "expected %s", what);
    }
    char *parts[3] = {0};
    int np = split_ref(ref->raw, parts, 3);
    int ok = 0;
    switch (k->scope) {
    case 0:
        ok = np == 1 || np == 2;
        if (ok) {
            st->schema = np == 2 ? rh_xstrdup(parts[0]) : NULL;
            st->name = rh_xstrdup(parts[np - 1]);
        }
        break;
    case 1:
        ok = np == 2 || np == 3;
        if (ok) {
            st->schema = np == 3 ? rh_xstrdup(parts[0]) : NULL;
            st->table = rh_xstrdup(parts[np - 2]);
            st->name = rh_xstrdup(parts[np - 1]);
        }
        break;
    case 2:
        ok = np == 1 || np == 2;
        if (ok) {
            st->schema = np == 2 ? rh_xstrdup(parts[0]) : NULL;
            st->table = rh_xstrdup(parts[np - 1]);
        }
        break;
    case 3:
        ok = np == 1;
        if (ok) {
            st->name = rh_xstrdup(parts[0]);
            if (strcmp(k->kind, "schema") == 0)
                st->schema = rh_xstrdup(parts[0]);
        }
        break;
    }
    for (int i = 0; i < (np > 0 ? np : 0); i++)
        free(parts[i]);
    if (!ok) {
        char hint[256];
        snprintf(hint, sizeof hint, "write the %s as %s; quote each part that has capitals or dots", k->kind,
                 forms[k->scope]);
        return perr(c, ref, hint, "'%s' is not a %s reference", ref->text, k->kind);
    }
    const rh_tok *prop = take(c);
    if (!prop) {
        st->property = rh_xstrdup("present");
        return 0;
    }
    const char *match = NULL;
    int takes_value = 0;
    if (is(prop, "exists")) {   /* the catalog module's word for present */
        st->property = rh_xstrdup("present");
        return need_end(c, NULL);
    }
    char plain[64][32];
    const char *plist[64];
    size_t np2 = 0;
    for (size_t i = 0; k->props[i] && np2 < 63; i++) {
        size_t len = strlen(k->props[i]);
        int v = k->props[i][len - 1] == '=';
        snprintf(plain[np2], sizeof plain[np2], "%.*s", (int)(len - (size_t)v), k->props[i]);
        plist[np2] = plain[np2];
        if (!prop->quoted && strcmp(plain[np2], prop->text) == 0) {
            match = k->props[i];
            takes_value = v;
        }
        np2++;
    }
    plist[np2] = NULL;
    if (!match) {
        char hint[512];
        suggest(hint, sizeof hint, prop->text, plist);
        return perr(c, prop, hint, "'%s' is not a property of %s %s", prop->text,
                    strchr("aeiou", k->kind[0]) ? "an" : "a", k->kind);
    }
    st->property = rh_xstrndup(match, strlen(match) - (size_t)takes_value);
    if (takes_value) {
        const rh_tok *v = take(c);
        if (!v)
            return perr(c, NULL, "quote values with spaces: type \"character varying(255)\"",
                        "expected a value after '%s'", st->property);
        if (strcmp(st->property, "labels") == 0) {
            /* enum labels: every remaining word, in order, joined by commas */
            rh_buf b;
            rh_buf_init(&b);
            rh_buf_puts(&b, v->text);
            while ((v = take(c))) {
                rh_buf_putc(&b, ',');
                rh_buf_puts(&b, v->text);
            }
            st->value = rh_buf_steal(&b);
        } else {
            st->value = rh_xstrdup(v->text);
        }
    }
    return need_end(c, NULL);
}

/* ---- expect ... ------------------------------------------------------------------------------ */

static int parse_state(const rh_tok *t, rh_scn_state *out)
{
    if (is(t, "applied"))
        *out = RH_STATE_APPLIED;
    else if (is(t, "failed"))
        *out = RH_STATE_FAILED;
    else if (is(t, "rolled-back"))
        *out = RH_STATE_ROLLED_BACK;
    else if (is(t, "absent"))
        *out = RH_STATE_ABSENT;
    else
        return -1;
    return 0;
}

static void add_name(rh_scn_step *st, const char *name)
{
    st->names = rh_xrealloc(st->names, (st->nnames + 1) * sizeof *st->names);
    st->names[st->nnames++] = rh_xstrdup(name);
}

static int expect_ledger(cur *c, rh_scn_step *st)
{
    static const char *const words[] = {"applied", "failed", "rolled-back", "absent", "rows", "checksum", "order", NULL};
    st->kind = RH_STEP_EXPECT_LEDGER;
    const rh_tok *w = need(c, "what to check in the ledger", "e.g. expect ledger applied 64, "
                           "expect ledger failed NAME, expect ledger rows NAME 2");
    if (!w)
        return -1;
    if (parse_state(w, &st->state) == 0) {
        const rh_tok *t = need(c, "a migration name or a count", "e.g. expect ledger failed 20251225_step6");
        if (!t)
            return -1;
        if (all_digits(t->text) && !t->quoted) {
            if (st->state == RH_STATE_ABSENT)
                return perr(c, t, "write: expect ledger absent MIGRATION", "'absent' takes a migration name, not a count");
            st->ledger_check = RH_LEDGER_COUNT;
            if (parse_count(c, t, &st->n, "a count") < 0)
                return -1;
        } else {
            st->ledger_check = RH_LEDGER_STATE_OF;
            st->arg = rh_xstrdup(t->text);
        }
        return need_end(c, NULL);
    }
    if (is(w, "rows")) {
        const rh_tok *a = need(c, "a count, or a migration name and a count", "e.g. expect ledger rows 65");
        if (!a)
            return -1;
        const rh_tok *b = take(c);
        if (!b) {
            st->ledger_check = RH_LEDGER_ROWS;
            return parse_count(c, a, &st->n, "a row count");
        }
        st->ledger_check = RH_LEDGER_ROWS_OF;
        st->arg = rh_xstrdup(a->text);
        if (parse_count(c, b, &st->n, "a row count") < 0)
            return -1;
        return need_end(c, NULL);
    }
    if (is(w, "checksum")) {
        const rh_tok *name = need(c, "a migration name", "e.g. expect ledger checksum 20250101_init matches");
        if (!name)
            return -1;
        const rh_tok *m = need(c, "'matches' or 'differs'", "the checksum is compared with the file at the current checkout");
        if (!m)
            return -1;
        if (!is(m, "matches") && !is(m, "differs"))
            return perr(c, m, "the checksum is compared with the file at the current checkout",
                        "expected 'matches' or 'differs', got '%s'", m->text);
        st->ledger_check = RH_LEDGER_CHECKSUM;
        st->arg = rh_xstrdup(name->text);
        st->negate = is(m, "differs");
        return need_end(c, NULL);
    }
    if (is(w, "order")) {
        st->ledger_check = RH_LEDGER_ORDER;
        const rh_tok *t;
        while ((t = take(c)))
            add_name(st, t->text);
        if (st->nnames < 2)
            return perr(c, NULL, "list the migrations in the order they must have been applied",
                        "expected at least two migration names");
        return 0;
    }
    char hint[256];
    suggest(hint, sizeof hint, w->text, words);
    return perr(c, w, hint, "unknown ledger check '%s'", w->text);
}

static int expect_query(cur *c, rh_scn_step *st)
{
    st->kind = RH_STEP_EXPECT_QUERY;
    if (take_text(c, st, "the query (quoted, or a heredoc)") < 0)
        return -1;
    static const char *const words[] = {"=", "!=", "rows", "error", "ok", NULL};
    const rh_tok *op = take(c);
    if (!op && c->arrow < c->l->n)
        return perr(c, &c->l->toks[c->arrow], "compare a query's value with '=': expect query \"select 1\" = 1",
                    "'=>' gives the outcome of an action; an expectation uses =, !=, rows, error or ok");
    if (!op) {
        return perr(c, NULL, "e.g. expect query \"select count(*) from t\" = 0",
                    "expected what the query returns: = VALUE, != VALUE, rows N, error SQLSTATE or ok");
    }
    if (is(op, "=") || is(op, "!=") || is(op, "==")) {
        st->query_check = is(op, "!=") ? RH_QUERY_NE : RH_QUERY_EQ;
        st->negate = is(op, "!=");
        const rh_tok *v = need(c, "a value", "compare with null (unquoted) for SQL NULL; quote text with spaces");
        if (!v)
            return -1;
        st->value = rh_xstrdup(v->text);
        st->value_is_null = is(v, "null");
    } else if (is(op, "rows")) {
        st->query_check = RH_QUERY_ROWS;
        if (parse_count(c, need(c, "a row count", NULL), &st->n, "a row count") < 0)
            return -1;
    } else if (is(op, "error")) {
        st->query_check = RH_QUERY_ERROR;
        const rh_tok *code = need(c, "a SQLSTATE", "e.g. expect query \"select \\\"contactId\\\" from t\" error 42703");
        if (!code)
            return -1;
        if (!is_sqlstate(code->text))
            return perr(c, code, "a SQLSTATE is five digits or capital letters, e.g. 42703", "'%s' is not a SQLSTATE",
                        code->text);
        st->value = rh_xstrdup(code->text);
    } else if (is(op, "ok")) {
        st->query_check = RH_QUERY_OK;
    } else {
        char hint[256];
        suggest(hint, sizeof hint, op->text, words);
        return perr(c, op, op->quoted ? "is the query quoted as one word? \"select ...\"" : hint,
                    "expected =, !=, rows, error or ok, got '%s'", op->text);
    }
    return need_end(c, NULL);
}

static int expect_catalog(cur *c, rh_scn_step *st)
{
    st->kind = RH_STEP_EXPECT_CATALOG;
    const rh_tok *op = need(c, "'=' or '!='", "e.g. expect catalog = snapshot before");
    if (!op)
        return -1;
    if (!is(op, "=") && !is(op, "!="))
        return perr(c, op, "e.g. expect catalog = clean v2", "expected '=' or '!=', got '%s'", op->text);
    st->negate = is(op, "!=");
    static const char *const words[] = {"snapshot", "clean", "file", NULL};
    const rh_tok *what = need(c, "snapshot NAME, clean [REV] or file PATH", NULL);
    if (!what)
        return -1;
    if (is(what, "snapshot")) {
        const rh_tok *name = need(c, "a snapshot name", "take it earlier with: snapshot NAME");
        if (!name)
            return -1;
        int known = 0;
        for (size_t i = 0; i < c->p->nsnapshots; i++)
            known |= strcmp(c->p->snapshots[i], name->text) == 0;
        if (!known)
            return perr(c, name, "take it with `snapshot NAME` on an earlier line",
                        "no snapshot named '%s' was taken before this line", name->text);
        st->catalog_ref = RH_CATREF_SNAPSHOT;
        st->arg = rh_xstrdup(name->text);
    } else if (is(what, "clean")) {
        st->catalog_ref = RH_CATREF_CLEAN;
        const rh_tok *rev = take(c);
        st->arg = rev ? rh_xstrdup(rev->text) : NULL;
    } else if (is(what, "file")) {
        const rh_tok *path = need(c, "a path", "a file written by `rehearse snapshot`, relative to this file");
        if (!path)
            return -1;
        st->catalog_ref = RH_CATREF_FILE;
        st->arg = resolve_path(c, path->text);
    } else {
        char hint[256];
        suggest(hint, sizeof hint, what->text, words);
        return perr(c, what, hint, "expected snapshot, clean or file, got '%s'", what->text);
    }
    return need_end(c, NULL);
}

static int expect_status(cur *c, rh_scn_step *st)
{
    static const char *const words[] = {"up-to-date", "pending", "failed", NULL};
    st->kind = RH_STEP_EXPECT_STATUS;
    const rh_tok *w = need(c, "up-to-date, pending N or failed NAME", NULL);
    if (!w)
        return -1;
    if (is(w, "up-to-date")) {
        st->status_check = RH_STATUS_UP_TO_DATE;
    } else if (is(w, "pending")) {
        st->status_check = RH_STATUS_PENDING;
        if (parse_count(c, need(c, "how many migrations are pending", "e.g. expect status pending 3"), &st->n,
                        "a count") < 0)
            return -1;
        const rh_tok *t;
        while ((t = take(c)))
            add_name(st, t->text);
        if (st->nnames && st->nnames != (size_t)st->n)
            return perr(c, NULL, "list all pending migrations, or none", "%ld pending, but %zu names listed",
                        st->n, st->nnames);
    } else if (is(w, "failed")) {
        st->status_check = RH_STATUS_FAILED;
        const rh_tok *name = need(c, "the failed migration's name", NULL);
        if (!name)
            return -1;
        st->arg = rh_xstrdup(name->text);
    } else {
        char hint[256];
        suggest(hint, sizeof hint, w->text, words);
        return perr(c, w, hint, "unknown status '%s'", w->text);
    }
    return need_end(c, NULL);
}

static int st_expect(cur *c, rh_scn_step *st)
{
    const rh_tok *w = need(c, "what to expect", "e.g. expect ledger applied 3, expect index \"t_idx\" valid");
    if (!w)
        return -1;
    if (is(w, "ledger"))
        return expect_ledger(c, st);
    if (is(w, "query"))
        return expect_query(c, st);
    if (c->l->heredoc && no_heredoc(c, "expect") < 0)
        return -1;
    if (is(w, "catalog"))
        return expect_catalog(c, st);
    if (is(w, "status"))
        return expect_status(c, st);
    if (is(w, "output")) {
        st->kind = RH_STEP_EXPECT_OUTPUT;
        const rh_tok *how = need(c, "'contains' or 'lacks'", "e.g. expect output contains \"P3009\"");
        if (!how)
            return -1;
        if (!is(how, "contains") && !is(how, "lacks"))
            return perr(c, how, "e.g. expect output contains \"P3009\"", "expected 'contains' or 'lacks', got '%s'",
                        how->text);
        st->negate = is(how, "lacks");
        const rh_tok *text = need(c, "the text to look for", NULL);
        if (!text)
            return -1;
        st->value = rh_xstrdup(text->text);
        if (need_end(c, "quote text with spaces as one word") < 0)
            return -1;
        if (!c->p->have_output)
            return perr(c, &c->l->toks[0],
                        c->p->background ? "its output is there once it ends: add `wait deploy` (or status, resolve) "
                                           "before this line"
                                         : "run deploy, status or resolve before this line; expect output checks the "
                                           "last one's output",
                        "'expect output' before any Prisma command has ended: there is no output to check");
        return 0;
    }
    if (is(w, "finding") || is(w, "findings")) {
        /* rehearse's own findings in `prisma migrate status` (engine.h: rh_finding_kind_name) */
        static const char *const kinds[] = {"edited-after-apply", "folder-gone", "will-reapply", "failed",
                                            "hidden-ledger", NULL};
        st->kind = RH_STEP_EXPECT_FINDING;
        const rh_tok *k = need(c, "a finding kind, or 'none'", "e.g. expect finding edited-after-apply 20250101_init");
        if (!k)
            return -1;
        if (is(k, "none")) {
            st->negate = 1;
            return need_end(c, NULL);
        }
        int known = 0;
        for (int i = 0; kinds[i]; i++)
            known |= is(k, kinds[i]);
        if (!known) {
            char hint[512];
            suggest(hint, sizeof hint, k->text, kinds);
            return perr(c, k, hint, "unknown finding '%s'", k->text);
        }
        st->arg = rh_xstrdup(k->text);
        const rh_tok *name = take(c);
        if (name)
            st->arg2 = rh_xstrdup(name->text);
        return need_end(c, NULL);
    }
    if (is(w, "order")) {
        st->kind = RH_STEP_EXPECT_ORDER;
        const rh_tok *t;
        while ((t = take(c)))
            add_name(st, t->text);
        if (st->nnames < 2)
            return perr(c, NULL, "list migrations in the order the Prisma profile must list them",
                        "expected at least two migration names");
        return 0;
    }
    return expect_object(c, st, w);
}

/* ---- the other steps ------------------------------------------------------------------------ */

static int known_session(parser *p, const char *name)
{
    for (size_t i = 0; i < p->nsessions; i++)
        if (strcmp(p->sessions[i], name) == 0)
            return 1;
    return 0;
}

static int is_engine_name(const char *s)
{
    return strcmp(s, "deploy") == 0 || strcmp(s, "status") == 0 || strcmp(s, "resolve") == 0;
}

/* A session name that an earlier `session` step opened. */
static const rh_tok *need_session(cur *c, const char *kw)
{
    const rh_tok *t = need(c, "a session name", NULL);
    if (!t)
        return NULL;
    if (!known_session(c->p, t->text)) {
        char hint[512];
        size_t off = (size_t)snprintf(hint, sizeof hint, "open it first: session %s <<EOF ... EOF", t->text);
        if (c->p->nsessions) {
            off += (size_t)snprintf(hint + off, sizeof hint - off, " (sessions so far:");
            for (size_t i = 0; i < c->p->nsessions && off < sizeof hint; i++)
                off += (size_t)snprintf(hint + off, sizeof hint - off, " %s", c->p->sessions[i]);
            if (off < sizeof hint)
                snprintf(hint + off, sizeof hint - off, ")");
        }
        perr(c, t, hint, "'%s %s': no session named '%s' was opened before this line", kw, t->text, t->text);
        return NULL;
    }
    return t;
}

static int st_engine(cur *c, rh_scn_step *st)
{
    if (c->p->background) {
        char hint[128];
        snprintf(hint, sizeof hint, "add `wait %s` before this line", c->p->background);
        return perr(c, &c->l->toks[0], hint, "'%s' started with & is still running", c->p->background);
    }
    if (st->kind == RH_STEP_RESOLVE) {
        const rh_tok *mode = need(c, "--applied NAME or --rolled-back NAME", "e.g. resolve --rolled-back 20251225_step6");
        if (!mode)
            return -1;
        if (is(mode, "--applied") || is(mode, "applied"))
            st->resolve_mode = RH_RESOLVE_APPLIED;
        else if (is(mode, "--rolled-back") || is(mode, "rolled-back"))
            st->resolve_mode = RH_RESOLVE_ROLLED_BACK;
        else
            return perr(c, mode, "e.g. resolve --rolled-back 20251225_step6", "expected --applied or --rolled-back, got '%s'",
                        mode->text);
        const rh_tok *name = need(c, "the migration's name", NULL);
        if (!name)
            return -1;
        st->arg = rh_xstrdup(name->text);
    }
    if (need_end(c, "the expected outcome follows =>, e.g. deploy => error P3009") < 0)
        return -1;
    st->background = c->amp;
    if (c->amp) {
        if (c->arrow < c->l->n)
            return perr(c, &c->l->toks[c->arrow], "check the outcome when it ends: wait deploy => ...",
                        "a command started with & has no outcome yet");
        c->p->background = rh_scn_kind_name(st->kind);
        c->p->bg_file = c->file;
        c->p->bg_line = c->l->line;
        free(c->p->bg_source);
        c->p->bg_source = rh_xstrdup(c->l->source ? c->l->source : "");
    }
    return parse_outcome(c, st, OUT_ENGINE);
}

static int st_sql(cur *c, rh_scn_step *st)
{
    if (is(peek(c), "--each")) {
        take(c);
        st->each = 1;
    }
    if (st->kind == RH_STEP_SQL_FILE) {
        if (c->l->heredoc && no_heredoc(c, "sql-file") < 0)
            return -1;
        const rh_tok *t = need(c, "a path, or --migration NAME", "e.g. sql-file --each --migration 20250101_init");
        if (!t)
            return -1;
        if (is(t, "--migration")) {
            const rh_tok *name = need(c, "a migration name", "its migration.sql at the current checkout is run");
            if (!name)
                return -1;
            st->from_migration = 1;
            st->arg = rh_xstrdup(name->text);
        } else {
            st->arg = resolve_path(c, t->text);
        }
    } else if (take_text(c, st, "SQL (quoted, or a heredoc <<EOF)") < 0) {
        return -1;
    }
    if (is(peek(c), "--each")) {
        take(c);
        st->each = 1;
    }
    if (need_end(c, "quote SQL as one word, or use a heredoc") < 0)
        return -1;
    return parse_outcome(c, st, OUT_SQL);
}

static int st_session(cur *c, rh_scn_step *st)
{
    const rh_tok *name = need(c, "a session name", "e.g. session blocker <<EOF ... EOF");
    if (!name)
        return -1;
    if (is_engine_name(name->text))
        return perr(c, name, "deploy, status and resolve name the engine commands; pick another name",
                    "'%s' cannot name a session", name->text);
    st->arg = rh_xstrdup(name->text);
    if (take_text(c, st, "the session's SQL (quoted, or a heredoc <<EOF)") < 0)
        return -1;
    if (need_end(c, "quote SQL as one word, or use a heredoc") < 0)
        return -1;
    if (!known_session(c->p, name->text)) {
        c->p->sessions = rh_xrealloc(c->p->sessions, (c->p->nsessions + 1) * sizeof *c->p->sessions);
        c->p->sessions[c->p->nsessions++] = rh_xstrdup(name->text);
    }
    return parse_outcome(c, st, OUT_SQL | OUT_BLOCKED);
}

static int st_wait(cur *c, rh_scn_step *st)
{
    const rh_tok *name = need(c, "a session name, or deploy/status/resolve", "e.g. wait deploy blocked");
    if (!name)
        return -1;
    int engine = is_engine_name(name->text);
    if (engine) {
        if (!c->p->background || strcmp(c->p->background, name->text) != 0) {
            char hint[128];
            snprintf(hint, sizeof hint, "start it in the background first: %s &", name->text);
            return perr(c, name, hint, "no '%s' is running in the background here", name->text);
        }
    } else if (!known_session(c->p, name->text)) {
        return perr(c, name, "open it first with: session NAME <<EOF ... EOF",
                    "no session named '%s' was opened before this line", name->text);
    }
    st->arg = rh_xstrdup(name->text);
    const rh_tok *b = take(c);
    if (b) {
        if (!is(b, "blocked"))
            return perr(c, b, "`wait NAME blocked` waits until NAME waits on a lock; `wait NAME` until it ends",
                        "unexpected '%s'", b->text);
        st->n = 1; /* wait until blocked */
        if (c->arrow < c->l->n)
            return perr(c, &c->l->toks[c->arrow], "check the outcome with a later `wait NAME`",
                        "'wait %s blocked' takes no outcome", name->text);
        return need_end(c, NULL);
    }
    if (engine)
        c->p->background = NULL;
    return parse_outcome(c, st, engine ? OUT_ENGINE : OUT_SQL);
}

static int st_fault(cur *c, rh_scn_step *st)
{
    static const char *const actions[] = {"terminate", "cancel", "restart", NULL};
    const rh_tok *a = need(c, "terminate, cancel or restart", "e.g. fault cancel when blocked");
    if (!a)
        return -1;
    if (is(a, "terminate"))
        st->fault_action = RH_FAULT_TERMINATE;
    else if (is(a, "cancel"))
        st->fault_action = RH_FAULT_CANCEL;
    else if (is(a, "restart"))
        st->fault_action = RH_FAULT_RESTART;
    else {
        char hint[256];
        suggest(hint, sizeof hint, a->text, actions);
        return perr(c, a, hint, "unknown fault '%s'", a->text);
    }
    const rh_tok *w = need(c, "at MIGRATION, before MIGRATION or when blocked", "e.g. fault terminate at 20250101_init");
    if (!w)
        return -1;
    if (is(w, "when")) {
        const rh_tok *b = need(c, "'blocked'", "e.g. fault cancel when blocked");
        if (!b)
            return -1;
        if (!is(b, "blocked"))
            return perr(c, b, "e.g. fault cancel when blocked", "expected 'blocked', got '%s'", b->text);
        st->fault_trigger = RH_FAULT_WHEN_BLOCKED;
    } else if (is(w, "at") || is(w, "before")) {
        st->fault_trigger = is(w, "at") ? RH_FAULT_AT_MIGRATION : RH_FAULT_BEFORE_MIGRATION;
        const rh_tok *m = need(c, "a migration name, or N for the N-th migration the command applies", NULL);
        if (!m)
            return -1;
        if (all_digits(m->text) && !m->quoted) {
            long v;
            if (parse_count(c, m, &v, "a migration number") < 0)
                return -1;
            if (v < 1)
                return perr(c, m, "migrations are counted from 1", "'%s' is not a migration number", m->text);
            st->n = v;
        } else {
            st->arg = rh_xstrdup(m->text);
        }
    } else {
        return perr(c, w, "e.g. fault terminate at 20250101_init, fault cancel when blocked",
                    "expected 'at', 'before' or 'when', got '%s'", w->text);
    }
    return need_end(c, NULL);
}

static int st_restore(cur *c, rh_scn_step *st)
{
    const rh_tok *w = need(c, "'schema' or 'ledger'", "e.g. restore schema prod-schema.sql");
    if (!w)
        return -1;
    if (is(w, "schema"))
        st->kind = RH_STEP_RESTORE_SCHEMA;
    else if (is(w, "ledger"))
        st->kind = RH_STEP_RESTORE_LEDGER;
    else
        return perr(c, w, "restore schema FILE (a pg_dump --schema-only), restore ledger FILE (CSV)",
                    "expected 'schema' or 'ledger', got '%s'", w->text);
    if (c->l->heredoc) {
        st->text = rh_xstrdup(c->l->heredoc);
        st->text_line = c->l->heredoc_line;
    } else {
        const rh_tok *path = need(c, "a file path or a heredoc", NULL);
        if (!path)
            return -1;
        st->arg = resolve_path(c, path->text);
    }
    return need_end(c, NULL);
}

static int parse_file(parser *p, const char *path, const char *text, size_t len, const rh_tok *from,
                      cur *fromc);

static int st_include(cur *c, const rh_tok *kw)
{
    parser *p = c->p;
    if (p->flags & RH_SCN_NO_INCLUDE)
        return perr(c, kw, NULL, "include is not allowed here");
    const rh_tok *t = need(c, "a file to include", "relative to this file, e.g. include _setup.inc");
    if (!t || need_end(c, NULL) < 0)
        return -1;
    if (p->depth >= MAX_INCLUDE_DEPTH)
        return perr(c, t, NULL, "includes nested more than %d deep", MAX_INCLUDE_DEPTH);
    char *path = resolve_path(c, t->text);
    char *canon = realpath(path, NULL);
    if (!canon) {
        perr(c, t, "paths are relative to the including file", "cannot include '%s': %s", path, strerror(errno));
        free(path);
        return -1;
    }
    for (int i = 0; i <= p->depth; i++)
        if (p->stack[i] && strcmp(p->stack[i], canon) == 0) {
            perr(c, t, "an included file must not include itself, directly or not", "include cycle: '%s'", path);
            free(path);
            free(canon);
            return -1;
        }
    char *data;
    size_t dlen;
    rh_err ferr;
    if (rh_fs_read(path, &data, &dlen, &ferr) < 0) {
        perr(c, t, NULL, "cannot include '%s': %s", path, ferr.msg);
        free(path);
        free(canon);
        return -1;
    }
    p->depth++;
    p->stack[p->depth] = canon;
    int rc = parse_file(p, path, data, dlen, t, c);
    p->stack[p->depth] = NULL;
    p->depth--;
    free(canon);
    free(data);
    free(path);
    return rc;
}

static const char *const step_words[] = {
    "scenario", "repo", "migrations", "prisma", "checkout", "deploy", "status", "resolve", "sql", "sql-file",
    "session", "wait", "commit", "rollback", "release", "cancel", "terminate", "set", "reset", "env",
    "fault", "restart", "restore", "snapshot", "expect", "include", "timeout", "skip", "sleep", NULL};

/* A single word argument and nothing else. */
static int one_arg(cur *c, rh_scn_step *st, const char *what, const char *hint)
{
    const rh_tok *t = need(c, what, hint);
    if (!t)
        return -1;
    st->arg = rh_xstrdup(t->text);
    return need_end(c, hint);
}

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
        if (is(&l->toks[i], "=>")) {
            c->arrow = i;
            break;
        }
    c->end = c->arrow;
    c->amp = 0;
    if (c->end > 1 && is(&l->toks[c->end - 1], "&")) {
        c->amp = 1;
        c->end--;
    }
    c->i = 1;

    if (kw->quoted) {
        return perr(c, kw, "a line starts with a step keyword, e.g. deploy, sql, expect",
                    "expected a step, got a quoted word");
    }
    const char *k = kw->text;
    if (c->amp && strcmp(k, "deploy") && strcmp(k, "status") && strcmp(k, "resolve"))
        return perr(c, &l->toks[c->end], "only deploy, status and resolve can run in the background",
                    "unexpected '&'");

    /* header settings: no step */
    if (strcmp(k, "scenario") == 0) {
        if (p->depth > 0)
            return perr(c, kw, "name the scenario in the scenario file itself", "'scenario' inside an included file");
        const rh_tok *t = need(c, "the scenario's title", "e.g. scenario \"deploy stops at a CONCURRENTLY index\"");
        if (!t || need_end(c, "quote a title with spaces") < 0)
            return -1;
        if (p->s->name_line)
            return perr(c, kw, NULL, "the scenario is already named on line %d", p->s->name_line);
        free(p->s->name);
        p->s->name = rh_xstrdup(t->text);
        p->s->name_line = kw->line;
        return no_heredoc(c, k);
    }
    if (strcmp(k, "timeout") == 0) {
        const rh_tok *t = need(c, "a duration", "e.g. timeout 30s");
        if (!t || need_end(c, NULL) < 0)
            return -1;
        long ms = rh_scn_parse_duration(t->text);
        if (ms <= 0)
            return perr(c, t, "durations look like 500ms, 30s, 2m", "'%s' is not a duration", t->text);
        p->s->timeout_ms = ms;
        return no_heredoc(c, k);
    }
    if (strcmp(k, "skip") == 0) {
        rh_buf b;
        rh_buf_init(&b);
        const rh_tok *t;
        while ((t = take(c))) {
            if (b.len)
                rh_buf_putc(&b, ' ');
            rh_buf_puts(&b, t->text);
        }
        free(p->s->skip);
        p->s->skip = b.len ? rh_buf_steal(&b) : rh_xstrdup("skipped");
        rh_buf_free(&b);
        return no_heredoc(c, k);
    }
    if (strcmp(k, "include") == 0) {
        if (no_heredoc(c, k) < 0)
            return -1;
        return st_include(c, kw);
    }

    rh_scn_step *st = new_step(p);
    st->file = c->file;
    st->line = kw->line;
    st->col = kw->col;
    int rc;
    if (strcmp(k, "repo") == 0) {
        st->kind = RH_STEP_REPO;
        rc = one_arg(c, st, "a repository path", "relative to this file, e.g. repo fixtures/breederhq");
        if (rc == 0) {
            char *r = resolve_path(c, st->arg);
            free(st->arg);
            st->arg = r;
        }
    } else if (strcmp(k, "migrations") == 0) {
        st->kind = RH_STEP_MIGRATIONS;
        rc = one_arg(c, st, "the migrations folder", "inside the repo, e.g. migrations prisma/migrations");
        if (rc == 0)
            st->arg2 = resolve_path(c, st->arg);
    } else if (strcmp(k, "prisma") == 0) {
        st->kind = RH_STEP_PRISMA;
        rc = one_arg(c, st, "a Prisma version", "e.g. prisma 6.19");
        if (rc == 0 && !isdigit((unsigned char)st->arg[strspn(st->arg, "^~v")]))
            rc = perr(c, &l->toks[1], "e.g. prisma 6.19 or prisma 5.22.0", "'%s' is not a version", st->arg);
    } else if (strcmp(k, "checkout") == 0) {
        st->kind = RH_STEP_CHECKOUT;
        rc = one_arg(c, st, "a revision", "a tag, branch, sha, HEAD~1 or WORKTREE");
    } else if (strcmp(k, "deploy") == 0 || strcmp(k, "status") == 0 || strcmp(k, "resolve") == 0) {
        st->kind = k[0] == 'd' ? RH_STEP_DEPLOY : k[0] == 's' ? RH_STEP_STATUS : RH_STEP_RESOLVE;
        rc = no_heredoc(c, k);
        if (rc == 0)
            rc = st_engine(c, st);
    } else if (strcmp(k, "sql") == 0 || strcmp(k, "sql-file") == 0) {
        st->kind = k[3] ? RH_STEP_SQL_FILE : RH_STEP_SQL;
        rc = st_sql(c, st);
    } else if (strcmp(k, "session") == 0) {
        st->kind = RH_STEP_SESSION;
        rc = st_session(c, st);
    } else if (strcmp(k, "wait") == 0) {
        st->kind = RH_STEP_WAIT;
        rc = no_heredoc(c, k);
        if (rc == 0)
            rc = st_wait(c, st);
    } else if (strcmp(k, "commit") == 0 || strcmp(k, "rollback") == 0 || strcmp(k, "release") == 0 ||
               strcmp(k, "cancel") == 0 || strcmp(k, "terminate") == 0) {
        st->kind = strcmp(k, "commit") == 0     ? RH_STEP_COMMIT
                 : strcmp(k, "cancel") == 0     ? RH_STEP_CANCEL
                 : strcmp(k, "rollback") == 0   ? RH_STEP_ROLLBACK
                 : strcmp(k, "release") == 0    ? RH_STEP_RELEASE
                                                : RH_STEP_TERMINATE;
        rc = no_heredoc(c, k);
        const rh_tok *t = rc == 0 ? need_session(c, k) : NULL;
        if (!t)
            rc = -1;
        else {
            st->arg = rh_xstrdup(t->text);
            rc = need_end(c, NULL);
        }
    } else if (strcmp(k, "set") == 0 || strcmp(k, "env") == 0) {
        int env = k[0] == 'e';
        st->kind = env ? RH_STEP_ENV : RH_STEP_SET;
        rc = no_heredoc(c, k);
        const rh_tok *name = rc == 0 ? need(c, env ? "a variable name" : "a setting name",
                                            env ? "e.g. env PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK 1"
                                                : "e.g. set lock_timeout 1s") : NULL;
        if (!name) {
            rc = -1;
        } else {
            char *eq = strchr(name->text, '=');
            if (eq && !name->quoted) {
                st->arg = rh_xstrndup(name->text, (size_t)(eq - name->text));
                st->arg2 = rh_xstrdup(eq + 1);
            } else {
                st->arg = rh_xstrdup(name->text);
                if (is(peek(c), "=") || is(peek(c), "to"))
                    take(c);
                const rh_tok *v = need(c, "a value", env ? NULL : "e.g. set lock_timeout 1s");
                if (v)
                    st->arg2 = rh_xstrdup(v->text);
                else
                    rc = -1;
            }
            if (rc == 0 && !is_ident(st->arg))
                rc = perr(c, name, NULL, "'%s' is not a %s name", st->arg, env ? "variable" : "setting");
            if (rc == 0)
                rc = need_end(c, "quote a value with spaces");
        }
    } else if (strcmp(k, "reset") == 0) {
        st->kind = RH_STEP_RESET;
        rc = no_heredoc(c, k);
        if (rc == 0)
            rc = one_arg(c, st, "a setting name", "e.g. reset lock_timeout");
        if (rc == 0 && !is_ident(st->arg))
            rc = perr(c, &l->toks[1], NULL, "'%s' is not a setting name", st->arg);
    } else if (strcmp(k, "fault") == 0) {
        st->kind = RH_STEP_FAULT;
        rc = no_heredoc(c, k);
        if (rc == 0)
            rc = st_fault(c, st);
    } else if (strcmp(k, "restart") == 0) {
        st->kind = RH_STEP_RESTART;
        rc = no_heredoc(c, k);
        if (rc == 0)
            rc = need_end(c, "restart takes no arguments; to restart during a deploy use: fault restart at MIGRATION");
    } else if (strcmp(k, "restore") == 0) {
        st->kind = RH_STEP_RESTORE_SCHEMA;
        rc = st_restore(c, st);
    } else if (strcmp(k, "snapshot") == 0) {
        st->kind = RH_STEP_SNAPSHOT;
        rc = no_heredoc(c, k);
        if (rc == 0)
            rc = one_arg(c, st, "a snapshot name", "e.g. snapshot before");
        if (rc == 0) {
            p->snapshots = rh_xrealloc(p->snapshots, (p->nsnapshots + 1) * sizeof *p->snapshots);
            p->snapshots[p->nsnapshots++] = rh_xstrdup(st->arg);
        }
    } else if (strcmp(k, "sleep") == 0) {
        st->kind = RH_STEP_SLEEP;
        rc = no_heredoc(c, k);
        const rh_tok *t = rc == 0 ? need(c, "a duration", "e.g. sleep 200ms") : NULL;
        if (!t)
            rc = -1;
        else if ((st->n = rh_scn_parse_duration(t->text)) < 0)
            rc = perr(c, t, "durations look like 500ms, 30s, 2m", "'%s' is not a duration", t->text);
        else
            rc = need_end(c, NULL);
    } else if (strcmp(k, "expect") == 0) {
        rc = st_expect(c, st);
    } else {
        char hint[512];
        suggest(hint, sizeof hint, k, step_words);
        rc = perr(c, kw, hint, "unknown step '%s'", k);
    }
    /* a command in the foreground, or `wait CMD` (not `wait CMD blocked`), leaves output behind; on an
       error in that line too, so that one mistake is not reported twice */
    if (((strcmp(k, "deploy") == 0 || strcmp(k, "status") == 0 || strcmp(k, "resolve") == 0) && !c->amp) ||
        (strcmp(k, "wait") == 0 && l->n > 1 && is_engine_name(l->toks[1].text) && !(rc == 0 && st->n)))
        p->have_output = 1;
    if (rc == 0 && st->kind != RH_STEP_DEPLOY && st->kind != RH_STEP_STATUS && st->kind != RH_STEP_RESOLVE &&
        st->kind != RH_STEP_SQL && st->kind != RH_STEP_SQL_FILE && st->kind != RH_STEP_SESSION &&
        st->kind != RH_STEP_WAIT && c->arrow < l->n)
        rc = parse_outcome(c, st, 0);
    if (rc == 0 && l->heredoc && !st->text && st->kind != RH_STEP_SQL_FILE)
        rc = no_heredoc(c, k);
    st->source = rh_xstrdup(l->source ? l->source : "");
    p->s->nsteps++;
    if (rc < 0) {
        /* keep the model consistent: drop the half-read step */
        p->s->nsteps--;
        rh_scn_step *bad = &p->s->steps[p->s->nsteps];
        free(bad->source);
        free(bad->arg);
        free(bad->arg2);
        free(bad->text);
        free(bad->outcome.name);
        free(bad->obj_kind);
        free(bad->schema);
        free(bad->table);
        free(bad->name);
        free(bad->property);
        free(bad->value);
        for (size_t i = 0; i < bad->nnames; i++)
            free(bad->names[i]);
        free(bad->names);
    }
    return rc;
}

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

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return rh_xstrdup(".");
    if (slash == path)
        return rh_xstrdup("/");
    return rh_xstrndup(path, (size_t)(slash - path));
}

static int parse_file(parser *p, const char *path, const char *text, size_t len, const rh_tok *from, cur *fromc)
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
        rh_scn_diag(&p->diag, file, NULL, line, col, "a scenario is a text file", "a NUL byte (is this a binary file?)");
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
            perr(&c, &at, "a heredoc belongs to a step on the same line: sql <<SQL", "a heredoc without a step");
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

static char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    return dot && dot != b ? rh_xstrndup(b, (size_t)(dot - b)) : rh_xstrdup(b);
}

int rh_scn_parse_string(rh_scenario **out, const char *path, const char *text, size_t len, int flags, rh_err *err)
{
    *out = NULL;
    parser p;
    memset(&p, 0, sizeof p);
    p.flags = flags;
    p.s = rh_xcalloc(1, sizeof *p.s);
    p.s->path = rh_xstrdup(path);
    p.s->dir = dir_of(path);
    rh_buf_init(&p.diag);
    p.stack[0] = (flags & RH_SCN_NO_INCLUDE) ? NULL : realpath(path, NULL);
    parse_file(&p, path, text, len, NULL, NULL);
    free(p.stack[0]);
    if (!p.nerrors && p.background) {
        /* point at the line that started it: that is where the missing wait belongs after */
        char hint[128];
        snprintf(hint, sizeof hint, "add `wait %s` after it", p.background);
        rh_scn_diag(&p.diag, p.bg_file, p.bg_source, p.bg_line, 1, hint, "'%s &' is never waited for",
                    p.background);
        p.nerrors++;
    }
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

int rh_scn_parse_file(rh_scenario **out, const char *path, rh_err *err)
{
    char *data;
    size_t len;
    *out = NULL;
    if (rh_fs_read(path, &data, &len, err) < 0)
        return -1;
    int rc = rh_scn_parse_string(out, path, data, len, 0, err);
    free(data);
    return rc;
}
