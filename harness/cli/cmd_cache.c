/* cmd_cache.c — `rehearse cache list | prune | clear`: the deployed states kept in the cache (docs/state-cache.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cluster/cluster.h"

static void help(void)
{
    /* the rule, not this machine's folder: the man pages are made of this text on the build machine */
    printf("usage: rehearse cache list               one line per state: last use, size, what it holds\n"
           "       rehearse cache prune [--max-mb N]  delete the least recently used states until the rest\n"
           "                                          fit in N MB (default REHEARSE_CACHE_MAX_MB, else 4096),\n"
           "                                          and leftovers of killed writers\n"
           "       rehearse cache clear              delete every state (the initdb templates stay)\n\n"
           "Deployed states (stopped clusters holding a revision's migrations, reused by `rehearse check`)\n"
           "in CACHE/states. CACHE is $REHEARSE_CACHE_DIR if set, else $XDG_CACHE_HOME/rehearse, else\n"
           "$HOME/.cache/rehearse, else /tmp/rehearse-cache-EUID (EUID: the effective user id).\n\n"
           "--no-cache (or REHEARSE_NO_CACHE=1) keeps a command from using the cache.\n"
           "exit: 0 done, 2 usage error or a cache that cannot be read\n");
}

static int list(void)
{
    rh_cluster_opts none = {0};
    rh_state_info *l = NULL;
    size_t n = 0;
    rh_err err;
    if (rh_state_list(&none, &l, &n, &err) < 0) {
        rh_cli_errorf("rehearse cache: %s\n", err.msg);
        return RH_EXIT_USAGE;
    }
    unsigned long long total = 0;
    for (size_t i = 0; i < n; i++) {
        char when[32];
        time_t t = (time_t)l[i].used;
        struct tm tm;
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
        const char *meta = l[i].meta ? l[i].meta : "(no description)\n";
        printf("%s UTC  %7.1f MB  %s\n  %s", when, (double)l[i].bytes / 1048576.0, l[i].name, meta);
        total += l[i].bytes;
    }
    printf("%zu state(s), %.1f MB (limit %.0f MB)\n", n, (double)total / 1048576.0,
           (double)rh_state_max_bytes() / 1048576.0);
    rh_state_list_free(l, n);
    return RH_EXIT_OK;
}

int rh_cmd_cache(int argc, char **argv)
{
    static const struct option opts[] = {
        {"max-mb", required_argument, NULL, 'm'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *max_mb = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': max_mb = optarg; break;
        case 'h': help(); return RH_EXIT_OK;
        default: return rh_cli_usage_error("cache", "unknown option");
        }
    }
    if (optind + 1 != argc)
        return rh_cli_usage_error("cache", "give one of list, prune, clear");
    const char *what = argv[optind];
    if (strcmp(what, "list") == 0)
        return max_mb ? rh_cli_usage_error("cache", "--max-mb goes with prune") : list();
    unsigned long long max = rh_state_max_bytes();
    if (max_mb) {
        char *end = NULL;
        unsigned long long mb = strtoull(max_mb, &end, 10);
        if (!*max_mb || *end || max_mb[0] == '-')
            return rh_cli_usage_error("cache", "--max-mb takes a number of megabytes, not '%s'", max_mb);
        max = mb * 1024ULL * 1024ULL;
    }
    if (strcmp(what, "clear") == 0) {
        if (max_mb)
            return rh_cli_usage_error("cache", "--max-mb goes with prune");
        max = 0;
    } else if (strcmp(what, "prune") != 0) {
        return rh_cli_usage_error("cache", "unknown action '%s' (list, prune, clear)", what);
    }
    rh_cluster_opts none = {0};
    size_t removed = 0;
    unsigned long long freed = 0;
    rh_err err;
    if (rh_state_prune(&none, max, &removed, &freed, &err) < 0) {
        rh_cli_errorf("rehearse cache: %s\n", err.msg);
        return RH_EXIT_USAGE;
    }
    printf("removed %zu state(s), %.1f MB\n", removed, (double)freed / 1048576.0);
    return RH_EXIT_OK;
}
