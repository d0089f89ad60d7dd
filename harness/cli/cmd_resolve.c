/* cmd_resolve.c — `rehearse resolve`: `prisma migrate resolve --applied | --rolled-back NAME`. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/migrate_opts.h"
#include "tools/tool.h"

static void help(void)
{
    printf("usage: rehearse resolve (--applied NAME | --rolled-back NAME)\n"
           "                        (--migrations-dir DIR | --repo DIR --rev REV [--migrations PATH])\n"
           "                        [--database-url URL [--allow-remote] | --keep] [--prisma-version V]\n\n"
           "Does what `prisma migrate resolve` does: --applied records NAME as applied (P3017, P3008;\n"
           "failed rows of NAME are marked rolled back first); --rolled-back marks NAME's failed rows\n"
           "rolled back (P3011, P3012).\n\n");
    rh_migrate_help_common(stdout);
}

/* the default tool's resolve verb (--applied or --rolled-back); rh_migrate_main does the rest */
static int run(rh_migrate_opts *o, const rh_engine_opts *eo, rh_engine_result *res, rh_err *err)
{
    if (o->applied)
        return rh_tool_run(RH_TOOL_DEFAULT, "resolve --applied", o->conn, &o->set, o->applied, eo, res, err);
    return rh_tool_run(RH_TOOL_DEFAULT, "resolve --rolled-back", o->conn, &o->set, o->rolled_back, eo, res, err);
}

int rh_cmd_resolve(int argc, char **argv)
{
    return rh_migrate_main(argc, argv, 1, help, run);
}
