/*
 * workers.c — rh_run_workers (workers.h): items handed out one at a time under a mutex, the first error
 * kept. The caller is one of the workers, so one item or one CPU starts no thread at all.
 */
#include "util/workers.h"

#include <assert.h>
#include <pthread.h>
#include <unistd.h>

typedef struct pool {
    rh_work_fn fn;
    void *arg;
    size_t n;
    int stop_at_error;
    pthread_mutex_t mu;
    size_t next;  /* under mu: the next item to hand out */
    int failed;   /* under mu: err holds the first error */
    rh_err err;
} pool;

typedef struct worker {
    pool *p;
    size_t slot;
} worker;

static void *work(void *arg)
{
    const worker *w = arg;
    pool *p = w->p;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->failed && p->stop_at_error ? p->n : p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n)
            break;
        rh_err e;
        if (p->fn(p->arg, i, w->slot, &e) < 0) {
            pthread_mutex_lock(&p->mu);
            if (!p->failed) {
                p->failed = 1;
                p->err = e;
            }
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

size_t rh_workers_wanted(size_t n, size_t max)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t want = cpus < 1 ? 1 : (size_t)cpus;
    want = want > max ? max : want;
    want = want > n ? n : want;
    return want ? want : 1;
}

int rh_run_workers(rh_work_fn fn, void *arg, size_t n, size_t max, int stop_at_error, rh_err *err)
{
    assert(fn && max >= 1 && max <= RH_WORKERS_MAX);
    pool p = {.fn = fn, .arg = arg, .n = n, .stop_at_error = stop_at_error};
    pthread_mutex_init(&p.mu, NULL);
    size_t want = rh_workers_wanted(n, max);
    pthread_t helpers[RH_WORKERS_MAX];
    worker ws[RH_WORKERS_MAX];
    size_t started = 0;
    for (size_t s = 0; s < want; s++)
        ws[s] = (worker){.p = &p, .slot = s};
    while (started + 1 < want && pthread_create(&helpers[started], NULL, work, &ws[started + 1]) == 0)
        started++;
    work(&ws[0]);
    for (size_t i = 0; i < started; i++)
        pthread_join(helpers[i], NULL);
    pthread_mutex_destroy(&p.mu);
    if (p.failed) {
        *err = p.err;
        return -1;
    }
    return 0;
}
