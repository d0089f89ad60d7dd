/*
 * utf8.c — strict UTF-8 decoding (Unicode's table of well-formed byte sequences) and repair.
 */
#include "util/utf8.h"

#include <assert.h>

size_t rh_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    assert(n > 0);
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t c, min;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2, c = s[0] & 0x1F, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3, c = s[0] & 0x0F, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

void rh_utf8_repair(rh_buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0; /* run: valid bytes not yet copied, ending at i */
    while (i < n) {
        uint32_t c;
        size_t k = rh_utf8_decode(p + i, n - i, &c);
        if (k) {
            i += k, run += k;
            continue;
        }
        rh_buf_append(out, p + i - run, run);
        rh_buf_puts(out, "\xEF\xBF\xBD");
        i++, run = 0;
    }
    rh_buf_append(out, p + i - run, run);
}
