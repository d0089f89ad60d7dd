/*
 * checks.c — the `expect` steps: catalog objects and comparisons (through the catalog module's
 * assertion primitives), the ledger, queries, `prisma migrate status`, the last command's output,
 * and the profile's folder order. Each failure says what was expected and what is there.
 */
#include "runner/exec_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "catalog/assert.h"
#include "check/clean.h"
#include "engine/clean.h"
#include "migrations/globals.h"
#include "util/fs.h"

/* ---- catalog objects ---------------------------------------------------------------------------- */

static int map_property(const rh_scn_step *st, rh_catalog_expect *e)
{
    const char *p = st->property;
    e->value = st->value;
    if (strcmp(p, "present") == 0)
        e->property = RH_EXPECT_EXISTS;
    else if (strcmp(p, "no-default") == 0) {
        e->property = RH_EXPECT_DEFAULT;
        e->value = "none";
    } else if (strcmp(p, "type") == 0 && strcmp(st->obj_kind, "constraint") == 0)
        e->property = RH_EXPECT_KIND;
    else if (strcmp(p, "primary") == 0 || strcmp(p, "deferrable") == 0) {
        e->property = RH_EXPECT_PROPERTY;   /* value NULL: the flag is there (and not "no") */
        e->key = p;
        e->value = NULL;
    } else if (strcmp(p, "not-deferrable") == 0) {
        e->property = RH_EXPECT_PROPERTY;   /* value "none": the property is absent */
        e->key = "deferrable";
        e->value = "none";
    } else if (strcmp(p, "collation") == 0 || strcmp(p, "version") == 0 || strcmp(p, "table") == 0) {
        e->property = RH_EXPECT_PROPERTY;
        e->key = p;
    } else {
        int v = rh_expect_prop_from_name(p);
        if (v < 0)
            return -1;
        e->property = (rh_expect_prop)v;
    }
    return 0;
}

/* identity / generated: the property is there, whatever its value (always, by-default, an expression). */
static int expect_has_property(rh_ctx *ctx, const rh_scn_step *st, const rh_catalog *cat)
{
    const rh_catalog_obj *o = rh_catalog_find(cat, RH_CAT_COLUMN, st->schema, st->table, st->name, NULL);
    if (!o) {
        rh_buf near;
        rh_buf_init(&near);
        int k = rh_catalog_nearest(cat, RH_CAT_COLUMN, st->schema, st->table, st->name, 3, &near);
        rh_fail(ctx, st, NULL, NULL, "no column \"%s\".\"%s\"%s%s%s", st->table, st->name, k ? " (did you mean " : "",
                k ? near.data : "", k ? "?)" : "");
        rh_buf_free(&near);
        return -1;
    }
    if (!rh_catalog_obj_prop(o, st->property))
        return rh_fail(ctx, st, st->property, "no such property", "column \"%s\".\"%s\" is not %s", st->table,
                       st->name, strcmp(st->property, "identity") == 0 ? "an identity column" : "a generated column");
    return 0;
}

static int expect_object(rh_ctx *ctx, const rh_scn_step *st)
{
    const rh_catalog *cat;
    if (rh_ctx_catalog(ctx, st, &cat) < 0)
        return -1;
    if (strcmp(st->obj_kind, "column") == 0 &&
        (strcmp(st->property, "identity") == 0 || strcmp(st->property, "generated") == 0))
        return expect_has_property(ctx, st, cat);
    rh_catalog_expect e;
    memset(&e, 0, sizeof e);
    int kind = rh_catalog_kind_from_name(st->obj_kind);
    if (kind < 0 || map_property(st, &e) < 0)
        return rh_setup_error(ctx, st, "the catalog module cannot check `%s %s`", st->obj_kind, st->property);
    e.kind = (rh_catalog_kind)kind;
    e.schema = st->schema;
    e.table = st->table;
    e.name = st->name ? st->name : st->table;
    if (e.kind == RH_CAT_TABLE || e.kind == RH_CAT_FOREIGN_TABLE)
        e.table = NULL;
    char *labels = NULL;
    if (e.property == RH_EXPECT_LABELS && st->value) {
        /* the parser joins labels with ','; the catalog compares "A, B" */
        rh_buf b;
        rh_buf_init(&b);
        for (const char *p = st->value; *p; p++) {
            if (*p == ',')
                rh_buf_puts(&b, ", ");
            else
                rh_buf_putc(&b, *p);
        }
        labels = rh_buf_steal(&b);
        rh_buf_free(&b);
        e.value = labels;
    }
    rh_buf msg;
    rh_buf_init(&msg);
    int r = rh_catalog_check(cat, &e, &msg);
    free(labels);
    int rc = 0;
    if (r == RH_CATALOG_CHECK_FAIL)
        rc = rh_fail(ctx, st, NULL, NULL, "%s", msg.data);
    else if (r != RH_CATALOG_CHECK_PASS)
        rc = rh_setup_error(ctx, st, "%s", msg.data);
    rh_buf_free(&msg);
    return rc;
}

