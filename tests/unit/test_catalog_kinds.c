/*
 * test_catalog_kinds.c — the object kinds added after the first catalog release, against a real
 * server: composite and range types (with their multirange), plain inheritance, rules, extended
 * statistics, publications, foreign servers and foreign tables (file_fdw). Each shows up in the
 * text with its properties, round-trips through the strict parser, compares equal when built in a
 * different order, every kind of change is reported by the diff, and `rh_catalog_check` asserts
 * exists/absent on each kind.
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

/* One of each new kind, plus objects that must stay out (a table's row type, a view's _RETURN rule). */
static const char KINDS[] =
    "SET client_min_messages TO error;" /* publications warn about wal_level */
    "CREATE EXTENSION file_fdw;"
    "CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;"
    "CREATE FOREIGN TABLE ext_data (id int OPTIONS (force_not_null 'true'), name text NOT NULL)"
    "  SERVER files OPTIONS (filename '/dev/null', format 'csv');"
    "CREATE TYPE address AS (street text, zip varchar(10) COLLATE \"C\");"
    "CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);"
    "CREATE TYPE textrange AS RANGE (subtype = text, collation = \"C\", multirange_type_name = textmulti);"
    "CREATE TABLE parent (id int, note text);"
    "CREATE TABLE child (extra int) INHERITS (parent);"
    "CREATE VIEW pv AS SELECT id FROM parent;"
    "CREATE RULE parent_no_delete AS ON DELETE TO parent DO INSTEAD NOTHING;"
    "COMMENT ON RULE parent_no_delete ON parent IS 'keep rows';"
    "CREATE STATISTICS parent_stats (ndistinct, dependencies) ON id, note FROM parent;"
    "CREATE PUBLICATION pub_all FOR ALL TABLES;"
    "CREATE PUBLICATION pub_some FOR TABLE ONLY parent (id, note) WHERE (id > 0), child WITH (publish = 'insert, update');"
    "CREATE SCHEMA audit;"
    "CREATE PUBLICATION pub_schema FOR TABLES IN SCHEMA audit;";

static rh_catalog *snap(PGconn *conn)
{
    rh_catalog *cat = NULL;
    rh_err err;
    if (rh_catalog_snapshot(conn, NULL, &cat, &err) < 0) {
        fprintf(stderr, "snapshot failed: %s\n", err.msg);
        fail();
    }
    return cat;
}

static char *text_of(const rh_catalog *cat)
{
    rh_buf b;
    rh_buf_init(&b);
    rh_catalog_text(cat, &b);
    char *s = rh_buf_steal(&b);
    rh_buf_free(&b); /* steal leaves a fresh allocation behind */
    return s;
}

static PGconn *db_with(const char *sql)
{
    PGconn *c = rh_test_fresh_db(NULL);
    rh_test_exec(c, sql);
    return c;
}

static void assert_prop(const rh_catalog *cat, rh_catalog_kind k, const char *schema, const char *table,
                        const char *name, const char *key, const char *want)
{
    const rh_catalog_obj *o = rh_catalog_find(cat, k, schema, table, name, NULL);
    if (!o)
        fprintf(stderr, "missing %s %s\n", rh_catalog_kind_name(k), name);
    assert_non_null(o);
    const char *v = rh_catalog_obj_prop(o, key);
    if (!want) {
        assert_null(v);
        return;
    }
    if (!v || strcmp(v, want) != 0)
        fprintf(stderr, "%s %s: %s = [%s], want [%s]\n", rh_catalog_kind_name(k), name, key, v ? v : "(none)", want);
    assert_non_null(v);
    assert_string_equal(v, want);
}

