/*
 * test_history.c — the migration-set diff between two revisions (source/history.h) on fixture
 * repositories: adds, removals, renames, edits (and CRLF-only edits), out-of-order inserts after
 * a merge, folders without migration.sql, byte-vs-ICU order differences, and the failures
 * (unknown revision, folder missing at a revision).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/git.h"
#include "source/git_int.h"
#include "source/history.h"
#include "test_git_fixture.h"

static rh_git_repo *open_repo(fx_repo *r)
{
    rh_git_repo *g = NULL;
    rh_err err;
    if (rh_git_open(&g, r->path, &err) < 0)
        fail_msg("%s", err.msg);
    return g;
}

static void history(fx_repo *r, const char *from, const char *to, const char *version, rh_git_history *h)
{
    rh_git_repo *g = open_repo(r);
    rh_git_history_opts o = {.migrations = NULL, .tool_version = version};
    rh_err err;
    if (rh_git_history_compute(g, from, to, &o, h, &err) < 0)
        fail_msg("history %s..%s: %s", from, to, err.msg);
    rh_git_close(g);
}

/* The finding of a kind about a name, or NULL. */
static const rh_hist_finding *finding(const rh_git_history *h, rh_hist_kind kind, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->items[i].kind == kind && h->items[i].name && strcmp(h->items[i].name, name) == 0)
            return &h->items[i];
    return NULL;
}

static size_t count(const rh_git_history *h, rh_hist_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++)
        n += h->items[i].kind == kind;
    return n;
}

static void no_change_no_finding(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20240101000000_init", "CREATE TABLE a (id int);\n");
    fx_commit(r, "init");
    fx_tag(r, "v1", "main", 1);
    fx_put(r, "README.md", "unrelated\n");
    fx_commit(r, "docs");
    rh_git_history h;
    history(r, "v1", "main", NULL, &h);
    assert_int_equal(h.n, 0);
    assert_int_equal(h.n_hazards, 0);
    assert_string_equal(h.migrations, "prisma/migrations");
    assert_string_equal(h.profile.version, "6.19.3"); /* default: no package.json */
    assert_non_null(strstr(h.profile_source, "default (no prisma dependency found at main"));
    rh_git_history_free(&h);
    fx_free(r);
}

