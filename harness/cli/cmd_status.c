/* cmd_status.c — `rehearse status`: `prisma migrate status` on a throwaway cluster or a local database. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/migrate_opts.h"
#include "tools/tool.h"

static void help(void)
{
    printf("usage: rehearse status (--migrations-dir DIR | --repo DIR --rev REV [--migrations PATH])\n"
           "                       [--database-url URL [--allow-remote] | --keep] [--prisma-version V]\n\n"
           "Prints what `prisma migrate status` prints and exits as it does. rehearse also reports what\n"
           "Prisma stays silent about: migrations edited after they were applied (checksum mismatch),\n"
           "ledger rows whose folder is gone, rolled-back names the next deploy applies again.\n\n");
    rh_migrate_help_common(stdout);
}

/* the default tool's command (through the tool interface); rh_migrate_main does the rest */
static int run(rh_migrate_opts *o, const rh_engine_opts *eo, rh_engine_result *res, rh_err *err)
{
    return rh_tool_run(RH_TOOL_DEFAULT, "status", o->conn, &o->set, NULL, eo, res, err);
}

int rh_cmd_status(int argc, char **argv)
{
    return rh_migrate_main(argc, argv, 0, help, run);
}
