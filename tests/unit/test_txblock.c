/*
 * test_txblock.c — a migration file's own BEGIN/COMMIT: what migrations/txblock says it does, and
 * that a real server does exactly that to the file sent as one simple query (as Prisma sends it).
 * Each case: the classification of the file's transaction control, then the file run on a fresh
 * database (it ends in a failing statement where the claim is about a failure), then which of its
 * tables stayed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrations/split.h"
#include "migrations/txblock.h"
#include "testlib.h"

#define MAX_STMTS 16

/* The effects of every statement of sql, and the count before each (the txblock API on a real split);
   split: Prisma >= 7.4 sends each statement alone. */
static size_t effects_in(const char *sql, int split, rh_txblock_effect *eff, size_t *before)
{
    rh_split s;
    rh_err err;
    assert_int_equal(rh_sql_split(&s, sql, strlen(sql), &err), 0);
    assert_true(s.n <= MAX_STMTS);
    char kwbuf[MAX_STMTS][64];
    const char *kw[MAX_STMTS];
    for (size_t i = 0; i < s.n; i++)
        kw[i] = rh_stmt_keywords(s.items[i].text, 4, kwbuf[i], sizeof kwbuf[i]);
    for (size_t i = 0; i < s.n; i++)
        eff[i] = rh_txblock_effect_of(kw, s.n, i, split, &before[i]);
    size_t n = s.n;
    rh_split_free(&s);
    return n;
}

static size_t effects(const char *sql, rh_txblock_effect *eff, size_t *before)
{
    return effects_in(sql, 0, eff, before);
}

/* Run sql as one simple query on a fresh database, close that session, and return a new one to look. */
static PGconn *run_as_prisma(const char *sql)
{
    char *db = NULL;
    PGconn *c = rh_test_fresh_db(&db);
    PQclear(PQexec(c, sql)); /* may fail: the claims are about what stays */
    PQfinish(c);             /* Prisma's process ends: an open block is rolled back */
    rh_err err;
    PGconn *look = rh_cluster_connect(rh_test_cluster(), db, &err);
    assert_non_null(look);
    free(db);
    return look;
}

static int table_exists(PGconn *c, const char *name)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT to_regclass('%s') IS NOT NULL", name);
    char *v = rh_test_value(c, sql);
    int r = v && strcmp(v, "t") == 0;
    free(v);
    return r;
}

/* BEGIN first, COMMIT last: nothing can be left half-applied, nothing to say; a failure undoes all. */
static void block_around_the_whole_file_is_silent(void **state)
{
    (void)state;
    const char *sql = "BEGIN;\nCREATE TABLE a (id INT);\nSELECT 1/0;\nCOMMIT;\n";
    rh_txblock_effect e[MAX_STMTS];
    size_t b[MAX_STMTS];
    size_t n = effects(sql, e, b);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(e[i], RH_TXBLOCK_NONE);
    PGconn *c = run_as_prisma(sql);
    assert_false(table_exists(c, "a"));
    PQfinish(c);
}

/* Statements before BEGIN join its block: a failure inside it undoes them too. */
static void statements_before_begin_join_its_block(void **state)
{
    (void)state;
    const char *sql = "CREATE TABLE pre1 (id INT);\nCREATE TABLE pre2 (id INT);\nBEGIN;\n"
                      "CREATE TABLE inside (id INT);\nSELECT 1/0;\nCOMMIT;\n";
    rh_txblock_effect e[MAX_STMTS];
    size_t b[MAX_STMTS];
    assert_int_equal(effects(sql, e, b), 6);
    assert_int_equal(e[2], RH_TXBLOCK_JOINS);
    assert_int_equal(b[2], 2);
    assert_int_equal(e[5], RH_TXBLOCK_NONE); /* the COMMIT is last */
    PGconn *c = run_as_prisma(sql);
    assert_false(table_exists(c, "pre1"));
    assert_false(table_exists(c, "pre2"));
    assert_false(table_exists(c, "inside"));
    PQfinish(c);
}

/* A COMMIT in the middle commits what came before it (pre joined the block): a partial apply. */
static void commit_in_the_middle_is_a_partial_apply(void **state)
{
    (void)state;
    const char *sql = "CREATE TABLE pre (id INT);\nBEGIN;\nCREATE TABLE one (id INT);\nCOMMIT;\n"
                      "CREATE TABLE two (id INT);\nSELECT 1/0;\n";
    rh_txblock_effect e[MAX_STMTS];
    size_t b[MAX_STMTS];
    assert_int_equal(effects(sql, e, b), 6);
    assert_int_equal(e[1], RH_TXBLOCK_JOINS);
    assert_int_equal(e[3], RH_TXBLOCK_PARTIAL);
    assert_int_equal(b[3], 2);
    PGconn *c = run_as_prisma(sql);
    assert_true(table_exists(c, "pre"));
    assert_true(table_exists(c, "one"));
    assert_false(table_exists(c, "two"));
    PQfinish(c);
}

