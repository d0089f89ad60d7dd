/*
 * test_catalog.c — catalog snapshots against a real server: every object kind shows up with the
 * properties that matter, the text form is deterministic and parses back, identical schemas built
 * in different orders print the same bytes, every kind of difference is reported, an INVALID index
 * left by a failed CREATE INDEX CONCURRENTLY shows as invalid, NOT VALID then VALIDATE shows the
 * change, and odd identifiers survive every query and the text form.
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
#include "tools/tool.h"
#include "testlib.h"

/* A schema with one of everything (and a ledger table the snapshot leaves out). */
static const char RICH[] =
    "CREATE EXTENSION pgcrypto;"
    "CREATE SCHEMA \"Other Schema\";"
    "CREATE TYPE \"Role\" AS ENUM ('USER', 'ADMIN', 'it''s');"
    "CREATE DOMAIN posint AS integer NOT NULL DEFAULT 1 CONSTRAINT posint_check CHECK (VALUE > 0);"
    "CREATE TABLE \"User\" (\"id\" SERIAL NOT NULL, \"email\" VARCHAR(255) NOT NULL,"
    "  \"role\" \"Role\" NOT NULL DEFAULT 'USER', \"createdAt\" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    "  n posint, name text COLLATE \"C\", big bigint GENERATED ALWAYS AS IDENTITY,"
    "  g int GENERATED ALWAYS AS (id * 2) STORED, CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"));"
    "CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");"
    "CREATE INDEX \"User_lower_idx\" ON \"User\"(lower(email)) WHERE role = 'ADMIN';"
    "CREATE TABLE \"Order\" (id int PRIMARY KEY, \"userId\" int, amount numeric(10,2) CHECK (amount >= 0),"
    "  code text UNIQUE DEFERRABLE INITIALLY DEFERRED);"
    "ALTER TABLE \"Order\" ADD CONSTRAINT \"Order_userId_fkey\" FOREIGN KEY (\"userId\") REFERENCES \"User\"(id) NOT VALID;"
    "CREATE UNLOGGED TABLE logbook (id int);"
    "CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at);"
    "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
    "CREATE TABLE pk (id int, r int, PRIMARY KEY (id, r)) PARTITION BY RANGE (r);"
    "CREATE TABLE pk1 PARTITION OF pk FOR VALUES FROM (0) TO (10);"
    "CREATE TABLE pk2 PARTITION OF pk FOR VALUES FROM (10) TO (20);"
    "CREATE TABLE refs (id int, pid int, pr int, CONSTRAINT refs_fkey FOREIGN KEY (pid, pr) REFERENCES pk);"
    "CREATE VIEW \"ActiveUsers\" AS SELECT id, email FROM \"User\" WHERE role = 'USER';"
    "CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS c FROM \"User\";"
    "CREATE INDEX mv_idx ON mv(c);"
    "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.\"createdAt\" = now(); RETURN NEW; END $$;"
    "CREATE PROCEDURE p(a int) LANGUAGE sql AS $$ SELECT 1 $$;"
    "CREATE TRIGGER user_touch BEFORE UPDATE ON \"User\" FOR EACH ROW EXECUTE FUNCTION touch();"
    "ALTER TABLE \"User\" DISABLE TRIGGER user_touch;"
    "ALTER TABLE \"Order\" ENABLE ROW LEVEL SECURITY;"
    "CREATE POLICY own ON \"Order\" FOR SELECT TO public USING (\"userId\" = 1);"
    "CREATE SEQUENCE \"Other Schema\".s AS smallint INCREMENT 5 CYCLE;"
    "COMMENT ON TABLE \"User\" IS 'people';"
    "COMMENT ON COLUMN \"User\".email IS 'multi\nline';"
    "CREATE TABLE \"_prisma_migrations\" (id varchar(36) PRIMARY KEY, checksum text);";

/* The test cluster's major version (REHEARSE_PG picks it): where the server's own text differs. */
static int server_major(void)
{
    return rh_cluster_pgbin(rh_test_cluster())->major;
}

