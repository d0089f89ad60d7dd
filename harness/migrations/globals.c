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
#include <pthread.h>
#include <string.h>
#include <strings.h>

/* The words the rules below are made of; every other word is W_OTHER. */
typedef enum word {
    W_OTHER, W_CREATE, W_ALTER, W_DROP, W_DATABASE, W_ROLE, W_GROUP, W_TABLESPACE, W_SUBSCRIPTION, W_USER,
    W_MAPPING, W_SYSTEM, W_REASSIGN, W_OWNED, W_COMMENT, W_ON, W_SECURITY, W_LABEL, W_GRANT, W_REVOKE, W_TO,
    W_FROM, W_PARAMETER,
    W_SHARED, /* a shared catalog, a cross-database or cross-backend function: matches alone */
} word;

static const struct {
    const char *text;
    word w;
} words[] = {
    {"CREATE", W_CREATE}, {"ALTER", W_ALTER}, {"DROP", W_DROP}, {"DATABASE", W_DATABASE}, {"ROLE", W_ROLE},
    {"GROUP", W_GROUP}, {"TABLESPACE", W_TABLESPACE}, {"SUBSCRIPTION", W_SUBSCRIPTION}, {"USER", W_USER},
    {"MAPPING", W_MAPPING}, {"SYSTEM", W_SYSTEM}, {"REASSIGN", W_REASSIGN}, {"OWNED", W_OWNED},
    {"COMMENT", W_COMMENT}, {"ON", W_ON}, {"SECURITY", W_SECURITY}, {"LABEL", W_LABEL}, {"GRANT", W_GRANT},
    {"REVOKE", W_REVOKE}, {"TO", W_TO}, {"FROM", W_FROM}, {"PARAMETER", W_PARAMETER},
    /* the shared catalogs (pg_class.relisshared): written to directly, or read to decide what to create */
    {"PG_AUTHID", W_SHARED}, {"PG_AUTH_MEMBERS", W_SHARED}, {"PG_DATABASE", W_SHARED},
    {"PG_DB_ROLE_SETTING", W_SHARED}, {"PG_SHDESCRIPTION", W_SHARED}, {"PG_SHSECLABEL", W_SHARED},
    {"PG_TABLESPACE", W_SHARED}, {"PG_SUBSCRIPTION", W_SHARED}, {"PG_PARAMETER_ACL", W_SHARED},
    {"PG_SHDEPEND", W_SHARED}, {"PG_SHINIT_PRIVS", W_SHARED}, {"POSTGRES_FDW", W_SHARED},
    {"PG_TERMINATE_BACKEND", W_SHARED}, {"PG_CANCEL_BACKEND", W_SHARED}, {"PG_SIGNAL_BACKEND", W_SHARED},
};

/* 1 for the bytes of a word: letters, digits, '_', and every byte of a multi-byte character. */
static unsigned char word_byte[256];
/* words[] by hash (1 + index; 0 empty), open addressing: a word is classified with one or two compares */
#define SLOTS 128
static unsigned char slot[SLOTS];
static size_t word_len[sizeof words / sizeof *words];

static unsigned hash(const char *w, size_t n)
{
    return ((unsigned)n * 31u + (unsigned)(w[0] | 0x20) * 7u + (unsigned)(w[n - 1] | 0x20)) % SLOTS;
}

static void init_tables(void)
{
    for (int c = 0; c < 256; c++)
        word_byte[c] = (unsigned char)(isalnum(c) || c == '_' || c >= 0x80);
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        word_len[i] = strlen(words[i].text);
        unsigned h = hash(words[i].text, word_len[i]);
        while (slot[h])
            h = (h + 1) % SLOTS;
        slot[h] = (unsigned char)(i + 1);
    }
}

/* Does w (n bytes, any case) contain the upper-case needle? */
static int contains(const char *w, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(w + i, needle, k) == 0)
            return 1;
    return 0;
}

