/*
 * prisma.c — Prisma Migrate behind the tool interface: its descriptor (rh_tool_prisma, the default
 * tool). Its commands and texts are in migrate.c, status.c, text.c and exec.c, its ledger
 * `_prisma_migrations` in ledger.c (declared in prisma.h), its folder reader and checksum rule in
 * folder.c, its version profiles in profile.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/folder.h"
#include "tools/prisma/detect.h"
#include "tools/prisma/folder.h"
#include "tools/prisma/prisma.h"
#include "tools/prisma/profile.h"
#include "tools/tool.h"

/* A file, or a link that leads to one. */
static int is_file(rh_folder *f, const char *rel)
{
    rh_entry_kind k = rh_folder_kind(f, rel);
    if (k != RH_ENTRY_LINK)
        return k == RH_ENTRY_FILE;
    char *data = NULL;
    size_t len = 0;
    rh_err err;
    int yes = rh_folder_read(f, rel, &data, &len, NULL, &err) == 1;
    free(data);
    return yes;
}

/* Prisma's folder: a migration_lock.toml, or a sub-folder holding migration.sql. */
static int prisma_detect(rh_folder *f)
{
    if (is_file(f, "migration_lock.toml"))
        return 1;
    rh_folder_entry *e = NULL;
    size_t n = 0;
    rh_err err;
    if (rh_folder_list(f, "", &e, &n, &err) < 0)
        return 0;
    int found = 0;
    for (size_t i = 0; i < n && !found; i++) {
        if (e[i].name[0] == '.' || (e[i].kind != RH_ENTRY_DIR && e[i].kind != RH_ENTRY_LINK))
            continue;
        char *sql = rh_xasprintf("%s/migration.sql", e[i].name);
        found = is_file(f, sql);
        free(sql);
    }
    rh_folder_entries_free(e, n);
    return found;
}

/* A lock file adds ", LOCK VERSION" to the source (detect.c). */
static int prisma_detect_version(rh_git_repo *repo, const rh_git_rev *rev, const char *near, char *version,
                                 size_t vsize, char *source, size_t ssize, rh_profile_from *from, rh_err *err)
{
    rh_prisma_version pv;
    int found = rh_git_detect_prisma(repo, rev, near, &pv, err);
    if (found == 1) {
        snprintf(version, vsize, "%s", pv.version);
        snprintf(source, ssize, "%s", pv.source);
        *from = strchr(pv.source, ',') ? RH_PROFILE_FROM_LOCK : RH_PROFILE_FROM_PACKAGE;
    }
    return found;
}

static int prisma_checksum_matches(const char *stored, const rh_migration *m)
{
    return rh_prisma_checksum_matches(stored, m->sql, m->sql_len);
}

/* Rows go back with the states they had; ids are new (Prisma never reads them). */
static int prisma_ledger_restore(PGconn *conn, const rh_ledger *rows, rh_err *err)
{
    for (size_t i = 0; i < rows->n; i++) {
        const rh_ledger_row *row = &rows->rows[i];
        char id[37];
        if (rh_prisma_ledger_new_id(id, err) < 0 ||
            rh_prisma_ledger_record_started(conn, id, row->migration_name, row->checksum, err) < 0)
            return -1;
        if (row->logs && rh_prisma_ledger_record_failed(conn, id, row->logs, err) < 0)
            return -1;
        for (int s = 0; s < row->applied_steps_count; s++)
            if (rh_prisma_ledger_record_step(conn, id, err) < 0)
                return -1;
        if ((row->finished && rh_prisma_ledger_record_finished(conn, id, err) < 0) ||
            (row->rolled_back && rh_prisma_ledger_mark_rolled_back(conn, id, err) < 0))
            return -1;
    }
    return 0;
}

static int prisma_deploy(PGconn *conn, const rh_migset *set, const char *arg, const rh_engine_opts *opts,
                         rh_engine_result *res, rh_err *err)
{
    (void)arg;
    return rh_prisma_deploy(conn, set, opts, res, err);
}

