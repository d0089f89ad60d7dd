/*
 * test_catalog_assert.c — the assertion primitives scenarios use: parsing `expect` text into one
 * struct, every property against a real schema, failure messages with expected vs actual and
 * "did you mean", and query checks (equals, rows, raises SQLSTATE).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/assert.h"
#include "catalog/catalog.h"
#include "testlib.h"

static const char SCHEMA[] =
    "CREATE TYPE \"Role\" AS ENUM ('USER', 'ADMIN');"
    "CREATE TABLE \"User\" (id SERIAL PRIMARY KEY, email VARCHAR(255) NOT NULL, role \"Role\" NOT NULL DEFAULT 'USER',"
    "  \"createdAt\" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, meta JSONB DEFAULT '{}', score DOUBLE PRECISION,"
    "  price DECIMAL(65,30));"
    "CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(email);"
    "CREATE TABLE \"WaitlistEntry\" (id int PRIMARY KEY, \"clientPartyId\" int, note text);"
    "INSERT INTO \"WaitlistEntry\" VALUES (1, 7, 'a'), (2, 7, 'b');"
    "CREATE INDEX \"WaitlistEntry_clientPartyId_idx\" ON \"WaitlistEntry\"(\"clientPartyId\");"
    "CREATE TABLE \"Order\" (id int PRIMARY KEY, \"userId\" int);"
    "ALTER TABLE \"Order\" ADD CONSTRAINT \"Order_userId_fkey\" FOREIGN KEY (\"userId\") REFERENCES \"User\"(id) NOT VALID;"
    "CREATE VIEW \"ActiveUsers\" AS SELECT id FROM \"User\";"
    "CREATE MATERIALIZED VIEW stats AS SELECT count(*) AS n FROM \"User\";"
    "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
    "CREATE TRIGGER user_touch BEFORE UPDATE ON \"User\" FOR EACH ROW EXECUTE FUNCTION touch();"
    "ALTER TABLE \"Order\" ENABLE ROW LEVEL SECURITY; CREATE POLICY mine ON \"Order\" USING (true);"
    "CREATE SEQUENCE counter AS bigint;"
    "CREATE SCHEMA audit; CREATE TABLE audit.log (id int);"
    "CREATE DOMAIN posint AS int CHECK (VALUE > 0);";

static PGconn *conn;
static rh_catalog *cat;

static int setup(void **state)
{
    (void)state;
    conn = rh_test_fresh_db(NULL);
    rh_test_exec(conn, SCHEMA);
    /* fails on the duplicate 7 and leaves an INVALID index */
    PQclear(PQexec(conn, "CREATE UNIQUE INDEX CONCURRENTLY \"WaitlistEntry_clientPartyId_key\" ON \"WaitlistEntry\"(\"clientPartyId\")"));
    rh_err err;
    if (rh_catalog_snapshot(conn, NULL, &cat, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rh_catalog_free(cat);
    PQfinish(conn);
    return 0;
}

/* Parse `text` (after "expect"), check it, and return the result; *msg gets the message. */
static int check(const char *text, char **msg)
{
    rh_catalog_expect e;
    rh_err err;
    if (rh_catalog_expect_parse(text, &e, &err) < 0) {
        fprintf(stderr, "parse failed: %s\n", err.msg);
        fail();
    }
    rh_buf m;
    rh_buf_init(&m);
    int r = rh_catalog_check(cat, &e, &m);
    rh_catalog_expect_clear(&e);
    if (msg)
        *msg = rh_buf_steal(&m);
    rh_buf_free(&m);
    return r;
}

static void pass(const char *text)
{
    char *m;
    int r = check(text, &m);
    if (r != RH_CATALOG_CHECK_PASS)
        fprintf(stderr, "expected `%s` to pass:\n%s", text, m);
    free(m);
    assert_int_equal(r, RH_CATALOG_CHECK_PASS);
}

/* Must fail, with every one of the given fragments in the message. */
static void fails(const char *text, const char *const *fragments)
{
    char *m;
    int r = check(text, &m);
    int ok = r == RH_CATALOG_CHECK_FAIL;
    for (const char *const *f = fragments; ok && *f; f++)
        ok = strstr(m, *f) != NULL;
    if (!ok)
        fprintf(stderr, "expected `%s` to fail (got %d) with those fragments:\n%s", text, r, m);
    free(m);
    assert_true(ok);
}

#define FRAG(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_parse_maps_lines_onto_one_struct(void **state)
{
    (void)state;
    rh_catalog_expect e;
    rh_err err;
    assert_int_equal(rh_catalog_expect_parse("index \"WaitlistEntry_clientPartyId_idx\" valid", &e, &err), 0);
    assert_int_equal(e.kind, RH_CAT_INDEX);
    assert_null(e.schema);
    assert_null(e.table);
    assert_string_equal(e.name, "WaitlistEntry_clientPartyId_idx");
    assert_int_equal(e.property, RH_EXPECT_VALID);
    rh_catalog_expect_clear(&e);

    assert_int_equal(rh_catalog_expect_parse("column \"WaitlistEntry\".\"contactId\" absent", &e, &err), 0);
    assert_int_equal(e.kind, RH_CAT_COLUMN);
    assert_string_equal(e.table, "WaitlistEntry");
    assert_string_equal(e.name, "contactId");
    assert_int_equal(e.property, RH_EXPECT_ABSENT);
    rh_catalog_expect_clear(&e);

    assert_int_equal(rh_catalog_expect_parse("constraint \"Order\".\"Order_userId_fkey\" not-validated", &e, &err), 0);
    assert_int_equal(e.kind, RH_CAT_CONSTRAINT);
    assert_string_equal(e.table, "Order");
    assert_string_equal(e.name, "Order_userId_fkey");
    assert_int_equal(e.property, RH_EXPECT_NOT_VALIDATED);
    rh_catalog_expect_clear(&e);

    assert_int_equal(rh_catalog_expect_parse("column audit.log.\"a b\" type 'character varying(3)'", &e, &err), 0);
    assert_string_equal(e.schema, "audit");
    assert_string_equal(e.table, "log");
    assert_string_equal(e.name, "a b");
    assert_string_equal(e.value, "character varying(3)");
    rh_catalog_expect_clear(&e);

    assert_int_equal(rh_catalog_expect_parse("function public.f(integer, text)", &e, &err), 0);
    assert_string_equal(e.name, "f");
    assert_string_equal(e.args, "integer, text");
    assert_int_equal(e.property, RH_EXPECT_EXISTS);
    rh_buf d;
    rh_buf_init(&d);
    rh_catalog_expect_describe(&e, &d);
    assert_string_equal(d.data, "function \"public\".\"f\"(integer, text) exists");
    rh_buf_free(&d);
    rh_catalog_expect_clear(&e);

    const char *words[] = {"column", "User.email", "type", "varchar(255)"};
    assert_int_equal(rh_catalog_expect_from_words(4, words, &e, &err), 0);
    assert_string_equal(e.table, "User");
    assert_string_equal(e.value, "varchar(255)");
    rh_catalog_expect_clear(&e);

    /* the scenario parser's fields: a table's name in `table`, "present" for exists */
    assert_int_equal(rh_catalog_expect_from_fields("table", "public", "User", NULL, "present", NULL, &e, &err), 0);
    assert_int_equal(e.kind, RH_CAT_TABLE);
    assert_string_equal(e.name, "User");
    assert_null(e.table);
    assert_int_equal(e.property, RH_EXPECT_EXISTS);
    rh_catalog_expect_clear(&e);

    /* mistakes in the expectation itself */
    assert_int_equal(rh_catalog_expect_parse("tabel User", &e, &err), -1);
    assert_non_null(strstr(err.msg, "unknown object kind `tabel`"));
    assert_int_equal(rh_catalog_expect_parse("column User.email valid", &e, &err), -1);
    assert_non_null(strstr(err.msg, "`valid` does not apply to a column"));
    assert_int_equal(rh_catalog_expect_parse("column User.email type", &e, &err), -1);
    assert_non_null(strstr(err.msg, "needs a value"));
    assert_int_equal(rh_catalog_expect_parse("column email exists", &e, &err), -1);
    assert_non_null(strstr(err.msg, "table.name"));
    assert_int_equal(rh_catalog_expect_parse("index X vaild", &e, &err), -1);
    assert_non_null(strstr(err.msg, "unknown property `vaild`"));
    assert_int_equal(rh_catalog_expect_from_fields("index", NULL, NULL, "X", "labels", NULL, &e, &err), -1);
}

/* Every prefix of some expectation lines parses or fails with a message (ASan build). */
static void test_expect_parse_survives_damage(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "column \"My \"\"Odd\"\" Schema\".\"we.ird\".\"a b\" type 'character varying(3)'",
        "function public.\"f(x\"(integer, text) definition \"SELECT 1\"",
        "constraint \"Order\".\"Order_userId_fkey\" property deferrable yes",
        "enum Role labels 'a,b', \"c\"\"d\", e",
    };
    for (size_t l = 0; l < sizeof lines / sizeof lines[0]; l++) {
        size_t len = strlen(lines[l]);
        for (size_t i = 0; i <= len; i++) {
            char *p = rh_xstrndup(lines[l], i);
            rh_catalog_expect e;
            rh_err err;
            if (rh_catalog_expect_parse(p, &e, &err) == 0) {
                rh_buf m;
                rh_buf_init(&m);
                int r = rh_catalog_check(cat, &e, &m);
                assert_true(r == RH_CATALOG_CHECK_PASS || r == RH_CATALOG_CHECK_FAIL || r == RH_CATALOG_CHECK_ERROR);
                rh_buf_free(&m);
                rh_catalog_expect_clear(&e);
            } else {
                assert_true(err.msg[0] != '\0');
            }
            free(p);
        }
    }
}

