/*
 * load.c — the one loader of production's shape: a stats document (`rehearse stats` output, --scale)
 * and row-count guesses (--rows TABLE=N). Every error names the file or argument and what was expected.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scale/scale.h"
#include "util/fs.h"

static rh_scale_table *table_slot(rh_scale *s, const char *schema, const char *name)
{
    for (size_t i = 0; i < s->ntables; i++) {
        rh_scale_table *t = &s->tables[i];
        int same_schema = (!schema && !t->schema) || (schema && t->schema && strcmp(schema, t->schema) == 0);
        if (same_schema && strcmp(t->name, name) == 0)
            return t;
    }
    rh_scale_table *grown = realloc(s->tables, (s->ntables + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    s->tables = grown;
    rh_scale_table *t = &s->tables[s->ntables];
    memset(t, 0, sizeof *t);
    t->schema = schema ? strdup(schema) : NULL;
    t->name = strdup(name);
    if (!t->name || (schema && !t->schema)) {
        free(t->schema);
        free(t->name);
        return NULL;
    }
    t->table_bytes = t->index_bytes = t->dead_tuples = -1;
    s->ntables++;
    return t;
}

/* An integer member (JSON numbers only); -1 with an error naming where, what was expected. */
static int get_int(json_object *obj, const char *key, long long *out, const char *where, rh_err *err)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v))
        return rh_err_set(err, "%s: \"%s\" missing (expected an integer)", where, key);
    if (!json_object_is_type(v, json_type_int))
        return rh_err_set(err, "%s: \"%s\": expected an integer", where, key);
    *out = json_object_get_int64(v);
    return 0;
}

