/*
 * test_scale_fill.c — the filler's bulk way (issue 14 §2): it drops a table's plain indexes and its
 * own foreign keys for the load and puts them back, truncates empty tables to skip WAL; here: the
 * catalog is the same before and after (rehearse's own catalog diff), the constraints hold, rows
 * already there stay, and a failure leaves the table as it was and says why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "scale/scale.h"
#include "testlib.h"

static long long count_of(PGconn *conn, const char *sql)
{
    char *v = rh_test_value(conn, sql);
    long long n = v ? atoll(v) : -1;
    free(v);
    return n;
}

static const rh_scale_filled *filled(const rh_scale_fill_result *fr, const char *name)
{
    for (size_t i = 0; i < fr->n; i++)
        if (strcmp(fr->tables[i].name, name) == 0)
            return &fr->tables[i];
    fail_msg("table %s not in the fill result", name);
    return NULL;
}

static rh_catalog *snapshot(PGconn *conn)
{
    rh_catalog_opts o = {0};
    rh_catalog *c = NULL;
    rh_err err;
    rh_err_clear(&err);
    if (rh_catalog_snapshot(conn, &o, &c, &err) < 0)
        fail_msg("%s", err.msg);
    return c;
}

/* The catalog after the fill is the one before it; prints the differences when not. */
static void assert_same_catalog(const rh_catalog *before, PGconn *conn)
{
    rh_catalog *after = snapshot(conn);
    rh_catalog_opts o = {0};
    rh_buf diff;
    rh_buf_init(&diff);
    size_t n = rh_catalog_diff(before, after, &o, "before the fill", "after the fill", &diff);
    if (n)
        fail_msg("the fill changed the catalog:\n%s", diff.data);
    rh_buf_free(&diff);
    rh_catalog_free(after);
}

static void fill(PGconn *conn, const char *const *rows, size_t n, rh_scale_fill_result *fr)
{
    rh_scale s = {0};
    rh_err err;
    rh_err_clear(&err);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rh_scale_add_rows(&s, rows[i], &err), 0);
    rh_scale_fill_opts o = {.bulk_from_rows = 1}; /* the bulk way even for these small tables */
    if (rh_scale_fill_with(conn, &s, &o, fr, &err) < 0)
        fail_msg("%s", err.msg);
    rh_scale_free(&s);
}

/*
 * Every kind of index and foreign key the bulk way drops and puts back (partial, expression,
 * unique, fillfactor, DEFERRABLE, ON DELETE CASCADE, NOT VALID) and those it must leave alone
 * (a commented index, a primary key that a foreign key uses, REPLICA IDENTITY): same catalog after,
 * counts as asked, every foreign key holds, a BEFORE INSERT trigger still ran, seed rows stay.
 */
