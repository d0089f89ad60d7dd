/*
 * parse_expect_object.c — `expect KIND OBJECT [PROPERTY [VALUE]]`: a catalog object named the SQL
 * way ("schema"."table"."column") and the property of it to check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/parse_int.h"

/* ---- object references ("schema"."table"."column") ------------------------------------------- */

/*
 * Split a word as written into dotted parts, SQL style: "..." keeps dots and case, "" is a quote.
 * Unquoted parts are kept as written (names a migration tool quotes are case-sensitive). Returns the part count.
 */
static int split_ref(const char *raw, char **parts, int max)
{
    int n = 0;
    rh_buf b;
    rh_buf_init(&b);
    const char *s = raw;
    for (;;) {
        if (*s == '"' || *s == '\'') {
            char q = *s++;
            while (*s) {
                if (*s == q && s[1] == q) {
                    rh_buf_putc(&b, q);
                    s += 2;
                } else if (*s == q) {
                    s++;
                    break;
                } else {
                    rh_buf_putc(&b, *s++);
                }
            }
        } else if (*s == '.' || *s == 0) {
            if (n >= max || b.len == 0) {
                rh_buf_free(&b);
                for (int k = 0; k < n; k++)
                    free(parts[k]);
                return -1;
            }
            parts[n++] = rh_buf_steal(&b);
            if (*s == 0)
                break;
            s++;
        } else {
            rh_buf_putc(&b, *s++);
        }
    }
    rh_buf_free(&b);
    return n;
}

typedef struct objkind {
    const char *kind;
    int scope;                 /* 0: [schema.]name  1: [schema.]table.name  2: a table  3: a bare name */
    const char *const *props;  /* the properties; those ending in '=' take a value */
} objkind;

static const char *const p_common[] = {"present", "absent", NULL};
static const char *const p_table[] = {"present", "absent", NULL};
static const char *const p_column[] = {"present", "absent", "type=", "not-null", "nullable", "default=",
                                        "no-default", "identity", "generated", "collation=", NULL};
static const char *const p_index[] = {"present", "absent", "valid", "invalid", "unique", "not-unique",
                                       "primary", "definition=", "table=", NULL};
static const char *const p_constraint[] = {"present", "absent", "validated", "not-validated", "type=",
                                            "definition=", "deferrable", "not-deferrable", NULL};
static const char *const p_enum[] = {"present", "absent", "labels=", NULL};
static const char *const p_extension[] = {"present", "absent", "version=", NULL};
static const char *const p_view[] = {"present", "absent", "definition=", NULL};
static const char *const p_trigger[] = {"present", "absent", "enabled", "disabled", "definition=", NULL};
static const char *const p_function[] = {"present", "absent", "definition=", NULL};
static const char *const p_domain[] = {"present", "absent", "type=", "not-null", "nullable", "default=", "no-default",
                                        NULL};

static const objkind objkinds[] = {
    {"schema", 3, p_common},      {"extension", 3, p_extension}, {"table", 2, p_table},
    {"column", 1, p_column},      {"index", 0, p_index},         {"constraint", 1, p_constraint},
    {"trigger", 1, p_trigger},    {"policy", 1, p_common},       {"enum", 0, p_enum},
    {"sequence", 0, p_common},    {"view", 0, p_view},           {"function", 0, p_function},
    {"matview", 0, p_view},       {"domain", 0, p_domain},       {"composite", 0, p_common},
    {"range", 0, p_common},       {"foreign-table", 2, p_table}, {"rule", 1, p_common},
    {"statistics", 0, p_common},  {"server", 3, p_common},       {"publication", 3, p_common},
};

static const char *const expect_words[] = {
    "catalog", "ledger", "query", "status", "output", "order", "finding", "findings", "schema", "extension", "table", "column",
    "index", "constraint", "trigger", "policy", "enum", "sequence", "view", "function", "matview", "domain",
    "composite", "range", "foreign-table", "rule", "statistics", "server", "publication", NULL};

