/*
 * test_loader.c — one revision → migration set loader for every command (source/loader.h): the same
 * revision gives the same set, order and Prisma profile through the loader itself, `deploy --rev`,
 * `snapshot --rev` / `diff rev:` and a scenario's `expect catalog = clean REV`.
 *
 * The fixture repository holds two migrations whose order differs between byte order (Prisma < 6.6)
 * and ICU order (>= 6.6), written so that the order decides the schema: whichever runs first
 * creates table t (with column b or a), the other one's CREATE TABLE IF NOT EXISTS does nothing.
 * v1 names Prisma 6.5.0 (byte order: t.b), v2 Prisma 6.19.3 (ICU order: t.a), v3 names "latest".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "check/check.h"
#include "check/clean.h"
#include "report/report.h"
#include "runner/runner.h"
#include "source/loader.h"
#include "test_git_fixture.h"
#include "testlib.h"
#include "util/buf.h"
#include "tools/prisma/profile.h"

#define BYTES_FIRST "20251225061321_y" /* byte order: '0' (0x30) before '_' (0x5f) */
#define ICU_FIRST "20251225_step6_x"   /* ICU: punctuation before digits */

static fx_repo *repo;

static int setup(void **state)
{
    (void)state;
    repo = fx_repo_new(0);
    fx_migration(repo, ICU_FIRST, "CREATE TABLE IF NOT EXISTS t (a int);\n");
    fx_migration(repo, BYTES_FIRST, "CREATE TABLE IF NOT EXISTS t (b int);\n");
    fx_put(repo, "package.json", "{\"devDependencies\":{\"prisma\":\"6.5.0\"}}");
    fx_commit(repo, "v1");
    fx_tag(repo, "v1", "main", 0);
    fx_put(repo, "package.json", "{\"devDependencies\":{\"prisma\":\"6.19.3\"}}");
    fx_commit(repo, "v2");
    fx_tag(repo, "v2", "main", 0);
    fx_put(repo, "package.json", "{\"devDependencies\":{\"prisma\":\"latest\"}}");
    fx_commit(repo, "v3");
    fx_tag(repo, "v3", "main", 0);
    fx_rm(repo, "package.json");
    fx_commit(repo, "v4");
    fx_tag(repo, "v4", "main", 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_free(repo);
    return 0;
}

static void load_ok(const rh_load_spec *spec, rh_loaded *l)
{
    rh_err err;
    if (rh_source_load(spec, l, &err) < 0)
        fail_msg("load: %s", err.msg);
}

/* The loader: each revision's own profile, its order, and where the profile came from. */
static void loader_gives_each_revision_its_own_profile(void **state)
{
    (void)state;
    rh_loaded l;
    load_ok(&(rh_load_spec){.repo = repo->path, .rev = "v1"}, &l);
    assert_string_equal(l.choice.profile.version, "6.5.0");
    assert_int_equal(l.choice.profile.order, RH_ORDER_BYTES);
    assert_int_equal(l.choice.from, RH_PROFILE_FROM_PACKAGE);
    assert_string_equal(l.migrations, "prisma/migrations");
    assert_int_equal(l.set.n, 2);
    assert_string_equal(l.set.items[0].name, BYTES_FIRST);
    assert_non_null(strstr(l.choice.source, "package.json devDependencies.prisma 6.5.0 at v1 ("));
    assert_string_equal(l.choice.note, "");
    rh_loaded_free(&l);

    load_ok(&(rh_load_spec){.repo = repo->path, .rev = "v2"}, &l);
    assert_string_equal(l.choice.profile.version, "6.19.3");
    assert_string_equal(l.set.items[0].name, ICU_FIRST);
    rh_loaded_free(&l);

    /* an override wins and says so */
    load_ok(&(rh_load_spec){.repo = repo->path, .rev = "v1", .tool_version = "6.6"}, &l);
    assert_string_equal(l.choice.profile.version, "6.6.0");
    assert_int_equal(l.choice.from, RH_PROFILE_FROM_OVERRIDE);
    assert_string_equal(l.choice.source, "--prisma-version 6.6");
    assert_string_equal(l.set.items[0].name, ICU_FIRST);
    rh_loaded_free(&l);

    /* "latest": the default, with a note naming the file; no package.json: the default, no note */
    load_ok(&(rh_load_spec){.repo = repo->path, .rev = "v3"}, &l);
    assert_int_equal(l.choice.from, RH_PROFILE_FROM_DEFAULT);
    assert_string_equal(l.choice.profile.version, RH_PRISMA_DEFAULT_VERSION);
    assert_non_null(strstr(l.choice.note, "package.json names Prisma as 'latest'"));
    rh_loaded_free(&l);
    load_ok(&(rh_load_spec){.repo = repo->path, .rev = "v4"}, &l);
    assert_int_equal(l.choice.from, RH_PROFILE_FROM_DEFAULT);
    assert_string_equal(l.choice.note, "");
    assert_non_null(strstr(l.choice.source, "default (no prisma dependency found at v4 ("));
    rh_loaded_free(&l);

    /* a plain folder: in the default profile's order */
    char *dir = rh_xasprintf("%s/migrations", rh_test_tmpdir());
    char *f = rh_xasprintf("%s/" BYTES_FIRST "/migration.sql", dir);
    rh_test_write_file(f, "CREATE TABLE IF NOT EXISTS t (b int);\n");
    free(f);
    f = rh_xasprintf("%s/" ICU_FIRST "/migration.sql", dir);
    rh_test_write_file(f, "CREATE TABLE IF NOT EXISTS t (a int);\n");
    free(f);
    load_ok(&(rh_load_spec){.dir = dir}, &l);
    free(dir);
    assert_int_equal(l.choice.from, RH_PROFILE_FROM_DEFAULT);
    assert_string_equal(l.set.items[0].name, ICU_FIRST);
    rh_loaded_free(&l);

    /* a bad override is an error naming it */
    rh_err err;
    assert_int_equal(rh_source_load(&(rh_load_spec){.repo = repo->path, .rev = "v1", .tool_version = "latest"},
                                    &l, &err), -1);
    assert_non_null(strstr(err.msg, "--prisma-version: cannot read a Prisma version from 'latest'"));
    rh_loaded_free(&l);
}

static char *catalog_text(const rh_catalog *c)
{
    rh_buf b;
    rh_buf_init(&b);
    rh_catalog_text(c, &b);
    char *s = rh_buf_steal(&b);
    rh_buf_free(&b);
    return s;
}

/*
 * snapshot --rev / diff rev: (check/clean.c): each revision deployed with its own profile; a
 * package.json naming "latest" falls back to the default with a note, as deploy --rev does (it
 * used to fail with exit 2).
 */
static void clean_catalog_uses_the_revisions_profile_and_falls_back_like_deploy(void **state)
{
    (void)state;
    char *notes = NULL;
    size_t notes_len = 0;
    FILE *nf = open_memstream(&notes, &notes_len);
    rh_clean_source src = {.repo = repo->path, .notes = nf};
    rh_catalog_opts co = {0};
    rh_catalog *c1 = NULL, *c2 = NULL, *c3 = NULL;
    rh_err err;
    if (rh_clean_catalog(&src, "v1", &co, &c1, &err) < 0 || rh_clean_catalog(&src, "v2", &co, &c2, &err) < 0)
        fail_msg("clean catalog: %s", err.msg);
    if (rh_clean_catalog(&src, "v3", &co, &c3, &err) < 0)
        fail_msg("clean catalog of a revision whose package.json names 'latest': %s", err.msg);
    rh_catalog *c4 = NULL; /* no package.json at all: the default profile, no note */
    if (rh_clean_catalog(&src, "v4", &co, &c4, &err) < 0)
        fail_msg("clean catalog of a revision without package.json: %s", err.msg);
    fclose(nf);
    char *t1 = catalog_text(c1), *t2 = catalog_text(c2), *t3 = catalog_text(c3);
    assert_non_null(strstr(t1, "column public.t.b\n"));
    assert_null(strstr(t1, "column public.t.a\n"));
    assert_non_null(strstr(t2, "column public.t.a\n"));
    assert_non_null(strstr(t3, "column public.t.a\n")); /* the default profile (6.19.3): ICU order */
    char *t4 = catalog_text(c4);
    assert_string_equal(t4, t3);
    free(t4);
    rh_catalog_free(c4);
    assert_non_null(strstr(notes, "package.json names Prisma as 'latest'"));
    assert_non_null(strstr(notes, "behaving as Prisma " RH_PRISMA_DEFAULT_VERSION));
    /* one profile note: for v3 only (the state cache adds notes of its own for every revision it serves) */
    const char *fallback = strstr(notes, "behaving as Prisma ");
    assert_null(strstr(fallback + 1, "behaving as Prisma "));
    const char *line = fallback;
    while (line > notes && line[-1] != '\n')
        line--;
    assert_true(strncmp(line, "rehearse: note: at v3 (", 23) == 0);
    free(t1);
    free(t2);
    free(t3);
    free(notes);
    rh_catalog_free(c1);
    rh_catalog_free(c2);
    rh_catalog_free(c3);
}

static rh_result run_scenario(const char *text)
{
    char *path = rh_xasprintf("%s/loader.scenario", rh_test_tmpdir());
    rh_test_write_file(path, text);
    /* the fixture repository is outside the scenario's folder: allowed as `run --allow-path` would */
    const char *allow[] = {repo->path};
    rh_runner_opts o = {.jobs = 1, .allow = allow, .nallow = 1};
    rh_run run;
    rh_err err;
    char *files[] = {path};
    if (rh_runner_run(&o, files, 1, &run, &err) < 0)
        fail_msg("runner: %s", err.msg);
    assert_int_equal(run.n, 1);
    rh_result r = run.results[0];
    memset(&run.results[0], 0, sizeof run.results[0]);
    rh_run_free(&run);
    free(path);
    return r;
}

/*
 * `expect catalog = clean v1` after `checkout v2`: v1 is deployed with v1's profile (6.5, byte
 * order), not the checkout's (6.19.3). Before the loader, clean v1 used the checkout's ICU order,
 * produced t.a, and differed from the database deployed at v1 (t.b).
 */
static void scenario_clean_rev_uses_the_revisions_profile(void **state)
{
    (void)state;
    char *text = rh_xasprintf("scenario \"clean REV has REV's profile\"\n"
                              "repo %s\n"
                              "checkout v1\n"
                              "expect order " BYTES_FIRST " " ICU_FIRST "\n"
                              "deploy\n"
                              "expect column t.b\n"
                              "checkout v2\n"
                              "expect order " ICU_FIRST " " BYTES_FIRST "\n"
                              "expect catalog = clean v1\n"
                              "expect catalog != clean v2\n"
                              "expect catalog != clean\n",
                              repo->path);
    rh_result r = run_scenario(text);
    if (r.status != RH_PASS)
        fail_msg("scenario: status %d at line %d: %s\n%s", r.status, r.line, r.message ? r.message : "",
                 r.diff ? r.diff : "");
    rh_result_free(&r);
    free(text);
    /* a `prisma` step still overrides every revision's profile */
    text = rh_xasprintf("scenario \"prisma step overrides\"\n"
                        "repo %s\n"
                        "prisma 6.19.3\n"
                        "checkout v1\n"
                        "deploy\n"
                        "expect column t.a\n"
                        "checkout v2\n"
                        "expect catalog = clean v1\n",
                        repo->path);
    r = run_scenario(text);
    if (r.status != RH_PASS)
        fail_msg("scenario: status %d at line %d: %s\n%s", r.status, r.line, r.message ? r.message : "",
                 r.diff ? r.diff : "");
    rh_result_free(&r);
    free(text);
}

/* deploy/status --rev print the same profile line as check and run (the loader's source), verified or not. */
static void deploy_rev_names_the_same_profile(void **state)
{
    (void)state;
    char *argv[] = {REHEARSE_BIN, "deploy", "--repo", repo->path, "--rev", "v1", NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(rh_test_run(argv, NULL, &out, &err), 0);
    const char *applying = strstr(out, "Applying migration `" BYTES_FIRST "`");
    assert_non_null(applying);
    assert_non_null(strstr(applying, "Applying migration `" ICU_FIRST "`"));
    assert_non_null(strstr(err, "rehearse: Prisma 6.5.0 profile, from package.json devDependencies.prisma 6.5.0 at v1 ("));
    free(out);
    free(err);
    /* a verified profile is said too (issue 11: deploy, status and resolve always print theirs) */
    char *argv2[] = {REHEARSE_BIN, "status", "--repo", repo->path, "--rev", "v2", NULL};
    rh_test_run(argv2, NULL, &out, &err);
    assert_non_null(strstr(err, "rehearse: Prisma 6.19.3 profile, from package.json devDependencies.prisma 6.19.3 at v2 ("));
    assert_non_null(strstr(err, "verified against the real Prisma CLI\n"));
    free(out);
    free(err);
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected to find\n  %s\nin\n%s", needle, hay);
}

/*
 * `run` says which profiles each scenario used — version, where it was read from, folder order, how
 * files are sent, verified or not — in every format (issue 10.6; before, only `deploy` said it).
 * This one uses two: v1's (6.5.0, for its deploy and for `clean v1`) and v2's (6.19.3).
 */
static void run_says_which_profiles_it_used(void **state)
{
    (void)state;
    char *text = rh_xasprintf("scenario \"profiles of v1 and v2\"\nrepo %s\ncheckout v1\ndeploy\ncheckout v2\n"
                              "expect catalog = clean v1\n", repo->path);
    rh_result r = run_scenario(text);
    free(text);
    assert_int_equal(r.status, RH_PASS);
    assert_int_equal(r.n_profiles, 2); /* v1's once, though used twice */
    assert_string_equal(r.profiles[0].profile.version, "6.5.0");
    assert_int_equal(r.profiles[0].from, RH_PROFILE_FROM_PACKAGE);
    assert_string_equal(r.profiles[1].profile.version, "6.19.3");
    rh_run run = {.results = &r, .n = 1, .passed = 1, .jobs = 1};
    rh_buf b;
    rh_buf_init(&b);
    rh_report_human(&run, &(rh_report_opts){0}, &b);
    assert_contains(b.data, "\n        Prisma 6.5.0 profile, from package.json devDependencies.prisma 6.5.0 at v1 (");
    assert_contains(b.data, "): byte order (Prisma < 6.6), each migration.sql sent as one query, unverified "
                            "(not observed against the real Prisma CLI)\n        Prisma 6.19.3 profile, from "
                            "package.json devDependencies.prisma 6.19.3 at v2 (");
    assert_contains(b.data, "): ICU collation order (Prisma >= 6.6), each migration.sql sent as one query, verified "
                            "against the real Prisma CLI\n");
    rh_buf_reset(&b);
    rh_report_json(&run, &b);
    assert_contains(b.data, "\"profiles\":[\n        {\n          \"version\":\"6.5.0\",\n"
                            "          \"from\":\"package.json\",\n"
                            "          \"source\":\"package.json devDependencies.prisma 6.5.0 at v1 (");
    assert_contains(b.data, "\"order\":\"bytes\",\n          \"exec\":\"whole-script\",\n"
                            "          \"verified\":false\n        },\n        {\n          \"version\":\"6.19.3\"");
    rh_buf_reset(&b);
    rh_report_tap(&run, &b);
    assert_contains(b.data, "ok 1 - profiles of v1 and v2\n# Prisma 6.5.0 profile, from package.json");
    assert_contains(b.data, "\n# Prisma 6.19.3 profile, from package.json");
    rh_buf_reset(&b);
    rh_report_junit(&run, &b);
    assert_contains(b.data, "<system-out>Prisma 6.5.0 profile, from package.json devDependencies.prisma 6.5.0 at v1 (");
    assert_contains(b.data, "&#10;Prisma 6.19.3 profile, from package.json devDependencies.prisma 6.19.3 at v2 (");
    rh_buf_free(&b);
    rh_result_free(&r);

    /* a `prisma` step: an override, and said so */
    text = rh_xasprintf("scenario \"prisma step\"\nrepo %s\nprisma 7.4\ncheckout v1\n", repo->path);
    r = run_scenario(text);
    free(text);
    assert_int_equal(r.status, RH_PASS);
    assert_int_equal(r.n_profiles, 1);
    assert_int_equal(r.profiles[0].from, RH_PROFILE_FROM_OVERRIDE);
    assert_string_equal(r.profiles[0].profile.version, "7.4.0");
    assert_non_null(strstr(r.profiles[0].source, "prisma 7.4 ("));
    rh_result_free(&r);

    /* no migrations read: no profile claimed */
    r = run_scenario("scenario \"sql only\"\nsql \"select 1\"\n");
    assert_int_equal(r.status, RH_PASS);
    assert_int_equal(r.n_profiles, 0);
    rh_result_free(&r);
}

/* `check` says it too: human line, JSON "profile" object, JUnit suite properties. */
static void check_says_which_profile_it_used(void **state)
{
    (void)state;
    rh_check_opts o = {.repo = repo->path, .base = "v1", .head = "v2", .no_locks = 1};
    rh_check_result r;
    rh_err err;
    if (rh_check_run(&o, &r, &err) < 0)
        fail_msg("check: %s", err.msg);
    assert_int_equal(r.profile_from, RH_PROFILE_FROM_PACKAGE);
    rh_buf b;
    rh_buf_init(&b);
    rh_check_format_human(&r, 0, &b);
    assert_contains(b.data, "  Prisma 6.19.3 profile, from package.json devDependencies.prisma 6.19.3 at ");
    assert_contains(b.data, "ICU collation order (Prisma >= 6.6), each migration.sql sent as one query, verified against "
                            "the real Prisma CLI\n");
    rh_buf_reset(&b);
    rh_check_format_json(&r, &b);
    assert_contains(b.data, "\"profile\":{\n    \"version\":\"6.19.3\",\n    \"from\":\"package.json\",");
    assert_contains(b.data, "\"order\":\"icu\",\n    \"exec\":\"whole-script\",\n    \"verified\":true\n");
    rh_buf_reset(&b);
    rh_check_format_junit(&r, RH_CHECK_ERROR, &b);
    assert_contains(b.data, "<property name=\"prisma.version\" value=\"6.19.3\"/>");
    assert_contains(b.data, "<property name=\"prisma.from\" value=\"package.json\"/>");
    assert_contains(b.data, "<property name=\"prisma.verified\" value=\"true\"/>");
    rh_buf_free(&b);
    rh_check_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loader_gives_each_revision_its_own_profile),
        cmocka_unit_test(clean_catalog_uses_the_revisions_profile_and_falls_back_like_deploy),
        cmocka_unit_test(scenario_clean_rev_uses_the_revisions_profile),
        cmocka_unit_test(deploy_rev_names_the_same_profile),
        cmocka_unit_test(run_says_which_profiles_it_used),
        cmocka_unit_test(check_says_which_profile_it_used),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
