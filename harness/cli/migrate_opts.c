/*
 * migrate_opts.c — option parsing and set-up shared by `rehearse deploy | status | resolve`:
 * migrations from a folder or a git revision, the Prisma version profile, a fresh throwaway
 * cluster (or a local --database-url), and printing an engine result on Prisma's streams.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/migrate_opts.h"
#include "scale/scale.h"
#include "scenario/scenario.h"
#include "util/pgurl.h"
#include "report/profile.h"
#include "source/loader.h"

int rh_migrate_parse(rh_migrate_opts *o, int argc, char **argv, int with_resolve)
{
    static const struct option opts[] = {
        {"migrations-dir", required_argument, NULL, 'd'}, {"repo", required_argument, NULL, 'r'},
        {"rev", required_argument, NULL, 'v'},            {"migrations", required_argument, NULL, 'm'},
        {"database-url", required_argument, NULL, 'u'},   {"allow-remote", no_argument, NULL, 'R'},
        {"keep", no_argument, NULL, 'k'},                 {"prisma-version", required_argument, NULL, 'p'},
        {"pg-bin", required_argument, NULL, 'b'},         {"applied", required_argument, NULL, 'A'},
        {"rolled-back", required_argument, NULL, 'B'},    {"help", no_argument, NULL, 'h'},
        {"superuser", no_argument, NULL, 'S'},            {"pg", required_argument, NULL, 'G'},
        {"tool", required_argument, NULL, 'T'},           {"migrate-command", required_argument, NULL, 'C'},
        {"scale", required_argument, NULL, 's'},          {"rows", required_argument, NULL, 'w'},
        {"no-cache", no_argument, NULL, 'N'},             {"timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->cmd = argv[0];
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o->migrations_dir = optarg; break;
        case 'r': o->repo = optarg; break;
        case 'v': o->rev = optarg; break;
        case 'm': o->migrations = optarg; break;
        case 'u': o->database_url = optarg; break;
        case 'R': o->allow_remote = 1; break;
        case 'k': o->keep = 1; break;
        case 'S': o->superuser = 1; break;
        case 'p': o->tool_version = optarg; break;
        case 'T': o->tool_name = optarg; break;
        case 'C': o->migrate_command = optarg; break;
        case 'b': o->pg_bin = optarg; break;
        case 'G': o->pg_version = optarg; break;
        case 's': o->scale_file = optarg; break;
        case 'N': o->no_cache = 1; break;
        case 't':
            if ((o->timeout_ms = rh_scn_parse_duration(optarg)) < 0)
                return rh_cli_usage_error(o->cmd, "--timeout takes a duration such as 90s or 10min, not '%s'", optarg);
            break;
        case 'w':
            if (o->nrows == sizeof o->rows / sizeof *o->rows)
                return rh_cli_usage_error(o->cmd, "at most 64 --rows (use --scale FILE for more tables)");
            o->rows[o->nrows++] = optarg;
            break;
        case 'A':
        case 'B':
            if (!with_resolve)
                return rh_cli_usage_error(o->cmd, "unknown option '%s'", argv[optind - 1]);
            if (c == 'A')
                o->applied = optarg;
            else
                o->rolled_back = optarg;
            break;
        case 'h': o->help = 1; return 0;
        default: return rh_cli_usage_error(o->cmd, "unknown option");
        }
    }
    if (optind < argc)
        return rh_cli_usage_error(o->cmd, "unexpected argument '%s'", argv[optind]);
    if (o->migrations_dir && o->repo)
        return rh_cli_usage_error(o->cmd, "give --migrations-dir DIR or --repo DIR --rev REV, not both");
    if (!o->migrations_dir && !o->repo)
        return rh_cli_usage_error(o->cmd, "where are the migrations? give --migrations-dir DIR or --repo DIR --rev REV");
    if (o->repo && !o->rev)
        return rh_cli_usage_error(o->cmd, "--repo needs --rev REV (a sha, tag, branch, HEAD~1 or WORKTREE)");
    if (!o->repo && (o->rev || o->migrations))
        return rh_cli_usage_error(o->cmd, "--rev and --migrations go with --repo DIR");
    if (o->keep && o->database_url)
        return rh_cli_usage_error(o->cmd, "--keep is for the throwaway cluster; --database-url is yours already");
    if (o->superuser && o->database_url)
        return rh_cli_usage_error(o->cmd, "--superuser is for the throwaway cluster; --database-url says who connects");
    if ((o->scale_file || o->nrows) && strcmp(o->cmd, "deploy") != 0)
        return rh_cli_usage_error(o->cmd, "--scale and --rows are for deploy");
    if ((o->scale_file || o->nrows) && o->database_url)
        return rh_cli_usage_error(o->cmd, "--scale and --rows fill tables with generated rows: the throwaway cluster "
                                          "only, never --database-url");
    if ((o->scale_file || o->nrows) && o->migrate_command)
        return rh_cli_usage_error(o->cmd, "--scale and --rows work with rehearse's own deploy, not --migrate-command");
    if (o->no_cache && strcmp(o->cmd, "deploy") != 0)
        return rh_cli_usage_error(o->cmd, "--no-cache is for deploy");
    if (o->timeout_ms && strcmp(o->cmd, "deploy") != 0)
        return rh_cli_usage_error(o->cmd, "--timeout is for deploy");
    if (o->migrate_command && strcmp(o->cmd, "deploy") != 0)
        return rh_cli_usage_error(o->cmd, "--migrate-command is for deploy");
    if (o->migrate_command && o->tool_name)
        return rh_cli_usage_error(o->cmd, "give --migrate-command CMD or --tool NAME, not both");
    if (o->migrate_command)
        o->tool_name = "command";
    if (o->tool_name && !rh_tool_find(o->tool_name)) {
        char names[256];
        return rh_cli_usage_error(o->cmd, "--tool %s: no such migration tool (known: %s)", o->tool_name,
                                  rh_tool_names(names, sizeof names));
    }
    if (with_resolve) {
        if (!o->applied && !o->rolled_back)
            return rh_cli_usage_error(o->cmd, "--applied NAME or --rolled-back NAME must be given");
        if (o->applied && o->rolled_back)
            return rh_cli_usage_error(o->cmd, "pass either --applied or --rolled-back, not both");
        if ((o->applied && !*o->applied) || (o->rolled_back && !*o->rolled_back))
            return rh_cli_usage_error(o->cmd, "the migration name must not be empty");
    }
    return 0;
}

void rh_migrate_help_common(FILE *f)
{
    fprintf(f,
            "migrations (one of):\n"
            "  --migrations-dir DIR     a Prisma migrations folder on disk\n"
            "  --repo DIR --rev REV     the folder at a git revision (sha, tag, branch, HEAD~1, WORKTREE)\n"
            "  --migrations PATH        its path in the repository (default: found from package.json /\n"
            "                           schema.prisma, else prisma/migrations)\n"
            "database:\n"
            "  (default)                a fresh throwaway PostgreSQL cluster, deleted at exit\n"
            "  --keep                   leave the cluster running; prints a psql command and the URL\n"
            "  --database-url URL       an existing database (local hosts only unless --allow-remote)\n"
            "  --pg-bin DIR             PostgreSQL binaries for the throwaway cluster\n"
            "  --superuser              run as the cluster's superuser (default: a migration role that\n"
            "                           owns the database but cannot run programs or read server files)\n"
            "  --pg VERSION             its PostgreSQL version: 17, 17.10 (default: $REHEARSE_PG, else any)\n"
            "fidelity:\n"
            "  --tool NAME              the migration tool whose deploy to rehearse (default: detected\n"
            "                           from the folder's files, else the first registered tool)\n"
            "  --scale FILE             deploy, throwaway cluster: before each migration, fill the tables that\n"
            "                           exist to production's size (the JSON of `rehearse stats`; docs/scale.md)\n"
            "  --rows TABLE=N           the same for one table, a guess (repeatable; k, M, G)\n"
            "  --no-cache               deploy, throwaway cluster: apply every migration (default: start\n"
            "                           from the state cache's longest deployed prefix of the set and\n"
            "                           keep the whole set's state; docs/state-cache.md)\n"
            "  --timeout DUR            deploy: give up after DUR (exit 2; default: none, as Prisma waits):\n"
            "                           a migration that never ends must not hang a CI job\n"
            "  --migrate-command CMD    deploy: run CMD (through /bin/sh -c) in a temporary copy of the\n"
            "                           migrations folder, with DATABASE_URL and PG* set to the database\n"
            "  --prisma-version V       the Prisma version to behave as (default: detected from the\n"
            "                           revision's package files, else %s)\n"
            "Prints what Prisma prints, on the same streams, and exits as Prisma exits (0 or 1);\n"
            "rehearse's own findings go to stderr prefixed 'rehearse:'. Exit 2: usage or setup error.\n",
            RH_TOOL_DEFAULT->default_version);
}

/*
 * A tool without version profiles reads its own folder (tools/tool.h). The first registered tool
 * (the default) keeps the loader's path: revisions, profiles and their notes.
 */
