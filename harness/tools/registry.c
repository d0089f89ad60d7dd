/*
 * registry.c — the registered migration tools: one line per tool in RH_TOOL_LIST, and the lookups
 * every command uses (by name, by folder).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tool.h"
#include "source/git.h"
#include "source/history.h"
#include "source/folder.h"
#include "util/fs.h"
#include "report/escape.h"

/* One line per tool: X(NAME) names the descriptor rh_tool_NAME defined in tools/NAME/. */
#define RH_TOOL_LIST \
    X(prisma)        \
    X(dbmate)        \
    X(drizzle)       \
    X(command)

#define X(n) extern const rh_tool rh_tool_##n;
RH_TOOL_LIST
#undef X

#define X(n) &rh_tool_##n,
const rh_tool *const rh_tools[] = {RH_TOOL_LIST NULL};
#undef X

const rh_tool *rh_tool_find(const char *name)
{
    for (size_t i = 0; name && rh_tools[i]; i++)
        if (strcmp(rh_tools[i]->name, name) == 0)
            return rh_tools[i];
    return NULL;
}

void rh_tool_history_changed(const rh_tool *tool, rh_git_history *h)
{
    size_t *renames = tool->history_findings ? rh_tool_renames(tool, h) : NULL;
    for (size_t i = 0; i < h->a.n; i++) {
        const rh_migration *ma = &h->a.items[i], *mb = rh_migset_find(&h->b, ma->name);
        int renamed = 0;
        for (size_t j = 0; renames && j < h->b.n && !renamed; j++)
            renamed = renames[j] == i + 1;
        if (!mb && !renamed)
            rh_hist_add(h, RH_HIST_REMOVED, 1, ma->name, NULL, NULL,
                        "%s exists at %s but not at %s: a database deployed at %s keeps what it did and its ledger "
                        "row; `%s` does not undo it",
                        ma->name, h->from.label, h->to.label, h->from.label, tool->verbs[0].tool_says);
        else if (mb && strcmp(ma->checksum, mb->checksum) != 0)
            rh_hist_add(h, RH_HIST_EDITED, 1, mb->name, NULL,
                        rh_xasprintf("%s/%s%s", h->migrations, mb->name, tool->file_suffix ? tool->file_suffix : ""),
                        "%s was edited between %s and %s (SHA-256 %.12s... -> %.12s...): a database deployed at %s "
                        "never runs the new version, and `%s` does not say so (exit 0)",
                        mb->name, h->from.label, h->to.label, ma->checksum, mb->checksum, h->from.label,
                        tool->verbs[0].tool_says);
    }
    free(renames);
}

const rh_tool *rh_tool_for_error_code(const char *code)
{
    for (size_t i = 0; code && rh_tools[i]; i++)
        if (rh_tools[i]->is_error_code && rh_tools[i]->is_error_code(code))
            return rh_tools[i];
    return NULL;
}

const rh_tool_verb *rh_tool_verb_find(const rh_tool *tool, const char *verb)
{
    for (const rh_tool_verb *v = tool->verbs; v && v->name; v++)
        if (strcmp(v->name, verb) == 0)
            return v;
    return NULL;
}

const char *rh_tool_ledger_parts(const char *ledger_table, char *schema, size_t size)
{
    assert(size > 0);
    schema[0] = '\0';
    if (!ledger_table)
        return NULL;
    const char *dot = strchr(ledger_table, '.');
    if (!dot)
        return ledger_table;
    snprintf(schema, size, "%.*s", (int)(dot - ledger_table), ledger_table);
    return dot + 1;
}

int rh_tool_run(const rh_tool *tool, const char *verb, PGconn *conn, const rh_migset *set, const char *arg,
                const rh_engine_opts *opts, rh_engine_result *res, rh_err *err)
{
    const rh_tool_verb *v = rh_tool_verb_find(tool, verb);
    if (!v)
        return rh_err_set(err, "%s has no `%s` command rehearse can play", tool->name, verb);
    return v->run(conn, set, arg, opts, res, err);
}

/*
 * A folder no tool claims that still holds migrations of some tool rehearse does not know: .sql files and
 * no sub-folder (Flyway's V1__init.sql, golang-migrate's 1_init.up.sql ...). The first such file, malloc'd;
 * NULL when the folder is empty, holds folders (Prisma's own problems, P3015, are its loader's to say) or
 * nothing that looks like SQL.
 */
static char *foreign_sql(rh_folder *f)
{
    rh_folder_entry *e = NULL;
    size_t n = 0;
    rh_err err;
    if (rh_folder_list(f, "", &e, &n, &err) < 0)
        return NULL;
    const char *first = NULL;
    int has_dir = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(e[i].name);
        has_dir |= e[i].kind == RH_ENTRY_DIR || e[i].kind == RH_ENTRY_GITLINK;
        if (!first && e[i].kind != RH_ENTRY_DIR && len > 4 && strcmp(e[i].name + len - 4, ".sql") == 0)
            first = e[i].name;
    }
    char *out = first && !has_dir ? rh_xstrdup(first) : NULL;
    rh_folder_entries_free(e, n);
    return out;
}

/* The one tool that claims f; RH_TOOL_DEFAULT when none does; NULL with err (where: the folder as the user
   names it) when two do or it holds an unknown tool's files. */
static const rh_tool *detect_in(rh_folder *f, const char *where, rh_err *err)
{
    const rh_tool *found = NULL;
    for (size_t i = 0; rh_tools[i]; i++) {
        if (!rh_tools[i]->detect(f))
            continue;
        if (found) {
            rh_err_set(err, "%s: holds both %s and %s migrations; say which with --tool NAME", where, found->name,
                       rh_tools[i]->name);
            return NULL;
        }
        found = rh_tools[i];
    }
    if (found)
        return found;
    char *odd = foreign_sql(f);
    if (!odd)
        return RH_TOOL_DEFAULT;
    char names[256];
    rh_err_set(err, "%s: no known migration tool's files here (known: %s): %s is none of theirs; say which with "
                    "--tool NAME, or run your own tool with --migrate-command CMD", where,
               rh_tool_names(names, sizeof names), odd);
    free(odd);
    return NULL;
}

