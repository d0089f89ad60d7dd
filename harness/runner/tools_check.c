/*
 * tools_check.c — what a scenario asks of its migration tool, checked before a cluster starts:
 * `tool NAME` is registered, each command step is one of the tool's verbs, expectations on the
 * ledger have a reader, faults and `&` only where rehearse's engine runs the migrations. The tools
 * registry answers each question; this file names no tool.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runner/runner.h"
#include "scenario/lex.h"
#include "tools/tool.h"
#include "util/buf.h"

typedef struct checker {
    rh_buf diag;
    int n;
} checker;

static void bad(checker *c, const rh_scn_step *st, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void bad(checker *c, const rh_scn_step *st, const char *hint, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->n++ < 8)
        rh_scn_diag(&c->diag, st->file, st->source, st->line, st->col, hint, "%s", msg);
}

/* The tool's verbs beyond deploy and status: its repair commands. */
static const char *repair_verbs(const rh_tool *t, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (const rh_tool_verb *v = t->verbs; v && v->name && len < size; v++)
        if (strcmp(v->name, "deploy") && strcmp(v->name, "status"))
            len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "", v->name);
    return out;
}

/* A command step: the verb must be one of the tool's. */
static void check_verb(checker *c, const rh_scn_step *st, const rh_tool *t, const char *verb)
{
    if (rh_tool_verb_find(t, verb))
        return;
    char verbs[256], repairs[256], hint[600];
    rh_tool_verb_names(t, verbs, sizeof verbs);
    repair_verbs(t, repairs, sizeof repairs);
    if (repairs[0])
        snprintf(hint, sizeof hint, "its commands: %s (a repair command is written `repair VERB`)", verbs);
    else
        snprintf(hint, sizeof hint, "its commands: %s; it has no repair command: repair %s with sql", verbs,
                 t->ledger_table ? t->ledger_table : "the database");
    const char *what = st->kind == RH_STEP_REPAIR ? "repair command" : "command";
    bad(c, st, hint, "tool %s has no %s `%s`", t->name, what, verb);
}

