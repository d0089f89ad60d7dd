/*
 * sqlparser_model.c — what sqlparser 0.61's PostgreSQL dialect accepts, on libpg_query's parse
 * tree (see sqlparser_model.h). Each rule below was read off the real sqlparser 0.61.1 (npm
 * @guanmingchiu/sqlparser-ts, the build the Prisma 7 oracle uses) over the generated corpus of
 * tests/conformance/sqlparser/corpus.mjs; the conformance test keeps them honest.
 *
 * A rule returns NULL when sqlparser accepts the statement, else a short reason naming the
 * construct ("DO blocks"). The parse tree drops a few surface forms that sqlparser cares about
 * (VACUUM's parentheses, `WITH` before CREATE EXTENSION's options, a trigger function's literal
 * arguments); those rules look at the statement's tokens.
 */
#include "tools/prisma/sqlparser_model.h"

#include <ctype.h>
#include <json-c/json.h>
#include <pg_query.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "migrations/split.h"
#include "util/buf.h"

/* ---- the statement's tokens ------------------------------------------------------------------ */

typedef enum tok_kind { T_WORD, T_STRING, T_DOLLAR, T_QIDENT, T_NUMBER, T_PUNCT } tok_kind;

typedef struct tok {
    tok_kind kind;
    const char *s;
    size_t n;
} tok;

typedef struct toks {
    tok *v;
    size_t n, cap;
} toks;

static void tok_push(toks *t, tok_kind k, const char *s, size_t n)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = rh_xrealloc(t->v, t->cap * sizeof *t->v);
    }
    t->v[t->n++] = (tok){k, s, n};
}

/* A lexer with PostgreSQL's rules for what matters here: words, quotes, dollar quotes, comments. */
static void tokenize(toks *t, const char *s, size_t len)
{
    const char *p = s, *end = s + len;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (isspace(c)) {
            p++;
        } else if (c == '-' && p + 1 < end && p[1] == '-') {
            while (p < end && *p != '\n')
                p++;
        } else if (c == '/' && p + 1 < end && p[1] == '*') {
            int depth = 0;
            do {
                if (p + 1 < end && p[0] == '/' && p[1] == '*') {
                    depth++;
                    p += 2;
                } else if (p + 1 < end && p[0] == '*' && p[1] == '/') {
                    depth--;
                    p += 2;
                } else {
                    p++;
                }
            } while (p < end && depth > 0);
        } else if (c == '\'' || ((c == 'E' || c == 'e' || c == 'B' || c == 'b' || c == 'X' || c == 'x' || c == 'N' ||
                                  c == 'n') && p + 1 < end && p[1] == '\'') ||
                   ((c == 'U' || c == 'u') && p + 2 < end && p[1] == '&' && p[2] == '\'')) {
            const char *a = p;
            int esc = (c == 'E' || c == 'e');
            while (*p != '\'')
                p++;
            p++;
            while (p < end) {
                if (esc && *p == '\\' && p + 1 < end) {
                    p += 2;
                } else if (*p == '\'') {
                    if (p + 1 < end && p[1] == '\'') {
                        p += 2;
                    } else {
                        p++;
                        break;
                    }
                } else {
                    p++;
                }
            }
            tok_push(t, T_STRING, a, (size_t)(p - a));
        } else if (c == '"') {
            const char *a = p++;
            while (p < end) {
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                p++;
            }
            tok_push(t, T_QIDENT, a, (size_t)(p - a));
        } else if (c == '$' && p + 1 < end && (p[1] == '$' || isalpha((unsigned char)p[1]) || p[1] == '_')) {
            const char *a = p, *q = p + 1;
            while (q < end && (isalnum((unsigned char)*q) || *q == '_'))
                q++;
            if (q < end && *q == '$') {
                size_t taglen = (size_t)(q + 1 - a);
                const char *body = q + 1, *close = NULL;
                for (const char *r = body; r + taglen <= end; r++)
                    if (memcmp(r, a, taglen) == 0) {
                        close = r;
                        break;
                    }
                p = close ? close + taglen : end;
                tok_push(t, T_DOLLAR, a, (size_t)(p - a));
            } else {
                tok_push(t, T_PUNCT, p, 1);
                p++;
            }
        } else if (isalpha(c) || c == '_' || c >= 0x80) {
            const char *a = p;
            while (p < end && (isalnum((unsigned char)*p) || *p == '_' || *p == '$' || (unsigned char)*p >= 0x80))
                p++;
            tok_push(t, T_WORD, a, (size_t)(p - a));
        } else if (isdigit(c) || (c == '.' && p + 1 < end && isdigit((unsigned char)p[1]))) {
            const char *a = p;
            while (p < end && (isalnum((unsigned char)*p) || *p == '.'))
                p++;
            tok_push(t, T_NUMBER, a, (size_t)(p - a));
        } else {
            tok_push(t, T_PUNCT, p, 1);
            p++;
        }
    }
}

static int is_word(const tok *k, const char *w)
{
    return k->kind == T_WORD && strlen(w) == k->n && strncasecmp(k->s, w, k->n) == 0;
}

static int is_punct(const tok *k, char c)
{
    return k->kind == T_PUNCT && k->s[0] == c;
}

/* Index of the first word w at or after from, or -1. */
static long find_word(const toks *t, size_t from, const char *w)
{
    for (size_t i = from; i < t->n; i++)
        if (is_word(&t->v[i], w))
            return (long)i;
    return -1;
}

/* ---- the parse tree ---------------------------------------------------------------------------- */