static void test_bulk_fill_keeps_catalog_and_constraints(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn,
                 "CREATE TABLE \"User\" (id text PRIMARY KEY, email text NOT NULL, name text, age integer,"
                 " slug text NOT NULL, stamped boolean NOT NULL DEFAULT false);"
                 "CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(email);"
                 "CREATE INDEX \"User_name_idx\" ON \"User\"(name) WITH (fillfactor = 70);"
                 "CREATE INDEX \"User_lower_idx\" ON \"User\"(lower(name)) WHERE age > 10;"
                 "CREATE UNIQUE INDEX \"User_slug_key\" ON \"User\"(slug);"
                 "COMMENT ON INDEX \"User_slug_key\" IS 'kept in place: a comment';"
                 "CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.stamped := true; RETURN NEW; END $$;"
                 "CREATE TRIGGER \"User_stamp\" BEFORE INSERT ON \"User\" FOR EACH ROW EXECUTE FUNCTION stamp();"
                 "CREATE TABLE \"Post\" (id serial PRIMARY KEY, \"authorId\" text NOT NULL, \"editorId\" text,"
                 " title text NOT NULL);"
                 "ALTER TABLE \"Post\" ADD CONSTRAINT \"Post_authorId_fkey\" FOREIGN KEY (\"authorId\")"
                 " REFERENCES \"User\"(id) ON DELETE CASCADE ON UPDATE CASCADE;"
                 "ALTER TABLE \"Post\" ADD CONSTRAINT \"Post_editorId_fkey\" FOREIGN KEY (\"editorId\")"
                 " REFERENCES \"User\"(id) DEFERRABLE INITIALLY DEFERRED;"
                 "CREATE INDEX \"Post_authorId_idx\" ON \"Post\"(\"authorId\");"
                 "CREATE TABLE \"Like\" (\"postId\" integer NOT NULL, \"userId\" text NOT NULL,"
                 " CONSTRAINT \"Like_pkey\" PRIMARY KEY (\"postId\", \"userId\"));"
                 "ALTER TABLE \"Like\" REPLICA IDENTITY USING INDEX \"Like_pkey\";"
                 "ALTER TABLE \"Like\" ADD CONSTRAINT \"Like_postId_fkey\" FOREIGN KEY (\"postId\") REFERENCES \"Post\"(id);"
                 "ALTER TABLE \"Like\" ADD CONSTRAINT \"Like_userId_fkey\" FOREIGN KEY (\"userId\") REFERENCES \"User\"(id)"
                 " NOT VALID;"
                 "CREATE TABLE \"Tag\" (id integer NOT NULL, name text NOT NULL, note text, code text NOT NULL,"
                 " CONSTRAINT \"Tag_pkey\" PRIMARY KEY (id) INCLUDE (note),"
                 " CONSTRAINT \"Tag_name_key\" UNIQUE (name) DEFERRABLE INITIALLY DEFERRED,"
                 " CONSTRAINT \"Tag_code_key\" UNIQUE (code) WITH (fillfactor = 80));"
                 /* rows already there: a seeded user and a post of theirs */
                 "INSERT INTO \"User\" (id, email, slug) VALUES ('seed', 'seed@example.com', 'seed');"
                 "INSERT INTO \"Post\" (\"authorId\", title) VALUES ('seed', 'seeded');");
    rh_catalog *before = snapshot(conn);
    const char *oids = "SELECT string_agg(c.relname || '=' || c.oid, ',' ORDER BY c.relname) FROM pg_class c "
                       "WHERE c.relname IN ('User_email_key', 'User_slug_key', 'Post_authorId_idx', 'Like_pkey', 'Tag_pkey', "
                       "'Tag_name_key', 'User_pkey', 'Tag_code_key')";
    char *oids_before = rh_test_value(conn, oids);
    char *fk_before = rh_test_value(conn, "SELECT oid FROM pg_constraint WHERE conname = 'Post_authorId_fkey'");
    const char *rows[] = {"User=5000", "Post=20000", "Like=30000", "Tag=4000"};
    rh_scale_fill_result fr;
    fill(conn, rows, 4, &fr);
    for (size_t i = 0; i < fr.n; i++)
        if (fr.tables[i].note)
            fail_msg("%s: %s", fr.tables[i].name, fr.tables[i].note);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"User\""), 5000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Post\""), 20000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Like\""), 30000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Post\" WHERE title = 'seeded' AND \"authorId\" = 'seed'"), 1);
    /* the trigger ran for every generated row */
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"User\" WHERE NOT stamped AND id <> 'seed'"), 0);
    assert_same_catalog(before, conn);
    /* the bulk way was taken: the plain indexes and the foreign key were built again (new oids); the
       commented index and the replica-identity primary key were left in place */
    char *oids_after = rh_test_value(conn, oids);
    char *fk_after = rh_test_value(conn, "SELECT oid FROM pg_constraint WHERE conname = 'Post_authorId_fkey'");
    assert_string_not_equal(fk_before, fk_after);
    for (int i = 0; i < 2; i++) {
        char *q = rh_xasprintf("SELECT relname || '=' || oid FROM pg_class WHERE relname = '%s'", i ? "Like_pkey" : "User_slug_key");
        char *kept = rh_test_value(conn, q);
        assert_non_null(strstr(oids_before, kept));
        free(kept);
        free(q);
    }
    assert_string_not_equal(oids_before, oids_after);
    /* keys no foreign key refers to were built again too; User_pkey, which Post refers to, and
       Tag_code_key, whose storage option pg_get_constraintdef would lose, were not */
    for (int i = 0; i < 4; i++) {
        const char *names[] = {"Tag_pkey", "Tag_name_key", "User_pkey", "Tag_code_key"};
        char *q = rh_xasprintf("SELECT relname || '=' || oid FROM pg_class WHERE relname = '%s'", names[i]);
        char *now = rh_test_value(conn, q);
        assert_true((strstr(oids_before, now) != NULL) == (i >= 2));
        free(now);
        free(q);
    }
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Tag\""), 4000);
    free(oids_before);
    free(oids_after);
    free(fk_before);
    free(fk_after);
    /* the foreign keys hold, the NOT VALID one too, and the indexes answer */
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Post\" p LEFT JOIN \"User\" u ON u.id = p.\"authorId\" "
                                    "WHERE u.id IS NULL"),
                     0);
    rh_test_exec(conn, "ALTER TABLE \"Like\" VALIDATE CONSTRAINT \"Like_userId_fkey\"");
    rh_test_exec(conn, "SET enable_seqscan = off");
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"User\" WHERE email IS NOT NULL"), 5000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM pg_index WHERE NOT indisvalid"), 0);
    /* a duplicate still fails as in production */
    PGresult *r = PQexec(conn, "INSERT INTO \"User\" (id, email, slug) SELECT 'dup', email, 'dup' FROM \"User\" LIMIT 1");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505");
    PQclear(r);
    rh_scale_fill_result_free(&fr);
    rh_catalog_free(before);
    PQfinish(conn);
}

/*
 * A unique index over an expression whose generated values repeat: building it back fails (23505),
 * the whole table's load is rolled back: its rows are those it had, its indexes and foreign keys
 * are there, and the note names the index and the duplicate.
 */
static void test_bulk_fill_failure_rolls_back(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, "CREATE TABLE \"Team\" (id serial PRIMARY KEY);"
                       "CREATE TABLE \"Seat\" (id serial PRIMARY KEY, n integer NOT NULL,"
                       " \"teamId\" integer REFERENCES \"Team\"(id));"
                       "CREATE UNIQUE INDEX \"Seat_bucket_key\" ON \"Seat\"((n / 1000));"
                       "CREATE INDEX \"Seat_teamId_idx\" ON \"Seat\"(\"teamId\");"
                       "INSERT INTO \"Team\" DEFAULT VALUES;"
                       "INSERT INTO \"Seat\" (n, \"teamId\") VALUES (-5000, 1);");
    rh_catalog *before = snapshot(conn);
    const char *rows[] = {"Team=10", "Seat=5000"};
    rh_scale_fill_result fr;
    fill(conn, rows, 2, &fr);
    const rh_scale_filled *seat = filled(&fr, "Seat");
    assert_int_equal(seat->inserted, 0);
    assert_non_null(seat->note);
    assert_non_null(strstr(seat->note, "Seat_bucket_key"));
    assert_non_null(strstr(seat->note, "is duplicated"));
    assert_int_equal(filled(&fr, "Team")->inserted, 9);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Seat\""), 1);
    assert_same_catalog(before, conn);
    rh_scale_fill_result_free(&fr);
    rh_catalog_free(before);
    PQfinish(conn);
}

