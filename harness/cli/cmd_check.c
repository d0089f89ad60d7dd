/*
 * cmd_check.c — `rehearse check`: argument parsing and output for the pull-request gate
 * (the work is in harness/check/).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/check.h"
#include "cli/cli.h"
#include "report/check_html.h"
#include "report/check_markdown.h"
#include "report/sarif.h"
#include "scenario/scenario.h"
#include "tools/tool.h"
#include "util/buf.h"
#include "util/fs.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: rehearse check [--repo DIR] [--base REV] [--head REV] [OPTIONS]\n\n"
            "Would this branch's migrations deploy to production as they are? On one throwaway cluster:\n"
            "  (a) clean deploy of head; (b) deploy base, then head (the path production takes);\n"
            "  (c) the two schemas must be equal; (d) history hazards between base and head (edited or\n"
            "  removed after apply, added out of order, folders without migration.sql, order differences);\n"
            "  (e) new migrations run as Prisma runs them (e.g. CONCURRENTLY in a multi-statement file: 25001);\n"
            "  (f) per statement of each new migration: the locks it takes and the tables it rewrites;\n"
            "  (g) --seed FILE: data loaded after base, so data-dependent failures show.\n\n"
            "options:\n"
            "  --repo DIR            the repository (default: .)\n"
            "  --base REV            what production runs (default: merge-base of HEAD and origin/main or main)\n"
            "  --head REV            the candidate (default: WORKTREE, the files on disk)\n"
            "  --migrations PATH     the migrations folder in the repository (default: Prisma's, found at head)\n"
            "  --prisma-version V    fidelity profile (default: detected at head)\n"
            "  --tool NAME           the migration tool (default: detected at head: dbmate's db/migrations,\n"
            "                        drizzle-kit's drizzle/ ...); another tool than Prisma: the same steps with\n"
            "                        its own deploy and hazards (docs/tools.md)\n"
            "  --seed FILE           SQL loaded after base on the upgrade path\n"
            "  --no-locks            skip the lock trace (f)\n"
            "  --format F            human (default) | json | junit | sarif (code scanning) | html (one\n"
            "                        self-contained page, with --output) | markdown (a\n"
            "                        pull-request comment, also appended to $GITHUB_STEP_SUMMARY when set)\n"
            "  --output FILE         write the --format report there (any report but human also prints the\n"
            "                        human summary on stdout, for CI logs)\n"
            "  --fail-on LEVEL       error (default) | warning | notice: exit 1 at findings of that level or above\n"
            "  --github / --no-github  GitHub annotations (::error file=...,line=...::) on stderr (default: when\n"
            "                        GITHUB_ACTIONS=true)\n"
            "  --scale FILE          fill the tables to production's sizes (the JSON of the query `rehearse\n"
            "                        stats` prints) after base, before head's migrations\n"
            "  --rows TABLE=N        the same for one table, a guess (repeatable; N may end in k, M, G;\n"
            "                        overrides --scale's count for that table)\n"
            "  --fill-max N          fill each table to at most N rows (k, M, G); the waits of work linear in\n"
            "                        rows (rewrite, scan, index build) are then also ESTIMATED at --scale's rows\n"
            "  --max-block DUR       with --scale/--rows: an error when a read or a write of an existing table\n"
            "                        waits longer than DUR for a statement (measured: 500ms, 2s, 1min)\n"
            "  --max-write-block DUR, --max-read-block DUR  the same for writes / reads only (overrides\n"
            "                        --max-block for them)\n"
            "  --keep                leave the cluster running and print how to connect\n"
            "  --no-cache            deploy base in full: neither start from nor publish a cached state of it\n"
            "                        (also REHEARSE_NO_CACHE=1; the cache is REHEARSE_CACHE_DIR, see `rehearse cache`)\n"
            "  --superuser           run the migrations as the cluster's superuser (default: a migration\n"
            "                        role that cannot run programs or read server files)\n"
            "  --timeout DUR         give up after DUR (exit 2, no report; the clusters are stopped): a migration\n"
            "                        that sleeps or loops forever must not hang CI (default 30min; 0: none)\n"
            "  --pg-bin DIR          PostgreSQL binaries\n"
            "  --pg VERSION[,...]    PostgreSQL version: 17, 17.10; 14,17 checks on each (default: $REHEARSE_PG, else any)\n"
            "  --color / --no-color  colour in the human report (default: when stdout is a terminal)\n\n"
            "exit: 0 clean, 1 findings at or above --fail-on, 2 usage or setup error\n");
}

int rh_cmd_check(int argc, char **argv)
{
    enum { O_REPO = 256, O_BASE, O_HEAD, O_MIGR, O_VERSION, O_SEED, O_NOLOCKS, O_FORMAT, O_OUTPUT, O_FAILON,
           O_GITHUB, O_NOGITHUB, O_SCALE, O_ROWS, O_MAXBLOCK, O_MAXWRITE, O_MAXREAD, O_FILLMAX, O_KEEP, O_NOCACHE, O_SUPERUSER, O_PGBIN, O_PGVER, O_COLOR, O_NOCOLOR, O_HELP, O_TOOL, O_TIMEOUT };
    static const struct option longopts[] = {
        {"repo", required_argument, NULL, O_REPO},
        {"base", required_argument, NULL, O_BASE},
        {"head", required_argument, NULL, O_HEAD},
        {"migrations", required_argument, NULL, O_MIGR},
        {"prisma-version", required_argument, NULL, O_VERSION},
        {"tool", required_argument, NULL, O_TOOL},
        {"seed", required_argument, NULL, O_SEED},
        {"no-locks", no_argument, NULL, O_NOLOCKS},
        {"format", required_argument, NULL, O_FORMAT},
        {"output", required_argument, NULL, O_OUTPUT},
        {"fail-on", required_argument, NULL, O_FAILON},
        {"github", no_argument, NULL, O_GITHUB},
        {"no-github", no_argument, NULL, O_NOGITHUB},
        {"scale", required_argument, NULL, O_SCALE},
        {"rows", required_argument, NULL, O_ROWS},
        {"max-block", required_argument, NULL, O_MAXBLOCK},
        {"fill-max", required_argument, NULL, O_FILLMAX},
        {"max-write-block", required_argument, NULL, O_MAXWRITE},
        {"max-read-block", required_argument, NULL, O_MAXREAD},
        {"keep", no_argument, NULL, O_KEEP},
        {"no-cache", no_argument, NULL, O_NOCACHE},
        {"superuser", no_argument, NULL, O_SUPERUSER},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"pg-bin", required_argument, NULL, O_PGBIN},
        {"pg", required_argument, NULL, O_PGVER},
        {"color", no_argument, NULL, O_COLOR},
        {"no-color", no_argument, NULL, O_NOCOLOR},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    rh_check_opts o = {0};
    const char *scale_file = NULL;
    const char *rows[64]; /* --rows, applied after --scale so that a guess overrides its count */
    size_t nrows = 0;
    const char *format = "human", *output = NULL, *tool_name = NULL;
    rh_check_level fail_on = RH_CHECK_ERROR;
    const char *gha = getenv("GITHUB_ACTIONS");
    int github = gha && strcmp(gha, "true") == 0;
    int color = isatty(STDOUT_FILENO);
    long timeout_ms = 30L * 60 * 1000; /* far beyond a check's usual minutes; a CI job's own limit is hours */
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_REPO: o.repo = optarg; break;
        case O_BASE: o.base = optarg; break;
        case O_HEAD: o.head = optarg; break;
        case O_MIGR: o.migrations = optarg; break;
        case O_VERSION: o.tool_version = optarg; break;
        case O_TOOL: tool_name = optarg; break;
        case O_SEED: o.seed_file = optarg; break;
        case O_NOLOCKS: o.no_locks = 1; break;
        case O_FORMAT: format = optarg; break;
        case O_OUTPUT: output = optarg; break;
        case O_FAILON:
            if (rh_check_level_parse(optarg, &fail_on) < 0)
                return rh_cli_usage_error("check", "--fail-on takes error, warning or notice, not '%s'", optarg);
            break;
        case O_GITHUB: github = 1; break;
        case O_NOGITHUB: github = 0; break;
        case O_SCALE: scale_file = optarg; break;
        case O_ROWS:
            if (nrows == sizeof rows / sizeof *rows)
                return rh_cli_usage_error("check", "at most 64 --rows (use --scale FILE for more tables)");
            rows[nrows++] = optarg;
            break;
        case O_MAXBLOCK:
        case O_MAXWRITE:
        case O_MAXREAD: {
            const char *flag = c == O_MAXBLOCK ? "--max-block" : c == O_MAXWRITE ? "--max-write-block" : "--max-read-block";
            long ms = rh_scn_parse_duration(optarg);
            if (ms <= 0)
                return rh_cli_usage_error("check", "%s takes a duration such as 500ms, 2s or 1min, not '%s'", flag,
                                          optarg);
            *(c == O_MAXBLOCK ? &o.max_block_ms : c == O_MAXWRITE ? &o.max_write_block_ms : &o.max_read_block_ms) = ms;
            break;
        }
        case O_FILLMAX:
            if (rh_scale_parse_count(optarg, &o.fill_max) < 0 || o.fill_max == 0)
                return rh_cli_usage_error("check", "--fill-max takes a row count such as 100000 or 1M, not '%s'", optarg);
            break;
        case O_KEEP: o.keep = 1; break;
        case O_NOCACHE: o.no_cache = 1; break;
        case O_SUPERUSER: o.superuser = 1; break;
        case O_TIMEOUT:
            timeout_ms = rh_scn_parse_duration(optarg); /* 0: no limit */
            if (timeout_ms < 0)
                return rh_cli_usage_error("check", "--timeout takes a duration such as 90s, 10min or 0 (none), not '%s'",
                                          optarg);
            break;
        case O_PGBIN: o.pg_bin = optarg; break;
        case O_PGVER: o.pg_version = optarg; break;
        case O_COLOR: color = 1; break;
        case O_NOCOLOR: color = 0; break;
        case 'h':
        case O_HELP: help(stdout); return RH_EXIT_OK;
        default:
            return rh_cli_usage_error("check", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return rh_cli_usage_error("check", "unexpected argument '%s'", argv[optind]);
    if (strcmp(format, "human") != 0 && strcmp(format, "json") != 0 && strcmp(format, "junit") != 0 &&
        strcmp(format, "markdown") != 0 && strcmp(format, "sarif") != 0 && strcmp(format, "html") != 0)
        return rh_cli_usage_error("check", "--format takes human, json, junit, markdown, sarif or html, not '%s'",
                                  format);
    if ((o.max_block_ms > 0 || o.max_write_block_ms > 0 || o.max_read_block_ms > 0 || o.fill_max > 0) && !scale_file &&
        !nrows)
        return rh_cli_usage_error("check", "--max-block, --max-write-block, --max-read-block and --fill-max need --scale FILE or "
                                  "--rows TABLE=N: waits are measured on tables filled to production's size");
    const rh_tool *tool = NULL;
    if (tool_name && !(tool = rh_tool_find(tool_name))) {
        char names[256];
        return rh_cli_usage_error("check", "--tool %s: no such migration tool (known: %s)", tool_name,
                                  rh_tool_names(names, sizeof names));
    }
    if (!tool) { /* detected at head: another tool's folder, else the default tool as before */
        char why[1024];
        rh_err derr;
        tool = rh_tool_detect_rev(o.repo ? o.repo : ".", o.head ? o.head : "WORKTREE", o.migrations, why, sizeof why,
                                  &derr);
        if (!tool)
            return rh_cli_usage_error("check", "%s", derr.msg);
        if (tool != RH_TOOL_DEFAULT)
            rh_cli_errorf("rehearse: note: %s (detected; give --tool NAME to say otherwise)\n", why);
    }
    if (tool != RH_TOOL_DEFAULT) {
        const char *refused = tool->external ? "check needs a tool rehearse can play, not a command"
                              : o.tool_version ? "--prisma-version is Prisma's"
                                                 : NULL;
        if (refused)
            return rh_cli_usage_error("check", "--tool %s: %s", tool->name, refused);
    }
    if (output) {
        color = 0;
        /* a report that cannot be written must not be found out after the whole check ran */
        int fd = open(output, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || close(fd) < 0)
            return rh_cli_usage_error("check", "--output %s: %s", output, strerror(errno));
    }

    rh_check_result res;
    rh_err err;
    rh_err_clear(&err);
    rh_scale scale = {0};
    int scale_bad = scale_file && rh_scale_load(&scale, scale_file, &err) < 0;
    for (size_t i = 0; i < nrows && !scale_bad; i++)
        scale_bad = rh_scale_add_rows(&scale, rows[i], &err) < 0;
    if (scale_bad) {
        rh_scale_free(&scale);
        return rh_cli_usage_error("check", "%s", err.msg);
    }
    o.scale = scale_file || nrows ? &scale : NULL;
    if (timeout_ms > 0)
        rh_cli_time_limit("check", timeout_ms);
    int run_rc = rh_check_run_versions(tool, &o, &res, &err);
    rh_scale_free(&scale);
    if (run_rc < 0) {
        rh_cli_errorf("rehearse check: %s\n", err.msg);
        rh_check_result_free(&res);
        return RH_EXIT_USAGE;
    }
    rh_buf out;
    rh_buf_init(&out);
    if (strcmp(format, "json") == 0)
        rh_check_format_json(&res, &out);
    else if (strcmp(format, "junit") == 0)
        rh_check_format_junit(&res, fail_on, &out);
    else if (strcmp(format, "markdown") == 0)
        rh_report_check_markdown(&res, fail_on, &out);
    else if (strcmp(format, "sarif") == 0)
        rh_report_check_sarif(&res, &out);
    else if (strcmp(format, "html") == 0)
        rh_report_check_html(&res, fail_on, &out);
    else
        rh_check_format_human(&res, color, &out);
    int rc = rh_check_count(&res, fail_on) ? RH_EXIT_FAIL : RH_EXIT_OK;
    if (output) {
        if (rh_fs_write(output, out.data, out.len, 0644, &err) < 0) {
            rh_cli_errorf("rehearse check: --output: %s\n", err.msg);
            rc = RH_EXIT_USAGE;
        }
        if (strcmp(format, "human") != 0) { /* the CI log still gets the summary */
            rh_buf h;
            rh_buf_init(&h);
            rh_check_format_human(&res, isatty(STDOUT_FILENO), &h);
            fwrite(h.data, 1, h.len, stdout);
            rh_buf_free(&h);
        }
    } else {
        fwrite(out.data, 1, out.len, stdout);
    }
    const char *summary = getenv("GITHUB_STEP_SUMMARY");
    if (summary && *summary) { /* the job's summary page: the same text as a pull-request comment */
        rh_buf md;
        rh_buf_init(&md);
        rh_report_check_markdown(&res, fail_on, &md);
        if (rh_fs_append(summary, md.data, md.len, &err) < 0)
            rh_cli_errorf("rehearse check: GITHUB_STEP_SUMMARY: %s\n", err.msg);
        rh_buf_free(&md);
    }
    if (github) {
        rh_buf gh;
        rh_buf_init(&gh);
        rh_check_format_github(&res, &gh);
        /* on stderr (GitHub reads both): stdout may hold a JSON or XML report that must still parse */
        fflush(stdout);
        fwrite(gh.data, 1, gh.len, stderr);
        rh_buf_free(&gh);
    }
    fflush(stdout);
    rh_buf_free(&out);
    rh_check_result_free(&res);
    return rc;
}
