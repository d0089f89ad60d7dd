/*
 * txblock.c — the effect of a migration file's own transaction control under PostgreSQL's rules
 * for a multi-statement simple query (see txblock.h; src/backend/access/transam/xact.c: an implicit
 * block becomes the explicit one at BEGIN; COMMIT/ROLLBACK in an implicit block end it, with a
 * warning).
 */
#include "migrations/txblock.h"

#include <assert.h>
#include <string.h>
#include <strings.h>

#include "migrations/split.h"

typedef enum word_kind { W_STATEMENT, W_BEGIN, W_COMMIT, W_ROLLBACK, W_PREPARE, W_OTHER_CONTROL } word_kind;

/* Whether keywords start with word, as a whole word. */
static int starts(const char *kw, const char *word)
{
    size_t l = strlen(word);
    return strncasecmp(kw, word, l) == 0 && (kw[l] == '\0' || kw[l] == ' ');
}

static word_kind kind_of(const char *kw)
{
    if (!kw)
        return W_STATEMENT;
    /* two-phase commit and savepoints neither open nor end the block */
    if (starts(kw, "COMMIT PREPARED") || starts(kw, "ROLLBACK PREPARED") || starts(kw, "ROLLBACK TO") ||
        starts(kw, "SAVEPOINT") || starts(kw, "RELEASE"))
        return W_OTHER_CONTROL;
    if (starts(kw, "BEGIN") || starts(kw, "START TRANSACTION"))
        return W_BEGIN;
    if (starts(kw, "COMMIT") || starts(kw, "END"))
        return W_COMMIT;
    if (starts(kw, "ROLLBACK") || starts(kw, "ABORT"))
        return W_ROLLBACK;
    if (starts(kw, "PREPARE TRANSACTION")) /* ends the block, leaving a prepared transaction */
        return W_PREPARE;
    return W_STATEMENT;
}

const char *rh_txblock_refused_name(const char *text)
{
    char kw[128];
    rh_stmt_keywords(text, 6, kw, sizeof kw);
    static const char *const heads[] = {"CREATE INDEX CONCURRENTLY", "CREATE UNIQUE INDEX CONCURRENTLY",
        "DROP INDEX CONCURRENTLY", "REINDEX INDEX CONCURRENTLY", "REINDEX TABLE CONCURRENTLY",
        "REINDEX SCHEMA CONCURRENTLY", "REINDEX DATABASE CONCURRENTLY", "VACUUM", "CREATE DATABASE", "DROP DATABASE",
        "ALTER SYSTEM", "CREATE TABLESPACE", "DROP TABLESPACE"};
    for (size_t i = 0; i < sizeof heads / sizeof *heads; i++)
        if (starts(kw, heads[i]))
            return heads[i];
    return strstr(kw, "DETACH PARTITION") && strstr(text, "CONCURRENTLY") ? "DETACH PARTITION ... CONCURRENTLY" : NULL;
}

int rh_txblock_refused(const char *text)
{
    return rh_txblock_refused_name(text) != NULL;
}

int rh_txblock_is_control(const char *keywords)
{
    return kind_of(keywords) != W_STATEMENT;
}

int rh_txblock_ends(const char *keywords)
{
    word_kind k = kind_of(keywords);
    return k == W_COMMIT || k == W_ROLLBACK || k == W_PREPARE;
}

rh_txblock_effect rh_txblock_effect_of(const char *const *keywords, size_t n, size_t i, int split, size_t *before)
{
    assert(i < n);
    size_t pending = 0; /* statements run in the current block, not yet committed or rolled back */
    int is_explicit = 0;
    for (size_t j = 0; j < i; j++) {
        switch (kind_of(keywords[j])) {
        case W_STATEMENT:
            if (is_explicit || !split) /* sent alone outside a block, a statement commits alone */
                pending++;
            break;
        case W_BEGIN: is_explicit = 1; break;
        case W_COMMIT:
        case W_ROLLBACK:
        case W_PREPARE: pending = 0; is_explicit = 0; break;
        case W_OTHER_CONTROL: break;
        }
    }
    if (before)
        *before = pending;
    size_t later = 0;
    int closed_later = 0;
    for (size_t j = i + 1; j < n; j++) {
        word_kind k = kind_of(keywords[j]);
        if (k == W_STATEMENT)
            later++;
        else if (k == W_COMMIT || k == W_ROLLBACK || k == W_PREPARE)
            closed_later = 1;
    }
    switch (kind_of(keywords[i])) {
    case W_BEGIN:
        if (is_explicit)
            return RH_TXBLOCK_NONE; /* "there is already a transaction in progress": no effect */
        if (!closed_later)
            return RH_TXBLOCK_UNTERMINATED;
        return pending ? RH_TXBLOCK_JOINS : RH_TXBLOCK_NONE;
    case W_COMMIT:
        return pending && later ? RH_TXBLOCK_PARTIAL : RH_TXBLOCK_NONE;
    case W_ROLLBACK:
        return pending ? RH_TXBLOCK_ROLLBACK : RH_TXBLOCK_NONE;
    case W_STATEMENT:
    case W_PREPARE:
    case W_OTHER_CONTROL:
        break;
    }
    return RH_TXBLOCK_NONE;
}
