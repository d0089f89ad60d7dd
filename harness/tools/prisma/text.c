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
 * The URL's schema= before that schema exists: the search_path is then only its name (the CLI sets it with
 * PQescapeIdentifier; PostgreSQL keeps the quotes only where the name needs them) and current_schema() is
 * NULL, while Prisma names the URL's schema all the same (tests/conformance/prisma_url.test.sh). The path's
 * first name; NULL when there is none or it is the default's "$user".
 */
static char *first_path_name(const char *path)
{
    rh_buf b;
    rh_buf_init(&b);
    const char *p = path ? path : "";
    while (*p == ' ')
        p++;
    if (*p == '"') {
        for (p++; *p && !(*p == '"' && p[1] != '"'); p++) {
            rh_buf_putc(&b, *p);
            p += *p == '"'; /* "" is one " */
        }
        if (!*p) { /* unterminated */
            rh_buf_free(&b);
            return NULL;
        }
    } else {
        for (; *p && *p != ',' && *p != ' '; p++)
            rh_buf_putc(&b, *p);
    }
    if (b.len == 0 || strcmp(b.data, "$user") == 0) {
        rh_buf_free(&b);
        return NULL;
    }
    return rh_buf_steal(&b);
}

/* "Prisma schema loaded from ..." and the datasource line of a native-engine CLI. Prisma 7 moved the
   first to stderr and ends it with a period (observed with the 7.10.1 oracle). */
void rh_text_prelude(PGconn *conn, const rh_profile *profile, rh_engine_result *res)
{
    rh_buf *out = &res->out;
    if (profile && profile->major >= 7)
        rh_buf_puts(&res->errout, "Prisma schema loaded from prisma/schema.prisma.\n");
    else
        rh_buf_puts(out, "Prisma schema loaded from prisma/schema.prisma\n");
    PGresult *r = PQexec(conn, "SELECT current_database(), current_schema(), current_setting('search_path')");
    const char *db = "postgres", *schema = "public";
    char *first = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        db = PQgetvalue(r, 0, 0);
        if (!PQgetisnull(r, 0, 1))
            schema = PQgetvalue(r, 0, 1);
        else if ((first = first_path_name(PQgetvalue(r, 0, 2))) != NULL)
            schema = first;
    }
    const char *host = PQhost(conn);
    const char *port = PQport(conn);
    if (!host || !*host || host[0] == '/')
        host = "localhost";
    rh_buf_printf(out, "Datasource \"db\": PostgreSQL database \"%s\", schema \"%s\" at \"%s:%s\"\n", db, schema,
                  host, port && *port ? port : "5432");
    PQclear(r);
    free(first);
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
