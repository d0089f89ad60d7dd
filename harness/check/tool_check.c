/*
 * tool_check.c — `rehearse check --tool NAME` for a tool other than the default: base and head read
 * through the tool (from git's object database), the tool's own hazards between them (dbmate:
 * CONCURRENTLY in its transaction or beside another statement; drizzle: an entry merged with an older
 * journal `when`), then base deployed on a fresh cluster and head on top of it with the tool's own
 * deploy: a failure is a finding. Human output only for now (docs/tools.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "cluster/cluster.h"
#include "source/git.h"
#include "tools/tool.h"
#include "util/buf.h"

/* Deploy one revision's set with the tool on conn; a failure is written as a finding line. */
static int deploy_step(const rh_tool *tool, PGconn *conn, const rh_migset *set, const char *what, rh_buf *findings,
                       size_t *n, rh_err *err)
{
    rh_engine_result res;
    rh_engine_result_init(&res);
    rh_engine_opts eo = {0};
    int rc = rh_tool_run(tool, "deploy", conn, set, NULL, &eo, &res, err);
    if (rc > 0) {
        rh_buf_printf(findings, "deploy-fails: %s: the %s exits %d%s%s%s%s\n",
                      res.failed_migration ? res.failed_migration : "-", what, res.exit_code,
                      res.sqlstate[0] ? ", SQLSTATE " : "", res.sqlstate, res.db_message ? ": " : "",
                      res.db_message ? res.db_message : "");
        (*n)++;
    }
    rh_engine_result_free(&res);
    return rc < 0 ? -1 : 0;
}

int rh_check_tool(const rh_tool *tool, const rh_check_opts *o, FILE *out, rh_err *err)
{
    const char *repo = o->repo ? o->repo : ".";
    const char *head = o->head ? o->head : "WORKTREE";
    char *base = NULL;
    char how[512] = "";
    if (o->base)
        base = rh_xstrdup(o->base);
    else if (rh_check_default_base(repo, &base, how, sizeof how, err) < 0)
        return -1;
    rh_migset bset = {0}, hset = {0};
    int have_b = 0, have_h = 0, rc = -1;
    rh_cluster *c = NULL;
    PGconn *conn = NULL;
    rh_buf findings;
    rh_buf_init(&findings);
    if (rh_tool_load_rev(tool, repo, base, o->migrations, &bset, err) < 0)
        goto out;
    have_b = 1;
    if (rh_tool_load_rev(tool, repo, head, o->migrations, &hset, err) < 0)
        goto out;
    have_h = 1;
    size_t n = tool->history_hazards ? tool->history_hazards(&bset, &hset, base, head, &findings) : 0;
    rh_cluster_opts co = {.pg_bin = o->pg_bin, .pg_version = o->pg_version, .superuser = o->superuser};
    if (rh_cluster_start(&c, &co, err) < 0 || !(conn = rh_cluster_connect(c, NULL, err)))
        goto out;
    char what[600];
    snprintf(what, sizeof what, "%s deploy of base %s", tool->name, base);
    if (deploy_step(tool, conn, &bset, what, &findings, &n, err) < 0)
        goto out;
    snprintf(what, sizeof what, "%s deploy of head %s on base", tool->name, head);
    if (deploy_step(tool, conn, &hset, what, &findings, &n, err) < 0)
        goto out;
    fprintf(out, "rehearse check --tool %s: base %s%s%s%s, head %s (%zu and %zu migrations)\n", tool->name, base,
            how[0] ? " (" : "", how, how[0] ? ")" : "", head, bset.n, hset.n);
    for (const char *p = findings.data; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(out, "error: %.*s\n", (int)len, p);
        p += len + (nl ? 1 : 0);
    }
    fprintf(out, n ? "%zu finding(s)\n" : "no findings\n", n);
    rc = n ? 1 : 0;
out:
    if (conn)
        PQfinish(conn);
    if (c) {
        rh_err ignored;
        rh_cluster_stop(c, &ignored);
    }
    if (have_b)
        rh_migset_free(&bset);
    if (have_h)
        rh_migset_free(&hset);
    rh_buf_free(&findings);
    free(base);
    return rc;
}
