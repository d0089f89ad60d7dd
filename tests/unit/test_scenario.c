/*
 * test_scenario.c — the scenario parser: every step and assertion of docs/scenarios.md, the
 * lexer's quoting, heredocs and continuation lines, includes, and every error with its position
 * and hint. No database: the parser never touches one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/runner.h"
#include "scenario/scenario.h"
#include "testlib.h"

/* The registered tools' answers, as `rehearse run` gives them to the parser. */
static const rh_scn_tools *tools(void)
{
    static rh_scn_tools t;
    if (!t.is_error_code)
        rh_runner_scn_tools(&t);
    return &t;
}

/* Parse text that must parse; fails the test with the parser's message otherwise. */
static rh_scenario *ok(const char *text)
{
    rh_scenario *s = NULL;
    rh_err err;
    if (rh_scn_parse_string(&s, "t.scenario", text, strlen(text), RH_SCN_NO_INCLUDE, tools(), &err) < 0) {
        fprintf(stderr, "unexpected parse error:\n%s\n", err.msg);
        fail();
    }
    return s;
}

/* Parse text that must parse, and free it. */
static void parses_ok(const char *text)
{
    rh_scn_free(ok(text));
}

/* Parse text that must fail; the message must contain every string given (NULL-terminated). */
static void bad(const char *text, ...)
{
    rh_scenario *s = NULL;
    rh_err err;
    int rc = rh_scn_parse_string(&s, "t.scenario", text, strlen(text), RH_SCN_NO_INCLUDE, tools(), &err);
    if (rc == 0) {
        fprintf(stderr, "expected a parse error for:\n%s\n", text);
        rh_scn_free(s);
        fail();
    }
    assert_null(s);
    va_list ap;
    va_start(ap, text);
    const char *want;
    while ((want = va_arg(ap, const char *))) {
        if (!strstr(err.msg, want)) {
            fprintf(stderr, "message lacks \"%s\":\n%s\n", want, err.msg);
            fail();
        }
    }
    va_end(ap);
}

static void test_design_example(void **state)
{
    (void)state;
    rh_scenario *s = ok(
        "scenario \"CONCURRENTLY in a multi-statement migration blocks the deploy\"\n"
        "repo      fixtures/breederhq          # a git repository; relative to this file\n"
        "migrations prisma/migrations\n"
        "prisma    6.19\n"
        "\n"
        "checkout  incident\n"
        "deploy    => fails 20251225_step6_waitlist_party_only sqlstate 25001\n"
        "expect    ledger failed 20251225_step6_waitlist_party_only\n"
        "deploy    => error P3009\n"
        "resolve   --rolled-back 20251225_step6_waitlist_party_only\n"
        "checkout  fixed\n"
        "deploy\n"
        "expect    status up-to-date\n"
        "expect    ledger applied 64\n"
        "expect    index \"WaitlistEntry_clientPartyId_idx\" valid\n"
        "expect    column \"WaitlistEntry\".\"contactId\" absent\n"
        "expect    column \"WaitlistEntry\".\"clientPartyId\" not-null\n"
        "expect    query \"select count(*) from \\\"WaitlistEntry\\\" where \\\"clientPartyId\\\" is null\" = 0\n"
        "expect    catalog = clean fixed\n");
    assert_string_equal(s->name, "CONCURRENTLY in a multi-statement migration blocks the deploy");
    assert_int_equal(s->nsteps, 17);
    rh_scn_step *st = s->steps;
    assert_int_equal(st[0].kind, RH_STEP_REPO);
    assert_string_equal(st[0].arg, "fixtures/breederhq");
    assert_int_equal(st[1].kind, RH_STEP_MIGRATIONS);
    assert_string_equal(st[1].arg, "prisma/migrations");
    assert_int_equal(st[2].kind, RH_STEP_TOOL); /* `prisma 6.19` is `tool prisma 6.19` written short */
    assert_string_equal(st[2].arg, "prisma");
    assert_string_equal(st[2].arg2, "6.19");
    assert_int_equal(st[2].n, 1);
    assert_int_equal(st[3].kind, RH_STEP_CHECKOUT);
    assert_int_equal(st[3].line, 6);
    assert_int_equal(st[4].kind, RH_STEP_DEPLOY);
    assert_int_equal(st[4].outcome.kind, RH_OUT_FAILS);
    assert_string_equal(st[4].outcome.name, "20251225_step6_waitlist_party_only");
    assert_string_equal(st[4].outcome.code, "25001");
    assert_int_equal(st[5].kind, RH_STEP_EXPECT_LEDGER);
    assert_int_equal(st[5].ledger_check, RH_LEDGER_STATE_OF);
    assert_int_equal(st[5].state, RH_STATE_FAILED);
    assert_int_equal(st[6].outcome.kind, RH_OUT_ERROR);
    assert_string_equal(st[6].outcome.code, "P3009");
    assert_int_equal(st[7].kind, RH_STEP_RESOLVE);
    assert_int_equal(st[7].resolve_mode, RH_RESOLVE_ROLLED_BACK);
    assert_int_equal(st[9].outcome.kind, RH_OUT_DEFAULT);
    assert_int_equal(st[10].status_check, RH_STATUS_UP_TO_DATE);
    assert_int_equal(st[11].ledger_check, RH_LEDGER_COUNT);
    assert_int_equal(st[11].n, 64);
    assert_string_equal(st[12].obj_kind, "index");
    assert_null(st[12].schema);
    assert_string_equal(st[12].name, "WaitlistEntry_clientPartyId_idx");
    assert_string_equal(st[12].property, "valid");
    assert_string_equal(st[13].table, "WaitlistEntry");
    assert_string_equal(st[13].name, "contactId");
    assert_string_equal(st[13].property, "absent");
    assert_int_equal(st[15].kind, RH_STEP_EXPECT_QUERY);
    assert_string_equal(st[15].text, "select count(*) from \"WaitlistEntry\" where \"clientPartyId\" is null");
    assert_int_equal(st[15].query_check, RH_QUERY_EQ);
    assert_string_equal(st[15].value, "0");
    assert_int_equal(st[16].catalog_ref, RH_CATREF_CLEAN);
    assert_string_equal(st[16].arg, "fixed");
    rh_scn_free(s);
}

