/*
 * test_pgurl.c — a tool's DATABASE_URL parameters (Prisma's, through rh_tool_database_url) are taken
 * out before libpq sees the URL, another tool's URL is left as it is; the
 * remote-host guard decides from addresses, for every form libpq takes, without connecting
 * (tests/cli/remote_guard.test.sh plays the attack against a server in a network namespace).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/tool.h"
#include "util/pgurl.h"

static void check(const char *in, const char *want_url, const char *want_schema)
{
    char *schema = NULL;
    rh_err err;
    char *url = rh_tool_database_url(RH_TOOL_DEFAULT, in, &schema, &err);
    assert_string_equal(url, want_url);
    if (want_schema)
        assert_string_equal(schema, want_schema);
    else
        assert_null(schema);
    free(url);
    free(schema);
}

static void test_prisma_params_removed(void **state)
{
    check("postgresql://u@h/db?schema=app&connection_limit=5&sslmode=disable", "postgresql://u@h/db?sslmode=disable",
          "app");
    check("postgres://u@h/db?pgbouncer=true&schema=My%20App", "postgres://u@h/db", "My App");
    check("postgresql://u@/db?host=/tmp&pool_timeout=3", "postgresql://u@/db?host=/tmp", NULL);
}

/* schema= decoded as Prisma 6.19.3's CLI reads it (its "Datasource ... schema" line, checked by hand with the
   oracle): '+' is a space, %XY two hex digits, any other '%' stays; before, "a% 4b" read as "aKb" (sscanf skips
   white space) and "c+d" stayed "c+d" */
static void test_schema_decoded_as_prisma_does(void **state)
{
    (void)state;
    check("postgresql://u@h/db?schema=c+d", "postgresql://u@h/db", "c d");
    check("postgresql://u@h/db?schema=e%20f", "postgresql://u@h/db", "e f");
    check("postgresql://u@h/db?schema=a% 4b", "postgresql://u@h/db", "a% 4b");
    check("postgresql://u@h/db?schema=a%zzb", "postgresql://u@h/db", "a%zzb");
    check("postgresql://u@h/db?schema=g%4x", "postgresql://u@h/db", "g%4x");
    check("postgresql://u@h/db?schema=i%4", "postgresql://u@h/db", "i%4");
    check("postgresql://u@h/db?schema=j%", "postgresql://u@h/db", "j%");
    check("postgresql://u@h/db?schema=%4A%6b", "postgresql://u@h/db", "Jk");
}

/* %00: Prisma 6.19.3 keeps the NUL byte in the schema's name (tests/conformance/prisma_url.test.sh); no PostgreSQL
   name holds one, so a clear error rather than a name cut at the byte (before: schema "x", another schema) */
static void test_schema_with_a_nul_byte_refused(void **state)
{
    (void)state;
    char *schema = (char *)"unset";
    rh_err err;
    assert_null(rh_tool_database_url(RH_TOOL_DEFAULT, "postgresql://u:secret@h/db?schema=x%00y&sslmode=disable",
                                     &schema, &err));
    assert_null(schema);
    assert_non_null(strstr(err.msg, "schema=x%00y: %00 decodes to a NUL byte"));
    assert_null(strstr(err.msg, "secret")); /* the URL's password is not in the message */
}

static void test_other_forms_unchanged(void **state)
{
    check("postgresql://u@h/db", "postgresql://u@h/db", NULL);
    check("host=/tmp dbname=app", "host=/tmp dbname=app", NULL);
}

/* Prisma's parameters are Prisma's: a tool without URL rules gets the URL as it is. */
static void test_url_rules_are_the_tools(void **state)
{
    (void)state;
    char *schema = (char *)"unset";
    rh_err err;
    char *url = rh_tool_database_url(rh_tool_find("dbmate"), "postgres://u@h/db?schema=app&sslmode=disable", &schema, &err);
    assert_string_equal(url, "postgres://u@h/db?schema=app&sslmode=disable");
    assert_null(schema);
    free(url);
}

