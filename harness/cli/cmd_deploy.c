/* cmd_deploy.c — `rehearse deploy`: `prisma migrate deploy` on a throwaway cluster or a local database. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/migrate_opts.h"

static void help(void)
{
    printf("usage: rehearse deploy (--migrations-dir DIR | --repo DIR --rev REV [--migrations PATH])\n"
           "                       [--database-url URL [--allow-remote] | --keep] [--prisma-version V]\n\n"
           "Does what `prisma migrate deploy` does: ledger checks (P3005, P3009), the advisory lock, each\n"
           "pending migration.sql sent as one query, stop at the first failure (P3018).\n\n");
    rh_migrate_help_common(stdout);
}

int rh_cmd_deploy(int argc, char **argv)
{
    rh_migrate_opts o;
    int rc = rh_migrate_parse(&o, argc, argv, 0);
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
    rc = rh_engine_deploy(o.conn, &o.set, &eo, &res, &err);
    rc = rh_migrate_print(&o, rc, &res, &err);
    rh_engine_result_free(&res);
    rh_migrate_finish(&o);
    return rc;
}
