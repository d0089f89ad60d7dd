/*
 * test_cluster_signals.c — rehearse signals only processes it started (issue 17.2), played as the
 * attack: the server account (a migration's COPY ... TO PROGRAM runs as it) writes the pid of a
 * root process into postmaster.pid, and tries to rewrite what rehearse keeps about its clusters;
 * then the reaper, `clusters --stop` and the watchdog clean up. The root process must survive, and
 * the cluster must still be stopped and deleted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait for a path to disappear and a pid to die; true if both happened. The bound (5 min) is a guard
   against a hang, not a timing: under valgrind on a loaded machine a watchdog's cleanup took seconds. */
static int gone_eventually(const char *dir, pid_t pid)
{
    for (int waited = 0; waited < 300000; waited += 10) {
        if (!rh_fs_exists(dir) && !rh_proc_alive(pid))
            return 1;
        sleep_ms(10);
    }
    return 0;
}

/* The victim: a root process the test started (a `sleep`), which nothing of rehearse may signal. */
static pid_t start_root_victim(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sleep", "sleep", "1000", (char *)NULL);
        _exit(127);
    }
    /* wait for the exec, so that its executable is sleep's (60000 polls: a guard against a hang) */
    char path[64], exe[PATH_MAX], want[PATH_MAX];
    assert_non_null(realpath("/bin/sleep", want));
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    for (int i = 0; i < 60000; i++) {
        ssize_t n = readlink(path, exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
        if (strcmp(exe, want) == 0)
            break;
        sleep_ms(5);
    }
    return pid;
}

static void end_victim(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/*
 * As the server account: overwrite DIR/data/postmaster.pid with `victim`, and try to overwrite,
 * replace and delete the cluster's record. Returns how many of the record attacks succeeded
 * (must be 0); fails the test if the postmaster.pid write itself did not happen.
 */
static int attack_as_server_account(const char *dir, pid_t victim)
{
    rh_runas ra;
    rh_err err;
    assert_int_equal(rh_runas_resolve(&ra, NULL, &err), 0);
    assert_true(ra.active);
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        if (rh_runas_drop(&ra) < 0)
            _exit(100);
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/data/postmaster.pid", dir);
        FILE *f = fopen(path, "w");
        if (!f)
            _exit(101);
        fprintf(f, "%d\n%s/data\n", (int)victim, dir);
        if (fclose(f) != 0)
            _exit(101);
        int won = 0;
        snprintf(path, sizeof path, "%s.owner", dir);
        int fd = open(path, O_WRONLY | O_TRUNC);
        if (fd >= 0) {
            won++;
            close(fd);
        }
        char planted[PATH_MAX];
        snprintf(planted, sizeof planted, "%s.planted", dir);
        fd = open(planted, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) {
            won++;
            close(fd);
            if (rename(planted, path) == 0)
                won++;
        }
        if (unlink(path) == 0)
            won++;
        /* the legacy place, inside the cluster folder, must mean nothing either */
        snprintf(path, sizeof path, "%s/owner", dir);
        f = fopen(path, "w");
        if (f) {
            fprintf(f, "%d 1\n", (int)victim);
            fclose(f);
        }
        _exit(won);
    }
    int status = rh_wait_child(kid);
    assert_true(WIFEXITED(status));
    assert_true(WEXITSTATUS(status) < 100); /* the postmaster.pid overwrite happened */
    return WEXITSTATUS(status);
}

/* A child starts a cluster and reports it; with `orphan`, it kills its watchdog and exits (a leftover). */
static pid_t child_with_cluster(int orphan, char *dir, pid_t *server)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        close(p[0]);
        rh_cluster *c;
        rh_err err;
        rh_cluster_opts opts = {0};
        if (rh_cluster_start(&c, &opts, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            _exit(1);
        }
        if (orphan) {
            kill(rh_watchdog_pid(), SIGKILL);
            waitpid(rh_watchdog_pid(), NULL, 0);
        }
        dprintf(p[1], "%d %s\n", (int)rh_cluster_pid(c), rh_cluster_dir(c));
        close(p[1]);
        if (orphan)
            _exit(0);
        for (;;)
            pause();
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    int spid = 0;
    assert_int_equal(fscanf(f, "%d %4095s", &spid, dir), 2);
    fclose(f);
    *server = spid;
    if (orphan)
        waitpid(kid, NULL, 0);
    return kid;
}