int rh_scnp_expect_object(cur *c, rh_scn_step *st, const rh_tok *kindtok)
{
    const objkind *k = NULL;
    for (size_t i = 0; i < sizeof objkinds / sizeof objkinds[0]; i++)
        if (strcmp(objkinds[i].kind, kindtok->text) == 0)
            k = &objkinds[i];
    if (!k || kindtok->quoted) {
        char hint[512];
        rh_scnp_suggest(hint, sizeof hint, kindtok->text, expect_words);
        return rh_scnp_err(c, kindtok, hint, "unknown assertion 'expect %s'", kindtok->text);
    }
    st->kind = RH_STEP_EXPECT_OBJECT;
    st->obj_kind = rh_xstrdup(k->kind);
    const char *forms[] = {"[SCHEMA.]NAME", "[SCHEMA.]TABLE.NAME", "[SCHEMA.]TABLE", "NAME"};
    const rh_tok *ref = rh_scnp_take(c);
    if (!ref) {
        char what[128];
        snprintf(what, sizeof what, "the %s, written %s", k->kind, forms[k->scope]);
        return rh_scnp_err(c, NULL, "quote names with capitals or dots: \"WaitlistEntry\".\"clientPartyId\"",
                           "expected %s", what);
    }
    char *parts[3] = {0};
    int np = split_ref(ref->raw, parts, 3);
    int ok = 0;
    switch (k->scope) {
    case 0:
        ok = np == 1 || np == 2;
        if (ok) {
            st->schema = np == 2 ? rh_xstrdup(parts[0]) : NULL;
            st->name = rh_xstrdup(parts[np - 1]);
        }
        break;
    case 1:
        ok = np == 2 || np == 3;
        if (ok) {
            st->schema = np == 3 ? rh_xstrdup(parts[0]) : NULL;
            st->table = rh_xstrdup(parts[np - 2]);
            st->name = rh_xstrdup(parts[np - 1]);
        }
        break;
    case 2:
        ok = np == 1 || np == 2;
        if (ok) {
            st->schema = np == 2 ? rh_xstrdup(parts[0]) : NULL;
            st->table = rh_xstrdup(parts[np - 1]);
        }
        break;
    case 3:
        ok = np == 1;
        if (ok) {
            st->name = rh_xstrdup(parts[0]);
            if (strcmp(k->kind, "schema") == 0)
                st->schema = rh_xstrdup(parts[0]);
        }
        break;
    }
    for (int i = 0; i < (np > 0 ? np : 0); i++)
        free(parts[i]);
    if (!ok) {
        char hint[256];
        snprintf(hint, sizeof hint, "write the %s as %s; quote each part that has capitals or dots", k->kind,
                 forms[k->scope]);
        return rh_scnp_err(c, ref, hint, "'%s' is not a %s reference", ref->text, k->kind);
    }
    const rh_tok *prop = rh_scnp_take(c);
    if (!prop) {
        st->property = rh_xstrdup("present");
        return 0;
    }
    const char *match = NULL;
    int takes_value = 0;
    if (rh_scnp_is(prop, "exists")) {   /* the catalog module's word for present */
        st->property = rh_xstrdup("present");
        return rh_scnp_need_end(c, NULL);
    }
    char plain[64][32];
    const char *plist[64];
    size_t np2 = 0;
    for (size_t i = 0; k->props[i] && np2 < 63; i++) {
        size_t len = strlen(k->props[i]);
        int v = k->props[i][len - 1] == '=';
        snprintf(plain[np2], sizeof plain[np2], "%.*s", (int)(len - (size_t)v), k->props[i]);
        plist[np2] = plain[np2];
        if (!prop->quoted && strcmp(plain[np2], prop->text) == 0) {
            match = k->props[i];
            takes_value = v;
        }
        np2++;
    }
    plist[np2] = NULL;
    if (!match) {
        char hint[512];
        rh_scnp_suggest(hint, sizeof hint, prop->text, plist);
        return rh_scnp_err(c, prop, hint, "'%s' is not a property of %s %s", prop->text,
                           strchr("aeiou", k->kind[0]) ? "an" : "a", k->kind);
    }
    st->property = rh_xstrndup(match, strlen(match) - (size_t)takes_value);
    if (takes_value) {
        const rh_tok *v = rh_scnp_take(c);
        if (!v)
            return rh_scnp_err(c, NULL, "quote values with spaces: type \"character varying(255)\"",
                               "expected a value after '%s'", st->property);
        if (strcmp(st->property, "labels") == 0) {
            /* enum labels: every remaining word, in order, joined by commas */
            rh_buf b;
            rh_buf_init(&b);
            rh_buf_puts(&b, v->text);
            while ((v = rh_scnp_take(c))) {
                rh_buf_putc(&b, ',');
                rh_buf_puts(&b, v->text);
            }
            st->value = rh_buf_steal(&b);
        } else {
            st->value = rh_xstrdup(v->text);
        }
    }
    return rh_scnp_need_end(c, NULL);
}
