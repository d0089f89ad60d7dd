/*
 * utf8.h — decoding UTF-8 strictly (as Rust's String and XML parsers do) and repairing text that is
 * not, for every place that must tell or fix it: migration names, reports programs read.
 */
#ifndef RH_UTF8_H
#define RH_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/*
 * Decode one UTF-8 sequence at s (n > 0 bytes left). Returns its length and the code point, or 0 for
 * an invalid sequence (overlong forms, surrogates and values past U+10FFFF are invalid too).
 */
size_t rh_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Append s[0..n) to out with each byte that starts no valid sequence replaced by U+FFFD. */
void rh_utf8_repair(rh_buf *out, const char *s, size_t n);

#endif
