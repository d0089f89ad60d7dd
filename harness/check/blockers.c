/*
 * blockers.c — the verdict on measured waits (check --scale with --max-block, --max-write-block,
 * --max-read-block): an error finding per statement and table whose lock made an application read or
 * write wait longer than the team allows, with the measurement, the rows it was measured on and the
 * safer pattern for that kind of statement; and the worst blocker, which the human report leads with.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check/check.h"
#include "check/check_int.h"
#include "migrations/txblock.h"
#include "util/buf.h"

const rh_check_wait *rh_check_worst_wait(const rh_check_result *r, const rh_check_trace **trace,
                                         const rh_check_stmt **stmt)
{
    const rh_check_wait *worst = NULL;
    for (size_t i = 0; i < r->n_traces; i++)
        for (size_t j = 0; j < r->traces[i].n; j++) {
            const rh_check_stmt *st = &r->traces[i].stmts[j];
            for (size_t k = 0; k < st->n_waits; k++) {
                const rh_check_wait *w = &st->waits[k];
                if (!w->blocked || (worst && w->ms <= worst->ms))
                    continue;
                worst = w;
                if (trace)
                    *trace = &r->traces[i];
                if (stmt)
                    *stmt = st;
            }
        }
    return worst;
}

/* Does the statement (upper-cased) contain word as a whole word? */
static int has_word(const char *upper, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(upper, word); p; p = strstr(p + 1, word)) {
        int before = p == upper || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        int after = !(isalnum((unsigned char)p[n]) || p[n] == '_');
        if (before && after)
            return 1;
    }
    return 0;
}

