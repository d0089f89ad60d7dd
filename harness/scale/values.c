/* values.c — value K of a column's type in COPY's binary form (see values.h for the values). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scale/values.h"

/* 2020-01-01 in the server's binary timestamps: microseconds since 2000-01-01 (7305 days later) */
#define EPOCH_2020_US (7305LL * 86400 * 1000000)

static const char digits62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int rh_scale_gen_init(rh_scale_gen *g, PGconn *conn, const char *typname, char typtype, char category, int typmod,
                      unsigned typoid, unsigned typelem, int avg_width)
{
    memset(g, 0, sizeof *g);
    if (typtype == 'e') {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT enumlabel FROM pg_enum WHERE enumtypid = %u ORDER BY enumsortorder", typoid);
        PGresult *r = PQexec(conn, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0) {
            PQclear(r);
            return -1;
        }
        g->kind = RH_GEN_ENUM;
        g->nlabels = PQntuples(r);
        g->labels = rh_xcalloc((size_t)g->nlabels, sizeof *g->labels);
        for (int i = 0; i < g->nlabels; i++)
            g->labels[i] = rh_xstrdup(PQgetvalue(r, i, 0));
        PQclear(r);
        return 0;
    }
    if (typtype == 'd' || typtype == 'c' || typtype == 'r' || typtype == 'm')
        return -1; /* domains, composites, ranges: not generated */
    if (category == 'A') {
        g->kind = RH_GEN_EMPTY_ARRAY;
        g->elem = typelem;
        return 0;
    }
    static const struct {
        const char *name;
        rh_scale_kind kind;
    } simple[] = {
        {"int2", RH_GEN_INT2},   {"int4", RH_GEN_INT4},     {"int8", RH_GEN_INT8},           {"float4", RH_GEN_FLOAT4},
        {"float8", RH_GEN_FLOAT8}, {"bool", RH_GEN_BOOL},   {"uuid", RH_GEN_UUID},           {"timestamp", RH_GEN_TIMESTAMP},
        {"timestamptz", RH_GEN_TIMESTAMP}, {"date", RH_GEN_DATE}, {"time", RH_GEN_TIME},     {"timetz", RH_GEN_TIMETZ},
        {"json", RH_GEN_JSON},   {"jsonb", RH_GEN_JSONB},   {"bytea", RH_GEN_BYTEA},
    };
    for (size_t i = 0; i < sizeof simple / sizeof *simple; i++)
        if (!strcmp(typname, simple[i].name)) {
            g->kind = simple[i].kind;
            return 0;
        }
    if (!strcmp(typname, "numeric")) {
        g->kind = RH_GEN_NUMERIC;
        if (typmod >= 4) { /* K mod 10^(integer digits, at most 15): fits numeric(p,s) */
            int precision = ((typmod - 4) >> 16) & 0xffff, scale = (typmod - 4) & 0xffff;
            int digits = precision - scale > 15 ? 15 : precision - scale;
            g->mod = 1;
            for (int i = 0; i < digits; i++)
                g->mod *= 10;
        }
        return 0;
    }
    if (!strcmp(typname, "text") || !strcmp(typname, "varchar") || !strcmp(typname, "bpchar") || !strcmp(typname, "citext")) {
        int limit = typmod >= 4 ? typmod - 4 : 0;
        if (limit > 0 && limit <= 12) {
            /* short: K in base 62 (base 36 for citext, whose unique index ignores case) over `limit`
               characters, so that 62^n distinct values fit (zero-padded decimals behind a 'v' held only
               10^(n-1)); the digits sort as the numbers do in ASCII, so keys still arrive in index order */
            g->kind = RH_GEN_SHORT;
            g->base = !strcmp(typname, "citext") ? 36 : 62;
            int most = g->base == 62 ? 10 : 12; /* base^width must fit a long long */
            g->width = limit > most ? most : limit;
            return 0;
        }
        /* zero-padded, so that keys arrive in index order (appends to the btree's right edge) and stay
           distinct inside varchar(n) */
        g->kind = RH_GEN_TEXT;
        g->limit = limit;
        g->padded = avg_width > 13 ? (avg_width > 4000 ? 4000 : avg_width) : 0;
        return 0;
    }
    return -1;
}

void rh_scale_gen_free(rh_scale_gen *g)
{
    for (int i = 0; i < g->nlabels; i++)
        free(g->labels[i]);
    free(g->labels);
    memset(g, 0, sizeof *g);
}

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

/* length word + `bytes` big-endian bytes of v */
static void put_int(rh_buf *out, uint64_t v, int bytes)
{
    unsigned char b[12];
    put_be(b, (uint64_t)bytes, 4);
    put_be(b + 4, v, bytes);
    rh_buf_append(out, b, (size_t)(4 + bytes));
}

static void put_bytes(rh_buf *out, const void *p, size_t n)
{
    unsigned char len[4];
    put_be(len, n, 4);
    rh_buf_append(out, len, 4);
    rh_buf_append(out, p, n);
}

/* K's decimal digits into s (no terminator); their count */
static int decimal(long long k, char *s)
{
    char tmp[24];
    int n = 0;
    unsigned long long v = k < 0 ? (unsigned long long)(-(k + 1)) + 1 : (unsigned long long)k;
    do
        tmp[n++] = (char)('0' + v % 10);
    while (v /= 10);
    int m = 0;
    if (k < 0)
        s[m++] = '-';
    while (n)
        s[m++] = tmp[--n];
    return m;
}

