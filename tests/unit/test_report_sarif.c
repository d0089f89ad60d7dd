/*
 * test_report_sarif.c — `rehearse check --format sarif`: SARIF 2.1.0 valid against the schema
 * (tests/unit/sarif-schema-2.1.0.json, read by python3's jsonschema) and GitHub code scanning's
 * one more rule (a location on every result), one result per finding with
 * its rule id, level, location (file, line) and the rule's help text; awkward text (control
 * characters, bytes that are not UTF-8) still gives a document that validates. Results are built by
 * hand: formatting needs no cluster. `history_sarif` runs `rehearse history` on a real repository,
 * in SARIF and, beside it, as the Markdown comment.
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

#include "report/sarif.h"
#include "test_git_fixture.h"
#include "testlib.h"

#define FILE1 "prisma/migrations/20250201000000_a\001b\377c/migration.sql"

/* Debian's python3 with its jsonschema (python3-jsonschema, which bootstrap installs; another python3
   earlier on PATH, e.g. pyenv's, may lack the module) validates the text against SARIF 2.1.0. */
static void assert_sarif_valid(const char *text)
{
    char *path = rh_xasprintf("%s/check.sarif", rh_test_tmpdir());
    rh_test_write_file(path, text);
    char *out = NULL, *errout = NULL;
    char *argv[] = {"/usr/bin/python3", "-c",
                    "import json,sys,jsonschema\n"
                    "schema=json.load(open(sys.argv[1]))\n"
                    "doc=json.load(open(sys.argv[2],encoding='utf-8',errors='strict'))\n"
                    "jsonschema.Draft4Validator(schema).validate(doc)\n"
                    /* GitHub code scanning's rule on top of the schema's: each result has a location
                       with a non-empty artifactLocation.uri (else the upload is refused) */
                    "for run in doc['runs']:\n"
                    "  for r in run.get('results',[]):\n"
                    "    assert r['locations'][0]['physicalLocation']['artifactLocation']['uri'], r\n",
                    REHEARSE_SOURCE_DIR "/tests/unit/sarif-schema-2.1.0.json", path, NULL};
    int rc = rh_test_run(argv, NULL, &out, &errout);
    if (rc != 0) {
        fprintf(stderr, "not valid SARIF 2.1.0 (rc %d):\n%s\n%s\n", rc, errout, text);
        fail();
    }
    free(out);
    free(errout);
    free(path);
}

static json_object *get(json_object *o, const char *path)
{
    char *copy = strdup(path), *save = NULL;
    for (char *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
        json_object *next = NULL;
        if (json_object_is_type(o, json_type_array))
            next = json_object_array_get_idx(o, (size_t)atoi(k));
        else if (!json_object_object_get_ex(o, k, &next))
            next = NULL;
        o = next;
    }
    free(copy);
    if (!o)
        fail_msg("no %s", path);
    return o;
}

