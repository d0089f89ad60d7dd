/* clean.c — a clean deploy, then its catalog (see clean.h). */
#include "engine/clean.h"

#include <assert.h>
#include <stddef.h>

#include "tools/tool.h"

int rh_engine_clean_snapshot(PGconn *conn, const rh_migset *set, const rh_engine_opts *eo,
                             const rh_catalog_opts *copts, rh_catalog **out, rh_engine_result *res, rh_err *err)
{
    assert(conn && set && eo && out && res);
    *out = NULL;
    int rc = rh_tool_run(RH_TOOL_DEFAULT, "deploy", conn, set, NULL, eo, res, err);
    if (rc != 0)
        return rc < 0 ? -1 : 1;
    rh_catalog_opts none = {0};
    if (rh_catalog_snapshot(conn, copts ? copts : &none, out, err) < 0)
        return rh_err_prefix(err, "catalog of the clean deploy");
    return 0;
}
