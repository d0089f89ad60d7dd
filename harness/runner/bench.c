/*
 * bench.c — `rehearse bench scenarios`: the scenario suite at -j1 and then -j2, with the wall times,
 * their ratio, and the per-scenario overhead (what running a scenario in rehearse adds to its own
 * steps) and cluster setup time. The -j1 run records durations that the -j2 run uses to start the
 * longest scenarios first, as `rehearse run` does with its cache.
 *
 * `--cache [--runs R]`: the state cache instead (docs/state-cache.md): one run fills it, then R rounds
 * at -j2 of a cold run (--no-cache) and a warm one, interleaved; the medians side by side.
 */
#include "runner/runner.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cached.h"
#include "util/fs.h"
#include "util/stats.h"
#include "report/escape.h"

/* The suite's time per kind of step ("deploy", "expect column", "expect catalog clean" ...), summed over its scenarios. */
#define MAX_KINDS 48
typedef struct kind_ms {
    char name[48];
    double ms;
} kind_ms;

typedef struct pass {
    int jobs;
    double wall_ms;
    rh_stats overhead, setup;
    size_t n, failed;
    kind_ms kinds[MAX_KINDS]; /* plus "(overhead)": slot time minus the steps' own */
    size_t nkinds;
} pass;

/* A step's kind from its source: the first word; `expect` with its object; `expect catalog` with what it compares to. */
static void step_kind(const char *src, char *out, size_t n)
{
    char w[4][24] = {"", "", "", ""};
    int k = src ? sscanf(src, "%23s %23s %23s %23s", w[0], w[1], w[2], w[3]) : 0;
    if (k >= 2 && strcmp(w[0], "expect") == 0 && strcmp(w[1], "catalog") == 0 && k >= 4)
        snprintf(out, n, "expect catalog %s", w[3]);
    else if (k >= 2 && strcmp(w[0], "expect") == 0)
        snprintf(out, n, "expect %s", w[1]);
    else
        snprintf(out, n, "%s", k >= 1 ? w[0] : "?");
    for (char *c = out; *c; c++) /* keywords only: nothing to escape in the JSON */
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == ' ' || *c == '-' || *c == '_'))
            *c = '?';
}

static void add_kind(pass *p, const char *name, double ms)
{
    for (size_t i = 0; i < p->nkinds; i++)
        if (strcmp(p->kinds[i].name, name) == 0) {
            p->kinds[i].ms += ms;
            return;
        }
    if (p->nkinds == MAX_KINDS)
        name = "(other)";
    else
        p->nkinds++;
    snprintf(p->kinds[p->nkinds - 1].name, sizeof p->kinds[0].name, "%s", name);
    p->kinds[p->nkinds - 1].ms += ms;
}

static double kind_of(const pass *p, const char *name)
{
    for (size_t i = 0; i < p->nkinds; i++)
        if (strcmp(p->kinds[i].name, name) == 0)
            return p->kinds[i].ms;
    return 0;
}

static int one_pass(char **files, size_t n, int jobs, int no_warm, int no_cache, const char *timings, pass *out,
                    rh_err *err)
{
    rh_runner_opts o = {0};
    o.jobs = jobs;
    o.no_warm = no_warm;
    o.no_cache = no_cache;
    o.timings_path = timings;
    rh_run run;
    if (rh_runner_run(&o, files, n, &run, err) < 0)
        return -1;
    if (run.interrupted) { /* a cut-short pass measures nothing: stop, do not go on to the next */
        rh_run_free(&run);
        return rh_err_set(err, "interrupted (signal %d)", run.interrupted);
    }
    double *ov = rh_xcalloc(run.n + 1, sizeof *ov), *su = rh_xcalloc(run.n + 1, sizeof *su);
    size_t k = 0;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < run.n; i++) {
        const rh_result *r = &run.results[i];
        if (r->status == RH_SKIP)
            continue;
        ov[k] = r->overhead_ms;
        su[k] = r->setup_ms;
        k++;
        for (size_t j = 0; j < r->n_steps; j++) {
            char name[48];
            step_kind(r->steps[j].source, name, sizeof name);
            add_kind(out, name, r->steps[j].ms);
        }
        add_kind(out, "(overhead)", r->overhead_ms);
    }
    out->jobs = jobs;
    out->wall_ms = run.wall_ms;
    out->overhead = rh_stats_of(ov, k);
    out->setup = rh_stats_of(su, k);
    out->n = run.n;
    out->failed = run.failed + run.errors;
    free(ov);
    free(su);
    rh_run_free(&run);
    return 0;
}

