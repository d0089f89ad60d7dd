/* cmd_resolve.c — `rehearse resolve`: `prisma migrate resolve --applied | --rolled-back NAME`. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/migrate_opts.h"

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

int rh_cmd_resolve(int argc, char **argv)
{
    rh_migrate_opts o;
    int rc = rh_migrate_parse(&o, argc, argv, 1);
    if (rc != 0)
        return rc;
    if (o.help) {
        help();
        return RH_EXIT_OK;
    }
    if ((rc = rh_migrate_setup(&o)) != 0) {
        rh_migrate_finish(&o);
        return rc;
    }
    rh_engine_opts eo = {.profile = &o.profile};
    rh_engine_result res;
    rh_engine_result_init(&res);
    rh_err err;
    rh_err_clear(&err);
    if (o.applied)
        rc = rh_engine_resolve_applied(o.conn, &o.set, o.applied, &eo, &res, &err);
    else
        rc = rh_engine_resolve_rolled_back(o.conn, &o.set, o.rolled_back, &eo, &res, &err);
    rc = rh_migrate_print(&o, rc, &res, &err);
    rh_engine_result_free(&res);
    rh_migrate_finish(&o);
    return rc;
}
