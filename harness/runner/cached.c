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
 * And the steps before the first sql / session / fault (below, rh_ctx_steps_*): when they hold more
 * than that first deploy, the state after all of them, keyed by their chain (each step as parsed and
 * the set it sees), with what each recorded (runner/steps_file.c); a hit replays them.
 *
 * The first deploy alone: in the foreground, expected to succeed, of the default tool, with only
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
#include <time.h>
#include <assert.h>

#include "catalog_source.h" /* RH_CATALOG_SOURCE, generated (cmake/source_hash.cmake) */
#include "check/clean.h"
#include "report/escape.h"

/*
 * What a step does to the database, the one table both cached prefixes (the first deploy, below, and
 * the steps before the first sql/session/fault, rh_ctx_steps_*) read.
 */
enum step_role {
    ROLE_OTHER = 0, /* sql, session, fault, restart, set, env, snapshot, expect query|catalog...: ends both */
    ROLE_CHOOSE,    /* chooses the migrations, needs no database: repo, migrations, checkout */
    ROLE_TOOL,      /* chooses the tool, needs no database */
    ROLE_COMMAND,   /* a command of the tool: deploy, status, resolve */
    ROLE_READ,      /* an expectation that reads only the database, the last output, its findings or the set */
};

static const enum step_role step_roles[RH_STEP__COUNT] = {
    [RH_STEP_REPO] = ROLE_CHOOSE,
    [RH_STEP_MIGRATIONS] = ROLE_CHOOSE,
    [RH_STEP_CHECKOUT] = ROLE_CHOOSE,
    [RH_STEP_TOOL] = ROLE_TOOL,
    [RH_STEP_DEPLOY] = ROLE_COMMAND,
    [RH_STEP_STATUS] = ROLE_COMMAND,
    [RH_STEP_RESOLVE] = ROLE_COMMAND,
    [RH_STEP_EXPECT_OBJECT] = ROLE_READ,
    [RH_STEP_EXPECT_LEDGER] = ROLE_READ,
    [RH_STEP_EXPECT_STATUS] = ROLE_READ,
    [RH_STEP_EXPECT_OUTPUT] = ROLE_READ,
    [RH_STEP_EXPECT_ORDER] = ROLE_READ,
    [RH_STEP_EXPECT_FINDING] = ROLE_READ,
};

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
        switch (step_roles[st->kind]) {
        case ROLE_CHOOSE:
            continue;
        case ROLE_TOOL: /* the default tool at a version: the profile is in the state's key */
            if (rh_tool_find(st->arg) == RH_TOOL_DEFAULT && !st->value)
                continue;
            return 0;
        case ROLE_COMMAND: /* a deploy in the foreground, expected to succeed */
            return st->kind == RH_STEP_DEPLOY && !st->background &&
                           (st->outcome.kind == RH_OUT_DEFAULT || st->outcome.kind == RH_OUT_OK)
                       ? i
                       : 0;
        case ROLE_READ:
        case ROLE_OTHER:
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

/* ---- the steps before the first sql/session/fault ------------------------------------------------ */

/* The layout of those states: the scenario's cluster after the steps the key chains. */
#define LAYOUT_STEPS "scenario: the cluster after the chained steps"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Steps that need no database: they run again on a hit (the context needs what they set). */
static int runs_again(rh_scn_kind k)
{
    return step_roles[k] == ROLE_CHOOSE || step_roles[k] == ROLE_TOOL;
}

static int is_command(const rh_scn_step *st)
{
    return step_roles[st->kind] == ROLE_COMMAND;
}

/*
 * `expect catalog = clean [REV]` (or `!=`): the catalog of the database (a function of the state)
 * against a clean deploy of REV's set (in the key: REV's set, as that revision holds it now, and its
 * profile) in a cluster with this one's globals (in the state). The only `expect catalog` chained.
 */
static int is_clean_catalog(const rh_scn_step *st)
{
    return st->kind == RH_STEP_EXPECT_CATALOG && st->catalog_ref == RH_CATREF_CLEAN;
}

/*
 * The end of the steps whose result is a function of the state before them and of their inputs:
 * the foreground commands of a tool rehearse runs itself (not command mode's program) and the
 * expectations that read only the database, the last output, its findings or the set (not `expect query`: any SQL; not `expect catalog` of a snapshot or a
 * file; `expect catalog = clean [REV]` is one: is_clean_catalog), and the steps that choose the migrations. The first sql, session, fault, restore,
 * restart, set, env, snapshot, background command or other tool ends them.
 */
static size_t steps_end(const rh_scenario *s)
{
    for (size_t i = 0; i < s->nsteps; i++) {
        const rh_scn_step *st = &s->steps[i];
        switch (step_roles[st->kind]) {
        case ROLE_CHOOSE:
        case ROLE_READ:
            continue;
        case ROLE_TOOL: { /* a tool rehearse runs itself: not another program (command mode) */
            const rh_tool *t = rh_tool_find(st->arg);
            if (t && !t->external && !st->value)
                continue;
            return i;
        }
        case ROLE_COMMAND:
            if (!st->background)
                continue;
            return i;
        case ROLE_OTHER:
            if (is_clean_catalog(st))
                continue;
            return i;
        }
    }
    return s->nsteps;
}

/* The step as parsed, every field that decides what it does (its position and spelling do not). */
static char *step_text(const rh_scn_step *st)
{
    rh_buf b;
    rh_buf_init(&b);
    const char *strs[] = {st->arg, st->arg2, st->text, st->outcome.name, st->obj_kind, st->schema,
                          st->table, st->name, st->property, st->value};
    rh_buf_printf(&b, "%s %d %d %d %d %ld %d %s %d %d %d %d %d %d %d %d %d", rh_scn_kind_name(st->kind), st->each,
                  st->background, st->from_migration, st->negate, st->n, (int)st->outcome.kind, st->outcome.code,
                  st->outcome.exit_code, (int)st->resolve_mode, (int)st->fault_action, (int)st->fault_trigger,
                  (int)st->ledger_check, (int)st->state, (int)st->query_check, st->value_is_null,
                  (int)st->status_check);
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) /* length-prefixed: no two steps alike */
        if (strs[i])
            rh_buf_printf(&b, " %zu:%s", strlen(strs[i]), strs[i]);
        else
            rh_buf_puts(&b, " -");
    for (size_t i = 0; i < st->nnames; i++)
        rh_buf_printf(&b, " %zu:%s", strlen(st->names[i]), st->names[i]);
    return rh_buf_steal(&b);
}

