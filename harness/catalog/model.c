/*
 * model.c — the catalog model: an arena of strings, objects with ordered properties, the sort
 * order of the text form, lookups, and the way identities are printed.
 */
#include "catalog/catalog_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tool.h"

static const char *const kind_names[RH_CAT_KIND_COUNT] = {
    [RH_CAT_SCHEMA] = "schema",         [RH_CAT_EXTENSION] = "extension", [RH_CAT_ENUM] = "enum",
    [RH_CAT_DOMAIN] = "domain",         [RH_CAT_SEQUENCE] = "sequence",   [RH_CAT_TABLE] = "table",
    [RH_CAT_VIEW] = "view",             [RH_CAT_MATVIEW] = "matview",     [RH_CAT_COLUMN] = "column",
    [RH_CAT_CONSTRAINT] = "constraint", [RH_CAT_INDEX] = "index",         [RH_CAT_TRIGGER] = "trigger",
    [RH_CAT_POLICY] = "policy",         [RH_CAT_FUNCTION] = "function",   [RH_CAT_COMPOSITE] = "composite",
    [RH_CAT_RANGE] = "range",           [RH_CAT_FOREIGN_TABLE] = "foreign-table",
    [RH_CAT_RULE] = "rule",             [RH_CAT_STATISTICS] = "statistics", [RH_CAT_SERVER] = "server",
    [RH_CAT_PUBLICATION] = "publication",
};

/* The printed word of a kind: shared by the text form, diffs and assertion messages. */
const char *rh_catalog_kind_name(rh_catalog_kind k)
{
    return (unsigned)k < RH_CAT_KIND_COUNT ? kind_names[k] : "?";
}

/* Map a scenario or text-form word to a kind; a few synonyms help people who write SQL words. */
int rh_catalog_kind_from_name(const char *w)
{
    for (int k = 0; k < RH_CAT_KIND_COUNT; k++)
        if (strcmp(w, kind_names[k]) == 0)
            return k;
    if (!strcmp(w, "materialized-view") || !strcmp(w, "materialized_view"))
        return RH_CAT_MATVIEW;
    if (!strcmp(w, "procedure") || !strcmp(w, "aggregate"))
        return RH_CAT_FUNCTION;
    if (!strcmp(w, "type"))
        return RH_CAT_ENUM;
    if (!strcmp(w, "foreign_table"))
        return RH_CAT_FOREIGN_TABLE;
    if (!strcmp(w, "statistic"))
        return RH_CAT_STATISTICS;
    return -1;
}

int rh_cat_kind_has_table(rh_catalog_kind k)
{
    return k == RH_CAT_COLUMN || k == RH_CAT_CONSTRAINT || k == RH_CAT_INDEX || k == RH_CAT_TRIGGER ||
           k == RH_CAT_POLICY || k == RH_CAT_RULE || k == RH_CAT_STATISTICS;
}

int rh_cat_kind_schemaless(rh_catalog_kind k)
{
    return k == RH_CAT_SCHEMA || k == RH_CAT_EXTENSION || k == RH_CAT_SERVER || k == RH_CAT_PUBLICATION;
}

int rh_cat_kind_on_table(rh_catalog_kind k)
{
    return k == RH_CAT_INDEX || k == RH_CAT_STATISTICS;
}

/* ---- arena ------------------------------------------------------------------------------------ */

/* Many small strings die together with the catalog: one free per chunk instead of per string. */
static void *arena_alloc(rh_catalog *cat, size_t n, size_t align)
{
    rh_cat_chunk *c = cat->arena;
    size_t off = c ? (c->used + align - 1) & ~(align - 1) : 0;
    if (!c || off + n > c->cap) {
        size_t cap = n > 60000 ? n : 60000;
        c = rh_xmalloc(sizeof *c + cap);
        c->cap = cap;
        c->used = 0;
        c->next = cat->arena;
        cat->arena = c;
        off = 0;
    }
    c->used = off + n;
    return c->data + off;
}

