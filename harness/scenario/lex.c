/*
 * lex.c — the scenario lexer: shell-like words, comments, continuation lines and heredocs
 * (see lex.h). Every word keeps its line and column so that the parser can point at it.
 */
#include "scenario/lex.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rh_lex_init(rh_lexer *lx, const char *file, const char *text, size_t len)
{
    lx->file = file;
    lx->text = text;
    lx->len = len;
    lx->pos = 0;
    lx->line = 1;
}

void rh_lline_free(rh_lline *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->toks[i].text);
        free(l->toks[i].raw);
    }
    free(l->toks);
    free(l->source);
    free(l->heredoc);
    memset(l, 0, sizeof *l);
}

/* The physical line starting at offset `at` (without its newline), for diagnostics. */
static char *line_at(const rh_lexer *lx, size_t at)
{
    size_t end = at;
    while (end < lx->len && lx->text[end] != '\n')
        end++;
    size_t n = end - at;
    if (n && lx->text[at + n - 1] == '\r')
        n--;
    return rh_xstrndup(lx->text + at, n);
}

void rh_scn_diag(rh_buf *diag, const char *file, const char *source, int line, int col, const char *hint,
                 const char *fmt, ...)
{
    if (diag->len)
        rh_buf_putc(diag, '\n');
    rh_buf_printf(diag, "%s:%d:%d: error: ", file, line, col);
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    rh_buf_puts(diag, msg ? msg : "(out of memory)");
    free(msg);
    rh_buf_putc(diag, '\n');
    if (source) {
        /* Show the line and a caret under the column; tabs are kept so the caret lines up. */
        rh_buf_printf(diag, "%5d | %s\n      | ", line, source);
        size_t slen = strlen(source);
        for (int i = 1; i < col; i++)
            rh_buf_putc(diag, (size_t)(i - 1) < slen && source[i - 1] == '\t' ? '\t' : ' ');
        rh_buf_puts(diag, "^\n");
    }
    if (hint)
        rh_buf_printf(diag, "  hint: %s\n", hint);
}

static void push_tok(rh_lline *l, size_t *cap, rh_tok t)
{
    if (l->n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        l->toks = rh_xrealloc(l->toks, *cap * sizeof *l->toks);
    }
    l->toks[l->n++] = t;
}

/* Skip to the start of the next physical line (error recovery). */
static void skip_line(rh_lexer *lx)
{
    while (lx->pos < lx->len && lx->text[lx->pos] != '\n')
        lx->pos++;
    if (lx->pos < lx->len) {
        lx->pos++;
        lx->line++;
    }
}

/*
 * Read a heredoc body after the logical line: lines up to one that holds only `word` (surrounding
 * blanks allowed). Returns 0, or -1 if the text ends first.
 */
static int read_heredoc(rh_lexer *lx, const char *word, rh_buf *body)
{
    while (lx->pos < lx->len) {
        size_t start = lx->pos, end = start;
        while (end < lx->len && lx->text[end] != '\n')
            end++;
        size_t a = start, b = end;
        while (a < b && (lx->text[a] == ' ' || lx->text[a] == '\t'))
            a++;
        while (b > a && (lx->text[b - 1] == ' ' || lx->text[b - 1] == '\t' || lx->text[b - 1] == '\r'))
            b--;
        lx->pos = end < lx->len ? end + 1 : end;
        lx->line++;
        if (b - a == strlen(word) && memcmp(lx->text + a, word, b - a) == 0)
            return 0;
        rh_buf_append(body, lx->text + start, end - start);
        rh_buf_putc(body, '\n');
    }
    return -1;
}

