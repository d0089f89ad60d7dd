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
    if (rh_cat_kind_schemaless(k))
        return 1;
    if (k == RH_CAT_COLUMN || k == RH_CAT_CONSTRAINT || k == RH_CAT_TRIGGER || k == RH_CAT_POLICY ||
        k == RH_CAT_RULE)
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
        return rh_err_set(err, "%s:%d: expected an object header `KIND NAME` (KIND: schema, extension, enum, domain, "
                               "sequence, table, view, matview, column, constraint, index, trigger, policy, function, composite, "
                               "range, foreign-table, rule, statistics, server, publication) "
                               "or a property line `  NAME VALUE` (two spaces), found `%s`",
                          origin, lineno, line);
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
    } else if (rh_cat_kind_on_table(k) && strncmp(p, " on ", 4) == 0) {
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

/*
 * What a block may hold, per kind: the properties a snapshot can write (format 1 has no room for
 * others: a newer rehearse that adds one will bump the format line), the ones every snapshot writes
 * (a block without them was cut short or edited), and the words a few properties are limited to.
 * Golden files are generated, so anything else is damage, reported at FILE:LINE rather than
 * surfacing later as a puzzling diff.
 */
static const char *const known_keys[RH_CAT_KIND_COUNT] = {
    [RH_CAT_SCHEMA] = "owner acl comment",
    [RH_CAT_EXTENSION] = "version schema comment",
    [RH_CAT_ENUM] = "labels owner acl comment",
    [RH_CAT_DOMAIN] = "type not-null default collation owner acl comment",
    [RH_CAT_SEQUENCE] = "type start increment min max cache cycle owned-by unlogged owner acl comment",
    [RH_CAT_TABLE] = "partition-key partition-of partition-bound inherits unlogged row-security force-row-security "
                     "options owner acl comment",
    [RH_CAT_VIEW] = "definition options owner acl comment",
    [RH_CAT_MATVIEW] = "definition options owner acl comment",
    [RH_CAT_COLUMN] = "position type not-null default generated identity collation options acl comment",
    [RH_CAT_CONSTRAINT] = "kind definition validated deferrable initially-deferred comment",
    [RH_CAT_INDEX] = "definition unique primary valid ready predicate comment",
    [RH_CAT_TRIGGER] = "definition enabled comment",
    [RH_CAT_POLICY] = "command mode roles using with-check comment",
    [RH_CAT_FUNCTION] = "kind returns language definition owner acl comment",
    [RH_CAT_COMPOSITE] = "attributes owner acl comment",
    [RH_CAT_RANGE] = "subtype subtype-opclass collation canonical subtype-diff multirange owner acl comment",
    [RH_CAT_FOREIGN_TABLE] = "server options inherits owner acl comment",
    [RH_CAT_RULE] = "definition enabled comment",
    [RH_CAT_STATISTICS] = "definition target owner comment",
    [RH_CAT_SERVER] = "wrapper type version options owner acl comment",
    [RH_CAT_PUBLICATION] = "all-tables publish via-root tables schemas owner comment",
};

static const char *const required_keys[RH_CAT_KIND_COUNT] = {
    [RH_CAT_EXTENSION] = "version schema",
    [RH_CAT_ENUM] = "labels",
    [RH_CAT_DOMAIN] = "type",
    [RH_CAT_SEQUENCE] = "type start increment min max cache",
    [RH_CAT_VIEW] = "definition",
    [RH_CAT_MATVIEW] = "definition",
    [RH_CAT_COLUMN] = "type not-null",
    [RH_CAT_CONSTRAINT] = "kind definition validated",
    [RH_CAT_INDEX] = "definition unique valid ready",
    [RH_CAT_TRIGGER] = "definition enabled",
    [RH_CAT_POLICY] = "command mode",
    [RH_CAT_FUNCTION] = "kind language",
    [RH_CAT_COMPOSITE] = "attributes",
    [RH_CAT_RANGE] = "subtype",
    [RH_CAT_FOREIGN_TABLE] = "server",
    [RH_CAT_RULE] = "definition enabled",
    [RH_CAT_STATISTICS] = "definition",
    [RH_CAT_SERVER] = "wrapper",
    [RH_CAT_PUBLICATION] = "publish",
};

/* Properties whose value is one of a few words ("" kind = any kind). */
static const struct {
    int kind; /* -1: any */
    const char *key;
    const char *words;
} word_values[] = {
    {-1, "not-null", "yes no"},
    {-1, "unique", "yes no"},
    {-1, "primary", "yes no"},
    {-1, "valid", "yes no"},
    {-1, "ready", "yes no"},
    {-1, "validated", "yes no"},
    {-1, "deferrable", "yes no"},
    {-1, "initially-deferred", "yes no"},
    {-1, "cycle", "yes no"},
    {-1, "unlogged", "yes no"},
    {-1, "row-security", "yes no"},
    {-1, "force-row-security", "yes no"},
    {-1, "all-tables", "yes no"},
    {-1, "via-root", "yes no"},
    {-1, "enabled", "yes no replica always"},
    {-1, "identity", "always by-default"},
    {-1, "mode", "permissive restrictive"},
    {-1, "command", "SELECT INSERT UPDATE DELETE ALL"},
    {RH_CAT_CONSTRAINT, "kind", "primary-key unique foreign-key check exclusion trigger not-null other"},
    {RH_CAT_FUNCTION, "kind", "function procedure aggregate window"},
};

/* Is `word` one of the space-separated words of `list`? */
static int in_list(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; *p;) {
        const char *sp = strchr(p, ' ');
        size_t l = sp ? (size_t)(sp - p) : strlen(p);
        if (l == n && n && strncmp(p, word, n) == 0)
            return 1;
        if (!sp)
            break;
        p = sp + 1;
    }
    return 0;
}

