/*
 * test_runner_cli.c — `rehearse run` as users and CI call it: exit codes (0 pass, 1 fail, 2 usage or
 * parse error), --format and --output, GitHub annotations with GITHUB_ACTIONS set, --list with
 * --shard and --filter, and the TAP output piped into prove.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "util/fs.h"

static const char *dir;

static char *at(const char *name)
{
    return rh_xasprintf("%s/%s", dir, name);
}

static int setup(void **state)
{
    (void)state;
    dir = rh_test_tmpdir();
    char *p;
    rh_test_write_file(p = at("suite/a-pass.scenario"), "scenario \"passes\"\nsql \"select 1\"\n"), free(p);
    rh_test_write_file(p = at("suite/b-fail.scenario"),
                       "scenario \"fails\"\nsql \"create table t (x int)\"\nexpect table t absent\n"), free(p);
    rh_test_write_file(p = at("ok/only.scenario"), "sql \"select 1\"\n"), free(p);
    rh_test_write_file(p = at("bad/parse.scenario"), "sql \"select 1\"\ndeploy => fail x\n"), free(p);
    return 0;
}

static int run(char **out, char **err, const char *a1, const char *a2, const char *a3, const char *a4, const char *a5)
{
    char *argv[] = {REHEARSE_BIN, "run", (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5, NULL};
    return rh_test_run(argv, NULL, out, err);
}

static void test_exit_codes_and_human(void **state)
{
    (void)state;
    char *out, *err;
    char *ok = at("ok"), *suite = at("suite"), *bad = at("bad");
    assert_int_equal(run(&out, &err, ok, NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(out, "1 scenario: 1 passed, 0 failed, 0 errors, 0 skipped"));
    free(out), free(err);

    int rc = run(&out, &err, suite, NULL, NULL, NULL, NULL);
    if (rc != 1) {
        fprintf(stderr, "rc=%d\n%s\n%s\n", rc, out, err);
        fail();
    }
    assert_non_null(strstr(out, "FAIL fails"));
    assert_non_null(strstr(out, "b-fail.scenario:3: expect table t absent"));
    assert_null(strchr(out, '\033'));   /* no colour into a pipe */
    /* path order: a before b */
    assert_true(strstr(out, "a-pass.scenario") < strstr(out, "b-fail.scenario"));
    free(out), free(err);

    assert_int_equal(run(&out, &err, bad, NULL, NULL, NULL, NULL), 2);
    assert_non_null(strstr(out, "parse.scenario:2:11: error: unknown outcome 'fail'"));
    free(out), free(err);

    assert_int_equal(run(&out, &err, "--format", "yaml", ok, NULL, NULL), 2);
    assert_non_null(strstr(err, "unknown format 'yaml'"));
    free(out), free(err);
    assert_int_equal(run(&out, &err, "--shard", "3/2", ok, NULL, NULL), 2);
    free(out), free(err);
    assert_int_equal(run(&out, &err, "/nonexistent/x.scenario", NULL, NULL, NULL, NULL), 2);
    free(out), free(err);
    free(ok), free(suite), free(bad);
}

static void test_formats_and_output(void **state)
{
    (void)state;
    char *out, *err;
    char *suite = at("suite"), *tap = at("r.tap"), *xml = at("r.xml");
    assert_int_equal(run(&out, &err, "-j", "2", "--format", "tap", suite), 1);
    assert_true(strncmp(out, "TAP version 13\n1..2\nok 1 - passes\nnot ok 2 - fails\n", 46) == 0);
    free(out), free(err);

    assert_int_equal(run(&out, &err, "--format", "tap", "--output", tap, suite), 1);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "report in"));
    free(out), free(err);
    char *argv[] = {"prove", "--exec", "cat", tap, NULL};
    int rc = rh_test_run(argv, NULL, &out, &err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "Failed 1/2 subtests"));
    assert_null(strstr(out, "Parse errors"));
    free(out), free(err);

    assert_int_equal(run(&out, &err, "-f", "junit", "-o", xml, suite), 1);
    free(out), free(err);
    char *argv2[] = {"xmllint", "--noout", "--schema", REHEARSE_SOURCE_DIR "/tests/unit/junit.xsd", xml, NULL};
    assert_int_equal(rh_test_run(argv2, NULL, NULL, NULL), 0);

    assert_int_equal(run(&out, &err, "--format", "json", suite, NULL, NULL), 1);
    assert_non_null(strstr(out, "\"exit_code\":1"));
    free(out), free(err);
    free(suite), free(tap), free(xml);
}

