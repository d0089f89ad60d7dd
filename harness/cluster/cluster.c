/*
 * cluster.c — one throwaway cluster: copy the template, start postgres on a private unix socket,
 * wait until it answers, and stop + delete it (see cluster.h).
 */
#include "cluster/internal.h"

#include <assert.h>

#include "util/fs.h"
#include "util/pgenv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PORT "5432"
#define ADMIN "postgres"      /* the superuser: rehearse's own connection */
#define MIGRATOR "migrator"   /* the role the user's SQL runs as, unless --superuser */
#define READY_TIMEOUT_US (60L * 1000000L)

struct rh_cluster {
    char id[64];
    char *dir;       /* private directory, also the socket directory */
    char *datadir;
    char *log;
    char *conninfo;  /* the user's role, with its password */
    char *url;
    char *ping;      /* no password: PQping needs none */
    const char *user;            /* MIGRATOR, or ADMIN with opts.superuser */
    char admin_pw[RH_PASSWORD_LEN + 1];
    char user_pw[RH_PASSWORD_LEN + 1];
    pid_t pid;       /* the postmaster, our child */
    rh_cluster_record record; /* also in RUN_DIR/ID.owner, where the server account cannot write */
    rh_pgbin bin;
    rh_runas ra;
    char *template;  /* the cache entry the data directory was copied from (named in start-up errors) */
    char **argv;     /* the postgres command line, kept for restarts */
    rh_cluster_timing timing;
};

static const char *user_password(const rh_cluster *c)
{
    return strcmp(c->user, ADMIN) == 0 ? c->admin_pw : c->user_pw;
}

static int next_seq;

/* /dev/shm when it is a writable tmpfs with room: creating ~1000 files there is several times faster than on disk. */
static int shm_usable(void)
{
    struct statvfs sv;
    if (statvfs("/dev/shm", &sv) < 0 || access("/dev/shm", W_OK | X_OK) < 0)
        return 0;
    return (unsigned long long)sv.f_bavail * sv.f_frsize >= 1024ULL * 1024 * 1024;
}

const char *rh_cluster_run_dir(void)
{
    static char dir[4096];
    if (dir[0])
        return dir;
    const char *e = getenv("REHEARSE_RUN_DIR");
    if (e && *e) {
        snprintf(dir, sizeof dir, "%s", e);
        return dir;
    }
    if (shm_usable()) {
        snprintf(dir, sizeof dir, "/dev/shm/rehearse-%d", (int)geteuid());
        return dir;
    }
    e = getenv("TMPDIR");
    /* A unix socket path holds at most 107 bytes: keep the base short. */
    if (!e || !*e || strlen(e) > 48)
        e = "/tmp";
    snprintf(dir, sizeof dir, "%s/rehearse-%d", e, (int)geteuid());
    return dir;
}

static void url_encode(rh_buf *b, const char *v)
{
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '_' || c == '.' || c == '~')
            rh_buf_putc(b, (char)c);
        else
            rh_buf_printf(b, "%%%02X", c);
    }
}

/* libpq keyword/value string; password NULL: none. Every variable rh_pgenv_isolate leaves to libpq
   (PGHOST, PGHOSTADDR, PGPORT, PGUSER, PGDATABASE) is overridden here: hostaddr='' is "none". */
static char *conninfo_for(const rh_cluster *c, const char *dbname, const char *user, const char *password)
{
    rh_buf b;
    rh_buf_init(&b);
    rh_buf_puts(&b, "host=");
    rh_conninfo_quote(&b, c->dir);
    rh_buf_puts(&b, " hostaddr='' port=" PORT " user=");
    rh_conninfo_quote(&b, user);
    if (password) {
        rh_buf_puts(&b, " password=");
        rh_conninfo_quote(&b, password);
    }
    rh_buf_puts(&b, " dbname=");
    rh_conninfo_quote(&b, dbname ? dbname : "postgres");
    char *s = rh_buf_steal(&b);
    rh_buf_free(&b);
    return s;
}

char *rh_cluster_conninfo_db(const rh_cluster *c, const char *dbname)
{
    return conninfo_for(c, dbname, c->user, user_password(c));
}

static char *make_url(const rh_cluster *c)
{
    rh_buf b;
    rh_buf_init(&b);
    rh_buf_printf(&b, "postgresql://%s:%s@localhost:" PORT "/postgres?host=", c->user, user_password(c));
    url_encode(&b, c->dir);
    char *s = rh_buf_steal(&b);
    rh_buf_free(&b);
    return s;
}

