/*
 * test_git.c — the source module on fixture repositories built with libgit2: opening (subfolder,
 * bare, not a repository), resolving revisions (sha, branch, tags, HEAD~1, WORKTREE, errors),
 * reading a migrations folder from the object database with Prisma's rules and problem reports,
 * and detecting the Prisma version and the migrations folder of a revision.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "migrations/migset.h"
#include "source/git.h"
#include "source/loader.h"
#include "tools/prisma/detect.h"
#include "tools/tool.h"
#include "test_git_fixture.h"
#include "util/buf.h"
#include "util/fs.h"

static rh_git_repo *open_ok(const char *path)
{
    rh_git_repo *g = NULL;
    rh_err err;
    if (rh_git_open(&g, path, &err) < 0)
        fail_msg("open %s: %s", path, err.msg);
    return g;
}

static void resolve_ok(rh_git_repo *g, const char *spec, rh_git_rev *rev)
{
    rh_err err;
    if (rh_git_resolve(g, spec, rev, &err) < 0)
        fail_msg("resolve %s: %s", spec, err.msg);
}

/* ---- opening --------------------------------------------------------------------------------------- */

static void open_from_a_subfolder_and_bare(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20240101000000_init", "CREATE TABLE a (id int);\n");
    fx_commit(r, "init");
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/prisma/migrations", r->path);
    rh_git_repo *g = open_ok(sub);
    assert_non_null(rh_git_workdir(g));
    rh_git_close(g);

    fx_repo *b = fx_repo_new(1);
    fx_migration(b, "20240101000000_init", "CREATE TABLE a (id int);\n");
    fx_commit(b, "init");
    g = open_ok(b->path);
    assert_null(rh_git_workdir(g));
    rh_git_rev rev;
    resolve_ok(g, "main", &rev);
    rh_migset set;
    rh_err err;
    assert_int_equal(rh_folder_load_rev(&set, g, &rev, "prisma/migrations", RH_TOOL_DEFAULT->read, &err), 0);
    assert_int_equal(set.n, 1);
    rh_migset_free(&set);
    assert_int_equal(rh_git_resolve(g, "WORKTREE", &rev, &err), -1);
    char want[8192];
    snprintf(want, sizeof want, "revision WORKTREE: the repository at %s is bare, it has no work tree", b->path);
    assert_string_equal(err.msg, want);
    rh_git_close(g);
    fx_free(r);
    fx_free(b);
}

static void not_a_repository_is_a_clear_error(void **state)
{
    const char *d = fx_tmpdir();
    rh_git_repo *g = NULL;
    rh_err err;
    assert_int_equal(rh_git_open(&g, d, &err), -1);
    char want[4096];
    snprintf(want, sizeof want, "not a git repository: %s (nor any parent folder)", d);
    assert_string_equal(err.msg, want);
    assert_null(g);
    assert_int_equal(rh_git_open(&g, "/nonexistent/repo", &err), -1);
    assert_string_equal(err.msg, "no such folder: /nonexistent/repo: No such file or directory");
}

/* ---- revisions ------------------------------------------------------------------------------------- */

static void revisions_of_every_kind(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20240101000000_init", "CREATE TABLE a (id int);\n");
    char first[41];
    strcpy(first, fx_commit(r, "init"));
    fx_tag(r, "v1", "main", 1);
    fx_tag(r, "light", "main", 0);
    fx_migration(r, "20240102000000_b", "CREATE TABLE b (id int);\n");
    char second[41];
    strcpy(second, fx_commit(r, "b"));
    fx_branch(r, "feature", "main");

    rh_git_repo *g = open_ok(r->path);
    rh_git_rev rev;
    resolve_ok(g, first, &rev);
    assert_string_equal(rev.sha, first);
    assert_string_equal(rev.label, rev.short_sha);
    char shortspec[8];
    memcpy(shortspec, first, 7);
    shortspec[7] = '\0';
    resolve_ok(g, shortspec, &rev);
    assert_string_equal(rev.sha, first);
    resolve_ok(g, "v1", &rev); /* annotated: peeled to the commit */
    assert_string_equal(rev.sha, first);
    char label[64];
    snprintf(label, sizeof label, "v1 (%.7s)", first);
    assert_string_equal(rev.label, label);
    resolve_ok(g, "light", &rev);
    assert_string_equal(rev.sha, first);
    resolve_ok(g, "HEAD~1", &rev);
    assert_string_equal(rev.sha, first);
    resolve_ok(g, "main^", &rev);
    assert_string_equal(rev.sha, first);
    resolve_ok(g, "feature", &rev);
    assert_string_equal(rev.sha, second);
    git_reference *remote = NULL;
    git_oid first_id;
    git_oid_fromstr(&first_id, first);
    fx_check(git_reference_create(&remote, r->repo, "refs/remotes/origin/main", &first_id, 1, NULL), "remote ref");
    git_reference_free(remote);
    resolve_ok(g, "origin/main", &rev); /* a remote branch */
    assert_string_equal(rev.sha, first);
    resolve_ok(g, "v1^{}", &rev);
    assert_string_equal(rev.sha, first);
    resolve_ok(g, "WORKTREE", &rev);
    assert_true(rev.worktree);
    assert_string_equal(rev.label, "WORKTREE (files on disk)");

    rh_err err;
    assert_int_equal(rh_git_resolve(g, "nope", &rev, &err), -1);
    char want[8192];
    snprintf(want, sizeof want, "unknown revision 'nope' in the repository at %s", r->path);
    assert_string_equal(err.msg, want);
    assert_int_equal(rh_git_resolve(g, "HEAD^{tree}", &rev, &err), -1);
    assert_string_equal(err.msg, "revision 'HEAD^{tree}' is a tree, not a commit");
    rh_git_close(g);
    fx_free(r);
}

