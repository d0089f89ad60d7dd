/*
 * parse_sql.c — the steps that run SQL and drive sessions: sql, sql-file, session, wait, the steps
 * that end a session, set/env/reset, fault, sleep and restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/parse_int.h"

/* A session that an earlier line opened: the check that saves a run from a typo. */
int rh_scnp_known_session(parser *p, const char *name)
{
    for (size_t i = 0; i < p->nsessions; i++)
        if (strcmp(p->sessions[i], name) == 0)
            return 1;
    return 0;
}

/* The Prisma commands' names, which `wait` takes and a session may not have. */
int rh_scnp_is_engine_name(const char *s)
{
    return strcmp(s, "deploy") == 0 || strcmp(s, "status") == 0 || strcmp(s, "resolve") == 0;
}

/* A session name that an earlier `session` step opened. */
static const rh_tok *need_session(cur *c, const char *kw)
{
    const rh_tok *t = rh_scnp_need(c, "a session name", NULL);
    if (!t)
        return NULL;
    if (!rh_scnp_known_session(c->p, t->text)) {
        char hint[512];
        size_t off = (size_t)snprintf(hint, sizeof hint, "open it first: session %s <<EOF ... EOF", t->text);
        if (c->p->nsessions) {
            off += (size_t)snprintf(hint + off, sizeof hint - off, " (sessions so far:");
            for (size_t i = 0; i < c->p->nsessions && off < sizeof hint; i++)
                off += (size_t)snprintf(hint + off, sizeof hint - off, " %s", c->p->sessions[i]);
            if (off < sizeof hint)
                snprintf(hint + off, sizeof hint - off, ")");
        }
        rh_scnp_err(c, t, hint, "'%s %s': no session named '%s' was opened before this line", kw, t->text, t->text);
        return NULL;
    }
    return t;
}

/* sql / sql-file [--each]: SQL run on the scenario's database, from the line, a heredoc or a file. */
int rh_scnp_st_sql(cur *c, rh_scn_step *st, const char *k)
{
    st->kind = k[3] ? RH_STEP_SQL_FILE : RH_STEP_SQL;
    if (rh_scnp_is(rh_scnp_peek(c), "--each")) {
        rh_scnp_take(c);
        st->each = 1;
    }
    if (st->kind == RH_STEP_SQL_FILE) {
        if (c->l->heredoc && rh_scnp_no_heredoc(c, "sql-file") < 0)
            return -1;
        const rh_tok *t = rh_scnp_need(c, "a path, or --migration NAME",
                                       "e.g. sql-file --each --migration 20250101_init");
        if (!t)
            return -1;
        if (rh_scnp_is(t, "--migration")) {
            const rh_tok *name = rh_scnp_need(c, "a migration name",
                                              "its migration.sql at the current checkout is run");
            if (!name)
                return -1;
            st->from_migration = 1;
            st->arg = rh_xstrdup(name->text);
        } else {
            st->arg = rh_scnp_path(c, t->text);
            if (rh_scnp_check_path(c, t, st->arg, "sql-file") < 0)
                return -1;
        }
    } else if (rh_scnp_take_text(c, st, "SQL (quoted, or a heredoc <<EOF)") < 0) {
        return -1;
    }
    if (rh_scnp_is(rh_scnp_peek(c), "--each")) {
        rh_scnp_take(c);
        st->each = 1;
    }
    if (rh_scnp_need_end(c, "quote SQL as one word, or use a heredoc") < 0)
        return -1;
    return rh_scnp_outcome(c, st, OUT_SQL);
}

/* session NAME SQL: opens (or reuses) a named connection that later lines wait on or end. */
int rh_scnp_st_session(cur *c, rh_scn_step *st, const char *k)
{
    (void)k;
    st->kind = RH_STEP_SESSION;
    const rh_tok *name = rh_scnp_need(c, "a session name", "e.g. session blocker <<EOF ... EOF");
    if (!name)
        return -1;
    if (rh_scnp_is_engine_name(name->text))
        return rh_scnp_err(c, name, "deploy, status and resolve name the engine commands; pick another name",
                           "'%s' cannot name a session", name->text);
    st->arg = rh_xstrdup(name->text);
    if (rh_scnp_take_text(c, st, "the session's SQL (quoted, or a heredoc <<EOF)") < 0)
        return -1;
    if (rh_scnp_need_end(c, "quote SQL as one word, or use a heredoc") < 0)
        return -1;
    if (!rh_scnp_known_session(c->p, name->text)) {
        c->p->sessions = rh_xrealloc(c->p->sessions, (c->p->nsessions + 1) * sizeof *c->p->sessions);
        c->p->sessions[c->p->nsessions++] = rh_xstrdup(name->text);
    }
    return rh_scnp_outcome(c, st, OUT_SQL | OUT_BLOCKED);
}