/* ---- catalog comparisons ------------------------------------------------------------------------- */

/*
 * The set and profile `expect catalog = clean [REV]` deploys: REV loaded as any command loads it (its
 * own folder, order and Prisma profile; a `prisma` step still overrides), or the current checkout's.
 * REV's profile goes into the report. `other` holds REV's set; free it with rh_loaded_free.
 */
int rh_ctx_clean_set(rh_ctx *ctx, const rh_scn_step *st, rh_loaded *other, const rh_migset **set,
                     const rh_profile **profile)
{
    rh_err err;
    memset(other, 0, sizeof *other);
    *set = NULL;
    *profile = &ctx->profile;
    if (!st->arg)
        return rh_ctx_migset(ctx, st, set);
    if (!ctx->repo_path)
        return rh_setup_error(ctx, st, "expect catalog = clean %s: no repository (`repo PATH`)", st->arg);
    const rh_migset *cur;
    if (rh_ctx_migset(ctx, st, &cur) < 0)   /* opens the repository, settles the folder */
        return -1;
    rh_load_spec spec;
    rh_ctx_load_spec(ctx, &spec);
    spec.rev = st->arg;
    if (rh_source_load(&spec, other, &err) < 0)
        return rh_setup_error(ctx, st, "clean %s: %s", st->arg, err.msg);
    *set = &other->set;
    *profile = &other->choice.profile;
    rh_result_add_profile(ctx->res, *profile, other->choice.from, other->choice.source);
    return 0;
}

/* A clean deploy of REV (or the current checkout) into a new database of the same cluster. */
static int clean_catalog(rh_ctx *ctx, const rh_scn_step *st, rh_catalog **out)
{
    rh_err err;
    rh_loaded other;
    const rh_migset *set = NULL;
    const rh_profile *profile = NULL;
    if (rh_ctx_clean_set(ctx, st, &other, &set, &profile) < 0) {
        rh_loaded_free(&other);
        return -1;
    }
    /* a set that may touch what the cluster's databases share (a database, a role ...) would meet the
       scenario's own deploy of it there ("already exists"): its clean deploy gets a fresh cluster, as
       production's clean deploy has a server of its own (migrations/globals.h) */
    int fresh = rh_migset_may_touch_globals(set, NULL, NULL);
    if (!fresh && rh_ctx_cached_clean_catalog(ctx, set, profile, out)) {
        rh_loaded_free(&other);
        return 0;
    }
    PGconn *c = NULL;
    int rc = 0;
    if (!fresh) {
        char db[32];
        snprintf(db, sizeof db, "clean_%d", ++ctx->clean_seq);
        rc = rh_cluster_create_db(ctx->cluster, db, &err);
        if (rc == 0 && !(c = rh_ctx_connect(ctx, db, &err)))
            rc = -1;
        if (rc < 0) {
            rh_loaded_free(&other);
            return rh_setup_error(ctx, st, "clean deploy: %s", err.msg);
        }
    }
    rh_engine_opts eo;
    rh_engine_result res;
    rh_clean_deploy_opts(ctx, profile, &eo, &res);
    if (fresh) {
        rh_cluster_opts co = ctx->cluster_opts; /* the same server, settings and cache */
        co.state = NULL;
        rh_clean_source src = {.cluster = &co, .no_cache = ctx->opts->no_cache};
        rc = rh_clean_deploy_catalog(NULL, &src, set, &eo, NULL, out, NULL, &res, &err);
    } else {
        rc = rh_engine_clean_snapshot(c, set, &eo, NULL, out, &res, &err);
    }
    if (rc != 0) {
        rh_buf d;
        rh_buf_init(&d);
        rh_describe_engine(&res, rc, &err, &d);
        rh_setup_error(ctx, st, "the clean deploy of %s (Prisma %s, from %s) failed: %s",
                       st->arg ? st->arg : "the current checkout", profile->version,
                       st->arg ? other.choice.source : ctx->profile_source, d.data);
        rh_buf_free(&d);
        rc = -1;
    }
    rh_engine_result_free(&res);
    if (c)
        PQfinish(c);
    rh_loaded_free(&other);
    return rc;
}