static void empty_repository_has_no_revisions(void **state)
{
    fx_repo *r = fx_repo_new(0);
    rh_git_repo *g = open_ok(r->path);
    rh_git_rev rev;
    rh_err err;
    assert_int_equal(rh_git_resolve(g, "HEAD", &rev, &err), -1);
    char want[8192];
    snprintf(want, sizeof want, "unknown revision 'HEAD': the repository at %s has no commits yet", r->path);
    assert_string_equal(err.msg, want);
    rh_git_close(g);
    fx_free(r);
}

/* ---- reading a folder at a revision ------------------------------------------------------------------ */

static void folder_at_a_revision_follows_prismas_rules(void **state)
{
    fx_repo *r = fx_repo_new(0);
    const char crlf[] = "CREATE TABLE a (\r\n  id int\r\n);\r\n";
    fx_migration(r, "20240101000000_init", crlf);
    fx_migration(r, ".hidden", "SELECT 1;\n");
    fx_put(r, "prisma/migrations/20240102000000_nosql/README.md", "forgot the sql\n");
    fx_put(r, "prisma/migrations/20240103000000_lrm/migration.sql\xe2\x80\x8e", "SELECT 2;\n");
    fx_put(r, "prisma/migrations/20240104000000_bad\xff/migration.sql", "SELECT 3;\n");
    fx_put(r, "prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n");
    fx_put(r, "prisma/migrations/notes.txt", "ignored\n");
    fx_symlink(r, "prisma/migrations/20240105000000_link", ".hidden");
    fx_gitlink(r, "prisma/migrations/20240106000000_sub");
    fx_migration(r, "20240107000000_symsql/x.sql", "SELECT 7;\n");
    fx_symlink(r, "prisma/migrations/20240107000000_symsql/migration.sql", "x.sql/migration.sql");
    fx_commit(r, "everything odd");

    rh_git_repo *g = open_ok(r->path);
    rh_git_rev rev;
    resolve_ok(g, "main", &rev);
    rh_migset set;
    rh_err err;
    assert_int_equal(rh_folder_load_rev(&set, g, &rev, "prisma/migrations", RH_TOOL_DEFAULT->read, &err), 0);
    assert_int_equal(set.n, 7);
    assert_string_equal(set.items[0].name, ".hidden");

    const rh_migration *m = rh_migset_find(&set, "20240101000000_init");
    assert_int_equal(m->sql_len, sizeof crlf - 1);
    assert_memory_equal(m->sql, crlf, sizeof crlf - 1); /* exact bytes: CRLF kept */
    char hex[65];
    rh_checksum_hex(crlf, sizeof crlf - 1, hex);
    assert_string_equal(m->checksum, hex);
    assert_null(m->problem);

    m = rh_migset_find(&set, "20240102000000_nosql");
    assert_null(m->sql);
    assert_string_equal(m->problem, "no migration.sql (Prisma stops with P3015 when it reaches it)");

    m = rh_migset_find(&set, "20240103000000_lrm");
    assert_null(m->sql);
    assert_string_equal(m->problem, "no migration.sql (Prisma stops with P3015 when it reaches it); beside it a file "
                                    "named 'migration.sql<U+200E>' which contains the invisible character U+200E at "
                                    "byte 13");

    m = rh_migset_find(&set, "20240104000000_bad\xff");
    assert_non_null(m);
    assert_non_null(m->sql);
    assert_string_equal(m->problem, "the directory name is not valid UTF-8 (byte 0xff at offset 18)");

    m = rh_migset_find(&set, "20240106000000_sub");
    assert_null(m->sql);
    assert_non_null(strstr(m->problem, "is a git submodule (gitlink to commit 1234567)"));

    m = rh_migset_find(&set, "20240107000000_symsql");
    assert_non_null(strstr(m->problem, "migration.sql is a symbolic link to 'x.sql/migration.sql'"));
    assert_string_equal(m->sql, "SELECT 7;\n");

    assert_null(rh_migset_find(&set, "20240105000000_link"));
    assert_int_equal(set.n_problems, 1);
    assert_string_equal(set.problems[0].text, "'20240105000000_link' is a symbolic link to '.hidden' (a folder): Prisma "
                                         "lists only real folders, so it is not a migration");
    assert_true(set.has_lock_file);
    assert_string_equal(set.lock_provider, "postgresql");
    char origin[128];
    snprintf(origin, sizeof origin, "prisma/migrations at main (%s)", rev.short_sha);
    assert_string_equal(set.origin, origin);
    rh_migset_free(&set);
    rh_git_close(g);
    fx_free(r);
}

static void folder_missing_or_a_file(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "README.md", "no migrations yet\n");
    fx_commit(r, "readme");
    fx_tag(r, "v0", "main", 1);
    fx_put(r, "db/migrations", "a file\n");
    fx_commit(r, "file");
    rh_git_repo *g = open_ok(r->path);
    rh_git_rev rev;
    resolve_ok(g, "v0", &rev);
    rh_migset set;
    rh_err err;
    assert_int_equal(rh_folder_load_rev(&set, g, &rev, "prisma/migrations", RH_TOOL_DEFAULT->read, &err),
                     RH_FOLDER_ABSENT); /* structured: a base's loader takes it for an empty folder */
    char want[256];
    snprintf(want, sizeof want, "the folder prisma/migrations does not exist at v0 (%s)", rev.short_sha);
    assert_string_equal(err.msg, want);
    resolve_ok(g, "main", &rev);
    assert_int_equal(rh_folder_load_rev(&set, g, &rev, "db/migrations", RH_TOOL_DEFAULT->read, &err), -1);
    snprintf(want, sizeof want, "db/migrations is a file, not a folder, at main (%s)", rev.short_sha);
    assert_string_equal(err.msg, want);
    rh_git_close(g);
    fx_free(r);
}

