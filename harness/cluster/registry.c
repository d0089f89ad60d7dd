/*
 * registry.c — the clusters on this machine that no live rehearse holds: kept ones (`--keep`)
 * and leftovers of rehearse processes that died before their watchdog could act.
 */
#include "cluster/internal.h"

#include "util/fs.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Fill info for the cluster directory `name` under the run directory; -1 if it is not a cluster.
 * What it is comes from its record (RUN_DIR/ID.owner, which the server account cannot write). A
 * folder of an older rehearse has no record, only ID/owner inside the folder: that is believed for
 * "leave it alone" decisions only, never for a pid to signal.
 */
static int inspect(const char *run, const char *name, rh_cluster_info *info)
{
    memset(info, 0, sizeof *info);
    snprintf(info->id, sizeof info->id, "%s", name);
    snprintf(info->dir, sizeof info->dir, "%s/%s", run, name);
    struct stat st;
    if (lstat(info->dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return -1;
    rh_cluster_record rec;
    long pid = 0;
    unsigned long long start = 0;
    char path[4200];
    if (rh_record_read(info->dir, &rec) == 0) {
        pid = rec.owner_pid;
        start = rec.owner_start;
        info->kept = rec.kept;
        info->server_pid = rh_proc_matches(&rec.server) ? rec.server.pid : 0;
    } else {
        snprintf(path, sizeof path, "%s/owner", info->dir);
        FILE *f = fopen(path, "r");
        if (!f)
            return -1;
        int got = fscanf(f, "%ld %llu", &pid, &start);
        fclose(f);
        if (got != 2)
            return -1;
        snprintf(path, sizeof path, "%s/kept", info->dir);
        info->kept = rh_fs_exists(path);
        snprintf(path, sizeof path, "%s/data", info->dir);
        pid_t sp = rh_read_postmaster_pid(path);
        info->server_pid = rh_proc_alive(sp) ? sp : 0; /* shown, never signalled */
    }
    info->owner_pid = (pid_t)pid;
    /* A recycled pid is not the owner: the start time must match too. */
    info->owner_alive = rh_proc_alive((pid_t)pid) && rh_proc_starttime((pid_t)pid) == start;
    return 0;
}

int rh_cluster_list(rh_cluster_info **out, size_t *n, rh_err *err)
{
    *out = NULL;
    *n = 0;
    const char *run = rh_cluster_run_dir();
    DIR *d = opendir(run);
    if (!d)
        return 0; /* nothing was ever started */
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, "initdb-", 7) == 0 ||
            strncmp(e->d_name, "bench-naive-", 12) == 0)
            continue;
        rh_cluster_info info;
        if (inspect(run, e->d_name, &info) < 0)
            continue;
        *out = rh_xrealloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = info;
    }
    closedir(d);
    return 0;
}

/*
 * Stop the cluster's server, delete its folder and record. The pid signalled comes from the record
 * and is checked (rh_proc_stop); without a record (an older rehearse's folder), postmaster.pid is
 * only acted on as the server account (rh_stop_untrusted_server). The folder goes either way.
 */
static int destroy(const rh_cluster_info *info, rh_err *err)
{
    rh_cluster_record rec;
    int refused = 0;
    if (rh_record_read(info->dir, &rec) == 0) {
        if (rec.server.pid > 0)
            rh_proc_stop(&rec.server, 5000);
    } else {
        refused = rh_stop_untrusted_server(info->dir, 5000) < 0;
    }
    int rc = rh_fs_rmtree(info->dir, err);
    rh_record_remove(info->dir);
    if (rc == 0 && refused)
        rc = rh_err_set(err, "cluster %s: deleted, but the pid in its postmaster.pid (a file the server account can "
                             "write) is not a postgres server of that account, so it was not signalled; look for a "
                             "postgres process still running on %s/data",
                        info->id, info->dir);
    return rc;
}

int rh_cluster_stop_id(const char *id, rh_err *err)
{
    if (!*id || strchr(id, '/') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return rh_err_set(err, "'%s' is not a cluster id (see `rehearse clusters`)", id);
    rh_cluster_info info;
    if (inspect(rh_cluster_run_dir(), id, &info) < 0)
        return rh_err_set(err, "no cluster with id '%s' in %s (see `rehearse clusters`)", id,
                          rh_cluster_run_dir());
    if (info.owner_alive && !info.kept && info.owner_pid != getpid())
        return rh_err_set(err, "cluster %s belongs to rehearse process %d, which is still running", id,
                          (int)info.owner_pid);
    return destroy(&info, err);
}

/*
 * initdb work directories are named initdb-PID-XXXXXX, the naive clusters of `bench cluster`
 * bench-naive-PID-XXXXXX: stale when PID is gone. A server still running there (started by pg_ctl,
 * so known only from postmaster.pid) is stopped as the server account. Records (ID.owner) whose
 * cluster folder is gone and whose owner is dead are deleted too.
 */
static void reap_work_dirs(const char *run)
{
    DIR *d = opendir(run);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[4200];
        size_t len = strlen(e->d_name);
        if (len > 6 && strcmp(e->d_name + len - 6, ".owner") == 0) {
            snprintf(path, sizeof path, "%s/%.*s", run, (int)(len - 6), e->d_name);
            rh_cluster_record rec;
            if (!rh_fs_exists(path) && rh_record_read(path, &rec) == 0 &&
                !(rh_proc_alive(rec.owner_pid) && rh_proc_starttime(rec.owner_pid) == rec.owner_start))
                rh_record_remove(path);
            continue;
        }
        size_t skip = strncmp(e->d_name, "initdb-", 7) == 0         ? 7
                      : strncmp(e->d_name, "bench-naive-", 12) == 0 ? 12
                                                                    : 0;
        if (!skip)
            continue;
        pid_t pid = (pid_t)atol(e->d_name + skip);
        if (pid > 0 && !rh_proc_alive(pid)) {
            rh_err ignored;
            snprintf(path, sizeof path, "%s/%s", run, e->d_name);
            rh_stop_untrusted_server(path, 5000);
            rh_fs_rmtree(path, &ignored);
        }
    }
    closedir(d);
}

int rh_cluster_reap(int *reaped, rh_err *err)
{
    *reaped = 0;
    /* in a run folder another account could write, nothing in it says what to stop or delete */
    if (rh_fs_exists(rh_cluster_run_dir()) && rh_run_dir_trusted(rh_cluster_run_dir(), err) < 0)
        return -1;
    rh_cluster_info *list;
    size_t n;
    if (rh_cluster_list(&list, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (list[i].kept || list[i].owner_alive)
            continue;
        if (destroy(&list[i], err) < 0)
            rc = -1;
        else
            (*reaped)++;
    }
    free(list);
    reap_work_dirs(rh_cluster_run_dir());
    return rc;
}
