/*
 * cmd_run.c — `rehearse run [FILE|DIR ...]`: run scenario files (default scenarios/) and report.
 * Argument parsing and printing only; the runner (runner/) runs, the report module formats.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cluster/cluster.h"
#include "report/report.h"
#include "runner/runner.h"
#include "scale/scale.h"
#include "util/fs.h"

/*
 * `rehearse bench scenarios` is runner/bench.c; main.c's bench dispatch knows it only by a weak
 * reference, which does not pull an object out of the static library. This reference does.
 */
int (*const rh_cmd_run_bench_ref)(int, char **) = rh_runner_bench;

static void help(FILE *f)
{
    fprintf(f,
            "usage: rehearse run [OPTIONS] [FILE|DIR ...]\n"
            "\n"
            "Run scenario files (*.scenario; default: the scenarios/ folder), each on its own fresh\n"
            "PostgreSQL cluster. The language is described in docs/scenarios.md.\n"
            "\n"
            "options:\n"
            "  -j, --jobs N         run N scenarios at a time (default 1)\n"
            "  -f, --format F       human (default), tap, junit, json, markdown (a pull-request comment;\n"
            "                       also appended to $GITHUB_STEP_SUMMARY when that is set), html (one\n"
            "                       self-contained page: steps, the ledger after each, failures)\n"
            "  -o, --output FILE    write the report to FILE (progress still goes to the terminal)\n"
            "      --filter TEXT    only scenarios whose path or name contains TEXT\n"
            "      --shard K/N      only the K-th of N stable shards (CI fleets)\n"
            "      --keep-failed    leave a failed scenario's cluster running and say how to connect\n"
            "      --superuser      run every scenario as the cluster's superuser (default: a migration\n"
            "                       role; a scenario's own `superuser` line opts in for that scenario)\n"
            "      --timeout DUR    time limit per scenario (default 120s; `timeout` in a file wins)\n"
            "      --pg-bin DIR     PostgreSQL binaries (default: search)\n"
            "      --pg VERSION     PostgreSQL version to run on: 17, 17.10, or several: 16,17 (the suite runs on\n"
            "                       each; results are named [pg 16] ...) (default: $REHEARSE_PG, else any)\n"
            "      --no-warm        do not start the next scenario's cluster ahead of its turn\n"
            "      --trace-locks    the locks each migration of a deploy step held (html, json): replayed\n"
            "                       with check's lock tracer on a copy of the database made before the\n"
            "                       deploy (the deploy itself runs as always; costs time, hence opt-in)\n"
            "      --no-cache       deploy every migration of a scenario's first deploy (default: its cluster\n"
            "                       starts from the state cache's longest deployed prefix; docs/state-cache.md)\n"
            "      --scale FILE     every deploy step runs on tables of production's size: before each\n"
            "                       migration it sends, the tables that exist are filled to the sizes of\n"
            "                       FILE (the JSON of `rehearse stats`; docs/scale.md); no state cache\n"
            "      --rows TABLE=N   the same for one table, a guess (repeatable; k, M, G)\n"
            "      --allow-path DIR let scenarios read files under DIR too (repeatable); by default\n"
            "                       they read only inside their own folder and its git repository\n"
            "      --color / --no-color   colours in the human report (default: on a terminal)\n"
            "      --list           print the selected scenarios and exit\n"
            "  -h, --help           this text\n"
            "\n"
            "With GITHUB_ACTIONS set, failures are also printed as ::error annotations on stderr.\n"
            "Exit status: 0 all passed, 1 a scenario failed, 2 usage error, parse error, setup error,\n"
            "crash or timeout.\n");
}

typedef struct progress {
    int tty;
    int color;
} progress;

