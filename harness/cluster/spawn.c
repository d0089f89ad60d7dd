/* spawn.c — starting and waiting for the PostgreSQL programs (no shell involved anywhere). */
#include "cluster/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long rh_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

int rh_wait_child(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return status;
}

int rh_spawn_capture(char *const argv[], rh_buf *out, rh_err *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return rh_err_errno(err, "pipe");
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return rh_err_errno(err, "fork");
    }
    if (pid == 0) {
        /* Its own session: a Ctrl-C meant for rehearse must not cut a helper program short in
           the middle of its own clean-up (pg_virtualenv then leaves its cluster config behind). */
        setsid();
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(p[1], 1);
        dup2(p[1], 2);
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    char chunk[4096];
    for (;;) {
        ssize_t n = read(p[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        rh_buf_append(out, chunk, (size_t)n);
    }
    close(p[0]);
    int status = rh_wait_child(pid);
    if (status < 0)
        return rh_err_errno(err, "waiting for %s", argv[0]);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

pid_t rh_spawn_detached(char *const argv[], const rh_runas *ra, const char *log_path, rh_err *err)
{
    /* The child reports exec failures through a CLOEXEC pipe, so they surface here and not only in the log. */
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return rh_err_errno(err, "pipe");
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        rh_err_errno(err, "fork");
        return -1;
    }
    if (pid == 0) {
        setsid();
        /* Signal dispositions set by rehearse must not leak into the server. */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int devnull = open("/dev/null", O_RDONLY);
        int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        const char *what = "open the log";
        if (devnull < 0 || log < 0)
            goto fail;
        if (ra->active && fchown(log, ra->uid, ra->gid) < 0)
            goto fail;
        dup2(devnull, 0);
        dup2(log, 1);
        dup2(log, 2);
        what = "switch to the server account";
        if (rh_runas_drop(ra) < 0)
            goto fail;
        what = "execute";
        execv(argv[0], argv);
    fail:;
        int e = errno;
        char msg[512];
        int n = snprintf(msg, sizeof msg, "cannot %s for %s: %s", what, argv[0], strerror(e));
        if (write(p[1], msg, (size_t)n) < 0) {
            /* nothing more to do */
        }
        _exit(127);
    }
    close(p[1]);
    char msg[512];
    ssize_t n;
    while ((n = read(p[0], msg, sizeof msg - 1)) < 0 && errno == EINTR)
        ;
    close(p[0]);
    if (n > 0) {
        msg[n] = '\0';
        rh_wait_child(pid);
        rh_err_set(err, "%s", msg);
        return -1;
    }
    return pid;
}

pid_t rh_read_postmaster_pid(const char *datadir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/postmaster.pid", datadir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long pid = 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    return (pid_t)pid;
}

/*
 * Read /proc/PID/stat into buf and return what follows the command name: comm may hold spaces
 * and parentheses, so fields are counted after the last ')'. NULL if there is no such process.
 */
static char *proc_stat_fields(pid_t pid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p + 2 : NULL;
}

unsigned long long rh_proc_starttime(pid_t pid)
{
    char line[2048];
    char *p = proc_stat_fields(pid, line, sizeof line);
    if (!p)
        return 0;
    /* p is at field 3 (state); the start time is field 22. */
    int field = 3;
    char *save = NULL;
    for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++)
        if (field == 22)
            return strtoull(tok, NULL, 10);
    return 0;
}

int rh_proc_alive(pid_t pid)
{
    if (pid <= 0)
        return 0;
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 0;
    char line[2048];
    char *p = proc_stat_fields(pid, line, sizeof line);
    return p && *p != 'Z' && *p != 'X';
}

void rh_stop_foreign_server(pid_t pid, int timeout_ms)
{
    if (pid <= 0 || !rh_proc_alive(pid))
        return;
    kill(pid, SIGQUIT);
    long deadline = rh_now_us() + (long)timeout_ms * 1000;
    while (rh_proc_alive(pid)) {
        /* Our own child must be reaped here, or it stays a zombie that looks alive to kill(0). */
        waitpid(pid, NULL, WNOHANG);
        if (rh_now_us() > deadline) {
            kill(pid, SIGKILL);
            deadline = rh_now_us() + 2000000;
            timeout_ms = -1;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        if (timeout_ms < 0 && rh_now_us() > deadline)
            break;
    }
}