static void test_quoting_and_comments(void **state)
{
    (void)state;
    rh_scenario *s = ok("# a comment line\n"
                        "   \n"
                        "sql \"a \\\"b\\\" \\\\ \\d\"   # trailing comment\n"
                        "sql 'single \"x\" \\n'\n"
                        "sql a#b\n"
                        "sql ab\\ cd\n"
                        "sql \"x\"'y'z\n"
                        "sql \"tab\\there\\nnew\"\n");
    assert_int_equal(s->nsteps, 6);
    assert_string_equal(s->steps[0].text, "a \"b\" \\ \\d");
    assert_string_equal(s->steps[1].text, "single \"x\" \\n");
    assert_string_equal(s->steps[2].text, "a#b");
    assert_string_equal(s->steps[3].text, "ab cd");
    assert_string_equal(s->steps[4].text, "xyz");
    assert_string_equal(s->steps[5].text, "tab\there\nnew");
    assert_int_equal(s->steps[0].line, 3);
    assert_string_equal(s->name, "t");   /* default: the file name */
    rh_scn_free(s);
}

static void test_heredoc_and_continuation(void **state)
{
    (void)state;
    rh_scenario *s = ok("sql <<SQL => error 23505\n"
                        "  insert into t values (1), (1);  # not a comment in a heredoc\n"
                        "\n"
                        "  SQL is not the end\n"
                        "  SQL  \n"
                        "expect status pending 2 \\\n"
                        "    a_1 \\\n"
                        "    b_2\n"
                        "session s <<'EOF'\n"
                        "begin;\n"
                        "EOF\n"
                        "expect query <<Q rows 3\n"
                        "select 1\n"
                        "Q\n");
    assert_int_equal(s->nsteps, 4);
    assert_string_equal(s->steps[0].text,
                        "  insert into t values (1), (1);  # not a comment in a heredoc\n\n  SQL is not the end\n");
    assert_int_equal(s->steps[0].text_line, 2);
    assert_int_equal(s->steps[0].outcome.kind, RH_OUT_ERROR);
    assert_string_equal(s->steps[0].outcome.code, "23505");
    assert_int_equal(s->steps[1].line, 6);
    assert_int_equal(s->steps[1].n, 2);
    assert_int_equal(s->steps[1].nnames, 2);
    assert_string_equal(s->steps[1].names[1], "b_2");
    assert_string_equal(s->steps[2].text, "begin;\n");
    assert_int_equal(s->steps[3].query_check, RH_QUERY_ROWS);
    assert_int_equal(s->steps[3].n, 3);
    assert_int_equal(s->steps[3].line, 12);
    rh_scn_free(s);
}

static void test_engine_steps(void **state)
{
    (void)state;
    rh_scenario *s = ok("status => exit 1\n"
                        "resolve --applied 2025_a => ok\n"
                        "resolve rolled-back 2025_a => any\n"
                        "deploy => fails 2025_b\n"
                        "deploy &\n"
                        "wait deploy blocked\n"
                        "wait deploy => error P1002\n"
                        "status &\n"
                        "wait status\n");
    rh_scn_step *st = s->steps;
    assert_int_equal(st[0].outcome.kind, RH_OUT_EXIT);
    assert_int_equal(st[0].outcome.exit_code, 1);
    assert_int_equal(st[1].resolve_mode, RH_RESOLVE_APPLIED);
    assert_string_equal(st[1].arg, "2025_a");
    assert_int_equal(st[1].outcome.kind, RH_OUT_OK);
    assert_int_equal(st[2].resolve_mode, RH_RESOLVE_ROLLED_BACK);
    assert_int_equal(st[2].outcome.kind, RH_OUT_ANY);
    assert_string_equal(st[3].outcome.name, "2025_b");
    assert_string_equal(st[3].outcome.code, "");
    assert_int_equal(st[4].background, 1);
    assert_int_equal(st[5].kind, RH_STEP_WAIT);
    assert_int_equal(st[5].n, 1);
    assert_int_equal(st[6].n, 0);
    assert_string_equal(st[6].outcome.code, "P1002");
    assert_int_equal(st[7].kind, RH_STEP_STATUS);
    assert_int_equal(st[7].background, 1);
    rh_scn_free(s);
}

