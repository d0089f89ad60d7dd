/*
 * parse_expect.c — the `expect` steps: ledger, query, catalog, status, output, finding and order;
 * `expect KIND OBJECT` is read by parse_expect_object.c.
 */
#include <stdio.h>
#include <string.h>

#include "scenario/parse_int.h"

/* A ledger state word: applied, failed, rolled-back or absent; -1 for any other word. */
static int parse_state(const rh_tok *t, rh_scn_state *out)
{
    if (rh_scnp_is(t, "applied"))
        *out = RH_STATE_APPLIED;
    else if (rh_scnp_is(t, "failed"))
        *out = RH_STATE_FAILED;
    else if (rh_scnp_is(t, "rolled-back"))
        *out = RH_STATE_ROLLED_BACK;
    else if (rh_scnp_is(t, "absent"))
        *out = RH_STATE_ABSENT;
    else
        return -1;
    return 0;
}

/* The rest of the line as an order of migrations (ledger order, profile order): two at least. */
static int order_names(cur *c, rh_scn_step *st, const char *hint)
{
    const rh_tok *t;
    while ((t = rh_scnp_take(c)))
        rh_scnp_add_name(st, t->text);
    if (st->nnames < 2)
        return rh_scnp_err(c, NULL, hint, "expected at least two migration names");
    return 0;
}

/* expect ledger STATE NAME|COUNT | rows [NAME] N | checksum NAME matches|differs | order NAME... */
static int expect_ledger(cur *c, rh_scn_step *st)
{
    static const char *const words[] = {"applied", "failed", "rolled-back", "absent", "rows", "checksum", "order", NULL};
    st->kind = RH_STEP_EXPECT_LEDGER;
    const rh_tok *w = rh_scnp_need(c, "what to check in the ledger", "e.g. expect ledger applied 64, "
                                   "expect ledger failed NAME, expect ledger rows NAME 2");
    if (!w)
        return -1;
    if (parse_state(w, &st->state) == 0) {
        const rh_tok *t = rh_scnp_need(c, "a migration name or a count", "e.g. expect ledger failed 20251225_step6");
        if (!t)
            return -1;
        if (rh_scnp_all_digits(t->text) && !t->quoted) {
            if (st->state == RH_STATE_ABSENT)
                return rh_scnp_err(c, t, "write: expect ledger absent MIGRATION",
                                   "'absent' takes a migration name, not a count");
            st->ledger_check = RH_LEDGER_COUNT;
            if (rh_scnp_count(c, t, &st->n, "a count") < 0)
                return -1;
        } else {
            st->ledger_check = RH_LEDGER_STATE_OF;
            st->arg = rh_xstrdup(t->text);
        }
        return rh_scnp_need_end(c, NULL);
    }
    if (rh_scnp_is(w, "rows")) {
        const rh_tok *a = rh_scnp_need(c, "a count, or a migration name and a count", "e.g. expect ledger rows 65");
        if (!a)
            return -1;
        const rh_tok *b = rh_scnp_take(c);
        if (!b) {
            st->ledger_check = RH_LEDGER_ROWS;
            return rh_scnp_count(c, a, &st->n, "a row count");
        }
        st->ledger_check = RH_LEDGER_ROWS_OF;
        st->arg = rh_xstrdup(a->text);
        if (rh_scnp_count(c, b, &st->n, "a row count") < 0)
            return -1;
        return rh_scnp_need_end(c, NULL);
    }
    if (rh_scnp_is(w, "checksum")) {
        const rh_tok *name = rh_scnp_need(c, "a migration name", "e.g. expect ledger checksum 20250101_init matches");
        if (!name)
            return -1;
        const rh_tok *m = rh_scnp_need(c, "'matches' or 'differs'",
                                       "the checksum is compared with the file at the current checkout");
        if (!m)
            return -1;
        if (!rh_scnp_is(m, "matches") && !rh_scnp_is(m, "differs"))
            return rh_scnp_err(c, m, "the checksum is compared with the file at the current checkout",
                               "expected 'matches' or 'differs', got '%s'", m->text);
        st->ledger_check = RH_LEDGER_CHECKSUM;
        st->arg = rh_xstrdup(name->text);
        st->negate = rh_scnp_is(m, "differs");
        return rh_scnp_need_end(c, NULL);
    }
    if (rh_scnp_is(w, "order")) {
        st->ledger_check = RH_LEDGER_ORDER;
        return order_names(c, st, "list the migrations in the order they must have been applied");
    }
    char hint[256];
    rh_scnp_suggest(hint, sizeof hint, w->text, words);
    return rh_scnp_err(c, w, hint, "unknown ledger check '%s'", w->text);
}

