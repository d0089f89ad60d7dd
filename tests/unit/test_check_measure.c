/*
 * test_check_measure.c — `rehearse check --rows/--scale` measures what each new statement costs the
 * application (issue 14 §3-§5): on "Order" filled to 200 000 rows, probe connections find that a type
 * change blocks reads and writes, CREATE INDEX writes only, CREATE INDEX CONCURRENTLY neither; a lock
 * taken early in a Prisma 6 file is held while the rest of the file runs; --max-write-block turns a
 * measured wait into an error finding (exit 1) that names the statement, the table, its rows and the
 * safer pattern. No durations are asserted: who waited, and "waited > 0" where the probe must block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "report/check_html.h"
#include "report/check_markdown.h"
#include "report/sarif.h"
#include "test_git_fixture.h"
#include "testlib.h"
#include "util/buf.h"

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    json_object_object_get_ex(o, key, &v);
    return v;
}

/* The statements of the trace of one migration, in the JSON report. */
static json_object *statements(json_object *root, const char *migration)
{
    json_object *locks = get(root, "locks");
    for (size_t i = 0; locks && i < json_object_array_length(locks); i++) {
        json_object *t = json_object_array_get_idx(locks, i);
        if (strcmp(json_object_get_string(get(t, "migration")), migration) == 0)
            return get(t, "statements");
    }
    fprintf(stderr, "no trace of %s\n", migration);
    fail();
    return NULL;
}

/* The probe of `op` ("read"/"write") on "Order" that statement `line` met; NULL if none. */
static json_object *wait_of(json_object *stmts, int line, const char *op)
{
    for (size_t i = 0; i < json_object_array_length(stmts); i++) {
        json_object *s = json_object_array_get_idx(stmts, i);
        if (json_object_get_int(get(s, "line")) != line)
            continue;
        json_object *ws = get(s, "waits");
        assert_non_null(ws); /* measured */
        for (size_t k = 0; k < json_object_array_length(ws); k++) {
            json_object *w = json_object_array_get_idx(ws, k);
            if (strcmp(json_object_get_string(get(w, "operation")), op) == 0 &&
                strcmp(json_object_get_string(get(w, "table")), "\"Order\"") == 0)
                return w;
        }
    }
    return NULL;
}

static int blocked(json_object *w)
{
    return w && json_object_get_boolean(get(w, "blocked"));
}

static json_object *stmt_at(json_object *stmts, int line)
{
    for (size_t i = 0; i < json_object_array_length(stmts); i++)
        if (json_object_get_int(get(json_object_array_get_idx(stmts, i), "line")) == line)
            return json_object_array_get_idx(stmts, i);
    fail();
    return NULL;
}

/*
 * STMT, then (next line) a DO that keeps the file's transaction, and so STMT's locks, open until WAITERS
 * queries wait for a lock on "Order", at most 60 s: whether the probes are seen blocked then does not
 * depend on how fast this process (valgrind) polls compared with how fast the server runs STMT (the race
 * test_scale's test_measure_blocks had). Only in the tracer's database: check's other deploys of the same
 * file have no probes to wait for.
 */
static char *held_until_waiting(const char *stmt, int waiters)
{
    return rh_xasprintf("%s\nDO $$ BEGIN FOR i IN 1..6000 LOOP EXIT WHEN current_database() <> "
                        "'rehearse_check_locks' OR (SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = "
                        "'\"Order\"'::regclass) >= %d; PERFORM pg_sleep(0.01); END LOOP; END $$;\n",
                        stmt, waiters);
}