/* On a terminal: one line that rewrites itself, and failures as they happen. */
static void on_progress(void *ctx, const rh_result *r, size_t done, size_t total)
{
    progress *p = ctx;
    if (!p->tty)
        return;
    rh_buf b;
    rh_buf_init(&b);
    rh_report_progress_line(r, done, total, p->color, &b);
    if (r->status == RH_PASS || r->status == RH_SKIP) {
        /* transient: overwrite with the next */
        if (b.len && b.data[b.len - 1] == '\n')
            b.data[--b.len] = 0;
        fprintf(stderr, "\r\033[K%s", b.data);
    } else {
        fprintf(stderr, "\r\033[K%s", b.data);
    }
    if (done == total)
        fprintf(stderr, "\r\033[K");
    fflush(stderr);
    rh_buf_free(&b);
}

/* Move one version's results into all, each named after its version. */
static void append_run(rh_run *all, rh_run *one, const char *version)
{
    all->results = rh_xrealloc(all->results, (all->n + one->n + 1) * sizeof *all->results);
    for (size_t i = 0; i < one->n; i++) {
        rh_result r = one->results[i];
        char *name = rh_xasprintf("[pg %s] %s", version, r.name ? r.name : "");
        free(r.name);
        r.name = name;
        all->results[all->n++] = r;
    }
    all->passed += one->passed;
    all->failed += one->failed;
    all->errors += one->errors;
    all->skipped += one->skipped;
    all->wall_ms += one->wall_ms;
    all->jobs = one->jobs;
    if (one->interrupted)
        all->interrupted = one->interrupted;
    free(one->results);
    one->results = NULL;
    one->n = 0;
}

/*
 * --pg 16,17: the whole suite on each version in turn, one report. Every version is found before
 * anything runs, so that a missing one is a setup error, not a run that stops half-way.
 */
