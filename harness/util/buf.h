/*
 * buf.h — a growable byte string (always NUL-terminated), for building text and SQL.
 *
 * Allocation failure aborts: rehearse is a command-line tool, and an out-of-memory condition in the
 * middle of building a message is not something a caller could recover from meaningfully.
 */
#ifndef RH_BUF_H
#define RH_BUF_H

#include <stddef.h>

typedef struct rh_buf {
    char *data;   /* NUL-terminated; NULL only after rh_buf_steal/rh_buf_free */
    size_t len;
    size_t cap;
} rh_buf;

void rh_buf_init(rh_buf *b);
void rh_buf_free(rh_buf *b);
void rh_buf_reset(rh_buf *b);                     /* len = 0, keeps the memory */
void rh_buf_append(rh_buf *b, const void *p, size_t n);
void rh_buf_puts(rh_buf *b, const char *s);
void rh_buf_putc(rh_buf *b, char c);
void rh_buf_printf(rh_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *rh_buf_steal(rh_buf *b);                    /* hand the string to the caller; b is left empty
                                                     (no memory held: freeing it is optional) */

/* Helpers that abort on allocation failure. */
void *rh_xmalloc(size_t n);
void *rh_xcalloc(size_t n, size_t size);
void *rh_xrealloc(void *p, size_t n);
char *rh_xstrdup(const char *s);
char *rh_xstrndup(const char *s, size_t n);
char *rh_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
