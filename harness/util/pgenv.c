/*
 * pgenv.c — rehearse's own connections take nothing from the user's libpq environment (see pgenv.h).
 *
 * Why the environment and not the conninfo: libpq sends PGTZ, PGDATESTYLE and PGGEQO to the server as
 * startup settings straight from getenv(), whatever the conninfo says, and an explicit `service=''`
 * is an error, not "no service". So the variables go, once, before any connection is made.
 */
#include "util/pgenv.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static char *user_service;

/* Where and as whom: a --database-url keeps libpq's rules for them; a cluster's conninfo names each. */
static int says_where(const char *var)
{
    static const char *const keep[] = {"PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD",
                                       "PGPASSFILE", NULL};
    for (size_t i = 0; keep[i]; i++)
        if (strcmp(var, keep[i]) == 0)
            return 1;
    return 0;
}

void rh_pgenv_isolate(void)
{
    /* read by libpq itself, not options of PQconndefaults: the startup settings and a deprecated alias */
    static const char *const direct[] = {"PGTZ", "PGDATESTYLE", "PGGEQO", "PGREQUIRESSL", "PGSERVICE", NULL};
    const char *service = getenv("PGSERVICE");
    if (service && *service && !user_service)
        user_service = rh_xstrdup(service);
    for (size_t i = 0; direct[i]; i++)
        unsetenv(direct[i]);
    /* every option with an environment variable, as this libpq knows them (PGREQUIREAUTH, PGSSLNEGOTIATION
       ... in newer versions): PGSERVICE is gone first, so no service file is read here */
    PQconninfoOption *defaults = PQconndefaults();
    for (PQconninfoOption *o = defaults; o && o->keyword; o++)
        if (o->envvar && !says_where(o->envvar))
            unsetenv(o->envvar);
    PQconninfoFree(defaults);
}

const char *rh_pgenv_user_service(void) { return user_service; }