/*
 * A base revision's loader (check's and plan's base, history's --from, diff rev:A) takes a folder that
 * does not exist there for an empty set from the folder's structured answer, for every tool. Before,
 * it matched "does not exist" in the message: a folder whose NAME holds those words and is a file at
 * the base ("db/does not exist is a file, not a folder, at v0") was taken for an absent one, an empty
 * base, and every migration counted as new instead of the error.
 */
static void a_base_without_the_folder_is_empty_by_a_structured_answer(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "README.md", "no migrations yet\n");
    fx_put(r, "db/does not exist", "a file, not the folder\n");
    fx_commit(r, "readme");
    fx_tag(r, "v0", "main", 1);
    rh_err err;
    rh_migset set;
    int absent = -1;
    for (size_t i = 0; rh_tools[i]; i++) {
        const rh_tool *t = rh_tools[i];
        rh_load_spec spec = {.tool = t, .repo = r->path, .rev = "v0", .migrations = "db/migrations", .base = 1};
        assert_int_equal(rh_source_load_set(&spec, &set, &absent, &err), 0);
        assert_int_equal(absent, 1);
        assert_int_equal(set.n, 0);
        assert_non_null(strstr(set.origin, "db/migrations at v0 ("));
        assert_non_null(strstr(set.origin, ") (absent)"));
        rh_migset_free(&set);
        spec.base = 0; /* not a base: the folder must be there */
        assert_int_equal(rh_source_load_set(&spec, &set, &absent, &err), -1);
        assert_non_null(strstr(err.msg, "the folder db/migrations does not exist at v0"));
        spec.base = 1; /* a file where the folder should be is an error, whatever its name says */
        spec.migrations = "db/does not exist";
        assert_int_equal(rh_source_load_set(&spec, &set, &absent, &err), -1);
        assert_non_null(strstr(err.msg, "db/does not exist is a file, not a folder, at v0"));
    }
    /* nothing found where the default tool looks (no schema, no folder): a base is empty, a head is not */
    rh_load_spec spec = {.repo = r->path, .rev = "v0", .base = 1};
    rh_loaded l;
    assert_int_equal(rh_source_load(&spec, &l, &err), 0);
    assert_int_equal(l.absent, 1);
    assert_string_equal(l.migrations, RH_TOOL_DEFAULT->default_migrations);
    rh_loaded_free(&l);
    spec.base = 0;
    assert_int_equal(rh_source_load(&spec, &l, &err), -1);
    assert_non_null(strstr(err.msg, "no migrations folder found at v0"));
    rh_loaded_free(&l);
    fx_free(r);
}

static void reading_never_touches_worktree_index_or_head(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20240101000000_init", "v1\n");
    fx_commit(r, "one");
    fx_tag(r, "v1", "main", 1);
    fx_migration(r, "20240101000000_init", "v2\n");
    fx_commit(r, "two");
    /* uncommitted change on disk */
    char path[4096];
    snprintf(path, sizeof path, "%s/prisma/migrations/20240101000000_init/migration.sql", r->path);
    fx_write_file(path, "v3 on disk\n", 11);
    char headfile[4096], indexfile[4096];
    snprintf(headfile, sizeof headfile, "%s/.git/HEAD", r->path);
    snprintf(indexfile, sizeof indexfile, "%s/.git/index", r->path);
    char *head_before = NULL;
    size_t hl;
    rh_err err;
    assert_int_equal(rh_fs_read(headfile, &head_before, &hl, &err), 0);

    rh_git_repo *g = open_ok(r->path);
    rh_git_rev rev;
    rh_migset set;
    resolve_ok(g, "v1", &rev);
    assert_int_equal(rh_folder_load_rev(&set, g, &rev, "prisma/migrations", RH_TOOL_DEFAULT->read, &err), 0);
    assert_string_equal(set.items[0].sql, "v1\n");
    rh_migset_free(&set);
    resolve_ok(g, "HEAD", &rev);
    assert_int_equal(rh_folder_load_rev(&set, g, &rev, "prisma/migrations", RH_TOOL_DEFAULT->read, &err), 0);
    assert_string_equal(set.items[0].sql, "v2\n");
    rh_migset_free(&set);
    resolve_ok(g, "WORKTREE", &rev);
    assert_int_equal(rh_folder_load_rev(&set, g, &rev, "prisma/migrations/", RH_TOOL_DEFAULT->read, &err), 0);
    assert_string_equal(set.items[0].sql, "v3 on disk\n");
    rh_migset_free(&set);
    rh_git_close(g);

    char *data = NULL;
    size_t len;
    assert_int_equal(rh_fs_read(path, &data, &len, &err), 0);
    assert_string_equal(data, "v3 on disk\n");
    free(data);
    assert_int_equal(rh_fs_read(headfile, &data, &len, &err), 0);
    assert_string_equal(data, head_before);
    free(data);
    free(head_before);
    assert_false(rh_fs_exists(indexfile)); /* never written */
    fx_free(r);
}

static void relative_paths(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20240101000000_init", "x\n");
    fx_commit(r, "one");
    rh_git_repo *g = open_ok(r->path);
    rh_err err;
    char abs[4096];
    snprintf(abs, sizeof abs, "%s/prisma/migrations/", r->path);
    char *p = rh_git_relpath(g, abs, &err);
    assert_string_equal(p, "prisma/migrations");
    free(p);
    p = rh_git_relpath(g, "./prisma/migrations/", &err);
    assert_string_equal(p, "prisma/migrations");
    free(p);
    assert_null(rh_git_relpath(g, "/etc", &err));
    assert_non_null(strstr(err.msg, "the folder /etc is outside the repository's work tree"));
    rh_git_close(g);
    fx_free(r);
}

/* ---- which Prisma, which folder ----------------------------------------------------------------------- */