static void added_removed_renamed_edited(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "package.json", "{\"devDependencies\":{\"prisma\":\"^6.19.0\"}}");
    fx_migration(r, "20240101000000_init", "CREATE TABLE a (id int);\n");
    fx_migration(r, "20240102000000_b", "CREATE TABLE b (id int);\n");
    fx_migration(r, "20240103000000_gone", "CREATE TABLE g (id int);\n");
    fx_migration(r, "20240104000000_crlf", "SELECT 1;\nSELECT 2;\n");
    fx_commit(r, "v1");
    fx_tag(r, "v1", "main", 1);

    fx_migration(r, "20240101000000_init", "CREATE TABLE a (id bigint);\n");     /* edited */
    fx_rm(r, "prisma/migrations/20240102000000_b");
    fx_migration(r, "20240102000001_b_renamed", "CREATE TABLE b (id int);\n");   /* renamed, same bytes */
    fx_rm(r, "prisma/migrations/20240103000000_gone");                          /* removed */
    fx_migration(r, "20240104000000_crlf", "SELECT 1;\r\nSELECT 2;\r\n");       /* line endings only */
    fx_migration(r, "20240105000000_new", "CREATE TABLE n (id int);\n");         /* added */
    fx_commit(r, "v2");
    fx_tag(r, "v2", "main", 0);

    rh_git_history h;
    history(r, "v1", "v2", NULL, &h);
    assert_string_equal(h.profile.version, "6.19.0");
    assert_non_null(strstr(h.profile_source, "package.json devDependencies.prisma ^6.19.0 at v2"));
    char A[512], B[512];
    snprintf(A, sizeof A, "%s", h.from.label);
    snprintf(B, sizeof B, "%s", h.to.label);

    const rh_hist_finding *f = finding(&h, RH_HIST_EDITED, "20240101000000_init");
    assert_non_null(f);
    assert_true(f->hazard);
    assert_string_equal(f->file, "prisma/migrations/20240101000000_init/migration.sql");
    char want[4096];
    assert_non_null(strstr(f->message, "20240101000000_init/migration.sql was edited between"));
    snprintf(want, sizeof want, "a database deployed at %s never runs the new version, and Prisma 6.19.0 does not say "
                                "so (migrate deploy: no pending migrations; migrate status: up to date, exit 0)", A);
    assert_non_null(strstr(f->message, want));

    f = finding(&h, RH_HIST_RENAMED, "20240102000001_b_renamed");
    assert_non_null(f);
    assert_true(f->hazard);
    assert_string_equal(f->other, "20240102000000_b");
    snprintf(want, sizeof want, "20240102000000_b was renamed to 20240102000001_b_renamed between %s and %s (same "
                                "migration.sql): a database deployed at %s has applied 20240102000000_b, and Prisma "
                                "6.19.0's migrate deploy applies the same SQL again as 20240102000001_b_renamed "
                                "(migrate status reports the histories as diverged until then)", A, B, A);
    assert_string_equal(f->message, want);
    assert_null(finding(&h, RH_HIST_REMOVED, "20240102000000_b"));
    assert_null(finding(&h, RH_HIST_ADDED, "20240102000001_b_renamed"));

    f = finding(&h, RH_HIST_REMOVED, "20240103000000_gone");
    assert_non_null(f);
    assert_true(f->hazard);
    /* issue 10.3: for a ledger row without folder, 6.19.3's status says "up to date" (oracle: claim_removed);
       it reports the histories as diverged only while a migration new at B is pending (here two are) */
    snprintf(want, sizeof want, "20240103000000_gone exists at %s but not at %s: a database deployed at %s keeps its "
                                "ledger row with no folder, which Prisma 6.19.0 ignores: migrate deploy goes on and "
                                "migrate status says \"Database schema is up to date!\" (exit 0); while the "
                                "migrations new at %s are pending, migrate status reports the histories as diverged "
                                "(exit 1)",
             A, B, A, B);
    assert_string_equal(f->message, want);

    f = finding(&h, RH_HIST_EDITED, "20240104000000_crlf");
    assert_non_null(f);
    assert_false(f->hazard);
    assert_non_null(strstr(f->message, "in line endings only (CRLF/LF): Prisma's checksum comparison accepts it, and "
                                        "Prisma 6.19.0's migrate deploy and status say nothing"));

    f = finding(&h, RH_HIST_ADDED, "20240105000000_new");
    assert_non_null(f);
    assert_false(f->hazard);
    snprintf(want, sizeof want, "20240105000000_new is new at %s", B);
    assert_string_equal(f->message, want);

    assert_int_equal(count(&h, RH_HIST_OUT_OF_ORDER), 1); /* the rename target sorts before 20240104000000_crlf */
    assert_int_equal(h.n_hazards, 4);
    rh_git_history_free(&h);

    /* a version not checked against the real CLI: the sentence says which one was */
    history(r, "v1", "v2", "5.22.0", &h);
    f = finding(&h, RH_HIST_REMOVED, "20240103000000_gone");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "which Prisma 5.22.0 (as Prisma 6.19.3 does; 5.22.0 is not checked) ignores"));
    rh_git_history_free(&h);
    fx_free(r);
}

static void merged_branch_inserts_before_applied_ones(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20240101000000_init", "CREATE TABLE a (id int);\n");
    fx_commit(r, "init");
    fx_branch(r, "feature", "main");
    /* feature: a migration written on 1 March, merged after main deployed a 2 March one */
    fx_migration(r, "20240301000000_feature", "CREATE TABLE f (id int);\n");
    fx_commit2(r, "feature", NULL, "feature");
    fx_load(r, "main");
    fx_migration(r, "20240302000000_main", "CREATE TABLE m (id int);\n");
    fx_commit(r, "main work");
    fx_tag(r, "deployed", "main", 1);
    fx_migration(r, "20240301000000_feature", "CREATE TABLE f (id int);\n");
    fx_commit2(r, "main", "feature", "Merge branch 'feature'");

    rh_git_history h;
    history(r, "deployed", "main", NULL, &h);
    const rh_hist_finding *f = finding(&h, RH_HIST_OUT_OF_ORDER, "20240301000000_feature");
    assert_non_null(f);
    assert_true(f->hazard);
    assert_string_equal(f->other, "20240302000000_main");
    char want[4096];
    snprintf(want, sizeof want, "20240301000000_feature is new at %s and sorts before 20240302000000_main, the last "
                                "migration at %s (ICU order, Prisma 6.19.3): a database deployed at %s applies it "
                                "after 20240302000000_main, out of the order the folder gives, and Prisma 6.19.3's "
                                "migrate deploy does not object",
             h.to.label, h.from.label, h.from.label);
    assert_string_equal(f->message, want);
    assert_non_null(finding(&h, RH_HIST_ADDED, "20240301000000_feature"));
    assert_int_equal(h.n_hazards, 1);
    rh_git_history_free(&h);

    /* HEAD^2 is the feature branch: reachable through merge syntax too */
    history(r, "main^2", "main", NULL, &h);
    assert_non_null(finding(&h, RH_HIST_ADDED, "20240302000000_main"));
    assert_int_equal(h.n_hazards, 0);
    rh_git_history_free(&h);
    fx_free(r);
}

