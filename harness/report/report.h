/*
 * report.h — printing the results of a run: human (colour on a terminal, the failing step with
 * file:line, expected vs actual, catalog diff, the migration tool's output, server log tail), TAP version 13
 * (prove / pg_prove), JUnit XML (one testcase per scenario, the Jenkins/GitLab schema), JSON, and
 * GitHub Actions `::error file=...,line=...::` annotations.
 *
 * The runner decides what passed; this module only formats. Every writer appends to an rh_buf,
 * so the CLI decides where it goes (stdout or --output FILE) and tests inspect the bytes.
 */
#ifndef RH_REPORT_H
#define RH_REPORT_H

#include "runner/runner.h"
#include "util/buf.h"
#include "util/err.h"

typedef enum rh_report_format {
    RH_REPORT_HUMAN, RH_REPORT_TAP, RH_REPORT_JUNIT, RH_REPORT_JSON, RH_REPORT_MARKDOWN, RH_REPORT_HTML
} rh_report_format;

/* "human", "tap", "junit", "json" (also "xml" for junit), "markdown", "html". */
int rh_report_format_parse(const char *word, rh_report_format *out, rh_err *err);

typedef struct rh_report_opts {
    int color;        /* ANSI colours (human) */
    int verbose;      /* human: list passing scenarios with their times too (default: a line each anyway) */
} rh_report_opts;

/* The whole report in one format. */
void rh_report_write(const rh_run *run, rh_report_format fmt, const rh_report_opts *opts, rh_buf *out);

void rh_report_human(const rh_run *run, const rh_report_opts *opts, rh_buf *out);
void rh_report_tap(const rh_run *run, rh_buf *out);
void rh_report_junit(const rh_run *run, rh_buf *out);
void rh_report_json(const rh_run *run, rh_buf *out);
/* A pull-request comment (run_markdown.c), under GitHub's comment limit. */
void rh_report_markdown(const rh_run *run, rh_buf *out);

/* One self-contained HTML page (run_html.c): verdict, per scenario its steps, the ledger after each, a
   timeline of the migrations, failures with the file's lines around them and the catalog diff side by side. */
void rh_report_html(const rh_run *run, rh_buf *out);

/* One `::error file=F,line=L,title=T::message` line per failed scenario (GitHub Actions). */
void rh_report_github(const rh_run *run, rh_buf *out);

/* One progress line for a finished scenario ("[3/12] FAIL scenarios/x.scenario (1.2 s)"). */
void rh_report_progress_line(const rh_result *r, size_t done, size_t total, int color, rh_buf *out);

/* The word for a status: "PASS", "FAIL", "ERROR", "SKIP". */
const char *rh_report_status_word(const rh_result *r);

/* Whose output a failure shows, named by the tool that printed it: "prisma output" ("Prisma output" as a
   heading), "dbmate output", "the command's output" (`tool command`); "tool output" when the result does
   not say (a JSON report from before output_tool). */
void rh_report_output_title(const rh_result *r, int heading, rh_buf *out);

#endif
