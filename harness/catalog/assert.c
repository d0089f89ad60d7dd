/*
 * assert.c — catalog expectations: parsing "index X valid"-style text into rh_catalog_expect and
 * checking one against a snapshot, with failure messages that show expected vs found and the
 * nearest existing names.
 */
#include "catalog/assert.h"
#include "catalog/catalog_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const prop_names[RH_EXPECT_PROP_COUNT] = {
    [RH_EXPECT_EXISTS] = "exists",         [RH_EXPECT_ABSENT] = "absent",
    [RH_EXPECT_TYPE] = "type",             [RH_EXPECT_NOT_NULL] = "not-null",
    [RH_EXPECT_NULLABLE] = "nullable",     [RH_EXPECT_DEFAULT] = "default",
    [RH_EXPECT_VALID] = "valid",           [RH_EXPECT_INVALID] = "invalid",
    [RH_EXPECT_UNIQUE] = "unique",         [RH_EXPECT_NOT_UNIQUE] = "not-unique",
    [RH_EXPECT_DEFINITION] = "definition", [RH_EXPECT_VALIDATED] = "validated",
    [RH_EXPECT_NOT_VALIDATED] = "not-validated", [RH_EXPECT_KIND] = "kind",
    [RH_EXPECT_LABELS] = "labels",         [RH_EXPECT_ENABLED] = "enabled",
    [RH_EXPECT_DISABLED] = "disabled",     [RH_EXPECT_PROPERTY] = "property",
};

const char *rh_expect_prop_name(rh_expect_prop p)
{
    return (unsigned)p < RH_EXPECT_PROP_COUNT ? prop_names[p] : "?";
}

int rh_expect_prop_from_name(const char *w)
{
    for (int p = 0; p < RH_EXPECT_PROP_COUNT; p++)
        if (strcmp(w, prop_names[p]) == 0)
            return p;
    if (!strcmp(w, "exist") || !strcmp(w, "present"))
        return RH_EXPECT_EXISTS;
    if (!strcmp(w, "missing") || !strcmp(w, "dropped"))
        return RH_EXPECT_ABSENT;
    if (!strcmp(w, "null") || !strcmp(w, "nullable") || !strcmp(w, "not-not-null"))
        return RH_EXPECT_NULLABLE;
    if (!strcmp(w, "not-valid"))
        return RH_EXPECT_NOT_VALIDATED;
    if (!strcmp(w, "def"))
        return RH_EXPECT_DEFINITION;
    return -1;
}

/* Which properties make sense for which kinds: a mismatch is a mistake in the scenario. */
static int applies(rh_expect_prop p, rh_catalog_kind k)
{
    switch (p) {
    case RH_EXPECT_EXISTS:
    case RH_EXPECT_ABSENT:
    case RH_EXPECT_PROPERTY:
        return 1;
    case RH_EXPECT_TYPE:
        return k == RH_CAT_COLUMN || k == RH_CAT_DOMAIN || k == RH_CAT_SEQUENCE;
    case RH_EXPECT_NOT_NULL:
    case RH_EXPECT_NULLABLE:
    case RH_EXPECT_DEFAULT:
        return k == RH_CAT_COLUMN || k == RH_CAT_DOMAIN;
    case RH_EXPECT_VALID:
    case RH_EXPECT_INVALID:
    case RH_EXPECT_UNIQUE:
    case RH_EXPECT_NOT_UNIQUE:
        return k == RH_CAT_INDEX;
    case RH_EXPECT_DEFINITION:
        return k == RH_CAT_INDEX || k == RH_CAT_CONSTRAINT || k == RH_CAT_VIEW || k == RH_CAT_MATVIEW ||
               k == RH_CAT_FUNCTION || k == RH_CAT_TRIGGER || k == RH_CAT_RULE || k == RH_CAT_STATISTICS;
    case RH_EXPECT_VALIDATED:
    case RH_EXPECT_NOT_VALIDATED:
        return k == RH_CAT_CONSTRAINT;
    case RH_EXPECT_KIND:
        return k == RH_CAT_CONSTRAINT || k == RH_CAT_FUNCTION;
    case RH_EXPECT_LABELS:
        return k == RH_CAT_ENUM;
    case RH_EXPECT_ENABLED:
    case RH_EXPECT_DISABLED:
        return k == RH_CAT_TRIGGER;
    default:
        return 0;
    }
}

