/*
 * test_history_cli.c — `rehearse history` as a user runs it: exit codes (0 no hazard, 1 hazards,
 * 2 usage or setup error), the human text, JSON that parses, and error messages that name what
 * was given.
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

static int history(const char *repo, const char *from, const char *to, const char *extra1, const char *extra2,
                   char **out, char **errout)
{
    char *argv[16];
    int n = 0;
    argv[n++] = REHEARSE_BIN;
    argv[n++] = "history";
    if (repo) {
        argv[n++] = "--repo";
        argv[n++] = (char *)repo;
    }
    if (from) {
        argv[n++] = "--from";
        argv[n++] = (char *)from;
    }
    if (to) {
        argv[n++] = "--to";
        argv[n++] = (char *)to;
    }
    if (extra1)
        argv[n++] = (char *)extra1;
    if (extra2)
        argv[n++] = (char *)extra2;
    argv[n] = NULL;
    return rh_test_run(argv, NULL, out, errout);
}

static fx_repo *fixture(void)
{
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "package.json", "{\"devDependencies\":{\"prisma\":\"6.19.3\"}}");
    fx_migration(r, "20251225061321_y", "SELECT 1;\n");
    fx_commit(r, "one");
    fx_tag(r, "v1", "main", 1);
    fx_put(r, "README.md", "docs only\n");
    fx_commit(r, "docs");
    fx_tag(r, "v2", "main", 1);
    fx_migration(r, "20251225_x", "SELECT 2;\n");
    fx_commit(r, "x");
    fx_tag(r, "v3", "main", 1);
    return r;
}

static void exit_codes_and_human_text(void **state)
{
    fx_repo *r = fixture();
    char *out = NULL, *err = NULL;
    assert_int_equal(history(r->path, "v1", "v2", NULL, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "no hazards (0 note(s))"));
    free(out);
    free(err);

    assert_int_equal(history(r->path, "v2", "v3", NULL, NULL, &out, &err), 1);
    assert_non_null(strstr(out, "order of Prisma 6.19.3 (ICU collation), from package.json devDependencies.prisma 6.19.3"));
    assert_non_null(strstr(out, "hazard out-of-order  prisma/migrations/20251225_x\n"));
    assert_non_null(strstr(out, "note   added         prisma/migrations/20251225_x\n"));
    assert_non_null(strstr(out, "2 hazard(s), 1 note(s)\n"));
    free(out);
    free(err);

    /* from a subfolder of the work tree */
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/prisma", r->path);
    assert_int_equal(history(sub, "v1", "v2", NULL, NULL, &out, &err), 0);
    free(out);
    free(err);
    fx_free(r);
}

/* Order differences: one finding per migration with the names it moves past, listed in both formats. */
static void order_differences_listed_per_migration(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "package.json", "{\"devDependencies\":{\"prisma\":\"6.19.3\"}}");
    fx_migration(r, "20251225_a", "SELECT 1;\n");
    fx_commit(r, "a");
    fx_tag(r, "v1", "main", 1);
    fx_migration(r, "20251225061321_y", "SELECT 2;\n");
    fx_migration(r, "20251225063854_z", "SELECT 3;\n");
    fx_commit(r, "y z");
    char *out = NULL, *err = NULL;
    assert_int_equal(history(r->path, "v1", "main", NULL, NULL, &out, &err), 1);
    const char *p = strstr(out, "hazard order-differs prisma/migrations/20251225_a\n"
                                "       20251225_a is ordered differently against 2 migrations at main (");
    assert_non_null(p);
    assert_null(strstr(p + strlen("hazard order-differs"), "order-differs")); /* only one */
    assert_non_null(strstr(p, "changes the order they apply in\n"
                              "         - 20251225061321_y\n"
                              "         - 20251225063854_z\n"));
    free(out);
    free(err);

    assert_int_equal(history(r->path, "v1", "main", "--format", "json", &out, &err), 1);
    json_object *o = json_tokener_parse(out), *f, *v;
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "findings", &f));
    int seen = 0;
    for (size_t i = 0; i < json_object_array_length(f); i++) {
        json_object *e = json_object_array_get_idx(f, i), *k;
        json_object_object_get_ex(e, "kind", &k);
        if (strcmp(json_object_get_string(k), "order-differs") != 0)
            continue;
        seen++;
        assert_true(json_object_object_get_ex(e, "name", &v));
        assert_string_equal(json_object_get_string(v), "20251225_a");
        assert_true(json_object_object_get_ex(e, "others", &v));
        assert_int_equal(json_object_array_length(v), 2);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 1)), "20251225063854_z");
    }
    assert_int_equal(seen, 1);
    json_object_put(o);
    free(out);
    free(err);
    fx_free(r);
}