/* Two blocks, the second fails: the first stays; the second's BEGIN right after COMMIT joins nothing. */
static void two_blocks_the_second_failing(void **state)
{
    (void)state;
    const char *sql = "BEGIN;\nCREATE TABLE one (id INT);\nCOMMIT;\nBEGIN;\nCREATE TABLE two (id INT);\n"
                      "SELECT 1/0;\nCOMMIT;\n";
    rh_txblock_effect e[MAX_STMTS];
    size_t b[MAX_STMTS];
    assert_int_equal(effects(sql, e, b), 7);
    assert_int_equal(e[0], RH_TXBLOCK_NONE);
    assert_int_equal(e[2], RH_TXBLOCK_PARTIAL);
    assert_int_equal(b[2], 1);
    assert_int_equal(e[3], RH_TXBLOCK_NONE);
    assert_int_equal(e[6], RH_TXBLOCK_NONE);
    PGconn *c = run_as_prisma(sql);
    assert_true(table_exists(c, "one"));
    assert_false(table_exists(c, "two"));
    PQfinish(c);
}

/* A COMMIT without BEGIN ends the implicit block all the same (with a warning): a partial apply. */
static void commit_without_begin_commits_too(void **state)
{
    (void)state;
    const char *sql = "CREATE TABLE one (id INT);\nCOMMIT;\nCREATE TABLE two (id INT);\nSELECT 1/0;\n";
    rh_txblock_effect e[MAX_STMTS];
    size_t b[MAX_STMTS];
    assert_int_equal(effects(sql, e, b), 4);
    assert_int_equal(e[1], RH_TXBLOCK_PARTIAL);
    PGconn *c = run_as_prisma(sql);
    assert_true(table_exists(c, "one"));
    assert_false(table_exists(c, "two"));
    PQfinish(c);
}

/* BEGIN never closed: the block is open when the file ends, and the session's end rolls it back. */
static void begin_without_commit_is_left_open(void **state)
{
    (void)state;
    const char *sql = "CREATE TABLE pre (id INT);\nBEGIN;\nCREATE TABLE b (id INT);\n";
    rh_txblock_effect e[MAX_STMTS];
    size_t b[MAX_STMTS];
    assert_int_equal(effects(sql, e, b), 3);
    assert_int_equal(e[1], RH_TXBLOCK_UNTERMINATED);
    assert_int_equal(b[1], 1);
    char *db = NULL;
    PGconn *c = rh_test_fresh_db(&db);
    PGresult *r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK); /* the file "succeeds" */
    PQclear(r);
    assert_int_equal(PQtransactionStatus(c), PQTRANS_INTRANS);
    PQfinish(c);
    rh_err err;
    c = rh_cluster_connect(rh_test_cluster(), db, &err);
    assert_non_null(c);
    assert_false(table_exists(c, "pre"));
    assert_false(table_exists(c, "b"));
    PQfinish(c);
    free(db);
}

/* ROLLBACK undoes its block (the statements joined before BEGIN too), and the file succeeds. */
static void rollback_undoes_its_block(void **state)
{
    (void)state;
    const char *sql = "CREATE TABLE pre (id INT);\nBEGIN;\nCREATE TABLE a (id INT);\nROLLBACK;\n"
                      "CREATE TABLE after (id INT);\n";
    rh_txblock_effect e[MAX_STMTS];
    size_t b[MAX_STMTS];
    assert_int_equal(effects(sql, e, b), 5);
    assert_int_equal(e[3], RH_TXBLOCK_ROLLBACK);
    assert_int_equal(b[3], 2);
    PGconn *c = run_as_prisma(sql);
    assert_false(table_exists(c, "pre"));
    assert_false(table_exists(c, "a"));
    assert_true(table_exists(c, "after"));
    PQfinish(c);
}

/*
 * Prisma >= 7.4 sends statement by statement (until the first failure): nothing joins a BEGIN,
 * a COMMIT in the middle commits its block only, and a bare COMMIT commits nothing.
 */
