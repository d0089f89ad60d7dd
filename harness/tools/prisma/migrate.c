/*
 * migrate.c — `migrate deploy` and `migrate resolve` as Prisma's schema engine runs them
 * (schema-engine/commands: apply_migrations, mark_migration_applied, mark_migration_rolled_back),
 * with the CLI's texts around them (packages/migrate: MigrateDeploy, MigrateResolve).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/prisma/prisma_int.h"
#include "tools/prisma/profile.h"

/* The profile to use when the caller gave none. */
const rh_profile *rh_prisma_profile(const rh_engine_opts *opts, rh_profile *storage)
{
    if (opts && opts->profile)
        return opts->profile;
    rh_err e;
    if (rh_prisma_profile_from_version(storage, RH_PRISMA_DEFAULT_VERSION, &e) != 0) {
        memset(storage, 0, sizeof *storage);
        storage->order = RH_ORDER_ICU;
        storage->exec = RH_EXEC_WHOLE_SCRIPT;
    }
    return storage;
}

/* P3019: migration_lock.toml names another provider than the schema's datasource. */
static int provider_mismatch(const rh_migset *set, const rh_engine_opts *opts, rh_engine_result *res)
{
    const char *schema_provider = opts && opts->provider ? opts->provider : "postgresql";
    if (!set->has_lock_file || !set->lock_provider || strcmp(set->lock_provider, schema_provider) == 0)
        return 0;
    char *msg = rh_xasprintf("The datasource provider `%s` specified in your schema does not match the one "
                             "specified in the migration_lock.toml, `%s`. Please remove your current "
                             "migration directory and start a new migration history with prisma migrate dev. "
                             "Read more: https://pris.ly/d/migrate-provider-switch",
                             schema_provider, set->lock_provider);
    rh_text_error(res, "P3019", msg);
    free(msg);
    return 1;
}

/* A database error while the engine talks to the server: Prisma reports it and exits 1. */
static int db_failure(PGconn *conn, rh_engine_result *res, const rh_err *e)
{
    if (PQstatus(conn) == CONNECTION_BAD) {
        rh_text_error(res, "P1017", "Server has closed the connection.");
    } else {
        rh_text_error(res, NULL, e->msg);
        if (strlen(e->code) == 5)
            memcpy(res->sqlstate, e->code, 6);
    }
    return 1;
}

/* Take the advisory lock when wanted; 0 = go on (*locked says whether it is held), 1 = result set. */
static int take_lock(PGconn *conn, const rh_engine_opts *opts, rh_engine_result *res, int *locked)
{
    *locked = 0;
    if (!rh_prisma_lock_wanted(opts))
        return 0;
    rh_err e;
    rh_err_clear(&e);
    int timeout = opts && opts->lock_timeout_ms > 0 ? opts->lock_timeout_ms : RH_PRISMA_ADVISORY_LOCK_TIMEOUT_MS;
    int rc = rh_exec_advisory_lock(conn, timeout, opts, &res->lock_wait_skipped_ms, &e);
    if (rc < 0)
        return db_failure(conn, res, &e);
    if (rc == 1) {
        char *msg = rh_xasprintf("The database server was reached but timed out.\n\nPlease try again.\n\n"
                                 "Please make sure your database server is running at the configured "
                                 "address.\n\nContext: Timed out trying to acquire a postgres advisory lock "
                                 "(SELECT pg_advisory_lock(%d)). Timeout: %dms. See "
                                 "https://pris.ly/d/migrate-advisory-locking for details.\n",
                                 RH_PRISMA_ADVISORY_LOCK_KEY, timeout);
        rh_text_error(res, "P1002", msg);
        free(msg);
        return 1;
    }
    *locked = 1;
    return 0;
}

/*
 * Make sure the ledger exists: created when missing, after the P3005 check when asked.
 * Returns 0 ok, 1 Prisma error in res, -1 rehearse error in err.
 */
