/*
 * globals.c — the quote-blind word scan of globals.h: may a migration touch a cluster's global objects?
 *
 * Not a SQL lexer (migrations/split.c has PostgreSQL's own): it reads every run of letters, digits
 * and '_' as a word, whatever quotes or comments it stands in, so that statements inside string
 * literals and dollar-quoted bodies (EXECUTE, dblink_exec, DO blocks, function bodies) are seen; a
 * backslash escape (E'CREATE\nDATABASE') separates words. It matches word sequences, never single
 * object words (a column named "role" or a table "User" is common), with one exception: names that
 * only the global catalogs and cross-database functions use.
 */
#include "migrations/globals.h"

#include <assert.h>
#include <ctype.h>
#include <string.h>

#define WORD_MAX 64 /* longer words are cut: no keyword is that long */

static int is_word_byte(unsigned char c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

static int in(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return 1;
    return 0;
}

static int starts_with(const char *w, const char *prefix)
{
    return strncmp(w, prefix, strlen(prefix)) == 0;
}

/* After a backslash: skip the escape's own characters (\n, \x41, \u0041, \101), so they join no word. */
static size_t skip_escape(const char *s, size_t i, size_t len)
{
    assert(i < len && s[i] == '\\');
    i++;
    if (i >= len)
        return i;
    size_t max = 0;
    int octal = 0;
    switch (s[i]) {
    case 'x': max = 2; break;
    case 'u': max = 4; break;
    case 'U': max = 8; break;
    default:
        if (s[i] >= '0' && s[i] <= '7') {
            octal = 1;
            max = 3;
        }
    }
    if (!max)
        return i + 1;
    if (!octal)
        i++;
    for (size_t k = 0; k < max && i < len; k++, i++)
        if (octal ? !(s[i] >= '0' && s[i] <= '7') : !isxdigit((unsigned char)s[i]))
            break;
    return i;
}

typedef struct scan {
    char p1[WORD_MAX], p2[WORD_MAX]; /* the previous word and the one before it, upper case */
    int user_after_verb;             /* CREATE/ALTER/DROP USER: a role unless MAPPING follows */
    int in_grant;                    /* GRANT or REVOKE seen in this statement */
    int grant_on;                    /* ... with ON: object privileges, not role membership */
    const char *what;
} scan;

static const char *const verbs[] = {"CREATE", "ALTER", "DROP", NULL};
static const char *const global_kinds[] = {"DATABASE", "ROLE", "GROUP", "TABLESPACE", "SUBSCRIPTION", NULL};
static const char *const commented_kinds[] = {"DATABASE", "ROLE", "TABLESPACE", "SUBSCRIPTION", NULL};
static const char *const granted_on[] = {"DATABASE", "TABLESPACE", "PARAMETER", NULL};
/* the shared catalogs (pg_class.relisshared): written to directly, or read to decide what to create */
static const char *const shared_catalogs[] = {"PG_AUTHID", "PG_AUTH_MEMBERS", "PG_DATABASE", "PG_DB_ROLE_SETTING",
    "PG_SHDESCRIPTION", "PG_SHSECLABEL", "PG_TABLESPACE", "PG_SUBSCRIPTION", "PG_PARAMETER_ACL", "PG_SHDEPEND",
    "PG_SHINIT_PRIVS", NULL};
static const char *const other_backends[] = {"PG_TERMINATE_BACKEND", "PG_CANCEL_BACKEND", "PG_SIGNAL_BACKEND", NULL};

/* One word w (upper case, cut to WORD_MAX - 1); sets s->what at the first match. */
static void on_word(scan *s, const char *w)
{
    if (s->user_after_verb) {
        s->user_after_verb = 0;
        if (strcmp(w, "MAPPING") != 0) {
            s->what = "CREATE/ALTER/DROP USER";
            return;
        }
    }
    if (in(s->p1, verbs) && in(w, global_kinds))
        s->what = strcmp(s->p1, "CREATE") == 0 ? "CREATE DATABASE/ROLE/GROUP/TABLESPACE/SUBSCRIPTION"
                  : strcmp(s->p1, "ALTER") == 0 ? "ALTER DATABASE/ROLE/GROUP/TABLESPACE/SUBSCRIPTION"
                                                : "DROP DATABASE/ROLE/GROUP/TABLESPACE/SUBSCRIPTION";
    else if (in(s->p1, verbs) && strcmp(w, "USER") == 0)
        s->user_after_verb = 1;
    else if (strcmp(s->p1, "ALTER") == 0 && strcmp(w, "SYSTEM") == 0)
        s->what = "ALTER SYSTEM";
    else if ((strcmp(s->p1, "REASSIGN") == 0 || strcmp(s->p1, "DROP") == 0) && strcmp(w, "OWNED") == 0)
        s->what = "REASSIGN OWNED/DROP OWNED";
    else if (strcmp(s->p2, "COMMENT") == 0 && strcmp(s->p1, "ON") == 0 && in(w, commented_kinds))
        s->what = "COMMENT ON DATABASE/ROLE/TABLESPACE/SUBSCRIPTION";
    else if (strcmp(s->p1, "SECURITY") == 0 && strcmp(w, "LABEL") == 0)
        s->what = "SECURITY LABEL";
    else if (in(w, shared_catalogs))
        s->what = "a shared catalog";
    else if (starts_with(w, "PG_REPLICATION_ORIGIN") || strstr(w, "REPLICATION_SLOT"))
        s->what = "a replication origin or slot";
    else if (starts_with(w, "DBLINK") || strcmp(w, "POSTGRES_FDW") == 0)
        s->what = "a connection to another database (dblink, postgres_fdw)";
    else if (in(w, other_backends))
        s->what = "another backend (pg_terminate_backend ...)";
    if (s->what)
        return;
    if (strcmp(w, "GRANT") == 0 || strcmp(w, "REVOKE") == 0) {
        s->in_grant = 1;
        s->grant_on = 0;
    } else if (s->in_grant && strcmp(w, "ON") == 0) {
        s->grant_on = 1;
    } else if (s->in_grant && strcmp(s->p1, "ON") == 0 && in(w, granted_on)) {
        s->what = "GRANT/REVOKE ON DATABASE/TABLESPACE/PARAMETER";
    } else if (s->in_grant && (strcmp(w, "TO") == 0 || strcmp(w, "FROM") == 0)) {
        if (!s->grant_on)
            s->what = "GRANT/REVOKE role membership";
        s->in_grant = 0;
    }
}

int rh_sql_may_touch_globals(const char *sql, size_t len, const char **what)
{
    scan s;
    memset(&s, 0, sizeof s);
    char w[WORD_MAX];
    size_t i = 0;
    while (i < len && !s.what) {
        unsigned char c = (unsigned char)sql[i];
        if (c == '\\') {
            i = skip_escape(sql, i, len);
            continue;
        }
        if (c == ';')
            s.in_grant = 0;
        if (!is_word_byte(c)) {
            i++;
            continue;
        }
        size_t n = 0;
        for (; i < len && is_word_byte((unsigned char)sql[i]); i++)
            if (n < sizeof w - 1)
                w[n++] = (char)toupper((unsigned char)sql[i]);
        w[n] = '\0';
        on_word(&s, w);
        memcpy(s.p2, s.p1, sizeof s.p2);
        memcpy(s.p1, w, sizeof s.p1);
    }
    if (!s.what && s.user_after_verb) /* "DROP USER" at the very end */
        s.what = "CREATE/ALTER/DROP USER";
    if (what)
        *what = s.what;
    return s.what != NULL;
}

int rh_migset_may_touch_globals(const rh_migset *set, const char **what, const char **name)
{
    if (what)
        *what = NULL;
    if (name)
        *name = NULL;
    for (size_t i = 0; set && i < set->n; i++) {
        const rh_migration *m = &set->items[i];
        if (m->sql && rh_sql_may_touch_globals(m->sql, m->sql_len, what)) {
            if (name)
                *name = m->name;
            return 1;
        }
    }
    return 0;
}
