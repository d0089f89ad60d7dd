/*
 * profile.h — how every report says which version profile of the default tool a command used (issue
 * 10.6; tools/tool.h: the tool's profile_describe says what it does): its version,
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
 * "TITLE 6.19.3 profile, from SOURCE: " and the tool's description of the profile (no newline),
 * appended to out.
 */
void rh_report_profile_line(const rh_profile *p, const char *source, rh_buf *out);

#endif
