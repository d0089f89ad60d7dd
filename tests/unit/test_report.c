/*
 * test_report.c — every report format read by a real consumer: TAP by `prove`, JUnit XML by
 * `xmllint --schema tests/unit/junit.xsd`, JSON by json-c; the human report and the GitHub
 * annotations checked for what a reader needs (file:line, expected vs actual, escaping).
 * The results are built by hand, with awkward text (#, <, &, quotes, newlines, control characters,
 * invalid UTF-8) in every field.
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
#include <unistd.h>

#include "report/escape.h"
#include "report/report.h"
#include "testlib.h"

static void set(char **field, const char *v)
{
    *field = v ? strdup(v) : NULL;
}

/* pass, fail (with diff/output/log), error (parse), timeout, skip */
static void make_run(rh_run *run, int all_pass)
{
    memset(run, 0, sizeof *run);
    run->n = all_pass ? 2 : 5;
    run->results = calloc(run->n, sizeof *run->results);
    run->jobs = 2;
    run->wall_ms = 1234.5;
    rh_result *r = run->results;
    set(&r[0].path, "scenarios/000-ok.scenario");
    set(&r[0].name, "a passing one # with a hash & <angle> \"quotes\"");
    r[0].status = RH_PASS;
    r[0].ms = 250;
    if (all_pass) {
        set(&r[1].path, "scenarios/001-skip.scenario");
        set(&r[1].name, "skipped");
        r[1].status = RH_SKIP;
        set(&r[1].skip_reason, "needs # Prisma 7");
        run->passed = 1;
        run->skipped = 1;
        return;
    }
    set(&r[1].path, "scenarios/001-fail.scenario");
    set(&r[1].name, "fails: deploy");
    r[1].status = RH_FAIL;
    r[1].ms = 900;
    set(&r[1].file, "scenarios/_setup.inc");
    r[1].line = 12;
    set(&r[1].step, "deploy => ok");
    set(&r[1].message, "`deploy` did not end as the scenario expects\nsecond line: 100% <sure> & \x01 bell");
    set(&r[1].expected, "ok");
    set(&r[1].actual, "exit 1, P3018 at 2025_x, SQLSTATE 25001: CREATE INDEX CONCURRENTLY cannot run inside a "
                      "transaction block");
    set(&r[1].diff, "--- snapshot a\n+++ database\n+ column public.t.y\n+  type text\n- index public.i\n");
    set(&r[1].output, "Error: P3018\n\nbad utf8: \xff\xfe done\n");
    set(&r[1].output_tool, "prisma");
    set(&r[1].log_tail, "2026-01-01 ERROR:  boom\n\tSTATEMENT: x < y");
    set(&r[1].kept, "psql 'host=/tmp/x dbname=postgres'");
    set(&r[2].path, "scenarios/002-parse.scenario");
    set(&r[2].name, "scenarios/002-parse.scenario");
    r[2].status = RH_ERROR;
    set(&r[2].file, "scenarios/002-parse.scenario");
    r[2].line = 3;
    set(&r[2].message, "the scenario does not parse:\nx:3:1: error: unknown step 'deplyo'\n  hint: did you mean 'deploy'?");
    set(&r[3].path, "scenarios/003-slow.scenario");
    set(&r[3].name, "slow, with a comma: and colon");
    r[3].status = RH_ERROR;
    r[3].timed_out = 1;
    r[3].ms = 1000;
    set(&r[3].file, "scenarios/003-slow.scenario");
    r[3].line = 4;
    set(&r[3].message, "timed out after 1.0 s in this step");
    set(&r[4].path, "scenarios/004-skip.scenario");
    set(&r[4].name, "skipped");
    r[4].status = RH_SKIP;
    set(&r[4].skip_reason, "later");
    run->passed = 1;
    run->failed = 1;
    run->errors = 2;
    run->skipped = 1;
}

static char *write_report(const rh_run *run, rh_report_format fmt, const char *name)
{
    rh_buf b;
    rh_buf_init(&b);
    rh_report_opts o = {0};
    rh_report_write(run, fmt, &o, &b);
    char *path = rh_xasprintf("%s/%s", rh_test_tmpdir(), name);
    rh_test_write_file(path, b.data);
    rh_buf_free(&b);
    return path;
}

