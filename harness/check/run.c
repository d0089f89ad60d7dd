/*
 * run.c — one `rehearse check` run: history hazards, clean deploy, upgrade path (with an optional
 * seed), catalog comparison, production-like failures and the lock trace, on one throwaway cluster
 * holding a database per path (cheaper than a cluster per path); a cluster per path when a migration
 * may touch what the cluster's databases share (isolate.c).
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "migrations/plan.h"
#include "report/plan.h"
#include "catalog/catalog.h"
#include "check/check.h"
#include "check/check_int.h"
#include "cluster/cluster.h"
#include "engine/clean.h"
#include "engine/engine.h"
#include "migrations/plan.h"
#include "migrations/txblock.h"
#include "report/plan.h"
#include "source/history.h"
#include "tools/tool.h"
#include "util/buf.h"
#include "util/fs.h"
#include "report/escape.h"


static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* The repository-relative migration.sql of a migration. */
static char *sql_path(const rh_check_result *r, const char *name)
{
    return rh_xasprintf("%s/%s/migration.sql", r->migrations, name);
}

/* Where a history finding is annotated: the migration.sql when the folder has one at head. */
static char *history_file(const rh_check_result *r, const rh_git_history *h, const rh_hist_finding *x)
{
    if (x->name && x->kind != RH_HIST_REMOVED && x->kind != RH_HIST_NO_SQL) {
        const rh_migration *m = rh_migset_find(&h->b, x->name);
        if (m && m->sql)
            return sql_path(r, x->name);
    }
    return x->file ? rh_xstrdup(x->file) : NULL;
}

int rh_check_in_names(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

/* Did base's deploy on the upgrade path apply this migration (production has run it)? */
static int applied_at_base(const rh_engine_result *base, const char *name)
{
    return rh_check_in_names(base->applied, base->n_applied, name);
}

/*
 * On a recovery path, an edited or removed migration that base never applied (the one base fails
 * at, or one after it) is no hazard: production never ran its old version. What production does
 * with it on that path instead (checked against Prisma in tests/conformance/engine.test.sh,
 * recover_* cases).
 */
static char *recovery_history_message(const rh_check_result *r, const rh_hist_finding *x)
{
    int failed_here = strcmp(x->name, r->recovered_from) == 0;
    int resolved = strstr(r->recovery, "--rolled-back") != NULL;
    if (x->kind == RH_HIST_EDITED) {
        if (!failed_here)
            return rh_xasprintf("%s/migration.sql was edited between %s and %s; production never applied it (its "
                                "deploy stopped at %s), so it runs the version at %s",
                                x->name, r->base.label, r->head.label, r->recovered_from, r->head.label);
        if (resolved)
            return rh_xasprintf("%s/migration.sql was edited between %s and %s; it fails at %s, so production runs "
                                "the new version on the recovery path: `prisma migrate resolve --rolled-back` marks "
                                "the failed ledger row rolled back, then `prisma migrate deploy` applies %s again, "
                                "as it is at %s",
                                x->name, r->base.label, r->head.label, r->base.label, x->name, r->head.label);
        return rh_xasprintf("%s/migration.sql is given at %s; at %s its folder had none (P3015, no ledger row), so "
                            "the next `prisma migrate deploy` applies it",
                            x->name, r->head.label, r->base.label);
    }
    /* removed */
    if (!failed_here)
        return rh_xasprintf("%s exists at %s but not at %s; production never applied it (its deploy stopped at %s): "
                            "nothing of it to clean up",
                            x->name, r->base.label, r->head.label, r->recovered_from);
    if (resolved)
        return rh_xasprintf("%s fails at %s and is gone at %s: after `prisma migrate resolve --rolled-back %s` its "
                            "failed ledger row is marked rolled back; `prisma migrate deploy` skips it and `prisma "
                            "migrate status` reports the database up to date",
                            x->name, r->base.label, r->head.label, x->name);
    return rh_xasprintf("%s has no migration.sql at %s (P3015, no ledger row) and is gone at %s: nothing of it in "
                        "production",
                        x->name, r->base.label, r->head.label);
}

/*
 * (d): history findings as check findings; additions are listed in the summary, not as findings.
 * The history already gives one order-differs finding per migration, naming the others it passes.
 * `base`: the deploy of base on the upgrade path (what production has applied).
 */
static void add_history(rh_check_result *r, const rh_git_history *h, const rh_engine_result *base)
{
    for (size_t i = 0; i < h->n; i++) {
        const rh_hist_finding *x = &h->items[i];
        rh_check_level level = RH_CHECK_WARNING;
        const char *code = rh_hist_kind_name(x->kind);
        switch (x->kind) {
        case RH_HIST_ADDED:
            continue;
        case RH_HIST_EDITED:
        case RH_HIST_NO_SQL:
            level = RH_CHECK_ERROR;
            break;
        default:
            break;
        }
        if (!x->hazard)
            level = RH_CHECK_NOTICE;
        char *file = history_file(r, h, x);
        if (r->recovered && x->name && (x->kind == RH_HIST_EDITED || x->kind == RH_HIST_REMOVED) &&
            !applied_at_base(base, x->name)) {
            char *msg = recovery_history_message(r, x);
            rh_check_add(r, RH_CHECK_NOTICE, 'd', code, x->name, file, file ? 1 : 0, NULL, "%s", msg);
            free(msg);
        } else {
            rh_check_add(r, level, 'd', code, x->name, file, file ? 1 : 0, NULL, "%s", x->message);
        }
        free(file);
    }
}

/* Create a database, connect to it, and silence its NOTICEs. */
static PGconn *open_db(rh_cluster *c, const char *db, int create, rh_err *err)
{
    if (create && rh_cluster_create_db(c, db, err) < 0)
        return NULL;
    PGconn *conn = rh_cluster_connect(c, db, err);
    if (conn)
        rh_check_quiet(conn);
    return conn;
}

/* A deploy that Prisma would end with an error, in one line for findings. */
static char *deploy_failure(const rh_engine_result *res)
{
    if (res->sqlstate[0])
        return rh_xasprintf("%s: SQLSTATE %s: %s", res->code, res->sqlstate, res->db_message ? res->db_message : "");
    return rh_xasprintf("%s", res->code[0] ? res->code : "error");
}

/* Prisma's own output of a failed deploy, for the finding's detail (without its debug dump). */
static char *deploy_detail(const rh_engine_result *res)
{
    const char *text = res->errout.data;
    const char *dump = strstr(text, "DbError {");
    size_t n = dump ? (size_t)(dump - text) : res->errout.len;
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        n--;
    return rh_xstrndup(text, n);
}

static const rh_check_trace *trace_of(const rh_check_result *r, const char *name)
{
    for (size_t i = 0; i < r->n_traces; i++)
        if (strcmp(r->traces[i].migration, name) == 0)
            return &r->traces[i];
    return NULL;
}

/*
 * The line a production failure points at: the statement the trace had to run outside the
 * transaction (25001), or the statement that failed in the trace; else line 1.
 */
static int failure_line(const rh_check_result *r, const char *name, const char *sqlstate)
{
    const rh_check_trace *t = trace_of(r, name);
    if (!t)
        return 1;
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(sqlstate, "25001") == 0 && t->stmts[i].outside_tx)
            return t->stmts[i].line;
        if (t->stmts[i].error)
            return t->stmts[i].line;
    }
    return 1;
}

static int is_pending(const rh_check_result *r, const char *name)
{
    return rh_check_in_names(r->pending, r->n_pending, name);
}

