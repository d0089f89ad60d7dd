/*
 * pgver.h — PostgreSQL version texts: "17" (any minor) or "17.10".
 */
#ifndef RH_PGVER_H
#define RH_PGVER_H

/* "17" or "17.10" into major and minor (-1: any). 0 when it is not a version. */
int rh_pgver_parse(const char *want, int *major, int *minor);
/* 1 if a version string like "17.10" is major (and minor, unless -1). */
int rh_pgver_matches(const char *version, int major, int minor);

#endif