static void order_depends_on_the_prisma_version(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20251225061321_y", "SELECT 1;\n");
    fx_commit(r, "y");
    fx_tag(r, "a", "main", 1);
    fx_migration(r, "20251225_x", "SELECT 2;\n");
    fx_commit(r, "x");

    rh_git_history h;
    /* ICU (>= 6.6): punctuation before digits, so 20251225_x sorts before 20251225061321_y */
    history(r, "a", "main", "6.19.3", &h);
    assert_non_null(finding(&h, RH_HIST_OUT_OF_ORDER, "20251225_x"));
    const rh_hist_finding *f = finding(&h, RH_HIST_ORDER_DIFFERS, "20251225_x");
    assert_non_null(f);
    assert_true(f->hazard);
    assert_string_equal(f->other, "20251225061321_y");
    assert_non_null(strstr(f->message, "20251225_x first by ICU order (Prisma >= 6.6), 20251225061321_y first by byte "
                                       "order (Prisma < 6.6)"));
    rh_git_history_free(&h);

    /* bytes (< 6.6): '_' > '0', so it sorts after: not out of order, the order difference stays */
    history(r, "a", "main", "5.22.0", &h);
    assert_null(finding(&h, RH_HIST_OUT_OF_ORDER, "20251225_x"));
    assert_non_null(finding(&h, RH_HIST_ORDER_DIFFERS, "20251225_x"));
    assert_string_equal(h.profile_source, "--prisma-version 5.22.0");
    rh_git_history_free(&h);

    /* 12-digit vs 14-digit timestamps: 202310122339_x > 20231012000000_y in both orders */
    fx_repo *t = fx_repo_new(0);
    fx_migration(t, "202310122339_x", "SELECT 1;\n");
    fx_commit(t, "x");
    fx_tag(t, "a", "main", 1);
    fx_migration(t, "20231012000000_y", "SELECT 2;\n");
    fx_commit(t, "y");
    history(t, "a", "main", "6.19.3", &h);
    assert_non_null(finding(&h, RH_HIST_OUT_OF_ORDER, "20231012000000_y"));
    assert_int_equal(count(&h, RH_HIST_ORDER_DIFFERS), 0);
    rh_git_history_free(&h);
    history(t, "a", "main", "5.0.0", &h);
    assert_non_null(finding(&h, RH_HIST_OUT_OF_ORDER, "20231012000000_y"));
    rh_git_history_free(&h);
    fx_free(t);
    fx_free(r);
}

/* One order-differs finding per migration, naming every migration it moves past, not one per pair. */
static void order_differences_grouped_per_migration(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20251225_a", "SELECT 1;\n");
    fx_migration(r, "20251225_b", "SELECT 2;\n");
    fx_commit(r, "a b");
    fx_tag(r, "v1", "main", 1);
    fx_migration(r, "20251225061321_y", "SELECT 3;\n");
    fx_migration(r, "20251225063854_z", "SELECT 4;\n");
    fx_migration(r, "20251225064400_w", "SELECT 5;\n");
    fx_migration(r, "20251225172548_v", "SELECT 6;\n");
    fx_commit(r, "four more");

    rh_git_history h;
    history(r, "v1", "main", "6.19.3", &h);
    /* 8 pairs, 2 findings: _a and _b each move past the 4 new ones (and agree with each other) */
    assert_int_equal(count(&h, RH_HIST_ORDER_DIFFERS), 2);
    const rh_hist_finding *f = finding(&h, RH_HIST_ORDER_DIFFERS, "20251225_a");
    assert_non_null(f);
    assert_true(f->hazard);
    assert_int_equal(f->n_others, 4);
    assert_string_equal(f->others[0], "20251225061321_y");
    assert_string_equal(f->others[3], "20251225172548_v");
    assert_string_equal(f->other, "20251225061321_y");
    assert_string_equal(f->file, "prisma/migrations/20251225_a");
    assert_non_null(strstr(f->message, "20251225_a is ordered differently against 4 migrations at main"));
    assert_non_null(strstr(f->message, ": 20251225_a first by ICU order (Prisma >= 6.6), 20251225061321_y, "
                                       "20251225063854_z, 20251225064400_w and 1 more first by byte order (Prisma < 6.6); "
                                       "upgrading Prisma across 6.6 changes the order they apply in"));
    assert_non_null(finding(&h, RH_HIST_ORDER_DIFFERS, "20251225_b"));
    assert_null(finding(&h, RH_HIST_ORDER_DIFFERS, "20251225061321_y"));
    rh_git_history_free(&h);

    /* all of them already at the first revision: notes, said so */
    history(r, "main", "main", "6.19.3", &h);
    assert_int_equal(count(&h, RH_HIST_ORDER_DIFFERS), 2);
    assert_int_equal(h.n_hazards, 0);
    f = finding(&h, RH_HIST_ORDER_DIFFERS, "20251225_b");
    assert_false(f->hazard);
    assert_non_null(strstr(f->message, "(all already at the first revision)"));
    rh_git_history_free(&h);
    fx_free(r);
}