/* expect query SQL = V | != V | rows N | error SQLSTATE | ok */
static int expect_query(cur *c, rh_scn_step *st)
{
    st->kind = RH_STEP_EXPECT_QUERY;
    if (rh_scnp_take_text(c, st, "the query (quoted, or a heredoc)") < 0)
        return -1;
    static const char *const words[] = {"=", "!=", "rows", "error", "ok", NULL};
    const rh_tok *op = rh_scnp_take(c);
    if (!op && c->arrow < c->l->n)
        return rh_scnp_err(c, &c->l->toks[c->arrow], "compare a query's value with '=': expect query \"select 1\" = 1",
                           "'=>' gives the outcome of an action; an expectation uses =, !=, rows, error or ok");
    if (!op) {
        return rh_scnp_err(c, NULL, "e.g. expect query \"select count(*) from t\" = 0",
                           "expected what the query returns: = VALUE, != VALUE, rows N, error SQLSTATE or ok");
    }
    if (rh_scnp_is(op, "=") || rh_scnp_is(op, "!=") || rh_scnp_is(op, "==")) {
        st->query_check = rh_scnp_is(op, "!=") ? RH_QUERY_NE : RH_QUERY_EQ;
        st->negate = rh_scnp_is(op, "!=");
        const rh_tok *v = rh_scnp_need(c, "a value",
                                       "compare with null (unquoted) for SQL NULL; quote text with spaces");
        if (!v)
            return -1;
        st->value = rh_xstrdup(v->text);
        st->value_is_null = rh_scnp_is(v, "null");
    } else if (rh_scnp_is(op, "rows")) {
        st->query_check = RH_QUERY_ROWS;
        if (rh_scnp_count(c, rh_scnp_need(c, "a row count", NULL), &st->n, "a row count") < 0)
            return -1;
    } else if (rh_scnp_is(op, "error")) {
        st->query_check = RH_QUERY_ERROR;
        const rh_tok *code = rh_scnp_need(c, "a SQLSTATE",
                                          "e.g. expect query \"select \\\"contactId\\\" from t\" error 42703");
        if (!code)
            return -1;
        if (!rh_scnp_is_sqlstate(code->text))
            return rh_scnp_err(c, code, "a SQLSTATE is five digits or capital letters, e.g. 42703",
                               "'%s' is not a SQLSTATE",
                               code->text);
        st->value = rh_xstrdup(code->text);
    } else if (rh_scnp_is(op, "ok")) {
        st->query_check = RH_QUERY_OK;
    } else {
        char hint[256];
        rh_scnp_suggest(hint, sizeof hint, op->text, words);
        return rh_scnp_err(c, op, op->quoted ? "is the query quoted as one word? \"select ...\"" : hint,
                           "expected =, !=, rows, error or ok, got '%s'", op->text);
    }
    return rh_scnp_need_end(c, NULL);
}