static int get_double(json_object *obj, const char *key, double *out, const char *where, rh_err *err)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v))
        return rh_err_set(err, "%s: \"%s\" missing (expected a number)", where, key);
    if (!(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
        return rh_err_set(err, "%s: \"%s\": expected a number", where, key);
    *out = json_object_get_double(v);
    return 0;
}

static const char *get_string(json_object *obj, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int load_columns(rh_scale_table *t, json_object *cols, const char *where, rh_err *err)
{
    if (!json_object_is_type(cols, json_type_array))
        return rh_err_set(err, "%s: \"columns\": expected an array", where);
    size_t n = json_object_array_length(cols);
    rh_scale_column *c = calloc(n ? n : 1, sizeof *c);
    if (!c)
        return rh_err_set(err, "%s: out of memory", where);
    for (size_t i = 0; i < n; i++) {
        json_object *col = json_object_array_get_idx(cols, i);
        char cw[640];
        snprintf(cw, sizeof cw, "%s, column %zu", where, i + 1);
        const char *name = json_object_is_type(col, json_type_object) ? get_string(col, "name") : NULL;
        long long width = 0;
        if (!name) {
            rh_err_set(err, "%s: expected an object with a \"name\" string", cw);
            goto fail;
        }
        if (get_double(col, "null_frac", &c[i].null_frac, cw, err) < 0 ||
            get_double(col, "n_distinct", &c[i].n_distinct, cw, err) < 0 ||
            get_int(col, "avg_width", &width, cw, err) < 0)
            goto fail;
        if (c[i].null_frac < 0 || c[i].null_frac > 1) {
            rh_err_set(err, "%s (%s): \"null_frac\" %g: expected 0 to 1", cw, name, c[i].null_frac);
            goto fail;
        }
        c[i].avg_width = width < 0 ? 0 : width > 1 << 30 ? 1 << 30 : (int)width;
        if (!(c[i].name = strdup(name))) {
            rh_err_set(err, "%s: out of memory", cw);
            goto fail;
        }
    }
    for (size_t i = 0; i < t->ncolumns; i++)
        free(t->columns[i].name);
    free(t->columns);
    t->columns = c;
    t->ncolumns = n;
    return 0;
fail:
    for (size_t i = 0; i < n; i++)
        free(c[i].name);
    free(c);
    return -1;
}

int rh_scale_parse(rh_scale *s, const char *json, const char *origin, rh_err *err)
{
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return rh_err_set(err, "%s: out of memory", origin);
    json_object *root = json_tokener_parse_ex(tok, json, (int)strnlen(json, 1 << 30));
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t off = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr != json_tokener_success || !root) {
        int line = 1;
        for (size_t i = 0; i < off && json[i]; i++)
            line += json[i] == '\n';
        json_object_put(root);
        return rh_err_set(err, "%s:%d: not a stats document (expected the JSON `rehearse stats` prints: %s)", origin,
                          line,
                          /* "continue": the tokenizer wants more: an empty or cut-short file */
                          jerr == json_tokener_continue || jerr == json_tokener_success ? "the file ends before the document does"
                                                                                         : json_tokener_error_desc(jerr));
    }
    int rc = -1;
    long long version = 0;
    json_object *tables;
    if (!json_object_is_type(root, json_type_object) || get_int(root, "rehearse_stats", &version, origin, err) < 0) {
        rh_err_set(err, "%s: not a stats document (expected an object with \"rehearse_stats\": %d, "
                        "the output of the query `rehearse stats` prints)", origin, RH_SCALE_STATS_VERSION);
        goto out;
    }
    if (version != RH_SCALE_STATS_VERSION) {
        rh_err_set(err, "%s: stats document version %lld; this rehearse reads version %d", origin, version,
                   RH_SCALE_STATS_VERSION);
        goto out;
    }
    json_object *num;
    if (json_object_object_get_ex(root, "server_version_num", &num)) { /* optional: production's version */
        long long v = 0;
        if (get_int(root, "server_version_num", &v, origin, err) < 0)
            goto out;
        if (v >= 100000 && v < 1000000)
            snprintf(s->server_version, sizeof s->server_version, "%lld.%lld", v / 10000, v % 10000);
        /* 9.x (90624) numbers differently: left unknown */
    }
    if (!json_object_object_get_ex(root, "tables", &tables) || !json_object_is_type(tables, json_type_array)) {
        rh_err_set(err, "%s: \"tables\": expected an array", origin);
        goto out;
    }
    for (size_t i = 0; i < json_object_array_length(tables); i++) {
        json_object *jt = json_object_array_get_idx(tables, i);
        char where[512];
        snprintf(where, sizeof where, "%s: table %zu", origin, i + 1);
        const char *schema = json_object_is_type(jt, json_type_object) ? get_string(jt, "schema") : NULL;
        const char *name = schema ? get_string(jt, "name") : NULL;
        if (!name) {
            rh_err_set(err, "%s: expected an object with \"schema\" and \"name\" strings", where);
            goto out;
        }
        snprintf(where, sizeof where, "%s: table %s.%s", origin, schema, name);
        long long rows = 0, tb = 0, ib = 0, dead = 0;   /* set by get_int; gcc -O3 cannot see it */
        json_object *cols;
        if (get_int(jt, "rows", &rows, where, err) < 0 || get_int(jt, "table_bytes", &tb, where, err) < 0 ||
            get_int(jt, "index_bytes", &ib, where, err) < 0 || get_int(jt, "dead_tuples", &dead, where, err) < 0)
            goto out;
        if (rows < 0) {
            rh_err_set(err, "%s: \"rows\" %lld: expected 0 or more", where, rows);
            goto out;
        }
        if (!json_object_object_get_ex(jt, "columns", &cols)) {
            rh_err_set(err, "%s: \"columns\": expected an array", where);
            goto out;
        }
        rh_scale_table *t = table_slot(s, schema, name);
        if (!t) {
            rh_err_set(err, "%s: out of memory", where);
            goto out;
        }
        t->rows = rows;
        t->table_bytes = tb;
        t->index_bytes = ib;
        t->dead_tuples = dead;
        if (load_columns(t, cols, where, err) < 0)
            goto out;
    }
    rc = 0;
out:
    json_object_put(root);
    return rc;
}

int rh_scale_load(rh_scale *s, const char *path, rh_err *err)
{
    char *data;
    size_t len;
    if (rh_fs_read(path, &data, &len, err) < 0)
        return rh_err_prefix(err, "--scale");
    int rc = rh_scale_parse(s, data, path, err);
    free(data);
    return rc;
}

int rh_scale_parse_count(const char *text, long long *out)
{
    if (!text || !(*text >= '0' && *text <= '9'))
        return -1;
    errno = 0;
    char *end;
    long long n = strtoll(text, &end, 10);
    long long mult = 1;
    if (*end == 'k' || *end == 'K')
        mult = 1000, end++;
    else if (*end == 'M')
        mult = 1000000, end++;
    else if (*end == 'G')
        mult = 1000000000, end++;
    if (errno || *end || end == text || n < 0 || n > (long long)4e12 / mult)
        return -1;
    *out = n * mult;
    return 0;
}

int rh_scale_add_rows(rh_scale *s, const char *arg, rh_err *err)
{
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return rh_err_set(err, "--rows '%s': expected TABLE=N or SCHEMA.TABLE=N (e.g. User=1000000 or 10M)", arg);
    long long n = 0, mult = 1;
    if (rh_scale_parse_count(eq + 1, &n) < 0)
        return rh_err_set(err, "--rows '%s': '%s' is not a row count (expected a whole number, "
                               "optionally with k, M or G; at most 4000G)", arg, eq + 1);
    char *table = strndup(arg, (size_t)(eq - arg));
    if (!table)
        return rh_err_set(err, "--rows: out of memory");
    char *dot = strchr(table, '.');
    const char *schema = NULL, *name = table;
    if (dot) {
        *dot = '\0';
        schema = table;
        name = dot + 1;
    }
    if (!*name || (schema && !*schema)) {
        free(table);
        return rh_err_set(err, "--rows '%s': expected TABLE=N or SCHEMA.TABLE=N", arg);
    }
    /* a guess without schema overrides that table of every schema the stats document holds */
    int overridden = 0;
    for (size_t i = 0; !schema && i < s->ntables; i++)
        if (strcmp(s->tables[i].name, name) == 0) {
            s->tables[i].rows = n * mult;
            overridden = 1;
        }
    rh_scale_table *t = overridden ? NULL : table_slot(s, schema, name);
    free(table);
    if (overridden)
        return 0;
    if (!t)
        return rh_err_set(err, "--rows: out of memory");
    t->rows = n * mult;
    return 0;
}

const rh_scale_table *rh_scale_find(const rh_scale *s, const char *schema, const char *name)
{
    const rh_scale_table *any = NULL;
    for (size_t i = 0; s && i < s->ntables; i++) {
        const rh_scale_table *t = &s->tables[i];
        if (strcmp(t->name, name) != 0)
            continue;
        /* a guess for TABLE in any schema, or the exact schema, wins over a table of another schema */
        if (!t->schema || !schema || strcmp(t->schema, schema) == 0) {
            if (!t->schema && !any)
                any = t;
            else if (t->schema)
                return t;
        }
    }
    return any;
}

void rh_scale_free(rh_scale *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ntables; i++) {
        for (size_t j = 0; j < s->tables[i].ncolumns; j++)
            free(s->tables[i].columns[j].name);
        free(s->tables[i].columns);
        free(s->tables[i].schema);
        free(s->tables[i].name);
    }
    free(s->tables);
    s->tables = NULL;
    s->ntables = 0;
}