static json_object *jget(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v))
        return v;
    return NULL;
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int jis(json_object *o, const char *key, const char *value)
{
    const char *s = jstr(o, key);
    return s && strcmp(s, value) == 0;
}

/* Whether s is one of the n names of list (NULL is in no list): the allowed-lists of the rules below. */
static int in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}
#define IN_LIST(s, array) in_list((s), (array), sizeof(array) / sizeof *(array))

static int jtrue(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    return v && json_object_get_boolean(v);
}

static size_t jlen(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    return v && json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
}

static json_object *jat(json_object *o, const char *key, size_t i)
{
    return json_object_array_get_idx(jget(o, key), i);
}

/* The single key of a node wrapper {"Type": {...}}: its type name, and *body its fields. */
static const char *node_type(json_object *node, json_object **body)
{
    *body = NULL;
    if (!node || !json_object_is_type(node, json_type_object))
        return "";
    json_object_object_foreach(node, k, v) {
        *body = v;
        return k;
    }
    return "";
}

/* The DefElem names of a list of options, each checked against a set. */
static const char *defname_at(json_object *o, const char *key, size_t i)
{
    json_object *body;
    node_type(jat(o, key, i), &body);
    return jstr(body, "defname");
}

static int has_defname(json_object *o, const char *key, const char *name)
{
    for (size_t i = 0; i < jlen(o, key); i++) {
        const char *d = defname_at(o, key, i);
        if (d && strcmp(d, name) == 0)
            return 1;
    }
    return 0;
}

/* Expressions sqlparser has no grammar for, anywhere in a statement. */
static const char *walk_exprs(json_object *o)
{
    if (!o)
        return NULL;
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            const char *r = walk_exprs(json_object_array_get_idx(o, i));
            if (r)
                return r;
        }
        return NULL;
    }
    if (!json_object_is_type(o, json_type_object))
        return NULL;
    json_object_object_foreach(o, k, v) {
        if (strcmp(k, "XmlExpr") == 0 || strcmp(k, "XmlSerialize") == 0)
            return "XML expressions";
        if (strcmp(k, "CurrentOfExpr") == 0)
            return "WHERE CURRENT OF";
        if (strcmp(k, "SortBy") == 0 && jget(v, "useOp"))
            return "ORDER BY ... USING";
        if (strcmp(k, "LockingClause") == 0 &&
            (jis(v, "strength", "LCS_FORNOKEYUPDATE") || jis(v, "strength", "LCS_FORKEYSHARE")))
            return "FOR NO KEY UPDATE / FOR KEY SHARE";
        const char *r = walk_exprs(v);
        if (r)
            return r;
    }
    return NULL;
}

/* ---- rules, one per statement type -------------------------------------------------------------- */

typedef struct stmt_ctx {
    json_object *n;     /* the statement's fields */
    const toks *t;      /* its tokens */
} stmt_ctx;

/* CREATE SEQUENCE / identity options: sqlparser reads them in one fixed order. */
static const char *seq_options(json_object *o, const char *key)
{
    static const char *const order[] = {"as", "increment", "minvalue", "maxvalue", "start", "cache", "cycle", "owned_by"};
    int last = -1;
    for (size_t i = 0; i < jlen(o, key); i++) {
        const char *d = defname_at(o, key, i);
        int at = -1;
        for (int j = 0; d && j < (int)(sizeof order / sizeof *order); j++)
            if (strcmp(d, order[j]) == 0)
                at = j;
        if (at < 0)
            return "sequence options other than AS, INCREMENT, MINVALUE, MAXVALUE, START, CACHE, CYCLE, OWNED BY";
        if (at <= last)
            return "sequence options out of the order INCREMENT, MINVALUE, MAXVALUE, START, CACHE, CYCLE";
        last = at;
    }
    return NULL;
}

/* A constraint in CREATE TABLE or ALTER TABLE ADD. in_table: inside CREATE TABLE's list. */
static const char *constraint(json_object *c, int in_table)
{
    const char *ct = jstr(c, "contype");
    if (!ct)
        return NULL;
    if (strcmp(ct, "CONSTR_EXCLUSION") == 0)
        return "EXCLUDE constraints";
    if (jtrue(c, "is_no_inherit"))
        return "NO INHERIT";
    if (jstr(c, "indexname"))
        return "constraints USING INDEX";
    if (jlen(c, "including"))
        return "INCLUDE in a key constraint";
    if (jlen(c, "options"))
        return "WITH (...) on a key constraint";
    if (jstr(c, "indexspace"))
        return "USING INDEX TABLESPACE";
    if (in_table && jtrue(c, "skip_validation"))
        return "NOT VALID inside CREATE TABLE";
    if (strcmp(ct, "CONSTR_IDENTITY") == 0)
        return seq_options(c, "options");
    return NULL;
}

static const char *column_def(json_object *cd, int in_table)
{
    if (jstr(cd, "compression"))
        return "COMPRESSION on a column";
    if (jstr(cd, "storage"))
        return "STORAGE on a column";
    for (size_t i = 0; i < jlen(cd, "constraints"); i++) {
        json_object *body;
        node_type(jat(cd, "constraints", i), &body);
        if (!jget(cd, "typeName") && jis(body, "contype", "CONSTR_DEFAULT"))
            return "DEFAULT on a column of PARTITION OF";
        const char *r = constraint(body, in_table);
        if (r)
            return r;
    }
    return NULL;
}