static void detect(fx_repo *r, const char *rev_spec, const char *near, const char *want_version,
                   const char *want_source)
{
    rh_git_repo *g = open_ok(r->path);
    rh_git_rev rev;
    resolve_ok(g, rev_spec, &rev);
    rh_prisma_version pv;
    rh_err err;
    int rc = rh_git_detect_prisma(g, &rev, near, &pv, &err);
    if (!want_version) {
        assert_int_equal(rc, 0);
    } else {
        if (rc != 1)
            fail_msg("detect: rc %d %s", rc, err.msg);
        assert_string_equal(pv.version, want_version);
        assert_string_equal(pv.source, want_source);
    }
    rh_git_close(g);
}

static void prisma_version_from_package_json_and_lock_files(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "README.md", "x\n");
    fx_commit(r, "none");
    detect(r, "main", NULL, NULL, NULL);

    fx_put(r, "package.json", "{\"name\":\"app\",\"devDependencies\":{\"prisma\":\"^6.19.0\"},"
                              "\"dependencies\":{\"@prisma/client\":\"^6.19.0\"}}");
    fx_commit(r, "range");
    detect(r, "main", NULL, "6.19.0", "package.json devDependencies.prisma ^6.19.0");

    fx_put(r, "package-lock.json", "{\"lockfileVersion\":3,\"packages\":{\"\":{},"
                                   "\"node_modules/prisma\":{\"version\":\"6.19.3\"}}}");
    fx_commit(r, "npm lock");
    detect(r, "main", NULL, "6.19.3",
           "package.json devDependencies.prisma ^6.19.0, package-lock.json 6.19.3");

    fx_rm(r, "package-lock.json");
    fx_put(r, "pnpm-lock.yaml", "lockfileVersion: '9.0'\n\nimporters:\n  .:\n    devDependencies:\n      prisma:\n"
                                "        specifier: ^6.19.0\n        version: 6.19.2\n\npackages:\n\n"
                                "  '@prisma/client@6.19.2':\n    resolution: {}\n  prisma@6.19.2:\n    resolution: {}\n");
    fx_commit(r, "pnpm lock");
    detect(r, "main", NULL, "6.19.2", "package.json devDependencies.prisma ^6.19.0, pnpm-lock.yaml 6.19.2");

    fx_rm(r, "pnpm-lock.yaml");
    fx_put(r, "yarn.lock", "# yarn lockfile v1\n\n\"@prisma/client@^6.19.0\":\n  version \"6.19.9\"\n\n"
                           "prisma@^6.19.0, prisma@^6.1.0:\n  version \"6.19.1\"\n  resolved \"x\"\n");
    fx_commit(r, "yarn lock");
    detect(r, "main", NULL, "6.19.1", "package.json devDependencies.prisma ^6.19.0, yarn.lock 6.19.1");

    fx_put(r, "yarn.lock", "__metadata:\n  version: 8\n\n\"prisma@npm:^6.19.0\":\n  version: 6.19.5\n");
    fx_commit(r, "yarn berry lock");
    detect(r, "main", NULL, "6.19.5", "package.json devDependencies.prisma ^6.19.0, yarn.lock 6.19.5");
    fx_free(r);
}

static void prisma_version_in_a_monorepo(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "package.json", "{\"private\":true,\"workspaces\":[\"apps/*\"]}");
    fx_put(r, "apps/web/package.json", "{\"dependencies\":{\"@prisma/client\":\"6.1.0\"}}");
    fx_put(r, "apps/api/package.json", "{\"devDependencies\":{\"prisma\":\"~5.22.0\"}}");
    fx_migration(r, "x", "x");
    fx_commit(r, "monorepo");
    detect(r, "main", "apps/api/prisma/migrations", "5.22.0", "apps/api/package.json devDependencies.prisma ~5.22.0");
    detect(r, "main", "apps/web/prisma/migrations", "6.1.0", "apps/web/package.json dependencies.@prisma/client 6.1.0");
    fx_put(r, "package-lock.json", "{\"lockfileVersion\":3,\"packages\":{"
                                   "\"apps/api/node_modules/prisma\":{\"version\":\"5.22.0\"},"
                                   "\"node_modules/prisma\":{\"version\":\"6.0.1\"}}}");
    fx_commit(r, "lock");
    detect(r, "main", "apps/api/prisma/migrations", "5.22.0",
           "apps/api/package.json devDependencies.prisma ~5.22.0, package-lock.json 5.22.0");
    fx_free(r);
}

/*
 * A workspace package's stale lock file of its own (prisma@^4.10.1, from before the package joined
 * the workspace) must not win over the workspace root's lock file: npm, yarn and pnpm install a
 * workspace from the root's lock only. Each layout: the root declares the workspace, the package's
 * package.json names ^6.0.1, the root's lock file 6.0.1, the package's own lock 4.10.1.
 */