static int expect_catalog(rh_ctx *ctx, const rh_scn_step *st)
{
    const rh_catalog *cur;
    if (rh_ctx_catalog(ctx, st, &cur) < 0)
        return -1;
    rh_catalog *other = NULL;
    const rh_catalog *ref = NULL;
    char *label = NULL;
    rh_err err;
    switch (st->catalog_ref) {
    case RH_CATREF_SNAPSHOT:
        for (size_t i = 0; i < ctx->nsnapshots; i++)
            if (strcmp(ctx->snapshots[i].name, st->arg) == 0)
                ref = ctx->snapshots[i].cat;
        if (!ref)
            return rh_setup_error(ctx, st, "no snapshot named %s", st->arg);
        label = rh_xasprintf("snapshot %s", st->arg);
        break;
    case RH_CATREF_CLEAN:
        if (clean_catalog(ctx, st, &other) < 0)
            return -1;
        ref = other;
        label = rh_xasprintf("clean %s", st->arg ? st->arg : "deploy");
        break;
    case RH_CATREF_FILE: {
        char *text;
        size_t len;
        if (rh_scn_read_file(ctx->s, st->arg, &text, &len, &err) < 0)
            return rh_setup_error(ctx, st, "expect catalog = file: %s", err.msg);
        int rc = rh_catalog_parse(text, st->arg, &other, &err);
        free(text);
        if (rc < 0)
            return rh_setup_error(ctx, st, "%s", err.msg);
        ref = other;
        label = rh_xasprintf("file %s", st->arg);
        break;
    }
    }
    rh_buf diff;
    rh_buf_init(&diff);
    rh_catalog_opts co = {0};
    if (!rh_ctx_default_tool(ctx) && ctx->ledger_tool)
        co.ledger_tool = ctx->ledger_tool;
    size_t n = rh_catalog_diff(ref, cur, &co, label, "database", &diff);
    int rc = 0;
    if ((n != 0) != st->negate) {
        if (st->negate)
            rc = rh_fail(ctx, st, NULL, NULL, "the catalog equals %s, expected a difference", label);
        else {
            rc = rh_fail(ctx, st, NULL, NULL, "the catalog differs from %s in %zu object%s", label, n, n == 1 ? "" : "s");
            free(ctx->res->diff);
            ctx->res->diff = rh_xstrdup(diff.data);
        }
    }
    rh_buf_free(&diff);
    rh_catalog_free(other);
    free(label);
    return rc;
}

/* ---- the ledger ------------------------------------------------------------------------------------ */

static rh_scn_state row_state(const rh_ledger_row *r)
{
    if (r->rolled_back)
        return RH_STATE_ROLLED_BACK;
    return r->finished ? RH_STATE_APPLIED : RH_STATE_FAILED;
}

/*
 * Another tool's ledger, through its reader; each row named after the migration of the current
 * checkout it records (a dbmate row keeps the version, a drizzle row the journal `when`), so that the
 * checks below compare names as they do for the default tool.
 */
