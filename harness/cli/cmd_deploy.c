/* cmd_deploy.c — `rehearse deploy`: `prisma migrate deploy` on a throwaway cluster or a local database. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/migrate_opts.h"
#include "tools/tool.h"

static void help(void)
{
    printf("usage: rehearse deploy (--migrations-dir DIR | --repo DIR --rev REV [--migrations PATH])\n"
           "                       [--database-url URL [--allow-remote] | --keep] [--prisma-version V]\n\n"
           "Does what `prisma migrate deploy` does: ledger checks (P3005, P3009), the advisory lock, each\n"
           "pending migration.sql sent as one query, stop at the first failure (P3018).\n\n");
    rh_migrate_help_common(stdout);
}

/* the default tool's command (through the tool interface); rh_migrate_main does the rest */
static int run(rh_migrate_opts *o, const rh_engine_opts *eo, rh_engine_result *res, rh_err *err)
{
    return rh_tool_run(RH_TOOL_DEFAULT, "deploy", o->conn, &o->set, NULL, eo, res, err);
}

int rh_cmd_deploy(int argc, char **argv)
{
    return rh_migrate_main(argc, argv, 0, help, run);
}
