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

#include "cluster/cluster.h"
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

/*
 * The stats query on each PostgreSQL major 14-18 installed here (`rehearse pg install N`; the system's 15
 * at least): as the migration role, while another session holds AccessExclusiveLock on the table (under
 * lock_timeout: it must not queue), it answers, names the server's version, and agrees with that
 * server's pg_stats. A major that is not installed is said on stderr, not failed.
 */
static void test_stats_query_on_14_to_18(void **state)
{
    (void)state;
    static const char *const majors[] = {"14", "15", "16", "17", "18"};
    int ran = 0;
    for (size_t v = 0; v < sizeof majors / sizeof *majors; v++) {
        rh_err err;
        rh_err_clear(&err);
        rh_pgbin bin;
        if (rh_pgbin_find_version(&bin, NULL, majors[v], &err) < 0) {
            fprintf(stderr, "test_stats_query_on_14_to_18: PostgreSQL %s not installed: not tested\n", majors[v]);
            continue;
        }
        rh_cluster *c = NULL;
        rh_cluster_opts o = {.pg_version = majors[v]};
        if (rh_cluster_start(&c, &o, &err) < 0)
            fail_msg("PostgreSQL %s: %s", majors[v], err.msg);
        PGconn *conn = rh_cluster_connect(c, NULL, &err), *migration = rh_cluster_connect(c, NULL, &err);
        assert_non_null(conn);
        assert_non_null(migration);
        rh_test_exec(conn, "CREATE TABLE \"User\" (id serial PRIMARY KEY, bio text, age integer NOT NULL)");
        rh_test_exec(conn, "INSERT INTO \"User\" (bio, age) SELECT CASE WHEN g % 4 = 0 THEN NULL ELSE 'b' END, "
                           "g % 10 FROM generate_series(1, 4000) g");
        rh_test_exec(conn, "ANALYZE \"User\"");
        rh_test_exec(migration, "BEGIN; LOCK TABLE \"User\" IN ACCESS EXCLUSIVE MODE");
        rh_test_exec(conn, "SET lock_timeout = '5s'");
        rh_scale s = {0};
        run_stats(conn, &s, NULL);
        rh_test_exec(migration, "COMMIT");
        assert_int_equal(atoi(s.server_version), atoi(majors[v])); /* "15.18" */
        const rh_scale_table *t = rh_scale_find(&s, "public", "User");
        assert_non_null(t);
        assert_int_equal(t->rows, 4000);
        assert_int_equal(t->ncolumns, 3);
        for (size_t i = 0; i < t->ncolumns; i++) {
            char sql[256];
            snprintf(sql, sizeof sql, "SELECT null_frac || ' ' || n_distinct FROM pg_stats WHERE tablename = 'User' "
                                      "AND attname = '%s'", t->columns[i].name);
            char *want = rh_test_value(conn, sql);
            double nf, nd;
            assert_int_equal(sscanf(want, "%lf %lf", &nf, &nd), 2);
            assert_float_equal(t->columns[i].null_frac, nf, 1e-6);
            assert_float_equal(t->columns[i].n_distinct, nd, 1e-6);
            free(want);
        }
        rh_scale_free(&s);
        PQfinish(migration);
        PQfinish(conn);
        assert_int_equal(rh_cluster_stop(c, &err), 0);
        ran++;
    }
    assert_true(ran >= 1);
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
    /* a key left out says so; an empty or cut-short file says so (before: "expected an integer", and
       the JSON tokenizer's "continue") */
    expect_parse_error("{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": \"A\", \"rows\": 1}]}",
                       "prod.json: table public.A: \"table_bytes\" missing (expected an integer)");
    expect_parse_error("", "prod.json:1: not a stats document (expected the JSON `rehearse stats` prints: the file ends "
                           "before the document does)");
    expect_parse_error("{\"rehearse_stats\": 1,\n \"tables\": [",
                       "prod.json:2: not a stats document (expected the JSON `rehearse stats` prints: the file ends");
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


static long long count_of(PGconn *conn, const char *sql)
{
    char *v = rh_test_value(conn, sql);
    long long n = v ? atoll(v) : -1;
    free(v);
    return n;
}

static const rh_scale_filled *filled(const rh_scale_fill_result *fr, const char *name, size_t *pos)
{
    for (size_t i = 0; i < fr->n; i++)
        if (strcmp(fr->tables[i].name, name) == 0) {
            if (pos)
                *pos = i;
            return &fr->tables[i];
        }
    fail_msg("table %s not in the fill result", name);
    return NULL;
}

/*
 * A Prisma-shaped schema filled to the asked sizes: types, NOT NULL, unique keys, foreign keys
 * (parents first, a composite unique key over two foreign keys), the stats' null fraction and
 * distinct count; a CHECK the generated values fail skips its table (said); a foreign-key cycle
 * is broken at a nullable column (said); a self-reference is left NULL (said).
 */
static void test_fill_respects_constraints(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn,
                 "CREATE TYPE \"Role\" AS ENUM ('USER', 'ADMIN');"
                 "CREATE TABLE \"User\" (id text PRIMARY KEY, email text NOT NULL, name text, role \"Role\" NOT NULL,"
                 " \"createdAt\" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, \"updatedAt\" timestamp(3) NOT NULL,"
                 " score double precision NOT NULL, active boolean NOT NULL DEFAULT true, data jsonb, ref uuid NOT NULL);"
                 "CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(email);"
                 "CREATE TABLE \"Post\" (id serial PRIMARY KEY, title varchar(10) NOT NULL CHECK (char_length(title) > 0),"
                 " price numeric(6,2) NOT NULL, \"authorId\" text NOT NULL REFERENCES \"User\"(id));"
                 "CREATE TABLE \"_PostToUser\" (\"A\" integer NOT NULL REFERENCES \"Post\"(id),"
                 " \"B\" text NOT NULL REFERENCES \"User\"(id));"
                 "CREATE UNIQUE INDEX \"_PostToUser_AB_unique\" ON \"_PostToUser\"(\"A\", \"B\");"
                 "CREATE TABLE \"Tag\" (id serial PRIMARY KEY, n integer NOT NULL CONSTRAINT \"Tag_n_negative\" CHECK (n < 0));"
                 "CREATE TABLE \"Team\" (id integer PRIMARY KEY, \"leaderId\" text);"
                 "CREATE TABLE \"Member\" (id text PRIMARY KEY, \"teamId\" integer REFERENCES \"Team\"(id));"
                 "ALTER TABLE \"Team\" ADD FOREIGN KEY (\"leaderId\") REFERENCES \"Member\"(id);"
                 "CREATE TABLE \"Category\" (id serial PRIMARY KEY, \"parentId\" integer REFERENCES \"Category\"(id));"
                 "CREATE TABLE \"Untouched\" (id integer);"
                 "CREATE TABLE \"Big\" (n integer)");
    rh_scale s = {0};
    rh_err err;
    rh_err_clear(&err);
    assert_int_equal(rh_scale_parse(&s, "{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": "
                                        "\"User\", \"rows\": 3000, \"table_bytes\": 0, \"index_bytes\": 0, "
                                        "\"dead_tuples\": 0, \"columns\": [{\"name\": \"name\", \"null_frac\": 0.5, "
                                        "\"n_distinct\": 40, \"avg_width\": 20}]}, {\"schema\": \"public\", \"name\": \"Big\", \"rows\": 300000, "
                                        "\"table_bytes\": 0, \"index_bytes\": 0, \"dead_tuples\": 0, \"columns\": [{\"name\": "
                                        "\"n\", \"null_frac\": 0.1, \"n_distinct\": -1, \"avg_width\": 4}]}]}",
                                    "prod.json", &err),
                     0);
    const char *guesses[] = {"Post=10k", "_PostToUser=20000", "Tag=100", "Team=50", "Member=200", "Category=100"};
    for (size_t i = 0; i < sizeof guesses / sizeof *guesses; i++)
        assert_int_equal(rh_scale_add_rows(&s, guesses[i], &err), 0);
    rh_scale_fill_result fr;
    if (rh_scale_fill(conn, &s, &fr, &err) < 0)
        fail_msg("%s", err.msg);

    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"User\""), 3000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Post\""), 10000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"_PostToUser\""), 20000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Untouched\""), 0);
    /* past 2^31 / 7919 rows (the null-fraction hash is computed in bigint) */
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Big\""), 300000);
    /* parents first */
    size_t pu = 0, pp = 0, pj = 0;
    filled(&fr, "User", &pu);
    filled(&fr, "Post", &pp);
    filled(&fr, "_PostToUser", &pj);
    assert_true(pu < pp && pp < pj);
    /* every post's author exists (the FK holds) and the authors are spread over the users */
    assert_true(count_of(conn, "SELECT count(DISTINCT \"authorId\") FROM \"Post\"") == 3000);
    /* the stats: name NULL in about half the rows, 40 distinct values otherwise */
    long long nulls = count_of(conn, "SELECT count(*) FROM \"User\" WHERE name IS NULL");
    assert_true(nulls > 1350 && nulls < 1650);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT name) FROM \"User\""), 40);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT role) FROM \"User\""), 2);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"User\" WHERE \"createdAt\" IS NULL OR data IS NULL"), 0);
    /* the CHECK that the values fail: skipped and said */
    const rh_scale_filled *tag = filled(&fr, "Tag", NULL);
    assert_int_equal(tag->inserted, 0);
    assert_non_null(tag->note);
    assert_non_null(strstr(tag->note, "CHECK constraint Tag_n_negative rejects the generated values"));
    /* the cycle Team <-> Member: broken at one table, whose foreign key is left NULL and said */
    const rh_scale_filled *team = filled(&fr, "Team", NULL), *member = filled(&fr, "Member", NULL);
    assert_int_equal(team->inserted, 50);
    assert_int_equal(member->inserted, 200);
    const char *cycle_note = team->note ? team->note : member->note;
    assert_non_null(cycle_note);
    assert_non_null(strstr(cycle_note, "left NULL (foreign-key cycle broken here)"));
    /* a self-reference: filled, parentId left NULL */
    const rh_scale_filled *cat = filled(&fr, "Category", NULL);
    assert_int_equal(cat->inserted, 100);
    assert_non_null(strstr(cat->note, "parentId left NULL (refers to its own table)"));
    assert_int_equal(fr.rows, 3000 + 10000 + 20000 + 50 + 200 + 100 + 300000);
    rh_scale_fill_result_free(&fr);

    /* filling again adds nothing: the tables are at their sizes */
    if (rh_scale_fill(conn, &s, &fr, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(fr.rows, 0);
    rh_scale_fill_result_free(&fr);
    rh_scale_free(&s);
    PQfinish(conn);
}

/*
 * A cycle is broken on the cycle, at the table whose keys can be left NULL. Article (NOT NULL key
 * into Author) only waits on the cycle Author -> Group -> Author and sorts first: breaking there
 * skipped it ("has no parent rows"). Author's key into Group is NOT NULL: breaking there skipped it.
 * Group's owner is nullable: the one place to break, and said.
 */
static void test_cycle_is_broken_on_the_cycle_at_a_nullable_key(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, "CREATE TABLE \"Group\" (id integer PRIMARY KEY, \"ownerId\" integer);"
                       "CREATE TABLE \"Author\" (id integer PRIMARY KEY, \"groupId\" integer NOT NULL REFERENCES \"Group\"(id));"
                       "ALTER TABLE \"Group\" ADD FOREIGN KEY (\"ownerId\") REFERENCES \"Author\"(id);"
                       "CREATE TABLE \"Article\" (id integer PRIMARY KEY, \"authorId\" integer NOT NULL REFERENCES \"Author\"(id))");
    rh_scale s = {0};
    rh_err err;
    rh_err_clear(&err);
    const char *guesses[] = {"Article=3000", "Author=500", "Group=50"};
    for (size_t i = 0; i < sizeof guesses / sizeof *guesses; i++)
        assert_int_equal(rh_scale_add_rows(&s, guesses[i], &err), 0);
    rh_scale_fill_result fr;
    if (rh_scale_fill(conn, &s, &fr, &err) < 0)
        fail_msg("%s", err.msg);
    size_t pg = 0, pa = 0, par = 0;
    const rh_scale_filled *group = filled(&fr, "Group", &pg), *author = filled(&fr, "Author", &pa),
                          *article = filled(&fr, "Article", &par);
    assert_int_equal(article->inserted, 3000);
    assert_int_equal(author->inserted, 500);
    assert_int_equal(group->inserted, 50);
    assert_true(pg < pa && pa < par);
    assert_non_null(group->note);
    assert_non_null(strstr(group->note, "ownerId left NULL (foreign-key cycle broken here)"));
    assert_null(author->note);
    assert_null(article->note);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT \"groupId\") FROM \"Author\""), 50);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT \"authorId\") FROM \"Article\""), 500);
    rh_scale_fill_result_free(&fr);
    rh_scale_free(&s);
    PQfinish(conn);
}

