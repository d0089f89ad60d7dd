/*
 * bench.c — `rehearse bench check`: the whole check on a generated repository whose last commit
 * holds `history` migrations (tables, columns, indexes, foreign keys, enums) and whose work tree adds
 * `added` more (ADD COLUMN ... NOT NULL DEFAULT, CREATE INDEX, CREATE INDEX CONCURRENTLY), the shape of
 * a pull request in CI. Target: <= 3 s for 150 + 3.
 */
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "check/check.h"
#include "check/check_int.h"
#include "cluster/cluster.h"
#include "source/git.h"
#include "source/loader.h"
#include "tools/tool.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/stats.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Migration i of the generated history: every fifth creates a table, the others change one. */
static char *history_sql(int i)
{
    int table = i / 5;
    rh_buf b;
    rh_buf_init(&b);
    switch (i % 5) {
    case 0:
        rh_buf_printf(&b,
                      "-- CreateTable\nCREATE TABLE \"Table%d\" (\n    \"id\" SERIAL NOT NULL,\n    \"name\" TEXT NOT NULL,\n"
                      "    \"createdAt\" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,\n",
                      table);
        if (table > 0)
            rh_buf_printf(&b, "    \"parentId\" INTEGER,\n");
        rh_buf_printf(&b, "    CONSTRAINT \"Table%d_pkey\" PRIMARY KEY (\"id\")\n);\n", table);
        if (table > 0)
            rh_buf_printf(&b,
                          "\n-- AddForeignKey\nALTER TABLE \"Table%d\" ADD CONSTRAINT \"Table%d_parentId_fkey\" FOREIGN KEY "
                          "(\"parentId\") REFERENCES \"Table%d\"(\"id\") ON DELETE SET NULL ON UPDATE CASCADE;\n",
                          table, table, table - 1);
        break;
    case 1:
        rh_buf_printf(&b, "-- AlterTable\nALTER TABLE \"Table%d\" ADD COLUMN \"email\" TEXT,\nADD COLUMN \"score\" INTEGER "
                          "NOT NULL DEFAULT 0;\n", table);
        break;
    case 2:
        rh_buf_printf(&b, "-- CreateIndex\nCREATE UNIQUE INDEX \"Table%d_email_key\" ON \"Table%d\"(\"email\");\n\n"
                          "-- CreateIndex\nCREATE INDEX \"Table%d_createdAt_idx\" ON \"Table%d\"(\"createdAt\");\n",
                      table, table, table, table);
        break;
    case 3:
        rh_buf_printf(&b, "-- CreateEnum\nCREATE TYPE \"Status%d\" AS ENUM ('ACTIVE', 'PAUSED', 'DONE');\n\n"
                          "-- AlterTable\nALTER TABLE \"Table%d\" ADD COLUMN \"status\" \"Status%d\" NOT NULL DEFAULT 'ACTIVE';\n",
                      table, table, table);
        break;
    default:
        rh_buf_printf(&b, "-- AlterTable\nALTER TABLE \"Table%d\" ALTER COLUMN \"name\" SET DATA TYPE VARCHAR(200);\n"
                          "UPDATE \"Table%d\" SET \"score\" = 1 WHERE \"score\" = 0;\n",
                      table, table);
        break;
    }
    return rh_buf_steal(&b);
}

/* The pull request's migrations: a locking column, an index, a concurrent index alone (concurrent: the tool
   can send it outside a transaction as written; dbmate and drizzle-kit wrap these files in theirs). */
static char *added_sql(int j, int tables, int concurrent)
{
    int t = j % (tables ? tables : 1);
    switch (j % 3) {
    case 0:
        return rh_xasprintf("ALTER TABLE \"Table%d\" ADD COLUMN \"updatedAt\" TIMESTAMP(3) NOT NULL DEFAULT now();\n", t);
    case 1:
        return rh_xasprintf("CREATE INDEX \"Table%d_name_idx\" ON \"Table%d\"(\"name\");\n", t, t);
    default:
        return rh_xasprintf("CREATE INDEX%s \"Table%d_score_idx\" ON \"Table%d\"(\"score\");\n",
                            concurrent ? " CONCURRENTLY" : "", t, t);
    }
}

