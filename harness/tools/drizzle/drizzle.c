/*
 * drizzle.c — drizzle-kit 0.31 `migrate` (drizzle-orm 0.45's pg migrator) behind the tool interface.
 *
 * The folder: `meta/_journal.json` lists entries {idx, when, tag, breakpoints} in apply order; each
 * names `TAG.sql`, split into chunks by `--> statement-breakpoint` (each chunk one simple query).
 * The ledger: drizzle.__drizzle_migrations(id serial, hash text = SHA-256 of the file, created_at
 * bigint = the journal's `when`). migrate: every pending entry in ONE transaction; an entry is
 * pending only when its `when` is later than the newest row's created_at — so an entry merged from a
 * branch with an older `when` is skipped without a word (rehearse says so: finding "skipped").
 * Texts and exit codes as observed with the real CLI (tests/conformance/drizzle/).
 */
#include <json-c/json.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "migrations/split.h"
#include "migrations/txblock.h"
#include "source/folder.h"
#include "source/history.h"
#include "tools/tool.h"
#include "util/buf.h"
#include "util/fs.h"

#define BREAKPOINT "--> statement-breakpoint"
/* The spinner's last frame on success, as a line; on failure drizzle-kit prints no error text. */
#define DRIZZLE_OK_TEXT "[\xe2\x9c\x93] migrations applied successfully!\n"

/* Ours when meta/_journal.json is a file (or a link to one). */
static int drizzle_detect(rh_folder *f)
{
    rh_entry_kind k = rh_folder_kind(f, "meta/_journal.json");
    if (k == RH_ENTRY_FILE)
        return 1;
    char *data = NULL;
    size_t len = 0;
    rh_err err;
    int yes = k == RH_ENTRY_LINK && rh_folder_read(f, "meta/_journal.json", &data, &len, NULL, &err) == 1;
    free(data);
    return yes;
}

/* Journal entries must be objects with a string tag and an integer when. */
static int entry_fields(json_object *e, const char **tag, long long *when)
{
    json_object *t, *w;
    if (!json_object_is_type(e, json_type_object) || !json_object_object_get_ex(e, "tag", &t) ||
        !json_object_is_type(t, json_type_string) || !json_object_object_get_ex(e, "when", &w) ||
        !json_object_is_type(w, json_type_int))
        return -1;
    *tag = json_object_get_string(t);
    *when = (long long)json_object_get_int64(w);
    return 0;
}

/* .sql files of the folder that the journal does not name: drizzle ignores them; rehearse says so. */
static void note_unlisted(rh_migset *out, rh_folder *f)
{
    rh_folder_entry *e = NULL;
    size_t n = 0;
    rh_err err;
    if (rh_folder_list(f, "", &e, &n, &err) < 0)
        return;
    for (size_t k = 0; k < n; k++) {
        size_t len = strlen(e[k].name);
        if (len < 5 || strcmp(e[k].name + len - 4, ".sql") != 0 || e[k].kind == RH_ENTRY_DIR)
            continue;
        int listed = 0;
        for (size_t i = 0; i < out->n && !listed; i++)
            listed = strncmp(out->items[i].name, e[k].name, len - 4) == 0 && out->items[i].name[len - 4] == '\0';
        if (!listed) {
            char *shown = rh_folder_describe(f, e[k].name);
            rh_migset_add_file_problem(out, e[k].name, "%s is not in meta/_journal.json: drizzle-kit never applies it",
                                       shown);
            free(shown);
        }
    }
    rh_folder_entries_free(e, n);
}

/*
 * drizzle-kit's listing, on disk or at a revision: meta/_journal.json's entries in order, each
 * TAG.sql read (through a symbolic link as a checkout would follow it).
 */
