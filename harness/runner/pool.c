/*
 * pool.c — the run: parse every file, select (filter, shard), and run each scenario in a forked
 * worker, at most `jobs` at a time.
 *
 * A worker writes one line per step it starts ("S index") and its result ("R json") to a pipe. The
 * runner polls the pipes: a worker past its time limit is killed, one that dies without a result
 * (a crash) is reported with the step it was in, and the cluster module's watchdog of that worker
 * stops its server. Results are stored by scenario index, so the report order never depends on -j.
 *
 * Two overlaps keep the per-scenario overhead low: a *warm* worker is forked ahead of its turn and
 * starts its cluster while the others run, then waits for a "go" byte; and a worker that sent its
 * result frees its slot at once, stopping its server while the next scenario already runs
 * (*draining*). With a timings file, the scenarios that took longest last time start first, so a
 * long one does not end up alone at the tail of a parallel run; runs with the state cache and without
 * it keep their times apart (timings_file).
 */
#include "runner/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "engine/cached.h"
#include "util/fs.h"

#define DEFAULT_TIMEOUT_MS 120000L
#define DRAIN_LIMIT_MS 60000.0
#define MAX_WORKERS 256

/* SIGINT/SIGTERM/SIGHUP while the pool runs: stop the workers and report what finished. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    if (!interrupted)
        interrupted = sig;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

typedef struct item {
    char *path;
    rh_scenario *scn;    /* NULL when it did not parse */
    rh_result *res;      /* into run->results */
    char *parse_error;
    int unreadable;      /* parse_error says why the file cannot be read (a dangling symlink) */
    double last_ms;      /* from the timings file; -1 unknown */
    int done;
} item;

typedef enum wstate { W_FREE, W_WARM, W_RUNNING, W_DRAINING } wstate;

typedef struct worker {
    wstate state;
    size_t idx;          /* the item */
    pid_t pid;
    int fd;              /* results from the worker */
    int go_fd;           /* "go" to the worker (-1 once sent) */
    rh_buf in;
    long step;           /* the step it last announced, -1 before the first */
    int got_result;
    double started, deadline;
    double skipped_ms;   /* lock waits it did not wait out (lockwait.c), counted against its limit */
} worker;

/* ---- the worker side ------------------------------------------------------------------------------ */

static void write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

typedef struct announce {
    int fd;
    int go_fd;
    int crash_at;    /* test hook: REHEARSE_TEST_CRASH=PATH_PART:STEP makes the worker abort there */
} announce;

static void announce_step(void *ctx, size_t index)
{
    announce *a = ctx;
    char line[32];
    int n = snprintf(line, sizeof line, "S %zu\n", index);
    write_all(a->fd, line, (size_t)n);
    if (a->crash_at >= 0 && (size_t)a->crash_at == index)
        abort();
}

/* A lock wait not waited out (lockwait.c) still counts against the scenario's time limit. */
static void announce_skipped(void *ctx, double ms)
{
    announce *a = ctx;
    char line[48];
    int n = snprintf(line, sizeof line, "K %.0f\n", ms);
    write_all(a->fd, line, (size_t)n);
}

/* A warm worker's cluster is up: wait for the runner's go (EOF means: give up). */
static double wait_for_go(void *ctx)
{
    announce *a = ctx;
    double t = now_ms();
    char c;
    ssize_t r;
    while ((r = read(a->go_fd, &c, 1)) < 0 && errno == EINTR)
        ;
    close(a->go_fd);
    if (r <= 0)
        _exit(0);   /* the runner is gone or stopped early; the watchdog stops the cluster */
    return now_ms() - t;
}

static void send_result(void *ctx, const rh_result *res)
{
    announce *a = ctx;
    char *json = rh_result_to_json(res);
    write_all(a->fd, "R ", 2);
    write_all(a->fd, json, strlen(json));
    write_all(a->fd, "\n", 1);
    free(json);
}

/* The runner's crash handling is tested by making a worker die on purpose (never set in use). */
static int crash_step(const char *path)
{
    const char *spec = getenv("REHEARSE_TEST_CRASH");
    if (!spec)
        return -1;
    const char *colon = strrchr(spec, ':');
    if (!colon)
        return -1;
    char *part = rh_xstrndup(spec, (size_t)(colon - spec));
    int hit = strstr(path, part) != NULL;
    free(part);
    return hit ? atoi(colon + 1) : -1;
}

