/*
 * watchdog.c — the process that guarantees no cluster outlives rehearse.
 *
 * The first cluster a rehearse process starts also starts a watchdog: a forked child in its own
 * session that holds the read end of a pipe. rehearse writes one line per cluster it starts
 * ("A 0 0 0<TAB><TAB>dir" before its directory exists, "A pid start uid<TAB>exe<TAB>dir" once its
 * server is about to run) and per cluster it stops or keeps ("F dir"). When the pipe reaches
 * end-of-file — rehearse exited, crashed, or was killed with SIGKILL — the watchdog stops every
 * server still listed (only while its pid is still that process: start time, uid, executable), or
 * else one named in the folder's postmaster.pid as the folder's account (rh_stop_untrusted_server),
 * and deletes the folder and its record. Signal handlers reuse the same path: they close the pipe and
 * wait for the watchdog before letting the signal kill the process.
 *
 * A forked child of rehearse (a runner worker) must not share its parent's watchdog: the
 * pthread_atfork handler forgets it, and the child starts its own when it starts a cluster.
 *
 * The channel is a unix socket pair written with MSG_NOSIGNAL: a watchdog that was killed makes a
 * write fail with EPIPE instead of killing rehearse with SIGPIPE (without changing the SIGPIPE
 * disposition that the programs rehearse runs would inherit). rehearse then reports the lost
 * watchdog and stops and deletes its clusters itself.
 */
#include "cluster/internal.h"

#include "report/escape.h" /* the one terminal escaper: paths in messages are the user's */
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int wd_fd = -1;       /* write end, in the rehearse process */
static volatile pid_t wd_pid = 0;
static pid_t wd_lost_pid = 0;         /* a watchdog of ours that died before rehearse */

static void forget_parent_watchdog(void)
{
    if (wd_fd >= 0)
        close(wd_fd);
    wd_fd = -1;
    wd_pid = 0;
    wd_lost_pid = 0;
}

typedef struct entry {
    rh_proc_ref server;
    char *dir;
} entry;

/*
 * A server announced between fork and exec (spawn.c) that is not yet what was described: the same
 * process (pid and start time) still running rehearse's executable, or not yet as the server account.
 * It is not signalled (it is not the server yet), and it must not be passed by either: with the go
 * byte already sent it executes the server after rehearse died, into a folder being deleted (a server
 * left running, or a folder of its left behind: 3 in 100 kills of a starting `deploy` on /dev/shm);
 * without it, it exits. Wait for one of the two. The bound only keeps a process that never does
 * either (stopped with SIGSTOP) from holding the watchdog.
 */
static void settle_in_transit(const rh_proc_ref *r)
{
    long deadline = rh_now_us() + 30L * 1000000L;
    while (rh_proc_alive(r->pid) && rh_proc_starttime(r->pid) == r->start && !rh_proc_matches(r) &&
           rh_now_us() < deadline)
        usleep(1000);
}

