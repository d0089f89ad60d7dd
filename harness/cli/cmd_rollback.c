/* cmd_rollback.c — `rehearse rollback --tool NAME`: a tool's rollback command (dbmate rollback). */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/migrate_opts.h"
#include "tools/tool.h"

static void help(void)
{
    printf("usage: rehearse rollback --tool NAME (--migrations-dir DIR | --repo DIR --rev REV [--migrations PATH])\n"
           "                         [--database-url URL [--allow-remote] | --keep]\n\n"
           "The tool's own rollback (dbmate rollback: the newest applied file's down section, its ledger row\n"
           "deleted), printing what the tool prints and exiting as it does. A --migrations-dir folder's tool is\n"
           "detected. Tools without a rollback (Prisma, drizzle-kit) are a usage error.\n\n");
    rh_migrate_help_common(stdout);
}

/* reached only for the default tool, which has no rollback (another tool's verb is run by rh_migrate_main) */
static int run(rh_migrate_opts *o, const rh_engine_opts *eo, rh_engine_result *res, rh_err *err)
{
    return rh_tool_run(RH_TOOL_DEFAULT, "rollback", o->conn, &o->set, NULL, eo, res, err);
}

int rh_cmd_rollback(int argc, char **argv)
{
    return rh_migrate_main(argc, argv, 0, help, run);
}
