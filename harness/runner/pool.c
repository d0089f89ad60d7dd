/*
 * pool.c — the run: parse every file, select (filter, shard), and run each scenario in a forked
 * worker, at most `jobs` at a time.
 *
 * A worker writes one line per step it starts ("S index") and its result ("R json") to a pipe. The
 * runner polls the pipes: a worker past its time limit is killed, one that dies without a result
 * (a crash) is reported with the step it was in, and the cluster module's watchdog of that worker
 * stops its server. Results are stored by scenario index, so the report order never depends on -j.
 */
#include "runner/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS 120000L

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
} item;

typedef struct worker {
    int active;
    size_t idx;          /* the item */
    pid_t pid;
    int fd;
    rh_buf in;
    long step;           /* the step it last announced, -1 before the first */
    int got_result;
    double started, deadline;
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

static void worker_main(int fd, const rh_scenario *s, const rh_runner_opts *o)
{
    signal(SIGPIPE, SIG_IGN);
    rh_exec_opts eo = {0};
    eo.keep_failed = o->keep_failed;
    eo.pg_bin = o->pg_bin;
    announce a = {fd, crash_step(s->path)};
    eo.on_step = announce_step;
    eo.on_step_ctx = &a;
    rh_result res;
    rh_scenario_run(s, &eo, &res);
    char *json = rh_result_to_json(&res);
    write_all(fd, "R ", 2);
    write_all(fd, json, strlen(json));
    write_all(fd, "\n", 1);
    free(json);
    rh_result_free(&res);
    close(fd);
    /* no exit handlers: they belong to the parent (a test binary's shared cluster, stdio buffers) */
    _exit(0);
}

/* ---- the runner side ------------------------------------------------------------------------------ */

static long timeout_of(const item *it, const rh_runner_opts *o)
{
    if (it->scn && it->scn->timeout_ms > 0)
        return it->scn->timeout_ms;
    return o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
}

static int start(worker *w, size_t idx, item *it, const rh_runner_opts *o, rh_err *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return rh_err_errno(err, "pipe");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return rh_err_errno(err, "fork");
    }
    if (pid == 0) {
        close(p[0]);
        worker_main(p[1], it->scn, o);
    }
    close(p[1]);
    memset(w, 0, sizeof *w);
    w->active = 1;
    w->idx = idx;
    w->pid = pid;
    w->fd = p[0];
    w->step = -1;
    rh_buf_init(&w->in);
    w->started = now_ms();
    w->deadline = w->started + (double)timeout_of(it, o);
    return 0;
}

