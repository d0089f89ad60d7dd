/*
 * values.h — the filler's one generator of column values (issue 14): value number K of a column's
 * type, in the binary form COPY ... (FORMAT binary) reads (its int32 length word, then the bytes).
 * rehearse generates rows itself and streams them (fill.c): ~0.1-0.5 µs of rehearse's CPU per row
 * instead of ~4 µs of the server's for the same values built by SQL expressions (docs/scale.md).
 *
 * The values, by type (K >= 0; distinct K give distinct values unless said):
 *   int2/int4: K mod 32767 / 2^31-1; int8: K; numeric(p,s): K mod 10^min(15, p-s); float: K / 8;
 *   bool: K even; text/varchar/bpchar/citext: 'v' + K zero-padded to 12 digits, padded with 'x' to
 *   the stats' average width, cut to varchar(n); n <= 12: K in base 62 (36 for citext) over n
 *   characters; uuid: K in the last 8 bytes; timestamp(tz): 2020-01-01 00:00 (UTC) + K seconds;
 *   date: 2000-01-01 + K mod 36500 days; time(tz): K mod 86400 seconds; json/jsonb {"k": K};
 *   bytea: K's 8 bytes; enum: label K mod labels; arrays: empty.
 */
#ifndef RH_SCALE_VALUES_H
#define RH_SCALE_VALUES_H

#include <libpq-fe.h>

#include "util/buf.h"

typedef enum rh_scale_kind {
    RH_GEN_INT2, RH_GEN_INT4, RH_GEN_INT8, RH_GEN_NUMERIC, RH_GEN_FLOAT4, RH_GEN_FLOAT8, RH_GEN_BOOL,
    RH_GEN_TEXT,  /* 'v' + 12 digits (+ 'x' padding), cut to `limit` */
    RH_GEN_SHORT, /* base `base` over `width` characters */
    RH_GEN_UUID, RH_GEN_TIMESTAMP, RH_GEN_DATE, RH_GEN_TIME, RH_GEN_TIMETZ, RH_GEN_JSON, RH_GEN_JSONB,
    RH_GEN_BYTEA, RH_GEN_ENUM, RH_GEN_EMPTY_ARRAY
} rh_scale_kind;

typedef struct rh_scale_gen {
    rh_scale_kind kind;
    long long mod;       /* numeric: K mod this (0: no bound) */
    int limit;           /* text: varchar(n)/char(n) length, 0: none */
    int width, base;     /* short text */
    int padded;          /* text: total length with the 'x' padding (0: none) */
    char **labels;       /* enum labels in sort order */
    int nlabels;
    unsigned elem;       /* empty array: the element type's oid */
} rh_scale_gen;

/*
 * Prepare the generator of a column's type (pg_type's typname, typtype, typcategory, typelem and the
 * column's atttypmod; avg_width from the stats, 0 when unknown). An enum's labels are read through conn.
 * -1 when rehearse cannot generate the type (the column is then left to its DEFAULT or NULL).
 */
int rh_scale_gen_init(rh_scale_gen *g, PGconn *conn, const char *typname, char typtype, char category, int typmod,
                      unsigned typoid, unsigned typelem, int avg_width);
void rh_scale_gen_free(rh_scale_gen *g);

/* Append value K in COPY's binary field form (length word + bytes). */
void rh_scale_gen_put(const rh_scale_gen *g, long long k, rh_buf *out);

#endif
