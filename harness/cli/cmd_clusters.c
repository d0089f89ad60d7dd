/* cmd_clusters.c — `rehearse clusters`: list kept clusters and leftovers, stop them, reap. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cluster/cluster.h"

static void help(void)
{
    /* the rule, not this machine's folder: the man pages are made of this text on the build machine */
    printf("usage: rehearse clusters [--stop ID|all] [--reap]\n\n"
           "Lists the clusters in the run folder: kept ones (--keep, --keep-failed) and leftovers of\n"
           "rehearse processes that died. --stop ID stops and deletes one (all: every kept or leftover one);\n"
           "--reap deletes the leftovers of dead rehearse processes (done automatically at each start).\n\n"
           "The run folder is $REHEARSE_RUN_DIR if set, else /dev/shm/rehearse-EUID when /dev/shm is a\n"
           "writable tmpfs with 1 GB free, else $TMPDIR/rehearse-EUID (/tmp when TMPDIR is unset or long);\n"
           "EUID is the effective user id.\n\n"
           "exit: 0 done, 2 usage error, no such cluster, or one that could not be stopped\n");
}

int rh_cmd_clusters(int argc, char **argv)
{
    static const struct option opts[] = {
        {"stop", required_argument, NULL, 's'}, {"reap", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *stop = NULL;
    int reap = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': stop = optarg; break;
        case 'r': reap = 1; break;
        case 'h': help(); return RH_EXIT_OK;
        default: return rh_cli_usage_error("clusters", "unknown option");
        }
    }
    if (optind < argc)
        return rh_cli_usage_error("clusters", "unexpected argument '%s'", argv[optind]);
    rh_err err;
    if (reap) {
        int n;
        if (rh_cluster_reap(&n, &err) < 0) {
            rh_cli_errorf("rehearse clusters: %s\n", err.msg);
            return RH_EXIT_USAGE;
        }
        printf("reaped %d leftover cluster%s\n", n, n == 1 ? "" : "s");
        return RH_EXIT_OK;
    }
    rh_cluster_info *list;
    size_t n;
    if (rh_cluster_list(&list, &n, &err) < 0) {
        rh_cli_errorf("rehearse clusters: %s\n", err.msg);
        return RH_EXIT_USAGE;
    }
    int rc = RH_EXIT_OK;
    if (stop) {
        int all = strcmp(stop, "all") == 0, stopped = 0;
        if (!all) {
            if (rh_cluster_stop_id(stop, &err) < 0) {
                rh_cli_errorf("rehearse clusters: %s\n", err.msg);
                rc = RH_EXIT_USAGE;
            } else {
                printf("stopped %s\n", stop);
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                if (list[i].owner_alive && !list[i].kept)
                    continue; /* a live run's cluster is not ours to stop */
                if (rh_cluster_stop_id(list[i].id, &err) < 0) {
                    rh_cli_errorf("rehearse clusters: %s\n", err.msg);
                    rc = RH_EXIT_USAGE;
                } else {
                    printf("stopped %s\n", list[i].id);
                    stopped++;
                }
            }
            if (stopped == 0 && rc == RH_EXIT_OK)
                printf("no kept or leftover clusters\n");
        }
        free(list);
        return rc;
    }
    if (n == 0)
        printf("no clusters in %s\n", rh_cluster_run_dir());
    for (size_t i = 0; i < n; i++) {
        const char *state = list[i].kept ? "kept" : list[i].owner_alive ? "in use" : "leftover";
        printf("%-24s %-8s %s  %s\n", list[i].id, state, list[i].server_pid ? "running" : "stopped",
               list[i].dir);
        char *psql = list[i].kept && list[i].server_pid ? rh_cluster_kept_psql_command(list[i].dir) : NULL;
        if (psql)
            printf("%-24s          %s\n", "", psql);
        free(psql);
    }
    free(list);
    return rc;
}