/*
 * The key of the state after steps [0, end): a dry run of the steps that need no database on a
 * context of its own, each step chained with the set it would see. 0 when one of them fails there
 * (the real run will say why) or a set cannot be read.
 */
static int steps_key(rh_ctx *ctx, size_t end, char key[65])
{
    rh_ctx dry;
    memset(&dry, 0, sizeof dry);
    rh_result res;
    memset(&res, 0, sizeof res);
    dry.s = ctx->s;
    dry.opts = ctx->opts;
    dry.res = &res;
    dry.wait_ms = ctx->wait_ms;
    rh_buf_init(&dry.last_output);
    dry.profile = ctx->profile;
    dry.profile_from = ctx->profile_from;
    snprintf(dry.profile_source, sizeof dry.profile_source, "%s", ctx->profile_source);
    dry.cluster_opts = ctx->cluster_opts;
    rh_state_inputs in = {.layout = LAYOUT_STEPS, .profile = &dry.profile, .superuser = ctx->cluster_opts.superuser,
                          .settings = ctx->cluster_opts.settings};
    rh_state_chain_start(key, &in);
    /* the expectations' verdicts are the catalog code's (a snapshot, a comparison): another build's
       are not reused */
    rh_state_chain_step(key, "catalog code " RH_CATALOG_SOURCE, &in, NULL);
    int ok = 1;
    for (size_t i = 0; ok && i < end; i++) {
        const rh_scn_step *st = &ctx->s->steps[i];
        const rh_migset *set = NULL;
        rh_loaded other;
        memset(&other, 0, sizeof other);
        in.profile = &dry.profile;
        if (runs_again(st->kind))
            ok = rh_ctx_step(&dry, st) == 0;
        else if (is_clean_catalog(st))
            ok = rh_ctx_clean_set(&dry, st, &other, &set, &in.profile) == 0;
        else
            ok = rh_ctx_migset(&dry, st, &set) == 0;
        if (ok) {
            char *text = step_text(st);
            char *what = rh_xasprintf("%s catalog-ref %d", text, (int)st->catalog_ref);
            in.tool = dry.tool ? dry.tool->name : NULL; /* whose deploy reads the set: in the set's key */
            rh_state_chain_step(key, what, &in, set);
            free(what);
            free(text);
        }
        rh_loaded_free(&other);
    }
    rh_ctx_free(&dry);
    rh_result_free(&res);
    return ok;
}

