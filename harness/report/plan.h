/*
 * plan.h — `rehearse plan`'s report: for each migration, how the tool (at its version profile) sends it and what
 * follows (migrations/plan.h). One writer per form: human lines, JSON and a Markdown comment.
 */
#ifndef RH_REPORT_PLAN_H
#define RH_REPORT_PLAN_H

#include <stddef.h>

#include "migrations/plan.h"
#include "migrations/profile.h"
#include "util/buf.h"

typedef struct rh_plan_entry {
    const char *name;       /* the migration's name (folder name, or another tool's file name / tag) */
    rh_plan plan;
    const char *how;        /* another tool: how it sends the file, in its words (rh_tool.plan_file's first
                               line); NULL: the profile's phrase (rh_report_plan_mode) */
    const char *fails;      /* another tool: why it cannot apply the file as written (its other lines), NULL
                               when it can; the default tool: NULL (plan.concurrently_fails says) */
    const char *file;       /* the file below the folder, for links; NULL: NAME/migration.sql */
} rh_plan_entry;

/* Who sends the files: the default tool at a version profile, or another tool (profile NULL). */
typedef struct rh_plan_sender {
    const rh_profile *profile;
    rh_profile_from from;
    const char *source;     /* where the profile came from */
    const char *tool;       /* another tool's name ("dbmate"); NULL: the default tool */
    const char *tool_says;  /* its deploy command ("dbmate migrate") */
} rh_plan_sender;

/* "  NAME: one implicit transaction (3 statements): atomic; CREATE INDEX CONCURRENTLY fails with 25001" ... */
void rh_report_plan_human(const rh_plan_sender *by, const rh_plan_entry *e, size_t n, rh_buf *out);

/* {"profile": {...} | null, "tool": NAME (another tool only), "migrations": [{"name", "mode", "statements",
   "atomic", "concurrently", "concurrently_fails", "fallback": {"line", "reason"} | null, another tool's
   "how" and "fails" (text | null)}]} */
void rh_report_plan_json(const rh_plan_sender *by, const rh_plan_entry *e, size_t n, rh_buf *out);

/*
 * A pull-request comment: the verdict first (a file that fails as written — CONCURRENTLY with 25001 —
 * a migration that is not atomic, or all atomic), then a row per migration: how it is sent, atomic,
 * CONCURRENTLY; the name links to `folder/NAME/migration.sql` (or folder/e.file; repository-relative;
 * folder NULL: no links). Under RH_REPORT_MARKDOWN_LIMIT, with a line saying what was cut.
 */
void rh_report_plan_markdown(const rh_plan_sender *by, const char *folder, const rh_plan_entry *e, size_t n,
                             rh_buf *out);

/* One phrase for a plan (human and check's findings): "3 autocommit statements", ... */
void rh_report_plan_mode(const rh_plan *plan, rh_buf *out);

#endif