static void test_measures_who_waits(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init",
                 "CREATE TABLE \"Order\" (\"id\" SERIAL PRIMARY KEY, \"amount\" INTEGER NOT NULL, \"note\" TEXT);\n");
    fx_commit(r, "init");
    fx_tag(r, "base", "main", 0);
    /* the blocking statements hold their locks until the probes that must wait do (both, or the write) */
    char *sql = held_until_waiting("ALTER TABLE \"Order\" ALTER COLUMN \"amount\" TYPE BIGINT;", 2);
    fx_migration(r, "20250201000000_amount_bigint", sql);
    free(sql);
    fx_migration(r, "20250202000000_comment", "ALTER TABLE \"Order\" ADD COLUMN \"comment\" TEXT;\n");
    /* Prisma 6 runs the file as one transaction: line 1's lock stays while line 2 updates every row */
    sql = held_until_waiting("ALTER TABLE \"Order\" ADD COLUMN \"flag\" BOOLEAN;\n"
                             "UPDATE \"Order\" SET \"flag\" = true;",
                             2);
    fx_migration(r, "20250203000000_flag", sql);
    free(sql);
    sql = held_until_waiting("CREATE INDEX \"Order_note_idx\" ON \"Order\"(\"note\");", 1);
    fx_migration(r, "20250204000000_note_idx", sql);
    free(sql);
    fx_migration(r, "20250205000000_amount_idx",
                 "CREATE INDEX CONCURRENTLY \"Order_amount_idx\" ON \"Order\"(\"amount\");\n");
    fx_commit(r, "head");

    /* in process (valgrind sees the measuring code); the CLI's exit code is rh_check_count at --fail-on */
    rh_scale scale = {0};
    rh_err err;
    rh_err_clear(&err);
    assert_int_equal(rh_scale_add_rows(&scale, "Order=200000", &err), 0);
    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main", .tool_version = "6.19.3",
                       .scale = &scale, .max_write_block_ms = 1, .fill_max = 100000};
    rh_check_result res;
    if (rh_check_run(&o, &res, &err) < 0) {
        fprintf(stderr, "rh_check_run: %s\n", err.msg);
        fail();
    }
    rh_buf human, json;
    rh_buf_init(&human);
    rh_buf_init(&json);
    rh_check_format_human(&res, 0, &human);
    rh_check_format_json(&res, &json);
    if (getenv("SHOW"))
        fprintf(stderr, "%s\n", human.data);
    assert_true(rh_check_count(&res, RH_CHECK_ERROR) > 0); /* the gate: exit 1 */
    /* each statement's duration on the filled tables (a CONCURRENTLY build's time) */
    assert_non_null(strstr(human.data, "\n    line 1    CREATE INDEX CONCURRENTLY \"Order_amount_idx\" ON \"Order\"(\"amount\")   "
                                       "[runs outside a transaction]\n              ran for "));
    /* the human report leads with the worst blocker */
    assert_non_null(strstr(human.data, "worst blocker: "));
    assert_true(strstr(human.data, "worst blocker: ") < strstr(human.data, "(a) clean deploy"));
    json_object *root = json_tokener_parse(json.data);
    assert_non_null(root);

    /* ALTER COLUMN TYPE rewrites the table: reads and writes wait for it */
    json_object *s = statements(root, "20250201000000_amount_bigint");
    json_object *rw = get(stmt_at(s, 1), "rewrites");
    assert_int_equal(json_object_array_length(rw), 1);
    json_object *rd = wait_of(s, 1, "read"), *wr = wait_of(s, 1, "write");
    assert_true(blocked(rd));
    assert_true(blocked(wr));
    assert_true(json_object_get_double(get(wr, "waited_ms")) > 0);
    /* measured on the filled table (--fill-max 100 000 of production's 200 000 rows), and ESTIMATED at
       production's count, because a rewrite is linear in rows; labelled as such, apart from the measurement */
    long long measured_rows = json_object_get_int64(get(wr, "rows"));
    assert_true(measured_rows > 50000 && measured_rows < 150000);
    assert_int_equal(json_object_get_int64(get(wr, "production_rows")), 200000);
    json_object *est = get(wr, "estimate");
    assert_non_null(est);
    assert_string_equal(json_object_get_string(get(est, "linear_in_rows")), "rewrite");
    assert_int_equal(json_object_get_int64(get(est, "rows")), 200000);
    assert_true(json_object_get_double(get(est, "ms")) > json_object_get_double(get(wr, "waited_ms")));

    /* a nullable ADD COLUMN is catalog-only: no rewrite, no scan, whatever its few milliseconds cost */
    s = statements(root, "20250202000000_comment");
    assert_int_equal(json_object_array_length(get(stmt_at(s, 1), "rewrites")), 0);
    assert_int_equal(json_object_array_length(get(stmt_at(s, 1), "scans")), 0);
    for (size_t k = 0; k < json_object_array_length(get(stmt_at(s, 1), "waits")); k++) /* nothing to extrapolate */
        assert_null(get(json_object_array_get_idx(get(stmt_at(s, 1), "waits"), k), "estimate"));

    /* one transaction: ADD COLUMN's ACCESS EXCLUSIVE is held while the UPDATE runs; reads wait for it */
    s = statements(root, "20250203000000_flag");
    assert_true(blocked(wait_of(s, 1, "read")));
    json_object *lock0 = json_object_array_get_idx(get(stmt_at(s, 1), "locks"), 0);
    assert_true(json_object_get_double(get(lock0, "held_ms")) > 0);

    /* CREATE INDEX: writes wait, reads go on */
    s = statements(root, "20250204000000_note_idx");
    assert_false(blocked(wait_of(s, 1, "read")));
    assert_true(blocked(wait_of(s, 1, "write")));
    assert_string_equal(json_object_get_string(get(get(wait_of(s, 1, "write"), "estimate"), "linear_in_rows")),
                        "index build");

    /* CREATE INDEX CONCURRENTLY: probed (it pauses for the tracer while it holds its lock), neither blocked */
    s = statements(root, "20250205000000_amount_idx");
    assert_non_null(wait_of(s, 1, "read"));
    assert_non_null(wait_of(s, 1, "write"));
    assert_false(blocked(wait_of(s, 1, "read")));
    assert_false(blocked(wait_of(s, 1, "write")));

    /* the finding: statement, table, rows, measured wait, the safer pattern; none for CONCURRENTLY */
    json_object *fs = get(root, "findings");
    int type_change = 0, concurrently = 0;
    for (size_t i = 0; i < json_object_array_length(fs); i++) {
        json_object *f = json_object_array_get_idx(fs, i);
        const char *code = json_object_get_string(get(f, "code"));
        /* one finding per statement and table: the lock warning gives way to the error that carries the
           measured wait (before: an access-exclusive warning beside the max-block error of line 1) */
        if (strcmp(code, "access-exclusive") == 0 || strcmp(code, "blocks-writes") == 0)
            assert_false(strcmp(json_object_get_string(get(f, "migration")), "20250201000000_amount_bigint") == 0 &&
                         json_object_get_int(get(f, "line")) == 1);
        if (strcmp(code, "max-block") != 0)
            continue;
        assert_string_equal(json_object_get_string(get(f, "level")), "error");
        const char *msg = json_object_get_string(get(f, "message"));
        const char *mig = json_object_get_string(get(f, "migration"));
        if (strcmp(mig, "20250201000000_amount_bigint") == 0) {
            type_change = 1;
            assert_int_equal(json_object_get_int(get(f, "line")), 1);
            assert_non_null(strstr(msg, "ALTER TABLE blocks table \"Order\" ("));
            assert_non_null(strstr(msg, "(measured on "));
            assert_non_null(strstr(msg, "over --max-write-block 1 ms"));
            assert_non_null(strstr(msg, "(ESTIMATE at production's 200000 rows, linear in rows (rewrite): "));
            assert_non_null(strstr(json_object_get_string(get(f, "detail")), "safer: add a new column"));
        }
        if (strcmp(mig, "20250203000000_flag") == 0) /* the time is the UPDATE's, under line 1's lock */
            assert_non_null(strstr(json_object_get_string(get(f, "detail")), "the wait is mostly line 2 (UPDATE)"));
        if (strcmp(mig, "20250205000000_amount_idx") == 0)
            concurrently = 1;
    }
    assert_true(type_change);
    assert_false(concurrently);
    json_object *worst = get(root, "worst_blocker");
    assert_non_null(worst);
    assert_true(json_object_get_boolean(get(worst, "blocked")));
    json_object_put(root);
    rh_buf_free(&human);
    rh_buf_free(&json);
    rh_check_result_free(&res);
    rh_scale_free(&scale);
    fx_free(r);
}

