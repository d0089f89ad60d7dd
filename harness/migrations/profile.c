/*
 * profile.c — the version profile model's names, and the two folder orders a profile may choose.
 *
 * RH_ORDER_ICU reproduces JavaScript's `a.localeCompare(b)` as a node CLI that sorts its folder
 * calls it (which tool versions do: tools/NAME/profile.c): node's ICU with the default locale,
 * default options (tertiary strength, no numeric collation). The root collator (ucol_open("")) orders like node's "en"/"en-US" default; the
 * conformance test (tests/unit/test_order_icu.c) holds names whose order was taken from node.
 */
#include "migrations/profile.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ucol.h>

/* ---- names and descriptions ------------------------------------------------------------------------ */

const char *rh_profile_from_name(rh_profile_from from)
{
    switch (from) {
    case RH_PROFILE_FROM_OVERRIDE: return "override";
    case RH_PROFILE_FROM_PACKAGE: return "package.json";
    case RH_PROFILE_FROM_LOCK: return "lock-file";
    case RH_PROFILE_FROM_DEFAULT: return "default";
    }
    return "?";
}

const char *rh_order_name(rh_order order)
{
    return order == RH_ORDER_ICU ? "icu" : "bytes";
}

const char *rh_exec_name(rh_exec exec)
{
    return exec == RH_EXEC_SPLIT_STATEMENTS ? "statements" : "whole-script";
}

/* ---- orders ---------------------------------------------------------------------------------------- */

static UCollator *collator;
static pthread_once_t collator_once = PTHREAD_ONCE_INIT;

static void collator_open(void)
{
    UErrorCode status = U_ZERO_ERROR;
    /* "" is the root locale: CLDR root collation, which the "en" default of node also uses. */
    collator = ucol_open("", &status);
    if (U_FAILURE(status) || !collator) {
        fprintf(stderr, "rehearse: cannot open the ICU root collator: %s\n", u_errorName(status));
        abort();
    }
}

int rh_order_compare(rh_order order, const char *a, const char *b)
{
    if (order == RH_ORDER_ICU) {
        pthread_once(&collator_once, collator_open);
        UErrorCode status = U_ZERO_ERROR;
        /* Const use of a collator is thread-safe in ICU. Ill-formed UTF-8 compares as U+FFFD,
           which is what node sees after decoding such a file name. */
        UCollationResult r = ucol_strcollUTF8(collator, a, -1, b, -1, &status);
        if (U_SUCCESS(status))
            return r == UCOL_LESS ? -1 : r == UCOL_GREATER ? 1 : 0;
    }
    int c = strcmp(a, b);
    return c < 0 ? -1 : c > 0;
}

static _Thread_local rh_order sort_order;

static int cmp_entries(const void *pa, const void *pb)
{
    const rh_migration *a = pa, *b = pb;
    int c = rh_order_compare(sort_order, a->name, b->name);
    if (c == 0) /* names ICU holds equal (ignorable characters): a stable, deterministic tie-break */
        c = strcmp(a->name, b->name);
    return c;
}

void rh_migset_sort_in(rh_migset *set, rh_order order)
{
    if (!set || set->n < 2)
        return;
    sort_order = order;
    qsort(set->items, set->n, sizeof *set->items, cmp_entries);
}

void rh_migset_sort(rh_migset *set, const rh_profile *profile)
{
    rh_migset_sort_in(set, profile ? profile->order : RH_ORDER_ICU);
}