static const char *rel_options(json_object *o, const char *key)
{
    json_object *list;
    if (strcmp(node_type(jget(o, key), &list), "List") == 0) { /* ALTER TABLE ... SET (...) */
        o = list;
        key = "items";
    }
    for (size_t i = 0; i < jlen(o, key); i++) {
        json_object *body;
        node_type(jat(o, key, i), &body);
        if (jstr(body, "defnamespace"))
            return "storage parameters with a namespace (toast.x)";
    }
    return NULL;
}

static const char *r_create(stmt_ctx *c)
{
    json_object *n = c->n;
    json_object *rel = jget(n, "relation");
    if (jis(rel, "relpersistence", "u"))
        return "CREATE UNLOGGED TABLE";
    if (jstr(n, "accessMethod"))
        return "CREATE TABLE ... USING";
    if (jget(n, "ofTypename"))
        return "CREATE TABLE ... OF type";
    if (jget(n, "partspec") && jlen(n, "options"))
        return "WITH (...) after PARTITION BY";
    const char *r = rel_options(n, "options");
    if (r)
        return r;
    for (size_t i = 0; i < jlen(n, "tableElts"); i++) {
        json_object *body;
        const char *ty = node_type(jat(n, "tableElts", i), &body);
        if (strcmp(ty, "TableLikeClause") == 0 && json_object_get_int(jget(body, "options")) != 0)
            return "LIKE ... INCLUDING";
        if (strcmp(ty, "ColumnDef") == 0 && (r = column_def(body, 1)))
            return r;
        if (strcmp(ty, "Constraint") == 0 && (r = constraint(body, 1)))
            return r;
    }
    return NULL;
}

static const char *r_index(stmt_ctx *c)
{
    json_object *rel = jget(c->n, "relation");
    if (!jtrue(rel, "inh"))
        return "CREATE INDEX ... ON ONLY";
    if (jstr(c->n, "tableSpace"))
        return "CREATE INDEX ... TABLESPACE";
    for (size_t i = 0; i < jlen(c->n, "indexParams"); i++) {
        json_object *body;
        node_type(jat(c->n, "indexParams", i), &body);
        if (jlen(body, "opclassopts"))
            return "operator class parameters (opclass(x = y))";
    }
    return NULL;
}

static const char *r_alter_table(stmt_ctx *c)
{
    json_object *n = c->n;
    const char *obj = jstr(n, "objtype");
    for (size_t i = 2; i < c->t->n && i < 8; i++) /* ALTER TABLE name * (descendants, the old spelling) */
        if (is_punct(&c->t->v[i], '*'))
            return "ALTER TABLE name *";
    if (obj && strcmp(obj, "OBJECT_TABLE") != 0) {
        if (strcmp(obj, "OBJECT_INDEX") == 0)
            return "ALTER INDEX other than RENAME";
        if (strcmp(obj, "OBJECT_VIEW") == 0)
            return "ALTER VIEW other than AS";
        if (strcmp(obj, "OBJECT_MATVIEW") == 0)
            return "ALTER MATERIALIZED VIEW";
        if (strcmp(obj, "OBJECT_SEQUENCE") == 0)
            return "ALTER SEQUENCE";
        if (strcmp(obj, "OBJECT_TYPE") == 0)
            return "ALTER TYPE ... ATTRIBUTE";
        return "ALTER of this object type";
    }
    static const char *const ok[] = {"AT_AddColumn", "AT_DropColumn", "AT_SetNotNull", "AT_DropNotNull", "AT_ColumnDefault",
        "AT_AlterColumnType", "AT_AddConstraint", "AT_ValidateConstraint", "AT_DropConstraint", "AT_EnableRowSecurity",
        "AT_DisableRowSecurity", "AT_ForceRowSecurity", "AT_NoForceRowSecurity", "AT_EnableTrig", "AT_EnableAlwaysTrig",
        "AT_EnableReplicaTrig", "AT_EnableTrigAll", "AT_EnableTrigUser", "AT_DisableTrig", "AT_DisableTrigAll",
        "AT_DisableTrigUser", "AT_EnableRule", "AT_EnableAlwaysRule", "AT_EnableReplicaRule", "AT_DisableRule",
        "AT_ReplicaIdentity", "AT_ChangeOwner", "AT_SetRelOptions", "AT_AddIdentity"};
    for (size_t i = 0; i < jlen(n, "cmds"); i++) {
        json_object *cmd;
        node_type(jat(n, "cmds", i), &cmd);
        const char *st = jstr(cmd, "subtype");
        if (!IN_LIST(st, ok)) {
            static char why[96];
            snprintf(why, sizeof why, "ALTER TABLE %s", st ? st + 3 : "?");
            return why;
        }
        json_object *def_body;
        const char *dt = node_type(jget(cmd, "def"), &def_body);
        const char *r = NULL;
        if (strcmp(st, "AT_AlterColumnType") == 0 && jget(def_body, "collClause"))
            return "ALTER COLUMN ... TYPE ... COLLATE";
        if (strcmp(st, "AT_AddColumn") == 0 && (r = column_def(def_body, 0)))
            return r;
        if (strcmp(st, "AT_AddConstraint") == 0 && strcmp(dt, "Constraint") == 0 && (r = constraint(def_body, 0)))
            return r;
        if (strcmp(st, "AT_SetRelOptions") == 0 && (r = rel_options(cmd, "def")))
            return r;
        if (strcmp(st, "AT_AddIdentity") == 0 && strcmp(dt, "Constraint") == 0 && (r = seq_options(def_body, "options")))
            return r;
    }
    return NULL;
}

