/* cmd_plan.c — `rehearse plan`: how Prisma >= 7.4 will send migration files (split or whole). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "migrations/sqlparser_model.h"
#include "util/buf.h"
#include "util/fs.h"

static void help(void)
{
    printf("usage: rehearse plan --sql FILE... | --sql-from LIST\n\n"
           "For each SQL file, how Prisma >= 7.4 sends it: statement by statement in autocommit when the\n"
           "Rust crate sqlparser 0.61 (PostgreSQL dialect) parses the whole file, else the whole file as\n"
           "one query (one implicit transaction). One line per file, tab-separated:\n"
           "  split  N     FILE            (N statements, each its own transaction)\n"
           "  whole  LINE  FILE  REASON    (LINE: the first statement sqlparser rejects; 0: the file)\n"
           "--sql-from LIST reads the file names from LIST, one per line (- for standard input).\n");
}

static int decide_one(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    rh_err err;
    rh_err_clear(&err);
    if (rh_fs_read(path, &data, &len, &err) != 0) {
        fprintf(stderr, "rehearse plan: %s: %s\n", path, err.msg);
        return -1;
    }
    rh_split_decision d;
    rh_sqlparser_decide(data, len, &d);
    free(data);
    if (d.split)
        printf("split\t%zu\t%s\n", d.n_stmts, path);
    else
        printf("whole\t%d\t%s\t%s\n", d.line, path, d.reason);
    return 0;
}

static int from_list(const char *list)
{
    FILE *f = strcmp(list, "-") == 0 ? stdin : fopen(list, "r");
    if (!f) {
        fprintf(stderr, "rehearse plan: cannot open %s\n", list);
        return RH_EXIT_USAGE;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = RH_EXIT_OK;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n > 0 && decide_one(line) != 0)
            rc = RH_EXIT_USAGE;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

int rh_cmd_plan(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        help();
        return argc < 2 ? RH_EXIT_USAGE : RH_EXIT_OK;
    }
    if (strcmp(argv[1], "--sql-from") == 0) {
        if (argc != 3)
            return rh_cli_usage_error("plan", "--sql-from takes one file name");
        return from_list(argv[2]);
    }
    if (strcmp(argv[1], "--sql") != 0 || argc < 3)
        return rh_cli_usage_error("plan", "expected --sql FILE... or --sql-from LIST");
    int rc = RH_EXIT_OK;
    for (int i = 2; i < argc; i++)
        if (decide_one(argv[i]) != 0)
            rc = RH_EXIT_USAGE;
    fflush(stdout);
    return rc;
}
