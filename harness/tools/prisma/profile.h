/*
 * profile.h — Prisma's version profiles: the behaviours that differ between Prisma versions.
 *
 * Folder order: Prisma < 6.6 sorts names by bytes in the schema engine; >= 6.6 sorts them in the
 * CLI with JavaScript's localeCompare (ICU collation). Execution: < 7.4 sends each migration.sql
 * as one simple-query message; >= 7.4 (prisma-engines PR #5767: the engine shipped in 7.4.0 is the
 * first to embed sqlparser 0.61) sends it statement by statement when sqlparser 0.61 parses the
 * whole file (migrations/sqlparser_model.h), else whole. Texts and streams: 7.x's CLI (major >= 7).
 * Verified against the real CLI: 6.19.x and 7.10.x (the two oracles); every other profile says why
 * it is believed in `note`. Others reach these through rh_tool_prisma (profile_from_version,
 * profile_describe, default_version).
 */
#ifndef RH_TOOLS_PRISMA_PROFILE_H
#define RH_TOOLS_PRISMA_PROFILE_H

#include "migrations/profile.h"
#include "util/buf.h"
#include "util/err.h"

/* The profile rehearse uses when nothing says otherwise (the oracle's version, 6.19.3). */
#define RH_PRISMA_DEFAULT_VERSION "6.19.3"

/* Parse a version ("6.19", "6.19.3", "^5.22.0", "~6.6.0") into a profile. */
int rh_prisma_profile_from_version(rh_profile *out, const char *version, rh_err *err);

/*
 * What the profile does, for people: "ICU collation order (Prisma >= 6.6), each migration.sql sent as
 * one query, verified against the real Prisma CLI". Appended to out.
 */
void rh_prisma_profile_describe(const rh_profile *p, rh_buf *out);

#endif