/* wait NAME [blocked]: for a session, or for a Prisma command started with &. */
int rh_scnp_st_wait(cur *c, rh_scn_step *st, const char *k)
{
    st->kind = RH_STEP_WAIT;
    if (rh_scnp_no_heredoc(c, k) < 0)
        return -1;
    const rh_tok *name = rh_scnp_need(c, "a session name, or deploy/status/resolve", "e.g. wait deploy blocked");
    if (!name)
        return -1;
    int engine = rh_scnp_is_engine_name(name->text);
    if (engine) {
        if (!c->p->background || strcmp(c->p->background, name->text) != 0) {
            char hint[128];
            snprintf(hint, sizeof hint, "start it in the background first: %s &", name->text);
            return rh_scnp_err(c, name, hint, "no '%s' is running in the background here", name->text);
        }
    } else if (!rh_scnp_known_session(c->p, name->text)) {
        return rh_scnp_err(c, name, "open it first with: session NAME <<EOF ... EOF",
                           "no session named '%s' was opened before this line", name->text);
    }
    st->arg = rh_xstrdup(name->text);
    const rh_tok *b = rh_scnp_take(c);
    if (b) {
        if (!rh_scnp_is(b, "blocked"))
            return rh_scnp_err(c, b, "`wait NAME blocked` waits until NAME waits on a lock; `wait NAME` until it ends",
                               "unexpected '%s'", b->text);
        st->n = 1; /* wait until blocked */
        if (c->arrow < c->l->n)
            return rh_scnp_err(c, &c->l->toks[c->arrow], "check the outcome with a later `wait NAME`",
                               "'wait %s blocked' takes no outcome", name->text);
        return rh_scnp_need_end(c, NULL);
    }
    if (engine)
        c->p->background = NULL;
    return rh_scnp_outcome(c, st, engine ? OUT_ENGINE : OUT_SQL);
}

/* fault ACTION TRIGGER: what to do to the running command, and when. */
int rh_scnp_st_fault(cur *c, rh_scn_step *st, const char *k)
{
    st->kind = RH_STEP_FAULT;
    if (rh_scnp_no_heredoc(c, k) < 0)
        return -1;
    static const char *const actions[] = {"terminate", "cancel", "restart", NULL};
    const rh_tok *a = rh_scnp_need(c, "terminate, cancel or restart", "e.g. fault cancel when blocked");
    if (!a)
        return -1;
    if (rh_scnp_is(a, "terminate"))
        st->fault_action = RH_FAULT_TERMINATE;
    else if (rh_scnp_is(a, "cancel"))
        st->fault_action = RH_FAULT_CANCEL;
    else if (rh_scnp_is(a, "restart"))
        st->fault_action = RH_FAULT_RESTART;
    else {
        char hint[256];
        rh_scnp_suggest(hint, sizeof hint, a->text, actions);
        return rh_scnp_err(c, a, hint, "unknown fault '%s'", a->text);
    }
    const rh_tok *w = rh_scnp_need(c, "at MIGRATION, before MIGRATION or when blocked",
                                   "e.g. fault terminate at 20250101_init");
    if (!w)
        return -1;
    if (rh_scnp_is(w, "when")) {
        const rh_tok *b = rh_scnp_need(c, "'blocked'", "e.g. fault cancel when blocked");
        if (!b)
            return -1;
        if (!rh_scnp_is(b, "blocked"))
            return rh_scnp_err(c, b, "e.g. fault cancel when blocked", "expected 'blocked', got '%s'", b->text);
        st->fault_trigger = RH_FAULT_WHEN_BLOCKED;
    } else if (rh_scnp_is(w, "at") || rh_scnp_is(w, "before")) {
        st->fault_trigger = rh_scnp_is(w, "at") ? RH_FAULT_AT_MIGRATION : RH_FAULT_BEFORE_MIGRATION;
        const rh_tok *m = rh_scnp_need(c, "a migration name, or N for the N-th migration the command applies", NULL);
        if (!m)
            return -1;
        if (rh_scnp_all_digits(m->text) && !m->quoted) {
            long v;
            if (rh_scnp_count(c, m, &v, "a migration number") < 0)
                return -1;
            if (v < 1)
                return rh_scnp_err(c, m, "migrations are counted from 1", "'%s' is not a migration number", m->text);
            st->n = v;
        } else {
            st->arg = rh_xstrdup(m->text);
        }
    } else {
        return rh_scnp_err(c, w, "e.g. fault terminate at 20250101_init, fault cancel when blocked",
                           "expected 'at', 'before' or 'when', got '%s'", w->text);
    }
    return rh_scnp_need_end(c, NULL);
}

