/* cmd_plan.c — `rehearse plan`: how a Prisma version sends each migration (whole or statement by statement). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tools/tool.h"
#include "migrations/plan.h"
#include "report/plan.h"
#include "source/loader.h"
#include "util/buf.h"
#include "util/fs.h"

static void help(void)
{
    printf("usage: rehearse plan (--migrations-dir DIR | --repo DIR [--rev REV] [--migrations PATH])\n"
           "                     [--base REV] [--prisma-version V] [--format human|json|markdown]\n"
           "       rehearse plan --sql FILE... | --sql-from LIST\n\n"
           "For each migration at a revision (with --base: each one the base revision does not have), how the\n"
           "Prisma version (detected at the revision, or --prisma-version) sends it: one implicit transaction\n"
           "(atomic; CREATE INDEX CONCURRENTLY fails with 25001 beside other statements), N autocommit\n"
           "statements (Prisma >= 7.4 when sqlparser 0.61 parses the whole file: not atomic, CONCURRENTLY\n"
           "allowed), or one implicit transaction because sqlparser rejects a statement (which, and where).\n\n"
           "With --sql: for each SQL file, how Prisma >= 7.4 sends it: statement by statement in autocommit when the\n"
           "Rust crate sqlparser 0.61 (PostgreSQL dialect) parses the whole file, else the whole file as\n"
           "one query (one implicit transaction). One line per file, tab-separated:\n"
           "  split  N     FILE            (N statements, each its own transaction)\n"
           "  whole  LINE  FILE  REASON    (LINE: the first statement sqlparser rejects; 0: the file)\n"
           "--sql-from LIST reads the file names from LIST, one per line (- for standard input).\n");
}

static int decide_one(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    rh_err err;
    rh_err_clear(&err);
    if (rh_fs_read(path, &data, &len, &err) != 0) {
        rh_cli_errorf("rehearse plan: %s: %s\n", path, err.msg);
        return -1;
    }
    /* the default tool at a profile that splits files: does its splitter take this one? */
    rh_profile splits = {.exec = RH_EXEC_SPLIT_STATEMENTS};
    rh_migration m = {.name = (char *)path, .sql = data, .sql_len = len};
    rh_plan plan;
    rh_tool_plan(RH_TOOL_DEFAULT, &m, &splits, &plan, NULL);
    free(data);
    /* the splitter's decision, which is what this prints: a file it takes but PostgreSQL's parser rejects
       (COPY ... FROM STDIN with its data, psql's :var) is planned whole, as the engine sends it, yet the
       splitter said split (under the split profile, plain whole comes only from that) */
    if (plan.mode == RH_SEND_STATEMENTS || (plan.mode == RH_SEND_WHOLE && plan.rejected[0]))
        printf("split\t%zu\t%s\n", plan.n_parts, path);
    else
        printf("whole\t%d\t%s\t%s\n", plan.fallback_line, path, plan.fallback_reason);
    return 0;
}

