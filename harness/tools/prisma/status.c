/*
 * status.c — `migrate status`: the schema engine's diagnoseMigrationHistory and the CLI's choice
 * of text (packages/migrate MigrateStatus, 6.19.x), plus rehearse's own findings that Prisma
 * stays silent about: files edited after they were applied, ledger rows whose folder is gone,
 * names whose rows are all rolled back (the next deploy applies them again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/prisma/folder.h"
#include "tools/prisma/prisma_int.h"

static void add_finding(rh_engine_result *res, rh_finding_kind kind, const char *name, char *detail)
{
    res->findings = rh_xrealloc(res->findings, (res->n_findings + 1) * sizeof *res->findings);
    rh_finding *f = &res->findings[res->n_findings++];
    f->kind = kind;
    f->name = rh_xstrdup(name);
    f->detail = detail;
}

/* Whether the ledger has a row for name. skip_rolled_back: only rows not rolled back count (7.10.1's
   status lists a migration whose rows are all rolled back among those not yet applied; 6.19.3's does
   not: both observed with the oracles). */
static int has_row(const rh_ledger *l, const char *name, int skip_rolled_back)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->rows[i].migration_name, name) == 0 && !(skip_rolled_back && l->rows[i].rolled_back))
            return 1;
    return 0;
}

/* rehearse's findings: what a careful reviewer of this ledger and folder would want to know. */
static void findings(const rh_migset *set, const rh_ledger *l, rh_engine_result *res)
{
    const char *origin = set->origin ? set->origin : "the migrations folder";
    for (size_t i = 0; i < l->n; i++) {
        const rh_ledger_row *row = &l->rows[i];
        int first = 1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(l->rows[j].migration_name, row->migration_name) == 0)
                first = 0;
        const rh_migration *m = rh_migset_find(set, row->migration_name);
        if (!m) {
            if (first)
                add_finding(res, RH_FINDING_FOLDER_GONE, row->migration_name,
                            rh_xasprintf("in the ledger (started %s) but no such folder in %s",
                                         row->started_at_text, origin));
            continue;
        }
        if (!row->finished && !row->rolled_back)
            add_finding(res, RH_FINDING_FAILED_ROW, row->migration_name,
                        rh_xasprintf("failed (started %s); deploy stops with P3009 until it is resolved",
                                     row->started_at_text));
        if (row->finished && !row->rolled_back && m->sql &&
            !rh_prisma_checksum_matches(row->checksum, m->sql, m->sql_len))
            add_finding(res, RH_FINDING_EDITED_AFTER_APPLY, row->migration_name,
                        rh_xasprintf("%s/migration.sql in %s has checksum %s; the ledger recorded %s when it "
                                     "was applied (%s)",
                                     m->name, origin, m->checksum, row->checksum, row->started_at_text));
    }
    for (size_t i = 0; i < set->n; i++) {
        size_t rows = 0, live = 0;
        for (size_t j = 0; j < l->n; j++) {
            if (strcmp(l->rows[j].migration_name, set->items[i].name) != 0)
                continue;
            rows++;
            live += !l->rows[j].rolled_back;
        }
        if (rows > 0 && live == 0)
            add_finding(res, RH_FINDING_WILL_REAPPLY, set->items[i].name,
                        rows > 1 ? rh_xasprintf("all %zu ledger rows are rolled back: the next deploy applies "
                                                "it again",
                                                rows)
                                 : rh_xstrdup("its only ledger row is rolled back: the next deploy applies it "
                                              "again"));
    }
}

/* Ledger tables in schemas the unqualified name does not resolve to: Prisma never reads them. */
static void hidden_ledgers(PGconn *conn, rh_engine_result *res)
{
    PGresult *r = PQexec(conn, "SELECT n.nspname, (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid"
                               " AND a.attnum > 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                               " WHERE c.relname = '_prisma_migrations' AND c.relkind IN ('r', 'p')"
                               " AND c.oid IS DISTINCT FROM to_regclass('_prisma_migrations') ORDER BY 1");
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQntuples(r); i++)
            add_finding(res, RH_FINDING_HIDDEN_LEDGER, "_prisma_migrations",
                        rh_xasprintf("a ledger table exists in schema \"%s\", outside the search_path Prisma "
                                     "uses: Prisma does not read it (deploy starts a new ledger and applies "
                                     "everything again)",
                                     PQgetvalue(r, i, 0)));
    }
    PQclear(r);
}

/* Names joined by "\n". */
static void join(rh_buf *b, char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rh_buf_printf(b, "%s%s", i ? "\n" : "", names[i]);
}