/* --cache: fill once, then `runs` rounds of cold (--no-cache) and warm at -j2, interleaved. */
static int cache_bench(char **files, size_t n, int runs, int json, const char *timings, rh_err *err)
{
    if (rh_state_cache_off())
        return rh_err_set(err, "REHEARSE_NO_CACHE is set: a warm run would be a cold one");
    pass fill;
    if (one_pass(files, n, 2, 0, 0, timings, &fill, err) < 0)
        return -1;
    if (fill.failed) /* a failing suite's times measure its failures: say so before spending the rounds */
        return rh_err_set(err, "%zu of the %zu scenarios failed or errored in the fill run, so their times would "
                               "mean nothing: make `rehearse run` pass on them first (the bundled ones need "
                               "scripts/make-fixtures.sh scenarios/fixtures)", fill.failed, n);
    double *cold = rh_xcalloc((size_t)runs, sizeof *cold), *warm = rh_xcalloc((size_t)runs, sizeof *warm);
    pass *cp = rh_xcalloc((size_t)runs, sizeof *cp), *wp = rh_xcalloc((size_t)runs, sizeof *wp);
    size_t failed = fill.failed;
    int rc = 0;
    for (int r = 0; r < runs && rc == 0; r++) {
        rc = one_pass(files, n, 2, 0, 1, timings, &cp[r], err);
        if (rc == 0)
            rc = one_pass(files, n, 2, 0, 0, timings, &wp[r], err);
        if (rc == 0) {
            cold[r] = cp[r].wall_ms;
            warm[r] = wp[r].wall_ms;
            failed += cp[r].failed + wp[r].failed;
        }
    }
    /* where the time goes: per kind of step, the median over the rounds of its sum over the suite */
    kind_ms kc[MAX_KINDS], kw[MAX_KINDS];
    size_t nk = 0;
    double *v = rh_xcalloc((size_t)runs, sizeof *v);
    for (size_t i = 0; rc == 0 && i < cp[0].nkinds; i++) {
        const char *name = cp[0].kinds[i].name;
        for (int r = 0; r < runs; r++)
            v[r] = kind_of(&cp[r], name);
        kc[nk].ms = rh_stats_of(v, (size_t)runs).median;
        for (int r = 0; r < runs; r++)
            v[r] = kind_of(&wp[r], name);
        kw[nk].ms = rh_stats_of(v, (size_t)runs).median;
        snprintf(kc[nk].name, sizeof kc[nk].name, "%s", name);
        nk++;
    }
    free(v);
    for (size_t i = 1; i < nk; i++) /* largest cold time first */
        for (size_t j = i; j > 0 && kc[j].ms > kc[j - 1].ms; j--) {
            kind_ms t = kc[j];
            kc[j] = kc[j - 1];
            kc[j - 1] = t;
            t = kw[j];
            kw[j] = kw[j - 1];
            kw[j - 1] = t;
        }
    free(cp);
    free(wp);
    if (rc == 0) {
        rh_stats sc = rh_stats_of(cold, (size_t)runs), sw = rh_stats_of(warm, (size_t)runs);
        double ratio = sc.median > 0 ? sw.median / sc.median : 0;
        rh_buf out;
        rh_buf_init(&out);
        if (json) {
            rh_buf_printf(&out, "{\"benchmark\": \"scenarios-cache\", \"scenarios\": %zu, \"jobs\": 2, \"runs\": %d, "
                                "\"fill_ms\": %.1f, \"cold_ms\": ", n, runs, fill.wall_ms);
            rh_stats_json(&out, sc);
            rh_buf_puts(&out, ", \"warm_ms\": ");
            rh_stats_json(&out, sw);
            rh_buf_printf(&out, ", \"ratio_warm_cold\": %.3f, \"failed\": %zu, \"steps_median_ms\": {", ratio, failed);
            for (size_t i = 0; i < nk; i++) {
                rh_buf_printf(&out, "%s\"%s\": {\"cold\": %.1f, \"warm\": %.1f}", i ? ", " : "", kc[i].name, kc[i].ms,
                              kw[i].ms);
            }
            rh_buf_puts(&out, "}}\n");
        } else {
            rh_buf_printf(&out, "scenario suite, -j2, cold (--no-cache) vs warm (the state cache): "
                                "%zu scenarios, %d interleaved round(s) after one fill run (%.2f s)\n",
                          n, runs, fill.wall_ms / 1000.0);
            rh_buf_printf(&out, "  cold   median %8.2f s  min %8.2f  max %8.2f\n", sc.median / 1000.0, sc.min / 1000.0,
                          sc.max / 1000.0);
            rh_buf_printf(&out, "  warm   median %8.2f s  min %8.2f  max %8.2f\n", sw.median / 1000.0, sw.min / 1000.0,
                          sw.max / 1000.0);
            rh_buf_printf(&out, "  warm / cold %.3f (goal <= 0.60: %s); failed or errors: %zu\n", ratio,
                          failed ? "not judged: runs failed" : ratio <= 0.60 ? "met" : "MISSED", failed);
            rh_buf_puts(&out, "  where the time goes: each kind of step summed over the suite's scenarios (median of the "
                              "rounds, s)\n    step                         cold     warm\n");
            for (size_t i = 0; i < nk && i < 15; i++)
                rh_buf_printf(&out, "    %-24s %8.2f %8.2f\n", kc[i].name, kc[i].ms / 1000.0, kw[i].ms / 1000.0);
        }
        fwrite(out.data, 1, out.len, stdout);
        rh_buf_free(&out);
        if (failed) /* a run failed in a round (the fill passed): the figures are shown, not judged */
            rc = 1;
    }
    free(cold);
    free(warm);
    return rc;
}

