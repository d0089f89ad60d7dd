/*
 * bench.c — `rehearse bench cluster`: how long a cluster takes to be ready and to go away, against
 * the naive way (initdb + pg_ctl start -w + pg_ctl stop) and pg_virtualenv, run interleaved so the
 * machine's noise falls on all of them alike.
 */
#include "cluster/internal.h"

#include "util/fs.h"
#include "util/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster/bench.h"

static int run_as_child(char *const argv[], const rh_runas *ra, const char *log, rh_err *err)
{
    pid_t pid = rh_spawn_detached(argv, ra, log, err);
    if (pid < 0)
        return -1;
    int status = rh_wait_child(pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return rh_err_set(err, "%s failed (see %s)", argv[0], log);
    return 0;
}

/* initdb + pg_ctl start -w, then pg_ctl stop -m immediate + delete: the way a shell script does it. */
static int naive_once(const rh_pgbin *bin, const rh_runas *ra, double *ready_ms, double *stop_ms, rh_err *err)
{
    /* Known to the watchdog before it exists (so a kill at any moment leaves nothing): the watchdog
       deletes it and stops its server, as the server account, if the bench is interrupted. */
    static int seq;
    unsigned rnd = (unsigned)(rh_now_us() ^ (getpid() << 8)) & 0xffffff;
    char *work = rh_xasprintf("%s/bench-naive-%d-%d%06x", rh_cluster_run_dir(), (int)getpid(), ++seq, rnd);
    if (rh_watchdog_add(NULL, work, err) < 0) {
        free(work);
        return -1;
    }
    int bad = 0;
    if (mkdir(work, 0700) < 0)
        bad = rh_err_errno(err, "cannot create %s", work) < 0;
    else if (ra->active && chown(work, ra->uid, ra->gid) < 0)
        bad = rh_err_errno(err, "chown %s", work) < 0;
    if (bad) {
        rmdir(work);
        rh_err ignored;
        rh_watchdog_forget(work, &ignored);
        free(work);
        return -1;
    }
    char *data = rh_xasprintf("%s/data", work), *log = rh_xasprintf("%s/log", work);
    char *initdb = rh_xasprintf("%s/initdb", bin->bindir), *pg_ctl = rh_xasprintf("%s/pg_ctl", bin->bindir);
    /* mmap DSM segments live in the data folder; the default (posix) leaves /dev/shm/PostgreSQL.* files
       behind a server killed with SIGKILL, where no clean-up can tell whose they are */
    char *opts = rh_xasprintf("-k %s -c listen_addresses= -c dynamic_shared_memory_type=mmap", work);
    /* nobody logs in (pg_ctl -w only pings): reject, so that no one else can either (issue 17.1) */
    char *a1[] = {initdb, "-D", data, "-U", "postgres", "--auth=reject", "--no-sync", NULL};
    char *a2[] = {pg_ctl, "-D", data, "-l", log, "-w", "-o", opts, "start", NULL};
    char *a3[] = {pg_ctl, "-D", data, "-m", "immediate", "-w", "stop", NULL};
    int rc = 0;
    long t0 = rh_now_us();
    if (run_as_child(a1, ra, log, err) < 0 || run_as_child(a2, ra, log, err) < 0)
        rc = -1;
    long t1 = rh_now_us();
    if (rc == 0 && run_as_child(a3, ra, log, err) < 0)
        rc = -1;
    if (rc < 0) /* pg_ctl start may have left it running; its pid is in a file the account can write */
        rh_stop_untrusted_server(work, 5000);
    rh_err ignored;
    rh_fs_rmtree(work, &ignored);
    if (rh_watchdog_forget(work, err) < 0)
        rc = -1;
    long t2 = rh_now_us();
    *ready_ms = (double)(t1 - t0) / 1000.0;
    *stop_ms = (double)(t2 - t1) / 1000.0;
    free(data);
    free(log);
    free(initdb);
    free(pg_ctl);
    free(opts);
    free(work);
    return rc;
}

static int virtualenv_once(double *ms, rh_err *err)
{
    if (access("/usr/bin/pg_virtualenv", X_OK) != 0)
        return 1;
    char *argv[] = {"/usr/bin/pg_virtualenv", "/bin/true", NULL};
    rh_buf out;
    rh_buf_init(&out);
    long t0 = rh_now_us();
    int rc = rh_spawn_capture(argv, &out, err);
    *ms = (double)(rh_now_us() - t0) / 1000.0;
    rh_buf_free(&out);
    if (rc != 0)
        return rh_err_set(err, "pg_virtualenv true failed (exit %d)", rc);
    return 0;
}

int rh_cluster_bench(const rh_cluster_opts *opts, int runs, int with_virtualenv, int json, rh_buf *out, rh_err *err)
{
    if (runs < 1)
        runs = 1;
    int naive_runs = runs < 10 ? runs : 10, venv_runs = !with_virtualenv ? 0 : runs < 3 ? runs : 3;
    double *ready = rh_xcalloc((size_t)runs, sizeof(double)), *copy = rh_xcalloc((size_t)runs, sizeof(double));
    double *launch = rh_xcalloc((size_t)runs, sizeof(double)), *stop = rh_xcalloc((size_t)runs, sizeof(double));
    double *tmpl = rh_xcalloc((size_t)runs, sizeof(double)), *auth = rh_xcalloc((size_t)runs, sizeof(double));
    double nready[10], nstop[10], venv[3];
    int nn = 0, nv = 0, rc = 0;
    rh_runas ra;
    rh_pgbin bin;
    if (rh_runas_resolve(&ra, opts->run_as, err) < 0 || rh_pgbin_find_version(&bin, opts->pg_bin, opts->pg_version, err) < 0) {
        rc = -1;
        goto out;
    }
    /* warm-up: builds the template if needed, and the page cache */
    rh_cluster *c;
    if (rh_cluster_start(&c, opts, err) < 0) {
        rc = -1;
        goto out;
    }
    rh_cluster_stop(c, err);
    for (int i = 0; i < runs; i++) {
        long t0 = rh_now_us();
        if (rh_cluster_start(&c, opts, err) < 0) {
            rc = -1;
            goto out;
        }
        long t1 = rh_now_us();
        rh_cluster_timing t = rh_cluster_last_timing(c);
        if (rh_cluster_stop(c, err) < 0) {
            rc = -1;
            goto out;
        }
        ready[i] = (double)(t1 - t0) / 1000.0;
        copy[i] = (double)t.copy_us / 1000.0;
        tmpl[i] = (double)t.template_us / 1000.0;
        auth[i] = (double)t.auth_us / 1000.0;
        launch[i] = (double)t.ready_us / 1000.0;
        stop[i] = (double)(rh_now_us() - t1) / 1000.0;
        if (i < naive_runs) {
            if (naive_once(&bin, &ra, &nready[nn], &nstop[nn], err) < 0) {
                rc = -1;
                goto out;
            }
            nn++;
        }
        if (i < venv_runs) {
            int v = virtualenv_once(&venv[nv], err);
            if (v < 0) {
                rc = -1;
                goto out;
            }
            if (v == 0)
                nv++;
        }
    }
    rh_stats s_ready = rh_stats_of(ready, (size_t)runs), s_copy = rh_stats_of(copy, (size_t)runs);
    rh_stats s_launch = rh_stats_of(launch, (size_t)runs), s_stop = rh_stats_of(stop, (size_t)runs);
    rh_stats s_nready = rh_stats_of(nready, (size_t)nn), s_nstop = rh_stats_of(nstop, (size_t)nn);
    rh_stats s_venv = rh_stats_of(venv, (size_t)nv), s_tmpl = rh_stats_of(tmpl, (size_t)runs);
    rh_stats s_auth = rh_stats_of(auth, (size_t)runs);
    if (json) {
        rh_buf_printf(out, "{\"benchmark\": \"cluster\", \"postgres\": \"%s\", \"runs\": %d, \"run_dir\": \"%s\",\n",
                      bin.version, runs, rh_cluster_run_dir());
        rh_buf_puts(out, " \"ready_ms\": ");
        rh_stats_json(out, s_ready);
        rh_buf_puts(out, ",\n \"copy_ms\": ");
        rh_stats_json(out, s_copy);
        rh_buf_puts(out, ",\n \"template_check_ms\": ");
        rh_stats_json(out, s_tmpl);
        rh_buf_puts(out, ",\n \"passwords_ms\": ");
        rh_stats_json(out, s_auth);
        rh_buf_puts(out, ",\n \"start_until_ready_ms\": ");
        rh_stats_json(out, s_launch);
        rh_buf_puts(out, ",\n \"stop_ms\": ");
        rh_stats_json(out, s_stop);
        rh_buf_puts(out, ",\n \"naive_ready_ms\": ");
        rh_stats_json(out, s_nready);
        rh_buf_puts(out, ",\n \"naive_stop_ms\": ");
        rh_stats_json(out, s_nstop);
        rh_buf_puts(out, ",\n \"pg_virtualenv_ms\": ");
        if (nv)
            rh_stats_json(out, s_venv);
        else
            rh_buf_puts(out, "null");
        rh_buf_printf(out, ",\n \"ready_ratio_naive_over_rehearse\": %.2f}\n",
                      s_ready.median > 0 ? s_nready.median / s_ready.median : 0.0);
    } else {
        rh_buf_printf(out, "cluster benchmark: PostgreSQL %s, %d runs (naive %d, pg_virtualenv %d), in %s\n",
                      bin.version, runs, nn, nv, rh_cluster_run_dir());
        rh_buf_printf(out, "%-40s %10s %10s %10s\n", "", "median ms", "min", "max");
        struct {
            const char *name;
            rh_stats s;
        } rows[] = {
            {"rehearse: ready (copy + start + passwords)", s_ready}, {"  template lookup + manifest check", s_tmpl},
            {"  template copy", s_copy},                   {"  cluster's own passwords (SCRAM)", s_auth},
            {"  postgres exec until ready   ", s_launch},       {"rehearse: stop + delete", s_stop},
            {"naive: initdb + pg_ctl start -w", s_nready},      {"naive: pg_ctl stop + delete", s_nstop},
            {"pg_virtualenv true", s_venv},
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
            if (rows[i].s.n)
                rh_buf_printf(out, "%-40s %10.1f %10.1f %10.1f\n", rows[i].name, rows[i].s.median, rows[i].s.min,
                              rows[i].s.max);
        if (s_ready.median > 0)
            rh_buf_printf(out, "ready: rehearse is %.1fx faster than initdb + pg_ctl start (medians)\n",
                          s_nready.median / s_ready.median);
    }
out:
    free(ready);
    free(copy);
    free(launch);
    free(stop);
    free(tmpl);
    free(auth);
    return rc;
}
