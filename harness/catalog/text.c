/*
 * text.c — the catalog's text form: printing (the bytes golden files hold) and parsing back.
 *
 *   rehearse-catalog 1
 *   default-schema public
 *
 *   table public."User"
 *   column public."User".email
 *     type text
 *     not-null yes
 *   index public."User_email_key" on "User"
 *     definition CREATE UNIQUE INDEX ...
 *
 * A header line per object (kind and quoted identity), then "  key value" per property; a value
 * with line breaks is written as "  key |" followed by its lines, each indented by four spaces.
 */
#include "catalog/catalog_int.h"

#include <stdlib.h>
#include <string.h>

#define FORMAT_LINE "rehearse-catalog 1"

static void put_value(rh_buf *out, const char *key, const char *value, const char *prefix)
{
    if (!strchr(value, '\n') && strcmp(value, "|") != 0) {
        rh_buf_printf(out, "%s  %s%s%s\n", prefix, key, *value ? " " : "", value);
        return;
    }
    rh_buf_printf(out, "%s  %s |\n", prefix, key);
    for (const char *p = value;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        rh_buf_printf(out, "%s    ", prefix);
        rh_buf_append(out, p, n);
        rh_buf_putc(out, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
}

/* Shared with diff.c: a property as its text-form lines, each prefixed (e.g. "-" or "+"). */
void rh_cat_put_prop(rh_buf *out, const char *key, const char *value, const char *prefix)
{
    put_value(out, key, value, prefix);
}

void rh_catalog_text(const rh_catalog *cat, rh_buf *out)
{
    rh_buf_printf(out, FORMAT_LINE "\ndefault-schema ");
    rh_catalog_quote_ident(out, cat->default_schema);
    rh_buf_putc(out, '\n');
    const rh_catalog_obj *prev = NULL;
    for (size_t i = 0; i < cat->n; i++) {
        const rh_catalog_obj *o = &cat->objs[i];
        const char *g = o->table ? o->table : o->name;
        const char *pg = prev ? (prev->table ? prev->table : prev->name) : NULL;
        /* A blank line between groups (a table and what hangs off it) keeps golden files readable. */
        if (!prev || !o->table || strcmp(g, pg) != 0 || (prev->schema && o->schema && strcmp(prev->schema, o->schema)))
            rh_buf_putc(out, '\n');
        rh_catalog_obj_label(o, out);
        rh_buf_putc(out, '\n');
        for (size_t j = 0; j < o->nprops; j++)
            put_value(out, o->props[j].key, o->props[j].value, "");
        prev = o;
    }
}

/* ---- parsing ---------------------------------------------------------------------------------- */

/*
 * Read one identifier at *p: "quoted ""with"" quotes" or a bare word (up to '.', '(', space).
 * Bare words are folded to lower case when `fold` (SQL's rule, used for names people type).
 */
int rh_cat_parse_ident(const char **p, int fold, char **out)
{
    const char *s = *p;
    rh_buf b;
    rh_buf_init(&b);
    if (*s == '"') {
        s++;
        for (;;) {
            if (!*s) {
                rh_buf_free(&b);
                return -1;
            }
            if (*s == '"') {
                if (s[1] == '"') {
                    rh_buf_putc(&b, '"');
                    s += 2;
                    continue;
                }
                s++;
                break;
            }
            rh_buf_putc(&b, *s++);
        }
    } else {
        while (*s && *s != '.' && *s != '(' && *s != ' ' && *s != '\t' && *s != '"') {
            char c = *s++;
            if (fold && c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            rh_buf_putc(&b, c);
        }
        if (b.len == 0) {
            rh_buf_free(&b);
            return -1;
        }
    }
    *p = s;
    *out = rh_cat_steal(&b);
    return 0;
}

/* Up to `max` dot-separated identifiers; returns how many, -1 on a syntax error. */
int rh_cat_parse_qualified(const char **p, int fold, char **parts, int max)
{
    int n = 0;
    for (;;) {
        if (n == max || rh_cat_parse_ident(p, fold, &parts[n]) < 0) {
            while (n > 0)
                free(parts[--n]);
            return -1;
        }
        n++;
        if (**p != '.')
            return n;
        (*p)++;
    }
}

static int parts_for(rh_catalog_kind k)
{
    if (k == RH_CAT_SCHEMA || k == RH_CAT_EXTENSION)
        return 1;
    if (k == RH_CAT_COLUMN || k == RH_CAT_CONSTRAINT || k == RH_CAT_TRIGGER || k == RH_CAT_POLICY)
        return 3;
    return 2;
}

/* One header line ("index public.x on t") into rh_cat_begin(). */
static int parse_header(rh_catalog *cat, const char *line, const char *origin, int lineno, rh_err *err)
{
    const char *sp = strchr(line, ' ');
    char word[32];
    size_t wl = sp ? (size_t)(sp - line) : strlen(line);
    if (wl >= sizeof word)
        wl = sizeof word - 1;
    memcpy(word, line, wl);
    word[wl] = '\0';
    int k = rh_catalog_kind_from_name(word);
    if (k < 0 || !sp)
        return rh_err_set(err, "%s:%d: expected an object header like `table public.name`, found `%s`", origin,
                          lineno, line);
    const char *p = sp + 1;
    char *parts[3] = {0};
    int want = parts_for(k);
    int n = rh_cat_parse_qualified(&p, 0, parts, 3);
    if (n != want) {
        for (int i = 0; i < n; i++)
            free(parts[i]);
        return rh_err_set(err, "%s:%d: `%s` needs a name of %d part%s (%s)", origin, lineno, line, want,
                          want > 1 ? "s" : "", want == 1 ? "name" : want == 2 ? "schema.name" : "schema.table.name");
    }
    char *args = NULL, *table = NULL;
    int bad = 0;
    if (k == RH_CAT_FUNCTION) {
        size_t len = strlen(p);
        if (*p == '(' && len >= 2 && p[len - 1] == ')')
            args = rh_xstrndup(p + 1, len - 2);
        else
            bad = 1;
    } else if (k == RH_CAT_INDEX && strncmp(p, " on ", 4) == 0) {
        p += 4;
        if (rh_cat_parse_ident(&p, 0, &table) < 0 || *p)
            bad = 1;
    } else if (*p) {
        bad = 1;
    }
    if (!bad) {
        if (want == 1)
            rh_cat_begin(cat, k, NULL, NULL, parts[0], NULL);
        else if (want == 2)
            rh_cat_begin(cat, k, parts[0], table, parts[1], args);
        else
            rh_cat_begin(cat, k, parts[0], parts[1], parts[2], NULL);
    }
    for (int i = 0; i < n; i++)
        free(parts[i]);
    free(args);
    free(table);
    if (bad)
        return rh_err_set(err, "%s:%d: unexpected text after the name in `%s`", origin, lineno, line);
    return 0;
}

typedef struct lines {
    char **v;
    size_t n;
} lines;

static void split_lines(const char *text, lines *ls)
{
    size_t cap = 64;
    ls->v = rh_xmalloc(cap * sizeof *ls->v);
    ls->n = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (ls->n == cap)
            ls->v = rh_xrealloc(ls->v, (cap *= 2) * sizeof *ls->v);
        ls->v[ls->n++] = rh_xstrndup(p, n);
        p += n + (nl ? 1 : 0);
    }
}

static int blank(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    return *s == '\0';
}

/* Inside a "key |" value: blank lines belong to it when a continuation line follows. */
static int continues(const lines *ls, size_t i)
{
    while (i < ls->n && blank(ls->v[i]) && strncmp(ls->v[i], "    ", 4) != 0)
        i++;
    return i < ls->n && strncmp(ls->v[i], "    ", 4) == 0;
}

int rh_catalog_parse(const char *text, const char *origin, rh_catalog **out, rh_err *err)
{
    *out = NULL;
    if (!origin)
        origin = "<catalog text>";
    lines ls;
    split_lines(text, &ls);
    rh_catalog *cat = NULL;
    rh_buf val;
    rh_buf_init(&val);
    int rc = 0;
    size_t i = 0;
    if (ls.n == 0 || strcmp(ls.v[0], FORMAT_LINE) != 0) {
        rc = rh_err_set(err, "%s:1: not a rehearse catalog snapshot (expected the first line `" FORMAT_LINE
                             "`; write one with `rehearse snapshot`)", origin);
        goto out;
    }
    i = 1;
    if (i < ls.n && strncmp(ls.v[i], "default-schema ", 15) == 0) {
        const char *p = ls.v[i] + 15;
        char *s = NULL;
        if (rh_cat_parse_ident(&p, 0, &s) < 0 || *p) {
            free(s);
            rc = rh_err_set(err, "%s:%zu: bad default-schema line", origin, i + 1);
            goto out;
        }
        cat = rh_cat_new(s);
        free(s);
        i++;
    } else {
        cat = rh_cat_new("public");
    }
    for (; i < ls.n; i++) {
        const char *line = ls.v[i];
        if (blank(line))
            continue;
        if (line[0] == '#')
            continue;
        if (line[0] != ' ') {
            if (cat->building)
                rh_cat_end(cat);
            if ((rc = parse_header(cat, line, origin, (int)i + 1, err)) < 0)
                goto out;
            continue;
        }
        if (!cat->building || strncmp(line, "  ", 2) != 0 || line[2] == ' ') {
            rc = rh_err_set(err, "%s:%zu: a property line (`  key value`) outside an object or badly indented: `%s`",
                            origin, i + 1, line);
            goto out;
        }
        const char *key = line + 2, *sp = strchr(key, ' ');
        char *k = sp ? rh_xstrndup(key, (size_t)(sp - key)) : rh_xstrdup(key);
        if (sp && strcmp(sp + 1, "|") == 0) {
            rh_buf_reset(&val);
            int first = 1;
            while (i + 1 < ls.n && continues(&ls, i + 1)) {
                i++;
                if (!first)
                    rh_buf_putc(&val, '\n');
                first = 0;
                rh_buf_puts(&val, strncmp(ls.v[i], "    ", 4) == 0 ? ls.v[i] + 4 : "");
            }
            rh_cat_prop(cat, k, val.data);
        } else {
            rh_cat_prop(cat, k, sp ? sp + 1 : "");
        }
        free(k);
    }
    if (cat->building)
        rh_cat_end(cat);
    if (rh_cat_sort(cat, err) < 0) {
        rc = rh_err_prefix(err, "%s", origin);
        goto out;
    }
out:
    for (size_t j = 0; j < ls.n; j++)
        free(ls.v[j]);
    free(ls.v);
    rh_buf_free(&val);
    if (rc < 0) {
        rh_catalog_free(cat);
        return -1;
    }
    *out = cat;
    return 0;
}