int rh_runner_bench(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"no-warm", no_argument, NULL, 'W'},
        {"cache", no_argument, NULL, 'c'},
        {"runs", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, no_warm = 0, cache = 0, runs = 3, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            if (strcmp(optarg, "json") == 0)
                json = 1;
            else if (strcmp(optarg, "human") != 0) {
                rh_report_term_eprintf("rehearse bench scenarios: --format is human or json, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'W': no_warm = 1; break;
        case 'c': cache = 1; break;
        case 'r':
            runs = atoi(optarg);
            if (runs < 1 || runs > 100) {
                rh_report_term_eprintf("rehearse bench scenarios: --runs is 1 to 100, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h':
            printf("usage: rehearse bench scenarios [--format human|json] [--no-warm] [--cache [--runs R]]\n"
                   "                                [FILE|DIR ...]\n"
                   "Runs the scenarios (default: scenarios/) at -j1, then at -j2, and prints the wall times,\n"
                   "their ratio and the per-scenario overhead and cluster setup medians.\n"
                   "--cache: the deployed-state cache instead: one run fills it, then R rounds (default 3) at\n"
                   "-j2 of a cold run (--no-cache) and a warm one, interleaved; their medians side by side\n"
                   "(goal: warm <= 0.60 x cold). A suite with a failing scenario is not judged (exit 1; 2 when\n"
                   "the fill run fails). Give it its own REHEARSE_CACHE_DIR (and a REHEARSE_RUN_DIR in\n"
                   "/dev/shm, as the default is: cluster copies to a disk folder cost seconds under load).\n");
            return 0;
        default: return 2;
        }
    }
    const char *defaults[] = {"scenarios"};
    const char *const *paths = (const char *const *)(argv + optind);
    size_t npaths = (size_t)(argc - optind);
    if (npaths == 0) {
        paths = defaults;
        npaths = 1;
    }
    rh_err err;
    char **files;
    size_t n;
    if (rh_runner_collect(paths, npaths, &files, &n, &err) < 0) {
        rh_report_term_eprintf("rehearse bench scenarios: %s\n", err.msg);
        return 2;
    }
    if (n == 0) {
        free(files);
        rh_report_term_eprintf("rehearse bench scenarios: no *.scenario files\n");
        return 2;
    }
    /* the runs' scenario times (longest first), in a folder of their own: the runner keeps the times of
       runs without the cache in a second file beside the first (pool.c), and the folder goes with both */
    const char *tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *times_dir = rh_xasprintf("%s/rehearse-bench-XXXXXX", tmpdir);
    if (!mkdtemp(times_dir)) {
        rh_report_term_eprintf("rehearse bench scenarios: a temporary folder in %s: %s\n", tmpdir, strerror(errno));
        free(times_dir);
        for (size_t i = 0; i < n; i++)
            free(files[i]);
        free(files);
        return 2;
    }
    char *times_file = rh_xasprintf("%s/scenario-times.tsv", times_dir);   /* the -j1 pass writes it */
    rh_err rmerr;
    pass p1, p2;
    if (cache) {
        int rc = cache_bench(files, n, runs, json, times_file, &err);
        rh_fs_rmtree(times_dir, &rmerr);
        free(times_dir);
        free(times_file);
        for (size_t i = 0; i < n; i++)
            free(files[i]);
        free(files);
        if (rc < 0)
            rh_report_term_eprintf("rehearse bench scenarios --cache: %s\n", err.msg);
        return rc < 0 ? 2 : rc;
    }
    int rc = one_pass(files, n, 1, no_warm, 0, times_file, &p1, &err);
    if (rc == 0)
        rc = one_pass(files, n, 2, no_warm, 0, times_file, &p2, &err);
    rh_fs_rmtree(times_dir, &rmerr);
    free(times_dir);
    free(times_file);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    if (rc < 0) {
        rh_report_term_eprintf("rehearse bench scenarios: %s\n", err.msg);
        return 2;
    }
    double ratio = p1.wall_ms > 0 ? p2.wall_ms / p1.wall_ms : 0;
    rh_buf out;
    rh_buf_init(&out);
    if (json) {
        rh_buf_printf(&out, "{\"benchmark\": \"scenarios\", \"scenarios\": %zu, \"warm\": %s, ", p1.n,
                      no_warm ? "false" : "true");
        const pass *ps[2] = {&p1, &p2};
        for (int i = 0; i < 2; i++) {
            rh_buf_printf(&out, "\"j%d\": {\"wall_ms\": %.1f, \"failed\": %zu, \"overhead_ms\": ", ps[i]->jobs,
                          ps[i]->wall_ms, ps[i]->failed);
            rh_stats_json(&out, ps[i]->overhead);
            rh_buf_puts(&out, ", \"setup_ms\": ");
            rh_stats_json(&out, ps[i]->setup);
            rh_buf_puts(&out, "}, ");
        }
        rh_buf_printf(&out, "\"ratio_j2_j1\": %.3f}\n", ratio);
    } else {
        rh_buf_printf(&out, "scenario benchmark: %zu scenarios, each on its own cluster%s\n", p1.n,
                      no_warm ? " (no warm workers)" : "");
        rh_buf_printf(&out, "        wall s   overhead ms median / max   cluster setup ms median   failed\n");
        const pass *ps[2] = {&p1, &p2};
        for (int i = 0; i < 2; i++)
            rh_buf_printf(&out, "-j%d  %9.2f   %10.1f / %-10.1f   %14.1f            %zu\n", ps[i]->jobs,
                          ps[i]->wall_ms / 1000.0, ps[i]->overhead.median, ps[i]->overhead.max,
                          ps[i]->setup.median, ps[i]->failed);
        rh_buf_printf(&out, "-j2 / -j1 wall: %.2f (goal <= 0.60); per-scenario overhead median at -j1: %.1f ms "
                            "(goal <= 200 ms)\n", ratio, p1.overhead.median);
        if (p1.failed || p2.failed)
            rh_buf_puts(&out, "not judged: scenarios failed or errored, so these times measure their failures\n");
        if (!no_warm)
            rh_buf_printf(&out, "(overhead = slot time minus the steps' own time; the cluster setup runs ahead of each "
                                "scenario's turn in a warm worker)\n");
    }
    fwrite(out.data, 1, out.len, stdout);
    rh_buf_free(&out);
    return p1.failed || p2.failed ? 1 : 0;
}