int rh_scenario_check_tools(const rh_scenario *s, rh_err *err)
{
    checker c = {.n = 0};
    rh_buf_init(&c.diag);
    const rh_tool *t = rh_tools[0], *lt = rh_tools[0];
    char names[256];
    for (size_t i = 0; i < s->nsteps; i++) {
        const rh_scn_step *st = &s->steps[i];
        int is_default = t == rh_tools[0];
        switch (st->kind) {
        case RH_STEP_TOOL: {
            const rh_tool *nt = rh_tool_find(st->arg);
            if (!nt) {
                char hint[300];
                snprintf(hint, sizeof hint, "known tools: %s", rh_tool_names(names, sizeof names));
                bad(&c, st, hint, "no migration tool '%s'", st->arg);
                break;
            }
            const rh_tool *nl = st->value ? rh_tool_find(st->value) : nt;
            if (st->value && (!nl || !nl->ledger_table)) {
                char hint[300];
                snprintf(hint, sizeof hint, "tools with a ledger: %s", rh_tool_names(names, sizeof names));
                bad(&c, st, hint, "'%s' is no tool whose ledger rehearse reads", st->value);
                nl = NULL;
            }
            if (st->arg2 && !nt->external && !nt->profile_from_version) {
                bad(&c, st, "rehearse reproduces one version of it (docs/tools.md): drop the version",
                    "tool %s takes no version", nt->name);
            } else if (st->arg2 && !nt->external && nt != rh_tools[0]) {
                bad(&c, st, NULL, "tool %s: versions are read for the default tool only", nt->name);
            } else if (st->arg2 && !nt->external) {
                rh_profile p;
                rh_err perr;
                if (nt->profile_from_version(&p, st->arg2, &perr) < 0)
                    bad(&c, st, NULL, "%s%s %s: %s", st->n ? "" : "tool ", nt->name, st->arg2, perr.msg);
            } else if (nt->external && !st->arg2) {
                bad(&c, st, "e.g. tool command \"npm run migrate\"", "tool %s needs the command line to run", nt->name);
            }
            t = nt;
            lt = nl;
            break;
        }
        case RH_STEP_DEPLOY:
        case RH_STEP_STATUS:
        case RH_STEP_RESOLVE:
        case RH_STEP_REPAIR:
            if (is_default && st->kind != RH_STEP_REPAIR)
                break; /* the default tool's own steps, as before */
            check_verb(&c, st,t,
                       st->kind == RH_STEP_DEPLOY   ? "deploy"
                       : st->kind == RH_STEP_STATUS ? "status"
                       : st->kind == RH_STEP_REPAIR ? st->arg
                       : st->resolve_mode == RH_RESOLVE_APPLIED ? "resolve --applied" : "resolve --rolled-back");
            if (st->background && t->external)
                bad(&c, st, "run it in the foreground", "tool %s runs another program: rehearse cannot watch it "
                    "in the background (`&`, `wait ... blocked`)", t->name);
            if (st->outcome.kind == RH_OUT_ERROR && !(t->is_error_code && t->is_error_code(st->outcome.code))) {
                const rh_tool *owner = rh_tool_for_error_code(st->outcome.code);
                if (owner)
                    bad(&c, st, "write => fails NAME [sqlstate S] or => exit N",
                        "=> error %s is a code of %s, not of tool %s", st->outcome.code, owner->name, t->name);
                else
                    bad(&c, st, "write => fails NAME [sqlstate S] or => exit N",
                        "=> error %s is no code of tool %s", st->outcome.code, t->name);
            }
            break;
        case RH_STEP_FAULT:
            if (t->external)
                bad(&c, st, "a fault needs rehearse's own runner of the migrations: use the tool's name (docs/tools.md)",
                    "tool %s runs another program: rehearse cannot stop it at a migration", t->name);
            break;
        case RH_STEP_EXPECT_LEDGER:
        case RH_STEP_EXPECT_STATUS:
            if (st->kind == RH_STEP_EXPECT_LEDGER && st->ledger_check == RH_LEDGER_CHECKSUM && lt && lt->no_checksum)
                bad(&c, st, "check the file's effect with expect KIND OBJECT or expect query",
                    "tool %s's ledger %s keeps no checksum", lt->name, lt->ledger_table);
            else if (st->kind == RH_STEP_EXPECT_LEDGER && lt && lt->ledger_applied_only &&
                     (st->ledger_check == RH_LEDGER_STATE_OF || st->ledger_check == RH_LEDGER_COUNT) &&
                     (st->state == RH_STATE_FAILED || st->state == RH_STATE_ROLLED_BACK))
                bad(&c, st, "a failed file leaves no row: expect ledger absent NAME",
                    "tool %s's ledger %s keeps applied rows only, never a %s one", lt->name, lt->ledger_table,
                    rh_scn_state_name(st->state));
            else if (st->kind == RH_STEP_EXPECT_LEDGER && st->ledger_check == RH_LEDGER_ORDER && lt && lt->ledger_no_order)
                bad(&c, st, "check each with expect ledger applied NAME",
                    "tool %s's ledger %s does not record the order files were applied in", lt->name, lt->ledger_table);
            else if (!lt || !lt->ledger_table)
                bad(&c, st, "name the tool whose ledger the command writes: tool command \"CMD\" ledger NAME; or "
                    "check with expect query",
                    "tool %s keeps no ledger rehearse can read", t->name);
            break;
        case RH_STEP_RESTORE_LEDGER: { /* the ledger's tool writes the rows (the runner asks the same) */
            const rh_tool *w = is_default ? rh_tools[0] : lt;
            if (!w || !w->ledger_insert_row)
                bad(&c, st, "write the rows with sql, or name the tool whose ledger the command writes: tool command "
                    "\"CMD\" ledger NAME",
                    "tool %s keeps no ledger rehearse can write rows of", w ? w->name : t->name);
            break;
        }
        case RH_STEP_EXPECT_CATALOG:
            if (!is_default && st->catalog_ref == RH_CATREF_CLEAN)
                bad(&c, st, "compare with a snapshot taken after a clean deploy instead: snapshot NAME",
                    "expect catalog ... clean REV deploys with %s; not yet with tool %s", rh_tools[0]->name, t->name);
            break;
        default:
            break;
        }
    }
    if (c.n) {
        if (c.n > 8)
            rh_buf_printf(&c.diag, "(%d more errors not shown)\n", c.n - 8);
        rh_err_set(err, "%s", c.diag.data);
        size_t n = strlen(err->msg);
        while (n && err->msg[n - 1] == '\n')
            err->msg[--n] = 0;
    }
    rh_buf_free(&c.diag);
    return c.n ? -1 : 0;
}

/* Is code one of a registered tool's error codes? (the parser's question, scenario.h) */
static int some_tool_reports(const char *code)
{
    return rh_tool_for_error_code(code) != NULL;
}

void rh_runner_scn_tools(rh_scn_tools *out)
{
    memset(out, 0, sizeof *out);
    out->is_error_code = some_tool_reports;
    char titles[64] = "";
    size_t nt = 0, nl = 0;
    int n = 0;
    for (size_t i = 0; rh_tools[i]; i++) {
        const rh_tool *t = rh_tools[i];
        if (!t->is_error_code)
            continue;
        const char *title = t->title ? t->title : t->name;
        const char *codes = t->error_codes ? t->error_codes : "";
        if (!out->example[0])
            snprintf(out->example, sizeof out->example, "%.*s", (int)strcspn(codes, ", "), codes);
        if (nt < sizeof titles)
            nt += (size_t)snprintf(titles + nt, sizeof titles - nt, "%s%s", n ? " or " : "", title);
        if (nl < sizeof out->looks)
            nl += (size_t)snprintf(out->looks + nl, sizeof out->looks - nl, "%s%s error codes look like %s",
                                   n ? "; " : "", title, codes);
        n++;
    }
    /* "a Prisma error code"; with two such tools "an error code of Prisma or X" */
    if (n == 1)
        snprintf(out->kind, sizeof out->kind, "a %s error code", titles);
    else if (n > 1)
        snprintf(out->kind, sizeof out->kind, "an error code of %s", titles);
    else {
        snprintf(out->kind, sizeof out->kind, "an error code of a migration tool");
        snprintf(out->looks, sizeof out->looks, "no migration tool reports codes: write => fails NAME or => exit N");
    }
}