static void prisma_version_of_a_workspace_package_comes_from_the_workspace_lock(void **state)
{
    static const char pkg[] = "{\"name\":\"db\",\"devDependencies\":{\"prisma\":\"^6.0.1\"}}";
    static const char *const want_src[] = {
        "packages/db/package.json devDependencies.prisma ^6.0.1, yarn.lock 6.0.1",
        "packages/db/package.json devDependencies.prisma ^6.0.1, package-lock.json 6.0.1",
        "packages/db/package.json devDependencies.prisma ^6.0.1, pnpm-lock.yaml 6.0.1",
        "packages/db/package.json devDependencies.prisma ^6.0.1, yarn.lock 6.0.1",
    };
    for (int layout = 0; layout < 4; layout++) {
        fx_repo *r = fx_repo_new(0);
        fx_put(r, "packages/db/package.json", pkg);
        fx_migration(r, "x", "x");
        if (layout == 0 || layout == 3) { /* yarn (classic array form; yarn's {"packages": [...]} form) */
            fx_put(r, "package.json", layout == 0 ? "{\"private\":true,\"workspaces\":[\"packages/*\"]}"
                                                  : "{\"private\":true,\"workspaces\":{\"packages\":[\"packages/**\"],"
                                                    "\"nohoist\":[]}}");
            fx_put(r, "yarn.lock", "# yarn lockfile v1\n\nprisma@^6.0.1:\n  version \"6.0.1\"\n");
            fx_put(r, "packages/db/yarn.lock", "# yarn lockfile v1\n\nprisma@^4.10.1:\n  version \"4.10.1\"\n");
        } else if (layout == 1) { /* npm */
            fx_put(r, "package.json", "{\"private\":true,\"workspaces\":[\"./packages/db\"]}");
            fx_put(r, "package-lock.json", "{\"lockfileVersion\":3,\"packages\":{\"\":{},"
                                           "\"node_modules/prisma\":{\"version\":\"6.0.1\"}}}");
            fx_put(r, "packages/db/package-lock.json", "{\"lockfileVersion\":3,\"packages\":{\"\":{},"
                                                       "\"node_modules/prisma\":{\"version\":\"4.10.1\"}}}");
        } else { /* pnpm: the workspace is pnpm-workspace.yaml; the importer names the package's version */
            fx_put(r, "package.json", "{\"private\":true}");
            fx_put(r, "pnpm-workspace.yaml", "packages:\n  - 'packages/*'\n  - \"!**/test/**\"\n");
            fx_put(r, "pnpm-lock.yaml", "lockfileVersion: '9.0'\n\nimporters:\n\n  .: {}\n\n  apps/old:\n"
                                        "    devDependencies:\n      prisma:\n        specifier: ^5.0.0\n"
                                        "        version: 5.0.0\n\n  packages/db:\n    devDependencies:\n"
                                        "      prisma:\n        specifier: ^6.0.1\n        version: 6.0.1(typescript@5.6.3)\n\n"
                                        "packages:\n\n  prisma@5.0.0:\n    resolution: {}\n"
                                        "  prisma@6.0.1:\n    resolution: {}\n");
            fx_put(r, "packages/db/pnpm-lock.yaml", "lockfileVersion: '9.0'\n\npackages:\n\n  prisma@4.10.1:\n"
                                                    "    resolution: {}\n");
        }
        fx_commit(r, "workspace");
        detect(r, "main", "packages/db/prisma/migrations", "6.0.1", want_src[layout]);
        fx_free(r);
    }
}

/* A package outside every workspace is installed from its own lock file, not from a parent's. */
static void prisma_version_of_a_package_outside_the_workspace_comes_from_its_own_lock(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "package.json", "{\"private\":true,\"workspaces\":[\"apps/*\",\"!apps/legacy\"]}");
    fx_put(r, "yarn.lock", "# yarn lockfile v1\n\nprisma@^6.0.1:\n  version \"6.0.1\"\n");
    fx_put(r, "tools/db/package.json", "{\"devDependencies\":{\"prisma\":\"^5.1.0\"}}");
    fx_put(r, "tools/db/yarn.lock", "# yarn lockfile v1\n\nprisma@^5.1.0:\n  version \"5.22.0\"\n");
    fx_put(r, "apps/legacy/package.json", "{\"devDependencies\":{\"prisma\":\"^4.1.0\"}}");
    fx_put(r, "apps/legacy/package-lock.json", "{\"lockfileVersion\":3,\"packages\":{\"\":{},"
                                               "\"node_modules/prisma\":{\"version\":\"4.16.2\"}}}");
    fx_put(r, "apps/new/package.json", "{\"devDependencies\":{\"prisma\":\"^6.0.1\"}}");
    fx_commit(r, "mixed");
    detect(r, "main", "tools/db/prisma/migrations", "5.22.0",
           "tools/db/package.json devDependencies.prisma ^5.1.0, tools/db/yarn.lock 5.22.0");
    detect(r, "main", "apps/legacy/prisma/migrations", "4.16.2",
           "apps/legacy/package.json devDependencies.prisma ^4.1.0, apps/legacy/package-lock.json 4.16.2");
    detect(r, "main", "apps/new/prisma/migrations", "6.0.1",
           "apps/new/package.json devDependencies.prisma ^6.0.1, yarn.lock 6.0.1");
    /* yarn.lock blocks for two ranges: the one naming the package's own range is its version */
    fx_put(r, "yarn.lock", "# yarn lockfile v1\n\nprisma@^5.0.0:\n  version \"5.0.0\"\n\n"
                           "\"prisma@^6.0.1\", prisma@^6.0.0:\n  version \"6.0.2\"\n");
    fx_commit(r, "two prisma versions in the workspace lock");
    detect(r, "main", "apps/new/prisma/migrations", "6.0.2",
           "apps/new/package.json devDependencies.prisma ^6.0.1, yarn.lock 6.0.2");
    fx_free(r);
}