static int drizzle_read(rh_migset *out, rh_folder *f, rh_err *err)
{
    char *jpath = rh_folder_describe(f, "meta/_journal.json");
    char *text = NULL;
    size_t len = 0;
    rh_err rerr;
    int got = rh_folder_read(f, "meta/_journal.json", &text, &len, NULL, &rerr);
    int rc = got == 1 ? 0 : got == 0 ? rh_err_set(err, "%s: no such file (drizzle-kit's journal)", jpath)
                                     : rh_err_set(err, "%s", rerr.msg);
    json_object *root = NULL, *entries = NULL;
    if (rc == 0) {
        enum json_tokener_error jerr;
        root = json_tokener_parse_verbose(text, &jerr);
        if (!root)
            rc = rh_err_set(err, "%s: not JSON (%s)", jpath, json_tokener_error_desc(jerr));
        else if (!json_object_object_get_ex(root, "entries", &entries) ||
                 !json_object_is_type(entries, json_type_array))
            rc = rh_err_set(err, "%s: expected an \"entries\" array (drizzle-kit's journal)", jpath);
    }
    for (size_t i = 0; rc == 0 && i < json_object_array_length(entries); i++) {
        const char *tag;
        long long when;
        if (entry_fields(json_object_array_get_idx(entries, i), &tag, &when) < 0) {
            rc = rh_err_set(err, "%s: entry %zu: expected {\"tag\": string, \"when\": integer, ...}", jpath, i);
            break;
        }
        for (size_t j = 0; j < out->n; j++)
            if (strcmp(out->items[j].name, tag) == 0)
                rc = rh_err_set(err, "%s: entry %zu: tag %s is listed twice", jpath, i, tag);
        char *file = rh_xasprintf("%s.sql", tag);
        char *sql = NULL, *target = NULL;
        size_t sql_len = 0;
        rh_err ferr;
        rh_err_clear(&ferr);
        got = rc == 0 ? rh_folder_read(f, file, &sql, &sql_len, &target, &ferr) : 1;
        if (got == 0 && target)
            rh_err_set(&ferr, "a symbolic link to '%s', which is not a file", target);
        else if (got == 0)
            rh_err_set(&ferr, "%s", rh_folder_kind(f, file) == RH_ENTRY_NONE ? "no such file" : "not a file");
        if (got != 1)
            rc = rh_err_set(err, "%s: entry %zu names %s, which cannot be read: %s", jpath, i, file, ferr.msg);
        if (rc == 0) {
            rh_migration *m = rh_migset_push(out, tag, strlen(tag));
            rh_migration_set_sql(m, sql, sql_len);
            m->stamp = when;
            if (target)
                rh_migset_add_problem(out, "%s.sql is a symbolic link to '%s': read through it, as drizzle-kit reads "
                                           "a checkout", tag, target);
        }
        free(target);
        free(sql);
        free(file);
    }
    if (root)
        json_object_put(root);
    free(text);
    free(jpath);
    if (rc < 0)
        return -1;
    out->origin = rh_xstrdup(rh_folder_origin(f));
    note_unlisted(out, f);
    return 0;
}


static int pg_fail(PGconn *conn, PGresult *r, rh_err *err, const char *what)
{
    rh_err_set(err, "%s: %s", what, r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
    PQclear(r);
    return -1;
}

static int simple(PGconn *conn, const char *sql, rh_err *err, const char *what)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_fail(conn, r, err, what);
    PQclear(r);
    return 0;
}