/* The reaper (at every first start, and `clusters --reap`) after the attack. */
static void test_reaper_spares_a_planted_pid(void **state)
{
    if (geteuid() != 0)
        skip();
    char dir[4096];
    pid_t server;
    child_with_cluster(1, dir, &server);
    assert_true(rh_proc_alive(server)); /* left behind: its rehearse and watchdog are gone */

    pid_t victim = start_root_victim();
    assert_int_equal(attack_as_server_account(dir, victim), 0);

    /* and a naive bench cluster of a dead process, postmaster.pid naming the victim too */
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    char naive[4200];
    snprintf(naive, sizeof naive, "%s/bench-naive-%d-abcdef", rh_cluster_run_dir(), (int)dead);
    char *ndata = rh_xasprintf("%s/data", naive);
    rh_err err;
    assert_int_equal(rh_fs_mkdir_p(ndata, 0700, &err), 0);
    rh_runas ra;
    assert_int_equal(rh_runas_resolve(&ra, NULL, &err), 0);
    assert_int_equal(chown(naive, ra.uid, ra.gid), 0);
    assert_int_equal(chown(ndata, ra.uid, ra.gid), 0);
    char *npid = rh_xasprintf("%s/postmaster.pid", ndata);
    char *text = rh_xasprintf("%d\n", (int)victim);
    assert_int_equal(rh_fs_write(npid, text, strlen(text), 0600, &err), 0);
    assert_int_equal(chown(npid, ra.uid, ra.gid), 0);

    int reaped = 0;
    assert_int_equal(rh_cluster_reap(&reaped, &err), 0);
    assert_true(reaped >= 1);
    assert_true(rh_proc_alive(victim));              /* spared */
    assert_true(gone_eventually(dir, server));    /* and the real server stopped, its folder gone */
    assert_false(rh_fs_exists(naive));
    char *record = rh_record_path(dir);
    assert_false(rh_fs_exists(record));
    free(record);
    end_victim(victim);
    free(ndata);
    free(npid);
    free(text);
}

/* `rehearse clusters --stop ID` of a kept cluster after the attack. */
static void test_stop_by_id_spares_a_planted_pid(void **state)
{
    if (geteuid() != 0)
        skip();
    rh_cluster *c;
    rh_err err;
    rh_cluster_opts opts = {0};
    assert_int_equal(rh_cluster_start(&c, &opts, &err), 0);
    char *id = rh_xstrdup(rh_cluster_id(c));
    char *dir = rh_xstrdup(rh_cluster_dir(c));
    pid_t server = rh_cluster_pid(c);
    rh_cluster_keep(c);

    pid_t victim = start_root_victim();
    assert_int_equal(attack_as_server_account(dir, victim), 0);

    /* listed with its real server, not the planted pid */
    rh_cluster_info *list;
    size_t n;
    assert_int_equal(rh_cluster_list(&list, &n, &err), 0);
    int seen = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].id, id) == 0) {
            seen = 1;
            assert_true(list[i].kept);
            assert_int_equal(list[i].server_pid, server);
        }
    free(list);
    assert_true(seen);

    assert_int_equal(rh_cluster_stop_id(id, &err), 0);
    assert_true(rh_proc_alive(victim));
    assert_true(gone_eventually(dir, server));
    end_victim(victim);
    free(id);
    free(dir);
}

