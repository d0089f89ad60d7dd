/*
 * bench.c — `rehearse bench deploy --tool NAME` (see tool.h): a tool's deploy through rehearse next
 * to the server floor and, optionally, the real CLI, on the same generated history, each run on a
 * fresh cluster, methods interleaved round by round so that the machine's load hits them alike.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/cluster.h"
#include "source/loader.h"
#include "tools/tool.h"
#include "util/buf.h"
#include "util/fs.h"

enum { M_REHEARSE, M_FLOOR, M_CLI, M_N };
static const char *const names[M_N] = {"rehearse", "floor", "cli"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Migration i: a table with a few columns, a foreign key to the previous one, an index. */
static char *gen_sql(int i)
{
    if (i == 0)
        return rh_xasprintf("create table t0 (id bigserial primary key, name text not null, created_at timestamptz "
                            "not null default now());\ncreate index t0_name on t0 (name);\n");
    return rh_xasprintf("create table t%d (id bigserial primary key, parent_id bigint references t%d (id), name text "
                        "not null, created_at timestamptz not null default now());\ncreate index t%d_name on t%d "
                        "(name);\n",
                        i, i - 1, i, i);
}

/*
 * Go's lib/pq (dbmate) refuses the clusters' 1-iteration SCRAM verifiers: give the migration role the
 * same password with PostgreSQL's default 4096 iterations, so a real CLI can log in.
 */
static int scram_4096(PGconn *admin, const char *user, const char *password, rh_err *err)
{
    unsigned char salt[16], salted[32], ck[32], sk[32], stored[32];
    unsigned int len = 32;
    if (RAND_bytes(salt, sizeof salt) != 1 ||
        PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof salt, 4096, EVP_sha256(), 32, salted) != 1)
        return rh_err_set(err, "cannot derive a SCRAM verifier");
    HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Client Key", 10, ck, &len);
    HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Server Key", 10, sk, &len);
    SHA256(ck, 32, stored);
    unsigned char b_salt[32], b_stored[64], b_sk[64];
    EVP_EncodeBlock(b_salt, salt, sizeof salt);
    EVP_EncodeBlock(b_stored, stored, 32);
    EVP_EncodeBlock(b_sk, sk, 32);
    char *verifier = rh_xasprintf("SCRAM-SHA-256$4096:%s$%s:%s", b_salt, b_stored, b_sk);
    char *ident = PQescapeIdentifier(admin, user, strlen(user));
    char *lit = PQescapeLiteral(admin, verifier, strlen(verifier));
    char *sql = rh_xasprintf("ALTER ROLE %s PASSWORD %s", ident, lit);
    PGresult *r = PQexec(admin, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        rh_err_set(err, "ALTER ROLE ... PASSWORD: %s", PQresultErrorMessage(r));
    PQclear(r);
    free(sql);
    PQfreemem(ident);
    PQfreemem(lit);
    free(verifier);
    return ok ? 0 : -1;
}

typedef struct bench {
    const rh_tool *tool;
    const rh_tool_bench_opts *o;
    rh_migset set;   /* the tool's folder, as it reads it */
    rh_migset files; /* the same folder, every file (for the CLI's copy) */
    char **sql;
    int n;
} bench;

static int run_method(bench *b, int m, double *secs, rh_err *err)
{
    rh_cluster_opts co = {.pg_bin = b->o->pg_bin, .pg_version = b->o->pg_version};
    rh_cluster *c = NULL;
    PGconn *conn = NULL, *admin = NULL;
    int rc = -1;
    rh_engine_result res;
    rh_engine_result_init(&res);
    if (rh_cluster_start(&c, &co, err) < 0 || !(conn = rh_cluster_connect(c, NULL, err)))
        goto out;
    if (m == M_CLI && (!(admin = rh_cluster_connect_admin(c, NULL, err)) ||
                       scram_4096(admin, PQuser(conn), PQpass(conn), err) < 0))
        goto out;
    rh_engine_opts eo = {0};
    double t0 = now_s();
    if (m == M_REHEARSE) {
        rc = rh_tool_run(b->tool, "deploy", conn, &b->set, NULL, &eo, &res, err);
    } else if (m == M_FLOOR) {
        rc = 0;
        for (int i = 0; i < b->n && rc == 0; i++) {
            PGresult *r = PQexec(conn, b->sql[i]);
            if (PQresultStatus(r) != PGRES_COMMAND_OK)
                rc = rh_err_set(err, "the floor failed at migration %d: %s", i, PQresultErrorMessage(r));
            PQclear(r);
        }
    } else {
        rc = rh_tool_run(rh_tool_find("command"), "deploy", conn, &b->files, b->o->cli, &eo, &res, err);
    }
    *secs = now_s() - t0;
    if (rc > 0)
        rc = rh_err_set(err, "%s deploy exits %d: %s%s", names[m], rc, res.out.len ? res.out.data : "",
                        res.errout.len ? res.errout.data : "");
out:
    rh_engine_result_free(&res);
    if (admin)
        PQfinish(admin);
    if (conn)
        PQfinish(conn);
    if (c) {
        rh_err ignored;
        rh_cluster_stop(c, &ignored);
    }
    return rc;
}