static long timeout_of_scn(const rh_scenario *s, const rh_runner_opts *o)
{
    if (s && s->timeout_ms > 0)
        return s->timeout_ms;
    return o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
}

static void worker_main(int fd, int go_fd, const rh_scenario *s, const rh_runner_opts *o)
{
    signal(SIGPIPE, SIG_IGN);
    rh_exec_opts eo = {0};
    /* the runner's clock for this scenario starts after the fork: this is at most a moment late */
    eo.deadline_ms = now_ms() + (double)timeout_of_scn(s, o);
    eo.keep_failed = o->keep_failed;
    eo.no_cache = o->no_cache;
    eo.superuser = o->superuser;
    eo.trace_locks = o->trace_locks;
    eo.scale = o->scale;
    eo.pg_bin = o->pg_bin;
    eo.pg_version = o->pg_version;
    announce a = {fd, go_fd, crash_step(s->path)};
    eo.on_step = announce_step;
    eo.on_step_ctx = &a;
    eo.on_wait_skipped = announce_skipped;
    eo.before_steps = wait_for_go;
    eo.on_result = send_result;
    eo.cb_ctx = &a;
    rh_result res;
    rh_scenario_run(s, &eo, &res);
    rh_result_free(&res);
    close(fd);
    /* no exit handlers: they belong to the parent (a test binary's shared cluster, stdio buffers) */
    _exit(0);
}

/* ---- timings of earlier runs -------------------------------------------------------------------- */

static void read_timings(const char *path, item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        items[i].last_ms = -1;
    char *text;
    size_t len;
    rh_err err;
    if (!path || rh_fs_read(path, &text, &len, &err) < 0)
        return;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = 0;
        for (size_t i = 0; i < n; i++)
            if (strcmp(items[i].path, tab + 1) == 0)
                items[i].last_ms = atof(line);
    }
    free(text);
}

/*
 * The file this run's order comes from and its durations go to: a run with the state cache and one
 * without take very different times (a warm scenario replayed from the cache may take none, a cold
 * one seconds), so a run without it uses its own file ("NAME-no-cache.tsv" beside "NAME.tsv"):
 * a warm run is ordered by the last warm run's times, not by those of a --no-cache run between.
 */
static char *timings_file(const rh_runner_opts *o)
{
    if (!o->timings_path)
        return NULL;
    if (!o->no_cache && !rh_state_cache_off())
        return rh_xstrdup(o->timings_path);
    size_t n = strlen(o->timings_path);
    if (n > 4 && strcmp(o->timings_path + n - 4, ".tsv") == 0)
        n -= 4;
    return rh_xasprintf("%.*s-no-cache.tsv", (int)n, o->timings_path);
}

/* Keep the durations of this run (merged with the others in the file). */
static void write_timings(const char *path, const item *items, size_t n)
{
    if (!path)
        return;
    rh_buf b;
    rh_buf_init(&b);
    char *old;
    size_t len;
    rh_err err;
    if (rh_fs_read(path, &old, &len, &err) == 0) {
        for (char *line = strtok(old, "\n"); line; line = strtok(NULL, "\n")) {
            char *tab = strchr(line, '\t');
            int mine = 0;
            for (size_t i = 0; tab && i < n && !mine; i++)
                mine = strcmp(items[i].path, tab + 1) == 0 && items[i].res->ms > 0;
            if (tab && !mine && rh_fs_exists(tab + 1))   /* forget files that are gone */
                rh_buf_printf(&b, "%s\n", line);
        }
        free(old);
    }
    for (size_t i = 0; i < n; i++)
        if (items[i].res->ms > 0 && !strchr(items[i].path, '\n'))
            rh_buf_printf(&b, "%.0f\t%s\n", items[i].res->ms, items[i].path);
    char *dir = rh_xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        rh_fs_mkdir_p(dir, 0755, &err);
    }
    free(dir);
    char *tmp = rh_xasprintf("%s.%d", path, (int)getpid());
    if (rh_fs_write(tmp, b.data, b.len, 0644, &err) == 0)
        rename(tmp, path);
    else
        unlink(tmp);
    free(tmp);
    rh_buf_free(&b);
}

/* ---- the runner side ------------------------------------------------------------------------------ */

static long timeout_of(const item *it, const rh_runner_opts *o)
{
    return timeout_of_scn(it->scn, o);
}