static int needs_value(rh_expect_prop p)
{
    return p == RH_EXPECT_TYPE || p == RH_EXPECT_DEFAULT || p == RH_EXPECT_DEFINITION || p == RH_EXPECT_KIND ||
           p == RH_EXPECT_LABELS;
}

/* ---- parsing ------------------------------------------------------------------------------------- */

void rh_catalog_expect_clear(rh_catalog_expect *e)
{
    for (size_t i = 0; i < sizeof e->owned_ / sizeof e->owned_[0]; i++)
        free(e->owned_[i]);
    memset(e, 0, sizeof *e);
}

static const char *own(rh_catalog_expect *e, char *s)
{
    for (size_t i = 0; i < sizeof e->owned_ / sizeof e->owned_[0]; i++)
        if (!e->owned_[i]) {
            e->owned_[i] = s;
            return s;
        }
    abort(); /* more strings than slots: a bug in this file */
}

/* Assign 1-3 name parts to schema/table/name as the kind reads them. */
static int assign_parts(rh_catalog_expect *e, char **parts, int n, const char *shown, rh_err *err)
{
    rh_catalog_kind k = e->kind;
    int tabled = k == RH_CAT_COLUMN || k == RH_CAT_TRIGGER || k == RH_CAT_POLICY || k == RH_CAT_RULE;
    int ok;
    if (rh_cat_kind_schemaless(k))
        ok = n == 1;
    else if (tabled)
        ok = n == 2 || n == 3;
    else if (k == RH_CAT_CONSTRAINT)
        ok = n >= 1 && n <= 3;
    else
        ok = n == 1 || n == 2;
    if (!ok) {
        const char *form = rh_cat_kind_schemaless(k) ? "name"
                         : tabled ? "table.name or schema.table.name"
                         : k == RH_CAT_CONSTRAINT ? "name, table.name or schema.table.name"
                                                  : "name or schema.name";
        for (int i = 0; i < n; i++)
            free(parts[i]);
        return rh_err_set(err, "`%s`: a %s is named as %s", shown, rh_catalog_kind_name(k), form);
    }
    int i = 0;
    if ((tabled || k == RH_CAT_CONSTRAINT) ? n == 3 : n == 2)
        e->schema = own(e, parts[i++]);
    if ((tabled || k == RH_CAT_CONSTRAINT) && n - i == 2)
        e->table = own(e, parts[i++]);
    e->name = own(e, parts[i]);
    return 0;
}

/* Strip one pair of surrounding quotes ("..." or '...'), undoubling inner ones. */
static char *unquote_value(const char *s, size_t n)
{
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        char q = s[0];
        rh_buf b;
        rh_buf_init(&b);
        for (size_t i = 1; i < n - 1; i++) {
            if (s[i] == q) {
                if (i + 1 < n - 1 && s[i + 1] == q) {
                    rh_buf_putc(&b, q);
                    i++;
                    continue;
                }
                rh_buf_free(&b);
                return rh_xstrndup(s, n); /* 'a'::text: not one quoted string */
            }
            rh_buf_putc(&b, s[i]);
        }
        return rh_cat_steal(&b);
    }
    return rh_xstrndup(s, n);
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Shared tail: NAME text (already isolated), property word, value. */
static int finish(rh_catalog_expect *e, const char *kindw, const char *nametext, const char *propw, char *value,
                  char *key, rh_err *err)
{
    int k = rh_catalog_kind_from_name(kindw);
    if (k < 0) {
        free(value);
        free(key);
        return rh_err_set(err, "unknown object kind `%s` (expected table, column, index, constraint, enum, domain, "
                               "view, matview, function, trigger, sequence, extension, schema, policy, composite, range, "
                               "foreign-table, rule, statistics, server or publication)", kindw);
    }
    e->kind = (rh_catalog_kind)k;
    if (key)
        e->key = own(e, key);
    if (value)
        e->value = own(e, value);
    const char *p = nametext;
    char *parts[3] = {0};
    int n = rh_cat_parse_qualified(&p, 0, parts, 3);
    if (n < 0)
        return rh_err_set(err, "`%s`: expected a name (quote names holding dots, spaces or quotes: \"a b\")",
                          nametext);
    if (*p == '(' && e->kind == RH_CAT_FUNCTION) {
        size_t len = strlen(p);
        if (p[len - 1] != ')') {
            for (int i = 0; i < n; i++)
                free(parts[i]);
            return rh_err_set(err, "`%s`: unbalanced parenthesis in the argument list", nametext);
        }
        e->args = own(e, rh_xstrndup(p + 1, len - 2));
        p += len;
    }
    if (*p) {
        for (int i = 0; i < n; i++)
            free(parts[i]);
        return rh_err_set(err, "`%s`: unexpected `%s` after the name", nametext, p);
    }
    if (assign_parts(e, parts, n, nametext, err) < 0)
        return -1;
    int pr = propw ? rh_expect_prop_from_name(propw) : RH_EXPECT_EXISTS;
    if (pr < 0)
        return rh_err_set(err, "unknown property `%s` for a %s (expected exists, absent, type, not-null, nullable, "
                               "default, valid, invalid, unique, not-unique, definition, validated, not-validated, "
                               "kind, labels, enabled, disabled or property KEY VALUE)", propw,
                          rh_catalog_kind_name(e->kind));
    e->property = (rh_expect_prop)pr;
    if (!applies(e->property, e->kind))
        return rh_err_set(err, "`%s` does not apply to a %s", propw, rh_catalog_kind_name(e->kind));
    if (needs_value(e->property) && !e->value)
        return rh_err_set(err, "`%s` needs a value: %s %s %s VALUE", propw, kindw, nametext, propw);
    if (e->property == RH_EXPECT_PROPERTY && !e->key)
        return rh_err_set(err, "`property` needs a key: %s %s property KEY [VALUE]", kindw, nametext);
    if (!needs_value(e->property) && e->property != RH_EXPECT_PROPERTY && e->value)
        return rh_err_set(err, "`%s` takes no value, found `%s`", propw, e->value);
    return 0;
}