/* sqlparser's lexer cuts an operator name holding "===" in two. */
static const char *operator_name(const toks *t)
{
    for (size_t i = 0; i + 2 < t->n; i++)
        if (is_punct(&t->v[i], '=') && is_punct(&t->v[i + 1], '=') && is_punct(&t->v[i + 2], '=') &&
            t->v[i + 2].s == t->v[i].s + 2)
            return "operator names holding ===";
    return NULL;
}

static const char *r_drop(stmt_ctx *c)
{
    const char *ty = jstr(c->n, "removeType");
    if (!ty)
        return "DROP of this object type";
    if (strcmp(ty, "OBJECT_INDEX") == 0 && jtrue(c->n, "concurrent"))
        return "DROP INDEX CONCURRENTLY";
    static const char *const ok[] = {"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_INDEX", "OBJECT_SCHEMA",
        "OBJECT_SEQUENCE", "OBJECT_TYPE", "OBJECT_DOMAIN", "OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_EXTENSION",
        "OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_OPERATOR"};
    if (strcmp(ty, "OBJECT_OPERATOR") == 0)
        return operator_name(c->t);
    if (IN_LIST(ty, ok))
        return NULL;
    static char why[96];
    snprintf(why, sizeof why, "DROP %s", ty + 7);
    return why;
}

