/*
 * test_pgbin.c — choosing the PostgreSQL version (--pg, REHEARSE_PG): what a version is, that --pg-bin
 * must be the version asked for, and that a half-installed or damaged `rehearse pg install` entry
 * is named with how to fix it instead of being used. (tests/cli/pg_install.test.sh does real installs.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "testlib.h"

static void test_version_text(void **state)
{
    (void)state;
    int ma, mi;
    assert_true(rh_pgver_parse("17", &ma, &mi));
    assert_int_equal(ma, 17);
    assert_int_equal(mi, -1);
    assert_true(rh_pgver_parse("17.10", &ma, &mi));
    assert_int_equal(ma, 17);
    assert_int_equal(mi, 10);
    const char *bad[] = {"", "x", "17.", "17.1.2", "17x", "-1", "4", ".5", "17 "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(rh_pgver_parse(bad[i], &ma, &mi));
    assert_true(rh_pgver_matches("17.10", 17, -1));
    assert_true(rh_pgver_matches("17.10", 17, 10));
    assert_false(rh_pgver_matches("17.10", 17, 1));
    assert_false(rh_pgver_matches("16.14", 17, -1));
}

/* The PostgreSQL found without a wanted version (this machine's default). */
static rh_pgbin default_bin(void)
{
    unsetenv("REHEARSE_PG");
    rh_pgbin b;
    rh_err err;
    if (rh_pgbin_find(&b, NULL, &err) < 0)
        fail_msg("%s", err.msg);
    return b;
}

static void test_pg_bin_must_be_the_version_asked(void **state)
{
    (void)state;
    rh_pgbin def = default_bin(), b;
    rh_err err;
    char want[16];
    snprintf(want, sizeof want, "%d", def.major + 1);
    assert_int_equal(rh_pgbin_find_version(&b, def.bindir, want, &err), -1);
    char expect[128];
    snprintf(expect, sizeof expect, "PostgreSQL %s, not %s", def.version, want);
    assert_non_null(strstr(err.msg, expect));
    /* its own major and its exact version are fine */
    snprintf(want, sizeof want, "%d", def.major);
    assert_int_equal(rh_pgbin_find_version(&b, def.bindir, want, &err), 0);
    assert_int_equal(rh_pgbin_find_version(&b, def.bindir, def.version, &err), 0);
    assert_string_equal(b.origin, "--pg-bin");
}

static void test_environment_version(void **state)
{
    (void)state;
    rh_pgbin def = default_bin(), b;
    rh_err err;
    setenv("REHEARSE_PG", def.version, 1);
    assert_int_equal(rh_pgbin_find_version(&b, NULL, NULL, &err), 0);
    assert_string_equal(b.version, def.version);
    setenv("REHEARSE_PG", "seventeen", 1);
    assert_int_equal(rh_pgbin_find_version(&b, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "REHEARSE_PG seventeen: not a PostgreSQL version"));
    /* --pg wins over the environment */
    assert_int_equal(rh_pgbin_find_version(&b, NULL, def.version, &err), 0);
    unsetenv("REHEARSE_PG");
}

/* A major that is surely not installed anywhere: entries for it exist only in our REHEARSE_PG_DIR. */
#define ABSENT "63"

static void test_half_installed_and_damaged_entries(void **state)
{
    (void)state;
    char root[4096];
    snprintf(root, sizeof root, "%s/pg", rh_test_tmpdir());
    setenv("REHEARSE_PG_DIR", root, 1);
    unsetenv("REHEARSE_PG");
    rh_pgbin b;
    rh_err err;
    /* nothing there: the error says what was tried and how to install */
    assert_int_equal(rh_pgbin_find_version(&b, NULL, ABSENT, &err), -1);
    assert_non_null(strstr(err.msg, "cannot find PostgreSQL " ABSENT " (asked by --pg)"));
    assert_non_null(strstr(err.msg, "rehearse pg install " ABSENT));

    /* an interrupted install: files but no marker */
    char path[4400];
    snprintf(path, sizeof path, "%s/" ABSENT ".1/bin/initdb", root);
    rh_test_write_file(path, "#!/bin/sh\nexit 0\n");
    assert_int_equal(rh_pgbin_find_version(&b, NULL, ABSENT, &err), -1);
    assert_non_null(strstr(err.msg, "half-installed"));
    assert_non_null(strstr(err.msg, "rehearse pg install --force " ABSENT ".1"));

    /* a damaged one: marked complete, but its postgres does not run */
    snprintf(path, sizeof path, "%s/" ABSENT ".2/REHEARSE_PG_INSTALL", root);
    rh_test_write_file(path, "PostgreSQL " ABSENT ".2\n");
    const char *progs[] = {"initdb", "postgres"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/" ABSENT ".2/bin/%s", root, progs[i]);
        rh_test_write_file(path, "#!/bin/sh\necho 'error while loading shared libraries: libicuuc.so.60' >&2\nexit 127\n");
        chmod(path, 0755);
    }
    assert_int_equal(rh_pgbin_find_version(&b, NULL, ABSENT, &err), -1);
    assert_non_null(strstr(err.msg, ABSENT ".2/bin"));
    assert_non_null(strstr(err.msg, "libicuuc.so.60"));
    unsetenv("REHEARSE_PG_DIR");
}

