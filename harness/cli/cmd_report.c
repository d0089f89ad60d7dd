/*
 * cmd_report.c — `rehearse report merge`: several `rehearse run --format json` reports (the shards
 * of one suite, `--shard K/N` on several CI machines) as one report in any of run's formats.
 * Reading is report/merge.c's, writing the report module's usual writers.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "report/merge.h"
#include "report/report.h"
#include "util/fs.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: rehearse report merge [--format F] [--output FILE] REPORT.json...\n"
            "\n"
            "Merge the JSON reports of several `rehearse run --format json` (the shards of one suite:\n"
            "`rehearse run --shard K/N` on N CI machines) into one report of the whole suite, scenarios in\n"
            "path order, totals recounted. A scenario found in two reports is an error.\n"
            "\n"
            "options:\n"
            "  -f, --format F       human (default), tap, junit, json, markdown (a pull-request comment;\n"
            "                       also appended to $GITHUB_STEP_SUMMARY when that is set), html\n"
            "  -o, --output FILE    write the report to FILE\n"
            "\n"
            "Exit status: as `rehearse run` for the merged suite: 0 all passed or skipped, 1 a scenario\n"
            "failed, 2 an error (a scenario's, or a report that cannot be read: file, line and what was\n"
            "expected are named).\n");
}

static int merge(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},         {0, 0, 0, 0},
    };
    rh_report_format fmt = RH_REPORT_HUMAN;
    const char *output = NULL;
    rh_err err;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (rh_report_format_parse(optarg, &fmt, &err) < 0)
                return rh_cli_usage_error("report merge", "--format: %s", err.msg);
            break;
        case 'o': output = optarg; break;
        case 'h': help(stdout); return RH_EXIT_OK;
        default: return rh_cli_usage_error("report merge", "see `rehearse report --help`");
        }
    }
    if (optind >= argc)
        return rh_cli_usage_error("report merge", "give the JSON reports to merge");
    rh_run run = {0};
    for (int i = optind; i < argc; i++) {
        char *text = NULL;
        size_t len = 0;
        if (rh_fs_read_max(argv[i], (size_t)1 << 30, &text, &len, &err) < 0 ||
            rh_report_read_json(argv[i], text, len, &run, &err) < 0) {
            rh_cli_errorf("rehearse report merge: %s\n", err.msg);
            free(text);
            rh_run_free(&run);
            return RH_EXIT_USAGE;
        }
        free(text);
    }
    if (rh_report_merge_finish(&run, &err) < 0) {
        rh_cli_errorf("rehearse report merge: %s\n", err.msg);
        rh_run_free(&run);
        return RH_EXIT_USAGE;
    }
    rh_buf rep;
    rh_buf_init(&rep);
    rh_report_write(&run, fmt, &(rh_report_opts){0}, &rep);
    int code = rh_run_exit_code(&run);
    if (output && rh_fs_write(output, rep.data, rep.len, 0644, &err) < 0) {
        rh_cli_errorf("rehearse report merge: %s\n", err.msg);
        code = RH_EXIT_USAGE;
    } else if (!output) {
        fwrite(rep.data, 1, rep.len, stdout);
    }
    const char *summary = getenv("GITHUB_STEP_SUMMARY");
    if (summary && *summary) { /* the merge job's summary page: the suite's comment */
        rh_buf md;
        rh_buf_init(&md);
        rh_report_markdown(&run, &md);
        if (rh_fs_append(summary, md.data, md.len, &err) < 0)
            rh_cli_errorf("rehearse report merge: GITHUB_STEP_SUMMARY: %s\n", err.msg);
        rh_buf_free(&md);
    }
    rh_buf_free(&rep);
    rh_run_free(&run);
    return code;
}

int rh_cmd_report(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? RH_EXIT_USAGE : RH_EXIT_OK;
    }
    if (strcmp(argv[1], "merge") == 0)
        return merge(argc - 1, argv + 1);
    return rh_cli_usage_error("report", "unknown subcommand '%s' (merge)", argv[1]);
}