static void json_output(void **state)
{
    fx_repo *r = fixture();
    char *out = NULL, *err = NULL;
    assert_int_equal(history(r->path, "v2", "v3", "--format", "json", &out, &err), 1);
    json_object *o = json_tokener_parse(out);
    assert_non_null(o);
    json_object *v, *p, *f;
    assert_true(json_object_object_get_ex(o, "migrations", &v));
    assert_string_equal(json_object_get_string(v), "prisma/migrations");
    assert_true(json_object_object_get_ex(o, "prisma", &p));
    assert_true(json_object_object_get_ex(p, "order", &v));
    assert_string_equal(json_object_get_string(v), "icu");
    assert_true(json_object_object_get_ex(o, "findings", &f));
    assert_int_equal(json_object_array_length(f), 3);
    int kinds = 0;
    for (size_t i = 0; i < json_object_array_length(f); i++) {
        json_object *e = json_object_array_get_idx(f, i), *k, *h;
        json_object_object_get_ex(e, "kind", &k);
        json_object_object_get_ex(e, "hazard", &h);
        if (strcmp(json_object_get_string(k), "order-differs") == 0 && json_object_get_boolean(h))
            kinds |= 1;
        if (strcmp(json_object_get_string(k), "out-of-order") == 0 && json_object_get_boolean(h))
            kinds |= 2;
        if (strcmp(json_object_get_string(k), "added") == 0 && !json_object_get_boolean(h))
            kinds |= 4;
    }
    assert_int_equal(kinds, 7);
    json_object_put(o);
    free(out);
    free(err);
    fx_free(r);
}

/* A --prisma-version that is no version is a usage error naming the value (it was read as 0.0.0:
   byte order, without a word); history and deploy/status behave alike (same parser). */