static int drizzle_ledger_exists(PGconn *conn, int *exists, rh_err *err)
{
    PGresult *r = PQexec(conn, "SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_fail(conn, r, err, "looking for the ledger table drizzle.__drizzle_migrations");
    *exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return 0;
}

/* drizzle-orm's pg dialect: the schema, then the table, each "IF NOT EXISTS". */
static int drizzle_ledger_create(PGconn *conn, rh_err *err)
{
    return simple(conn, "CREATE SCHEMA IF NOT EXISTS \"drizzle\"", err, "creating the schema drizzle") < 0 ||
                   simple(conn,
                          "\n\t\tCREATE TABLE IF NOT EXISTS \"drizzle\".\"__drizzle_migrations\" (\n"
                          "\t\t\tid SERIAL PRIMARY KEY,\n\t\t\thash text NOT NULL,\n\t\t\tcreated_at bigint\n\t\t)\n\t",
                          err, "creating the ledger table drizzle.__drizzle_migrations") < 0
               ? -1
               : 0;
}

/* The common model: id, checksum = hash, migration_name = created_at (the journal `when` it names). */
static int drizzle_ledger_read(PGconn *conn, rh_ledger *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    PGresult *r = PQexec(conn, "SELECT id, hash, created_at FROM drizzle.__drizzle_migrations ORDER BY id");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_fail(conn, r, err, "reading the ledger table drizzle.__drizzle_migrations");
    size_t n = (size_t)PQntuples(r);
    out->rows = rh_xcalloc(n ? n : 1, sizeof *out->rows);
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        out->rows[i].id = rh_xstrdup(PQgetvalue(r, (int)i, 0));
        out->rows[i].checksum = rh_xstrdup(PQgetvalue(r, (int)i, 1));
        out->rows[i].migration_name = rh_xstrdup(PQgetvalue(r, (int)i, 2));
        out->rows[i].finished = 1;
        out->rows[i].ms = -1; /* drizzle-kit records no duration */
    }
    PQclear(r);
    return 0;
}

/* A row records the journal entry whose `when` is its created_at (drizzle-orm's own test), or whose file it hashed. */
static int drizzle_row_is(const rh_ledger_row *row, const rh_migration *m)
{
    char when[32];
    snprintf(when, sizeof when, "%lld", m->stamp);
    return strcmp(row->migration_name, when) == 0 || (m->checksum[0] && strcmp(row->checksum, m->checksum) == 0);
}

static int insert_row(PGconn *conn, const char *hash, const char *created_at, rh_err *err)
{
    const char *p[2] = {hash, created_at};
    PGresult *r = PQexecParams(conn, "insert into \"drizzle\".\"__drizzle_migrations\" (\"hash\", \"created_at\") "
                                     "values($1, $2)",
                               2, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return pg_fail(conn, r, err, "recording a migration in drizzle.__drizzle_migrations");
    PQclear(r);
    return 0;
}

static int drizzle_ledger_restore(PGconn *conn, const rh_ledger *rows, rh_err *err)
{
    if (drizzle_ledger_create(conn, err) < 0)
        return -1;
    for (size_t i = 0; i < rows->n; i++)
        if (insert_row(conn, rows->rows[i].checksum, rows->rows[i].migration_name, err) < 0)
            return -1;
    return 0;
}

/*
 * `restore ledger`: created_at (the journal `when`, or an entry's tag at the current checkout) and
 * hash (missing or "=": the SHA-256 of that entry's file at the current checkout).
 */
static const char *const drizzle_ledger_columns[] = {"hash", "created_at", NULL};

static int drizzle_ledger_insert_row(PGconn *conn, const char *const *values,
                                     const rh_migset *(*current_set)(void *data), void *data, rh_err *err)
{
    const char *hash = values[0], *at = values[1] ? values[1] : "";
    int number = *at && strspn(at, "0123456789") == strlen(at);
    const rh_migset *set = !number || !hash || strcmp(hash, "=") == 0 ? current_set(data) : NULL;
    const rh_migration *m = NULL;
    for (size_t i = 0; set && i < set->n && !m; i++) /* the entry: by tag, or by its `when` */
        if (number ? set->items[i].stamp == strtoll(at, NULL, 10) : strcmp(set->items[i].name, at) == 0)
            m = &set->items[i];
    if (!number && !m)
        return rh_err_set(err, "created_at '%s' is neither a journal `when` nor a tag at the current checkout", at);
    if ((!hash || strcmp(hash, "=") == 0) && (!m || !m->sql))
        return rh_err_set(err, "hash '=' but no journal entry at the current checkout has `when` %s", at);
    char when[32];
    if (!number)
        snprintf(when, sizeof when, "%lld", m->stamp);
    return insert_row(conn, !hash || strcmp(hash, "=") == 0 ? m->checksum : hash, number ? at : when, err);
}

static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void add_skipped(rh_engine_result *res, const rh_migration *m, long long last)
{
    res->findings = rh_xrealloc(res->findings, (res->n_findings + 1) * sizeof *res->findings);
    rh_finding *f = &res->findings[res->n_findings++];
    f->kind = RH_FINDING_SKIPPED;
    f->name = rh_xstrdup(m->name);
    f->detail = rh_xasprintf("its journal `when` %lld is not later than the newest ledger row's created_at %lld: "
                             "drizzle-kit migrate passes over it without a word (it is never applied)",
                             m->stamp, last);
}

/* One chunk between breakpoints, sent as one simple query inside the run's transaction. */
static int run_chunks(PGconn *conn, const rh_migration *m, rh_engine_result *res)
{
    const char *p = m->sql ? m->sql : "";
    for (;;) {
        const char *bp = strstr(p, BREAKPOINT);
        size_t len = bp ? (size_t)(bp - p) : strlen(p);
        char *chunk = rh_xasprintf("%.*s", (int)len, p);
        PGresult *r = PQexec(conn, chunk);
        free(chunk);
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
            if (state)
                memcpy(res->sqlstate, state, 5);
            res->db_message = rh_xstrdup(msg ? msg : PQerrorMessage(conn));
            res->failed_migration = rh_xstrdup(m->name);
            PQclear(r);
            return 1;
        }
        PQclear(r);
        if (!bp)
            return 0;
        p = bp + strlen(BREAKPOINT);
    }
}

