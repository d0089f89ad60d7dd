/*
 * diff.c — compares two catalogs object by object (both are sorted the same way, so one merge
 * pass) and prints what differs grouped by object, the way a reviewer reads a schema change.
 */
#include "catalog/catalog_int.h"

#include <string.h>

static int skip_obj(const rh_catalog_obj *o, const rh_catalog_opts *opts)
{
    return !(opts && opts->include_ledger) && rh_cat_is_ledger(o, opts);
}

static const char *prop_of(const rh_catalog_obj *o, const char *key)
{
    return rh_catalog_obj_prop(o, key);
}

/* A whole object only on one side: its header and properties, each line marked. */
static void put_whole(rh_buf *out, const rh_catalog_obj *o, const rh_catalog_opts *opts, char mark)
{
    char prefix[2] = {mark, '\0'};
    rh_buf_printf(out, "%c ", mark);
    rh_catalog_obj_label(o, out);
    rh_buf_putc(out, '\n');
    for (size_t i = 0; i < o->nprops; i++)
        if (!rh_cat_prop_ignored(o->props[i].key, opts))
            rh_cat_put_prop(out, o->props[i].key, o->props[i].value, prefix);
}

/* Multi-line values (definitions): show only the lines that changed, with their line number. */
static void put_changed_lines(rh_buf *out, const char *key, const char *a, const char *b)
{
    const char *pa = a, *pb = b;
    int line = 1;
    /* common leading lines */
    for (;;) {
        const char *na = strchr(pa, '\n'), *nb = strchr(pb, '\n');
        if (!na || !nb || na - pa != nb - pb || memcmp(pa, pb, (size_t)(na - pa)) != 0)
            break;
        pa = na + 1;
        pb = nb + 1;
        line++;
    }
    /* common trailing lines */
    const char *ea = a + strlen(a), *eb = b + strlen(b);
    for (;;) {
        if (ea <= pa || eb <= pb)
            break;
        const char *la = ea, *lb = eb;
        while (la > pa && la[-1] != '\n')
            la--;
        while (lb > pb && lb[-1] != '\n')
            lb--;
        if (ea - la != eb - lb || memcmp(la, lb, (size_t)(ea - la)) != 0)
            break;
        ea = la > pa ? la - 1 : pa;
        eb = lb > pb ? lb - 1 : pb;
    }
    rh_buf_printf(out, "    %s, from line %d:\n", key, line);
    for (int side = 0; side < 2; side++) {
        const char *p = side ? pb : pa, *e = side ? eb : ea;
        while (p < e) {
            const char *nl = memchr(p, '\n', (size_t)(e - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(e - p);
            rh_buf_printf(out, "%c     ", side ? '+' : '-');
            rh_buf_append(out, p, n);
            rh_buf_putc(out, '\n');
            p += n + 1;
        }
    }
}

/* Both sides have the object: list the properties that differ; returns 1 if any. */
static int put_changes(rh_buf *out, const rh_catalog_obj *a, const rh_catalog_obj *b, const rh_catalog_opts *opts)
{
    rh_buf body;
    rh_buf_init(&body);
    for (size_t i = 0; i < a->nprops; i++) {
        const char *k = a->props[i].key, *va = a->props[i].value, *vb = prop_of(b, k);
        if (rh_cat_prop_ignored(k, opts) || (vb && strcmp(va, vb) == 0))
            continue;
        if (vb && strchr(va, '\n') && strchr(vb, '\n')) {
            put_changed_lines(&body, k, va, vb);
            continue;
        }
        rh_cat_put_prop(&body, k, va, "-");
        if (vb)
            rh_cat_put_prop(&body, k, vb, "+");
    }
    for (size_t i = 0; i < b->nprops; i++) {
        const char *k = b->props[i].key;
        if (!rh_cat_prop_ignored(k, opts) && !prop_of(a, k))
            rh_cat_put_prop(&body, k, b->props[i].value, "+");
    }
    int changed = body.len > 0;
    if (changed && out) {
        rh_buf_puts(out, "~ ");
        rh_catalog_obj_label(a, out);
        rh_buf_putc(out, '\n');
        rh_buf_append(out, body.data, body.len);
    }
    rh_buf_free(&body);
    return changed;
}

size_t rh_catalog_diff(const rh_catalog *a, const rh_catalog *b, const rh_catalog_opts *opts,
                       const char *label_a, const char *label_b, rh_buf *out)
{
    rh_buf tmp;
    rh_buf_init(&tmp);
    size_t i = 0, j = 0, ndiff = 0;
    while (i < a->n || j < b->n) {
        const rh_catalog_obj *oa = i < a->n ? &a->objs[i] : NULL, *ob = j < b->n ? &b->objs[j] : NULL;
        if (oa && skip_obj(oa, opts)) {
            i++;
            continue;
        }
        if (ob && skip_obj(ob, opts)) {
            j++;
            continue;
        }
        int c = !oa ? 1 : !ob ? -1 : rh_cat_cmp(oa, ob);
        if (c < 0) {
            put_whole(&tmp, oa, opts, '-');
            ndiff++;
            i++;
        } else if (c > 0) {
            put_whole(&tmp, ob, opts, '+');
            ndiff++;
            j++;
        } else {
            ndiff += (size_t)put_changes(&tmp, oa, ob, opts);
            i++;
            j++;
        }
    }
    if (ndiff && out) {
        rh_buf_printf(out, "--- %s\n+++ %s\n", label_a ? label_a : "a", label_b ? label_b : "b");
        rh_buf_append(out, tmp.data, tmp.len);
        rh_buf_printf(out, "%zu object%s differ%s\n", ndiff, ndiff == 1 ? "" : "s", ndiff == 1 ? "s" : "");
    }
    rh_buf_free(&tmp);
    return ndiff;
}
