/*
 * history_markdown.h — `rehearse history --format markdown`: the comparison as a pull-request comment.
 */
#ifndef RH_REPORT_HISTORY_MARKDOWN_H
#define RH_REPORT_HISTORY_MARKDOWN_H

#include "source/history.h"
#include "util/buf.h"

void rh_report_history_markdown(const rh_git_history *h, rh_buf *out);

#endif