static void test_objects_exist_and_absent(void **state)
{
    (void)state;
    pass("table User");
    pass("table \"User\" exists");
    pass("table public.User exists");
    pass("table audit.log exists");
    pass("table Nope absent");
    pass("column User.email exists");
    pass("column WaitlistEntry.contactId absent");
    pass("index User_email_key exists");
    pass("index WaitlistEntry.WaitlistEntry_clientPartyId_idx exists"); /* table.index works too */
    pass("constraint Order_userId_fkey exists");
    pass("constraint User.User_pkey exists");
    pass("constraint posint.posint_check exists");
    pass("enum Role exists");
    pass("domain posint exists");
    pass("view ActiveUsers exists");
    pass("matview stats exists");
    pass("function touch exists");
    pass("function touch() exists");
    pass("function touch(integer) absent");
    pass("trigger User.user_touch exists");
    pass("sequence counter exists");
    pass("sequence User_id_seq exists");
    pass("extension plpgsql exists");
    pass("extension pgcrypto absent");
    pass("schema audit exists");
    pass("schema public");
    pass("policy Order.mine exists");
    pass("policy Order.theirs absent");
    fails("table User absent", FRAG("expected table \"User\" absent", "but it exists: table public.\"User\""));
    fails("view User exists", FRAG("there is no view \"User\" in schema \"public\"", "note: there is table public.\"User\""));
}