/* Transaction control that ends the transaction a migration file runs in (its locks are let go). */
static int ends_transaction(const rh_check_stmt *st)
{
    static const char *const words[] = {"COMMIT", "END", "ROLLBACK", "ABORT"};
    if (st->outside_tx)
        return 1;
    if (!st->skipped)
        return 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t l = strlen(words[i]);
        if (strncasecmp(st->keywords, words[i], l) == 0 && (st->keywords[l] == '\0' || st->keywords[l] == ' '))
            return 1;
    }
    return 0;
}

/*
 * A lock taken at statement j of trace t is held until the transaction ends: the file's, or, for a tool that
 * runs every pending file in one transaction (t->tx_goes_on), the run's, across the files traced after t.
 * The first statement from j on, in that transaction, whose work grows with a pre-existing table (it scans
 * one in full or rewrites one), and in *in its trace: while it runs, what the lock blocks waits. NULL when
 * every such statement is catalog-only.
 */
static const rh_check_stmt *slow_while_held(const rh_check_result *r, const rh_check_trace *t, size_t j,
                                            const rh_check_trace **in)
{
    assert(t >= r->traces && t < r->traces + r->n_traces);
    for (size_t ti = (size_t)(t - r->traces); ti < r->n_traces; ti++, j = 0) {
        const rh_check_trace *x = &r->traces[ti];
        for (size_t k = j; k < x->n; k++) {
            const rh_check_stmt *st = &x->stmts[k];
            if ((x != t || k > j) && ends_transaction(st))
                return NULL;
            if (st->n_scans || st->n_rewrites) {
                *in = x;
                return st;
            }
        }
        if (!x->tx_goes_on)
            break;
    }
    return NULL;
}

/* The tool's deploy command, for words about its one transaction ("drizzle-kit migrate"). */
static const char *deploy_says(const rh_check_result *r)
{
    return r->tool ? r->tool->verbs[0].tool_says : "the deploy";
}

/* "line 3 (ALTER TABLE ...) rewrites "Order"" / "it scans "Order" in full" / "line 1 of FILE (...) rewrites b,
   in the same transaction: ..." (slow is statement of trace `in`; held_by of t) */
static char *slow_what(const rh_check_result *r, const rh_check_trace *t, const rh_check_stmt *held_by,
                       const rh_check_trace *in, const rh_check_stmt *slow)
{
    const char *table = slow->n_rewrites ? slow->rewrites[0] : slow->scans[0];
    const char *verb = slow->n_rewrites ? "rewrites" : "reads every row of";
    if (slow == held_by)
        return rh_xasprintf("it %s %s", verb, table);
    if (in != t)
        return rh_xasprintf("line %d of %s (%s) %s %s, in the same transaction (`%s` runs every pending migration in "
                            "one transaction)",
                            slow->line, in->file, slow->keywords, verb, table, deploy_says(r));
    return rh_xasprintf("line %d (%s) %s %s", slow->line, slow->keywords, verb, table);
}

static int is_table(char relkind)
{
    return relkind == 'r' || relkind == 'p' || relkind == 'm';
}

/* How the tool can run CREATE INDEX without blocking writes, for the lock finding's advice. */
static const char *concurrently_hint(const rh_check_result *r)
{
    if (r->tool && r->tool->concurrently_hint)
        return r->tool->concurrently_hint;
    return "CREATE INDEX CONCURRENTLY, alone in a migration file of its own, lets writes go on (Prisma runs a file "
           "as one transaction, where CONCURRENTLY fails)";
}

/*
 * The lock findings of one statement, one per pre-existing table, by the strongest mode it took.
 * Ranked by what users of the table feel (docs/check.md, "Findings and levels"):
 *   blocks reads and writes (AccessExclusive), or writes (Share, ShareRowExclusive, Exclusive), while
 *   work that grows with a table runs -> warning (access-exclusive, blocks-writes, lock-table);
 *   the same modes for catalog-only work -> notice lock-queue: brief, but the request waits behind
 *   long transactions and everything it conflicts with queues behind it (set lock_timeout);
 *   weaker modes (ShareUpdateExclusive and below: reads and writes go on) -> nothing.
 */
static void add_stmt_lock_findings(rh_check_result *r, const rh_check_trace *t, size_t j)
{
    const rh_check_stmt *st = &t->stmts[j];
    const int share = rh_check_lock_strength("ShareLock");
    const int access_exclusive = rh_check_lock_strength("AccessExclusiveLock");
    const int lock_table = strncasecmp(st->keywords, "LOCK", 4) == 0 && (st->keywords[4] == '\0' || st->keywords[4] == ' ');
    const int create_index =
        strncasecmp(st->keywords, "CREATE INDEX", 12) == 0 || strncasecmp(st->keywords, "CREATE UNIQUE INDEX", 19) == 0;
    for (size_t k = 0; k < st->n_locks; k++) {
        const rh_check_lock *l = &st->locks[k];
        if (!l->existed_before || !is_table(l->relkind))
            continue;
        int strength = rh_check_lock_strength(l->mode), strongest = 1;
        for (size_t m = 0; m < st->n_locks; m++)
            if (m != k && strcmp(st->locks[m].relation, l->relation) == 0 &&
                (rh_check_lock_strength(st->locks[m].mode) > strength ||
                 (rh_check_lock_strength(st->locks[m].mode) == strength && m < k)))
                strongest = 0;
        if (!strongest || (strength < share && !lock_table))
            continue;
        const char *blocked = strength == access_exclusive ? "every read and write of" : "every write to";
        const rh_check_trace *slow_in = t;
        const rh_check_stmt *slow = slow_while_held(r, t, j, &slow_in);
        /* the modes say who waits; for how long needs tables of production's size */
        const char *sizes = r->scaled ? NULL
                                      : "traced on the tables as base and --seed leave them: how long this blocks "
                                        "grows with production's size; fill them with --scale FILE (the JSON of "
                                        "`rehearse stats`) or --rows TABLE=N";
        if (lock_table) {
            char *what = slow ? slow_what(r, t, st, slow_in, slow) : NULL;
            char *until = t->tx_goes_on ? rh_xasprintf("until the whole run commits (`%s` runs every pending "
                                                       "migration in one transaction)",
                                                       deploy_says(r))
                                        : rh_xstrdup("until the migration commits");
            rh_check_add(r, slow && strength >= share ? RH_CHECK_WARNING : RH_CHECK_NOTICE, 'f', "lock-table",
                         t->migration, t->file, st->line, NULL,
                         "LOCK TABLE takes %s on existing table %s %s%s%s%s (%s)", l->mode, l->relation, until,
                         strength < share ? ": reads and writes go on"
                                          : strength == access_exclusive ? ": reads and writes of it wait"
                                                                         : ": writes to it wait",
                         what ? ", while " : "", what ? what : "", st->text);
            free(what);
            free(until);
        } else if (slow && rh_check_over_block_limit(r, st, l->relation)) {
            continue; /* measured past --max-block: its error says who waited, how long, and the safer way */
        } else if (slow) {
            char *what = slow_what(r, t, st, slow_in, slow);
            rh_check_add(r, RH_CHECK_WARNING, 'f', strength == access_exclusive ? "access-exclusive" : "blocks-writes",
                         t->migration, t->file, st->line, sizes,
                         "%s takes %s on existing table %s and holds it while %s: %s %s waits for a time that "
                         "grows with the table%s%s (%s)",
                         st->keywords, l->mode, l->relation, what, blocked, l->relation,
                         create_index ? "; " : "", create_index ? concurrently_hint(r) : "",
                         st->text);
            free(what);
        } else {
            rh_check_add(r, RH_CHECK_NOTICE, 'f', "lock-queue", t->migration, t->file, st->line, NULL,
                         "%s takes %s on existing table %s for a change that reads no table%s: brief, but the "
                         "request waits behind any open transaction on %s and %s it queues behind it meanwhile; set "
                         "lock_timeout (e.g. SET lock_timeout = '5s'; at the top of the file) so the deploy fails "
                         "instead of stalling the application (%s)",
                         st->keywords, l->mode, l->relation,
                         t->tx_goes_on ? " (nor do the migrations after it, which run in the same transaction)" : "",
                         l->relation, strength == access_exclusive ? "every query on" : "every write to", st->text);
        }
    }
}