static int migrate(PGconn *conn, const rh_migset *set, const rh_engine_opts *opts, rh_engine_result *res, rh_err *err)
{
    res->n_found = set->n;
    if (drizzle_ledger_create(conn, err) < 0)
        return -1;
    PGresult *r = PQexec(conn, "select id, hash, created_at from \"drizzle\".\"__drizzle_migrations\" "
                               "order by created_at desc limit 1");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_fail(conn, r, err, "reading the ledger table drizzle.__drizzle_migrations");
    int have_last = PQntuples(r) > 0 && !PQgetisnull(r, 0, 2);
    long long last = have_last ? strtoll(PQgetvalue(r, 0, 2), NULL, 10) : 0;
    PQclear(r);
    res->applied = rh_xcalloc(set->n ? set->n : 1, sizeof *res->applied);
    /* a cached state continued as this run (engine.h `resumed`): only the whole set's (rh_tool_resume), which
       an earlier part of this run applied and committed, leaving it nothing to send */
    size_t resumed = opts ? opts->resumed : 0;
    if (resumed && resumed != set->n)
        return rh_err_set(err, "drizzle-kit migrate runs all pending entries in one transaction: a cached state of "
                               "the first %zu of %zu entries is not part of one run", resumed, set->n);
    if (simple(conn, "BEGIN", err, "starting the migration transaction") < 0)
        return -1;
    int failed = 0;
    for (size_t i = 0; i < set->n && !failed; i++) {
        const rh_migration *m = &set->items[i];
        if (i < resumed) {
            PGresult *q = PQexecParams(conn, "select 1 from \"drizzle\".\"__drizzle_migrations\" where hash = $1", 1,
                                       NULL, (const char *const[]){m->checksum}, NULL, NULL, 0);
            int recorded = PQresultStatus(q) == PGRES_TUPLES_OK && PQntuples(q) > 0;
            PQclear(q);
            if (!recorded) {
                simple(conn, "ROLLBACK", err, "rolling back");
                return rh_err_set(err, "the cached state does not hold the first %zu entries of %s (%s)", resumed,
                                  set->origin ? set->origin : "the set", m->name);
            }
            res->n_pending++;
            res->applied[res->n_applied++] = rh_xstrdup(m->name);
            continue;
        }
        if (have_last && !(last < m->stamp)) {
            int recorded = 0; /* a skipped entry whose file is in the ledger is simply applied already */
            PGresult *q = PQexecParams(conn, "select 1 from \"drizzle\".\"__drizzle_migrations\" where hash = $1", 1,
                                       NULL, (const char *const[]){m->checksum}, NULL, NULL, 0);
            recorded = PQresultStatus(q) == PGRES_TUPLES_OK && PQntuples(q) > 0;
            PQclear(q);
            if (!recorded)
                add_skipped(res, m, last);
            continue;
        }
        res->n_pending++;
        /* a scenario's fault or a fill (--scale) at this migration; nonzero: stop before it is sent, as Prisma's
           path (the run's one transaction is rolled back below) */
        if (opts && opts->before_migration && opts->before_migration(opts->hook_data, m->name, i, PQbackendPID(conn)) != 0) {
            rh_buf_printf(&res->errout, "Error: rehearse: the deploy was stopped before migration `%s` was sent\n",
                          m->name);
            res->failed_migration = rh_xstrdup(m->name);
            failed = 1;
            break;
        }
        failed = run_chunks(conn, m, res);
        if (!failed) {
            char when[32];
            snprintf(when, sizeof when, "%lld", m->stamp);
            if (insert_row(conn, m->checksum, when, err) < 0) {
                simple(conn, "ROLLBACK", err, "rolling back");
                return -1;
            }
            res->applied[res->n_applied++] = rh_xstrdup(m->name);
        }
    }
    if (failed) {
        PGresult *rb = PQexec(conn, "ROLLBACK");
        PQclear(rb);
        while (res->n_applied > 0) /* one transaction: nothing of this run stays */
            free(res->applied[--res->n_applied]);
        res->exit_code = 1;
        return 1;
    }
    if (simple(conn, "COMMIT", err, "committing the migrations") < 0)
        return -1;
    return 0;
}