static int load_tool_ledger(rh_ctx *ctx, const rh_scn_step *st, rh_ledger *l)
{
    rh_err err;
    int exists = 0;
    const rh_tool *t = ctx->ledger_tool;
    if (!t)
        return rh_setup_error(ctx, st, "tool %s keeps no ledger rehearse can read: name the tool whose ledger the "
                                       "command writes (`tool command \"CMD\" ledger NAME`) or check with `expect query`",
                              ctx->tool->name);
    if (t->ledger_exists(ctx->conn, &exists, &err) < 0 || (exists && t->ledger_read(ctx->conn, l, &err) < 0))
        return rh_setup_error(ctx, st, "%s", err.msg);
    const rh_migset *set;
    if (rh_ctx_migset(ctx, st, &set) < 0) {
        rh_ledger_free(l);
        return -1;
    }
    for (size_t i = 0; i < l->n; i++)
        for (size_t k = 0; k < set->n; k++)
            if (rh_tool_row_is(t, &l->rows[i], &set->items[k])) {
                free(l->rows[i].migration_name);
                l->rows[i].migration_name = rh_xstrdup(set->items[k].name);
                break;
            }
    return 0;
}

static int load_ledger(rh_ctx *ctx, const rh_scn_step *st, rh_ledger *l)
{
    rh_err err;
    int exists = 0;
    memset(l, 0, sizeof *l);
    if (!rh_ctx_default_tool(ctx))
        return load_tool_ledger(ctx, st, l);
    if (RH_TOOL_DEFAULT->ledger_exists(ctx->conn, &exists, &err) < 0)
        return rh_setup_error(ctx, st, "%s", err.msg);
    if (exists && RH_TOOL_DEFAULT->ledger_read(ctx->conn, l, &err) < 0)
        return rh_setup_error(ctx, st, "%s", err.msg);
    return 0;
}

/* The ledger as a short table, for failure messages. */
static char *ledger_text(const rh_ledger *l)
{
    rh_buf b;
    rh_buf_init(&b);
    if (!l->n)
        rh_buf_puts(&b, "(no rows)");
    for (size_t i = 0; i < l->n && i < 80; i++)
        rh_buf_printf(&b, "%s%-11s %s", i ? "\n" : "", rh_scn_state_name(row_state(&l->rows[i])),
                      l->rows[i].migration_name);
    if (l->n > 80)
        rh_buf_printf(&b, "\n... %zu more", l->n - 80);
    return rh_buf_steal(&b);
}

static int expect_ledger(rh_ctx *ctx, const rh_scn_step *st)
{
    rh_ledger l;
    if (load_ledger(ctx, st, &l) < 0)
        return -1;
    int rc = 0;
    char *table = NULL;
    switch (st->ledger_check) {
    case RH_LEDGER_STATE_OF: {
        size_t rows = 0, in_state = 0;
        for (size_t i = 0; i < l.n; i++)
            if (strcmp(l.rows[i].migration_name, st->arg) == 0) {
                rows++;
                in_state += row_state(&l.rows[i]) == st->state;
            }
        int ok = st->state == RH_STATE_ABSENT ? rows == 0 : in_state > 0;
        if (!ok) {
            table = ledger_text(&l);
            if (st->state == RH_STATE_ABSENT)
                rc = rh_fail(ctx, st, NULL, table, "the ledger has %zu row(s) for %s, expected none", rows, st->arg);
            else
                rc = rh_fail(ctx, st, NULL, table, "no row of %s is %s (%zu row(s) for it)", st->arg,
                             rh_scn_state_name(st->state), rows);
        }
        break;
    }
    case RH_LEDGER_COUNT: {
        long n = 0;
        for (size_t i = 0; i < l.n; i++)
            n += row_state(&l.rows[i]) == st->state;
        if (n != st->n) {
            table = ledger_text(&l);
            rc = rh_fail(ctx, st, NULL, table, "%ld row(s) are %s, expected %ld", n, rh_scn_state_name(st->state), st->n);
        }
        break;
    }
    case RH_LEDGER_ROWS:
    case RH_LEDGER_ROWS_OF: {
        long n = 0;
        for (size_t i = 0; i < l.n; i++)
            n += st->ledger_check == RH_LEDGER_ROWS || strcmp(l.rows[i].migration_name, st->arg) == 0;
        if (n != st->n) {
            table = ledger_text(&l);
            rc = rh_fail(ctx, st, NULL, table, "%ld ledger row(s)%s%s, expected %ld", n,
                         st->arg ? " for " : "", st->arg ? st->arg : "", st->n);
        }
        break;
    }
    case RH_LEDGER_CHECKSUM: {
        const rh_migset *set;
        if (rh_ctx_migset(ctx, st, &set) < 0) {
            rc = -1;
            break;
        }
        const rh_migration *m = rh_migset_find(set, st->arg);
        const rh_ledger_row *row = NULL;
        for (size_t i = 0; i < l.n; i++)
            if (strcmp(l.rows[i].migration_name, st->arg) == 0 && row_state(&l.rows[i]) != RH_STATE_ROLLED_BACK)
                row = &l.rows[i];
        if (!m || !m->sql)
            rc = rh_setup_error(ctx, st, "%s has no migration.sql at the current checkout", st->arg);
        else if (!row)
            rc = rh_fail(ctx, st, NULL, NULL, "no applied or failed row of %s in the ledger", st->arg);
        else if (rh_tool_checksum_matches(rh_ctx_default_tool(ctx) ? RH_TOOL_DEFAULT : ctx->ledger_tool, row->checksum,
                                          m) == st->negate)
            rc = rh_fail(ctx, st, st->negate ? "a checksum that differs" : m->checksum, row->checksum,
                         "the ledger's checksum of %s %s the file at the current checkout", st->arg,
                         st->negate ? "matches" : "does not match");
        break;
    }
    case RH_LEDGER_ORDER: {
        long last = -1;
        for (size_t k = 0; k < st->nnames && rc == 0; k++) {
            long at = -1;
            for (size_t i = 0; i < l.n; i++)
                if (strcmp(l.rows[i].migration_name, st->names[k]) == 0 && row_state(&l.rows[i]) == RH_STATE_APPLIED) {
                    at = (long)i;
                    break;
                }
            if (at < 0 || at < last) {
                table = ledger_text(&l);
                rc = rh_fail(ctx, st, NULL, table, at < 0 ? "%s has no applied row" : "%s was applied before %s",
                             st->names[k], k ? st->names[k - 1] : "");
            }
            last = at;
        }
        break;
    }
    }
    free(table);
    rh_ledger_free(&l);
    return rc;
}

