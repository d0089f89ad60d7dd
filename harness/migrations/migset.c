/*
 * migset.c — the migration set: building it, describing odd names, and checksums (SHA-256 through
 * libcrypto's EVP interface). A tool's folder reader fills it (tools/NAME/).
 */
#include "migrations/migset.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/utf8.h"

/* ---- building ----------------------------------------------------------------------------------- */

rh_migration *rh_migset_push(rh_migset *set, const char *name, size_t len)
{
    if (set->n == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 32;
        set->items = rh_xrealloc(set->items, set->cap * sizeof *set->items);
    }
    rh_migration *m = &set->items[set->n++];
    memset(m, 0, sizeof *m);
    m->name = rh_xstrndup(name, len);
    return m;
}

void rh_migration_set_sql(rh_migration *m, const void *sql, size_t len)
{
    free(m->sql);
    m->sql = rh_xmalloc(len + 1);
    if (len)
        memcpy(m->sql, sql, len);
    m->sql[len] = '\0';
    m->sql_len = len;
    rh_checksum_hex(m->sql, len, m->checksum);
}

void rh_migration_add_problem(rh_migration *m, const char *fmt, ...)
{
    rh_buf b;
    rh_buf_init(&b);
    if (m->problem) {
        rh_buf_puts(&b, m->problem);
        rh_buf_puts(&b, "; ");
        free(m->problem);
    }
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    rh_buf_puts(&b, s);
    free(s);
    m->problem = rh_buf_steal(&b);
    rh_buf_free(&b);
}

static void add_problem(rh_migset *set, const char *file, const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    set->problems = rh_xrealloc(set->problems, (set->n_problems + 1) * sizeof *set->problems);
    set->problems[set->n_problems++] = (rh_set_problem){.text = s, .file = file ? rh_xstrdup(file) : NULL};
}

void rh_migset_add_problem(rh_migset *set, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_problem(set, NULL, fmt, ap);
    va_end(ap);
}

void rh_migset_add_file_problem(rh_migset *set, const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_problem(set, file, fmt, ap);
    va_end(ap);
}

const rh_migration *rh_migset_find(const rh_migset *set, const char *name)
{
    long i = rh_migset_index(set, name);
    return i < 0 ? NULL : &set->items[i];
}

long rh_migset_index(const rh_migset *set, const char *name)
{
    if (!set || !name)
        return -1;
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->items[i].name, name) == 0)
            return (long)i;
    return -1;
}

void rh_migset_free(rh_migset *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        free(set->items[i].name);
        free(set->items[i].sql);
        free(set->items[i].problem);
    }
    for (size_t i = 0; i < set->n_problems; i++) {
        free(set->problems[i].text);
        free(set->problems[i].file);
    }
    free(set->problems);
    free(set->items);
    free(set->lock_provider);
    free(set->origin);
    memset(set, 0, sizeof *set);
}

/* ---- names -------------------------------------------------------------------------------------- */

/* Characters that a person does not see (or sees as a plain space) in a file listing. */
static int invisible(uint32_t c)
{
    return c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0) || c == 0xA0 || c == 0xAD ||
           c == 0x034F || c == 0x061C || c == 0x115F || c == 0x1160 || c == 0x17B4 || c == 0x17B5 ||
           (c >= 0x180B && c <= 0x180E) || (c >= 0x2000 && c <= 0x200F) ||
           (c >= 0x2028 && c <= 0x202F) || (c >= 0x205F && c <= 0x206F) || c == 0x3000 ||
           c == 0x3164 || (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF || c == 0xFFA0 ||
           (c >= 0xFFF0 && c <= 0xFFFB) || (c >= 0x1D173 && c <= 0x1D17A) ||
           (c >= 0xE0000 && c <= 0xE0FFF);
}

char *rh_name_oddity(const char *name, size_t len)
{
    const unsigned char *s = (const unsigned char *)name;
    rh_buf b;
    rh_buf_init(&b);
    size_t i = 0;
    while (i < len) {
        uint32_t c;
        size_t k = rh_utf8_decode(s + i, len - i, &c);
        if (k == 0) {
            if (b.len)
                rh_buf_puts(&b, ", ");
            rh_buf_printf(&b, "is not valid UTF-8 (byte 0x%02x at offset %zu)", s[i], i);
            i++;
            continue;
        }
        if (invisible(c)) {
            if (b.len)
                rh_buf_puts(&b, ", ");
            rh_buf_printf(&b, "contains the invisible character U+%04X at byte %zu", (unsigned)c, i);
        }
        i += k;
    }
    if (b.len == 0) {
        rh_buf_free(&b);
        return NULL;
    }
    char *r = rh_buf_steal(&b);
    rh_buf_free(&b);
    return r;
}

char *rh_name_printable(const char *name, size_t len)
{
    const unsigned char *s = (const unsigned char *)name;
    rh_buf b;
    rh_buf_init(&b);
    size_t i = 0;
    while (i < len) {
        uint32_t c;
        size_t k = rh_utf8_decode(s + i, len - i, &c);
        if (k == 0) {
            rh_buf_printf(&b, "<0x%02x>", s[i]);
            i++;
        } else if (invisible(c)) {
            rh_buf_printf(&b, "<U+%04X>", (unsigned)c);
            i += k;
        } else {
            rh_buf_append(&b, s + i, k);
            i += k;
        }
    }
    char *r = rh_buf_steal(&b);
    rh_buf_free(&b);
    return r;
}

/* ---- checksums ------------------------------------------------------------------------------------ */

void rh_sha256(const void *data, size_t len, unsigned char md[32])
{
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
        fprintf(stderr, "rehearse: libcrypto SHA-256 failed\n");
        abort();
    }
}

static void hex64(const unsigned char md[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[64] = '\0';
}

void rh_checksum_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    rh_sha256(data, len, md);
    hex64(md, out);
}