static void test_tap_read_by_prove(void **state)
{
    (void)state;
    rh_run run;
    make_run(&run, 0);
    char *path = write_report(&run, RH_REPORT_TAP, "fail.tap");
    char *out = NULL, *errout = NULL;
    char *argv[] = {"prove", "-v", "--exec", "cat", path, NULL};
    int rc = rh_test_run(argv, NULL, &out, &errout);
    if (rc != 1 || !strstr(out, "Failed 3/5 subtests") || strstr(out, "Parse errors")) {
        fprintf(stderr, "prove rc=%d\n%s\n%s\n", rc, out, errout);
        fail();
    }
    /* the skip is a skip, the # in a description did not start a directive */
    assert_non_null(strstr(out, "ok 5 - skipped # SKIP later"));
    assert_non_null(strstr(out, "a passing one \\# with a hash"));
    free(out);
    free(errout);
    rh_run_free(&run);
    free(path);

    make_run(&run, 1);
    path = write_report(&run, RH_REPORT_TAP, "pass.tap");
    char *argv2[] = {"prove", "-v", "--exec", "cat", path, NULL};
    rc = rh_test_run(argv2, NULL, &out, &errout);
    if (rc != 0 || !strstr(out, "All tests successful") || !strstr(out, "ok 2 - skipped # SKIP needs \\# Prisma 7")) {
        fprintf(stderr, "prove rc=%d\n%s\n%s\n", rc, out, errout);
        fail();
    }
    free(out);
    free(errout);
    rh_run_free(&run);
    free(path);
}

static void test_tap_yaml_block(void **state)
{
    (void)state;
    rh_run run;
    make_run(&run, 0);
    rh_buf b;
    rh_buf_init(&b);
    rh_report_tap(&run, &b);
    assert_true(strncmp(b.data, "TAP version 13\n1..5\n", 20) == 0);
    assert_non_null(strstr(b.data, "not ok 2 - fails: deploy\n  ---\n  message: |\n"));
    assert_non_null(strstr(b.data, "  line: 12\n  file: |\n    scenarios/_setup.inc\n"));
    assert_non_null(strstr(b.data, "  severity: timeout\n"));
    assert_non_null(strstr(b.data, "    + column public.t.y\n"));
    assert_null(strchr(b.data, '\x01'));
    assert_non_null(strstr(b.data, "bad utf8: \xEF\xBF\xBD\xEF\xBF\xBD done")); /* rh_report_term_text */
    rh_buf_free(&b);
    rh_run_free(&run);
}

static void test_junit_valid_against_schema(void **state)
{
    (void)state;
    rh_run run;
    make_run(&run, 0);
    char *path = write_report(&run, RH_REPORT_JUNIT, "report.xml");
    char *out = NULL, *errout = NULL;
    char *argv[] = {"xmllint", "--noout", "--schema", REHEARSE_SOURCE_DIR "/tests/unit/junit.xsd", path, NULL};
    int rc = rh_test_run(argv, NULL, &out, &errout);
    if (rc != 0) {
        fprintf(stderr, "xmllint rc=%d\n%s\n", rc, errout);
        fail();
    }
    free(out);
    free(errout);
    rh_buf b;
    rh_buf_init(&b);
    rh_report_junit(&run, &b);
    assert_non_null(strstr(b.data, "<testsuite name=\"rehearse\" tests=\"5\" failures=\"1\" errors=\"2\" skipped=\"1\""));
    assert_non_null(strstr(b.data, "classname=\"scenarios.001-fail\""));
    assert_non_null(strstr(b.data, "<failure type=\"fail\" message=\"scenarios/_setup.inc:12: `deploy` did not end"));
    assert_non_null(strstr(b.data, "<error type=\"timeout\""));
    assert_non_null(strstr(b.data, "<skipped message=\"later\"/>"));
    assert_non_null(strstr(b.data, "&lt;angle&gt; &quot;quotes&quot;"));
    assert_non_null(strstr(b.data, "\xEF\xBF\xBD"));   /* bad UTF-8 replaced */
    rh_buf_free(&b);
    rh_run_free(&run);
    free(path);

    /* the schema has teeth: an attribute the readers do not know is rejected */
    char *badxml = rh_xasprintf("%s/bad.xml", rh_test_tmpdir());
    rh_test_write_file(badxml, "<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"x\" tests=\"1\" failures=\"0\" "
                               "errors=\"0\"><testcase name=\"a\" line=\"3\"/></testsuite></testsuites>\n");
    char *argv2[] = {"xmllint", "--noout", "--schema", REHEARSE_SOURCE_DIR "/tests/unit/junit.xsd", badxml, NULL};
    rc = rh_test_run(argv2, NULL, NULL, NULL);
    assert_int_not_equal(rc, 0);
    free(badxml);
}

