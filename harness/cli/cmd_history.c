/*
 * cmd_history.c — `rehearse history`: what changed in the migrations folder between two
 * revisions, with the hazards a database deployed at the first one meets at the second.
 * Exit 0 no hazard, 1 hazards found, 2 usage or setup error.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "source/loader.h"
#include "tools/tool.h"
#include "report/escape.h"
#include "report/history_markdown.h"
#include "report/sarif.h"
#include "source/git.h"
#include "source/history.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: rehearse history [--repo DIR] --from A --to B [--migrations PATH] [--format human|json|sarif|markdown]\n"
            "                        [--prisma-version V | --tool NAME]\n\n"
            "What changed in a Prisma migrations folder between two revisions, and its hazards:\n"
            "migrations removed, renamed, edited after they could have been applied, added before the last\n"
            "migration of A (applied out of order), folders without migration.sql (P3015), names that byte\n"
            "order (Prisma < 6.6) and ICU order (>= 6.6) sort differently, symlinks, submodules and names\n"
            "with invisible characters. Added migrations are listed as notes.\n\n"
            "  --repo DIR            the git repository (any folder inside it; bare too); default: .\n"
            "  --from A, --to B      revisions: sha, tag, branch, HEAD~2, ... or WORKTREE (files on disk)\n"
            "  --migrations PATH     the folder, from the repository root; default: Prisma's default at B\n"
            "  --format F            human (default) | json | sarif (SARIF 2.1.0, code scanning) | markdown\n"
            "  --prisma-version V    the order to judge by; default: the version B's package.json uses.\n"
            "                        V: a version (6.19.3, 6.6, 5) or an npm range, read as its minimum\n"
            "                        (^5.22.0, ~6.6, >=6.6 <7, 6.x); not 'latest', 'x' or '*' (exit 2)\n"
            "  --tool NAME           another tool's folder (docs/tools.md) and its own hazards, e.g. drizzle:\n"
            "                        an entry merged with an older journal `when` (human output only)\n\n"
            "exit: 0 no hazard, 1 hazards found, 2 usage or setup error\n");
}

static json_object *rev_json(const rh_git_rev *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "rev", json_object_new_string(r->spec));
    json_object_object_add(o, "sha", r->worktree ? NULL : json_object_new_string(r->sha));
    json_object_object_add(o, "label", json_object_new_string(r->label));
    return o;
}

static json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static void print_json(const rh_git_history *h, const char *repo)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "repo", json_object_new_string(repo));
    json_object_object_add(o, "migrations", json_object_new_string(h->migrations));
    json_object_object_add(o, "from", rev_json(&h->from));
    json_object_object_add(o, "to", rev_json(&h->to));
    json_object *p = NULL;
    if (h->tool) { /* another tool: named, no Prisma profile */
        json_object_object_add(o, "tool", json_object_new_string(h->tool));
    } else {
        p = json_object_new_object();
        json_object_object_add(p, "version", json_object_new_string(h->profile.version));
        json_object_object_add(p, "order", json_object_new_string(h->profile.order == RH_ORDER_ICU ? "icu" : "bytes"));
        json_object_object_add(p, "source", json_object_new_string(h->profile_source));
    }
    json_object_object_add(o, "prisma", p);
    json_object *c = json_object_new_object();
    json_object_object_add(c, "from", json_object_new_int64((int64_t)h->a.n));
    json_object_object_add(c, "to", json_object_new_int64((int64_t)h->b.n));
    json_object_object_add(c, "hazards", json_object_new_int64((int64_t)h->n_hazards));
    json_object_object_add(c, "notes", json_object_new_int64((int64_t)(h->n - h->n_hazards)));
    json_object_object_add(o, "counts", c);
    json_object_object_add(o, "folder_missing_at_from", json_object_new_boolean(h->a_missing));
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < h->n; i++) {
        const rh_hist_finding *f = &h->items[i];
        json_object *fo = json_object_new_object();
        json_object_object_add(fo, "kind", json_object_new_string(rh_hist_code(f)));
        json_object_object_add(fo, "hazard", json_object_new_boolean(f->hazard));
        json_object_object_add(fo, "name", str_or_null(f->name));
        json_object_object_add(fo, "other", str_or_null(f->other));
        json_object_object_add(fo, "file", str_or_null(f->file));
        json_object_object_add(fo, "message", json_object_new_string(f->message));
        if (f->kind == RH_HIST_ORDER_DIFFERS) {
            /* every name the migration moves past (the message names only the first few) */
            json_object *oa = json_object_new_array();
            for (size_t k = 0; k < f->n_others; k++)
                json_object_array_add(oa, json_object_new_string(f->others[k]));
            json_object_object_add(fo, "others", oa);
        }
        json_object_array_add(arr, fo);
    }
    json_object_object_add(o, "findings", arr);
    /* the report module's JSON rule: names that are not UTF-8 still make a document that parses */
    rh_buf out;
    rh_buf_init(&out);
    rh_report_json_write(o, &out);
    fwrite(out.data, 1, out.len, stdout);
    rh_buf_free(&out);
    json_object_put(o);
}