static const char *r_function(stmt_ctx *c)
{
    json_object *n = c->n;
    if (jtrue(n, "is_procedure"))
        return "CREATE PROCEDURE";
    int returns_table = 0;
    for (size_t i = 0; i < jlen(n, "parameters"); i++) {
        json_object *p;
        node_type(jat(n, "parameters", i), &p);
        returns_table |= jis(p, "mode", "FUNC_PARAM_TABLE");
        if (jis(p, "mode", "FUNC_PARAM_VARIADIC"))
            return "VARIADIC parameters";
        if (jtrue(jget(p, "argType"), "pct_type"))
            return "%TYPE parameters";
    }
    if (jtrue(jget(n, "returnType"), "setof") && !returns_table) /* RETURNS TABLE is a SETOF in the tree */
        return "RETURNS SETOF";
    static const char *const bad[] = {"cost", "rows", "support", "leakproof", "window", "transform"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (has_defname(n, "options", bad[i])) {
            static char why[64];
            snprintf(why, sizeof why, "function option %s", bad[i]);
            for (char *q = why; *q; q++)
                *q = (char)toupper((unsigned char)*q);
            return why;
        }
    json_object *body = jget(n, "sql_body"), *list;
    if (body && strcmp(node_type(body, &list), "List") == 0)
        return "BEGIN ATOMIC bodies";
    if (find_word(c->t, 0, "EXTERNAL") >= 0 && find_word(c->t, 0, "SECURITY") >= 0)
        return "EXTERNAL SECURITY";
    return NULL;
}

static const char *r_trigger(stmt_ctx *c)
{
    if (jlen(c->n, "args") == 0)
        return NULL;
    /* sqlparser reads the arguments as type names: a literal fails. */
    long e = find_word(c->t, 0, "EXECUTE");
    for (size_t i = e < 0 ? c->t->n : (size_t)e; i < c->t->n; i++)
        if (is_punct(&c->t->v[i], '(')) {
            for (size_t j = i + 1; j < c->t->n; j++) {
                const tok *k = &c->t->v[j];
                if (k->kind == T_STRING || k->kind == T_NUMBER || is_punct(k, '-'))
                    return "literal arguments to a trigger function";
            }
            break;
        }
    return NULL;
}

static const char *r_grant(stmt_ctx *c)
{
    json_object *n = c->n;
    if (!jtrue(n, "is_grant") && jtrue(n, "grant_option"))
        return "REVOKE GRANT OPTION FOR";
    const char *ty = jstr(n, "objtype");
    if (!ty)
        return NULL;
    int all = jis(n, "targtype", "ACL_TARGET_ALL_IN_SCHEMA");
    static const char *const ok[] = {"OBJECT_TABLE", "OBJECT_SEQUENCE", "OBJECT_FUNCTION", "OBJECT_SCHEMA", "OBJECT_DATABASE",
        "OBJECT_PROCEDURE"};
    if (IN_LIST(ty, ok) && !(all && strcmp(ty, "OBJECT_PROCEDURE") == 0))
        return NULL;
    static char why[96];
    snprintf(why, sizeof why, "GRANT ON %s%s", all ? "ALL " : "", ty + 7);
    return why;
}

static const char *r_comment(stmt_ctx *c)
{
    const char *ty = jstr(c->n, "objtype");
    static const char *const ok[] = {"OBJECT_TABLE", "OBJECT_COLUMN", "OBJECT_SCHEMA", "OBJECT_EXTENSION", "OBJECT_ROLE",
        "OBJECT_DATABASE"};
    if (!IN_LIST(ty, ok)) {
        static char why[96];
        snprintf(why, sizeof why, "COMMENT ON %s", ty ? ty + 7 : "?");
        return why;
    }
    /* IS takes one plain string literal or NULL ($$...$$ and 'a' 'b' fail). */
    long is = -1;
    for (long i = (long)c->t->n - 1; i >= 0; i--)
        if (is_word(&c->t->v[i], "IS")) {
            is = i;
            break;
        }
    if (is >= 0) {
        size_t rest = c->t->n - (size_t)is - 1;
        const tok *v = rest ? &c->t->v[is + 1] : NULL;
        if (rest > 0 && is_punct(&c->t->v[c->t->n - 1], ';'))
            rest--;
        if (rest != 1 || !(v->kind == T_STRING || is_word(v, "NULL")))
            return "COMMENT ... IS other than one string literal";
    }
    return NULL;
}

static const char *r_extension(stmt_ctx *c)
{
    for (size_t i = 1; i < c->t->n && i < 5; i++) /* PostgreSQL 15 parses CREATE LANGUAGE as an extension */
        if (is_word(&c->t->v[i], "LANGUAGE"))
            return "CREATE LANGUAGE";
    if (jlen(c->n, "options") && find_word(c->t, 0, "WITH") < 0)
        return "CREATE EXTENSION options without WITH";
    return NULL;
}

static const char *r_vacuum(stmt_ctx *c)
{
    json_object *n = c->n;
    int vacuum = jtrue(n, "is_vacuumcmd");
    for (size_t i = 0; i < c->t->n; i++)
        if (is_punct(&c->t->v[i], '(')) {
            if (vacuum || i < 2 || find_word(c->t, 0, "VERBOSE") >= 0)
                return vacuum ? "VACUUM with options in parentheses or a column list" : "ANALYZE (options)";
            break;
        }
    if (jlen(n, "rels") > 1)
        return vacuum ? "VACUUM of several tables" : "ANALYZE of several tables";
    if (jlen(n, "rels") == 1) {
        for (size_t i = 0; i < jlen(n, "options"); i++) {
            const char *d = defname_at(n, "options", i);
            if (!vacuum || !d || strcmp(d, "full") != 0)
                return vacuum ? "VACUUM options other than FULL before a table" : "ANALYZE VERBOSE";
            if (jlen(n, "options") > 1)
                return "VACUUM options other than FULL before a table";
        }
    }
    return NULL;
}

static const char *r_transaction(stmt_ctx *c)
{
    const char *k = jstr(c->n, "kind");
    if (k && (strcmp(k, "TRANS_STMT_PREPARE") == 0 || strcmp(k, "TRANS_STMT_COMMIT_PREPARED") == 0 ||
              strcmp(k, "TRANS_STMT_ROLLBACK_PREPARED") == 0))
        return "two-phase commit";
    if (c->t->n && is_word(&c->t->v[0], "ABORT"))
        return "ABORT";
    return NULL;
}

static const char *r_set(stmt_ctx *c)
{
    for (size_t i = 1; i < c->t->n && i < 3; i++)
        if (is_word(&c->t->v[i], "SCHEMA"))
            return "SET SCHEMA";
    return NULL;
}

static const char *r_create_role(stmt_ctx *c)
{
    const char *k = jstr(c->n, "stmt_type");
    if (k && strcmp(k, "ROLESTMT_GROUP") == 0)
        return "CREATE GROUP";
    if (k && strcmp(k, "ROLESTMT_USER") == 0 && jlen(c->n, "options"))
        return "CREATE USER with options";
    return NULL;
}

static const char *r_alter_role(stmt_ctx *c)
{
    /* ALTER USER name: sqlparser reads only WITH ..., PASSWORD, SET, RESET, RENAME after it. */
    if (c->t->n >= 4 && is_word(&c->t->v[1], "USER")) {
        const tok *k = &c->t->v[3];
        if (!(is_word(k, "WITH") || is_word(k, "PASSWORD") || is_word(k, "SET") || is_word(k, "RESET") ||
              is_word(k, "RENAME")))
            return "ALTER USER options";
        if (is_word(k, "WITH") && c->t->n >= 5 && !is_word(&c->t->v[4], "PASSWORD"))
            return "ALTER USER WITH options other than PASSWORD";
    }
    return NULL;
}

static const char *r_view(stmt_ctx *c)
{
    const char *w = jstr(c->n, "withCheckOption");
    if (w && strcmp(w, "NO_CHECK_OPTION") != 0)
        return "WITH CHECK OPTION";
    for (size_t i = 1; i < c->t->n && i < 5; i++)
        if (is_word(&c->t->v[i], "RECURSIVE"))
            return "CREATE RECURSIVE VIEW";
    return NULL;
}

static const char *r_ctas(stmt_ctx *c)
{
    json_object *into = jget(c->n, "into");
    if (!jis(c->n, "objtype", "OBJECT_MATVIEW"))
        return NULL;
    if (jstr(into, "accessMethod"))
        return "CREATE MATERIALIZED VIEW ... USING";
    if (jstr(into, "tableSpaceName"))
        return "CREATE MATERIALIZED VIEW ... TABLESPACE";
    size_t n = c->t->n;
    while (n > 0 && is_punct(&c->t->v[n - 1], ';'))
        n--;
    if (n >= 2 && is_word(&c->t->v[n - 1], "DATA") &&
        (is_word(&c->t->v[n - 2], "WITH") || is_word(&c->t->v[n - 2], "NO")))
        return "CREATE MATERIALIZED VIEW ... WITH [NO] DATA";
    return NULL;
}

static const char *r_domain(stmt_ctx *c)
{
    if (c->t->n >= 4 && !is_word(&c->t->v[3], "AS"))
        return "CREATE DOMAIN without AS";
    const char *prev = NULL;
    for (size_t i = 0; i < jlen(c->n, "constraints"); i++) {
        json_object *b;
        node_type(jat(c->n, "constraints", i), &b);
        const char *ct = jstr(b, "contype");
        if (ct && (strcmp(ct, "CONSTR_NOTNULL") == 0 || strcmp(ct, "CONSTR_NULL") == 0) &&
            !(prev && strcmp(prev, "CONSTR_DEFAULT") == 0))
            return "NOT NULL / NULL in CREATE DOMAIN";
        prev = ct;
    }
    return NULL;
}

static const char *r_rename(stmt_ctx *c)
{
    const char *ty = jstr(c->n, "renameType");
    if (!ty)
        return "RENAME";
    if (strcmp(ty, "OBJECT_INDEX") == 0)
        return jtrue(c->n, "missing_ok") ? "ALTER INDEX IF EXISTS" : NULL;
    static const char *const ok[] = {"OBJECT_TABLE", "OBJECT_COLUMN", "OBJECT_TABCONSTRAINT", "OBJECT_TYPE", "OBJECT_POLICY",
        "OBJECT_SCHEMA", "OBJECT_ROLE"};
    const char *rel = jstr(c->n, "relationType");
    if (IN_LIST(ty, ok) && !(strcmp(ty, "OBJECT_COLUMN") == 0 && rel && strcmp(rel, "OBJECT_TABLE") != 0))
        return NULL;
    static char why[96];
    snprintf(why, sizeof why, "RENAME of %s", ty + 7);
    return why;
}

static const char *r_owner(stmt_ctx *c)
{
    return jis(c->n, "objectType", "OBJECT_SCHEMA") ? NULL : "ALTER ... OWNER TO";
}

static const char *r_define(stmt_ctx *c)
{
    const char *k = jstr(c->n, "kind");
    if (k && strcmp(k, "OBJECT_OPERATOR") == 0)
        return operator_name(c->t);
    if (k && strcmp(k, "OBJECT_TYPE") == 0)
        return NULL;
    static char why[96];
    snprintf(why, sizeof why, "CREATE %s", k ? k + 7 : "?");
    return why;
}

/* Where the data of a `COPY ... FROM STDIN;` starts (just after its ';'), or NULL. sqlparser reads
   everything after it as the COPY's data, up to a line "\." that must end the file. */
static const char *copy_data_start(const toks *t)
{
    size_t stmt_start = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!is_punct(&t->v[i], ';'))
            continue;
        if (i >= 2 && is_word(&t->v[stmt_start], "COPY") && is_word(&t->v[i - 1], "STDIN") && is_word(&t->v[i - 2], "FROM"))
            return t->v[i].s + 1;
        if (i >= 2 && is_word(&t->v[stmt_start], "COPY")) { /* FROM STDIN with options after it */
            long from = find_word(t, stmt_start, "FROM");
            if (from >= 0 && (size_t)from + 1 < i && is_word(&t->v[from + 1], "STDIN"))
                return t->v[i].s + 1;
        }
        stmt_start = i + 1;
    }
    return NULL;
}