void rh_ctx_steps_find(rh_ctx *ctx, size_t first_deploy)
{
    const rh_scenario *s = ctx->s;
    if (ctx->opts->no_cache || ctx->opts->trace_locks || ctx->opts->scale || rh_state_cache_off() ||
        ctx->cluster_opts.superuser) /* as rh_ctx_cache_prefix, for the same reasons */
        return;
    size_t end = steps_end(s), commands = 0;
    for (size_t i = 0; i < end; i++)
        commands += is_command(&s->steps[i]);
    /* one deploy the first-deploy path serves: nothing more to gain, and a second state to copy;
       unless they are the whole scenario: replayed whole, it needs no server at all (exec.c) */
    if (commands == 0 || (commands == 1 && first_deploy && end < s->nsteps))
        return;
    if (!steps_key(ctx, end, ctx->steps_key))
        return;
    ctx->steps_end = end;
    rh_err err;
    char *entry = NULL, *text = NULL;
    int hit = rh_state_lookup(&ctx->cluster_opts, ctx->steps_key, &entry, &err);
    if (hit < 0)
        rh_report_term_eprintf("rehearse: state cache not used: %s\n", err.msg);
    if (hit <= 0)
        return;
    if (!rh_state_get_file(entry, RH_STEPS_FILE, &text) || !rh_steps_file_parse(text, &ctx->steps_rec) ||
        ctx->steps_rec.n != end) {
        rh_steps_record_free(&ctx->steps_rec); /* a damaged or foreign entry: a miss, published again */
        free(entry);
        free(text);
        return;
    }
    free(text);
    ctx->steps_hit = 1;
    ctx->steps_entry = entry;
    ctx->cluster_opts.state = entry;
}

void rh_ctx_steps_forget(rh_ctx *ctx, const char *why)
{
    rh_report_term_eprintf("rehearse: state cache not used: %s\n", why);
    rh_steps_record_free(&ctx->steps_rec);
    free(ctx->steps_entry);
    ctx->steps_entry = NULL;
    ctx->cluster_opts.state = NULL;
    ctx->steps_hit = 0;
    ctx->steps_end = 0; /* not published either: this run is not the one to trust with it */
}

/* The set a skipped step would have read (its profile goes into the report, as when it ran). */
static int reads_set(const rh_scn_step *st)
{
    return is_command(st) || st->kind == RH_STEP_EXPECT_STATUS || st->kind == RH_STEP_EXPECT_ORDER ||
           (st->kind == RH_STEP_EXPECT_LEDGER && st->ledger_check == RH_LEDGER_CHECKSUM);
}

