/*
 * cmd_bench.c — `rehearse bench WHAT`: the benchmarks. Timings live here and in scripts/, never in
 * pass/fail tests.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cluster/bench.h"

static void help(void)
{
    printf("usage: rehearse bench cluster [--runs N] [--format human|json] [--pg-bin DIR] [--run-as USER]\n\n"
           "cluster  template copy, start until ready, stop + delete; against initdb + pg_ctl start -w +\n"
           "         pg_ctl stop and pg_virtualenv (when installed), interleaved run by run.\n");
}

static int bench_cluster(int argc, char **argv)
{
    static const struct option opts[] = {
        {"runs", required_argument, NULL, 'n'},   {"format", required_argument, NULL, 'f'},
        {"pg-bin", required_argument, NULL, 'b'}, {"run-as", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int runs = 20, json = 0, c;
    rh_cluster_opts co = {0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            runs = atoi(optarg);
            if (runs < 1 || runs > 10000)
                return rh_cli_usage_error("bench", "--runs takes a number from 1 to 10000, not '%s'", optarg);
            break;
        case 'f':
            if (strcmp(optarg, "json") == 0)
                json = 1;
            else if (strcmp(optarg, "human") != 0)
                return rh_cli_usage_error("bench", "--format is human or json, not '%s'", optarg);
            break;
        case 'b': co.pg_bin = optarg; break;
        case 'u': co.run_as = optarg; break;
        case 'h': help(); return RH_EXIT_OK;
        default: return rh_cli_usage_error("bench", "unknown option");
        }
    }
    rh_buf out;
    rh_buf_init(&out);
    rh_err err;
    int rc = rh_cluster_bench(&co, runs, json, &out, &err);
    fputs(out.data, stdout);
    rh_buf_free(&out);
    if (rc < 0) {
        fprintf(stderr, "rehearse bench cluster: %s\n", err.msg);
        return RH_EXIT_USAGE;
    }
    return RH_EXIT_OK;
}

int rh_cmd_bench(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        help();
        return argc < 2 ? RH_EXIT_USAGE : RH_EXIT_OK;
    }
    if (strcmp(argv[1], "cluster") == 0)
        return bench_cluster(argc - 1, argv + 1);
    return rh_cli_usage_error("bench", "unknown benchmark '%s' (cluster)", argv[1]);
}
