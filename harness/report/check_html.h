/*
 * check_html.h — a `rehearse check` result as one self-contained HTML page (no network, no scripts,
 * no external fonts): the verdict, per new migration its statements with a bar of each one's time and
 * the locks it held, the findings with the server's message. Readable on a laptop, printable.
 */
#ifndef RH_REPORT_CHECK_HTML_H
#define RH_REPORT_CHECK_HTML_H

#include "check/check.h"
#include "util/buf.h"

void rh_report_check_html(const rh_check_result *r, rh_check_level fail_on, rh_buf *out);

#endif
