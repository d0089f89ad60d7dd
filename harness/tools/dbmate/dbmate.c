/*
 * dbmate.c — dbmate (2.36) behind the tool interface: `db/migrations/VERSION_name.sql` files with
 * `-- migrate:up` / `-- migrate:down` sections (an option `transaction:false` after the marker),
 * the ledger `schema_migrations(version varchar(128) primary key)`, and `dbmate migrate`: for each
 * pending file in name order, the up section sent as ONE simple query inside a transaction (none
 * with transaction:false) together with the ledger insert; stop at the first failure.
 * Texts and exit codes are dbmate's as observed with the real CLI (tests/conformance/dbmate/).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "migrations/profile.h"
#include "migrations/split.h"
#include "migrations/txblock.h"
#include "source/folder.h"
#include "source/history.h"
#include "tools/tool.h"
#include "util/buf.h"
#include "util/fs.h"

/* dbmate's file rule: a name that starts with digits (the version) and ends in ".sql". */
static size_t version_len(const char *name)
{
    size_t n = 0, len = strlen(name);
    while (isdigit((unsigned char)name[n]))
        n++;
    if (n == 0 || len < 4 || strcmp(name + len - 4, ".sql") != 0)
        return 0;
    return n;
}

/* A marker line: "--", optional blanks, "migrate:KIND", then blanks/options to the end of line. */
static int marker_at(const char *p, const char *kind)
{
    if (p[0] != '-' || p[1] != '-')
        return 0;
    p += 2;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t k = strlen(kind);
    if (strncmp(p, "migrate:", 8) != 0 || strncmp(p + 8, kind, k) != 0)
        return 0;
    char c = p[8 + k];
    return c == '\0' || c == '\n' || c == '\r' || c == ' ' || c == '\t';
}

/* A section of a file (up or down) and its options. */
typedef struct section {
    const char *sql;
    size_t len;
    int transaction; /* 0 when the section's marker says transaction:false */
} section;

/* The section whose marker line starts at `at`, up to `end`. */
static void section_at(const char *at, const char *end, section *out)
{
    const char *eol = strchr(at, '\n');
    const char *body = eol && eol < end ? eol + 1 : end;
    char *marker = rh_xasprintf("%.*s", (int)(body - at), at); /* options follow the marker */
    out->transaction = strstr(marker, "transaction:false") == NULL;
    free(marker);
    out->sql = body;
    out->len = (size_t)(end - body);
}

/* The 1-based line of position p in text. */
static int line_of(const char *text, const char *p)
{
    int line = 1;
    for (const char *q = text; q < p; q++)
        line += *q == '\n';
    return line;
}

/* A comment line that means to be a marker but is not one ("--migrate:upp", "-- migrate: up"). */
static int near_marker(const char *p)
{
    if (p[0] != '-' || p[1] != '-')
        return 0;
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) : strlen(p);
    for (size_t i = 2; i + 7 <= n; i++)
        if (strncmp(p + i, "migrate", 7) == 0)
            return 1;
    return 0;
}

/*
 * Where a file breaks dbmate's marker rules, for rehearse's own messages (dbmate's say no line): the
 * line and what was expected there.
 */
typedef struct marker_problem {
    int line;
    char expected[256];
} marker_problem;

/*
 * dbmate parses a file when it applies (or rolls back) it; its messages (observed with dbmate 2.36) in
 * err; where and what was expected in why (may be NULL).
 */