static void print_human(const rh_git_history *h)
{
    int tty = isatty(STDOUT_FILENO);
    const char *red = tty ? "\033[31m" : "", *dim = tty ? "\033[2m" : "", *off = tty ? "\033[0m" : "";
    rh_buf b; /* names and messages come from the repository: rh_report_term_printf shows their controls */
    rh_buf_init(&b);
    rh_report_term_printf(&b, "%s from %s to %s\n", *h->migrations ? h->migrations : ".", h->from.label, h->to.label);
    if (h->tool)
        rh_report_term_printf(&b, "  tool %s: its own hazards, and files edited or removed after apply\n", h->tool);
    else
        rh_report_term_printf(&b, "  order of Prisma %s (%s), from %s\n", h->profile.version,
                              h->profile.order == RH_ORDER_ICU ? "ICU collation" : "byte order", h->profile_source);
    if (h->a_missing)
        rh_report_term_printf(&b, "  the folder does not exist at %s: every migration counts as added\n", h->from.label);
    rh_report_term_printf(&b, "  %zu migration(s) at %s, %zu at %s\n\n", h->a.n, h->from.label, h->b.n, h->to.label);
    /* hazards first, then notes */
    for (int pass = 1; pass >= 0; pass--) {
        for (size_t i = 0; i < h->n; i++) {
            const rh_hist_finding *f = &h->items[i];
            if (f->hazard != pass)
                continue;
            rh_buf_printf(&b, "%s%-6s %-13s%s ", pass ? red : dim, pass ? "hazard" : "note", rh_hist_code(f), off);
            rh_report_term_printf(&b, "%s\n", f->file ? f->file : "");
            rh_report_term_printf(&b, "       %s\n", f->message);
            /* an order difference against several migrations lists them, one a line */
            if (f->n_others > 1)
                for (size_t k = 0; k < f->n_others; k++)
                    rh_report_term_printf(&b, "         - %s\n", f->others[k]);
        }
    }
    size_t notes = h->n - h->n_hazards;
    if (h->n)
        rh_report_term_printf(&b, "\n");
    if (h->n_hazards)
        rh_report_term_printf(&b, "%zu hazard(s), %zu note(s)\n", h->n_hazards, notes);
    else
        rh_report_term_printf(&b, "no hazards (%zu note(s))\n", notes);
    fwrite(b.data, 1, b.len, stdout);
    rh_buf_free(&b);
}

/*
 * history --tool NAME (not the default tool): both revisions' sets through the tool, its own hazards
 * (rh_tool.history_findings) and the files edited or removed after --from, in
 * the history model every format prints. A folder absent at --from: everything is new.
 */
static int tool_history(const rh_tool *tool, rh_git_repo *g, const char *repo, const char *from, const char *to,
                        const char *migrations, rh_git_history *h, rh_err *err)
{
    memset(h, 0, sizeof *h);
    h->tool = tool->name;
    h->migrations = rh_xstrdup(migrations ? migrations : tool->default_migrations);
    if (rh_git_resolve(g, from, &h->from, err) < 0)
        return rh_err_prefix(err, "--from");
    if (rh_git_resolve(g, to, &h->to, err) < 0)
        return rh_err_prefix(err, "--to");
    rh_load_spec spec = {.tool = tool, .git = g, .resolved = &h->from, .migrations = h->migrations, .base = 1};
    if (rh_source_load_set(&spec, &h->a, &h->a_missing, err) < 0)
        return rh_err_prefix(err, "--from %s", from);
    spec.resolved = &h->to;
    spec.base = 0;
    if (rh_source_load_set(&spec, &h->b, NULL, err) < 0)
        return rh_err_prefix(err, "--to %s", to);
    rh_tool_history_changed(tool, h); /* what every tool shares: edited or removed after apply */
    if (tool->history_findings) /* the tool's own hazards, and what a rename does in it */
        tool->history_findings(h);
    size_t *renames = tool->history_findings ? rh_tool_renames(tool, h) : NULL;
    for (size_t j = 0; j < h->b.n; j++) /* the rest is new at --to: a note each, as the default tool's */
        if (!rh_migset_find(&h->a, h->b.items[j].name) && !(renames && renames[j]))
            rh_hist_add(h, RH_HIST_ADDED, 0, h->b.items[j].name, NULL, NULL, "%s is new at %s", h->b.items[j].name,
                        h->to.label);
    free(renames);
    return 0;
}