static void test_new_kinds_appear(void **state)
{
    (void)state;
    PGconn *c = db_with(KINDS);
    rh_catalog *cat = snap(c);
    assert_prop(cat, RH_CAT_COMPOSITE, NULL, NULL, "address", "attributes",
                "street text, zip character varying(10) COLLATE \"C\"");
    assert_prop(cat, RH_CAT_RANGE, NULL, NULL, "floatrange", "subtype", "double precision");
    assert_prop(cat, RH_CAT_RANGE, NULL, NULL, "floatrange", "subtype-diff", "float8mi");
    assert_prop(cat, RH_CAT_RANGE, NULL, NULL, "floatrange", "multirange", "floatmultirange");
    assert_prop(cat, RH_CAT_RANGE, NULL, NULL, "floatrange", "collation", NULL);
    assert_prop(cat, RH_CAT_RANGE, NULL, NULL, "textrange", "collation", "\"C\"");
    assert_prop(cat, RH_CAT_RANGE, NULL, NULL, "textrange", "multirange", "textmulti");
    assert_prop(cat, RH_CAT_TABLE, NULL, NULL, "child", "inherits", "public.parent");
    assert_prop(cat, RH_CAT_TABLE, NULL, NULL, "parent", "inherits", NULL);
    assert_non_null(rh_catalog_find(cat, RH_CAT_COLUMN, NULL, "child", "note", NULL));
    assert_prop(cat, RH_CAT_RULE, NULL, "parent", "parent_no_delete", "definition",
                "CREATE RULE parent_no_delete AS\n    ON DELETE TO public.parent DO INSTEAD NOTHING;");
    assert_prop(cat, RH_CAT_RULE, NULL, "parent", "parent_no_delete", "enabled", "yes");
    assert_prop(cat, RH_CAT_RULE, NULL, "parent", "parent_no_delete", "comment", "keep rows");
    assert_prop(cat, RH_CAT_STATISTICS, NULL, "parent", "parent_stats", "definition",
                "CREATE STATISTICS public.parent_stats (ndistinct, dependencies) ON id, note FROM parent");
    assert_prop(cat, RH_CAT_STATISTICS, NULL, "parent", "parent_stats", "target", NULL);
    assert_prop(cat, RH_CAT_SERVER, NULL, NULL, "files", "wrapper", "file_fdw");
    assert_prop(cat, RH_CAT_FOREIGN_TABLE, NULL, NULL, "ext_data", "server", "files");
    assert_prop(cat, RH_CAT_FOREIGN_TABLE, NULL, NULL, "ext_data", "options", "filename=/dev/null, format=csv");
    assert_prop(cat, RH_CAT_COLUMN, NULL, "ext_data", "id", "options", "force_not_null=true");
    assert_prop(cat, RH_CAT_COLUMN, NULL, "ext_data", "name", "not-null", "yes");
    assert_prop(cat, RH_CAT_PUBLICATION, NULL, NULL, "pub_all", "all-tables", "yes");
    assert_prop(cat, RH_CAT_PUBLICATION, NULL, NULL, "pub_all", "publish", "insert, update, delete, truncate");
    assert_prop(cat, RH_CAT_PUBLICATION, NULL, NULL, "pub_some", "publish", "insert, update");
    assert_prop(cat, RH_CAT_PUBLICATION, NULL, NULL, "pub_some", "tables",
                "public.child, public.parent (id, note) WHERE (id > 0)");
    assert_prop(cat, RH_CAT_PUBLICATION, NULL, NULL, "pub_schema", "schemas", "audit");
    /* left out: the extension's own objects, table row types, a view's _RETURN rule */
    for (size_t i = 0; i < rh_catalog_count(cat); i++) {
        const rh_catalog_obj *o = rh_catalog_at(cat, i);
        assert_string_not_equal(rh_catalog_obj_name(o), "_RETURN");
        assert_string_not_equal(rh_catalog_obj_name(o), "file_fdw_handler");
        if (rh_catalog_obj_kind(o) == RH_CAT_COMPOSITE)
            assert_string_equal(rh_catalog_obj_name(o), "address");
    }
    char *t = text_of(cat);
    assert_non_null(strstr(t, "\nserver files\n  wrapper file_fdw\n"));
    assert_non_null(strstr(t, "\nstatistics public.parent_stats on parent\n"));
    assert_non_null(strstr(t, "\nrule public.parent.parent_no_delete\n  definition |\n"));
    assert_non_null(strstr(t, "\nforeign-table public.ext_data\n"));
    /* publications come last, after functions */
    assert_true(strstr(t, "\npublication pub_all\n") > strstr(t, "\nstatistics "));

    /* round trip: parse the text and print the same bytes, no difference */
    rh_catalog *back = NULL;
    rh_err err;
    if (rh_catalog_parse(t, "kinds.catalog", &back, &err) < 0)
        fprintf(stderr, "%s\n", err.msg);
    assert_non_null(back);
    char *t2 = text_of(back);
    assert_string_equal(t, t2);
    assert_int_equal(rh_catalog_diff(cat, back, NULL, "a", "b", NULL), 0);

    /* rh_catalog_check: exists / absent on each new kind */
    static const char *const present[] = {
        "composite address", "range floatrange", "range public.textrange", "foreign-table ext_data",
        "rule parent.parent_no_delete", "rule public.parent.parent_no_delete", "statistics parent_stats",
        "server files", "publication pub_all", "publication pub_schema exists",
        "table child property inherits public.parent", "rule parent.parent_no_delete definition DO INSTEAD NOTHING;",
        "statistics parent_stats definition ON id, note FROM parent", "column ext_data.id exists",
    };
    static const char *const missing[] = {
        "composite nope", "range nope", "foreign-table parent", "rule parent.nope", "statistics nope",
        "server nope", "publication nope",
    };
    for (int pass = 0; pass < 2; pass++) {
        const char *const *list = pass ? missing : present;
        size_t n = pass ? sizeof missing / sizeof *missing : sizeof present / sizeof *present;
        for (size_t i = 0; i < n; i++) {
            rh_catalog_expect e;
            assert_int_equal(rh_catalog_expect_parse(list[i], &e, &err), 0);
            rh_buf m;
            rh_buf_init(&m);
            int rc = rh_catalog_check(cat, &e, &m);
            if (rc != (pass ? RH_CATALOG_CHECK_FAIL : RH_CATALOG_CHECK_PASS))
                fprintf(stderr, "%s -> %d: %s\n", list[i], rc, m.data);
            assert_int_equal(rc, pass ? RH_CATALOG_CHECK_FAIL : RH_CATALOG_CHECK_PASS);
            rh_buf_free(&m);
            rh_catalog_expect_clear(&e);
            /* and the opposite with absent */
            if (strstr(list[i], " definition") || strstr(list[i], " property") || strstr(list[i], " exists"))
                continue;
            rh_buf line;
            rh_buf_init(&line);
            rh_buf_printf(&line, "%s absent", list[i]);
            assert_int_equal(rh_catalog_expect_parse(line.data, &e, &err), 0);
            assert_int_equal(rh_catalog_check(cat, &e, NULL), pass ? RH_CATALOG_CHECK_PASS : RH_CATALOG_CHECK_FAIL);
            rh_catalog_expect_clear(&e);
            rh_buf_free(&line);
        }
    }
    /* a typo gets the usual hint, for the new kinds too */
    static const struct {
        const char *expect, *hint;
    } typos[] = {
        {"rule parent.parent_no_delet", "did you mean \"parent\".\"parent_no_delete\"?"},
        {"statistics parent_stat", "did you mean \"parent_stats\" on \"parent\"?"},
        {"publication pub_sme", "did you mean \"pub_some\"?"},
        {"rule nosuch.r", "there is no table \"nosuch\""},
    };
    for (size_t i = 0; i < sizeof typos / sizeof *typos; i++) {
        rh_catalog_expect e;
        assert_int_equal(rh_catalog_expect_parse(typos[i].expect, &e, &err), 0);
        rh_buf m;
        rh_buf_init(&m);
        assert_int_equal(rh_catalog_check(cat, &e, &m), RH_CATALOG_CHECK_FAIL);
        if (!strstr(m.data, typos[i].hint))
            fprintf(stderr, "%s: %s", typos[i].expect, m.data);
        assert_non_null(strstr(m.data, typos[i].hint));
        rh_buf_free(&m);
        rh_catalog_expect_clear(&e);
    }
    free(t);
    free(t2);
    rh_catalog_free(back);
    rh_catalog_free(cat);
    PQfinish(c);
}

