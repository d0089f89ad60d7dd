/*
 * model.c — the step model's small helpers: names for kinds and states, an outcome in words,
 * durations, and freeing a parsed scenario.
 */
#include "scenario/scenario.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/parse_int.h"
#include "util/buf.h"

static const char *const kind_names[RH_STEP__COUNT] = {
    [RH_STEP_REPO] = "repo",
    [RH_STEP_MIGRATIONS] = "migrations",
    [RH_STEP_CHECKOUT] = "checkout",
    [RH_STEP_DEPLOY] = "deploy",
    [RH_STEP_STATUS] = "status",
    [RH_STEP_RESOLVE] = "resolve",
    [RH_STEP_SQL] = "sql",
    [RH_STEP_SQL_FILE] = "sql-file",
    [RH_STEP_SESSION] = "session",
    [RH_STEP_WAIT] = "wait",
    [RH_STEP_COMMIT] = "commit",
    [RH_STEP_ROLLBACK] = "rollback",
    [RH_STEP_RELEASE] = "release",
    [RH_STEP_CANCEL] = "cancel",
    [RH_STEP_TERMINATE] = "terminate",
    [RH_STEP_SET] = "set",
    [RH_STEP_RESET] = "reset",
    [RH_STEP_ENV] = "env",
    [RH_STEP_FAULT] = "fault",
    [RH_STEP_RESTART] = "restart",
    [RH_STEP_RESTORE_SCHEMA] = "restore schema",
    [RH_STEP_RESTORE_LEDGER] = "restore ledger",
    [RH_STEP_SNAPSHOT] = "snapshot",
    [RH_STEP_SLEEP] = "sleep",
    [RH_STEP_SCALE] = "scale",
    [RH_STEP_TOOL] = "tool",
    [RH_STEP_REPAIR] = "repair",
    [RH_STEP_EXPECT_CATALOG] = "expect catalog",
    [RH_STEP_EXPECT_OBJECT] = "expect",
    [RH_STEP_EXPECT_LEDGER] = "expect ledger",
    [RH_STEP_EXPECT_QUERY] = "expect query",
    [RH_STEP_EXPECT_STATUS] = "expect status",
    [RH_STEP_EXPECT_OUTPUT] = "expect output",
    [RH_STEP_EXPECT_ORDER] = "expect order",
    [RH_STEP_EXPECT_FINDING] = "expect finding",
};

/* Report and test output name steps the way files spell them. */
const char *rh_scn_kind_name(rh_scn_kind kind)
{
    return (unsigned)kind < RH_STEP__COUNT ? kind_names[kind] : "?";
}

const char *rh_scn_state_name(rh_scn_state st)
{
    switch (st) {
    case RH_STATE_APPLIED: return "applied";
    case RH_STATE_FAILED: return "failed";
    case RH_STATE_ROLLED_BACK: return "rolled-back";
    case RH_STATE_ABSENT: return "absent";
    }
    return "?";
}

/* Failure messages say what was expected in the words the scenario used. */
char *rh_scn_outcome_text(const rh_scn_outcome *o)
{
    switch (o->kind) {
    case RH_OUT_DEFAULT:
    case RH_OUT_OK: return rh_xstrdup("ok");
    case RH_OUT_ANY: return rh_xstrdup("any outcome");
    case RH_OUT_BLOCKED: return rh_xstrdup("blocked");
    case RH_OUT_EXIT: return rh_xasprintf("exit %d", o->exit_code);
    case RH_OUT_ERROR: return rh_xasprintf("error %s", o->code);
    case RH_OUT_FAILS:
        if (o->code[0])
            return rh_xasprintf("fails %s sqlstate %s", o->name, o->code);
        return rh_xasprintf("fails %s", o->name);
    }
    return rh_xstrdup("?");
}

/* Durations are written like "250ms", "10s", "2m"; a bare number means seconds. */
long rh_scn_parse_duration(const char *s)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return -1;
    /* digits, an optional fraction, then the unit: no hex, exponent or blanks (strtod would take them) */
    size_t n = strspn(s, "0123456789");
    if (s[n] == '.' && isdigit((unsigned char)s[n + 1]))
        n += 1 + strspn(s + n + 1, "0123456789");
    const char *unit = s + n;
    double v = strtod(s, NULL);
    if (v < 0 || v > 86400.0 * 7)
        return -1;
    if (*unit == 0 || strcmp(unit, "s") == 0)
        return (long)(v * 1000.0);
    if (strcmp(unit, "ms") == 0)
        return (long)v;
    if (strcmp(unit, "m") == 0 || strcmp(unit, "min") == 0)
        return (long)(v * 60000.0);
    return -1;
}

/* What a step owns; the parser also drops a half-read step with it. */
void rh_scn_step_clear(rh_scn_step *st)
{
    free(st->source);
    free(st->arg);
    free(st->arg2);
    free(st->text);
    free(st->outcome.name);
    free(st->obj_kind);
    free(st->schema);
    free(st->table);
    free(st->name);
    free(st->property);
    free(st->value);
    for (size_t k = 0; k < st->nnames; k++)
        free(st->names[k]);
    free(st->names);
}

void rh_scn_free(rh_scenario *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nsteps; i++)
        rh_scn_step_clear(&s->steps[i]);
    free(s->steps);
    for (size_t i = 0; i < s->nfiles; i++)
        free(s->files[i]);
    free(s->files);
    for (size_t i = 0; i < s->nroots; i++)
        free(s->roots[i]);
    free(s->roots);
    free(s->name);
    free(s->path);
    free(s->dir);
    free(s->skip);
    free(s->postgres);
    free(s);
}