/* ---- queries ------------------------------------------------------------------------------------- */

static int expect_query(rh_ctx *ctx, const rh_scn_step *st)
{
    rh_buf msg;
    rh_buf_init(&msg);
    int r, rc = 0;
    switch (st->query_check) {
    case RH_QUERY_EQ:
        r = rh_catalog_check_query(ctx->conn, st->text, RH_CATQ_EQUALS, st->value, &msg);
        break;
    case RH_QUERY_ROWS: {
        char n[32];
        snprintf(n, sizeof n, "%ld", st->n);
        r = rh_catalog_check_query(ctx->conn, st->text, RH_CATQ_ROWS, n, &msg);
        break;
    }
    case RH_QUERY_ERROR:
        r = rh_catalog_check_query(ctx->conn, st->text, RH_CATQ_RAISES, st->value, &msg);
        break;
    default: {
        PGresult *res = PQexec(ctx->conn, st->text);
        ExecStatusType s = PQresultStatus(res);
        int ok = s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK;
        if (!ok) {
            r = RH_CATALOG_CHECK_FAIL;
            rh_buf_printf(&msg, "the query failed: SQLSTATE %s: %s",
                          PQresultErrorField(res, PG_DIAG_SQLSTATE) ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : "?",
                          PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : "");
        } else if (st->query_check == RH_QUERY_NE) {
            const char *v = PQntuples(res) && PQnfields(res) ? PQgetvalue(res, 0, 0) : NULL;
            int isnull = !PQntuples(res) || !PQnfields(res) || PQgetisnull(res, 0, 0);
            int same = st->value_is_null ? isnull : (!isnull && strcmp(v, st->value) == 0);
            r = same ? RH_CATALOG_CHECK_FAIL : RH_CATALOG_CHECK_PASS;
            if (same)
                rh_buf_printf(&msg, "the query returned %s, expected anything else", isnull ? "null" : v);
        } else {
            r = RH_CATALOG_CHECK_PASS;
        }
        PQclear(res);
        break;
    }
    }
    if (r == RH_CATALOG_CHECK_FAIL)
        rc = rh_fail(ctx, st, NULL, NULL, "%s", msg.data);
    else if (r != RH_CATALOG_CHECK_PASS)
        rc = rh_setup_error(ctx, st, "%s", msg.data);
    else
        rc = rh_ctx_end_sql(ctx, st);   /* "begin; select ..." must not leave the next step in it */
    rh_buf_free(&msg);
    return rc;
}

