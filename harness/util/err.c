/* err.c — filling rh_err values (see err.h). */
#include "util/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void rh_err_clear(rh_err *err)
{
    if (!err)
        return;
    err->msg[0] = '\0';
    err->code[0] = '\0';
}

/* Append src at used, truncating to fit (snprintf would warn on the truncation it is meant for). */
static void append_str(char *dst, size_t cap, size_t used, const char *src)
{
    if (used >= cap)
        return;
    size_t room = cap - used - 1, len = strlen(src);
    if (len > room)
        len = room;
    memcpy(dst + used, src, len);
    dst[used + len] = '\0';
}

int rh_err_set(rh_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int rh_err_errno(rh_err *err, const char *fmt, ...)
{
    int saved = errno;
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof err->msg) {
        append_str(err->msg, sizeof err->msg, (size_t)n, ": ");
        append_str(err->msg, sizeof err->msg, strlen(err->msg), strerror(saved));
    }
    errno = saved;
    return -1;
}

int rh_err_prefix(rh_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char old[RH_ERR_MAX];
    memcpy(old, err->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof err->msg && old[0]) {
        append_str(err->msg, sizeof err->msg, (size_t)n, ": ");
        append_str(err->msg, sizeof err->msg, strlen(err->msg), old);
    }
    return -1;
}

void rh_err_code(rh_err *err, const char *code)
{
    if (!err)
        return;
    snprintf(err->code, sizeof err->code, "%s", code ? code : "");
}
