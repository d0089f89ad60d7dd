/* clean.c — a clean deploy, then its catalog (see clean.h). */
#include "engine/clean.h"

#include <assert.h>
#include <stddef.h>

#include "tools/tool.h"

int rh_engine_clean_snapshot(PGconn *conn, const rh_migset *set, const rh_engine_opts *eo,
                             const rh_catalog_opts *copts, rh_catalog **out, rh_engine_result *res, rh_err *err)
{
    return rh_engine_clean_snapshot_with(NULL, conn, set, eo, copts, out, res, err);
}

int rh_engine_clean_snapshot_with(const rh_tool *tool, PGconn *conn, const rh_migset *set, const rh_engine_opts *eo,
                                  const rh_catalog_opts *copts, rh_catalog **out, rh_engine_result *res, rh_err *err)
{
    assert(conn && set && eo && out && res);
    *out = NULL;
    if (!tool)
        tool = RH_TOOL_DEFAULT;
    int rc = rh_tool_run(tool, "deploy", conn, set, NULL, eo, res, err);
    if (rc != 0)
        return rc < 0 ? -1 : 1;
    rh_catalog_opts none = {0};
    rh_catalog_opts with = copts ? *copts : none;
    if (!with.ledger_tool)
        with.ledger_tool = tool; /* the tool's ledger is not the schema */
    if (rh_catalog_snapshot(conn, &with, out, err) < 0)
        return rh_err_prefix(err, "catalog of the clean deploy");
    return 0;
}