/* ---- status, output, order ----------------------------------------------------------------------- */

static int expect_status(rh_ctx *ctx, const rh_scn_step *st)
{
    const rh_migset *set;
    if (rh_ctx_migset(ctx, st, &set) < 0)
        return -1;
    rh_engine_opts eo;
    rh_engine_opts_for(ctx, &eo);
    rh_engine_result res;
    rh_engine_result_init(&res);
    rh_err err;
    /* another tool: pending and failed come from its ledger alone (below) */
    int x = rh_ctx_default_tool(ctx) ? rh_tool_run(RH_TOOL_DEFAULT, "status", ctx->conn, set, NULL, &eo, &res, &err) : 0;
    if (x < 0) {
        rh_engine_result_free(&res);
        return rh_setup_error(ctx, st, "status: %s", err.msg);
    }
    rh_ledger l;
    if (load_ledger(ctx, st, &l) < 0) {
        rh_engine_result_free(&res);
        return -1;
    }
    /* pending: in the folder, without an applied or failed row (Prisma's "not yet applied") */
    rh_buf pending;
    rh_buf_init(&pending);
    size_t npending = 0;
    char **pnames = rh_xcalloc(set->n + 1, sizeof *pnames);
    for (size_t i = 0; i < set->n; i++) {
        int seen = 0;
        for (size_t k = 0; k < l.n; k++)
            seen |= strcmp(l.rows[k].migration_name, set->items[i].name) == 0 && row_state(&l.rows[k]) != RH_STATE_ROLLED_BACK;
        if (!seen) {
            pnames[npending++] = set->items[i].name;
            rh_buf_printf(&pending, "%s%s", pending.len ? " " : "", set->items[i].name);
        }
    }
    int failed_named = 0, nfailed = 0;
    for (size_t k = 0; k < l.n; k++)
        if (row_state(&l.rows[k]) == RH_STATE_FAILED) {
            nfailed++;
            failed_named |= st->arg && strcmp(l.rows[k].migration_name, st->arg) == 0;
        }
    char *actual = rh_xasprintf("exit %d, %zu pending%s%s, %d failed row(s)", res.exit_code, npending,
                                npending ? ": " : "", pending.data, nfailed);
    int rc = 0;
    switch (st->status_check) {
    case RH_STATUS_UP_TO_DATE:
        if (res.exit_code != 0 || npending || nfailed)
            rc = rh_fail(ctx, st, "up to date", actual, "status: not up to date");
        break;
    case RH_STATUS_PENDING: {
        int ok = (long)npending == st->n;
        for (size_t i = 0; ok && i < st->nnames; i++)
            ok = strcmp(st->names[i], pnames[i]) == 0;
        if (!ok) {
            char *exp = rh_xasprintf("%ld pending", st->n);
            rc = rh_fail(ctx, st, exp, actual, "status: %zu pending migration(s), expected %ld", npending, st->n);
            free(exp);
        }
        break;
    }
    case RH_STATUS_FAILED:
        if (!failed_named) {
            char *exp = rh_xasprintf("failed %s", st->arg);
            rc = rh_fail(ctx, st, exp, actual, "status: %s is not a failed migration", st->arg);
            free(exp);
        }
        break;
    }
    if (rc < 0 && !ctx->res->output) {
        rh_buf o;
        rh_buf_init(&o);
        rh_buf_append(&o, res.out.data, res.out.len);
        rh_buf_append(&o, res.errout.data, res.errout.len);
        rh_ctx_keep_output(ctx, rh_buf_steal(&o));
        rh_buf_free(&o);
    }
    free(actual);
    free(pnames);
    rh_buf_free(&pending);
    rh_ledger_free(&l);
    rh_engine_result_free(&res);
    return rc;
}

static int expect_output(rh_ctx *ctx, const rh_scn_step *st)
{
    if (!ctx->have_output)
        return rh_setup_error(ctx, st, "expect output: no Prisma command has run yet");
    int found = strstr(ctx->last_output.data, st->value) != NULL;
    if (found == st->negate) {
        rh_fail(ctx, st, NULL, NULL, "the last command's output %s \"%s\"", st->negate ? "contains" : "does not contain",
                st->value);
        rh_ctx_keep_output(ctx, rh_xstrdup(ctx->last_output.data));
        return -1;
    }
    return 0;
}

