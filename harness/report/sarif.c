/*
 * sarif.c — check and history results as SARIF 2.1.0 (see sarif.h). Written as JSON through the
 * report module's one JSON rule (rh_report_json_write).
 */
#include "report/sarif.h"

#include <assert.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "report/escape.h"

static const char *const step_help[] = {
    ['a' - 'a'] = "(a) clean deploy of head: every migration at head must deploy on an empty database.",
    ['b' - 'a'] = "(b) upgrade path: head's migrations must deploy on a database where base's ran, as in production.",
    ['c' - 'a'] = "(c) the schema after the upgrade path must equal the schema of a clean deploy of head.",
    ['d' - 'a'] = "(d) history hazards between base and head: migrations edited or removed after they were "
                  "applied, added out of order, folders without migration.sql.",
    ['e' - 'a'] = "(e) new migrations run as production runs them (one transaction per file).",
    ['f' - 'a'] = "(f) locks and rewrites of new migrations: what each statement makes readers and writers "
                  "of existing tables wait for.",
    ['g' - 'a'] = "(g) seed data: the new migrations must deploy on the data loaded after base.",
};

static const char *help_of(char step)
{
    return step >= 'a' && step <= 'g' ? step_help[step - 'a'] : "rehearse check";
}

static const char *sarif_level(rh_check_level l)
{
    return l == RH_CHECK_ERROR ? "error" : l == RH_CHECK_WARNING ? "warning" : "note";
}

static json_object *text_obj(const char *key, const char *text)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, key, json_object_new_string(text ? text : ""));
    return o;
}

/* Where a finding without a file points: GitHub code scanning refuses a result without a location
   (SARIF 2.1.0 allows it), so the migration's folder, else the migrations folder, else the repository
   root ("./", relative to %SRCROOT% as the files are). A folder ends with '/' (SARIF 3.10.2 uri-reference). */
static char *folder_of(const char *migrations, const char *migration)
{
    rh_buf b;
    rh_buf_init(&b);
    if (migrations && *migrations) {
        rh_buf_puts(&b, migrations);
        if (b.data[b.len - 1] != '/')
            rh_buf_putc(&b, '/');
        if (migration && *migration)
            rh_buf_printf(&b, "%s/", migration);
    } else {
        rh_buf_puts(&b, "./");
    }
    return rh_buf_steal(&b);
}

/* One finding: its rule (added the first time its code is seen) and its result. file NULL: the result
   points at folder (folder_of) with no region. */
static void add_result(json_object *rules, json_object *results, const char *code, const char *help,
                       const char *level, const char *message, const char *detail, const char *file, int line,
                       const char *folder, json_object *props)
{
    assert(file || folder);
    size_t rule = 0, n_rules = json_object_array_length(rules);
    for (; rule < n_rules; rule++) {
        json_object *id = NULL;
        json_object_object_get_ex(json_object_array_get_idx(rules, rule), "id", &id);
        if (strcmp(json_object_get_string(id), code) == 0)
            break;
    }
    if (rule == n_rules) {
        json_object *ro = json_object_new_object();
        json_object_object_add(ro, "id", json_object_new_string(code));
        json_object_object_add(ro, "name", json_object_new_string(code));
        json_object_object_add(ro, "shortDescription", text_obj("text", help));
        json_object_object_add(ro, "help", text_obj("text", help));
        json_object *cfg = json_object_new_object();
        json_object_object_add(cfg, "level", json_object_new_string(level));
        json_object_object_add(ro, "defaultConfiguration", cfg);
        json_object_array_add(rules, ro);
    }
    json_object *res = json_object_new_object();
    json_object_object_add(res, "ruleId", json_object_new_string(code));
    json_object_object_add(res, "ruleIndex", json_object_new_int((int)rule));
    json_object_object_add(res, "level", json_object_new_string(level));
    rh_buf msg;
    rh_buf_init(&msg);
    rh_buf_puts(&msg, message ? message : "");
    if (detail)
        rh_buf_printf(&msg, "\n%s", detail);
    json_object_object_add(res, "message", text_obj("text", msg.data));
    rh_buf_free(&msg);
    json_object *art = json_object_new_object();
    rh_buf uri;
    rh_buf_init(&uri);
    rh_report_uri_path(&uri, file ? file : folder);
    json_object_object_add(art, "uri", json_object_new_string(uri.data));
    rh_buf_free(&uri);
    json_object_object_add(art, "uriBaseId", json_object_new_string("%SRCROOT%"));
    json_object *phys = json_object_new_object();
    json_object_object_add(phys, "artifactLocation", art);
    if (file) { /* a folder has no lines */
        json_object *region = json_object_new_object();
        json_object_object_add(region, "startLine", json_object_new_int(line > 0 ? line : 1));
        json_object_object_add(phys, "region", region);
    }
    json_object *loc = json_object_new_object();
    json_object_object_add(loc, "physicalLocation", phys);
    json_object *locs = json_object_new_array();
    json_object_array_add(locs, loc);
    json_object_object_add(res, "locations", locs);
    if (props)
        json_object_object_add(res, "properties", props);
    json_object_array_add(results, res);
}

