/*
 * state.c — the deployed-state cache in `rehearse check` (see check_int.h, engine/cached.h).
 *
 * A check's cluster holds three databases: the clean deploy of head (a), the upgrade path (b) and
 * the lock probe (f) (isolated, (a) has a fresh cluster of its own and (f) a fork: isolate.c). All three start from base's state: (b) and (f) always, (a) because head's
 * migrations begin with base's (when they do; an edited or reordered base migration empties it).
 * The cached value is a stopped cluster whose two databases, (b)'s and (f)'s, hold base's first k
 * migrations: a warm check copies one data directory, starts it, and deploys only the rest, with the
 * engine counting the cached migrations as applied by this deploy (engine.h `resumed`), so that its
 * output and ledger read as one deploy's. (a) needs no database of its own when it is (b)'s run
 * (one path: all of base cached, head starting with it, nothing loaded between); when it does, the
 * probe's copy is renamed to be (a)'s (f) then copies (b)'s database after base and the seed or fill,
 * as it does whenever the path added to base), or (a) starts empty (head edited a cached migration).
 *
 * A cold check copies base's state into three spare databases right after base's deploy (only
 * when that deploy succeeded and its session left nothing a next migration could see), and at the
 * end renames them over the used ones and publishes the stopped cluster.
 *
 * The pull request's own migrations run in the same cluster (head's clean deploy starts at once),
 * and what a later check on another pull request starts from must not carry anything of them. The
 * spares belong to the superuser until they are published, so the migration role cannot rename,
 * alter or replace them; what that role can change outside its databases (its own settings, the
 * databases it owns or creates, comments) is compared before anything ran and at the end: any
 * difference, and the state is not published. Migrations run as the superuser (--superuser) could
 * change anything: such checks neither use nor publish states.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_int.h"
#include "engine/cached.h"
#include "engine/engine.h"
#include "report/escape.h"
#include "tools/tool.h"

#define LAYOUT "check: " DB_UPGRADE ", " DB_PROBE " hold base's state"

static const char *const dbs[] = {DB_UPGRADE, DB_PROBE};
static const char *const spare[] = {"rehearse_state_upgrade", "rehearse_state_locks"};

/* The cluster's globals (engine/cached.h), the check's own databases (dropped or renamed at the end) left out. */
static char *global_fingerprint(rh_cluster *cluster)
{
    const char *const own[5] = {DB_CLEAN, dbs[0], dbs[1], spare[0], spare[1]};
    return rh_state_globals(cluster, own, 5);
}

void rh_check_cache_find(rh_check_cache *cc, int on, const rh_tool *tool, const rh_profile *profile, int superuser,
                         const rh_migset *base, const rh_migset *head, rh_cluster_opts *copts)
{
    memset(cc, 0, sizeof *cc);
    if (!tool)
        tool = RH_TOOL_DEFAULT;
    size_t min = rh_state_resume_min(tool, base->n);
    cc->on = on && !superuser && !rh_state_cache_off() && base->n > 0 && min > 0;
    if (!cc->on)
        return;
    cc->whole_only = tool->resumable == RH_TOOL_RESUME_WHOLE;
    /* whose deploy and at which version: another tool's or version's state is another key */
    rh_state_inputs in = {.tool = tool->name, .profile = profile, .layout = LAYOUT, .superuser = superuser,
                          .settings = copts->settings};
    cc->na = base->n;
    cc->nb = head->n;
    cc->ka = rh_xcalloc(base->n + 1, sizeof *cc->ka);
    cc->kb = rh_xcalloc(head->n + 1, sizeof *cc->kb);
    rh_state_keys(&in, base, cc->ka);
    rh_state_keys(&in, head, cc->kb);
    cc->common = rh_state_common_prefix(cc->ka, cc->na, cc->kb, cc->nb);
    cc->cached = rh_state_longest_from(copts, cc->ka, min, cc->na, &cc->entry);
    copts->state = cc->entry;
}

int rh_check_cache_start(rh_check_cache *cc, rh_cluster **cluster, rh_cluster_opts *copts, rh_err *err)
{
    if (rh_cluster_start(cluster, copts, err) == 0)
        return 0;
    if (!cc->entry)
        return -1;
    rh_report_term_eprintf("rehearse: state cache not used: %s\n", err->msg);
    free(cc->entry);
    cc->entry = NULL;
    cc->cached = 0;
    copts->state = NULL;
    return rh_cluster_start(cluster, copts, err);
}