static void default_migrations_folder(void **state)
{
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "README.md", "x\n");
    fx_commit(r, "nothing");
    rh_git_repo *g = open_ok(r->path);
    rh_git_rev rev;
    rh_err err;
    char *path = NULL;
    resolve_ok(g, "main", &rev);
    assert_int_equal(rh_git_default_migrations(g, &rev, &path, &err), -1);
    char want[1024];
    snprintf(want, sizeof want,
             "no migrations folder found at main (%s): no prisma/migrations, no schema.prisma, no prisma.config.ts or "
             "package.json \"prisma.schema\" setting (give --migrations PATH)", rev.short_sha);
    assert_string_equal(err.msg, want);

    fx_put(r, "services/db/schema.prisma", "datasource db {}\n");
    fx_put(r, "other/schema.prisma", "datasource db {}\n");
    fx_put(r, "services/db/migrations/1_init/migration.sql", "x\n");
    fx_commit(r, "schema");
    resolve_ok(g, "main", &rev);
    assert_int_equal(rh_git_default_migrations(g, &rev, &path, &err), 0);
    assert_string_equal(path, "services/db/migrations"); /* the schema with migrations beside it */
    free(path);

    fx_put(r, "package.json", "{\"prisma\":{\"schema\":\"./database/main.prisma\"}}");
    fx_commit(r, "package.json setting");
    resolve_ok(g, "main", &rev);
    assert_int_equal(rh_git_default_migrations(g, &rev, &path, &err), 0);
    assert_string_equal(path, "database/migrations");
    free(path);

    fx_rm(r, "package.json");
    fx_migration(r, "1_init", "x\n");
    fx_commit(r, "default");
    resolve_ok(g, "main", &rev);
    assert_int_equal(rh_git_default_migrations(g, &rev, &path, &err), 0);
    assert_string_equal(path, "prisma/migrations");
    free(path);

    fx_put(r, "prisma.config.ts", "import { defineConfig } from 'prisma/config'\nexport default defineConfig({\n"
                                  "  schema: 'db/schema.prisma',\n  migrations: {\n    path: 'db/migrations',\n  },\n})\n");
    fx_commit(r, "config");
    resolve_ok(g, "main", &rev);
    assert_int_equal(rh_git_default_migrations(g, &rev, &path, &err), 0);
    assert_string_equal(path, "db/migrations");
    free(path);
    rh_git_close(g);
    fx_free(r);
}

/* ---- damaged objects ------------------------------------------------------------------------------ */

/* The id (hex) and loose file of an object of r. */
static char *loose_file(fx_repo *r, const char *spec, char *hex)
{
    git_object *o = NULL;
    fx_check(git_revparse_single(&o, r->repo, spec), spec);
    git_oid_tostr(hex, GIT_OID_HEXSZ + 1, git_object_id(o));
    git_object_free(o);
    return rh_xasprintf("%s/objects/%.2s/%s", git_repository_path(r->repo), hex, hex + 2);
}

static void write_loose(const char *path, const void *data, size_t len)
{
    chmod(path, 0644);
    fx_write_file(path, data, len);
}

/* Open r again, read its migrations at main: -1, and the message names the object `hex` and git fsck. */
static void expect_damage(fx_repo *r, const char *hex)
{
    rh_git_repo *g = open_ok(r->path);
    rh_git_rev rev;
    rh_err err;
    rh_migset set;
    int rc = rh_git_resolve(g, "main", &rev, &err);
    if (rc == 0)
        rc = rh_folder_load_rev(&set, g, &rev, "prisma/migrations", RH_TOOL_DEFAULT->read, &err);
    if (rc != -1 || !strstr(err.msg, hex) || !strstr(err.msg, "git fsck"))
        fail_msg("%s: rc %d, %s", hex, rc, rc < 0 ? err.msg : "(read)");
    /* later reads fail too: the damage was seen */
    char *data = NULL;
    assert_int_equal(rh_git_read_file(g, &rev, "package.json", &data, NULL, &err), -1);
    assert_null(data);
    rh_git_close(g);
}

/*
 * A truncated loose tree (libgit2 1.5.1 inflated it forever), a changed byte in a blob (was: the
 * file counted as missing, P3015), a header claiming fewer bytes than the object holds (libgit2
 * wrote past its buffer), an empty file.
 */
static void damaged_objects_are_named(void **state)
{
    (void)state;
    const char *sql = "CREATE TABLE a (id int);\n";
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20240101000000_init", sql);
    fx_commit(r, "init");
    char tree_id[GIT_OID_HEXSZ + 1], blob_id[GIT_OID_HEXSZ + 1];
    char *tree = loose_file(r, "main:prisma/migrations", tree_id);
    char *blob = loose_file(r, "main:prisma/migrations/20240101000000_init/migration.sql", blob_id);
    char *data = NULL;
    size_t len = 0;
    rh_err err;

    assert_int_equal(rh_fs_read(tree, &data, &len, &err), 0);
    write_loose(tree, data, len - 6);
    expect_damage(r, tree_id);
    write_loose(tree, data, len);
    free(data);

    assert_int_equal(rh_fs_read(blob, &data, &len, &err), 0);
    data[len / 2] ^= 0x10;
    write_loose(blob, data, len);
    expect_damage(r, blob_id);
    free(data);

    char lying[64];
    int n = snprintf(lying, sizeof lying, "blob 4%c%s", 0, sql);
    unsigned char z[128];
    uLongf zlen = sizeof z;
    assert_int_equal(compress(z, &zlen, (const unsigned char *)lying, (uLong)n), Z_OK);
    write_loose(blob, z, zlen);
    expect_damage(r, blob_id);

    write_loose(blob, "", 0); /* an empty file */
    expect_damage(r, blob_id);
    free(tree);
    free(blob);
    fx_free(r);
}


/* ---- other tools' folders at a revision: their reader, from the object database ---------------------- */

#define DBMATE_FILE "-- migrate:up\ncreate table a (id int);\n-- migrate:down\ndrop table a;\n"
#define JOURNAL(tags) "{\"version\":\"7\",\"dialect\":\"postgresql\",\"entries\":[" tags "]}\n"
#define ENTRY(i, when, tag) "{\"idx\":" #i ",\"version\":\"7\",\"when\":" #when ",\"tag\":\"" tag "\",\"breakpoints\":true}"

/* tool's folder at rev of r through the one loader: 0 or -1 with err. */
static int load_rev(fx_repo *r, const char *tool, const char *rev, const char *path, rh_migset *set, rh_err *err)
{
    const rh_tool *t = rh_tool_find(tool);
    assert_non_null(t);
    rh_load_spec spec = {.tool = t, .repo = r->path, .rev = rev, .migrations = path};
    return rh_source_load_set(&spec, set, NULL, err);
}