static int pick_tool(rh_migrate_opts *o, rh_err *err)
{
    if (o->tool_name) {
        o->tool = rh_tool_find(o->tool_name);
    } else if (o->migrations_dir) {
        o->tool = rh_tool_detect_dir(o->migrations_dir, err);
        if (!o->tool) /* two tools claim it, or an unknown tool's files: the user must say which */
            return -1;
        if (o->tool != rh_tools[0])
            rh_cli_errorf("rehearse: note: %s holds %s migrations (%s) (detected; give --tool NAME to say otherwise)\n",
                    o->migrations_dir, o->tool->name, o->tool->detected_by ? o->tool->detected_by : "its folder layout");
    } else if (o->repo && !o->tool_version) { /* --prisma-version names the default tool */
        char why[1024];
        o->tool = rh_tool_detect_rev(o->repo, o->rev, o->migrations, why, sizeof why, err);
        if (!o->tool)
            return -1;
        if (o->tool != rh_tools[0])
            rh_cli_errorf("rehearse: note: %s (detected; give --tool NAME to say otherwise)\n", why);
    }
    if (o->tool == rh_tools[0])
        o->tool = NULL;
    if (o->tool && o->tool_version)
        return rh_err_set(err, "--prisma-version is for %s migrations, not %s", rh_tools[0]->name, o->tool->name);
    if (o->tool && o->repo && !o->migrations && !*o->tool->default_migrations)
        return rh_err_set(err, "--migrate-command with --repo needs --migrations PATH (the folder to copy)");
    if (o->tool && !rh_tool_verb_find(o->tool, o->cmd))
        return rh_err_set(err, "%s has no `%s` command rehearse can play", o->tool->name, o->cmd);
    return 0;
}

