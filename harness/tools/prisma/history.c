/*
 * history.c — Prisma's findings between two revisions' migration folders (rh_tool.history_findings,
 * source/history.h): removed, renamed, edited (and edited in line endings only), inserted before
 * applied ones, folders without migration.sql, names whose order differs between byte order
 * (Prisma < 6.6) and ICU order (>= 6.6), odd entries. Each sentence says what Prisma does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/history.h"
#include "tools/prisma/prisma.h"
#include "tools/prisma/profile.h"
#include "tools/tool.h"
#include "util/buf.h"

/* An order-differs message names at most this many of the migrations (the finding lists them all). */
#define ORDER_NAMES_IN_MESSAGE 3

static char *file_of(const rh_git_history *h, const char *name, int sql)
{
    char *pn = rh_name_printable(name, strlen(name));
    char *r = *h->migrations ? rh_xasprintf("%s/%s%s", h->migrations, pn, sql ? "/migration.sql" : "")
                             : rh_xasprintf("%s%s", pn, sql ? "/migration.sql" : "");
    free(pn);
    return r;
}

/* ---- the findings --------------------------------------------------------------------------------- */

/*
 * "Prisma 6.19.3", naming the user's version in a sentence about what Prisma does; for a version
 * whose behaviour was not checked against the real CLI, says which one was. Every such sentence
 * below has a conformance case (tests/conformance/engine.test.sh, the claim_* cases).
 */
static const char *prisma_named(const rh_git_history *h, char *buf, size_t size)
{
    if (h->profile.verified)
        snprintf(buf, size, "Prisma %s", h->profile.version);
    else
        snprintf(buf, size, "Prisma %s (as Prisma %s does; %s is not checked)", h->profile.version,
                 RH_PRISMA_DEFAULT_VERSION, h->profile.version);
    return buf;
}