/* tool NAME [VERSION] | tool command "CMD" [ledger NAME]; repair VERB [NAME] [=> OUTCOME] */
static void test_tool_steps(void **state)
{
    (void)state;
    rh_scenario *s = ok("tool dbmate\n"
                        "repair rollback => exit 2\n"
                        "tool prisma 7.10\n"
                        "tool command \"npm run migrate -- --force\" ledger dbmate\n"
                        "tool command 'sh deploy.sh'\n"
                        "repair resolve 2025_a\n");
    rh_scn_step *st = s->steps;
    assert_int_equal(s->nsteps, 6);
    assert_int_equal(st[0].kind, RH_STEP_TOOL);
    assert_string_equal(st[0].arg, "dbmate");
    assert_null(st[0].arg2);
    assert_int_equal(st[1].kind, RH_STEP_REPAIR);
    assert_string_equal(st[1].arg, "rollback");
    assert_null(st[1].arg2);
    assert_int_equal(st[1].outcome.kind, RH_OUT_EXIT);
    assert_int_equal(st[1].outcome.exit_code, 2);
    assert_string_equal(st[2].arg2, "7.10");
    assert_string_equal(st[3].arg, "command");
    assert_string_equal(st[3].arg2, "npm run migrate -- --force");
    assert_string_equal(st[3].value, "dbmate");
    assert_string_equal(st[4].arg2, "sh deploy.sh");
    assert_null(st[4].value);
    assert_string_equal(st[5].arg2, "2025_a");
    rh_scn_free(s);
    bad("tool\n", "t.scenario:1:", "expected a tool name", NULL);
    bad("tool dbmate => ok\n", "t.scenario:1:", "takes no expected outcome", NULL);
    bad("tool prisma latest\n", "t.scenario:1:13:", "'latest' is not a version", NULL);
    bad("tool command\n", "expected the command line to run", NULL);
    bad("tool command \"\"\n", "the command line is empty", NULL);
    bad("tool command npm run migrate\n", "t.scenario:1:18:", "unexpected 'run' after the command line", NULL);
    bad("tool command \"x\" ledger\n", "expected the tool whose ledger", NULL);
    bad("tool \"dbmate\"\n", "is not a tool name", NULL);
    bad("repair\n", "expected the tool's repair command", NULL);
    bad("repair rollback &\n", "only deploy, status and resolve can run in the background", NULL);
    bad("repair rollback x y\n", "unexpected 'y'", NULL);
    bad("tool dbmate 2.36 extra\n", "unexpected 'extra'", NULL);
}