/* The strict parser knows the new kinds' properties, required lines and words. */
static void test_parser_knows_new_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"rehearse-catalog 1\n\nrange public.r\n  subtype integer\n  bogus 1\n", "a range has: subtype,"},
        {"rehearse-catalog 1\n\ncomposite public.c\n  comment x\n", "has no `attributes` line"},
        {"rehearse-catalog 1\n\nrule public.t.r\n  definition x\n  enabled maybe\n", "expected one of: yes, no"},
        {"rehearse-catalog 1\n\nrule public.r\n  definition x\n  enabled yes\n", "needs a name of 3 parts"},
        {"rehearse-catalog 1\n\nstatistics public.s on t\n  definition x\n  target many\n", "expected a number"},
        {"rehearse-catalog 1\n\npublication p\n  publish insert\n  all-tables sure\n", "expected one of: yes, no"},
        {"rehearse-catalog 1\n\nserver public.s\n  wrapper w\n", "needs a name of 1 part"},
        {"rehearse-catalog 1\n\nforeign-table public.f\n  options a=b\n", "has no `server` line"},
        {"rehearse-catalog 1\n\ntable public.t\n  inherits public.p\n  server s\n", "unknown property `server`"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rh_catalog *cat = NULL;
        rh_err err;
        assert_int_equal(rh_catalog_parse(bad[i].text, "bad.catalog", &cat, &err), -1);
        if (!strstr(err.msg, bad[i].msg))
            fprintf(stderr, "case %zu: %s\n", i, err.msg);
        assert_non_null(strstr(err.msg, bad[i].msg));
        assert_null(cat);
    }
}