/* "a b c" as "a, b, c" for messages. */
static void put_list(rh_buf *out, const char *list)
{
    for (const char *p = list; *p; p++) {
        if (*p == ' ')
            rh_buf_puts(out, ", ");
        else
            rh_buf_putc(out, *p);
    }
}

/* The header of the object being built, for messages. */
static const char *building_label(const rh_catalog *cat, rh_buf *tmp)
{
    rh_buf_reset(tmp);
    rh_catalog_obj_label(&cat->objs[cat->n], tmp);
    return tmp->data;
}

/* One property line's key and value against the rules of the object being built. */
static int check_prop(rh_catalog *cat, const char *key, const char *value, const char *origin, size_t lineno,
                      size_t header_line, rh_buf *tmp, rh_err *err)
{
    rh_catalog_kind k = cat->objs[cat->n].kind;
    if (!in_list(known_keys[k], key)) {
        rh_buf known;
        rh_buf_init(&known);
        put_list(&known, known_keys[k]);
        int rc = rh_err_set(err, "%s:%zu: unknown property `%s` in %s (a %s has: %s); expected a property line "
                                 "`  NAME VALUE` or an object header `KIND NAME`",
                            origin, lineno, key, building_label(cat, tmp), rh_catalog_kind_name(k), known.data);
        rh_buf_free(&known);
        return rc;
    }
    for (size_t j = 0; j < cat->ncur; j++)
        if (strcmp(cat->cur[j].key, key) == 0)
            return rh_err_set(err, "%s:%zu: property `%s` appears twice in %s (block from line %zu)", origin, lineno,
                              key, building_label(cat, tmp), header_line);
    for (size_t j = 0; j < sizeof word_values / sizeof *word_values; j++) {
        if ((word_values[j].kind >= 0 && word_values[j].kind != (int)k) || strcmp(word_values[j].key, key) != 0)
            continue;
        if (in_list(word_values[j].words, value))
            return 0;
        rh_buf w;
        rh_buf_init(&w);
        put_list(&w, word_values[j].words);
        int rc = rh_err_set(err, "%s:%zu: `%s` of %s is `%s`; expected one of: %s", origin, lineno, key,
                            building_label(cat, tmp), value, w.data);
        rh_buf_free(&w);
        return rc;
    }
    if ((strcmp(key, "position") == 0 || strcmp(key, "target") == 0) && (!*value || strspn(value, "0123456789") != strlen(value)))
        return rh_err_set(err, "%s:%zu: `%s` of %s is `%s`; expected a number", origin, lineno, key,
                          building_label(cat, tmp), value);
    return 0;
}