static void results_rules_locations(void **state)
{
    (void)state;
    rh_check_finding f[] = {
        {.level = RH_CHECK_WARNING, .step = 'f', .code = "access-exclusive", .migration = "m1", .file = FILE1,
         .line = 3, .message = "takes AccessExclusiveLock \"User\" <&>", .detail = "ALTER TABLE\n\tx"},
        {.level = RH_CHECK_ERROR, .step = 'a', .code = "clean-deploy-failed", .message = "P3018 \x01 failed"},
        {.level = RH_CHECK_NOTICE, .step = 'f', .code = "access-exclusive", .file = FILE1, .message = "again"},
        {.level = RH_CHECK_NOTICE, .step = 'e', .code = "not-reached", .migration = "20250301000000_b c",
         .message = "no file"},
    };
    rh_check_result r;
    memset(&r, 0, sizeof r);
    r.findings = f;
    r.n_findings = 4;
    r.migrations = "prisma/migrations";
    rh_buf b;
    rh_buf_init(&b);
    rh_report_check_sarif(&r, &b);
    assert_sarif_valid(b.data);

    json_object *root = json_tokener_parse(b.data);
    assert_non_null(root);
    assert_string_equal(json_object_get_string(get(root, "version")), "2.1.0");
    json_object *run = get(root, "runs.0");
    assert_string_equal(json_object_get_string(get(run, "tool.driver.name")), "rehearse");
    /* a rule per code, with help text; results point at them */
    assert_int_equal(json_object_array_length(get(run, "tool.driver.rules")), 3);
    assert_string_equal(json_object_get_string(get(run, "tool.driver.rules.0.id")), "access-exclusive");
    assert_non_null(strstr(json_object_get_string(get(run, "tool.driver.rules.0.help.text")), "(f) locks"));
    assert_int_equal(json_object_array_length(get(run, "results")), 4);
    assert_string_equal(json_object_get_string(get(run, "results.0.level")), "warning");
    assert_string_equal(json_object_get_string(get(run, "results.1.level")), "error");
    assert_string_equal(json_object_get_string(get(run, "results.2.level")), "note");
    assert_int_equal(json_object_get_int(get(run, "results.1.ruleIndex")), 1);
    assert_int_equal(json_object_get_int(get(run, "results.2.ruleIndex")), 0);
    /* location: the file relative to the repository root (a URI: odd bytes percent-encoded), the line */
    assert_string_equal(json_object_get_string(get(run, "results.0.locations.0.physicalLocation.artifactLocation.uri")),
                        "prisma/migrations/20250201000000_a%01b%FFc/migration.sql");
    assert_int_equal(json_object_get_int(get(run, "results.0.locations.0.physicalLocation.region.startLine")), 3);
    assert_string_equal(json_object_get_string(get(run, "results.0.message.text")),
                        "takes AccessExclusiveLock \"User\" <&>\nALTER TABLE\n\tx");
    /* a finding with no file points at the migrations folder (GitHub code scanning refuses a result
       without a location), with no region: a folder has no lines */
    assert_string_equal(json_object_get_string(get(run, "results.1.locations.0.physicalLocation.artifactLocation.uri")),
                        "prisma/migrations/");
    json_object *region = NULL;
    assert_false(json_object_object_get_ex(get(run, "results.1.locations.0.physicalLocation"), "region", &region));
    /* ... at its migration's folder when the finding names one */
    assert_string_equal(json_object_get_string(get(run, "results.3.locations.0.physicalLocation.artifactLocation.uri")),
                        "prisma/migrations/20250301000000_b%20c/");
    json_object_put(root);
    rh_buf_free(&b);

    /* no folder known (a check that failed before reading one): the repository root */
    r.migrations = NULL;
    r.n_findings = 2;
    rh_buf_init(&b);
    rh_report_check_sarif(&r, &b);
    assert_sarif_valid(b.data);
    root = json_tokener_parse(b.data);
    assert_string_equal(
        json_object_get_string(get(root, "runs.0.results.1.locations.0.physicalLocation.artifactLocation.uri")), "./");
    json_object_put(root);
    rh_buf_free(&b);

    /* no findings: still a valid log with one run and no results */
    r.n_findings = 0;
    rh_buf_init(&b);
    rh_report_check_sarif(&r, &b);
    assert_sarif_valid(b.data);
    rh_buf_free(&b);
}

/* history --format sarif: a migration edited after it was applied is a warning on its file, and valid. */
static void history_sarif(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"Order\" (\"id\" INTEGER PRIMARY KEY);\n");
    fx_commit(r, "init");
    fx_tag(r, "v1", "HEAD", 0);
    fx_migration(r, "20250101000000_init", "CREATE TABLE \"Order\" (\"id\" BIGINT PRIMARY KEY);\n");
    fx_commit(r, "edit");
    char *out = NULL, *errout = NULL;
    char *argv[] = {REHEARSE_BIN, "history", "--repo", r->path, "--from", "v1", "--to", "HEAD", "--format", "sarif", NULL};
    int rc = rh_test_run(argv, NULL, &out, &errout);
    if (rc != 1)
        fprintf(stderr, "rc=%d\n%s\n%s\n", rc, out, errout);
    assert_int_equal(rc, 1); /* a hazard */
    assert_sarif_valid(out);
    json_object *root = json_tokener_parse(out);
    json_object *res = get(root, "runs.0.results.0");
    assert_string_equal(json_object_get_string(get(res, "ruleId")), "edited");
    assert_string_equal(json_object_get_string(get(res, "level")), "warning");
    assert_string_equal(json_object_get_string(get(res, "locations.0.physicalLocation.artifactLocation.uri")),
                        "prisma/migrations/20250101000000_init/migration.sql");
    json_object_put(root);
    free(out);
    free(errout);

    /* --format markdown: the same finding in the comment, hazard first, linked to its file */
    argv[9] = "markdown";
    rc = rh_test_run(argv, NULL, &out, &errout);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "### ❌ rehearse history: hazards between the two revisions\n\n1 hazard(s)"));
    assert_non_null(strstr(out, "- **hazard** `edited` [prisma\\/migrations\\/20250101000000\\_init\\/migration\\.sql]"
                                "(prisma/migrations/20250101000000_init/migration.sql) "));
    free(out);
    free(errout);
    fx_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(results_rules_locations),
        cmocka_unit_test(history_sarif),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
