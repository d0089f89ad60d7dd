/*
 * cmd_snapshot.c — `rehearse snapshot`: a database's catalog in rehearse's text form (golden files).
 * Exit 0 written, 2 usage or setup error.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "check/clean.h"
#include "cli/cli.h"
#include "util/fs.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: rehearse snapshot (--database-url URL | --rev REV | OPERAND) [--output FILE]\n"
            "                         [--include-ledger] [--strict-column-order] [--owners] [--grants]\n"
            "                         [--no-comments] [--schema NAME]\n\n"
            "Print a database's schema in rehearse's catalog text form: one block per object, sorted,\n"
            "no OIDs, no volatile values; two databases holding the same schema print the same bytes.\n"
            "docs/catalog.md describes the format.\n\n"
            "  --database-url URL     postgres://... or a libpq conninfo (\"host=/tmp dbname=app\")\n"
            "  --rev REV              the schema a clean deploy of a revision produces (same as rev:REV);\n"
            "                         --repo DIR (default .), --migrations PATH (default: Prisma's at REV),\n"
            "                         --prisma-version V (default: detected at REV), --tool NAME (default:\n"
            "                         detected at REV: dbmate's db/migrations, drizzle-kit's drizzle/ ...),\n"
            "                         --no-cache (deploy every migration; default: continue the longest\n"
            "                         deployed prefix of the state cache, docs/state-cache.md)\n"
            "  OPERAND                a URL, rev:REV, or an existing snapshot file (re-printed)\n"
            "  --output FILE          write there instead of stdout\n"
            "  --include-ledger       keep the _prisma_migrations table (left out by default)\n"
            "  --strict-column-order  record column positions (\"position N\")\n"
            "  --owners, --grants     record owners / privileges (off by default: roles differ between clusters)\n"
            "  --no-comments          leave out COMMENT ON texts\n"
            "  --schema NAME          the schema unqualified names print relative to (default: first of\n"
            "                         search_path, else public)\n\n"
            "exit: 0 written, 2 usage or setup error\n");
}

/*
 * Options shared with `rehearse diff`: returns 1 if the option was one of them. rev:REV operands
 * are clean deploys of REV from the repository --repo (default .), folder --migrations, profile
 * --prisma-version: the first such option registers the resolver.
 */
int rh_cli_catalog_option(int c, const char *arg, rh_catalog_opts *o, rh_clean_source *src)
{
    switch (c) {
    case 'R': src->repo = arg; return 1;
    case 'M': src->migrations = arg; return 1;
    case 'P': src->tool_version = arg; return 1;
    case 'T': src->tool = arg; return 1;
    case 'N': src->no_cache = 1; return 1;
    case 'L': o->include_ledger = 1; return 1;
    case 'S': o->strict_column_order = 1; return 1;
    case 'O': o->include_owners = 1; return 1;
    case 'G': o->include_grants = 1; return 1;
    case 'C': o->ignore_comments = 1; return 1;
    case 's': o->default_schema = arg; return 1;
    default: return 0;
    }
}

int rh_cmd_snapshot(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"database-url", required_argument, NULL, 'd'}, {"rev", required_argument, NULL, 'r'},
        {"output", required_argument, NULL, 'o'},       {"include-ledger", no_argument, NULL, 'L'},
        {"strict-column-order", no_argument, NULL, 'S'}, {"owners", no_argument, NULL, 'O'},
        {"grants", no_argument, NULL, 'G'},             {"no-comments", no_argument, NULL, 'C'},
        {"schema", required_argument, NULL, 's'},       {"help", no_argument, NULL, 'h'},
        {"repo", required_argument, NULL, 'R'},         {"migrations", required_argument, NULL, 'M'},
        {"prisma-version", required_argument, NULL, 'P'}, {"tool", required_argument, NULL, 'T'},
        {"no-cache", no_argument, NULL, 'N'},
        {NULL, 0, NULL, 0},
    };
    rh_catalog_opts opts = {0};
    rh_clean_source src = {.notes = stderr};
    const char *url = NULL, *rev = NULL, *output = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
        if (rh_cli_catalog_option(c, optarg, &opts, &src))
            continue;
        switch (c) {
        case 'd': url = optarg; break;
        case 'r': rev = optarg; break;
        case 'o': output = optarg; break;
        case 'h': help(stdout); return RH_EXIT_OK;
        default: return rh_cli_usage_error("snapshot", "unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    const char *operand = optind < argc ? argv[optind] : NULL;
    if (optind + 1 < argc)
        return rh_cli_usage_error("snapshot", "one operand at most, found `%s` too", argv[optind + 1]);
    if (!!url + !!rev + !!operand != 1)
        return rh_cli_usage_error("snapshot", "give exactly one of --database-url URL, --rev REV or an operand");
    char revop[4096];
    if (rev) {
        snprintf(revop, sizeof revop, "rev:%s", rev);
        operand = revop;
    } else if (url) {
        operand = url;
    }
    rh_err err;
    rh_err_clear(&err);
    rh_catalog *cat = NULL;
    rh_catalog_set_rev_resolver(rh_clean_rev_resolver, &src);
    if (rh_catalog_load(operand, &opts, &cat, &err) < 0) {
        rh_cli_errorf("rehearse snapshot: %s\n", err.msg);
        return RH_EXIT_USAGE;
    }
    rh_buf text;
    rh_buf_init(&text);
    rh_catalog_text(cat, &text);
    rh_catalog_free(cat);
    int rc = RH_EXIT_OK;
    if (output) {
        if (rh_fs_write(output, text.data, text.len, 0644, &err) < 0) {
            rh_cli_errorf("rehearse snapshot: %s\n", err.msg);
            rc = RH_EXIT_USAGE;
        }
    } else if (fwrite(text.data, 1, text.len, stdout) != text.len || fflush(stdout) != 0) {
        perror("rehearse snapshot: writing to stdout");
        rc = RH_EXIT_USAGE;
    }
    rh_buf_free(&text);
    return rc;
}
