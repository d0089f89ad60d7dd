/*
 * cmd_bench.c — `rehearse bench WHAT`: the benchmarks. Timings live here and in scripts/, never in
 * pass/fail tests. Each benchmark's measuring code is in its module (rh_*_bench); this file parses
 * options and prints.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "check/check.h"
#include "cli/cli.h"
#include "cluster/bench.h"
#include "scale/scale_bench.h"
#include "source/git.h"
#include "tools/tool.h"
#include "util/fs.h"

/* Weak: present once the scenario runner provides it. */
int rh_runner_bench(int argc, char **argv) __attribute__((weak));

static void help(void)
{
    printf("usage: rehearse bench WHAT [--runs N] [--format human|json] [--pg-bin DIR] [--pg VERSION] [--run-as USER] [options]\n\n"
           "WHAT:\n"
           "  cluster    template copy, start until ready, stop + delete; against initdb + pg_ctl start -w +\n"
           "             pg_ctl stop, interleaved run by run; --pg-virtualenv adds pg_virtualenv (not safe to\n"
           "             interrupt: a kill leaves its machine-wide 'regress' cluster behind)\n"
           "  deploy     a generated history (--generate N, default 200) or --migrations-dir DIR, deployed by\n"
           "             rehearse, by a psql-per-file loop (--no-psql to skip), by prisma-oracle (--no-oracle),\n"
           "             and the floor (same files back to back, no ledger); --prisma-version V also times\n"
           "             rehearse on V's profile (e.g. 7.10.1, statement by statement) in the same rounds;\n"
           "             --tool NAME (dbmate, drizzle): that tool's deploy through rehearse, the floor, and with\n"
           "             --cli CMD the real CLI run on a copy of the folder (DATABASE_URL set), e.g.\n"
           "             --cli \"$PWD/tests/conformance/drizzle/drizzle-oracle .\" (it runs in the copy: an\n"
           "             absolute path)\n"
           "  git        list and read a --migrations N (default 250) folder at a revision with libgit2\n"
           "  catalog    snapshot of a --tables N (default 500) x --indexes K (default 4) schema\n"
           "  check      `rehearse check` on a --history N (default 150) history with --added K (default 3) new\n"
           "  check-cache `rehearse check` cold (--no-cache) vs warm (base's state cached), interleaved, on a\n"
           "             --history N (default 250) + --added K (default 3) history; and a cluster start from the\n"
           "             template vs from the state; --tool NAME (dbmate, drizzle): that tool's check on its folder\n"
           "  scale      fill two 10-column Prisma tables with --rows N rows each (default 1000000), bulk vs direct: rows/s;\n"
           "             --bulk-only: the bulk way alone (the direct way of 10000000 rows takes many minutes)\n"
           "  scenarios  the bundled scenarios at -j1 and -j2, and per-scenario overhead; --cache [--runs R]: at\n"
           "             -j2, cold (--no-cache) vs warm (the state cache), interleaved\n");
}

typedef struct bench_args {
    int runs, json, n1, n2, no_oracle, no_psql, pg_virtualenv, bulk_only;
    long long rows;
    const char *migrations_dir;
    rh_cluster_opts co;
    const char *version;        /* deploy: also rehearse on this version's profile */
    const char *tool, *cli;     /* deploy --tool NAME [--cli CMD] */
} bench_args;