static int from_list(const char *list)
{
    FILE *f = strcmp(list, "-") == 0 ? stdin : fopen(list, "r");
    if (!f) {
        rh_cli_errorf("rehearse plan: cannot open %s\n", list);
        return RH_EXIT_USAGE;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = RH_EXIT_OK;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n > 0 && decide_one(line) != 0)
            rc = RH_EXIT_USAGE;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* plan for a tool other than the default: each (new) migration as the tool sends it, in the plan's writers. */
static int plan_tool(const rh_tool *t, const rh_load_spec *spec, const char *base, const char *format)
{
    if (!t->plan_file)
        return rh_cli_usage_error("plan", "--tool %s: the tool has no plan", t->name);
    rh_err err;
    rh_err_clear(&err);
    rh_migset head = {0}, old = {0};
    int have_old = 0;
    rh_load_spec hspec = *spec;
    hspec.tool = t;
    hspec.tool_version = NULL; /* --prisma-version names the default tool's version: not this tool's */
    if (rh_source_load_set(&hspec, &head, NULL, &err) < 0) {
        rh_cli_errorf("rehearse plan: %s\n", err.msg);
        return RH_EXIT_USAGE;
    }
    if (base) {
        rh_load_spec bspec = hspec; /* the folder appears after base: every migration is new */
        bspec.rev = base;
        bspec.base = 1;
        if (rh_source_load_set(&bspec, &old, NULL, &err) < 0) {
            rh_cli_errorf("rehearse plan: --base: %s\n", err.msg);
            rh_migset_free(&head);
            return RH_EXIT_USAGE;
        }
        have_old = 1;
    }
    rh_plan_entry *e = rh_xcalloc(head.n + 1, sizeof *e);
    char **texts = rh_xcalloc(3 * head.n + 1, sizeof *texts); /* each entry's how, fails and file */
    size_t n = 0;
    for (size_t i = 0; i < head.n; i++) {
        const rh_migration *m = &head.items[i];
        if (have_old && rh_migset_find(&old, m->name))
            continue;
        rh_buf lines;
        rh_buf_init(&lines);
        rh_tool_plan(t, m, NULL, &e[n].plan, &lines);
        /* "NAME: how\n" then "NAME: why it fails\n"...: the words after each "NAME: " */
        rh_buf why;
        rh_buf_init(&why);
        size_t skip = strlen(m->name) + 2, k = 0;
        for (const char *p = lines.data; *p; k++) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            size_t off = len >= skip && strncmp(p, m->name, skip - 2) == 0 && p[skip - 2] == ':' ? skip : 0;
            if (k == 0)
                texts[3 * n] = rh_xstrndup(p + off, len - off);
            else
                rh_buf_printf(&why, "%s%.*s", why.len ? "; " : "", (int)(len - off), p + off);
            p += len + (nl ? 1 : 0);
        }
        texts[3 * n + 1] = why.len ? rh_buf_steal(&why) : NULL;
        rh_buf_free(&why);
        rh_buf_free(&lines);
        texts[3 * n + 2] = rh_xasprintf("%s%s", m->name, t->file_suffix ? t->file_suffix : "");
        e[n].name = m->name;
        e[n].how = texts[3 * n];
        e[n].fails = texts[3 * n + 1];
        e[n].file = texts[3 * n + 2];
        n++;
    }
    rh_plan_sender by = {.tool = t->name, .tool_says = t->verbs[0].tool_says};
    rh_buf out;
    rh_buf_init(&out);
    if (strcmp(format, "json") == 0)
        rh_report_plan_json(&by, e, n, &out);
    else if (strcmp(format, "markdown") == 0) /* links only when the folder is relative to a repository */
        rh_report_plan_markdown(&by, spec->repo ? (spec->migrations ? spec->migrations : t->default_migrations) : NULL,
                                e, n, &out);
    else
        rh_report_plan_human(&by, e, n, &out);
    fwrite(out.data, 1, out.len, stdout);
    rh_buf_free(&out);
    for (size_t i = 0; i < 3 * n; i++)
        free(texts[i]);
    free(texts);
    free(e);
    rh_migset_free(&head);
    if (have_old)
        rh_migset_free(&old);
    return RH_EXIT_OK;
}