static void watchdog_main(int rfd)
{
    setsid();
    prctl(PR_SET_NAME, "rehearse-watch", 0, 0, 0);
    /* It must outlive whatever kills rehearse's process group, and only act on end-of-file. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
    }
    /* Keep nothing of the parent's open (connections, pipes a caller waits on) but stderr. */
    for (int fd = 3; fd < 1024; fd++)
        if (fd != rfd)
            close(fd);

    entry *list = NULL;
    size_t n = 0;
    rh_buf line;
    rh_buf_init(&line);
    char chunk[4096];
    for (;;) {
        ssize_t got = read(rfd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        for (ssize_t i = 0; i < got; i++) {
            if (chunk[i] != '\n') {
                rh_buf_putc(&line, chunk[i]);
                continue;
            }
            rh_proc_ref ref;
            char *dir = NULL;
            if (line.len > 2 && line.data[0] == 'A' && rh_watchdog_line_parse(line.data + 2, &ref, &dir) == 0) {
                size_t k = 0;
                while (k < n && strcmp(list[k].dir, dir) != 0)
                    k++;
                if (k == n) {
                    list = rh_xrealloc(list, (n + 1) * sizeof *list);
                    list[n].dir = rh_xstrdup(dir);
                    n++;
                }
                list[k].server = ref;
            } else if (line.len > 2 && line.data[0] == 'F') {
                for (size_t k = 0; k < n; k++)
                    if (strcmp(list[k].dir, line.data + 2) == 0) {
                        free(list[k].dir);
                        list[k] = list[--n];
                        break;
                    }
            }
            rh_buf_reset(&line);
        }
    }
    /* rehearse is gone (or asked us to finish): stop and delete what it left. */
    for (size_t k = 0; k < n; k++) {
        rh_err err;
        int rc;
        if (list[k].server.pid > 0) {
            settle_in_transit(&list[k].server);
            rh_proc_stop(&list[k].server, 5000);
        }
        /*
         * No server of rehearse's own (killed while the folder was filled), or one it did not exec
         * itself (bench's pg_ctl): stopped as the folder's account. A postmaster pg_ctl forked just
         * before rehearse died may start while the folder goes ("Directory not empty"): stop again
         * and retry; once the folder is gone, one cannot start there.
         */
        int round = 0;
        do {
            rh_stop_untrusted_server(list[k].dir, 5000);
            rc = rh_fs_rmtree(list[k].dir, &err);
        } while (rc < 0 && ++round < 5 && usleep(100000) == 0);
        if (rc < 0)
            rh_report_term_eprintf("rehearse watchdog: %s\n", err.msg);
        rh_record_remove(list[k].dir);
        free(list[k].dir);
    }
    free(list);
    rh_buf_free(&line);
    _exit(0);
}

static int watchdog_start(rh_err *err)
{
    static int atfork_done;
    if (!atfork_done) {
        pthread_atfork(NULL, NULL, forget_parent_watchdog);
        atfork_done = 1;
    }
    int p[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
        return rh_err_errno(err, "cannot create the watchdog socket");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return rh_err_errno(err, "cannot fork the watchdog");
    }
    if (pid == 0) {
        close(p[1]);
        watchdog_main(p[0]);
    }
    close(p[0]);
    wd_fd = p[1];
    wd_pid = pid;
    return 0;
}

/* The watchdog died (killed, or crashed) before rehearse: remember it, reap it, stop writing. */
static void watchdog_lost(void)
{
    if (wd_fd >= 0)
        close(wd_fd);
    wd_fd = -1;
    if (wd_pid > 0) {
        waitpid(wd_pid, NULL, WNOHANG);
        wd_lost_pid = wd_pid;
    }
    wd_pid = 0;
}

/* -1 when the watchdog is gone (the line was not delivered). */
static int send_line(const char *line)
{
    size_t len = strlen(line), off = 0;
    while (off < len) {
        if (wd_fd < 0)
            return -1;
        ssize_t w = send(wd_fd, line + off, len - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            watchdog_lost();
            return -1;
        }
        off += (size_t)w;
    }
    return 0;
}

static int lost_error(rh_err *err)
{
    return rh_err_set(err, "the watchdog process (pid %d) of this rehearse died (was it killed?): clusters are no "
                           "longer protected against a kill of rehearse; rehearse stops and deletes its clusters "
                           "itself, but report this if nobody killed it",
                      (int)wd_lost_pid);
}

int rh_watchdog_add(const rh_proc_ref *server, const char *dir, rh_err *err)
{
    if (wd_lost_pid)
        return lost_error(err);
    const char *exe = server ? server->exe : "";
    if (strpbrk(dir, "\t\n") || strpbrk(exe, "\t\n"))
        return rh_err_set(err, "a tab or newline in %s: not usable as a cluster folder", strpbrk(dir, "\t\n") ? dir : exe);
    if (wd_fd < 0 && watchdog_start(err) < 0)
        return -1;
    char *line = rh_xasprintf("A %d %llu %u\t%s\t%s\n", server ? (int)server->pid : 0, server ? server->start : 0ULL,
                              server ? (unsigned)server->uid : 0U, exe, dir);
    int rc = send_line(line) < 0 ? lost_error(err) : 0;
    free(line);
    return rc;
}

int rh_watchdog_forget(const char *dir, rh_err *err)
{
    if (wd_lost_pid)
        return lost_error(err);
    if (wd_fd < 0)
        return 0;
    char line[4200];
    snprintf(line, sizeof line, "F %s\n", dir);
    if (send_line(line) < 0)
        return lost_error(err);
    return 0;
}

/* Runs in signal context: only async-signal-safe calls. */
static void on_fatal_signal(int sig)
{
    int fd = wd_fd;
    if (fd >= 0) {
        wd_fd = -1;
        close(fd);
        if (wd_pid > 0)
            while (waitpid(wd_pid, NULL, 0) < 0 && errno == EINTR)
                ;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void rh_cluster_install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

pid_t rh_watchdog_pid(void)
{
    return wd_pid;
}
