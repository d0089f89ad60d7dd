/* scale_bench.h — the filler's benchmark (`rehearse bench scale`). */
#ifndef RH_SCALE_BENCH_H
#define RH_SCALE_BENCH_H

#include "cluster/cluster.h"
#include "util/buf.h"

/* Fill a typical 10-column Prisma table with `rows` rows `runs` times; append rows/s (median) to out. */
int rh_scale_bench(const rh_cluster_opts *co, long long rows, int runs, int json, rh_buf *out, rh_err *err);

#endif