static void test_json(void **state)
{
    (void)state;
    rh_run run;
    make_run(&run, 0);
    rh_buf b;
    rh_buf_init(&b);
    rh_report_json(&run, &b);
    json_object *o = json_tokener_parse(b.data);
    assert_non_null(o);
    json_object *sum, *v, *arr;
    assert_true(json_object_object_get_ex(o, "summary", &sum));
    assert_true(json_object_object_get_ex(sum, "failed", &v));
    assert_int_equal(json_object_get_int(v), 1);
    assert_true(json_object_object_get_ex(sum, "exit_code", &v));
    assert_int_equal(json_object_get_int(v), 2);
    assert_true(json_object_object_get_ex(o, "scenarios", &arr));
    assert_int_equal(json_object_array_length(arr), 5);
    json_object *f, *fail1 = json_object_array_get_idx(arr, 1);
    assert_true(json_object_object_get_ex(fail1, "status", &v));
    assert_string_equal(json_object_get_string(v), "fail");
    assert_true(json_object_object_get_ex(fail1, "failure", &f));
    assert_true(json_object_object_get_ex(f, "line", &v));
    assert_int_equal(json_object_get_int(v), 12);
    assert_true(json_object_object_get_ex(f, "expected", &v));
    assert_string_equal(json_object_get_string(v), "ok");
    json_object_put(o);
    rh_buf_free(&b);
    rh_run_free(&run);
}

/*
 * The worker-to-runner transport and the public JSON report differ in shape on purpose, but share
 * the timing and failure fields: a run whose results went through the transport reports the same
 * bytes, and the failure object holds exactly the transport's failure fields.
 */
