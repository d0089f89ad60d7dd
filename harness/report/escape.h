/*
 * escape.h — the one escaping rule of each machine-read format, for every writer of that format
 * (report/machine.c for `run`, check/format.c for `check`): XML 1.0 text, JSON documents, GitHub
 * workflow commands, HTML, Markdown, and text for terminals and CI logs (human reports, TAP). Text
 * from repositories (migration names, file names, server messages) may hold control characters,
 * markup and bytes that are not UTF-8: the output must still parse, and a hostile pull request must
 * not drive the reader's terminal or inject markup into a comment.
 */
#ifndef RH_REPORT_ESCAPE_H
#define RH_REPORT_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

#include "util/buf.h"

struct json_object;

/*
 * XML 1.0 character data or a double-quoted attribute value: & < > " escaped, newline and tab as
 * character references (kept in attributes too), other control characters and U+FFFE/U+FFFF dropped
 * (XML 1.0 allows no reference to them either), bytes that are not UTF-8 replaced by U+FFFD.
 * NULL appends nothing.
 */
void rh_report_xml_text(rh_buf *out, const char *s);

/*
 * A JSON document (pretty-printed, '/' unescaped) ending in a newline. json-c escapes quotes and
 * control characters but copies other bytes as they are, so bytes that are not UTF-8 become U+FFFD
 * here (only inside strings: the rest of the text is ASCII).
 */
void rh_report_json_write(struct json_object *root, rh_buf *out);

/*
 * GitHub workflow command escaping: message data escapes % CR LF; a property value (file=, title=)
 * also : and ,. Bytes that are not UTF-8 become U+FFFD. NULL appends nothing.
 */
void rh_report_github_escape(rh_buf *out, const char *s, int property);

/* HTML text or a double-quoted attribute value: the XML 1.0 rule above (valid HTML too). */
void rh_report_html_text(rh_buf *out, const char *s);

/*
 * Markdown (GitHub's CommonMark) inline text: every ASCII punctuation character backslash-escaped (so
 * no name or message opens a link, emphasis, a table cell or an HTML tag), newlines and tabs as spaces,
 * other controls as rh_report_term_text shows them (pictures; bidi overrides and bytes that are not
 * UTF-8 as U+FFFD). NULL appends nothing.
 */
void rh_report_markdown_text(rh_buf *out, const char *s);

/* A relative URI path (a Markdown link target, a SARIF artifact uri): bytes other than A-Z a-z 0-9 - . _ ~ /
 * percent-encoded. */
void rh_report_uri_path(rh_buf *out, const char *s);

/*
 * A fenced code block holding s as it is (after U+FFFD repair and control characters but tab and
 * newline dropped): the fence is one backtick longer than the longest run of backticks in s.
 */
void rh_report_markdown_code(rh_buf *out, const char *s);

/*
 * Text for a terminal or a CI log (human reports, TAP): repository text (migration names, file text,
 * server messages) must not move the cursor, clear the screen, retitle the window or hide a line.
 * Newline and tab are kept; CR before LF is dropped (CRLF files); other C0 controls and DEL become
 * their visible control pictures (ESC -> U+241B), C1 controls and bidirectional overrides U+FFFD, bytes
 * that are not UTF-8 U+FFFD. n bytes of s (the whole string with rh_report_term_text). NULL appends nothing.
 */
void rh_report_term_text(rh_buf *out, const char *s);
void rh_report_term_textn(rh_buf *out, const char *s, size_t n);

/* printf into a human report: the formatted text through rh_report_term_text (the caller's own colour
   codes go separately, outside it). */
void rh_report_term_printf(rh_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same, written to stderr: for the notes and errors modules print themselves (paths, revisions and
   server messages in them come from the repository or the user). */
void rh_report_term_eprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same, written to f (a caller's notes stream, e.g. rh_clean_source.notes). */
void rh_report_term_fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
