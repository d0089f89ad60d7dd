/*
 * profile.h — Prisma version profiles: the behaviours that differ between Prisma versions.
 *
 * Folder order: Prisma < 6.6 sorts names by bytes in the schema engine; >= 6.6 sorts them in the
 * CLI with JavaScript's localeCompare (ICU collation). Execution: < 7.4 sends each migration.sql
 * as one simple-query message; >= 7.4 (prisma-engines PR #5767: the engine shipped in 7.4.0 is the
 * first to embed sqlparser 0.61) sends it statement by statement when sqlparser 0.61 parses the
 * whole file (migrations/sqlparser_model.h), else whole. Texts and streams: 7.x's CLI (major >= 7).
 * Verified against the real CLI: 6.19.x and 7.10.x (the two oracles); every other profile says why
 * it is believed in `note`.
 */
#ifndef RH_PROFILE_H
#define RH_PROFILE_H

#include "migrations/migset.h"
#include "util/buf.h"
#include "util/err.h"

typedef enum rh_order { RH_ORDER_BYTES, RH_ORDER_ICU } rh_order;
typedef enum rh_exec { RH_EXEC_WHOLE_SCRIPT, RH_EXEC_SPLIT_STATEMENTS } rh_exec;

typedef struct rh_profile {
    char version[32];    /* "6.19.3" as given or detected */
    int major, minor, patch;
    rh_order order;
    rh_exec exec;
    int verified;        /* 0 when the profile's behaviour was not observed against real Prisma */
    char note[200];      /* what is uncertain about this profile ("" when nothing), said by every report */
} rh_profile;

/* Where a profile came from (source/loader.h decides). */
typedef enum rh_profile_from {
    RH_PROFILE_FROM_OVERRIDE, /* --prisma-version, or a scenario's `prisma V` */
    RH_PROFILE_FROM_PACKAGE,  /* a package.json range (no lock file named a version) */
    RH_PROFILE_FROM_LOCK,     /* a lock file's exact version */
    RH_PROFILE_FROM_DEFAULT,  /* nothing named Prisma, or what did could not be read */
} rh_profile_from;

/* "override", "package.json", "lock-file", "default" (JSON's profile.from). */
const char *rh_profile_from_name(rh_profile_from from);
/* "bytes", "icu" (JSON's profile.order). */
const char *rh_order_name(rh_order order);
/* "whole-script", "statements" (JSON's profile.exec). */
const char *rh_exec_name(rh_exec exec);

/*
 * What the profile does, for people: "ICU collation order (Prisma >= 6.6), each migration.sql sent as
 * one query, verified against the real Prisma CLI". Appended to out.
 */
void rh_profile_describe(const rh_profile *p, rh_buf *out);

/* The profile rehearse uses when nothing says otherwise (the oracle's version, 6.19.3). */
#define RH_PROFILE_DEFAULT_VERSION "6.19.3"

/* Parse a version ("6.19", "6.19.3", "^5.22.0", "~6.6.0") into a profile. */
int rh_profile_from_version(rh_profile *out, const char *version, rh_err *err);

/* Sort the set in the profile's folder order. */
void rh_migset_sort(rh_migset *set, const rh_profile *profile);
/* Sort the set in one order (tools whose folder order is not a Prisma profile's: bytes). */
void rh_migset_sort_in(rh_migset *set, rh_order order);

/* Compare two names in an order (<0, 0, >0). */
int rh_order_compare(rh_order order, const char *a, const char *b);

#endif