static void test_github_annotations(void **state)
{
    (void)state;
    char *out, *err;
    char *suite = at("suite");
    setenv("GITHUB_ACTIONS", "true", 1);
    assert_int_equal(run(&out, &err, suite, NULL, NULL, NULL, NULL), 1);
    char *want = rh_xasprintf("::error file=%s/suite/b-fail.scenario,line=3,title=rehearse FAIL%%3A fails::", dir);
    if (!strstr(err, want)) {
        fprintf(stderr, "no annotation %s in:\n%s\n", want, err);
        fail();
    }
    free(want);
    assert_null(strstr(out, "::error"));
    free(out), free(err);
    /* a machine report on stdout stays clean: the annotations go to stderr, in every format */
    const char *formats[] = {"tap", "json", "junit"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(run(&out, &err, "--format", formats[i], suite, NULL, NULL), 1);
        assert_null(strstr(out, "::error"));
        assert_non_null(strstr(err, "::error file="));
        free(out), free(err);
    }
    unsetenv("GITHUB_ACTIONS");
    free(suite);
}

static void test_list_shard_filter(void **state)
{
    (void)state;
    char *out, *err;
    char *suite = at("suite");
    assert_int_equal(run(&out, &err, "--list", suite, NULL, NULL, NULL), 0);
    assert_non_null(strstr(out, "a-pass.scenario\n"));
    assert_non_null(strstr(out, "b-fail.scenario\n"));
    free(out), free(err);
    /* the two shards split the list without overlap */
    char *s1, *s2;
    assert_int_equal(run(&s1, &err, "--list", "--shard", "1/2", suite, NULL), 0);
    free(err);
    assert_int_equal(run(&s2, &err, "--list", "--shard", "2/2", suite, NULL), 0);
    free(err);
    int in1 = (strstr(s1, "a-pass") != NULL) + (strstr(s2, "a-pass") != NULL);
    int in2 = (strstr(s1, "b-fail") != NULL) + (strstr(s2, "b-fail") != NULL);
    assert_int_equal(in1, 1);
    assert_int_equal(in2, 1);
    free(s1), free(s2);
    /* --filter by name keeps the passing one only */
    assert_int_equal(run(&out, &err, "--filter", "passes", suite, NULL, NULL), 0);
    assert_non_null(strstr(out, "1 scenario: 1 passed"));
    free(out), free(err);
    /* --list selects as the run does: by title too */
    assert_int_equal(run(&out, &err, "--list", "--filter", "passes", suite, NULL), 0);
    assert_non_null(strstr(out, "a-pass.scenario\n"));
    assert_null(strstr(out, "b-fail"));
    free(out), free(err);
    assert_int_equal(run(&out, &err, "--list", "--filter", "b-fail", suite, NULL), 0);
    assert_non_null(strstr(out, "b-fail.scenario\n"));
    assert_null(strstr(out, "a-pass"));
    free(out), free(err);
    /* a filter that selects nothing is an error for --list as for a run */
    assert_int_equal(run(&out, &err, "--list", "--filter", "no-such-thing", suite, NULL), 2);
    assert_non_null(strstr(err, "no scenario's path or name contains 'no-such-thing'"));
    free(out), free(err);
    free(suite);
}

/* A dangling *.scenario symlink: an error naming it and its target; the others are still listed and run. */
static void test_dangling_link(void **state)
{
    (void)state;
    char *out, *err, *p;
    rh_test_write_file(p = at("dl/a-ok.scenario"), "sql \"select 1\"\n"), free(p);
    char *link = at("dl/b-gone.scenario"), *dl = at("dl");
    assert_int_equal(symlink("../gone/b.scenario", link), 0);
    assert_int_equal(run(&out, &err, "--list", dl, NULL, NULL, NULL), 2);
    assert_non_null(strstr(out, "a-ok.scenario\n"));
    assert_null(strstr(out, "b-gone"));
    assert_non_null(strstr(err, "b-gone.scenario: error: a symlink to '../gone/b.scenario', which does not exist"));
    free(out), free(err);
    assert_int_equal(run(&out, &err, dl, NULL, NULL, NULL, NULL), 2);
    assert_non_null(strstr(out, "2 scenarios: 1 passed, 0 failed, 1 error"));
    assert_non_null(strstr(out, "'../gone/b.scenario', which does not exist"));
    free(out), free(err);
    free(link), free(dl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_codes_and_human),
        cmocka_unit_test(test_formats_and_output),
        cmocka_unit_test(test_github_annotations),
        cmocka_unit_test(test_list_shard_filter),
        cmocka_unit_test(test_dangling_link),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
