/*
 * parse_command.c — the migration tool's command steps (deploy, status, resolve, repair), in the
 * foreground or started with `&`, and the expected outcome (`=> ...`) that these and the SQL steps
 * may end with. Whether `=> error CODE` names a tool's code is the tools' answer (rh_scn_tools).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/parse_int.h"

/* `=> OUTCOME`: what the step must end with; checked against what this kind of step can report. */
int rh_scnp_outcome(cur *c, rh_scn_step *st, int allowed)
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
        return rh_scnp_err(c, arrow, "only deploy, status, resolve, sql, sql-file, session and wait take an outcome",
                           "'%s' takes no expected outcome", rh_scn_kind_name(st->kind));
    if (!w) {
        char hint[256];
        rh_scnp_suggest(hint, sizeof hint, "", words);
        return rh_scnp_err(c, NULL, hint, "expected an outcome after '=>'");
    }
    size_t used = 1;
    if (rh_scnp_is(w, "ok")) {
        st->outcome.kind = RH_OUT_OK;
    } else if (rh_scnp_is(w, "any")) {
        st->outcome.kind = RH_OUT_ANY;
    } else if (rh_scnp_is(w, "blocked") && (allowed & OUT_BLOCKED)) {
        st->outcome.kind = RH_OUT_BLOCKED;
    } else if (rh_scnp_is(w, "fails") && (allowed & OUT_ENGINE)) {
        rh_tok *name = i + 1 < n ? &c->l->toks[i + 1] : NULL;
        if (!name)
            return rh_scnp_err(c, NULL, "e.g. => fails 20251225_step6 sqlstate 25001",
                               "expected the migration that fails after 'fails'");
        st->outcome.kind = RH_OUT_FAILS;
        st->outcome.name = rh_xstrdup(name->text);
        used = 2;
        if (i + 2 < n && rh_scnp_is(&c->l->toks[i + 2], "sqlstate")) {
            rh_tok *code = i + 3 < n ? &c->l->toks[i + 3] : NULL;
            if (!code)
                return rh_scnp_err(c, NULL, "a SQLSTATE is five characters, e.g. 25001",
                                   "expected a SQLSTATE after 'sqlstate'");
            if (!rh_scnp_is_sqlstate(code->text))
                return rh_scnp_err(c, code, "a SQLSTATE is five digits or capital letters, e.g. 25001 or 55P03",
                                   "'%s' is not a SQLSTATE", code->text);
            snprintf(st->outcome.code, sizeof st->outcome.code, "%s", code->text);
            used = 4;
        }
    } else if (rh_scnp_is(w, "error")) {
        rh_tok *code = i + 1 < n ? &c->l->toks[i + 1] : NULL;
        const rh_scn_tools *tools = c->p->tools;
        if (!code) {
            char hint[64];
            snprintf(hint, sizeof hint, "e.g. => error %s",
                     !(allowed & OUT_ENGINE) ? "23505" : tools && tools->example[0] ? tools->example : "CODE");
            return rh_scnp_err(c, NULL, hint, "expected an error code after 'error'");
        }
        if (allowed & OUT_ENGINE) {
            if (tools && !tools->is_error_code(code->text))
                return rh_scnp_err(c, code,
                                   rh_scnp_is_sqlstate(code->text)
                                ? "a failed migration's SQLSTATE is written: => fails MIGRATION sqlstate CODE"
                                : tools->looks,
                            "'%s' is not %s", code->text, tools->kind);
        } else if (!rh_scnp_is_sqlstate(code->text)) {
            return rh_scnp_err(c, code, "a SQLSTATE is five digits or capital letters, e.g. 23505 or 55P03",
                               "'%s' is not a SQLSTATE", code->text);
        }
        st->outcome.kind = RH_OUT_ERROR;
        snprintf(st->outcome.code, sizeof st->outcome.code, "%s", code->text);
        used = 2;
    } else if (rh_scnp_is(w, "exit") && (allowed & OUT_ENGINE)) {
        rh_tok *code = i + 1 < n ? &c->l->toks[i + 1] : NULL;
        long v;
        if (!code)
            return rh_scnp_err(c, NULL, "e.g. => exit 1", "expected an exit code after 'exit'");
        if (rh_scnp_count(c, code, &v, "an exit code") < 0)
            return -1;
        st->outcome.kind = RH_OUT_EXIT;
        st->outcome.exit_code = (int)v;
        used = 2;
    } else {
        char hint[256];
        rh_scnp_suggest(hint, sizeof hint, w->text, words);
        return rh_scnp_err(c, w, hint, "unknown outcome '%s'", w->text);
    }
    if (i + used < n)
        return rh_scnp_err(c, &c->l->toks[i + used], NULL, "unexpected '%s' after the outcome",
                           c->l->toks[i + used].text);
    return 0;
}