/* Another tool's folder (its write_history) holding the first n of the generated migrations. */
static int write_tool_folder(const char *dir, const rh_tool *tool, int history, int n, rh_err *err)
{
    char **sql = rh_xcalloc((size_t)n, sizeof *sql);
    for (int i = 0; i < n; i++)
        sql[i] = i < history ? history_sql(i) : added_sql(i - history, (history + 4) / 5, 0);
    char *folder = rh_xasprintf("%s/%s", dir, tool->default_migrations);
    int rc = tool->write_history(folder, sql, n, err);
    free(folder);
    for (int i = 0; i < n; i++)
        free(sql[i]);
    free(sql);
    return rc;
}

static int write_migration(const char *repo, int seq, const char *sql, rh_err *err)
{
    char *path = rh_xasprintf("%s/prisma/migrations/20250101%06d_step_%d", repo, seq, seq);
    int rc = rh_fs_mkdir_p(path, 0755, err);
    if (rc == 0) {
        char *file = rh_xasprintf("%s/migration.sql", path);
        rc = rh_fs_write(file, sql, strlen(sql), 0644, err);
        free(file);
    }
    free(path);
    return rc;
}

static int lg2(int rc, const char *what, rh_err *err)
{
    if (rc < 0) {
        const git_error *e = git_error_last();
        return rh_err_set(err, "bench check fixture: %s: %s", what, e && e->message ? e->message : "?");
    }
    return 0;
}

/* A repository with the history committed on main and the added migrations on disk only; in the layout of
   tool (NULL or the default tool: Prisma's folders). */
static int build_fixture(const char *dir, const rh_tool *tool, int history, int added, rh_err *err)
{
    int rc = 0;
    if (tool && tool != RH_TOOL_DEFAULT) {
        if (write_tool_folder(dir, tool, history, history, err) < 0)
            return -1;
    } else {
        for (int i = 0; i < history; i++) {
            char *sql = history_sql(i);
            rc = write_migration(dir, i + 1, sql, err);
            free(sql);
            if (rc < 0)
                return -1;
        }
        char *lock = rh_xasprintf("%s/prisma/migrations/migration_lock.toml", dir);
        rc = rh_fs_write(lock, "provider = \"postgresql\"\n", 24, 0644, err);
        free(lock);
        if (rc < 0)
            return -1;
    }

    rh_git_init();
    git_repository *repo = NULL;
    git_index *index = NULL;
    git_tree *tree = NULL;
    git_signature *sig = NULL;
    git_oid tree_id, commit_id;
    git_repository_init_options o;
    git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
    o.flags = GIT_REPOSITORY_INIT_MKPATH;
    o.initial_head = "main";
    rc = -1;
    if (lg2(git_repository_init_ext(&repo, dir, &o), "init", err) < 0 ||
        lg2(git_repository_index(&index, repo), "index", err) < 0 ||
        lg2(git_index_add_all(index, NULL, 0, NULL, NULL), "add", err) < 0 ||
        lg2(git_index_write(index), "write index", err) < 0 ||
        lg2(git_index_write_tree(&tree_id, index), "write tree", err) < 0 ||
        lg2(git_tree_lookup(&tree, repo, &tree_id), "tree", err) < 0 ||
        lg2(git_signature_new(&sig, "rehearse bench", "bench@example.invalid", 1700000000, 0), "signature", err) < 0 ||
        lg2(git_commit_create(&commit_id, repo, "HEAD", sig, sig, NULL, "history", tree, 0, NULL), "commit", err) < 0)
        goto out;
    rc = 0;
    if (tool && tool != RH_TOOL_DEFAULT)
        rc = write_tool_folder(dir, tool, history, history + added, err);
    for (int j = 0; j < added && rc == 0 && !(tool && tool != RH_TOOL_DEFAULT); j++) {
        char *sql = added_sql(j, (history + 4) / 5, 1);
        rc = write_migration(dir, history + j + 1, sql, err);
        free(sql);
    }
out:
    git_signature_free(sig);
    git_tree_free(tree);
    git_index_free(index);
    git_repository_free(repo);
    return rc;
}