const char *rh_check_safer_pattern(const char *sql)
{
    char *u = rh_xstrdup(sql ? sql : "");
    for (char *p = u; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    const char *s;
    if (has_word(u, "CONCURRENTLY"))
        s = "it already lets reads and writes go on while it works; what waits is its short lock at the start "
            "and end: set lock_timeout so the deploy fails instead of queueing the application";
    else if (has_word(u, "INDEX") && has_word(u, "CREATE"))
        s = "CREATE INDEX CONCURRENTLY, alone in a migration file of its own (Prisma runs a multi-statement "
            "file as one transaction, where CONCURRENTLY fails with 25001): reads and writes go on while it builds";
    else if (has_word(u, "TYPE") && has_word(u, "ALTER") && has_word(u, "COLUMN"))
        s = "add a new column of the new type, backfill it in batches (one transaction each), move the "
            "application to it, then drop the old column: a type change that rewrites the table holds ACCESS "
            "EXCLUSIVE for the whole rewrite";
    else if (has_word(u, "ADD") && has_word(u, "COLUMN") && has_word(u, "NOT") && has_word(u, "NULL"))
        s = "add the column nullable, backfill it in batches (one transaction each), then ADD CONSTRAINT ... "
            "CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT (reads and writes go on), SET NOT NULL (uses "
            "the validated CHECK, no scan) and drop the CHECK";
    else if (has_word(u, "SET") && has_word(u, "NOT") && has_word(u, "NULL"))
        s = "ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT in a later migration "
            "(reads and writes go on), then SET NOT NULL, which uses the validated CHECK instead of scanning, and "
            "drop the CHECK";
    else if (has_word(u, "FOREIGN") || has_word(u, "REFERENCES") || (has_word(u, "ADD") && has_word(u, "CHECK")))
        s = "ADD CONSTRAINT ... NOT VALID (no scan, a brief lock), then ALTER TABLE ... VALIDATE CONSTRAINT in a "
            "later migration (SHARE UPDATE EXCLUSIVE: reads and writes go on while it scans)";
    else if (has_word(u, "PRIMARY") || (has_word(u, "ADD") && has_word(u, "UNIQUE")))
        s = "CREATE UNIQUE INDEX CONCURRENTLY in a migration file of its own, then ADD CONSTRAINT ... USING INDEX "
            "(brief)";
    else if (has_word(u, "REFRESH") && has_word(u, "MATERIALIZED"))
        s = "REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index on the view): reads go on";
    else if (has_word(u, "UPDATE") || has_word(u, "DELETE"))
        s = "in batches (a few thousand rows per transaction), so each holds its row locks briefly";
    else if (has_word(u, "VACUUM") || has_word(u, "CLUSTER"))
        s = "not in a migration: an online tool (pg_repack) or a maintenance window";
    else
        s = "split the change so no lock is held across work that grows with the table, and set lock_timeout "
            "(SET lock_timeout = '5s';) so the deploy fails instead of queueing the application";
    free(u);
    return s;
}

/* "1.23 s" / "850 ms" */
static void put_ms(rh_buf *b, double ms)
{
    if (ms >= 1000)
        rh_buf_printf(b, "%.2f s", ms / 1000);
    else
        rh_buf_printf(b, "%.0f ms", ms);
}

/*
 * The next statement after (*ti, *sj) in the same transaction, the cursor moved onto it; NULL at the
 * transaction's end: the file's end (or its COMMIT, or a statement run outside), unless the file's
 * transaction goes on into the next file's (trace.tx_goes_on: drizzle-kit runs every pending file in one).
 */
static const rh_check_stmt *next_in_tx(const rh_check_result *r, size_t *ti, size_t *sj)
{
    for (;;) {
        const rh_check_trace *t = &r->traces[*ti];
        if (t->autocommit)
            return NULL;
        if (*sj + 1 >= t->n) {
            if (!t->tx_goes_on || *ti + 1 >= r->n_traces)
                return NULL;
            (*ti)++;
            *sj = (size_t)-1; /* before the next file's first statement */
            continue;
        }
        const rh_check_stmt *x = &t->stmts[++*sj];
        if (x->outside_tx || (x->skipped && rh_txblock_ends(x->keywords)))
            return NULL;
        return x;
    }
}

/*
 * The slowest statement after statement j of trace i in the same transaction (later files' too, when it
 * goes on into them) when it took longer than j itself: a lock j took is held while it runs, so most of
 * the wait is its time. NULL when j is the slow one; *in: the trace it is in.
 */
static const rh_check_stmt *slower_after(const rh_check_result *r, size_t i, size_t j, const rh_check_trace **in)
{
    const rh_check_stmt *slow = NULL, *x;
    size_t ti = i, sj = j;
    while ((x = next_in_tx(r, &ti, &sj)) != NULL)
        if (!x->skipped && x->ms > r->traces[i].stmts[j].ms && (!slow || x->ms > slow->ms)) {
            slow = x;
            *in = &r->traces[ti];
        }
    return slow;
}

/* The finding's detail: the safer pattern for what takes the time. */
static char *safer_detail(const rh_check_result *r, size_t i, size_t j)
{
    const rh_check_trace *t = &r->traces[i], *in = t;
    const rh_check_stmt *slow = slower_after(r, i, j, &in);
    if (!slow)
        return rh_xasprintf("safer: %s", rh_check_safer_pattern(t->stmts[j].sql));
    if (in != t) /* a later file of the same transaction (drizzle-kit migrate: one for every pending file) */
        return rh_xasprintf("the wait is mostly line %d of %s (%s), which runs while this lock is held: every "
                            "pending migration runs in one transaction, so the lock goes only when the whole run "
                            "commits.\nsafer: give line %d a deploy of its own, after this one; for it: %s",
                            slow->line, in->file, slow->keywords, slow->line, rh_check_safer_pattern(slow->sql));
    return rh_xasprintf("the wait is mostly line %d (%s), which runs while this lock is held: the file is one "
                        "transaction, so the lock goes only when all of it commits.\nsafer: give line %d a migration "
                        "of its own, after this one; for it: %s",
                        slow->line, slow->keywords, slow->line, rh_check_safer_pattern(slow->sql));
}

/* A table name as the tracer prints it ("Order", audit."Log", public.users) -> schema (NULL: none) and name. */
static void split_name(const char *q, char **schema, char **name)
{
    char *part[2] = {NULL, NULL};
    int n = 0;
    const char *p = q;
    while (*p && n < 2) {
        rh_buf b;
        rh_buf_init(&b);
        if (*p == '"') {
            for (p++; *p; p++) {
                if (*p == '"' && p[1] == '"') {
                    rh_buf_putc(&b, '"');
                    p++;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    rh_buf_putc(&b, *p);
                }
            }
        } else {
            for (; *p && *p != '.'; p++)
                rh_buf_putc(&b, *p);
        }
        part[n++] = rh_buf_steal(&b);
        if (*p == '.')
            p++;
        else
            break;
    }
    *schema = n == 2 ? part[0] : NULL;
    *name = n == 2 ? part[1] : part[0];
}

/* Does statement st rewrite or scan `table`, or build an index on it? The work, or NULL. */
static const char *linear_work(const rh_check_stmt *st, const char *table)
{
    for (size_t k = 0; k < st->n_rewrites; k++)
        if (strcmp(st->rewrites[k], table) == 0)
            return "rewrite";
    int index = strncasecmp(st->keywords, "CREATE INDEX", 12) == 0 || strncasecmp(st->keywords, "CREATE UNIQUE INDEX", 19) == 0;
    for (size_t k = 0; k < st->n_scans; k++)
        if (strcmp(st->scans[k], table) == 0)
            return index ? "index build" : "scan";
    if (index && st->outside_tx) /* CONCURRENTLY: its scans are not counted in the tracer's transaction */
        for (size_t k = 0; k < st->n_locks; k++)
            if (strcmp(st->locks[k].relation, table) == 0)
                return "index build";
    return NULL;
}

void rh_check_estimate(rh_check_result *r, const rh_scale *production)
{
    for (size_t i = 0; production && i < r->n_traces; i++) {
        rh_check_trace *t = &r->traces[i];
        for (size_t j = 0; j < t->n; j++) {
            rh_check_stmt *st = &t->stmts[j];
            for (size_t k = 0; k < st->n_waits; k++) {
                rh_check_wait *w = &st->waits[k];
                char *schema = NULL, *name = NULL;
                split_name(w->table, &schema, &name);
                const rh_scale_table *pt = rh_scale_find(production, schema, name);
                free(schema);
                free(name);
                if (!pt)
                    continue;
                w->production_rows = pt->rows;
                if (w->rows <= 0 || pt->rows <= w->rows || w->ms < 0)
                    continue;
                /* the work the wait was spent on: this statement, or a later one of its transaction (in a
                   later file too, when the transaction goes on into it) */
                w->linear = linear_work(st, w->table);
                size_t ti = i, sj = j;
                for (const rh_check_stmt *x; !w->linear && (x = next_in_tx(r, &ti, &sj)) != NULL;)
                    w->linear = linear_work(x, w->table);
                if (w->linear)
                    w->estimate_ms = w->ms * (double)pt->rows / (double)w->rows;
            }
        }
    }
}

/* The per-operation limit (0: none), else --max-block's; [0] reads, [1] writes. */
static void block_limits(const rh_check_result *r, double limit[2])
{
    limit[0] = r->max_read_block_ms > 0 ? r->max_read_block_ms : r->max_block_ms;
    limit[1] = r->max_write_block_ms > 0 ? r->max_write_block_ms : r->max_block_ms;
}

/* Did probe x wait past its limit (measured or estimated)? */
static int over_limit(const rh_check_wait *x, const double limit[2])
{
    return x->blocked && limit[x->write] > 0 && (x->ms > limit[x->write] || x->estimate_ms > limit[x->write]);
}

int rh_check_over_block_limit(const rh_check_result *r, const rh_check_stmt *st, const char *table)
{
    double limit[2];
    block_limits(r, limit);
    for (size_t k = 0; k < st->n_waits; k++)
        if (strcmp(st->waits[k].table, table) == 0 && over_limit(&st->waits[k], limit))
            return 1;
    return 0;
}

void rh_check_add_block_findings(rh_check_result *r)
{
    double limit[2];
    block_limits(r, limit);
    const char *flag[2] = {r->max_read_block_ms > 0 ? "--max-read-block" : "--max-block",
                           r->max_write_block_ms > 0 ? "--max-write-block" : "--max-block"};
    if (limit[0] <= 0 && limit[1] <= 0)
        return;
    for (size_t i = 0; i < r->n_traces; i++) {
        const rh_check_trace *t = &r->traces[i];
        for (size_t j = 0; j < t->n; j++) {
            const rh_check_stmt *st = &t->stmts[j];
            /* one finding per table: its read and its write */
            for (size_t k = 0; k < st->n_waits; k++) {
                const rh_check_wait *w = &st->waits[k];
                int first = 1;
                for (size_t m = 0; m < k; m++)
                    if (strcmp(st->waits[m].table, w->table) == 0)
                        first = 0;
                if (!first)
                    continue;
                rh_buf what;
                rh_buf_init(&what);
                long long rows = -1;
                for (size_t m = k; m < st->n_waits; m++) {
                    const rh_check_wait *x = &st->waits[m];
                    if (strcmp(x->table, w->table) != 0 || !over_limit(x, limit))
                        continue;
                    rows = x->rows;
                    rh_buf_printf(&what, "%s%s waited ", what.len ? "; " : "", x->write ? "a write" : "a read");
                    put_ms(&what, x->ms);
                    if (x->estimate_ms >= 0) {
                        rh_buf_printf(&what, " (ESTIMATE at production's %lld rows, linear in rows (%s): ",
                                      x->production_rows, x->linear);
                        put_ms(&what, x->estimate_ms);
                        rh_buf_putc(&what, ')');
                    }
                    rh_buf_printf(&what, ", over %s ", flag[x->write]);
                    put_ms(&what, limit[x->write]);
                }
                if (what.len) {
                    char *safer = safer_detail(r, i, j);
                    rh_check_add(r, RH_CHECK_ERROR, 'f', "max-block", t->migration, t->file, st->line, safer,
                                 "%s blocks table %s (measured on %lld rows): %s (%s)", st->keywords, w->table,
                                 rows, what.data, st->text);
                    free(safer);
                }
                rh_buf_free(&what);
            }
        }
    }
}
