/*
 * migrate_opts.h — what `rehearse deploy | status | resolve` share: their options, where the
 * migrations come from (a folder or a git revision), the version profile, the database (a fresh
 * throwaway cluster, or --database-url), and printing an engine result as Prisma would.
 */
#ifndef RH_MIGRATE_OPTS_H
#define RH_MIGRATE_OPTS_H

#include <libpq-fe.h>

#include "cluster/cluster.h"
#include "engine/cached.h"
#include "engine/engine.h"
#include "migrations/migset.h"
#include "migrations/profile.h"
#include "source/loader.h"
#include "tools/tool.h"

typedef struct rh_migrate_opts {
    const char *cmd;             /* "deploy", "status", "resolve" (for messages) */
    const char *migrations_dir;  /* --migrations-dir */
    const char *repo;            /* --repo */
    const char *rev;             /* --rev */
    const char *migrations;      /* --migrations (path inside the repository) */
    const char *database_url;    /* --database-url */
    int allow_remote;            /* --allow-remote */
    int keep;                    /* --keep */
    int superuser;               /* --superuser */
    const char *tool_version;  /* --prisma-version */
    const char *pg_bin;          /* --pg-bin */
    const char *pg_version;      /* --pg */
    const char *applied;         /* resolve --applied NAME */
    const char *rolled_back;     /* resolve --rolled-back NAME */
    const char *tool_name;       /* --tool NAME */
    const char *migrate_command; /* --migrate-command CMD (deploy) */
    const char *scale_file;      /* deploy --scale FILE */
    const char *rows[64];        /* deploy --rows TABLE=N (applied after --scale) */
    size_t nrows;
    int no_cache;                /* --no-cache (deploy) */
    long timeout_ms;             /* --timeout (deploy): 0 none */
    int help;

    /* filled by rh_migrate_setup */
    const rh_tool *tool;         /* --tool, or detected from --migrations-dir; NULL: the loader's (default) tool */
    rh_migset set;
    rh_profile profile;
    rh_profile_from profile_from; /* where the profile came from */
    char profile_source[1100];   /* "--prisma-version 6.6", "package.json ... at v1 (abc1234)", "default (...)" */
    rh_cluster_opts cluster_opts; /* what the throwaway cluster was started with */
    rh_state_deploy state;       /* deploy on a throwaway cluster: the cached prefix it starts from */
    rh_cluster *cluster;
    PGconn *conn;
    char *url_schema;            /* --database-url's schema= as Prisma decodes it; NULL: none */
} rh_migrate_opts;

/*
 * Parse argv (argv[0] is the command name). with_resolve accepts --applied / --rolled-back.
 * Returns 0, or RH_EXIT_USAGE after printing the problem.
 */
int rh_migrate_parse(rh_migrate_opts *o, int argc, char **argv, int with_resolve);

/* Print the shared part of --help. */
void rh_migrate_help_common(FILE *f);

/* Load and sort the migrations, choose the profile, start or connect the database. 0 or RH_EXIT_USAGE. */
int rh_migrate_setup(rh_migrate_opts *o);

/* Print a result as Prisma would (stdout/stderr), then rehearse's findings on stderr; its exit code. */
int rh_migrate_print(rh_migrate_opts *o, int rc, const rh_engine_result *res, const rh_err *err);

/* Close the connection; stop the cluster, or keep it (--keep) and say how to reach it. -1 (said on
   stderr) when the cluster could not be cleaned up or its watchdog died. */
int rh_migrate_finish(rh_migrate_opts *o);

/* The command's call for the default tool (its verb through tools/tool.h): its return code, res and err filled. */
typedef int (*rh_migrate_run_fn)(rh_migrate_opts *o, const rh_engine_opts *eo, rh_engine_result *res, rh_err *err);

/*
 * The whole of `rehearse deploy | status | resolve`: parse (with_resolve: --applied/--rolled-back),
 * --help (help prints the command's own part), set up, run, print as Prisma would, finish.
 * Returns the exit code. A command file is its help text and its run function.
 */
int rh_migrate_main(int argc, char **argv, int with_resolve, void (*help)(void), rh_migrate_run_fn run);

#endif
