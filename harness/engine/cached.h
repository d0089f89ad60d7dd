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

#include "cluster/cluster.h"
#include "migrations/migset.h"
#include "migrations/profile.h"

/* Bumped whenever the engine writes a database differently (ledger DDL, rows, how scripts are sent). */
#define RH_STATE_ENGINE_VERSION "engine-1"

typedef struct rh_state_inputs {
    const rh_profile *profile;   /* the default tool's version profile: how scripts are sent, the ledger's rows */
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

/* Number of leading migrations two sets share with identical keys (same name, bytes, order). */
size_t rh_state_common_prefix(char (*a)[65], size_t na, char (*b)[65], size_t nb);

/*
 * The longest k in [1, max] whose keys[k] is cached: k and *entry (caller frees); 0 and NULL when
 * none is, when the cache is off (REHEARSE_NO_CACHE set and not "0"), or on an error (said on stderr:
 * a cache that cannot be read is a miss, never a failed run).
 */
size_t rh_state_longest(const rh_cluster_opts *copts, char (*keys)[65], size_t max, char **entry);

/* REHEARSE_NO_CACHE is set and not "" or "0". */
int rh_state_cache_off(void);

/*
 * 1 when the session on conn holds nothing the next migration of the same deploy could see:
 * no session-level SET, temporary table, prepared statement, held advisory lock, open cursor or
 * LISTEN. Only then is a prefix deployed on it continued on a new connection the same as one deploy.
 */
int rh_engine_session_clean(PGconn *conn);

#endif
