/*
 * bench.c — the catalog benchmark for `rehearse bench`: build a schema of N tables with M indexes
 * each and time rh_catalog_snapshot() on it (the target: 500 tables, 2,000 indexes, <= 200 ms).
 */
#include "catalog/catalog_int.h"

#include <stdlib.h>
#include <time.h>

#include "cluster/cluster.h"

static long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

/* Tables shaped like a Prisma schema: id primary key, text/timestamp/enum columns, a foreign key. */
static void build_sql(rh_buf *sql, int tables, int indexes_per_table)
{
    rh_buf_puts(sql, "CREATE TYPE \"Status\" AS ENUM ('ACTIVE', 'PAUSED', 'DELETED');\n");
    for (int t = 1; t <= tables; t++) {
        rh_buf_printf(sql,
                      "CREATE TABLE \"Table%04d\" (\"id\" SERIAL NOT NULL, \"name\" TEXT NOT NULL, "
                      "\"email\" VARCHAR(255), \"status\" \"Status\" NOT NULL DEFAULT 'ACTIVE', "
                      "\"parentId\" INTEGER, \"createdAt\" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "
                      "\"updatedAt\" TIMESTAMP(3) NOT NULL, CONSTRAINT \"Table%04d_pkey\" PRIMARY KEY (\"id\"));\n",
                      t, t);
        static const char *const cols[] = {"name", "email", "status", "parentId", "createdAt", "updatedAt"};
        for (int i = 1; i < indexes_per_table; i++)
            rh_buf_printf(sql, "CREATE %sINDEX \"Table%04d_%s_idx%d\" ON \"Table%04d\"(\"%s\");\n",
                          i == 2 ? "UNIQUE " : "", t, cols[(i - 1) % 6], i, t, cols[(i - 1) % 6]);
        if (t > 1)
            rh_buf_printf(sql,
                          "ALTER TABLE \"Table%04d\" ADD CONSTRAINT \"Table%04d_parentId_fkey\" FOREIGN KEY "
                          "(\"parentId\") REFERENCES \"Table%04d\"(\"id\") ON DELETE SET NULL ON UPDATE CASCADE;\n",
                          t, t, t - 1);
    }
}

int rh_catalog_bench(PGconn *conn, int tables, int indexes_per_table, int runs, rh_catalog_bench_result *res,
                     rh_err *err)
{
    if (tables < 1 || indexes_per_table < 1 || runs < 1)
        return rh_err_set(err, "catalog bench: tables, indexes per table and runs must be positive");
    rh_buf sql;
    rh_buf_init(&sql);
    build_sql(&sql, tables, indexes_per_table);
    PGresult *r = PQexec(conn, sql.data);
    rh_buf_free(&sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        rh_err_set(err, "catalog bench: building the schema failed: %s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    PQclear(PQexec(conn, "ANALYZE"));
    long *t = rh_xcalloc((size_t)runs, sizeof *t);
    rh_buf text;
    rh_buf_init(&text);
    int rc = 0;
    for (int i = 0; i < runs && rc == 0; i++) {
        rh_catalog *cat = NULL;
        long t0 = now_us();
        rc = rh_catalog_snapshot(conn, NULL, &cat, err);
        if (rc == 0) {
            rh_buf_reset(&text);
            rh_catalog_text(cat, &text);
        }
        t[i] = now_us() - t0;
        if (i == 0)
            res->first_us = t[i];
        if (cat)
            res->objects = rh_catalog_count(cat);
        res->text_bytes = text.len;
        rh_catalog_free(cat);
    }
    if (rc == 0 && runs > 1) {
        /* the first run pays for cold caches; it is reported apart and left out of the median */
        qsort(t + 1, (size_t)runs - 1, sizeof *t, cmp_long);
        int n = runs - 1;
        long *w = t + 1;
        res->median_us = n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2;
        res->min_us = w[0];
        res->max_us = w[n - 1];
    } else if (rc == 0) {
        qsort(t, (size_t)runs, sizeof *t, cmp_long);
        res->median_us = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
        res->min_us = t[0];
        res->max_us = t[runs - 1];
    }
    free(t);
    rh_buf_free(&text);
    return rc;
}

int rh_catalog_bench_run(const void *cluster_opts, int tables, int indexes_per_table, int runs, int json,
                         rh_buf *out, rh_err *err)
{
    rh_cluster *c = NULL;
    rh_cluster_opts defaults = {0};
    const rh_cluster_opts *co = cluster_opts ? cluster_opts : &defaults;
    if (tables <= 0)
        tables = 500;
    if (indexes_per_table <= 0)
        indexes_per_table = 4;
    if (rh_cluster_start(&c, co, err) < 0)
        return rh_err_prefix(err, "catalog bench");
    PGconn *conn = NULL;
    int rc = rh_cluster_create_db(c, "catalog_bench", err);
    if (rc == 0 && !(conn = rh_cluster_connect(c, "catalog_bench", err)))
        rc = -1;
    rh_catalog_bench_result r = {0};
    if (rc == 0)
        rc = rh_catalog_bench(conn, tables, indexes_per_table, runs, &r, err);
    PQfinish(conn);
    rh_err stop_err;
    rh_cluster_stop(c, &stop_err);
    if (rc < 0)
        return -1;
    int nindexes = tables * indexes_per_table;
    if (json)
        rh_buf_printf(out,
                      "{\"benchmark\": \"catalog\", \"tables\": %d, \"indexes\": %d, \"runs\": %d, "
                      "\"objects\": %zu, \"text_bytes\": %zu, \"first_ms\": %.1f, \"median_ms\": %.1f, "
                      "\"min_ms\": %.1f, \"max_ms\": %.1f, \"target_ms\": 200}\n",
                      tables, nindexes, runs, r.objects, r.text_bytes, r.first_us / 1000.0, r.median_us / 1000.0,
                      r.min_us / 1000.0, r.max_us / 1000.0);
    else
        rh_buf_printf(out,
                      "catalog snapshot: %d tables, %d indexes, %zu objects, %zu bytes of text\n"
                      "  first (cold caches) %.1f ms; then median %.1f ms, min %.1f, max %.1f over %d runs "
                      "(target <= 200 ms)\n",
                      tables, nindexes, r.objects, r.text_bytes, r.first_us / 1000.0, r.median_us / 1000.0,
                      r.min_us / 1000.0, r.max_us / 1000.0, runs > 1 ? runs - 1 : 1);
    return 0;
}