static void statement_by_statement(void **state)
{
    (void)state;
    const char *sql = "CREATE TABLE pre (id INT);\nBEGIN;\nCREATE TABLE one (id INT);\nCOMMIT;\n"
                      "CREATE TABLE two (id INT);\nCOMMIT;\nBEGIN;\nCREATE TABLE three (id INT);\nSELECT 1/0;\n"
                      "COMMIT;\n";
    rh_txblock_effect e[MAX_STMTS];
    size_t b[MAX_STMTS];
    assert_int_equal(effects_in(sql, 1, e, b), 10);
    assert_int_equal(e[1], RH_TXBLOCK_NONE);    /* pre committed alone: nothing joins */
    assert_int_equal(e[3], RH_TXBLOCK_PARTIAL); /* commits one */
    assert_int_equal(b[3], 1);
    assert_int_equal(e[5], RH_TXBLOCK_NONE);    /* two committed alone: nothing for this COMMIT */
    assert_int_equal(e[6], RH_TXBLOCK_NONE);
    /* the same file as one query says otherwise */
    assert_int_equal(effects_in(sql, 0, e, b), 10);
    assert_int_equal(e[1], RH_TXBLOCK_JOINS);
    assert_int_equal(e[5], RH_TXBLOCK_PARTIAL);

    rh_split s;
    rh_err err;
    assert_int_equal(rh_sql_split(&s, sql, strlen(sql), &err), 0);
    char *db = NULL;
    PGconn *c = rh_test_fresh_db(&db);
    for (size_t i = 0; i < s.n; i++) {
        PGresult *r = PQexec(c, s.items[i].text);
        int failed = PQresultStatus(r) == PGRES_FATAL_ERROR;
        PQclear(r);
        if (failed)
            break;
    }
    rh_split_free(&s);
    PQfinish(c);
    c = rh_cluster_connect(rh_test_cluster(), db, &err);
    assert_non_null(c);
    assert_true(table_exists(c, "pre"));
    assert_true(table_exists(c, "one"));
    assert_true(table_exists(c, "two"));
    assert_false(table_exists(c, "three"));
    PQfinish(c);
    free(db);
}

/* Which keywords are transaction control; savepoints and two-phase commands have no effect here. */
static void control_words(void **state)
{
    (void)state;
    const char *yes[] = {"BEGIN", "BEGIN ISOLATION LEVEL", "START TRANSACTION", "COMMIT", "END", "ROLLBACK",
                         "ABORT", "SAVEPOINT S", "RELEASE SAVEPOINT S", "ROLLBACK TO SAVEPOINT", "PREPARE TRANSACTION"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(rh_txblock_is_control(yes[i]));
    const char *no[] = {"CREATE TABLE", "BEGINNING", "ENDS", "COMMITTED", "DO", "UPDATE"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(rh_txblock_is_control(no[i]));
    const char *kw[] = {"BEGIN", "CREATE TABLE", "SAVEPOINT S", "CREATE TABLE", "ROLLBACK TO SAVEPOINT", "COMMIT"};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(rh_txblock_effect_of(kw, 6, i, 0, NULL), RH_TXBLOCK_NONE);
}

/* Which statements PostgreSQL refuses inside a transaction block (25001), whatever tool sends them. */
static void refused_in_a_block(void **state)
{
    (void)state;
    const char *yes[] = {"CREATE INDEX CONCURRENTLY i ON t(a)", "create unique index concurrently i on t(a)",
                         "DROP INDEX CONCURRENTLY i", "REINDEX TABLE CONCURRENTLY t", "VACUUM t", "VACUUM",
                         "CREATE DATABASE d", "ALTER SYSTEM SET work_mem = '8MB'",
                         "ALTER TABLE p DETACH PARTITION c CONCURRENTLY", "/* why */ CREATE INDEX CONCURRENTLY i ON t(a)"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(rh_txblock_refused(yes[i]));
    const char *no[] = {"CREATE INDEX i ON t(a)", "ALTER TABLE p DETACH PARTITION c", "VACUUMS", "CREATE TABLE concurrently(a int)",
                        "SELECT 'CREATE INDEX CONCURRENTLY'"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(rh_txblock_refused(no[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(block_around_the_whole_file_is_silent),
        cmocka_unit_test(statements_before_begin_join_its_block),
        cmocka_unit_test(commit_in_the_middle_is_a_partial_apply),
        cmocka_unit_test(two_blocks_the_second_failing),
        cmocka_unit_test(commit_without_begin_commits_too),
        cmocka_unit_test(begin_without_commit_is_left_open),
        cmocka_unit_test(rollback_undoes_its_block),
        cmocka_unit_test(statement_by_statement),
        cmocka_unit_test(control_words),
        cmocka_unit_test(refused_in_a_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
