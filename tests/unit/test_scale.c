/*
 * test_scale.c — production's shape (issue 14): the `rehearse stats` query on a real database
 * agrees with pg_stats and pg_class, carries no row data, takes no lock on user tables (it runs
 * while a migration holds AccessExclusiveLock); the one loader reads its output and --rows guesses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scale/scale.h"
#include "testlib.h"

/* A table shaped like a Prisma model, filled and analyzed: 20 000 rows, bio NULL in a quarter. */
static PGconn *filled_db(char **dbname)
{
    PGconn *conn = rh_test_fresh_db(dbname);
    rh_test_exec(conn, "CREATE TABLE \"User\" (id serial PRIMARY KEY, email text NOT NULL UNIQUE, bio text, "
                       "age integer NOT NULL, secret text)");
    rh_test_exec(conn, "INSERT INTO \"User\" (email, bio, age, secret) SELECT 'u' || g || '@example.com', "
                       "CASE WHEN g % 4 = 0 THEN NULL ELSE repeat('b', g % 50) END, g % 100, "
                       "'do-not-leak-' || (g % 3) FROM generate_series(1, 20000) g");
    rh_test_exec(conn, "ANALYZE \"User\"");
    return conn;
}

/* Run the stats query as the user's role and load its one value. */
static void run_stats(PGconn *conn, rh_scale *s, char **text)
{
    PGresult *r = PQexec(conn, rh_scale_stats_query());
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("stats query: %s", PQresultErrorMessage(r));
    assert_int_equal(PQntuples(r), 1);
    rh_err err;
    rh_err_clear(&err);
    if (rh_scale_parse(s, PQgetvalue(r, 0, 0), "stats.json", &err) < 0)
        fail_msg("%s", err.msg);
    if (text)
        *text = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
}

static void test_stats_agree_with_pg_stats(void **state)
{
    (void)state;
    PGconn *conn = filled_db(NULL);
    rh_scale s = {0};
    char *text = NULL;
    run_stats(conn, &s, &text);
    const rh_scale_table *t = rh_scale_find(&s, "public", "User");
    assert_non_null(t);
    assert_int_equal(t->rows, 20000);
    char *pages = rh_test_value(conn, "SELECT relpages::bigint * current_setting('block_size')::bigint "
                                      "FROM pg_class WHERE oid = '\"User\"'::regclass");
    assert_int_equal(t->table_bytes, atoll(pages));
    assert_true(t->table_bytes > 0);
    free(pages);
    char *ix = rh_test_value(conn, "SELECT sum(pg_relation_size(indexrelid)) FROM pg_index "
                                   "WHERE indrelid = '\"User\"'::regclass");
    assert_int_equal(t->index_bytes, atoll(ix)); /* after ANALYZE relpages is the index's size */
    free(ix);
    assert_int_equal(t->dead_tuples, 0);
    assert_int_equal(t->ncolumns, 5);
    for (size_t i = 0; i < t->ncolumns; i++) {
        const rh_scale_column *c = &t->columns[i];
        char sql[512];
        snprintf(sql, sizeof sql, "SELECT null_frac || ' ' || n_distinct || ' ' || avg_width FROM pg_stats "
                                  "WHERE tablename = 'User' AND attname = '%s'", c->name);
        char *want = rh_test_value(conn, sql);
        assert_non_null(want);
        double nf, nd;
        int w;
        assert_int_equal(sscanf(want, "%lf %lf %d", &nf, &nd, &w), 3);
        assert_float_equal(c->null_frac, nf, 1e-6);
        assert_float_equal(c->n_distinct, nd, 1e-6);
        assert_int_equal(c->avg_width, w);
        free(want);
        if (strcmp(c->name, "bio") == 0)
            assert_float_equal(c->null_frac, 0.25, 1e-6);
        if (strcmp(c->name, "age") == 0)
            assert_float_equal(c->n_distinct, 100, 1e-6);
        if (strcmp(c->name, "id") == 0)
            assert_float_equal(c->n_distinct, -1, 1e-6); /* unique: minus the fraction distinct */
    }
    /* no row data: most_common_vals would hold 'do-not-leak-0'; histograms the e-mails */
    assert_null(strstr(text, "do-not-leak"));
    assert_null(strstr(text, "example.com"));
    free(text);
    rh_scale_free(&s);
    PQfinish(conn);
}

/*
 * A migration holds AccessExclusiveLock on "User": the stats query still answers (lock_timeout
 * would end it with 55P03 if it queued), and inside its transaction it holds no lock on the table.
 * (pg_relation_size() would take AccessShareLock and queue: that is why sizes come from relpages.)
 */
