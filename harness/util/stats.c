/* stats.c — median/min/max for benchmark output. */
#include "util/stats.h"

#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

rh_stats rh_stats_of(double *values, size_t n)
{
    rh_stats s = {0, 0, 0, n};
    if (n == 0)
        return s;
    qsort(values, n, sizeof *values, cmp_double);
    s.min = values[0];
    s.max = values[n - 1];
    s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    return s;
}

void rh_stats_json(rh_buf *b, rh_stats s)
{
    rh_buf_printf(b, "{\"median\": %.3f, \"min\": %.3f, \"max\": %.3f, \"n\": %zu}", s.median, s.min, s.max, s.n);
}