static void test_properties(void **state)
{
    (void)state;
    /* column types as people write them, compared as PostgreSQL prints them */
    pass("column User.email type \"character varying(255)\"");
    pass("column User.email type VARCHAR(255)");
    pass("column User.createdAt type TIMESTAMP(3)");
    pass("column User.id type int");
    pass("column User.id type INTEGER");
    pass("column User.role type Role");
    pass("column User.meta type JSONB");
    pass("column User.score type DOUBLE PRECISION");
    pass("column User.price type DECIMAL(65, 30)");
    fails("column User.email type text", FRAG("expected type: text", "actual   type: character varying(255)"));
    pass("column User.email not-null");
    pass("column User.meta nullable");
    fails("column User.meta not-null", FRAG("expected not-null: yes", "actual   not-null: no"));
    /* defaults, with or without PostgreSQL's casts */
    pass("column User.role default 'USER'::\"Role\"");
    pass("column User.role default USER");
    pass("column User.createdAt default CURRENT_TIMESTAMP");
    pass("column User.meta default '{}'");
    pass("column User.email default none");
    fails("column User.role default ADMIN", FRAG("expected default: ADMIN", "actual   default: 'USER'::\"Role\""));
    fails("column User.email default 'x'", FRAG("actual   default: (none)"));
    /* indexes */
    pass("index WaitlistEntry_clientPartyId_idx valid");
    pass("index WaitlistEntry_clientPartyId_key invalid");
    fails("index WaitlistEntry_clientPartyId_key valid", FRAG("expected state: valid", "actual   state: invalid (ready"));
    pass("index User_email_key unique");
    pass("index WaitlistEntry_clientPartyId_idx not-unique");
    pass("index User_email_key definition CREATE UNIQUE INDEX \"User_email_key\" ON public.\"User\" USING btree (email)");
    pass("index User_email_key definition USING btree (email)");
    fails("index User_email_key definition USING hash (email)", FRAG("expected definition: USING hash (email)"));
    /* constraints */
    pass("constraint Order.Order_userId_fkey not-validated");
    fails("constraint Order.Order_userId_fkey validated", FRAG("expected validated: yes", "actual   validated: no"));
    pass("constraint Order.Order_userId_fkey kind foreign-key");
    pass("constraint Order.Order_userId_fkey kind \"foreign key\"");
    pass("constraint User.User_pkey kind primary-key");
    pass("constraint Order.Order_userId_fkey definition 'FOREIGN KEY (\"userId\") REFERENCES \"User\"(id) NOT VALID'");
    pass("constraint Order.Order_userId_fkey property deferrable none"); /* absent property */
    fails("constraint Order.Order_userId_fkey property deferrable", FRAG("expected deferrable: (present)", "actual   deferrable: (none)"));
    pass("constraint User.User_pkey property validated"); /* present and not "no" */
    pass("constraint Order.Order_userId_fkey property validated no");
    pass("index User_email_key property table User");
    pass("index User_pkey property primary");
    fails("index User_email_key property primary", FRAG("expected primary: (present)"));
    pass("column User.id property identity none");
    pass("extension plpgsql property version 1.0");
    pass("extension plpgsql property schema pg_catalog");
    /* enums, triggers, sequences, views */
    pass("enum Role labels USER, ADMIN");
    pass("enum Role labels 'USER', 'ADMIN'");
    fails("enum Role labels ADMIN, USER", FRAG("expected labels: ADMIN, USER", "actual   labels: 'USER', 'ADMIN'"));
    pass("trigger User.user_touch enabled");
    fails("trigger User.user_touch disabled", FRAG("expected enabled: no"));
    pass("sequence counter type bigint");
    pass("view ActiveUsers definition FROM \"User\";");
    pass("function touch kind function");
    pass("domain posint type integer");
}