int rh_check_bench(const rh_check_bench_opts *opts, rh_buf *report, rh_err *err)
{
    int history = opts && opts->history > 0 ? opts->history : 150;
    int added = opts && opts->added > 0 ? opts->added : 3;
    int runs = opts && opts->runs > 0 ? opts->runs : 3;
    char tmpl[] = "/tmp/rehearse-bench-check-XXXXXX";
    if (!mkdtemp(tmpl))
        return rh_err_errno(err, "bench check: mkdtemp");
    int rc = -1;
    double *total = rh_xcalloc((size_t)runs, sizeof *total);
    double *parts[7];
    for (int k = 0; k < 7; k++)
        parts[k] = rh_xcalloc((size_t)runs, sizeof(double));
    size_t errors = 0, warnings = 0;
    if (build_fixture(tmpl, NULL, history, added, err) < 0)
        goto out;
    for (int i = 0; i < runs; i++) {
        /* the whole check, cold: `bench check-cache` measures the deployed-state cache */
        rh_check_opts o = {.repo = tmpl, .base = "HEAD", .no_cache = 1, .pg_bin = opts ? opts->pg_bin : NULL,
                           .pg_version = opts ? opts->pg_version : NULL};
        rh_check_result res;
        double t0 = now_ms();
        if (rh_check_run(&o, &res, err) < 0) {
            rh_check_result_free(&res);
            rh_err_prefix(err, "bench check run %d", i + 1);
            goto out;
        }
        total[i] = now_ms() - t0;
        parts[0][i] = res.ms_cluster;
        parts[1][i] = res.ms_clean;
        parts[2][i] = res.ms_upgrade;
        parts[3][i] = res.ms_locks;
        parts[4][i] = res.ms_catalog;
        parts[5][i] = res.ms_history;
        parts[6][i] = res.ms_stop;
        errors = rh_check_count(&res, RH_CHECK_ERROR);
        warnings = rh_check_count(&res, RH_CHECK_WARNING) - errors;
        if (res.n_added != (size_t)added) {
            rh_err_set(err, "bench check: expected %d new migrations, the check saw %zu", added, res.n_added);
            rh_check_result_free(&res);
            goto out;
        }
        rh_check_result_free(&res);
    }
    static const char *const names[] = {"cluster", "clean_deploy", "upgrade_path", "locks", "catalog", "history", "stop"};
    rh_stats s = rh_stats_of(total, (size_t)runs);
    if (opts && opts->json) {
        rh_buf_printf(report, "{\"benchmark\":\"check\",\"history\":%d,\"added\":%d,\"runs\":%d,\"target_ms\":3000,"
                              "\"total_ms\":", history, added, runs);
        rh_stats_json(report, s);
        for (int k = 0; k < 7; k++) {
            rh_buf_printf(report, ",\"%s_ms\":", names[k]);
            rh_stats_json(report, rh_stats_of(parts[k], (size_t)runs));
        }
        rh_buf_printf(report, ",\"errors\":%zu,\"warnings\":%zu,\"within_target\":%s}\n", errors, warnings,
                      s.median <= 3000 ? "true" : "false");
    } else {
        rh_buf_printf(report, "rehearse check: %d migrations at base + %d new (WORKTREE), %d run(s)\n", history, added,
                      runs);
        rh_buf_printf(report, "  total         median %8.1f ms  min %8.1f  max %8.1f   (target <= 3000 ms: %s)\n",
                      s.median, s.min, s.max, s.median <= 3000 ? "met" : "MISSED");
        for (int k = 0; k < 7; k++) {
            rh_stats p = rh_stats_of(parts[k], (size_t)runs);
            rh_buf_printf(report, "  %-13s median %8.1f ms\n", names[k], p.median);
        }
        rh_buf_printf(report, "  findings: %zu error(s), %zu warning(s) (expected: the ADD COLUMN's AccessExclusiveLock)\n",
                      errors, warnings);
    }
    rc = 0;
out:
    free(total);
    for (int k = 0; k < 7; k++)
        free(parts[k]);
    rh_err e2;
    rh_fs_rmtree(tmpl, &e2);
    return rc;
}

