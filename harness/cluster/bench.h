/* bench.h — the cluster benchmark (`rehearse bench cluster`). */
#ifndef RH_CLUSTER_BENCH_H
#define RH_CLUSTER_BENCH_H

#include "cluster/cluster.h"

/* Run `runs` start/stop cycles interleaved with the naive way; append a table or JSON to out. */
int rh_cluster_bench(const rh_cluster_opts *opts, int runs, int json, rh_buf *out, rh_err *err);

#endif