/*
 * The stats' distinct count holds among the non-NULL rows: a column 60 % NULL with n_distinct -0.1
 * of 100 000 rows has 10 000 values (K = g mod 10 000 put NULL and K in step: 4 000), and a column
 * unique when not NULL (n_distinct = -(1 - null_frac), as ANALYZE writes it) is unique: a unique
 * index on it is built, as on production (before: 23505).
 */
static void test_distinct_counts_hold_beside_nulls(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, "CREATE TABLE \"Profile\" (id serial PRIMARY KEY, score integer, handle text)");
    rh_scale s = {0};
    rh_err err;
    rh_err_clear(&err);
    assert_int_equal(rh_scale_parse(&s, "{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": "
                                        "\"Profile\", \"rows\": 100000, \"table_bytes\": 0, \"index_bytes\": 0, "
                                        "\"dead_tuples\": 0, \"columns\": [{\"name\": \"score\", \"null_frac\": 0.6, "
                                        "\"n_distinct\": -0.1, \"avg_width\": 4}, {\"name\": \"handle\", \"null_frac\": 0.5, "
                                        "\"n_distinct\": -0.5, \"avg_width\": 20}]}]}",
                                    "prod.json", &err),
                     0);
    rh_scale_fill_result fr;
    if (rh_scale_fill(conn, &s, &fr, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Profile\""), 100000);
    assert_int_equal(count_of(conn, "SELECT count(score) FROM \"Profile\""), 40000);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT score) FROM \"Profile\""), 10000);
    assert_int_equal(count_of(conn, "SELECT count(handle) FROM \"Profile\""), 50000);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT handle) FROM \"Profile\""), 50000);
    rh_test_exec(conn, "CREATE UNIQUE INDEX \"Profile_handle_key\" ON \"Profile\"(handle)");
    rh_scale_fill_result_free(&fr);
    rh_scale_free(&s);
    PQfinish(conn);
}