static rh_catalog *snap(PGconn *conn, const rh_catalog_opts *opts)
{
    rh_catalog *cat = NULL;
    rh_err err;
    if (rh_catalog_snapshot(conn, opts, &cat, &err) < 0) {
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
    rh_buf_free(&b);
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
        fprintf(stderr, "missing %s %s.%s\n", rh_catalog_kind_name(k), table ? table : "", name);
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

static void test_every_kind(void **state)
{
    (void)state;
    PGconn *c = db_with(RICH);
    rh_catalog *cat = snap(c, NULL);
    assert_string_equal(rh_catalog_default_schema(cat), "public");
    assert_non_null(rh_catalog_find(cat, RH_CAT_SCHEMA, NULL, NULL, "Other Schema", NULL));
    assert_prop(cat, RH_CAT_EXTENSION, NULL, NULL, "pgcrypto", "schema", "public");
    assert_non_null(rh_catalog_obj_prop(rh_catalog_find(cat, RH_CAT_EXTENSION, NULL, NULL, "pgcrypto", NULL), "version"));
    assert_prop(cat, RH_CAT_ENUM, NULL, NULL, "Role", "labels", "'USER', 'ADMIN', 'it''s'");
    assert_prop(cat, RH_CAT_DOMAIN, NULL, NULL, "posint", "type", "integer");
    assert_prop(cat, RH_CAT_DOMAIN, NULL, NULL, "posint", "not-null", "yes");
    assert_prop(cat, RH_CAT_CONSTRAINT, NULL, "posint", "posint_check", "definition", "CHECK ((VALUE > 0))");
    /* tables: ordinary, unlogged, partitioned with bounds */
    assert_prop(cat, RH_CAT_TABLE, NULL, NULL, "User", "comment", "people");
    assert_prop(cat, RH_CAT_TABLE, NULL, NULL, "logbook", "unlogged", "yes");
    assert_prop(cat, RH_CAT_TABLE, NULL, NULL, "events", "partition-key", "RANGE (at)");
    assert_prop(cat, RH_CAT_TABLE, NULL, NULL, "events_2024", "partition-of", "public.events");
    assert_prop(cat, RH_CAT_TABLE, NULL, NULL, "events_2024", "partition-bound",
                "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')");
    assert_prop(cat, RH_CAT_TABLE, NULL, NULL, "Order", "row-security", "yes");
    /* a foreign key to a partitioned table: one constraint, not one per referenced partition */
    assert_prop(cat, RH_CAT_CONSTRAINT, NULL, "refs", "refs_fkey", "kind", "foreign-key");
    assert_null(rh_catalog_find(cat, RH_CAT_CONSTRAINT, NULL, "refs", "refs_fkey1", NULL));
    assert_non_null(rh_catalog_find(cat, RH_CAT_INDEX, NULL, "pk1", "pk1_pkey", NULL));
    /* columns */
    assert_prop(cat, RH_CAT_COLUMN, NULL, "User", "email", "type", "character varying(255)");
    assert_prop(cat, RH_CAT_COLUMN, NULL, "User", "email", "comment", "multi\nline");
    assert_prop(cat, RH_CAT_COLUMN, NULL, "User", "createdAt", "type", "timestamp(3) without time zone");
    assert_prop(cat, RH_CAT_COLUMN, NULL, "User", "createdAt", "default", "CURRENT_TIMESTAMP");
    assert_prop(cat, RH_CAT_COLUMN, NULL, "User", "id", "default", "nextval('\"User_id_seq\"'::regclass)");
    assert_prop(cat, RH_CAT_COLUMN, NULL, "User", "role", "default", "'USER'::\"Role\"");
    assert_prop(cat, RH_CAT_COLUMN, NULL, "User", "big", "identity", "always");
    assert_prop(cat, RH_CAT_COLUMN, NULL, "User", "g", "generated", "(id * 2)");
    assert_prop(cat, RH_CAT_COLUMN, NULL, "User", "g", "default", NULL);
    assert_prop(cat, RH_CAT_COLUMN, NULL, "User", "name", "collation", "\"C\"");
    assert_prop(cat, RH_CAT_COLUMN, NULL, "User", "n", "not-null", "no");
    assert_prop(cat, RH_CAT_COLUMN, NULL, "User", "n", "type", "posint");
    assert_null(rh_catalog_obj_prop(rh_catalog_find(cat, RH_CAT_COLUMN, NULL, "User", "id", NULL), "position"));
    /* constraints */
    assert_prop(cat, RH_CAT_CONSTRAINT, NULL, "Order", "Order_userId_fkey", "kind", "foreign-key");
    assert_prop(cat, RH_CAT_CONSTRAINT, NULL, "Order", "Order_userId_fkey", "validated", "no");
    assert_prop(cat, RH_CAT_CONSTRAINT, NULL, "Order", "Order_code_key", "deferrable", "yes");
    assert_prop(cat, RH_CAT_CONSTRAINT, NULL, "Order", "Order_code_key", "initially-deferred", "yes");
    assert_prop(cat, RH_CAT_CONSTRAINT, NULL, "Order", "Order_amount_check", "kind", "check");
    assert_prop(cat, RH_CAT_CONSTRAINT, NULL, "User", "User_pkey", "kind", "primary-key");
    /* indexes */
    assert_prop(cat, RH_CAT_INDEX, NULL, "User", "User_email_key", "definition",
                "CREATE UNIQUE INDEX \"User_email_key\" ON public.\"User\" USING btree (email)");
    assert_prop(cat, RH_CAT_INDEX, NULL, NULL, "User_email_key", "unique", "yes");
    assert_prop(cat, RH_CAT_INDEX, NULL, NULL, "User_pkey", "primary", "yes");
    assert_prop(cat, RH_CAT_INDEX, NULL, NULL, "User_lower_idx", "predicate", "(role = 'ADMIN'::\"Role\")");
    assert_prop(cat, RH_CAT_INDEX, NULL, NULL, "User_lower_idx", "valid", "yes");
    assert_prop(cat, RH_CAT_INDEX, NULL, NULL, "User_lower_idx", "ready", "yes");
    assert_prop(cat, RH_CAT_INDEX, NULL, "mv", "mv_idx", "unique", "no");
    /* sequences */
    assert_prop(cat, RH_CAT_SEQUENCE, "Other Schema", NULL, "s", "increment", "5");
    assert_prop(cat, RH_CAT_SEQUENCE, "Other Schema", NULL, "s", "type", "smallint");
    assert_prop(cat, RH_CAT_SEQUENCE, "Other Schema", NULL, "s", "cycle", "yes");
    assert_prop(cat, RH_CAT_SEQUENCE, NULL, NULL, "User_id_seq", "owned-by", "public.\"User\".id");
    assert_prop(cat, RH_CAT_SEQUENCE, NULL, NULL, "User_big_seq", "owned-by", "public.\"User\".big");
    /* views, functions, triggers, policies */
    const char *vd = rh_catalog_obj_prop(rh_catalog_find(cat, RH_CAT_VIEW, NULL, NULL, "ActiveUsers", NULL), "definition");
    assert_non_null(vd);
    /* from PostgreSQL 16 on, a view over one table prints its columns unqualified */
    assert_non_null(strstr(vd, server_major() >= 16 ? "WHERE (role = 'USER'::\"Role\")"
                                                                          : "WHERE (\"User\".role = 'USER'::\"Role\")"));
    assert_non_null(rh_catalog_find(cat, RH_CAT_MATVIEW, NULL, NULL, "mv", NULL));
    const rh_catalog_obj *f = rh_catalog_find(cat, RH_CAT_FUNCTION, NULL, NULL, "touch", NULL);
    assert_non_null(f);
    assert_string_equal(rh_catalog_obj_args(f), "");
    assert_non_null(strstr(rh_catalog_obj_prop(f, "definition"), "CREATE OR REPLACE FUNCTION public.touch()"));
    assert_prop(cat, RH_CAT_FUNCTION, NULL, NULL, "p", "kind", "procedure");
    assert_non_null(rh_catalog_find(cat, RH_CAT_FUNCTION, NULL, NULL, "p", "IN a integer"));
    assert_prop(cat, RH_CAT_TRIGGER, NULL, "User", "user_touch", "enabled", "no");
    assert_prop(cat, RH_CAT_POLICY, NULL, "Order", "own", "command", "SELECT");
    assert_prop(cat, RH_CAT_POLICY, NULL, "Order", "own", "using", "(\"userId\" = 1)");
    /* extension members (pgcrypto's functions) and the ledger stay out */
    assert_null(rh_catalog_find(cat, RH_CAT_FUNCTION, NULL, NULL, "gen_random_uuid", NULL));
    assert_null(rh_catalog_find(cat, RH_CAT_TABLE, NULL, NULL, "_prisma_migrations", NULL));
    assert_null(rh_catalog_find(cat, RH_CAT_INDEX, NULL, NULL, "_prisma_migrations_pkey", NULL));
    /* no OIDs or volatile values in the text */
    char *t = text_of(cat);
    assert_null(strstr(t, "oid"));
    assert_null(strstr(t, "last_value"));
    free(t);
    rh_catalog_free(cat);

    /* options: the ledger, owners, grants, comments, column positions */
    rh_test_exec(c, "GRANT SELECT ON \"User\" TO PUBLIC");
    rh_catalog_opts o = {.include_ledger = 1, .include_owners = 1, .include_grants = 1, .ignore_comments = 1,
                         .strict_column_order = 1};
    cat = snap(c, &o);
    assert_non_null(rh_catalog_find(cat, RH_CAT_TABLE, NULL, NULL, "_prisma_migrations", NULL));
    assert_prop(cat, RH_CAT_TABLE, NULL, NULL, "User", "owner", "postgres");
    assert_non_null(strstr(rh_catalog_obj_prop(rh_catalog_find(cat, RH_CAT_TABLE, NULL, NULL, "User", NULL), "acl"),
                           "=r/postgres"));
    assert_prop(cat, RH_CAT_TABLE, NULL, NULL, "User", "comment", NULL);
    assert_prop(cat, RH_CAT_COLUMN, NULL, "User", "id", "position", "1");
    assert_prop(cat, RH_CAT_COLUMN, NULL, "User", "email", "position", "2");
    rh_catalog_free(cat);
    PQfinish(c);
}

/* Printing, parsing and printing again gives the same bytes; a file and its database compare equal. */
static void test_text_round_trip(void **state)
{
    (void)state;
    PGconn *c = db_with(RICH);
    rh_catalog *cat = snap(c, NULL);
    char *t1 = text_of(cat);
    assert_true(strncmp(t1, "rehearse-catalog 1\ndefault-schema public\n", 41) == 0);
    rh_catalog *back = NULL;
    rh_err err;
    assert_int_equal(rh_catalog_parse(t1, "golden.txt", &back, &err), 0);
    char *t2 = text_of(back);
    assert_string_equal(t1, t2);
    assert_int_equal(rh_catalog_count(back), rh_catalog_count(cat));
    assert_int_equal(rh_catalog_diff(cat, back, NULL, "db", "file", NULL), 0);
    /* the multi-line comment survived with its line break */
    assert_string_equal(rh_catalog_obj_prop(rh_catalog_find(back, RH_CAT_COLUMN, NULL, "User", "email", NULL), "comment"),
                        "multi\nline");
    /* an editor that strips trailing blanks does not break a definition with an empty line */
    rh_test_exec(c, "CREATE FUNCTION gap() RETURNS int LANGUAGE sql AS $$\nSELECT 1\n\n$$");
    rh_catalog *cat2 = snap(c, NULL);
    char *t3 = text_of(cat2);
    rh_buf stripped;
    rh_buf_init(&stripped);
    for (const char *p = t3; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t m = n;
        while (m && p[m - 1] == ' ')
            m--;
        rh_buf_append(&stripped, p, m);
        rh_buf_putc(&stripped, '\n');
        p += n + (nl ? 1 : 0);
    }
    rh_catalog *back2 = NULL;
    assert_int_equal(rh_catalog_parse(stripped.data, "stripped.txt", &back2, &err), 0);
    assert_int_equal(rh_catalog_diff(cat2, back2, NULL, "db", "file", NULL), 0);
    rh_buf_free(&stripped);
    free(t1);
    free(t2);
    free(t3);
    rh_catalog_free(back);
    rh_catalog_free(back2);
    rh_catalog_free(cat);
    rh_catalog_free(cat2);
    PQfinish(c);
}

static void test_parse_errors(void **state)
{
    (void)state;
    rh_catalog *cat = NULL;
    rh_err err;
    assert_int_equal(rh_catalog_parse("hello\n", "x.txt", &cat, &err), -1);
    assert_non_null(strstr(err.msg, "x.txt:1: not a rehearse catalog snapshot"));
    assert_int_equal(rh_catalog_parse("rehearse-catalog 1\ndefault-schema public\n\ntabel public.x\n", "x.txt", &cat, &err), -1);
    assert_non_null(strstr(err.msg, "x.txt:4:"));
    assert_int_equal(rh_catalog_parse("rehearse-catalog 1\n  type int\n", "x.txt", &cat, &err), -1);
    assert_non_null(strstr(err.msg, "x.txt:2:"));
    assert_int_equal(rh_catalog_parse("rehearse-catalog 1\ncolumn public.t\n", "x.txt", &cat, &err), -1);
    assert_non_null(strstr(err.msg, "schema.table.name"));
    assert_int_equal(rh_catalog_parse("rehearse-catalog 1\ntable public.t\ntable public.t\n", "x.txt", &cat, &err), -1);
    assert_non_null(strstr(err.msg, "twice"));
    assert_null(cat);
}

/* A damaged golden file is an error naming FILE:LINE and what was expected, never a diff. */
static void test_parse_rejects_damage(void **state)
{
    (void)state;
    rh_catalog *cat = NULL;
    rh_err err;
#define HEAD "rehearse-catalog 1\ndefault-schema public\n\n"
    /* unknown property: format 1 has no room for others, so the known ones are listed */
    assert_int_equal(rh_catalog_parse(HEAD "table public.t\ncolumn public.t.c\n  type integer\n  not-null no\n"
                                      "  colour red\n", "g.catalog", &cat, &err), -1);
    assert_string_equal(err.msg, "g.catalog:8: unknown property `colour` in column public.t.c (a column has: position, "
                                 "type, not-null, default, generated, identity, collation, options, acl, comment); expected a "
                                 "property line `  NAME VALUE` or an object header `KIND NAME`");
    /* a garbled property line (a space lost inside the key) */
    assert_int_equal(rh_catalog_parse(HEAD "column public.t.c\n  type integer\n  not null yes\n", "g.catalog", &cat,
                                      &err), -1);
    assert_non_null(strstr(err.msg, "g.catalog:6: unknown property `not` in column public.t.c"));
    /* a garbled value */
    assert_int_equal(rh_catalog_parse(HEAD "column public.t.c\n  type integer\n  not-null yse\n", "g.catalog", &cat,
                                      &err), -1);
    assert_string_equal(err.msg, "g.catalog:6: `not-null` of column public.t.c is `yse`; expected one of: yes, no");
    assert_int_equal(rh_catalog_parse(HEAD "constraint public.t.k\n  kind primary key\n  definition PRIMARY KEY (id)\n"
                                      "  validated yes\n", "g.catalog", &cat, &err), -1);
    assert_non_null(strstr(err.msg, "g.catalog:5: `kind` of constraint public.t.k is `primary key`; expected one of: "
                                    "primary-key, unique, foreign-key"));
    /* the same property twice */
    assert_int_equal(rh_catalog_parse(HEAD "column public.t.c\n  type integer\n  type text\n  not-null no\n",
                                      "g.catalog", &cat, &err), -1);
    assert_string_equal(err.msg, "g.catalog:6: property `type` appears twice in column public.t.c (block from line 4)");
    /* a block without a property every snapshot writes, before the next header */
    assert_int_equal(rh_catalog_parse(HEAD "index public.i on t\n  definition CREATE INDEX i ON public.t (a)\n"
                                      "  unique no\n  ready yes\ntable public.t\n", "g.catalog", &cat, &err), -1);
    assert_string_equal(err.msg, "g.catalog:7: index public.i on t (from line 4) has no `valid` line (every index has "
                                 "definition, unique, valid, ready)");
    /* truncated: at a line break inside a block, inside a multi-line value, in the middle of a line */
    assert_int_equal(rh_catalog_parse(HEAD "table public.t\ncolumn public.t.c\n  type integer\n", "g.catalog", &cat,
                                      &err), -1);
    assert_string_equal(err.msg, "g.catalog:6: file ends inside a block: column public.t.c (from line 5) has no "
                             "`not-null` line (every column has type, not-null); is the file cut short?");
    assert_int_equal(rh_catalog_parse(HEAD "view public.v\n  definition |\n", "g.catalog", &cat, &err), -1);
    assert_string_equal(err.msg, "g.catalog:5: file ends inside a block: `  definition |` opens a multi-line value but "
                                 "no line indented by four spaces follows (is the file cut short?)");
    assert_int_equal(rh_catalog_parse(HEAD "column public.t.c\n  type integer\n  not-null y", "g.catalog", &cat, &err),
                     -1);
    assert_string_equal(err.msg, "g.catalog:6: the file ends in the middle of a line (`  not-null y`; every line of a "
                                 "snapshot ends with a newline): is it cut short?");
    /* a format this rehearse does not know, and CRLF line endings */
    assert_int_equal(rh_catalog_parse("rehearse-catalog 2\n", "g.catalog", &cat, &err), -1);
    assert_non_null(strstr(err.msg, "g.catalog:1: snapshot format `rehearse-catalog 2` is not one this rehearse reads"));
    assert_int_equal(rh_catalog_parse("rehearse-catalog 1\r\ndefault-schema public\r\n", "g.catalog", &cat, &err), -1);
    assert_non_null(strstr(err.msg, "g.catalog:1: the file has Windows line endings (CRLF)"));
    assert_null(cat);
    /* what a snapshot writes still parses: optional properties absent, empty values, `#` lines */
    assert_int_equal(rh_catalog_parse(HEAD "# kept by hand\nschema public\n\ntable public.t\ncolumn public.t.c\n"
                                      "  type integer\n  not-null no\n  default \n",
                                      "g.catalog", &cat, &err), 0);
    assert_int_equal(rh_catalog_count(cat), 3);
    rh_catalog_free(cat);
#undef HEAD
}

/* Every prefix and every one-byte corruption of a valid text parses or fails cleanly (ASan build). */
static void test_parse_survives_damage(void **state)
{
    (void)state;
    PGconn *c = db_with(RICH);
    rh_catalog *cat = snap(c, NULL);
    char *t = text_of(cat);
    size_t len = strlen(t);
    static const char junk[] = {'"', '.', '(', ')', ' ', '\n', '|', 'x', '\t'};
    int parsed = 0;
    for (size_t i = 0; i < len; i += 7) {
        char *p = rh_xstrndup(t, i);
        rh_catalog *back = NULL;
        rh_err err;
        if (rh_catalog_parse(p, "prefix", &back, &err) == 0) {
            parsed++;
            rh_catalog_free(back);
        } else {
            assert_null(back);
            assert_non_null(strstr(err.msg, "prefix"));
        }
        free(p);
        p = rh_xstrdup(t);
        p[i] = junk[i % sizeof junk];
        if (rh_catalog_parse(p, "damaged", &back, &err) == 0)
            rh_catalog_free(back);
        free(p);
    }
    assert_true(parsed > 0);
    free(t);
    rh_catalog_free(cat);
    PQfinish(c);
}

/* The same schema reached by different paths: statement order, ALTER ADD COLUMN, index order. */
static void test_different_orders_compare_equal(void **state)
{
    (void)state;
    PGconn *a = db_with("CREATE TYPE \"Role\" AS ENUM ('USER', 'ADMIN');"
                        "CREATE TABLE \"User\" (id int PRIMARY KEY, email text NOT NULL, role \"Role\");"
                        "CREATE TABLE \"Post\" (id int PRIMARY KEY, \"authorId\" int REFERENCES \"User\"(id), title text);"
                        "CREATE INDEX post_title ON \"Post\"(title); CREATE UNIQUE INDEX user_email ON \"User\"(email);"
                        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';"
                        "CREATE TABLE pk (id int, r int, PRIMARY KEY (id, r)) PARTITION BY RANGE (r);"
                        "CREATE TABLE pk1 PARTITION OF pk FOR VALUES FROM (0) TO (10);"
                        "CREATE TABLE pk2 PARTITION OF pk FOR VALUES FROM (10) TO (20);"
                        "CREATE TABLE refs (pid int, pr int, CONSTRAINT refs_fkey FOREIGN KEY (pid, pr) REFERENCES pk);");
    PGconn *b = db_with("CREATE TABLE pk (id int, r int, PRIMARY KEY (id, r)) PARTITION BY RANGE (r);"
                        "CREATE TABLE pk2 PARTITION OF pk FOR VALUES FROM (10) TO (20);"
                        "CREATE TABLE refs (pid int, pr int, CONSTRAINT refs_fkey FOREIGN KEY (pid, pr) REFERENCES pk);"
                        "CREATE TABLE pk1 (id int NOT NULL, r int NOT NULL);"
                        "ALTER TABLE pk ATTACH PARTITION pk1 FOR VALUES FROM (0) TO (10);""CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';"
                        "CREATE TYPE \"Role\" AS ENUM ('USER');"
                        "CREATE TABLE \"User\" (email text NOT NULL, id int, dropped int);"
                        "ALTER TABLE \"User\" DROP COLUMN dropped; ALTER TABLE \"User\" ADD PRIMARY KEY (id);"
                        "CREATE UNIQUE INDEX user_email ON \"User\"(email);"
                        "ALTER TYPE \"Role\" ADD VALUE 'ADMIN';"
                        "CREATE TABLE \"Post\" (title text, id int PRIMARY KEY);"
                        "CREATE INDEX post_title ON \"Post\"(title);"
                        "ALTER TABLE \"Post\" ADD COLUMN \"authorId\" int;"
                        "ALTER TABLE \"Post\" ADD CONSTRAINT \"Post_authorId_fkey\" FOREIGN KEY (\"authorId\") REFERENCES \"User\"(id);"
                        "ALTER TABLE \"User\" ADD COLUMN role \"Role\";");
    rh_catalog *ca = snap(a, NULL), *cb = snap(b, NULL);
    char *ta = text_of(ca), *tb = text_of(cb);
    if (strcmp(ta, tb) != 0) {
        rh_buf d;
        rh_buf_init(&d);
        rh_catalog_diff(ca, cb, NULL, "a", "b", &d);
        fprintf(stderr, "%s", d.data);
        rh_buf_free(&d);
    }
    assert_string_equal(ta, tb);
    rh_catalog_free(ca);
    rh_catalog_free(cb);

    /* --strict-column-order tells them apart, and says which columns moved */
    rh_catalog_opts strict = {.strict_column_order = 1};
    ca = snap(a, &strict);
    cb = snap(b, &strict);
    rh_buf d;
    rh_buf_init(&d);
    size_t n = rh_catalog_diff(ca, cb, &strict, "a", "b", &d);
    assert_true(n > 0);
    assert_non_null(strstr(d.data, "~ column public.\"User\".email\n-  position 2\n+  position 1\n"));
    /* a non-strict diff of strict snapshots ignores the positions */
    assert_int_equal(rh_catalog_diff(ca, cb, NULL, "a", "b", NULL), 0);
    rh_buf_free(&d);
    free(ta);
    free(tb);
    rh_catalog_free(ca);
    rh_catalog_free(cb);
    PQfinish(a);
    PQfinish(b);
}

static const char BASE[] =
    "CREATE EXTENSION pgcrypto;"
    "CREATE TYPE \"Role\" AS ENUM ('USER', 'ADMIN');"
    "CREATE TABLE \"User\" (id int PRIMARY KEY, email text NOT NULL, name text DEFAULT 'x', age int);"
    "CREATE INDEX \"User_name_idx\" ON \"User\"(name);"
    "CREATE TABLE \"Post\" (id int PRIMARY KEY, \"userId\" int);"
    "ALTER TABLE \"Post\" ADD CONSTRAINT \"Post_userId_fkey\" FOREIGN KEY (\"userId\") REFERENCES \"User\"(id);"
    "CREATE VIEW v AS SELECT id FROM \"User\";"
    "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN NEW;\nEND\n$$;"
    "CREATE TRIGGER t BEFORE INSERT ON \"User\" FOR EACH ROW EXECUTE FUNCTION f();"
    "CREATE SEQUENCE s;"
    "ALTER TABLE \"Post\" ENABLE ROW LEVEL SECURITY;"
    "CREATE POLICY p ON \"Post\" USING (true);";

/*
 * Apply `change` to BASE inside a transaction, snapshot (in a savepoint), roll back, and expect
 * these lines in the diff from BASE. One database for all the changes keeps the test quick.
 */
static PGconn *base_conn;
static rh_catalog *base_cat;

static void expect_diff(const char *change, const char *const *lines)
{
    if (!base_conn) {
        base_conn = db_with(BASE);
        base_cat = snap(base_conn, NULL);
    }
    rh_test_exec(base_conn, "BEGIN");
    rh_test_exec(base_conn, change);
    rh_catalog *cb = snap(base_conn, NULL);
    rh_test_exec(base_conn, "ROLLBACK");
    rh_buf d;
    rh_buf_init(&d);
    size_t n = rh_catalog_diff(base_cat, cb, NULL, "before", "after", &d);
    int ok = n > 0 && strncmp(d.data, "--- before\n+++ after\n", 21) == 0;
    for (const char *const *l = lines; *l; l++)
        ok = ok && strstr(d.data, *l) != NULL;
    if (!ok)
        fprintf(stderr, "change: %s\ndiff:\n%s", change, d.data);
    assert_true(ok);
    rh_buf_free(&d);
    rh_catalog_free(cb);
}

static void test_each_kind_of_difference(void **state)
{
    (void)state;
    expect_diff("CREATE TABLE extra (id int)", (const char *const[]){"+ table public.extra\n", "+ column public.extra.id\n+  type integer\n", NULL});
    expect_diff("ALTER TABLE \"User\" DROP COLUMN age", (const char *const[]){"- column public.\"User\".age\n-  type integer\n-  not-null no\n", NULL});
    expect_diff("ALTER TABLE \"User\" ALTER COLUMN age TYPE bigint", (const char *const[]){"~ column public.\"User\".age\n-  type integer\n+  type bigint\n", NULL});
    expect_diff("ALTER TABLE \"User\" ALTER COLUMN age SET NOT NULL", (const char *const[]){"~ column public.\"User\".age\n-  not-null no\n+  not-null yes\n", NULL});
    expect_diff("ALTER TABLE \"User\" ALTER COLUMN name DROP DEFAULT", (const char *const[]){"~ column public.\"User\".name\n-  default 'x'::text\n", NULL});
    expect_diff("DROP INDEX \"User_name_idx\"; CREATE INDEX \"User_name_idx\" ON \"User\"(name DESC)",
                (const char *const[]){"~ index public.\"User_name_idx\" on \"User\"\n-  definition CREATE INDEX \"User_name_idx\" ON public.\"User\" USING btree (name)\n+  definition CREATE INDEX \"User_name_idx\" ON public.\"User\" USING btree (name DESC)\n", NULL});
    expect_diff("ALTER TABLE \"Post\" DROP CONSTRAINT \"Post_userId_fkey\"", (const char *const[]){"- constraint public.\"Post\".\"Post_userId_fkey\"\n", NULL});
    expect_diff("ALTER TYPE \"Role\" ADD VALUE 'GUEST' BEFORE 'ADMIN'", (const char *const[]){"~ enum public.\"Role\"\n-  labels 'USER', 'ADMIN'\n+  labels 'USER', 'GUEST', 'ADMIN'\n", NULL});
    expect_diff("CREATE OR REPLACE VIEW v AS SELECT id, email FROM \"User\"", (const char *const[]){"~ view public.v\n    definition, from line 1:\n", server_major() >= 16 ? "+      SELECT id,\n" : "+      SELECT \"User\".id,\n",
                                                                            server_major() >= 16 ? "+         email\n" : "\"User\".email\n", NULL});
    expect_diff("CREATE OR REPLACE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.age = 1;\n  RETURN NEW;\nEND\n$$",
                (const char *const[]){"~ function public.f()\n    definition, from line 6:\n+       NEW.age = 1;\n", NULL});
    expect_diff("ALTER TABLE \"User\" DISABLE TRIGGER t", (const char *const[]){"~ trigger public.\"User\".t\n-  enabled yes\n+  enabled no\n", NULL});
    expect_diff("ALTER SEQUENCE s INCREMENT 10", (const char *const[]){"~ sequence public.s\n-  increment 1\n+  increment 10\n", NULL});
    expect_diff("DROP POLICY p ON \"Post\"", (const char *const[]){"- policy public.\"Post\".p\n", NULL});
    expect_diff("ALTER TABLE \"Post\" DISABLE ROW LEVEL SECURITY", (const char *const[]){"~ table public.\"Post\"\n-  row-security yes\n", NULL});
    expect_diff("COMMENT ON COLUMN \"User\".email IS 'login'", (const char *const[]){"~ column public.\"User\".email\n+  comment login\n", NULL});
    expect_diff("CREATE SCHEMA audit", (const char *const[]){"+ schema audit\n", NULL});
    expect_diff("DROP EXTENSION pgcrypto", (const char *const[]){"- extension pgcrypto\n", NULL});
    expect_diff("CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%')", (const char *const[]){"+ domain public.email\n", "+ constraint public.email.email_check\n", NULL});
    expect_diff("CREATE MATERIALIZED VIEW m AS SELECT 1 AS one", (const char *const[]){"+ matview public.m\n", NULL});
    expect_diff("ALTER TABLE \"User\" ADD CONSTRAINT age_pos CHECK (age > 0) NOT VALID", (const char *const[]){"+ constraint public.\"User\".age_pos\n+  kind check\n", "+  validated no\n", NULL});
    /* and after all that, the base is unchanged */
    rh_catalog *again = snap(base_conn, NULL);
    assert_int_equal(rh_catalog_diff(base_cat, again, NULL, "a", "b", NULL), 0);
    rh_catalog_free(again);
    rh_catalog_free(base_cat);
    PQfinish(base_conn);
    base_conn = NULL;
}

/* A unique index built CONCURRENTLY over duplicates fails and leaves an INVALID index behind. */
static void test_failed_concurrent_index_is_invalid(void **state)
{
    (void)state;
    PGconn *c = db_with("CREATE TABLE \"WaitlistEntry\" (id int, \"clientPartyId\" int);"
                        "INSERT INTO \"WaitlistEntry\" VALUES (1, 7), (2, 7);");
    PGresult *r = PQexec(c, "CREATE UNIQUE INDEX CONCURRENTLY \"WaitlistEntry_clientPartyId_key\" "
                            "ON \"WaitlistEntry\"(\"clientPartyId\")");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505");
    PQclear(r);
    rh_catalog *cat = snap(c, NULL);
    assert_prop(cat, RH_CAT_INDEX, NULL, "WaitlistEntry", "WaitlistEntry_clientPartyId_key", "valid", "no");
    assert_prop(cat, RH_CAT_INDEX, NULL, "WaitlistEntry", "WaitlistEntry_clientPartyId_key", "unique", "yes");
    /* fixing it (drop the duplicate, REINDEX) shows up as a change to valid */
    rh_test_exec(c, "DELETE FROM \"WaitlistEntry\" WHERE id = 2; REINDEX INDEX \"WaitlistEntry_clientPartyId_key\"");
    rh_catalog *fixed = snap(c, NULL);
    rh_buf d;
    rh_buf_init(&d);
    assert_int_equal(rh_catalog_diff(cat, fixed, NULL, "failed", "fixed", &d), 1);
    assert_non_null(strstr(d.data, "~ index public.\"WaitlistEntry_clientPartyId_key\" on \"WaitlistEntry\"\n"
                                   "-  valid no\n+  valid yes\n"));
    rh_buf_free(&d);
    rh_catalog_free(cat);
    rh_catalog_free(fixed);
    PQfinish(c);
}

static void test_not_valid_then_validate(void **state)
{
    (void)state;
    PGconn *c = db_with("CREATE TABLE \"User\" (id int PRIMARY KEY); CREATE TABLE \"Order\" (id int, \"userId\" int);"
                        "ALTER TABLE \"Order\" ADD CONSTRAINT \"Order_userId_fkey\" FOREIGN KEY (\"userId\") "
                        "REFERENCES \"User\"(id) NOT VALID;");
    rh_catalog *before = snap(c, NULL);
    assert_prop(before, RH_CAT_CONSTRAINT, NULL, "Order", "Order_userId_fkey", "validated", "no");
    rh_test_exec(c, "ALTER TABLE \"Order\" VALIDATE CONSTRAINT \"Order_userId_fkey\"");
    rh_catalog *after = snap(c, NULL);
    assert_prop(after, RH_CAT_CONSTRAINT, NULL, "Order", "Order_userId_fkey", "validated", "yes");
    rh_buf d;
    rh_buf_init(&d);
    assert_int_equal(rh_catalog_diff(before, after, NULL, "before", "after", &d), 1);
    assert_non_null(strstr(d.data, "~ constraint public.\"Order\".\"Order_userId_fkey\"\n"
                                   "-  definition FOREIGN KEY (\"userId\") REFERENCES \"User\"(id) NOT VALID\n"
                                   "+  definition FOREIGN KEY (\"userId\") REFERENCES \"User\"(id)\n"
                                   "-  validated no\n+  validated yes\n"));
    rh_buf_free(&d);
    rh_catalog_free(before);
    rh_catalog_free(after);
    PQfinish(c);
}

/* Quotes, spaces, dots and mixed case in every kind of name: queries, text form, lookups. */
static void test_odd_identifiers(void **state)
{
    (void)state;
    PGconn *c = db_with("CREATE SCHEMA \"My \"\"Odd\"\" Schema.x\";"
                        "SET search_path TO \"My \"\"Odd\"\" Schema.x\", public;"
                        "CREATE TYPE \"E num\" AS ENUM ('a b', 'c,d', 'e''f');"
                        "CREATE TABLE \"we\"\"ird.name x\" (\"a.b\" int PRIMARY KEY, \"c\"\"d\" text, \"MiXed\" int);"
                        "CREATE INDEX \"idx \"\"q\"\" . x\" ON \"we\"\"ird.name x\"(\"c\"\"d\");"
                        "CREATE FUNCTION \"Fn.x\"(\"a b\" int) RETURNS int LANGUAGE sql AS 'SELECT 1';"
                        "COMMENT ON TABLE \"we\"\"ird.name x\" IS 'it''s a \"table\"';");
    /* the default schema comes from search_path and is quoted when pinned for the snapshot */
    rh_catalog *cat = snap(c, NULL);
    const char *sch = "My \"Odd\" Schema.x";
    assert_string_equal(rh_catalog_default_schema(cat), sch);
    assert_non_null(rh_catalog_find(cat, RH_CAT_TABLE, sch, NULL, "we\"ird.name x", NULL));
    assert_non_null(rh_catalog_find(cat, RH_CAT_COLUMN, sch, "we\"ird.name x", "a.b", NULL));
    assert_non_null(rh_catalog_find(cat, RH_CAT_COLUMN, NULL, "we\"ird.name x", "c\"d", NULL));
    assert_non_null(rh_catalog_find(cat, RH_CAT_COLUMN, NULL, "we\"ird.name x", "MiXed", NULL));
    assert_non_null(rh_catalog_find(cat, RH_CAT_INDEX, NULL, NULL, "idx \"q\" . x", NULL));
    assert_non_null(rh_catalog_find(cat, RH_CAT_FUNCTION, NULL, NULL, "Fn.x", "\"a b\" integer"));
    assert_prop(cat, RH_CAT_ENUM, sch, NULL, "E num", "labels", "'a b', 'c,d', 'e''f'");
    char *t = text_of(cat);
    assert_non_null(strstr(t, "\ndefault-schema \"My \"\"Odd\"\" Schema.x\"\n"));
    assert_non_null(strstr(t, "\ncolumn \"My \"\"Odd\"\" Schema.x\".\"we\"\"ird.name x\".\"a.b\"\n"));
    assert_non_null(strstr(t, "\nindex \"My \"\"Odd\"\" Schema.x\".\"idx \"\"q\"\" . x\" on \"we\"\"ird.name x\"\n"));
    assert_non_null(strstr(t, "\nfunction \"My \"\"Odd\"\" Schema.x\".\"Fn.x\"(\"a b\" integer)\n"));
    rh_catalog *back = NULL;
    rh_err err;
    assert_int_equal(rh_catalog_parse(t, "odd.txt", &back, &err), 0);
    char *t2 = text_of(back);
    assert_string_equal(t, t2);
    free(t);
    free(t2);
    rh_catalog_free(back);
    rh_catalog_free(cat);
    /* an explicit default schema with odd characters works too */
    rh_catalog_opts o = {.default_schema = "public"};
    cat = snap(c, &o);
    assert_string_equal(rh_catalog_default_schema(cat), "public");
    rh_catalog_free(cat);
    PQfinish(c);
}

/* Inside the caller's transaction the snapshot uses a savepoint and leaves the session as it was. */
static void test_snapshot_inside_transaction(void **state)
{
    (void)state;
    PGconn *c = db_with("CREATE TABLE t (id int)");
    rh_test_exec(c, "SET search_path TO pg_catalog; SET DateStyle TO 'German'; BEGIN; CREATE TABLE public.u (id int)");
    rh_catalog *cat = snap(c, &(rh_catalog_opts){.default_schema = "public"});
    assert_non_null(rh_catalog_find(cat, RH_CAT_TABLE, NULL, NULL, "u", NULL));
    assert_int_equal(PQtransactionStatus(c), PQTRANS_INTRANS);
    char *sp = rh_test_value(c, "SHOW search_path"), *ds = rh_test_value(c, "SHOW DateStyle");
    assert_string_equal(sp, "pg_catalog");
    assert_string_equal(ds, "German, DMY");
    free(sp);
    free(ds);
    rh_test_exec(c, "COMMIT");
    rh_catalog_free(cat);
    /* an aborted transaction is refused with a clear message */
    rh_test_exec(c, "BEGIN");
    PQclear(PQexec(c, "SELECT 1/0"));
    rh_err err;
    assert_int_equal(rh_catalog_snapshot(c, NULL, &cat, &err), -1);
    assert_non_null(strstr(err.msg, "failed transaction"));
    rh_test_exec(c, "ROLLBACK");
    PQfinish(c);
}

/* The ledger left out is the migration tool's (its table, sequence and own schema), by default the default tool's. */
static void test_the_tools_ledger_is_left_out(void **state)
{
    (void)state;
    PGconn *c = db_with("CREATE TABLE \"_prisma_migrations\" (id varchar(36) PRIMARY KEY);"
                        "CREATE TABLE schema_migrations (version varchar PRIMARY KEY);"
                        "CREATE SCHEMA drizzle; CREATE TABLE drizzle.__drizzle_migrations (id serial PRIMARY KEY);"
                        "CREATE TABLE public.__drizzle_migrations (id int);"
                        "CREATE SEQUENCE public.__drizzle_migrations_id_seq");
    rh_catalog *cat = snap(c, NULL);
    assert_null(rh_catalog_find(cat, RH_CAT_TABLE, NULL, NULL, "_prisma_migrations", NULL));
    assert_non_null(rh_catalog_find(cat, RH_CAT_TABLE, NULL, NULL, "schema_migrations", NULL));
    assert_non_null(rh_catalog_find(cat, RH_CAT_TABLE, "drizzle", NULL, "__drizzle_migrations", NULL));
    assert_non_null(rh_catalog_find(cat, RH_CAT_SCHEMA, NULL, NULL, "drizzle", NULL));
    assert_non_null(rh_catalog_find(cat, RH_CAT_SEQUENCE, "drizzle", NULL, "__drizzle_migrations_id_seq", NULL));
    rh_catalog_free(cat);
    /* dbmate's ledger: a bare name */
    cat = snap(c, &(rh_catalog_opts){.ledger_tool = rh_tool_find("dbmate")});
    assert_non_null(rh_catalog_find(cat, RH_CAT_TABLE, NULL, NULL, "_prisma_migrations", NULL));
    assert_null(rh_catalog_find(cat, RH_CAT_TABLE, NULL, NULL, "schema_migrations", NULL));
    assert_null(rh_catalog_find(cat, RH_CAT_INDEX, NULL, NULL, "schema_migrations_pkey", NULL));
    rh_catalog_free(cat);
    /* drizzle's: schema-qualified, so a user's table (and sequence) of that name elsewhere stays; its id
       sequence and the schema it made for the ledger are drizzle-kit's too */
    cat = snap(c, &(rh_catalog_opts){.ledger_tool = rh_tool_find("drizzle")});
    assert_null(rh_catalog_find(cat, RH_CAT_TABLE, "drizzle", NULL, "__drizzle_migrations", NULL));
    assert_null(rh_catalog_find(cat, RH_CAT_SEQUENCE, "drizzle", NULL, "__drizzle_migrations_id_seq", NULL));
    assert_null(rh_catalog_find(cat, RH_CAT_SCHEMA, NULL, NULL, "drizzle", NULL));
    assert_non_null(rh_catalog_find(cat, RH_CAT_SEQUENCE, "public", NULL, "__drizzle_migrations_id_seq", NULL));
    assert_non_null(rh_catalog_find(cat, RH_CAT_TABLE, "public", NULL, "__drizzle_migrations", NULL));
    assert_non_null(rh_catalog_find(cat, RH_CAT_TABLE, NULL, NULL, "_prisma_migrations", NULL));
    rh_catalog_free(cat);
    PQfinish(c);
}

/* rev:REV operands go through the resolver the migrate engine registers. */
static int fake_resolver(const char *rev, const rh_catalog_opts *opts, rh_catalog **out, void *ctx, rh_err *err)
{
    (void)opts;
    if (strcmp(rev, "broken") == 0)
        return rh_err_set(err, "migration 20240101_init failed");
    *(int *)ctx += 1;
    char *text = rh_xasprintf("rehearse-catalog 1\ndefault-schema public\n\ntable public.%s\n", rev);
    int rc = rh_catalog_parse(text, rev, out, err);
    free(text);
    return rc;
}

static void test_rev_operands_use_the_resolver(void **state)
{
    (void)state;
    rh_catalog *cat = NULL;
    rh_err err;
    assert_int_equal(rh_catalog_load("rev:main", NULL, &cat, &err), -1);
    assert_non_null(strstr(err.msg, "migrate engine"));
    int calls = 0;
    rh_catalog_set_rev_resolver(fake_resolver, &calls);
    assert_int_equal(rh_catalog_load("rev:fixed", NULL, &cat, &err), 0);
    assert_int_equal(calls, 1);
    assert_non_null(rh_catalog_find(cat, RH_CAT_TABLE, NULL, NULL, "fixed", NULL));
    rh_catalog_free(cat);
    assert_int_equal(rh_catalog_load("rev:broken", NULL, &cat, &err), -1);
    assert_string_equal(err.msg, "rev:broken: migration 20240101_init failed");
    rh_catalog_set_rev_resolver(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_text_round_trip),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_rejects_damage),
        cmocka_unit_test(test_parse_survives_damage),
        cmocka_unit_test(test_different_orders_compare_equal),
        cmocka_unit_test(test_each_kind_of_difference),
        cmocka_unit_test(test_failed_concurrent_index_is_invalid),
        cmocka_unit_test(test_not_valid_then_validate),
        cmocka_unit_test(test_odd_identifiers),
        cmocka_unit_test(test_snapshot_inside_transaction),
        cmocka_unit_test(test_rev_operands_use_the_resolver),
        cmocka_unit_test(test_the_tools_ledger_is_left_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
