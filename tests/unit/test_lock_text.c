/*
 * test_lock_text.c — the session texts runner/lockwait.c may take as "cannot change how the session
 * ends" (runner/lock_text.c): advisory-lock calls on integer literals and transaction control only;
 * a SET, any other function, a quote, a comment or a FROM is not plain (so the lock wait is real).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runner/lock_text.h"

static void test_plain(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "SELECT pg_advisory_lock(72707369)",
        "select pg_advisory_lock(72707369);",
        "  SELECT   PG_ADVISORY_LOCK ( 72707369 )  ",
        "BEGIN; SELECT pg_advisory_xact_lock(72707369)",
        "begin transaction;\n  select pg_advisory_xact_lock(1, -2);\n",
        "SELECT pg_advisory_lock(1), pg_advisory_lock_shared(2), pg_try_advisory_lock(3)",
        "SELECT pg_advisory_unlock(72707369)",
        "COMMIT", "rollback", "end", "START TRANSACTION", "",
    };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (!rh_lock_text_plain(yes[i]))
            fail_msg("not plain: \"%s\"", yes[i]);
}

static void test_not_plain(void **state)
{
    (void)state;
    static const char *const no[] = {
        "SET idle_session_timeout = '2s'",
        "SET idle_session_timeout = 2000; SELECT pg_advisory_lock(72707369)",
        "SELECT pg_advisory_lock(72707369); SET lock_timeout = 1000",
        "SELECT set_config('idle_session_timeout', '1s', false)",
        "SELECT pg_advisory_lock(72707369), pg_sleep(1)",
        "SELECT my_function()",
        "SELECT pg_advisory_lock(72707369) FROM t",
        "SELECT pg_advisory_lock(x)",
        "SELECT pg_advisory_lock()",
        "SELECT pg_advisory_lock(1, 2, 3)",
        "SELECT pg_advisory_lock(1) -- a comment",
        "SELECT pg_advisory_lock(1) /* a comment */",
        "SELECT pg_advisory_lock($1)",
        "SELECT pg_advisory_lock(1),",
        "SELECT pg_advisory_lock(1",
        "SELECT pg_advisory_lock_all(1)",
        "SELECT pg_advisory_unlock_all()",
        "BEGIN ISOLATION LEVEL SERIALIZABLE",
        "SELECT \"pg_advisory_lock\"(1)",
        "LOCK TABLE t",
        "SELECT 1",
        "select",
    };
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (rh_lock_text_plain(no[i]))
            fail_msg("plain: \"%s\"", no[i]);
    assert_false(rh_lock_text_plain(NULL));
}

/* A statement longer than the reader's buffer is not plain (unknown), however harmless. */
static void test_long(void **state)
{
    (void)state;
    char text[4096] = "SELECT pg_advisory_lock(1)";
    for (int i = 0; i < 100; i++)
        strcat(text, ", pg_advisory_lock(1)");
    assert_false(rh_lock_text_plain(text));
    text[200] = 0; /* ", pg_advis": a short one that is cut is not plain either */
    assert_false(rh_lock_text_plain(text));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_not_plain),
        cmocka_unit_test(test_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