static void nonsense_prisma_versions_are_usage_errors(void **state)
{
    (void)state;
    fx_repo *r = fixture();
    char *out = NULL, *err = NULL;
    static const struct {
        const char *v, *why;
    } bad[] = {
        {"x", "(a wildcard major version names no Prisma release; expected something like 6.19.3, ^5.22.0 or ~6.6)"},
        {"*", "(a wildcard major version names no Prisma release; expected something like 6.19.3, ^5.22.0 or ~6.6)"},
        {"latest", "(expected something like 6.19.3, ^5.22.0 or ~6.6)"},
        {"", "(expected something like 6.19.3, ^5.22.0 or ~6.6)"},
        {"abc", "(expected something like 6.19.3, ^5.22.0 or ~6.6)"},
        {"6.19.3abc", "(unexpected 'abc' after 6.19.3; expected something like 6.19.3, ^5.22.0 or ~6.6)"},
        {"1.2.3.4", "(unexpected '.4' after 1.2.3; expected something like 6.19.3, ^5.22.0 or ~6.6)"},
    };
    char want[1024];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(history(r->path, "v2", "v3", "--prisma-version", bad[i].v, &out, &err), 2);
        snprintf(want, sizeof want, "rehearse history: --prisma-version: cannot read a Prisma version from '%s' %s\n",
                 bad[i].v, bad[i].why);
        assert_string_equal(err, want);
        assert_string_equal(out, "");
        free(out);
        free(err);
    }
    /* ranges still read as their minimum, and the output says which version that is */
    static const struct {
        const char *v, *line;
    } good[] = {
        {"^6", "order of Prisma 6.0.0 (byte order), from --prisma-version ^6\n"},
        {"6.x", "order of Prisma 6.0.0 (byte order), from --prisma-version 6.x\n"},
        {">=6.6 <7", "order of Prisma 6.6.0 (ICU collation), from --prisma-version >=6.6 <7\n"},
        {"6.19.3-beta.1", "order of Prisma 6.19.3 (ICU collation), from --prisma-version 6.19.3-beta.1\n"},
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        int rc = history(r->path, "v2", "v3", "--prisma-version", good[i].v, &out, &err);
        assert_true(rc == 0 || rc == 1);
        assert_non_null(strstr(out, good[i].line));
        free(out);
        free(err);
    }
    /* deploy and status read --prisma-version with the same loader (source/loader.h): same exit, same words */
    static const char *const cmds[] = {"deploy", "status"};
    for (size_t i = 0; i < 2; i++) {
        char *argv[] = {REHEARSE_BIN, (char *)cmds[i], "--repo", r->path, "--rev", "v3", "--prisma-version", "x", NULL};
        assert_int_equal(rh_test_run(argv, NULL, &out, &err), 2);
        snprintf(want, sizeof want, "rehearse %s: --prisma-version: cannot read a Prisma version "
                                    "from 'x' (a wildcard major version", cmds[i]);
        assert_non_null(strstr(err, want));
        free(out);
        free(err);
    }
    fx_free(r);
}

static void usage_and_setup_errors(void **state)
{
    fx_repo *r = fixture();
    char *out = NULL, *err = NULL;
    assert_int_equal(history(r->path, "v1", NULL, NULL, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "rehearse history: --from A and --to B are both needed"));
    free(out);
    free(err);

    assert_int_equal(history(r->path, "v1", "nope", NULL, NULL, &out, &err), 2);
    char want[8192];
    snprintf(want, sizeof want, "rehearse history: --to: unknown revision 'nope' in the repository at %s\n", r->path);
    assert_string_equal(err, want);
    free(out);
    free(err);

    const char *d = fx_tmpdir();
    assert_int_equal(history(d, "v1", "v2", NULL, NULL, &out, &err), 2);
    snprintf(want, sizeof want, "rehearse history: not a git repository: %s (nor any parent folder)\n", d);
    assert_string_equal(err, want);
    free(out);
    free(err);

    assert_int_equal(history(r->path, "v1", "v2", "--migrations", "db/migrations", &out, &err), 2);
    assert_non_null(strstr(err, "rehearse history: the folder db/migrations does not exist at v2 ("));
    free(out);
    free(err);

    assert_int_equal(history(r->path, "v1", "v2", "--format", "xml", &out, &err), 2);
    assert_non_null(strstr(err, "--format must be human, json, sarif or markdown, not 'xml'"));
    free(out);
    free(err);

    assert_int_equal(history(r->path, "v1", "v2", "--bogus", NULL, &out, &err), 2);
    assert_non_null(strstr(err, "unknown option '--bogus'"));
    free(out);
    free(err);

    assert_int_equal(history(NULL, NULL, NULL, "--help", NULL, &out, &err), 0);
    assert_non_null(strstr(out, "usage: rehearse history"));
    free(out);
    free(err);
    fx_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exit_codes_and_human_text),
        cmocka_unit_test(json_output),
        cmocka_unit_test(order_differences_listed_per_migration),
        cmocka_unit_test(usage_and_setup_errors),
        cmocka_unit_test(nonsense_prisma_versions_are_usage_errors),
    };
    return cmocka_run_group_tests_name("history_cli", tests, NULL, NULL);
}