int rh_catalog_expect_parse(const char *text, rh_catalog_expect *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    const char *p = skip_ws(text);
    const char *kw = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    char *kindw = rh_xstrndup(kw, (size_t)(p - kw));
    p = skip_ws(p);
    /* the name: identifiers, dots, quotes, and for functions a parenthesised list */
    const char *ns = p;
    int inq = 0, depth = 0;
    for (; *p; p++) {
        if (*p == '"')
            inq = !inq;
        else if (!inq && *p == '(')
            depth++;
        else if (!inq && *p == ')')
            depth--;
        else if (!inq && depth == 0 && (*p == ' ' || *p == '\t'))
            break;
    }
    char *name = rh_xstrndup(ns, (size_t)(p - ns));
    p = skip_ws(p);
    char *propw = NULL, *key = NULL, *value = NULL;
    if (*p) {
        const char *pw = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        propw = rh_xstrndup(pw, (size_t)(p - pw));
        p = skip_ws(p);
        if (strcmp(propw, "property") == 0 && *p) {
            const char *kk = p;
            while (*p && *p != ' ' && *p != '\t')
                p++;
            key = rh_xstrndup(kk, (size_t)(p - kk));
            p = skip_ws(p);
        }
        size_t n = strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
            n--;
        if (n)
            value = unquote_value(p, n);
    }
    int rc = 0;
    if (!*name)
        rc = rh_err_set(err, "expected KIND NAME [PROPERTY [VALUE]], e.g. `index \"User_email_key\" valid`");
    else
        rc = finish(out, kindw, name, propw, value, key, err);
    free(kindw);
    free(name);
    free(propw);
    if (rc < 0) {
        rh_err_prefix(err, "expect %s", text);
        rh_catalog_expect_clear(out);
    }
    return rc;
}

int rh_catalog_expect_from_words(int argc, const char *const *argv, rh_catalog_expect *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    if (argc < 2)
        return rh_err_set(err, "expect: KIND NAME [PROPERTY [VALUE]] needed, e.g. `index User_email_key valid`");
    int vi = 3;
    char *key = NULL, *value = NULL;
    if (argc > 2 && strcmp(argv[2], "property") == 0 && argc > 3) {
        key = rh_xstrdup(argv[3]);
        vi = 4;
    }
    if (argc > vi) {
        rh_buf b;
        rh_buf_init(&b);
        for (int i = vi; i < argc; i++) {
            if (i > vi)
                rh_buf_putc(&b, ' ');
            rh_buf_puts(&b, argv[i]);
        }
        value = rh_cat_steal(&b);
    }
    if (finish(out, argv[0], argv[1], argc > 2 ? argv[2] : NULL, value, key, err) < 0) {
        rh_err_prefix(err, "expect %s %s", argv[0], argv[1]);
        rh_catalog_expect_clear(out);
        return -1;
    }
    return 0;
}

