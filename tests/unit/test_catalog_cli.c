/*
 * test_catalog_cli.c — `rehearse snapshot` and `rehearse diff` as a user runs them: golden file
 * from a database, file vs database, exit codes 0 / 1 / 2 as diff(1), and clear errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "util/fs.h"

static int run(char **out, char **errout, const char *a1, const char *a2, const char *a3, const char *a4,
               const char *a5)
{
    char *argv[] = {REHEARSE_BIN, (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5, NULL};
    return rh_test_run(argv, NULL, out, errout);
}

static void test_snapshot_then_diff(void **state)
{
    (void)state;
    char *db;
    PGconn *c = rh_test_fresh_db(&db);
    rh_test_exec(c, "CREATE TABLE \"User\" (id int PRIMARY KEY, email text);"
                    "CREATE TABLE _prisma_migrations (id text PRIMARY KEY)");
    char *url = rh_cluster_conninfo_db(rh_test_cluster(), db);
    const char *dir = rh_test_tmpdir();
    char golden[4096];
    snprintf(golden, sizeof golden, "%s/schema.catalog", dir);
    char *out, *err;

    assert_int_equal(run(&out, &err, "snapshot", "--database-url", url, "--output", golden), 0);
    assert_string_equal(out, "");
    free(out);
    free(err);
    char *text;
    size_t len;
    rh_err e;
    assert_int_equal(rh_fs_read(golden, &text, &len, &e), 0);
    assert_non_null(strstr(text, "rehearse-catalog 1\n"));
    assert_non_null(strstr(text, "\ncolumn public.\"User\".email\n  type text\n  not-null no\n"));
    assert_null(strstr(text, "_prisma_migrations"));
    free(text);

    /* the same schema: exit 0, nothing printed */
    assert_int_equal(run(&out, &err, "diff", golden, url, NULL, NULL), 0);
    assert_string_equal(out, "");
    free(out);
    free(err);

    /* the ledger only counts when asked for */
    assert_int_equal(run(&out, &err, "diff", "--include-ledger", golden, url, NULL), 1);
    assert_non_null(strstr(out, "+ table public._prisma_migrations\n"));
    free(out);
    free(err);

    /* a change: exit 1 and the object in the output */
    rh_test_exec(c, "ALTER TABLE \"User\" ALTER COLUMN email SET NOT NULL");
    assert_int_equal(run(&out, &err, "diff", golden, url, NULL, NULL), 1);
    assert_non_null(strstr(out, "~ column public.\"User\".email\n-  not-null no\n+  not-null yes\n"));
    assert_non_null(strstr(out, "1 object differs\n"));
    free(out);
    free(err);
    assert_int_equal(run(&out, &err, "diff", "--quiet", golden, url, NULL), 1);
    assert_string_equal(out, "");
    free(out);
    free(err);

    /* a Prisma DATABASE_URL with ?schema= works and sets the default schema */
    rh_test_exec(c, "CREATE SCHEMA \"My App\"");
    char *purl = rh_xasprintf("%s%cschema=My%%20App", rh_cluster_url(rh_test_cluster()), '&');
    char *dbpart = strstr(purl, "/postgres?");
    assert_non_null(dbpart);
    char *prisma_url = rh_xasprintf("%.*s/%s%s", (int)(dbpart - purl), purl, db, dbpart + 9);
    assert_int_equal(run(&out, &err, "snapshot", prisma_url, NULL, NULL, NULL), 0);
    assert_non_null(strstr(out, "\ndefault-schema \"My App\"\n"));
    free(out);
    free(err);
    free(purl);
    free(prisma_url);

    /* stdout output is the same text as the file format */
    assert_int_equal(run(&out, &err, "snapshot", url, NULL, NULL, NULL), 0);
    assert_non_null(strstr(out, "\ncolumn public.\"User\".email\n  type text\n  not-null yes\n"));
    free(out);
    free(err);
    free(url);
    free(db);
    PQfinish(c);
}

static void test_errors_exit_2(void **state)
{
    (void)state;
    char *out, *err;
    assert_int_equal(run(&out, &err, "diff", "/nonexistent/a.catalog", "/nonexistent/b.catalog", NULL, NULL), 2);
    assert_non_null(strstr(err, "/nonexistent/a.catalog"));
    free(out);
    free(err);
    /* rev: operands are clean deploys of a repository's revisions: a missing repository is named */
    assert_int_equal(run(&out, &err, "diff", "--repo", "/nonexistent-repo", "rev:main", "rev:HEAD"), 2);
    assert_non_null(strstr(err, "rev:main"));
    assert_non_null(strstr(err, "/nonexistent-repo"));
    free(out);
    free(err);
    assert_int_equal(run(&out, &err, "diff", "postgresql://nobody@/nodb?host=/nonexistent", "x", NULL, NULL), 2);
    assert_non_null(strstr(err, "cannot connect"));
    free(out);
    free(err);
    /* a password in a URL is not repeated in messages */
    assert_int_equal(run(&out, &err, "diff", "postgresql://bob:s3cret@/nodb?host=/nonexistent", "x", NULL, NULL), 2);
    assert_null(strstr(err, "s3cret"));
    assert_non_null(strstr(err, "postgresql://bob:***@/nodb"));
    free(out);
    free(err);
    assert_int_equal(run(&out, &err, "diff", "only-one", NULL, NULL, NULL), 2);
    assert_non_null(strstr(err, "two operands"));
    free(out);
    free(err);
    assert_int_equal(run(&out, &err, "snapshot", NULL, NULL, NULL, NULL), 2);
    free(out);
    free(err);
    const char *dir = rh_test_tmpdir();
    char bad[4096];
    snprintf(bad, sizeof bad, "%s/bad.catalog", dir);
    /* (line 3 is a real table property: `kind` never was one, and unknown properties are errors now) */
    rh_test_write_file(bad, "rehearse-catalog 1\ntable public.t\n  unlogged yes\nwhat is this\n");
    assert_int_equal(run(&out, &err, "diff", bad, bad, NULL, NULL), 2);
    assert_non_null(strstr(err, "bad.catalog:4:"));
    assert_non_null(strstr(err, "expected an object header `KIND NAME`"));
    assert_non_null(strstr(err, "or a property line `  NAME VALUE`"));
    free(out);
    free(err);
    /* a damaged golden file is an error (exit 2), not a diff (exit 1): an unknown property... */
    rh_test_write_file(bad, "rehearse-catalog 1\ntable public.t\n  kind table\n");
    assert_int_equal(run(&out, &err, "diff", bad, bad, NULL, NULL), 2);
    assert_non_null(strstr(err, "bad.catalog:3: unknown property `kind` in table public.t (a table has: "
                                "partition-key, partition-of"));
    free(out);
    free(err);
    /* ...and a file cut short in the middle of a block */
    rh_test_write_file(bad, "rehearse-catalog 1\ncolumn public.t.c\n  type integer\n  not-nu");
    assert_int_equal(run(&out, &err, "diff", bad, bad, NULL, NULL), 2);
    assert_non_null(strstr(err, "bad.catalog:4: the file ends in the middle of a line"));
    free(out);
    free(err);
    assert_int_equal(run(&out, &err, "diff", "--help", NULL, NULL, NULL), 0);
    assert_non_null(strstr(out, "exit: 0 same, 1 different, 2"));
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_then_diff),
        cmocka_unit_test(test_errors_exit_2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