static int parse(const char *what, int argc, char **argv, bench_args *a)
{
    static const struct option opts[] = {
        {"runs", required_argument, NULL, 'n'},     {"format", required_argument, NULL, 'f'},
        {"pg-bin", required_argument, NULL, 'b'},   {"pg", required_argument, NULL, 'W'},   {"run-as", required_argument, NULL, 'u'},
        {"generate", required_argument, NULL, '1'}, {"migrations", required_argument, NULL, '1'},
        {"tables", required_argument, NULL, '1'},   {"history", required_argument, NULL, '1'},
        {"indexes", required_argument, NULL, '2'},  {"added", required_argument, NULL, '2'},
        {"migrations-dir", required_argument, NULL, 'd'}, {"no-oracle", no_argument, NULL, 'O'},
        {"no-psql", no_argument, NULL, 'P'},        {"help", no_argument, NULL, 'h'},
        {"pg-virtualenv", no_argument, NULL, 'V'},  {"rows", required_argument, NULL, 'R'},
        {"prisma-version", required_argument, NULL, 'p'},
        {"tool", required_argument, NULL, 'T'},     {"cli", required_argument, NULL, 'C'},
        {"bulk-only", no_argument, NULL, 'B'},
        {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            a->runs = atoi(optarg);
            if (a->runs < 1 || a->runs > 10000)
                return rh_cli_usage_error("bench", "--runs takes a number from 1 to 10000, not '%s'", optarg);
            break;
        case '1':
        case '2': {
            int v = atoi(optarg);
            if (v < 1 || v > 100000)
                return rh_cli_usage_error("bench", "a size must be a number from 1 to 100000, not '%s'", optarg);
            *(c == '1' ? &a->n1 : &a->n2) = v;
            break;
        }
        case 'f':
            if (strcmp(optarg, "json") == 0)
                a->json = 1;
            else if (strcmp(optarg, "human") != 0)
                return rh_cli_usage_error("bench", "--format is human or json, not '%s'", optarg);
            break;
        case 'b': a->co.pg_bin = optarg; break;
        case 'W': a->co.pg_version = optarg; break;
        case 'u': a->co.run_as = optarg; break;
        case 'd': a->migrations_dir = optarg; break;
        case 'R': {
            char *end;
            a->rows = strtoll(optarg, &end, 10);
            if (*end || a->rows < 1 || a->rows > 1000000000LL)
                return rh_cli_usage_error("bench", "--rows takes a number from 1 to 1000000000, not '%s'", optarg);
            break;
        }
        case 'O': a->no_oracle = 1; break;
        case 'P': a->no_psql = 1; break;
        case 'V': a->pg_virtualenv = 1; break;
        case 'B': a->bulk_only = 1; break;
        case 'p': a->version = optarg; break;
        case 'T': a->tool = optarg; break;
        case 'C': a->cli = optarg; break;
        case 'h': help(); return RH_EXIT_OK;
        default: return rh_cli_usage_error("bench", "unknown option for bench %s", what);
        }
    }
    if (optind < argc)
        return rh_cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
    return -1;
}

static int bench_git(const bench_args *a, rh_buf *out, rh_err *err)
{
    int n = a->n1 ? a->n1 : 250, runs = a->runs ? a->runs : 20;
    char tmpl[] = "/tmp/rehearse-bench-git-XXXXXX";
    if (!mkdtemp(tmpl))
        return rh_err_errno(err, "mkdtemp");
    double median = 0, min = 0;
    size_t found = 0;
    int rc = rh_git_bench_fixture(tmpl, n, err);
    if (rc == 0)
        rc = rh_git_bench_read(tmpl, "HEAD", RH_TOOL_DEFAULT->default_migrations, runs, &median, &min, &found, err);
    rh_err ignored;
    rh_fs_rmtree(tmpl, &ignored);
    if (rc < 0)
        return -1;
    if (a->json)
        rh_buf_printf(out, "{\"benchmark\": \"git\", \"migrations\": %zu, \"runs\": %d, "
                           "\"read_ms\": {\"median\": %.3f, \"min\": %.3f}}\n", found, runs, median, min);
    else
        rh_buf_printf(out, "git benchmark: open + resolve + read a %zu-migration folder at a revision, %d runs\n"
                           "  median %.2f ms, min %.2f ms (target <= 50 ms)\n", found, runs, median, min);
    return 0;
}