/* A check of one new migration on a filled "Order": its repository, its --rows and its result. */
typedef struct one_check {
    fx_repo *repo;
    rh_scale scale;
    rh_check_result res;
} one_check;

/* Base creates "Order", head adds `sql`; check it with "Order" filled to `rows` and the limits in o. */
static void check_one(one_check *c, const char *sql, const char *rows, rh_check_opts o)
{
    c->repo = fx_repo_new(0);
    fx_migration(c->repo, "20250101000000_init",
                 "CREATE TABLE \"Order\" (\"id\" SERIAL PRIMARY KEY, \"amount\" INTEGER NOT NULL, \"note\" TEXT);\n");
    fx_commit(c->repo, "init");
    fx_tag(c->repo, "base", "main", 0);
    fx_migration(c->repo, "20250203000000_new", sql);
    fx_commit(c->repo, "head");
    memset(&c->scale, 0, sizeof c->scale);
    rh_err err;
    rh_err_clear(&err);
    assert_int_equal(rh_scale_add_rows(&c->scale, rows, &err), 0);
    o.repo = c->repo->path;
    o.base = "base";
    o.head = "main";
    o.scale = &c->scale;
    if (rh_check_run(&o, &c->res, &err) < 0) {
        fprintf(stderr, "rh_check_run: %s\n", err.msg);
        fail();
    }
}