int rh_tool_bench(const rh_tool *tool, const rh_tool_bench_opts *o, rh_buf *report, rh_err *err)
{
    if (tool->bench)
        return tool->bench(o, report, err);
    if (!tool->write_history)
        return rh_err_set(err, "bench deploy --tool %s: the tool has no history generator", tool->name);
    bench b = {.tool = tool, .o = o, .n = o->generate > 0 ? o->generate : 200};
    int runs = o->runs > 0 ? o->runs : 5;
    const char *tmp = getenv("TMPDIR");
    char *dir = rh_xasprintf("%s/rehearse-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        free(dir);
        return rh_err_set(err, "cannot create a temporary folder");
    }
    b.sql = rh_xcalloc((size_t)b.n, sizeof *b.sql);
    for (int i = 0; i < b.n; i++)
        b.sql[i] = gen_sql(i);
    int rc = tool->write_history(dir, b.sql, b.n, err);
    int have_set = 0, have_files = 0;
    rh_load_spec spec = {.tool = tool, .dir = dir};
    if (rc == 0 && (rc = rh_source_load_set(&spec, &b.set, NULL, err)) == 0)
        have_set = 1;
    spec.tool = rh_tool_find("command");
    if (rc == 0 && o->cli && (rc = rh_source_load_set(&spec, &b.files, NULL, err)) == 0)
        have_files = 1;
    double *t[M_N];
    for (int m = 0; m < M_N; m++)
        t[m] = rh_xcalloc((size_t)runs, sizeof(double));
    for (int r = 0; r < runs && rc == 0; r++)
        for (int m = 0; m < M_N && rc == 0; m++)
            if (m != M_CLI || o->cli)
                rc = run_method(&b, m, &t[m][r], err);
    if (rc == 0) {
        double med[M_N] = {0};
        for (int m = 0; m < M_N; m++) {
            qsort(t[m], (size_t)runs, sizeof(double), cmp_double);
            med[m] = runs % 2 ? t[m][runs / 2] : (t[m][runs / 2 - 1] + t[m][runs / 2]) / 2;
        }
        if (o->json) {
            rh_buf_printf(report, "{\"tool\":\"%s\",\"migrations\":%d,\"runs\":%d,\"rehearse_s\":%.4f,\"floor_s\":%.4f,"
                                  "\"rehearse_over_floor\":%.3f",
                          tool->name, b.n, runs, med[M_REHEARSE], med[M_FLOOR], med[M_REHEARSE] / med[M_FLOOR]);
            if (o->cli)
                rh_buf_printf(report, ",\"cli_s\":%.4f,\"cli_over_rehearse\":%.2f", med[M_CLI],
                              med[M_CLI] / med[M_REHEARSE]);
            rh_buf_puts(report, "}\n");
        } else {
            rh_buf_printf(report, "bench deploy --tool %s: %d migrations, %d runs (median, each on a fresh cluster)\n",
                          tool->name, b.n, runs);
            rh_buf_printf(report, "  rehearse (%s)  %8.3f s\n", tool->verbs[0].tool_says, med[M_REHEARSE]);
            rh_buf_printf(report, "  floor (each migration as one query, one connection, no ledger)  %8.3f s\n",
                          med[M_FLOOR]);
            if (o->cli)
                rh_buf_printf(report, "  the real CLI (%s)  %8.3f s\n", o->cli, med[M_CLI]);
            rh_buf_printf(report, "  rehearse / floor: %.2fx (target <= 1.5)\n", med[M_REHEARSE] / med[M_FLOOR]);
            if (o->cli)
                rh_buf_printf(report, "  the real CLI / rehearse: %.2fx\n", med[M_CLI] / med[M_REHEARSE]);
        }
    }
    for (int m = 0; m < M_N; m++)
        free(t[m]);
    for (int i = 0; i < b.n; i++)
        free(b.sql[i]);
    free(b.sql);
    if (have_set)
        rh_migset_free(&b.set);
    if (have_files)
        rh_migset_free(&b.files);
    rh_err e2;
    rh_fs_rmtree(dir, &e2);
    free(dir);
    return rc < 0 ? -1 : 0;
}
