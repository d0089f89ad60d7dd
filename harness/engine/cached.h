/*
 * cached.h — the engine's side of the deployed-state cache (cluster.h, "deployed states"): the key
 * of "the first k migrations of a set, deployed by this engine with this profile into these
 * databases", the longest prefix of a set that is cached, and whether a deploy's session can be
 * continued on another connection (so that a cached prefix + the rest equals one deploy).
 */
#ifndef RH_ENGINE_CACHED_H
#define RH_ENGINE_CACHED_H

#include <libpq-fe.h>
#include <stddef.h>

#include "catalog/catalog.h"
#include "cluster/cluster.h"
#include "migrations/migset.h"
#include "migrations/profile.h"

/* Bumped whenever the engine writes a database differently (ledger DDL, rows, how scripts are sent). */
#define RH_STATE_ENGINE_VERSION "engine-2" /* 2: a script with a NUL byte fails (exec.c) */

typedef struct rh_state_inputs {
    const char *tool;            /* the migration tool's name (tools/tool.h); NULL: the default tool */
    const rh_profile *profile;   /* its version profile: how scripts are sent, the ledger's rows (NULL: the
                                    tool has one behaviour) */
    const char *layout;          /* the caller's name for which databases hold the state and how they were made */
    int superuser;               /* the migrations ran as the superuser (who owns what they create) */
    const char *const *settings; /* extra server settings of the cluster (NULL-terminated; may be NULL) */
} rh_state_inputs;

/*
 * keys[k] for k = 0 .. set->n (the caller gives set->n + 1 slots): SHA-256 over the inputs above,
 * RH_STATE_ENGINE_VERSION, and for each of the first k migrations in order its name, whether it has
 * a migration.sql, its exact bytes and its tool ordering stamp. Server version, encoding and locale
 * are part of the entry's name (rh_state_lookup).
 */
void rh_state_keys(const rh_state_inputs *in, const rh_migset *set, char (*keys)[65]);

/*
 * A key over a sequence of steps (a scenario's steps before its first sql, session or fault,
 * runner/cached.c): the state after them is a function of each step and of the set it saw.
 * rh_state_chain_start: chain = the key of no migrations under `in` (engine version, layout,
 * superuser, settings); rh_state_chain_step: chain = SHA-256 of chain, `what` (the step as parsed)
 * and, when set is not NULL, the key of that whole set under `in` (tool, profile, each migration's
 * name, bytes and order). The final chain is the state's key.
 */
void rh_state_chain_start(char chain[65], const rh_state_inputs *in);
void rh_state_chain_step(char chain[65], const char *what, const rh_state_inputs *in, const rh_migset *set);

/* Number of leading migrations two sets share with identical keys (same name, bytes, order). */
size_t rh_state_common_prefix(char (*a)[65], size_t na, char (*b)[65], size_t nb);

/*
 * The longest k in [1, max] whose keys[k] is cached: k and *entry (caller frees); 0 and NULL when
 * none is, when the cache is off (REHEARSE_NO_CACHE set and not "0"), or on an error (said on stderr:
 * a cache that cannot be read is a miss, never a failed run).
 */
size_t rh_state_longest(const rh_cluster_opts *copts, char (*keys)[65], size_t max, char **entry);

/* The same, only k in [min, max] (min >= 1): a tool that continues only a whole set's state asks for max alone. */
size_t rh_state_longest_from(const rh_cluster_opts *copts, char (*keys)[65], size_t min, size_t max, char **entry);

struct rh_tool;
/*
 * The fewest migrations of an n-migration set a state may hold for the tool's deploy to continue it
 * (tools/tool.h rh_tool_resume): 1 for any prefix, n for the whole set only, 0 when it never continues one.
 * NULL: the default tool.
 */
size_t rh_state_resume_min(const struct rh_tool *tool, size_t n);

/* REHEARSE_NO_CACHE is set and not "" or "0". */
int rh_state_cache_off(void);

/*
 * What the cluster's global catalogs say that a migration role could change (databases other than
 * `skip`, their settings, roles and members, shared comments and labels, tablespaces), one sorted
 * line per fact. A state is published only when this did not change while its migrations ran: a
 * role's or database's setting would reach the next session, which a one-piece deploy never opened.
 * NULL when it cannot be read (caller frees).
 */
char *rh_state_globals(rh_cluster *cluster, const char *const *skip, size_t nskip);

/*
 * One deploy of a whole set into one database of a fresh cluster, through the cache (`snapshot
 * --rev`, `diff rev:`, `deploy --rev`, every "clean deploy" of check/clean.c): start from the state
 * holding the longest cached prefix the tool can continue (rh_state_resume_min), deploy the rest
 * (engine opts `resumed` = cached), and after a successful deploy publish the whole set's state. Used
 * and published only when: not `no_cache`, not REHEARSE_NO_CACHE, not the superuser
 * (copts->superuser), the tool's deploy is resumable (tools/tool.h: command mode and other programs
 * never are), and the set is not empty.
 */

