/*
 * test_watchdog_transit.c — a rehearse killed while its server is between fork and exec leaves nothing:
 * the watchdog waits for that child to become the server it was told of (then stops it) or to exit,
 * before it deletes the folder. Before, it saw a process that was not yet the server (still rehearse's
 * executable), signalled nothing, deleted the folder and left; the child then executed the server, which
 * ran unwatched or left a folder of its own behind ("Directory not empty": 2 in 60 kills of a starting
 * `rehearse deploy` on /dev/shm, tests/cli/interrupt.test.sh's "deploy killed after 0.15 s").
 *
 * Played with a stand-in: a forked "rehearse" makes the folder, announces it and a child to the watchdog
 * as spawn.c does (the child's record names /bin/sleep), and is killed with SIGKILL; the test lets the
 * child go on (create a file in the folder, execute sleep) once the watchdog has exited or has had 2 s.
 * The fixed watchdog passes whatever that moment; the old one had exited by then and left sleep running.
 * Needs no root: everything runs as the test's user.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "cluster/internal.h"
#include "testlib.h"
#include "util/fs.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_watchdog_waits_for_a_server_between_fork_and_exec(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/cluster", rh_test_tmpdir());
    int rep[2], go[2];
    assert_int_equal(pipe(rep), 0);
    assert_int_equal(pipe(go), 0);
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        /* "rehearse": the folder known to its watchdog before it exists, as cluster.c does */
        close(rep[0]);
        rh_err err;
        if (rh_watchdog_add(NULL, dir, &err) < 0 || mkdir(dir, 0700) < 0)
            _exit(1);
        pid_t server = fork();
        if (server == 0) {
            /* the server child before its exec: it goes on when told, as a real one goes on with the go
               byte rehearse wrote before it died */
            close(go[1]);
            close(rep[1]);
            char b;
            if (read(go[0], &b, 1) != 1)
                _exit(127);
            char file[PATH_MAX + 16];
            snprintf(file, sizeof file, "%s/.s.PGSQL.5432", dir);
            int fd = open(file, O_WRONLY | O_CREAT, 0600); /* what a starting server makes in its folder */
            if (fd >= 0)
                close(fd);
            struct rlimit none = {0, 0};
            setrlimit(RLIMIT_CORE, &none); /* the watchdog's SIGQUIT dumps no core of sleep */
            execl("/bin/sleep", "sleep", "60", (char *)NULL);
            _exit(127);
        }
        rh_proc_ref ref;
        if (server < 0 || rh_proc_ref_take(&ref, server, geteuid(), "/bin/sleep") < 0 || rh_watchdog_add(&ref, dir, &err) < 0)
            _exit(1);
        dprintf(rep[1], "%d %d\n", (int)server, (int)rh_watchdog_pid());
        close(rep[1]);
        for (;;)
            pause();
    }
    close(rep[1]);
    close(go[0]);
    FILE *f = fdopen(rep[0], "r");
    int server = 0, watchdog = 0;
    assert_int_equal(fscanf(f, "%d %d", &server, &watchdog), 2);
    fclose(f);
    kill(kid, SIGKILL); /* rehearse dies: its watchdog reads end-of-file and cleans up */
    waitpid(kid, NULL, 0);
    for (int i = 0; i < 200 && rh_proc_alive(watchdog); i++)
        sleep_ms(10);
    assert_int_equal(write(go[1], "x", 1), 1);
    close(go[1]);
    int gone = 0;
    for (int i = 0; i < 30000 && !gone; i++) { /* 5 min: a guard against a hang, not a timing */
        gone = !rh_fs_exists(dir) && !rh_proc_alive(server) && !rh_proc_alive(watchdog);
        if (!gone)
            sleep_ms(10);
    }
    int left_running = rh_proc_alive(server), left_folder = rh_fs_exists(dir);
    if (left_running)
        kill(server, SIGKILL); /* the test's own stand-in, never left behind */
    if (!gone)
        fail_msg("after the watchdog: the server %s, its folder %s", left_running ? "still runs" : "is gone",
                 left_folder ? "is still there" : "is gone");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watchdog_waits_for_a_server_between_fork_and_exec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
