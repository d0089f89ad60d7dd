/*
 * cached.c — a scenario's first deploy through the deployed-state cache (engine/cached.h,
 * docs/state-cache.md).
 *
 * Most scenarios begin by deploying a revision's history onto their fresh cluster ("production
 * before the incident"): `repo`, `checkout REV`, `deploy`. Nothing before that deploy touches the
 * database, so it is exactly a deploy of a whole set into the `postgres` database of a fresh
 * cluster, the case `deploy --rev` and `snapshot --rev` cache (RH_STATE_LAYOUT_FRESH: they share
 * states). So those steps run before the cluster starts (exec.c), the cluster starts from the state
 * of the set's longest cached prefix instead of the empty template, and the deploy continues it with
 * the engine's `resumed`: its output (`expect output`), exit code and the ledger the report records
 * after the step are those of a fresh deploy. After it, when it went past the cached prefix,
 * succeeded, left a clean session and changed no global catalog, the whole set's state is
 * published: the server stops cleanly, its data directory is copied into the cache, and it starts
 * again on the same data (as a `restart` step does, without the crash); the scenario goes on.
 *
 * Only that first deploy: in the foreground, expected to succeed, of the default tool, with only
 * repo / migrations / prisma / checkout steps before it (no `tool`, `set`, `env`, `sql`, session or
 * fault), a `checkout` having read its set.
 * Never with --superuser or the scenario's `superuser`, `--no-cache`, `--trace-locks`, `--scale`/`--rows` or
 * REHEARSE_NO_CACHE=1.
 *
 * And `expect catalog = clean [REV]`: its clean deploy goes into a new database of the scenario's
 * cluster, made from template0, where no data directory can be attached. What it yields is the
 * catalog only, and that is what a clean deploy of the same set on a fresh cluster yields when
 * the two clusters' global catalogs are the same (roles, members, role and database settings,
 * databases, tablespaces: what a deploy into a new database can see of the cluster around it;
 * the scenario's own steps may have changed them). So with the cache on, the clean deploy runs on a
 * fresh cluster through the state cache (check/clean.h: from the longest cached prefix, publishing
 * the set's state with its catalog; when the whole set is kept with its catalog, no server starts),
 * and its catalog is used when that cluster's globals as the deploy found them equal this
 * cluster's, minus the clean_N databases of earlier `clean` steps. Otherwise (other globals, a
 * failed deploy, any error) the step deploys into its own database as without the cache.
 */
#include "runner/exec_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/clean.h"
#include "report/escape.h"

size_t rh_ctx_cache_prefix(rh_ctx *ctx)
{
    const rh_scenario *s = ctx->s;
    /* --trace-locks copies the database before a deploy and replays what it applied: a resumed deploy
       "applies" migrations the copy already holds */
    /* --scale/--rows fill tables before each migration a deploy sends: a resumed deploy sends fewer, and a
       published state would hold generated rows under a key that does not say so */
    if (ctx->opts->no_cache || ctx->opts->trace_locks || ctx->opts->scale || rh_state_cache_off() ||
        ctx->cluster_opts.superuser)
        return 0;
    for (size_t i = 0; i < s->nsteps; i++) {
        const rh_scn_step *st = &s->steps[i];
        switch (st->kind) {
        case RH_STEP_REPO:
        case RH_STEP_MIGRATIONS:
        case RH_STEP_CHECKOUT:
            continue;
        case RH_STEP_TOOL: /* the default tool at a version: the profile is in the state's key */
            if (rh_tool_find(st->arg) == RH_TOOL_DEFAULT && !st->value)
                continue;
            return 0;
        case RH_STEP_DEPLOY: /* in the foreground, expected to succeed */
            return !st->background && (st->outcome.kind == RH_OUT_DEFAULT || st->outcome.kind == RH_OUT_OK) ? i : 0;
        default:
            return 0;
        }
    }
    return 0;
}