static void one_check_free(one_check *c)
{
    rh_check_result_free(&c->res);
    rh_scale_free(&c->scale);
    fx_free(c->repo);
}

/*
 * Prisma >= 7.4 sends a file it can parse statement by statement, each committed on its own: the
 * ADD COLUMN's lock goes before the UPDATE runs, so nothing is held across it, and the UPDATE's
 * RowExclusiveLock lets reads and the probe's write go on.
 */
static void test_split_file_commits_per_statement(void **state)
{
    (void)state;
    one_check c;
    check_one(&c, "ALTER TABLE \"Order\" ADD COLUMN \"flag\" BOOLEAN;\nUPDATE \"Order\" SET \"flag\" = true;\n",
              "Order=20000", (rh_check_opts){.tool_version = "7.10.1", .max_read_block_ms = 1});
    const rh_check_result *res = &c.res;
    assert_int_equal(res->n_traces, 1);
    const rh_check_trace *t = &res->traces[0];
    assert_true(t->measured);
    assert_true(t->autocommit);
    assert_int_equal(t->n, 2);
    const rh_check_stmt *update = &t->stmts[1];
    assert_true(update->n_waits > 0); /* its RowExclusiveLock was seen: probes ran */
    for (size_t k = 0; k < update->n_waits; k++)
        assert_false(update->waits[k].blocked);
    /* no finding blames line 1 for the UPDATE's time: its lock was gone */
    for (size_t i = 0; i < res->n_findings; i++)
        if (res->findings[i].detail)
            assert_null(strstr(res->findings[i].detail, "the wait is mostly line 2"));
    one_check_free(&c);
}

/*
 * A Prisma 6 file's own COMMIT ends its transaction: the tracer commits its own too and begins anew, so
 * line 3 takes ACCESS EXCLUSIVE on "Order" afresh (reported for line 3, not taken for held since line 1)
 * and runs inside the tracer's new transaction.
 */
static void test_file_commit_restarts_transaction(void **state)
{
    (void)state;
    one_check c;
    check_one(&c,
              "ALTER TABLE \"Order\" ADD COLUMN \"a\" BOOLEAN;\nCOMMIT;\n"
              "ALTER TABLE \"Order\" ADD COLUMN \"b\" BOOLEAN;\n",
              "Order=1000", (rh_check_opts){.tool_version = "6.19.3"});
    const rh_check_result *res = &c.res;
    assert_int_equal(res->n_traces, 1);
    const rh_check_trace *t = &res->traces[0];
    assert_true(t->measured);
    assert_false(t->autocommit);
    assert_false(t->failed);
    assert_int_equal(t->n, 3);
    assert_true(t->stmts[1].skipped);
    for (size_t j = 0; j < 3; j += 2) {
        const rh_check_stmt *st = &t->stmts[j];
        int exclusive = 0;
        for (size_t k = 0; k < st->n_locks; k++)
            if (strcmp(st->locks[k].relation, "\"Order\"") == 0 &&
                strcmp(st->locks[k].mode, "AccessExclusiveLock") == 0) {
                exclusive = 1;
                assert_true(st->locks[k].held_ms >= 0); /* its transaction's end was seen */
            }
        if (!exclusive)
            fprintf(stderr, "line %d took no AccessExclusiveLock on \"Order\"\n", st->line);
        assert_true(exclusive);
    }
    one_check_free(&c);
}