static void test_sql_sessions_settings(void **state)
{
    (void)state;
    rh_scenario *s = ok("sql-file --each seed.sql => error 42P07\n"
                        "sql-file --migration 2025_x --each\n"
                        "session blocker \"begin; lock table t\" => blocked\n"
                        "session blocker \"select 1\" => error 40P01\n"
                        "wait blocker => ok\n"
                        "wait blocker blocked\n"
                        "commit blocker\n"
                        "rollback blocker\n"
                        "cancel blocker\n"
                        "terminate blocker\n"
                        "release blocker\n"
                        "set lock_timeout 1s\n"
                        "set statement_timeout = 5s\n"
                        "set search_path=app\n"
                        "reset lock_timeout\n"
                        "env PRISMA_SCHEMA_DISABLE_ADVISORY_LOCK 1\n"
                        "restart\n"
                        "sleep 20ms\n"
                        "snapshot before\n"
                        "expect catalog != snapshot before\n"
                        "expect catalog = file golden.txt\n"
                        "expect catalog = clean\n"
                        "restore schema prod.sql\n"
                        "restore ledger <<CSV\n"
                        "migration_name,checksum\n"
                        "a,=\n"
                        "CSV\n");
    rh_scn_step *st = s->steps;
    assert_int_equal(st[0].kind, RH_STEP_SQL_FILE);
    assert_int_equal(st[0].each, 1);
    assert_string_equal(st[0].arg, "seed.sql");
    assert_int_equal(st[1].from_migration, 1);
    assert_int_equal(st[1].each, 1);
    assert_string_equal(st[1].arg, "2025_x");
    assert_int_equal(st[2].kind, RH_STEP_SESSION);
    assert_string_equal(st[2].arg, "blocker");
    assert_string_equal(st[2].text, "begin; lock table t");
    assert_int_equal(st[2].outcome.kind, RH_OUT_BLOCKED);
    assert_int_equal(st[3].outcome.kind, RH_OUT_ERROR);
    assert_int_equal(st[6].kind, RH_STEP_COMMIT);
    assert_int_equal(st[7].kind, RH_STEP_ROLLBACK);
    assert_int_equal(st[8].kind, RH_STEP_CANCEL);
    assert_int_equal(st[9].kind, RH_STEP_TERMINATE);
    assert_int_equal(st[10].kind, RH_STEP_RELEASE);
    assert_string_equal(st[11].arg, "lock_timeout");
    assert_string_equal(st[11].arg2, "1s");
    assert_string_equal(st[12].arg2, "5s");
    assert_string_equal(st[13].arg, "search_path");
    assert_string_equal(st[13].arg2, "app");
    assert_int_equal(st[14].kind, RH_STEP_RESET);
    assert_int_equal(st[15].kind, RH_STEP_ENV);
    assert_string_equal(st[15].arg2, "1");
    assert_int_equal(st[16].kind, RH_STEP_RESTART);
    assert_int_equal(st[17].n, 20);
    assert_int_equal(st[19].negate, 1);
    assert_int_equal(st[19].catalog_ref, RH_CATREF_SNAPSHOT);
    assert_int_equal(st[20].catalog_ref, RH_CATREF_FILE);
    assert_string_equal(st[20].arg, "golden.txt");
    assert_null(st[21].arg);
    assert_int_equal(st[22].kind, RH_STEP_RESTORE_SCHEMA);
    assert_int_equal(st[23].kind, RH_STEP_RESTORE_LEDGER);
    assert_string_equal(st[23].text, "migration_name,checksum\na,=\n");
    rh_scn_free(s);
}

static void test_faults(void **state)
{
    (void)state;
    rh_scenario *s = ok("fault terminate at 2025_a\n"
                        "fault cancel when blocked\n"
                        "fault restart before 3\n"
                        "fault cancel at 1\n");
    assert_int_equal(s->steps[0].fault_action, RH_FAULT_TERMINATE);
    assert_int_equal(s->steps[0].fault_trigger, RH_FAULT_AT_MIGRATION);
    assert_string_equal(s->steps[0].arg, "2025_a");
    assert_int_equal(s->steps[1].fault_trigger, RH_FAULT_WHEN_BLOCKED);
    assert_int_equal(s->steps[2].fault_action, RH_FAULT_RESTART);
    assert_int_equal(s->steps[2].fault_trigger, RH_FAULT_BEFORE_MIGRATION);
    assert_null(s->steps[2].arg);
    assert_int_equal(s->steps[2].n, 3);
    assert_int_equal(s->steps[3].n, 1);
    rh_scn_free(s);
}

static void test_expectations(void **state)
{
    (void)state;
    /* a command first: `expect output` needs one to have ended (the steps below start at steps[1]) */
    rh_scenario *s = ok("status => any\n"
                        "expect table \"Party\"\n"
                        "expect table app.\"Party\" absent\n"
                        "expect column public.\"A.b\".c type \"character varying(255)\"\n"
                        "expect column t.c default \"now()\"\n"
                        "expect constraint \"Recipe\".\"Recipe_authorId_fkey\" not-validated\n"
                        "expect constraint t.t_pkey type primary-key\n"
                        "expect enum \"Role\" labels USER ADMIN\n"
                        "expect schema app\n"
                        "expect extension pgcrypto version 1.3\n"
                        "expect trigger t.trg disabled\n"
                        "expect ledger rolled-back 2025_a\n"
                        "expect ledger absent 2025_b\n"
                        "expect ledger rows 2025_a 2\n"
                        "expect ledger rows 65\n"
                        "expect ledger checksum 2025_a differs\n"
                        "expect ledger order a b c\n"
                        "expect query \"select null\" = null\n"
                        "expect query \"select 'null'\" = \"null\"\n"
                        "expect query \"select 1\" != 2\n"
                        "expect query \"select x\" error 42703\n"
                        "expect query \"select 1\" ok\n"
                        "expect status failed 2025_a\n"
                        "expect output contains \"P3009\"\n"
                        "expect output lacks \"P3018\"\n"
                        "expect order 20251225_step6_x 20251225061321_y\n"
                        "expect finding edited-after-apply 2025_a\n"
                        "expect findings none\n"
                        "expect finding will-reapply\n");
    assert_int_equal(s->steps[0].kind, RH_STEP_STATUS);
    rh_scn_step *st = s->steps + 1;
    assert_null(st[0].schema);
    assert_string_equal(st[0].table, "Party");
    assert_null(st[0].name);
    assert_string_equal(st[0].property, "present");
    assert_string_equal(st[1].schema, "app");
    assert_string_equal(st[2].schema, "public");
    assert_string_equal(st[2].table, "A.b");
    assert_string_equal(st[2].name, "c");
    assert_string_equal(st[2].property, "type");
    assert_string_equal(st[2].value, "character varying(255)");
    assert_string_equal(st[3].value, "now()");
    assert_string_equal(st[4].property, "not-validated");
    assert_string_equal(st[5].value, "primary-key");
    assert_string_equal(st[6].value, "USER,ADMIN");
    assert_string_equal(st[7].schema, "app");
    assert_string_equal(st[7].name, "app");
    assert_string_equal(st[8].value, "1.3");
    assert_int_equal(st[10].state, RH_STATE_ROLLED_BACK);
    assert_int_equal(st[11].state, RH_STATE_ABSENT);
    assert_int_equal(st[12].ledger_check, RH_LEDGER_ROWS_OF);
    assert_int_equal(st[12].n, 2);
    assert_int_equal(st[13].ledger_check, RH_LEDGER_ROWS);
    assert_int_equal(st[13].n, 65);
    assert_int_equal(st[14].negate, 1);
    assert_int_equal(st[15].nnames, 3);
    assert_int_equal(st[16].value_is_null, 1);
    assert_int_equal(st[17].value_is_null, 0);
    assert_int_equal(st[18].query_check, RH_QUERY_NE);
    assert_int_equal(st[19].query_check, RH_QUERY_ERROR);
    assert_string_equal(st[19].value, "42703");
    assert_int_equal(st[20].query_check, RH_QUERY_OK);
    assert_int_equal(st[21].status_check, RH_STATUS_FAILED);
    assert_int_equal(st[23].negate, 1);
    assert_int_equal(st[24].kind, RH_STEP_EXPECT_ORDER);
    assert_int_equal(st[25].kind, RH_STEP_EXPECT_FINDING);
    assert_string_equal(st[25].arg, "edited-after-apply");
    assert_string_equal(st[25].arg2, "2025_a");
    assert_int_equal(st[26].negate, 1);
    assert_null(st[27].arg2);
    rh_scn_free(s);
}