/* The watchdog of a rehearse killed with SIGKILL after the attack. */
static void test_watchdog_spares_a_planted_pid(void **state)
{
    if (geteuid() != 0)
        skip();
    char dir[4096];
    pid_t server;
    pid_t kid = child_with_cluster(0, dir, &server);
    pid_t victim = start_root_victim();
    assert_int_equal(attack_as_server_account(dir, victim), 0);
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);
    assert_true(gone_eventually(dir, server));
    assert_true(rh_proc_alive(victim));
    end_victim(victim);
}

/* A reference matches its process only with the same start time, uid and executable. */
static void test_proc_ref_checks_identity(void **state)
{
    pid_t victim = start_root_victim();
    rh_proc_ref ref;
    assert_int_equal(rh_proc_ref_take(&ref, victim, geteuid(), "/bin/sleep"), 0);
    assert_true(rh_proc_matches(&ref));
    rh_proc_ref other = ref;
    other.start++;
    assert_false(rh_proc_matches(&other)); /* a recycled pid */
    other = ref;
    other.uid = ref.uid + 1;
    assert_false(rh_proc_matches(&other));
    other = ref;
    snprintf(other.exe, sizeof other.exe, "/usr/lib/postgresql/15/bin/postgres");
    assert_false(rh_proc_matches(&other));
    end_victim(victim);
    assert_false(rh_proc_matches(&ref));
}

/* Records mean nothing in a run folder others may write, or reached through a link: refused, with the fix. */
static void test_run_dir_others_may_write_is_refused(void **state)
{
    char dir[] = "/tmp/rh-tcs-open-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0777), 0);
    rh_err err;
    assert_int_equal(rh_run_dir_trusted(dir, &err), -1);
    assert_non_null(strstr(err.msg, dir));
    assert_non_null(strstr(err.msg, "REHEARSE_RUN_DIR"));
    assert_int_equal(chmod(dir, 0711), 0);
    assert_int_equal(rh_run_dir_trusted(dir, &err), 0);

    /* a link planted where the run folder goes (any account may, in /dev/shm): refused, and the
       folder it leads to keeps its mode (chmod would have followed the link) */
    char *target = rh_xasprintf("%s/target", dir), *link = rh_xasprintf("%s/run", dir);
    assert_int_equal(mkdir(target, 0700), 0);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(rh_run_dir_prepare(link, &err), -1);
    assert_non_null(strstr(err.msg, link));
    struct stat st;
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    unlink(link);
    /* a folder of another account (planted before rehearse's first run): refused as well */
    if (geteuid() == 0) {
        assert_int_equal(mkdir(link, 0700), 0);
        assert_int_equal(chown(link, 65534, 65534), 0);
        assert_int_equal(rh_run_dir_prepare(link, &err), -1);
        assert_non_null(strstr(err.msg, "owner uid 65534"));
        rmdir(link);
    }
    assert_int_equal(rh_run_dir_prepare(link, &err), 0);
    assert_int_equal(lstat(link, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0711);
    rmdir(link);
    rmdir(target);
    free(target);
    free(link);
    rmdir(dir);
}

static char run_dir[] = "/dev/shm/rh-tcs-XXXXXX";
static pid_t main_pid;

static void drop_run_dir(void)
{
    rh_err err;
    if (getpid() == main_pid && rh_fs_rmtree(run_dir, &err) < 0)
        fprintf(stderr, "%s\n", err.msg);
}

int main(void)
{
    /* A run folder of its own: the reaper test must find its leftover, and reap nothing of others. */
    if (access("/dev/shm", W_OK) != 0)
        snprintf(run_dir, sizeof run_dir, "/tmp/rh-tcs-XXXXXX");
    if (!mkdtemp(run_dir)) {
        perror("mkdtemp");
        return 1;
    }
    setenv("REHEARSE_RUN_DIR", run_dir, 1);
    main_pid = getpid();
    atexit(drop_run_dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proc_ref_checks_identity),
        cmocka_unit_test(test_run_dir_others_may_write_is_refused),
        cmocka_unit_test(test_reaper_spares_a_planted_pid),
        cmocka_unit_test(test_stop_by_id_spares_a_planted_pid),
        cmocka_unit_test(test_watchdog_spares_a_planted_pid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