/*
 * One Prisma 6 file (one transaction) that takes ACCESS EXCLUSIVE on 100 tables, each lock held until the
 * commit, so every probe waits at once. The measuring cluster (max_connections=200, two probe connections
 * per table) has room for about 95: each of those tables' read and write is measured and seen blocked (the
 * first 16 only before session 4); every table past that is named, for its line, in the statement's
 * `unprobed` and in an error finding "not-probed" (--max-block is set: the gate cannot pass what it did not
 * measure). Before, a table past the limit had no probe and no word: silently unmeasured.
 */
#define MANY_TABLES 100
static void test_many_tables_are_all_probed_or_said(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    rh_buf init, alter;
    rh_buf_init(&init);
    rh_buf_init(&alter);
    rh_scale scale = {0};
    rh_err err;
    rh_err_clear(&err);
    for (int i = 1; i <= MANY_TABLES; i++) {
        rh_buf_printf(&init, "CREATE TABLE \"T%d\" (\"id\" SERIAL PRIMARY KEY);\n", i);
        rh_buf_printf(&alter, "ALTER TABLE \"T%d\" ADD COLUMN \"flag\" BOOLEAN;\n", i);
        char *rows = rh_xasprintf("T%d=100", i);
        assert_int_equal(rh_scale_add_rows(&scale, rows, &err), 0);
        free(rows);
    }
    fx_migration(r, "20250101000000_init", init.data);
    fx_commit(r, "init");
    fx_tag(r, "base", "main", 0);
    fx_migration(r, "20250203000000_flags", alter.data);
    fx_commit(r, "head");
    rh_check_opts o = {.repo = r->path, .base = "base", .head = "main", .tool_version = "6.19.3", .scale = &scale,
                       .max_block_ms = 60000};
    rh_check_result res;
    if (rh_check_run(&o, &res, &err) < 0) {
        fprintf(stderr, "rh_check_run: %s\n", err.msg);
        fail();
    }
    assert_int_equal(res.n_traces, 1);
    const rh_check_trace *t = &res.traces[0];
    assert_true(t->measured);
    assert_int_equal(t->n, MANY_TABLES);
    int probed = 0, unprobed = 0;
    for (int i = 1; i <= MANY_TABLES; i++) {
        char *name = rh_xasprintf("\"T%d\"", i);
        int seen[2] = {0, 0};
        const rh_check_stmt *st = &t->stmts[i - 1];
        for (size_t k = 0; k < st->n_waits; k++)
            if (strcmp(st->waits[k].table, name) == 0)
                seen[st->waits[k].write] = 1 + st->waits[k].blocked;
        int said = st->n_unprobed == 1 && strcmp(st->unprobed[0], name) == 0;
        if (said) { /* not measured: said, at error level under the gate, on its line */
            int finding = 0;
            for (size_t f = 0; f < res.n_findings; f++)
                finding |= strcmp(res.findings[f].code, "not-probed") == 0 && res.findings[f].line == st->line &&
                            res.findings[f].level == RH_CHECK_ERROR && strstr(res.findings[f].message, name) &&
                            strstr(res.findings[f].message, "not probed");
            if (!finding)
                fail_msg("line %d: %s unprobed without a not-probed error finding", st->line, name);
            assert_int_equal(st->n_waits, 0);
            unprobed++;
        } else if (seen[0] == 2 && seen[1] == 2) { /* each lock, the last too, probed and seen blocked */
            probed++;
        } else {
            fail_msg("line %d: %s's %s %s, and not said unprobed", st->line, name, seen[0] != 2 ? "read" : "write",
                     seen[seen[0] != 2 ? 0 : 1] ? "not seen blocked" : "not probed");
        }
        free(name);
    }
    /* the cluster's 200 connections hold at most 98 tables' probes; the meter takes what is left */
    assert_true(unprobed >= 2);
    assert_true(probed >= 80);
    rh_check_result_free(&res);
    rh_scale_free(&scale);
    rh_buf_free(&init);
    rh_buf_free(&alter);
    fx_free(r);
}