/* expect catalog =|!= snapshot NAME | clean [REV] | file PATH; the snapshot must be taken earlier. */
static int expect_catalog(cur *c, rh_scn_step *st)
{
    st->kind = RH_STEP_EXPECT_CATALOG;
    const rh_tok *op = rh_scnp_need(c, "'=' or '!='", "e.g. expect catalog = snapshot before");
    if (!op)
        return -1;
    if (!rh_scnp_is(op, "=") && !rh_scnp_is(op, "!="))
        return rh_scnp_err(c, op, "e.g. expect catalog = clean v2", "expected '=' or '!=', got '%s'", op->text);
    st->negate = rh_scnp_is(op, "!=");
    static const char *const words[] = {"snapshot", "clean", "file", NULL};
    const rh_tok *what = rh_scnp_need(c, "snapshot NAME, clean [REV] or file PATH", NULL);
    if (!what)
        return -1;
    if (rh_scnp_is(what, "snapshot")) {
        const rh_tok *name = rh_scnp_need(c, "a snapshot name", "take it earlier with: snapshot NAME");
        if (!name)
            return -1;
        int known = 0;
        for (size_t i = 0; i < c->p->nsnapshots; i++)
            known |= strcmp(c->p->snapshots[i], name->text) == 0;
        if (!known)
            return rh_scnp_err(c, name, "take it with `snapshot NAME` on an earlier line",
                               "no snapshot named '%s' was taken before this line", name->text);
        st->catalog_ref = RH_CATREF_SNAPSHOT;
        st->arg = rh_xstrdup(name->text);
    } else if (rh_scnp_is(what, "clean")) {
        st->catalog_ref = RH_CATREF_CLEAN;
        const rh_tok *rev = rh_scnp_take(c);
        st->arg = rev ? rh_xstrdup(rev->text) : NULL;
    } else if (rh_scnp_is(what, "file")) {
        const rh_tok *path = rh_scnp_need(c, "a path", "a file written by `rehearse snapshot`, relative to this file");
        if (!path)
            return -1;
        st->catalog_ref = RH_CATREF_FILE;
        st->arg = rh_scnp_path(c, path->text);
        if (rh_scnp_check_path(c, path, st->arg, "expect catalog = file") < 0)
            return -1;
    } else {
        char hint[256];
        rh_scnp_suggest(hint, sizeof hint, what->text, words);
        return rh_scnp_err(c, what, hint, "expected snapshot, clean or file, got '%s'", what->text);
    }
    return rh_scnp_need_end(c, NULL);
}

/* expect status up-to-date | pending N [NAME...] | failed NAME */
static int expect_status(cur *c, rh_scn_step *st)
{
    static const char *const words[] = {"up-to-date", "pending", "failed", NULL};
    st->kind = RH_STEP_EXPECT_STATUS;
    const rh_tok *w = rh_scnp_need(c, "up-to-date, pending N or failed NAME", NULL);
    if (!w)
        return -1;
    if (rh_scnp_is(w, "up-to-date")) {
        st->status_check = RH_STATUS_UP_TO_DATE;
    } else if (rh_scnp_is(w, "pending")) {
        st->status_check = RH_STATUS_PENDING;
        if (rh_scnp_count(c, rh_scnp_need(c, "how many migrations are pending", "e.g. expect status pending 3"), &st->n,
                          "a count") < 0)
            return -1;
        const rh_tok *t;
        while ((t = rh_scnp_take(c)))
            rh_scnp_add_name(st, t->text);
        if (st->nnames && st->nnames != (size_t)st->n)
            return rh_scnp_err(c, NULL, "list all pending migrations, or none", "%ld pending, but %zu names listed",
                               st->n, st->nnames);
    } else if (rh_scnp_is(w, "failed")) {
        st->status_check = RH_STATUS_FAILED;
        const rh_tok *name = rh_scnp_need(c, "the failed migration's name", NULL);
        if (!name)
            return -1;
        st->arg = rh_xstrdup(name->text);
    } else {
        char hint[256];
        rh_scnp_suggest(hint, sizeof hint, w->text, words);
        return rh_scnp_err(c, w, hint, "unknown status '%s'", w->text);
    }
    return rh_scnp_need_end(c, NULL);
}