void rh_ctx_cache_find(rh_ctx *ctx, const rh_scn_step *deploy)
{
    if (!ctx->have_set || !rh_ctx_default_tool(ctx)) /* a checkout read the set the deploy will deploy */
        return;
    rh_state_deploy_find(&ctx->state, NULL, &ctx->profile, RH_STATE_LAYOUT_FRESH, &ctx->cluster_opts, &ctx->set, 0);
    ctx->cache_step = deploy;
    ctx->resumed = ctx->state.cached;
}

void rh_ctx_cache_forget(rh_ctx *ctx, const char *why)
{
    rh_report_term_eprintf("rehearse: state cache not used: %s\n", why);
    rh_state_deploy_forget(&ctx->state, &ctx->cluster_opts);
    ctx->resumed = 0;
}

void rh_ctx_cache_started(rh_ctx *ctx)
{
    if (!ctx->cache_step)
        return;
    rh_state_deploy_started(&ctx->state, ctx->cluster);
    ctx->want_session_clean = ctx->state.globals != NULL;
}

int rh_ctx_cache_after(rh_ctx *ctx, const rh_scn_step *st, int rc)
{
    if (st != ctx->cache_step)
        return 0;
    ctx->cache_step = NULL;
    ctx->resumed = 0;
    int publish = ctx->want_session_clean && rc == 0;
    ctx->want_session_clean = 0;
    if (!publish)
        return 0;
    PQfinish(ctx->conn); /* rh_state_save copies a stopped server: nothing may be connected */
    ctx->conn = NULL;
    char *meta = rh_xasprintf("scenario %s, its first deploy: %zu migrations of %s (in postgres)\n", ctx->s->path,
                              ctx->state.n, ctx->set.origin ? ctx->set.origin : "a migrations folder");
    int pub = rh_state_deploy_publish(&ctx->state, ctx->cluster, ctx->session_clean, &ctx->cluster_opts, 0, meta);
    free(meta);
    rh_err err;
    if (pub != 0 && rh_cluster_restart(ctx->cluster, &err) < 0) /* the server stopped for the copy */
        return rh_setup_error(ctx, st, "starting the server again after caching its state: %s", err.msg);
    return rh_ctx_reconnect(ctx, st);
}

int rh_ctx_cached_clean_catalog(rh_ctx *ctx, const rh_migset *set, const rh_profile *profile, rh_catalog **out)
{
    *out = NULL;
    if (ctx->opts->no_cache || rh_state_cache_off() || ctx->cluster_opts.superuser || !rh_ctx_default_tool(ctx) ||
        set->n == 0 || ctx->clean_seq > 64)
        return 0;
    char names[64][16]; /* the databases of earlier `clean` steps are not the cluster's own */
    const char *skip[64];
    size_t nskip = 0;
    for (int i = 1; i <= ctx->clean_seq && nskip < 64; i++, nskip++) {
        snprintf(names[nskip], sizeof names[nskip], "clean_%d", i);
        skip[nskip] = names[nskip];
    }
    char *mine = rh_state_globals(ctx->cluster, skip, nskip);
    if (!mine)
        return 0;
    rh_cluster_opts co = ctx->cluster_opts; /* the same server, settings and cache */
    co.state = NULL;
    rh_clean_source src = {.cluster = &co};
    rh_engine_opts eo;
    rh_engine_result res;
    rh_clean_deploy_opts(ctx, profile, &eo, &res);
    char *theirs = NULL;
    rh_catalog *cat = NULL;
    rh_err err;
    int rc = rh_clean_deploy_catalog(NULL, &src, set, &eo, NULL, &cat, &theirs, &res, &err);
    int same = rc == 0 && theirs && strcmp(mine, theirs) == 0;
    if (same)
        *out = cat;
    else
        rh_catalog_free(cat);
    rh_engine_result_free(&res);
    free(theirs);
    free(mine);
    return same;
}