static int ensure_ledger(PGconn *conn, int check_empty, rh_engine_result *res, rh_err *err)
{
    int exists = 0;
    rh_err e;
    rh_err_clear(&e);
    if (rh_prisma_ledger_exists(conn, &exists, &e) != 0) {
        if (PQstatus(conn) == CONNECTION_BAD || e.code[0])
            return db_failure(conn, res, &e);
        *err = e;
        return -1;
    }
    if (exists)
        return 0;
    if (check_empty) {
        int has = 0;
        if (rh_prisma_ledger_schema_has_tables(conn, &has, &e) != 0)
            return db_failure(conn, res, &e);
        if (has) {
            rh_text_error(res, "P3005",
                          "The database schema is not empty. Read more about how to baseline an existing "
                          "production database: https://pris.ly/d/migrate-baseline");
            return 1;
        }
    }
    if (rh_prisma_ledger_create(conn, &e) != 0)
        return db_failure(conn, res, &e);
    return 0;
}

/* Whether s is valid UTF-8 (Prisma reads scripts into a Rust String). */
static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xe0) == 0xc0 && c >= 0xc2) k = 1;
        else if ((c & 0xf0) == 0xe0) k = 2;
        else if ((c & 0xf8) == 0xf0 && c <= 0xf4) k = 3;
        else return 0;
        for (size_t j = 1; j <= k; j++)
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

/* The trace Prisma appends to a failed migration's logs (frames observed with 6.19.3). */
static char *failure_logs(const char *name, const char *message)
{
    return rh_xasprintf("%s   0: sql_schema_connector::apply_migration::apply_script\n"
                        "           with migration_name=\"%s\"\n"
                        "             at schema-engine/connectors/sql-schema-connector/src/apply_migration.rs:113\n"
                        "   1: schema_commands::commands::apply_migrations::Applying migration\n"
                        "           with migration_name=\"%s\"\n"
                        "             at schema-engine/commands/src/commands/apply_migrations.rs:95",
                        message, name, name);
}

/* Apply one pending migration. Returns 0 applied, 1 stopped (res filled). */
static int apply_one(PGconn *conn, const rh_migration *m, size_t index, const rh_profile *profile,
                     const rh_engine_opts *opts, rh_engine_result *res)
{
    rh_err e;
    rh_err_clear(&e);
    if (!m->sql) {
        res->failed_migration = rh_xstrdup(m->name);
        rh_text_error(res, "P3015",
                      "Could not find the migration file at migration.sql. Please delete the directory or "
                      "restore the migration file.");
        return 1;
    }
    if (!valid_utf8((const unsigned char *)m->sql, m->sql_len)) {
        res->failed_migration = rh_xstrdup(m->name);
        char *msg = rh_xasprintf("Failed to read migration script at %s/migration.sql: stream did not contain "
                                 "valid UTF-8 (rehearse: Prisma reads the file as text and stops here before "
                                 "writing a ledger row)",
                                 m->name);
        rh_text_error(res, NULL, msg);
        free(msg);
        return 1;
    }
    char id[37];
    if (rh_prisma_ledger_new_id(id, &e) != 0) {
        rh_text_error(res, NULL, e.msg);
        return 1;
    }
    rh_buf_printf(&res->out, "Applying migration `%s`\n", m->name);
    if (rh_prisma_ledger_record_started(conn, id, m->name, m->checksum, &e) != 0) {
        res->failed_migration = rh_xstrdup(m->name);
        return db_failure(conn, res, &e);
    }
    if (opts && opts->before_migration &&
        opts->before_migration(opts->hook_data, m->name, index, PQbackendPID(conn)) != 0) {
        res->failed_migration = rh_xstrdup(m->name);
        char *msg = rh_xasprintf("rehearse: the deploy was stopped before migration `%s` was sent", m->name);
        rh_text_error(res, NULL, msg);
        free(msg);
        return 1;
    }
    rh_exec_failure f;
    if (rh_exec_script(conn, profile, m->sql, m->sql_len, &f) == 0) {
        if (rh_prisma_ledger_record_success(conn, id, &e) != 0) {
            res->failed_migration = rh_xstrdup(m->name);
            return db_failure(conn, res, &e);
        }
        res->applied = rh_xrealloc(res->applied, (res->n_applied + 1) * sizeof *res->applied);
        res->applied[res->n_applied++] = rh_xstrdup(m->name);
        return 0;
    }
    res->failed_migration = rh_xstrdup(m->name);
    snprintf(res->sqlstate, sizeof res->sqlstate, "%s", f.sqlstate);
    res->db_message = rh_xstrdup(f.message ? f.message : "");
    if (f.connection_lost || !f.sqlstate[0]) {
        /* The server went away: Prisma cannot write the logs either; the row stays started. */
        rh_exec_failure_free(&f);
        rh_text_error(res, "P1017", "Server has closed the connection.");
        return 1;
    }
    char *msg = rh_text_p3018(m->name, &f);
    char *logs = failure_logs(m->name, msg);
    if (rh_prisma_ledger_record_failed(conn, id, logs, &e) != 0) {
        free(msg);
        free(logs);
        rh_exec_failure_free(&f);
        return db_failure(conn, res, &e);
    }
    /* The CLI prints the message (ending in "\n") inside its frame. */
    size_t ml = strlen(msg);
    if (ml > 0 && msg[ml - 1] == '\n')
        msg[ml - 1] = '\0';
    rh_text_error(res, "P3018", msg);
    free(msg);
    free(logs);
    rh_exec_failure_free(&f);
    return 1;
}

