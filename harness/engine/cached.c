/* cached.c — keys and lookups of deployed states for the engine (see cached.h). */
#include "engine/cached.h"

#include <assert.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrations/profile.h"
#include "report/escape.h"
#include "tools/tool.h"

static void put_bytes(EVP_MD_CTX *ctx, const void *data, size_t len)
{
    /* length-prefixed: no two different inputs hash the same stream */
    uint64_t n = (uint64_t)len;
    EVP_DigestUpdate(ctx, &n, sizeof n);
    if (len)
        EVP_DigestUpdate(ctx, data, len);
}

static void put_str(EVP_MD_CTX *ctx, const char *s)
{
    put_bytes(ctx, s ? s : "", s ? strlen(s) : 0);
}

static void finish_copy(EVP_MD_CTX *ctx, char out[65])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char md[32];
    unsigned len = 0;
    if (!c || EVP_MD_CTX_copy_ex(c, ctx) != 1 || EVP_DigestFinal_ex(c, md, &len) != 1 || len != 32) {
        rh_report_term_eprintf("rehearse: OpenSSL failed computing a state key\n");
        abort();
    }
    EVP_MD_CTX_free(c);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void rh_state_keys(const rh_state_inputs *in, const rh_migset *set, char (*keys)[65])
{
    assert(in && in->profile && in->layout && set && keys);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rh_report_term_eprintf("rehearse: OpenSSL failed computing a state key\n");
        abort();
    }
    put_str(ctx, "rehearse deployed state");
    put_str(ctx, RH_STATE_ENGINE_VERSION);
    put_str(ctx, RH_TOOL_DEFAULT->name); /* whose profile this is: the state cache holds the default tool's deploys */
    const rh_profile *p = in->profile;
    char prof[160];
    snprintf(prof, sizeof prof, "%s %d.%d.%d order=%s exec=%d", p->version, p->major, p->minor, p->patch,
             rh_order_name(p->order), (int)p->exec);
    put_str(ctx, prof);
    put_str(ctx, in->layout);
    put_str(ctx, in->superuser ? "superuser" : "migrator");
    for (size_t i = 0; in->settings && in->settings[i]; i++)
        put_str(ctx, in->settings[i]);
    put_str(ctx, "migrations");
    finish_copy(ctx, keys[0]);
    for (size_t i = 0; i < set->n; i++) {
        const rh_migration *m = &set->items[i];
        put_str(ctx, m->name);
        put_str(ctx, m->sql ? "sql" : "no-sql");
        put_bytes(ctx, m->sql, m->sql ? m->sql_len : 0);
        char stamp[32];
        snprintf(stamp, sizeof stamp, "%lld", m->stamp);
        put_str(ctx, stamp);
        finish_copy(ctx, keys[i + 1]);
    }
    EVP_MD_CTX_free(ctx);
}

size_t rh_state_common_prefix(char (*a)[65], size_t na, char (*b)[65], size_t nb)
{
    size_t k = 0;
    while (k < na && k < nb && strcmp(a[k + 1], b[k + 1]) == 0)
        k++;
    return k;
}

int rh_state_cache_off(void)
{
    const char *e = getenv("REHEARSE_NO_CACHE");
    return e && *e && strcmp(e, "0") != 0;
}

size_t rh_state_longest(const rh_cluster_opts *copts, char (*keys)[65], size_t max, char **entry)
{
    *entry = NULL;
    if (rh_state_cache_off())
        return 0;
    for (size_t k = max; k >= 1; k--) {
        rh_err err;
        int hit = rh_state_lookup(copts, keys[k], entry, &err);
        if (hit < 0) {
            rh_report_term_eprintf("rehearse: state cache not used: %s\n", err.msg);
            return 0;
        }
        if (hit)
            return k;
    }
    return 0;
}

int rh_engine_session_clean(PGconn *conn)
{
    /* advisory locks: the engine's own is released when its deploy returns */
    PGresult *r = PQexec(conn,
                         "SELECT (SELECT count(*) FROM pg_settings WHERE source = 'session')"
                         " + (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema())"
                         " + (SELECT count(*) FROM pg_prepared_statements)"
                         " + (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())"
                         " + (SELECT count(*) FROM pg_cursors)"
                         " + (SELECT count(*) FROM pg_listening_channels())");
    int clean = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "0") == 0;
    PQclear(r);
    return clean;
}