static void test_json_forms_agree(void **state)
{
    (void)state;
    rh_run run, back;
    make_run(&run, 0);
    set(&run.results[1].kept_id, "c-42");
    run.results[1].steps_run = 3;
    run.results[1].steps_total = 7;
    run.results[1].setup_ms = 12.25;
    set(&run.results[1].context, "  11 | x\n> 12 | deploy => ok\n");
    /* the steps and the ledger after them travel too (the HTML report and `report merge` read them) */
    rh_result_add_step(&run.results[1], "a.scenario", 2, "deploy", 10.5, 0);
    rh_result_step *st = rh_result_add_step(&run.results[1], "a.scenario", 3, "sql \"x\"", 1.5, 1);
    st->ledger_changed = 1;
    st->n_ledger = 2;
    st->ledger = calloc(2, sizeof *st->ledger);
    st->ledger[0] = (rh_result_ledger_row){.name = strdup("m1"), .finished = 1, .applied_steps = 1, .ms = 4.5};
    st->ledger[1] = (rh_result_ledger_row){.name = strdup("m2"), .ms = -1};
    strcpy(st->ledger[0].started, "2026-01-01 00:00:00.000001 UTC");
    /* --trace-locks: the locks each migration of the deploy held, and a note where it was not traced */
    st->n_traces = 2;
    st->traces = calloc(2, sizeof *st->traces);
    st->traces[0] = (rh_result_trace){.migration = strdup("m1"), .ms = 2.5, .n_locks = 1};
    st->traces[0].locks = calloc(1, sizeof *st->traces[0].locks);
    st->traces[0].locks[0] = (rh_result_lock){.relation = strdup("\"User\""), .mode = strdup("AccessExclusiveLock")};
    st->traces[1] = (rh_result_trace){.migration = strdup("m2"), .failed = 1};
    rh_result_add_step(&run.results[1], "a.scenario", 4, "sql \"drop\"", 1, 0)->ledger_gone = 1;
    run.results[1].steps[2].trace_note = strdup("not traced: a session is connected");
    back = run;
    back.results = calloc(run.n, sizeof *back.results);
    rh_err err;
    for (size_t i = 0; i < run.n; i++) {
        char *j = rh_result_to_json(&run.results[i]);
        assert_int_equal(rh_result_from_json(j, &back.results[i], &err), 0);
        free(j);
    }
    rh_buf a, b;
    rh_buf_init(&a);
    rh_buf_init(&b);
    rh_report_json(&run, &a);
    rh_report_json(&back, &b);
    assert_string_equal(a.data, b.data);
    /* the public failure object: the transport's failure fields, nothing else, nothing missing */
    json_object *o = json_tokener_parse(a.data), *arr, *f, *v;
    assert_true(json_object_object_get_ex(o, "scenarios", &arr));
    json_object *r1 = json_object_array_get_idx(arr, 1);
    assert_true(json_object_object_get_ex(r1, "failure", &f));
    static const char *const keys[] = {"file", "line", "step", "message", "expected", "actual",
                                       "diff", "output", "output_tool", "log_tail", "kept", "kept_id", "context"};
    assert_int_equal(json_object_object_length(f), sizeof keys / sizeof *keys);
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
        assert_true(json_object_object_get_ex(f, keys[k], &v));
    assert_true(json_object_object_get_ex(r1, "steps_total", &v));
    assert_int_equal(json_object_get_int(v), 7);
    assert_true(json_object_object_get_ex(r1, "setup_ms", &v));
    assert_true(json_object_get_double(v) > 12.2 && json_object_get_double(v) < 12.3);
    assert_false(json_object_object_get_ex(r1, "timed_out", &v));   /* only when true, unlike the transport */
    assert_true(json_object_object_get_ex(r1, "steps", &v));
    assert_int_equal(json_object_array_length(v), 3);
    assert_int_equal(back.results[1].steps[1].n_ledger, 2);
    assert_true(back.results[1].steps[1].ledger[1].ms < 0);
    assert_true(back.results[1].steps[2].ledger_gone);
    const rh_result_step *bs = &back.results[1].steps[1];
    assert_int_equal(bs->n_traces, 2);
    assert_string_equal(bs->traces[0].locks[0].relation, "\"User\"");
    assert_string_equal(bs->traces[0].locks[0].mode, "AccessExclusiveLock");
    assert_true(bs->traces[1].failed && !bs->traces[1].n_locks);
    assert_string_equal(back.results[1].steps[2].trace_note, "not traced: a session is connected");
    json_object_put(o);
    rh_buf_free(&a);
    rh_buf_free(&b);
    rh_run_free(&back);
    rh_run_free(&run);
}

static void test_github_annotations(void **state)
{
    (void)state;
    rh_run run;
    make_run(&run, 0);
    rh_buf b;
    rh_buf_init(&b);
    rh_report_github(&run, &b);
    /* one line per failure or error, none for passes and skips */
    int lines = 0;
    for (const char *p = b.data; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3);
    assert_non_null(strstr(b.data, "::error file=scenarios/_setup.inc,line=12,title=rehearse FAIL%3A fails%3A deploy::"
                                   "`deploy` did not end as the scenario expects%0Asecond line: 100%25 <sure>"));
    assert_non_null(strstr(b.data, "%0Aexpected: ok%0Aactual:   exit 1, P3018"));
    assert_non_null(strstr(b.data, "title=rehearse TIMEOUT%3A slow%2C with a comma%3A and colon::"));
    rh_buf_free(&b);
    rh_run_free(&run);
}

static void test_human(void **state)
{
    (void)state;
    rh_run run;
    make_run(&run, 0);
    rh_buf b;
    rh_buf_init(&b);
    rh_report_opts o = {0};
    rh_report_human(&run, &o, &b);
    assert_null(strchr(b.data, '\033'));
    /* the summary line per scenario, in order, then the details */
    const char *p0 = strstr(b.data, "PASS    scenarios/000-ok.scenario");
    const char *p1 = strstr(b.data, "FAIL    scenarios/001-fail.scenario");
    const char *p3 = strstr(b.data, "TIMEOUT scenarios/003-slow.scenario");
    assert_non_null(p0);
    assert_true(p0 < p1 && p1 < p3);
    assert_non_null(strstr(b.data, "  at scenarios/_setup.inc:12: deploy => ok\n"));
    assert_non_null(strstr(b.data, "  expected: ok\n  actual:   exit 1, P3018"));
    assert_non_null(strstr(b.data, "  catalog diff:\n    --- snapshot a\n"));
    assert_non_null(strstr(b.data, "  prisma output:\n    | Error: P3018\n"));
    assert_non_null(strstr(b.data, "  server log (last lines):\n    | 2026-01-01 ERROR:  boom\n"));
    assert_non_null(strstr(b.data, "cluster kept running; connect with:\n    psql 'host=/tmp/x dbname=postgres'"));
    assert_non_null(strstr(b.data, "5 scenarios: 1 passed, 1 failed, 2 errors, 1 skipped in 1.23 s (-j 2)"));
    rh_buf_reset(&b);
    o.color = 1;
    rh_report_human(&run, &o, &b);
    assert_non_null(strstr(b.data, "\033[31m"));
    rh_buf_free(&b);
    rh_run_free(&run);
}