/* The problem of set that mentions what; fails when none does. */
static const char *problem_with(const rh_migset *set, const char *what)
{
    for (size_t i = 0; i < set->n_problems; i++)
        if (strstr(set->problems[i].text, what))
            return set->problems[i].text;
    fail_msg("no problem mentions '%s' (%zu problems)", what, set->n_problems);
    return NULL;
}

/*
 * dbmate at a revision, read from git's objects: a VERSION_name.sql link read through to its file (as
 * a checkout gives it to dbmate; an export to disk dropped it), a submodule and a folder named like a
 * migration passed over and named, a link to nothing an error naming it. Nothing is written to disk:
 * with TMPDIR unusable the read still works (the export needed a temporary folder).
 */
static void dbmate_folder_at_a_revision(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "db/migrations/20240101000000_a.sql", DBMATE_FILE);
    fx_put(r, "db/shared/b.sql", "-- migrate:up\ncreate table b (id int);\n-- migrate:down\n");
    fx_symlink(r, "db/migrations/20240102000000_b.sql", "../shared/b.sql");
    fx_gitlink(r, "db/migrations/20240103000000_sub.sql");
    fx_put(r, "db/migrations/20240104000000_dir.sql/x", "not a migration\n");
    fx_put(r, "db/migrations/README.md", "ignored\n");
    fx_commit(r, "odd");
    fx_tag(r, "odd", "main", 0);
    fx_symlink(r, "db/migrations/20240105000000_gone.sql", "../nowhere.sql");
    fx_commit(r, "dangling");

    char *old_tmp = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", "/nonexistent/rehearse-no-tmp", 1);
    rh_migset set;
    rh_err err;
    if (load_rev(r, "dbmate", "odd", NULL, &set, &err) < 0)
        fail_msg("%s", err.msg);
    if (old_tmp) {
        setenv("TMPDIR", old_tmp, 1);
        free(old_tmp);
    } else {
        unsetenv("TMPDIR");
    }
    assert_int_equal(set.n, 2);
    assert_string_equal(set.items[0].name, "20240101000000_a.sql");
    assert_string_equal(set.items[0].sql, DBMATE_FILE);
    assert_string_equal(set.items[1].name, "20240102000000_b.sql");
    assert_string_equal(set.items[1].sql, "-- migrate:up\ncreate table b (id int);\n-- migrate:down\n");
    assert_non_null(strstr(problem_with(&set, "20240102000000_b.sql"), "is a symbolic link to '../shared/b.sql': read "
                                                                        "through it"));
    assert_non_null(strstr(problem_with(&set, "20240103000000_sub.sql"), "a git submodule"));
    assert_non_null(strstr(problem_with(&set, "20240104000000_dir.sql"), "is a folder, not a file"));
    assert_non_null(strstr(set.origin, "db/migrations at odd ("));
    rh_migset_free(&set);

    assert_int_equal(load_rev(r, "dbmate", "main", NULL, &set, &err), -1);
    assert_non_null(strstr(err.msg, "db/migrations/20240105000000_gone.sql at main ("));
    assert_non_null(strstr(err.msg, "is a symbolic link to '../nowhere.sql', which is not a file of the revision: "
                                    "dbmate cannot read it"));
    assert_int_equal(load_rev(r, "dbmate", "main", "db/nope", &set, &err), -1);
    assert_non_null(strstr(err.msg, "the folder db/nope does not exist at main ("));
    fx_free(r);
}

/*
 * drizzle at a revision: the journal and each TAG.sql from git's objects (a link read through), a .sql
 * file the journal does not list named, an entry whose file is a submodule or missing an error naming
 * the journal at the revision.
 */