/* Close the block being built: every property a snapshot always writes must be there. */
static int end_block(rh_catalog *cat, const char *origin, size_t header_line, size_t last_line, int at_eof,
                     rh_buf *tmp, rh_err *err)
{
    rh_catalog_kind k = cat->objs[cat->n].kind;
    const char *req = required_keys[k] ? required_keys[k] : "";
    for (const char *p = req; *p;) {
        const char *sp = strchr(p, ' ');
        size_t l = sp ? (size_t)(sp - p) : strlen(p);
        int found = 0;
        for (size_t j = 0; j < cat->ncur && !found; j++)
            found = strlen(cat->cur[j].key) == l && strncmp(cat->cur[j].key, p, l) == 0;
        if (!found) {
            rh_buf all;
            rh_buf_init(&all);
            put_list(&all, req);
            int rc = rh_err_set(err, "%s:%zu: %s%s (from line %zu) has no `%.*s` line (every %s has %s)%s", origin,
                                last_line, at_eof ? "file ends inside a block: " : "", building_label(cat, tmp),
                                header_line, (int)l, p, rh_catalog_kind_name(k), all.data,
                                at_eof ? "; is the file cut short?" : "");
            rh_buf_free(&all);
            return rc;
        }
        if (!sp)
            break;
        p = sp + 1;
    }
    rh_cat_end(cat);
    return 0;
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
    rh_buf tmp;
    rh_buf_init(&tmp);
    size_t header_line = 0, last_line = 0;
    if (ls.n == 0 || strcmp(ls.v[0], FORMAT_LINE) != 0) {
        if (ls.n > 0 && strcmp(ls.v[0], FORMAT_LINE "\r") == 0)
            rc = rh_err_set(err, "%s:1: the file has Windows line endings (CRLF); snapshots use LF only (a git "
                                 "checkout may have converted it: mark snapshot files `-text` in .gitattributes)",
                            origin);
        else if (ls.n > 0 && strncmp(ls.v[0], "rehearse-catalog ", 17) == 0)
            rc = rh_err_set(err, "%s:1: snapshot format `%s` is not one this rehearse reads (expected `" FORMAT_LINE
                                 "`; a newer rehearse wrote it?)", origin, ls.v[0]);
        else
            rc = rh_err_set(err, "%s:1: not a rehearse catalog snapshot (expected the first line `" FORMAT_LINE
                                 "`; write one with `rehearse snapshot`)", origin);
        goto out;
    }
    /* rh_catalog_text ends every line with a newline: a last line without one was cut short. */
    size_t tlen = strlen(text);
    if (tlen > 0 && text[tlen - 1] != '\n') {
        rc = rh_err_set(err, "%s:%zu: the file ends in the middle of a line (`%s`; every line of a snapshot ends "
                             "with a newline): is it cut short?", origin, ls.n, ls.v[ls.n - 1]);
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
            if (cat->building && (rc = end_block(cat, origin, header_line, last_line, 0, &tmp, err)) < 0)
                goto out;
            if ((rc = parse_header(cat, line, origin, (int)i + 1, err)) < 0)
                goto out;
            header_line = last_line = i + 1;
            continue;
        }
        if (!cat->building || strncmp(line, "  ", 2) != 0 || line[2] == ' ') {
            rc = rh_err_set(err, "%s:%zu: a property line (`  key value`) outside an object or badly indented: `%s`",
                            origin, i + 1, line);
            goto out;
        }
        const char *key = line + 2, *sp = strchr(key, ' ');
        char *k = sp ? rh_xstrndup(key, (size_t)(sp - key)) : rh_xstrdup(key);
        size_t key_line = i + 1;
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
            /* The printer writes `key |` only for a value of two lines or more. */
            if (first) {
                rc = rh_err_set(err, "%s:%zu: %s`  %s |` opens a multi-line value but no line indented by four "
                                     "spaces follows%s", origin, key_line, i + 1 == ls.n ? "file ends inside a block: " : "",
                                k, i + 1 == ls.n ? " (is the file cut short?)" : "");
                free(k);
                goto out;
            }
            if ((rc = check_prop(cat, k, val.data, origin, key_line, header_line, &tmp, err)) == 0)
                rh_cat_prop(cat, k, val.data);
        } else if ((rc = check_prop(cat, k, sp ? sp + 1 : "", origin, key_line, header_line, &tmp, err)) == 0) {
            rh_cat_prop(cat, k, sp ? sp + 1 : "");
        }
        free(k);
        if (rc < 0)
            goto out;
        last_line = i + 1;
    }
    if (cat->building && (rc = end_block(cat, origin, header_line, last_line, 1, &tmp, err)) < 0)
        goto out;
    if (rh_cat_sort(cat, err) < 0) {
        rc = rh_err_prefix(err, "%s", origin);
        goto out;
    }
out:
    for (size_t j = 0; j < ls.n; j++)
        free(ls.v[j]);
    free(ls.v);
    rh_buf_free(&val);
    rh_buf_free(&tmp);
    if (rc < 0) {
        rh_catalog_free(cat);
        return -1;
    }
    *out = cat;
    return 0;
}
