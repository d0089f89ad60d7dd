/*
 * pgver.c — PostgreSQL version texts as users give them (--pg, REHEARSE_PG, `postgres VERSION`).
 */
#include "util/pgver.h"

#include <stdio.h>
#include <stdlib.h>

/* "17" or "17.10": *major and *minor (-1: any minor). 0 if the text is not such a version. */
int rh_pgver_parse(const char *want, int *major, int *minor)
{
    char *end;
    long m = strtol(want, &end, 10);
    if (end == want || m < 9 || m > 99)
        return 0;
    *major = (int)m;
    *minor = -1;
    if (*end == '\0')
        return 1;
    if (*end != '.')
        return 0;
    const char *p = end + 1;
    long n = strtol(p, &end, 10);
    if (end == p || *end != '\0' || n < 0 || n > 999)
        return 0;
    *minor = (int)n;
    return 1;
}

int rh_pgver_matches(const char *version, int major, int minor)
{
    int ma = -1, mi = -1;
    if (sscanf(version, "%d.%d", &ma, &mi) < 1)
        return 0;
    return ma == major && (minor < 0 || mi == minor);
}