const char *rh_cat_strndup(rh_catalog *cat, const char *s, size_t n)
{
    char *p = arena_alloc(cat, n + 1, 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

const char *rh_cat_strdup(rh_catalog *cat, const char *s)
{
    return s ? rh_cat_strndup(cat, s, strlen(s)) : NULL;
}

/* ---- building ----------------------------------------------------------------------------------- */

rh_catalog *rh_cat_new(const char *default_schema)
{
    rh_catalog *cat = rh_xcalloc(1, sizeof *cat);
    cat->default_schema = rh_xstrdup(default_schema ? default_schema : "public");
    return cat;
}

void rh_catalog_free(rh_catalog *cat)
{
    if (!cat)
        return;
    for (rh_cat_chunk *c = cat->arena, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(cat->objs);
    free(cat->cur);
    free(cat->default_schema);
    free(cat);
}

void rh_cat_begin(rh_catalog *cat, rh_catalog_kind kind, const char *schema, const char *table,
                  const char *name, const char *args)
{
    if (cat->n == cat->cap) {
        cat->cap = cat->cap ? cat->cap * 2 : 256;
        cat->objs = rh_xrealloc(cat->objs, cat->cap * sizeof *cat->objs);
    }
    rh_catalog_obj *o = &cat->objs[cat->n];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->schema = rh_cat_strdup(cat, schema);
    o->table = rh_cat_strdup(cat, table);
    o->name = rh_cat_strdup(cat, name ? name : "");
    o->args = rh_cat_strdup(cat, args);
    cat->ncur = 0;
    cat->building = 1;
}

void rh_cat_prop(rh_catalog *cat, const char *key, const char *value)
{
    if (cat->ncur == cat->capcur) {
        cat->capcur = cat->capcur ? cat->capcur * 2 : 16;
        cat->cur = rh_xrealloc(cat->cur, cat->capcur * sizeof *cat->cur);
    }
    cat->cur[cat->ncur].key = rh_cat_strdup(cat, key);
    cat->cur[cat->ncur].value = rh_cat_strdup(cat, value ? value : "");
    cat->ncur++;
}

void rh_cat_end(rh_catalog *cat)
{
    rh_catalog_obj *o = &cat->objs[cat->n];
    if (cat->ncur) {
        o->props = arena_alloc(cat, cat->ncur * sizeof *o->props, sizeof(void *));
        memcpy(o->props, cat->cur, cat->ncur * sizeof *o->props);
    }
    o->nprops = cat->ncur;
    cat->n++;
    cat->building = 0;
}

/* ---- order ---------------------------------------------------------------------------------------- */

/*
 * Sections: schemas, extensions, foreign servers, then everything that lives in a schema, then
 * functions, then publications (they list tables, so they read best last).
 */
static int section(rh_catalog_kind k)
{
    switch (k) {
    case RH_CAT_SCHEMA: return 0;
    case RH_CAT_EXTENSION: return 1;
    case RH_CAT_SERVER: return 2;
    case RH_CAT_FUNCTION: return 4;
    case RH_CAT_PUBLICATION: return 5;
    default: return 3;
    }
}

/* Within a relation's group: the relation first, then its columns, constraints, indexes ... */
static int rank(rh_catalog_kind k)
{
    switch (k) {
    case RH_CAT_COLUMN: return 1;
    case RH_CAT_CONSTRAINT: return 2;
    case RH_CAT_INDEX: return 3;
    case RH_CAT_TRIGGER: return 4;
    case RH_CAT_POLICY: return 5;
    case RH_CAT_STATISTICS: return 6;
    case RH_CAT_RULE: return 7;
    default: return 0;
    }
}

static int strcmp_null(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

/* The group an object is printed in: its owning relation, or itself. */
static const char *group(const rh_catalog_obj *o)
{
    return o->table ? o->table : o->name;
}

int rh_cat_cmp(const rh_catalog_obj *a, const rh_catalog_obj *b)
{
    int d = section(a->kind) - section(b->kind);
    if (d)
        return d;
    if ((d = strcmp_null(a->schema, b->schema)))
        return d;
    if ((d = strcmp(group(a), group(b))))
        return d;
    if ((d = rank(a->kind) - rank(b->kind)))
        return d;
    if ((d = (int)a->kind - (int)b->kind))
        return d;
    if ((d = strcmp(a->name, b->name)))
        return d;
    if ((d = strcmp_null(a->table, b->table)))
        return d;
    return strcmp_null(a->args, b->args);
}

static int qcmp(const void *a, const void *b)
{
    return rh_cat_cmp(a, b);
}

int rh_cat_sort(rh_catalog *cat, rh_err *err)
{
    if (cat->n > 1)
        qsort(cat->objs, cat->n, sizeof *cat->objs, qcmp);
    for (size_t i = 1; i < cat->n; i++) {
        if (rh_cat_cmp(&cat->objs[i - 1], &cat->objs[i]) == 0) {
            rh_buf b;
            rh_buf_init(&b);
            rh_catalog_obj_label(&cat->objs[i], &b);
            rh_err_set(err, "the catalog holds `%s` twice", b.data);
            rh_buf_free(&b);
            return -1;
        }
    }
    return 0;
}

int rh_cat_prop_ignored(const char *key, const rh_catalog_opts *o)
{
    static const rh_catalog_opts defaults;
    if (!o)
        o = &defaults;
    if (!strcmp(key, "owner"))
        return !o->include_owners;
    if (!strcmp(key, "acl") || !strcmp(key, "column-acl"))
        return !o->include_grants;
    if (!strcmp(key, "comment"))
        return o->ignore_comments;
    if (!strcmp(key, "position"))
        return !o->strict_column_order;
    return 0;
}

/* Does "[schema.]name" (a tool's ledger_table / ledger_sequence) name this schema and name? */
static int names_it(const char *qualified, const char *schema, const char *name)
{
    char want[128];
    const char *bare = rh_tool_ledger_parts(qualified, want, sizeof want);
    return bare && strcmp(bare, name) == 0 && (!want[0] || (schema && strcmp(schema, want) == 0));
}

int rh_cat_is_ledger(const rh_catalog_obj *o, const rh_catalog_opts *opts)
{
    const rh_tool *tool = opts && opts->ledger_tool ? opts->ledger_tool : RH_TOOL_DEFAULT;
    if (o->kind == RH_CAT_SCHEMA) /* a schema the tool creates only for its ledger (drizzle) */
        return tool->ledger_schema && strcmp(o->name, tool->ledger_schema) == 0;
    if (o->kind == RH_CAT_SEQUENCE) /* its id sequence (a serial column) */
        return tool->ledger_sequence && names_it(tool->ledger_sequence, o->schema, o->name);
    if (o->kind == RH_CAT_FUNCTION || !(o->kind == RH_CAT_TABLE || rh_cat_kind_has_table(o->kind)))
        return 0;
    /* the table and what belongs to it; none for a tool that keeps no ledger (command mode) */
    return tool->ledger_table && names_it(tool->ledger_table, o->schema, group(o));
}

/* ---- lookups and accessors ------------------------------------------------------------------------- */

const char *rh_catalog_default_schema(const rh_catalog *cat) { return cat->default_schema; }
size_t rh_catalog_count(const rh_catalog *cat) { return cat->n; }
const rh_catalog_obj *rh_catalog_at(const rh_catalog *cat, size_t i) { return i < cat->n ? &cat->objs[i] : NULL; }
rh_catalog_kind rh_catalog_obj_kind(const rh_catalog_obj *o) { return o->kind; }
const char *rh_catalog_obj_schema(const rh_catalog_obj *o) { return o->schema; }
const char *rh_catalog_obj_table(const rh_catalog_obj *o) { return o->table; }
const char *rh_catalog_obj_name(const rh_catalog_obj *o) { return o->name; }
const char *rh_catalog_obj_args(const rh_catalog_obj *o) { return o->args; }
size_t rh_catalog_obj_nprops(const rh_catalog_obj *o) { return o->nprops; }

void rh_catalog_obj_prop_at(const rh_catalog_obj *o, size_t i, const char **key, const char **value)
{
    *key = i < o->nprops ? o->props[i].key : NULL;
    *value = i < o->nprops ? o->props[i].value : NULL;
}

const char *rh_catalog_obj_prop(const rh_catalog_obj *o, const char *key)
{
    for (size_t i = 0; i < o->nprops; i++)
        if (strcmp(o->props[i].key, key) == 0)
            return o->props[i].value;
    return NULL;
}

/* Assertions look up a handful of objects: a linear scan keeps partial keys (any table) simple. */
const rh_catalog_obj *rh_catalog_find(const rh_catalog *cat, rh_catalog_kind kind, const char *schema,
                                      const char *table, const char *name, const char *args)
{
    int schemaless = rh_cat_kind_schemaless(kind);
    if (!schema && !schemaless)
        schema = cat->default_schema;
    for (size_t i = 0; i < cat->n; i++) {
        const rh_catalog_obj *o = &cat->objs[i];
        if (o->kind != kind || strcmp(o->name, name) != 0)
            continue;
        if (!schemaless && strcmp_null(o->schema, schema) != 0)
            continue;
        if (table && strcmp_null(o->table, table) != 0)
            continue;
        if (args && strcmp_null(o->args, args) != 0)
            continue;
        return o;
    }
    return NULL;
}

/* ---- printing identities -------------------------------------------------------------------------- */

/* Quote unless the name is a plain lower-case identifier: "WaitlistEntry", "a b", "x.y" get quotes. */
void rh_catalog_quote_ident(rh_buf *out, const char *s)
{
    int plain = (*s >= 'a' && *s <= 'z') || *s == '_';
    for (const char *p = s; plain && *p; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '$';
    if (plain) {
        rh_buf_puts(out, s);
        return;
    }
    rh_buf_putc(out, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            rh_buf_putc(out, '"');
        rh_buf_putc(out, *p);
    }
    rh_buf_putc(out, '"');
}

void rh_cat_quote_always(rh_buf *out, const char *s)
{
    rh_buf_putc(out, '"');
    for (; *s; s++) {
        if (*s == '"')
            rh_buf_putc(out, '"');
        rh_buf_putc(out, *s);
    }
    rh_buf_putc(out, '"');
}

/* KIND then the qualified name; indexes add "on TABLE" since their name is schema-wide. */
void rh_catalog_obj_label(const rh_catalog_obj *o, rh_buf *out)
{
    rh_buf_puts(out, rh_catalog_kind_name(o->kind));
    rh_buf_putc(out, ' ');
    if (o->schema) {
        rh_catalog_quote_ident(out, o->schema);
        rh_buf_putc(out, '.');
    }
    if (o->table && !rh_cat_kind_on_table(o->kind)) {
        rh_catalog_quote_ident(out, o->table);
        rh_buf_putc(out, '.');
    }
    rh_catalog_quote_ident(out, o->name);
    if (o->args)
        rh_buf_printf(out, "(%s)", o->args);
    if (o->table && rh_cat_kind_on_table(o->kind)) {
        rh_buf_puts(out, " on ");
        rh_catalog_quote_ident(out, o->table);
    }
}