int rh_check_cache_databases(rh_check_cache *cc, rh_cluster *cluster, int loads_between, size_t *clean_resumed,
                             int *one_path, rh_err *err)
{
    *clean_resumed = 0;
    *one_path = 0;
    cc->probe_held = 0;
    if (!cc->cached) {
        if (rh_cluster_create_db(cluster, DB_CLEAN, err) < 0 || rh_cluster_create_db(cluster, DB_UPGRADE, err) < 0)
            return -1;
        if (cc->on) /* before any migration runs */
            cc->fingerprint = global_fingerprint(cluster);
        return 0;
    }
    /* (a) continues base's state only when head's deploy from nothing would have left that state on the way:
       head begins with the cached migrations, and the tool continues a prefix of a run (not drizzle-kit's one
       transaction, unless head is base's set) */
    if (cc->cached <= cc->common && (!cc->whole_only || cc->cached == cc->nb)) {
        *clean_resumed = cc->cached;
        if (cc->cached == cc->na && !loads_between) {
            *one_path = 1;
            cc->probe_held = 1;
            return 0;
        }
        /* (f) will copy (b)'s database anyway (the path adds to the cached state): the probe's copy is (a)'s */
        return rh_cluster_rename_db(cluster, DB_PROBE, DB_CLEAN, err);
    }
    /* head changed one of the cached migrations, or its run holds more than the state: (a) deploys head from nothing */
    cc->probe_held = 1;
    return rh_cluster_create_db(cluster, DB_CLEAN, err);
}

int rh_check_cache_copy(rh_check_cache *cc, rh_cluster *cluster, PGconn **upgrade, rh_err *err)
{
    int clean = rh_engine_session_clean(*upgrade);
    PQfinish(*upgrade);
    *upgrade = NULL;
    if (!cc->on || cc->cached == cc->na || !clean || !cc->fingerprint)
        return 0; /* nothing new to keep, or base's session holds state a one-piece deploy would carry on */
    for (int i = 0; i < 2; i++)
        if (rh_cluster_copy_db_private(cluster, DB_UPGRADE, spare[i], err) < 0)
            return -1;
    cc->saving = 1;
    return 0;
}

int rh_check_cache_publish(rh_check_cache *cc, rh_cluster *cluster, const rh_cluster_opts *copts, const char *base_label)
{
    if (!cc->saving)
        return 0;
    rh_err err;
    int rc = 0;
    char *now = global_fingerprint(cluster);
    if (now && strcmp(now, cc->fingerprint) != 0)
        cc->globals_changed = 1;
    if (!now || strcmp(now, cc->fingerprint) != 0)
        rc = rh_err_set(&err, "the run changed the cluster outside its databases (roles' settings, databases, "
                              "comments): a later check must not start from that");
    free(now);
    if (rc == 0)
        rc = rh_cluster_drop_db(cluster, DB_CLEAN, &err);
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = rh_cluster_drop_db(cluster, dbs[i], &err);
    for (int i = 0; i < 2 && rc == 0; i++) {
        rc = rh_cluster_rename_db(cluster, spare[i], dbs[i], &err);
        if (rc == 0)
            rc = rh_cluster_hand_over_db(cluster, dbs[i], &err);
    }
    if (rc == 0) {
        char *meta = rh_xasprintf("check of base %s: %zu migrations (in %s, %s)\n", base_label, cc->na, DB_UPGRADE,
                                  DB_PROBE);
        rh_cluster_opts o = *copts;
        o.state = NULL;
        rc = rh_state_save(cluster, &o, cc->ka[cc->na], meta, &err);
        free(meta);
    }
    if (rc < 0)
        rh_report_term_eprintf("rehearse check: base's state was not cached: %s\n", err.msg);
    return rc;
}

void rh_check_cache_free(rh_check_cache *cc)
{
    free(cc->ka);
    free(cc->kb);
    free(cc->entry);
    free(cc->fingerprint);
    memset(cc, 0, sizeof *cc);
}
