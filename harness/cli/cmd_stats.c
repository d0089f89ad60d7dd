/* cmd_stats.c — `rehearse stats`: print the read-only query that measures production's shape. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "scale/scale.h"

static void help(void)
{
    printf("usage: rehearse stats\n\n"
           "Prints one read-only SQL query. Run it on production (or a replica); its output is one JSON\n"
           "document, per table: estimated rows, table and index size, dead tuples, and per column the\n"
           "null fraction, distinct count and average width. No row data leaves the database; the query\n"
           "reads only catalogs and statistics views and takes no lock on any table (PostgreSQL 14-18).\n\n"
           "  rehearse stats > stats.sql\n"
           "  psql -XAtq -d \"$DATABASE_URL\" -f stats.sql > stats.json\n"
           "  rehearse check --scale stats.json ...\n");
}

int rh_cmd_stats(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        help();
        return RH_EXIT_OK;
    }
    if (argc > 1)
        return rh_cli_usage_error("stats", "unexpected argument '%s'", argv[1]);
    fputs(rh_scale_stats_query(), stdout);
    return fflush(stdout) == 0 ? RH_EXIT_OK : RH_EXIT_USAGE;
}