/* (f): turn the traces into findings: locks ranked by what they block and for how long, rewrites. */
/*
 * (f): what the file's own transaction control (statement j) does when the profile's Prisma sends
 * the file as one simple query, or statement by statement (>= 7.4) (migrations/txblock.h).
 * Nothing when BEGIN comes first and COMMIT last.
 */
static void add_transaction_control(rh_check_result *r, const rh_check_trace *t, size_t j)
{
    const rh_check_stmt *st = &t->stmts[j];
    const char **kw = rh_xcalloc(t->n, sizeof *kw);
    for (size_t k = 0; k < t->n; k++)
        kw[k] = t->stmts[k].keywords;
    size_t before = 0;
    /* as the file is sent: a split-statements profile sends a file its splitter rejects whole */
    rh_txblock_effect e = rh_txblock_effect_of(kw, t->n, j, t->sent_split, &before);
    free(kw);
    switch (e) {
    case RH_TXBLOCK_NONE:
        break;
    case RH_TXBLOCK_JOINS:
        rh_check_add(r, RH_CHECK_NOTICE, 'f', "transaction-control", t->migration, t->file, st->line, NULL,
                     "%s after %zu statement(s) of the same file: PostgreSQL runs those in the transaction block "
                     "it opens (the file is one simple query), so they commit or roll back with it",
                     st->keywords, before);
        break;
    case RH_TXBLOCK_PARTIAL:
        rh_check_add(r, RH_CHECK_NOTICE, 'f', "transaction-control", t->migration, t->file, st->line, NULL,
                     "%s in the middle of the file commits the %zu statement(s) before it; what follows runs in "
                     "a new transaction, so if it fails the committed part stays while the migration is "
                     "recorded as failed (a partial apply)",
                     st->keywords, before);
        break;
    case RH_TXBLOCK_UNTERMINATED:
        rh_check_add(r, RH_CHECK_WARNING, 'f', "transaction-control", t->migration, t->file, st->line, NULL,
                     "%s with no COMMIT after it: the transaction is still open when the file ends. Prisma "
                     "reports the migration applied, but records it inside that transaction, and closing "
                     "the connection rolls all of it back: the schema change is lost and the ledger row stays "
                     "unfinished (the next deploy stops with P3009)",
                     st->keywords);
        break;
    case RH_TXBLOCK_ROLLBACK:
        rh_check_add(r, RH_CHECK_NOTICE, 'f', "transaction-control", t->migration, t->file, st->line, NULL,
                     "%s undoes the %zu statement(s) before it in its transaction block, and the migration "
                     "is still recorded as applied",
                     st->keywords, before);
        break;
    }
}

/* (f): turn the traces into findings: ACCESS EXCLUSIVE on a table that existed, table rewrites. */
static void add_lock_findings(rh_check_result *r)
{
    for (size_t i = 0; i < r->n_traces; i++) {
        const rh_check_trace *t = &r->traces[i];
        if (t->parse_error)
            rh_check_add(r, RH_CHECK_WARNING, 'f', "parse-error", t->migration, t->file, 1, NULL,
                         "%s: PostgreSQL's parser rejects the file: %s", t->file, t->parse_error);
        for (size_t j = 0; j < t->n; j++) {
            const rh_check_stmt *st = &t->stmts[j];
            add_stmt_lock_findings(r, t, j);
            for (size_t k = 0; k < st->n_rewrites; k++)
                rh_check_add(r, RH_CHECK_WARNING, 'f', "table-rewrite", t->migration, t->file, st->line, NULL,
                             "%s rewrites table %s (new relfilenode): time grows with the table, under "
                             "AccessExclusiveLock (%s)",
                             st->keywords, st->rewrites[k], st->text);
            for (size_t k = 0; k < st->n_unprobed; k++) {
                /* never a silent gap: a gate cannot pass what was not measured */
                int gate = r->max_block_ms > 0 || r->max_read_block_ms > 0 || r->max_write_block_ms > 0;
                rh_check_add(r, gate ? RH_CHECK_ERROR : RH_CHECK_WARNING, 'f', "not-probed", t->migration, t->file,
                             st->line, NULL,
                             "%s locks existing table %s, but its reads and writes were not probed: the measuring "
                             "cluster had no connection left for them (two per table locked at once; "
                             "max_connections=200 leaves room for about 95 tables), so how long it blocks is not "
                             "measured%s; split the migration: fewer tables locked in one transaction are measured, and "
                             "block less at once (%s)",
                             st->keywords, st->unprobed[k], gate ? " and the --max-block gate cannot pass it" : "",
                             st->text);
            }
            if (st->skipped && !r->tool) /* the words are how Prisma sends a file */
                add_transaction_control(r, t, j);
            if (st->error)
                rh_check_add(r, RH_CHECK_NOTICE, 'f', "trace-stopped", t->migration, t->file, st->line, NULL,
                             "lock trace stopped: the statement failed on the copy of the upgrade path "
                             "(SQLSTATE %s: %s)", st->sqlstate, st->error);
        }
    }
}

/* How head's Prisma sends a new migration, where it matters (issue 11.4): a warning when a
   multi-statement file runs statement by statement (Prisma >= 7.4: a failure in its middle leaves the
   statements before it applied and a failed ledger row); a notice when >= 7.4 sends a multi-statement
   file whole because sqlparser 0.61 rejects one of its statements (named, with its line). */
static void add_send_findings(rh_check_result *r, const rh_migset *head)
{
    r->added_send = rh_xcalloc(r->n_added ? r->n_added : 1, sizeof *r->added_send);
    for (size_t i = 0; i < head->n; i++) {
        const rh_migration *m = &head->items[i];
        if (!is_pending(r, m->name) || !m->sql)
            continue;
        rh_plan plan;
        rh_tool_plan(RH_TOOL_DEFAULT, m, &r->profile, &plan, NULL);
        rh_buf mode;
        rh_buf_init(&mode);
        rh_report_plan_mode(&plan, &mode);
        for (size_t k = 0; k < r->n_added; k++) /* every new migration's mode is reported, risky or not */
            if (strcmp(r->added[k], m->name) == 0 && !r->added_send[k])
                r->added_send[k] = rh_xstrdup(mode.data);
        char *file = sql_path(r, m->name);
        int line = plan.mode == RH_SEND_WHOLE_FALLBACK ? plan.fallback_line : 1;
        if (!plan.atomic)
            rh_check_add(r, RH_CHECK_WARNING, 'f', "not-atomic", m->name, file, 1, NULL,
                         "Prisma %s sends this file as %s: NOT atomic, a failure in the middle leaves the "
                         "statements before it applied and a failed ledger row",
                         r->profile.version, mode.data);
        else if (plan.mode == RH_SEND_WHOLE_FALLBACK && plan.n_stmts > 1) /* atomic after all: say why */
            rh_check_add(r, RH_CHECK_NOTICE, 'f', "send-mode", m->name, file, line, NULL, "Prisma %s sends this file as %s",
                         r->profile.version, mode.data);
        rh_buf_free(&mode);
        free(file);
    }
}

