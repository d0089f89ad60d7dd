/*
 * err.h — the error value every fallible rehearse call fills in.
 *
 * Calls return 0 on success and -1 on failure; on failure they write a complete, human-readable
 * message into the caller's rh_err (what failed, on which argument: file, revision, migration,
 * SQLSTATE ...). Callers that add context prepend it with rh_err_prefix().
 */
#ifndef RH_ERR_H
#define RH_ERR_H

#include <stddef.h>

#define RH_ERR_MAX 4096

typedef struct rh_err {
    char msg[RH_ERR_MAX];
    char code[16];   /* optional machine code: a migration tool's error ("P3009") or a SQLSTATE; "" if none */
} rh_err;

/* Clear an error value. */
void rh_err_clear(rh_err *err);

/* Set the message (printf-style); always returns -1 so callers can `return rh_err_set(...)`. */
int rh_err_set(rh_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like rh_err_set, and appends ": strerror(errno)". */
int rh_err_errno(rh_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Put context in front of an existing message: "context: old message". Returns -1. */
int rh_err_prefix(rh_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set the machine code (truncated to fit). */
void rh_err_code(rh_err *err, const char *code);

#endif