/* Handle the complete lines a worker sent. */
static void take_lines(worker *w, item *it)
{
    char *line = w->in.data;
    char *nl;
    while ((nl = strchr(line, '\n'))) {
        *nl = 0;
        if (line[0] == 'S' && line[1] == ' ') {
            w->step = atol(line + 2);
        } else if (line[0] == 'R' && line[1] == ' ') {
            rh_err err;
            rh_result r;
            if (rh_result_from_json(line + 2, &r, &err) == 0) {
                rh_result_free(it->res);
                *it->res = r;
                w->got_result = 1;
            }
        }
        line = nl + 1;
    }
    size_t rest = strlen(line);
    memmove(w->in.data, line, rest + 1);
    w->in.len = rest;
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

static void finish(worker *w, item *it, int timed_out, const rh_runner_opts *o)
{
    int status = 0;
    if (timed_out) {
        kill(w->pid, SIGKILL);
    }
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
        ;
    close(w->fd);
    double ms = now_ms() - w->started;
    rh_result *r = it->res;
    if (timed_out || !w->got_result) {
        rh_result_free(r);
        r->path = rh_xstrdup(it->path);
        r->name = rh_xstrdup(it->scn ? it->scn->name : it->path);
        r->steps_total = it->scn ? it->scn->nsteps : 0;
        r->status = RH_ERROR;
        blame_step(r, it, w->step);
        if (!r->file)
            r->file = rh_xstrdup(it->path);
        if (timed_out) {
            r->timed_out = 1;
            r->message = rh_xasprintf("timed out after %.1f s%s (the limit: `timeout` in the file, or --timeout); "
                                      "the worker was killed and its cluster stopped",
                                      (double)timeout_of(it, o) / 1000.0, r->step ? " in this step" : "");
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
    }
    /* the runner's view includes the fork and the worker's own start and exit */
    if (w->got_result && !timed_out && ms > r->ms)
        r->overhead_ms += ms - r->ms;
    r->ms = ms;
    rh_buf_free(&w->in);
    w->active = 0;
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

int rh_runner_run(const rh_runner_opts *o, char *const *files, size_t nfiles, rh_run *run, rh_err *err)
{
    memset(run, 0, sizeof *run);
    double t0 = now_ms();
    item *items = rh_xcalloc(nfiles + 1, sizeof *items);
    size_t n = 0;
    for (size_t i = 0; i < nfiles; i++) {
        if (o->shard_n > 1 && !rh_runner_in_shard(files[i], o->shard_k, o->shard_n))
            continue;
        rh_scenario *s = NULL;
        rh_err perr;
        int prc = rh_scn_parse_file(&s, files[i], &perr);
        if (o->filter && !strstr(files[i], o->filter) && !(s && strstr(s->name, o->filter))) {
            rh_scn_free(s);
            continue;
        }
        items[n].path = files[i];
        items[n].scn = s;
        if (prc < 0) {
            items[n].scn = NULL;
            items[n].parse_error = rh_xstrdup(perr.msg);
        }
        n++;
    }
    run->results = rh_xcalloc(n + 1, sizeof *run->results);
    run->n = n;
    run->jobs = o->jobs > 1 ? o->jobs : 1;
    for (size_t i = 0; i < n; i++) {
        char *msg = items[i].parse_error;
        items[i].res = &run->results[i];
        if (!items[i].scn) {
            rh_result *r = items[i].res;
            r->path = rh_xstrdup(items[i].path);
            r->name = rh_xstrdup(items[i].path);
            r->status = RH_ERROR;
            r->file = rh_xstrdup(items[i].path);
            /* the parser's message starts with file:line:col: take the line for annotations */
            const char *p = msg + strlen(items[i].path);
            r->line = strncmp(msg, items[i].path, strlen(items[i].path)) == 0 && *p == ':' ? atoi(p + 1) : 0;
            r->message = rh_xasprintf("the scenario does not parse:\n%s", msg);
            free(msg);
        }
    }

    size_t done = 0, next = 0;
    int rc = 0;
    /* parse errors are results already */
    for (size_t i = 0; i < n; i++)
        if (!items[i].scn) {
            done++;
            if (o->progress)
                o->progress(o->progress_ctx, items[i].res, done, n);
        }
    if (o->no_fork) {
        for (size_t i = 0; i < n; i++) {
            if (!items[i].scn)
                continue;
            rh_exec_opts eo = {0};
            eo.keep_failed = o->keep_failed;
            eo.pg_bin = o->pg_bin;
            rh_scenario_run(items[i].scn, &eo, items[i].res);
            done++;
            if (o->progress)
                o->progress(o->progress_ctx, items[i].res, done, n);
        }
    } else {
        int jobs = run->jobs;
        worker *ws = rh_xcalloc((size_t)jobs, sizeof *ws);
        int active = 0;
        for (;;) {
            while (active < jobs && next < n) {
                if (!items[next].scn) {
                    next++;
                    continue;
                }
                int slot = 0;
                while (ws[slot].active)
                    slot++;
                if (start(&ws[slot], next, &items[next], o, err) < 0) {
                    rc = -1;
                    break;
                }
                next++;
                active++;
            }
            if (rc < 0 || active == 0)
                break;
            struct pollfd pfd[64];
            int map[64], np = 0;
            double soonest = 1e18;
            for (int k = 0; k < jobs && np < 64; k++)
                if (ws[k].active) {
                    pfd[np].fd = ws[k].fd;
                    pfd[np].events = POLLIN;
                    map[np++] = k;
                    if (ws[k].deadline < soonest)
                        soonest = ws[k].deadline;
                }
            double wait = soonest - now_ms();
            int pr = poll(pfd, (nfds_t)np, wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait + 1);
            if (pr < 0 && errno != EINTR) {
                rc = rh_err_errno(err, "poll");
                break;
            }
            for (int q = 0; q < np; q++) {
                worker *w = &ws[map[q]];
                item *it = &items[w->idx];
                int eof = 0;
                if (pfd[q].revents & (POLLIN | POLLHUP | POLLERR)) {
                    char buf[65536];
                    ssize_t r = read(w->fd, buf, sizeof buf);
                    if (r > 0) {
                        rh_buf_append(&w->in, buf, (size_t)r);
                        take_lines(w, it);
                    } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                        eof = 1;
                    }
                }
                int late = !eof && now_ms() > w->deadline;
                if (eof || late) {
                    finish(w, it, late, o);
                    active--;
                    done++;
                    if (o->progress)
                        o->progress(o->progress_ctx, it->res, done, n);
                }
            }
        }
        /* on a runner error: stop whatever still runs */
        for (int k = 0; k < jobs; k++)
            if (ws[k].active)
                finish(&ws[k], &items[ws[k].idx], 1, o);
        free(ws);
    }
    for (size_t i = 0; i < n; i++)
        rh_scn_free(items[i].scn);
    free(items);
    tally(run);
    run->wall_ms = now_ms() - t0;
    return rc;
}
