/*
 * escape.c — one escaping rule per machine-read format (see escape.h).
 */
#include "report/escape.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

static void term_filter(rh_buf *out, const char *s, size_t n, int keep_cr);

void rh_report_xml_text(rh_buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    while (n) {
        uint32_t c;
        size_t k = rh_utf8_decode(p, n, &c);
        if (k == 0) {
            rh_buf_puts(out, "\xEF\xBF\xBD");
            p++, n--;
            continue;
        }
        switch (c) {
        case '&': rh_buf_puts(out, "&amp;"); break;
        case '<': rh_buf_puts(out, "&lt;"); break;
        case '>': rh_buf_puts(out, "&gt;"); break;
        case '"': rh_buf_puts(out, "&quot;"); break;
        case '\n': rh_buf_puts(out, "&#10;"); break;
        case '\t': rh_buf_puts(out, "&#9;"); break;
        default:
            /* not an XML 1.0 Char: no byte and no reference may stand for it */
            if (c >= 0x20 && c != 0xFFFE && c != 0xFFFF)
                rh_buf_append(out, p, k);
        }
        p += k, n -= k;
    }
}

void rh_report_json_write(struct json_object *root, rh_buf *out)
{
    const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    rh_utf8_repair(out, text, strlen(text));
    rh_buf_putc(out, '\n');
}

void rh_report_github_escape(rh_buf *out, const char *s, int property)
{
    if (!s)
        return;
    rh_buf t;
    rh_buf_init(&t);
    term_filter(&t, s, strlen(s), 1); /* the runner echoes a command it does not know: no raw escapes */
    for (const char *p = t.data; *p; p++) {
        switch (*p) {
        case '%': rh_buf_puts(out, "%25"); break;
        case '\r': rh_buf_puts(out, "%0D"); break;
        case '\n': rh_buf_puts(out, "%0A"); break;
        case ':': rh_buf_puts(out, property ? "%3A" : ":"); break;
        case ',': rh_buf_puts(out, property ? "%2C" : ","); break;
        default: rh_buf_putc(out, *p);
        }
    }
    rh_buf_free(&t);
}

void rh_report_markdown_text(rh_buf *out, const char *s)
{
    if (!s)
        return;
    rh_buf t;
    rh_buf_init(&t);
    rh_report_term_text(&t, s); /* controls shown as pictures, bidi overrides as U+FFFD */
    for (const unsigned char *p = (const unsigned char *)t.data; *p; p++) {
        if (*p < 0x20 || *p == 0x7F)
            rh_buf_putc(out, ' ');
        else if (*p < 0x80 && strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", *p))
            rh_buf_printf(out, "\\%c", *p);
        else
            rh_buf_putc(out, (char)*p);
    }
    rh_buf_free(&t);
}

void rh_report_uri_path(rh_buf *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
            rh_buf_putc(out, (char)*p);
        else
            rh_buf_printf(out, "%%%02X", *p);
    }
}

void rh_report_markdown_code(rh_buf *out, const char *s)
{
    rh_buf t;
    rh_buf_init(&t);
    rh_utf8_repair(&t, s ? s : "", strlen(s ? s : ""));
    size_t run = 0, longest = 0;
    for (const char *p = t.data; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    size_t fence = longest < 3 ? 3 : longest + 1;
    for (size_t i = 0; i < fence; i++)
        rh_buf_putc(out, '`');
    rh_buf_putc(out, '\n');
    for (const unsigned char *p = (const unsigned char *)t.data; *p; p++)
        if (*p >= 0x20 || *p == '\n' || *p == '\t')
            rh_buf_putc(out, (char)*p);
    if (t.len && t.data[t.len - 1] != '\n')
        rh_buf_putc(out, '\n');
    for (size_t i = 0; i < fence; i++)
        rh_buf_putc(out, '`');
    rh_buf_putc(out, '\n');
    rh_buf_free(&t);
}

void rh_report_html_text(rh_buf *out, const char *s)
{
    rh_report_xml_text(out, s);
}

/* Code points a terminal acts on (besides C0/DEL): C1 controls (0x9B is CSI), and the bidirectional
   embeddings, overrides and isolates that reorder what a reader sees. */
static int term_hidden(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
           c == 0x200E || c == 0x200F || c == 0x061C;
}

/* rh_report_term_textn; keep_cr: CR stays a CR (a GitHub workflow command encodes it as %0D) */
static void term_filter(rh_buf *out, const char *s, size_t n, int keep_cr)
{
    const unsigned char *p = (const unsigned char *)s;
    if (!s)
        return;
    while (n) {
        uint32_t c;
        size_t k = rh_utf8_decode(p, n, &c);
        if (k == 0) {
            rh_buf_puts(out, "\xEF\xBF\xBD");
            p++, n--;
            continue;
        }
        if (c == '\n' || c == '\t' || (c == '\r' && (keep_cr || (n > 1 && p[1] == '\n')))) {
            if (c != '\r' || keep_cr)
                rh_buf_putc(out, (char)c);
        } else if (c < 0x20 || c == 0x7F) {
            /* U+2400 + c, U+2421 for DEL: the control is seen, not obeyed */
            uint32_t pic = c == 0x7F ? 0x2421 : 0x2400 + c;
            rh_buf_putc(out, (char)(0xE0 | (pic >> 12)));
            rh_buf_putc(out, (char)(0x80 | ((pic >> 6) & 0x3F)));
            rh_buf_putc(out, (char)(0x80 | (pic & 0x3F)));
        } else if (term_hidden(c)) {
            rh_buf_puts(out, "\xEF\xBF\xBD");
        } else {
            rh_buf_append(out, p, k);
        }
        p += k, n -= k;
    }
}

void rh_report_term_textn(rh_buf *out, const char *s, size_t n)
{
    term_filter(out, s, n, 0);
}

void rh_report_term_text(rh_buf *out, const char *s)
{
    if (s)
        rh_report_term_textn(out, s, strlen(s));
}

void rh_report_term_printf(rh_buf *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return; /* out of memory: vasprintf left text undefined */
    rh_report_term_textn(out, text, (size_t)n);
    free(text);
}

static void term_vfprintf(FILE *f, const char *fmt, va_list ap)
{
    char *text = NULL;
    int n = vasprintf(&text, fmt, ap);
    if (n < 0)
        return; /* out of memory: vasprintf left text undefined */
    rh_buf b;
    rh_buf_init(&b);
    rh_report_term_textn(&b, text, (size_t)n);
    fwrite(b.data ? b.data : "", 1, b.len, f);
    rh_buf_free(&b);
    free(text);
}

void rh_report_term_fprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    term_vfprintf(f, fmt, ap);
    va_end(ap);
}

void rh_report_term_eprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    term_vfprintf(stderr, fmt, ap);
    va_end(ap);
}
