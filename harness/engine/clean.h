/*
 * clean.h — "a clean deploy, then its catalog": the one path every command takes to learn the
 * schema a migration set produces (scenarios' `expect catalog = clean [REV]`, `snapshot --rev`,
 * `diff rev:A rev:B`). The caller chooses the target database (a new database of a scenario's
 * cluster, a fresh cluster ...) and loads the set with source/loader.h.
 */
#ifndef RH_ENGINE_CLEAN_H
#define RH_ENGINE_CLEAN_H

#include <libpq-fe.h>

#include "catalog/catalog.h"
#include "engine/engine.h"

/*
 * The default tool's deploy of `set` (sorted by eo->profile) on `conn`, an empty database, then a
 * snapshot of its catalog with `copts` (NULL: defaults). Returns 0 with *out set; 1 when the deploy
 * fails as the tool would (res says how, *out stays NULL); -1 when rehearse could not deploy or
 * snapshot (err says why). res must be initialised; the caller frees it.
 */
int rh_engine_clean_snapshot(PGconn *conn, const rh_migset *set, const rh_engine_opts *eo,
                             const rh_catalog_opts *copts, rh_catalog **out, rh_engine_result *res, rh_err *err);

/* The same with another tool's deploy (NULL: the default tool); its ledger is left out of the catalog. */
struct rh_tool;
int rh_engine_clean_snapshot_with(const struct rh_tool *tool, PGconn *conn, const rh_migset *set,
                                  const rh_engine_opts *eo, const rh_catalog_opts *copts, rh_catalog **out,
                                  rh_engine_result *res, rh_err *err);

#endif
