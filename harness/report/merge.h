/*
 * merge.h — `rehearse report merge`: the results of several `rehearse run --format json` reports
 * (the shards of a suite run with --shard K/N on several CI machines) read back into one rh_run, so
 * that any report format (human, TAP, JUnit, JSON, Markdown, HTML) is written for the whole suite
 * by the same writers as a single run.
 */
#ifndef RH_REPORT_MERGE_H
#define RH_REPORT_MERGE_H

#include <stddef.h>

#include "runner/runner.h"
#include "util/err.h"

/*
 * Append the scenarios of one JSON report (text, len bytes; `name` names it in errors) to *into and
 * fold its summary in (wall time: the longest shard; jobs: summed). -1 with err
 * saying which file, where (line of a JSON syntax error, else the scenario's index and path) and what
 * was expected; *into keeps what was read before.
 */
int rh_report_read_json(const char *name, const char *text, size_t len, rh_run *into, rh_err *err);

/* Order by path (the order of one run), recount the totals; -1 when a scenario is in two reports. */
int rh_report_merge_finish(rh_run *run, rh_err *err);

#endif