/* The failure's tool output is headed by the tool that printed it (before: "prisma output" for every tool). */
static void test_output_title_names_the_tool(void **state)
{
    (void)state;
    static const struct {
        const char *tool, *line, *heading;
    } cases[] = {{"prisma", "prisma output", "Prisma output"},
                 {"dbmate", "dbmate output", "dbmate output"},
                 {"drizzle", "drizzle output", "drizzle output"},
                 {"command", "the command's output", "The command's output"},
                 {NULL, "tool output", "Tool output"}};
    rh_buf b;
    rh_buf_init(&b);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rh_result r = {.output_tool = (char *)cases[i].tool};
        rh_buf_reset(&b);
        rh_report_output_title(&r, 0, &b);
        assert_string_equal(b.data, cases[i].line);
        rh_buf_reset(&b);
        rh_report_output_title(&r, 1, &b);
        assert_string_equal(b.data, cases[i].heading);
    }
    rh_buf_free(&b);
}

static void test_formats(void **state)
{
    (void)state;
    rh_report_format f;
    rh_err err;
    assert_int_equal(rh_report_format_parse("tap", &f, &err), 0);
    assert_int_equal(f, RH_REPORT_TAP);
    assert_int_equal(rh_report_format_parse("xml", &f, &err), 0);
    assert_int_equal(f, RH_REPORT_JUNIT);
    assert_int_equal(rh_report_format_parse("yaml", &f, &err), -1);
    assert_non_null(strstr(err.msg, "human, tap, junit, json"));
}

/*
 * The one escaping rule per format (report/escape.h), byte by byte: control characters, a stray
 * byte, a truncated sequence, an overlong form, an encoded surrogate and U+FFFE.
 */
static void test_escape_rules(void **state)
{
    (void)state;
    const char *awkward = "a\001b\037c\tn\nr\r<&>\"'\x7f|\xff|\xE2\x82|\xC0\x80|\xED\xA0\x80|\xEF\xBF\xBE|\xE2\x82\xAC";
    rh_buf b;
    rh_buf_init(&b);
    rh_report_xml_text(&b, awkward);
    /* XML 1.0: no control character but tab and newline, no reference to one, no U+FFFE */
    assert_string_equal(b.data, "abc&#9;n&#10;r&lt;&amp;&gt;&quot;'\x7f|\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD|"
                                "\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD||\xE2\x82\xAC");
    rh_buf_reset(&b);
    rh_report_xml_text(&b, NULL);
    assert_int_equal(b.len, 0);

    /* JSON: json-c escapes the control characters, the bytes that are not UTF-8 become U+FFFD */
    json_object *o = json_object_new_object();
    json_object_object_add(o, "s", json_object_new_string(awkward));
    rh_report_json_write(o, &b);
    json_object_put(o);
    assert_non_null(strstr(b.data, "\"a\\u0001b\\u001fc\\tn\\nr\\r<&>\\\"'\x7f|\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD|"));
    assert_non_null(strstr(b.data, "|\xEF\xBF\xBE|\xE2\x82\xAC\""));  /* U+FFFE is a valid JSON character */
    assert_int_equal(b.data[b.len - 1], '\n');
    json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, b.data, (int)b.len - 1);
    assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
    assert_non_null(o);
    json_object_put(o);
    json_tokener_free(tok);

    /* GitHub workflow commands: % CR LF always, : and , in properties, bytes repaired */
    rh_buf_reset(&b);
    rh_report_github_escape(&b, "50%: a,b\r\n\xff", 1);
    assert_string_equal(b.data, "50%25%3A a%2Cb%0D%0A\xEF\xBF\xBD");
    rh_buf_reset(&b);
    rh_report_github_escape(&b, "50%: a,b\n", 0);
    assert_string_equal(b.data, "50%25: a,b%0A");
    rh_buf_free(&b);
}