static void folders_without_sql_and_odd_entries(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20240101000000_init", "SELECT 1;\n");
    fx_commit(r, "init");
    fx_tag(r, "v1", "main", 1);
    fx_put(r, "prisma/migrations/20240102000000_empty/notes.md", "todo\n");
    fx_put(r, "prisma/migrations/20240103000000_lrm/migration.sql\xe2\x80\x8e", "SELECT 3;\n");
    fx_symlink(r, "prisma/migrations/20240104000000_link", "20240101000000_init");
    fx_commit(r, "odd");
    rh_git_history h;
    history(r, "v1", "main", NULL, &h);
    const rh_hist_finding *f = finding(&h, RH_HIST_NO_SQL, "20240102000000_empty");
    assert_non_null(f);
    char want[4096];
    snprintf(want, sizeof want, "20240102000000_empty has no migration.sql at %s: Prisma 6.19.3's migrate deploy "
                                "stops with P3015 when it reaches it", h.to.label);
    assert_string_equal(f->message, want);
    f = finding(&h, RH_HIST_NO_SQL, "20240103000000_lrm");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "beside it a file named 'migration.sql<U+200E>' which contains the invisible "
                                       "character U+200E"));
    assert_int_equal(count(&h, RH_HIST_PROBLEM), 1);
    for (size_t i = 0; i < h.n; i++)
        if (h.items[i].kind == RH_HIST_PROBLEM)
            assert_non_null(strstr(h.items[i].message, "'20240104000000_link' is a symbolic link to "
                                                       "'20240101000000_init' (a folder)"));
    rh_git_history_free(&h);
    fx_free(r);
}

static void worktree_and_missing_folder_at_from(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "README.md", "start\n");
    fx_commit(r, "start");
    fx_tag(r, "empty", "main", 1);
    fx_migration(r, "20240101000000_init", "SELECT 1;\n");
    fx_commit(r, "init");
    char path[4096];
    snprintf(path, sizeof path, "%s/prisma/migrations/20240101000000_init/migration.sql", r->path);
    fx_write_file(path, "SELECT 42;\n", 11); /* uncommitted edit */

    rh_git_history h;
    history(r, "HEAD", "WORKTREE", NULL, &h);
    const rh_hist_finding *f = finding(&h, RH_HIST_EDITED, "20240101000000_init");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "and WORKTREE (files on disk)"));
    rh_git_history_free(&h);

    history(r, "empty", "main", NULL, &h);
    assert_true(h.a_missing);
    assert_non_null(finding(&h, RH_HIST_ADDED, "20240101000000_init"));
    assert_int_equal(h.n_hazards, 0);
    rh_git_history_free(&h);
    fx_free(r);
}

static int stop_at_first(const char *relpath, void *ctx)
{
    (void)relpath;
    ++*(int *)ctx;
    return 1;
}

static int count_all(const char *relpath, void *ctx)
{
    assert_string_equal(relpath, "apps/web/README.md");
    ++*(int *)ctx;
    return 0;
}

/* A check reads two revisions: the work tree's package.json walk (for the folder, then for the version) is
   made once, and base's tree is not walked at all: base is read in head's order, with head's profile
   (before, 3 walks: the work tree twice, base's whole tree once). */