const rh_tool *rh_tool_detect_dir(const char *dir, rh_err *err)
{
    rh_folder *f = NULL;
    rh_err ferr;
    if (rh_folder_open_dir(&f, dir, &ferr) < 0)
        return RH_TOOL_DEFAULT; /* no folder: its loader says what is wrong with it */
    const rh_tool *t = detect_in(f, dir, err);
    rh_folder_close(f, 0, NULL);
    return t;
}

int rh_tool_find_folder(const rh_tool *tool, rh_git_repo *repo, const rh_git_rev *rev, char **out, rh_err *err)
{
    if (tool->find_folder)
        return tool->find_folder(repo, rev, out, err);
    *out = rh_xstrdup(tool->default_migrations);
    return 0;
}

char *rh_tool_database_url(const rh_tool *tool, const char *url, char **schema, rh_err *err)
{
    *schema = NULL;
    return tool->database_url ? tool->database_url(url, schema, err) : rh_xstrdup(url);
}

int rh_tool_checksum_matches(const rh_tool *tool, const char *stored, const rh_migration *m)
{
    if (!stored || !m->sql)
        return 0;
    if (tool->checksum_matches)
        return tool->checksum_matches(stored, m);
    return strcmp(stored, m->checksum) == 0;
}

int rh_tool_row_is(const rh_tool *tool, const rh_ledger_row *row, const rh_migration *m)
{
    if (tool->ledger_row_is)
        return tool->ledger_row_is(row, m);
    return strcmp(row->migration_name, m->name) == 0;
}

int rh_tool_plan(const rh_tool *tool, const rh_migration *m, const rh_profile *profile, rh_plan *plan, rh_buf *out)
{
    memset(plan, 0, sizeof *plan);
    if (!tool->plan_file)
        return 0;
    rh_buf scratch;
    rh_buf_init(&scratch);
    int rc = tool->plan_file(m, profile, plan, out ? out : &scratch);
    rh_buf_free(&scratch);
    return rc;
}

const char *rh_tool_verb_names(const rh_tool *tool, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (const rh_tool_verb *v = tool->verbs; v && v->name && len < size; v++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "", v->name);
    return out;
}

const char *rh_tool_names(char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; rh_tools[i] && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? ", " : "", rh_tools[i]->name);
    return out;
}

/* Does `tool` claim the folder `path` at rev (from git's object database; WORKTREE: on disk)? */
static int claims_at(rh_git_repo *repo, const rh_git_rev *rev, const rh_tool *tool, const char *path, rh_err *err)
{
    rh_folder *f = NULL;
    rh_err ferr;
    if (rh_folder_open_rev(&f, repo, rev, path, &ferr) < 0)
        return strstr(ferr.msg, "git fsck") ? rh_err_set(err, "%s", ferr.msg) : 0; /* damage is not "absent" */
    int yes = tool->detect(f);
    return rh_folder_close(f, yes, err);
}

const rh_tool *rh_tool_detect_rev(const char *repo_path, const char *rev_spec, const char *migrations, char *why,
                                  size_t why_size, rh_err *err)
{
    rh_git_repo *repo = NULL;
    if (rh_git_open(&repo, repo_path, err) < 0)
        return NULL;
    rh_git_rev rev;
    if (rh_git_resolve(repo, rev_spec, &rev, err) < 0) {
        rh_git_close(repo);
        return NULL;
    }
    const rh_tool *found = NULL;
    const char *found_path = NULL;
    why[0] = '\0';
    for (size_t i = 0; rh_tools[i]; i++) {
        const rh_tool *t = rh_tools[i];
        const char *path = migrations ? migrations : t->default_migrations;
        int yes = t->external || !path[0] ? 0 : claims_at(repo, &rev, t, path, err);
        if (yes < 0) {
            rh_git_close(repo);
            return NULL;
        }
        if (!yes)
            continue;
        if (found) {
            rh_err_set(err, "at %s, %s holds %s migrations and %s holds %s migrations; say which with --tool NAME",
                       rev.label, found_path, found->name, path, t->name);
            rh_git_close(repo);
            return NULL;
        }
        found = t;
        found_path = path;
        snprintf(why, why_size, "%s at %s holds %s migrations (%s)", path, rev.label, t->name,
                 t->detected_by ? t->detected_by : "its folder layout");
    }
    if (!found && migrations) { /* the folder the user named: no tool's, or an unknown tool's */
        rh_folder *f = NULL;
        rh_err ferr;
        char *where = rh_xasprintf("%s at %s", migrations, rev.label);
        if (rh_folder_open_rev(&f, repo, &rev, migrations, &ferr) == 0) {
            found = detect_in(f, where, err);
            if (rh_folder_close(f, 0, err) < 0)
                found = NULL;
        } else if (strstr(ferr.msg, "git fsck")) {
            rh_err_set(err, "%s", ferr.msg); /* damage is not "absent" */
        } else {
            found = RH_TOOL_DEFAULT; /* absent, or not a folder: the default loader says so */
        }
        free(where);
        if (!found) {
            rh_git_close(repo);
            return NULL;
        }
    }
    rh_git_close(repo);
    if (!found || (found == RH_TOOL_DEFAULT && !why[0])) {
        snprintf(why, why_size, "no other tool's folder at %s", rev_spec);
        return RH_TOOL_DEFAULT;
    }
    return found;
}