static void cluster_free(rh_cluster *c)
{
    if (!c)
        return;
    free(c->dir);
    free(c->datadir);
    free(c->log);
    free(c->conninfo);
    free(c->url);
    free(c->ping);
    free(c->template);
    if (c->argv) {
        for (char **a = c->argv; *a; a++)
            free(*a);
        free(c->argv);
    }
    free(c);
}

/*
 * The postgres command line: private socket, no TCP, fsync off (a throwaway cluster need not
 * survive an OS crash). synchronous_commit stays on: with fsync off it costs one write() per
 * commit, and it keeps committed data across the "restart" fault (an immediate shutdown), as a
 * production server would.
 */
static char **server_argv(const rh_cluster *c, const rh_cluster_opts *opts)
{
    static const char *const fixed[] = {
        "listen_addresses=", "port=" PORT, "fsync=off", "full_page_writes=off",
        "synchronous_commit=on", "shared_buffers=16MB", "max_connections=50", "autovacuum=off",
        "wal_level=minimal", "max_wal_senders=0", "jit=off", "logging_collector=off",
        "max_wal_size=256MB", "checkpoint_timeout=1h", "log_min_messages=warning",
        "dynamic_shared_memory_type=mmap",
    };
    size_t nfixed = sizeof fixed / sizeof fixed[0], nextra = 0;
    if (opts && opts->settings)
        while (opts->settings[nextra])
            nextra++;
    char **argv = rh_xcalloc(6 + 2 * (nfixed + nextra) + 1, sizeof *argv);
    size_t i = 0;
    argv[i++] = rh_xasprintf("%s/postgres", c->bin.bindir);
    argv[i++] = rh_xstrdup("-D");
    argv[i++] = rh_xstrdup(c->datadir);
    argv[i++] = rh_xstrdup("-k");
    argv[i++] = rh_xstrdup(c->dir);
    for (size_t k = 0; k < nfixed; k++) {
        argv[i++] = rh_xstrdup("-c");
        argv[i++] = rh_xstrdup(fixed[k]);
    }
    for (size_t k = 0; k < nextra; k++) {
        argv[i++] = rh_xstrdup("-c");
        argv[i++] = rh_xstrdup(opts->settings[k]);
    }
    argv[i] = NULL;
    return argv;
}

void rh_cluster_log_tail(const rh_cluster *c, rh_buf *out, int lines)
{
    char *data = NULL;
    size_t len = 0;
    rh_err ignored;
    /* the end of the log is enough, whatever its size (rh_fs_read stops at 16 MiB) */
    if (!c || rh_fs_read_tail(c->log, (size_t)256 << 10, &data, &len, &ignored) < 0)
        return;
    size_t start = len;
    int seen = 0;
    while (start > 0) {
        if (data[start - 1] == '\n' && start != len && ++seen >= lines)
            break;
        start--;
    }
    rh_buf_append(out, data + start, len - start);
    free(data);
}

static void err_with_log(rh_err *err, const rh_cluster *c)
{
    if (c->template) { /* a damaged cache would fail every run: say where the data came from */
        size_t used = strlen(err->msg);
        snprintf(err->msg + used, sizeof err->msg - used,
                 "\n(the data directory is a copy of the cached template %s; if the log below says it is damaged, "
                 "delete that folder and rehearse builds it again)",
                 c->template);
    }
    rh_buf tail;
    rh_buf_init(&tail);
    rh_cluster_log_tail(c, &tail, 15);
    if (tail.len) {
        size_t used = strlen(err->msg);
        snprintf(err->msg + used, sizeof err->msg - used, "\n--- server log %s (last lines) ---\n%s",
                 c->log, tail.data);
    }
    rh_buf_free(&tail);
}