static void test_header(void **state)
{
    (void)state;
    rh_scenario *s = ok("timeout 90s\nskip not ready yet\n");
    assert_int_equal(s->timeout_ms, 90000);
    assert_string_equal(s->skip, "not ready yet");
    assert_int_equal(s->nsteps, 0);
    assert_null(s->postgres);
    rh_scn_free(s);
    /* postgres VERSION: the server version the scenario runs on, a header setting with its line */
    s = ok("scenario \"on 14\"\npostgres 14\ndeploy\n");
    assert_string_equal(s->postgres, "14");
    assert_int_equal(s->postgres_line, 2);
    assert_int_equal(s->nsteps, 1);
    rh_scn_free(s);
    s = ok("postgres 17.10\n");
    assert_string_equal(s->postgres, "17.10");
    rh_scn_free(s);
    bad("postgres\n", "t.scenario:1:9: error: expected a PostgreSQL version", "postgres 17.10", NULL);
    bad("postgres fourteen\n", "t.scenario:1:10: error: 'fourteen' is not a PostgreSQL version", "17.10", NULL);
    bad("postgres 14.x\n", "'14.x' is not a PostgreSQL version", NULL);
    bad("postgres 14 15\n", "1:13", "unexpected '15'", NULL);
    bad("postgres 14\ndeploy\npostgres 15\n", "t.scenario:3:1:", "already given on line 1", NULL);
    bad("postgre 14\n", "did you mean 'postgres'?", NULL);
    assert_int_equal(rh_scn_parse_duration("250ms"), 250);
    assert_int_equal(rh_scn_parse_duration("2m"), 120000);
    assert_int_equal(rh_scn_parse_duration("3"), 3000);
    assert_int_equal(rh_scn_parse_duration("1.5s"), 1500);
    assert_int_equal(rh_scn_parse_duration("x"), -1);
    assert_int_equal(rh_scn_parse_duration("5h"), -1);
}

