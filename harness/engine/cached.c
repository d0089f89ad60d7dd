/* cached.c — keys and lookups of deployed states for the engine (see cached.h). */
#include "engine/cached.h"

#include <assert.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_source.h" /* RH_CATALOG_SOURCE, generated (cmake/source_hash.cmake) */
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
    assert(in && in->layout && set && keys);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rh_report_term_eprintf("rehearse: OpenSSL failed computing a state key\n");
        abort();
    }
    put_str(ctx, "rehearse deployed state");
    put_str(ctx, RH_STATE_ENGINE_VERSION);
    put_str(ctx, in->tool ? in->tool : RH_TOOL_DEFAULT->name); /* whose deploy: the tool interface names it */
    const rh_profile *p = in->profile;
    char prof[160] = "no profile";
    if (p)
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

void rh_state_chain_start(char chain[65], const rh_state_inputs *in)
{
    rh_migset none;
    memset(&none, 0, sizeof none);
    char keys[1][65];
    rh_state_keys(in, &none, keys);
    memcpy(chain, keys[0], 65);
}

void rh_state_chain_step(char chain[65], const char *what, const rh_state_inputs *in, const rh_migset *set)
{
    assert(chain && what && in);
    char (*keys)[65] = NULL;
    if (set) {
        keys = rh_xcalloc(set->n + 1, sizeof *keys);
        rh_state_keys(in, set, keys);
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rh_report_term_eprintf("rehearse: OpenSSL failed computing a state key\n");
        abort();
    }
    put_str(ctx, "rehearse step chain");
    put_str(ctx, chain);
    put_str(ctx, what);
    put_str(ctx, set ? keys[set->n] : "no set");
    finish_copy(ctx, chain);
    EVP_MD_CTX_free(ctx);
    free(keys);
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
    return rh_state_longest_from(copts, keys, 1, max, entry);
}

size_t rh_state_resume_min(const rh_tool *tool, size_t n)
{
    switch ((tool ? tool : RH_TOOL_DEFAULT)->resumable) {
    case RH_TOOL_RESUME_PREFIX:
        return 1;
    case RH_TOOL_RESUME_WHOLE:
        return n;
    case RH_TOOL_RESUME_NEVER:
        break;
    }
    return 0;
}