static int prisma_status(PGconn *conn, const rh_migset *set, const char *arg, const rh_engine_opts *opts,
                         rh_engine_result *res, rh_err *err)
{
    (void)arg;
    return rh_prisma_status(conn, set, opts, res, err);
}

static int prisma_resolve_applied(PGconn *conn, const rh_migset *set, const char *arg, const rh_engine_opts *opts,
                                  rh_engine_result *res, rh_err *err)
{
    return rh_prisma_resolve_applied(conn, set, arg, opts, res, err);
}

static int prisma_resolve_rolled_back(PGconn *conn, const rh_migset *set, const char *arg,
                                      const rh_engine_opts *opts, rh_engine_result *res, rh_err *err)
{
    return rh_prisma_resolve_rolled_back(conn, set, arg, opts, res, err);
}

static const rh_tool_verb prisma_verbs[] = {
    {"deploy", "prisma migrate deploy", 0, prisma_deploy},
    {"status", "prisma migrate status", 0, prisma_status},
    {"resolve --applied", "prisma migrate resolve --applied", 1, prisma_resolve_applied},
    {"resolve --rolled-back", "prisma migrate resolve --rolled-back", 1, prisma_resolve_rolled_back},
    {NULL, NULL, 0, NULL},
};

/* `rehearse bench deploy`: Prisma's own, beside prisma-oracle and a psql-per-file loop (bench.c). */
static int prisma_bench(const rh_tool_bench_opts *o, rh_buf *report, rh_err *err)
{
    rh_cluster_opts co = {.pg_bin = o->pg_bin, .pg_version = o->pg_version};
    rh_prisma_bench_opts eo = {.migrations_dir = o->migrations_dir, .generate = o->generate, .runs = o->runs,
                               .with_oracle = !o->no_oracle, .with_psql = !o->no_psql, .json = o->json,
                               .cluster = o->cluster ? o->cluster : &co, .prisma_version = o->version};
    return rh_prisma_bench(&eo, report, err);
}

/* P and four digits: Prisma's error codes (P3009 a failed migration in the ledger, P1002 a lock timeout). */
static int prisma_is_error_code(const char *code)
{
    if (strlen(code) != 5 || code[0] != 'P')
        return 0;
    for (int i = 1; i < 5; i++)
        if (code[i] < '0' || code[i] > '9')
            return 0;
    return 1;
}

const rh_tool rh_tool_prisma = {
    .name = "prisma",
    .title = "Prisma",
    .default_migrations = "prisma/migrations",
    .txn = RH_TOOL_TXN_NONE,
    .send = RH_TOOL_SEND_WHOLE, /* the profile says when a version splits (Prisma >= 7.4, unverified) */
    .markers = "",
    .ledger_table = "_prisma_migrations",
    .resumable = RH_TOOL_RESUME_PREFIX, /* migrate.c: resumed migrations print and count as applied by this deploy */
    .detected_by = "NAME/migration.sql folders",
    .file_suffix = "/migration.sql",
    .is_error_code = prisma_is_error_code,
    .error_codes = "P3009, P3018, P1002",
    .detect = prisma_detect,
    .read = rh_prisma_read,
    .history_findings = rh_prisma_history_findings,
    .plan_file = rh_prisma_plan_file,
    .bench = prisma_bench,
    .checksum_matches = prisma_checksum_matches,
    .ledger_exists = rh_prisma_ledger_exists,
    .ledger_create = rh_prisma_ledger_create,
    .ledger_read = rh_prisma_ledger_load,
    .ledger_restore = prisma_ledger_restore,
    .ledger_columns = rh_prisma_ledger_columns,
    .ledger_name_column = "migration_name",
    .ledger_insert_row = rh_prisma_ledger_insert_row,
    .verbs = prisma_verbs,
    .database_url = rh_prisma_database_url,
    .profile_from_version = rh_prisma_profile_from_version,
    .profile_describe = rh_prisma_profile_describe,
    .default_version = RH_PRISMA_DEFAULT_VERSION,
    .version_option = "--prisma-version",
    .detect_version = prisma_detect_version,
    .find_folder = rh_git_default_migrations,
};