static _Thread_local int copy_data_follows; /* set while judging the part of a file before COPY data */

static const char *r_copy(stmt_ctx *c)
{
    if (jtrue(c->n, "is_from") && !jstr(c->n, "filename") && !jtrue(c->n, "is_program") && !copy_data_follows)
        return "COPY ... FROM STDIN (sqlparser expects the data after it)";
    if (jget(c->n, "whereClause"))
        return "COPY ... WHERE";
    return NULL;
}

static const char *r_insert(stmt_ctx *c)
{
    return jstr(c->n, "override") && !jis(c->n, "override", "OVERRIDING_NOT_SET") ? "INSERT ... OVERRIDING" : NULL;
}

static const char *r_select(stmt_ctx *c)
{
    return c->t->n && is_word(&c->t->v[0], "TABLE") ? "TABLE name" : NULL;
}

static const char *r_fetch(stmt_ctx *c)
{
    return jtrue(c->n, "ismove") ? "MOVE" : NULL;
}

static const char *r_schema(stmt_ctx *c)
{
    return jlen(c->n, "schemaElts") ? "CREATE SCHEMA with elements" : NULL;
}

static const char *r_seq(stmt_ctx *c)
{
    return seq_options(c->n, "options");
}

static const char *r_dropdb(stmt_ctx *c)
{
    return jlen(c->n, "options") ? "DROP DATABASE ... WITH (...)" : NULL;
}

static const char *r_accept(stmt_ctx *c)
{
    return NULL;
}

typedef struct rule {
    const char *node;
    const char *(*fn)(stmt_ctx *);
    const char *reject;   /* when fn is NULL: always rejected, for this reason */
} rule;