/* The log around the rules and results: one run of the tool "rehearse"; props: the run's, NULL if none. */
static void write_log(json_object *rules, json_object *results, json_object *props, rh_buf *out)
{
    json_object *driver = json_object_new_object();
    json_object_object_add(driver, "name", json_object_new_string("rehearse"));
    json_object_object_add(driver, "rules", rules);
    json_object *tool = json_object_new_object();
    json_object_object_add(tool, "driver", driver);
    json_object *run = json_object_new_object();
    json_object_object_add(run, "tool", tool);
    json_object_object_add(run, "results", results);
    if (props)
        json_object_object_add(run, "properties", props);
    json_object *runs = json_object_new_array();
    json_object_array_add(runs, run);
    json_object *root = json_object_new_object();
    json_object_object_add(root, "$schema", json_object_new_string("https://json.schemastore.org/sarif-2.1.0.json"));
    json_object_object_add(root, "version", json_object_new_string("2.1.0"));
    json_object_object_add(root, "runs", runs);
    rh_report_json_write(root, out);
    json_object_put(root);
}

void rh_report_check_sarif(const rh_check_result *r, rh_buf *out)
{
    json_object *rules = json_object_new_array(), *results = json_object_new_array();
    for (size_t i = 0; i < r->n_findings; i++) {
        const rh_check_finding *f = &r->findings[i];
        json_object *props = NULL;
        if (f->migration) {
            props = json_object_new_object();
            json_object_object_add(props, "migration", json_object_new_string(f->migration));
            char step[2] = {f->step, 0};
            json_object_object_add(props, "step", json_object_new_string(step));
        }
        char *folder = f->file ? NULL : folder_of(r->migrations, f->migration);
        add_result(rules, results, f->code, help_of(f->step), sarif_level(f->level), f->message, f->detail, f->file,
                   f->line, folder, props);
        free(folder);
    }
    /* the PostgreSQL version(s) the check ran on: the run's property */
    rh_buf pg;
    rh_buf_init(&pg);
    rh_check_postgres_text(r, RH_CHECK_ERROR, &pg);
    json_object *run_props = json_object_new_object();
    json_object_object_add(run_props, "postgres", json_object_new_string(pg.data));
    rh_buf_free(&pg);
    write_log(rules, results, run_props, out);
}

void rh_report_history_sarif(const rh_git_history *h, rh_buf *out)
{
    json_object *rules = json_object_new_array(), *results = json_object_new_array();
    for (size_t i = 0; i < h->n; i++) {
        const rh_hist_finding *f = &h->items[i];
        json_object *props = NULL;
        if (f->name) {
            props = json_object_new_object();
            json_object_object_add(props, "migration", json_object_new_string(f->name));
        }
        char *folder = f->file ? NULL : folder_of(h->migrations, f->name);
        add_result(rules, results, rh_hist_code(f),
                   "rehearse history: a change to the migrations folder between two revisions that production "
                   "may not take as the repository suggests (edited or removed after apply, added out of order, "
                   "no migration.sql, an order that depends on the collation).",
                   f->hazard ? "warning" : "note", f->message, NULL, f->file, 1, folder, props);
        free(folder);
    }
    write_log(rules, results, NULL, out);
}