static void find_changes(rh_git_history *h)
{
    const rh_migset *a = &h->a, *b = &h->b;
    const char *A = h->from.label, *B = h->to.label;
    char pv[128];
    const char *P = prisma_named(h, pv, sizeof pv);
    size_t n_new = 0; /* names at B with no folder at A: rows a database deployed at A lacks */
    for (size_t j = 0; j < b->n; j++)
        n_new += rh_migset_find(a, b->items[j].name) == NULL;
    /* renames: a name gone at B whose exact bytes reappear under a new name (the shared pairing) */
    size_t *renamed_to = rh_hist_renames(h); /* per b entry: 1 + the a entry it was, or 0 */
    char *renamed_from = rh_xcalloc(a->n + 1, 1);
    for (size_t j = 0; j < b->n; j++)
        if (renamed_to[j])
            renamed_from[renamed_to[j] - 1] = 1;
    for (size_t i = 0; i < a->n; i++) { /* in a's order, as the findings always came */
        const rh_migration *ma = &a->items[i];
        for (size_t j = 0; renamed_from[i] && j < b->n; j++) {
            const rh_migration *mb = &b->items[j];
            if (renamed_to[j] != i + 1)
                continue;
            char *pa = rh_name_printable(ma->name, strlen(ma->name));
            char *pb = rh_name_printable(mb->name, strlen(mb->name));
            rh_hist_add(h, RH_HIST_RENAMED, 1, mb->name, ma->name, file_of(h, mb->name, 0),
                "%s was renamed to %s between %s and %s (same migration.sql): a database deployed at %s has "
                "applied %s, and %s's migrate deploy applies the same SQL again as %s (migrate status "
                "reports the histories as diverged until then)",
                pa, pb, A, B, A, pa, P, pb); /* claim_renamed */
            free(pa);
            free(pb);
            break;
        }
    }
    for (size_t i = 0; i < a->n; i++) {
        const rh_migration *ma = &a->items[i];
        if (renamed_from[i] || rh_migset_find(b, ma->name))
            continue;
        char *pa = rh_name_printable(ma->name, strlen(ma->name));
        /* claim_removed */
        rh_hist_add(h, RH_HIST_REMOVED, 1, ma->name, NULL, file_of(h, ma->name, 0),
            "%s exists at %s but not at %s: a database deployed at %s keeps its ledger row with no folder, "
            "which %s ignores: migrate deploy goes on and migrate status says \"Database schema is up to "
            "date!\" (exit 0)%s%s%s",
            pa, A, B, A, P, n_new ? "; while the migrations new at " : "", n_new ? B : "",
            n_new ? " are pending, migrate status reports the histories as diverged (exit 1)" : "");
        free(pa);
    }
    for (size_t j = 0; j < b->n; j++) {
        const rh_migration *mb = &b->items[j];
        const rh_migration *ma = rh_migset_find(a, mb->name);
        char *pb = rh_name_printable(mb->name, strlen(mb->name));
        if (!ma && !renamed_to[j]) {
            rh_hist_add(h, RH_HIST_ADDED, 0, mb->name, NULL, file_of(h, mb->name, 0), "%s is new at %s", pb, B);
        } else if (ma) {
            int same = (ma->sql == NULL) == (mb->sql == NULL) && strcmp(ma->checksum, mb->checksum) == 0;
            if (!same) {
                if (ma->sql && mb->sql && rh_tool_checksum_matches(RH_TOOL_DEFAULT, ma->checksum, mb)) {
                    rh_hist_add(h, RH_HIST_EDITED, 0, mb->name, NULL, file_of(h, mb->name, 1),
                        "%s/migration.sql changed between %s and %s in line endings only (CRLF/LF): Prisma's "
                        "checksum comparison accepts it, and %s's migrate deploy and status say nothing",
                        pb, A, B, P); /* claim_crlf */
                } else if (ma->sql && mb->sql) {
                    rh_hist_add(h, RH_HIST_EDITED, 1, mb->name, NULL, file_of(h, mb->name, 1),
                        "%s/migration.sql was edited between %s and %s (checksum %.12s... -> %.12s...): a "
                        "database deployed at %s never runs the new version, and %s does not say so (migrate "
                        "deploy: no pending migrations; migrate status: up to date, exit 0)",
                        pb, A, B, ma->checksum, mb->checksum, A, P); /* claim_edited */
                } else if (ma->sql) {
                    rh_hist_add(h, RH_HIST_EDITED, 1, mb->name, NULL, file_of(h, mb->name, 1),
                        "%s/migration.sql exists at %s but not at %s", pb, A, B);
                } else {
                    rh_hist_add(h, RH_HIST_EDITED, 1, mb->name, NULL, file_of(h, mb->name, 1),
                        "%s/migration.sql was added between %s and %s to a folder that had none: %s's "
                        "migrate deploy at %s stopped there with P3015 (no ledger row for it), so a database "
                        "deployed at %s applies it as pending",
                        pb, A, B, P, A, A); /* claim_nosql_added */
                }
            }
        }
        free(pb);
    }

    /* out of order: new names sorting before the last migration of A (in the profile's order) */
    if (a->n > 0) {
        const rh_migration *last = &a->items[a->n - 1];
        const char *order = h->profile.order == RH_ORDER_ICU ? "ICU" : "byte";
        for (size_t j = 0; j < b->n; j++) {
            const rh_migration *mb = &b->items[j];
            if (rh_migset_find(a, mb->name))
                continue;
            if (rh_order_compare(h->profile.order, mb->name, last->name) < 0) {
                char *pb = rh_name_printable(mb->name, strlen(mb->name));
                char *pl = rh_name_printable(last->name, strlen(last->name));
                rh_hist_add(h, RH_HIST_OUT_OF_ORDER, 1, mb->name, last->name, file_of(h, mb->name, 0),
                    "%s is new at %s and sorts before %s, the last migration at %s (%s order, Prisma %s): a "
                    "database deployed at %s applies it after %s, out of the order the folder gives, and %s's "
                    "migrate deploy does not object",
                    pb, B, pl, A, order, h->profile.version, A, pl, P); /* claim_out_of_order */
                free(pb);
                free(pl);
            }
        }
    }
    free(renamed_to);
    free(renamed_from);
}

static void find_oddities(rh_git_history *h)
{
    const rh_migset *b = &h->b;
    const char *B = h->to.label;
    char pv[128];
    const char *P = prisma_named(h, pv, sizeof pv);
    for (size_t j = 0; j < b->n; j++) {
        const rh_migration *mb = &b->items[j];
        char *pb = rh_name_printable(mb->name, strlen(mb->name));
        if (!mb->sql) {
            /* the entry's own "no migration.sql" note is what this finding says; keep what it adds */
            static const char std[] = "no migration.sql (Prisma stops with P3015 when it reaches it)";
            const char *extra = mb->problem ? mb->problem : "";
            if (strncmp(extra, std, sizeof std - 1) == 0) {
                extra += sizeof std - 1;
                if (strncmp(extra, "; ", 2) == 0)
                    extra += 2;
            }
            rh_hist_add(h, RH_HIST_NO_SQL, 1, mb->name, NULL, file_of(h, mb->name, 0),
                "%s has no migration.sql at %s: %s's migrate deploy stops with P3015 when it reaches it%s%s%s",
                pb, B, P, *extra ? " (" : "", extra, *extra ? ")" : ""); /* conformance: p3015 */
        } else if (mb->problem)
            rh_hist_add(h, RH_HIST_PROBLEM, 1, mb->name, NULL, file_of(h, mb->name, 0), "%s at %s: %s", pb, B, mb->problem);
        free(pb);
    }
    for (size_t k = 0; k < b->n_problems; k++)
        rh_hist_add(h, RH_HIST_PROBLEM, 1, NULL, NULL, rh_xstrdup(h->migrations), "in %s at %s: %s",
            *h->migrations ? h->migrations : ".", B, b->problems[k].text);
}