static int run_versions(rh_runner_opts *o, char **files, size_t nfiles, rh_run *run, rh_err *err)
{
    if (!o->pg_version || !strchr(o->pg_version, ','))
        return rh_runner_run(o, files, nfiles, run, err);
    char *list = rh_xstrdup(o->pg_version), *save = NULL;
    const char *versions[16];
    size_t nv = 0;
    int rc = 0;
    for (char *v = strtok_r(list, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
        rh_pgbin b;
        if (nv == sizeof versions / sizeof *versions) {
            rc = rh_err_set(err, "--pg: at most %zu versions", nv);
            break;
        }
        if (rh_pgbin_find_version(&b, o->pg_bin, v, err) < 0) {
            rc = -1;
            break;
        }
        versions[nv++] = v;
    }
    memset(run, 0, sizeof *run);
    const char *all = o->pg_version;
    for (size_t i = 0; rc == 0 && i < nv && !run->interrupted; i++) {
        rh_run one;
        o->pg_version = versions[i];
        rc = rh_runner_run(o, files, nfiles, &one, err);
        if (rc == 0)
            append_run(run, &one, versions[i]);
        rh_run_free(&one);
    }
    o->pg_version = all;
    free(list);
    return rc;
}

int rh_cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"jobs", required_argument, NULL, 'j'},    {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},  {"filter", required_argument, NULL, 'F'},
        {"shard", required_argument, NULL, 'S'},   {"keep-failed", no_argument, NULL, 'k'},
        {"timeout", required_argument, NULL, 't'}, {"pg-bin", required_argument, NULL, 'P'},
        {"pg", required_argument, NULL, 'G'},
        {"color", no_argument, NULL, 'c'},         {"no-color", no_argument, NULL, 'C'},
        {"list", no_argument, NULL, 'l'},          {"no-fork", no_argument, NULL, 'N'},
        {"no-warm", no_argument, NULL, 'W'},      {"allow-path", required_argument, NULL, 'A'},
        {"superuser", no_argument, NULL, 'U'},    {"trace-locks", no_argument, NULL, 'L'},
        {"no-cache", no_argument, NULL, 'K'},
        {"scale", required_argument, NULL, 's'},   {"rows", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    rh_runner_opts o = {0};
    const char *allow[32];
    o.allow = allow;
    rh_report_format fmt = RH_REPORT_HUMAN;
    const char *output = NULL;
    int color = -1, list = 0;
    const char *scale_file = NULL, *rows[64];
    size_t nrows = 0;
    static rh_scale scale; /* --scale / --rows; lives as long as the run */
    rh_err err;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "j:f:o:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'j': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 64)
                return rh_cli_usage_error("run", "-j %s: expected a number of workers from 1 to 64", optarg);
            o.jobs = (int)v;
            break;
        }
        case 'f':
            if (rh_report_format_parse(optarg, &fmt, &err) < 0)
                return rh_cli_usage_error("run", "--format: %s", err.msg);
            break;
        case 'o': output = optarg; break;
        case 'F': o.filter = optarg; break;
        case 'S':
            if (rh_runner_parse_shard(optarg, &o.shard_k, &o.shard_n, &err) < 0)
                return rh_cli_usage_error("run", "%s", err.msg);
            break;
        case 'k': o.keep_failed = 1; break;
        case 'L': o.trace_locks = 1; break;
        case 't': {
            long ms = rh_scn_parse_duration(optarg);
            if (ms <= 0)
                return rh_cli_usage_error("run", "--timeout %s: expected a duration like 90s or 2m", optarg);
            o.timeout_ms = ms;
            break;
        }
        case 'P': o.pg_bin = optarg; break;
        case 'G': o.pg_version = optarg; break;
        case 'c': color = 1; break;
        case 'C': color = 0; break;
        case 'l': list = 1; break;
        case 'N': o.no_fork = 1; break;
        case 'W': o.no_warm = 1; break;
        case 'A': {
            struct stat st;
            if (stat(optarg, &st) < 0 || !S_ISDIR(st.st_mode))
                return rh_cli_usage_error("run", "--allow-path %s: not a folder", optarg);
            if (o.nallow == sizeof allow / sizeof *allow)
                return rh_cli_usage_error("run", "--allow-path: at most %zu folders", sizeof allow / sizeof *allow);
            allow[o.nallow++] = optarg;
            break;
        }
        case 'U': o.superuser = 1; break;
        case 'K': o.no_cache = 1; break;
        case 's': scale_file = optarg; break;
        case 'w':
            if (nrows == sizeof rows / sizeof *rows)
                return rh_cli_usage_error("run", "at most 64 --rows (use --scale FILE for more tables)");
            rows[nrows++] = optarg;
            break;
        case 'h': help(stdout); return RH_EXIT_OK;
        default: return rh_cli_usage_error("run", "unknown option");
        }
    }
    /* the file's sizes, then the --rows guesses over them (as deploy --scale) */
    if (scale_file && rh_scale_load(&scale, scale_file, &err) < 0)
        return rh_cli_usage_error("run", "%s", err.msg);
    for (size_t i = 0; i < nrows; i++)
        if (rh_scale_add_rows(&scale, rows[i], &err) < 0)
            return rh_cli_usage_error("run", "%s", err.msg);
    if (scale_file || nrows)
        o.scale = &scale;
    const char *defaults[] = {"scenarios"};
    const char *const *paths = (const char *const *)(argv + optind);
    size_t npaths = (size_t)(argc - optind);
    if (npaths == 0) {
        if (!rh_fs_exists("scenarios"))
            return rh_cli_usage_error("run", "no scenarios/ folder here; name scenario files or folders to run");
        paths = defaults;
        npaths = 1;
    }
    char **files;
    size_t nfiles;
    if (rh_runner_collect(paths, npaths, &files, &nfiles, &err) < 0)
        return rh_cli_usage_error("run", "%s", err.msg);
    if (nfiles == 0) {
        free(files);
        return rh_cli_usage_error("run", "no *.scenario files found");
    }
    if (list) {
        /* the same selection as a run (rh_runner_selects): path or title */
        int code = RH_EXIT_OK;
        size_t shown = 0, broken = 0;
        for (size_t i = 0; i < nfiles; i++) {
            int sel = rh_runner_select_file(&o, files[i], &err);
            if (sel > 0) {
                printf("%s\n", files[i]);
                shown++;
            } else if (sel < 0) {
                rh_cli_errorf("rehearse run: %s\n", err.msg);
                code = RH_EXIT_USAGE;
                broken++;
            }
            free(files[i]);
        }
        free(files);
        if (shown + broken == 0 && o.filter && o.shard_n < 2) {
            rh_cli_errorf("rehearse run: no scenario's path or name contains '%s'\n", o.filter);
            code = RH_EXIT_USAGE;
        }
        return code;
    }

    /* a report that cannot be written must not be found out after a long run */
    if (output) {
        int fd = open(output, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || close(fd) < 0) {
            for (size_t i = 0; i < nfiles; i++)
                free(files[i]);
            free(files);
            return rh_cli_usage_error("run", "--output %s: %s", output, strerror(errno));
        }
    }

    /* durations of earlier runs, so that the longest scenarios start first */
    rh_cluster_opts copts = {0};
    copts.pg_bin = o.pg_bin;
    copts.pg_version = o.pg_version;
    char *cache = rh_template_cache_dir(&copts);
    char *timings = cache ? rh_xasprintf("%s/scenario-times.tsv", cache) : NULL;
    free(cache);
    o.timings_path = timings;

    progress pr = {isatty(2), 0};
    int out_tty = !output && isatty(1);
    pr.color = color >= 0 ? color : isatty(2);
    o.progress = on_progress;
    o.progress_ctx = &pr;

    rh_run run;
    int rc = run_versions(&o, files, nfiles, &run, &err);
    free(timings);
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    if (rc < 0) {
        rh_cli_errorf("rehearse run: %s\n", err.msg);
        rh_run_free(&run);
        return RH_EXIT_USAGE;
    }

    if (run.n == 0 && o.filter && o.shard_n < 2) {
        /* a mistyped --filter must not make a green CI job that ran nothing */
        rh_cli_errorf("rehearse run: no scenario's path or name contains '%s'\n", o.filter);
        rh_run_free(&run);
        return RH_EXIT_USAGE;
    }

    rh_buf rep;
    rh_buf_init(&rep);
    rh_report_opts ro = {0};
    ro.color = fmt == RH_REPORT_HUMAN && (color >= 0 ? color : out_tty);
    rh_report_write(&run, fmt, &ro, &rep);
    int code = rh_run_exit_code(&run);
    if (output) {
        if (rh_fs_write(output, rep.data, rep.len, 0644, &err) < 0) {
            /* the results are not lost: they go to stdout instead */
            rh_cli_errorf("rehearse run: %s; the report follows on stdout\n", err.msg);
            fwrite(rep.data, 1, rep.len, stdout);
            fflush(stdout);
            code = RH_EXIT_USAGE;
        } else if (fmt != RH_REPORT_HUMAN) {
            /* a one-line summary for the terminal */
            rh_cli_errorf("rehearse run: %zu passed, %zu failed, %zu errors, %zu skipped; report in %s\n", run.passed,
                    run.failed, run.errors, run.skipped, output);
        }
    } else {
        fwrite(rep.data, 1, rep.len, stdout);
        fflush(stdout);
    }
    const char *summary = getenv("GITHUB_STEP_SUMMARY");
    if (summary && *summary) { /* the job's summary page: the same text as a pull-request comment */
        rh_buf md;
        rh_buf_init(&md);
        rh_report_markdown(&run, &md);
        if (rh_fs_append(summary, md.data, md.len, &err) < 0)
            rh_cli_errorf("rehearse run: GITHUB_STEP_SUMMARY: %s\n", err.msg);
        rh_buf_free(&md);
    }
    const char *gha = getenv("GITHUB_ACTIONS");
    if (gha && *gha && strcmp(gha, "false") != 0) {
        rh_buf gh;
        rh_buf_init(&gh);
        rh_report_github(&run, &gh);
        /* on stderr (GitHub reads both), as check does: a machine report on stdout must still parse */
        fwrite(gh.data, 1, gh.len, stderr);
        fflush(stderr);
        rh_buf_free(&gh);
    }
    rh_buf_free(&rep);
    int sig = run.interrupted;
    rh_run_free(&run);
    if (sig) {
        /* the report is out; now end as the signal asked, so that a calling script stops too */
        rh_cli_errorf("rehearse run: interrupted (%s); the report lists what finished\n", strsignal(sig));
        fflush(NULL);
        raise(sig);
    }
    return code;
}
