/*
 * text.c — the texts Prisma's CLI prints around the engine's commands (packages/migrate in
 * prisma 6.19.x and the schema engine's user-facing errors), byte for byte where observed with
 * the prisma-oracle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/prisma/prisma_int.h"

/* The CLI's error frame: "Error: P3005\n\nmessage\n" + console.error's newline. */
void rh_text_error(rh_engine_result *res, const char *code, const char *message)
{
    if (code && *code) {
        snprintf(res->code, sizeof res->code, "%s", code);
        rh_buf_printf(&res->errout, "Error: %s\n\n%s\n\n", code, message);
    } else {
        rh_buf_printf(&res->errout, "Error: %s\n", message);
    }
    res->exit_code = 1;
}

/*
 * "Prisma schema loaded from ..." and the datasource line of a native-engine CLI. Prisma 7 moved the
 * first to stderr and ends it with a period (observed with the 7.10.1 oracle). The line's schema is the
 * URL's schema= as written (decoded), even before that schema exists, else "public": Prisma's CLI reads it
 * from the URL, not from the connection, so a role's or database's search_path naming another schema first
 * does not show (6.19.3 and 7.10.1, tests/conformance/prisma_url.test.sh). Before, rehearse printed
 * current_schema().
 */
void rh_text_prelude(PGconn *conn, const rh_profile *profile, const char *url_schema, rh_engine_result *res)
{
    rh_buf *out = &res->out;
    if (profile && profile->major >= 7)
        rh_buf_puts(&res->errout, "Prisma schema loaded from prisma/schema.prisma.\n");
    else
        rh_buf_puts(out, "Prisma schema loaded from prisma/schema.prisma\n");
    const char *db = PQdb(conn);
    const char *host = PQhost(conn);
    const char *port = PQport(conn);
    if (!host || !*host || host[0] == '/')
        host = "localhost";
    rh_buf_printf(out, "Datasource \"db\": PostgreSQL database \"%s\", schema \"%s\" at \"%s:%s\"\n",
                  db && *db ? db : "postgres", url_schema && *url_schema ? url_schema : "public", host,
                  port && *port ? port : "5432");
}

void rh_text_found(rh_buf *out, size_t n)
{
    rh_buf_puts(out, "\n");
    if (n > 0)
        rh_buf_printf(out, "%zu migration%s found in prisma/migrations\n", n, n > 1 ? "s" : "");
    else
        rh_buf_puts(out, "No migration found in prisma/migrations\n");
}

/* user_facing_errors::schema_engine::ApplyMigrationError (P3018). */
char *rh_text_p3018(const char *name, const rh_exec_failure *f)
{
    rh_buf b;
    rh_buf_init(&b);
    rh_buf_printf(&b,
                  "A migration failed to apply. New migrations cannot be applied before the error is "
                  "recovered from. Read more about how to resolve migration issues in a production "
                  "database: https://pris.ly/d/migrate-resolve\n\nMigration name: %s\n\nDatabase error "
                  "code: %s\n\nDatabase error:\n%s\n",
                  name, f->sqlstate, f->display ? f->display : "");
    if (f->debug && *f->debug)
        rh_buf_printf(&b, "\n%s\n", f->debug);
    return rh_buf_steal(&b);
}

/* PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK: any value but "" and "0" disables the lock. */
int rh_prisma_lock_wanted(const rh_engine_opts *opts)
{
    if (opts && opts->advisory_lock != 0)
        return opts->advisory_lock > 0;
    const char *v = getenv("PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK");
    return !(v && *v && strcmp(v, "0") != 0);
}
