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

/*
 * Watchdog bookkeeping (watchdog.c). Both fail (with a message saying so) once the watchdog has
 * died: the caller then cleans up itself, and reports it.
 */
int rh_watchdog_add(pid_t server_pid, const char *dir, rh_err *err);
int rh_watchdog_forget(const char *dir, rh_err *err);
pid_t rh_watchdog_pid(void); /* 0 when none was started (tests use it) */

/* Stop a postmaster that may not be our child: SIGQUIT, wait up to timeout_ms, then SIGKILL. */
void rh_stop_foreign_server(pid_t pid, int timeout_ms);

/* The postmaster pid written in DATADIR/postmaster.pid, or 0. */
pid_t rh_read_postmaster_pid(const char *datadir);

/* The process start time of pid (field 22 of /proc/pid/stat), or 0 if there is no such process. */
unsigned long long rh_proc_starttime(pid_t pid);

/* True if pid exists and is not a zombie. */
int rh_proc_alive(pid_t pid);

#endif