static void test_new_kinds_in_another_order(void **state)
{
    (void)state;
    PGconn *a = db_with(KINDS);
    PGconn *b = db_with(
        "SET client_min_messages TO error;"
        "CREATE SCHEMA audit;"
        "CREATE PUBLICATION pub_schema FOR TABLES IN SCHEMA audit;"
        "CREATE TABLE parent (id int, note text, gone int);"
        "ALTER TABLE parent DROP COLUMN gone;"
        "CREATE TABLE child (id int, note text, extra int);"
        "ALTER TABLE child INHERIT parent;"
        "CREATE PUBLICATION pub_some FOR TABLE child WITH (publish = 'insert');"
        "ALTER PUBLICATION pub_some ADD TABLE ONLY parent (note, id) WHERE (id > 0);"
        "ALTER PUBLICATION pub_some SET (publish = 'update, insert');"
        "CREATE PUBLICATION pub_all FOR ALL TABLES;"
        "CREATE STATISTICS parent_stats (dependencies, ndistinct) ON note, id FROM parent;"
        "CREATE RULE parent_no_delete AS ON DELETE TO parent DO INSTEAD NOTHING;"
        "COMMENT ON RULE parent_no_delete ON parent IS 'keep rows';"
        "CREATE VIEW pv AS SELECT id FROM parent;"
        "CREATE TYPE textrange AS RANGE (subtype = text, collation = \"C\", multirange_type_name = textmulti);"
        "CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);"
        "CREATE TYPE address AS (street text, gone int);"
        "ALTER TYPE address DROP ATTRIBUTE gone, ADD ATTRIBUTE zip varchar(10) COLLATE \"C\";"
        "CREATE EXTENSION file_fdw;"
        "CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;"
        "CREATE FOREIGN TABLE ext_data (id int, name text) SERVER files OPTIONS (format 'csv', filename '/tmp/x');"
        "ALTER FOREIGN TABLE ext_data OPTIONS (SET filename '/dev/null');"
        "ALTER FOREIGN TABLE ext_data ALTER COLUMN id OPTIONS (force_not_null 'true');"
        "ALTER FOREIGN TABLE ext_data ALTER COLUMN name SET NOT NULL;");
    rh_catalog *ca = snap(a), *cb = snap(b);
    char *ta = text_of(ca), *tb = text_of(cb);
    if (strcmp(ta, tb) != 0) {
        rh_buf d;
        rh_buf_init(&d);
        rh_catalog_diff(ca, cb, NULL, "a", "b", &d);
        fprintf(stderr, "%s", d.data);
        rh_buf_free(&d);
    }
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);
    rh_catalog_free(ca);
    rh_catalog_free(cb);
    PQfinish(a);
    PQfinish(b);
}

/* Apply a change in a transaction, snapshot, roll back, and look for lines in the diff. */
static PGconn *base_conn;
static rh_catalog *base_cat;

static void expect_diff(const char *change, const char *const *lines)
{
    if (!base_conn) {
        base_conn = db_with(KINDS);
        base_cat = snap(base_conn);
    }
    rh_test_exec(base_conn, "BEGIN");
    rh_test_exec(base_conn, change);
    rh_catalog *cb = snap(base_conn);
    rh_test_exec(base_conn, "ROLLBACK");
    rh_buf d;
    rh_buf_init(&d);
    size_t n = rh_catalog_diff(base_cat, cb, NULL, "before", "after", &d);
    int ok = n > 0;
    for (const char *const *l = lines; *l; l++)
        ok = ok && strstr(d.data, *l) != NULL;
    if (!ok)
        fprintf(stderr, "change: %s\ndiff:\n%s", change, d.data);
    assert_true(ok);
    rh_buf_free(&d);
    rh_catalog_free(cb);
}