static int spawn(worker *w, size_t idx, item *it, const rh_runner_opts *o, rh_err *err)
{
    int p[2], g[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return rh_err_errno(err, "pipe");
    if (pipe2(g, O_CLOEXEC) < 0) {
        close(p[0]);
        close(p[1]);
        return rh_err_errno(err, "pipe");
    }
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        close(g[0]);
        close(g[1]);
        return rh_err_errno(err, "fork");
    }
    if (pid == 0) {
        /*
         * The runner enforces the time limit: a worker whose runner is gone (SIGKILL, or a signal
         * sent to the runner alone) must not run on unwatched. It dies with it, and its own
         * watchdog stops its cluster.
         */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        rh_cluster_install_signal_handlers();   /* not the runner's interrupt handler */
        close(p[0]);
        close(g[1]);
        worker_main(p[1], g[0], it->scn, o);
    }
    close(p[1]);
    close(g[0]);
    memset(w, 0, sizeof *w);
    w->state = W_WARM;
    w->idx = idx;
    w->pid = pid;
    w->fd = p[0];
    w->go_fd = g[1];
    w->step = -1;
    rh_buf_init(&w->in);
    return 0;
}

/* Its turn: the time limit runs from now. */
static void go(worker *w, const item *it, const rh_runner_opts *o)
{
    write_all(w->go_fd, "g", 1);
    close(w->go_fd);
    w->go_fd = -1;
    w->state = W_RUNNING;
    w->started = now_ms();
    w->deadline = w->started + (double)timeout_of(it, o);
}

/* Handle the complete lines a worker sent. Returns 1 when the result arrived. */
static int take_lines(worker *w, item *it)
{
    char *line = w->in.data;
    char *nl;
    int got = 0;
    while ((nl = strchr(line, '\n'))) {
        *nl = 0;
        if (line[0] == 'S' && line[1] == ' ') {
            w->step = atol(line + 2);
        } else if (line[0] == 'K' && line[1] == ' ' && w->state == W_RUNNING) {
            double ms = atof(line + 2);
            if (ms > 0) { /* the scenario's clock runs as if it had waited */
                w->deadline -= ms;
                w->skipped_ms += ms;
            }
        } else if (line[0] == 'R' && line[1] == ' ' && !w->got_result) {
            rh_err err;
            rh_result r;
            if (rh_result_from_json(line + 2, &r, &err) == 0) {
                rh_result_free(it->res);
                *it->res = r;
                w->got_result = 1;
                got = 1;
            }
        }
        line = nl + 1;
    }
    size_t rest = strlen(line);
    memmove(w->in.data, line, rest + 1);
    w->in.len = rest;
    return got;
}

/* "during step f:l `src`" for a crash or a timeout. */
static void blame_step(rh_result *r, const item *it, long step)
{
    if (!it->scn || step < 0 || (size_t)step >= it->scn->nsteps)
        return;
    const rh_scn_step *st = &it->scn->steps[step];
    free(r->file);
    free(r->step);
    r->file = rh_xstrdup(st->file);
    r->line = st->line;
    r->step = rh_xstrdup(st->source ? st->source : "");
    r->steps_run = (size_t)step + 1;
}