/* The guard lets conninfo through; the pinned addresses are want_addr. */
static void local_ok(const char *conninfo, const char *want_addr)
{
    rh_pgurl_pinned p;
    rh_err err;
    if (rh_pgurl_pin_local(conninfo, &p, &err) < 0)
        fail_msg("%s refused: %s", conninfo, err.msg);
    assert_string_equal(p.hostaddr, want_addr);
    rh_pgurl_pinned_free(&p);
}

/* The guard refuses conninfo, saying want. */
static void refused(const char *conninfo, const char *want)
{
    rh_pgurl_pinned p;
    rh_err err;
    if (rh_pgurl_pin_local(conninfo, &p, &err) == 0)
        fail_msg("%s was let through (hostaddr %s)", conninfo, p.hostaddr);
    if (!strstr(err.msg, want))
        fail_msg("%s: '%s' lacks '%s'", conninfo, err.msg, want);
}

static void test_guard_addresses(void **state)
{
    local_ok("postgresql://u@127.0.0.1/db", "127.0.0.1");
    local_ok("postgresql://u@127.8.9.10:5433/db", "127.8.9.10");
    local_ok("postgresql://u@[::1]/db", "::1");
    local_ok("host=/tmp dbname=x", "");
    local_ok("postgresql:///db?host=/var/run/postgresql", "");
    local_ok("host=/tmp,127.0.0.1 port=5,6", ",127.0.0.1");
    local_ok("hostaddr=127.0.0.2 host=db.example.invalid", "127.0.0.2");   /* hostaddr is where it goes */
    refused("postgresql://u:pw@192.0.2.7/db", "host '192.0.2.7' resolves to 192.0.2.7, which is not this machine");
    refused("host=127.0.0.1,192.0.2.7", "'192.0.2.7'");
    refused("host=localhost hostaddr=192.0.2.7", "hostaddr '192.0.2.7' is not this machine");
    refused("postgresql://u@[::ffff:192.0.2.7]/db", "not this machine");
    refused("postgresql://u@127.evil.invalid/db", "cannot resolve host '127.evil.invalid'");   /* 17.3's bypass */
    refused("host=a,b hostaddr=127.0.0.1", "could not match 2 host names to 1 hostaddr values");
}

static void test_guard_environment_and_service(void **state)
{
    char file[] = "/tmp/rh-pgservice-XXXXXX";
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    const char text[] = "[remote]\nhost=192.0.2.9\n[near]\nhost=127.0.0.1\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    setenv("PGSERVICEFILE", file, 1);
    refused("service=remote dbname=x", "host '192.0.2.9' (from the service definition) resolves to 192.0.2.9");
    local_ok("service=near dbname=x", "127.0.0.1");
    setenv("PGSERVICE", "remote", 1);
    refused("postgresql:///db", "(from the service definition)");
    local_ok("postgresql://u@127.0.0.1/db", "127.0.0.1");   /* the URL's host wins over the service's */
    unsetenv("PGSERVICE");
    refused("service=missing", "definition of service \"missing\" not found");
    unsetenv("PGSERVICEFILE");
    unlink(file);
    setenv("PGHOST", "192.0.2.3", 1);
    refused("postgresql:///db", "host '192.0.2.3' (from PGHOST)");
    unsetenv("PGHOST");
    setenv("PGHOSTADDR", "192.0.2.4", 1);
    refused("postgresql://u@localhost/db", "hostaddr '192.0.2.4' (from PGHOSTADDR)");
    unsetenv("PGHOSTADDR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prisma_params_removed),
        cmocka_unit_test(test_schema_decoded_as_prisma_does),
        cmocka_unit_test(test_schema_with_a_nul_byte_refused),
        cmocka_unit_test(test_other_forms_unchanged),
        cmocka_unit_test(test_url_rules_are_the_tools),
        cmocka_unit_test(test_guard_addresses),
        cmocka_unit_test(test_guard_environment_and_service),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