/* Load the migration set from the folder or the revision, and decide the profile (source/loader.h). */
static int load_migrations(rh_migrate_opts *o, rh_err *err)
{
    if (pick_tool(o, err) < 0)
        return -1;
    if (o->tool) {
        rh_load_spec spec = {.tool = o->tool, .dir = o->migrations_dir, .repo = o->repo, .rev = o->rev,
                             .migrations = o->migrations};
        if (rh_source_load_set(&spec, &o->set, NULL, err) < 0)
            return -1;
        for (size_t i = 0; i < o->set.n_problems; i++) /* what the tool passes over, said once */
            rh_cli_errorf("rehearse: note: %s\n", o->set.problems[i].text);
        return 0;
    }
    rh_load_spec spec = {.dir = o->migrations_dir, .repo = o->repo, .rev = o->rev, .migrations = o->migrations,
                         .tool_version = o->tool_version};
    rh_loaded l;
    if (rh_source_load(&spec, &l, err) < 0)
        return -1;
    if (l.choice.note[0]) /* not a reason to stop, but the user must know which Prisma is being imitated */
        rh_cli_errorf("rehearse: note: %s; behaving as Prisma %s (give --prisma-version)\n", l.choice.note,
                l.choice.profile.version);
    for (size_t i = 0; i < l.set.n; i++)   /* Prisma's P3015 will not say why the file is missing */
        if (l.set.items[i].refused)
            rh_cli_errorf("rehearse: note: %s: %s\n", l.set.items[i].name, l.set.items[i].problem);
    o->set = l.set;
    memset(&l.set, 0, sizeof l.set);
    o->profile = l.choice.profile;
    o->profile_from = l.choice.from;
    snprintf(o->profile_source, sizeof o->profile_source, "%s", l.choice.source);
    rh_loaded_free(&l);
    return 0;
}