static void test_did_you_mean(void **state)
{
    (void)state;
    fails("index WaitlistEntry_clientPartyID_idx valid",
          FRAG("expected index \"WaitlistEntry_clientPartyID_idx\" valid",
               "there is no index \"WaitlistEntry_clientPartyID_idx\" in schema \"public\"",
               "did you mean \"WaitlistEntry_clientPartyId_idx\" on \"WaitlistEntry\", "));
    fails("column WaitlistEntry.clientpartyid exists", FRAG("table \"WaitlistEntry\" has no column \"clientpartyid\"",
                                                             "did you mean \"WaitlistEntry\".\"clientPartyId\"?"));
    fails("column WaitlistEntries.clientPartyId not-null",
          FRAG("there is no table \"WaitlistEntries\" in schema \"public\"", "did you mean table \"WaitlistEntry\"?"));
    fails("table user exists", FRAG("did you mean \"User\"?"));
    fails("table log exists", FRAG("did you mean \"audit\".\"log\"?"));
    fails("column User.zzzzzz exists", FRAG("its columns: \"createdAt\", \"email\", \"id\", \"meta\", \"price\", \"role\", \"score\""));
    fails("table Completely_Different exists", FRAG("there is no table \"Completely_Different\""));
    fails("table x exists", FRAG("there is no table \"x\""));
    fails("table nope.User exists", FRAG("there is no schema \"nope\""));
    char *m;
    assert_int_equal(check("table Completely_Different exists", &m), RH_CATALOG_CHECK_FAIL);
    assert_null(strstr(m, "did you mean"));
    free(m);

    rh_buf b;
    rh_buf_init(&b);
    assert_int_equal(rh_catalog_nearest(cat, RH_CAT_INDEX, NULL, NULL, "user_email_KEY", 3, &b), 1);
    assert_string_equal(b.data, "\"User_email_key\" on \"User\"");
    rh_buf_free(&b);
    assert_int_equal(rh_catalog_levenshtein("kitten", "SITTING"), 3);
    assert_int_equal(rh_catalog_levenshtein("", "abc"), 3);
    assert_int_equal(rh_catalog_levenshtein("Same", "sAME"), 0);
}