/* expect output contains|lacks TEXT: in the output of the last Prisma command that ended. */
static int expect_output(cur *c, rh_scn_step *st)
{
    st->kind = RH_STEP_EXPECT_OUTPUT;
    const rh_tok *how = rh_scnp_need(c, "'contains' or 'lacks'", "e.g. expect output contains \"P3009\"");
    if (!how)
        return -1;
    if (!rh_scnp_is(how, "contains") && !rh_scnp_is(how, "lacks"))
        return rh_scnp_err(c, how, "e.g. expect output contains \"P3009\"", "expected 'contains' or 'lacks', got '%s'",
                           how->text);
    st->negate = rh_scnp_is(how, "lacks");
    const rh_tok *text = rh_scnp_need(c, "the text to look for", NULL);
    if (!text)
        return -1;
    st->value = rh_xstrdup(text->text);
    if (rh_scnp_need_end(c, "quote text with spaces as one word") < 0)
        return -1;
    if (c->p->have_output)
        return 0;
    const char *hint =
        c->p->background ? "its output is there once it ends: add `wait deploy` (or status, resolve) before this line"
                         : "run deploy, status or resolve before this line; expect output checks the last one's output";
    return rh_scnp_err(c, &c->l->toks[0], hint,
                       "'expect output' before any Prisma command has ended: there is no output to check");
}

/* expect finding KIND [NAME] | none: rehearse's own findings in `prisma migrate status`. */
static int expect_finding(cur *c, rh_scn_step *st)
{
    /* the kinds of engine.h: rh_finding_kind_name */
    static const char *const kinds[] = {"edited-after-apply", "folder-gone", "will-reapply", "failed",
                                        "hidden-ledger", "skipped", NULL};
    st->kind = RH_STEP_EXPECT_FINDING;
    const rh_tok *k = rh_scnp_need(c, "a finding kind, or 'none'",
                                   "e.g. expect finding edited-after-apply 20250101_init");
    if (!k)
        return -1;
    if (rh_scnp_is(k, "none")) {
        st->negate = 1;
        return rh_scnp_need_end(c, NULL);
    }
    int known = 0;
    for (int i = 0; kinds[i]; i++)
        known |= rh_scnp_is(k, kinds[i]);
    if (!known) {
        char hint[512];
        rh_scnp_suggest(hint, sizeof hint, k->text, kinds);
        return rh_scnp_err(c, k, hint, "unknown finding '%s'", k->text);
    }
    st->arg = rh_xstrdup(k->text);
    const rh_tok *name = rh_scnp_take(c);
    if (name)
        st->arg2 = rh_xstrdup(name->text);
    return rh_scnp_need_end(c, NULL);
}

/* expect WHAT ...: dispatch on the word after `expect`; the rest are catalog objects. */
int rh_scnp_st_expect(cur *c, rh_scn_step *st, const char *kw)
{
    (void)kw;
    const rh_tok *w = rh_scnp_need(c, "what to expect", "e.g. expect ledger applied 3, expect index \"t_idx\" valid");
    if (!w)
        return -1;
    if (rh_scnp_is(w, "ledger"))
        return expect_ledger(c, st);
    if (rh_scnp_is(w, "query"))
        return expect_query(c, st);
    if (c->l->heredoc && rh_scnp_no_heredoc(c, "expect") < 0)
        return -1;
    if (rh_scnp_is(w, "catalog"))
        return expect_catalog(c, st);
    if (rh_scnp_is(w, "status"))
        return expect_status(c, st);
    if (rh_scnp_is(w, "output"))
        return expect_output(c, st);
    if (rh_scnp_is(w, "finding") || rh_scnp_is(w, "findings"))
        return expect_finding(c, st);
    if (rh_scnp_is(w, "order")) {
        st->kind = RH_STEP_EXPECT_ORDER;
        return order_names(c, st, "list migrations in the order the Prisma profile must list them");
    }
    return rh_scnp_expect_object(c, st, w);
}