int rh_lex_next(rh_lexer *lx, rh_lline *out, rh_buf *diag)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    rh_buf word, raw;
    rh_buf_init(&word);
    rh_buf_init(&raw);
    char *hd_word = NULL;   /* heredoc terminator of this logical line */
    int hd_line = 0, hd_col = 0;
    int rc = 0;

    while (lx->pos < lx->len) {
        size_t line_start = lx->pos;
        /* column is counted from the start of the current physical line */
        int in_word = 0, quoted = 0, tok_col = 0, tok_line = lx->line;
        int continued = 0;
        if (!out->source && out->n == 0) {
            out->line = lx->line;
        }
        char *phys = line_at(lx, line_start);
        int phys_line = lx->line;
        size_t i = lx->pos;
        for (;;) {
            char c = i < lx->len ? lx->text[i] : '\n';
            int col = (int)(i - line_start) + 1;
            if (c == '\r' && (i + 1 >= lx->len || lx->text[i + 1] == '\n')) {
                i++;
                continue;
            }
            if (c == '\n' || c == ' ' || c == '\t') {
                if (in_word) {
                    rh_tok t = {rh_buf_steal(&word), rh_buf_steal(&raw), tok_line, tok_col, quoted};
                    /* `<<EOF`, or `<<'EOF'` (a quoted terminator: the raw word starts with << then) */
                    if ((!t.quoted && strncmp(t.text, "<<", 2) == 0 && t.text[2]) ||
                        (t.quoted && strncmp(t.raw, "<<", 2) == 0 && t.raw[2])) {
                        if (hd_word) {
                            rh_scn_diag(diag, lx->file, phys, tok_line, tok_col,
                                        "a step takes one heredoc; put the second text in its own step",
                                        "second heredoc on one line");
                            rc = -1;
                        } else {
                            hd_word = rh_xstrdup(t.text + 2);
                            hd_line = tok_line;
                            hd_col = tok_col;
                        }
                        free(t.text);
                        free(t.raw);
                    } else {
                        push_tok(out, &cap, t);
                    }
                    in_word = 0;
                    quoted = 0;
                }
                if (c == '\n')
                    break;
                i++;
                continue;
            }
            if (!in_word && c == '#') {
                while (i < lx->len && lx->text[i] != '\n')
                    i++;
                continue;
            }
            if (c == '\\' && (i + 1 >= lx->len || lx->text[i + 1] == '\n' ||
                              (lx->text[i + 1] == '\r' && i + 2 < lx->len && lx->text[i + 2] == '\n'))) {
                /* continuation: the word (if any) ends here, the logical line goes on */
                if (in_word) {
                    push_tok(out, &cap, (rh_tok){rh_buf_steal(&word), rh_buf_steal(&raw), tok_line, tok_col, quoted});
                    in_word = 0;
                    quoted = 0;
                }
                continued = 1;
                i++;
                if (i < lx->len && lx->text[i] == '\r')
                    i++;
                break;
            }
            if (!in_word) {
                in_word = 1;
                tok_col = col;
                tok_line = lx->line;
            }
            if (c == '"' || c == '\'') {
                char q = c;
                size_t j = i + 1;
                rh_buf_putc(&raw, c);
                quoted = 1;
                for (;;) {
                    if (j >= lx->len || lx->text[j] == '\n') {
                        rh_scn_diag(diag, lx->file, phys, lx->line, col,
                                    "close the quote on the same line, or use a heredoc (<<EOF) for text "
                                    "that spans lines",
                                    "unterminated %s quote", q == '"' ? "double" : "single");
                        free(phys);
                        rh_buf_free(&word);
                        rh_buf_free(&raw);
                        free(hd_word);
                        lx->pos = j;
                        skip_line(lx);
                        rh_lline_free(out);
                        return -1;
                    }
                    char d = lx->text[j];
                    if (d == q) {
                        rh_buf_putc(&raw, d);
                        j++;
                        break;
                    }
                    if (q == '"' && d == '\\' && j + 1 < lx->len && lx->text[j + 1] != '\n') {
                        char e = lx->text[j + 1];
                        rh_buf_putc(&raw, d);
                        rh_buf_putc(&raw, e);
                        switch (e) {
                        case 'n': rh_buf_putc(&word, '\n'); break;
                        case 't': rh_buf_putc(&word, '\t'); break;
                        case '"': case '\\': rh_buf_putc(&word, e); break;
                        default: rh_buf_putc(&word, '\\'); rh_buf_putc(&word, e); break;
                        }
                        j += 2;
                        continue;
                    }
                    rh_buf_putc(&word, d);
                    rh_buf_putc(&raw, d);
                    j++;
                }
                i = j;
                continue;
            }
            if (c == '\\' && i + 1 < lx->len) {
                rh_buf_putc(&raw, c);
                rh_buf_putc(&raw, lx->text[i + 1]);
                rh_buf_putc(&word, lx->text[i + 1]);
                quoted = 1;
                i += 2;
                continue;
            }
            rh_buf_putc(&word, c);
            rh_buf_putc(&raw, c);
            i++;
        }
        /* move past this physical line */
        lx->pos = i < lx->len ? i + 1 : lx->len;
        if (i < lx->len)
            lx->line++;
        if (!out->source && (out->n || hd_word))
            out->source = rh_xstrdup(phys);
        else if (!out->source && continued)
            out->source = rh_xstrdup(phys);
        free(phys);
        (void)phys_line;
        if (continued)
            continue;
        if (out->n == 0 && !hd_word && rc == 0) {
            /* blank or comment-only line */
            free(out->source);
            out->source = NULL;
            continue;
        }
        break;
    }
    rh_buf_free(&word);
    rh_buf_free(&raw);

    if (rc < 0) {
        free(hd_word);
        rh_lline_free(out);
        return -1;
    }
    if (out->n == 0 && !hd_word) {
        rh_lline_free(out);
        return 0;
    }
    if (hd_word) {
        rh_buf body;
        rh_buf_init(&body);
        out->heredoc_line = lx->line;
        out->heredoc_col = hd_col;
        if (read_heredoc(lx, hd_word, &body) < 0) {
            char hint[256];
            snprintf(hint, sizeof hint, "end the text with a line that holds only %s", hd_word);
            rh_scn_diag(diag, lx->file, out->source, hd_line, hd_col, hint, "heredoc <<%s is never closed",
                        hd_word);
            rh_buf_free(&body);
            free(hd_word);
            rh_lline_free(out);
            return -1;
        }
        out->heredoc = rh_buf_steal(&body);
        rh_buf_free(&body);
        free(hd_word);
    }
    return 1;
}
