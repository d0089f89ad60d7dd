/* stats.h — median/min/max of a sample, for the benchmarks. */
#ifndef RH_STATS_H
#define RH_STATS_H

#include <stddef.h>

#include "util/buf.h"

typedef struct rh_stats {
    double median, min, max;
    size_t n;
} rh_stats;

/* Summarise values (the array is sorted in place). */
rh_stats rh_stats_of(double *values, size_t n);

/* Append {"median":…,"min":…,"max":…,"n":…} (numbers with 3 decimals). */
void rh_stats_json(rh_buf *b, rh_stats s);

#endif