int rh_migrate_setup(rh_migrate_opts *o)
{
    rh_err err;
    rh_err_clear(&err);
    if (load_migrations(o, &err) < 0) {
        rh_cli_errorf("rehearse %s: %s\n", o->cmd, err.msg);
        return RH_EXIT_USAGE;
    }
    if (!o->tool) {
        /* the profile every line below depends on, always (check and run say it too); a "rehearse: "
           line on stderr, which the conformance tests drop when comparing with Prisma's output */
        rh_buf line;
        rh_buf_init(&line);
        rh_report_profile_line(&o->profile, o->profile_source, &line);
        rh_cli_errorf("rehearse: %s\n", line.data);
        rh_buf_free(&line);
    }
    if (o->database_url) {
        char *schema = NULL;
        char *url = rh_tool_database_url(o->tool ? o->tool : RH_TOOL_DEFAULT, o->database_url, &schema, &err);
        if (!url) {
            rh_cli_errorf("rehearse %s: --database-url: %s\n", o->cmd, err.msg);
            return RH_EXIT_USAGE;
        }
        rh_pgurl_pinned pin = {0};
        int rc = 0;
        if (!o->allow_remote && rh_pgurl_pin_local(url, &pin, &err) < 0) {
            /* decided before any connection: no packet left, no password was sent */
            rh_cli_errorf("rehearse %s: --database-url: %s; rehearse refuses to change a remote database unless "
                            "--allow-remote is given (this machine: unix sockets and loopback addresses)\n",
                    o->cmd, err.msg);
            rc = RH_EXIT_USAGE;
        } else {
            o->conn = o->allow_remote ? rh_pgurl_connect(url) : rh_pgurl_connect_pinned(url, &pin);
            if (PQstatus(o->conn) != CONNECTION_OK) {
                rh_cli_errorf("rehearse %s: cannot connect to --database-url: %s", o->cmd,
                        PQerrorMessage(o->conn));
                rc = RH_EXIT_USAGE;
            } else if (schema && *schema) {
                /* the tool works in the URL's schema: its ledger (and Prisma's P3005 check) land there */
                char *id = PQescapeIdentifier(o->conn, schema, strlen(schema));
                char *set_sql = rh_xasprintf("SET search_path TO %s", id ? id : "public");
                PGresult *r = PQexec(o->conn, set_sql);
                if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                    rh_cli_errorf("rehearse %s: --database-url schema=%s: %s", o->cmd, schema,
                            PQerrorMessage(o->conn));
                    rc = RH_EXIT_USAGE;
                }
                PQclear(r);
                free(set_sql);
                PQfreemem(id);
            }
            const char *want = o->pg_version ? o->pg_version : getenv("REHEARSE_PG");
            if (rc == 0 && want && *want) { /* the version rehearsals use vs this database's */
                char *note = rh_pgver_mismatch_note(PQparameterStatus(o->conn, "server_version"),
                                                    "SHOW server_version of --database-url",
                                                    o->pg_version ? "--pg asks for" : "REHEARSE_PG asks for", want);
                if (note)
                    rh_cli_errorf("rehearse: note: %s\n", note);
                free(note);
            }
            if (rc != 0) {
                PQfinish(o->conn);
                o->conn = NULL;
            }
        }
        rh_pgurl_pinned_free(&pin);
        if (rc == 0 && schema && *schema)
            o->url_schema = schema; /* the Datasource line names it */
        else
            free(schema);
        free(url);
        return rc;
    }
    rh_cluster_opts *copts = &o->cluster_opts;
    memset(copts, 0, sizeof *copts);
    copts->pg_bin = o->pg_bin;
    copts->superuser = o->superuser;
    copts->pg_version = o->pg_version;
    /* deploy continues the longest cached prefix (not with a fill before each migration: that is
       not one plain deploy; a tool that is not resumable, command mode included, never is) */
    if (strcmp(o->cmd, "deploy") == 0 && !o->scale_file && !o->nrows)
        rh_state_deploy_find(&o->state, o->tool, o->tool ? NULL : &o->profile, RH_STATE_LAYOUT_FRESH, copts, &o->set,
                             o->no_cache);
    int started = rh_cluster_start(&o->cluster, copts, &err) == 0;
    if (!started && o->state.entry) { /* a state that does not start is a miss, never a failed command */
        rh_cli_errorf("rehearse: state cache not used: %s\n", err.msg);
        rh_state_deploy_forget(&o->state, copts);
        started = rh_cluster_start(&o->cluster, copts, &err) == 0;
    }
    if (!started) {
        rh_cli_errorf("rehearse %s: could not start a throwaway cluster: %s\n", o->cmd, err.msg);
        return RH_EXIT_USAGE;
    }
    if (o->state.cached)
        rh_cli_errorf("rehearse: note: the first %zu of %zu migrations come from the state cache (--no-cache "
                      "deploys them all)\n", o->state.cached, o->set.n);
    rh_state_deploy_started(&o->state, o->cluster);
    if (o->superuser)
        rh_cli_errorf("rehearse: running as the superuser %s (--superuser)\n", rh_cluster_user(o->cluster));
    if (o->migrate_command && rh_cluster_open_to_any_client(o->cluster, &err) < 0) {
        rh_cli_errorf("rehearse %s: %s\n", o->cmd, err.msg);
        return RH_EXIT_USAGE;
    }
    o->conn = rh_cluster_connect(o->cluster, NULL, &err);
    if (!o->conn) {
        rh_cli_errorf("rehearse %s: %s\n", o->cmd, err.msg);
        return RH_EXIT_USAGE;
    }
    return 0;
}

