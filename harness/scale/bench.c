/*
 * bench.c — `rehearse bench scale`: rows per second of the filler on two typical 10-column Prisma
 * tables in a fresh cluster: "User" (text cuid id, unique e-mail, enum, timestamps, nullable columns
 * with a null fraction) and "Post" (its child: a foreign key to User with its @@index, a unique slug).
 * Each run fills both tables the bulk way (rh_scale_fill) and the direct way (the same rows through the
 * indexes and foreign-key triggers), interleaved, after a
 * TRUNCATE, so both see the same machine load. Timings live only here. Besides rows/s (wall clock,
 * which the machine's load decides), the CPU seconds the server and rehearse spent per fill: steadier
 * on a shared machine, what a change to the filler should be judged by.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    "CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");"
    "CREATE TABLE \"Post\" (\"id\" TEXT NOT NULL, \"slug\" TEXT NOT NULL, \"title\" TEXT NOT NULL, \"body\" TEXT, "
    "\"published\" BOOLEAN NOT NULL DEFAULT false, \"views\" INTEGER NOT NULL, \"authorId\" TEXT NOT NULL, "
    "\"createdAt\" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, \"updatedAt\" TIMESTAMP(3) NOT NULL, "
    "\"rating\" DOUBLE PRECISION, CONSTRAINT \"Post_pkey\" PRIMARY KEY (\"id\"));"
    "CREATE UNIQUE INDEX \"Post_slug_key\" ON \"Post\"(\"slug\");"
    "CREATE INDEX \"Post_authorId_idx\" ON \"Post\"(\"authorId\");"
    "ALTER TABLE \"Post\" ADD CONSTRAINT \"Post_authorId_fkey\" FOREIGN KEY (\"authorId\") REFERENCES \"User\"(\"id\") "
    "ON DELETE RESTRICT ON UPDATE CASCADE;";

static const char bench_stats[] =
    "{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": \"User\", \"rows\": 0, "
    "\"table_bytes\": -1, \"index_bytes\": -1, \"dead_tuples\": -1, \"columns\": ["
    "{\"name\": \"name\", \"null_frac\": 0.2, \"n_distinct\": -0.5, \"avg_width\": 14},"
    "{\"name\": \"age\", \"null_frac\": 0.5, \"n_distinct\": 90, \"avg_width\": 4},"
    "{\"name\": \"role\", \"null_frac\": 0, \"n_distinct\": 3, \"avg_width\": 4},"
    "{\"name\": \"data\", \"null_frac\": 0.7, \"n_distinct\": -0.3, \"avg_width\": 20}]},"
    "{\"schema\": \"public\", \"name\": \"Post\", \"rows\": 0, \"table_bytes\": -1, \"index_bytes\": -1, "
    "\"dead_tuples\": -1, \"columns\": ["
    "{\"name\": \"title\", \"null_frac\": 0, \"n_distinct\": -0.8, \"avg_width\": 30},"
    "{\"name\": \"body\", \"null_frac\": 0.1, \"n_distinct\": -0.9, \"avg_width\": 60},"
    "{\"name\": \"views\", \"null_frac\": 0, \"n_distinct\": 1000, \"avg_width\": 4},"
    "{\"name\": \"rating\", \"null_frac\": 0.4, \"n_distinct\": 50, \"avg_width\": 8}]}]}";

enum { USER, POST, NTABLES };
static const char *const table_names[NTABLES] = {"User", "Post"};
static const char *const way_names[2] = {"bulk", "direct"};

static double self_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fill both tables once the given way; rows/s per table into rate[table], the CPU seconds of the fill (both
   tables, ANALYZE included) into cpu[0] (the server's; -1 when unknown) and cpu[1] (rehearse's). */
static int fill_once(const rh_cluster *c, PGconn *conn, const rh_scale *s, int direct, long long rows, double rate[NTABLES],
                     double cpu[2], rh_err *err)
{
    PQclear(PQexec(conn, "TRUNCATE \"User\", \"Post\""));
    rh_scale_fill_opts fo = {.direct = direct};
    rh_scale_fill_result fr;
    double server0 = rh_cluster_cpu_s(c), self0 = self_cpu_s();
    if (rh_scale_fill_with(conn, s, &fo, &fr, err) < 0)
        return -1;
    double server1 = rh_cluster_cpu_s(c);
    cpu[0] = server0 >= 0 && server1 >= 0 ? server1 - server0 : -1;
    cpu[1] = self_cpu_s() - self0;
    int rc = 0;
    for (size_t i = 0; i < fr.n; i++) {
        const rh_scale_filled *f = &fr.tables[i];
        int t = strcmp(f->name, "User") == 0 ? USER : POST;
        if (f->inserted != rows) {
            rc = rh_err_set(err, "the filler (%s) inserted %lld of %lld rows into %s: %s", way_names[direct], f->inserted,
                            rows, f->name, f->note ? f->note : "?");
            break;
        }
        rate[t] = f->ms > 0 ? (double)rows / (f->ms / 1000) : 0;
    }
    if (rc == 0 && fr.n != NTABLES)
        rc = rh_err_set(err, "the filler filled %zu of the %d tables", fr.n, NTABLES);
    rh_scale_fill_result_free(&fr);
    return rc;
}

