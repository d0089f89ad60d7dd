/*
 * escape.c — one escaping rule per machine-read format (see escape.h).
 */
#include "report/escape.h"

#include <json-c/json.h>
#include <string.h>

#include "util/utf8.h"

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
    rh_utf8_repair(&t, s, strlen(s));
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
    rh_utf8_repair(&t, s, strlen(s));
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
