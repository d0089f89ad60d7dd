/*
 * test_machine_output.c — what programs read from `rehearse run` and `rehearse check` parses, whatever
 * the repository holds: migration and scenario names with control characters and bytes that are
 * not UTF-8 (JSON by json-c's strict UTF-8-validating parser, JUnit XML by xmllint), and with
 * GITHUB_ACTIONS=true the annotations go to stderr, never into a report printed on stdout.
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

#include "test_git_fixture.h"
#include "testlib.h"
#include "util/buf.h"

/* A migration name holding a control character, a stray 0xFF byte, a truncated sequence and markup. */
#define ODD_NAME "20250201000000_a\001b\377c\xE2\x82<&>\"x"

/* The whole text is one JSON document of valid UTF-8 (no trailing bytes); fails the test otherwise. */
static json_object *parse_json_strictly(const char *text, const char *what)
{
    json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    size_t len = strlen(text);
    json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (used < len && (text[used] == '\n' || text[used] == ' '))
        used++;
    if (!o || e != json_tokener_success || used != len) {
        fprintf(stderr, "%s is not one valid JSON document (%s, %zu of %zu bytes used):\n%s\n", what,
                json_tokener_error_desc(e), used, len, text);
        fail();
    }
    return o;
}

/* xmllint reads the text as well-formed XML 1.0 (and, with a schema, valid against it). */
static void assert_xml(const char *text, const char *name, const char *schema)
{
    char *path = rh_xasprintf("%s/%s", rh_test_tmpdir(), name);
    rh_test_write_file(path, text);
    char *errout = NULL;
    char *argv[] = {"xmllint", "--noout", schema ? "--schema" : "--nonet", (char *)(schema ? schema : "--nonet"), path,
                    NULL};
    int rc = rh_test_run(argv, NULL, NULL, &errout);
    if (rc != 0) {
        fprintf(stderr, "xmllint rejects %s (rc %d):\n%s\n%s\n", name, rc, errout, text);
        fail();
    }
    free(errout);
    free(path);
}

/* A repository whose base has one migration; on disk (WORKTREE, check's default head) one more with ODD_NAME. */
static fx_repo *odd_repo(void)
{
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"Order\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "init");
    char *path = rh_xasprintf("%s/prisma/migrations/" ODD_NAME "/migration.sql", r->path);
    const char *sql = "ALTER TABLE \"Order\" ADD COLUMN \"note\" TEXT;\n";
    fx_write_file(path, sql, strlen(sql));
    free(path);
    return r;
}

static void check_json_and_junit_parse(void **state)
{
    (void)state;
    fx_repo *r = odd_repo();
    setenv("GITHUB_ACTIONS", "true", 1);
    char *out = NULL, *errout = NULL;
    char *json_argv[] = {REHEARSE_BIN, "check", "--repo", r->path, "--base", "main", "--format", "json", NULL};
    int rc = rh_test_run(json_argv, NULL, &out, &errout);
    if (rc != 0 && rc != 1)
        fprintf(stderr, "rc=%d\n%s\n%s\n", rc, out, errout);
    assert_true(rc == 0 || rc == 1);
    json_object *root = parse_json_strictly(out, "check --format json");
    json_object *added = NULL;
    assert_true(json_object_object_get_ex(root, "new", &added));
    assert_int_equal(json_object_array_length(added), 1);
    /* the name survives with its bad bytes as U+FFFD and its control character escaped */
    const char *name = json_object_get_string(json_object_array_get_idx(added, 0));
    assert_string_equal(name, "20250201000000_a\001b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD<&>\"x");
    json_object_put(root);
    /* the annotations are on stderr */
    assert_null(strstr(out, "::"));
    assert_non_null(strstr(errout, "file=prisma/migrations/20250201000000_a"));
    free(out);
    free(errout);

    char *junit_argv[] = {REHEARSE_BIN, "check", "--repo", r->path, "--base", "main", "--format", "junit",
                          "--fail-on", "notice", NULL};
    rc = rh_test_run(junit_argv, NULL, &out, &errout);
    assert_int_equal(rc, 1); /* the odd name is at least a notice */
    assert_xml(out, "check.xml", REHEARSE_SOURCE_DIR "/tests/unit/junit.xsd");
    assert_null(strstr(out, "&#x")); /* no reference to a character XML 1.0 forbids */
    assert_null(strstr(out, "::"));
    assert_non_null(strstr(errout, "::"));
    free(out);
    free(errout);
    unsetenv("GITHUB_ACTIONS");
    fx_free(r);
}

/*
 * history --format json names the odd migration (its folder has no migration.sql, a hazard) and
 * goes through the same JSON writer (history shows names in a printable form of its own; this
 * guards the document as a whole).
 */
static void history_json_parses(void **state)
{
    (void)state;
    fx_repo *r = odd_repo();
    fx_put(r, "prisma/migrations/" ODD_NAME "/README", "no sql\n");
    fx_commit(r, "odd");
    char *out = NULL, *errout = NULL;
    char *argv[] = {REHEARSE_BIN, "history", "--repo", r->path, "--from", "main~1", "--to", "main", "--format", "json",
                    NULL};
    int rc = rh_test_run(argv, NULL, &out, &errout);
    if (rc != 1)
        fprintf(stderr, "rc=%d\n%s\n%s\n", rc, out, errout);
    assert_int_equal(rc, 1);
    json_object *root = parse_json_strictly(out, "history --format json");
    assert_non_null(strstr(out, "20250201000000_a<U+0001>b<0xff>c<0xe2><0x82>")); /* history's printable form */
    json_object_put(root);
    free(out);
    free(errout);
    fx_free(r);
}

static void run_json_and_junit_parse(void **state)
{
    (void)state;
    const char *dir = rh_test_tmpdir();
    char *p = rh_xasprintf("%s/odd/m/" ODD_NAME "/migration.sql", dir);
    rh_test_write_file(p, "SELECT 1/0;\n");
    free(p);
    p = rh_xasprintf("%s/odd/m/migration_lock.toml", dir);
    rh_test_write_file(p, "provider = \"postgresql\"\n");
    free(p);
    char *scn = rh_xasprintf("%s/odd/odd.scenario", dir);
    rh_test_write_file(scn, "scenario \"odd \001 name \377 <&>\"\nmigrations m\ndeploy\n");
    setenv("GITHUB_ACTIONS", "true", 1);
    const char *formats[] = {"json", "junit"};
    for (size_t i = 0; i < 2; i++) {
        char *out = NULL, *errout = NULL;
        char *argv[] = {REHEARSE_BIN, "run", "--format", (char *)formats[i], scn, NULL};
        int rc = rh_test_run(argv, NULL, &out, &errout);
        if (rc != 1)
            fprintf(stderr, "rc=%d\n%s\n%s\n", rc, out, errout);
        assert_int_equal(rc, 1); /* the migration fails: the scenario fails */
        if (i == 0) {
            json_object *root = parse_json_strictly(out, "run --format json");
            json_object_put(root);
        } else {
            assert_xml(out, "run.xml", REHEARSE_SOURCE_DIR "/tests/unit/junit.xsd");
        }
        assert_null(strstr(out, "::error"));
        assert_non_null(strstr(errout, "::error"));
        free(out);
        free(errout);
    }
    unsetenv("GITHUB_ACTIONS");
    free(scn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_json_and_junit_parse),
        cmocka_unit_test(history_json_parses),
        cmocka_unit_test(run_json_and_junit_parse),
    };
    return cmocka_run_group_tests_name("machine_output", tests, NULL, NULL);
}
