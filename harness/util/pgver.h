/*
 * pgver.h — PostgreSQL version texts: "17" (any minor) or "17.10".
 */
#ifndef RH_PGVER_H
#define RH_PGVER_H

/* "17" or "17.10" into major and minor (-1: any). 0 when it is not a version. */
int rh_pgver_parse(const char *want, int *major, int *minor);
/* 1 if a version string like "17.10" is major (and minor, unless -1). */
int rh_pgver_matches(const char *version, int major, int minor);

/*
 * The one note that production's known version (from `source`: a dump's header, --scale's statistics,
 * SHOW server_version of --database-url) and another one (this rehearsal's, --pg's) are different
 * majors: "production runs PostgreSQL 14.9 (the restored dump's header); this rehearsal ran on 15.18:
 * --pg 14 rehearses on production's major". NULL when the majors agree or a version is unknown. Caller frees.
 */
char *rh_pgver_mismatch_note(const char *production, const char *source, const char *other_label, const char *other);

#endif