int rh_migrate_print(rh_migrate_opts *o, int rc, const rh_engine_result *res, const rh_err *err)
{
    fwrite(res->out.data, 1, res->out.len, stdout);
    fflush(stdout);
    fwrite(res->errout.data, 1, res->errout.len, stderr);
    for (size_t i = 0; i < res->n_findings; i++)
        rh_cli_errorf("rehearse: %s: %s: %s\n", rh_finding_kind_name(res->findings[i].kind),
                res->findings[i].name, res->findings[i].detail);
    if (rc < 0) {
        rh_cli_errorf("rehearse %s: %s\n", o->cmd, err->msg);
        return RH_EXIT_USAGE;
    }
    return res->exit_code;
}

int rh_migrate_finish(rh_migrate_opts *o)
{
    int rc = 0;
    if (o->conn)
        PQfinish(o->conn);
    o->conn = NULL;
    free(o->url_schema);
    o->url_schema = NULL;
    if (o->cluster) {
        if (o->keep) {
            char *psql = rh_cluster_psql_command(o->cluster);
            rh_cli_errorf("rehearse: cluster kept (stop it with `rehearse clusters --stop %s`)\n  %s\n  %s\n",
                    rh_cluster_id(o->cluster), psql, rh_cluster_url(o->cluster));
            free(psql);
            rh_cluster_keep(o->cluster);
        } else {
            rh_err err;
            if (rh_cluster_stop(o->cluster, &err) < 0) {
                rh_cli_errorf("rehearse %s: %s\n", o->cmd, err.msg);
                rc = -1;
            }
        }
        o->cluster = NULL;
    }
    rh_state_deploy_free(&o->state);
    rh_migset_free(&o->set);
    return rc;
}

/*
 * deploy --scale/--rows: before each migration is sent, the tables that exist by then (made by the
 * migrations before it) are filled to production's size on a connection of their own, so every
 * migration runs on tables of that size, as production's next deploy would.
 */
typedef struct scale_hook {
    rh_cluster *cluster;
    const rh_scale *scale;
    long long filled;
    char *found; /* per table of the scale: a table of that name was there before some migration */
    int fills;   /* fills done (one before each migration sent) */
} scale_hook;

static int fill_before(void *data, const char *name, size_t index, int backend_pid)
{
    (void)index;
    (void)backend_pid;
    scale_hook *h = data;
    rh_err err;
    PGconn *c = rh_cluster_connect(h->cluster, NULL, &err);
    if (!c) {
        rh_cli_errorf("rehearse deploy: --scale: %s\n", err.msg);
        return 1;
    }
    rh_scale_fill_result fill = {0};
    int rc = rh_scale_fill(c, h->scale, &fill, &err);
    PQfinish(c);
    if (rc < 0) {
        rh_cli_errorf("rehearse deploy: --scale before %s: %s\n", name, err.msg);
        return 1;
    }
    for (size_t i = 0; i < fill.n; i++) {
        const rh_scale_filled *f = &fill.tables[i];
        if (f->inserted > 0)
            rh_cli_errorf("rehearse: note: filled %s.%s with %lld row(s) before %s (--scale/--rows)\n", f->schema, f->name,
                          f->inserted, name);
        if (f->note)
            rh_cli_errorf("rehearse: note: table %s.%s: %lld of %lld rows: %s\n", f->schema, f->name,
                          f->before + f->inserted, f->target, f->note);
    }
    h->filled += fill.rows;
    h->fills++;
    for (size_t i = 0; i < h->scale->ntables; i++) {
        int unmatched = 0;
        for (size_t k = 0; k < fill.nunmatched && !unmatched; k++)
            unmatched = fill.unmatched[k] == i;
        if (!unmatched)
            h->found[i] = 1;
    }
    rh_scale_fill_result_free(&fill);
    return 0;
}

