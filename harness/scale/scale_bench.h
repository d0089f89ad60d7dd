/* scale_bench.h — the filler's benchmark (`rehearse bench scale`). */
#ifndef RH_SCALE_BENCH_H
#define RH_SCALE_BENCH_H

#include "cluster/cluster.h"
#include "util/buf.h"

/* Fill two typical 10-column Prisma tables (User, its child Post) with `rows` rows each, `runs` times the bulk way and
   the direct way, interleaved (bulk_only: the bulk way alone, for sizes where the direct way takes many minutes);
   append rows/s (medians) per table and way to out. */
int rh_scale_bench(const rh_cluster_opts *co, long long rows, int runs, int bulk_only, int json, rh_buf *out, rh_err *err);

#endif
