/*
 * state_file.c — the bytes of a caller's file kept with a deployed state (cluster.h rh_state_file):
 * a header with the SHA-256 and length of the text, then the text. Read back only when they match,
 * so that a damaged or truncated file is a miss (state.c writes and reads the files; this is their
 * format alone, fuzzed by tests/fuzz/fuzz_state_file.c).
 */
#include "cluster/internal.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_HEADER "rehearse state file sha256="

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        abort(); /* OpenSSL cannot hash: nothing sensible to do */
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

char *rh_state_file_wrap(const char *text)
{
    char sum[65];
    sha256_hex(text, strlen(text), sum);
    return rh_xasprintf(FILE_HEADER "%s bytes=%zu\n%s", sum, strlen(text), text);
}

int rh_state_file_unwrap(const char *data, size_t len, char **text)
{
    *text = NULL;
    size_t hlen = strlen(FILE_HEADER);
    const char *nl = memchr(data, '\n', len);
    if (!nl || len < hlen + 64 || memcmp(data, FILE_HEADER, hlen) != 0)
        return 0;
    const char *want = data + hlen;
    for (int i = 0; i < 64; i++)
        if (!((want[i] >= '0' && want[i] <= '9') || (want[i] >= 'a' && want[i] <= 'f')))
            return 0;
    const char *p = want + 64;
    if (nl - p < 8 || memcmp(p, " bytes=", 7) != 0)
        return 0;
    size_t bytes = 0;
    for (p += 7; p < nl; p++) { /* digits up to the newline, nothing else */
        if (*p < '0' || *p > '9' || bytes > (SIZE_MAX - 9) / 10)
            return 0;
        bytes = bytes * 10 + (size_t)(*p - '0');
    }
    const char *body = nl + 1;
    if (bytes != len - (size_t)(body - data) || memchr(body, '\0', bytes) != NULL)
        return 0;
    char sum[65];
    sha256_hex(body, bytes, sum);
    if (memcmp(sum, want, 64) != 0)
        return 0;
    *text = rh_xstrndup(body, bytes);
    return 1;
}