static int parse_file_why(const rh_migration *m, section *up, section *down, rh_err *err, marker_problem *why)
{
    const char *text = m->sql ? m->sql : "";
    const char *up_at = NULL, *down_at = NULL, *near = NULL;
    for (const char *line = text; *line;) {
        if (!up_at && marker_at(line, "up"))
            up_at = line;
        else if (!down_at && marker_at(line, "down"))
            down_at = line;
        else if (!near && near_marker(line))
            near = line;
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    marker_problem local;
    if (!why)
        why = &local;
    if (!up_at) {
        const char *at = near ? near : text;
        while (!near && *at && isspace((unsigned char)*at))
            at++;
        why->line = line_of(text, at);
        if (near)
            snprintf(why->expected, sizeof why->expected, "`%.*s` is not dbmate's marker: expected `-- migrate:up`",
                     (int)strcspn(near, "\r\n") > 80 ? 80 : (int)strcspn(near, "\r\n"), near);
        else
            snprintf(why->expected, sizeof why->expected,
                     "expected `-- migrate:up` before the first statement; the file has no such line");
        return rh_err_set(err, "dbmate requires each migration to define an up block with '-- migrate:up'");
    }
    for (const char *p = text; p < up_at; p++)
        if (!isspace((unsigned char)*p)) {
            why->line = line_of(text, p);
            snprintf(why->expected, sizeof why->expected,
                     "expected nothing but blank lines before `-- migrate:up` (line %d)", line_of(text, up_at));
            return rh_err_set(err, "dbmate does not support statements preceding the '-- migrate:up' block");
        }
    if (!down_at) { /* migrate refuses it too, not only rollback */
        why->line = near ? line_of(text, near) : line_of(text, up_at);
        if (near)
            snprintf(why->expected, sizeof why->expected, "`%.*s` is not dbmate's marker: expected `-- migrate:down`",
                     (int)strcspn(near, "\r\n") > 80 ? 80 : (int)strcspn(near, "\r\n"), near);
        else
            snprintf(why->expected, sizeof why->expected,
                     "`-- migrate:up` here, but no `-- migrate:down` line after it: expected one (dbmate 2.36 "
                     "requires it, even for migrate)");
        return rh_err_set(err, "dbmate requires each migration to define a down block with '-- migrate:down'");
    }
    const char *end = text + strlen(text);
    section_at(up_at, down_at > up_at ? down_at : end, up);
    section_at(down_at, end, down);
    return 0;
}

static int parse_file(const rh_migration *m, section *up, section *down, rh_err *err)
{
    return parse_file_why(m, up, down, err, NULL);
}

/* rehearse's own line beside dbmate's error: the file, the line and what was expected there. */
static void say_marker_problem(rh_buf *out, const rh_migset *set, const rh_migration *m, const marker_problem *why)
{
    rh_buf_printf(out, "rehearse: %s:%d: %s", m->name, why->line, why->expected);
    if (set && set->origin)
        rh_buf_printf(out, " (in %s)", set->origin);
    rh_buf_putc(out, '\n');
}

/* Ours when a VERSION_name.sql file carries dbmate's up marker (drizzle's NNNN_name.sql do not). */
static int dbmate_detect(rh_folder *f)
{
    rh_folder_entry *e = NULL;
    size_t n = 0;
    rh_err err;
    if (rh_folder_list(f, "", &e, &n, &err) < 0)
        return 0;
    int found = 0;
    for (size_t i = 0; i < n && !found; i++) {
        char *text = NULL;
        size_t len = 0;
        if (version_len(e[i].name) && rh_folder_read(f, e[i].name, &text, &len, NULL, &err) == 1)
            for (const char *line = text; line && *line && !found; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                found = marker_at(line, "up");
        free(text);
    }
    rh_folder_entries_free(e, n);
    return found;
}

static int by_version(const void *a, const void *b)
{
    const rh_migration *ma = *(const rh_migration *const *)a, *mb = *(const rh_migration *const *)b;
    size_t la = version_len(ma->name), lb = version_len(mb->name);
    int c = la != lb ? (la < lb ? -1 : 1) : strncmp(ma->name, mb->name, la);
    return c ? c : strcmp(ma->name, mb->name);
}

/* Two files of one version (checked with dbmate 2.36: on an empty database it applies the first, then the second
   fails on the ledger's key, 23505, exit 2; where the version is applied it passes over the other). Refused. */
static int same_version(const rh_migset *set, rh_folder *f, rh_err *err)
{
    if (set->n < 2)
        return 0;
    const rh_migration **v = rh_xcalloc(set->n, sizeof *v);
    for (size_t i = 0; i < set->n; i++)
        v[i] = &set->items[i];
    qsort(v, set->n, sizeof *v, by_version);
    int rc = 0;
    for (size_t i = 1; i < set->n && rc == 0; i++) {
        size_t len = version_len(v[i]->name);
        if (len != version_len(v[i - 1]->name) || strncmp(v[i]->name, v[i - 1]->name, len) != 0)
            continue;
        char *shown = rh_folder_describe(f, v[i]->name);
        rc = rh_err_set(err, "%s: version %.*s is also %s's: dbmate keeps one ledger row per version, so a database "
                             "that has it passes over the other file without a word (an empty one applies the first, "
                             "then fails on the second: 23505); give each file its own version",
                        shown, (int)len, v[i]->name, v[i - 1]->name);
        free(shown);
    }
    free(v);
    return rc;
}

/*
 * dbmate's listing, on disk or at a revision: the files named VERSION_name.sql in byte order, read
 * through symbolic links as dbmate reads them (a link to nothing is an error, as it is for dbmate);
 * folders (a submodule is one in a checkout) are passed over, and named.
 */
static int dbmate_read(rh_migset *out, rh_folder *f, rh_err *err)
{
    rh_folder_entry *e = NULL;
    size_t n = 0;
    if (rh_folder_list(f, "", &e, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!version_len(e[i].name))
            continue;
        char *shown = rh_folder_describe(f, e[i].name);
        if (e[i].kind == RH_ENTRY_FILE || e[i].kind == RH_ENTRY_LINK) {
            char *data = NULL, *target = NULL;
            size_t len = 0;
            int got = rh_folder_read(f, e[i].name, &data, &len, &target, err);
            if (got == 1)
                rh_migration_set_sql(rh_migset_push(out, e[i].name, strlen(e[i].name)), data, len);
            if (got == 1 && target)
                rh_migset_add_problem(out, "%s is a symbolic link to '%s': read through it, as dbmate reads a "
                                           "checkout", shown, target);
            else if (got == 0)
                rc = rh_err_set(err, "%s is a symbolic link to '%s', which is not a file%s: dbmate cannot read it",
                                shown, target ? target : "?", strstr(shown, " at ") ? " of the revision" : "");
            else if (got < 0)
                rc = -1;
            free(data);
            free(target);
        } else {
            rh_migset_add_problem(out, "%s is %s, not a file: dbmate passes over it", shown,
                                  e[i].kind == RH_ENTRY_GITLINK ? "a git submodule (a folder in a checkout)"
                                  : e[i].kind == RH_ENTRY_DIR   ? "a folder"
                                                                : "a special file");
        }
        free(shown);
    }
    rh_folder_entries_free(e, n);
    if (rc < 0)
        return -1;
    rh_migset_sort_in(out, RH_ORDER_BYTES); /* the tool reads its folder in byte order */
    out->origin = rh_xstrdup(rh_folder_origin(f));
    return same_version(out, f, err);
}


static int pg_fail(PGconn *conn, PGresult *r, rh_err *err, const char *what)
{
    rh_err_set(err, "%s: %s", what, r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
    PQclear(r);
    return -1;
}

static int dbmate_ledger_exists(PGconn *conn, int *exists, rh_err *err)
{
    PGresult *r = PQexec(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_fail(conn, r, err, "looking for the ledger table schema_migrations");
    *exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return 0;
}

static int dbmate_ledger_create(PGconn *conn, rh_err *err)
{
    PGresult *r = PQexec(conn, "create table if not exists public.schema_migrations "
                               "(version varchar primary key)");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return pg_fail(conn, r, err, "creating the ledger table schema_migrations");
    PQclear(r);
    return 0;
}

/* Rows in version order; dbmate keeps only the version: finished, no checksum, no time. */
static int dbmate_ledger_read(PGconn *conn, rh_ledger *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    PGresult *r = PQexec(conn, "SELECT version FROM public.schema_migrations ORDER BY version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_fail(conn, r, err, "reading the ledger table schema_migrations");
    size_t n = (size_t)PQntuples(r);
    out->rows = rh_xcalloc(n ? n : 1, sizeof *out->rows);
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        out->rows[i].id = rh_xstrdup(PQgetvalue(r, (int)i, 0));
        out->rows[i].migration_name = rh_xstrdup(PQgetvalue(r, (int)i, 0));
        out->rows[i].checksum = rh_xstrdup("");
        out->rows[i].finished = 1;
        out->rows[i].ms = -1; /* dbmate records no duration */
    }
    PQclear(r);
    return 0;
}

/* A row records the file whose leading digits are its version. */
static int dbmate_row_is(const rh_ledger_row *row, const rh_migration *m)
{
    size_t vl = version_len(m->name);
    return vl && strlen(row->migration_name) == vl && strncmp(row->migration_name, m->name, vl) == 0;
}

/* Does b carry a's version (the identity dbmate's ledger keeps)? */
static int dbmate_same_entry(const rh_migration *a, const rh_migration *b)
{
    size_t va = version_len(a->name), vb = version_len(b->name);
    return va && va == vb && strncmp(a->name, b->name, va) == 0;
}

static int insert_version(PGconn *conn, const char *version, rh_err *err)
{
    const char *p[1] = {version};
    PGresult *r = PQexecParams(conn, "insert into public.schema_migrations (version) values ($1)", 1, NULL, p,
                               NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return pg_fail(conn, r, err, "recording a migration in schema_migrations");
    PQclear(r);
    return 0;
}

static int delete_version(PGconn *conn, const char *version, rh_err *err)
{
    const char *p[1] = {version};
    PGresult *r = PQexecParams(conn, "delete from public.schema_migrations where version = $1", 1, NULL, p, NULL,
                               NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return pg_fail(conn, r, err, "removing a migration from schema_migrations");
    PQclear(r);
    return 0;
}

static int dbmate_ledger_restore(PGconn *conn, const rh_ledger *rows, rh_err *err)
{
    if (dbmate_ledger_create(conn, err) < 0)
        return -1;
    for (size_t i = 0; i < rows->n; i++)
        if (insert_version(conn, rows->rows[i].migration_name, err) < 0)
            return -1;
    return 0;
}

/* `restore ledger`: a version column, the version's digits or the file's name (its leading digits). */
static const char *const dbmate_ledger_columns[] = {"version", NULL};

static int dbmate_ledger_insert_row(PGconn *conn, const char *const *values,
                                    const rh_migset *(*current_set)(void *data), void *data, rh_err *err)
{
    (void)current_set, (void)data;
    const char *v = values[0] ? values[0] : "";
    size_t vl = version_len(v);
    if (!vl && strspn(v, "0123456789") == strlen(v) && *v)
        vl = strlen(v);
    if (!vl)
        return rh_err_set(err, "version '%s' is neither digits nor a VERSION_name.sql file name", v);
    char *version = rh_xstrndup(v, vl);
    int rc = insert_version(conn, version, err);
    free(version);
    return rc;
}

static int simple(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : -1;
}

/* dbmate's error line: "Error: " + lib/pq's "pq: MESSAGE". */
static void fail_text(rh_engine_result *res, const PGresult *r, PGconn *conn)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (state)
        memcpy(res->sqlstate, state, 5);
    res->db_message = rh_xstrdup(msg ? msg : PQerrorMessage(conn));
    rh_buf_printf(&res->errout, "Error: pq: %s (%s)\n", res->db_message, state ? state : "");
    res->exit_code = 2; /* dbmate exits 2 on any error */
}

/* Go's time.Duration text for the "Applied: ... in D" line (the value is this run's own). */
static void go_duration(rh_buf *out, double seconds)
{
    char num[64];
    const char *unit = "s";
    double v = seconds;
    int digits = 9;
    if (seconds < 1e-3) {
        v = seconds * 1e6, unit = "\xc2\xb5s", digits = 3;
    } else if (seconds < 1) {
        v = seconds * 1e3, unit = "ms", digits = 6;
    }
    snprintf(num, sizeof num, "%.*f", digits, v);
    size_t n = strlen(num);
    while (n > 0 && num[n - 1] == '0')
        num[--n] = '\0';
    if (n > 0 && num[n - 1] == '.')
        num[--n] = '\0';
    rh_buf_printf(out, "%s%s", num, unit);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * One file: its up (down) section as one query, in a transaction unless its marker says
 * transaction:false, then its row inserted (deleted).
 */
static int apply_one(PGconn *conn, const rh_migration *m, const section *up, int down, rh_engine_result *res,
                     rh_err *err)
{
    size_t vl = version_len(m->name);
    char *version = rh_xasprintf("%.*s", (int)vl, m->name);
    char *sql = rh_xasprintf("%.*s", (int)up->len, up->sql);
    int rc = 0;
    if (up->transaction && simple(conn, "BEGIN") < 0) {
        rc = pg_fail(conn, NULL, err, "starting a transaction");
        goto out;
    }
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        fail_text(res, r, conn);
        res->failed_migration = rh_xstrdup(m->name);
        PQclear(r);
        if (up->transaction)
            simple(conn, "ROLLBACK");
        rc = 1;
        goto out;
    }
    PQclear(r);
    if ((down ? delete_version(conn, version, err) : insert_version(conn, version, err)) < 0) {
        if (up->transaction)
            simple(conn, "ROLLBACK");
        rc = -1;
        goto out;
    }
    if (up->transaction && simple(conn, "COMMIT") < 0)
        rc = pg_fail(conn, NULL, err, "committing a migration");
out:
    free(sql);
    free(version);
    return rc;
}

/* dbmate's driver drops server notices ("relation ... already exists, skipping"); so does rehearse here. */
static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static int migrate(PGconn *conn, const rh_migset *set, const rh_engine_opts *opts, rh_engine_result *res, rh_err *err);

static int dbmate_migrate(PGconn *conn, const rh_migset *set, const char *arg, const rh_engine_opts *opts,
                          rh_engine_result *res, rh_err *err)
{
    (void)arg;
    PQnoticeProcessor prev = PQsetNoticeProcessor(conn, drop_notice, NULL);
    int rc = migrate(conn, set, opts, res, err);
    PQsetNoticeProcessor(conn, prev, NULL); /* as engine/exec.c: the default processor's arg is unused */
    return rc;
}

static int migrate(PGconn *conn, const rh_migset *set, const rh_engine_opts *opts, rh_engine_result *res, rh_err *err)
{
    res->n_found = set->n;
    if (dbmate_ledger_create(conn, err) < 0)
        return -1;
    rh_ledger applied;
    if (dbmate_ledger_read(conn, &applied, err) < 0)
        return -1;
    int rc = 0;
    res->applied = rh_xcalloc(set->n ? set->n : 1, sizeof *res->applied);
    size_t resumed = opts ? opts->resumed : 0;
    if (resumed > set->n) {
        rh_ledger_free(&applied);
        return rh_err_set(err, "the cached state does not hold the first %zu migrations of %s", resumed,
                          set->origin ? set->origin : "the set");
    }
    for (size_t i = 0; i < set->n && rc == 0; i++) {
        const rh_migration *m = &set->items[i];
        size_t vl = version_len(m->name);
        int done = 0;
        for (size_t j = 0; j < applied.n && !done; j++)
            done = strlen(applied.rows[j].migration_name) == vl &&
                   strncmp(applied.rows[j].migration_name, m->name, vl) == 0;
        if (i < resumed) {
            /* a cached state's file, applied by an earlier part of this deploy (engine.h `resumed`): its
               lines as this deploy printed them, the time it took now (nothing) as Go prints a zero Duration */
            if (!done) {
                rh_ledger_free(&applied);
                return rh_err_set(err, "the cached state does not hold the first %zu migrations of %s (%s)",
                                  resumed, set->origin ? set->origin : "the set", m->name);
            }
            res->n_pending++;
            rh_buf_printf(&res->out, "Applying: %s\nApplied: %s in 0s\n", m->name, m->name);
            res->applied[res->n_applied++] = rh_xstrdup(m->name);
            continue;
        }
        if (done)
            continue;
        res->n_pending++;
        rh_buf_printf(&res->out, "Applying: %s\n", m->name);
        section up = {0}, down = {0};
        rh_err perr;
        marker_problem why;
        if (parse_file_why(m, &up, &down, &perr, &why) < 0) { /* dbmate's own error, exit 2, after the Applying line */
            rh_buf_printf(&res->errout, "Error: %s\n", perr.msg);
            say_marker_problem(&res->errout, set, m, &why);
            res->failed_migration = rh_xstrdup(m->name);
            res->exit_code = 2;
            rc = 2;
            break;
        }
        /* a scenario's fault or a fill (--scale) at this migration; nonzero: stop before it is sent, as Prisma's path */
        if (opts && opts->before_migration && opts->before_migration(opts->hook_data, m->name, i, PQbackendPID(conn)) != 0) {
            rh_buf_printf(&res->errout, "Error: rehearse: the deploy was stopped before migration `%s` was sent\n",
                          m->name);
            res->failed_migration = rh_xstrdup(m->name);
            res->exit_code = 1;
            rc = 1;
            break;
        }
        double t0 = now_seconds();
        rc = apply_one(conn, m, &up, 0, res, err);
        if (rc >= 0) { /* dbmate prints the Applied line even for the file that failed */
            rh_buf_printf(&res->out, "Applied: %s in ", m->name);
            go_duration(&res->out, now_seconds() - t0);
            rh_buf_putc(&res->out, '\n');
        }
        if (rc == 0)
            res->applied[res->n_applied++] = rh_xstrdup(m->name);
    }
    rh_ledger_free(&applied);
    return rc < 0 ? -1 : res->exit_code;
}

/* `dbmate status`: "[X] FILE" / "[ ] FILE" per file, then the counts; exit 0; the ledger is not created. */
static int dbmate_status(PGconn *conn, const rh_migset *set, const char *arg, const rh_engine_opts *opts,
                         rh_engine_result *res, rh_err *err)
{
    (void)arg;
    (void)opts;
    int exists = 0;
    rh_ledger applied = {0};
    if (dbmate_ledger_exists(conn, &exists, err) < 0 || (exists && dbmate_ledger_read(conn, &applied, err) < 0))
        return -1;
    size_t n_applied = 0;
    for (size_t i = 0; i < set->n; i++) {
        const rh_migration *m = &set->items[i];
        size_t vl = version_len(m->name);
        int done = 0;
        for (size_t j = 0; j < applied.n && !done; j++)
            done = strlen(applied.rows[j].migration_name) == vl && strncmp(applied.rows[j].migration_name, m->name, vl) == 0;
        n_applied += (size_t)done;
        rh_buf_printf(&res->out, "[%c] %s\n", done ? 'X' : ' ', m->name);
    }
    rh_ledger_free(&applied);
    res->n_found = set->n;
    res->n_pending = set->n - n_applied;
    rh_buf_printf(&res->out, "\nApplied: %zu\nPending: %zu\n", n_applied, res->n_pending);
    return 0;
}

/*
 * `dbmate rollback`: the newest file of the folder that the ledger holds, its down section (as up's in
 * migrate: one query, a transaction unless transaction:false), its row deleted. "Rolling back" and
 * "Rolled back ... in D" are printed even when the down section fails (then the row stays, exit 2);
 * a ledger row without a file is passed over; none applied: an error, exit 2 (observed with 2.36).
 */
static int rollback(PGconn *conn, const rh_migset *set, rh_engine_result *res, rh_err *err)
{
    res->n_found = set->n;
    if (dbmate_ledger_create(conn, err) < 0)
        return -1;
    rh_ledger applied;
    if (dbmate_ledger_read(conn, &applied, err) < 0)
        return -1;
    const rh_migration *m = NULL;
    for (size_t i = set->n; i-- > 0 && !m;)
        for (size_t j = 0; j < applied.n && !m; j++)
            if (dbmate_row_is(&applied.rows[j], &set->items[i]))
                m = &set->items[i];
    rh_ledger_free(&applied);
    res->exit_code = 2;
    if (!m) {
        rh_buf_puts(&res->errout, "Error: can't rollback: no migrations have been applied\n");
        return 2;
    }
    rh_buf_printf(&res->out, "Rolling back: %s\n", m->name);
    section up = {0}, down = {0};
    rh_err perr;
    marker_problem why;
    if (parse_file_why(m, &up, &down, &perr, &why) < 0) {
        rh_buf_printf(&res->errout, "Error: %s\n", perr.msg);
        say_marker_problem(&res->errout, set, m, &why);
        res->failed_migration = rh_xstrdup(m->name);
        return 2;
    }
    double t0 = now_seconds();
    int rc = apply_one(conn, m, &down, 1, res, err);
    if (rc < 0)
        return -1;
    rh_buf_printf(&res->out, "Rolled back: %s in ", m->name);
    go_duration(&res->out, now_seconds() - t0);
    rh_buf_putc(&res->out, '\n');
    if (rc == 0) {
        res->exit_code = 0;
        res->applied = rh_xcalloc(1, sizeof *res->applied);
        res->applied[res->n_applied++] = rh_xstrdup(m->name);
    }
    return res->exit_code;
}

static int dbmate_rollback(PGconn *conn, const rh_migset *set, const char *arg, const rh_engine_opts *opts,
                           rh_engine_result *res, rh_err *err)
{
    (void)arg;
    (void)opts;
    PQnoticeProcessor prev = PQsetNoticeProcessor(conn, drop_notice, NULL);
    int rc = rollback(conn, set, res, err);
    PQsetNoticeProcessor(conn, prev, NULL);
    return rc;
}

/*
 * The up section's statements PostgreSQL refuses inside a transaction block (25001): its one list,
 * migrations/txblock.h (CREATE INDEX CONCURRENTLY, VACUUM, ALTER SYSTEM ...; not REFRESH MATERIALIZED VIEW
 * CONCURRENTLY, which runs in one). How many; in what, the first one's name for messages: "CONCURRENTLY"
 * for such a statement, as dbmate's users know the rule, else its leading keywords ("VACUUM").
 */
static size_t refused_in_block(const rh_split *split, char *what, size_t size)
{
    size_t n = 0;
    snprintf(what, size, "CONCURRENTLY");
    for (size_t k = 0; k < split->n; k++) {
        const char *name = rh_txblock_refused_name(split->items[k].text);
        if (name && n++ == 0 && !strstr(name, "CONCURRENTLY"))
            snprintf(what, size, "%s", name);
    }
    return n;
}

/* Does version a (leading digits of name a) come before b's? As numbers: leading zeros do not count. */
static int version_before(const char *a, const char *b)
{
    size_t la = version_len(a), lb = version_len(b);
    while (la > 1 && *a == '0')
        a++, la--;
    while (lb > 1 && *b == '0')
        b++, lb--;
    return la != lb ? la < lb : strncmp(a, b, la) < 0;
}

/*
 * Files new at `to` that dbmate cannot apply: CONCURRENTLY (or another statement PostgreSQL refuses in a
 * transaction block: refused_in_block) in a file dbmate wraps in a transaction,
 * or beside another statement in a transaction:false file (the up section is one query: PostgreSQL
 * runs it in one implicit transaction). Both end in 25001 (tests/conformance/dbmate). And a file new at
 * `to` whose version is older than the newest at `from`: `dbmate migrate` applies it after that one, exit 0
 * and no word, where a clean deploy applies it before (checked with the real dbmate 2.36; `migrate --strict`
 * refuses it: "fail if migrations would be applied out of order"). And a file new at `to` whose markers
 * dbmate refuses (malformed-marker, with its line): migrate stops there with exit 2. A file renamed
 * (same bytes, new name): a note when its version is the same (dbmate's ledger keeps versions: nothing
 * runs again), a hazard when the version changed (it runs again); checked with the real dbmate 2.36
 * (tests/conformance/dbmate case 10).
 */
extern const rh_tool rh_tool_dbmate; /* below: its renames pair by version (dbmate_same_entry) */

static void dbmate_history_findings(rh_git_history *h)
{
    const rh_migration *last = h->a.n ? &h->a.items[h->a.n - 1] : NULL; /* in version order */
    size_t *renames = rh_tool_renames(&rh_tool_dbmate, h);
    for (size_t i = 0; i < h->b.n; i++) {
        const rh_migration *m = &h->b.items[i];
        if (rh_migset_find(&h->a, m->name))
            continue;
        if (renames[i]) { /* a new name: dbmate's ledger keeps the version, not the name */
            const rh_migration *old = &h->a.items[renames[i] - 1];
            size_t vo = version_len(old->name), vn = version_len(m->name);
            char *file = rh_xasprintf("%s/%s", h->migrations, m->name);
            if (dbmate_same_entry(old, m) && strcmp(old->checksum, m->checksum) == 0) {
                rh_hist_add(h, RH_HIST_RENAMED, 0, m->name, old->name, file,
                            "%s was renamed to %s between %s and %s (same bytes, same version %.*s): dbmate keeps the "
                            "version in its ledger, so `dbmate migrate` on a database deployed at %s finds it applied "
                            "and does not run it again",
                            old->name, m->name, h->from.label, h->to.label, (int)vn, m->name, h->from.label);
                continue; /* it never runs again: nothing else of it matters to a deployed database */
            }
            if (dbmate_same_entry(old, m)) { /* renamed and edited: the edit never runs where the version did */
                rh_hist_add(h, RH_HIST_RENAMED, 1, m->name, old->name, file,
                            "%s was renamed to %s and edited between %s and %s (same version %.*s, SHA-256 "
                            "%.12s... -> %.12s...): dbmate keeps the version in its ledger, so `dbmate migrate` on a "
                            "database deployed at %s finds it applied and never runs the new bytes, and does not say "
                            "so (exit 0)",
                            old->name, m->name, h->from.label, h->to.label, (int)vn, m->name, old->checksum,
                            m->checksum, h->from.label);
                continue;
            }
            rh_hist_add(h, RH_HIST_RENAMED, 1, m->name, old->name, file,
                        "%s was renamed to %s between %s and %s (same bytes, new version %.*s): dbmate keeps the "
                        "version in its ledger, so `dbmate migrate` on a database deployed at %s runs the same SQL "
                        "again as %.*s (version %.*s's row stays)",
                        old->name, m->name, h->from.label, h->to.label, (int)vn, m->name, h->from.label, (int)vn,
                        m->name, (int)vo, old->name);
        }
        if (last && version_before(m->name, last->name))
            rh_hist_add(h, RH_HIST_OUT_OF_ORDER, 1, m->name, last->name, rh_xasprintf("%s/%s", h->migrations, m->name),
                        "%s is new at %s, but its version is older than %s, already at %s: a database deployed at "
                        "%s applies it after that one (`dbmate migrate` says nothing, exit 0), while a clean deploy "
                        "applies it before; `dbmate migrate --strict` refuses it",
                        m->name, h->to.label, last->name, h->from.label, h->from.label);
        section up = {0}, down = {0};
        rh_err err;
        marker_problem why;
        if (parse_file_why(m, &up, &down, &err, &why) < 0) {
            rh_hist_finding *f =
                rh_hist_add(h, RH_HIST_TOOL, 1, m->name, NULL, rh_xasprintf("%s/%s", h->migrations, m->name),
                            "%s: new at %s: line %d: %s; `dbmate migrate` refuses the file when it reaches it, after "
                            "applying the files before it (\"%s\", exit 2)",
                            m->name, h->to.label, why.line, why.expected, err.msg);
            f->code = rh_xstrdup("malformed-marker");
            continue;
        }
        rh_split split = {0};
        if (rh_sql_split(&split, up.sql, up.len, &err) < 0)
            continue; /* the server's error when dbmate sends it; deploy says it */
        char what[128];
        size_t conc = refused_in_block(&split, what, sizeof what);
        rh_hist_finding *f = NULL;
        if (conc && up.transaction)
            f = rh_hist_add(h, RH_HIST_TOOL, 1, m->name, NULL, rh_xasprintf("%s/%s", h->migrations, m->name),
                            "%s: new at %s: %s inside the transaction dbmate wraps each file in fails with "
                            "25001: write `-- migrate:up transaction:false` and keep the statement alone in its file",
                            m->name, h->to.label, what);
        else if (conc && split.n > 1)
            f = rh_hist_add(h, RH_HIST_TOOL, 1, m->name, NULL, rh_xasprintf("%s/%s", h->migrations, m->name),
                            "%s: new at %s: transaction:false, but dbmate sends the up section's %zu statements as ONE "
                            "query, which PostgreSQL runs in one implicit transaction: 25001; move the %s "
                            "statement to a file of its own",
                            m->name, h->to.label, split.n, what);
        if (f)
            f->code = rh_xstrdup(conc && up.transaction ? "concurrently-in-transaction"
                                                        : "concurrently-with-other-statements");
        rh_split_free(&split);
    }
    free(renames);
}

/* How dbmate sends the file: its up section as one query, in a transaction unless transaction:false. */
static int dbmate_plan_file(const rh_migration *m, const rh_profile *profile, rh_plan *plan, rh_buf *out)
{
    (void)profile; /* one behaviour */
    memset(plan, 0, sizeof *plan);
    plan->mode = RH_SEND_WHOLE;
    section up = {0}, down = {0};
    rh_err err;
    marker_problem why;
    if (parse_file_why(m, &up, &down, &err, &why) < 0) { /* a line of how, then why it fails: the plan counts it */
        plan->atomic = 1; /* nothing of it is sent */
        rh_buf_printf(out, "%s: not sent: dbmate reads its markers when it reaches the file\n", m->name);
        rh_buf_printf(out, "%s: dbmate refuses it there: %s (exit 2); line %d: %s\n", m->name, err.msg, why.line,
                      why.expected);
        return 1;
    }
    rh_split split = {0};
    if (rh_sql_split(&split, up.sql, up.len, &err) < 0) {
        rh_buf_printf(out, "%s: the up section does not parse (%s): the server says so when dbmate sends it\n",
                      m->name, err.msg);
        return 1;
    }
    char what[128];
    size_t conc = refused_in_block(&split, what, sizeof what);
    rh_buf_printf(out, "%s: the up section's %zu statement(s) as ONE query, %s\n", m->name, split.n,
                  up.transaction ? "inside a transaction with the ledger insert"
                                 : "without a transaction (transaction:false): one implicit transaction when several");
    int bad = conc && (up.transaction || split.n > 1);
    if (bad)
        rh_buf_printf(out, "%s: fails with 25001: %s %s\n", m->name, what,
                      up.transaction ? "inside dbmate's transaction (write -- migrate:up transaction:false)"
                                     : "beside another statement in one query (give it a file of its own)");
    plan->n_stmts = split.n;
    plan->atomic = 1; /* its transaction, or one query: PostgreSQL's implicit transaction */
    plan->n_concurrently = conc;
    plan->concurrently_fails = bad;
    rh_split_free(&split);
    return bad;
}

/* The file with everything outside its up section's body blanked (line breaks kept): what dbmate sends.
   (A blank text is an empty query.) */
static void dbmate_sent_text(const rh_migration *m, rh_buf *out)
{
    const char *text = m->sql ? m->sql : "";
    section up = {0}, down = {0};
    rh_err err;
    int ok = parse_file(m, &up, &down, &err) == 0; /* else dbmate refuses it (its deploy says so): nothing sent */
    for (const char *p = text; *p; p++)
        rh_buf_putc(out, *p == '\n' || (ok && p >= up.sql && p < up.sql + up.len) ? *p : ' ');
}

/* `dbmate new NAME` files: VERSION_name.sql with the up section filled and an empty down. */
static int dbmate_write_history(const char *dir, char *const *sql, int n, rh_err *err)
{
    if (rh_fs_mkdir_p(dir, 0755, err) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        char *path = rh_xasprintf("%s/%014d_step_%d.sql", dir, 20240101 + i, i);
        char *text = rh_xasprintf("-- migrate:up\n%s\n-- migrate:down\n\n", sql[i]);
        int rc = rh_fs_write(path, text, strlen(text), 0644, err);
        free(text);
        free(path);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static const rh_tool_verb dbmate_verbs[] = {
    {"deploy", "dbmate migrate", 0, dbmate_migrate},
    {"status", "dbmate status", 0, dbmate_status},
    {"rollback", "dbmate rollback", 0, dbmate_rollback},
    {NULL, NULL, 0, NULL},
};

const rh_tool rh_tool_dbmate = {
    .name = "dbmate",
    .default_migrations = "db/migrations",
    .txn = RH_TOOL_TXN_PER_FILE,
    .send = RH_TOOL_SEND_WHOLE,
    .markers = "-- migrate:up [transaction:false], -- migrate:down",
    .ledger_table = "schema_migrations",
    .no_checksum = 1,
    .ledger_applied_only = 1,
    .ledger_no_order = 1,
    .resumable = RH_TOOL_RESUME_PREFIX, /* each file commits on its own: a state of the first k is a deploy after k */
    .detected_by = "a VERSION_name.sql file with a -- migrate:up line",
    .file_suffix = "",
    .concurrently_hint = "CREATE INDEX CONCURRENTLY lets writes go on, alone in a file of its own marked "
                         "`-- migrate:up transaction:false` (dbmate sends the up section as one query)",
    .detect = dbmate_detect,
    .read = dbmate_read,
    .ledger_exists = dbmate_ledger_exists,
    .ledger_create = dbmate_ledger_create,
    .ledger_read = dbmate_ledger_read,
    .ledger_restore = dbmate_ledger_restore,
    .ledger_row_is = dbmate_row_is,
    .ledger_columns = dbmate_ledger_columns,
    .ledger_name_column = "version",
    .ledger_insert_row = dbmate_ledger_insert_row,
    .verbs = dbmate_verbs,
    .history_findings = dbmate_history_findings,
    .same_entry = dbmate_same_entry,
    .write_history = dbmate_write_history,
    .plan_file = dbmate_plan_file,
    .sent_text = dbmate_sent_text,
    .profile_from_version = NULL,
};
