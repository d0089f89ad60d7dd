/*
 * profile.h — a tool's version profile: the behaviours that differ between versions of one
 * migration tool (its folder order, how it sends a file, how sure rehearse is of it), and the two
 * folder orders. A tool makes profiles from version texts (rh_tool.profile_from_version, in
 * tools/NAME/); a tool with one behaviour has none.
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
    int verified;        /* 0 when the profile's behaviour was not observed against the tool's real CLI */
    char note[200];      /* what is uncertain about this profile ("" when nothing), said by every report */
} rh_profile;

/* Where a profile came from (source/loader.h decides). */
typedef enum rh_profile_from {
    RH_PROFILE_FROM_OVERRIDE, /* a version option, or a scenario's `tool NAME VERSION` */
    RH_PROFILE_FROM_PACKAGE,  /* a package.json range (no lock file named a version) */
    RH_PROFILE_FROM_LOCK,     /* a lock file's exact version */
    RH_PROFILE_FROM_DEFAULT,  /* nothing named the tool's version, or what did could not be read */
} rh_profile_from;

/* "override", "package.json", "lock-file", "default" (JSON's profile.from). */
const char *rh_profile_from_name(rh_profile_from from);
/* "bytes", "icu" (JSON's profile.order). */
const char *rh_order_name(rh_order order);
/* "whole-script", "statements" (JSON's profile.exec). */
const char *rh_exec_name(rh_exec exec);

/* Sort the set in the profile's folder order. */
void rh_migset_sort(rh_migset *set, const rh_profile *profile);
/* Sort the set in one order (tools without profiles: bytes). */
void rh_migset_sort_in(rh_migset *set, rh_order order);

/* Compare two names in an order (<0, 0, >0). */
int rh_order_compare(rh_order order, const char *a, const char *b);

#endif
