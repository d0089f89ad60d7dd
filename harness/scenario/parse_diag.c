/*
 * parse_diag.c — the parser's diagnostics: an error at a word with the step's usage as the default
 * hint, and "did you mean" suggestions for a mistyped keyword.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scenario/parse_int.h"

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
    {"scale", "scale FILE | scale TABLE ROWS"},
    {"tool", "tool NAME [VERSION] | tool command \"CMD\" [ledger NAME]"},
    {"repair", "repair VERB [NAME] [=> OUTCOME]"},
    {"timeout", "timeout DURATION"},
    {"postgres", "postgres VERSION"},
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

/* Report an error at a word (or at the end of the line when at is NULL). Always returns -1. */
int rh_scnp_err(cur *c, const rh_tok *at, const char *hint, const char *fmt, ...)
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
void rh_scnp_suggest(char *out, size_t n, const char *word, const char *const *words)
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