static void each_revision_is_walked_once(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "package.json", "{\"devDependencies\":{\"prisma\":\"^5.22.0\"}}");
    fx_put(r, "apps/web/README.md", "a folder the walk goes through\n");
    fx_migration(r, "20240101000000_init", "CREATE TABLE a (id int);\n");
    fx_commit(r, "v1");
    fx_tag(r, "v1", "main", 1);
    char path[4096];
    snprintf(path, sizeof path, "%s/package.json", r->path);
    fx_write_file(path, "{\"devDependencies\":{\"prisma\":\"^6.19.0\"}}", 41);
    snprintf(path, sizeof path, "%s/prisma/migrations/20240102000000_b/migration.sql", r->path);
    fx_write_file(path, "CREATE TABLE b (id int);\n", 25);

    unsigned long before = rh_git_walk_count();
    rh_git_history h;
    history(r, "v1", "WORKTREE", NULL, &h);
    assert_int_equal(rh_git_walk_count() - before, 1);
    /* the same answer as before: head's profile, base read in its order */
    assert_string_equal(h.profile.version, "6.19.0");
    assert_non_null(strstr(h.profile_source, "package.json devDependencies.prisma ^6.19.0 at WORKTREE"));
    assert_int_equal(h.a.n, 1);
    assert_int_equal(h.b.n, 2);
    assert_non_null(finding(&h, RH_HIST_ADDED, "20240102000000_b"));
    rh_git_history_free(&h);

    /* a walk the caller stops early is no answer to keep: the next one walks again and finds it all */
    rh_git_repo *g = open_repo(r);
    rh_git_rev rev;
    rh_err err;
    assert_int_equal(rh_git_resolve(g, "v1", &rev, &err), 0);
    before = rh_git_walk_count();
    int seen = 0;
    assert_int_equal(rh_git_find_files(g, &rev, "README.md", 8, stop_at_first, &seen, &err), 0);
    assert_int_equal(seen, 1);
    seen = 0;
    assert_int_equal(rh_git_find_files(g, &rev, "README.md", 8, count_all, &seen, &err), 0);
    assert_int_equal(seen, 1);
    assert_int_equal(rh_git_find_files(g, &rev, "README.md", 8, count_all, &seen, &err), 0);
    assert_int_equal(seen, 2); /* answered again, the same file */
    assert_int_equal(rh_git_walk_count() - before, 2);
    rh_git_close(g);
    fx_free(r);
}

static void failures_name_what_was_given(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "README.md", "start\n");
    fx_commit(r, "start");
    fx_tag(r, "v0", "main", 1);
    rh_git_repo *g = open_repo(r);
    rh_git_history h;
    rh_err err;
    rh_git_history_opts o = {0};
    assert_int_equal(rh_git_history_compute(g, "nope", "main", &o, &h, &err), -1);
    char want[8192];
    snprintf(want, sizeof want, "--from: unknown revision 'nope' in the repository at %s", r->path);
    assert_string_equal(err.msg, want);
    assert_int_equal(rh_git_history_compute(g, "main", "v9", &o, &h, &err), -1);
    snprintf(want, sizeof want, "--to: unknown revision 'v9' in the repository at %s", r->path);
    assert_string_equal(err.msg, want);

    /* no folder anywhere: Prisma's default cannot be found */
    assert_int_equal(rh_git_history_compute(g, "v0", "main", &o, &h, &err), -1);
    assert_non_null(strstr(err.msg, "no migrations folder found at main ("));

    /* an explicit folder missing at the second revision */
    o.migrations = "db/migrations";
    assert_int_equal(rh_git_history_compute(g, "v0", "main", &o, &h, &err), -1);
    rh_git_rev main_rev;
    rh_git_resolve(g, "main", &main_rev, &err);
    snprintf(want, sizeof want, "the folder db/migrations does not exist at main (%s)", main_rev.short_sha);
    assert_string_equal(err.msg, want);

    o.migrations = NULL;
    o.tool_version = "banana";
    assert_int_equal(rh_git_history_compute(g, "v0", "main", &o, &h, &err), -1);
    rh_git_close(g);
    fx_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_change_no_finding),
        cmocka_unit_test(added_removed_renamed_edited),
        cmocka_unit_test(merged_branch_inserts_before_applied_ones),
        cmocka_unit_test(order_depends_on_the_prisma_version),
        cmocka_unit_test(order_differences_grouped_per_migration),
        cmocka_unit_test(folders_without_sql_and_odd_entries),
        cmocka_unit_test(worktree_and_missing_folder_at_from),
        cmocka_unit_test(failures_name_what_was_given),
        cmocka_unit_test(each_revision_is_walked_once),
    };
    return cmocka_run_group_tests_name("history", tests, NULL, NULL);
}
