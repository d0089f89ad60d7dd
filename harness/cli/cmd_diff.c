/*
 * cmd_diff.c — `rehearse diff A B`: compare two catalogs (snapshot files, database URLs, or
 * rev:REV, the schema of a clean deploy of a revision). Exit 0 same, 1 different, 2 error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "check/clean.h"
#include "cli/cli.h"

/* cmd_snapshot.c */
int rh_cli_catalog_option(int c, const char *arg, rh_catalog_opts *o, rh_clean_source *src);

static void help(FILE *f)
{
    fprintf(f,
            "usage: rehearse diff [--include-ledger] [--strict-column-order] [--owners] [--grants]\n"
            "                     [--no-comments] [--schema NAME] [--quiet]\n"
            "                     [--repo DIR] [--migrations PATH] [--prisma-version V] [--tool NAME]\n"
            "                     [--no-cache] A B\n\n"
            "Compare two catalogs, object by object. A and B are each a snapshot file (from `rehearse\n"
            "snapshot`), a database URL (postgres://... or a libpq conninfo), or rev:REV (a clean deploy\n"
            "of a revision of --repo DIR, default .; --tool NAME: whose deploy, default detected at REV).\n"
            "Output is grouped by object: `- ` only in A,\n"
            "`+ ` only in B, `~ ` in both with the properties that differ.\n\n"
            "  --include-ledger       compare the _prisma_migrations table too\n"
            "  --strict-column-order  compare column positions (both sides need them)\n"
            "  --owners, --grants     compare owners / privileges\n"
            "  --no-comments          ignore COMMENT ON texts\n"
            "  --schema NAME          the schema names print relative to, for database operands\n"
            "  --quiet                print nothing, only the exit code\n"
            "  --no-cache             rev:REV deploys every migration (default: continues the longest\n"
            "                         deployed prefix of the state cache, docs/state-cache.md)\n\n"
            "exit: 0 same, 1 different, 2 usage or setup error (as diff(1))\n");
}

int rh_cmd_diff(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"include-ledger", no_argument, NULL, 'L'}, {"strict-column-order", no_argument, NULL, 'S'},
        {"owners", no_argument, NULL, 'O'},         {"grants", no_argument, NULL, 'G'},
        {"no-comments", no_argument, NULL, 'C'},    {"schema", required_argument, NULL, 's'},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
        {"repo", required_argument, NULL, 'R'},     {"migrations", required_argument, NULL, 'M'},
        {"prisma-version", required_argument, NULL, 'P'}, {"tool", required_argument, NULL, 'T'},
        {"no-cache", no_argument, NULL, 'N'},
        {NULL, 0, NULL, 0},
    };
    rh_catalog_opts opts = {0};
    rh_clean_source src = {.notes = stderr};
    int quiet = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
        if (rh_cli_catalog_option(c, optarg, &opts, &src))
            continue;
        switch (c) {
        case 'q': quiet = 1; break;
        case 'h': help(stdout); return RH_EXIT_OK;
        default: return rh_cli_usage_error("diff", "unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return rh_cli_usage_error("diff", "two operands expected (A B), found %d", argc - optind);
    rh_catalog *cat[2] = {NULL, NULL};
    rh_err err;
    rh_err_clear(&err);
    rh_catalog_set_rev_resolver(rh_clean_rev_resolver, &src);
    for (int i = 0; i < 2; i++) {
        src.base = i == 0; /* rev:A without the folder: an empty schema, as check's base; B must have it */
        if (rh_catalog_load(argv[optind + i], &opts, &cat[i], &err) < 0) {
            rh_cli_errorf("rehearse diff: %s\n", err.msg);
            rh_catalog_free(cat[0]);
            return RH_EXIT_USAGE;
        }
    }
    rh_buf out;
    rh_buf_init(&out);
    char *la = rh_catalog_operand_label(argv[optind]), *lb = rh_catalog_operand_label(argv[optind + 1]);
    size_t n = rh_catalog_diff(cat[0], cat[1], &opts, la, lb, quiet ? NULL : &out);
    free(la);
    free(lb);
    fwrite(out.data, 1, out.len, stdout);
    fflush(stdout);
    rh_buf_free(&out);
    rh_catalog_free(cat[0]);
    rh_catalog_free(cat[1]);
    return n ? RH_EXIT_FAIL : RH_EXIT_OK;
}
