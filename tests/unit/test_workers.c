/*
 * test_workers.c — rh_run_workers (util/workers.h), the pool under util/fs.c's copy and removal of a tree:
 * every item runs exactly once, the threads it promises really run at the same time, the first error comes
 * back whichever thread ran the item, and stop_at_error hands out nothing after it. Each assertion fails for
 * a pool that runs everything on the caller's thread, loses a helper's error or hands an item out twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/workers.h"

enum { ITEMS = 200 };

/* Each slot's first item waits until every expected thread has one too: all of them run at once. */
typedef struct meet {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t want, arrived;
    int seen[RH_WORKERS_MAX];
    pthread_t thread[RH_WORKERS_MAX];
    int gave_up;              /* a thread never came: no pass can hang */
    int bad;                  /* an item number or slot out of range */
    int runs[ITEMS];          /* item i ran runs[i] times (each cell written by its item only) */
    size_t fail_slot;         /* the first item of this slot fails; RH_WORKERS_MAX: none */
    size_t stop_after;        /* (max 1) item stop_after fails; ITEMS: none */
} meet;

static void meet_init(meet *m, size_t want)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    m->want = want;
    m->fail_slot = RH_WORKERS_MAX;
    m->stop_after = ITEMS;
}

static void meet_free(meet *m)
{
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
}

static int item(void *arg, size_t i, size_t slot, rh_err *err)
{
    meet *m = arg;
    if (i >= ITEMS || slot >= m->want) { /* no cmocka assertion off the test's thread: a flag, asserted after */
        __atomic_store_n(&m->bad, 1, __ATOMIC_SEQ_CST);
        return 0;
    }
    m->runs[i]++;
    int first = 0;
    pthread_mutex_lock(&m->mu);
    if (!m->seen[slot]) {
        first = 1;
        m->seen[slot] = 1;
        m->thread[slot] = pthread_self();
        m->arrived++;
        pthread_cond_broadcast(&m->cv);
        /* a guard against a hang only (a broken pool that never starts a helper): the pass needs none */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 60;
        while (m->arrived < m->want && !m->gave_up)
            if (pthread_cond_timedwait(&m->cv, &m->mu, &until) == ETIMEDOUT)
                m->gave_up = 1;
    }
    pthread_mutex_unlock(&m->mu);
    if ((first && slot == m->fail_slot) || i == m->stop_after) {
        snprintf(err->msg, sizeof err->msg, "item %zu failed on slot %zu", i, slot);
        return -1;
    }
    return 0;
}

static void test_every_item_once_with_every_thread_at_once(void **state)
{
    (void)state;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t want = cpus < 1 ? 1 : cpus > 4 ? 4 : (size_t)cpus;
    assert_int_equal(rh_workers_wanted(ITEMS, 4), want);
    assert_int_equal(rh_workers_wanted(2, 4), want < 2 ? want : 2);
    assert_int_equal(rh_workers_wanted(0, 4), 1);
    meet m;
    meet_init(&m, want);
    rh_err err;
    assert_int_equal(rh_run_workers(item, &m, ITEMS, 4, 0, &err), 0);
    assert_false(m.gave_up);
    assert_false(m.bad);
    assert_int_equal(m.arrived, want);
    for (size_t i = 0; i < ITEMS; i++)
        assert_int_equal(m.runs[i], 1);
    assert_true(pthread_equal(m.thread[0], pthread_self())); /* the caller is worker 0 */
    for (size_t a = 0; a < want; a++)
        for (size_t b = a + 1; b < want; b++)
            assert_false(pthread_equal(m.thread[a], m.thread[b]));
    meet_free(&m);
}

static void test_a_helpers_error_comes_back_and_the_rest_still_runs(void **state)
{
    (void)state;
    size_t want = rh_workers_wanted(ITEMS, 4);
    if (want < 2)
        skip(); /* one CPU: no helper thread to fail in */
    meet m;
    meet_init(&m, want);
    m.fail_slot = want - 1;
    rh_err err;
    assert_int_equal(rh_run_workers(item, &m, ITEMS, 4, 0, &err), -1);
    assert_false(m.gave_up);
    assert_false(m.bad);
    char want_end[64];
    snprintf(want_end, sizeof want_end, "failed on slot %zu", want - 1);
    assert_non_null(strstr(err.msg, want_end));
    for (size_t i = 0; i < ITEMS; i++) /* not stop_at_error: every item ran (rm -rf goes on) */
        assert_int_equal(m.runs[i], 1);
    meet_free(&m);
}

static void test_stop_at_error_hands_out_nothing_after_it(void **state)
{
    (void)state;
    meet m;
    meet_init(&m, 1); /* one thread: "after" is an order */
    m.stop_after = 3;
    rh_err err;
    assert_int_equal(rh_run_workers(item, &m, ITEMS, 1, 1, &err), -1);
    assert_string_equal(err.msg, "item 3 failed on slot 0");
    for (size_t i = 0; i < ITEMS; i++)
        assert_int_equal(m.runs[i], i <= 3);
    meet_free(&m);
    meet_init(&m, 1);
    assert_int_equal(rh_run_workers(item, &m, 0, 1, 1, &err), 0); /* no item: no call */
    assert_int_equal(m.arrived, 0);
    meet_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_item_once_with_every_thread_at_once),
        cmocka_unit_test(test_a_helpers_error_comes_back_and_the_rest_still_runs),
        cmocka_unit_test(test_stop_at_error_hands_out_nothing_after_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