/* (f): how head's Prisma sends a migration: the file as written, one transaction or statement by statement. */
static void default_tool_sends(const rh_check_result *r, const rh_migration *m, rh_buf *text, int *autocommit)
{
    rh_plan plan;
    rh_tool_plan(RH_TOOL_DEFAULT, m, &r->profile, &plan, NULL);
    *autocommit = plan.mode == RH_SEND_STATEMENTS;
    rh_buf_append(text, m->sql, m->sql_len);
}

const rh_check_sender rh_check_default_sender = {.text = default_tool_sends, .file_suffix = "/migration.sql"};

void rh_check_lock_findings(rh_check_result *r)
{
    add_lock_findings(r);
}

int rh_check_failure_line(const rh_check_result *r, const char *name, const char *sqlstate)
{
    return failure_line(r, name, sqlstate);
}

/* (g): load the seed file as one simple query, as `psql -1 -f` would. */
static int load_seed(PGconn *conn, const char *path, rh_err *err)
{
    char *sql = NULL;
    size_t len = 0;
    if (rh_fs_read(path, &sql, &len, err) < 0)
        return rh_err_prefix(err, "--seed");
    PGresult *res = PQexec(conn, sql);
    int rc = 0;
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
        rc = rh_err_set(err, "--seed %s failed after base was deployed: %s", path, PQerrorMessage(conn));
    PQclear(res);
    free(sql);
    return rc;
}

int rh_check_load_seed(PGconn *conn, const char *path, rh_err *err)
{
    return load_seed(conn, path, err);
}

/*
 * --scale / --rows: fill the upgrade path's tables to production's sizes after base (and the seed),
 * before head's migrations, so (b), (e) and (f) run on tables of that size. What the filler could
 * not do is a notice of (b).
 */
static int fill_to_scale(rh_check_result *r, PGconn *upgrade, const rh_scale *scale, long long fill_max, rh_err *err)
{
    /* --fill-max: the same tables, at most fill_max rows each (a shallow copy: the filler only reads it) */
    rh_scale capped = *scale;
    if (fill_max > 0) {
        capped.tables = rh_xcalloc(scale->ntables ? scale->ntables : 1, sizeof *capped.tables);
        for (size_t i = 0; i < scale->ntables; i++) {
            capped.tables[i] = scale->tables[i];
            if (capped.tables[i].rows > fill_max)
                capped.tables[i].rows = fill_max;
        }
    }
    rh_scale_fill_opts fo = {.ledger_tool = r->tool}; /* the tool's ledger is not the application's */
    int rc = rh_scale_fill_with(upgrade, &capped, &fo, &r->fill, err);
    if (fill_max > 0)
        free(capped.tables);
    if (rc < 0)
        return rh_err_prefix(err, "--scale");
    r->scaled = 1;
    /* a --rows guess names a table on purpose: one that base does not have is a mistake (a typo, or a
       table only head creates: empty in production) */
    for (size_t i = 0; i < r->fill.nunmatched; i++) {
        const rh_scale_table *t = &scale->tables[r->fill.unmatched[i]];
        if (t->table_bytes < 0)
            return rh_err_set(err, "--rows %s%s%s=%lld: base has no table %s%s%s (expected a table of base's "
                                   "schema; a table only head creates is empty in production)",
                              t->schema ? t->schema : "", t->schema ? "." : "", t->name, t->rows,
                              t->schema ? t->schema : "", t->schema ? "." : "", t->name);
    }
    /* production's stats may list tables the migrations do not make (other schemas, other tools):
       said, not an error */
    if (r->fill.nunmatched) {
        rh_buf names;
        rh_buf_init(&names);
        for (size_t i = 0; i < r->fill.nunmatched && i < 10; i++) {
            const rh_scale_table *t = &scale->tables[r->fill.unmatched[i]];
            rh_buf_printf(&names, "%s%s%s%s", i ? ", " : "", t->schema ? t->schema : "", t->schema ? "." : "",
                          t->name);
        }
        if (r->fill.nunmatched > 10)
            rh_buf_printf(&names, " and %zu more", r->fill.nunmatched - 10);
        rh_check_add(r, RH_CHECK_NOTICE, 'b', "scale-fill", NULL, NULL, 0, NULL,
                     "%zu table(s) of --scale's stats are not in base's schema, so not filled: %s",
                     r->fill.nunmatched, names.data);
        rh_buf_free(&names);
    }
    for (size_t i = 0; i < r->fill.n; i++) {
        const rh_scale_filled *f = &r->fill.tables[i];
        if (f->note)
            rh_check_add(r, RH_CHECK_NOTICE, 'b', "scale-fill", NULL, NULL, 0, NULL,
                         "table %s.%s: %lld of %lld rows after filling: %s", f->schema, f->name,
                         f->before + f->inserted, f->target, f->note);
    }
    return 0;
}

int rh_check_fill_to_scale(rh_check_result *r, PGconn *upgrade, const rh_scale *scale, long long fill_max, rh_err *err)
{
    return fill_to_scale(r, upgrade, scale, fill_max, err);
}

/* (c): snapshot the upgrade path and compare it with the clean deploy's catalog `a`. */
static int compare_catalogs(rh_check_result *r, const rh_catalog *a, PGconn *upgrade, const rh_git_history *h,
                            const rh_engine_result *base, rh_err *err)
{
    rh_catalog_opts copts = {0};
    rh_catalog *b = NULL;
    if (rh_catalog_snapshot(upgrade, &copts, &b, err) < 0)
        return rh_err_prefix(err, "catalog of the upgrade path");
    rh_buf diff;
    rh_buf_init(&diff);
    char *la = rh_xasprintf("clean deploy of %s", r->head.label);
    char *lb = rh_xasprintf("upgrade path %s -> %s", r->base.label, r->head.label);
    r->catalog_compared = 1;
    r->catalog_differences = rh_catalog_diff(a, b, &copts, la, lb, &diff);
    if (r->catalog_differences) {
        /* point at the first migration edited after base: the usual cause */
        const char *edited = NULL;
        for (size_t i = 0; i < h->n; i++)
            if (h->items[i].kind == RH_HIST_EDITED && applied_at_base(base, h->items[i].name)) {
                edited = h->items[i].name;
                break;
            }
        char *file = edited ? sql_path(r, edited) : NULL;
        rh_check_add(r, RH_CHECK_ERROR, 'c', "catalog-differs", edited, file, file ? 1 : 0, diff.data,
                     "the upgrade path (deploy %s, then %s) ends in a different schema than a clean deploy of %s: "
                     "%zu object(s) differ%s%s",
                     r->base.label, r->head.label, r->head.label, r->catalog_differences,
                     edited ? "; likely cause: edited after apply: " : "", edited ? edited : "");
        free(file);
    }
    free(la);
    free(lb);
    rh_buf_free(&diff);
    rh_catalog_free(b);
    return 0;
}

/* Was this migration edited or removed between base and head? */
static int changed_at_head(const rh_git_history *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if ((h->items[i].kind == RH_HIST_EDITED || h->items[i].kind == RH_HIST_REMOVED) && h->items[i].name &&
            strcmp(h->items[i].name, name) == 0)
            return 1;
    return 0;
}

