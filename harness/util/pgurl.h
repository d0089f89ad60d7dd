/* pgurl.h — a DATABASE_URL as Prisma takes it, made acceptable to libpq. */
#ifndef RH_PGURL_H
#define RH_PGURL_H

/*
 * libpq rejects Prisma's own query parameters (schema=, connection_limit=, pgbouncer= ...): return
 * the URL without them (malloc'd); schema= (percent-decoded) goes to *schema (malloc'd, or NULL
 * when absent). Anything that is not a postgres:// or postgresql:// URL is returned unchanged.
 */
char *rh_pgurl_from_prisma(const char *url, char **schema);

#endif