int rh_catalog_expect_from_fields(const char *kind, const char *schema, const char *table, const char *name,
                                  const char *property, const char *value, rh_catalog_expect *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    int k = kind ? rh_catalog_kind_from_name(kind) : -1;
    if (k < 0)
        return rh_err_set(err, "unknown object kind `%s`", kind ? kind : "");
    out->kind = (rh_catalog_kind)k;
    if (!name && table && !rh_cat_kind_has_table(out->kind)) {
        name = table; /* `expect table "User"`: the scenario keeps a table's name in `table` */
        table = NULL;
    }
    if (!name || !*name)
        return rh_err_set(err, "expect %s: the object's name is missing", kind);
    if (rh_cat_kind_schemaless(out->kind))
        schema = NULL;
    if (schema)
        out->schema = own(out, rh_xstrdup(schema));
    if (table)
        out->table = own(out, rh_xstrdup(table));
    out->name = own(out, rh_xstrdup(name));
    const char *paren = out->kind == RH_CAT_FUNCTION ? strchr(out->name, '(') : NULL;
    if (paren && out->name[strlen(out->name) - 1] == ')') {
        out->args = own(out, rh_xstrndup(paren + 1, strlen(paren) - 2));
        ((char *)out->name)[paren - out->name] = '\0';
    }
    int pr = property ? rh_expect_prop_from_name(property) : RH_EXPECT_EXISTS;
    char *key = NULL;
    if (pr < 0 && property && strncmp(property, "property ", 9) == 0) {
        pr = RH_EXPECT_PROPERTY;
        key = rh_xstrdup(property + 9);
    }
    if (pr < 0) {
        rh_catalog_expect_clear(out);
        return rh_err_set(err, "expect %s %s: unknown property `%s`", kind, name, property);
    }
    out->property = (rh_expect_prop)pr;
    if (key)
        out->key = own(out, key);
    if (value)
        out->value = own(out, rh_xstrdup(value));
    const char *why = NULL;
    if (!applies(out->property, out->kind))
        why = "does not apply to this kind of object";
    else if (needs_value(out->property) && !out->value)
        why = "needs a value";
    else if (out->property == RH_EXPECT_PROPERTY && !out->key)
        why = "needs a key";
    if (why) {
        rh_err_set(err, "expect %s %s: `%s` %s", kind, name, property, why);
        rh_catalog_expect_clear(out);
        return -1;
    }
    return 0;
}

/* The name of the expected object in scenario syntax (all parts given quoted). */
static void put_expected_name(rh_buf *out, const rh_catalog_expect *e)
{
    if (e->schema) {
        rh_cat_quote_always(out, e->schema);
        rh_buf_putc(out, '.');
    }
    if (e->table) {
        rh_cat_quote_always(out, e->table);
        rh_buf_putc(out, '.');
    }
    rh_cat_quote_always(out, e->name ? e->name : "");
    if (e->args)
        rh_buf_printf(out, "(%s)", e->args);
}

void rh_catalog_expect_describe(const rh_catalog_expect *e, rh_buf *out)
{
    rh_buf_printf(out, "%s ", rh_catalog_kind_name(e->kind));
    put_expected_name(out, e);
    rh_buf_printf(out, " %s", rh_expect_prop_name(e->property));
    if (e->key)
        rh_buf_printf(out, " %s", e->key);
    if (e->value)
        rh_buf_printf(out, " %s", e->value);
}

/* ---- comparing values ---------------------------------------------------------------------------- */

/* Lower-case, no double quotes, single spaces, no spaces next to parentheses and commas. */
static char *squeeze(const char *s, int fold, int drop_quotes)
{
    rh_buf b;
    rh_buf_init(&b);
    int space = 0;
    for (; *s; s++) {
        char c = *s;
        if (c == '"' && drop_quotes)
            continue;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = b.len > 0;
            continue;
        }
        if (space && b.len && !strchr("(,", b.data[b.len - 1]) && !strchr("(),", c))
            rh_buf_putc(&b, ' ');
        space = 0;
        if (fold && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        rh_buf_putc(&b, c);
    }
    return rh_cat_steal(&b);
}