/* Where a check's time went, part by part (check.h's ms_*; indented names are parts of the one above). */
#define N_PARTS 13
static const char *const part_names[N_PARTS] = {
    "history", "cache lookup", "cluster", "  copy", "  server start", "  passwords", "clean deploy",
    "upgrade path", "  base", "locks", "catalog", "stop", "  publish"};

static void parts_of(const rh_check_result *r, double *p)
{
    const double v[N_PARTS] = {r->ms_history, r->ms_lookup, r->ms_cluster, r->ms_copy, r->ms_ready, r->ms_auth,
                               r->ms_clean, r->ms_upgrade, r->ms_base, r->ms_locks, r->ms_catalog, r->ms_stop,
                               r->ms_publish};
    memcpy(p, v, sizeof v);
}

/* CPU time so far of this process and of its waited-for children (a check's server and its backends: the
   postmaster is waited for when the cluster stops, after it waited for its backends), in ms. */
static double cpu_ms(void)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    return (self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) * 1000.0 +
           (self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) / 1000.0;
}

/* One check of the fixture; cached: base's state from the cache (0: --no-cache); parts: N_PARTS (may be NULL);
   cpu: the CPU time it took, rehearse's and its servers' (may be NULL). */
static int one_check(const char *repo, const rh_check_bench_opts *opts, int cached, double *ms, size_t *from_cache,
                     double *parts, double *cpu, rh_err *err)
{
    rh_check_opts o = {.repo = repo, .base = "HEAD", .no_cache = !cached, .pg_bin = opts ? opts->pg_bin : NULL,
                       .pg_version = opts ? opts->pg_version : NULL};
    rh_check_result res;
    double t0 = now_ms(), c0 = cpu_ms();
    const rh_tool *tool = opts ? opts->tool : NULL;
    int rc = tool && tool != RH_TOOL_DEFAULT ? rh_check_tool(tool, &o, &res, err) : rh_check_run(&o, &res, err);
    *ms = now_ms() - t0;
    if (cpu)
        *cpu = cpu_ms() - c0;
    *from_cache = res.cached;
    if (parts)
        parts_of(&res, parts);
    rh_check_result_free(&res);
    return rc;
}

/* Start and stop a cluster from the template (state NULL) or from a deployed state; the start's wall time
   and its parts (copy, server start, passwords). */
static int one_start(const rh_cluster_opts *co, double *ms, double part[3], rh_err *err)
{
    rh_cluster *c = NULL;
    double t0 = now_ms();
    if (rh_cluster_start(&c, co, err) < 0)
        return -1;
    *ms = now_ms() - t0;
    rh_cluster_timing t = rh_cluster_last_timing(c);
    part[0] = t.copy_us / 1000.0;
    part[1] = t.ready_us / 1000.0;
    part[2] = t.auth_us / 1000.0;
    return rh_cluster_stop(c, err);
}

/* The median of column k of rows x n values. */
static double column_median(const double *rows, int nrows, int n, int k)
{
    double *col = rh_xcalloc((size_t)nrows, sizeof *col);
    for (int i = 0; i < nrows; i++)
        col[i] = rows[i * n + k];
    double m = rh_stats_of(col, (size_t)nrows).median;
    free(col);
    return m;
}