/* Every error names file:line:col, shows the line with a caret, and hints. */
static void test_errors(void **state)
{
    (void)state;
    bad("deplyo\n", "t.scenario:1:1: error: unknown step 'deplyo'", "    1 | deplyo", "      | ^",
        "did you mean 'deploy'?", NULL);
    bad("deploy => fail x\n", "t.scenario:1:11:", "unknown outcome 'fail'", "did you mean 'fails'?", NULL);
    bad("deploy => error 25001\n", "1:17", "'25001' is not a Prisma error code", "sqlstate", NULL);
    bad("sql \"x\" => error 2300\n", "'2300' is not a SQLSTATE", "23505", NULL);
    bad("deploy => fails x sqlstate 2501\n", "'2501' is not a SQLSTATE", NULL);
    bad("deploy => fails\n", "expected the migration that fails", NULL);
    bad("deploy =>\n", "expected an outcome after '=>'", NULL);
    bad("deploy => ok extra\n", "unexpected 'extra' after the outcome", NULL);
    bad("deploy now\n", "1:8", "unexpected 'now'", NULL);
    bad("snapshot a b\n", "1:12", "unexpected 'b'", "e.g. snapshot before", NULL);
    bad("commit\n", "expected a session name", "usage: commit SESSION", NULL);
    bad("checkout\n", "1:9: error: expected a revision", "WORKTREE", NULL);
    bad("sql \"unterminated\n", "1:5", "unterminated double quote", "heredoc", NULL);
    bad("sql <<EOF\nselect 1\n", "1:5", "heredoc <<EOF is never closed", "holds only EOF", NULL);
    bad("sql\n", "expected SQL", NULL);
    bad("deploy <<EOF\nx\nEOF\n", "'deploy' takes no heredoc", NULL);
    bad("sql <<A <<B\nx\nA\n", "second heredoc", NULL);
    bad("expect ledger aplied 3\n", "unknown ledger check 'aplied'", "did you mean 'applied'?", NULL);
    bad("expect ledger absent 3\n", "'absent' takes a migration name", NULL);
    bad("expect ledger checksum a same\n", "expected 'matches' or 'differs'", NULL);
    bad("expect ledger order a\n", "at least two", NULL);
    bad("expect index foo vaild\n", "1:18", "'vaild' is not a property of an index", "did you mean 'valid'?", NULL);
    bad("expect colum t.c\n", "unknown assertion 'expect colum'", "did you mean 'column'?", NULL);
    bad("expect column c absent\n", "'c' is not a column reference", "[SCHEMA.]TABLE.NAME", NULL);
    bad("expect column a.b.c.d\n", "not a column reference", NULL);
    bad("expect column t.c type\n", "expected a value after 'type'", NULL);
    bad("expect query \"select 1\" => 1\n", "'=>' gives the outcome of an action", NULL);
    bad("expect query \"select 1\" is 1\n", "expected =, !=, rows, error or ok, got 'is'", NULL);
    bad("expect query \"select 1\" rows x\n", "expected a row count (a whole number), got 'x'", NULL);
    bad("expect catalog = snapshot nope\n", "no snapshot named 'nope' was taken before this line", NULL);
    bad("expect catalog == x\n", "expected '=' or '!='", NULL);
    bad("expect catalog = cleen x\n", "expected snapshot, clean or file", "did you mean 'clean'?", NULL);
    bad("expect status pending 2 a\n", "2 pending, but 1 names listed", NULL);
    bad("expect status late\n", "unknown status 'late'", NULL);
    bad("expect finding edited 2025_a\n", "unknown finding 'edited'", NULL);
    bad("expect output has x\n", "expected 'contains' or 'lacks'", NULL);
    /* output is there once a command has ended: caught when parsing, with the line and a hint */
    bad("sql \"select 1\"\nexpect output contains x\n", "t.scenario:2:1: error: 'expect output' before any Prisma "
        "command has ended", "run deploy, status or resolve before this line", NULL);
    bad("migrations m\ndeploy &\n  expect output lacks x\nwait deploy\n", "t.scenario:3:3:", "add `wait deploy`", NULL);
    bad("deploy &\nwait deploy blocked\nexpect output lacks x\nwait deploy\n", "3:1", "no output to check", NULL);
    parses_ok("deploy => any\nexpect output contains x\n");
    parses_ok("deploy &\nwait deploy\nexpect output contains x\n");
    parses_ok("resolve --applied a\nstatus &\nexpect output contains x\nwait status\n");
    bad("wait blocker\n", "no session named 'blocker' was opened before this line", NULL);
    bad("release blocker\n", "no session named 'blocker'", NULL);
    bad("wait deploy\n", "no 'deploy' is running in the background", "deploy &", NULL);
    bad("deploy &\ndeploy\nwait deploy\n", "2:1", "'deploy' started with & is still running", "wait deploy", NULL);
    bad("deploy &\n", "is never waited for", NULL);
    /* a UTF-8 byte order mark is not part of the first step's name */
    {
        static const char text[] = "\xef\xbb\xbfmigrations m\r\ndeploy\r\n";
        rh_scenario *s = NULL;
        rh_err err;
        assert_int_equal(rh_scn_parse_string(&s, "t.scenario", text, sizeof text - 1, RH_SCN_NO_INCLUDE, tools(), &err), 0);
        assert_int_equal(s->nsteps, 2);
        assert_int_equal(s->steps[0].kind, RH_STEP_MIGRATIONS);
        rh_scn_free(s);
    }
    /* a NUL byte: the rest of the file is not silently dropped */
    {
        static const char text[] = "migrations m\ndeploy\0\nexpect ledger applied 9\n";
        rh_scenario *s = NULL;
        rh_err err;
        assert_int_equal(rh_scn_parse_string(&s, "t.scenario", text, sizeof text - 1, RH_SCN_NO_INCLUDE, tools(), &err), -1);
        assert_null(s);
        assert_non_null(strstr(err.msg, "t.scenario:2:7: error: a NUL byte"));
    }
    /* the error names the line that started it */
    bad("repo r\ncheckout v1\nstatus &\nsql \"select 1\"\n", "t.scenario:3:1: error: 'status &' is never waited for",
        "3 | status &", "add `wait status` after it", NULL);
    bad("deploy & => ok\nwait deploy\n", "has no outcome yet", NULL);
    bad("sql \"x\" &\n", "only deploy, status and resolve can run in the background", NULL);
    bad("session deploy \"x\"\n", "'deploy' cannot name a session", NULL);
    bad("session s \"x\"\nwait s blocked => ok\n", "takes no outcome", NULL);
    bad("fault explode at x\n", "unknown fault 'explode'", NULL);
    bad("fault cancel when idle\n", "expected 'blocked'", NULL);
    bad("fault cancel after x\n", "expected 'at', 'before' or 'when'", NULL);
    bad("fault cancel at 0\n", "migrations are counted from 1", NULL);
    bad("resolve x\n", "expected --applied or --rolled-back", NULL);
    bad("resolve --applied\n", "expected the migration's name", NULL);
    bad("set 1bad x\n", "'1bad' is not a setting name", NULL);
    bad("set lock_timeout\n", "expected a value", NULL);
    bad("restore data x\n", "expected 'schema' or 'ledger'", NULL);
    bad("timeout soon\n", "'soon' is not a duration", NULL);
    parses_ok("scale prod-stats.json\nscale User 10M\nscale audit.Log 5000\n");
    bad("sleep\n", "expected a duration", NULL);
    bad("sleep 0x10\n", "'0x10' is not a duration", NULL);
    bad("sleep 1e3s\n", "'1e3s' is not a duration", NULL);
    bad("scale\n", "1:6", "expected a stats file or a table", NULL);
    bad("sql \"select 1\"\nscale User 1x\n", "2:12", "'1x' is not a row count", NULL);
    bad("scale User -5\n", "'-5' is not a row count", NULL);
    bad("scale User 10 more\n", "scale FILE, or scale TABLE ROWS", NULL);
    bad("scale User=3 10\n", "'User=3' is not a table name", NULL);
    bad("prisma latest\n", "'latest' is not a version", NULL);
    bad("scenario a\nscenario b\n", "2:1", "already named on line 1", NULL);
    bad("\"deploy\"\n", "expected a step, got a quoted word", NULL);
    bad("<<SQL\nselect 1\nSQL\n", "1:1", "a heredoc without a step", NULL);
    bad("include x.inc\n", "include is not allowed here", NULL);
    bad("snapshot a\nrestart => ok\n", "'restart' takes no expected outcome", NULL);
    /* several errors are all reported, each with its line */
    bad("deplyo\nsql\nexpect nothing\n", "1:1", "2:4", "3:8", NULL);
}