/* commit / rollback / release / cancel / terminate SESSION: end or interrupt a session opened earlier. */
int rh_scnp_st_session_end(cur *c, rh_scn_step *st, const char *k)
{
    st->kind = strcmp(k, "commit") == 0     ? RH_STEP_COMMIT
             : strcmp(k, "cancel") == 0     ? RH_STEP_CANCEL
             : strcmp(k, "rollback") == 0   ? RH_STEP_ROLLBACK
             : strcmp(k, "release") == 0    ? RH_STEP_RELEASE
                                            : RH_STEP_TERMINATE;
    if (rh_scnp_no_heredoc(c, k) < 0)
        return -1;
    const rh_tok *t = need_session(c, k);
    if (!t)
        return -1;
    st->arg = rh_xstrdup(t->text);
    return rh_scnp_need_end(c, NULL);
}

/* set NAME VALUE / env NAME VALUE (also NAME=VALUE, NAME = VALUE, NAME to VALUE): a server setting for
   the commands that follow, or a variable of the Prisma process's environment. */
int rh_scnp_st_set(cur *c, rh_scn_step *st, const char *k)
{
    int env = k[0] == 'e';
    st->kind = env ? RH_STEP_ENV : RH_STEP_SET;
    if (rh_scnp_no_heredoc(c, k) < 0)
        return -1;
    const char *hint = env ? "e.g. env PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK 1" : "e.g. set lock_timeout 1s";
    const rh_tok *name = rh_scnp_need(c, env ? "a variable name" : "a setting name", hint);
    if (!name)
        return -1;
    char *eq = strchr(name->text, '=');
    if (eq && !name->quoted) {
        st->arg = rh_xstrndup(name->text, (size_t)(eq - name->text));
        st->arg2 = rh_xstrdup(eq + 1);
    } else {
        st->arg = rh_xstrdup(name->text);
        if (rh_scnp_is(rh_scnp_peek(c), "=") || rh_scnp_is(rh_scnp_peek(c), "to"))
            rh_scnp_take(c);
        const rh_tok *v = rh_scnp_need(c, "a value", env ? NULL : "e.g. set lock_timeout 1s");
        if (!v)
            return -1;
        st->arg2 = rh_xstrdup(v->text);
    }
    if (!rh_scnp_is_ident(st->arg))
        return rh_scnp_err(c, name, NULL, "'%s' is not a %s name", st->arg, env ? "variable" : "setting");
    return rh_scnp_need_end(c, "quote a value with spaces");
}

/* reset NAME: a setting back to the server's default. */
int rh_scnp_st_reset(cur *c, rh_scn_step *st, const char *k)
{
    st->kind = RH_STEP_RESET;
    if (rh_scnp_no_heredoc(c, k) < 0)
        return -1;
    if (rh_scnp_one_arg(c, st, "a setting name", "e.g. reset lock_timeout") < 0)
        return -1;
    if (!rh_scnp_is_ident(st->arg))
        return rh_scnp_err(c, &c->l->toks[1], NULL, "'%s' is not a setting name", st->arg);
    return 0;
}

/* sleep DURATION: give a background command time to reach a lock. */
int rh_scnp_st_sleep(cur *c, rh_scn_step *st, const char *k)
{
    st->kind = RH_STEP_SLEEP;
    if (rh_scnp_no_heredoc(c, k) < 0)
        return -1;
    const rh_tok *t = rh_scnp_need(c, "a duration", "e.g. sleep 200ms");
    if (!t)
        return -1;
    if ((st->n = rh_scn_parse_duration(t->text)) < 0)
        return rh_scnp_err(c, t, "durations look like 500ms, 30s, 2m", "'%s' is not a duration", t->text);
    return rh_scnp_need_end(c, NULL);
}

/* restart: the server, between steps (during a command it is `fault restart`). */
int rh_scnp_st_restart(cur *c, rh_scn_step *st, const char *k)
{
    st->kind = RH_STEP_RESTART;
    if (rh_scnp_no_heredoc(c, k) < 0)
        return -1;
    return rh_scnp_need_end(c,
                            "restart takes no arguments; to restart during a deploy use: fault restart at MIGRATION");
}