int rh_check_bench_cache(const rh_check_bench_opts *opts, rh_buf *report, rh_err *err)
{
    int history = opts && opts->history > 0 ? opts->history : 250;
    int added = opts && opts->added > 0 ? opts->added : 3;
    int runs = opts && opts->runs > 0 ? opts->runs : 3;
    char tmpl[] = "/tmp/rehearse-bench-cache-XXXXXX";
    if (!mkdtemp(tmpl))
        return rh_err_errno(err, "bench check-cache: mkdtemp");
    double *cold = rh_xcalloc((size_t)runs, sizeof *cold), *warm = rh_xcalloc((size_t)runs, sizeof *warm);
    double *fresh = rh_xcalloc((size_t)runs, sizeof *fresh), *hit = rh_xcalloc((size_t)runs, sizeof *hit);
    double *cold_cpu = rh_xcalloc((size_t)runs, sizeof(double)), *warm_cpu = rh_xcalloc((size_t)runs, sizeof(double));
    double *cold_parts = rh_xcalloc((size_t)runs * N_PARTS, sizeof(double));
    double *warm_parts = rh_xcalloc((size_t)runs * N_PARTS, sizeof(double));
    double *fresh_parts = rh_xcalloc((size_t)runs * 3, sizeof(double)), *hit_parts = rh_xcalloc((size_t)runs * 3, sizeof(double));
    const rh_tool *tool = opts && opts->tool ? opts->tool : RH_TOOL_DEFAULT;
    int other = tool != RH_TOOL_DEFAULT;
    rh_loaded base, head;
    memset(&base, 0, sizeof base);
    memset(&head, 0, sizeof head);
    rh_check_cache cc;
    memset(&cc, 0, sizeof cc);
    int rc = -1, loaded = 0;
    size_t n_cached = 0;
    double ms;
    if (build_fixture(tmpl, tool, history, added, err) < 0)
        goto out;
    /* the first check publishes base's state (or finds it from an earlier bench) */
    if (one_check(tmpl, opts, 1, &ms, &n_cached, NULL, NULL, err) < 0)
        goto out;
    /* the state's entry, as check looks it up, for the start-up comparison */
    rh_load_spec sb = {.tool = tool, .repo = tmpl, .rev = "HEAD"}, sh = {.tool = tool, .repo = tmpl, .rev = "WORKTREE"};
    loaded = 1;
    if (rh_source_load(&sb, &base, err) < 0 || rh_source_load(&sh, &head, err) < 0)
        goto out;
    rh_cluster_opts co = {.pg_bin = opts ? opts->pg_bin : NULL, .pg_version = opts ? opts->pg_version : NULL};
    rh_check_cache_find(&cc, 1, tool, other ? NULL : &head.choice.profile, 0, &base.set, &head.set, &co);
    if (!co.state) {
        rh_err_set(err, "bench check-cache: base's state was not cached by the first check (REHEARSE_NO_CACHE set?)");
        goto out;
    }
    rh_cluster_opts plain = co;
    plain.state = NULL;
    for (int i = 0; i < runs; i++) { /* interleaved: the machine's load hits both alike */
        if (one_check(tmpl, opts, 0, &cold[i], &n_cached, cold_parts + i * N_PARTS, &cold_cpu[i], err) < 0 ||
            one_check(tmpl, opts, 1, &warm[i], &n_cached, warm_parts + i * N_PARTS, &warm_cpu[i], err) < 0)
            goto out;
        if (n_cached != (size_t)history) {
            rh_err_set(err, "bench check-cache: the warm check took %zu of %d migrations from the cache", n_cached, history);
            goto out;
        }
        if (one_start(&plain, &fresh[i], fresh_parts + i * 3, err) < 0 || one_start(&co, &hit[i], hit_parts + i * 3, err) < 0)
            goto out;
    }
    rh_stats c = rh_stats_of(cold, (size_t)runs), w = rh_stats_of(warm, (size_t)runs);
    rh_stats f = rh_stats_of(fresh, (size_t)runs), h = rh_stats_of(hit, (size_t)runs);
    double ratio = c.median > 0 ? w.median / c.median : 0;
    rh_stats ccpu = rh_stats_of(cold_cpu, (size_t)runs), wcpu = rh_stats_of(warm_cpu, (size_t)runs);
    static const char *const start_names[3] = {"copy", "server start", "passwords"};
    int met_abs = w.median <= 300, met_ratio = ratio <= 0.25, met_hit = h.median <= f.median + 20;
    if (opts && opts->json) {
        rh_buf_printf(report, "{\"benchmark\":\"check-cache\",\"tool\":\"%s\",\"history\":%d,\"added\":%d,\"runs\":%d,"
                              "\"cold_ms\":", tool->name, history, added, runs);
        rh_stats_json(report, c);
        rh_buf_puts(report, ",\"warm_ms\":");
        rh_stats_json(report, w);
        rh_buf_puts(report, ",\"fresh_cluster_ms\":");
        rh_stats_json(report, f);
        rh_buf_puts(report, ",\"state_cluster_ms\":");
        rh_stats_json(report, h);
        rh_buf_printf(report, ",\"warm_over_cold\":%.3f,\"warm_within_300ms\":%s,\"warm_within_quarter\":%s,"
                              "\"hit_within_20ms\":%s",
                      ratio, met_abs ? "true" : "false", met_ratio ? "true" : "false", met_hit ? "true" : "false");
        rh_buf_printf(report, ",\"cpu_median_ms\":{\"cold\":%.1f,\"warm\":%.1f}", ccpu.median, wcpu.median);
        rh_buf_puts(report, ",\"parts_median_ms\":{");
        for (int k = 0; k < N_PARTS; k++)
            rh_buf_printf(report, "%s\"%s\":{\"cold\":%.1f,\"warm\":%.1f}", k ? "," : "", part_names[k] + strspn(part_names[k], " "),
                          column_median(cold_parts, runs, N_PARTS, k), column_median(warm_parts, runs, N_PARTS, k));
        rh_buf_puts(report, "},\"start_parts_median_ms\":{");
        for (int k = 0; k < 3; k++)
            rh_buf_printf(report, "%s\"%s\":{\"fresh\":%.1f,\"state\":%.1f}", k ? "," : "", start_names[k],
                          column_median(fresh_parts, runs, 3, k), column_median(hit_parts, runs, 3, k));
        rh_buf_puts(report, "}}\n");
    } else {
        rh_buf_printf(report, "rehearse check%s%s, cold (--no-cache) vs warm (base's state cached): %d migrations at base + "
                              "%d new, %d interleaved run(s)\n", other ? " --tool " : "", other ? tool->name : "", history,
                      added, runs);
        rh_buf_printf(report, "  cold           median %8.1f ms  min %8.1f  max %8.1f\n", c.median, c.min, c.max);
        rh_buf_printf(report, "  warm           median %8.1f ms  min %8.1f  max %8.1f   (target <= 300 ms: %s)\n",
                      w.median, w.min, w.max, met_abs ? "met" : "MISSED");
        rh_buf_printf(report, "  warm / cold    %.3f   (target <= 0.25: %s)\n", ratio, met_ratio ? "met" : "MISSED");
        rh_buf_printf(report, "  CPU time (rehearse + its servers, the load's share left out): cold median %.1f ms, warm "
                              "median %.1f ms, warm / cold %.3f\n", ccpu.median, wcpu.median,
                      ccpu.median > 0 ? wcpu.median / ccpu.median : 0);
        rh_buf_printf(report, "  cluster start: fresh (template) median %.1f ms, from the state median %.1f ms "
                              "(target <= fresh + 20 ms: %s)\n", f.median, h.median, met_hit ? "met" : "MISSED");
        rh_buf_puts(report, "    (median ms)       fresh     state\n");
        for (int k = 0; k < 3; k++)
            rh_buf_printf(report, "    %-16s %8.1f  %8.1f\n", start_names[k], column_median(fresh_parts, runs, 3, k),
                          column_median(hit_parts, runs, 3, k));
        rh_buf_puts(report, "  parts (median ms)     cold      warm\n");
        for (int k = 0; k < N_PARTS; k++)
            rh_buf_printf(report, "    %-16s %8.1f  %8.1f\n", part_names[k], column_median(cold_parts, runs, N_PARTS, k),
                          column_median(warm_parts, runs, N_PARTS, k));
    }
    rc = 0;
out:
    rh_check_cache_free(&cc);
    if (loaded) {
        rh_loaded_free(&base);
        rh_loaded_free(&head);
    }
    free(cold);
    free(warm);
    free(fresh);
    free(hit);
    free(cold_parts);
    free(warm_parts);
    free(cold_cpu);
    free(warm_cpu);
    free(fresh_parts);
    free(hit_parts);
    rh_err e2;
    rh_fs_rmtree(tmpl, &e2);
    return rc;
}
