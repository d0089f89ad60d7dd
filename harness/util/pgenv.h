/* pgenv.h — the user's libpq environment (PGOPTIONS, PGTZ, PGSERVICE ...) kept away from rehearse's
   own connections, as Prisma's engine ignores it (docs/cluster.md, Connections). */
#ifndef RH_PGENV_H
#define RH_PGENV_H

/*
 * Called once at the start of the process, before any connection and before any thread: removes from
 * the environment every variable libpq reads that changes what a session does or which service file
 * entry fills it (PGOPTIONS, PGTZ, PGDATESTYLE, PGGEQO, PGCLIENTENCODING, PGAPPNAME, PGSSL*, PGGSS*,
 * PGTARGETSESSIONATTRS, PGCONNECT_TIMEOUT, PGSERVICE ... : every option of PQconndefaults() with an
 * environment variable, plus those libpq reads itself). Kept: the variables that say where and as whom
 * a connection goes (PGHOST, PGHOSTADDR, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGPASSFILE) and where
 * service files are (PGSERVICEFILE, PGSYSCONFDIR): only a `--database-url` leaves them to libpq; a
 * cluster's conninfo gives each of them explicitly. PGSERVICE is remembered for the user's database.
 */
void rh_pgenv_isolate(void);

/* The PGSERVICE the process started with (NULL: none): libpq's rules for where --database-url leads. */
const char *rh_pgenv_user_service(void);

/*
 * What the libpq variable VAR=VALUE would give one connection through the environment, given to that
 * connection only (a scenario's `env PGOPTIONS ...`: its sessions and Prisma commands, never rehearse's
 * own connections): a conninfo keyword appended to `ci` (" application_name='x'"), or, for PGOPTIONS,
 * PGTZ, PGDATESTYLE and PGGEQO, server settings appended to `opts` (backend options text, "-c name=value"),
 * which the caller gives as one `options` keyword (rh_pgenv_options). Returns 1 when added; 0 for a
 * variable that says where or as whom (the cluster's conninfo names those: nothing to add); -1 for one
 * libpq reads from the process environment only (PGSERVICEFILE, PGSYSCONFDIR ...) or that is none of
 * libpq's.
 */
struct rh_buf;
int rh_pgenv_to_conninfo(const char *var, const char *value, struct rh_buf *ci, struct rh_buf *opts);

/* Append a libpq conninfo value, quoted: 'value' with \ and ' escaped. */
void rh_conninfo_quote(struct rh_buf *b, const char *v);

/* Append " options='OPTS'" to ci (nothing for empty opts). */
void rh_pgenv_options(struct rh_buf *ci, const char *opts);

#endif