/* A --rows guess whose table was there before no migration filled nothing: say so (a typo, or a table
   only the last migration makes); a stats document's tables may be production's own, not the migrations' */
static void say_unfilled_guesses(const scale_hook *h)
{
    for (size_t i = 0; i < h->scale->ntables; i++) {
        const rh_scale_table *t = &h->scale->tables[i];
        if (!h->found[i] && t->table_bytes < 0)
            rh_cli_errorf("rehearse: note: --rows %s%s%s=%lld filled nothing: no table %s%s%s was there before any "
                          "migration was sent\n",
                          t->schema ? t->schema : "", t->schema ? "." : "", t->name, t->rows,
                          t->schema ? t->schema : "", t->schema ? "." : "", t->name);
    }
}

/* parse, --help, set up, the command's one engine call, print as Prisma would, clean up */
int rh_migrate_main(int argc, char **argv, int with_resolve, void (*help)(void), rh_migrate_run_fn run)
{
    rh_migrate_opts o;
    int rc = rh_migrate_parse(&o, argc, argv, with_resolve);
    if (rc != 0)
        return rc;
    if (o.help) {
        help();
        return RH_EXIT_OK;
    }
    if (o.timeout_ms > 0)
        rh_cli_time_limit(o.cmd, o.timeout_ms);
    if ((rc = rh_migrate_setup(&o)) != 0) {
        rh_migrate_finish(&o);
        return rc;
    }
    rh_engine_opts eo = {.profile = &o.profile, .resumed = o.state.cached, .url_schema = o.url_schema};
    rh_scale scale = {0};
    scale_hook hook = {.cluster = o.cluster, .scale = &scale};
    if (o.scale_file || o.nrows) {
        rh_err serr;
        int bad = o.scale_file && rh_scale_load(&scale, o.scale_file, &serr) < 0;
        for (size_t i = 0; i < o.nrows && !bad; i++)
            bad = rh_scale_add_rows(&scale, o.rows[i], &serr) < 0;
        if (bad) {
            rh_scale_free(&scale);
            rh_migrate_finish(&o);
            return rh_cli_usage_error(o.cmd, "%s", serr.msg);
        }
        eo.before_migration = fill_before;
        eo.hook_data = &hook;
        hook.found = rh_xcalloc(scale.ntables + 1, 1);
    }
    rh_engine_result res;
    rh_engine_result_init(&res);
    rh_err err;
    rh_err_clear(&err);
    if (o.tool) /* its own command (pick_tool checked it exists) */
        rc = rh_tool_verb_find(o.tool, o.cmd)->run(o.conn, &o.set,
                                                   o.migrate_command ? o.migrate_command
                                                   : o.applied       ? o.applied
                                                                     : o.rolled_back,
                                                   &eo, &res, &err);
    else
        rc = run(&o, &eo, &res, &err);
    rc = rh_migrate_print(&o, rc, &res, &err);
    if (hook.found && hook.fills > 0)
        say_unfilled_guesses(&hook);
    free(hook.found);
    if (o.cluster && !o.keep) { /* the deployed set's state, for the next run (a kept cluster keeps running) */
        char *meta = rh_xasprintf("deploy of %s: %zu migrations (in postgres)\n",
                                  o.set.origin ? o.set.origin : "a migrations folder", o.set.n);
        int clean = rc == 0 && o.conn && rh_engine_session_clean(o.conn);
        if (o.conn)
            PQfinish(o.conn);
        o.conn = NULL;
        rh_state_deploy_publish(&o.state, o.cluster, clean, &o.cluster_opts, rc, meta);
        free(meta);
    }
    rh_engine_result_free(&res);
    rh_scale_free(&scale);
    /* a cluster that could not be cleaned up (or a lost watchdog) turns success into a setup error */
    if (rh_migrate_finish(&o) < 0 && rc == RH_EXIT_OK)
        rc = RH_EXIT_USAGE;
    return rc;
}
