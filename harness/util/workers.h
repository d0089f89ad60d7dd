/* workers.h — a small pool of threads working through numbered items (util/fs.c: the copy and the removal
   of a tree, folder by folder). */
#ifndef RH_WORKERS_H
#define RH_WORKERS_H

#include <stddef.h>

#include "util/err.h"

/* The most threads a pool may be asked for. */
#define RH_WORKERS_MAX 16

/*
 * One item: item i of the caller's arg, run on the thread numbered slot (0 is the caller's; the others are
 * helpers), for per-thread state such as an array of max entries. Returns 0, or -1 with err set.
 */
typedef int (*rh_work_fn)(void *arg, size_t i, size_t slot, rh_err *err);

/*
 * Run fn for every i in [0, n), each exactly once, on up to max threads: the caller's and helpers it starts
 * and joins before returning, no more threads than CPUs online or items (fewer when a thread cannot be
 * started: the others take its share). The first failing item's error is returned (-1, err), whichever
 * thread ran it; with stop_at_error no item is handed out after it, else every item runs (rm -rf).
 */
int rh_run_workers(rh_work_fn fn, void *arg, size_t n, size_t max, int stop_at_error, rh_err *err);
/* (max: 1 to RH_WORKERS_MAX) */

/* How many threads rh_run_workers uses for n items and at most max: min(max, CPUs online, n), at least 1. */
size_t rh_workers_wanted(size_t n, size_t max);

#endif
