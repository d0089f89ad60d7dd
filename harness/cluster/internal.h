/*
 * internal.h — pieces shared by the cluster module's files; not part of its API.
 */
#ifndef RH_CLUSTER_INTERNAL_H
#define RH_CLUSTER_INTERNAL_H

#include <sys/types.h>

#include "cluster/cluster.h"

/* Run argv (argv[0] an absolute path) and capture its stdout (and stderr) into out. Returns exit status or -1. */
int rh_spawn_capture(char *const argv[], rh_buf *out, rh_err *err);

/*
 * Start argv as a child: dropped to ra's account, in a new session (so a terminal's Ctrl-C or a
 * kill of rehearse's process group does not reach it: the watchdog decides), stdin from /dev/null,
 * stdout+stderr appended to log_path. Returns the pid or -1.
 */
pid_t rh_spawn_detached(char *const argv[], const rh_runas *ra, const char *log_path, rh_err *err);

/*
 * rh_spawn_detached, but `announce(pid, ctx, err)` runs after the fork and before the child executes
 * argv (the child waits for it): it records the pid where clean-up will find it. When it fails,
 * the child exits without running argv, and -1 is returned with announce's error.
 */
typedef int (*rh_announce_fn)(pid_t pid, void *ctx, rh_err *err);
pid_t rh_spawn_announced(char *const argv[], const rh_runas *ra, const char *log_path, rh_announce_fn announce,
                         void *ctx, rh_err *err);

/* Wait for a child, retrying on EINTR; returns its wait status. */
int rh_wait_child(pid_t pid);

/* Monotonic clock in microseconds. */
long rh_now_us(void);

/*
 * Template manifests (manifest.c): write the size and time of every file under datadir, and a
 * checksum of the small critical ones, to path; check a data directory against it (1: it matches;
 * 0: why says what differs).
 */
int rh_manifest_write(const char *datadir, const char *path, rh_err *err);
int rh_manifest_check(const char *datadir, const char *path, char *why, size_t whylen);

/* Passwords: RH_PASSWORD_LEN random hex digits (from the OpenSSL random generator). */
#define RH_PASSWORD_LEN 32
void rh_random_password(char out[RH_PASSWORD_LEN + 1]);

/* The SCRAM-SHA-256 secret PostgreSQL stores for a password (one PBKDF2 iteration; see auth.c). Caller frees. */
char *rh_scram_secret(const char *password);

/* The template cache's name for (server version, encoding, locale, template format); caller frees. */
char *rh_template_key(const rh_pgbin *bin, const rh_cluster_opts *opts);
/*
 * A cache entry (an initdb template or a deployed state: data/, manifest, secret, marker) is usable
 * when its marker file, written last, holds expected_marker, it has a secret, and its data/ matches
 * its manifest. 0 with why (may be NULL) saying what is wrong.
 */
int rh_cache_entry_valid(const char *dir, const char *marker_name, const char *expected_marker, char *why,
                         size_t whylen);
/* The cached PostgreSQL binaries for the options (one `postgres --version` per process). */
const rh_pgbin *rh_cluster_pgbin_for(const rh_cluster_opts *opts, rh_err *err);
/* Stop the server with a fast shutdown (a shutdown checkpoint: its data directory needs no recovery). */
int rh_cluster_shutdown_clean(rh_cluster *c, rh_err *err);
const char *rh_cluster_datadir(const rh_cluster *c);
const char *rh_cluster_admin_password(const rh_cluster *c);
/* Tests only: called by rh_state_save after the data is written, before the marker (NULL: nothing). */
extern void (*rh_state_before_marker_hook)(void);
/* Tests: called by a cluster start right after it copied the data of `entry` (a state or template). */
extern void (*rh_cluster_after_copy_hook)(const char *entry);
/* Tests: told of each connection rh_cluster_connect / _connect_admin open (database, role). */
extern void (*rh_cluster_connect_hook)(const char *dbname, const char *user);
/* The folder of deployed states under the cache directory, and its lock (state.c); caller frees. */
char *rh_state_dir(const rh_cluster_opts *opts);
/* Shared flock on the states' lock while a cluster copies an entry (pruning takes it exclusively). -1 on error. */
int rh_state_lock_shared(const rh_cluster_opts *opts, rh_err *err);
/*
 * A caller's file kept with a state (state_file.c): the text with a header holding its SHA-256 and
 * length (caller frees); unwrap: 1 and *text (caller frees) when data is such a file whole, else 0.
 */
char *rh_state_file_wrap(const char *text);
int rh_state_file_unwrap(const char *data, size_t len, char **text);
/* The bootstrap password of a template's superuser (template.c), from its cache entry. */
int rh_template_secret(const char *entry, char out[RH_PASSWORD_LEN + 1], rh_err *err);

/*
 * Log in with the bootstrap conninfo (the template's password) and set the cluster's own: admin's,
 * and, when user is not NULL, create the migration role user with user_pw owning database postgres
 * (user_exists: a deployed state's role, which gets its new password).
 */
