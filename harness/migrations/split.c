/*
 * split.c — statements of a script through libpg_query's parser-based splitter (see split.h).
 */
#include "migrations/split.h"

#include <ctype.h>
#include <pg_query.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static void line_col(const char *s, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off && s[i]; i++) {
        if (s[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)s[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

int rh_sql_split(rh_split *out, const char *sql, size_t len, rh_err *err)
{
    memset(out, 0, sizeof *out);
    char *text = rh_xstrndup(sql, len); /* the parser needs a NUL-terminated copy */
    if (strlen(text) != len) {
        free(text);
        return rh_err_set(err, "the script holds a NUL byte at offset %zu", strlen(sql));
    }
    PgQuerySplitResult r = pg_query_split_with_parser(text);
    if (r.error) {
        int line = 0, col = 0;
        if (r.error->cursorpos > 0)
            line_col(text, (size_t)r.error->cursorpos - 1, &line, &col);
        if (line)
            rh_err_set(err, "%s (line %d, column %d)", r.error->message, line, col);
        else
            rh_err_set(err, "%s", r.error->message);
        pg_query_free_split_result(r);
        free(text);
        return -1;
    }
    out->items = rh_xcalloc((size_t)(r.n_stmts > 0 ? r.n_stmts : 1), sizeof *out->items);
    for (int i = 0; i < r.n_stmts; i++) {
        size_t off = (size_t)r.stmts[i]->stmt_location;
        size_t slen = (size_t)r.stmts[i]->stmt_len;
        if (off > len)
            off = len;
        if (slen == 0 || off + slen > len)
            slen = len - off;
        size_t a = off, b = off + slen;
        while (a < b && isspace((unsigned char)text[a]))
            a++;
        while (b > a && (isspace((unsigned char)text[b - 1]) || text[b - 1] == ';'))
            b--;
        if (a == b)
            continue;
        rh_stmt *st = &out->items[out->n++];
        st->offset = off;
        st->len = slen;
        st->text = rh_xstrndup(text + a, b - a);
        int col;
        line_col(text, a, &st->line, &col);
    }
    pg_query_free_split_result(r);
    free(text);
    return 0;
}

void rh_split_free(rh_split *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i].text);
    free(s->items);
    memset(s, 0, sizeof *s);
}

const char *rh_sql_skip_blank(const char *p, int *lines)
{
    for (;;) {
        if (*p == '\n') {
            if (lines)
                (*lines)++;
            p++;
        } else if (isspace((unsigned char)*p)) {
            p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            /* PostgreSQL's block comments nest */
            int depth = 0;
            do {
                if (p[0] == '/' && p[1] == '*') {
                    depth++;
                    p += 2;
                } else if (p[0] == '*' && p[1] == '/') {
                    depth--;
                    p += 2;
                } else {
                    if (*p == '\n' && lines)
                        (*lines)++;
                    p++;
                }
            } while (*p && depth > 0);
        } else {
            return p;
        }
    }
}

static char *leading_words(const char *text, int nwords, char *out, size_t outsz, int upper)
{
    size_t o = 0;
    const char *p = text;
    int words = 0;
    if (outsz == 0)
        return out;
    while (*p && words < nwords) {
        p = rh_sql_skip_blank(p, NULL);
        if (isalpha((unsigned char)*p) || *p == '_') {
            if (words > 0 && o + 1 < outsz)
                out[o++] = ' ';
            while (isalnum((unsigned char)*p) || *p == '_') {
                if (o + 1 < outsz)
                    out[o++] = upper ? (char)toupper((unsigned char)*p) : *p;
                p++;
            }
            words++;
        } else {
            break;
        }
    }
    out[o] = '\0';
    return out;
}

char *rh_stmt_keywords(const char *text, int nwords, char *out, size_t outsz)
{
    return leading_words(text, nwords, out, outsz, 1);
}

char *rh_stmt_words(const char *text, int nwords, char *out, size_t outsz)
{
    return leading_words(text, nwords, out, outsz, 0);
}
