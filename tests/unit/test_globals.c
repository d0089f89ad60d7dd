/*
 * test_globals.c — migrations/globals.h: which migration texts may touch a cluster's global objects.
 * Positives include statements hidden in strings, dollar-quoted bodies and escapes (dynamic SQL);
 * negatives are the common look-alikes of Prisma schemas (a "User" table, a "role" column, USER
 * MAPPING, object privileges), which must keep the one-cluster fast path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "migrations/globals.h"

static int touches(const char *sql)
{
    const char *what = NULL;
    int r = rh_sql_may_touch_globals(sql, strlen(sql), &what);
    assert_int_equal(r, what != NULL);
    return r;
}

static void test_global_statements_are_found(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "CREATE DATABASE side_db;",
        "create database \"side_db\"",
        "CREATE ROLE app_ro NOLOGIN; GRANT SELECT ON t TO app_ro;",
        "CREATE USER app LOGIN;",
        "DROP USER app",
        "ALTER USER app SET search_path = a",
        "CREATE GROUP g;",
        "ALTER ROLE CURRENT_USER SET search_path TO app, public;",
        "ALTER DATABASE side_db SET work_mem = '8MB';",
        "DROP DATABASE IF EXISTS side_db;",
        "CREATE TABLESPACE ts LOCATION '/tmp/x';",
        "ALTER SYSTEM SET work_mem = '8MB';",
        "CREATE SUBSCRIPTION s CONNECTION 'dbname=x' PUBLICATION p;",
        "REASSIGN OWNED BY a TO b;",
        "DROP OWNED BY a;",
        "GRANT app_ro TO migrator;",
        "REVOKE app_ro FROM migrator;",
        "REVOKE ADMIN OPTION FOR app_ro FROM migrator;",
        "GRANT CONNECT ON DATABASE side_db TO PUBLIC;",
        "GRANT CREATE ON TABLESPACE ts TO a;",
        "GRANT SET ON PARAMETER work_mem TO a;",
        "COMMENT ON DATABASE side_db IS 'x';",
        "COMMENT ON ROLE a IS 'x';",
        "SECURITY LABEL FOR selinux ON ROLE a IS 'x';",
        "UPDATE pg_authid SET rolcanlogin = false;",
        "SELECT pg_create_logical_replication_slot('s', 'pgoutput');",
        "SELECT pg_replication_origin_create('o');",
        "SELECT dblink_exec('dbname=other', 'DROP TABLE t');",
        "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'x');",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity;",
        /* dynamic SQL: in DO blocks, functions, strings */
        "DO $$ BEGIN EXECUTE 'CREATE DATABASE side_db'; END $$;",
        "DO $do$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'r') THEN CREATE ROLE r; END IF; END $do$;",
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS 'BEGIN EXECUTE ''DROP DATABASE x''; END';",
        "DO $$ BEGIN EXECUTE format('CREATE DATABASE %I', 'side_db'); END $$;",
        "DO $$ BEGIN EXECUTE E'CREATE\\nDATABASE x'; END $$;",
        "DO $$ BEGIN EXECUTE E'CREATE\\x20DATABASE x'; END $$;",
        "DO $$ BEGIN EXECUTE 'GRANT ' || quote_ident('r') || ' TO migrator'; END $$;",
        "-- a comment\n/* CREATE ROLE in a comment counts too: cheap to be wrong this way */",
        "ALTER TABLE t ADD c int;\nDROP\n  USER\n  u",
    };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (!touches(yes[i]))
            fail_msg("not found: %s", yes[i]);
    }
}

static void test_database_local_statements_are_not(void **state)
{
    (void)state;
    static const char *const no[] = {
        "CREATE TABLE \"User\" (\"id\" SERIAL, \"role\" \"Role\" NOT NULL DEFAULT 'USER', PRIMARY KEY (\"id\"));",
        "CREATE TYPE \"Role\" AS ENUM ('USER', 'ADMIN');",
        "ALTER TABLE \"User\" ADD COLUMN \"database\" TEXT;",
        "ALTER TABLE \"Group\" RENAME TO \"Team\";",
        "DROP TABLE \"User\";",
        "CREATE USER MAPPING FOR CURRENT_USER SERVER s;",
        "ALTER USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (SET x 'y');",
        "DROP USER MAPPING IF EXISTS FOR CURRENT_USER SERVER s;",
        "GRANT SELECT ON \"User\" TO app_ro;",
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO app_ro;",
        "GRANT USAGE ON SCHEMA s TO app; GRANT SELECT ON t TO app;",
        "COMMENT ON TABLE \"User\" IS 'role of a user';",
        "CREATE POLICY p ON t FOR SELECT TO app USING (true);",
        "SELECT current_database(), current_user;",
        "CREATE INDEX CONCURRENTLY i ON t (c);",
        "",
    };
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        const char *what = NULL;
        if (rh_sql_may_touch_globals(no[i], strlen(no[i]), &what))
            fail_msg("found %s in: %s", what, no[i]);
    }
}

/* Not NUL-terminated, NUL bytes inside, a cut escape at the end: no read past len. */
static void test_any_bytes(void **state)
{
    (void)state;
    const char nul[] = "SELECT 1;\0CREATE DATABASE x";
    assert_true(rh_sql_may_touch_globals(nul, sizeof nul - 1, NULL));
    assert_false(rh_sql_may_touch_globals("CREATE DATABASE", 8, NULL)); /* "CREATE D" */
    assert_false(rh_sql_may_touch_globals("x\\", 2, NULL));
    assert_false(rh_sql_may_touch_globals("x\\u00", 5, NULL));
    char big[300];
    memset(big, 'A', sizeof big);
    assert_false(rh_sql_may_touch_globals(big, sizeof big, NULL));
}

static void test_set(void **state)
{
    (void)state;
    char a[] = "CREATE TABLE t (id int);", b[] = "CREATE DATABASE side_db;";
    rh_migration items[2] = {{.name = "1_a", .sql = a, .sql_len = sizeof a - 1},
                             {.name = "2_b", .sql = b, .sql_len = sizeof b - 1}};
    rh_migset set = {.items = items, .n = 2};
    const char *what = NULL, *name = NULL;
    assert_true(rh_migset_may_touch_globals(&set, &what, &name));
    assert_string_equal(name, "2_b");
    assert_non_null(what);
    set.n = 1;
    assert_false(rh_migset_may_touch_globals(&set, &what, &name));
    assert_null(name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_global_statements_are_found),
        cmocka_unit_test(test_database_local_statements_are_not),
        cmocka_unit_test(test_any_bytes),
        cmocka_unit_test(test_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
