/*
 * hist_finding.c — the history findings list (source/history.h): what a tool's history_findings hook
 * adds, every report format prints and check turns into its findings. The model alone, without the
 * reading of revisions (history.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/history.h"

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
    case RH_HIST_TOOL: return "tool";
    }
    return "?";
}

const char *rh_hist_code(const rh_hist_finding *f)
{
    return f->code ? f->code : rh_hist_kind_name(f->kind);
}

rh_hist_finding *rh_hist_add(rh_git_history *h, rh_hist_kind kind, int hazard, const char *name, const char *other,
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

void rh_hist_free_findings(rh_git_history *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->items[i].name);
        free(h->items[i].other);
        for (size_t k = 0; k < h->items[i].n_others; k++)
            free(h->items[i].others[k]);
        free(h->items[i].others);
        free(h->items[i].file);
        free(h->items[i].message);
        free(h->items[i].code);
    }
    free(h->items);
    h->items = NULL;
    h->n = h->n_hazards = 0;
}

size_t *rh_hist_renames(const rh_git_history *h)
{
    size_t *from = rh_xcalloc(h->b.n + 1, sizeof *from);
    for (size_t i = 0; i < h->a.n; i++) {
        const rh_migration *ma = &h->a.items[i];
        if (!ma->sql || rh_migset_find(&h->b, ma->name))
            continue;
        for (size_t j = 0; j < h->b.n; j++) {
            const rh_migration *mb = &h->b.items[j];
            if (from[j] || !mb->sql || rh_migset_find(&h->a, mb->name) || strcmp(ma->checksum, mb->checksum) != 0)
                continue;
            from[j] = i + 1;
            break;
        }
    }
    return from;
}