/*
 * Keys that production's schema allows and the generator once broke: a short unique varchar
 * (varchar(2) held only 10 values: 'v' and one digit) and a two-column foreign key (only its first
 * column was joined to the parent, the second got a made-up value and the foreign key failed).
 */
static void test_short_unique_keys_and_composite_foreign_keys(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, "CREATE TABLE \"Office\" (region varchar(3) NOT NULL, code varchar(2) NOT NULL, name text,"
                       " CONSTRAINT \"Office_pkey\" PRIMARY KEY (region, code));"
                       "CREATE TABLE \"Desk\" (id serial PRIMARY KEY, region varchar(3) NOT NULL, code varchar(2) NOT NULL,"
                       " tag varchar(1) NOT NULL UNIQUE,"
                       " CONSTRAINT \"Desk_office_fkey\" FOREIGN KEY (region, code) REFERENCES \"Office\"(region, code));"
                       "CREATE TABLE \"Chair\" (id serial PRIMARY KEY, region varchar(3), code varchar(2),"
                       " FOREIGN KEY (code, region) REFERENCES \"Office\"(code, region));");
    /* Chair's foreign key lists the parent's columns in another order than its primary key */
    rh_test_exec(conn, "CREATE UNIQUE INDEX \"Office_code_region_key\" ON \"Office\"(code, region)");
    rh_catalog *before = snapshot(conn);
    const char *rows[] = {"Office=3000", "Desk=60", "Chair=9000"};
    rh_scale_fill_result fr;
    fill(conn, rows, 3, &fr);
    for (size_t i = 0; i < fr.n; i++)
        if (fr.tables[i].note)
            fail_msg("%s: %s", fr.tables[i].name, fr.tables[i].note);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Office\""), 3000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Desk\""), 60);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Chair\""), 9000);
    /* every desk and chair sits in an office, both columns matching, spread over the offices */
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Chair\" c LEFT JOIN \"Office\" o USING (region, code) "
                                    "WHERE o.region IS NULL"),
                     0);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT (region, code)) FROM \"Chair\""), 3000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND NOT convalidated"), 0);
    assert_int_equal(count_of(conn, "SELECT max(length(tag)) FROM \"Desk\""), 1);
    assert_same_catalog(before, conn);
    rh_scale_fill_result_free(&fr);
    rh_catalog_free(before);
    PQfinish(conn);
}

/*
 * CHECK constraints: the generated rows that fail one are left out and more are tried (twice the
 * rows asked for), so a table whose CHECK rejects some values is still filled; when too few pass,
 * the note says how many rows there are and which CHECK. The old filler skipped all three tables.
 * Rare's CHECK reads two columns: no values are aimed at it (test_values_are_aimed_at_one_column_checks).
 */
static void test_check_constraints_leave_out_failing_rows(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, "CREATE TABLE \"Adult\" (id serial PRIMARY KEY, age integer NOT NULL"
                       " CONSTRAINT \"Adult_age_check\" CHECK (age BETWEEN 18 AND 99));"
                       "CREATE TABLE \"Odd\" (n integer PRIMARY KEY CHECK (n % 3 <> 0), label text CHECK (label <> ''));"
                       "CREATE TABLE \"Rare\" (n integer NOT NULL, m integer NOT NULL CONSTRAINT \"Rare_tenth\" CHECK ((n + m) % 20 = 0));");
    rh_scale s = {0};
    rh_err err;
    rh_err_clear(&err);
    assert_int_equal(rh_scale_parse(&s, "{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": "
                                        "\"Adult\", \"rows\": 5000, \"table_bytes\": 0, \"index_bytes\": 0, "
                                        "\"dead_tuples\": 0, \"columns\": [{\"name\": \"age\", \"null_frac\": 0, "
                                        "\"n_distinct\": 90, \"avg_width\": 4}]}]}",
                                    "prod.json", &err),
                     0);
    assert_int_equal(rh_scale_add_rows(&s, "Odd=3000", &err), 0);
    assert_int_equal(rh_scale_add_rows(&s, "Rare=1000", &err), 0);
    rh_scale_fill_result fr;
    if (rh_scale_fill(conn, &s, &fr, &err) < 0)
        fail_msg("%s", err.msg);
    assert_null(filled(&fr, "Adult")->note);
    assert_null(filled(&fr, "Odd")->note);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Adult\""), 5000);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT age) FROM \"Adult\""), 72); /* 18..89 of 0..89 */
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Odd\""), 3000);
    /* a tenth of 2 x 1000 tried: 200 rows, said */
    const rh_scale_filled *rare = filled(&fr, "Rare");
    assert_int_equal(rare->inserted, 200);
    assert_non_null(rare->note);
    assert_non_null(strstr(rare->note, "CHECK constraint Rare_tenth rejects"));
    assert_null(strstr(rare->note, "of 1000 rows")); /* the readers print the counts: once, not twice */
    rh_scale_fill_result_free(&fr);
    rh_scale_free(&s);
    PQfinish(conn);
}

/*
 * A generated int column without stats that a CHECK of its own reads: K cycles over the candidate values
 * the CHECK lets through, so a range CHECK keeps every row asked for. Before, K = g (of the 10 000 rows
 * tried for 5000): `age >= 0 AND age < 150` kept 149 rows, `rating BETWEEN 1 AND 5` 5, `stars <= 50` 50,
 * `tenth % 10 = 0` 1000, each table with a note. A lower bound alone (`score >= 3`) stays K = g:
 * all distinct. numeric(3,1)'s values stay below 100.
 */
