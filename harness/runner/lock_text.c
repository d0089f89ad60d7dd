/*
 * lock_text.c — which session texts cannot change how a session ends (runner/lockwait.c's allow-list):
 * statements that only take or free advisory locks on integer literals, or open or end a transaction.
 * Anything more (a SET, any other function, a quote, a comment) is "unknown", never "plain".
 */
#include "runner/lock_text.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static int word_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* "[-]digits" */
static int is_int(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    if (i == n)
        return 0;
    for (; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* One statement, without its ';': BEGIN/START TRANSACTION/COMMIT/ROLLBACK/END, or SELECT of
   advisory-lock functions on integer literals. */
static int plain_statement(const char *s, size_t n)
{
    /* the words and punctuation, spaces dropped */
    char norm[512];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (isspace((unsigned char)ch)) {
            if (m && norm[m - 1] != ' ')
                norm[m++] = ' ';
        } else {
            norm[m++] = (char)tolower((unsigned char)ch);
        }
        if (m + 2 >= sizeof norm)
            return 0;
    }
    while (m && norm[m - 1] == ' ')
        m--;
    norm[m] = 0;
    if (m == 0)
        return 1;
    static const char *const tx[] = {"begin", "begin work", "begin transaction", "start transaction", "commit",
                                     "commit work", "commit transaction", "rollback", "rollback work",
                                     "rollback transaction", "end", "abort"};
    for (size_t i = 0; i < sizeof tx / sizeof *tx; i++)
        if (strcmp(norm, tx[i]) == 0)
            return 1;
    if (strncmp(norm, "select ", 7) != 0)
        return 0;
    static const char *const fns[] = {
        "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared",
        "pg_try_advisory_lock", "pg_try_advisory_lock_shared", "pg_try_advisory_xact_lock",
        "pg_try_advisory_xact_lock_shared", "pg_advisory_unlock", "pg_advisory_unlock_shared"};
    /* a list of calls FN(INT[,INT]) separated by commas */
    const char *p = norm + 7;
    for (;;) {
        while (*p == ' ')
            p++;
        const char *open = strchr(p, '(');
        if (!open)
            return 0;
        size_t fl = (size_t)(open - p);
        while (fl && p[fl - 1] == ' ')
            fl--;
        int known = 0;
        for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
            known |= word_is(p, fl, fns[i]);
        if (!known)
            return 0;
        const char *close = strchr(open, ')');
        if (!close)
            return 0;
        /* one or two integer literals */
        const char *a = open + 1;
        int args = 0;
        while (a < close) {
            while (a < close && *a == ' ')
                a++;
            const char *e = a;
            while (e < close && *e != ',')
                e++;
            const char *t = e;
            while (t > a && t[-1] == ' ')
                t--;
            if (!is_int(a, (size_t)(t - a)))
                return 0;
            args++;
            a = e < close ? e + 1 : e;
        }
        if (args < 1 || args > 2)
            return 0;
        p = close + 1;
        while (*p == ' ')
            p++;
        if (*p == 0)
            return 1;
        if (*p != ',')
            return 0;
        p++;
    }
}

int rh_lock_text_plain(const char *text)
{
    if (!text)
        return 0;
    /* quotes, dollar quotes, comments and escapes are more than this reads: not plain */
    if (strpbrk(text, "'\"$\\") || strstr(text, "--") || strstr(text, "/*"))
        return 0;
    const char *p = text;
    for (;;) {
        const char *semi = strchr(p, ';');
        size_t n = semi ? (size_t)(semi - p) : strlen(p);
        if (!plain_statement(p, n))
            return 0;
        if (!semi)
            return 1;
        p = semi + 1;
    }
}
