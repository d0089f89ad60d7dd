/*
 * spawn.c — starting and waiting for the PostgreSQL programs (no shell involved anywhere), and
 * stopping servers that are not our children: only after checking that the pid is still the process
 * rehearse started (start time, uid, executable), or, for a pid read from a file the server account
 * can write, only from a process running as that account.
 */
#include "cluster/internal.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
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

static pid_t spawn(char *const argv[], const rh_runas *ra, const char *log_path, rh_announce_fn announce, void *ctx,
                   int die_with_us, rh_err *err);

pid_t rh_spawn_detached(char *const argv[], const rh_runas *ra, const char *log_path, rh_err *err)
{
    /* a helper (initdb, pg_ctl) must not run on in a folder the watchdog is deleting */
    return spawn(argv, ra, log_path, NULL, NULL, 1, err);
}

pid_t rh_spawn_announced(char *const argv[], const rh_runas *ra, const char *log_path, rh_announce_fn announce,
                         void *ctx, rh_err *err)
{
    /* a server may be kept (--keep): it outlives rehearse, and the watchdog stops it otherwise */
    return spawn(argv, ra, log_path, announce, ctx, 0, err);
}

static pid_t spawn(char *const argv[], const rh_runas *ra, const char *log_path, rh_announce_fn announce, void *ctx,
                   int die_with_us, rh_err *err)
{
    pid_t parent = getpid();
    /*
     * The child reports exec failures through a CLOEXEC pipe, so they surface here and not only in
     * the log. It waits for a byte on a second pipe before it executes argv: meanwhile `announce`
     * records the pid (where rehearse's clean-up finds it); if rehearse dies before, the child
     * reads end-of-file and exits, so no server ever runs unrecorded.
     */
    /*
     * The log is made here, while rehearse runs: a child opening it (O_CREAT) after rehearse was killed
     * made the file in a cluster folder the watchdog was deleting ("Directory not empty": a folder of
     * the server account's left behind). Before exec the child creates nothing.
     */
    int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log < 0)
        return rh_err_errno(err, "cannot open the log %s", log_path);
    if (ra->active && fchown(log, ra->uid, ra->gid) < 0) {
        rh_err_errno(err, "cannot give the log %s to %s", log_path, ra->name);
        close(log);
        return -1;
    }
    int p[2], go[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        close(log);
        return rh_err_errno(err, "pipe");
    }
    if (pipe2(go, O_CLOEXEC) < 0) {
        close(log);
        close(p[0]);
        close(p[1]);
        return rh_err_errno(err, "pipe");
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(log);
        close(p[0]);
        close(p[1]);
        close(go[0]);
        close(go[1]);
        rh_err_errno(err, "fork");
        return -1;
    }
    if (pid == 0) {
        close(go[1]);
        setsid();
        /*
         * Nothing rehearse's caller left open reaches the program: a kept server outlives rehearse, and
         * holding the caller's pipe (a CI step's, a test's) would keep the caller waiting for end-of-file.
         * p[1] and go[0] are still used before exec; CLOEXEC closes them with the rest.
         */
        if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
            for (int fd = 3; fd < 1024; fd++)
                fcntl(fd, F_SETFD, FD_CLOEXEC);
        /* Signal dispositions set by rehearse must not leak into the server. */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int devnull = open("/dev/null", O_RDONLY);
        int stage = 0; /* 0 open /dev/null, 1 switch accounts, 2 execute */
        if (devnull < 0)
            goto fail;
        dup2(devnull, 0);
        dup2(log, 1);
        dup2(log, 2);
        stage = 1;
        if (rh_runas_drop(ra) < 0)
            goto fail;
        /* after the account switch, which clears it; and rehearse may have died in between */
        if (die_with_us && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent))
            _exit(127);
        char byte;
        ssize_t got;
        while ((got = read(go[0], &byte, 1)) < 0 && errno == EINTR)
            ;
        if (got != 1)
            _exit(127); /* rehearse is gone, or did not record us: do not run */
        stage = 2;
        execv(argv[0], argv);
    fail:;
        int e = errno;
        char msg[512];
        /* "errno|message": the parent explains an EACCES from the account's point of view */
        int n = stage == 0 ? snprintf(msg, sizeof msg, "%d|cannot open /dev/null: %s", e, strerror(e))
                : stage == 1 ? snprintf(msg, sizeof msg, "%d|cannot switch to the server account %s for %s: %s", e,
                                        ra->name, argv[0], strerror(e))
                             : snprintf(msg, sizeof msg, "%d|cannot execute %s%s%s: %s", e, argv[0],
                                        ra->active ? " as the server account " : "", ra->active ? ra->name : "",
                                        strerror(e));
        if (n >= (int)sizeof msg)
            n = (int)sizeof msg - 1;
        if (write(p[1], msg, (size_t)n) < 0) {
            /* nothing more to do */
        }
        _exit(127);
    }
    close(log);
    close(p[1]);
    close(go[0]);
    int ok = !announce || announce(pid, ctx, err) == 0;
    if (ok) {
        while (write(go[1], "x", 1) < 0 && errno == EINTR)
            ;
    }
    close(go[1]);
    char msg[512];
    ssize_t n;
    while ((n = read(p[0], msg, sizeof msg - 1)) < 0 && errno == EINTR)
        ;
    close(p[0]);
    if (!ok) {
        rh_wait_child(pid); /* it read end-of-file and exits without running argv */
        return -1;
    }
    if (n > 0) {
        msg[n] = '\0';
        rh_wait_child(pid);
        char *text = strchr(msg, '|');
        int e = atoi(msg);
        /* the account cannot reach the program (a folder on the way it may not search): say so */
        if (e == EACCES && rh_runas_check_reach(ra, argv[0], "cannot run", "or point --pg-bin at binaries it can reach",
                                                err) < 0)
            return -1;
        rh_err_set(err, "%s", text ? text + 1 : msg);
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

/* utime + stime + cutime + cstime of pid from /proc/PID/stat (its state and parent too); -1 if not there. */
static long long proc_cpu_ticks(pid_t pid, char *state, int *ppid)
{
    char line[2048];
    char *p = proc_stat_fields(pid, line, sizeof line);
    unsigned long long ut, st, cut, cst;
    /* p is at field 3 (state); the parent is field 4; utime, stime, cutime, cstime are fields 14 to 17 */
    if (!p || sscanf(p, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", state, ppid, &ut, &st, &cut,
                     &cst) != 6)
        return -1;
    return (long long)(ut + st + cut + cst);
}

/*
 * CPU seconds (user + system) of process pid and of its children: its own times, the times of the
 * children it has waited for (cutime, cstime: a postmaster reaps its backends and parallel workers),
 * and the times of its children alive now. A child reaped while /proc is scanned would be missed
 * (read neither as a child nor in pid's times read before), and a child that has exited but is not
 * reaped yet shows no times: the scan is done again (for up to 2 s) until pid's times are the same
 * before and after it and no child is waiting to be reaped. -1 if pid is not there.
 */
double rh_proc_tree_cpu_s(pid_t pid)
{
    for (int tries = 0;; tries++) {
        char state;
        int ppid;
        long long own = proc_cpu_ticks(pid, &state, &ppid), ticks = own;
        if (own < 0)
            return -1;
        int unreaped = 0;
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            pid_t c = (pid_t)atoi(e->d_name);
            long long t = c > 0 && c != pid ? proc_cpu_ticks(c, &state, &ppid) : -1;
            if (t < 0 || ppid != pid)
                continue;
            ticks += t;
            unreaped |= state == 'Z' || state == 'X';
        }
        if (d)
            closedir(d);
        if ((!unreaped && proc_cpu_ticks(pid, &state, &ppid) == own) || tries >= 200)
            return (double)ticks / (double)sysconf(_SC_CLK_TCK);
        usleep(10000);
    }
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

int rh_proc_ref_take(rh_proc_ref *r, pid_t pid, uid_t uid, const char *exe)
{
    memset(r, 0, sizeof *r);
    r->pid = pid;
    r->uid = uid;
    r->start = rh_proc_starttime(pid);
    char real[PATH_MAX];
    if (!realpath(exe, real))
        snprintf(real, sizeof real, "%s", exe);
    snprintf(r->exe, sizeof r->exe, "%s", real);
    return r->start ? 0 : -1;
}

/* The real and effective uid of pid (from /proc/PID/status); -1 if unknown. */
static int proc_uids(pid_t pid, uid_t *ruid, uid_t *euid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int rc = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned r, e;
        if (sscanf(line, "Uid: %u %u", &r, &e) == 2) {
            *ruid = r;
            *euid = e;
            rc = 0;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* The executable of pid; "" if unknown. A binary replaced since (package upgrade) reads "PATH (deleted)". */
static void proc_exe(pid_t pid, char *out, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, out, size - 1);
    out[n > 0 ? n : 0] = '\0';
    char *del = n > 10 ? strstr(out, " (deleted)") : NULL;
    if (del && del[10] == '\0')
        *del = '\0';
}

int rh_proc_matches(const rh_proc_ref *r)
{
    if (r->pid <= 0 || !r->start || !rh_proc_alive(r->pid))
        return 0;
    if (rh_proc_starttime(r->pid) != r->start)
        return 0; /* the pid was recycled */
    uid_t ruid, euid;
    if (proc_uids(r->pid, &ruid, &euid) < 0 || ruid != r->uid || euid != r->uid)
        return 0;
    char exe[PATH_MAX];
    proc_exe(r->pid, exe, sizeof exe);
    return strcmp(exe, r->exe) == 0;
}

/* SIGQUIT, wait up to timeout_ms, then SIGKILL; may_signal is asked before each signal. */
static void stop_loop(pid_t pid, int timeout_ms, int (*may_signal)(const void *), const void *arg)
{
    if (!may_signal(arg))
        return;
    kill(pid, SIGQUIT);
    long deadline = rh_now_us() + (long)timeout_ms * 1000;
    int killed = 0;
    while (rh_proc_alive(pid)) {
        /* Our own child must be reaped here, or it stays a zombie that looks alive to kill(0). */
        waitpid(pid, NULL, WNOHANG);
        if (rh_now_us() > deadline) {
            if (killed)
                break;
            if (may_signal(arg))
                kill(pid, SIGKILL);
            killed = 1;
            deadline = rh_now_us() + 2000000;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static int ref_still_matches(const void *arg)
{
    return rh_proc_matches(arg);
}

void rh_proc_stop(const rh_proc_ref *r, int timeout_ms)
{
    stop_loop(r->pid, timeout_ms, ref_still_matches, r);
}

static int always(const void *arg)
{
    (void)arg;
    return 1;
}

/* A postgres process of uid whose working directory is dir or below (a server chdirs to its data directory;
   a deleted one reads "PATH (deleted)"). */
static int postgres_working_in(pid_t pid, uid_t uid, const char *dir)
{
    uid_t ruid, euid;
    char exe[PATH_MAX], cwd[PATH_MAX], path[64];
    if (proc_uids(pid, &ruid, &euid) < 0 || ruid != uid)
        return 0;
    proc_exe(pid, exe, sizeof exe);
    const char *base = strrchr(exe, '/');
    if (!base || strcmp(base, "/postgres") != 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/cwd", (int)pid);
    ssize_t n = readlink(path, cwd, sizeof cwd - 1);
    if (n <= 0)
        return 0;
    cwd[n] = '\0';
    size_t len = strlen(dir);
    return strncmp(cwd, dir, len) == 0 && (cwd[len] == '/' || cwd[len] == '\0' || cwd[len] == ' ');
}

/* The postmasters to stop for dir: the one in postmaster.pid, and any working in dir (one that
   started after postmaster.pid was read, or whose folder is being deleted). At most max. */
static size_t untrusted_targets(const char *dir, uid_t uid, pid_t *out, size_t max)
{
    size_t n = 0;
    char *data = rh_xasprintf("%s/data", dir);
    pid_t pid = rh_read_postmaster_pid(data);
    free(data);
    if (pid > 0 && rh_proc_alive(pid) && postgres_working_in(pid, uid, dir))
        out[n++] = pid;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && n < max && (e = readdir(d)) != NULL) {
        pid_t p = (pid_t)atoi(e->d_name);
        if (p <= 0 || p == pid || !postgres_working_in(p, uid, dir))
            continue;
        /* a postmaster's children (backends, checkpointer ...) go with it: only signal the postmaster */
        char stat_line[2048];
        char *f = proc_stat_fields(p, stat_line, sizeof stat_line);
        int ppid = 0;
        if (f && sscanf(f, "%*c %d", &ppid) == 1 && ppid > 1 && postgres_working_in((pid_t)ppid, uid, dir))
            continue;
        out[n++] = p;
    }
    if (d)
        closedir(d);
    return n;
}

int rh_stop_untrusted_server(const char *dir, int timeout_ms)
{
    /* The account is the owner of the folder itself: its parent (the run folder) is rehearse's, so
       the server account cannot replace it, and it cannot give a folder to another account. */
    struct stat st;
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return 0;
    char *data = rh_xasprintf("%s/data", dir);
    pid_t planted = rh_read_postmaster_pid(data);
    free(data);
    if (st.st_uid == 0 || (geteuid() != 0 && st.st_uid != geteuid()))
        return planted > 0 && rh_proc_alive(planted) ? -1 : 0; /* never as root, nor anybody else's */
    pid_t targets[64];
    size_t n = untrusted_targets(dir, st.st_uid, targets, 64);
    /* a pid in postmaster.pid that is not a postgres working there is not ours: say so */
    int refused = planted > 0 && rh_proc_alive(planted) && !postgres_working_in(planted, st.st_uid, dir);
    if (n == 0)
        return refused ? -1 : 0;
    if (geteuid() != 0) { /* rehearse runs as the account itself */
        for (size_t i = 0; i < n; i++)
            stop_loop(targets[i], timeout_ms, always, NULL);
        return refused ? -1 : 0;
    }
    fflush(NULL);
    pid_t kid = fork();
    if (kid < 0)
        return -1;
    if (kid == 0) {
        if (setgroups(0, NULL) < 0 || setgid(st.st_gid) < 0 || setuid(st.st_uid) < 0)
            _exit(1);
        assert(getuid() != 0 && geteuid() != 0);
        for (size_t i = 0; i < n; i++)
            stop_loop(targets[i], timeout_ms, always, NULL);
        _exit(0);
    }
    int status = rh_wait_child(kid);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && !refused ? 0 : -1;
}