/*
 * repair VERB [NAME]: a repair command of the scenario's tool (`tool dbmate` ... `repair rollback`).
 * Which verbs a tool has is the tool's own (tools/): the runner checks it before a cluster starts.
 */
static int st_repair(cur *c, rh_scn_step *st)
{
    const rh_tok *verb = rh_scnp_need(c, "the tool's repair command", "e.g. repair rollback (dbmate)");
    if (!verb)
        return -1;
    if (!rh_scnp_is_ident(verb->text))
        return rh_scnp_err(c, verb, "e.g. repair rollback (dbmate)", "'%s' is not a command name", verb->text);
    st->arg = rh_xstrdup(verb->text);
    const rh_tok *name = rh_scnp_take(c);
    if (name)
        st->arg2 = rh_xstrdup(name->text);
    if (rh_scnp_need_end(c, "the expected outcome follows =>, e.g. repair rollback => ok") < 0)
        return -1;
    return rh_scnp_outcome(c, st, OUT_ENGINE);
}

/* deploy / status / resolve [&]: one command of the tool; a second may not start while one runs with &. */
int rh_scnp_st_engine(cur *c, rh_scn_step *st, const char *k)
{
    st->kind = k[0] == 'd' ? RH_STEP_DEPLOY : k[0] == 's' ? RH_STEP_STATUS : k[0] == 'r' && k[2] == 'p' ? RH_STEP_REPAIR : RH_STEP_RESOLVE;
    if (rh_scnp_no_heredoc(c, k) < 0)
        return -1;
    if (c->p->background) {
        char hint[128];
        snprintf(hint, sizeof hint, "add `wait %s` before this line", c->p->background);
        return rh_scnp_err(c, &c->l->toks[0], hint, "'%s' started with & is still running", c->p->background);
    }
    if (st->kind == RH_STEP_REPAIR)
        return st_repair(c, st);
    if (st->kind == RH_STEP_RESOLVE) {
        const rh_tok *mode = rh_scnp_need(c, "--applied NAME or --rolled-back NAME",
                                          "e.g. resolve --rolled-back 20251225_step6");
        if (!mode)
            return -1;
        if (rh_scnp_is(mode, "--applied") || rh_scnp_is(mode, "applied"))
            st->resolve_mode = RH_RESOLVE_APPLIED;
        else if (rh_scnp_is(mode, "--rolled-back") || rh_scnp_is(mode, "rolled-back"))
            st->resolve_mode = RH_RESOLVE_ROLLED_BACK;
        else
            return rh_scnp_err(c, mode, "e.g. resolve --rolled-back 20251225_step6",
                               "expected --applied or --rolled-back, got '%s'",
                               mode->text);
        const rh_tok *name = rh_scnp_need(c, "the migration's name", NULL);
        if (!name)
            return -1;
        st->arg = rh_xstrdup(name->text);
    }
    char hint[96];
    snprintf(hint, sizeof hint, "the expected outcome follows =>, e.g. deploy => %s%s",
             c->p->tools && c->p->tools->example[0] ? "error " : "ok",
             c->p->tools && c->p->tools->example[0] ? c->p->tools->example : "");
    if (rh_scnp_need_end(c, hint) < 0)
        return -1;
    st->background = c->amp;
    if (c->amp) {
        if (c->arrow < c->l->n)
            return rh_scnp_err(c, &c->l->toks[c->arrow], "check the outcome when it ends: wait deploy => ...",
                               "a command started with & has no outcome yet");
        c->p->background = rh_scn_kind_name(st->kind);
        c->p->bg_file = c->file;
        c->p->bg_line = c->l->line;
        free(c->p->bg_source);
        c->p->bg_source = rh_xstrdup(c->l->source ? c->l->source : "");
    }
    return rh_scnp_outcome(c, st, OUT_ENGINE);
}