static void test_new_kinds_differences(void **state)
{
    (void)state;
    expect_diff("ALTER TYPE address ADD ATTRIBUTE city text",
                (const char *const[]){"~ composite public.address\n-  attributes street text, zip character varying(10) COLLATE \"C\"\n"
                                      "+  attributes street text, zip character varying(10) COLLATE \"C\", city text\n", NULL});
    expect_diff("CREATE TYPE t2 AS (a int)", (const char *const[]){"+ composite public.t2\n+  attributes a integer\n", NULL});
    expect_diff("DROP TYPE floatrange", (const char *const[]){"- range public.floatrange\n-  subtype double precision\n", NULL});
    expect_diff("DROP TYPE textrange; CREATE TYPE textrange AS RANGE (subtype = text, multirange_type_name = textmulti)",
                (const char *const[]){"~ range public.textrange\n-  collation \"C\"\n", NULL});
    expect_diff("ALTER TABLE child NO INHERIT parent", (const char *const[]){"~ table public.child\n-  inherits public.parent\n", NULL});
    /* parents in declaration order, quoted like the text form quotes names */
    expect_diff("CREATE TABLE \"Other\" (x int); ALTER TABLE child ADD COLUMN x int; ALTER TABLE child INHERIT \"Other\";"
                "ALTER PUBLICATION pub_some ADD TABLE ONLY \"Other\"",
                (const char *const[]){"~ table public.child\n-  inherits public.parent\n+  inherits public.parent, public.\"Other\"\n",
                                      "+  tables public.\"Other\", public.child, public.parent (id, note) WHERE (id > 0)\n", NULL});
    expect_diff("ALTER TABLE parent DISABLE RULE parent_no_delete",
                (const char *const[]){"~ rule public.parent.parent_no_delete\n-  enabled yes\n+  enabled no\n", NULL});
    expect_diff("CREATE OR REPLACE RULE parent_no_delete AS ON DELETE TO parent DO ALSO NOTIFY parent",
                (const char *const[]){"~ rule public.parent.parent_no_delete\n", "+         ON DELETE TO public.parent DO\n+      NOTIFY parent;\n", NULL});
    expect_diff("DROP RULE parent_no_delete ON parent", (const char *const[]){"- rule public.parent.parent_no_delete\n", NULL});
    expect_diff("ALTER STATISTICS parent_stats SET STATISTICS 500",
                (const char *const[]){"~ statistics public.parent_stats on parent\n+  target 500\n", NULL});
    expect_diff("DROP STATISTICS parent_stats; CREATE STATISTICS parent_stats (mcv) ON id, note FROM parent",
                (const char *const[]){"~ statistics public.parent_stats on parent\n",
                                      "+  definition CREATE STATISTICS public.parent_stats (mcv) ON id, note FROM parent\n", NULL});
    expect_diff("ALTER PUBLICATION pub_some DROP TABLE child",
                (const char *const[]){"~ publication pub_some\n-  tables public.child, public.parent (id, note) WHERE (id > 0)\n"
                                      "+  tables public.parent (id, note) WHERE (id > 0)\n", NULL});
    expect_diff("ALTER PUBLICATION pub_some SET (publish = 'insert', publish_via_partition_root = true)",
                (const char *const[]){"~ publication pub_some\n-  publish insert, update\n+  publish insert\n+  via-root yes\n", NULL});
    expect_diff("DROP PUBLICATION pub_all", (const char *const[]){"- publication pub_all\n-  all-tables yes\n", NULL});
    expect_diff("CREATE SERVER files2 FOREIGN DATA WRAPPER file_fdw", (const char *const[]){"+ server files2\n+  wrapper file_fdw\n", NULL});
    expect_diff("ALTER SERVER files VERSION '2'", (const char *const[]){"~ server files\n+  version 2\n", NULL});
    expect_diff("ALTER FOREIGN TABLE ext_data OPTIONS (SET filename '/tmp/x.csv')",
                (const char *const[]){"~ foreign-table public.ext_data\n-  options filename=/dev/null, format=csv\n"
                                      "+  options filename=/tmp/x.csv, format=csv\n", NULL});
    expect_diff("ALTER FOREIGN TABLE ext_data ADD COLUMN extra date",
                (const char *const[]){"+ column public.ext_data.extra\n+  type date\n", NULL});
    expect_diff("ALTER FOREIGN TABLE ext_data ALTER COLUMN id OPTIONS (DROP force_not_null)",
                (const char *const[]){"~ column public.ext_data.id\n-  options force_not_null=true\n", NULL});
    expect_diff("DROP FOREIGN TABLE ext_data", (const char *const[]){"- foreign-table public.ext_data\n-  server files\n", NULL});
    rh_catalog *again = snap(base_conn);
    assert_int_equal(rh_catalog_diff(base_cat, again, NULL, "a", "b", NULL), 0);
    rh_catalog_free(again);
    rh_catalog_free(base_cat);
    PQfinish(base_conn);
    base_conn = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_kinds_appear),
        cmocka_unit_test(test_parser_knows_new_kinds),
        cmocka_unit_test(test_new_kinds_in_another_order),
        cmocka_unit_test(test_new_kinds_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