size_t rh_state_longest_from(const rh_cluster_opts *copts, char (*keys)[65], size_t min, size_t max, char **entry)
{
    assert(min >= 1);
    *entry = NULL;
    if (rh_state_cache_off())
        return 0;
    for (size_t k = max; k >= min; k--) {
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

char *rh_state_globals(rh_cluster *cluster, const char *const *skip, size_t nskip)
{
    static const char *const sql =
        "SELECT string_agg(l, E'\\n' ORDER BY l) FROM ("
        " SELECT format('db %s %s %s %s %s %s', datname, datdba::regrole, datconnlimit, datallowconn, datistemplate,"
        "   datacl) AS l FROM pg_database WHERE datname <> ALL (string_to_array($1, E'\\n'))"
        " UNION ALL SELECT format('setting %s %s %s', coalesce(d.datname, '*'), coalesce(r.rolname, '*'), s.setconfig)"
        "   FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase"
        "   LEFT JOIN pg_roles r ON r.oid = s.setrole"
        " UNION ALL SELECT format('role %s %s %s %s %s %s %s %s %s', rolname, rolsuper, rolinherit, rolcreaterole,"
        "   rolcreatedb, rolcanlogin, rolreplication, rolconnlimit, rolbypassrls) FROM pg_roles"
        " UNION ALL SELECT format('member %s %s', roleid::regrole, member::regrole) FROM pg_auth_members"
        " UNION ALL SELECT format('comment %s %s %s', classoid, objoid, description) FROM pg_shdescription"
        " UNION ALL SELECT format('label %s %s %s', classoid, objoid, label) FROM pg_shseclabel"
        " UNION ALL SELECT format('tablespace %s', spcname) FROM pg_tablespace) f";
    rh_err err;
    PGconn *conn = rh_cluster_connect_admin(cluster, NULL, &err);
    if (!conn)
        return NULL;
    rh_buf names; /* one per line: rehearse's own database names, never with a newline */
    rh_buf_init(&names);
    for (size_t i = 0; i < nskip; i++) {
        assert(!strchr(skip[i], '\n'));
        rh_buf_printf(&names, "%s%s", i ? "\n" : "", skip[i]);
    }
    const char *params[1] = {names.data ? names.data : ""};
    PGresult *r = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
    char *fp = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        fp = rh_xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(conn);
    rh_buf_free(&names);
    return fp;
}

void rh_state_deploy_find(rh_state_deploy *d, const rh_tool *tool, const rh_profile *profile, const char *layout,
                          rh_cluster_opts *copts, const rh_migset *set, int no_cache)
{
    assert(d && layout && copts && set);
    memset(d, 0, sizeof *d);
    if (!tool)
        tool = RH_TOOL_DEFAULT;
    size_t min = rh_state_resume_min(tool, set->n);
    d->on = !no_cache && !rh_state_cache_off() && !copts->superuser && min > 0 && set->n > 0;
    if (!d->on)
        return;
    rh_state_inputs in = {.tool = tool->name, .profile = profile, .layout = layout, .settings = copts->settings};
    d->n = set->n;
    d->keys = rh_xcalloc(set->n + 1, sizeof *d->keys);
    rh_state_keys(&in, set, d->keys);
    d->cached = rh_state_longest_from(copts, d->keys, min, d->n, &d->entry);
    copts->state = d->entry;
}

void rh_state_deploy_forget(rh_state_deploy *d, rh_cluster_opts *copts)
{
    free(d->entry);
    d->entry = NULL;
    d->cached = 0;
    copts->state = NULL;
}

void rh_state_deploy_started(rh_state_deploy *d, rh_cluster *cluster)
{
    if (d->on && d->cached < d->n) /* there will be something new to keep */
        d->globals = rh_state_globals(cluster, NULL, 0);
}

int rh_state_deploy_publish(rh_state_deploy *d, rh_cluster *cluster, int session_clean, const rh_cluster_opts *copts,
                            int exit_code, const char *meta)
{
    if (exit_code != 0 || !d->globals || !session_clean)
        return 0; /* failed, nothing new, or a session a one-piece deploy would carry on */
    char *now = rh_state_globals(cluster, NULL, 0);
    int same = now && strcmp(now, d->globals) == 0;
    free(now);
    if (!same)
        return 0; /* its migrations changed what the next session sees (role or database settings ...) */
    rh_cluster_opts o = *copts;
    o.state = NULL;
    rh_err err;
    rh_state_file cat = {RH_STATE_CATALOG_FILE, d->catalog_file};
    if (rh_state_save_with(cluster, &o, d->keys[d->n], meta, &cat, d->catalog_file ? 1 : 0, &err) < 0) {
        rh_report_term_eprintf("rehearse: the deployed state was not cached: %s\n", err.msg);
        return -1;
    }
    return 1;
}

void rh_state_deploy_free(rh_state_deploy *d)
{
    free(d->keys);
    free(d->entry);
    free(d->globals);
    free(d->catalog_file);
    memset(d, 0, sizeof *d);
}

/* ---- the catalog kept with a state ---- */

/* Everything besides the state that decides the text: the code that printed it, the options. */
static char *catalog_origin(const rh_catalog_opts *o)
{
    const rh_tool *lt = o->ledger_tool ? o->ledger_tool : RH_TOOL_DEFAULT;
    return rh_xasprintf("catalog-code %s\noptions ledger=%d column-order=%d owners=%d grants=%d no-comments=%d "
                        "schema=%s ledger-tool=%s ledger-table=%s\n",
                        RH_CATALOG_SOURCE, o->include_ledger, o->strict_column_order, o->include_owners,
                        o->include_grants, o->ignore_comments, o->default_schema ? o->default_schema : "(default)",
                        lt->name, lt->ledger_table ? lt->ledger_table : "(none)");
}

/* The file kept with the state: the origin, the globals, the catalog's text form (catalog_file.c). */
static char *catalog_file(const rh_catalog_opts *opts, const char *globals, const rh_catalog *cat)
{
    rh_buf b;
    rh_buf_init(&b);
    rh_catalog_text(cat, &b);
    char *origin = catalog_origin(opts);
    char *file = rh_state_catalog_format(origin, globals, b.data ? b.data : "");
    free(origin);
    rh_buf_free(&b);
    return file;
}

int rh_state_catalog_get(const char *entry, const rh_catalog_opts *opts, char **text, char **globals)
{
    *text = *globals = NULL;
    char *file = NULL;
    if (!entry || !rh_state_get_file(entry, RH_STATE_CATALOG_FILE, &file))
        return 0;
    char *origin = catalog_origin(opts);
    int ok = rh_state_catalog_parse(file, origin, text, globals);
    free(origin);
    free(file);
    return ok;
}

void rh_state_deploy_keep_catalog(rh_state_deploy *d, rh_cluster *cluster, const rh_cluster_opts *copts,
                                  const rh_catalog_opts *opts, const rh_catalog *cat)
{
    if (!d->on || !cat)
        return;
    if (!d->globals && d->cached == d->n) /* nothing was deployed: they are what the deploy found */
        d->globals = rh_state_globals(cluster, NULL, 0);
    if (!d->globals)
        return;
    free(d->catalog_file);
    d->catalog_file = catalog_file(opts, d->globals, cat);
    if (d->cached < d->n || !d->entry)
        return; /* published with the state (rh_state_deploy_publish) */
    char *text = NULL, *globals = NULL;
    if (rh_state_catalog_get(d->entry, opts, &text, &globals)) { /* kept already */
        free(text);
        free(globals);
        return;
    }
    rh_state_file f = {RH_STATE_CATALOG_FILE, d->catalog_file};
    rh_err err;
    if (rh_state_put_file(copts, d->entry, &f, &err) < 0)
        rh_report_term_eprintf("rehearse: the catalog was not kept with its state: %s\n", err.msg);
}