static void test_values_are_aimed_at_one_column_checks(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, "CREATE TABLE \"Person\" (id serial PRIMARY KEY, age integer NOT NULL CHECK (age >= 0 AND age < 150),"
                       " score bigint CHECK (score >= 3));"
                       "CREATE TABLE \"Review\" (id serial PRIMARY KEY, rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),"
                       " stars numeric(3,1) CHECK (stars <= 50), tenth int CHECK (tenth % 10 = 0),"
                       " k int CHECK (k < 7), \"a\"\"b)\" int CHECK (\"a\"\"b)\" BETWEEN 2 AND 3));"
                       /* a CHECK that fails to run on a candidate (30000): nothing aimed, as before */
                       "CREATE TABLE \"Fragile\" (x int NOT NULL CHECK (x < 10 OR 1 / (x - 30000) > 0));");
    rh_scale s = {0};
    rh_err err;
    rh_err_clear(&err);
    assert_int_equal(rh_scale_add_rows(&s, "Person=5000", &err), 0);
    assert_int_equal(rh_scale_add_rows(&s, "Review=5000", &err), 0);
    assert_int_equal(rh_scale_add_rows(&s, "Fragile=1000", &err), 0);
    rh_scale_fill_result fr;
    if (rh_scale_fill(conn, &s, &fr, &err) < 0)
        fail_msg("%s", err.msg);
    assert_null(filled(&fr, "Person")->note);
    assert_null(filled(&fr, "Review")->note);
    assert_int_equal(filled(&fr, "Person")->inserted, 5000);
    assert_int_equal(filled(&fr, "Review")->inserted, 5000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Person\" WHERE age >= 0 AND age < 150"), 5000);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT age) FROM \"Person\""), 150);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT score) FROM \"Person\" WHERE score >= 3"), 5000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Review\" WHERE rating BETWEEN 1 AND 5 AND stars <= 50 AND tenth % 10 = 0"), 5000);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT rating) FROM \"Review\""), 5);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT stars) FROM \"Review\""), 51);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT tenth) FROM \"Review\""), 5000);
    /* a column named as the candidates' series (k), one whose quoted name holds a quote and a parenthesis */
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Review\" WHERE k < 7 AND \"a\"\"b)\" BETWEEN 2 AND 3"), 5000);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT k) + count(DISTINCT \"a\"\"b)\") FROM \"Review\""), 7 + 2);
    const rh_scale_filled *fragile = filled(&fr, "Fragile");
    assert_true(fragile->inserted < 1000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Fragile\" WHERE x < 10"), fragile->inserted);
    assert_non_null(fragile->note);
    rh_scale_fill_result_free(&fr);
    rh_scale_free(&s);
    PQfinish(conn);
}

/*
 * A table the session's role may insert into but does not own (created by the superuser, INSERT and
 * SELECT granted): the bulk way cannot drop its indexes or truncate it, so it only inserts; the
 * table is filled, its index is there. Before: DROP INDEX failed ("must be owner") and the table
 * was rolled back, unfilled.
 */
static void test_table_of_another_owner_is_inserted_into(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL); /* the test cluster's role is the superuser: act as another one */
    rh_test_exec(conn, "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fill_app') THEN "
                       "CREATE ROLE fill_app; END IF; END $$;"
                       "CREATE TABLE \"Audit\" (id integer PRIMARY KEY, what text NOT NULL);"
                       "CREATE INDEX \"Audit_what_idx\" ON \"Audit\"(what);"
                       "GRANT SELECT, INSERT ON \"Audit\" TO fill_app;"
                       "SET ROLE fill_app");
    rh_catalog *before = snapshot(conn);
    const char *rows[] = {"Audit=2000"};
    rh_scale_fill_result fr;
    fill(conn, rows, 1, &fr);
    const rh_scale_filled *a = filled(&fr, "Audit");
    if (a->note)
        fail_msg("%s", a->note);
    assert_int_equal(a->inserted, 2000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Audit\""), 2000);
    assert_same_catalog(before, conn);
    rh_scale_fill_result_free(&fr);
    rh_catalog_free(before);
    PQfinish(conn);
}

/* Foreign keys take the stats' null fraction and distinct count too (before: every row had a parent,
   and all parents were referred to). */
static void test_foreign_keys_follow_the_stats(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, "CREATE TABLE \"User\" (id serial PRIMARY KEY);"
                       "CREATE TABLE \"Post\" (id serial PRIMARY KEY, \"editorId\" integer REFERENCES \"User\"(id),"
                       " \"authorId\" integer NOT NULL REFERENCES \"User\"(id));"
                       "CREATE TABLE \"Comment\" (id serial PRIMARY KEY, \"userId\" integer NOT NULL REFERENCES \"User\"(id));");
    rh_scale s = {0};
    rh_err err;
    rh_err_clear(&err);
    assert_int_equal(rh_scale_parse(&s, "{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": "
                                        "\"Post\", \"rows\": 20000, \"table_bytes\": 0, \"index_bytes\": 0, "
                                        "\"dead_tuples\": 0, \"columns\": [{\"name\": \"editorId\", \"null_frac\": 0.3, "
                                        "\"n_distinct\": 2000, \"avg_width\": 4}, {\"name\": \"authorId\", "
                                        "\"null_frac\": 0, \"n_distinct\": 1500, \"avg_width\": 4}]}, "
                                        "{\"schema\": \"public\", \"name\": \"Comment\", \"rows\": 5000, "
                                        "\"table_bytes\": 0, \"index_bytes\": 0, \"dead_tuples\": 0, \"columns\": "
                                        "[{\"name\": \"userId\", \"null_frac\": 0, \"n_distinct\": -0.02, \"avg_width\": 4}]}]}",
                                    "prod.json", &err),
                     0);
    assert_int_equal(rh_scale_add_rows(&s, "User=2000", &err), 0);
    rh_scale_fill_result fr;
    if (rh_scale_fill(conn, &s, &fr, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Post\""), 20000);
    /* the stats' distinct counts: 1 500 of the 2 000 users wrote posts, 2 % of 5 000 comments' authors are distinct */
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT \"authorId\") FROM \"Post\""), 1500);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Comment\""), 5000);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT \"userId\") FROM \"Comment\""), 100);
    long long nulls = count_of(conn, "SELECT count(*) FROM \"Post\" WHERE \"editorId\" IS NULL");
    assert_true(nulls > 5000 && nulls < 7000); /* 30 % +- 5 % */
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Post\" p LEFT JOIN \"User\" u ON u.id = p.\"editorId\" "
                                    "WHERE p.\"editorId\" IS NOT NULL AND u.id IS NULL"),
                     0);
    rh_scale_fill_result_free(&fr);
    rh_scale_free(&s);
    PQfinish(conn);
}