/*
 * SET NOT NULL verifies every row under ACCESS EXCLUSIVE: the report shows its full scan (no rewrite), reads
 * and writes blocked while it runs, and the gate's finding gives the pattern that avoids the scan (a
 * validated CHECK first). The limit (1 µs) is below any wait a probe can have: this asserts the finding,
 * not a duration.
 */
static void test_set_not_null_shows_its_full_scan(void **state)
{
    (void)state;
    one_check c;
    check_one(&c, "ALTER TABLE \"Order\" ALTER COLUMN \"note\" SET NOT NULL;\n", "Order=20000",
              (rh_check_opts){.tool_version = "6.19.3", .max_block_ms = 0.001});
    const rh_check_result *res = &c.res;
    assert_int_equal(res->n_traces, 1);
    const rh_check_trace *t = &res->traces[0];
    assert_true(t->measured);
    assert_false(t->failed);
    const rh_check_stmt *st = &t->stmts[0];
    assert_int_equal(st->n_scans, 1);
    assert_string_equal(st->scans[0], "\"Order\"");
    assert_int_equal(st->n_rewrites, 0);
    int blocked[2] = {0, 0};
    for (size_t k = 0; k < st->n_waits; k++)
        blocked[st->waits[k].write] |= st->waits[k].blocked;
    assert_true(blocked[0] && blocked[1]);
    int finding = 0;
    for (size_t i = 0; i < res->n_findings; i++)
        if (strcmp(res->findings[i].code, "max-block") == 0) {
            finding = 1;
            assert_int_equal(res->findings[i].line, 1);
            assert_non_null(strstr(res->findings[i].detail, "CHECK (col IS NOT NULL) NOT VALID"));
        }
    assert_true(finding);
    rh_buf human;
    rh_buf_init(&human);
    rh_check_format_human(res, 0, &human);
    assert_non_null(strstr(human.data, "              reads every row of table \"Order\"\n"));
    rh_buf_free(&human);
    /* the check reports of the other formats carry the gate's finding (their one finding writer each) */
    for (int f = 0; f < 5; f++) {
        rh_buf b;
        rh_buf_init(&b);
        if (f == 0)
            rh_report_check_markdown(res, RH_CHECK_ERROR, &b);
        else if (f == 1)
            rh_report_check_html(res, RH_CHECK_ERROR, &b);
        else if (f == 2)
            rh_report_check_sarif(res, &b);
        else if (f == 3)
            rh_check_format_junit(res, RH_CHECK_ERROR, &b);
        else
            rh_check_format_github(res, &b);
        if (!strstr(b.data, "max-block") || !strstr(b.data, "SET NOT NULL"))
            fail_msg("format %d carries no max-block finding: %s", f, b.data);
        rh_buf_free(&b);
    }
    one_check_free(&c);
}

/*
 * A CREATE INDEX CONCURRENTLY over 10 rows is over in milliseconds, outside any transaction: it is still
 * seen and measured, because it pauses (waiting for the tracer's second connection's ROW EXCLUSIVE, as
 * it waits for any writer) while holding its SHARE UPDATE EXCLUSIVE lock, which is read and probed then:
 * reads and writes went on. Before, measuring mode ran it unpaused and a fast one could end before the
 * watcher saw it: no lock and no probe in the report.
 */
static void test_fast_concurrently_is_seen(void **state)
{
    (void)state;
    one_check c;
    check_one(&c, "CREATE INDEX CONCURRENTLY \"Order_note_idx\" ON \"Order\"(\"note\");\n", "Order=10",
              (rh_check_opts){.tool_version = "6.19.3"});
    const rh_check_result *res = &c.res;
    assert_int_equal(res->n_traces, 1);
    const rh_check_stmt *st = &res->traces[0].stmts[0];
    assert_true(st->outside_tx);
    int lock = 0, probed[2] = {0, 0};
    for (size_t k = 0; k < st->n_locks; k++)
        lock |= strcmp(st->locks[k].relation, "\"Order\"") == 0 && strcmp(st->locks[k].mode, "ShareUpdateExclusiveLock") == 0;
    for (size_t k = 0; k < st->n_waits; k++) {
        assert_false(st->waits[k].blocked);
        probed[st->waits[k].write] = 1;
    }
    if (!lock || !probed[0] || !probed[1])
        fail_msg("CONCURRENTLY: lock %sseen, read %sprobed, write %sprobed", lock ? "" : "not ", probed[0] ? "" : "not ",
                 probed[1] ? "" : "not ");
    /* the header says what the tool does with this file: the lone CIC is sent alone, outside any transaction
       (before: "the file runs as one transaction" above the line marked "[runs outside a transaction]") */
    rh_buf human;
    rh_buf_init(&human);
    rh_check_format_human(res, 0, &human);
    assert_non_null(strstr(human.data, ", measured; its one statement, sent alone, runs outside a transaction:\n"));
    assert_null(strstr(human.data, "the file runs as one transaction"));
    rh_buf_free(&human);
    one_check_free(&c);
}

