/* test_pgurl.c — Prisma's DATABASE_URL parameters are taken out before libpq sees the URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "util/pgurl.h"

static void check(const char *in, const char *want_url, const char *want_schema)
{
    char *schema = NULL;
    char *url = rh_pgurl_from_prisma(in, &schema);
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

static void test_other_forms_unchanged(void **state)
{
    check("postgresql://u@h/db", "postgresql://u@h/db", NULL);
    check("host=/tmp dbname=app", "host=/tmp dbname=app", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prisma_params_removed),
        cmocka_unit_test(test_other_forms_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