/*
 * Every type rehearse generates, streamed in COPY's binary form (scale/values.c): each value is the
 * one values.h documents for K = g, written here as SQL over the int8 column k; a parent's int4
 * key reaches an int8 foreign-key column as int8 (the cursor casts it); a parent of 70 000 rows is
 * read in windows across chunks, wrapping around. A wrong binary form fails the COPY or the
 * comparison.
 */
static void test_generated_values_of_every_type(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'glad');"
                       "CREATE TABLE \"P\" (id integer PRIMARY KEY);"
                       "CREATE TABLE \"V\" (k int8 PRIMARY KEY, i2 int2 NOT NULL, i4 int4 NOT NULL, n numeric(6,2) NOT NULL,"
                       " nn numeric NOT NULL, f4 real NOT NULL, f8 float8 NOT NULL, b boolean NOT NULL, t text NOT NULL,"
                       " v20 varchar(20) NOT NULL, v3 varchar(3) NOT NULL, c4 char(4) NOT NULL, u uuid NOT NULL,"
                       " ts timestamp(3) NOT NULL, tz timestamptz NOT NULL, d date NOT NULL, tm time NOT NULL,"
                       " ttz timetz NOT NULL, j json NOT NULL, jb jsonb NOT NULL, by bytea NOT NULL, m mood NOT NULL,"
                       " arr text[] NOT NULL, ints int4[] NOT NULL, pid int8 NOT NULL REFERENCES \"P\"(id));");
    const char *rows[] = {"P=70000", "V=100000"};
    rh_scale_fill_result fr;
    fill(conn, rows, 2, &fr);
    for (size_t i = 0; i < fr.n; i++)
        if (fr.tables[i].note)
            fail_msg("%s: %s", fr.tables[i].name, fr.tables[i].note);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"V\""), 100000);
    static const char *const expected[] = {
        "i2 = (k % 32767)::int2",
        "i4 = (k % 2147483647)::int4",
        "n = (k % 10000)::numeric(6,2) AND n::text LIKE '%.00'",
        "nn = k::numeric",
        "f4 = (k::float8 / 8)::real",
        "f8 = k::float8 / 8",
        "b = (k % 2 = 0)",
        "t = 'v' || lpad(k::text, 12, '0')",
        "v20 = 'v' || lpad(k::text, 12, '0')",
        "v3 = substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (k / 3844 % 62)::int + 1, 1)"
        " || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (k / 62 % 62)::int + 1, 1)"
        " || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (k % 62)::int + 1, 1)",
        "octet_length(c4) = 4 AND c4 = substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (k / 238328 % 62)::int + 1, 1)"
        " || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (k / 3844 % 62)::int + 1, 1)"
        " || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (k / 62 % 62)::int + 1, 1)"
        " || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (k % 62)::int + 1, 1)",
        "u = lpad(to_hex(k), 32, '0')::uuid",
        "ts = timestamp '2020-01-01' + k * interval '1 second'",
        "tz = (timestamp '2020-01-01' + k * interval '1 second') AT TIME ZONE 'UTC'",
        "d = date '2000-01-01' + (k % 36500)::int",
        "tm = time '00:00' + (k % 86400) * interval '1 second'",
        "ttz::time = time '00:00' + (k % 86400) * interval '1 second' AND extract(timezone from ttz) = 0",
        "j::text = '{\"k\": ' || k || '}'",
        "jb = jsonb_build_object('k', k)",
        "by = int8send(k)",
        "m = (ARRAY['sad', 'ok', 'glad']::mood[])[1 + k % 3]",
        "arr = '{}' AND ints = '{}'",
        "pid = k % 70000 + 1", /* P's rows in their order: id 1 .. 70 000; row g takes row g mod 70 000 */
    };
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++) {
        char *q = rh_xasprintf("SELECT count(*) FROM \"V\" WHERE NOT (%s)", expected[i]);
        long long wrong = count_of(conn, q);
        if (wrong != 0) {
            char *e = rh_xasprintf("SELECT k || ': ' || row_to_json(v)::text FROM \"V\" v WHERE NOT (%s) LIMIT 1", expected[i]);
            char *example = rh_test_value(conn, e);
            fail_msg("%lld rows break \"%s\", e.g. %s", wrong, expected[i], example ? example : "?");
        }
        free(q);
    }
    assert_int_equal(count_of(conn, "SELECT min(k) FROM \"V\""), 1);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT pid) FROM \"V\""), 70000);
    rh_scale_fill_result_free(&fr);
    PQfinish(conn);
}

/*
 * An empty parent whose children are empty too: it is truncated with them, and the children's foreign
 * keys into it are dropped and put back after its load, so its primary key (which they rely on) is
 * built by a sort too (before: kept, a btree insert per row). Same catalog after; the keys hold.
 */