int rh_cmd_history(int argc, char **argv)
{
    static const struct option opts[] = {
        {"repo", required_argument, NULL, 'r'},       {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},         {"migrations", required_argument, NULL, 'm'},
        {"format", required_argument, NULL, 'F'},     {"prisma-version", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},             {"tool", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0}};
    const char *repo = ".", *from = NULL, *to = NULL, *format = "human";
    rh_git_history_opts ho = {0};
    const char *tool_name = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': repo = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'm': ho.migrations = optarg; break;
        case 'F': format = optarg; break;
        case 'p': ho.tool_version = optarg; break;
        case 'T': tool_name = optarg; break;
        case 'h': help(stdout); return RH_EXIT_OK;
        case ':': return rh_cli_usage_error("history", "%s needs a value", argv[optind - 1]);
        default: return rh_cli_usage_error("history", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return rh_cli_usage_error("history", "unexpected argument '%s'", argv[optind]);
    if (!from || !to)
        return rh_cli_usage_error("history", "--from A and --to B are both needed (revisions: sha, tag, branch, "
                                             "HEAD~1 or WORKTREE)");
    if (strcmp(format, "human") != 0 && strcmp(format, "json") != 0 && strcmp(format, "sarif") != 0 &&
        strcmp(format, "markdown") != 0)
        return rh_cli_usage_error("history", "--format must be human, json, sarif or markdown, not '%s'", format);

    const rh_tool *tool = tool_name ? rh_tool_find(tool_name) : NULL;
    if (tool_name && !tool) {
        char names[256];
        return rh_cli_usage_error("history", "--tool %s: no such migration tool (known: %s)", tool_name,
                                  rh_tool_names(names, sizeof names));
    }
    rh_err err;
    rh_err_clear(&err);
    rh_git_repo *g = NULL;
    if (rh_git_open(&g, repo, &err) < 0) {
        rh_cli_errorf("rehearse history: %s\n", err.msg);
        return RH_EXIT_USAGE;
    }
    rh_git_rev to_rev; /* a --to that does not resolve: the loader below says so, as before */
    if (!tool && !ho.tool_version && rh_git_resolve(g, to, &to_rev, &err) == 0) {
        /* detected at --to, as check detects at head (--prisma-version names the default tool) */
        char why[1024];
        if (!(tool = rh_tool_detect_rev(repo, to, ho.migrations, why, sizeof why, &err))) {
            rh_cli_errorf("rehearse history: %s\n", err.msg);
            rh_git_close(g);
            return RH_EXIT_USAGE;
        }
        if (tool != rh_tools[0])
            rh_cli_errorf("rehearse: note: %s (detected; give --tool NAME to say otherwise)\n", why);
    }
    rh_git_history h;
    if ((tool && tool != rh_tools[0] ? tool_history(tool, g, repo, from, to, ho.migrations, &h, &err)
                                     : rh_git_history_compute(g, from, to, &ho, &h, &err)) < 0) {
        rh_cli_errorf("rehearse history: %s\n", err.msg);
        if (tool && tool != rh_tools[0])
            rh_git_history_free(&h);
        rh_git_close(g);
        return RH_EXIT_USAGE;
    }
    if (strcmp(format, "json") == 0) {
        print_json(&h, repo);
    } else if (strcmp(format, "sarif") == 0 || strcmp(format, "markdown") == 0) {
        rh_buf rep;
        rh_buf_init(&rep);
        if (format[0] == 's')
            rh_report_history_sarif(&h, &rep);
        else
            rh_report_history_markdown(&h, &rep);
        fwrite(rep.data, 1, rep.len, stdout);
        rh_buf_free(&rep);
    } else {
        print_human(&h);
    }
    int rc = h.n_hazards ? RH_EXIT_FAIL : RH_EXIT_OK;
    rh_git_history_free(&h);
    rh_git_close(g);
    return rc;
}