static const rule rules[] = {
    {"CreateStmt", r_create, NULL},
    {"IndexStmt", r_index, NULL},
    {"AlterTableStmt", r_alter_table, NULL},
    {"DropStmt", r_drop, NULL},
    {"RenameStmt", r_rename, NULL},
    {"AlterOwnerStmt", r_owner, NULL},
    {"CreateFunctionStmt", r_function, NULL},
    {"CreateTrigStmt", r_trigger, NULL},
    {"GrantStmt", r_grant, NULL},
    {"CommentStmt", r_comment, NULL},
    {"CreateExtensionStmt", r_extension, NULL},
    {"VacuumStmt", r_vacuum, NULL},
    {"TransactionStmt", r_transaction, NULL},
    {"VariableSetStmt", r_set, NULL},
    {"CreateRoleStmt", r_create_role, NULL},
    {"AlterRoleStmt", r_alter_role, NULL},
    {"ViewStmt", r_view, NULL},
    {"CreateTableAsStmt", r_ctas, NULL},
    {"CreateDomainStmt", r_domain, NULL},
    {"DefineStmt", r_define, NULL},
    {"CopyStmt", r_copy, NULL},
    {"InsertStmt", r_insert, NULL},
    {"SelectStmt", r_select, NULL},
    {"FetchStmt", r_fetch, NULL},
    {"CreateSchemaStmt", r_schema, NULL},
    {"CreateSeqStmt", r_seq, NULL},
    {"DropdbStmt", r_dropdb, NULL},
    /* accepted as PostgreSQL writes them */
    {"CreateEnumStmt", r_accept, NULL},
    {"AlterEnumStmt", r_accept, NULL},
    {"CompositeTypeStmt", r_accept, NULL},
    {"CreateRangeStmt", r_accept, NULL},
    {"CreatePolicyStmt", r_accept, NULL},
    {"AlterPolicyStmt", r_accept, NULL},
    {"UpdateStmt", r_accept, NULL},
    {"DeleteStmt", r_accept, NULL},
    {"MergeStmt", r_accept, NULL},
    {"CallStmt", r_accept, NULL},
    {"TruncateStmt", r_accept, NULL},
    {"DiscardStmt", r_accept, NULL},
    {"LoadStmt", r_accept, NULL},
    {"NotifyStmt", r_accept, NULL},
    {"ListenStmt", r_accept, NULL},
    {"UnlistenStmt", r_accept, NULL},
    {"ExplainStmt", r_accept, NULL},
    {"PrepareStmt", r_accept, NULL},
    {"ExecuteStmt", r_accept, NULL},
    {"DeallocateStmt", r_accept, NULL},
    {"DeclareCursorStmt", r_accept, NULL},
    {"ClosePortalStmt", r_accept, NULL},
    {"VariableShowStmt", r_accept, NULL},
    {"DropRoleStmt", r_accept, NULL},
    {"AlterRoleSetStmt", r_accept, NULL},
    {"CreatedbStmt", r_accept, NULL},
    {"CreateForeignServerStmt", r_accept, NULL},
    {"CreateOpClassStmt", r_accept, NULL},
    /* no grammar in sqlparser 0.61 */
    {"DoStmt", NULL, "DO blocks"},
    {"ReindexStmt", NULL, "REINDEX"},
    {"RefreshMatViewStmt", NULL, "REFRESH MATERIALIZED VIEW"},
    {"ClusterStmt", NULL, "CLUSTER"},
    {"CheckPointStmt", NULL, "CHECKPOINT"},
    {"LockStmt", NULL, "LOCK"},
    {"AlterFunctionStmt", NULL, "ALTER FUNCTION / PROCEDURE"},
    {"AlterObjectSchemaStmt", NULL, "ALTER ... SET SCHEMA"},
    {"AlterSeqStmt", NULL, "ALTER SEQUENCE"},
    {"AlterDomainStmt", NULL, "ALTER DOMAIN"},
    {"AlterExtensionStmt", NULL, "ALTER EXTENSION"},
    {"AlterExtensionContentsStmt", NULL, "ALTER EXTENSION"},
    {"AlterDatabaseStmt", NULL, "ALTER DATABASE"},
    {"AlterDatabaseSetStmt", NULL, "ALTER DATABASE ... SET"},
    {"AlterSystemStmt", NULL, "ALTER SYSTEM"},
    {"AlterDefaultPrivilegesStmt", NULL, "ALTER DEFAULT PRIVILEGES"},
    {"GrantRoleStmt", NULL, "GRANT / REVOKE of a role"},
    {"ReassignOwnedStmt", NULL, "REASSIGN OWNED"},
    {"DropOwnedStmt", NULL, "DROP OWNED"},
    {"ConstraintsSetStmt", NULL, "SET CONSTRAINTS"},
    {"CreateEventTrigStmt", NULL, "CREATE EVENT TRIGGER"},
    {"RuleStmt", NULL, "CREATE RULE"},
    {"CreateCastStmt", NULL, "CREATE CAST"},
    {"CreateStatsStmt", NULL, "CREATE STATISTICS"},
    {"AlterStatsStmt", NULL, "ALTER STATISTICS"},
    {"CreatePublicationStmt", NULL, "CREATE PUBLICATION"},
    {"AlterPublicationStmt", NULL, "ALTER PUBLICATION"},
    {"CreateSubscriptionStmt", NULL, "CREATE SUBSCRIPTION"},
    {"DropSubscriptionStmt", NULL, "DROP SUBSCRIPTION"},
    {"CreateForeignTableStmt", NULL, "CREATE FOREIGN TABLE"},
    {"ImportForeignSchemaStmt", NULL, "IMPORT FOREIGN SCHEMA"},
    {"CreateFdwStmt", NULL, "CREATE FOREIGN DATA WRAPPER"},
    {"CreateUserMappingStmt", NULL, "CREATE USER MAPPING"},
    {"CreateTableSpaceStmt", NULL, "CREATE TABLESPACE"},
    {"DropTableSpaceStmt", NULL, "DROP TABLESPACE"},
    {"AlterTableSpaceOptionsStmt", NULL, "ALTER TABLESPACE"},
    {"AlterTableMoveAllStmt", NULL, "ALTER TABLE ALL IN TABLESPACE"},
    {"CreateConversionStmt", NULL, "CREATE CONVERSION"},
    {"CreateAmStmt", NULL, "CREATE ACCESS METHOD"},
    {"CreateTransformStmt", NULL, "CREATE TRANSFORM"},
    {"CreatePLangStmt", NULL, "CREATE LANGUAGE"},
    {"SecLabelStmt", NULL, "SECURITY LABEL"},
    {"AlterTSConfigurationStmt", NULL, "ALTER TEXT SEARCH CONFIGURATION"},
    {"AlterTSDictionaryStmt", NULL, "ALTER TEXT SEARCH DICTIONARY"},
    {"AlterCollationStmt", NULL, "ALTER COLLATION"},
    {"AlterEventTrigStmt", NULL, "ALTER EVENT TRIGGER"},
};