/* The recovery commands on one line: "`a`, then `b`". */
static char *recovery_one_line(const rh_check_result *r)
{
    rh_buf b;
    rh_buf_init(&b);
    const char *p = r->recovery;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        rh_buf_printf(&b, "%s`%.*s`", b.len ? ", then " : "", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
    return rh_buf_steal(&b);
}

/* A migration name as one shell word (names are usually plain; quote anything else). */
static void shell_word(rh_buf *b, const char *s)
{
    if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(s)) {
        rh_buf_puts(b, s);
        return;
    }
    rh_buf_putc(b, '\'');
    for (; *s; s++)
        if (*s == '\'')
            rh_buf_puts(b, "'\\''");
        else
            rh_buf_putc(b, *s);
    rh_buf_putc(b, '\'');
}

/*
 * Base fails at X on an empty database, so production's deploy stopped at X too. The team ships the
 * fix (head) after the recovery Prisma requires: `resolve --rolled-back X` when X left a failed row
 * in the ledger (deploy answers P3009 until then), nothing when X left no row (P3015: a folder
 * without migration.sql). Run that recovery on the upgrade-path database; head's deploy then runs
 * on it. Returns 1 recovered, 0 when base's failure is not one production recovers from this way
 * (nothing named, or X still holds a finished row), -1 when rehearse cannot go on.
 */
static int recover_base(rh_check_result *r, PGconn *upgrade, const rh_git_history *h, const rh_engine_opts *eopts,
                        const rh_engine_result *base, rh_err *err)
{
    const char *x = base->failed_migration;
    if (!x)
        return 0;
    rh_ledger ledger = {0};
    int exists = 0;
    if (RH_TOOL_DEFAULT->ledger_exists(upgrade, &exists, err) < 0 || (exists && RH_TOOL_DEFAULT->ledger_read(upgrade, &ledger, err) < 0))
        return rh_err_prefix(err, "reading the ledger after base failed");
    int failed_row = 0, finished_row = 0;
    for (size_t i = 0; i < ledger.n; i++) {
        if (strcmp(ledger.rows[i].migration_name, x) != 0 || ledger.rows[i].rolled_back)
            continue;
        if (ledger.rows[i].finished)
            finished_row = 1;
        else
            failed_row = 1;
    }
    rh_ledger_free(&ledger);
    if (finished_row)
        return 0;
    rh_buf cmds;
    rh_buf_init(&cmds);
    if (failed_row) {
        rh_engine_result res;
        rh_engine_result_init(&res);
        if (rh_tool_run(RH_TOOL_DEFAULT, "resolve --rolled-back", upgrade, &h->b, x, eopts, &res, err) < 0) {
            rh_engine_result_free(&res);
            rh_buf_free(&cmds);
            return rh_err_prefix(err, "resolve --rolled-back %s after base failed", x);
        }
        int ok = res.exit_code == 0;
        rh_engine_result_free(&res);
        if (!ok) {
            rh_buf_free(&cmds);
            return 0;
        }
        rh_buf_puts(&cmds, "npx prisma migrate resolve --rolled-back ");
        shell_word(&cmds, x);
        rh_buf_putc(&cmds, '\n');
    }
    rh_buf_puts(&cmds, "npx prisma migrate deploy\n");
    r->recovered = 1;
    r->recovered_from = rh_xstrdup(x);
    r->recovery = rh_buf_steal(&cmds);
    return 1;
}

/* (a)+(b)+(e): the production-like failure of a deploy as findings. */
static void add_deploy_findings(rh_check_result *r, const rh_git_history *h, const rh_engine_result *clean,
                                const rh_engine_result *up)
{
    int same = 0;
    if ((r->base_ok || r->recovered) && !r->upgrade_ok) {
        const char *name = up->failed_migration;
        char *what = deploy_failure(up);
        char *detail = deploy_detail(up);
        if (clean->exit_code != 0 && clean->failed_migration && name && strcmp(clean->failed_migration, name) == 0 &&
            strcmp(clean->sqlstate, up->sqlstate) == 0)
            same = 1;
        char *file = name ? sql_path(r, name) : NULL;
        int line = name ? failure_line(r, name, up->sqlstate) : 0;
        char *steps = r->recovered ? recovery_one_line(r) : NULL;
        char *path = r->recovered ? rh_xasprintf(" on production's recovery path (%s fails at %s; then %s)",
                                                 r->recovered_from, r->base.label, steps)
                                  : rh_xstrdup("");
        free(steps);
        rh_check_finding *f =
            rh_check_add(r, RH_CHECK_ERROR, 'e', "fails-in-production", name, file, line, detail,
                         "%s fails when deployed after %s%s, as production would run it: %s%s%s",
                         name ? name : "the deploy", r->base.label, path, what,
                         same ? " (a clean deploy fails the same way)" : "",
                         r->recovered && name && strcmp(name, r->recovered_from) == 0 && !changed_at_head(h, name)
                             ? " (head leaves it as it is at base, where it fails)" : "");
        free(path);
        if (strcmp(up->sqlstate, "25001") == 0) {
            free(f->detail);
            f->detail = rh_xasprintf("Prisma sends migration.sql as one simple query, so PostgreSQL runs the whole file "
                                     "as one transaction, and this statement cannot run inside one. Move it alone "
                                     "into a migration of its own.\n%s",
                                     detail);
        }
        /* new migrations after the failing one were never tried */
        size_t later = 0;
        int seen = 0;
        for (size_t i = 0; i < r->n_pending; i++) {
            if (name && strcmp(r->pending[i], name) == 0)
                seen = 1;
            else if (seen)
                later++;
        }
        if (later)
            rh_check_add(r, RH_CHECK_NOTICE, 'e', "not-reached", NULL, NULL, 0, NULL,
                         "%zu migration(s) after %s were not deployed (the deploy stops at the first failure)",
                         later, name);
        free(file);
        free(what);
        free(detail);
    }
    if (!r->clean_ok && !same) {
        const char *name = clean->failed_migration;
        char *what = deploy_failure(clean);
        char *detail = deploy_detail(clean);
        char *file = name ? sql_path(r, name) : NULL;
        rh_check_add(r, RH_CHECK_ERROR, 'a', "clean-deploy-failed", name, file,
                     name ? failure_line(r, name, clean->sqlstate) : 0, detail,
                     "a clean deploy of %s fails at %s: %s", r->head.label, name ? name : "the start", what);
        free(file);
        free(what);
        free(detail);
    }
}

/*
 * (a) runs in its own thread, on its own database and connection, while (b) runs: two backends.
 * The one "clean deploy, then catalog" path (engine/clean.h): the catalog for (c) is taken here.
 * Isolated (isolate.c), it starts a cluster of its own first, and stops it when done (unless kept).
 */
typedef struct clean_job {
    rh_cluster *cluster;
    const rh_cluster_opts *own; /* isolated: start a cluster of its own with these */
    int keep;                   /* --keep: leave own_cluster running */
    rh_cluster *own_cluster;
    char *stop_error;           /* own_cluster's stop failed: why */
    const rh_migset *set;
    const rh_engine_opts *eopts;
    PGconn *conn;
    rh_engine_result *res;
    rh_catalog *cat;         /* the clean deploy's catalog, for (c); NULL when the deploy failed */
    rh_err err;
    int rc;                  /* 0 deployed, 1 failed as Prisma would, -1 rehearse could not */
    double ms;
} clean_job;