static int drizzle_migrate(PGconn *conn, const rh_migset *set, const char *arg, const rh_engine_opts *opts,
                           rh_engine_result *res, rh_err *err)
{
    (void)arg;
    PQnoticeProcessor prev = PQsetNoticeProcessor(conn, drop_notice, NULL);
    int rc = migrate(conn, set, opts, res, err);
    PQsetNoticeProcessor(conn, prev, NULL);
    if (rc == 0)
        rh_buf_puts(&res->out, DRIZZLE_OK_TEXT);
    if (rc == 1 && res->db_message) { /* drizzle-kit is silent; rehearse says what failed (a stop said it already) */
        res->findings = rh_xrealloc(res->findings, (res->n_findings + 1) * sizeof *res->findings);
        rh_finding *f = &res->findings[res->n_findings++];
        f->kind = RH_FINDING_FAILED_ROW;
        f->name = rh_xstrdup(res->failed_migration);
        f->detail = rh_xasprintf("SQLSTATE %s: %s (drizzle-kit prints no error and exits 1; the run's one "
                                 "transaction was rolled back, nothing of it stays)",
                                 res->sqlstate, res->db_message ? res->db_message : "");
    }
    return rc;
}

/*
 * Entries new at `to` whose `when` is not later than `from`'s newest: a database deployed at `from` never gets
 * them. An entry renamed (same bytes, new tag): drizzle-kit's ledger keeps the file's hash and the journal's
 * `when`, never the tag, and runs only entries later than its newest row: a note when its `when` is not
 * later (nothing runs again), a hazard when it is (it runs again); checked with the real drizzle-kit
 * (tests/conformance/drizzle, "renamed").
 */