int rh_prisma_status(PGconn *conn, const rh_migset *set, const rh_engine_opts *opts, rh_engine_result *res,
                     rh_err *err)
{
    rh_profile pstore;
    const rh_profile *profile = rh_prisma_profile(opts, &pstore);
    res->exit_code = 0;
    rh_text_prelude(conn, profile, opts ? opts->url_schema : NULL, res);
    res->n_found = set->n;
    rh_text_found(&res->out, set->n);

    rh_err e;
    rh_err_clear(&e);
    int exists = 0;
    rh_ledger l = {0};
    if (rh_prisma_ledger_exists(conn, &exists, &e) != 0) {
        if (PQstatus(conn) == CONNECTION_BAD || e.code[0]) {
            rh_text_error(res, NULL, e.msg);
            return res->exit_code;
        }
        *err = e;
        return -1;
    }
    if (exists && rh_prisma_ledger_load(conn, &l, &e) != 0) {
        rh_text_error(res, NULL, e.msg);
        return res->exit_code;
    }

    /* diagnoseMigrationHistory */
    char **failed = rh_xcalloc(l.n + 1, sizeof *failed), **unapplied = rh_xcalloc(set->n + 1, sizeof *unapplied),
         **unpersisted = rh_xcalloc(l.n + 1, sizeof *unpersisted);
    size_t nf = 0, nu = 0, nup = 0;
    long first_unapplied = -1;
    for (size_t i = 0; i < l.n; i++) {
        if (!l.rows[i].finished && !l.rows[i].rolled_back)
            failed[nf++] = l.rows[i].migration_name;
        if (!rh_migset_find(set, l.rows[i].migration_name))
            unpersisted[nup++] = l.rows[i].migration_name;
    }
    for (size_t i = 0; i < set->n; i++) {
        if (!has_row(&l, set->items[i].name, profile->major >= 7)) {
            if (first_unapplied < 0)
                first_unapplied = (long)i;
            unapplied[nu++] = set->items[i].name;
        }
    }
    res->n_pending = nu;

    rh_buf b;
    rh_buf_init(&b);
    if (nu > 0 && nup == 0) {
        /* databaseIsBehind */
        rh_buf_printf(&res->out, "Following migration%s have not yet been applied:\n", nu > 1 ? "s" : "");
        join(&res->out, unapplied, nu);
        rh_buf_puts(&res->out, "\n\nTo apply migrations in development run prisma migrate dev.\n"
                               "To apply migrations in production run prisma migrate deploy.\n");
        res->exit_code = 1;
    } else if (nu > 0 && nup > 0) {
        /* historiesDiverge */
        const char *common = first_unapplied > 0 ? set->items[first_unapplied - 1].name : "null";
        rh_buf_printf(&res->errout,
                      "Your local migration history and the migrations table from your database are "
                      "different:\n\nThe last common migration is: %s\n\nThe migration%s have not yet been "
                      "applied:\n",
                      common, nu > 1 ? "s" : "");
        join(&res->errout, unapplied, nu);
        rh_buf_printf(&res->errout, "\n\nThe migration%s from the database are not found locally in "
                                    "prisma/migrations:\n", nup > 1 ? "s" : "");
        join(&res->errout, unpersisted, nup);
        rh_buf_puts(&res->errout, "\n");
        res->exit_code = 1;
    } else if (exists) {
        if (nf > 0) {
            rh_buf_printf(&res->errout, "Following migration%s have failed:\n", nf > 1 ? "s" : "");
            join(&res->errout, failed, nf);
            rh_buf_printf(&res->errout,
                          "\n\nDuring development if the failed migration(s) have not been deployed to a "
                          "production database you can then fix the migration(s) and run prisma migrate dev.\n\n"
                          "The failed migration(s) can be marked as rolled back or applied:\n      \n"
                          "- If you rolled back the migration(s) manually:\n"
                          "prisma migrate resolve --rolled-back \"%s\"\n\n"
                          "- If you fixed the database manually (hotfix):\n"
                          "prisma migrate resolve --applied \"%s\"\n\n"
                          "Read more about how to resolve migration issues in a production database:\n"
                          "https://pris.ly/d/migrate-resolve\n",
                          failed[0], failed[0]);
            res->exit_code = 1;
        } else {
            rh_buf_puts(&res->out, "\nDatabase schema is up to date!\n");
        }
    } else if (set->n == 0) {
        /* 6.19.3 prints a line of eight spaces here, 7.10.1 an empty one (both oracles) */
        rh_buf_printf(&res->errout, "The current database is not managed by Prisma Migrate.\n%s\n"
                                    "Read more about how to baseline an existing production database:\n"
                                    "https://pris.ly/d/migrate-baseline\n",
                      profile->major >= 7 ? "" : "        ");
        res->exit_code = 1;
    } else {
        rh_buf_printf(&res->errout,
                      "The current database is not managed by Prisma Migrate.\n\nIf you want to keep the "
                      "current database structure and data and create new migrations, baseline this database "
                      "with the migration \"%s\":\nprisma migrate resolve --applied \"%s\"\n\nRead more about "
                      "how to baseline an existing production database:\nhttps://pris.ly/d/migrate-baseline\n",
                      set->items[0].name, set->items[0].name);
        res->exit_code = 1;
    }
    rh_buf_free(&b);
    findings(set, &l, res);
    hidden_ledgers(conn, res);
    free(failed);
    free(unapplied);
    free(unpersisted);
    rh_ledger_free(&l);
    return res->exit_code;
}