static int expect_order(rh_ctx *ctx, const rh_scn_step *st)
{
    const rh_migset *set;
    if (rh_ctx_migset(ctx, st, &set) < 0)
        return -1;
    long last = -1;
    for (size_t k = 0; k < st->nnames; k++) {
        long at = -1;
        for (size_t i = 0; i < set->n; i++)
            if (strcmp(set->items[i].name, st->names[k]) == 0)
                at = (long)i;
        if (at < 0)
            return rh_fail(ctx, st, NULL, NULL, "%s is not in the migrations folder at the current checkout", st->names[k]);
        if (at < last)
            return rh_fail(ctx, st, NULL, NULL, "Prisma %s (%s order) lists %s before %s", ctx->profile.version,
                           ctx->profile.order == RH_ORDER_ICU ? "ICU collation" : "byte", st->names[k],
                           st->names[k - 1]);
        last = at;
    }
    return 0;
}

/* rehearse's own findings, as `prisma migrate status` computes them at the current checkout. */
static int expect_finding(rh_ctx *ctx, const rh_scn_step *st)
{
    const rh_migset *set;
    if (rh_ctx_migset(ctx, st, &set) < 0)
        return -1;
    rh_engine_opts eo;
    rh_engine_opts_for(ctx, &eo);
    rh_engine_result res;
    rh_engine_result_init(&res);
    rh_err err;
    if (rh_ctx_default_tool(ctx) && rh_tool_run(RH_TOOL_DEFAULT, "status", ctx->conn, set, NULL, &eo, &res, &err) < 0) {
        rh_engine_result_free(&res);
        return rh_setup_error(ctx, st, "status: %s", err.msg);
    }
    const rh_finding *findings = res.findings;
    size_t n_findings = res.n_findings;
    if (!rh_ctx_default_tool(ctx)) { /* another tool: what its last command found */
        findings = ctx->findings;
        n_findings = ctx->n_findings;
    }
    rh_buf all;
    rh_buf_init(&all);
    int found = 0;
    for (size_t i = 0; i < n_findings; i++) {
        const rh_finding *f = &findings[i];
        const char *kind = rh_finding_kind_name(f->kind);
        rh_buf_printf(&all, "%s%s %s%s%s", all.len ? "\n" : "", kind, f->name ? f->name : "", f->detail ? ": " : "",
                      f->detail ? f->detail : "");
        if (st->arg && strcmp(kind, st->arg) == 0 && (!st->arg2 || (f->name && strcmp(f->name, st->arg2) == 0)))
            found = 1;
    }
    int rc = 0;
    if (st->negate && n_findings)
        rc = rh_fail(ctx, st, "no findings", all.data, "status has %zu finding(s)", n_findings);
    else if (!st->negate && !found)
        rc = rh_fail(ctx, st, NULL, all.len ? all.data : "(no findings)", "status does not find %s%s%s", st->arg,
                     st->arg2 ? " " : "", st->arg2 ? st->arg2 : "");
    rh_buf_free(&all);
    rh_engine_result_free(&res);
    return rc;
}

int rh_step_expect(rh_ctx *ctx, const rh_scn_step *st)
{
    switch (st->kind) {
    case RH_STEP_EXPECT_OBJECT: return expect_object(ctx, st);
    case RH_STEP_EXPECT_CATALOG: return expect_catalog(ctx, st);
    case RH_STEP_EXPECT_LEDGER: return expect_ledger(ctx, st);
    case RH_STEP_EXPECT_QUERY: return expect_query(ctx, st);
    case RH_STEP_EXPECT_STATUS: return expect_status(ctx, st);
    case RH_STEP_EXPECT_OUTPUT: return expect_output(ctx, st);
    case RH_STEP_EXPECT_ORDER: return expect_order(ctx, st);
    case RH_STEP_EXPECT_FINDING: return expect_finding(ctx, st);
    default: return rh_setup_error(ctx, st, "step kind %d is not implemented", (int)st->kind);
    }
}
