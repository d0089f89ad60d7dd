/*
 * load.c — turns an operand of `rehearse snapshot` / `rehearse diff` into a catalog: a database
 * URL or conninfo (connect and snapshot), "rev:REV" (a clean deploy, through a resolver that the
 * migrate engine registers), or a snapshot file.
 */
#include "catalog/catalog_int.h"
#include "tools/tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"
#include "util/pgurl.h"

static rh_catalog_rev_resolver rev_resolver;
static void *rev_ctx;

void rh_catalog_set_rev_resolver(rh_catalog_rev_resolver fn, void *ctx)
{
    rev_resolver = fn;
    rev_ctx = ctx;
}

static int is_url(const char *s)
{
    return strncmp(s, "postgres://", 11) == 0 || strncmp(s, "postgresql://", 13) == 0;
}

/* Connect, snapshot, disconnect; the error names the operand (without its password). */
static int from_database(const char *conninfo, const char *shown, const rh_catalog_opts *opts, rh_catalog **out,
                         rh_err *err)
{
    PGconn *conn = rh_pgurl_connect(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        rh_err_set(err, "cannot connect to %s: %s", shown, PQerrorMessage(conn));
        PQfinish(conn);
        return -1;
    }
    int rc = rh_catalog_snapshot(conn, opts, out, err);
    PQfinish(conn);
    if (rc < 0)
        rh_err_prefix(err, "%s", shown);
    return rc;
}

/* "postgres://user:secret@host/db" -> "postgres://user:***@host/db", for messages. */
static char *redact(const char *url)
{
    const char *scheme = strstr(url, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
    if (!at || !colon || colon > at)
        return rh_xstrdup(url);
    return rh_xasprintf("%.*s:***%s", (int)(colon - url), url, at);
}

char *rh_catalog_operand_label(const char *operand)
{
    if (is_url(operand))
        return redact(operand);
    if (strstr(operand, "password=")) /* a conninfo with a password: show no part of it */
        return rh_xstrdup("the database (conninfo)");
    return rh_xstrdup(operand);
}

int rh_catalog_load(const char *operand, const rh_catalog_opts *opts, rh_catalog **out, rh_err *err)
{
    *out = NULL;
    if (strncmp(operand, "rev:", 4) == 0) {
        if (!rev_resolver)
            return rh_err_set(err, "`%s`: comparing a clean deploy of a revision needs the migrate engine, "
                                   "which this build does not have yet; snapshot a deployed database instead",
                              operand);
        if (rev_resolver(operand + 4, opts, out, rev_ctx, err) < 0)
            return rh_err_prefix(err, "%s", operand);
        return 0;
    }
    if (is_url(operand)) {
        char *shown = redact(operand), *schema = NULL;
        char *url = rh_tool_database_url(RH_TOOL_DEFAULT, operand, &schema, err); /* the URL as teams write it */
        if (!url) {
            rh_err_prefix(err, "%s", shown);
            free(shown);
            return -1;
        }
        rh_catalog_opts o = opts ? *opts : (rh_catalog_opts){0};
        if (schema && !o.default_schema)
            o.default_schema = schema;
        int rc = from_database(url, shown, &o, out, err);
        free(shown);
        free(schema);
        free(url);
        return rc;
    }
    if (!rh_fs_exists(operand) && strchr(operand, '=')) {
        char *shown = rh_catalog_operand_label(operand);
        int rc = from_database(operand, shown, opts, out, err);
        free(shown);
        return rc;
    }
    char *data = NULL;
    size_t len = 0;
    if (rh_fs_read(operand, &data, &len, err) < 0)
        return rh_err_prefix(err, "snapshot file (or a postgres:// URL, or rev:REV) expected");
    if (strlen(data) != len) {
        free(data);
        return rh_err_set(err, "%s: not a text file (NUL byte)", operand);
    }
    int rc = rh_catalog_parse(data, operand, out, err);
    free(data);
    return rc;
}