static void test_keys_referred_to_by_empty_tables_are_built_back(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, "CREATE TABLE \"Team\" (id text PRIMARY KEY, name text NOT NULL);"
                       "CREATE TABLE \"Member\" (id serial PRIMARY KEY, \"teamId\" text NOT NULL);"
                       "ALTER TABLE \"Member\" ADD CONSTRAINT \"Member_teamId_fkey\" FOREIGN KEY (\"teamId\")"
                       " REFERENCES \"Team\"(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;"
                       "CREATE TABLE \"Badge\" (\"teamId\" text);"
                       "ALTER TABLE \"Badge\" ADD FOREIGN KEY (\"teamId\") REFERENCES \"Team\"(id) NOT VALID;");
    rh_catalog *before = snapshot(conn);
    const char *pkey = "SELECT oid FROM pg_class WHERE relname = 'Team_pkey'";
    char *pkey_before = rh_test_value(conn, pkey);
    const char *rows[] = {"Team=12000"};
    rh_scale_fill_result fr;
    fill(conn, rows, 1, &fr);
    if (filled(&fr, "Team")->note)
        fail_msg("%s", filled(&fr, "Team")->note);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Team\""), 12000);
    char *pkey_after = rh_test_value(conn, pkey);
    assert_string_not_equal(pkey_before, pkey_after); /* built back */
    assert_same_catalog(before, conn);
    /* the foreign keys into it are back and work */
    PGresult *r = PQexec(conn, "INSERT INTO \"Badge\" VALUES ('no such team')");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23503");
    PQclear(r);
    rh_test_exec(conn, "INSERT INTO \"Member\" (\"teamId\") SELECT id FROM \"Team\" LIMIT 1;"
                       "DELETE FROM \"Team\" WHERE id = (SELECT \"teamId\" FROM \"Member\" LIMIT 1)");
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Member\""), 0); /* ON DELETE CASCADE */
    free(pkey_before);
    free(pkey_after);
    rh_scale_fill_result_free(&fr);
    rh_catalog_free(before);
    PQfinish(conn);
}

/*
 * Children loaded FREEZE too (session 5): the parents' keys are read through WITH HOLD cursors of a
 * second connection, so no cursor is open in the load's transaction and its COPY can be FREEZE
 * (before: only tables without foreign keys were). Seen in the visibility map: every block of the
 * file all-visible and all-frozen, = relallvisible = relpages after the fill's ANALYZE (COPY FREEZE
 * sets the visibility map; a plain COPY does not: 0 before). On 16-18 COPY left empty pages at the
 * end, not all-visible (Team: 23/32), until the fill VACUUMed a FREEZE-loaded table there. Every foreign key
 * holds (checked here by query, not only by the server's validation); a child whose load fails
 * (a unique index over repeated values, 23505) is rolled back and the next child (Badge: two foreign
 * keys), whose cursors reuse the same names on that connection, still fills; the second connection
 * is closed at the end.
 */
static void test_children_are_loaded_frozen_and_their_keys_hold(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, "CREATE TABLE \"Team\" (id text PRIMARY KEY, name text NOT NULL);"
                       "CREATE TABLE \"Member\" (id text PRIMARY KEY, \"teamId\" text NOT NULL REFERENCES \"Team\"(id));"
                       "CREATE INDEX \"Member_teamId_idx\" ON \"Member\"(\"teamId\");"
                       "CREATE TABLE \"Assignment\" (id serial PRIMARY KEY, n integer NOT NULL,"
                       " \"memberId\" text REFERENCES \"Member\"(id));"
                       "CREATE UNIQUE INDEX \"Assignment_bucket_key\" ON \"Assignment\"((n / 1000));"
                       "CREATE TABLE \"Badge\" (\"memberId\" text NOT NULL REFERENCES \"Member\"(id),"
                       " \"teamId\" text NOT NULL REFERENCES \"Team\"(id), UNIQUE (\"memberId\", \"teamId\"));"
                       "CREATE EXTENSION pg_visibility"); /* reads the visibility map's bits, below */
    rh_catalog *before = snapshot(conn);
    const char *rows[] = {"Team=3000", "Member=20000", "Assignment=5000", "Badge=30000"};
    rh_scale_fill_result fr;
    fill(conn, rows, 4, &fr);
    assert_null(filled(&fr, "Team")->note);
    assert_null(filled(&fr, "Member")->note);
    assert_null(filled(&fr, "Badge")->note);
    const rh_scale_filled *failed = filled(&fr, "Assignment");
    assert_int_equal(failed->inserted, 0);
    assert_non_null(failed->note);
    assert_non_null(strstr(failed->note, "Assignment_bucket_key"));
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Assignment\""), 0);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Member\""), 20000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Badge\""), 30000);
    /* loaded FREEZE, as a vacuumed table: every page of the file all-visible and all-frozen (no empty page
       left at its end by 16's multi-block extension), and pg_class says so after the fill's ANALYZE */
    for (const char *const *t = (const char *const[]){"Team", "Member", "Badge", NULL}; *t; t++) {
        char sql[400];
        snprintf(sql, sizeof sql,
                 "SELECT v.all_visible || '/' || v.all_frozen || '/' || c.relallvisible || '/' || c.relpages || '/' || "
                 "pg_relation_size(c.oid) / current_setting('block_size')::int FROM pg_class c, "
                 "pg_visibility_map_summary(c.oid) v WHERE c.relname = '%s'",
                 *t);
        char *v = rh_test_value(conn, sql);
        long long n[5] = {0};
        const char *s = v;
        for (int i = 0; i < 5 && s; i++, s = strchr(s, '/') ? strchr(s, '/') + 1 : NULL)
            n[i] = atoll(s);
        if (n[4] == 0 || n[0] != n[4] || n[1] != n[4] || n[2] != n[4] || n[3] != n[4])
            fail_msg("%s: all-visible/all-frozen/relallvisible/relpages/blocks %s: not every page loaded FREEZE", *t, v);
        free(v);
    }
    /* every foreign key holds, every member is in a team that exists, badges spread over members and teams */
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Member\" m LEFT JOIN \"Team\" t ON t.id = m.\"teamId\" "
                                    "WHERE t.id IS NULL"),
                     0);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Badge\" b LEFT JOIN \"Member\" m ON m.id = b.\"memberId\" "
                                    "LEFT JOIN \"Team\" t ON t.id = b.\"teamId\" WHERE m.id IS NULL OR t.id IS NULL"),
                     0);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT \"teamId\") FROM \"Member\""), 3000);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT \"memberId\") FROM \"Badge\""), 20000);
    assert_same_catalog(before, conn);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND pid <> pg_backend_pid()"),
                     0);
    rh_scale_fill_result_free(&fr);
    rh_catalog_free(before);
    PQfinish(conn);
}