static void drizzle_history_findings(rh_git_history *h)
{
    const rh_migration *newest = NULL;
    for (size_t i = 0; i < h->a.n; i++)
        if (!newest || h->a.items[i].stamp > newest->stamp)
            newest = &h->a.items[i];
    size_t *renames = rh_hist_renames(h);
    for (size_t j = 0; newest && j < h->b.n; j++) {
        const rh_migration *m = &h->b.items[j];
        if (!rh_migset_find(&h->a, m->name) && renames[j]) {
            const rh_migration *old = &h->a.items[renames[j] - 1];
            char *file = rh_xasprintf("%s/%s.sql", h->migrations, m->name);
            if (m->stamp <= newest->stamp)
                rh_hist_add(h, RH_HIST_RENAMED, 0, m->name, old->name, file,
                            "%s was renamed to %s between %s and %s (same bytes, journal `when` %lld): drizzle-kit "
                            "keeps the hash and the `when` in its ledger, not the tag, so `drizzle-kit migrate` on a "
                            "database deployed at %s passes over it: nothing runs again",
                            old->name, m->name, h->from.label, h->to.label, m->stamp, h->from.label);
            else
                rh_hist_add(h, RH_HIST_RENAMED, 1, m->name, old->name, file,
                            "%s was renamed to %s between %s and %s (same bytes, its journal `when` now %lld, later "
                            "than %s's newest entry %s (%lld)): `drizzle-kit migrate` on a database deployed at %s "
                            "runs the same SQL again",
                            old->name, m->name, h->from.label, h->to.label, m->stamp, h->from.label, newest->name,
                            newest->stamp, h->from.label);
            continue;
        }
        if (rh_migset_find(&h->a, m->name) || m->stamp > newest->stamp)
            continue;
        rh_hist_finding *f =
            rh_hist_add(h, RH_HIST_TOOL, 1, m->name, NULL, rh_xasprintf("%s/%s.sql", h->migrations, m->name),
                        "%s: new at %s, but its journal `when` %lld is not later than %s's newest entry %s (%lld): "
                        "drizzle-kit migrate on a database deployed at %s passes over it without a word",
                        m->name, h->to.label, m->stamp, h->from.label, newest->name, newest->stamp, h->from.label);
        f->code = rh_xstrdup("skipped-in-production");
    }
    free(renames);
}

/* How drizzle-kit sends the entry: each chunk between breakpoints as one query, inside the run's one transaction. */
static int drizzle_plan_file(const rh_migration *m, const rh_profile *profile, rh_plan *plan, rh_buf *out)
{
    (void)profile; /* one behaviour */
    memset(plan, 0, sizeof *plan);
    size_t chunks = 1;
    for (const char *p = m->sql ? m->sql : ""; (p = strstr(p, BREAKPOINT)) != NULL; p += strlen(BREAKPOINT))
        chunks++;
    rh_buf_printf(out, "%s: %zu chunk(s) split at `" BREAKPOINT "`, each one query, inside the one transaction "
                       "of every pending entry\n", m->name, chunks);
    /* PostgreSQL's one list of statements refused in a transaction block (migrations/txblock.h), each statement
       as its parser splits the file; a file it cannot split (the server refuses it anyway): the word, as written */
    size_t conc = 0;
    const char *what = "CONCURRENTLY";
    rh_split split = {0};
    rh_err err;
    if (rh_sql_split(&split, m->sql ? m->sql : "", m->sql ? m->sql_len : 0, &err) == 0) {
        for (size_t k = 0; k < split.n; k++) {
            const char *name = rh_txblock_refused_name(split.items[k].text);
            if (name && conc++ == 0 && !strstr(name, "CONCURRENTLY"))
                what = name;
        }
        rh_split_free(&split);
    } else {
        conc = m->sql && strcasestr(m->sql, "concurrently") != NULL;
    }
    if (conc)
        rh_buf_printf(out, "%s: fails with 25001: %s cannot run inside drizzle-kit's transaction (and the "
                           "whole run rolls back)\n", m->name, what);
    plan->mode = RH_SEND_STATEMENTS;
    plan->n_stmts = chunks;
    plan->n_parts = chunks;
    plan->atomic = 1; /* the run's one transaction */
    plan->n_concurrently = conc;
    plan->concurrently_fails = conc > 0;
    return conc > 0;
}