/* The layout of those states: a fresh cluster whose "postgres" database holds the set (one name for
   every command, so that `deploy --rev` and `snapshot --rev` of the same set share a state). */
#define RH_STATE_LAYOUT_FRESH "clean: postgres holds the set"

typedef struct rh_state_deploy {
    int on;                 /* lookups and publishing allowed */
    size_t n;               /* migrations in the set */
    char (*keys)[65];       /* keys[0..n] */
    size_t cached;          /* the state started from holds the first `cached` migrations (0: none) */
    char *entry;            /* that state's entry (the cluster options point at it); NULL: none */
    char *globals;          /* rh_state_globals before any migration ran; NULL: nothing to publish */
    char *catalog_file;     /* the catalog to keep with the state it publishes (rh_state_deploy_keep_catalog) */
} rh_state_deploy;

/* Before the cluster starts: keys, the longest cached prefix; copts->state points at its entry. */
void rh_state_deploy_find(rh_state_deploy *d, const struct rh_tool *tool, const rh_profile *profile,
                          const char *layout, rh_cluster_opts *copts, const rh_migset *set, int no_cache);

/* The cluster could not start from the state: forget it (copts->state = NULL, nothing resumed). */
void rh_state_deploy_forget(rh_state_deploy *d, rh_cluster_opts *copts);

/* After the cluster started, before any migration ran. */
void rh_state_deploy_started(rh_state_deploy *d, rh_cluster *cluster);

/*
 * After the deploy exited with exit_code: publish the set's state when it deployed (exit 0) past the
 * cached prefix, its session was clean (rh_engine_session_clean of the deploy's connection) and the
 * cluster's globals did not change. The caller has closed its connections. 1 published, 0 not
 * published (the server untouched), -1 not published after the server was stopped (said on stderr:
 * a state not kept never fails the command). After 1 or -1 the server is stopped (rh_state_save):
 * rh_cluster_stop, or rh_cluster_restart to go on with the same data.
 */
int rh_state_deploy_publish(rh_state_deploy *d, rh_cluster *cluster, int session_clean, const rh_cluster_opts *copts,
                            int exit_code, const char *meta);

void rh_state_deploy_free(rh_state_deploy *d);

/*
 * ---- the catalog of a state, kept with its entry ----
 * `snapshot --rev`, `diff rev:` and a scenario's `expect catalog = clean REV` want only the catalog
 * of a clean deploy of a set. The entry of the whole set's state keeps that catalog's text (a file
 * of the entry: cluster.h rh_state_file, checksummed), so that when the set is cached whole no
 * server starts at all. The text is reused only when it was printed by the same catalog code
 * (RH_CATALOG_SOURCE: a SHA-256 of harness/catalog/ taken at build time) with the same snapshot
 * options; with it, the cluster's global catalogs as the deploy found them (rh_state_globals), for
 * a caller whose cluster is not a fresh one to compare with its own.
 */
#define RH_STATE_CATALOG_FILE "catalog"

/*
 * The catalog of entry taken with opts: 1 with *text and *globals (caller frees) when the entry
 * keeps one printed by this build's catalog code with these options; 0 when not (no file, a damaged
 * one, other code or options).
 */
int rh_state_catalog_get(const char *entry, const rh_catalog_opts *opts, char **text, char **globals);

/*
 * The file's text (catalog_file.c): a format line, origin (lines saying what decides the text beyond
 * the state), "globals N" and the N lines of globals, then the catalog's text form. parse: 1 with
 * *catalog and *globals (caller frees) when file has this format and this origin, else 0.
 */
char *rh_state_catalog_format(const char *origin, const char *globals, const char *catalog);
int rh_state_catalog_parse(const char *file, const char *origin, char **catalog, char **globals);

/*
 * After the set deployed whole and was snapshotted with opts, before rh_state_deploy_publish: keep
 * cat with the state. Published with the entry when the deploy publishes one; when the cluster
 * started from the whole set's state (nothing to publish), added to that entry. Nothing when the
 * cache is off or the cluster's globals cannot be read.
 */
void rh_state_deploy_keep_catalog(rh_state_deploy *d, rh_cluster *cluster, const rh_cluster_opts *copts,
                                  const rh_catalog_opts *opts, const rh_catalog *cat);

/*
 * 1 when the session on conn holds nothing the next migration of the same deploy could see:
 * no session-level SET, temporary table, prepared statement, held advisory lock, open cursor or
 * LISTEN. Only then is a prefix deployed on it continued on a new connection the same as one deploy.
 */
int rh_engine_session_clean(PGconn *conn);

#endif