static void *clean_thread(void *arg)
{
    clean_job *j = arg;
    double t0 = now_ms();
    rh_err_clear(&j->err);
    rh_cluster *c = j->cluster;
    if (j->own) {
        if (rh_cluster_start(&j->own_cluster, j->own, &j->err) < 0 ||
            rh_cluster_create_db(j->own_cluster, DB_CLEAN, &j->err) < 0) {
            j->rc = -1;
            j->ms = now_ms() - t0;
            return NULL;
        }
        c = j->own_cluster;
    }
    j->conn = rh_cluster_connect(c, DB_CLEAN, &j->err);
    if (!j->conn) {
        j->rc = -1;
    } else {
        rh_check_quiet(j->conn);
        rh_catalog_opts copts = {0};
        j->rc = rh_engine_clean_snapshot(j->conn, j->set, j->eopts, &copts, &j->cat, j->res, &j->err);
    }
    if (j->own_cluster && !j->keep) { /* its catalog is taken: nothing else needs it */
        if (j->conn)
            PQfinish(j->conn);
        j->conn = NULL;
        rh_err e2;
        if (rh_cluster_stop(j->own_cluster, &e2) < 0)
            j->stop_error = rh_xstrdup(e2.msg);
        j->own_cluster = NULL;
    }
    j->ms = now_ms() - t0;
    return NULL;
}

/*
 * (f) in its own thread, on DB_PROBE, while (b) deploys head on DB_UPGRADE: the two meet in nothing a
 * trace reads (its own backend's pg_locks and pg_class rows, its own transaction's scan counters; a
 * concurrent index build waits only for its own database's transactions), so the trace is the one a
 * run after (b) takes. The result it fills holds only what the tracer reads; its traces move into the
 * check's result after the join.
 */
typedef struct trace_job {
    rh_cluster *cluster;
    const rh_migset *set;
    rh_check_result r;       /* pending, migrations, profile in; traces out */
    rh_err err;
    int rc;
    double ms;
} trace_job;

static void *trace_thread(void *arg)
{
    trace_job *j = arg;
    double t0 = now_ms();
    rh_err_clear(&j->err);
    j->rc = rh_check_trace_pending(&j->r, j->cluster, DB_PROBE, 0, j->set, &rh_check_default_sender, &j->err);
    j->ms = now_ms() - t0;
    return NULL;
}

/* Start (f) in its thread on db DB_PROBE of c, tracing names (head's migrations its deploy runs). */
static int start_trace(trace_job *j, pthread_t *tid, rh_cluster *c, const rh_check_result *out, const rh_migset *head,
                       char **names, size_t n, rh_err *err)
{
    *j = (trace_job){.cluster = c, .set = head};
    j->r.pending = names;
    j->r.n_pending = n;
    j->r.migrations = out->migrations;
    j->r.profile = out->profile;
    if (pthread_create(tid, NULL, trace_thread, j) != 0)
        return rh_err_set(err, "cannot start a thread for the lock trace");
    return 0;
}

/* Wait for (f) and drop what it traced (it traced what this check does not run after all). */
static void discard_trace(trace_job *j, pthread_t tid)
{
    pthread_join(tid, NULL);
    for (size_t i = 0; i < j->r.n_traces; i++)
        rh_check_trace_free(&j->r.traces[i]);
    free(j->r.traces);
    j->r.traces = NULL;
    j->r.n_traces = 0;
}

static int same_names(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return 1;
}

/*
 * (f) runs beside (b) unless it measures (--scale: the meter times statements on the machine's cores). What
 * the two could share is the cluster's global objects (a database (b) creates is there for (f)'s CREATE
 * DATABASE, or not, by chance): when a migration or the seed may touch them, the paths are isolated and
 * (f) traces in a cluster of its own (isolate.c); else nothing of it depends on when (b) runs.
 */
static int trace_beside_upgrade(const rh_check_opts *o)
{
    return !o->scale;
}

