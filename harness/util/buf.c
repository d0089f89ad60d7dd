/* buf.c — growable strings and allocation helpers (see buf.h). */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
    fputs("rehearse: out of memory\n", stderr);
    abort();
}

void *rh_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *rh_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *rh_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *rh_xstrdup(const char *s)
{
    return rh_xstrndup(s, strlen(s));
}

char *rh_xstrndup(const char *s, size_t n)
{
    char *p = rh_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *rh_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom();
    char *p = rh_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

static void grow(rh_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = rh_xrealloc(b->data, cap);
    b->cap = cap;
}

void rh_buf_init(rh_buf *b)
{
    b->data = rh_xmalloc(64);
    b->data[0] = '\0';
    b->len = 0;
    b->cap = 64;
}

void rh_buf_free(rh_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void rh_buf_reset(rh_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void rh_buf_append(rh_buf *b, const void *p, size_t n)
{
    grow(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void rh_buf_puts(rh_buf *b, const char *s)
{
    rh_buf_append(b, s, strlen(s));
}

void rh_buf_putc(rh_buf *b, char c)
{
    rh_buf_append(b, &c, 1);
}

void rh_buf_printf(rh_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom();
    grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *rh_buf_steal(rh_buf *b)
{
    char *p = b->data;
    /* Left empty and unallocated: callers may free it or not; appending allocates again. */
    b->data = NULL;
    b->len = b->cap = 0;
    return p ? p : rh_xstrdup("");
}
