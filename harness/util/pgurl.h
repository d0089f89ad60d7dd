/* pgurl.h — where a connection string leads: the remote-host guard. (A tool's own URL parameters:
   rh_tool.database_url, tools/tool.h.) */
#ifndef RH_PGURL_H
#define RH_PGURL_H

#include <libpq-fe.h>

#include "util/err.h"

/*
 * The remote-host guard (issue 17.3). Every host a connection string leads to — a URL or key=value
 * text, with the environment (PGHOST, PGHOSTADDR, PGPORT) and the service file (service=,
 * PGSERVICE, PGSERVICEFILE) applied by libpq's own rules, each entry of a list `host=a,b` — must
 * be a unix socket or resolve only to loopback addresses (127.0.0.0/8, ::1). Decided without
 * connecting; on success `out` holds the hosts with every address pinned (hostaddr), so that a
 * name cannot resolve elsewhere between the check and the connection. -1: err says which host
 * resolves where (or why the text is invalid); nothing was sent.
 */
typedef struct rh_pgurl_pinned {
    char *host, *hostaddr, *port;   /* comma-separated lists of the same length */
} rh_pgurl_pinned;

int rh_pgurl_pin_local(const char *conninfo, rh_pgurl_pinned *out, rh_err *err);

/*
 * The parse half of the guard, which resolves no name (so it is fuzzed: tests/fuzz/fuzz_pgurl.c): the
 * entries libpq would try for conninfo, by its own parser with the environment and the service file
 * applied, without connecting. An entry is a unix socket (no hostaddr; host empty, "/..." or "@...") or
 * a name or address still to resolve; no field holds a comma. -1: err says why the text is invalid.
 */
typedef struct rh_pgurl_target {
    char *host, *hostaddr, *port; /* "" when not given */
    int socket;
} rh_pgurl_target;

int rh_pgurl_targets(const char *conninfo, rh_pgurl_target **out, size_t *n, rh_err *err);
void rh_pgurl_targets_free(rh_pgurl_target *t, size_t n);
void rh_pgurl_pinned_free(rh_pgurl_pinned *p);

/* Connect (blocking) to conninfo with its hosts replaced by the pinned ones. */
PGconn *rh_pgurl_connect_pinned(const char *conninfo, const rh_pgurl_pinned *p);

/* Connect (blocking) to a user's database (--database-url, a snapshot operand) by libpq's rules for
   where it leads, the user's PGSERVICE included (util/pgenv.h). Never for a throwaway cluster. */
PGconn *rh_pgurl_connect(const char *conninfo);

#endif