/* `drizzle-kit generate` files: NNNN_step_N.sql (statements split by the breakpoint) and the journal. */
static int drizzle_write_history(const char *dir, char *const *sql, int n, rh_err *err)
{
    char *meta = rh_xasprintf("%s/meta", dir);
    int rc = rh_fs_mkdir_p(meta, 0755, err);
    rh_buf j;
    rh_buf_init(&j);
    rh_buf_puts(&j, "{\n  \"version\": \"7\",\n  \"dialect\": \"postgresql\",\n  \"entries\": [");
    for (int i = 0; i < n && rc == 0; i++) {
        rh_buf text;
        rh_buf_init(&text);
        for (const char *p = sql[i]; *p; p++) /* ";\n" between statements: drizzle-kit's breakpoint */
            if (p[0] == ';' && p[1] == '\n' && p[2])
                rh_buf_puts(&text, ";--> " "statement-breakpoint\n"), p++;
            else
                rh_buf_putc(&text, *p);
        char *path = rh_xasprintf("%s/%04d_step_%d.sql", dir, i, i);
        rc = rh_fs_write(path, text.data, text.len, 0644, err);
        free(path);
        rh_buf_free(&text);
        rh_buf_printf(&j, "%s\n    {\n      \"idx\": %d,\n      \"version\": \"7\",\n      \"when\": %lld,\n      "
                          "\"tag\": \"%04d_step_%d\",\n      \"breakpoints\": true\n    }",
                      i ? "," : "", i, 1700000000000LL + (long long)i * 1000, i, i);
    }
    rh_buf_puts(&j, "\n  ]\n}");
    char *jpath = rh_xasprintf("%s/_journal.json", meta);
    if (rc == 0)
        rc = rh_fs_write(jpath, j.data, j.len, 0644, err);
    free(jpath);
    free(meta);
    rh_buf_free(&j);
    return rc;
}

static const rh_tool_verb drizzle_verbs[] = {
    {"deploy", "drizzle-kit migrate", 0, drizzle_migrate},
    {NULL, NULL, 0, NULL},
};

const rh_tool rh_tool_drizzle = {
    .name = "drizzle",
    .default_migrations = "drizzle",
    .txn = RH_TOOL_TXN_PER_RUN,
    .send = RH_TOOL_SEND_STATEMENTS,
    .markers = BREAKPOINT,
    .ledger_table = "drizzle.__drizzle_migrations",
    .ledger_sequence = "drizzle.__drizzle_migrations_id_seq",
    .ledger_schema = "drizzle",
    .ledger_applied_only = 1,
    .resumable = RH_TOOL_RESUME_WHOLE, /* one transaction per run: only the whole run's state stands for it */
    .detected_by = "meta/_journal.json",
    .file_suffix = ".sql",
    .concurrently_hint = "CREATE INDEX CONCURRENTLY lets writes go on, but not through drizzle-kit migrate: it runs "
                         "every pending entry in one transaction, where CONCURRENTLY fails (25001)",
    .detect = drizzle_detect,
    .read = drizzle_read,
    .ledger_exists = drizzle_ledger_exists,
    .ledger_create = drizzle_ledger_create,
    .ledger_read = drizzle_ledger_read,
    .ledger_restore = drizzle_ledger_restore,
    .ledger_row_is = drizzle_row_is,
    .ledger_columns = drizzle_ledger_columns,
    .ledger_name_column = "created_at",
    .ledger_insert_row = drizzle_ledger_insert_row,
    .verbs = drizzle_verbs,
    .history_findings = drizzle_history_findings,
    .write_history = drizzle_write_history,
    .plan_file = drizzle_plan_file,
    .profile_from_version = NULL,
};
