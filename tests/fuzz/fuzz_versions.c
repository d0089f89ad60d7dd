/*
 * fuzz_versions.c — a fuzz target for the short texts users and repositories give as versions and URLs:
 * PostgreSQL versions (util/pgver.c: --pg, REHEARSE_PG, a dump's "Dumped from database version", SHOW
 * server_version), Prisma versions and ranges (tools/prisma/profile.c: --prisma-version, package.json,
 * lock files, `tool prisma VERSION`), a DATABASE_URL's Prisma-only parameters (tools/prisma/url.c) and the
 * parse half of the remote-host guard (util/pgurl.c rh_pgurl_targets: libpq's parser, the entries it would try;
 * the resolve half is not fuzzed, a fuzzer must not send DNS queries). scripts/fuzz.sh builds and runs it.
 *
 * Input: the first byte picks the parser; the rest is the text (split at the first NUL where two are
 * needed). The properties: never a crash or a read out of bounds, and
 *  - a PostgreSQL version parses to a major of 9..99 and a minor of -1..999, and matches itself;
 *  - a Prisma version reads as N.N.N with the numbers it reports, or is refused with a message;
 *  - a postgres URL keeps what precedes its '?' and loses every Prisma-only parameter;
 *  - a connection string gives at least one entry, none with a comma, a socket exactly when it has no hostaddr
 *    and its host is empty or a path; or is refused with a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/prisma/profile.h"
#include "tools/prisma/prisma.h"
#include "util/buf.h"
#include "util/pgurl.h"
#include "util/pgver.h"

#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void pg_version(const char *text, const char *other)
{
    int major = 0, minor = 0;
    if (rh_pgver_parse(text, &major, &minor)) {
        if (major < 9 || major > 99 || minor < -1 || minor > 999)
            abort();
        char again[32];
        if (minor < 0)
            snprintf(again, sizeof again, "%d", major);
        else
            snprintf(again, sizeof again, "%d.%d", major, minor);
        if (!rh_pgver_matches(again, major, minor))
            abort();
    }
    (void)rh_pgver_matches(text, 15, -1);
    char *note = rh_pgver_mismatch_note(text, "the restored dump's header", "this rehearsal ran on", other);
    if (note && strncmp(note, "production runs PostgreSQL ", 27) != 0)
        abort();
    free(note);
}

static void prisma_version(const char *text)
{
    rh_profile p;
    rh_err err;
    rh_err_clear(&err);
    if (rh_prisma_profile_from_version(&p, text, &err) < 0) {
        if (!err.msg[0])
            abort();
        return;
    }
    char want[sizeof p.version];
    snprintf(want, sizeof want, "%d.%d.%d", p.major, p.minor, p.patch);
    if (strcmp(want, p.version) != 0 || p.major < 0 || p.minor < 0 || p.patch < 0)
        abort();
    rh_buf b;
    rh_buf_init(&b);
    rh_prisma_profile_describe(&p, &b);
    rh_buf_free(&b);
}

static void database_url(const char *url)
{
    static const char *const prisma_only[] = {"schema=", "connection_limit=", "pool_timeout=", "pgbouncer=",
                                              "socket_timeout=", "statement_cache_size=", "sslaccept=",
                                              "sslidentity=", "sslpassword=", NULL};
    char *schema = NULL;
    rh_err err;
    char *out = rh_prisma_database_url(url, &schema, &err);
    const char *q = strchr(url, '?');
    if (!out) { /* only for a schema= holding %00 */
        if (!strstr(url, "%00") || !strstr(err.msg, "NUL byte") || schema)
            abort();
        return;
    }
    if (q && strncmp(url, "postgres", 8) == 0) {
        size_t head = (size_t)(q - url);
        if (strncmp(out, url, head) != 0)
            abort();
        for (const char *p = strchr(out, '?'); p && *p; p = strchr(p + 1, '&'))
            for (int i = 0; prisma_only[i]; i++)
                if (strncmp(p + 1, prisma_only[i], strlen(prisma_only[i])) == 0)
                    abort();
    } else if (strcmp(out, url) != 0 || schema) {
        abort(); /* anything else is passed through as it is */
    }
    free(schema);
    free(out);
}

static void conninfo(const char *text)
{
    static int env_set;
    if (!env_set) { /* what libpq reads besides the text: nothing of this machine's */
        const char *const unset[] = {"PGHOST", "PGHOSTADDR", "PGPORT", "PGSERVICE", "PGDATABASE", "PGUSER", NULL};
        for (int i = 0; unset[i]; i++)
            unsetenv(unset[i]);
        setenv("PGSERVICEFILE", "/nonexistent/pg_service.conf", 1);
        setenv("PGSYSCONFDIR", "/nonexistent", 1);
        setenv("PGPASSFILE", "/nonexistent/pgpass", 1);
        env_set = 1;
    }
    rh_pgurl_target *t = NULL;
    size_t n = 0;
    rh_err err;
    rh_err_clear(&err);
    if (rh_pgurl_targets(text, &t, &n, &err) < 0) {
        if (!err.msg[0] || t || n)
            abort();
        return;
    }
    if (n < 1 || !t)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (!t[i].host || !t[i].hostaddr || !t[i].port || strchr(t[i].host, ',') || strchr(t[i].hostaddr, ',') ||
            strchr(t[i].port, ','))
            abort();
        int socket = !*t[i].hostaddr && (!*t[i].host || t[i].host[0] == '/' || t[i].host[0] == '@');
        if (socket != t[i].socket)
            abort();
    }
    rh_pgurl_targets_free(t, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *second;
    char *text = fuzz_text(data, size, &second);
    if (!text)
        return 0;
    switch (data[0] % 4) {
    case 0: pg_version(text, second); break;
    case 1: prisma_version(text); break;
    case 2: database_url(text); break;
    default: conninfo(text); break;
    }
    free(text);
    return 0;
}