static int cmp_icu(const void *x, const void *y)
{
    const rh_migration *const *a = x, *const *b = y;
    int c = rh_order_compare(RH_ORDER_ICU, (*a)->name, (*b)->name);
    return c ? c : strcmp((*a)->name, (*b)->name);
}

/*
 * Names that byte order (Prisma < 6.6) and ICU order (>= 6.6) sort differently: one finding per
 * migration that ICU puts before others, listing those others, rather than one per pair (a busy
 * folder of `2025MMDD_x` names made dozens of near-identical lines). A hazard when the migration or
 * one of the others is new at `to` (or the folder is new); a note when all were already at `from`.
 */
static void find_order_differences(rh_git_history *h)
{
    const rh_migset *b = &h->b;
    if (b->n < 2)
        return;
    const rh_migration **icu = rh_xmalloc(b->n * sizeof *icu);
    for (size_t i = 0; i < b->n; i++)
        icu[i] = &b->items[i];
    qsort(icu, b->n, sizeof *icu, cmp_icu);
    char **names = rh_xmalloc(b->n * sizeof *names);
    for (size_t i = 0; i < b->n; i++) {
        size_t n = 0;
        int hazard = h->a_missing || !rh_migset_find(&h->a, icu[i]->name);
        for (size_t j = i + 1; j < b->n; j++) {
            if (strcmp(icu[i]->name, icu[j]->name) <= 0)
                continue;
            /* ICU puts i first, bytes put j first */
            hazard |= !rh_migset_find(&h->a, icu[j]->name);
            names[n++] = rh_name_printable(icu[j]->name, strlen(icu[j]->name));
        }
        if (n == 0)
            continue;
        char *pi = rh_name_printable(icu[i]->name, strlen(icu[i]->name));
        const char *tail = "; upgrading Prisma across 6.6 changes the order they apply in";
        const char *why = hazard ? "" : n == 1 ? " (both already at the first revision)"
                                               : " (all already at the first revision)";
        rh_hist_finding *f;
        if (n == 1) {
            f = rh_hist_add(h, RH_HIST_ORDER_DIFFERS, hazard, icu[i]->name, NULL,
                    file_of(h, icu[i]->name, 0),
                    "%s and %s are ordered differently at %s: %s first by ICU order (Prisma >= 6.6), %s first by "
                    "byte order (Prisma < 6.6)%s%s",
                    pi, names[0], h->to.label, pi, names[0], tail, why);
        } else {
            rh_buf list;
            rh_buf_init(&list);
            for (size_t k = 0; k < n && k < ORDER_NAMES_IN_MESSAGE; k++)
                rh_buf_printf(&list, "%s%s", k ? ", " : "", names[k]);
            if (n > ORDER_NAMES_IN_MESSAGE)
                rh_buf_printf(&list, " and %zu more", n - ORDER_NAMES_IN_MESSAGE);
            f = rh_hist_add(h, RH_HIST_ORDER_DIFFERS, hazard, icu[i]->name, NULL, file_of(h, icu[i]->name, 0),
                    "%s is ordered differently against %zu migrations at %s: %s first by ICU order (Prisma >= 6.6), "
                    "%s first by byte order (Prisma < 6.6)%s%s",
                    pi, n, h->to.label, pi, list.data, tail, why);
            rh_buf_free(&list);
        }
        free(f->other);
        f->other = rh_xstrdup(names[0]);
        f->others = rh_xmalloc(n * sizeof *f->others);
        memcpy(f->others, names, n * sizeof *names);
        f->n_others = n;
        free(pi);
    }
    free(names);
    free(icu);
}

void rh_prisma_history_findings(rh_git_history *h)
{
    find_changes(h);
    find_oddities(h);
    find_order_differences(h);
}