static word classify(const char *w, size_t n)
{
    if (n < 2)
        return W_OTHER;
    for (unsigned h = hash(w, n); slot[h]; h = (h + 1) % SLOTS) {
        const char *t = words[slot[h] - 1].text;
        if (word_len[slot[h] - 1] == n && (w[0] & ~0x20) == t[0] && strncasecmp(w, t, n) == 0)
            return words[slot[h] - 1].w;
    }
    /* replication origins and slots (pg_replication_origin_create, pg_create_logical_replication_slot ...), dblink */
    if (n >= 6 && (w[0] | 0x20) == 'd' && strncasecmp(w, "DBLINK", 6) == 0)
        return W_SHARED;
    if (n >= 16 && (w[0] | 0x20) == 'p' && (contains(w, n, "REPLICATION_ORIGIN") || contains(w, n, "REPLICATION_SLOT")))
        return W_SHARED;
    return W_OTHER;
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
    word p1, p2;         /* the previous word and the one before it */
    int user_after_verb; /* CREATE/ALTER/DROP USER: a role unless MAPPING follows */
    int in_grant;        /* GRANT or REVOKE seen in this statement */
    int grant_on;        /* ... with ON: object privileges, not role membership */
    const char *what;
} scan;

static int is_verb(word w)
{
    return w == W_CREATE || w == W_ALTER || w == W_DROP;
}

/* One word; sets s->what at the first match. */
static void on_word(scan *s, word w)
{
    if (s->user_after_verb) {
        s->user_after_verb = 0;
        if (w != W_MAPPING) {
            s->what = "CREATE/ALTER/DROP USER";
            return;
        }
    }
    if (w == W_OTHER) {
        return;
    } else if (is_verb(s->p1) && (w == W_DATABASE || w == W_ROLE || w == W_GROUP || w == W_TABLESPACE ||
                                  w == W_SUBSCRIPTION)) {
        s->what = s->p1 == W_CREATE  ? "CREATE DATABASE/ROLE/GROUP/TABLESPACE/SUBSCRIPTION"
                  : s->p1 == W_ALTER ? "ALTER DATABASE/ROLE/GROUP/TABLESPACE/SUBSCRIPTION"
                                     : "DROP DATABASE/ROLE/GROUP/TABLESPACE/SUBSCRIPTION";
    } else if (is_verb(s->p1) && w == W_USER) {
        s->user_after_verb = 1;
    } else if (s->p1 == W_ALTER && w == W_SYSTEM) {
        s->what = "ALTER SYSTEM";
    } else if ((s->p1 == W_REASSIGN || s->p1 == W_DROP) && w == W_OWNED) {
        s->what = "REASSIGN OWNED/DROP OWNED";
    } else if (s->p2 == W_COMMENT && s->p1 == W_ON &&
               (w == W_DATABASE || w == W_ROLE || w == W_TABLESPACE || w == W_SUBSCRIPTION)) {
        s->what = "COMMENT ON DATABASE/ROLE/TABLESPACE/SUBSCRIPTION";
    } else if (s->p1 == W_SECURITY && w == W_LABEL) {
        s->what = "SECURITY LABEL";
    } else if (w == W_SHARED) {
        s->what = "a shared catalog, another database or another backend (dblink, pg_terminate_backend ...)";
    } else if (w == W_GRANT || w == W_REVOKE) {
        s->in_grant = 1;
        s->grant_on = 0;
    } else if (s->in_grant && w == W_ON) {
        s->grant_on = 1;
    } else if (s->in_grant && s->p1 == W_ON && (w == W_DATABASE || w == W_TABLESPACE || w == W_PARAMETER)) {
        s->what = "GRANT/REVOKE ON DATABASE/TABLESPACE/PARAMETER";
    } else if (s->in_grant && (w == W_TO || w == W_FROM)) {
        if (!s->grant_on)
            s->what = "GRANT/REVOKE role membership";
        s->in_grant = 0;
    }
}

int rh_sql_may_touch_globals(const char *sql, size_t len, const char **what)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_tables);
    scan s;
    memset(&s, 0, sizeof s);
    size_t i = 0;
    while (i < len && !s.what) {
        unsigned char c = (unsigned char)sql[i];
        if (!word_byte[c]) {
            if (c == '\\') {
                i = skip_escape(sql, i, len);
                continue;
            }
            if (c == ';')
                s.in_grant = 0;
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && word_byte[(unsigned char)sql[i]])
            i++;
        word w = classify(sql + start, i - start);
        on_word(&s, w);
        s.p2 = s.p1;
        s.p1 = w;
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