int rh_scale_bench(const rh_cluster_opts *co, long long rows, int runs, int bulk_only, int json, rh_buf *out, rh_err *err)
{
    rh_cluster *c = NULL;
    if (rh_cluster_start(&c, co, err) < 0)
        return -1;
    int rc = -1;
    double *rate[2][NTABLES], *cpu[2][2]; /* cpu[way][0: server, 1: rehearse][run] */
    for (int w = 0; w < 2; w++) {
        for (int t = 0; t < NTABLES; t++)
            rate[w][t] = rh_xcalloc((size_t)runs, sizeof(double));
        for (int k = 0; k < 2; k++)
            cpu[w][k] = rh_xcalloc((size_t)runs, sizeof(double));
    }
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
    for (size_t t = 0; t < s.ntables; t++)
        s.tables[t].rows = rows;
    int ways = bulk_only ? 1 : 2;
    for (int i = 0; i < runs; i++) {
        for (int k = 0; k < ways; k++) { /* alternate which way goes first */
            int w = (i + k) % ways;
            double one[NTABLES] = {0}, used[2] = {0};
            if (fill_once(c, conn, &s, w, rows, one, used, err) < 0)
                goto out;
            for (int t = 0; t < NTABLES; t++)
                rate[w][t][i] = one[t];
            cpu[w][0][i] = used[0];
            cpu[w][1][i] = used[1];
        }
    }
    rh_stats st[2][NTABLES], cst[2][2];
    for (int w = 0; w < 2; w++) {
        for (int t = 0; t < NTABLES; t++)
            st[w][t] = rh_stats_of(rate[w][t], (size_t)runs);
        for (int k = 0; k < 2; k++)
            cst[w][k] = rh_stats_of(cpu[w][k], (size_t)runs);
    }
    static const char *const cpu_names[2] = {"server", "rehearse"};
    if (json) {
        rh_buf_printf(out, "{\"benchmark\": \"scale\", \"columns\": 10, \"rows\": %lld, \"runs\": %d, \"rows_per_s\": {", rows,
                      runs);
        for (int w = 0; w < ways; w++) {
            rh_buf_printf(out, "%s\"%s\": {", w ? ", " : "", way_names[w]);
            for (int t = 0; t < NTABLES; t++) {
                rh_buf_printf(out, "%s\"%s\": ", t ? ", " : "", table_names[t]);
                rh_stats_json(out, st[w][t]);
            }
            rh_buf_puts(out, "}");
        }
        rh_buf_puts(out, "}, \"cpu_s_per_fill\": {"); /* both tables, ANALYZE included; server -1: unknown */
        for (int w = 0; w < ways; w++) {
            rh_buf_printf(out, "%s\"%s\": {", w ? ", " : "", way_names[w]);
            for (int k = 0; k < 2; k++) {
                rh_buf_printf(out, "%s\"%s\": ", k ? ", " : "", cpu_names[k]);
                rh_stats_json(out, cst[w][k]);
            }
            rh_buf_puts(out, "}");
        }
        rh_buf_puts(out, "}}\n");
    } else {
        rh_buf_printf(out, "scale benchmark: fill two 10-column Prisma tables (User: text id, unique email, enum, timestamps, "
                           "4 nullable; Post: its child, foreign key + index, unique slug) with %lld rows each, "
                           "generated by rehearse, binary COPY, %d runs of %s (target >= 1 000 000 rows/s per table)\n",
                      rows, runs, bulk_only ? "the bulk way" : "each way, interleaved");
        for (int t = 0; t < NTABLES; t++)
            for (int w = 0; w < ways; w++)
                rh_buf_printf(out, "  %-4s %-6s median %8.0f rows/s (min %.0f, max %.0f); median %.2f s per fill\n",
                              table_names[t], way_names[w], st[w][t].median, st[w][t].min, st[w][t].max,
                              st[w][t].median > 0 ? (double)rows / st[w][t].median : 0);
        for (int t = 0; t < NTABLES && !bulk_only; t++)
            rh_buf_printf(out, "  %s: bulk is %.1fx the direct way (medians)\n", table_names[t],
                          st[1][t].median > 0 ? st[0][t].median / st[1][t].median : 0);
        for (int w = 0; w < ways; w++) /* CPU, not wall clock: what the machine's load changes least */
            if (cst[w][0].min >= 0)
                rh_buf_printf(out, "  CPU per fill of both tables (ANALYZE included), %-6s median: server %.2f s (min %.2f, max %.2f), rehearse %.2f s\n",
                              way_names[w], cst[w][0].median, cst[w][0].min, cst[w][0].max, cst[w][1].median);
    }
    rc = 0;
out:
    rh_scale_free(&s);
    PQfinish(conn);
    for (int w = 0; w < 2; w++) {
        for (int t = 0; t < NTABLES; t++)
            free(rate[w][t]);
        for (int k = 0; k < 2; k++)
            free(cpu[w][k]);
    }
    rh_err ignored;
    rh_cluster_stop(c, &ignored);
    return rc;
}