static void test_misapplied_expectation_is_an_error(void **state)
{
    (void)state;
    rh_catalog_expect e = {.kind = RH_CAT_COLUMN, .table = "User", .name = "email", .property = RH_EXPECT_VALID};
    rh_buf m;
    rh_buf_init(&m);
    assert_int_equal(rh_catalog_check(cat, &e, &m), RH_CATALOG_CHECK_ERROR);
    assert_non_null(strstr(m.data, "`valid` does not apply to a column"));
    rh_buf_free(&m);
    /* a view's name passed in `table` as well (the scenario step keeps names there) */
    rh_catalog_expect v = {.kind = RH_CAT_VIEW, .table = "ActiveUsers", .name = "ActiveUsers", .property = RH_EXPECT_EXISTS};
    assert_int_equal(rh_catalog_check(cat, &v, NULL), RH_CATALOG_CHECK_PASS);
    /* a struct filled by hand, checked without a message buffer */
    rh_catalog_expect ok = {.kind = RH_CAT_INDEX, .name = "User_email_key", .property = RH_EXPECT_VALID};
    assert_int_equal(rh_catalog_check(cat, &ok, NULL), RH_CATALOG_CHECK_PASS);
}

static int qcheck(const char *sql, rh_catalog_query_kind k, const char *value, char **msg)
{
    rh_buf m;
    rh_buf_init(&m);
    int r = rh_catalog_check_query(conn, sql, k, value, &m);
    *msg = rh_buf_steal(&m);
    rh_buf_free(&m);
    return r;
}

