/*
 * pgver.c — PostgreSQL version texts as users give them (--pg, REHEARSE_PG, `postgres VERSION`).
 */
#include "util/pgver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

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

char *rh_pgver_mismatch_note(const char *production, const char *source, const char *other_label, const char *other)
{
    int pmajor, pminor, omajor, ominor;
    char p[32], o[32];
    /* "14.9", "140009" (server_version_num) or "16.2 (Debian 16.2-1)": the leading number */
    snprintf(p, sizeof p, "%.*s", (int)strspn(production ? production : "", "0123456789."), production ? production : "");
    snprintf(o, sizeof o, "%.*s", (int)strspn(other ? other : "", "0123456789."), other ? other : "");
    if (!rh_pgver_parse(p, &pmajor, &pminor) || !rh_pgver_parse(o, &omajor, &ominor) || pmajor == omajor)
        return NULL;
    return rh_xasprintf("production runs PostgreSQL %s (%s); %s %s: --pg %d rehearses on production's major", p,
                        source, other_label, o, pmajor);
}