/* The migration tool's ledger is never filled, even when a guess names it. */
static void test_fill_leaves_the_tools_ledger_alone(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, "CREATE TABLE \"_prisma_migrations\" (id varchar(36) PRIMARY KEY); CREATE TABLE t (id int)");
    rh_scale s = {0};
    rh_err err;
    rh_err_clear(&err);
    assert_int_equal(rh_scale_add_rows(&s, "_prisma_migrations=5", &err), 0);
    assert_int_equal(rh_scale_add_rows(&s, "t=5", &err), 0);
    rh_scale_fill_result fr;
    if (rh_scale_fill(conn, &s, &fr, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM t"), 5);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"_prisma_migrations\""), 0);
    rh_scale_fill_result_free(&fr);
    rh_scale_free(&s);
    PQfinish(conn);
}

/* A table of 200 000 rows, filled by the filler, in a fresh database of the shared cluster. */
static PGconn *big_table(char **conninfo)
{
    char *db;
    PGconn *conn = rh_test_fresh_db(&db);
    rh_test_exec(conn, "CREATE TABLE \"Order\" (id serial PRIMARY KEY, amount integer NOT NULL, note text, "
                       "\"createdAt\" timestamp(3) NOT NULL)");
    rh_scale s = {0};
    rh_err err;
    rh_err_clear(&err);
    assert_int_equal(rh_scale_add_rows(&s, "Order=200k", &err), 0);
    rh_scale_fill_result fr;
    assert_int_equal(rh_scale_fill(conn, &s, &fr, &err), 0);
    assert_int_equal(fr.rows, 200000);
    rh_scale_fill_result_free(&fr);
    rh_scale_free(&s);
    *conninfo = rh_cluster_conninfo_db(rh_test_cluster(), db);
    free(db);
    return conn;
}