/* A fake server whose `--version` answers `version` and counts its runs in dir/runs. */
static void fake_server(const char *dir, const char *version)
{
    char path[4400], tmp[4400], text[8800];
    snprintf(path, sizeof path, "%s/initdb", dir);
    rh_test_write_file(path, "#!/bin/sh\nexit 0\n");
    chmod(path, 0755);
    /* a new file renamed into place: a new binary, as a package upgrade makes */
    snprintf(tmp, sizeof tmp, "%s/postgres.new", dir);
    snprintf(path, sizeof path, "%s/postgres", dir);
    snprintf(text, sizeof text, "#!/bin/sh\necho run >> '%s/runs'\necho 'postgres (PostgreSQL) %s'\n", dir, version);
    rh_test_write_file(tmp, text);
    chmod(tmp, 0755);
    assert_int_equal(rename(tmp, path), 0);
}

static int runs_of(const char *dir)
{
    char path[4400], line[64];
    snprintf(path, sizeof path, "%s/runs", dir);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n++;
    if (f)
        fclose(f);
    return n;
}

/* `postgres --version` runs once per binary, not once per process: its answer is kept in the cache,
   keyed on the binary's path and file identity. A new binary is asked again; a damaged kept answer is
   not used. */
static void test_version_is_asked_once_per_binary(void **state)
{
    (void)state;
    const char *tmp = rh_test_tmpdir();
    char dir[4096], cache[4096];
    snprintf(dir, sizeof dir, "%s/bin", tmp);
    snprintf(cache, sizeof cache, "%s/cache", tmp);
    mkdir(dir, 0700);
    char *old_cache = getenv("REHEARSE_CACHE_DIR") ? strdup(getenv("REHEARSE_CACHE_DIR")) : NULL;
    setenv("REHEARSE_CACHE_DIR", cache, 1);
    unsetenv("REHEARSE_PG");
    rh_pgbin b;
    rh_err err;
    fake_server(dir, "63.4");
    for (int i = 0; i < 3; i++) {
        if (rh_pgbin_find_version(&b, dir, NULL, &err) < 0)
            fail_msg("%s", err.msg);
        assert_string_equal(b.version, "63.4");
        assert_int_equal(b.major, 63);
    }
    assert_int_equal(runs_of(dir), 1);

    /* an upgrade: the new binary is asked */
    fake_server(dir, "63.5");
    assert_int_equal(rh_pgbin_find_version(&b, dir, NULL, &err), 0);
    assert_string_equal(b.version, "63.5");
    assert_int_equal(runs_of(dir), 2);

    /* a damaged (or another binary's) kept answer is not used */
    char versions[4200];
    snprintf(versions, sizeof versions, "%s/versions", cache);
    DIR *d = opendir(versions);
    assert_non_null(d);
    struct dirent *e;
    int kept = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", versions, e->d_name);
        rh_test_write_file(path, "/elsewhere/postgres\npostgres (PostgreSQL) 99.1\n");
        kept++;
    }
    closedir(d);
    assert_int_equal(kept, 2);
    assert_int_equal(rh_pgbin_find_version(&b, dir, NULL, &err), 0);
    assert_string_equal(b.version, "63.5");
    assert_int_equal(runs_of(dir), 3);
    if (old_cache)
        setenv("REHEARSE_CACHE_DIR", old_cache, 1);
    else
        unsetenv("REHEARSE_CACHE_DIR");
    free(old_cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_text),
        cmocka_unit_test(test_pg_bin_must_be_the_version_asked),
        cmocka_unit_test(test_environment_version),
        cmocka_unit_test(test_half_installed_and_damaged_entries),
        cmocka_unit_test(test_version_is_asked_once_per_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
