/*
 * catalog_int.h — the catalog model's insides, shared by the files of the catalog module only
 * (snapshot.c fills it, text.c prints and parses it, diff.c and assert.c read it).
 */
#ifndef RH_CATALOG_INT_H
#define RH_CATALOG_INT_H

#include "catalog/catalog.h"

typedef struct rh_catalog_prop {
    const char *key;
    const char *value;
} rh_catalog_prop;

struct rh_catalog_obj {
    rh_catalog_kind kind;
    const char *schema; /* NULL for schemas and extensions */
    const char *table;  /* owning relation (or domain); NULL for top-level objects */
    const char *name;
    const char *args;   /* functions: identity arguments; NULL otherwise */
    rh_catalog_prop *props;
    size_t nprops;
};

/* Strings and property arrays live in a chunked arena freed with the catalog. */
typedef struct rh_cat_chunk {
    struct rh_cat_chunk *next;
    size_t used, cap;
    char data[];
} rh_cat_chunk;

struct rh_catalog {
    rh_catalog_obj *objs;
    size_t n, cap;
    char *default_schema;
    rh_cat_chunk *arena;
    /* the object being built (rh_cat_begin .. rh_cat_end) */
    rh_catalog_prop *cur;
    size_t ncur, capcur;
    int building;
};

rh_catalog *rh_cat_new(const char *default_schema);
const char *rh_cat_strdup(rh_catalog *cat, const char *s);
const char *rh_cat_strndup(rh_catalog *cat, const char *s, size_t n);
/* Start an object; strings are copied. Then rh_cat_prop() for each property, then rh_cat_end(). */
void rh_cat_begin(rh_catalog *cat, rh_catalog_kind kind, const char *schema, const char *table,
                  const char *name, const char *args);
void rh_cat_prop(rh_catalog *cat, const char *key, const char *value);
void rh_cat_end(rh_catalog *cat);
/* Sort into text-form order (after all objects are added). Returns -1 and names a duplicate. */
int rh_cat_sort(rh_catalog *cat, rh_err *err);
/* Total order of identities: section, schema, owning relation, rank of the kind, kind, name, args. */
int rh_cat_cmp(const rh_catalog_obj *a, const rh_catalog_obj *b);
/* 1 if a property with this key is switched off by the options (owner, acl, comment, position). */
int rh_cat_prop_ignored(const char *key, const rh_catalog_opts *opts);
/* 1 if the object is the migration tool's ledger (opts->ledger_tool's table and what belongs to it, its
   sequence, the schema it made for the ledger; opts may be NULL). */
int rh_cat_is_ledger(const rh_catalog_obj *o, const rh_catalog_opts *opts);
/* Does the kind have an owning table in its identity (column, constraint, trigger, policy, index)? */
int rh_cat_kind_has_table(rh_catalog_kind k);
/* Kinds named without a schema (schema, extension, server, publication). */
int rh_cat_kind_schemaless(rh_catalog_kind k);
/* Kinds whose table is printed as `NAME on TABLE` (names unique per schema: index, statistics). */
int rh_cat_kind_on_table(rh_catalog_kind k);

/* Text-form helpers (text.c). */
void rh_cat_put_prop(rh_buf *out, const char *key, const char *value, const char *prefix);
/* One identifier ("quoted" or bare; bare folded to lower case when fold); -1 on a syntax error. */
int rh_cat_parse_ident(const char **p, int fold, char **out);
/* Up to max dot-separated identifiers into parts (malloc'd); the count, or -1. */
int rh_cat_parse_qualified(const char **p, int fold, char **parts, int max);
/* Append "ident" with double quotes always (how messages and scenarios write names). */
void rh_cat_quote_always(rh_buf *out, const char *ident);

/* rh_buf_steal() leaves a fresh allocation behind in the buffer: take the string and free that. */
static inline char *rh_cat_steal(rh_buf *b)
{
    char *s = rh_buf_steal(b);
    rh_buf_free(b);
    return s;
}

#endif