static rh_scale_cost measure(const char *conninfo, const char *sql)
{
    const char *tables[] = {"Order"};
    rh_scale_cost c;
    rh_err err;
    rh_err_clear(&err);
    if (rh_scale_measure(conninfo, sql, tables, 1, &c, &err) < 0)
        fail_msg("%s", err.msg);
    if (c.error)
        fail_msg("%s: %s", sql, c.error);
    assert_int_equal(c.n, 1);
    return c;
}

/*
 * STMT, then its transaction stays open (holding STMT's locks) until WAITERS queries wait for a lock on
 * "Order", at most 60 s: whether the probes see the block then does not depend on how fast this process
 * (valgrind) polls compared with how fast the server runs STMT.
 */
static char *held_until_waiting(const char *stmt, int waiters)
{
    return rh_xasprintf("%s; DO $$ BEGIN FOR i IN 1..6000 LOOP EXIT WHEN (SELECT count(*) FROM pg_locks "
                        "WHERE NOT granted AND relation = '\"Order\"'::regclass) >= %d; PERFORM pg_sleep(0.01); "
                        "END LOOP; END $$",
                        stmt, waiters);
}

/*
 * What blocked which operation, seen in pg_blocking_pids() (no timing asserted): a column type
 * change rewrites under AccessExclusiveLock (reads and writes wait); CREATE INDEX holds ShareLock
 * (writes wait, reads do not); CREATE INDEX CONCURRENTLY neither; a nullable ADD COLUMN ends before
 * anything can wait for it. The blocking statements keep their transaction open until the probes wait.
 */