static void keep_notice(void *arg, const char *message)
{
    rh_buf_puts(arg, message);
}

/*
 * A child loaded FREEZE whose foreign key's columns lead an index: the key's validation (the server's
 * anti-join of the child's values against the parent's keys) merges the two indexes by index-only
 * scans instead of building a hash table of the parent's keys (about a third of the backend's CPU
 * at 1 000 000 rows, docs/scale.md). The second fill is the one that matters: with the statistics of
 * the first, the planner chose the hash join. auto_explain (nested statements) shows the plan.
 */
static void test_foreign_key_validation_merges_the_indexes(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, "CREATE TABLE \"Org\" (id text PRIMARY KEY, name text NOT NULL);"
                       "CREATE TABLE \"Seat\" (id text PRIMARY KEY, \"orgId\" text NOT NULL REFERENCES \"Org\"(id));"
                       "CREATE INDEX \"Seat_orgId_idx\" ON \"Seat\"(\"orgId\");");
    const char *rows[] = {"Org=20000", "Seat=40000"};
    rh_scale_fill_result fr;
    fill(conn, rows, 2, &fr);
    rh_scale_fill_result_free(&fr);
    rh_test_exec(conn, "TRUNCATE \"Org\", \"Seat\"");
    rh_buf plans;
    rh_buf_init(&plans);
    rh_test_exec(conn, "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; "
                       "SET auto_explain.log_nested_statements = on; SET client_min_messages = log");
    PQnoticeProcessor was = PQsetNoticeProcessor(conn, keep_notice, &plans);
    fill(conn, rows, 2, &fr);
    PQsetNoticeProcessor(conn, was, NULL);
    rh_test_exec(conn, "RESET client_min_messages");
    assert_null(filled(&fr, "Seat")->note);
    assert_int_equal(filled(&fr, "Seat")->inserted, 40000);
    /* the last validation: Seat's own load (the first one is of the empty Seat, in Org's load) */
    const char *plan = NULL;
    for (const char *p = plans.data ? plans.data : ""; (p = strstr(p, "SELECT fk.\"orgId\" FROM ONLY")); p++)
        plan = p;
    if (!plan)
        fail_msg("no plan of the foreign key's validation among the fill's:\n%s", plans.data ? plans.data : "");
    const char *end = strstr(plan, "\nLOG:");
    int len = end ? (int)(end - plan) : (int)strlen(plan);
    if (!strstr(plan, "Merge Anti Join") || (strstr(plan, "Hash") && strstr(plan, "Hash") < plan + len))
        fail_msg("the validation did not merge the indexes:\n%.*s", len, plan);
    assert_true(strstr(plan, "Index Only Scan using \"Seat_orgId_idx\"") && strstr(plan, "Index Only Scan using \"Org_pkey\""));
    assert_int_equal(count_of(conn, "SELECT count(*) FROM pg_constraint WHERE conname = 'Seat_orgId_fkey' AND convalidated"), 1);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Seat\" s LEFT JOIN \"Org\" o ON o.id = s.\"orgId\" WHERE o.id IS NULL"), 0);
    rh_buf_free(&plans);
    rh_scale_fill_result_free(&fr);
    PQfinish(conn);
}

/*
 * A child of parents filled from empty in the same fill takes their keys from the generators that
 * filled them (no cursor over the parent, no second connection's held cursor): none of the parents'
 * rows is read, every key holds and every parent is referred to. A child column of another type than
 * the parent's key (varchar vs text), or of a parent whose BEFORE INSERT trigger changes its keys,
 * still reads them through the cursor.
 */
static void test_children_take_the_keys_their_parents_were_filled_with(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, "CREATE TABLE \"Account\" (id text PRIMARY KEY, name text);"
                       "CREATE TABLE \"Tag\" (code varchar(6) PRIMARY KEY);"
                       "CREATE TABLE \"Session\" (id text PRIMARY KEY, \"accountId\" text NOT NULL REFERENCES \"Account\"(id),"
                       " tag varchar(6) NOT NULL REFERENCES \"Tag\"(code));"
                       "CREATE INDEX \"Session_accountId_idx\" ON \"Session\"(\"accountId\");"
                       "CREATE TABLE \"Audit\" (id text PRIMARY KEY, \"accountId\" varchar(40) NOT NULL REFERENCES \"Account\"(id));"
                       /* a trigger that changes the keys it is given: its children must read them */
                       "CREATE TABLE \"Team\" (id text PRIMARY KEY);"
                       "CREATE FUNCTION team_key() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.id := 't-' || NEW.id; "
                       "RETURN NEW; END$$;"
                       "CREATE TRIGGER team_key BEFORE INSERT ON \"Team\" FOR EACH ROW EXECUTE FUNCTION team_key();"
                       "CREATE TABLE \"Member\" (id text PRIMARY KEY, \"teamId\" text NOT NULL REFERENCES \"Team\"(id));");
    const char *rows[] = {"Account=30000", "Tag=500", "Session=40000", "Audit=20000", "Team=1000", "Member=12000"};
    rh_scale_fill_result fr;
    fill(conn, rows, 6, &fr);
    for (size_t i = 0; i < fr.n; i++)
        if (fr.tables[i].note)
            fail_msg("%s: %s", fr.tables[i].name, fr.tables[i].note);
    assert_int_equal(filled(&fr, "Session")->inserted, 40000);
    assert_int_equal(filled(&fr, "Session")->parent_keys_read, 0);
    assert_true(filled(&fr, "Audit")->parent_keys_read >= 20000);
    assert_int_equal(filled(&fr, "Member")->inserted, 12000);
    assert_int_equal(filled(&fr, "Member")->parent_keys_read, 1000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Session\" s LEFT JOIN \"Account\" a ON a.id = s.\"accountId\" "
                                    "LEFT JOIN \"Tag\" t ON t.code = s.tag WHERE a.id IS NULL OR t.code IS NULL"),
                     0);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT \"accountId\") FROM \"Session\""), 30000);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Audit\" s LEFT JOIN \"Account\" a ON a.id = s.\"accountId\" "
                                    "WHERE a.id IS NULL"),
                     0);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated"), 4);
    rh_scale_fill_result_free(&fr);
    PQfinish(conn);
}