int rh_check_run(const rh_check_opts *o, rh_check_result *out, rh_err *err)
{
    memset(out, 0, sizeof *out);
    double t0 = now_ms();
    const char *repo_path = o->repo ? o->repo : ".";
    char *base_spec = NULL;
    if (o->base) {
        base_spec = rh_xstrdup(o->base);
        snprintf(out->base_how, sizeof out->base_how, "--base");
    } else if (rh_check_default_base(repo_path, &base_spec, out->base_how, sizeof out->base_how, err) < 0) {
        return -1;
    }
    const char *head_spec = o->head ? o->head : RH_GIT_WORKTREE;

    rh_git_repo *repo = NULL;
    rh_git_history h;
    memset(&h, 0, sizeof h);
    rh_cluster *cluster = NULL, *probe_cluster = NULL; /* probe_cluster: (f)'s own, when isolated */
    PGconn *clean = NULL, *upgrade = NULL;
    char *isolated = NULL; /* why the paths run in clusters of their own (isolate.c); NULL: one cluster */
    rh_engine_result rclean, rup, rbase;
    rh_engine_result_init(&rclean);
    rh_engine_result_init(&rup);
    rh_engine_result_init(&rbase);
    int rc = -1, have_history = 0, probe = 0, joined = 1, traced = 1;
    pthread_t clean_tid, trace_tid;
    clean_job job;
    memset(&job, 0, sizeof job);
    trace_job tjob;
    memset(&tjob, 0, sizeof tjob);
    rh_cluster_opts copts = {.pg_bin = o->pg_bin, .pg_version = o->pg_version, .superuser = o->superuser};
    rh_check_cache cc;
    memset(&cc, 0, sizeof cc);

    if (rh_git_open(&repo, repo_path, err) < 0)
        goto out;
    if (rh_git_resolve(repo, base_spec, &out->base, err) < 0) {
        rh_err_prefix(err, "--base");
        goto out;
    }
    if (rh_git_resolve(repo, head_spec, &out->head, err) < 0) {
        rh_err_prefix(err, "--head");
        goto out;
    }
    rh_git_history_opts hopts = {.migrations = o->migrations, .tool_version = o->tool_version};
    if (rh_git_history_compute(repo, out->base.worktree ? RH_GIT_WORKTREE : out->base.sha,
                               out->head.worktree ? RH_GIT_WORKTREE : out->head.sha, &hopts, &h, err) < 0)
        goto out;
    have_history = 1;
    out->migrations = rh_xstrdup(h.migrations);
    out->profile = h.profile;
    out->profile_from = h.profile_from;
    snprintf(out->profile_source, sizeof out->profile_source, "%s", h.profile_source);
    out->n_base = h.a.n;
    out->n_head = h.b.n;
    out->added = rh_xcalloc(h.b.n ? h.b.n : 1, sizeof *out->added);
    for (size_t i = 0; i < h.b.n; i++)
        if (!rh_migset_find(&h.a, h.b.items[i].name))
            out->added[out->n_added++] = rh_xstrdup(h.b.items[i].name);

    out->ms_history = now_ms() - t0;
    isolated = rh_check_isolation_reason(&h.a, &h.b, o->seed_file);

    /* one cluster, a database per path; from base's cached state when there is one */
    double tc = now_ms();
    out->superuser = o->superuser;
    rh_check_cache_find(&cc, !o->no_cache && !o->keep, RH_TOOL_DEFAULT, &h.profile, o->superuser, &h.a, &h.b, &copts);
    /* measuring (--scale): connections for two probes per locked table; a server setting only, so the
       state found above (its data) still fits */
    static const char *const measuring[] = RH_SCALE_MEASURING_SETTINGS;
    if (o->scale && !copts.settings)
        copts.settings = measuring;
    out->ms_lookup = now_ms() - tc;
    if (rh_check_cache_start(&cc, &cluster, &copts, err) < 0)
        goto out;
    out->cached = cc.cached;
    rh_cluster_timing ct = rh_cluster_last_timing(cluster);
    out->ms_copy = ct.copy_us / 1000.0;
    out->ms_ready = ct.ready_us / 1000.0;
    out->ms_auth = ct.auth_us / 1000.0;
    out->postgres = rh_xstrdup(rh_cluster_pgbin(cluster)->version);
    char *pg_note = o->scale ? rh_pgver_mismatch_note(o->scale->server_version, "--scale's statistics",
                                                      "this check ran on", out->postgres) : NULL;
    if (pg_note)
        rh_check_add(out, RH_CHECK_WARNING, 'a', "postgres-version-differs", NULL, NULL, 0, NULL,
                     "%s; a migration can deploy here and fail there", pg_note);
    free(pg_note);
    out->ms_cluster = now_ms() - tc;
    rh_engine_opts eopts = {.profile = &h.profile};
    rh_engine_opts eopts_base = eopts, eopts_clean = eopts;
    eopts_base.resumed = cc.cached;

    /* (a) clean deploy of head, in a thread while (b) runs */
    /* One path: warm, head beginning with all of base's migrations unchanged, nothing loaded between
       them: (a) would continue base's whole cached state with head's new migrations on a connection of
       its own, which is what (b) does after base's deploy (which finds everything applied): the same
       statements on the same bytes. (b)'s run is (a)'s too, and (c) compares a schema with itself:
       neither runs (state.c keeps no database for (a) then). */
    int one_path = 0;
    if (rh_check_cache_databases(&cc, cluster, o->seed_file || o->scale, &eopts_clean.resumed, &one_path, err) < 0)
        goto out;
    /* isolated, (a) deploys head from nothing on a fresh cluster of its own */
    rh_cluster_opts copts_clean = copts;
    copts_clean.state = NULL;
    if (isolated) {
        eopts_clean.resumed = 0;
        rh_check_add(out, RH_CHECK_NOTICE, 'a', "isolated-paths", NULL, NULL, 0, NULL,
                     "%s: the clean deploy, the upgrade path and the lock trace each ran in a cluster of its own, "
                     "as production deploys on a server of its own",
                     isolated);
    }
    job = (clean_job){.cluster = cluster, .own = isolated ? &copts_clean : NULL, .keep = o->keep, .set = &h.b,
                      .eopts = &eopts_clean, .res = &rclean};
    if (!one_path) {
        if (pthread_create(&clean_tid, NULL, clean_thread, &job) != 0) {
            rh_err_set(err, "cannot start a thread for the clean deploy");
            goto out;
        }
        joined = 0;
    }

    /* One path from base's whole state: (f)'s database holds that state untouched, base's deploy will find all of
       it applied, so head's deploy will run head's migrations that base lacks: (f) traces them from now on,
       beside base's deploy too. Should base's deploy end otherwise, that trace is dropped below. */
    int early = one_path && cc.probe_held && cc.cached == h.a.n && !isolated && !o->no_locks && out->n_added > 0 &&
                trace_beside_upgrade(o);
    int probe_dirty = 0; /* DB_PROBE holds a dropped early trace's migrations, not base's state */
    if (early) {
        if (start_trace(&tjob, &trace_tid, cluster, out, &h.b, out->added, out->n_added, err) < 0)
            goto out;
        traced = 0;
    }

    /* (b) upgrade path: base, (g) the seed, then head */
    double tb = now_ms();
    if (!(upgrade = open_db(cluster, DB_UPGRADE, 0, err)))
        goto out;
    if (rh_tool_run(RH_TOOL_DEFAULT, "deploy", upgrade, &h.a, NULL, &eopts_base, &rbase, err) < 0) {
        rh_err_prefix(err, "deploy of base %s", out->base.label);
        goto out;
    }
    out->ms_base = now_ms() - tb;
    out->base_ok = rbase.exit_code == 0;
    if (!out->base_ok) {
        /* resolve is a new `prisma` process: a new connection, without base's session state */
        PQfinish(upgrade);
        if (!(upgrade = open_db(cluster, DB_UPGRADE, 0, err)) || recover_base(out, upgrade, &h, &eopts, &rbase, err) < 0)
            goto out;
    }
    if (!out->base_ok && !out->recovered) {
        char *what = deploy_failure(&rbase);
        char *detail = deploy_detail(&rbase);
        rh_check_add(out, RH_CHECK_ERROR, 'b', "base-deploy-failed", rbase.failed_migration, NULL, 0, detail,
                     "base %s does not deploy on an empty database (%s): the upgrade path cannot be checked",
                     out->base.label, what);
        free(what);
        free(detail);
    }
    /* one path only when base's deploy found everything applied (it always does on a whole cached state);
       else (a) runs on its own, on a copy of the probe's database, which still holds the cached state */
    if (one_path && !(out->base_ok && !out->recovered && rbase.n_applied == h.a.n)) {
        one_path = 0;
        if (early && !traced) { /* the probe's copy is no longer base's state: (a) deploys head from nothing */
            discard_trace(&tjob, trace_tid);
            traced = 1;
            probe_dirty = 1;
            eopts_clean.resumed = 0;
            if (rh_cluster_create_db(cluster, DB_CLEAN, err) < 0)
                goto out;
        } else if (!isolated && rh_cluster_copy_db(cluster, DB_PROBE, DB_CLEAN, err) < 0)
            goto out;
        if (pthread_create(&clean_tid, NULL, clean_thread, &job) != 0) {
            rh_err_set(err, "cannot start a thread for the clean deploy");
            goto out;
        }
        joined = 0;
    }
    /* base's state, for the cache (it closes base's connection: what runs next has a new one, as production's
       next process has) */
    if (out->base_ok && cc.on && rh_check_cache_copy(&cc, cluster, &upgrade, err) < 0)
        goto out;
    /* what head's deploy runs: everything of head that production has not applied */
    out->pending = rh_xcalloc(h.b.n ? h.b.n : 1, sizeof *out->pending);
    for (size_t i = 0; i < h.b.n; i++)
        if (!applied_at_base(&rbase, h.b.items[i].name))
            out->pending[out->n_pending++] = rh_xstrdup(h.b.items[i].name);
    add_history(out, &h, &rbase);
    int on_path = out->base_ok || out->recovered;
    /* only when the seed or the fill will use it: a connection opened for nothing is a backend started for
       nothing (head's deploy opens its own below) */
    if (on_path && (o->seed_file || o->scale) && !upgrade && !(upgrade = open_db(cluster, DB_UPGRADE, 0, err)))
        goto out;
    if (on_path && o->seed_file && load_seed(upgrade, o->seed_file, err) < 0)
        goto out;
    out->seed = !o->seed_file ? 0 : on_path ? 1 : -1;
    if (on_path && o->scale && fill_to_scale(out, upgrade, o->scale, o->fill_max, err) < 0)
        goto out;
    out->locks_skipped = o->no_locks;
    out->max_block_ms = o->max_block_ms;
    out->max_read_block_ms = o->max_read_block_ms;
    out->max_write_block_ms = o->max_write_block_ms;
    out->fill_max = o->fill_max;
    probe = on_path && !o->no_locks && out->n_pending > 0;
    /* head's deploy on a new connection, as production's next `prisma migrate deploy` process:
       session state base's migrations left (temp tables, plain SET, advisory locks) is gone */
    PQfinish(upgrade);
    upgrade = NULL;
    /* a cached state's probe database already holds base's state, unless the path added to it (a base of
       no migration has no cached state: no probe database was made) */
    int probe_ready = cc.probe_held && cc.cached == h.a.n && out->base_ok && !out->recovered && !o->seed_file &&
                      !o->scale && !probe_dirty;
    if (early && !traced &&
        !(probe && probe_ready && same_names(out->pending, out->n_pending, out->added, out->n_added))) {
        discard_trace(&tjob, trace_tid); /* it traced what head's deploy does not run */
        traced = 1;
        probe_ready = 0;
    }
    if (probe && cc.probe_held && !probe_ready && rh_cluster_drop_db(cluster, DB_PROBE, err) < 0)
        goto out;
    if (probe && !probe_ready && rh_cluster_copy_db(cluster, DB_UPGRADE, DB_PROBE, err) < 0)
        goto out;
    /* isolated: (f) gets this cluster as it is now, (b) goes on in a twin (nothing is connected to it) */
    if (isolated && probe && rh_check_fork(&cluster, &copts, &probe_cluster, err) < 0)
        goto out;
    if (probe && traced && trace_beside_upgrade(o)) {
        if (start_trace(&tjob, &trace_tid, probe_cluster ? probe_cluster : cluster, out, &h.b, out->pending,
                        out->n_pending, err) < 0)
            goto out;
        traced = 0;
    }
    if (!(upgrade = open_db(cluster, DB_UPGRADE, 0, err)))
        goto out;
    if (on_path) {
        if (rh_tool_run(RH_TOOL_DEFAULT, "deploy", upgrade, &h.b, NULL, &eopts, &rup, err) < 0) {
            rh_err_prefix(err, "upgrade path %s -> %s", out->base.label, out->head.label);
            goto out;
        }
        out->upgrade_ok = rup.exit_code == 0;
    }
    if (out->recovered) {
        char *what = deploy_failure(&rbase);
        char *steps = recovery_one_line(out);
        rh_buf detail;
        rh_buf_init(&detail);
        rh_buf_printf(&detail, "%s", out->recovery);
        char *said = deploy_detail(&rbase);
        if (*said)
            rh_buf_printf(&detail, "\nbase's deploy on an empty database:\n%s", said);
        free(said);
        char *file = rh_migset_find(&h.b, out->recovered_from) ? sql_path(out, out->recovered_from) : NULL;
        rh_check_add(out, RH_CHECK_NOTICE, 'b', "recovery-path", out->recovered_from, file, file ? 1 : 0, detail.data,
                     "base %s fails at %s (%s), so production's deploy stopped there too; production recovers "
                     "with %s, and head %s %s on that path",
                     out->base.label, out->recovered_from, what, steps, out->head.label,
                     out->upgrade_ok ? "deploys" : "fails");
        free(file);
        rh_buf_free(&detail);
        free(steps);
        free(what);
    }
    out->ms_upgrade = now_ms() - tb;

    if (!one_path) {
        pthread_join(clean_tid, NULL);
        joined = 1;
    }
    const rh_engine_result *clean_res = one_path ? &rup : &rclean;
    clean = job.conn;
    out->ms_clean = job.ms;
    if (job.rc < 0) {
        *err = job.err;
        rh_err_prefix(err, "clean deploy of %s", out->head.label);
        goto out;
    }
    out->one_path = one_path;
    out->clean_ok = clean_res->exit_code == 0;

    /* (f) locks, before the deploy findings so those can point at the failing statement's line */
    if (!traced) {
        pthread_join(trace_tid, NULL);
        traced = 1;
        out->traces = tjob.r.traces;
        out->n_traces = tjob.r.n_traces;
        tjob.r.traces = NULL;
        out->ms_locks = tjob.ms;
        if (tjob.rc < 0) {
            *err = tjob.err;
            goto out;
        }
    } else {
        double tf = now_ms();
        if (probe && rh_check_trace_pending(out, probe_cluster ? probe_cluster : cluster, DB_PROBE, 0, &h.b,
                                            &rh_check_default_sender, err) < 0)
            goto out;
        out->ms_locks = now_ms() - tf;
    }

    /* (e) and (a) as findings */
    add_deploy_findings(out, &h, clean_res, &rup);
    if (out->scaled) /* before the lock findings: a lock measured past --max-block gets the error alone */
        rh_check_estimate(out, o->scale);
    add_lock_findings(out);
    rh_check_add_block_findings(out);
    add_send_findings(out, &h.b);

    /* (c) */
    double tcat = now_ms();
    if (one_path)
        out->catalog_compared = out->clean_ok && out->upgrade_ok;
    else if (out->clean_ok && out->upgrade_ok && compare_catalogs(out, job.cat, upgrade, &h, &rbase, err) < 0)
        goto out;
    out->ms_catalog = now_ms() - tcat;
    rh_check_keep_head_files(out, &h.b);
    rc = 0;
out:
    if (!joined) {
        pthread_join(clean_tid, NULL);
        clean = job.conn;
    }
    if (!traced) {
        pthread_join(trace_tid, NULL);
        out->traces = tjob.r.traces; /* freed with the result */
        out->n_traces = tjob.r.n_traces;
    }
    if (clean)
        PQfinish(clean);
    if (upgrade)
        PQfinish(upgrade);
    if (job.stop_error) {
        rh_report_term_eprintf("rehearse check: %s\n", job.stop_error);
        rh_check_add(out, RH_CHECK_ERROR, 'a', "cluster-cleanup", NULL, NULL, 0, NULL, "%s", job.stop_error);
        free(job.stop_error);
    }
    if (cluster && o->keep && rc == 0 && (job.own_cluster || probe_cluster)) {
        out->kept = rh_check_keep_isolated(cluster, job.own_cluster, probe_cluster);
        cluster = job.own_cluster = probe_cluster = NULL;
    }
    for (int i = 0; i < 2; i++) { /* isolated: (a)'s and (f)'s own clusters, when not kept */
        rh_cluster **own = i ? &probe_cluster : &job.own_cluster;
        rh_err e2;
        if (*own && rh_cluster_stop(*own, &e2) < 0) {
            rh_report_term_eprintf("rehearse check: %s\n", e2.msg);
            rh_check_add(out, RH_CHECK_ERROR, 'a', "cluster-cleanup", NULL, NULL, 0, NULL, "%s", e2.msg);
        }
        *own = NULL;
    }
    if (cluster) {
        if (o->keep && rc == 0) {
            char *psql = rh_cluster_psql_command(cluster);
            out->kept = rh_xasprintf("%s  (databases: %s, %s%s)", psql ? psql : rh_cluster_url(cluster), DB_CLEAN,
                                     DB_UPGRADE, probe ? ", " DB_PROBE : "");
            free(psql);
            rh_cluster_keep(cluster);
        } else {
            double ts = now_ms();
            if (rc == 0 && cc.saving)
                out->cache_published = rh_check_cache_publish(&cc, cluster, &copts, out->base.label) == 0;
            rh_check_shared_globals_warning(out, isolated, &cc);
            out->ms_publish = now_ms() - ts;
            rh_err e2;
            /* the verdict stands, but a cluster left behind or a lost watchdog is the run's error too */
            if (rh_cluster_stop(cluster, &e2) < 0) {
                rh_report_term_eprintf("rehearse check: %s\n", e2.msg);
                rh_check_add(out, RH_CHECK_ERROR, 'a', "cluster-cleanup", NULL, NULL, 0, NULL, "%s", e2.msg);
            }
            out->ms_stop = now_ms() - ts;
        }
    }
    rh_check_cache_free(&cc);
    free(isolated);
    rh_catalog_free(job.cat);
    rh_engine_result_free(&rclean);
    rh_engine_result_free(&rup);
    rh_engine_result_free(&rbase);
    if (have_history)
        rh_git_history_free(&h);
    rh_git_close(repo);
    free(base_spec);
    out->ms_total = now_ms() - t0;
    return rc;
}