/* NULL when sqlparser accepts the statement. */
static const char *judge(const char *type, json_object *body, const toks *t)
{
    stmt_ctx c = {body, t};
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
        if (strcmp(rules[i].node, type) == 0) {
            const char *r = rules[i].fn ? rules[i].fn(&c) : rules[i].reject;
            return r ? r : walk_exprs(body);
        }
    /* Not seen in the corpus: sqlparser lacks most of PostgreSQL's rarer statements. */
    static char why[96];
    snprintf(why, sizeof why, "%s (not modelled; assumed unknown to sqlparser)", type);
    return why;
}

/* ---- the file -------------------------------------------------------------------------------------- */

static int line_of(const char *s, size_t off)
{
    int l = 1;
    for (size_t i = 0; i < off && s[i]; i++)
        l += s[i] == '\n';
    return l;
}

/* psql meta-commands (a backslash outside quotes and comments) and psql variables (:'x'): sqlparser
   has no token for them. */
static const char *psql_isms(const toks *t)
{
    for (size_t i = 0; i < t->n; i++) {
        if (is_punct(&t->v[i], '\\'))
            return "psql meta-commands (\\...)";
        if (is_punct(&t->v[i], ':') && i + 1 < t->n && t->v[i + 1].kind == T_STRING && t->v[i + 1].s == t->v[i].s + 1)
            return "psql variables (:'name')";
    }
    return NULL;
}

void rh_sqlparser_decide(const char *sql, size_t len, rh_split_decision *out)
{
    memset(out, 0, sizeof *out);
    char *text = rh_xstrndup(sql, len);
    if (strlen(text) != len) {
        snprintf(out->reason, sizeof out->reason, "the file holds a NUL byte");
        free(text);
        return;
    }
    toks all = {0};
    tokenize(&all, text, len);
    const char *data = copy_data_start(&all);
    copy_data_follows = 0;
    if (data) {
        /* Judge what comes before the data, and what follows its "\\." line after a ';'. */
        const char *stop = strstr(data, "\n\\.");
        const char *rest = stop ? rh_sql_skip_blank(stop + 3, NULL) : text + len;
        if (*rest && *rest != ';') {
            snprintf(out->reason, sizeof out->reason, "a statement after the data of COPY ... FROM STDIN without ';'");
            out->line = line_of(text, (size_t)(rest - text));
            free(all.v);
            free(text);
            return;
        }
        size_t head = (size_t)(data - text);
        size_t tail = *rest ? strlen(rest + 1) : 0;
        memmove(text + head, *rest ? rest + 1 : rest, tail);
        len = head + tail;
        text[len] = '\0';
        copy_data_follows = 1;
        all.n = 0;
        tokenize(&all, text, len);
    }
    const char *r = psql_isms(&all);
    if (r) {
        snprintf(out->reason, sizeof out->reason, "%s", r);
        free(all.v);
        free(text);
        return;
    }
    /* sqlparser reads a psql variable :name or :"name" as a placeholder, as PostgreSQL reads $1. */
    for (size_t i = 0; i + 1 < all.n; i++) {
        tok *k = &all.v[i], *v = &all.v[i + 1];
        int after_colon = i > 0 && is_punct(&all.v[i - 1], ':') && all.v[i - 1].s + 1 == k->s;
        if (is_punct(k, ':') && !after_colon && v->s == k->s + 1 && (v->kind == T_WORD || v->kind == T_QIDENT)) {
            char *w = text + (k->s - text);
            w[0] = '$';
            w[1] = '1';
            memset(w + 2, ' ', v->n - 1);
        }
    }
    free(all.v);
    PgQueryParseResult pr = pg_query_parse(text);
    if (pr.error) {
        /* Nearly everything PostgreSQL cannot parse, sqlparser cannot either (docs/engine.md). */
        snprintf(out->reason, sizeof out->reason, "PostgreSQL's parser rejects the file: %s", pr.error->message);
        if (pr.error->cursorpos > 0)
            out->line = line_of(text, (size_t)pr.error->cursorpos - 1);
        pg_query_free_parse_result(pr);
        free(text);
        return;
    }
    json_object *tree = json_tokener_parse(pr.parse_tree);
    size_t n = jlen(tree, "stmts");
    out->n_stmts = n;
    out->split = 1;
    for (size_t i = 0; i < n && out->split; i++) {
        json_object *raw = jat(tree, "stmts", i);
        size_t off = (size_t)json_object_get_int64(jget(raw, "stmt_location"));
        size_t slen = (size_t)json_object_get_int64(jget(raw, "stmt_len"));
        if (off > len)
            off = len;
        if (slen == 0 || off + slen > len)
            slen = len - off;
        json_object *body;
        const char *type = node_type(jget(raw, "stmt"), &body);
        toks t = {0};
        tokenize(&t, text + off, slen);
        const char *why = judge(type, body, &t);
        if (why) {
            out->split = 0;
            snprintf(out->reason, sizeof out->reason, "%s", why);
            size_t first = t.n ? (size_t)(t.v[0].s - text) : off;
            out->line = line_of(text, first);
        }
        free(t.v);
    }
    json_object_put(tree);
    pg_query_free_parse_result(pr);
    free(text);
}