int rh_auth_setup(const char *bootstrap_conninfo, const char *admin, const char *admin_pw, const char *user,
                  const char *user_pw, int user_exists, rh_err *err);

/*
 * Re-set the roles' passwords (the same ones) as libpq's standard 4096-iteration SCRAM secrets, on
 * the superuser connection admin: for a cluster handed to the user, whose clients may insist.
 */
int rh_auth_standard_verifiers(PGconn *admin, const char *const roles[], const char *const passwords[], int n,
                               rh_err *err);

typedef struct rh_proc_ref rh_proc_ref;

/*
 * Watchdog bookkeeping (watchdog.c). Both fail (with a message saying so) once the watchdog has
 * died: the caller then cleans up itself, and reports it.
 */
int rh_watchdog_add(const rh_proc_ref *server, const char *dir, rh_err *err); /* server NULL: none yet */
int rh_watchdog_forget(const char *dir, rh_err *err);
pid_t rh_watchdog_pid(void); /* 0 when none was started (tests use it) */

/*
 * A process rehearse started, as it can be recognised later: pid, start time (/proc/PID/stat field
 * 22), uid and executable. Only such a reference, known from rehearse itself (the watchdog socket,
 * a record only rehearse's account can write), is signalled by rehearse's own account.
 */
struct rh_proc_ref {
    pid_t pid;                 /* 0: none */
    unsigned long long start;
    uid_t uid;
    char exe[4096];            /* real path */
};

/* Fill r for pid (a child of ours, run as uid, executing exe); -1 if pid is gone already. */
int rh_proc_ref_take(rh_proc_ref *r, pid_t pid, uid_t uid, const char *exe);

/* 1 if r's pid is alive and still that process: same start time, real and effective uid, executable. */
int rh_proc_matches(const rh_proc_ref *r);

/* Stop a postmaster that may not be our child: SIGQUIT, wait up to timeout_ms, then SIGKILL, each
   signal sent only while rh_proc_matches(r). */
void rh_proc_stop(const rh_proc_ref *r, int timeout_ms);

/*
 * Stop the server named by DIR/data/postmaster.pid (a file the server account can write, so the pid
 * is not trusted): only if that process is a `postgres` of the account that owns DIR, and only from
 * a process running as that account (never root), which cannot signal anything that account could
 * not. 0 stopped or nothing to stop, -1 refused.
 */
int rh_stop_untrusted_server(const char *dir, int timeout_ms);

/* ---- record.c: what rehearse knows of a cluster, where the server account cannot write ---- */

typedef struct rh_cluster_record {
    pid_t owner_pid;                /* the rehearse process that started it */
    unsigned long long owner_start;
    rh_proc_ref server;             /* its postmaster; pid 0 before it runs */
    int kept;
} rh_cluster_record;

/* RUN_DIR/ID.owner for the cluster folder RUN_DIR/ID; caller frees. */
char *rh_record_path(const char *dir);
/* Written to a temporary file and renamed: a reader sees the old record or the new one. */
int rh_record_write(const char *dir, const rh_cluster_record *r, rh_err *err);
/* 0 when the record exists, parses and is a 0644-or-stricter regular file of rehearse's account. */
int rh_record_read(const char *dir, rh_cluster_record *r);
/* Parse a record's text (modified in place); -1 if it is not one. Fuzzed (tests/fuzz/fuzz_record.c). */
int rh_record_parse(char *text, rh_cluster_record *r);
/* Parse the text of a watchdog "A" line ("pid start uid<TAB>exe<TAB>dir", modified in place); *dir
   points into it. -1 if malformed. Fuzzed too. */
int rh_watchdog_line_parse(char *text, rh_proc_ref *ref, char **dir);
void rh_record_remove(const char *dir); /* the record and the pgpass file */

/* RUN_DIR/ID.pgpass: a kept cluster's passwords (0600, rehearse's account), for the user's psql. */
char *rh_record_pgpass_path(const char *dir);
/* The run folder is rehearse's account's and no one else may write it (else its records mean nothing). */
int rh_run_dir_trusted(const char *run, rh_err *err);
/* Create the run folder if needed, check it (rh_run_dir_trusted, so never through a link), make it 0711. */
int rh_run_dir_prepare(const char *run, rh_err *err);

/* The postmaster pid written in DATADIR/postmaster.pid, or 0 (a file the server account can write). */
pid_t rh_read_postmaster_pid(const char *datadir);

/* The process start time of pid (field 22 of /proc/pid/stat), or 0 if there is no such process. */
unsigned long long rh_proc_starttime(pid_t pid);
/* CPU seconds of pid and its children (reaped ones included); -1 if pid is not there. */
double rh_proc_tree_cpu_s(pid_t pid);

/* True if pid exists and is not a zombie. */
int rh_proc_alive(pid_t pid);

#endif
