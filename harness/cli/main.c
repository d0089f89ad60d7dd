/*
 * main.c — `rehearse COMMAND ...`: finds the command and runs it.
 *
 * Commands live in cmd_NAME.c. They are declared weak here so that a command still being written
 * does not break the build: an absent one says so and exits 2.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "report/escape.h"
#include "cluster/cluster.h"
#include "util/pgenv.h"

#pragma weak rh_cmd_run
#pragma weak rh_cmd_deploy
#pragma weak rh_cmd_status
#pragma weak rh_cmd_resolve
#pragma weak rh_cmd_history
#pragma weak rh_cmd_snapshot
#pragma weak rh_cmd_diff
#pragma weak rh_cmd_check
#pragma weak rh_cmd_clusters
#pragma weak rh_cmd_bench
#pragma weak rh_cmd_plan
#pragma weak rh_cmd_pg
#pragma weak rh_cmd_stats
#pragma weak rh_cmd_report
#pragma weak rh_cmd_cache

typedef struct command {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} command;

static const command commands[] = {
    {"run", rh_cmd_run, "run scenario files (default: scenarios/)"},
    {"deploy", rh_cmd_deploy, "prisma migrate deploy, on a throwaway cluster or a local database"},
    {"status", rh_cmd_status, "prisma migrate status"},
    {"resolve", rh_cmd_resolve, "prisma migrate resolve --applied | --rolled-back NAME"},
    {"rollback", rh_cmd_rollback, "a tool's rollback (dbmate rollback), with --tool NAME"},
    {"history", rh_cmd_history, "what changed in the migrations between two revisions, with hazards"},
    {"snapshot", rh_cmd_snapshot, "print a database's catalog in rehearse's text form"},
    {"diff", rh_cmd_diff, "compare two catalogs (snapshot files, databases, revisions)"},
    {"check", rh_cmd_check, "the pull-request gate: clean deploy, upgrade path, hazards"},
    {"clusters", rh_cmd_clusters, "list kept clusters, stop them, reap leftovers"},
    {"cache", rh_cmd_cache, "deployed states kept for reuse: list | prune | clear"},
    {"bench", rh_cmd_bench, "benchmarks: cluster | deploy | git | catalog | check | scale | scenarios"},
    {"pg", rh_cmd_pg, "PostgreSQL versions: install MAJOR[.MINOR] | list"},
    {"stats", rh_cmd_stats, "print the read-only query that measures production's tables (for --scale)"},
    {"report", rh_cmd_report, "merge the JSON reports of sharded runs into one report (any format)"},
    {"plan", rh_cmd_plan, "how Prisma >= 7.4 sends each migration file (statement by statement or whole)"},
};

/* The message through the terminal escaper: it quotes arguments and repository text (names, server
   messages) that must not drive the terminal or CI log it is read in. */
static void error_text(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    rh_buf b;
    rh_buf_init(&b);
    rh_buf_puts(&b, prefix);
    rh_report_term_text(&b, text ? text : fmt);
    rh_buf_puts(&b, suffix);
    fwrite(b.data, 1, b.len, stderr);
    rh_buf_free(&b);
    free(text);
}

void rh_cli_errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_text("", fmt, ap, "");
    va_end(ap);
}

int rh_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char *prefix = rh_xasprintf("rehearse %s: ", cmd), *suffix = rh_xasprintf("\n(see `rehearse %s --help`)\n", cmd);
    va_list ap;
    va_start(ap, fmt);
    error_text(prefix, fmt, ap, suffix);
    va_end(ap);
    free(prefix);
    free(suffix);
    return RH_EXIT_USAGE;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: rehearse COMMAND [OPTIONS]\n\n"
               "Replays database migrations against throwaway PostgreSQL clusters.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`rehearse COMMAND --help` describes a command. Exit codes: 0 success, "
               "1 check failed, 2 usage or setup error.\n");
}

int main(int argc, char **argv)
{
    rh_pgenv_isolate(); /* before any connection or thread: the user's PGOPTIONS, PGTZ ... are not Prisma's */
    if (argc < 2) {
        usage(stderr);
        return RH_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return RH_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        rh_cli_version(stdout);
        return RH_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        if (!commands[i].fn) {
            rh_cli_errorf("rehearse: command '%s' is not built into this version\n", argv[1]);
            return RH_EXIT_USAGE;
        }
        rh_cluster_install_signal_handlers();
        return commands[i].fn(argc - 1, argv + 1);
    }
    rh_cli_errorf("rehearse: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return RH_EXIT_USAGE;
}
