/* bench.h — the cluster benchmark (`rehearse bench cluster`). */
#ifndef RH_CLUSTER_BENCH_H
#define RH_CLUSTER_BENCH_H

#include "cluster/cluster.h"

/*
 * Run `runs` start/stop cycles interleaved with the naive way; append a table or JSON to out.
 * with_virtualenv adds up to 3 `pg_virtualenv true` runs: not by default, because a kill during one
 * leaves its machine-wide cluster (/etc/postgresql/N/regress, /var/lib/postgresql/N/regress) behind.
 */
int rh_cluster_bench(const rh_cluster_opts *opts, int runs, int with_virtualenv, int json, rh_buf *out, rh_err *err);

#endif
