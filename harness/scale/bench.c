/*
 * bench.c — `rehearse bench scale`: rows per second of the filler on a typical 10-column Prisma
 * table (text cuid id, unique e-mail, enum, timestamps, nullable columns with a null fraction),
 * in a fresh cluster; the table is emptied (TRUNCATE) before each run. Timings live only here.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "scale/scale.h"
#include "scale/scale_bench.h"
#include "util/stats.h"

static const char bench_schema[] =
    "CREATE TYPE \"Role\" AS ENUM ('USER', 'ADMIN', 'EDITOR');"
    "CREATE TABLE \"User\" (\"id\" TEXT NOT NULL, \"email\" TEXT NOT NULL, \"name\" TEXT, "
    "\"role\" \"Role\" NOT NULL, \"createdAt\" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "
    "\"updatedAt\" TIMESTAMP(3) NOT NULL, \"age\" INTEGER, \"score\" DOUBLE PRECISION NOT NULL, "
    "\"active\" BOOLEAN NOT NULL DEFAULT true, \"data\" JSONB, CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"));"
    "CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");";

static const char bench_stats[] =
    "{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": \"User\", \"rows\": 0, "
    "\"table_bytes\": -1, \"index_bytes\": -1, \"dead_tuples\": -1, \"columns\": ["
    "{\"name\": \"name\", \"null_frac\": 0.2, \"n_distinct\": -0.5, \"avg_width\": 14},"
    "{\"name\": \"age\", \"null_frac\": 0.5, \"n_distinct\": 90, \"avg_width\": 4},"
    "{\"name\": \"role\", \"null_frac\": 0, \"n_distinct\": 3, \"avg_width\": 4},"
    "{\"name\": \"data\", \"null_frac\": 0.7, \"n_distinct\": -0.3, \"avg_width\": 20}]}]}";

int rh_scale_bench(const rh_cluster_opts *co, long long rows, int runs, int json, rh_buf *out, rh_err *err)
{
    rh_cluster *c = NULL;
    if (rh_cluster_start(&c, co, err) < 0)
        return -1;
    int rc = -1;
    double *rate = rh_xcalloc((size_t)runs, sizeof *rate), *secs = rh_xcalloc((size_t)runs, sizeof *secs);
    rh_scale s = {0};
    PGconn *conn = NULL;
    if (rh_cluster_create_db(c, "bench_scale", err) < 0 || !(conn = rh_cluster_connect(c, "bench_scale", err)))
        goto out;
    PGresult *r = PQexec(conn, bench_schema);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        rh_err_set(err, "bench schema: %s", PQresultErrorMessage(r));
    PQclear(r);
    if (!ok || rh_scale_parse(&s, bench_stats, "bench stats", err) < 0)
        goto out;
    s.tables[0].rows = rows;
    for (int i = 0; i < runs; i++) {
        PQclear(PQexec(conn, "TRUNCATE \"User\""));
        rh_scale_fill_result fr;
        if (rh_scale_fill(conn, &s, &fr, err) < 0)
            goto out;
        int full = fr.n == 1 && fr.rows == rows;
        if (!full)
            rh_err_set(err, "the filler inserted %lld of %lld rows: %s", fr.rows, rows,
                       fr.n && fr.tables[0].note ? fr.tables[0].note : "no table filled");
        secs[i] = fr.ms / 1000;
        rate[i] = fr.ms > 0 ? (double)fr.rows / (fr.ms / 1000) : 0;
        rh_scale_fill_result_free(&fr);
        if (!full)
            goto out;
    }
    rh_stats rs = rh_stats_of(rate, (size_t)runs), ss = rh_stats_of(secs, (size_t)runs);
    if (json) {
        rh_buf_printf(out, "{\"benchmark\": \"scale\", \"table\": \"User\", \"columns\": 10, \"rows\": %lld, "
                           "\"runs\": %d, \"rows_per_s\": ", rows, runs);
        rh_stats_json(out, rs);
        rh_buf_puts(out, ", \"seconds\": ");
        rh_stats_json(out, ss);
        rh_buf_puts(out, "}\n");
    } else {
        rh_buf_printf(out, "scale benchmark: fill a 10-column Prisma table (text id, unique email, enum, timestamps, "
                           "4 nullable) with %lld rows, server-side, %d runs\n"
                           "  median %.0f rows/s (min %.0f, max %.0f); median %.2f s per fill "
                           "(target >= 1 000 000 rows/s)\n",
                      rows, runs, rs.median, rs.min, rs.max, ss.median);
    }
    rc = 0;
out:
    rh_scale_free(&s);
    PQfinish(conn);
    free(rate);
    free(secs);
    rh_err ignored;
    rh_cluster_stop(c, &ignored);
    return rc;
}