size_t rh_ctx_steps_replay(rh_ctx *ctx, size_t *last, int *had)
{
    assert(ctx->steps_hit);
    const rh_steps_record *rec = &ctx->steps_rec;
    for (size_t i = 0; i < ctx->steps_end; i++) {
        const rh_scn_step *st = &ctx->s->steps[i];
        ctx->res->steps_run = i + 1;
        if (ctx->opts->on_step)
            ctx->opts->on_step(ctx->opts->on_step_ctx, i);
        double a = now_ms();
        const rh_migset *set;
        int rc = runs_again(st->kind) ? rh_ctx_step(ctx, st) : reads_set(st) ? rh_ctx_migset(ctx, st, &set) : 0;
        if (is_clean_catalog(st)) { /* REV's profile goes into the report, as when it ran */
            rh_loaded other;
            const rh_profile *profile;
            rc = rh_ctx_clean_set(ctx, st, &other, &set, &profile);
            rh_loaded_free(&other);
        }
        rh_result_step *rs = rh_result_add_step(ctx->res, st->file, st->line, st->source, now_ms() - a, rc < 0);
        if (rc < 0)
            return i; /* the dry run passed it; something changed since (the repository?) */
        const rh_result_step *was = &rec->steps[i];
        rs->ledger_gone = was->ledger_gone;
        if (was->ledger_gone)
            *had = 0;
        if (was->ledger_changed) {
            rs->ledger_changed = 1;
            rs->n_ledger = was->n_ledger;
            rs->ledger = rh_xcalloc(was->n_ledger ? was->n_ledger : 1, sizeof *rs->ledger);
            for (size_t r = 0; r < was->n_ledger; r++) {
                rs->ledger[r] = was->ledger[r];
                rs->ledger[r].name = rh_xstrdup(was->ledger[r].name);
            }
            *last = i;
            *had = 1;
        }
    }
    rh_buf_reset(&ctx->last_output);
    rh_buf_puts(&ctx->last_output, rec->output);
    ctx->have_output = rec->have_output;
    for (size_t i = 0; i < ctx->n_findings; i++) {
        free(ctx->findings[i].name);
        free(ctx->findings[i].detail);
    }
    free(ctx->findings);
    ctx->findings = rec->findings; /* the record's: it is not used again */
    ctx->n_findings = rec->n_findings;
    ctx->steps_rec.findings = NULL;
    ctx->steps_rec.n_findings = 0;
    rh_report_term_eprintf("rehearse: note: %s: its first %zu steps come from the state cache\n", ctx->s->path,
                           ctx->steps_end);
    return ctx->steps_end;
}

int rh_ctx_steps_publish(rh_ctx *ctx, size_t i)
{
    if (ctx->steps_hit || !ctx->steps_end || i != ctx->steps_end || !ctx->cluster)
        return 0;
    ctx->steps_end = 0; /* once */
    /* every step before i passed (the loop stops at a failure), each recorded once, in order */
    if (ctx->res->n_steps != i || ctx->bg || ctx->nsessions)
        return 0;
    /* an `expect catalog = clean` that deployed into a clean_N database of this cluster (not through
       the cache): a state holding it would make a later clean step's clean_N after a hit collide */
    if (ctx->clean_seq)
        return 0;
    if (ctx->have_output && strlen(ctx->last_output.data) != ctx->last_output.len)
        return 0; /* an output with a NUL byte: not kept */
    char *text = rh_steps_file_format(ctx->res->steps, i, ctx->have_output ? ctx->last_output.data : NULL,
                                      ctx->findings, ctx->n_findings);
    PQfinish(ctx->conn); /* rh_state_save copies a stopped server: nothing may be connected */
    ctx->conn = NULL;
    char *meta = rh_xasprintf("scenario %s, its first %zu steps (the cluster after them)\n", ctx->s->path, i);
    rh_cluster_opts o = ctx->cluster_opts;
    o.state = NULL;
    rh_state_file f = {RH_STEPS_FILE, text};
    rh_err err;
    if (rh_state_save_with(ctx->cluster, &o, ctx->steps_key, meta, &f, 1, &err) < 0)
        rh_report_term_eprintf("rehearse: the scenario's state was not cached: %s\n", err.msg);
    free(meta);
    free(text);
    const rh_scn_step *st = i < ctx->s->nsteps ? &ctx->s->steps[i] : &ctx->s->steps[i - 1];
    if (rh_cluster_restart(ctx->cluster, &err) < 0) /* the server stopped for the copy */
        return rh_setup_error(ctx, st, "starting the server again after caching its state: %s", err.msg);
    return rh_ctx_reconnect(ctx, st);
}

void rh_ctx_steps_free(rh_ctx *ctx)
{
    rh_steps_record_free(&ctx->steps_rec);
    free(ctx->steps_entry);
    ctx->steps_entry = NULL;
}