/* Prisma's tree of applied migrations (packages/migrate printFilesFromMigrationIds). */
static void print_applied_tree(rh_buf *out, const rh_profile *profile, char *const *names, size_t n)
{
    rh_buf_puts(out, "The following migration(s) have been applied:\n\nmigrations/");
    for (size_t i = 0; i < n; i++)
        rh_buf_printf(out, "\n  \xe2\x94\x94\xe2\x94\x80 %s/\n    \xe2\x94\x94\xe2\x94\x80 migration.sql", names[i]);
    /* 6.x prints a line of six spaces before the last line, 7.x an empty one */
    rh_buf_puts(out, profile && profile->major >= 7 ? "\n\nAll migrations have been successfully applied.\n"
                                                    : "\n      \nAll migrations have been successfully applied.\n");
}

int rh_prisma_deploy(PGconn *conn, const rh_migset *set, const rh_engine_opts *opts, rh_engine_result *res,
                     rh_err *err)
{
    rh_profile pstore;
    const rh_profile *profile = rh_prisma_profile(opts, &pstore);
    res->exit_code = 0;
    rh_text_prelude(conn, profile, opts ? opts->url_schema : NULL, res);
    res->n_found = set->n;
    rh_text_found(&res->out, set->n);
    rh_buf_puts(&res->out, "\n");
    if (provider_mismatch(set, opts, res))
        return res->exit_code;
    int locked = 0;
    if (take_lock(conn, opts, res, &locked))
        return res->exit_code;

    int rc = ensure_ledger(conn, 1, res, err);
    rh_ledger ledger = {0};
    if (rc == 0) {
        rh_err e;
        rh_err_clear(&e);
        if (rh_prisma_ledger_load(conn, &ledger, &e) != 0)
            rc = db_failure(conn, res, &e);
    }
    if (rc != 0)
        goto done;

    /* P3009: any failed row stops everything. */
    rh_buf failed;
    rh_buf_init(&failed);
    for (size_t i = 0; i < ledger.n; i++)
        if (!ledger.rows[i].finished && !ledger.rows[i].rolled_back)
            rh_buf_printf(&failed, "The `%s` migration started at %s failed\n", ledger.rows[i].migration_name,
                          ledger.rows[i].started_at_text);
    if (failed.len > 0) {
        char *msg = rh_xasprintf("migrate found failed migrations in the target database, new migrations will "
                                 "not be applied. Read more about how to resolve migration issues in a "
                                 "production database: https://pris.ly/d/migrate-resolve\n%s",
                                 failed.data);
        rh_text_error(res, "P3009", msg);
        free(msg);
        rh_buf_free(&failed);
        rc = 1;
        goto done;
    }
    rh_buf_free(&failed);

    /* pending = folder names with no row that is not rolled back, in folder order */
    size_t *pending = rh_xcalloc(set->n ? set->n : 1, sizeof *pending);
    size_t np = 0;
    for (size_t i = 0; i < set->n; i++) {
        int applied = 0;
        for (size_t j = 0; j < ledger.n && !applied; j++)
            applied = !ledger.rows[j].rolled_back && strcmp(ledger.rows[j].migration_name, set->items[i].name) == 0;
        if (!applied)
            pending[np++] = i;
    }
    /* a cached state's migrations: applied, finished rows, before everything still pending */
    size_t resumed = opts ? opts->resumed : 0;
    if (resumed > set->n || (np > 0 && pending[0] < resumed)) {
        rh_err_set(err, "the cached state does not hold the first %zu migrations of %s", resumed,
                   set->origin ? set->origin : "the set");
        free(pending);
        rc = -1;
        goto done;
    }
    for (size_t k = 0; k < resumed; k++) {
        rh_buf_printf(&res->out, "Applying migration `%s`\n", set->items[k].name);
        res->applied = rh_xrealloc(res->applied, (res->n_applied + 1) * sizeof *res->applied);
        res->applied[res->n_applied++] = rh_xstrdup(set->items[k].name);
    }
    res->n_pending = np + resumed;
    for (size_t k = 0; k < np && rc == 0; k++)
        rc = apply_one(conn, &set->items[pending[k]], k + resumed, profile, opts, res);
    free(pending);
    if (rc == 0) {
        rh_buf_puts(&res->out, "\n");
        if (res->n_applied == 0)
            rh_buf_puts(&res->out, "No pending migrations to apply.\n");
        else
            print_applied_tree(&res->out, profile, res->applied, res->n_applied);
    }
done:
    rh_ledger_free(&ledger);
    if (locked)
        rh_exec_advisory_unlock(conn);
    if (rc < 0)
        return -1;
    return res->exit_code;
}