static void test_query_checks(void **state)
{
    (void)state;
    char *m;
    assert_int_equal(qcheck("SELECT count(*) FROM \"WaitlistEntry\" WHERE \"clientPartyId\" IS NULL", RH_CATQ_EQUALS, "0", &m),
                     RH_CATALOG_CHECK_PASS);
    free(m);
    assert_int_equal(qcheck("SELECT count(*) FROM \"WaitlistEntry\"", RH_CATQ_EQUALS, "3", &m), RH_CATALOG_CHECK_FAIL);
    assert_non_null(strstr(m, "expected: 3\n  actual:   2\n"));
    free(m);
    assert_int_equal(qcheck("SELECT NULL", RH_CATQ_EQUALS, "null", &m), RH_CATALOG_CHECK_PASS);
    free(m);
    assert_int_equal(qcheck("SELECT id, note FROM \"WaitlistEntry\" ORDER BY id", RH_CATQ_EQUALS, "1|a\n2|b", &m), RH_CATALOG_CHECK_PASS);
    free(m);
    assert_int_equal(qcheck("SELECT * FROM \"WaitlistEntry\"", RH_CATQ_ROWS, "2", &m), RH_CATALOG_CHECK_PASS);
    free(m);
    assert_int_equal(qcheck("SELECT * FROM \"WaitlistEntry\" WHERE id = 1", RH_CATQ_ROWS, "2", &m), RH_CATALOG_CHECK_FAIL);
    assert_non_null(strstr(m, "actual: 1 row\n"));
    free(m);
    assert_int_equal(qcheck("UPDATE \"WaitlistEntry\" SET note = note", RH_CATQ_ROWS, "2", &m), RH_CATALOG_CHECK_PASS);
    free(m);
    assert_int_equal(qcheck("INSERT INTO \"User\" (id, email) VALUES (1, 'a'), (2, 'a')", RH_CATQ_RAISES, "23505", &m),
                     RH_CATALOG_CHECK_PASS);
    free(m);
    assert_int_equal(qcheck("INSERT INTO \"User\" (id, email) VALUES (1, 'a'), (2, 'a')", RH_CATQ_RAISES, "unique_violation", &m),
                     RH_CATALOG_CHECK_PASS);
    free(m);
    assert_int_equal(qcheck("SELECT 1", RH_CATQ_RAISES, "23505", &m), RH_CATALOG_CHECK_FAIL);
    assert_non_null(strstr(m, "to fail with SQLSTATE 23505 (unique_violation)"));
    assert_non_null(strstr(m, "but it succeeded"));
    free(m);
    assert_int_equal(qcheck("SELECT * FROM nope", RH_CATQ_RAISES, "23505", &m), RH_CATALOG_CHECK_FAIL);
    assert_non_null(strstr(m, "but it failed with SQLSTATE 42P01 (undefined_table)"));
    free(m);
    assert_int_equal(qcheck("SELECT * FROM nope", RH_CATQ_EQUALS, "0", &m), RH_CATALOG_CHECK_FAIL);
    assert_non_null(strstr(m, "failed with SQLSTATE 42P01"));
    free(m);
    assert_int_equal(qcheck("SELECT 1", RH_CATQ_RAISES, "nonsense", &m), RH_CATALOG_CHECK_ERROR);
    free(m);
    assert_int_equal(qcheck("SELECT 1", RH_CATQ_ROWS, "x", &m), RH_CATALOG_CHECK_ERROR);
    free(m);
    /* inside a transaction an expected error does not abort it */
    rh_test_exec(conn, "BEGIN");
    assert_int_equal(qcheck("SELECT 1/0", RH_CATQ_RAISES, "division_by_zero", &m), RH_CATALOG_CHECK_PASS);
    free(m);
    assert_int_equal(PQtransactionStatus(conn), PQTRANS_INTRANS);
    assert_int_equal(qcheck("SELECT 2", RH_CATQ_EQUALS, "2", &m), RH_CATALOG_CHECK_PASS);
    free(m);
    rh_test_exec(conn, "ROLLBACK");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_maps_lines_onto_one_struct),
        cmocka_unit_test(test_expect_parse_survives_damage),
        cmocka_unit_test(test_objects_exist_and_absent),
        cmocka_unit_test(test_properties),
        cmocka_unit_test(test_did_you_mean),
        cmocka_unit_test(test_misapplied_expectation_is_an_error),
        cmocka_unit_test(test_query_checks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
