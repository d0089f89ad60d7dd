/*
 * isolate.c — a check whose migrations may touch the cluster's global objects gives each path a
 * cluster of its own (docs/check.md, "Isolation of the paths").
 *
 * The paths are databases of one cluster (cheaper than a cluster each): the clean deploy (a), the
 * upgrade path (b) and the lock trace (f) on a copy of (b)'s database. They meet only in what the
 * cluster's databases share: roles, databases, tablespaces, settings, memberships ... A migration
 * that creates a database or a role there makes the same migration fail on the next path ("already
 * exists"), though production runs it once, on a server of its own. When the detector
 * (migrations/globals.h) finds nothing, the one-cluster layout stays; when it fires, (a) starts a
 * cluster of its own, and (b)'s cluster is forked where (f) begins: stopped cleanly, its data
 * directory published in a private state folder (cluster/state.c's publish, not the shared cache) and
 * started twice, once for the rest of (b), once for (f).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_int.h"
#include "migrations/globals.h"
#include "report/escape.h"
#include "util/fs.h"

/* Whether the seed's text may touch globals; a file that cannot be read now is load_seed's error later. */
static int seed_may_touch_globals(const char *path, const char **what)
{
    char *sql = NULL;
    size_t len = 0;
    rh_err ignored;
    if (!path || rh_fs_read(path, &sql, &len, &ignored) < 0)
        return 0;
    int r = rh_sql_may_touch_globals(sql, len, what);
    free(sql);
    return r;
}

char *rh_check_isolation_reason(const rh_migset *base, const rh_migset *head, const char *seed_file)
{
    const char *what = NULL, *name = NULL;
    if (rh_migset_may_touch_globals(head, &what, &name) || rh_migset_may_touch_globals(base, &what, &name))
        return rh_xasprintf("%s may touch the cluster's global objects (%s)", name, what);
    if (seed_may_touch_globals(seed_file, &what))
        return rh_xasprintf("the seed %s may touch the cluster's global objects (%s)", seed_file, what);
    return NULL;
}

typedef struct twin_start {
    pthread_t tid;
    const rh_cluster_opts *opts;
    rh_cluster *c;
    rh_err err;
    int rc;
} twin_start;

static void *start_twin(void *arg)
{
    twin_start *t = arg;
    t->rc = rh_cluster_start(&t->c, t->opts, &t->err);
    return NULL;
}

/* Any 64 hex digits: the private folder holds this one entry. */
#define FORK_KEY "0000000000000000000000000000000000000000000000000000000000000000"

int rh_check_fork(rh_cluster **c, const rh_cluster_opts *copts, rh_cluster **twin, rh_err *err)
{
    *twin = NULL;
    char *dir = rh_xasprintf("%s/fork-XXXXXX", rh_cluster_run_dir());
    if (!mkdtemp(dir)) {
        rh_err_errno(err, "cannot create %s", dir);
        free(dir);
        return -1;
    }
    rh_cluster_opts fo = *copts;
    fo.cache_dir = dir;
    fo.state = NULL;
    char *entry = NULL;
    int rc = -1;
    /* the cluster stops here: its data directory is the fork's point */
    if (rh_state_save(*c, &fo, FORK_KEY, "check: the upgrade path before head, forked for the lock trace", err) < 0)
        goto out;
    int hit = rh_state_lookup(&fo, FORK_KEY, &entry, err);
    if (hit <= 0) {
        if (hit == 0)
            rh_err_set(err, "the fork of the upgrade path's cluster was not found in %s", dir);
        goto out;
    }
    fo.state = entry;
    /* the twins start side by side (a thread for the second): each is a copy and a server start */
    twin_start t = {.opts = &fo};
    int threaded = pthread_create(&t.tid, NULL, start_twin, &t) == 0;
    if (!threaded)
        start_twin(&t);
    rh_cluster *a = NULL;
    int arc = rh_cluster_start(&a, &fo, err);
    if (threaded)
        pthread_join(t.tid, NULL);
    rh_err e2;
    if (arc < 0 || t.rc < 0) {
        if (arc == 0)
            *err = t.err;
        rh_cluster_stop(a, &e2);
        rh_cluster_stop(t.c, &e2);
        goto out;
    }
    rh_cluster *b = t.c;
    if (rh_cluster_stop(*c, &e2) < 0)
        rh_report_term_eprintf("rehearse check: %s\n", e2.msg);
    *c = a;
    *twin = b;
    rc = 0;
out:
    if (rc < 0)
        rh_err_prefix(err, "a cluster of its own for the lock trace");
    rh_err ignored;
    rh_fs_rmtree(dir, &ignored);
    free(entry);
    free(dir);
    return rc;
}

char *rh_check_keep_isolated(rh_cluster *upgrade, rh_cluster *clean, rh_cluster *probe)
{
    rh_buf kept;
    rh_buf_init(&kept);
    rh_cluster *each[3] = {upgrade, clean, probe};
    const char *dbs[3] = {DB_UPGRADE, DB_CLEAN, DB_PROBE};
    const char *paths[3] = {"upgrade path", "clean deploy", "lock trace"};
    for (int i = 0; i < 3; i++) {
        if (!each[i])
            continue;
        char *psql = rh_cluster_psql_command(each[i]);
        rh_buf_printf(&kept, "%s%s: %s  (database: %s)", kept.len ? "; " : "", paths[i],
                      psql ? psql : rh_cluster_url(each[i]), dbs[i]);
        free(psql);
        rh_cluster_keep(each[i]);
    }
    return rh_buf_steal(&kept);
}

void rh_check_shared_globals_warning(rh_check_result *r, const char *isolated, const rh_check_cache *cc)
{
    if (isolated || !cc->globals_changed)
        return;
    rh_check_add(r, RH_CHECK_WARNING, 'a', "shared-globals", NULL, NULL, 0, NULL,
                 "the run changed the cluster's global objects (roles, their settings, databases ...) though no "
                 "migration's text showed a statement that does (SQL assembled from pieces?): the clean deploy, the "
                 "upgrade path and the lock trace shared one cluster, so one may have seen another's change and "
                 "this verdict may not be production's");
}