int rh_prisma_resolve_applied(PGconn *conn, const rh_migset *set, const char *name, const rh_engine_opts *opts,
                              rh_engine_result *res, rh_err *err)
{
    rh_profile pstore;
    const rh_profile *profile = rh_prisma_profile(opts, &pstore);
    res->exit_code = 0;
    rh_text_prelude(conn, profile, opts ? opts->url_schema : NULL, res);
    if (profile->major < 7) /* 7.x prints the empty line with its success message, none before an error */
        rh_buf_puts(&res->out, "\n");
    if (provider_mismatch(set, opts, res))
        return res->exit_code;
    const rh_migration *m = rh_migset_find(set, name);
    if (!m || !m->sql) {
        char *msg = rh_xasprintf("The migration %s could not be found. Please make sure that the migration "
                                 "exists, and that you included the whole name of the directory. (example: "
                                 "\"20201207184859_initial_migration\")",
                                 name);
        rh_text_error(res, "P3017", msg);
        free(msg);
        return res->exit_code;
    }
    int locked = 0;
    if (take_lock(conn, opts, res, &locked))
        return res->exit_code;
    rh_ledger ledger = {0};
    rh_err e;
    rh_err_clear(&e);
    int rc = ensure_ledger(conn, 0, res, err);
    if (rc == 0 && rh_prisma_ledger_load(conn, &ledger, &e) != 0)
        rc = db_failure(conn, res, &e);
    if (rc != 0)
        goto done;
    for (size_t i = 0; i < ledger.n; i++) {
        if (strcmp(ledger.rows[i].migration_name, name) == 0 && ledger.rows[i].finished) {
            char *msg = rh_xasprintf("The migration `%s` is already recorded as applied in the database.", name);
            rh_text_error(res, "P3008", msg);
            free(msg);
            rc = 1;
            goto done;
        }
    }
    for (size_t i = 0; i < ledger.n && rc == 0; i++) {
        rh_ledger_row *row = &ledger.rows[i];
        if (strcmp(row->migration_name, name) == 0 && !row->finished && !row->rolled_back) {
            if (rh_prisma_ledger_mark_rolled_back(conn, row->id, &e) != 0)
                rc = db_failure(conn, res, &e);
            else
                res->n_applied++;
        }
    }
    if (rc != 0)
        goto done;
    char id[37];
    if (rh_prisma_ledger_new_id(id, &e) != 0 || rh_prisma_ledger_insert_applied(conn, id, name, m->checksum, &e) != 0) {
        rc = db_failure(conn, res, &e);
        goto done;
    }
    res->n_applied++;
    rh_buf_printf(&res->out, "%sMigration %s marked as applied.\n\n", profile->major >= 7 ? "\n" : "", name);
done:
    rh_ledger_free(&ledger);
    if (locked)
        rh_exec_advisory_unlock(conn);
    if (rc < 0)
        return -1;
    return res->exit_code;
}

