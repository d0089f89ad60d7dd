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

/* Append a libpq conninfo value, quoted: 'value' with \ and ' escaped. */
void rh_conninfo_quote(rh_buf *b, const char *v)
{
    rh_buf_putc(b, '\'');
    for (; *v; v++) {
        if (*v == '\'' || *v == '\\')
            rh_buf_putc(b, '\\');
        rh_buf_putc(b, *v);
    }
    rh_buf_putc(b, '\'');
}

/* Append " -c name=value" to backend options text: a space or backslash in value is escaped with a backslash. */
static void option_setting(rh_buf *opts, const char *name, const char *value)
{
    rh_buf_printf(opts, "%s-c %s=", opts->len ? " " : "", name);
    for (; *value; value++) {
        if (*value == ' ' || *value == '\\')
            rh_buf_putc(opts, '\\');
        rh_buf_putc(opts, *value);
    }
}

int rh_pgenv_to_conninfo(const char *var, const char *value, rh_buf *ci, rh_buf *opts)
{
    /* libpq sends these as startup settings from getenv() (fe-connect.c EnvironmentOptions) */
    static const char *const settings[][2] = {{"PGTZ", "timezone"}, {"PGDATESTYLE", "datestyle"}, {"PGGEQO", "geqo"}};
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (strcmp(var, settings[i][0]) == 0) {
            option_setting(opts, settings[i][1], value);
            return 1;
        }
    if (strcmp(var, "PGOPTIONS") == 0) {
        rh_buf_printf(opts, "%s%s", opts->len && *value ? " " : "", value);
        return 1;
    }
    if (says_where(var))
        return 0;
    int rc = -1;
    PQconninfoOption *defaults = PQconndefaults();
    for (PQconninfoOption *o = defaults; o && o->keyword; o++)
        if (o->envvar && strcmp(o->envvar, var) == 0) {
            rh_buf_printf(ci, " %s=", o->keyword);
            rh_conninfo_quote(ci, value);
            rc = 1;
            break;
        }
    PQconninfoFree(defaults);
    return rc;
}

void rh_pgenv_options(rh_buf *ci, const char *opts)
{
    if (!opts || !*opts)
        return;
    rh_buf_puts(ci, " options=");
    rh_conninfo_quote(ci, opts);
}