/* A type as format_type() would print it: "int4" -> "integer", "TIMESTAMP(3)" -> "timestamp(3) without time zone". */
static char *norm_type(const char *s)
{
    char *t = squeeze(s, 1, 1);
    size_t hl = strcspn(t, "([");
    char *head = rh_xstrndup(t, hl);
    const char *mod = "", *rest = t + hl;
    char *modbuf = NULL;
    if (*rest == '(') {
        size_t ml = strcspn(rest, ")");
        modbuf = rh_xstrndup(rest, rest[ml] ? ml + 1 : ml);
        mod = modbuf;
        rest += strlen(modbuf);
    }
    static const char *const alias[][2] = {
        {"int", "integer"}, {"int4", "integer"}, {"int8", "bigint"}, {"int2", "smallint"},
        {"varchar", "character varying"}, {"char", "character"}, {"bpchar", "character"},
        {"bool", "boolean"}, {"float8", "double precision"}, {"float", "double precision"},
        {"float4", "real"}, {"decimal", "numeric"}, {"serial", "integer"}, {"bigserial", "bigint"},
    };
    const char *h = head, *zone = "";
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (strcmp(head, alias[i][0]) == 0)
            h = alias[i][1];
    if (!strcmp(head, "timestamptz") || !strcmp(head, "timetz")) {
        h = head[4] == 's' ? "timestamp" : "time";
        zone = " with time zone";
    } else if ((!strcmp(head, "timestamp") || !strcmp(head, "time")) && strncmp(rest, " with", 5) != 0) {
        zone = " without time zone";
    }
    char *r = rh_xasprintf("%s%s%s%s", h, mod, zone, rest);
    free(t);
    free(head);
    free(modbuf);
    return r;
}

/* 'x'::text -> x, '{}'::jsonb -> {}: lets scenarios write the value without Postgres' casts. */
static char *loose_default(const char *s)
{
    char *t = squeeze(s, 0, 0);
    for (;;) {
        char *cast = NULL;
        int inq = 0;
        for (char *p = t; *p; p++) {
            if (*p == '\'')
                inq = !inq;
            else if (!inq && p[0] == ':' && p[1] == ':')
                cast = p;
        }
        if (!cast)
            break;
        *cast = '\0';
    }
    size_t n = strlen(t);
    if (n >= 2 && t[0] == '(' && t[n - 1] == ')') {
        memmove(t, t + 1, n - 2);
        t[n - 2] = '\0';
    }
    char *u = unquote_value(t, strlen(t));
    free(t);
    return u;
}

