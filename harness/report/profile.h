/*
 * profile.h — how every report says which Prisma profile a command used (issue 10.6): its version,
 * where it was read from, the folder order, how files are sent, and whether that profile was
 * verified against the real CLI. One writer per form, for `check` and `run` alike.
 */
#ifndef RH_REPORT_PROFILE_H
#define RH_REPORT_PROFILE_H

#include "migrations/profile.h"
#include "util/buf.h"

struct json_object;

/* {"version", "from", "source", "order", "exec", "verified"}; a new object the caller owns. */
struct json_object *rh_report_profile_json(const rh_profile *p, rh_profile_from from, const char *source);

/*
 * "Prisma 6.19.3 profile, from SOURCE: ICU collation order (Prisma >= 6.6), each migration.sql sent
 * as one query, verified against the real Prisma CLI" (no newline), appended to out.
 */
void rh_report_profile_line(const rh_profile *p, const char *source, rh_buf *out);

#endif
