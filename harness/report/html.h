/*
 * html.h — what the HTML pages (check_html.c, run_html.c) share: the page's head with its one inline
 * style sheet (no network, no script, no font from elsewhere; printable), and a catalog diff shown
 * side by side. Text goes through rh_report_html_text (escape.h).
 */
#ifndef RH_REPORT_HTML_H
#define RH_REPORT_HTML_H

#include "util/buf.h"

/* "<!DOCTYPE html>...<body>" with the title (plain text, escaped). */
void rh_report_html_head(rh_buf *out, const char *title);

/*
 * A catalog diff (catalog/catalog.h rh_catalog_diff's text: "--- A", "+++ B", "- " only in A, "+ "
 * only in B, "~ " changed with its -/+ property lines) as a two-column table: A's lines left, B's
 * right, runs of removed and added lines paired row by row; object headers and the count span both.
 */
void rh_report_html_diff(rh_buf *out, const char *diff);

/* A lock held on a relation: its mode (AccessExclusiveLock in red) and the relation, then <br>. */
void rh_report_html_lock(rh_buf *out, const char *mode, const char *relation);

/* Text in <pre>, the lines that start with '>' (a failing line in a context excerpt) marked. */
void rh_report_html_context(rh_buf *out, const char *text);

/* A time column's cell content: a bar of class cls scaled to the table's longest (max_ms), then "12.3 ms". */
void rh_report_html_bar(rh_buf *out, const char *cls, double ms, double max_ms);

#endif