int rh_prisma_resolve_rolled_back(PGconn *conn, const rh_migset *set, const char *name,
                                  const rh_engine_opts *opts, rh_engine_result *res, rh_err *err)
{
    (void)set;
    rh_profile pstore;
    const rh_profile *profile = rh_prisma_profile(opts, &pstore);
    res->exit_code = 0;
    rh_text_prelude(conn, profile, opts ? opts->url_schema : NULL, res);
    if (profile->major < 7)
        rh_buf_puts(&res->out, "\n");
    int locked = 0;
    if (take_lock(conn, opts, res, &locked))
        return res->exit_code;
    rh_ledger ledger = {0};
    rh_err e;
    rh_err_clear(&e);
    int rc = 0, exists = 0;
    if (rh_prisma_ledger_exists(conn, &exists, &e) != 0) {
        if (PQstatus(conn) == CONNECTION_BAD || e.code[0]) {
            rc = db_failure(conn, res, &e);
        } else {
            *err = e;
            rc = -1;
        }
        goto done;
    }
    if (!exists) {
        rh_text_error(res, NULL,
                      "Invariant violation: called markMigrationRolledBack on a database without migrations "
                      "table.");
        rc = 1;
        goto done;
    }
    if (rh_prisma_ledger_load(conn, &ledger, &e) != 0) {
        rc = db_failure(conn, res, &e);
        goto done;
    }
    size_t rows = 0, failed = 0;
    for (size_t i = 0; i < ledger.n; i++) {
        if (strcmp(ledger.rows[i].migration_name, name) != 0)
            continue;
        rows++;
        if (!ledger.rows[i].finished)
            failed++;
    }
    if (rows == 0) {
        char *msg = rh_xasprintf("Migration `%s` cannot be rolled back because it was never applied to the "
                                 "database. Hint: did you pass in the whole migration name? (example: "
                                 "\"20201207184859_initial_migration\")",
                                 name);
        rh_text_error(res, "P3011", msg);
        free(msg);
        rc = 1;
        goto done;
    }
    if (failed == 0) {
        char *msg = rh_xasprintf("Migration `%s` cannot be rolled back because it is not in a failed state.", name);
        rh_text_error(res, "P3012", msg);
        free(msg);
        rc = 1;
        goto done;
    }
    for (size_t i = 0; i < ledger.n && rc == 0; i++) {
        rh_ledger_row *row = &ledger.rows[i];
        if (strcmp(row->migration_name, name) == 0 && !row->finished) {
            if (rh_prisma_ledger_mark_rolled_back(conn, row->id, &e) != 0)
                rc = db_failure(conn, res, &e);
            else
                res->n_applied++;
        }
    }
    if (rc == 0)
        rh_buf_printf(&res->out, "%sMigration %s marked as rolled back.\n\n", profile->major >= 7 ? "\n" : "", name);
done:
    rh_ledger_free(&ledger);
    if (locked)
        rh_exec_advisory_unlock(conn);
    if (rc < 0)
        return -1;
    return res->exit_code;
}