static void drizzle_folder_at_a_revision(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_put(r, "drizzle/meta/_journal.json", JOURNAL(ENTRY(0, 1700000000000, "0000_a") "," ENTRY(1, 1700000001000, "0001_b")));
    fx_put(r, "drizzle/0000_a.sql", "CREATE TABLE \"a\" (\"id\" integer);\n");
    fx_put(r, "shared/b.sql", "CREATE TABLE \"b\" (\"id\" integer);\n");
    fx_symlink(r, "drizzle/0001_b.sql", "../shared/b.sql");
    fx_put(r, "drizzle/0002_handwritten.sql", "SELECT 1;\n");
    fx_commit(r, "drizzle");
    fx_tag(r, "ok", "main", 0);
    fx_rm(r, "drizzle/0000_a.sql");
    fx_gitlink(r, "drizzle/0000_a.sql");
    fx_commit(r, "submodule");
    fx_tag(r, "sub", "main", 0);
    fx_rm(r, "drizzle/0000_a.sql");
    fx_commit(r, "gone");

    rh_migset set;
    rh_err err;
    if (load_rev(r, "drizzle", "ok", NULL, &set, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(set.n, 2);
    assert_string_equal(set.items[0].name, "0000_a");
    assert_int_equal(set.items[0].stamp, 1700000000000LL);
    assert_string_equal(set.items[1].name, "0001_b");
    assert_string_equal(set.items[1].sql, "CREATE TABLE \"b\" (\"id\" integer);\n");
    assert_non_null(strstr(problem_with(&set, "0001_b.sql"), "is a symbolic link to '../shared/b.sql'"));
    assert_non_null(strstr(problem_with(&set, "0002_handwritten.sql at ok ("),
                           "is not in meta/_journal.json: drizzle-kit never applies it"));
    rh_migset_free(&set);

    assert_int_equal(load_rev(r, "drizzle", "sub", NULL, &set, &err), -1);
    assert_non_null(strstr(err.msg, "drizzle/meta/_journal.json at sub ("));
    assert_non_null(strstr(err.msg, "entry 0 names 0000_a.sql, which cannot be read: not a file"));
    assert_int_equal(load_rev(r, "drizzle", "main", NULL, &set, &err), -1);
    assert_non_null(strstr(err.msg, "entry 0 names 0000_a.sql, which cannot be read: no such file"));
    fx_free(r);
}

/* The tool's folder at main: -1 naming the object `hex` and git fsck. */
static void expect_tool_damage(fx_repo *r, const char *tool, const char *hex)
{
    rh_migset set;
    rh_err err;
    int rc = load_rev(r, tool, "main", NULL, &set, &err);
    if (rc != -1 || !strstr(err.msg, hex) || !strstr(err.msg, "git fsck"))
        fail_msg("%s %s: rc %d, %s", tool, hex, rc, rc < 0 ? err.msg : "(read)");
}

/* Damaged objects under dbmate's and drizzle's readers: a truncated folder tree, a changed byte in a file. */
static void damaged_objects_are_named_for_every_tool(void **state)
{
    (void)state;
    const char *tools[] = {"dbmate", "drizzle"};
    const char *trees[] = {"main:db/migrations", "main:drizzle"};
    const char *blobs[] = {"main:db/migrations/20240101000000_a.sql", "main:drizzle/0000_a.sql"};
    for (int t = 0; t < 2; t++) {
        fx_repo *r = fx_repo_new(0);
        fx_put(r, "db/migrations/20240101000000_a.sql", DBMATE_FILE);
        fx_put(r, "drizzle/meta/_journal.json", JOURNAL(ENTRY(0, 1700000000000, "0000_a")));
        fx_put(r, "drizzle/0000_a.sql", "CREATE TABLE \"a\" (\"id\" integer);\n");
        fx_commit(r, "init");
        char tree_id[GIT_OID_HEXSZ + 1], blob_id[GIT_OID_HEXSZ + 1];
        char *tree = loose_file(r, trees[t], tree_id);
        char *blob = loose_file(r, blobs[t], blob_id);
        char *data = NULL;
        size_t len = 0;
        rh_err err;
        assert_int_equal(rh_fs_read(tree, &data, &len, &err), 0);
        write_loose(tree, data, len - 6);
        expect_tool_damage(r, tools[t], tree_id);
        write_loose(tree, data, len);
        free(data);
        assert_int_equal(rh_fs_read(blob, &data, &len, &err), 0);
        data[len / 2] ^= 0x10;
        write_loose(blob, data, len);
        expect_tool_damage(r, tools[t], blob_id);
        free(data);
        free(tree);
        free(blob);
        fx_free(r);
    }
}

/*
 * The benchmark behind `rehearse bench git` runs and reports: it reads all 250 migrations and gives a
 * median no smaller than its minimum. How fast is for the benchmark to say, not for a pass/fail test
 * (a loaded machine once failed a 500 ms bound here).
 */
static void bench_fixture_reads_250_migrations(void **state)
{
    (void)state;
    char repo[4096];
    snprintf(repo, sizeof repo, "%s/bench.git", fx_tmpdir());
    rh_err err;
    if (rh_git_bench_fixture(repo, 250, &err) < 0)
        fail_msg("%s", err.msg);
    double median = -1, min = -1;
    size_t n = 0;
    if (rh_git_bench_read(repo, "bench", "prisma/migrations", 3, &median, &min, &n, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(n, 250);
    assert_true(min >= 0 && min <= median);
}

/* libgit2 is set up once per process, not once per repository opened: each set-up parses the system's
   whole CA bundle (about 5 ms of CPU; rehearse never speaks https). After a repository is closed
   libgit2 is still up, so a new user only counts (git_libgit2_init answers the count of users: 1 would
   be a whole new set-up). */
static void libgit2_is_set_up_once_per_process(void **state)
{
    (void)state;
    fx_repo *r = fx_repo_new(0);
    fx_migration(r, "20240101000000_init", "CREATE TABLE a (id int);\n");
    fx_commit(r, "init");
    rh_git_close(open_ok(r->path));
    fx_free(r); /* the fixture's own use of libgit2 ends too */
    int users = git_libgit2_init();
    git_libgit2_shutdown();
    assert_true(users >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_from_a_subfolder_and_bare),
        cmocka_unit_test(not_a_repository_is_a_clear_error),
        cmocka_unit_test(revisions_of_every_kind),
        cmocka_unit_test(empty_repository_has_no_revisions),
        cmocka_unit_test(folder_at_a_revision_follows_prismas_rules),
        cmocka_unit_test(folder_missing_or_a_file),
        cmocka_unit_test(a_base_without_the_folder_is_empty_by_a_structured_answer),
        cmocka_unit_test(reading_never_touches_worktree_index_or_head),
        cmocka_unit_test(relative_paths),
        cmocka_unit_test(prisma_version_from_package_json_and_lock_files),
        cmocka_unit_test(prisma_version_in_a_monorepo),
        cmocka_unit_test(prisma_version_of_a_workspace_package_comes_from_the_workspace_lock),
        cmocka_unit_test(prisma_version_of_a_package_outside_the_workspace_comes_from_its_own_lock),
        cmocka_unit_test(default_migrations_folder),
        cmocka_unit_test(damaged_objects_are_named),
        cmocka_unit_test(dbmate_folder_at_a_revision),
        cmocka_unit_test(drizzle_folder_at_a_revision),
        cmocka_unit_test(damaged_objects_are_named_for_every_tool),
        cmocka_unit_test(bench_fixture_reads_250_migrations),
        cmocka_unit_test(libgit2_is_set_up_once_per_process),
    };
    return cmocka_run_group_tests_name("git", tests, NULL, NULL);
}