/* numeric's binary form of a whole number >= 0: base-10000 digits, most significant first */
static void put_numeric(rh_buf *out, unsigned long long v)
{
    uint16_t d[8];
    int n = 0;
    for (unsigned long long x = v; x; x /= 10000)
        d[n++] = (uint16_t)(x % 10000);
    unsigned char b[4 + 8 + 2 * 8];
    put_be(b, (uint64_t)(8 + 2 * n), 4);
    put_be(b + 4, (uint64_t)n, 2);                   /* ndigits */
    put_be(b + 6, (uint64_t)(n ? n - 1 : 0), 2);     /* weight */
    put_be(b + 8, 0, 2);                             /* sign: positive */
    put_be(b + 10, 0, 2);                            /* dscale: the column's typmod sets it */
    for (int i = 0; i < n; i++)
        put_be(b + 12 + 2 * i, d[n - 1 - i], 2);
    rh_buf_append(out, b, (size_t)(12 + 2 * n));
}

void rh_scale_gen_put(const rh_scale_gen *g, long long k, rh_buf *out)
{
    char s[4096 + 32];
    switch (g->kind) {
    case RH_GEN_INT2: put_int(out, (uint64_t)(k % 32767), 2); return;
    case RH_GEN_INT4: put_int(out, (uint64_t)(k % 2147483647), 4); return;
    case RH_GEN_INT8: put_int(out, (uint64_t)k, 8); return;
    case RH_GEN_NUMERIC: put_numeric(out, (unsigned long long)(g->mod ? k % g->mod : k)); return;
    case RH_GEN_FLOAT4: {
        float f = (float)((double)k / 8);
        uint32_t u;
        memcpy(&u, &f, 4);
        put_int(out, u, 4);
        return;
    }
    case RH_GEN_FLOAT8: {
        double f = (double)k / 8;
        uint64_t u;
        memcpy(&u, &f, 8);
        put_int(out, u, 8);
        return;
    }
    case RH_GEN_BOOL: put_int(out, k % 2 == 0, 1); return;
    case RH_GEN_TEXT: {
        /* 'v' + K as 12 digits: zero-padded, or its first 12 digits when longer */
        char d[24];
        int nd = decimal(k, d);
        int n = 0;
        s[n++] = 'v';
        if (nd < 12) {
            memset(s + n, '0', (size_t)(12 - nd));
            n += 12 - nd;
            memcpy(s + n, d, (size_t)nd);
            n += nd;
        } else {
            memcpy(s + n, d, 12);
            n += 12;
        }
        if (g->padded > n) {
            memset(s + n, 'x', (size_t)(g->padded - n));
            n = g->padded;
        }
        if (g->limit && n > g->limit)
            n = g->limit;
        put_bytes(out, s, (size_t)n);
        return;
    }
    case RH_GEN_SHORT: {
        long long power = 1;
        for (int i = 1; i < g->width; i++)
            power *= g->base;
        for (int i = 0; i < g->width; i++, power /= g->base)
            s[i] = digits62[(k / power) % g->base];
        put_bytes(out, s, (size_t)g->width);
        return;
    }
    case RH_GEN_UUID: {
        unsigned char u[16] = {0};
        put_be(u + 8, (uint64_t)k, 8);
        put_bytes(out, u, 16);
        return;
    }
    case RH_GEN_TIMESTAMP: put_int(out, (uint64_t)(EPOCH_2020_US + k * 1000000LL), 8); return;
    case RH_GEN_DATE: put_int(out, (uint64_t)(k % 36500), 4); return;
    case RH_GEN_TIME: put_int(out, (uint64_t)(k % 86400 * 1000000LL), 8); return;
    case RH_GEN_TIMETZ: {
        unsigned char b[16];
        put_be(b, 12, 4);
        put_be(b + 4, (uint64_t)(k % 86400 * 1000000LL), 8);
        put_be(b + 12, 0, 4); /* UTC */
        rh_buf_append(out, b, 16);
        return;
    }
    case RH_GEN_JSON:
    case RH_GEN_JSONB: {
        int n = 0;
        if (g->kind == RH_GEN_JSONB)
            s[n++] = 1; /* jsonb's binary format version, then its text */
        memcpy(s + n, "{\"k\": ", 6);
        n += 6;
        n += decimal(k, s + n);
        s[n++] = '}';
        put_bytes(out, s, (size_t)n);
        return;
    }
    case RH_GEN_BYTEA: put_int(out, (uint64_t)k, 8); return;
    case RH_GEN_ENUM: {
        const char *l = g->labels[k % g->nlabels];
        put_bytes(out, l, strlen(l));
        return;
    }
    case RH_GEN_EMPTY_ARRAY: {
        unsigned char b[16];
        put_be(b, 12, 4);
        put_be(b + 4, 0, 4); /* no dimensions */
        put_be(b + 8, 0, 4); /* no NULLs */
        put_be(b + 12, g->elem, 4);
        rh_buf_append(out, b, 16);
        return;
    }
    }
}
