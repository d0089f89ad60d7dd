/*
 * bench.c — the catalog benchmark for `rehearse bench`: build a schema of N tables with M indexes
 * each and time rh_catalog_snapshot() on it (the target: 500 tables, 2,000 indexes, <= 200 ms).
 */
#include "catalog/catalog_int.h"

#include <stdlib.h>
#include <time.h>

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
        if (cat)
            res->objects = rh_catalog_count(cat);
        res->text_bytes = text.len;
        rh_catalog_free(cat);
    }
    if (rc == 0) {
        qsort(t, (size_t)runs, sizeof *t, cmp_long);
        res->median_us = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
        res->min_us = t[0];
        res->max_us = t[runs - 1];
    }
    free(t);
    rh_buf_free(&text);
    return rc;
}