static void test_stats_take_no_lock(void **state)
{
    (void)state;
    char *db;
    PGconn *conn = filled_db(&db);
    rh_err err;
    PGconn *migration = rh_cluster_connect(rh_test_cluster(), db, &err);
    assert_non_null(migration);
    rh_test_exec(migration, "BEGIN; LOCK TABLE \"User\" IN ACCESS EXCLUSIVE MODE");
    rh_test_exec(conn, "SET lock_timeout = '5s'; BEGIN");
    rh_scale s = {0};
    run_stats(conn, &s, NULL);
    assert_non_null(rh_scale_find(&s, "public", "User"));
    char *held = rh_test_value(conn, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                                     "WHERE l.pid = pg_backend_pid() AND c.relnamespace = 'public'::regnamespace");
    assert_string_equal(held, "0");
    free(held);
    rh_test_exec(conn, "COMMIT");
    rh_test_exec(migration, "COMMIT");
    rh_scale_free(&s);
    PQfinish(migration);
    PQfinish(conn);
    free(db);
}

static void expect_parse_error(const char *json, const char *want)
{
    rh_scale s = {0};
    rh_err err;
    rh_err_clear(&err);
    assert_int_equal(rh_scale_parse(&s, json, "prod.json", &err), -1);
    if (!strstr(err.msg, want))
        fail_msg("error '%s' lacks '%s'", err.msg, want);
    rh_scale_free(&s);
}

static void test_load_errors_name_file_and_expectation(void **state)
{
    (void)state;
    expect_parse_error("{\n\"rehearse_stats\": 1,\n \"tables\": [ oops ]}", "prod.json:3: not a stats document");
    expect_parse_error("[]", "prod.json: not a stats document (expected an object with \"rehearse_stats\": 1");
    expect_parse_error("{\"rehearse_stats\": 2, \"tables\": []}", "stats document version 2");
    expect_parse_error("{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": \"A\", "
                       "\"rows\": \"many\"}]}",
                       "prod.json: table public.A: \"rows\": expected an integer");
    expect_parse_error("{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": \"A\", \"rows\": 1, "
                       "\"table_bytes\": 8192, \"index_bytes\": 0, \"dead_tuples\": 0, \"columns\": [{\"name\": "
                       "\"x\", \"null_frac\": 1.5, \"n_distinct\": 1, \"avg_width\": 4}]}]}",
                       "table public.A, column 1 (x): \"null_frac\" 1.5: expected 0 to 1");
}

static void test_rows_guesses(void **state)
{
    (void)state;
    rh_scale s = {0};
    rh_err err;
    rh_err_clear(&err);
    assert_int_equal(rh_scale_parse(&s, "{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"app\", \"name\": "
                                        "\"Post\", \"rows\": 5, \"table_bytes\": 8192, \"index_bytes\": 0, "
                                        "\"dead_tuples\": 0, \"columns\": []}]}",
                                    "s.json", &err),
                     0);
    assert_int_equal(rh_scale_add_rows(&s, "User=10M", &err), 0);
    assert_int_equal(rh_scale_add_rows(&s, "Post=250k", &err), 0);  /* overrides app.Post's 5 */
    assert_int_equal(rh_scale_add_rows(&s, "audit.Log=42", &err), 0);
    assert_int_equal(rh_scale_find(&s, "public", "User")->rows, 10000000);
    assert_int_equal(rh_scale_find(&s, "app", "Post")->rows, 250000);
    assert_int_equal(rh_scale_find(&s, "audit", "Log")->rows, 42);
    assert_null(rh_scale_find(&s, "public", "Log"));
    assert_int_equal(rh_scale_find(&s, "app", "User")->table_bytes, -1);
    assert_int_equal(rh_scale_add_rows(&s, "User", &err), -1);
    assert_non_null(strstr(err.msg, "--rows 'User': expected TABLE=N"));
    assert_int_equal(rh_scale_add_rows(&s, "User=ten", &err), -1);
    assert_non_null(strstr(err.msg, "'ten' is not a row count"));
    assert_int_equal(rh_scale_add_rows(&s, "User=-3", &err), -1);
    assert_int_equal(rh_scale_add_rows(&s, ".User=3", &err), -1);
    rh_scale_free(&s);
}

static void test_cli_prints_the_query(void **state)
{
    (void)state;
    char *out = NULL, *errout = NULL;
    char *argv[] = {REHEARSE_BIN, "stats", NULL};
    assert_int_equal(rh_test_run(argv, NULL, &out, &errout), 0);
    assert_string_equal(out, rh_scale_stats_query());
    free(out);
    free(errout);
    char *bad[] = {REHEARSE_BIN, "stats", "--format", NULL};
    assert_int_equal(rh_test_run(bad, NULL, NULL, &errout), 2);
    assert_non_null(strstr(errout, "unexpected argument '--format'"));
    free(errout);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_agree_with_pg_stats),
        cmocka_unit_test(test_stats_take_no_lock),
        cmocka_unit_test(test_load_errors_name_file_and_expectation),
        cmocka_unit_test(test_rows_guesses),
        cmocka_unit_test(test_cli_prints_the_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