static void test_includes(void **state)
{
    (void)state;
    const char *dir = rh_test_tmpdir();
    char path[4096], inc[4096], sub[4096], loop[4096];
    snprintf(inc, sizeof inc, "%s/_setup.inc", dir);
    snprintf(sub, sizeof sub, "%s/lib/_more.inc", dir);
    snprintf(path, sizeof path, "%s/main.scenario", dir);
    snprintf(loop, sizeof loop, "%s/loop.scenario", dir);
    rh_test_write_file(inc, "repo fixtures/x\ninclude lib/_more.inc\n");
    rh_test_write_file(sub, "sql-file seed.sql\nsession s \"select 1\"\n");
    rh_test_write_file(path, "scenario \"with includes\"\ninclude _setup.inc\nwait s\n");
    rh_scenario *s = NULL;
    rh_err err;
    if (rh_scn_parse_file(&s, path, tools(), &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
    assert_int_equal(s->nsteps, 4);
    char want[4096];
    snprintf(want, sizeof want, "%s/fixtures/x", dir);
    assert_string_equal(s->steps[0].arg, want);           /* relative to the including file */
    snprintf(want, sizeof want, "%s/lib/seed.sql", dir);
    assert_string_equal(s->steps[1].arg, want);           /* relative to the included file */
    assert_string_equal(s->steps[1].file, sub);
    assert_int_equal(s->steps[1].line, 1);
    assert_string_equal(s->steps[3].file, path);
    assert_int_equal(s->steps[3].line, 3);
    rh_scn_free(s);

    /* an error inside an include names both places */
    rh_test_write_file(sub, "deplyo\n");
    assert_int_equal(rh_scn_parse_file(&s, path, tools(), &err), -1);
    assert_non_null(strstr(err.msg, "_more.inc:1:1: error: unknown step 'deplyo'"));
    assert_non_null(strstr(err.msg, "(included from"));

    /* cycles */
    rh_test_write_file(sub, "include ../_setup.inc\n");
    assert_int_equal(rh_scn_parse_file(&s, path, tools(), &err), -1);
    assert_non_null(strstr(err.msg, "include cycle"));
    rh_test_write_file(loop, "include loop.scenario\n");
    assert_int_equal(rh_scn_parse_file(&s, loop, tools(), &err), -1);
    assert_non_null(strstr(err.msg, "include cycle"));

    /* missing file */
    rh_test_write_file(path, "include nope.inc\n");
    assert_int_equal(rh_scn_parse_file(&s, path, tools(), &err), -1);
    assert_non_null(strstr(err.msg, "main.scenario:1:9: error: cannot include"));

    /* `scenario` belongs to the scenario file */
    rh_test_write_file(inc, "scenario x\n");
    rh_test_write_file(path, "include _setup.inc\n");
    assert_int_equal(rh_scn_parse_file(&s, path, tools(), &err), -1);
    assert_non_null(strstr(err.msg, "'scenario' inside an included file"));
}

static void test_outcome_text(void **state)
{
    (void)state;
    rh_scn_outcome o = {RH_OUT_FAILS, "m", "25001", 0};
    char *t = rh_scn_outcome_text(&o);
    assert_string_equal(t, "fails m sqlstate 25001");
    free(t);
    o.kind = RH_OUT_EXIT;
    o.exit_code = 1;
    t = rh_scn_outcome_text(&o);
    assert_string_equal(t, "exit 1");
    free(t);
    assert_string_equal(rh_scn_kind_name(RH_STEP_EXPECT_LEDGER), "expect ledger");
    assert_string_equal(rh_scn_state_name(RH_STATE_ROLLED_BACK), "rolled-back");
}

/* CRLF files parse like LF files. */
static void test_crlf(void **state)
{
    (void)state;
    rh_scenario *s = ok("sql <<EOF\r\nselect 1\r\nEOF\r\ndeploy => ok\r\n");
    assert_int_equal(s->nsteps, 2);
    assert_int_equal(s->steps[1].outcome.kind, RH_OUT_OK);
    rh_scn_free(s);
}

/* A tool of this test's own: its codes are E and three digits. */
static int e_code(const char *code)
{
    return strlen(code) == 4 && code[0] == 'E' && strspn(code + 1, "0123456789") == 3;
}

/* `=> error CODE` is the tools' question: the parser asks the hook it is given, and names no tool itself. */
static void test_error_codes_are_the_tools(void **state)
{
    (void)state;
    static const rh_scn_tools e_tools = {e_code, "E100", "an E tool error code", "E tool error codes look like E100"};
    const char *good = "deploy => error E123\n";
    rh_scenario *s = NULL;
    rh_err err;
    assert_int_equal(rh_scn_parse_string(&s, "t.scenario", good, strlen(good), RH_SCN_NO_INCLUDE, &e_tools, &err), 0);
    assert_string_equal(s->steps[0].outcome.code, "E123");
    rh_scn_free(s);
    const char *prisma = "deploy => error P3009\n";
    assert_int_equal(rh_scn_parse_string(&s, "t.scenario", prisma, strlen(prisma), RH_SCN_NO_INCLUDE, &e_tools, &err),
                     -1);
    assert_non_null(strstr(err.msg, "t.scenario:1:17: error: 'P3009' is not an E tool error code"));
    const char *word = "deploy => error E12\n";
    assert_int_equal(rh_scn_parse_string(&s, "t.scenario", word, strlen(word), RH_SCN_NO_INCLUDE, &e_tools, &err), -1);
    assert_non_null(strstr(err.msg, "'E12' is not an E tool error code"));
    assert_non_null(strstr(err.msg, "E tool error codes look like E100"));
    const char *none = "deploy => error\n";
    assert_int_equal(rh_scn_parse_string(&s, "t.scenario", none, strlen(none), RH_SCN_NO_INCLUDE, &e_tools, &err), -1);
    assert_non_null(strstr(err.msg, "e.g. => error E100"));
    /* the registry's answers are Prisma's, as the parser's texts were before it asked */
    bad("deploy => error P30091\n", "'P30091' is not a Prisma error code", "Prisma error codes look like P3009, P3018, P1002",
        NULL);
    bad("deploy => error\n", "e.g. => error P3009", NULL);
    /* without tools (the fuzzer), the word is left to the runner's check of the scenario's tool */
    assert_int_equal(rh_scn_parse_string(&s, "t.scenario", prisma, strlen(prisma), RH_SCN_NO_INCLUDE, NULL, &err), 0);
    rh_scn_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_design_example),
        cmocka_unit_test(test_quoting_and_comments),
        cmocka_unit_test(test_heredoc_and_continuation),
        cmocka_unit_test(test_engine_steps),
        cmocka_unit_test(test_tool_steps),
        cmocka_unit_test(test_sql_sessions_settings),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_expectations),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_includes),
        cmocka_unit_test(test_outcome_text),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_error_codes_are_the_tools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
