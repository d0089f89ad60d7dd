/*
 * check_markdown.h — a `rehearse check` result as a pull-request comment (GitHub Markdown): the
 * verdict first, a row per new migration (how it runs, the strongest lock it takes on a table that
 * existed before), the findings with file:line links relative to the repository, details folded in
 * <details>. The whole text stays under GitHub's comment limit; what does not fit is cut, with a
 * line saying what was cut. Formatting only: check decides levels and the verdict.
 */
#ifndef RH_REPORT_CHECK_MARKDOWN_H
#define RH_REPORT_CHECK_MARKDOWN_H

#include "check/check.h"
#include "util/buf.h"

/* GitHub's limit on a comment body (characters; a byte count at most this is always within it). */
#define RH_REPORT_MARKDOWN_LIMIT 65536

void rh_report_check_markdown(const rh_check_result *r, rh_check_level fail_on, rh_buf *out);

/* The strongest lock of a trace on a relation that existed before it ("AccessExclusiveLock"); NULL if none. */
const char *rh_report_trace_worst_lock(const rh_check_trace *t);

/*
 * How long the trace held its worst lock on an existing table (ms): in measuring mode (t->measured)
 * the longest held_ms the tracer timed for a lock of that mode; else, from the statements' times: in
 * the migration's transaction from the first that took it to the end of the transaction, for a
 * statement outside the transaction its own time. -1 when it took no lock on an existing table. Measured on the
 * database as check filled it: meaningful with --scale/--rows (the "measured" column).
 */
double rh_report_trace_block_ms(const rh_check_trace *t);

#endif
