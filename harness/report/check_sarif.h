/*
 * check_sarif.h — a `rehearse check` result as SARIF 2.1.0 (GitHub code scanning and other SARIF
 * readers): one run of the tool "rehearse", a rule per finding code with its help text, one result
 * per finding with its level and, when the finding names a file, its location (file relative to the
 * repository root, line). Formatting only.
 */
#ifndef RH_REPORT_CHECK_SARIF_H
#define RH_REPORT_CHECK_SARIF_H

#include "check/check.h"
#include "util/buf.h"

void rh_report_check_sarif(const rh_check_result *r, rh_buf *out);

#endif