/* The worker ended (or was killed) without a result: say why, with the step it was in. */
static void no_result(worker *w, item *it, int timed_out, int status, const rh_runner_opts *o)
{
    rh_result *r = it->res;
    rh_result_free(r);
    r->path = rh_xstrdup(it->path);
    r->name = rh_xstrdup(it->scn ? it->scn->name : it->path);
    r->steps_total = it->scn ? it->scn->nsteps : 0;
    r->status = RH_ERROR;
    blame_step(r, it, w->step);
    if (!r->file)
        r->file = rh_xstrdup(it->path);
    if (interrupted && w->started <= 0) {
        r->message = rh_xasprintf("not run: the run was interrupted (%s) first", strsignal(interrupted));
    } else if (interrupted) {
        r->message = rh_xasprintf("interrupted (%s)%s: the run was stopped before this scenario finished; its "
                                  "worker and cluster were stopped",
                                  strsignal(interrupted), r->step ? " in this step" : "");
    } else if (timed_out) {
        r->timed_out = 1;
        char skipped[96] = "";
        if (w->skipped_ms > 0)
            snprintf(skipped, sizeof skipped, ", %.1f s of them lock waits not waited out", w->skipped_ms / 1000.0);
        r->message = rh_xasprintf("timed out after %.1f s%s%s (the limit: `timeout` in the file, or --timeout); "
                                  "the worker was killed and its cluster stopped",
                                  (double)timeout_of(it, o) / 1000.0, skipped, r->step ? " in this step" : "");
    } else if (WIFSIGNALED(status)) {
        r->crashed = 1;
        r->signal = WTERMSIG(status);
        r->message = rh_xasprintf("the worker running this scenario died of signal %d (%s)%s; its cluster was "
                                  "stopped", r->signal, strsignal(r->signal), r->step ? " in this step" : "");
    } else {
        r->crashed = 1;
        r->message = rh_xasprintf("the worker running this scenario exited with status %d without a result",
                                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    r->ms = w->started > 0 ? now_ms() - w->started : 0;
    r->worker_pid = (int)w->pid;
}

static int reap_status(worker *w, int kill_it)
{
    int status = 0;
    if (kill_it)
        kill(w->pid, SIGKILL);
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
        ;
    close(w->fd);
    if (w->go_fd >= 0)
        close(w->go_fd);
    rh_buf_free(&w->in);
    w->state = W_FREE;
    return status;
}

static void reap(worker *w, int kill_it)
{
    (void)reap_status(w, kill_it);
}

static void tally(rh_run *run)
{
    run->passed = run->failed = run->errors = run->skipped = 0;
    for (size_t i = 0; i < run->n; i++) {
        switch (run->results[i].status) {
        case RH_PASS: run->passed++; break;
        case RH_FAIL: run->failed++; break;
        case RH_ERROR: run->errors++; break;
        case RH_SKIP: run->skipped++; break;
        }
    }
}

typedef struct sched {
    const rh_runner_opts *o;
    item *items;
    size_t n;
    size_t *order;       /* the order scenarios start in */
    size_t next;         /* into order */
    size_t done;
    worker ws[MAX_WORKERS];
} sched;

static int count(const sched *s, wstate st)
{
    int c = 0;
    for (int k = 0; k < MAX_WORKERS; k++)
        c += s->ws[k].state == st;
    return c;
}

static worker *free_slot(sched *s)
{
    for (int k = 0; k < MAX_WORKERS; k++)
        if (s->ws[k].state == W_FREE)
            return &s->ws[k];
    return NULL;
}

static void completed(sched *s, item *it)
{
    it->done = 1;
    s->done++;
    if (s->o->progress)
        s->o->progress(s->o->progress_ctx, it->res, s->done, s->n);
}

/* Fork the next scenario's worker (warm); 0 when there is nothing left to start. */
static int spawn_next(sched *s, rh_err *err)
{
    while (s->next < s->n && !s->items[s->order[s->next]].scn)
        s->next++;
    if (s->next >= s->n)
        return 0;
    worker *w = free_slot(s);
    if (!w)
        return 0;
    size_t idx = s->order[s->next];
    if (spawn(w, idx, &s->items[idx], s->o, err) < 0)
        return -1;
    s->next++;
    return 1;
}

/* Start the longest scenarios of the last run first; unknown ones (maybe long) before known short ones. */
static size_t *start_order(item *items, size_t n)
{
    size_t *order = rh_xcalloc(n + 1, sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    /* insertion sort, stable: n is small */
    for (size_t i = 1; i < n; i++) {
        size_t v = order[i];
        double kv = items[v].last_ms < 0 ? 1e18 : items[v].last_ms;
        size_t j = i;
        while (j > 0) {
            size_t u = order[j - 1];
            double ku = items[u].last_ms < 0 ? 1e18 : items[u].last_ms;
            if (ku >= kv)
                break;
            order[j] = u;
            j--;
        }
        order[j] = v;
    }
    return order;
}

static int run_pool(sched *s, int jobs, rh_err *err)
{
    /* one warm worker per two slots: more only competes for the CPUs the running ones need */
    int warm_ahead = s->o->no_warm ? 0 : (jobs + 1) / 2;
    int rc = 0;
    for (;;) {
        /* fill the running slots: warm workers first, then new ones */
        while (count(s, W_RUNNING) < jobs) {
            worker *w = NULL;
            for (int k = 0; k < MAX_WORKERS && !w; k++)
                if (s->ws[k].state == W_WARM)
                    w = &s->ws[k];
            if (!w) {
                int r = spawn_next(s, err);
                if (r < 0)
                    return -1;
                if (r == 0)
                    break;
                continue;   /* the new one is warm: picked up on the next pass */
            }
            go(w, &s->items[w->idx], s->o);
        }
        /* and keep a few warm ones ahead */
        while (count(s, W_WARM) < warm_ahead && count(s, W_WARM) + count(s, W_RUNNING) + count(s, W_DRAINING) <
                                                    MAX_WORKERS) {
            int r = spawn_next(s, err);
            if (r < 0)
                return -1;
            if (r == 0)
                break;
        }
        struct pollfd pfd[MAX_WORKERS];
        int map[MAX_WORKERS], np = 0;
        double soonest = now_ms() + 1000;
        for (int k = 0; k < MAX_WORKERS; k++) {
            worker *w = &s->ws[k];
            if (w->state == W_FREE)
                continue;
            pfd[np].fd = w->fd;
            pfd[np].events = POLLIN;
            map[np++] = k;
            if (w->state == W_RUNNING && w->deadline < soonest)
                soonest = w->deadline;
        }
        if (np == 0)
            break;
        double wait = soonest - now_ms();
        if (interrupted)
            break;
        int pr = poll(pfd, (nfds_t)np, wait < 0 ? 0 : (int)wait + 1);
        if (pr < 0 && errno != EINTR) {
            rc = rh_err_errno(err, "poll");
            break;
        }
        if (interrupted)
            break;
        for (int q = 0; q < np; q++) {
            worker *w = &s->ws[map[q]];
            item *it = &s->items[w->idx];
            int eof = 0;
            if (pfd[q].revents & (POLLIN | POLLHUP | POLLERR)) {
                char buf[65536];
                ssize_t r = read(w->fd, buf, sizeof buf);
                if (r > 0) {
                    rh_buf_append(&w->in, buf, (size_t)r);
                    if (take_lines(w, it)) {
                        it->res->worker_pid = (int)w->pid;
                        /* the result is in: the slot is free while the worker stops its server */
                        if (w->state == W_RUNNING && w->started > 0) {
                            /* the slot's time, from "go" to the result, is what the suite paid */
                            it->res->ms = now_ms() - w->started;
                            it->res->overhead_ms = it->res->ms - it->res->steps_ms;
                        }
                        w->state = W_DRAINING;
                        w->deadline = now_ms() + DRAIN_LIMIT_MS;
                        completed(s, it);
                    }
                } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                    eof = 1;
                }
            }
            if (eof) {
                int was = w->state;
                int status = reap_status(w, 0);
                if (was != W_DRAINING) {
                    no_result(w, it, 0, status, s->o);
                    completed(s, it);
                }
            } else if (w->state == W_RUNNING && now_ms() > w->deadline) {
                reap(w, 1);
                no_result(w, it, 1, 0, s->o);
                completed(s, it);
            } else if (w->state == W_DRAINING && now_ms() > w->deadline) {
                reap(w, 1);   /* a stop that hangs: the watchdog finishes the job */
            }
        }
    }
    /* on a runner error or an interrupt: stop whatever still runs */
    for (int k = 0; k < MAX_WORKERS; k++) {
        worker *w = &s->ws[k];
        if (w->state == W_FREE)
            continue;
        item *it = &s->items[w->idx];
        int was = w->state;
        reap(w, 1);
        if (was != W_DRAINING && !it->done) {
            no_result(w, it, was == W_RUNNING, 0, s->o);
            completed(s, it);
        }
    }
    /* interrupted: the scenarios never started are results too, so the report accounts for all */
    for (size_t i = 0; interrupted && i < s->n; i++) {
        item *it = &s->items[i];
        if (it->done || !it->scn)
            continue;
        rh_result *r = it->res;
        rh_result_free(r);
        r->path = rh_xstrdup(it->path);
        r->name = rh_xstrdup(it->scn->name);
        r->file = rh_xstrdup(it->path);
        r->steps_total = it->scn->nsteps;
        r->status = RH_ERROR;
        r->message = rh_xasprintf("not run: the run was interrupted (%s) first", strsignal(interrupted));
        completed(s, it);
    }
    return rc;
}

int rh_runner_run(const rh_runner_opts *o, char *const *files, size_t nfiles, rh_run *run, rh_err *err)
{
    memset(run, 0, sizeof *run);
    double t0 = now_ms();
    item *items = rh_xcalloc(nfiles + 1, sizeof *items);
    size_t n = 0;
    rh_scn_tools tools;
    rh_runner_scn_tools(&tools);
    for (size_t i = 0; i < nfiles; i++) {
        if (o->shard_n > 1 && !rh_runner_in_shard(files[i], o->shard_k, o->shard_n))
            continue;   /* not parsed at all: another machine's shard */
        rh_scenario *s = NULL;
        rh_err perr;
        int prc = rh_scn_parse_file_allow(&s, files[i], o->allow, o->nallow, &tools, &perr);
        if (!rh_runner_selects(o, files[i], s ? s->name : NULL)) {
            rh_scn_free(s);
            continue;
        }
        if (prc == 0 && rh_scenario_check_tools(s, &perr) < 0) { /* what its tool cannot do: an error as a parse's */
            rh_scn_free(s);
            s = NULL;
            prc = -1;
        }
        int dangling = prc < 0 && rh_runner_check_link(files[i], &perr) < 0;   /* "no such file" hides where to */
        items[n].path = files[i];
        items[n].scn = s;
        if (prc < 0) {
            items[n].scn = NULL;
            items[n].parse_error = rh_xstrdup(perr.msg);
            items[n].unreadable = dangling;
        } else if (s->nsteps == 0 && !s->skip) {
            /* an empty file (or only comments) would pass without checking anything */
            rh_scn_free(s);
            items[n].scn = NULL;
            items[n].parse_error = rh_xasprintf("%s: error: the scenario has no steps: it would pass without checking "
                                                "anything\n  hint: write its steps (docs/scenarios.md), or `skip REASON`",
                                                files[i]);
        }
        n++;
    }
    run->results = rh_xcalloc(n + 1, sizeof *run->results);
    run->n = n;
    int jobs = o->jobs > 1 ? o->jobs : 1;
    if (jobs > MAX_WORKERS / 3)
        jobs = MAX_WORKERS / 3;
    run->jobs = jobs;
    for (size_t i = 0; i < n; i++)
        items[i].res = &run->results[i];
    char *timings = timings_file(o);
    read_timings(timings, items, n);

    sched s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.items = items;
    s.n = n;
    /* parse errors are results already */
    for (size_t i = 0; i < n; i++) {
        if (items[i].scn)
            continue;
        rh_result *r = items[i].res;
        char *msg = items[i].parse_error;
        r->path = rh_xstrdup(items[i].path);
        r->name = rh_xstrdup(items[i].path);
        r->status = RH_ERROR;
        r->file = rh_xstrdup(items[i].path);
        /* the parser's message starts with file:line:col: keep the line for annotations */
        size_t pl = strlen(items[i].path);
        r->line = strncmp(msg, items[i].path, pl) == 0 && msg[pl] == ':' ? atoi(msg + pl + 1) : 0;
        r->message = rh_xasprintf("the scenario %s:\n%s", items[i].unreadable ? "cannot be read" : "does not parse", msg);
        free(msg);
        completed(&s, &items[i]);
    }
    int rc = 0;
    if (o->no_fork) {
        for (size_t i = 0; i < n; i++) {
            if (!items[i].scn)
                continue;
            rh_exec_opts eo = {0};
            eo.keep_failed = o->keep_failed;
            eo.no_cache = o->no_cache;
            eo.superuser = o->superuser;
            eo.trace_locks = o->trace_locks;
            eo.scale = o->scale;
            eo.pg_bin = o->pg_bin;
            eo.pg_version = o->pg_version;
            rh_scenario_run(items[i].scn, &eo, items[i].res);
            completed(&s, &items[i]);
        }
    } else {
        /* a worker that exits before reading its "go" (a skipped scenario) must not kill us */
        void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
        /* Ctrl-C, kill: stop the workers (their watchdogs stop their clusters), keep the results */
        static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
        struct sigaction sa, old_sa[3];
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_interrupt;
        sigemptyset(&sa.sa_mask);
        interrupted = 0;
        for (int k = 0; k < 3; k++)
            sigaction(sigs[k], &sa, &old_sa[k]);
        s.order = start_order(items, n);
        rc = run_pool(&s, jobs, err);
        free(s.order);
        for (int k = 0; k < 3; k++)
            sigaction(sigs[k], &old_sa[k], NULL);
        run->interrupted = interrupted;
        interrupted = 0;
        signal(SIGPIPE, old_pipe);
    }
    if (rc == 0 && !run->interrupted)   /* cut-short durations would mislead the next run's order */
        write_timings(timings, items, n);
    free(timings);
    for (size_t i = 0; i < n; i++)
        rh_scn_free(items[i].scn);
    free(items);
    tally(run);
    run->wall_ms = now_ms() - t0;
    return rc;
}