/*
 * A date/time column whose DEFAULT is the transaction's time (Prisma's @default(now()): CURRENT_TIMESTAMP,
 * now(), CURRENT_DATE, now() + an interval) gets generated values, distinct or as many as the stats
 * say, as production's insert times are: a unique index on createdAt then passes or fails as on
 * production. Before, the DEFAULT gave every row of the fill one value (count(DISTINCT) = 1, and the
 * unique index failed 23505). A volatile DEFAULT (clock_timestamp()) and a constant one stay the DEFAULT's.
 */
static void test_transaction_time_defaults_are_generated(void **state)
{
    (void)state;
    PGconn *conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, "CREATE TABLE \"Event\" (id serial PRIMARY KEY,"
                       " \"createdAt\" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, \"seenAt\" timestamptz DEFAULT now(),"
                       " day date NOT NULL DEFAULT CURRENT_DATE, \"dueAt\" timestamptz NOT NULL DEFAULT now() + interval '1 day',"
                       " \"loggedAt\" timestamptz NOT NULL DEFAULT clock_timestamp(),"
                       " fixed timestamp NOT NULL DEFAULT '2001-02-03', flag boolean NOT NULL DEFAULT false);"
                       "CREATE TABLE \"Visit\" (id serial PRIMARY KEY,"
                       " \"createdAt\" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP);");
    rh_scale s = {0};
    rh_err err;
    rh_err_clear(&err);
    assert_int_equal(rh_scale_parse(&s, "{\"rehearse_stats\": 1, \"tables\": [{\"schema\": \"public\", \"name\": "
                                        "\"Visit\", \"rows\": 3000, \"table_bytes\": 0, \"index_bytes\": 0, "
                                        "\"dead_tuples\": 0, \"columns\": [{\"name\": \"createdAt\", \"null_frac\": 0, "
                                        "\"n_distinct\": 50, \"avg_width\": 8}]}]}",
                                    "prod.json", &err),
                     0);
    assert_int_equal(rh_scale_add_rows(&s, "Event=20000", &err), 0);
    rh_scale_fill_opts o = {.bulk_from_rows = 1};
    rh_scale_fill_result fr;
    if (rh_scale_fill_with(conn, &s, &o, &fr, &err) < 0)
        fail_msg("%s", err.msg);
    for (size_t i = 0; i < fr.n; i++)
        if (fr.tables[i].note)
            fail_msg("%s: %s", fr.tables[i].name, fr.tables[i].note);
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Event\""), 20000);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT \"createdAt\") FROM \"Event\""), 20000);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT \"seenAt\") FROM \"Event\""), 20000);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT day) FROM \"Event\""), 20000);
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT \"dueAt\") FROM \"Event\""), 20000);
    /* the DEFAULTs that are not the transaction's time: the server's values */
    assert_int_equal(count_of(conn, "SELECT count(*) FROM \"Event\" WHERE \"loggedAt\" < now() - interval '1 hour' "
                                    "OR fixed <> '2001-02-03' OR flag"),
                     0);
    rh_test_exec(conn, "CREATE UNIQUE INDEX \"Event_createdAt_key\" ON \"Event\"(\"createdAt\")");
    /* production's 3 000 visits hold 50 distinct times: the same unique index fails there and here */
    assert_int_equal(count_of(conn, "SELECT count(DISTINCT \"createdAt\") FROM \"Visit\""), 50);
    PGresult *r = PQexec(conn, "CREATE UNIQUE INDEX \"Visit_createdAt_key\" ON \"Visit\"(\"createdAt\")");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : "", "23505");
    PQclear(r);
    rh_scale_fill_result_free(&fr);
    rh_scale_free(&s);
    PQfinish(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bulk_fill_keeps_catalog_and_constraints),
        cmocka_unit_test(test_bulk_fill_failure_rolls_back),
        cmocka_unit_test(test_short_unique_keys_and_composite_foreign_keys),
        cmocka_unit_test(test_check_constraints_leave_out_failing_rows),
        cmocka_unit_test(test_values_are_aimed_at_one_column_checks),
        cmocka_unit_test(test_table_of_another_owner_is_inserted_into),
        cmocka_unit_test(test_foreign_keys_follow_the_stats),
        cmocka_unit_test(test_generated_values_of_every_type),
        cmocka_unit_test(test_keys_referred_to_by_empty_tables_are_built_back),
        cmocka_unit_test(test_children_are_loaded_frozen_and_their_keys_hold),
        cmocka_unit_test(test_foreign_key_validation_merges_the_indexes),
        cmocka_unit_test(test_children_take_the_keys_their_parents_were_filled_with),
        cmocka_unit_test(test_transaction_time_defaults_are_generated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