/* Immediate shutdown of our own child, and reap it. */
/* Wait for our server after its SIGQUIT (SIGKILL after 10 s). */
static void wait_server(rh_cluster *c)
{
    if (c->pid <= 0)
        return;
    long deadline = rh_now_us() + 10L * 1000000L;
    for (;;) {
        pid_t w = waitpid(c->pid, NULL, WNOHANG);
        if (w == c->pid || (w < 0 && errno == ECHILD))
            break;
        if (rh_now_us() > deadline) {
            kill(c->pid, SIGKILL);
            rh_wait_child(c->pid);
            break;
        }
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
    c->pid = 0;
}

/* Immediate shutdown of our server (c->pid is our own child, not reaped yet: no other process can have its pid). */
static void shutdown_server(rh_cluster *c)
{
    if (c->pid <= 0)
        return;
    kill(c->pid, SIGQUIT);
    wait_server(c);
}

/*
 * Between fork and exec of the server: record who it is (pid, start time, uid, executable) in the
 * cluster's record and with the watchdog, the only places clean-up takes a pid to signal from.
 */
static int announce_server(pid_t pid, void *ctx, rh_err *err)
{
    rh_cluster *c = ctx;
    if (rh_proc_ref_take(&c->record.server, pid, c->ra.active ? c->ra.uid : geteuid(), c->argv[0]) < 0)
        return rh_err_set(err, "the server process %d of cluster %s vanished before it started", (int)pid, c->id);
    if (rh_record_write(c->dir, &c->record, err) < 0)
        return -1;
    return rh_watchdog_add(&c->record.server, c->dir, err);
}

/* What our postmaster's postmaster.pid says: its status line (8th, PostgreSQL >= 10) reads "ready" once it
   accepts connections; the file of another process (its first line, the pid) does not count. */
enum { PM_STARTING, PM_READY, PM_UNREADABLE };

static int pidfile_status(const rh_cluster *c)
{
    char *path = rh_xasprintf("%s/postmaster.pid", c->datadir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return errno == ENOENT ? PM_STARTING : PM_UNREADABLE;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return PM_STARTING;
    buf[n] = '\0';
    char *end;
    if (strtol(buf, &end, 10) != (long)c->pid || *end != '\n')
        return PM_STARTING;
    const char *line = buf;
    for (int i = 1; i < 8 && line; i++)
        if ((line = strchr(line, '\n')))
            line++;
    return line && strncmp(line, "ready", 5) == 0 ? PM_READY : PM_STARTING;
}

/*
 * Exec postgres and wait until it accepts connections: until its postmaster.pid says "ready", as
 * pg_ctl -w waits, read every millisecond. A PQping would fork a backend per attempt (and one more
 * for each "the database system is starting up" refusal before); where the file cannot be read (a
 * server account's folder we may not read) PQping every 2 ms decides instead.
 */
static int launch(rh_cluster *c, rh_err *err)
{
    long t0 = rh_now_us();
    c->pid = rh_spawn_announced(c->argv, &c->ra, c->log, announce_server, c, err);
    if (c->pid < 0) {
        c->pid = 0;
        return rh_err_prefix(err, "cannot start the server of cluster %s", c->id);
    }
    struct timespec pause = {0, 1000000};
    int by_ping = 0;
    for (;;) {
        PGPing ping = PQPING_NO_RESPONSE;
        if (!by_ping) {
            int st = pidfile_status(c);
            if (st == PM_READY)
                break;
            by_ping = st == PM_UNREADABLE;
        }
        if (by_ping && (ping = PQping(c->ping)) == PQPING_OK)
            break;
        int status;
        pid_t w = waitpid(c->pid, &status, WNOHANG);
        if (w == c->pid) {
            c->pid = 0;
            rh_err_set(err, "the server of cluster %s exited during start-up (%s %d)", c->id,
                       WIFEXITED(status) ? "exit code" : "signal",
                       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            err_with_log(err, c);
            return -1;
        }
        if (ping == PQPING_NO_ATTEMPT) {
            rh_err_set(err, "cannot connect to cluster %s: bad connection parameters %s", c->id, c->ping);
            return -1;
        }
        if (rh_now_us() - t0 > READY_TIMEOUT_US) {
            rh_err_set(err, "the server of cluster %s did not accept connections within %ld s", c->id,
                       READY_TIMEOUT_US / 1000000);
            err_with_log(err, c);
            return -1;
        }
        if (by_ping)
            pause.tv_nsec = 2000000;
        nanosleep(&pause, NULL);
    }
    c->timing.ready_us = rh_now_us() - t0;
    return 0;
}

static const rh_pgbin *cached_pgbin(const char *override, const char *want, const char *from, rh_err *err)
{
    /* `postgres --version` is a process start: do it once per process, --pg-bin and --pg value. */
    static rh_pgbin bin;
    static char key[4200];
    static int have;
    char k[4200];
    snprintf(k, sizeof k, "%s\n%s\n%s", override ? override : "", want ? want : "",
             getenv("REHEARSE_PG") ? getenv("REHEARSE_PG") : "");
    if (have && strcmp(key, k) == 0)
        return &bin;
    if (rh_pgbin_find_version_from(&bin, override, want, from, err) < 0)
        return NULL;
    snprintf(key, sizeof key, "%s", k);
    have = 1;
    return &bin;
}

const rh_pgbin *rh_cluster_pgbin_for(const rh_cluster_opts *opts, rh_err *err)
{
    return cached_pgbin(opts ? opts->pg_bin : NULL, opts ? opts->pg_version : NULL, opts ? opts->pg_version_from : NULL,
                        err);
}

void (*rh_cluster_after_copy_hook)(const char *entry);

/* What the server deletes at every start (the relation cache's init files: RelationCacheInitFileRemove, even
   after a clean shutdown): not copied, so that nothing of the copy still running can race with it. */
static int deleted_at_start(const char *folder, const char *name)
{
    (void)folder;
    return strncmp(name, "pg_internal.init", strlen("pg_internal.init")) == 0;
}

/*
 * Which databases' files are copied while the server starts (rh_fs_copy_filter.later): every database's
 * (base/OID). Nothing of the server opens them before someone connects: a start after a clean shutdown
 * (every cache entry's, template or state) runs no recovery, and postgres 15 reads such a folder only to
 * list it (temporary files, which a clean shutdown leaves none of) and to delete its pg_internal.init
 * (not copied: deleted_at_start); the start is awaited through postmaster.pid, not a connection;
 * autovacuum is off; and a state never comes from a superuser's run (nothing preloaded, no subscription
 * worker). Stage 1, initdb's databases (OID < 16384, FirstNormalObjectId: template1, template0,
 * postgres), is awaited before the passwords are set (in `postgres`); stage 2, those a state added
 * (check's two), before rh_cluster_start returns.
 */
static int database_stage(const char *folder)
{
    if (strncmp(folder, "base/", 5) != 0)
        return 0;
    const char *oid = folder + 5;
    size_t n = strspn(oid, "0123456789");
    if (n == 0 || n > 10 || oid[n] != '\0')
        return 0;
    return strtoul(oid, NULL, 10) >= 16384 ? 2 : 1;
}

/* The copy of the databases still running (copy_data) and the states' lock it holds. */
typedef struct copy_rest {
    rh_fs_copy *later;
    int lock;
} copy_rest;

/* Wait for the rest of the copy, then release the lock: nothing of the entry is read after this. */
static int copy_finish(copy_rest *r, const char *entry, rh_err *err)
{
    int rc = rh_fs_copy_finish(r->later, err);
    r->later = NULL;
    if (r->lock >= 0)
        close(r->lock);
    r->lock = -1;
    if (entry && rh_cluster_after_copy_hook) /* tests: the entry pruned right after the copy */
        rh_cluster_after_copy_hook(entry);
    return rc;
}

/*
 * The data directory a cluster starts from, and the bootstrap password that goes with it: a deployed
 * state's (both under the states' shared lock: a prune may delete the entry as soon as it is released)
 * or the template's. The databases may still be copying on return (rest): copy_finish waits.
 */
static int copy_data(rh_cluster *c, const rh_cluster_opts *opts, const char *entry, char secret[RH_PASSWORD_LEN + 1],
                     copy_rest *rest, rh_err *err)
{
    rest->later = NULL;
    rest->lock = -1;
    if (opts && opts->state) {
        if ((rest->lock = rh_state_lock_shared(opts, err)) < 0)
            return -1;
        char *m = rh_xasprintf("%s/REHEARSE_STATE", entry);
        int there = rh_fs_exists(m);
        free(m);
        if (!there) { /* pruned between lookup and now */
            close(rest->lock);
            rest->lock = -1;
            return rh_err_set(err, "the cached state %s was removed before it could be used", entry);
        }
    }
    /* extra settings could preload a library whose worker reads every database at start: all copied first */
    int overlap = !(opts && opts->settings && opts->settings[0]);
    rh_fs_copy_filter filter = {.later = overlap ? database_stage : NULL, .skip = deleted_at_start};
    char *tdata = rh_xasprintf("%s/data", entry);
    int rc = rh_fs_copytree_start(tdata, c->datadir, c->ra.active ? c->ra.uid : (uid_t)-1,
                                  c->ra.active ? c->ra.gid : (gid_t)-1, &filter, &rest->later, err);
    free(tdata);
    if (rc == 0)
        rc = rh_template_secret(entry, secret, err);
    if (rc < 0 || !rest->later) {
        rh_err e2;
        if (copy_finish(rest, entry, rc < 0 ? &e2 : err) < 0)
            rc = -1;
    }
    return rc;
}

int rh_cluster_start(rh_cluster **out, const rh_cluster_opts *opts, rh_err *err)
{
    *out = NULL;
    static int reaped;
    rh_cluster *c = rh_xcalloc(1, sizeof *c);
    long t0 = rh_now_us();

    const rh_pgbin *bin = rh_cluster_pgbin_for(opts, err);
    if (!bin) {
        cluster_free(c);
        return -1;
    }
    c->bin = *bin;
    if (rh_runas_resolve(&c->ra, opts ? opts->run_as : NULL, err) < 0) {
        cluster_free(c);
        return -1;
    }
    if (!reaped) { /* leftovers of killed runs go before we add our own */
        int n;
        rh_err ignored;
        rh_cluster_reap(&n, &ignored);
        reaped = 1;
    }
    const char *run = rh_cluster_run_dir();
    if (rh_run_dir_prepare(run, err) < 0) {
        cluster_free(c);
        return -1;
    }
    /* ... and every folder above it: say so now, not as initdb's "Permission denied" */
    if (rh_runas_check_reach(&c->ra, run, "the run folder", "or choose a REHEARSE_RUN_DIR it can reach", err) < 0) {
        cluster_free(c);
        return -1;
    }
    char *template = NULL;
    if (opts && opts->state)
        template = rh_xstrdup(opts->state);
    else if (rh_template_ensure(&c->bin, opts, &template, err) < 0) {
        cluster_free(c);
        return -1;
    }
    c->timing.template_us = rh_now_us() - t0;
    unsigned rnd = (unsigned)(rh_now_us() ^ (getpid() << 8)) & 0xffff;
    /* atomic: check's isolated paths start clusters from two threads at once (check/isolate.c) */
    snprintf(c->id, sizeof c->id, "%d-%d-%04x", (int)getpid(), __atomic_add_fetch(&next_seq, 1, __ATOMIC_RELAXED), rnd);
    c->dir = rh_xasprintf("%s/%s", run, c->id);
    c->datadir = rh_xasprintf("%s/data", c->dir);
    c->log = rh_xasprintf("%s/server.log", c->dir);
    c->user = opts && opts->superuser ? ADMIN : MIGRATOR;
    rh_random_password(c->admin_pw);
    rh_random_password(c->user_pw);
    c->conninfo = rh_cluster_conninfo_db(c, NULL);
    c->url = make_url(c);
    c->ping = conninfo_for(c, NULL, ADMIN, NULL);

    /* The server's socket lives in the cluster folder: sun_path holds 107 bytes. */
    if (strlen(c->dir) + strlen("/.s.PGSQL.5432") > 107) {
        rh_err_set(err, "the cluster folder %s is too long for a unix socket path (at most %zu bytes for the run "
                   "folder %s): choose a shorter REHEARSE_RUN_DIR",
                   c->dir, 107 - strlen("/.s.PGSQL.5432") - strlen(c->id) - 1, run);
        free(template);
        cluster_free(c);
        return -1;
    }
    /* Known to the watchdog before it exists: a kill while the template is copied leaves nothing. */
    if (rh_watchdog_add(NULL, c->dir, err) < 0) {
        free(template);
        cluster_free(c);
        return -1;
    }
    /* Who owns this cluster, in a file the server account cannot write: lets a later rehearse
       tell a leftover of a dead run from a live one. */
    c->record.owner_pid = getpid();
    c->record.owner_start = rh_proc_starttime(getpid());
    if (rh_record_write(c->dir, &c->record, err) < 0) {
        rh_err ignored;
        rh_watchdog_forget(c->dir, &ignored);
        free(template);
        cluster_free(c);
        return -1;
    }
    if (mkdir(c->dir, 0700) < 0) {
        rh_err_errno(err, "cannot create the cluster directory %s", c->dir);
        rh_err ignored;
        rh_record_remove(c->dir);
        rh_watchdog_forget(c->dir, &ignored);
        free(template);
        cluster_free(c);
        return -1;
    }
    int rc = 0;
    if (c->ra.active && chown(c->dir, c->ra.uid, c->ra.gid) < 0)
        rc = rh_err_errno(err, "cannot give %s to %s", c->dir, c->ra.name);
    long tc = rh_now_us();
    char secret[RH_PASSWORD_LEN + 1] = "";
    copy_rest rest = {.later = NULL, .lock = -1};
    if (rc == 0)
        rc = copy_data(c, opts, template, secret, &rest, err);
    c->timing.copy_us = rh_now_us() - tc;
    c->template = template;
    if (rc == 0) {
        c->argv = server_argv(c, opts);
        rc = launch(c, err);
    }
    if (rc == 0 && rest.later) { /* initdb's databases: the passwords are set in `postgres` */
        long tw = rh_now_us();
        if (rh_fs_copy_wait(rest.later, 1, err) < 0)
            rc = rh_err_prefix(err, "cluster %s (a copy of the cached %s %s)", c->id,
                               opts && opts->state ? "state" : "template", template);
        c->timing.copy_wait_us = rh_now_us() - tw;
    }
    if (rc == 0) { /* this cluster's own passwords, before anything else can log in with the template's */
        long ta = rh_now_us();
        char *boot = conninfo_for(c, NULL, ADMIN, secret);
        rc = rh_auth_setup(boot, ADMIN, c->admin_pw, strcmp(c->user, ADMIN) ? c->user : NULL, c->user_pw,
                           opts && opts->state, err);
        if (rc < 0)
            rh_err_prefix(err, "cluster %s (a copy of the cached %s %s)", c->id, opts && opts->state ? "state" : "template",
                          c->template);
        free(boot);
        c->timing.auth_us = rh_now_us() - ta;
    }
    if (rest.later) { /* the rest (a state's own databases), copied meanwhile: whole before anyone can connect */
        long tw = rh_now_us();
        rh_err e2;
        if (copy_finish(&rest, template, rc < 0 ? &e2 : err) < 0 && rc == 0)
            rc = rh_err_prefix(err, "cluster %s (a copy of the cached %s %s)", c->id,
                               opts && opts->state ? "state" : "template", template);
        c->timing.copy_wait_us += rh_now_us() - tw;
        c->timing.copy_us += c->timing.copy_wait_us; /* the copy's time not hidden behind the start */
    }
    assert(!rest.later && rest.lock < 0);
    if (rc < 0) {
        rh_err saved = *err;
        rh_err ignored;
        rh_cluster_stop(c, &ignored);
        *err = saved;
        return -1;
    }
    *out = c;
    return 0;
}

int rh_cluster_stop(rh_cluster *c, rh_err *err)
{
    if (!c)
        return 0;
    if (c->pid > 0 && c->datadir) {
        /* The databases' files go while the server exits: in an immediate shutdown every server process
           exits at once and writes none of them (no checkpoint, no buffer written back), so the removal
           need not wait for the postmaster's exit. What is left, or what this pass could not remove, goes
           after the wait, below: the removal that counts. */
        kill(c->pid, SIGQUIT);
        char *base = rh_xasprintf("%s/base", c->datadir);
        rh_err ignored;
        rh_fs_rmtree(base, &ignored);
        free(base);
        wait_server(c);
    }
    shutdown_server(c);
    int rc = 0;
    if (c->dir) {
        rc = rh_fs_rmtree(c->dir, err);
        rh_record_remove(c->dir);
        /* A dead watchdog is an error to report even though the cluster is gone now. */
        rh_err lost;
        if (rh_watchdog_forget(c->dir, &lost) < 0 && rc == 0) {
            *err = lost;
            rc = -1;
        }
    }
    cluster_free(c);
    return rc;
}

int rh_cluster_shutdown_clean(rh_cluster *c, rh_err *err)
{
    assert(c && c->pid > 0);
    /* SIGINT is PostgreSQL's fast shutdown; c->pid is our own child */
    kill(c->pid, SIGINT);
    long deadline = rh_now_us() + 60L * 1000000L;
    for (;;) {
        int status;
        pid_t w = waitpid(c->pid, &status, WNOHANG);
        if (w == c->pid) {
            c->pid = 0;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return rh_err_set(err, "the server of cluster %s did not shut down cleanly", c->id);
            return 0;
        }
        if (w < 0 && errno != EINTR) {
            c->pid = 0;
            return rh_err_errno(err, "waiting for the server of cluster %s", c->id);
        }
        if (rh_now_us() > deadline) {
            shutdown_server(c);
            return rh_err_set(err, "the server of cluster %s did not shut down within 60 s", c->id);
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

const char *rh_cluster_datadir(const rh_cluster *c) { return c->datadir; }
const char *rh_cluster_admin_password(const rh_cluster *c) { return c->admin_pw; }

int rh_cluster_open_to_any_client(rh_cluster *c, rh_err *err)
{
    assert(c);
    PGconn *admin = rh_cluster_connect_admin(c, NULL, err);
    if (!admin)
        return -1;
    const char *roles[] = {ADMIN, c->user}, *pws[] = {c->admin_pw, c->user_pw};
    int rc = rh_auth_standard_verifiers(admin, roles, pws, strcmp(c->user, ADMIN) ? 2 : 1, err);
    PQfinish(admin);
    return rc;
}

void rh_cluster_keep(rh_cluster *c)
{
    if (!c)
        return;
    /* outside the cluster folder, 0600 and rehearse's: the server's account must not read or replace it */
    rh_err ignored;
    /* best effort: libpq clients get in with the 1-iteration secrets too */
    (void)rh_cluster_open_to_any_client(c, &ignored);
    char *ppath = rh_record_pgpass_path(c->dir);
    char *text = rh_xasprintf("%s:" PORT ":*:%s:%s\n%s:" PORT ":*:" ADMIN ":%s\n", c->dir, c->user, user_password(c), c->dir,
                        c->admin_pw);
    rh_fs_write(ppath, text, strlen(text), 0600, &ignored);
    free(ppath);
    free(text);
    c->record.kept = 1;
    rh_record_write(c->dir, &c->record, &ignored);
    rh_watchdog_forget(c->dir, &ignored);
    cluster_free(c);
}

int rh_cluster_restart(rh_cluster *c, rh_err *err)
{
    /* the watchdog keeps the folder listed: launch() gives it the new server */
    shutdown_server(c);
    return launch(c, err);
}

void (*rh_cluster_connect_hook)(const char *dbname, const char *user);

static PGconn *connect_as(const rh_cluster *c, const char *dbname, const char *user, const char *password,
                          const char *extra, rh_err *err)
{
    if (rh_cluster_connect_hook) /* tests: which connections a command opens */
        rh_cluster_connect_hook(dbname ? dbname : "postgres", user);
    char *ci = conninfo_for(c, dbname, user, password);
    if (extra) {
        char *with = rh_xasprintf("%s %s", ci, extra);
        free(ci);
        ci = with;
    }
    PGconn *conn = PQconnectdb(ci);
    free(ci);
    if (PQstatus(conn) != CONNECTION_OK) {
        rh_err_set(err, "cannot connect to database %s of cluster %s as %s: %s", dbname ? dbname : "postgres",
                   c->id, user, PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

PGconn *rh_cluster_connect(const rh_cluster *c, const char *dbname, rh_err *err)
{
    return connect_as(c, dbname, c->user, user_password(c), NULL, err);
}

PGconn *rh_cluster_connect_with(const rh_cluster *c, const char *dbname, const char *extra, rh_err *err)
{
    return connect_as(c, dbname, c->user, user_password(c), extra, err);
}

PGconn *rh_cluster_connect_admin(const rh_cluster *c, const char *dbname, rh_err *err)
{
    return connect_as(c, dbname, ADMIN, c->admin_pw, NULL, err);
}

int rh_cluster_create_db(rh_cluster *c, const char *dbname, rh_err *err)
{
    return rh_cluster_copy_db(c, "template0", dbname, err);
}

static int copy_db_owned(rh_cluster *c, const char *from, const char *dbname, const char *owner_role, rh_err *err)
{
    PGconn *conn = rh_cluster_connect_admin(c, NULL, err);
    if (!conn)
        return -1;
    char *ident = PQescapeIdentifier(conn, dbname, strlen(dbname));
    char *tmpl = PQescapeIdentifier(conn, from, strlen(from));
    char *owner = PQescapeIdentifier(conn, owner_role, strlen(owner_role));
    /* FILE_COPY (PostgreSQL 15+; before 15 the only way): the files copied after a checkpoint, which costs
       little with fsync off. 15's default, WAL_LOG, writes every page of the copy to the WAL: 79-123 ms
       against 34-59 ms for the bench's 11 MB database (load 17). The copy holds the same pages. */
    char *sql = rh_xasprintf("CREATE DATABASE %s TEMPLATE %s OWNER %s%s", ident, tmpl, owner,
                             c->bin.major >= 15 ? " STRATEGY FILE_COPY" : "");
    PQfreemem(ident);
    PQfreemem(tmpl);
    PQfreemem(owner);
    PGresult *r = PQexec(conn, sql);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = rh_err_set(err, "cannot create database %s (from %s) in cluster %s: %s", dbname, from, c->id,
                        PQresultErrorMessage(r));
    PQclear(r);
    free(sql);
    PQfinish(conn);
    return rc;
}

int rh_cluster_copy_db(rh_cluster *c, const char *from, const char *dbname, rh_err *err)
{
    return copy_db_owned(c, from, dbname, c->user, err);
}

int rh_cluster_copy_db_private(rh_cluster *c, const char *from, const char *dbname, rh_err *err)
{
    return copy_db_owned(c, from, dbname, ADMIN, err);
}

/* One statement on the superuser's connection to "postgres"; what names the databases in errors. */
static int admin_exec(rh_cluster *c, const char *sql, const char *what, rh_err *err)
{
    PGconn *conn = rh_cluster_connect_admin(c, NULL, err);
    if (!conn)
        return -1;
    PGresult *r = PQexec(conn, sql);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = rh_err_set(err, "cannot %s in cluster %s: %s", what, c->id, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(conn);
    return rc;
}

int rh_cluster_drop_db(rh_cluster *c, const char *dbname, rh_err *err)
{
    PGconn *q = rh_cluster_connect_admin(c, NULL, err); /* only for quoting */
    if (!q)
        return -1;
    char *ident = PQescapeIdentifier(q, dbname, strlen(dbname));
    PQfinish(q);
    char *sql = rh_xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", ident);
    char *what = rh_xasprintf("drop database %s", dbname);
    int rc = admin_exec(c, sql, what, err);
    PQfreemem(ident);
    free(sql);
    free(what);
    return rc;
}

int rh_cluster_hand_over_db(rh_cluster *c, const char *dbname, rh_err *err)
{
    PGconn *q = rh_cluster_connect_admin(c, NULL, err);
    if (!q)
        return -1;
    char *a = PQescapeIdentifier(q, dbname, strlen(dbname));
    char *b = PQescapeIdentifier(q, c->user, strlen(c->user));
    PQfinish(q);
    char *sql = rh_xasprintf("ALTER DATABASE %s OWNER TO %s", a, b);
    char *what = rh_xasprintf("give database %s to %s", dbname, c->user);
    int rc = admin_exec(c, sql, what, err);
    PQfreemem(a);
    PQfreemem(b);
    free(sql);
    free(what);
    return rc;
}

int rh_cluster_rename_db(rh_cluster *c, const char *from, const char *to, rh_err *err)
{
    PGconn *q = rh_cluster_connect_admin(c, NULL, err);
    if (!q)
        return -1;
    char *a = PQescapeIdentifier(q, from, strlen(from));
    char *b = PQescapeIdentifier(q, to, strlen(to));
    PQfinish(q);
    char *sql = rh_xasprintf("ALTER DATABASE %s RENAME TO %s", a, b);
    char *what = rh_xasprintf("rename database %s to %s", from, to);
    int rc = admin_exec(c, sql, what, err);
    PQfreemem(a);
    PQfreemem(b);
    free(sql);
    free(what);
    return rc;
}

/* Single-quote for a POSIX shell. */
static void sh_quote(rh_buf *b, const char *s)
{
    rh_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            rh_buf_puts(b, "'\\''");
        else
            rh_buf_putc(b, *s);
    }
    rh_buf_putc(b, '\'');
}

static void psql_line(rh_buf *b, const char *dir, const char *user)
{
    rh_buf_puts(b, "PGPASSFILE=");
    char *pgpass = rh_record_pgpass_path(dir);
    sh_quote(b, pgpass);
    free(pgpass);
    rh_buf_puts(b, " psql -h ");
    sh_quote(b, dir);
    rh_buf_puts(b, " -p " PORT " -U ");
    sh_quote(b, user);
    rh_buf_puts(b, " postgres");
}

char *rh_cluster_kept_psql_command(const char *dir)
{
    char *path = rh_record_pgpass_path(dir), *text = NULL;
    rh_err ignored;
    char *cmd = NULL;
    /* the first line is the user's role: DIR:PORT:*:USER:PASSWORD */
    if (rh_fs_read(path, &text, NULL, &ignored) == 0) {
        char *user = text;
        for (int field = 0; field < 3 && user; field++)
            user = strchr(user + (field ? 1 : 0), ':');
        char *end = user ? strchr(user + 1, ':') : NULL;
        if (end) {
            *end = 0;
            rh_buf b;
            rh_buf_init(&b);
            psql_line(&b, dir, user + 1);
            cmd = rh_buf_steal(&b);
            rh_buf_free(&b);
        }
    }
    free(text);
    free(path);
    return cmd;
}

char *rh_cluster_psql_command(const rh_cluster *c)
{
    rh_buf b;
    rh_buf_init(&b);
    psql_line(&b, c->dir, c->user);
    char *s = rh_buf_steal(&b);
    rh_buf_free(&b);
    return s;
}

const char *rh_cluster_conninfo(const rh_cluster *c) { return c->conninfo; }
const char *rh_cluster_url(const rh_cluster *c) { return c->url; }
const char *rh_cluster_id(const rh_cluster *c) { return c->id; }
const char *rh_cluster_user(const rh_cluster *c) { return c->user; }
int rh_cluster_is_superuser(const rh_cluster *c) { return strcmp(c->user, ADMIN) == 0; }
const char *rh_cluster_dir(const rh_cluster *c) { return c->dir; }
pid_t rh_cluster_pid(const rh_cluster *c) { return c->pid; }
double rh_cluster_cpu_s(const rh_cluster *c) { return c->pid > 0 ? rh_proc_tree_cpu_s(c->pid) : -1; }
const rh_pgbin *rh_cluster_pgbin(const rh_cluster *c) { return &c->bin; }
rh_cluster_timing rh_cluster_last_timing(const rh_cluster *c) { return c->timing; }