static void test_measure_blocks(void **state)
{
    (void)state;
    char *ci;
    PGconn *conn = big_table(&ci);
    char *sql = held_until_waiting("ALTER TABLE \"Order\" ALTER COLUMN amount TYPE bigint", 2);
    rh_scale_cost c = measure(ci, sql);
    free(sql);
    assert_true(c.probed);
    assert_true(c.waits[0].read_blocked);
    assert_true(c.waits[0].write_blocked);
    rh_scale_cost_free(&c);

    sql = held_until_waiting("CREATE INDEX \"Order_note_idx\" ON \"Order\"(note, \"createdAt\")", 1);
    c = measure(ci, sql);
    free(sql);
    assert_true(c.probed);
    assert_false(c.waits[0].read_blocked);
    assert_true(c.waits[0].write_blocked);
    rh_scale_cost_free(&c);

    c = measure(ci, "CREATE INDEX CONCURRENTLY \"Order_amount_idx\" ON \"Order\"(amount, note)");
    assert_false(c.waits[0].read_blocked);
    assert_false(c.waits[0].write_blocked);
    rh_scale_cost_free(&c);

    c = measure(ci, "ALTER TABLE \"Order\" ADD COLUMN \"comment\" text");
    assert_false(c.waits[0].read_blocked);
    assert_false(c.waits[0].write_blocked);
    rh_scale_cost_free(&c);

    /* a unique index over generated duplicates fails as production's would, naming the key */
    rh_test_exec(conn, "UPDATE \"Order\" SET note = 'same' WHERE id IN (7, 8)");
    const char *tables[] = {"Order"};
    rh_err err;
    assert_int_equal(rh_scale_measure(ci, "CREATE UNIQUE INDEX \"Order_note_key\" ON \"Order\"(note)", tables, 1, &c,
                                      &err), 0);
    assert_string_equal(c.sqlstate, "23505");
    assert_non_null(strstr(c.error, "Key (note)=(same) is duplicated"));
    rh_scale_cost_free(&c);
    free(ci);
    PQfinish(conn);
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

/*
 * deploy --scale: before each migration the tables that exist are filled to production's size, so a
 * unique index over a column with 10 distinct values in 3000 rows fails as production's would
 * (P3018, 23505, the colliding key); without --scale the same folder deploys. Only the throwaway
 * cluster is filled: --database-url with --scale, and --scale on status, are usage errors.
 */
static void test_deploy_scale(void **state)
{
    (void)state;
    const char *dir = rh_test_tmpdir();
    char *m1 = rh_xasprintf("%s/m/20250101000000_init/migration.sql", dir);
    char *m2 = rh_xasprintf("%s/m/20250102000000_uniq/migration.sql", dir);
    char *stats = rh_xasprintf("%s/stats.json", dir);
    char *migs = rh_xasprintf("%s/m", dir);
    rh_test_write_file(m1, "CREATE TABLE \"Item\" (id serial PRIMARY KEY, code text NOT NULL);\n");
    rh_test_write_file(m2, "CREATE UNIQUE INDEX \"Item_code_key\" ON \"Item\"(code);\n");
    rh_test_write_file(stats, "{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": \"Item\", "
                              "\"rows\": 3000, \"table_bytes\": 0, \"index_bytes\": 0, \"dead_tuples\": 0, "
                              "\"columns\": [{\"name\": \"code\", \"null_frac\": 0, \"n_distinct\": 10, \"avg_width\": 8}]}]}\n");
    char *out = NULL, *errout = NULL;
    char *plain[] = {REHEARSE_BIN, "deploy", "--migrations-dir", migs, NULL};
    assert_int_equal(rh_test_run(plain, NULL, &out, &errout), 0);
    free(out);
    free(errout);
    char *scaled[] = {REHEARSE_BIN, "deploy", "--migrations-dir", migs, "--scale", stats, NULL};
    int rc = rh_test_run(scaled, NULL, &out, &errout);
    if (rc != 1)
        fprintf(stderr, "%s\n%s\n", out, errout);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(errout, "filled public.Item with 3000 row(s) before 20250102000000_uniq"));
    assert_non_null(strstr(errout, "P3018"));
    assert_non_null(strstr(errout, "23505"));
    assert_non_null(strstr(errout, "is duplicated"));
    free(out);
    free(errout);
    /* a guess naming no table that was there (a typo) is said; Item's guess is not (before: silence) */
    char *typo[] = {REHEARSE_BIN, "deploy", "--migrations-dir", migs, "--rows", "Itme=10", "--rows", "Item=5", NULL};
    assert_int_equal(rh_test_run(typo, NULL, &out, &errout), 0);
    assert_non_null(strstr(errout, "rehearse: note: --rows Itme=10 filled nothing: no table Itme was there before any "
                                   "migration was sent"));
    assert_null(strstr(errout, "--rows Item=5 filled nothing"));
    free(out);
    free(errout);
    char *remote[] = {REHEARSE_BIN, "deploy", "--migrations-dir", migs, "--rows", "Item=10",
                      "--database-url", "postgresql://u@localhost/db", NULL};
    assert_int_equal(rh_test_run(remote, NULL, NULL, &errout), 2);
    assert_non_null(strstr(errout, "never --database-url"));
    free(errout);
    char *status[] = {REHEARSE_BIN, "status", "--migrations-dir", migs, "--rows", "Item=10", NULL};
    assert_int_equal(rh_test_run(status, NULL, NULL, &errout), 2);
    assert_non_null(strstr(errout, "--scale and --rows are for deploy"));
    free(errout);
    free(m1);
    free(m2);
    free(stats);
    free(migs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_agree_with_pg_stats),
        cmocka_unit_test(test_stats_take_no_lock),
        cmocka_unit_test(test_stats_query_on_14_to_18),
        cmocka_unit_test(test_load_errors_name_file_and_expectation),
        cmocka_unit_test(test_rows_guesses),
        cmocka_unit_test(test_cli_prints_the_query),
        cmocka_unit_test(test_fill_respects_constraints),
        cmocka_unit_test(test_cycle_is_broken_on_the_cycle_at_a_nullable_key),
        cmocka_unit_test(test_distinct_counts_hold_beside_nulls),
        cmocka_unit_test(test_fill_leaves_the_tools_ledger_alone),
        cmocka_unit_test(test_measure_blocks),
        cmocka_unit_test(test_deploy_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
