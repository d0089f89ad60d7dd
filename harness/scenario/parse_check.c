/*
 * parse_check.c — checks that span lines, so that a scenario that cannot work fails before a cluster
 * starts: after each step's line (an outcome or heredoc the step cannot take, what `expect output`
 * will have to look at) and after the last line (a command started with & and never waited for).
 */
#include <stdio.h>
#include <string.h>

#include "scenario/parse_int.h"

/* After the line of step st (keyword k) was read with result rc; returns the line's result. */
int rh_scnp_check_line(cur *c, rh_scn_step *st, const char *k, int rc)
{
    parser *p = c->p;
    rh_lline *l = c->l;
    /* a command in the foreground, or `wait CMD` (not `wait CMD blocked`), leaves output behind; on an
       error in that line too, so that one mistake is not reported twice */
    if ((rh_scnp_is_engine_name(k) && !c->amp) || strcmp(k, "repair") == 0 ||
        (strcmp(k, "wait") == 0 && l->n > 1 && rh_scnp_is_engine_name(l->toks[1].text) && !(rc == 0 && st->n)))
        p->have_output = 1;
    /* the steps that take an outcome read it themselves */
    if (rc == 0 && st->kind != RH_STEP_DEPLOY && st->kind != RH_STEP_STATUS && st->kind != RH_STEP_RESOLVE &&
        st->kind != RH_STEP_REPAIR && st->kind != RH_STEP_SQL && st->kind != RH_STEP_SQL_FILE && st->kind != RH_STEP_SESSION &&
        st->kind != RH_STEP_WAIT && c->arrow < l->n)
        rc = rh_scnp_outcome(c, st, 0);
    if (rc == 0 && l->heredoc && !st->text && st->kind != RH_STEP_SQL_FILE)
        rc = rh_scnp_no_heredoc(c, k);
    return rc;
}

/* After the last line of the scenario, when no error came before. */
void rh_scnp_check_end(parser *p)
{
    if (p->nerrors || !p->background)
        return;
    /* point at the line that started it: that is where the missing wait belongs after */
    char hint[128];
    snprintf(hint, sizeof hint, "add `wait %s` after it", p->background);
    rh_scn_diag(&p->diag, p->bg_file, p->bg_source, p->bg_line, 1, hint, "'%s &' is never waited for", p->background);
    p->nerrors++;
}