int rh_cmd_bench(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        help();
        return argc < 2 ? RH_EXIT_USAGE : RH_EXIT_OK;
    }
    const char *what = argv[1];
    if (strcmp(what, "scenarios") == 0) {
        if (!rh_runner_bench)
            return rh_cli_usage_error("bench", "this build has no scenario runner");
        return rh_runner_bench(argc - 1, argv + 1);
    }
    bench_args a;
    memset(&a, 0, sizeof a);
    int prc = parse(what, argc - 1, argv + 1, &a);
    if (prc >= 0)
        return prc;
    rh_buf out;
    rh_buf_init(&out);
    rh_err err;
    rh_err_clear(&err);
    int rc;
    if (strcmp(what, "cluster") == 0) {
        rc = rh_cluster_bench(&a.co, a.runs ? a.runs : 20, a.pg_virtualenv, a.json, &out, &err);
    } else if (strcmp(what, "deploy") == 0) {
        const rh_tool *t = a.tool ? rh_tool_find(a.tool) : RH_TOOL_DEFAULT;
        char names[256];
        if (!t || t->external || (!t->bench && !t->write_history)) {
            rh_buf_free(&out);
            return rh_cli_usage_error("bench", "--tool %s: bench deploy --tool takes a tool that rehearse plays "
                                      "(known: %s)", a.tool, rh_tool_names(names, sizeof names));
        }
        rh_tool_bench_opts to = {.generate = a.n1, .runs = a.runs, .json = a.json, .cli = a.cli,
                                 .pg_bin = a.co.pg_bin, .pg_version = a.co.pg_version,
                                 .migrations_dir = a.migrations_dir, .no_oracle = a.no_oracle, .no_psql = a.no_psql,
                                 .version = a.version, .cluster = &a.co};
        rc = rh_tool_bench(t, &to, &out, &err);
    } else if (strcmp(what, "git") == 0) {
        rc = bench_git(&a, &out, &err);
    } else if (strcmp(what, "catalog") == 0) {
        rc = rh_catalog_bench_run(&a.co, a.n1 ? a.n1 : 500, a.n2 ? a.n2 : 4, a.runs ? a.runs : 10, a.json, &out,
                                  &err);
    } else if (strcmp(what, "check") == 0) {
        rh_check_bench_opts ko = {.history = a.n1, .added = a.n2, .runs = a.runs, .json = a.json,
                                  .pg_bin = a.co.pg_bin,
                                  .pg_version = a.co.pg_version};
        rc = rh_check_bench(&ko, &out, &err);
    } else if (strcmp(what, "check-cache") == 0) {
        const rh_tool *t = a.tool ? rh_tool_find(a.tool) : RH_TOOL_DEFAULT;
        char names[256];
        if (!t || !t->resumable || (t != RH_TOOL_DEFAULT && !t->write_history)) {
            rh_buf_free(&out);
            return rh_cli_usage_error("bench", "--tool %s: bench check-cache --tool takes a tool whose deploys are "
                                      "cached (known: %s)", a.tool, rh_tool_names(names, sizeof names));
        }
        rh_check_bench_opts ko = {.history = a.n1, .added = a.n2, .runs = a.runs, .json = a.json,
                                  .pg_bin = a.co.pg_bin, .pg_version = a.co.pg_version, .tool = t};
        rc = rh_check_bench_cache(&ko, &out, &err);
    } else if (strcmp(what, "scale") == 0) {
        rc = rh_scale_bench(&a.co, a.rows ? a.rows : 1000000, a.runs ? a.runs : 3, a.bulk_only, a.json, &out, &err);
    } else {
        rh_buf_free(&out);
        return rh_cli_usage_error("bench", "unknown benchmark '%s' (cluster, deploy, git, catalog, check, check-cache, scale, scenarios)",
                                  what);
    }
    fputs(out.data, stdout);
    rh_buf_free(&out);
    if (rc < 0) {
        rh_cli_errorf("rehearse bench %s: %s\n", what, err.msg);
        return RH_EXIT_USAGE;
    }
    return RH_EXIT_OK;
}
