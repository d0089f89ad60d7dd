/*
 * test_order_icu.c — conformance of RH_ORDER_ICU with JavaScript's localeCompare, the order
 * Prisma >= 6.6 gives a migrations folder (listMigrations.ts: a.path.localeCompare(b.path)).
 *
 * The expected order was produced by node (v20.20.2, ICU default locale en-US) with:
 *
 *   node -e 'const names = [...]; console.log(JSON.stringify([...names].sort((a, b) => a.localeCompare(b))))'
 *
 * on the names below (shuffled). "_ab" and "_ab<U+200E>" collate equal in ICU (U+200E is
 * ignorable): node keeps their input order (stable sort), rehearse breaks the tie by bytes, which
 * gives the same result here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "migrations/migset.h"
#include "migrations/profile.h"
#include "tools/prisma/profile.h"

static const char *const node_order[] = {
    "_underscore",
    "-dash",
    ".hidden",
    "0_init",
    "00000000000000_zero",
    "1",
    "10",
    "2",
    "20231012000000_y",
    "202310122339_x",
    "2024010100000_short",
    "20240101000000 init",
    "20240101000000__double",
    "20240101000000_\U0001f600",
    "20240101000000_a_b",
    "20240101000000_a-b",
    "20240101000000_a,b",
    "20240101000000_a;b",
    "20240101000000_a!b",
    "20240101000000_a'b",
    "20240101000000_a(b",
    "20240101000000_a@b",
    "20240101000000_a#b",
    "20240101000000_a+b",
    "20240101000000_a~b",
    "20240101000000_a$b",
    "20240101000000_ab",
    "20240101000000_ab\u200e",
    "20240101000000_aB",
    "20240101000000_Ab",
    "20240101000000_\u00e4b",
    "20240101000000_cafe",
    "20240101000000_caf\u00e9",
    "20240101000000_caff",
    "20240101000000_emigre",
    "20240101000000_\u00e9migr\u00e9",
    "20240101000000_init",
    "20240101000000_Init",
    "20240101000000_INIT",
    "20240101000000_init_2",
    "20240101000000_init2",
    "20240101000000_ss",
    "20240101000000_\u00df",
    "20240101000000_\u03b1",
    "20240101000000_\u03c9",
    "20240101000000_\u65e5\u672c",
    "20240101000000-init",
    "20240101000000.init",
    "202401010000000_long",
    "20251225_step6_waitlist_party_only",
    "20251225_x",
    "20251225061321_y",
    "9_x",
    "a",
    "A",
    "b",
    "B",
    "z",
    "Z",
};
#define N (sizeof node_order / sizeof node_order[0])

static void adjacent_names_compare_as_in_node(void **state)
{
    for (size_t i = 0; i + 1 < N; i++) {
        int c = rh_order_compare(RH_ORDER_ICU, node_order[i], node_order[i + 1]);
        if (strcmp(node_order[i], "20240101000000_ab") == 0) {
            assert_int_equal(c, 0); /* node: "_ab".localeCompare("_ab\u200e") === 0 */
            continue;
        }
        if (c >= 0)
            fail_msg("ICU order: expected '%s' < '%s'", node_order[i], node_order[i + 1]);
        assert_true(rh_order_compare(RH_ORDER_ICU, node_order[i + 1], node_order[i]) > 0);
    }
}

static void sorting_a_shuffled_set_gives_nodes_order(void **state)
{
    rh_migset set = {0};
    /* a deterministic shuffle: stride through the list */
    for (size_t k = 0; k < N; k++) {
        const char *n = node_order[(k * 7 + 3) % N];
        rh_migset_push(&set, n, strlen(n));
    }
    assert_int_equal(set.n, N);
    rh_profile p;
    rh_err err;
    assert_int_equal(rh_prisma_profile_from_version(&p, "6.6.0", &err), 0);
    rh_migset_sort(&set, &p);
    for (size_t i = 0; i < N; i++)
        assert_string_equal(set.items[i].name, node_order[i]);
    rh_migset_free(&set);
}

static void the_seed_cases(void **state)
{
    /* PRISMA_MIGRATE.md section 3: punctuation before digits under ICU, after them by bytes */
    assert_true(rh_order_compare(RH_ORDER_ICU, "20251225_step6_waitlist_party_only", "20251225061321_y") < 0);
    assert_true(rh_order_compare(RH_ORDER_BYTES, "20251225_step6_waitlist_party_only", "20251225061321_y") > 0);
    /* a 12-digit timestamp against a 14-digit one: the same in both orders */
    assert_true(rh_order_compare(RH_ORDER_ICU, "202310122339_x", "20231012000000_y") > 0);
    assert_true(rh_order_compare(RH_ORDER_BYTES, "202310122339_x", "20231012000000_y") > 0);
    /* '_' before '-' under ICU; the reverse by bytes */
    assert_true(rh_order_compare(RH_ORDER_ICU, "1_a", "1-a") < 0);
    assert_true(rh_order_compare(RH_ORDER_BYTES, "1_a", "1-a") > 0);
    /* letters: case-insensitive first, then lower case first */
    assert_true(rh_order_compare(RH_ORDER_ICU, "a", "B") < 0);
    assert_true(rh_order_compare(RH_ORDER_ICU, "a", "A") < 0);
    assert_true(rh_order_compare(RH_ORDER_BYTES, "B", "a") < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adjacent_names_compare_as_in_node),
        cmocka_unit_test(sorting_a_shuffled_set_gives_nodes_order),
        cmocka_unit_test(the_seed_cases),
    };
    return cmocka_run_group_tests_name("order_icu", tests, NULL, NULL);
}
