/*
 * sarif.h — `rehearse check` and `rehearse history` results as SARIF 2.1.0 (GitHub code scanning and
 * other SARIF readers): one run of the tool "rehearse", a rule per finding code (history: kind) with
 * its help text, one result per finding with its level and, when the finding names a file, its
 * location (file relative to the repository root, line). Formatting only.
 */
#ifndef RH_REPORT_SARIF_H
#define RH_REPORT_SARIF_H

#include "check/check.h"
#include "source/history.h"
#include "util/buf.h"

void rh_report_check_sarif(const rh_check_result *r, rh_buf *out);

/* history: a hazard is a warning, a note a note; the rule is the kind ("edited", "out-of-order" ...). */
void rh_report_history_sarif(const rh_git_history *h, rh_buf *out);

#endif