/* Split "A, 'B', \"C D\"" or the snapshot's "'A', 'B'" into labels. */
static size_t split_labels(const char *s, char ***out)
{
    size_t n = 0, cap = 8;
    char **v = rh_xmalloc(cap * sizeof *v);
    const char *p = s;
    while (*(p = skip_ws(p))) {
        rh_buf b;
        rh_buf_init(&b);
        if (*p == 'E' && p[1] == '\'')
            p++;
        if (*p == '\'' || *p == '"') {
            char q = *p++;
            for (; *p; p++) {
                if (*p == '\\' && q == '\'' && p[1]) {
                    rh_buf_putc(&b, *++p);
                    continue;
                }
                if (*p == q) {
                    if (p[1] == q) {
                        rh_buf_putc(&b, q);
                        p++;
                        continue;
                    }
                    p++;
                    break;
                }
                rh_buf_putc(&b, *p);
            }
            p = skip_ws(p);
        } else {
            const char *st = p;
            while (*p && *p != ',')
                p++;
            const char *e = p;
            while (e > st && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            rh_buf_append(&b, st, (size_t)(e - st));
        }
        if (n == cap)
            v = rh_xrealloc(v, (cap *= 2) * sizeof *v);
        v[n++] = rh_cat_steal(&b);
        if (*p == ',')
            p++;
    }
    *out = v;
    return n;
}

static void free_labels(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int labels_equal(const char *expected, const char *actual)
{
    char **a, **b;
    size_t na = split_labels(expected, &a), nb = split_labels(actual, &b);
    int eq = na == nb;
    for (size_t i = 0; eq && i < na; i++)
        eq = strcmp(a[i], b[i]) == 0;
    free_labels(a, na);
    free_labels(b, nb);
    return eq;
}

/* Definitions: equal, or the actual one ends with the expected text (whitespace-insensitive). */
static int definition_matches(const char *expected, const char *actual)
{
    char *x = squeeze(expected, 0, 0), *y = squeeze(actual, 0, 0);
    size_t nx = strlen(x), ny = strlen(y);
    int ok = nx > 0 && nx <= ny && strcmp(y + ny - nx, x) == 0;
    free(x);
    free(y);
    return ok;
}

static char *norm_word(const char *s)
{
    char *t = squeeze(s, 1, 1);
    for (char *p = t; *p; p++)
        if (*p == ' ' || *p == '_')
            *p = '-';
    if (!strcmp(t, "pk") || !strcmp(t, "primary")) {
        free(t);
        t = rh_xstrdup("primary-key");
    } else if (!strcmp(t, "fk") || !strcmp(t, "foreign")) {
        free(t);
        t = rh_xstrdup("foreign-key");
    }
    return t;
}

/* ---- checking ------------------------------------------------------------------------------------ */

static int has_relation(const rh_catalog *cat, const char *schema, const char *name)
{
    return rh_catalog_find(cat, RH_CAT_TABLE, schema, NULL, name, NULL) ||
           rh_catalog_find(cat, RH_CAT_VIEW, schema, NULL, name, NULL) ||
           rh_catalog_find(cat, RH_CAT_MATVIEW, schema, NULL, name, NULL) ||
           rh_catalog_find(cat, RH_CAT_DOMAIN, schema, NULL, name, NULL) ||
           rh_catalog_find(cat, RH_CAT_FOREIGN_TABLE, schema, NULL, name, NULL);
}

/* Why the object is missing, and what the user probably meant. */
static void explain_missing(const rh_catalog *cat, const rh_catalog_expect *e, rh_buf *m)
{
    const char *schema = e->schema ? e->schema : cat->default_schema;
    const char *kw = rh_catalog_kind_name(e->kind);
    int schemaless = rh_cat_kind_schemaless(e->kind);
    if (!schemaless && !rh_catalog_find(cat, RH_CAT_SCHEMA, NULL, NULL, schema, NULL)) {
        rh_buf_printf(m, "there is no schema ");
        rh_cat_quote_always(m, schema);
        rh_buf tmp;
        rh_buf_init(&tmp);
        if (rh_catalog_nearest(cat, RH_CAT_SCHEMA, NULL, NULL, schema, 3, &tmp) > 0)
            rh_buf_printf(m, "; did you mean schema %s?", tmp.data);
        rh_buf_free(&tmp);
        rh_buf_putc(m, '\n');
        return;
    }
    if (e->table && !rh_cat_kind_on_table(e->kind) && !has_relation(cat, schema, e->table)) {
        rh_buf_printf(m, "there is no table ");
        rh_cat_quote_always(m, e->table);
        rh_buf_printf(m, " in schema ");
        rh_cat_quote_always(m, schema);
        rh_buf tmp;
        rh_buf_init(&tmp);
        if (rh_catalog_nearest(cat, RH_CAT_TABLE, e->schema, NULL, e->table, 3, &tmp) > 0)
            rh_buf_printf(m, "; did you mean table %s?", tmp.data);
        rh_buf_free(&tmp);
        rh_buf_putc(m, '\n');
        return;
    }
    if (e->table && !rh_cat_kind_on_table(e->kind)) {
        rh_buf_printf(m, "table ");
        rh_cat_quote_always(m, e->table);
        rh_buf_printf(m, " has no %s ", kw);
        rh_cat_quote_always(m, e->name);
    } else {
        rh_buf_printf(m, "there is no %s ", kw);
        rh_cat_quote_always(m, e->name);
        if (e->args)
            rh_buf_printf(m, "(%s)", e->args);
        if (!schemaless) {
            rh_buf_printf(m, " in schema ");
            rh_cat_quote_always(m, schema);
        }
    }
    rh_buf tmp;
    rh_buf_init(&tmp);
    if (rh_catalog_nearest(cat, e->kind, e->schema, e->table, e->name, 3, &tmp) > 0)
        rh_buf_printf(m, "; did you mean %s?", tmp.data);
    rh_buf_putc(m, '\n');
    /* the same name as another kind of object: "X" is a view, not a table */
    for (size_t i = 0; i < cat->n; i++) {
        const rh_catalog_obj *o = &cat->objs[i];
        if (o->kind != e->kind && strcmp(o->name, e->name) == 0 &&
            (schemaless || !o->schema || strcmp(o->schema, schema) == 0)) {
            rh_buf_puts(m, "  note: there is ");
            rh_catalog_obj_label(o, m);
            rh_buf_putc(m, '\n');
        }
    }
    /* a column that is not there: list the table's columns when no name came close */
    if (e->kind == RH_CAT_COLUMN && tmp.len == 0) {
        rh_buf_printf(m, "  its columns:");
        int k = 0;
        for (size_t i = 0; i < cat->n; i++) {
            const rh_catalog_obj *o = &cat->objs[i];
            if (o->kind == RH_CAT_COLUMN && o->table && strcmp(o->table, e->table) == 0 &&
                strcmp(o->schema, schema) == 0) {
                rh_buf_puts(m, k++ ? ", " : " ");
                rh_cat_quote_always(m, o->name);
            }
        }
        rh_buf_puts(m, k ? "\n" : " none\n");
    }
    rh_buf_free(&tmp);
}

static void head(rh_buf *m, const rh_catalog_expect *e)
{
    rh_buf_puts(m, "expected ");
    rh_catalog_expect_describe(e, m);
    rh_buf_putc(m, '\n');
}

/* "expected X, found Y" for a property of a found object. */
static int mismatch(rh_buf *m, const rh_catalog_expect *e, const rh_catalog_obj *o, const char *key,
                    const char *expected, const char *actual)
{
    if (!m)
        return RH_CATALOG_CHECK_FAIL;
    head(m, e);
    rh_buf_puts(m, "  ");
    rh_catalog_obj_label(o, m);
    rh_buf_putc(m, '\n');
    rh_buf_printf(m, "  expected %s: %s\n", key, expected);
    rh_buf_printf(m, "  actual   %s: %s\n", key, actual ? actual : "(none)");
    return RH_CATALOG_CHECK_FAIL;
}

static int yes(const rh_catalog_obj *o, const char *key)
{
    const char *v = rh_catalog_obj_prop(o, key);
    return v && strcmp(v, "yes") == 0;
}

int rh_catalog_check(const rh_catalog *cat, const rh_catalog_expect *e, rh_buf *m)
{
    if ((unsigned)e->kind >= RH_CAT_KIND_COUNT || (unsigned)e->property >= RH_EXPECT_PROP_COUNT || !e->name) {
        if (m)
            rh_buf_puts(m, "malformed expectation (kind, property or name missing)\n");
        return RH_CATALOG_CHECK_ERROR;
    }
    if (!applies(e->property, e->kind) || (needs_value(e->property) && !e->value) ||
        (e->property == RH_EXPECT_PROPERTY && !e->key)) {
        if (m)
            rh_buf_printf(m, "`%s` does not apply to a %s, or lacks its value\n", rh_expect_prop_name(e->property),
                          rh_catalog_kind_name(e->kind));
        return RH_CATALOG_CHECK_ERROR;
    }
    rh_catalog_expect alt = *e;
    if (e->table && !rh_cat_kind_has_table(e->kind)) {
        /* a view, enum, sequence ... has no table; callers may pass the name there too */
        alt.table = NULL;
        e = &alt;
    }
    const rh_catalog_obj *o = rh_catalog_find(cat, e->kind, e->schema, e->table, e->name, e->args);
    if (!o && rh_cat_kind_on_table(e->kind) && e->schema && !e->table &&
        !rh_catalog_find(cat, RH_CAT_SCHEMA, NULL, NULL, e->schema, NULL)) {
        /* `index "Table"."Index"`: a table, not a schema */
        alt.table = e->schema;
        alt.schema = NULL;
        o = rh_catalog_find(cat, e->kind, NULL, alt.table, e->name, e->args);
        if (o)
            e = &alt;
    }
    if (e->property == RH_EXPECT_ABSENT) {
        if (!o)
            return RH_CATALOG_CHECK_PASS;
        if (m) {
            head(m, e);
            rh_buf_puts(m, "  but it exists: ");
            rh_catalog_obj_label(o, m);
            rh_buf_putc(m, '\n');
        }
        return RH_CATALOG_CHECK_FAIL;
    }
    if (!o) {
        if (m) {
            head(m, e);
            rh_buf_puts(m, "  ");
            explain_missing(cat, e, m);
        }
        return RH_CATALOG_CHECK_FAIL;
    }
    int ok = 1;
    char *x = NULL, *y = NULL;
    const char *v;
    int rc = RH_CATALOG_CHECK_PASS;
    switch (e->property) {
    case RH_EXPECT_EXISTS:
        break;
    case RH_EXPECT_TYPE:
        v = rh_catalog_obj_prop(o, "type");
        x = norm_type(e->value);
        y = norm_type(v ? v : "");
        if (strcmp(x, y) != 0)
            rc = mismatch(m, e, o, "type", e->value, v);
        break;
    case RH_EXPECT_NOT_NULL:
    case RH_EXPECT_NULLABLE:
        ok = yes(o, "not-null") == (e->property == RH_EXPECT_NOT_NULL);
        if (!ok)
            rc = mismatch(m, e, o, "not-null", e->property == RH_EXPECT_NOT_NULL ? "yes" : "no",
                          yes(o, "not-null") ? "yes" : "no");
        break;
    case RH_EXPECT_DEFAULT:
        v = rh_catalog_obj_prop(o, "default");
        if (!strcmp(e->value, "none") || !strcmp(e->value, "NONE")) {
            ok = v == NULL;
        } else if (!v) {
            ok = 0;
        } else {
            x = squeeze(e->value, 0, 0);
            y = squeeze(v, 0, 0);
            ok = strcmp(x, y) == 0;
            if (!ok) {
                free(x);
                free(y);
                x = loose_default(e->value);
                y = loose_default(v);
                ok = strcmp(x, y) == 0;
            }
        }
        if (!ok)
            rc = mismatch(m, e, o, "default", e->value, v);
        break;
    case RH_EXPECT_VALID:
    case RH_EXPECT_INVALID:
        if (yes(o, "valid") != (e->property == RH_EXPECT_VALID)) {
            v = rh_catalog_obj_prop(o, "ready");
            y = rh_xasprintf("%s (ready %s)", yes(o, "valid") ? "valid" : "invalid", v ? v : "?");
            rc = mismatch(m, e, o, "state", e->property == RH_EXPECT_VALID ? "valid" : "invalid", y);
        }
        break;
    case RH_EXPECT_UNIQUE:
    case RH_EXPECT_NOT_UNIQUE:
        if (yes(o, "unique") != (e->property == RH_EXPECT_UNIQUE))
            rc = mismatch(m, e, o, "unique", e->property == RH_EXPECT_UNIQUE ? "yes" : "no",
                          rh_catalog_obj_prop(o, "unique"));
        break;
    case RH_EXPECT_DEFINITION:
        v = rh_catalog_obj_prop(o, "definition");
        if (!v || !definition_matches(e->value, v))
            rc = mismatch(m, e, o, "definition", e->value, v);
        break;
    case RH_EXPECT_VALIDATED:
    case RH_EXPECT_NOT_VALIDATED:
        if (yes(o, "validated") != (e->property == RH_EXPECT_VALIDATED))
            rc = mismatch(m, e, o, "validated", e->property == RH_EXPECT_VALIDATED ? "yes" : "no",
                          rh_catalog_obj_prop(o, "validated"));
        break;
    case RH_EXPECT_KIND:
        v = rh_catalog_obj_prop(o, "kind");
        x = norm_word(e->value);
        if (!v || strcmp(x, v) != 0)
            rc = mismatch(m, e, o, "kind", e->value, v);
        break;
    case RH_EXPECT_LABELS:
        v = rh_catalog_obj_prop(o, "labels");
        if (!labels_equal(e->value, v ? v : ""))
            rc = mismatch(m, e, o, "labels", e->value, v);
        break;
    case RH_EXPECT_ENABLED:
    case RH_EXPECT_DISABLED:
        v = rh_catalog_obj_prop(o, "enabled");
        if ((v && strcmp(v, "no") != 0) != (e->property == RH_EXPECT_ENABLED))
            rc = mismatch(m, e, o, "enabled", e->property == RH_EXPECT_ENABLED ? "yes" : "no", v);
        break;
    case RH_EXPECT_PROPERTY:
        v = strcmp(e->key, "table") == 0 ? o->table : rh_catalog_obj_prop(o, e->key);
        if (!e->value) {
            /* `property deferrable`: the object has it (a flag other than "no") */
            ok = v && strcmp(v, "no") != 0;
        } else if (!strcmp(e->value, "none")) {
            ok = v == NULL;
        } else {
            ok = v && strcmp(v, e->value) == 0;
            if (!ok && v) {
                x = squeeze(e->value, 0, 1); /* collation C vs "C" */
                y = squeeze(v, 0, 1);
                ok = strcmp(x, y) == 0;
            }
        }
        if (!ok)
            rc = mismatch(m, e, o, e->key, e->value ? e->value : "(present)", v);
        break;
    default:
        rc = RH_CATALOG_CHECK_ERROR;
    }
    free(x);
    free(y);
    return rc;
}