/*
 * A hostile repository's text in every human/TAP field: clear screen, retitle the window, a CSI as
 * its C1 byte, a right-to-left override, a bell. A terminal or CI log must show them, not obey them.
 */
static int has_raw_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7F)
            return 1;
        if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) /* C1 control, UTF-8 encoded */
            return 1;
        if (p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE) /* U+202A..U+202E */
            return 1;
    }
    return 0;
}

static void test_terminal_escapes_are_shown_not_obeyed(void **state)
{
    (void)state;
    rh_buf b;
    rh_buf_init(&b);
    rh_report_term_text(&b, "a\033[2J\033]0;owned\007b\r\nc\rd\t\xC2\x9B" "31m\xE2\x80\xAEtxt.exe\x7f\xff\n");
    assert_string_equal(b.data, "a\xE2\x90\x9B[2J\xE2\x90\x9B]0;owned\xE2\x90\x87" "b\nc\xE2\x90\x8D" "d\t"
                                "\xEF\xBF\xBD" "31m\xEF\xBF\xBDtxt.exe\xE2\x90\xA1\xEF\xBF\xBD\n");
    rh_buf_free(&b);

    const char *evil = "x\033[2J\033]0;owned\007\xC2\x9B" "31m\xE2\x80\xAEy";
    rh_run run;
    make_run(&run, 0);
    for (size_t i = 0; i < run.n; i++) {
        rh_result *r = &run.results[i];
        char **fields[] = {&r->path, &r->name, &r->file, &r->step, &r->message, &r->expected, &r->actual,
                           &r->diff, &r->output, &r->log_tail, &r->kept, &r->skip_reason, &r->pg_note};
        for (size_t k = 0; k < sizeof fields / sizeof *fields; k++) {
            free(*fields[k]);
            *fields[k] = rh_xasprintf("%s\n%s", evil, evil);
        }
    }
    rh_report_format fmts[] = {RH_REPORT_HUMAN, RH_REPORT_TAP};
    for (size_t f = 0; f < 2; f++) {
        rh_buf_init(&b);
        rh_report_write(&run, fmts[f], &(rh_report_opts){0}, &b);
        assert_false(has_raw_control(b.data));
        assert_non_null(strstr(b.data, "x\xE2\x90\x9B[2J")); /* shown as U+241B */
        rh_buf_free(&b);
    }
    rh_buf_init(&b);
    rh_report_progress_line(&run.results[1], 2, 5, 0, &b);
    assert_false(has_raw_control(b.data));
    rh_buf_reset(&b);
    rh_report_github(&run, &b); /* an annotation the runner does not accept is echoed to the log */
    assert_false(has_raw_control(b.data));
    rh_buf_free(&b);
    rh_run_free(&run);
}

/* A module's own note on stderr (a path or revision from the user, a server message) goes through the
   same escaper: the ESC of a hostile folder name reaches the CI log as a picture. */
static void test_stderr_notes_are_escaped(void **state)
{
    (void)state;
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stderr);
    int saved = dup(fileno(stderr));
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), fileno(stderr)) >= 0);
    rh_report_term_eprintf("rehearse: note: %s at %s\n", "prisma/\x1b[2Jmigrations", "main");
    fflush(stderr);
    assert_true(dup2(saved, fileno(stderr)) >= 0);
    close(saved);
    char got[256] = {0};
    rewind(tmp);
    size_t n = fread(got, 1, sizeof got - 1, tmp);
    fclose(tmp);
    assert_true(n > 0);
    assert_null(strchr(got, '\x1b'));
    assert_string_equal(got, "rehearse: note: prisma/\xe2\x90\x9b[2Jmigrations at main\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tap_read_by_prove),
        cmocka_unit_test(test_tap_yaml_block),
        cmocka_unit_test(test_junit_valid_against_schema),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_forms_agree),
        cmocka_unit_test(test_github_annotations),
        cmocka_unit_test(test_human),
        cmocka_unit_test(test_output_title_names_the_tool),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_escape_rules),
        cmocka_unit_test(test_terminal_escapes_are_shown_not_obeyed),
        cmocka_unit_test(test_stderr_notes_are_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