/*
 * Prisma >= 7.4 sends each statement alone: three nullable ADD COLUMNs, each over in a millisecond and
 * committed at once. Each one's ACCESS EXCLUSIVE lock is probed before its commit and both probes are
 * seen waiting for it (before: a statement that ended before the meter's poll saw it had no probes, and
 * probes started at its end were not yet queued when the commit came: "not blocked" or nothing).
 */
static void test_fast_statements_are_probed_before_commit(void **state)
{
    (void)state;
    one_check c;
    check_one(&c,
              "ALTER TABLE \"Order\" ADD COLUMN \"a\" BOOLEAN;\nALTER TABLE \"Order\" ADD COLUMN \"b\" BOOLEAN;\n"
              "ALTER TABLE \"Order\" ADD COLUMN \"c\" BOOLEAN;\n",
              "Order=1000", (rh_check_opts){.tool_version = "7.10.1"});
    const rh_check_result *res = &c.res;
    assert_int_equal(res->n_traces, 1);
    const rh_check_trace *t = &res->traces[0];
    assert_true(t->measured);
    assert_true(t->autocommit);
    assert_int_equal(t->n, 3);
    for (size_t j = 0; j < t->n; j++) {
        const rh_check_stmt *st = &t->stmts[j];
        int seen[2] = {0, 0};
        for (size_t k = 0; k < st->n_waits; k++)
            if (strcmp(st->waits[k].table, "\"Order\"") == 0)
                seen[st->waits[k].write] = 1 + st->waits[k].blocked;
        if (seen[0] != 2 || seen[1] != 2)
            fail_msg("line %d: %s %s", st->line, seen[0] != 2 ? "read" : "write",
                     seen[seen[0] != 2 ? 0 : 1] ? "not seen blocked" : "not probed");
    }
    one_check_free(&c);
}

/* The limits are durations with a unit; a bad one, or one without tables to measure on, is exit 2. */
static void test_max_block_usage(void **state)
{
    (void)state;
    char *errout = NULL;
    const char *bad[] = {"2x", "0x10", "1e3s", "2 s", "-1s", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *argv[] = {REHEARSE_BIN, "check", "--rows", "Order=10", "--max-read-block", (char *)bad[i], NULL};
        assert_int_equal(rh_test_run(argv, NULL, NULL, &errout), 2);
        assert_non_null(strstr(errout, "--max-read-block takes a duration"));
        free(errout);
    }
    char *argv[] = {REHEARSE_BIN, "check", "--max-block", "2s", NULL};
    assert_int_equal(rh_test_run(argv, NULL, NULL, &errout), 2);
    assert_non_null(strstr(errout, "need --scale FILE or --rows TABLE=N"));
    free(errout);
    char *argv2[] = {REHEARSE_BIN, "check", "--rows", "Order=10", "--fill-max", "10x", NULL};
    assert_int_equal(rh_test_run(argv2, NULL, NULL, &errout), 2);
    assert_non_null(strstr(errout, "--fill-max takes a row count"));
    free(errout);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_block_usage),
        cmocka_unit_test(test_measures_who_waits),
        cmocka_unit_test(test_split_file_commits_per_statement),
        cmocka_unit_test(test_file_commit_restarts_transaction),
        cmocka_unit_test(test_many_tables_are_all_probed_or_said),
        cmocka_unit_test(test_fast_statements_are_probed_before_commit),
        cmocka_unit_test(test_set_not_null_shows_its_full_scan),
        cmocka_unit_test(test_fast_concurrently_is_seen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
