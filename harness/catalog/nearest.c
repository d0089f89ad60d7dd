/*
 * nearest.c — "did you mean": the existing names closest to a mistyped one, by case-insensitive
 * edit distance, so `WaitlistEntry_clientPartyID_idx` points at `WaitlistEntry_clientPartyId_idx`.
 */
#include "catalog/assert.h"
#include "catalog/catalog_int.h"

#include <stdlib.h>
#include <string.h>

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Two-row Levenshtein; names are short (identifiers are at most 63 bytes). */
int rh_catalog_levenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int *prev = rh_xmalloc((lb + 1) * sizeof *prev), *cur = rh_xmalloc((lb + 1) * sizeof *cur);
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cost = lower(a[i - 1]) != lower(b[j - 1]);
            int best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
        }
        int *t = prev;
        prev = cur;
        cur = t;
    }
    int d = prev[lb];
    free(prev);
    free(cur);
    return d;
}

typedef struct cand {
    const rh_catalog_obj *o;
    int score; /* distance; objects of another table or schema rank after the right ones */
} cand;

static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->score != y->score)
        return x->score - y->score;
    return rh_cat_cmp(x->o, y->o);
}

/* How far a candidate may be and still look like a typo of `name`. */
static int threshold(const char *name)
{
    int t = (int)strlen(name) / 3;
    return t < 2 ? 2 : t;
}

/* The name as a scenario would write it: table-qualified for columns and the like. */
static void put_name(rh_buf *out, const rh_catalog_obj *o, const char *schema, const char *default_schema)
{
    if (o->schema && strcmp(o->schema, schema ? schema : default_schema) != 0) {
        rh_cat_quote_always(out, o->schema);
        rh_buf_putc(out, '.');
    }
    if (o->table && !rh_cat_kind_on_table(o->kind)) {
        rh_cat_quote_always(out, o->table);
        rh_buf_putc(out, '.');
    }
    rh_cat_quote_always(out, o->name);
    if (o->args)
        rh_buf_printf(out, "(%s)", o->args);
    if (o->table && rh_cat_kind_on_table(o->kind))
    {
        rh_buf_puts(out, " on ");
        rh_cat_quote_always(out, o->table);
    }
}

int rh_catalog_nearest(const rh_catalog *cat, rh_catalog_kind kind, const char *schema, const char *table,
                       const char *name, int max, rh_buf *out)
{
    size_t n = rh_catalog_count(cat), nc = 0;
    cand *c = rh_xmalloc((n ? n : 1) * sizeof *c);
    const char *sch = schema ? schema : cat->default_schema;
    int limit = threshold(name);
    for (size_t i = 0; i < n; i++) {
        const rh_catalog_obj *o = &cat->objs[i];
        if (o->kind != kind)
            continue;
        int d = rh_catalog_levenshtein(name, o->name);
        int other_place = 0;
        if (o->schema && strcmp(o->schema, sch) != 0)
            other_place = 1;
        if (table && o->table && strcmp(o->table, table) != 0) {
            /* a column of another table: only if the table name is itself close (typo in both) */
            int dt = rh_catalog_levenshtein(table, o->table);
            if (dt > threshold(table))
                continue;
            d += dt;
            other_place = 1;
        }
        if (d > limit)
            continue;
        c[nc].o = o;
        c[nc].score = d * 2 + other_place;
        nc++;
    }
    qsort(c, nc, sizeof *c, cand_cmp);
    int shown = 0;
    for (size_t i = 0; i < nc && shown < max; i++, shown++) {
        if (shown)
            rh_buf_puts(out, ", ");
        put_name(out, c[i].o, schema, cat->default_schema);
    }
    free(c);
    return shown;
}
