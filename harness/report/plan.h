/*
 * plan.h — `rehearse plan`'s report: for each migration, how the Prisma version sends it and what
 * follows (migrations/plan.h). One writer per form: human lines, JSON and a Markdown comment.
 */
#ifndef RH_REPORT_PLAN_H
#define RH_REPORT_PLAN_H

#include <stddef.h>

#include "migrations/plan.h"
#include "migrations/profile.h"
#include "util/buf.h"

typedef struct rh_plan_entry {
    const char *name;       /* the migration's folder name */
    rh_plan plan;
} rh_plan_entry;

/* "  NAME: one implicit transaction (3 statements): atomic; CREATE INDEX CONCURRENTLY fails with 25001" ... */
void rh_report_plan_human(const rh_profile *p, const char *profile_source, const rh_plan_entry *e, size_t n,
                          rh_buf *out);

/* {"profile": {...}, "migrations": [{"name", "mode", "statements", "atomic", "concurrently",
   "concurrently_fails", "fallback": {"line", "reason"} | null}]} */
void rh_report_plan_json(const rh_profile *p, rh_profile_from from, const char *profile_source,
                         const rh_plan_entry *e, size_t n, rh_buf *out);

/*
 * A pull-request comment: the verdict first (a CONCURRENTLY statement that fails with 25001, a
 * migration that is not atomic, or all atomic), then a row per migration: how it is sent, atomic,
 * CONCURRENTLY; the name links to `folder/NAME/migration.sql` (repository-relative; NULL: no links).
 * Under RH_REPORT_MARKDOWN_LIMIT, with a line saying what was cut.
 */
void rh_report_plan_markdown(const rh_profile *p, const char *profile_source, const char *folder,
                             const rh_plan_entry *e, size_t n, rh_buf *out);

/* One phrase for a plan (human and check's findings): "3 autocommit statements", ... */
void rh_report_plan_mode(const rh_plan *plan, rh_buf *out);

#endif
