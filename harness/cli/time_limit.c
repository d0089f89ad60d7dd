/*
 * time_limit.c — a command's whole-run time limit (check --timeout, deploy --timeout): a migration under test may
 * sleep, loop or wait forever (`SELECT pg_sleep(1e9)`, a DO loop), and a CI job would hang until
 * its runner gives up. At the limit rehearse says so and exits 2 at once, as a killed run: each
 * cluster's watchdog then stops the servers and removes their folders (docs/cluster.md, Signals),
 * and a state being published is never half there (docs/state-cache.md).
 */
#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli/cli.h"

static char message[512];
static size_t message_len;

static void on_limit(int sig)
{
    (void)sig;
    /* only async-signal-safe calls here: the message was formatted when the limit was set */
    ssize_t w = write(STDERR_FILENO, message, message_len);
    (void)w;
    _exit(RH_EXIT_USAGE);
}

void rh_cli_time_limit(const char *cmd, long ms)
{
    assert(cmd && ms > 0);
    int n = snprintf(message, sizeof message,
                     "rehearse %s: timed out after %g s (the limit: --timeout DUR; --timeout 0 for none): a "
                     "migration was still running; the clusters of this run are stopped\n",
                     cmd, (double)ms / 1000.0);
    message_len = n < 0 ? 0 : (size_t)n < sizeof message ? (size_t)n : sizeof message - 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_limit;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_value = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}