static int plan_revision(int argc, char **argv)
{
    rh_load_spec spec = {0};
    const char *base = NULL, *format = "human", *tool_name = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = strcmp(a, "--migrations-dir") == 0 ? &spec.dir
                          : strcmp(a, "--repo") == 0            ? &spec.repo
                          : strcmp(a, "--rev") == 0             ? &spec.rev
                          : strcmp(a, "--migrations") == 0      ? &spec.migrations
                          : strcmp(a, "--prisma-version") == 0  ? &spec.tool_version
                          : strcmp(a, "--base") == 0            ? &base
                          : strcmp(a, "--format") == 0          ? &format
                          : strcmp(a, "--tool") == 0            ? &tool_name
                                                                : NULL;
        if (!slot)
            return rh_cli_usage_error("plan", "unknown option '%s'", a);
        if (!v)
            return rh_cli_usage_error("plan", "%s needs a value", a);
        *slot = v;
        i++;
    }
    if (!spec.dir == !spec.repo)
        return rh_cli_usage_error("plan", "give --migrations-dir DIR or --repo DIR");
    if (strcmp(format, "human") != 0 && strcmp(format, "json") != 0 && strcmp(format, "markdown") != 0)
        return rh_cli_usage_error("plan", "--format is human, json or markdown, not '%s'", format);
    if (base && !spec.repo)
        return rh_cli_usage_error("plan", "--base needs --repo");
    if (spec.repo && !spec.rev)
        spec.rev = "HEAD";
    rh_err err;
    rh_err_clear(&err);
    const rh_tool *tool = tool_name ? rh_tool_find(tool_name) : NULL;
    char names[256], why[1024];
    if (tool_name && !tool)
        return rh_cli_usage_error("plan", "--tool %s: no such migration tool (known: %s)", tool_name,
                                  rh_tool_names(names, sizeof names));
    if (!tool && spec.repo) { /* detected at the revision */
        if (!(tool = rh_tool_detect_rev(spec.repo, spec.rev, spec.migrations, why, sizeof why, &err)))
            return rh_cli_usage_error("plan", "%s", err.msg);
        if (tool != RH_TOOL_DEFAULT)
            rh_cli_errorf("rehearse: note: %s (detected; give --tool NAME to say otherwise)\n", why);
    } else if (!tool) { /* a folder: detected as deploy does; none claims it: the default tool */
        if (!(tool = rh_tool_detect_dir(spec.dir, &err)))
            return rh_cli_usage_error("plan", "%s", err.msg);
        if (tool != RH_TOOL_DEFAULT) /* as deploy says it */
            rh_cli_errorf("rehearse: note: %s holds %s migrations (%s) (detected; give --tool NAME to say otherwise)\n",
                          spec.dir, tool->name, tool->detected_by ? tool->detected_by : "its folder layout");
    }
    if (tool != RH_TOOL_DEFAULT)
        return plan_tool(tool, &spec, base, format);
    rh_loaded head = {0}, old = {0};
    if (rh_source_load(&spec, &head, &err) < 0) {
        rh_cli_errorf("rehearse plan: %s\n", err.msg);
        return RH_EXIT_USAGE;
    }
    if (base) {
        rh_load_spec bspec = spec;
        bspec.rev = base;
        bspec.tool_version = head.choice.profile.version; /* head's Prisma runs the new migrations */
        bspec.base = 1; /* the folder appears after base: every migration is new (as another tool's plan) */
        if (rh_source_load(&bspec, &old, &err) < 0) {
            rh_cli_errorf("rehearse plan: --base: %s\n", err.msg);
            rh_loaded_free(&head);
            return RH_EXIT_USAGE;
        }
    }
    if (head.choice.note[0])
        rh_cli_errorf("rehearse: note: %s; behaving as Prisma %s (give --prisma-version)\n", head.choice.note,
                head.choice.profile.version);
    rh_plan_entry *e = rh_xcalloc(head.set.n + 1, sizeof *e);
    size_t n = 0;
    for (size_t i = 0; i < head.set.n; i++) {
        const rh_migration *m = &head.set.items[i];
        if (!m->sql || (base && rh_migset_find(&old.set, m->name)))
            continue;
        e[n].name = m->name;
        rh_tool_plan(tool, m, &head.choice.profile, &e[n].plan, NULL);
        n++;
    }
    rh_buf out;
    rh_buf_init(&out);
    rh_plan_sender by = {.profile = &head.choice.profile, .from = head.choice.from, .source = head.choice.source};
    if (strcmp(format, "json") == 0)
        rh_report_plan_json(&by, e, n, &out);
    else if (strcmp(format, "markdown") == 0) /* links only when the folder is relative to a repository */
        rh_report_plan_markdown(&by, spec.repo ? head.migrations : NULL, e, n, &out);
    else
        rh_report_plan_human(&by, e, n, &out);
    fwrite(out.data, 1, out.len, stdout);
    rh_buf_free(&out);
    free(e);
    rh_loaded_free(&old);
    rh_loaded_free(&head);
    return RH_EXIT_OK;
}

int rh_cmd_plan(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        help();
        return argc < 2 ? RH_EXIT_USAGE : RH_EXIT_OK;
    }
    if (strcmp(argv[1], "--sql-from") != 0 && strcmp(argv[1], "--sql") != 0)
        return plan_revision(argc, argv);
    if (strcmp(argv[1], "--sql-from") == 0) {
        if (argc != 3)
            return rh_cli_usage_error("plan", "--sql-from takes one file name");
        return from_list(argv[2]);
    }
    if (strcmp(argv[1], "--sql") != 0 || argc < 3)
        return rh_cli_usage_error("plan", "expected --sql FILE... or --sql-from LIST");
    int rc = RH_EXIT_OK;
    for (int i = 2; i < argc; i++)
        if (decide_one(argv[i]) != 0)
            rc = RH_EXIT_USAGE;
    fflush(stdout);
    return rc;
}
