/*
 * history.c — the migration-set diff between two revisions and its hazards (see history.h).
 */
#include "source/history.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/loader.h"
#include "tools/tool.h"
#include "util/buf.h"

/* An order-differs message names at most this many of the migrations (the finding lists them all). */
#define ORDER_NAMES_IN_MESSAGE 3

const char *rh_hist_kind_name(rh_hist_kind kind)
{
    switch (kind) {
    case RH_HIST_ADDED: return "added";
    case RH_HIST_REMOVED: return "removed";
    case RH_HIST_RENAMED: return "renamed";
    case RH_HIST_EDITED: return "edited";
    case RH_HIST_OUT_OF_ORDER: return "out-of-order";
    case RH_HIST_NO_SQL: return "no-sql";
    case RH_HIST_ORDER_DIFFERS: return "order-differs";
    case RH_HIST_PROBLEM: return "problem";
    }
    return "?";
}

static rh_hist_finding *add(rh_git_history *h, rh_hist_kind kind, int hazard, const char *name, const char *other,
                            char *file, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static rh_hist_finding *add(rh_git_history *h, rh_hist_kind kind, int hazard, const char *name, const char *other,
                            char *file, const char *fmt, ...)
{
    h->items = rh_xrealloc(h->items, (h->n + 1) * sizeof *h->items);
    rh_hist_finding *f = &h->items[h->n++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->hazard = hazard;
    f->name = name ? rh_name_printable(name, strlen(name)) : NULL;
    f->other = other ? rh_name_printable(other, strlen(other)) : NULL;
    f->file = file;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&f->message, fmt, ap) < 0)
        abort();
    va_end(ap);
    if (hazard)
        h->n_hazards++;
    return f;
}

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
                 RH_TOOL_DEFAULT->default_version, h->profile.version);
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
    char *renamed_to = rh_xcalloc(b->n + 1, 1); /* b entries that are a rename target */
    char *renamed_from = rh_xcalloc(a->n + 1, 1);

    /* renames: a name gone at B whose exact bytes reappear under a new name */
    for (size_t i = 0; i < a->n; i++) {
        const rh_migration *ma = &a->items[i];
        if (!ma->sql || rh_migset_find(b, ma->name))
            continue;
        for (size_t j = 0; j < b->n; j++) {
            const rh_migration *mb = &b->items[j];
            if (renamed_to[j] || !mb->sql || rh_migset_find(a, mb->name) || strcmp(ma->checksum, mb->checksum) != 0)
                continue;
            renamed_to[j] = renamed_from[i] = 1;
            char *pa = rh_name_printable(ma->name, strlen(ma->name));
            char *pb = rh_name_printable(mb->name, strlen(mb->name));
            add(h, RH_HIST_RENAMED, 1, mb->name, ma->name, file_of(h, mb->name, 0),
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
        add(h, RH_HIST_REMOVED, 1, ma->name, NULL, file_of(h, ma->name, 0),
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
            add(h, RH_HIST_ADDED, 0, mb->name, NULL, file_of(h, mb->name, 0), "%s is new at %s", pb, B);
        } else if (ma) {
            int same = (ma->sql == NULL) == (mb->sql == NULL) && strcmp(ma->checksum, mb->checksum) == 0;
            if (!same) {
                if (ma->sql && mb->sql && rh_tool_checksum_matches(RH_TOOL_DEFAULT, ma->checksum, mb)) {
                    add(h, RH_HIST_EDITED, 0, mb->name, NULL, file_of(h, mb->name, 1),
                        "%s/migration.sql changed between %s and %s in line endings only (CRLF/LF): Prisma's "
                        "checksum comparison accepts it, and %s's migrate deploy and status say nothing",
                        pb, A, B, P); /* claim_crlf */
                } else if (ma->sql && mb->sql) {
                    add(h, RH_HIST_EDITED, 1, mb->name, NULL, file_of(h, mb->name, 1),
                        "%s/migration.sql was edited between %s and %s (checksum %.12s... -> %.12s...): a "
                        "database deployed at %s never runs the new version, and %s does not say so (migrate "
                        "deploy: no pending migrations; migrate status: up to date, exit 0)",
                        pb, A, B, ma->checksum, mb->checksum, A, P); /* claim_edited */
                } else if (ma->sql) {
                    add(h, RH_HIST_EDITED, 1, mb->name, NULL, file_of(h, mb->name, 1),
                        "%s/migration.sql exists at %s but not at %s", pb, A, B);
                } else {
                    add(h, RH_HIST_EDITED, 1, mb->name, NULL, file_of(h, mb->name, 1),
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
                add(h, RH_HIST_OUT_OF_ORDER, 1, mb->name, last->name, file_of(h, mb->name, 0),
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
            add(h, RH_HIST_NO_SQL, 1, mb->name, NULL, file_of(h, mb->name, 0),
                "%s has no migration.sql at %s: %s's migrate deploy stops with P3015 when it reaches it%s%s%s",
                pb, B, P, *extra ? " (" : "", extra, *extra ? ")" : ""); /* conformance: p3015 */
        } else if (mb->problem)
            add(h, RH_HIST_PROBLEM, 1, mb->name, NULL, file_of(h, mb->name, 0), "%s at %s: %s", pb, B, mb->problem);
        free(pb);
    }
    for (size_t k = 0; k < b->n_problems; k++)
        add(h, RH_HIST_PROBLEM, 1, NULL, NULL, rh_xstrdup(h->migrations), "in %s at %s: %s",
            *h->migrations ? h->migrations : ".", B, b->problems[k]);
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
            f = add(h, RH_HIST_ORDER_DIFFERS, hazard, icu[i]->name, NULL,
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
            f = add(h, RH_HIST_ORDER_DIFFERS, hazard, icu[i]->name, NULL, file_of(h, icu[i]->name, 0),
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

int rh_git_history_compute(rh_git_repo *repo, const char *from, const char *to, const rh_git_history_opts *opts,
                           rh_git_history *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    if (rh_git_resolve(repo, from, &out->from, err) < 0)
        return rh_err_prefix(err, "--from");
    if (rh_git_resolve(repo, to, &out->to, err) < 0)
        return rh_err_prefix(err, "--to");
    if (opts && opts->migrations) {
        out->migrations = rh_git_relpath(repo, opts->migrations, err);
        if (!out->migrations)
            return rh_err_prefix(err, "--migrations");
    } else {
        rh_err e2;
        if (rh_tool_find_folder(RH_TOOL_DEFAULT, repo, &out->to, &out->migrations, err) < 0 &&
            rh_tool_find_folder(RH_TOOL_DEFAULT, repo, &out->from, &out->migrations, &e2) < 0)
            return -1;
    }
    /* `to` as every command loads a revision (loader.h); `from` is read in `to`'s order: the order
       of the Prisma that will deploy `to` on a database deployed at `from` */
    rh_load_spec spec = {.git = repo, .resolved = &out->to, .migrations = out->migrations,
                         .prisma_version = opts ? opts->prisma_version : NULL};
    rh_loaded to_set;
    if (rh_source_load(&spec, &to_set, err) < 0)
        goto fail;
    out->b = to_set.set;
    memset(&to_set.set, 0, sizeof to_set.set);
    out->profile = to_set.choice.profile;
    out->profile_from = to_set.choice.from;
    snprintf(out->profile_source, sizeof out->profile_source, "%s", to_set.choice.source);
    rh_loaded_free(&to_set);
    rh_err aerr;
    if (RH_TOOL_DEFAULT->read_rev(&out->a, repo, &out->from, out->migrations, &aerr) < 0) {
        if (rh_git_is_dir(repo, &out->from, out->migrations, err) != 0 || strstr(aerr.msg, "does not exist") == NULL) {
            rh_err_set(err, "%s", aerr.msg);
            goto fail;
        }
        out->a_missing = 1; /* the folder appears between the revisions: everything is new */
        memset(&out->a, 0, sizeof out->a);
    }
    rh_migset_sort(&out->a, &out->profile);

    find_changes(out);
    find_oddities(out);
    find_order_differences(out);
    return 0;
fail:
    rh_git_history_free(out);
    return -1;
}

void rh_git_history_free(rh_git_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++) {
        free(h->items[i].name);
        free(h->items[i].other);
        for (size_t k = 0; k < h->items[i].n_others; k++)
            free(h->items[i].others[k]);
        free(h->items[i].others);
        free(h->items[i].file);
        free(h->items[i].message);
    }
    free(h->items);
    free(h->migrations);
    rh_migset_free(&h->a);
    rh_migset_free(&h->b);
    rh_git_rev from = h->from, to = h->to;
    memset(h, 0, sizeof *h);
    h->from = from;
    h->to = to;
}
