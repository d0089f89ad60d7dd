/*
 * test_state_cache.c — deployed states in the cache (cluster/state.c, engine/cached.c, check/state.c):
 * a cached state continued by the engine is indistinguishable from a fresh deploy on every bundled
 * fixture; any change of input is a miss; a writer killed mid-write leaves nothing usable; two
 * checks filling the same state at once both work; a warm check reports what a cold one does.
 * Every test uses its own REHEARSE_CACHE_DIR (set before anything starts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "check/check.h"
#include "check/check_int.h" /* rh_check_cache_find: the key check uses */
#include "check/clean.h"
#include "cluster/cluster.h"
#include "cluster/internal.h"
#include "engine/cached.h"
#include "engine/clean.h"
#include "engine/engine.h"
#include "source/loader.h"
#include "testlib.h"
#include "tools/prisma/prisma.h"
#include "tools/tool.h"
#include "util/fs.h"

static char cache_dir[4096];
static char fixtures[4096];

static const char *states_dir(void)
{
    static char d[4200];
    snprintf(d, sizeof d, "%s/states", cache_dir);
    return d;
}

/* Folders in the states folder whose name starts with prefix ("" : entries, ".tmp-": writers). */
static int count_entries(const char *prefix)
{
    DIR *d = opendir(states_dir());
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, ".lock"))
            continue;
        if (*prefix ? strncmp(e->d_name, prefix, strlen(prefix)) == 0 : e->d_name[0] != '.')
            n++;
    }
    closedir(d);
    return n;
}

static const char *fixture_repo(const char *name)
{
    static char p[4200];
    snprintf(p, sizeof p, "%s/%s", fixtures, name);
    return p;
}

static void load_set(const char *repo, const char *rev, rh_loaded *l)
{
    rh_load_spec spec = {.repo = repo, .rev = rev};
    rh_err err;
    if (rh_source_load(&spec, l, &err) < 0)
        fail_msg("loading %s at %s: %s", repo, rev, err.msg);
}

/* The first k migrations of set (shares its items: not to be freed). */
static rh_migset prefix_of(const rh_migset *set, size_t k)
{
    rh_migset p = *set;
    p.n = k;
    return p;
}

typedef struct deployed {
    rh_engine_result res;
    char *catalog;
    rh_ledger ledger;
    int session_clean;
} deployed;

/* Deploy set with the tool (NULL: Prisma), the first `resumed` already applied by a cached state, on the
   cluster's postgres database; then its catalog (the tool's ledger left out) and ledger. */
static void deploy_on(rh_cluster *c, const rh_tool *tool, const rh_migset *set, const rh_profile *profile,
                      size_t resumed, deployed *out)
{
    rh_err err;
    PGconn *conn = rh_cluster_connect(c, NULL, &err);
    if (!conn)
        fail_msg("%s", err.msg);
    rh_engine_result_init(&out->res);
    rh_engine_opts eo = {.profile = profile, .resumed = resumed};
    if ((tool ? rh_tool_run(tool, "deploy", conn, set, NULL, &eo, &out->res, &err)
              : rh_prisma_deploy(conn, set, &eo, &out->res, &err)) < 0)
        fail_msg("deploy: %s", err.msg);
    out->session_clean = rh_engine_session_clean(conn);
    rh_catalog_opts co = {.ledger_tool = tool};
    rh_catalog *cat = NULL;
    if (rh_catalog_snapshot(conn, &co, &cat, &err) < 0)
        fail_msg("snapshot: %s", err.msg);
    rh_buf b;
    rh_buf_init(&b);
    rh_catalog_text(cat, &b);
    out->catalog = rh_buf_steal(&b);
    rh_buf_free(&b);
    rh_catalog_free(cat);
    memset(&out->ledger, 0, sizeof out->ledger);
    if ((tool ? tool->ledger_read(conn, &out->ledger, &err) : rh_prisma_ledger_load(conn, &out->ledger, &err)) < 0)
        fail_msg("ledger: %s", err.msg);
    PQfinish(conn);
}

static void deployed_free(deployed *d)
{
    rh_engine_result_free(&d->res);
    free(d->catalog);
    rh_ledger_free(&d->ledger);
}

static rh_cluster *start(const char *state)
{
    rh_cluster_opts o = {.state = state};
    rh_cluster *c = NULL;
    rh_err err;
    if (rh_cluster_start(&c, &o, &err) < 0)
        fail_msg("cluster start: %s", err.msg);
    return c;
}

/* The ledger as Prisma would read it, minus what differs between two runs (ids, times). */
static void assert_same_ledger(const rh_ledger *a, const rh_ledger *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_string_equal(a->rows[i].migration_name, b->rows[i].migration_name);
        assert_string_equal(a->rows[i].checksum, b->rows[i].checksum);
        assert_int_equal(a->rows[i].finished, b->rows[i].finished);
        assert_int_equal(a->rows[i].rolled_back, b->rows[i].rolled_back);
        assert_int_equal(a->rows[i].applied_steps_count, b->rows[i].applied_steps_count);
        assert_true((a->rows[i].logs == NULL) == (b->rows[i].logs == NULL));
        if (a->rows[i].logs)
            assert_string_equal(a->rows[i].logs, b->rows[i].logs);
    }
}

/* ---- a writer killed between its data and its marker: nothing usable, and pruning cleans up ---- */

static void stop_here(void)
{
    raise(SIGSTOP);
}

#define KILLED_KEY "1111111111111111111111111111111111111111111111111111111111111111"

static void test_killed_writer_leaves_no_entry(void **state)
{
    (void)state;
    /* the child starts its own cluster (and watchdog): this test runs before the parent has one */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        rh_state_before_marker_hook = stop_here;
        rh_cluster *c = NULL;
        rh_cluster_opts o = {0};
        rh_err err;
        if (rh_cluster_start(&c, &o, &err) < 0)
            _exit(3);
        rh_state_save(c, &o, KILLED_KEY, "killed\n", &err);
        _exit(4); /* not reached: killed while stopped */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
    if (!WIFSTOPPED(status))
        fail_msg("the writer did not reach its marker (status %d)", status);
    assert_int_equal(count_entries(".tmp-"), 1); /* its data is there, under a temporary name */
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    rh_cluster_opts o = {0};
    char *entry = NULL;
    rh_err err;
    assert_int_equal(rh_state_lookup(&o, KILLED_KEY, &entry, &err), 0);
    assert_null(entry);
    assert_int_equal(count_entries(""), 0);
    size_t removed = 0;
    assert_int_equal(rh_state_prune(&o, rh_state_max_bytes(), &removed, NULL, &err), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(count_entries(".tmp-"), 0);
}

/* ---- the size limit: least recently used first, to the nanosecond; a hit is a use; every publish prunes ---- */

#define STATE_MARKER_NAME "REHEARSE_STATE" /* cluster/state.c's marker, written last */
#define KEY_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEY_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char *entry_path(const char *name)
{
    return rh_xasprintf("%s/%s", states_dir(), name);
}

/* An entry as pruning sees one: a folder holding 1 MiB and the marker. */
static void fake_entry(const char *name)
{
    char *dir = entry_path(name);
    char *data = rh_xasprintf("%s/data", dir), *marker = rh_xasprintf("%s/" STATE_MARKER_NAME, dir);
    char *mib = malloc(1 << 20);
    memset(mib, 'x', 1 << 20);
    mib[(1 << 20) - 1] = '\0';
    rh_test_write_file(data, mib);
    rh_test_write_file(marker, "fake\n");
    free(mib);
    free(data);
    free(marker);
    free(dir);
}

/* The entry's last use (its marker's time), set to sec.nsec. */
static void set_used(const char *entry, time_t sec, long nsec)
{
    char *marker = rh_xasprintf("%s/" STATE_MARKER_NAME, entry);
    struct timespec t[2] = {{.tv_sec = sec, .tv_nsec = nsec}, {.tv_sec = sec, .tv_nsec = nsec}};
    assert_int_equal(utimensat(AT_FDCWD, marker, t, 0), 0);
    free(marker);
}

static int entry_exists(const char *name)
{
    char *p = entry_path(name);
    struct stat st;
    int yes = stat(p, &st) == 0;
    free(p);
    return yes;
}

static unsigned long long entry_bytes(const char *name)
{
    char *p = entry_path(name);
    unsigned long long b = rh_fs_tree_bytes(p);
    free(p);
    return b;
}

/* Three entries used within one second: the one used first goes first, whatever the names' order. */
static void test_prune_evicts_least_recently_used_within_a_second(void **state)
{
    (void)state;
    rh_cluster_opts o = {0};
    rh_err err;
    assert_int_equal(rh_state_prune(&o, 0, NULL, NULL, &err), 0); /* 0: every entry goes */
    fake_entry("lru-a");
    fake_entry("lru-b");
    fake_entry("lru-c");
    time_t now = time(NULL) - 10;
    char *a = entry_path("lru-a"), *b = entry_path("lru-b"), *c = entry_path("lru-c");
    set_used(b, now, 100); /* used in the order b, a, c: names and use disagree */
    set_used(a, now, 200);
    set_used(c, now, 300);
    size_t removed = 0;
    assert_int_equal(rh_state_prune(&o, entry_bytes("lru-a") + entry_bytes("lru-c"), &removed, NULL, &err), 0);
    assert_int_equal(removed, 1);
    assert_false(entry_exists("lru-b"));
    assert_true(entry_exists("lru-a") && entry_exists("lru-c"));
    assert_int_equal(rh_state_prune(&o, entry_bytes("lru-c"), &removed, NULL, &err), 0);
    assert_false(entry_exists("lru-a"));
    assert_true(entry_exists("lru-c"));
    assert_int_equal(rh_state_prune(&o, 0, NULL, NULL, &err), 0);
    free(a);
    free(b);
    free(c);
}

/* A lookup hit makes an entry the most recently used; a publish prunes to REHEARSE_CACHE_MAX_MB. */
static void test_hit_is_a_use_and_publish_keeps_the_limit(void **state)
{
    (void)state;
    rh_cluster_opts o = {0};
    rh_err err;
    assert_int_equal(rh_state_prune(&o, 0, NULL, NULL, &err), 0);
    rh_cluster *c = start(NULL);
    assert_int_equal(rh_state_save(c, &o, KEY_A, "a\n", &err), 0);
    assert_int_equal(rh_cluster_stop(c, &err), 0);
    char *real = NULL;
    assert_int_equal(rh_state_lookup(&o, KEY_A, &real, &err), 1);
    fake_entry("lru-fake");
    char *fake = entry_path("lru-fake");
    time_t now = time(NULL);
    set_used(real, now - 200, 0); /* the real entry is the older one ... */
    set_used(fake, now - 100, 0);
    char *again = NULL;
    assert_int_equal(rh_state_lookup(&o, KEY_A, &again, &err), 1); /* ... until this hit */
    free(again);
    const char *real_name = strrchr(real, '/') + 1;
    unsigned long long real_bytes = entry_bytes(real_name);
    size_t removed = 0;
    assert_int_equal(rh_state_prune(&o, real_bytes + entry_bytes("lru-fake") - 1, &removed, NULL, &err), 0);
    assert_int_equal(removed, 1);
    assert_false(entry_exists("lru-fake"));
    assert_true(entry_exists(real_name));

    /* the limit holds one such state: publishing another evicts the older one */
    char mb[32];
    snprintf(mb, sizeof mb, "%llu", (real_bytes + real_bytes / 2) >> 20);
    setenv("REHEARSE_CACHE_MAX_MB", mb, 1);
    set_used(real, now - 50, 0);
    c = start(NULL);
    assert_int_equal(rh_state_save(c, &o, KEY_B, "b\n", &err), 0);
    unsetenv("REHEARSE_CACHE_MAX_MB");
    assert_int_equal(rh_cluster_stop(c, &err), 0);
    char *b = NULL;
    assert_int_equal(rh_state_lookup(&o, KEY_B, &b, &err), 1);
    assert_false(entry_exists(real_name));
    assert_int_equal(count_entries(""), 1);
    free(b);
    free(fake);
    free(real);
    assert_int_equal(rh_state_prune(&o, 0, NULL, NULL, &err), 0);
}

/* A prune that deletes the entry right after a cluster copied it: the cluster still starts (the
   bootstrap password is read with the data, under the states' lock). Before, it read the entry's
   secret after the lock and failed: "cannot open .../secret". */
static void prune_everything(const char *entry)
{
    (void)entry;
    rh_cluster_opts o = {0};
    rh_err err;
    assert_int_equal(rh_state_prune(&o, 0, NULL, NULL, &err), 0);
}

static void test_state_pruned_right_after_the_copy_still_starts(void **state)
{
    (void)state;
    rh_cluster_opts o = {0};
    rh_err err;
    assert_int_equal(rh_state_prune(&o, 0, NULL, NULL, &err), 0);
    rh_cluster *c = start(NULL);
    assert_int_equal(rh_state_save(c, &o, KEY_A, "a\n", &err), 0);
    assert_int_equal(rh_cluster_stop(c, &err), 0);
    char *entry = NULL;
    assert_int_equal(rh_state_lookup(&o, KEY_A, &entry, &err), 1);
    rh_cluster_after_copy_hook = prune_everything;
    rh_cluster_opts so = {.state = entry};
    rh_cluster *from = NULL;
    int rc = rh_cluster_start(&from, &so, &err);
    rh_cluster_after_copy_hook = NULL;
    if (rc < 0)
        fail_msg("a cluster whose state was pruned after its copy did not start: %s", err.msg);
    assert_int_equal(count_entries(""), 0); /* the prune did delete it */
    PGconn *conn = rh_cluster_connect(from, NULL, &err);
    assert_non_null(conn);
    PQfinish(conn);
    assert_int_equal(rh_cluster_stop(from, &err), 0);
    free(entry);
}

/* ---- every bundled fixture: cached prefix + the rest == one fresh deploy ---- */

/*
 * The catalog text of set's clean deploy through check/clean.h (the path of `snapshot --rev`, `diff
 * rev:` and a scenario's `clean REV`). no_server: the answer must come from the state cache alone
 * (the run folder is made unusable meanwhile, so that starting a cluster fails).
 */
static char *clean_catalog_text(const rh_tool *tool, const rh_migset *set, const rh_profile *profile,
                                const rh_cluster_opts *o, const char *no_server)
{
    char *run = getenv("REHEARSE_RUN_DIR") ? strdup(getenv("REHEARSE_RUN_DIR")) : NULL;
    if (no_server)
        setenv("REHEARSE_RUN_DIR", "/dev/null/no-server", 1);
    rh_clean_source src = {.cluster = o};
    rh_engine_opts eo = {.profile = profile};
    rh_engine_result res;
    rh_engine_result_init(&res);
    rh_catalog *cat = NULL;
    char *globals = NULL;
    rh_err err;
    int rc = rh_clean_deploy_catalog(tool, &src, set, &eo, NULL, &cat, &globals, &res, &err);
    if (run)
        setenv("REHEARSE_RUN_DIR", run, 1);
    else
        unsetenv("REHEARSE_RUN_DIR");
    free(run);
    if (rc != 0)
        fail_msg("clean deploy%s: rc %d: %s", no_server ? " (from the cache, no server)" : "", rc, err.msg);
    assert_non_null(globals);
    assert_non_null(strstr(globals, "role migrator")); /* what the deploy found: the cluster's roles */
    rh_buf b;
    rh_buf_init(&b);
    rh_catalog_text(cat, &b);
    rh_catalog_free(cat);
    rh_engine_result_free(&res);
    free(globals);
    return rh_buf_steal(&b);
}

/* What a scenario's `clean REV` does without the cache: deploy into a new database (from template0). */
static char *catalog_in_new_database(const rh_tool *tool, const rh_migset *set, const rh_profile *profile)
{
    rh_cluster *c = start(NULL);
    rh_err err;
    if (rh_cluster_create_db(c, "clean_1", &err) < 0)
        fail_msg("%s", err.msg);
    PGconn *conn = rh_cluster_connect(c, "clean_1", &err);
    if (!conn)
        fail_msg("%s", err.msg);
    rh_engine_opts eo = {.profile = profile, .advisory_lock = -1};
    rh_engine_result res;
    rh_engine_result_init(&res);
    rh_catalog *cat = NULL;
    if (rh_engine_clean_snapshot_with(tool, conn, set, &eo, NULL, &cat, &res, &err) != 0)
        fail_msg("clean deploy into clean_1: %s", err.msg);
    PQfinish(conn);
    assert_int_equal(rh_cluster_stop(c, &err), 0);
    rh_buf b;
    rh_buf_init(&b);
    rh_catalog_text(cat, &b);
    rh_catalog_free(cat);
    rh_engine_result_free(&res);
    return rh_buf_steal(&b);
}

/* The kept catalog is a miss when damaged, missing, printed by other catalog code or with other options. */
static void kept_catalog_misses(const rh_migset *set, const rh_profile *profile, const rh_cluster_opts *o,
                                const char *fresh)
{
    char (*keys)[65] = calloc(set->n + 1, sizeof *keys);
    rh_state_inputs in = {.profile = profile, .layout = RH_STATE_LAYOUT_FRESH};
    rh_state_keys(&in, set, keys);
    char *entry = NULL;
    rh_err err;
    assert_int_equal(rh_state_lookup(o, keys[set->n], &entry, &err), 1);
    rh_catalog_opts dflt = {0}, owners = {.include_owners = 1};
    char *text = NULL, *globals = NULL;
    assert_int_equal(rh_state_catalog_get(entry, &dflt, &text, &globals), 1);
    assert_string_equal(text, fresh);
    free(text);
    free(globals);
    assert_int_equal(rh_state_catalog_get(entry, &owners, &text, &globals), 0); /* other options */
    assert_null(text);

    char path[4300], *bytes = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/x-" RH_STATE_CATALOG_FILE, entry);
    assert_int_equal(rh_fs_read(path, &bytes, &len, &err), 0);
    /* one byte of the text changed (an object's name): the checksum fails, a miss, never that text */
    char *obj = strstr(bytes, "\ntable ");
    assert_non_null(obj);
    obj[8] ^= 1;
    assert_int_equal(rh_fs_write(path, bytes, len, 0644, &err), 0);
    assert_int_equal(rh_state_catalog_get(entry, &dflt, &text, &globals), 0);
    /* the deploy from the state gives the right text and keeps it again */
    char *again = clean_catalog_text(NULL, set, profile, o, NULL);
    assert_string_equal(again, fresh);
    free(again);
    assert_int_equal(rh_state_catalog_get(entry, &dflt, &text, &globals), 1);
    free(text);
    free(globals);
    free(bytes);

    /* whole and checksummed, but printed by other catalog code: a miss */
    assert_int_equal(rh_state_get_file(entry, RH_STATE_CATALOG_FILE, &bytes), 1);
    char *code = strstr(bytes, "catalog-code ");
    assert_non_null(code);
    code[13] = code[13] == '0' ? '1' : '0';
    rh_state_file other = {RH_STATE_CATALOG_FILE, bytes};
    assert_int_equal(rh_state_put_file(o, entry, &other, &err), 0);
    assert_int_equal(rh_state_catalog_get(entry, &dflt, &text, &globals), 0);
    free(bytes);

    /* missing: a miss, and the next clean deploy keeps it again */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rh_state_catalog_get(entry, &dflt, &text, &globals), 0);
    again = clean_catalog_text(NULL, set, profile, o, NULL);
    assert_string_equal(again, fresh);
    free(again);
    assert_int_equal(rh_state_catalog_get(entry, &dflt, &text, &globals), 1);
    free(text);
    free(globals);
    free(entry);
    free(keys);
}

/* What a tool prints, the durations of dbmate's "Applied: NAME in D" lines left out (a run's own). */
static char *without_durations(const rh_buf *b)
{
    rh_buf o;
    rh_buf_init(&o);
    const char *p = b->data ? b->data : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        const char *in = strncmp(p, "Applied: ", 9) == 0 ? strstr(p, " in ") : NULL;
        if (in && in < p + len)
            rh_buf_printf(&o, "%.*s in D\n", (int)(in - p), p);
        else
            rh_buf_append(&o, p, len);
        p += len;
    }
    char *s = rh_buf_steal(&o);
    rh_buf_free(&o);
    return s ? s : strdup("");
}

/* The bundled fixtures: Prisma's four, dbmate's shopdb and drizzle-kit's teamapp (scripts/make-fixtures.sh). */
typedef struct fixture {
    const char *name;
    const char *tool; /* NULL: Prisma, read by the loader with its version profile */
} fixture;

static void test_fixtures_cached_equals_fresh(void **state)
{
    (void)state;
    static const fixture fx[] = {{"breederhq", NULL}, {"usasset", NULL}, {"recipe", NULL},
                                 {"vina", NULL},      {"shopdb", "dbmate"}, {"teamapp", "drizzle"}};
    for (size_t f = 0; f < sizeof fx / sizeof *fx; f++) {
        const rh_tool *tool = fx[f].tool ? rh_tool_find(fx[f].tool) : NULL;
        rh_loaded l;
        rh_err err;
        rh_load_spec spec = {.tool = tool, .repo = fixture_repo(fx[f].name), .rev = "HEAD"};
        if (rh_source_load(&spec, &l, &err) < 0)
            fail_msg("%s: %s", fx[f].name, err.msg);
        const rh_profile *profile = tool ? NULL : &l.choice.profile;
        /* the state the tool's deploy can continue: any prefix (a transaction per file), or only the whole
           run (drizzle-kit's one transaction: test_drizzle_prefix_is_no_part_of_a_run) */
        size_t min = rh_state_resume_min(tool, l.set.n);
        size_t k = min == 1 ? l.set.n / 2 : l.set.n;
        assert_true(k > 0 && min > 0);

        rh_cluster *fresh = start(NULL);
        deployed a;
        deploy_on(fresh, tool, &l.set, profile, 0, &a);
        assert_int_equal(a.res.exit_code, 0);
        assert_int_equal(rh_cluster_stop(fresh, &err), 0);

        /* the prefix, deployed and published as a state */
        rh_cluster *maker = start(NULL);
        rh_migset pre = prefix_of(&l.set, k);
        deployed p;
        deploy_on(maker, tool, &pre, profile, 0, &p);
        assert_int_equal(p.res.exit_code, 0);
        assert_true(p.session_clean);
        deployed_free(&p);
        char (*keys)[65] = calloc(l.set.n + 1, sizeof *keys);
        rh_state_inputs in = {.tool = tool ? tool->name : NULL, .profile = profile, .layout = "test: postgres"};
        rh_state_keys(&in, &l.set, keys);
        rh_cluster_opts o = {0};
        if (rh_state_save(maker, &o, keys[k], "test\n", &err) < 0)
            fail_msg("save: %s", err.msg);
        assert_int_equal(rh_cluster_stop(maker, &err), 0);

        char *entry = NULL;
        assert_int_equal(rh_state_longest_from(&o, keys, min, l.set.n, &entry), k);
        rh_cluster *warm = start(entry);
        deployed b;
        deploy_on(warm, tool, &l.set, profile, k, &b);
        assert_int_equal(rh_cluster_stop(warm, &err), 0);

        /* what the tool prints (dbmate's durations aside), the schema, the ledger: the same */
        assert_int_equal(a.res.exit_code, b.res.exit_code);
        assert_string_equal(a.res.code, b.res.code);
        char *out_a = without_durations(&a.res.out), *out_b = without_durations(&b.res.out);
        assert_string_equal(out_a, out_b);
        free(out_a);
        free(out_b);
        assert_string_equal(a.res.errout.data ? a.res.errout.data : "", b.res.errout.data ? b.res.errout.data : "");
        assert_int_equal(a.res.n_applied, b.res.n_applied);
        assert_int_equal(a.res.n_pending, b.res.n_pending);
        assert_int_equal(a.res.n_findings, b.res.n_findings);
        for (size_t i = 0; i < a.res.n_applied; i++)
            assert_string_equal(a.res.applied[i], b.res.applied[i]);
        assert_string_equal(a.catalog, b.catalog);
        assert_same_ledger(&a.ledger, &b.ledger);

        /* the catalog kept with the whole set's state: a fresh snapshot's text, and that of a clean
           deploy into a new database of another cluster (a scenario's `clean REV`) */
        char *cold_text = clean_catalog_text(tool, &l.set, profile, &o, NULL);
        assert_string_equal(cold_text, a.catalog);
        char *warm_text = clean_catalog_text(tool, &l.set, profile, &o, "no server may start");
        assert_string_equal(warm_text, a.catalog);
        char *in_db = catalog_in_new_database(tool, &l.set, profile);
        assert_string_equal(in_db, a.catalog);
        free(cold_text);
        free(warm_text);
        free(in_db);
        if (f == 0)
            kept_catalog_misses(&l.set, profile, &o, a.catalog);

        deployed_free(&a);
        deployed_free(&b);
        free(entry);
        free(keys);
        rh_loaded_free(&l);
    }
}

/* ---- the key: every input changes it ---- */

static void test_every_input_changes_the_key(void **state)
{
    (void)state;
    rh_loaded l;
    load_set(fixture_repo("vina"), "HEAD", &l);
    size_t n = l.set.n;
    assert_true(n >= 3);
    char(*base)[65] = calloc(n + 1, sizeof *base), (*other)[65] = calloc(n + 1, sizeof *other);
    rh_state_inputs in = {.profile = &l.choice.profile, .layout = "L"};
    rh_state_keys(&in, &l.set, base);
    rh_state_keys(&in, &l.set, other);
    for (size_t k = 0; k <= n; k++)
        assert_string_equal(base[k], other[k]); /* deterministic */

    /* one byte of the second migration: prefixes from it on differ, the one before does not */
    rh_migration *m = &l.set.items[1];
    m->sql[0] ^= 1;
    rh_state_keys(&in, &l.set, other);
    m->sql[0] ^= 1;
    assert_string_equal(base[1], other[1]);
    for (size_t k = 2; k <= n; k++)
        assert_string_not_equal(base[k], other[k]);
    assert_int_equal(rh_state_common_prefix(base, n, other, n), 1);

    /* the order: the second and third migrations swapped, bytes unchanged: a miss from the second on */
    rh_migration tmp = l.set.items[1];
    l.set.items[1] = l.set.items[2];
    l.set.items[2] = tmp;
    rh_state_keys(&in, &l.set, other);
    l.set.items[2] = l.set.items[1];
    l.set.items[1] = tmp;
    assert_string_equal(base[1], other[1]);
    for (size_t k = 2; k <= n; k++)
        assert_string_not_equal(base[k], other[k]);

    /* the tool is named by the tool interface: NULL is the default tool, under its registered name */
    rh_state_inputs named = in;
    named.tool = RH_TOOL_DEFAULT->name;
    rh_state_keys(&named, &l.set, other);
    for (size_t k = 0; k <= n; k++)
        assert_string_equal(base[k], other[k]);

    /* another Prisma profile, layout, role, server setting, tool, no profile: every key differs */
    rh_profile p7 = l.choice.profile;
    snprintf(p7.version, sizeof p7.version, "7.10.1");
    p7.major = 7;
    rh_state_inputs variants[6] = {in, in, in, in, in, in};
    variants[0].profile = &p7;
    variants[1].layout = "M";
    variants[2].superuser = 1;
    const char *const settings[] = {"work_mem=64MB", NULL};
    variants[3].settings = settings;
    variants[4].tool = "dbmate";
    variants[5].profile = NULL;
    for (int v = 0; v < 6; v++) {
        rh_state_keys(&variants[v], &l.set, other);
        for (size_t k = 1; k <= n; k++)
            assert_string_not_equal(base[k], other[k]);
    }

    /* the server: another minor (or major) is another entry name */
    rh_pgbin a = {0}, b = {0};
    snprintf(a.version, sizeof a.version, "15.18");
    snprintf(b.version, sizeof b.version, "15.17");
    char *ka = rh_template_key(&a, NULL), *kb = rh_template_key(&b, NULL);
    assert_string_not_equal(ka, kb);
    rh_cluster_opts latin = {.encoding = "LATIN1"};
    char *kl = rh_template_key(&a, &latin);
    assert_string_not_equal(ka, kl);
    rh_cluster_opts en = {.locale = "en_US.UTF-8"}; /* the locale too */
    char *ke = rh_template_key(&a, &en);
    assert_string_not_equal(ka, ke);
    free(ke);
    free(ka);
    free(kb);
    free(kl);
    free(base);
    free(other);
    rh_loaded_free(&l);
}

/* A state saved for one set is found for it, and missed after a one-byte edit or on another major. */
static void test_lookup_misses_on_other_inputs(void **state)
{
    (void)state;
    rh_loaded l;
    load_set(fixture_repo("usasset"), "HEAD", &l);
    size_t n = l.set.n;
    char(*keys)[65] = calloc(n + 1, sizeof *keys), (*edited)[65] = calloc(n + 1, sizeof *edited);
    rh_state_inputs in = {.profile = &l.choice.profile, .layout = "test: lookup"};
    rh_state_keys(&in, &l.set, keys);
    rh_cluster *c = start(NULL);
    rh_migset pre = prefix_of(&l.set, 2);
    deployed d;
    deploy_on(c, NULL, &pre, &l.choice.profile, 0, &d);
    deployed_free(&d);
    rh_cluster_opts o = {0};
    rh_err err;
    assert_int_equal(rh_state_save(c, &o, keys[2], "two\n", &err), 0);
    assert_int_equal(rh_cluster_stop(c, &err), 0);

    char *entry = NULL;
    assert_int_equal(rh_state_longest(&o, keys, n, &entry), 2);
    free(entry);
    l.set.items[0].sql[l.set.items[0].sql_len - 1] ^= 1; /* the last byte of the first migration */
    rh_state_keys(&in, &l.set, edited);
    assert_int_equal(rh_state_longest(&o, edited, n, &entry), 0);
    assert_null(entry);
    setenv("REHEARSE_NO_CACHE", "1", 1);
    assert_int_equal(rh_state_longest(&o, keys, n, &entry), 0);
    unsetenv("REHEARSE_NO_CACHE");
    rh_cluster_opts pg16 = {.pg_version = "16"};
    rh_pgbin bin16;
    if (rh_pgbin_find_version(&bin16, NULL, "16", &err) == 0) {
        assert_int_equal(rh_state_lookup(&pg16, keys[2], &entry, &err), 0);
        assert_null(entry);
    }
    free(keys);
    free(edited);
    rh_loaded_free(&l);
}

/* ---- `rehearse check`: two at once fill the same state; a warm one reports what a cold one does ---- */

static void drop_volatile(json_object *o)
{
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_del(o, "ms");
        json_object_object_del(o, "cache");
        json_object_object_foreach(o, key, val)
        {
            (void)key;
            drop_volatile(val);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            drop_volatile(json_object_array_get_idx(o, i));
    }
}

static pid_t spawn_check(const char *out_path, int no_cache)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *f = freopen(out_path, "w", stdout);
        (void)f;
        char *argv[] = {REHEARSE_BIN, "check", "--repo", (char *)fixture_repo("recipe"), "--base", "indexes",
                        "--head", "cutover", "--format", "json", no_cache ? "--no-cache" : NULL, NULL};
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static json_object *read_json(const char *path, long long *cached, int *published)
{
    json_object *o = json_object_from_file(path);
    if (!o)
        fail_msg("no JSON in %s", path);
    json_object *cache = NULL, *v = NULL;
    assert_true(json_object_object_get_ex(o, "cache", &cache));
    assert_true(json_object_object_get_ex(cache, "base_migrations_cached", &v));
    *cached = json_object_get_int64(v);
    assert_true(json_object_object_get_ex(cache, "published", &v));
    *published = json_object_get_boolean(v);
    return o;
}

static void test_check_concurrent_fill_then_warm(void **state)
{
    (void)state;
    char p1[4200], p2[4200], p3[4200], p4[4200];
    snprintf(p1, sizeof p1, "%s/c1.json", rh_test_tmpdir());
    snprintf(p2, sizeof p2, "%s/c2.json", rh_test_tmpdir());
    snprintf(p3, sizeof p3, "%s/c3.json", rh_test_tmpdir());
    snprintf(p4, sizeof p4, "%s/c4.json", rh_test_tmpdir());
    int before = count_entries("");
    pid_t a = spawn_check(p1, 0), b = spawn_check(p2, 0);
    int sa, sb;
    assert_int_equal(waitpid(a, &sa, 0), a);
    assert_int_equal(waitpid(b, &sb, 0), b);
    assert_true(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
    assert_true(WIFEXITED(sb) && WEXITSTATUS(sb) == 0);
    assert_int_equal(count_entries(""), before + 1); /* both published one state; one entry stands */
    assert_int_equal(count_entries(".tmp-"), 0);

    pid_t c = spawn_check(p3, 0), d = spawn_check(p4, 1);
    int sc, sd;
    assert_int_equal(waitpid(c, &sc, 0), c);
    assert_int_equal(waitpid(d, &sd, 0), d);
    assert_true(WIFEXITED(sc) && WEXITSTATUS(sc) == 0);
    assert_true(WIFEXITED(sd) && WEXITSTATUS(sd) == 0);

    long long cached[4];
    int published[4];
    json_object *j[4] = {read_json(p1, &cached[0], &published[0]), read_json(p2, &cached[1], &published[1]),
                         read_json(p3, &cached[2], &published[2]), read_json(p4, &cached[3], &published[3])};
    json_object *nbase = NULL;
    assert_true(json_object_object_get_ex(j[2], "migrations_at_base", &nbase));
    assert_int_equal(cached[0], 0);
    assert_int_equal(cached[1], 0);
    assert_true(published[0] && published[1]);
    assert_int_equal(cached[2], json_object_get_int64(nbase)); /* warm: all of base from the cache */
    assert_false(published[2]);
    assert_int_equal(cached[3], 0); /* --no-cache */
    assert_false(published[3]);
    for (int i = 0; i < 4; i++)
        drop_volatile(j[i]);
    const char *cold = json_object_to_json_string_ext(j[0], JSON_C_TO_STRING_PRETTY);
    for (int i = 1; i < 4; i++)
        assert_string_equal(cold, json_object_to_json_string_ext(j[i], JSON_C_TO_STRING_PRETTY));
    for (int i = 0; i < 4; i++)
        json_object_put(j[i]);
}

/* A state check finds but cannot start (here: a wrong bootstrap password; the same path as an entry
   pruned by another process between lookup and copy) is a miss: the check runs cold and reports what a
   cold check reports. Before, the check failed: exit 2 "could not start ... cannot log in". */
static void test_check_falls_back_when_the_state_does_not_start(void **state)
{
    (void)state;
    char p5[4200], p6[4200];
    snprintf(p5, sizeof p5, "%s/c5.json", rh_test_tmpdir());
    snprintf(p6, sizeof p6, "%s/c6.json", rh_test_tmpdir());
    int st;
    pid_t a = spawn_check(p5, 0); /* warm or cold: base's state is in the cache after it */
    assert_int_equal(waitpid(a, &st, 0), a);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    rh_cluster_opts o = {0};
    rh_state_info *list = NULL;
    size_t n = 0;
    rh_err err;
    assert_int_equal(rh_state_list(&o, &list, &n, &err), 0);
    int damaged = 0;
    for (size_t i = 0; i < n; i++) {
        if (!list[i].meta || !strstr(list[i].meta, "check of base indexes"))
            continue;
        char *secret = rh_xasprintf("%s/%s/secret", states_dir(), list[i].name);
        rh_test_write_file(secret, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"); /* RH_PASSWORD_LEN, the wrong one */
        free(secret);
        damaged++;
    }
    rh_state_list_free(list, n);
    assert_int_equal(damaged, 1);
    pid_t b = spawn_check(p6, 0);
    assert_int_equal(waitpid(b, &st, 0), b);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    long long cached[2];
    int published[2];
    json_object *j5 = read_json(p5, &cached[0], &published[0]), *j6 = read_json(p6, &cached[1], &published[1]);
    assert_int_equal(cached[1], 0); /* a miss */
    drop_volatile(j5);
    drop_volatile(j6);
    assert_string_equal(json_object_to_json_string_ext(j5, JSON_C_TO_STRING_PRETTY),
                        json_object_to_json_string_ext(j6, JSON_C_TO_STRING_PRETTY));
    json_object_put(j5);
    json_object_put(j6);
}

/* ---- the pull request's migrations cannot leave anything in a state other pull requests start from ---- */

static void git_in(const char *dir, const char *a1, const char *a2, const char *a3)
{
    char *argv[] = {"git", "-C", (char *)dir, "-c", "user.name=t", "-c", "user.email=t@example.invalid",
                    (char *)a1, (char *)a2, (char *)a3, NULL};
    char *err = NULL;
    if (rh_test_run(argv, NULL, NULL, &err) != 0)
        fail_msg("git %s: %s", a1, err ? err : "");
    free(err);
}

static void test_head_changing_the_cluster_is_not_published(void **state)
{
    (void)state;
    char repo[4200], path[4400];
    snprintf(repo, sizeof repo, "%s/attack", rh_test_tmpdir());
    snprintf(path, sizeof path, "%s/prisma/migrations/20250101000000_base/migration.sql", repo);
    rh_test_write_file(path, "CREATE TABLE \"Base\" (id int PRIMARY KEY);\n");
    snprintf(path, sizeof path, "%s/prisma/migrations/migration_lock.toml", repo);
    rh_test_write_file(path, "provider = \"postgresql\"\n");
    char *init[] = {"git", "init", "-q", "-b", "main", repo, NULL};
    assert_int_equal(rh_test_run(init, NULL, NULL, NULL), 0);
    git_in(repo, "add", "-A", ".");
    git_in(repo, "commit", "-qm", "base");
    /* head: settings for every later session of its role and of the database the restore logs into */
    snprintf(path, sizeof path, "%s/prisma/migrations/20250102000000_head/migration.sql", repo);
    rh_test_write_file(path, "ALTER ROLE CURRENT_USER SET work_mem = '1MB';\n"
                             "ALTER DATABASE postgres SET search_path = attacker;\n");
    int before = count_entries("");
    char *out = NULL, *errout = NULL;
    char *argv[] = {REHEARSE_BIN, "check", "--repo", repo, "--base", "HEAD", "--format", "json", NULL};
    rh_test_run(argv, NULL, &out, &errout);
    json_object *j = json_tokener_parse(out ? out : "");
    if (!j)
        fail_msg("no JSON: %s\n%s", out ? out : "", errout ? errout : "");
    json_object *cache = NULL, *v = NULL;
    assert_true(json_object_object_get_ex(j, "cache", &cache));
    assert_true(json_object_object_get_ex(cache, "published", &v));
    assert_false(json_object_get_boolean(v));
    assert_non_null(strstr(errout, "changed the cluster outside its databases"));
    assert_int_equal(count_entries(""), before);
    json_object_put(j);
    free(out);
    free(errout);

    /* the spares a state is made of are the superuser's: the migration role cannot replace them */
    rh_cluster *c = start(NULL);
    rh_err err;
    assert_int_equal(rh_cluster_create_db(c, "work", &err), 0);
    assert_int_equal(rh_cluster_copy_db_private(c, "work", "spare", &err), 0);
    PGconn *conn = rh_cluster_connect(c, "work", &err);
    assert_non_null(conn);
    PGresult *r = PQexec(conn, "ALTER DATABASE spare RENAME TO gone");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501");
    PQclear(r);
    r = PQexec(conn, "ALTER DATABASE spare SET search_path = attacker");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    PQclear(r);
    PQfinish(conn);
    assert_int_equal(rh_cluster_stop(c, &err), 0);
}

/* A check of repo --base HEAD (head: the files on disk), its JSON parsed; seed: --seed FILE or NULL. */
static json_object *check_json(const char *repo, const char *seed, int *exit_code)
{
    char *out = NULL, *errout = NULL;
    char *argv[] = {REHEARSE_BIN, "check", "--repo", (char *)repo, "--base", "HEAD", "--format", "json",
                    seed && strcmp(seed, "--no-cache") == 0 ? "--no-cache" : seed ? "--seed" : NULL,
                    seed && strcmp(seed, "--no-cache") == 0 ? NULL : (char *)seed, NULL};
    *exit_code = rh_test_run(argv, NULL, &out, &errout);
    json_object *j = json_tokener_parse(out ? out : "");
    if (!j)
        fail_msg("no JSON: %s\n%s", out ? out : "", errout ? errout : "");
    free(out);
    free(errout);
    return j;
}

static int json_bool_at(json_object *j, const char *obj, const char *key)
{
    json_object *o = NULL, *v = NULL;
    assert_true(json_object_object_get_ex(j, obj, &o) && json_object_object_get_ex(o, key, &v));
    return json_object_get_boolean(v);
}

static const char *step_status(json_object *j, const char *step)
{
    json_object *steps = NULL, *s = NULL, *v = NULL;
    assert_true(json_object_object_get_ex(j, "steps", &steps) && json_object_object_get_ex(steps, step, &s) &&
                json_object_object_get_ex(s, "status", &v));
    return json_object_get_string(v);
}

/* A warm check runs (a) and (b) as one path only when that is the same run: base's whole state cached
   and head beginning with base's migrations unchanged, nothing loaded between them. A base migration
   edited at head, a seed, or only a prefix of base cached, and (a) deploys on its own database again
   (the cached probe database made (a)'s, or an empty one) and (c) compares two snapshots: the edit is
   found, as a cold check finds it, and the reports equal --no-cache's. */
static void test_check_warm_one_path_only_when_base_unchanged(void **state)
{
    (void)state;
    char repo[4200], path[4400], seed[4200];
    snprintf(repo, sizeof repo, "%s/onepath", rh_test_tmpdir());
    snprintf(path, sizeof path, "%s/prisma/migrations/20250101000000_base/migration.sql", repo);
    rh_test_write_file(path, "CREATE TABLE \"Base\" (id int PRIMARY KEY);\n");
    snprintf(path, sizeof path, "%s/prisma/migrations/20250101000001_more/migration.sql", repo);
    rh_test_write_file(path, "CREATE TABLE \"More\" (id int PRIMARY KEY);\n");
    snprintf(path, sizeof path, "%s/prisma/migrations/migration_lock.toml", repo);
    rh_test_write_file(path, "provider = \"postgresql\"\n");
    char *init[] = {"git", "init", "-q", "-b", "main", repo, NULL};
    assert_int_equal(rh_test_run(init, NULL, NULL, NULL), 0);
    git_in(repo, "add", "-A", ".");
    git_in(repo, "commit", "-qm", "base");
    snprintf(path, sizeof path, "%s/prisma/migrations/20250102000000_head/migration.sql", repo);
    rh_test_write_file(path, "ALTER TABLE \"Base\" ADD COLUMN name text;\n");

    int rc;
    json_object *cold = check_json(repo, NULL, &rc); /* publishes base's state */
    assert_int_equal(rc, 0);
    assert_false(json_bool_at(cold, "cache", "one_path"));
    json_object *warm = check_json(repo, NULL, &rc);
    assert_int_equal(rc, 0);
    assert_true(json_bool_at(warm, "cache", "one_path"));
    assert_string_equal(step_status(warm, "clean_deploy"), "passed");
    assert_string_equal(step_status(warm, "catalog"), "passed");
    drop_volatile(cold);
    drop_volatile(warm);
    assert_string_equal(json_object_to_json_string_ext(cold, JSON_C_TO_STRING_PRETTY),
                        json_object_to_json_string_ext(warm, JSON_C_TO_STRING_PRETTY));
    json_object_put(cold);
    json_object_put(warm);

    /* a seed between base and head: (a) has no seed, (b) has: two runs */
    snprintf(seed, sizeof seed, "%s/onepath-seed.sql", rh_test_tmpdir());
    rh_test_write_file(seed, "INSERT INTO \"Base\" VALUES (1);\n");
    json_object *seeded = check_json(repo, seed, &rc);
    assert_int_equal(rc, 0);
    assert_false(json_bool_at(seeded, "cache", "one_path"));
    assert_string_equal(step_status(seeded, "catalog"), "passed");
    json_object_put(seeded);

    /* base moved on (head's migration merged) and a new one on disk: only base's first two are cached */
    git_in(repo, "add", "-A", ".");
    git_in(repo, "commit", "-qm", "head merged");
    snprintf(path, sizeof path, "%s/prisma/migrations/20250103000000_next/migration.sql", repo);
    rh_test_write_file(path, "CREATE INDEX \"Base_name_idx\" ON \"Base\" (name);\n");
    json_object *partial = check_json(repo, NULL, &rc);
    assert_int_equal(rc, 0);
    json_object *cache = NULL, *v = NULL;
    assert_true(json_object_object_get_ex(partial, "cache", &cache) &&
                json_object_object_get_ex(cache, "base_migrations_cached", &v));
    assert_int_equal(json_object_get_int64(v), 2);
    assert_false(json_bool_at(partial, "cache", "one_path"));
    json_object *fresh = check_json(repo, "--no-cache", &rc);
    assert_int_equal(rc, 0);
    drop_volatile(partial);
    drop_volatile(fresh);
    assert_string_equal(json_object_to_json_string_ext(fresh, JSON_C_TO_STRING_PRETTY),
                        json_object_to_json_string_ext(partial, JSON_C_TO_STRING_PRETTY));
    json_object_put(partial);
    json_object_put(fresh);

    /* base's first migration edited after apply: still warm (base's state is cached), not one path */
    snprintf(path, sizeof path, "%s/prisma/migrations/20250101000000_base/migration.sql", repo);
    rh_test_write_file(path, "CREATE TABLE \"Base\" (id int PRIMARY KEY, extra int);\n");
    json_object *edited = check_json(repo, NULL, &rc);
    assert_int_equal(rc, 1);
    assert_true(json_object_object_get_ex(edited, "cache", &cache) &&
                json_object_object_get_ex(cache, "base_migrations_cached", &v));
    assert_int_equal(json_object_get_int64(v), 2); /* a partial hit publishes nothing (no fingerprint) */
    assert_false(json_bool_at(edited, "cache", "one_path"));
    assert_string_equal(step_status(edited, "catalog"), "failed");
    assert_non_null(strstr(json_object_to_json_string(edited), "catalog-differs"));
    json_object_put(edited);
}

/* ---- other tools' checks and deploys: the cache keyed by the tool, and what drizzle-kit's one transaction allows ---- */

/* A check of repo from base to head (NULL: the files on disk), JSON parsed; no_cache: --no-cache. */
static json_object *check_json_range(const char *repo, const char *base, const char *head, int no_cache, int *exit_code)
{
    char *out = NULL, *errout = NULL;
    char *argv[12] = {REHEARSE_BIN, "check", "--repo", (char *)repo, "--base", (char *)base, "--format", "json"};
    int n = 8;
    if (head) {
        argv[n++] = "--head";
        argv[n++] = (char *)head;
    }
    if (no_cache)
        argv[n++] = "--no-cache";
    argv[n] = NULL;
    *exit_code = rh_test_run(argv, NULL, &out, &errout);
    json_object *j = json_tokener_parse(out ? out : "");
    if (!j)
        fail_msg("no JSON: %s\n%s", out ? out : "", errout ? errout : "");
    free(out);
    free(errout);
    return j;
}

static long long cached_count(json_object *j)
{
    json_object *cache = NULL, *v = NULL;
    assert_true(json_object_object_get_ex(j, "cache", &cache) &&
                json_object_object_get_ex(cache, "base_migrations_cached", &v));
    return json_object_get_int64(v);
}

/* dbmate's "Applied: NAME in D" durations in a report's texts (a finding's detail quotes its output) left out. */
static json_object *without_durations_in(json_object *o)
{
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, val)
        {
            json_object *n = without_durations_in(val);
            if (n != val)
                json_object_object_add(o, key, n);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            json_object *v = json_object_array_get_idx(o, i), *n = without_durations_in(v);
            if (n != v)
                json_object_array_put_idx(o, i, n);
        }
    } else if (json_object_is_type(o, json_type_string) && strstr(json_object_get_string(o), "Applied: ")) {
        rh_buf b;
        rh_buf_init(&b);
        rh_buf_puts(&b, json_object_get_string(o));
        char *t = without_durations(&b);
        rh_buf_free(&b);
        json_object *n = json_object_new_string(t);
        free(t);
        return n;
    }
    return o;
}

/* Two reports equal minus times, dbmate's durations and the cache's own lines. Frees both. */
static void assert_same_report(json_object *a, json_object *b)
{
    drop_volatile(a);
    drop_volatile(b);
    without_durations_in(a);
    without_durations_in(b);
    const char *ta = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY);
    const char *tb = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PRETTY);
    if (strcmp(ta, tb) != 0) /* cmocka cuts long strings: the whole of both, to compare */
        fprintf(stderr, "---- expected\n%s\n---- got\n%s\n----\n", ta, tb);
    assert_string_equal(ta, tb);
    json_object_put(a);
    json_object_put(b);
}

/*
 * dbmate's check (shopdb, prod -> incident: a CONCURRENTLY index in dbmate's transaction, 25001) through
 * the state cache as Prisma's: the cold check publishes base's state, the warm one starts from it on one
 * path, and both report what --no-cache reports (dbmate's durations aside). The key names the tool: the
 * same base under another tool's name is a miss. (Not `fixed`: whether the lock trace sees the
 * RowExclusiveLock of a CONCURRENTLY build on its new index varies from run to run, cache or not.)
 */
static void test_tool_check_uses_the_cache(void **state)
{
    (void)state;
    const char *repo = fixture_repo("shopdb");
    int rc;
    json_object *fresh = check_json_range(repo, "prod", "incident", 1, &rc);
    assert_int_equal(rc, 1);
    assert_string_equal(step_status(fresh, "production"), "failed");
    json_object *cold = check_json_range(repo, "prod", "incident", 0, &rc);
    assert_int_equal(rc, 1);
    assert_int_equal(cached_count(cold), 0);
    assert_true(json_bool_at(cold, "cache", "published"));
    json_object *warm = check_json_range(repo, "prod", "incident", 0, &rc);
    assert_int_equal(rc, 1);
    assert_int_equal(cached_count(warm), 3);
    assert_true(json_bool_at(warm, "cache", "one_path"));
    json_object *again = json_tokener_parse(json_object_to_json_string(fresh));
    assert_same_report(fresh, cold);
    assert_same_report(again, warm);

    /* the key: dbmate's state is found for dbmate only */
    const rh_tool *dbmate = rh_tool_find("dbmate");
    rh_migset base, head;
    rh_err err;
    rh_load_spec sb = {.tool = dbmate, .repo = repo, .rev = "prod"}, sh = {.tool = dbmate, .repo = repo, .rev = "incident"};
    assert_int_equal(rh_source_load_set(&sb, &base, NULL, &err), 0);
    assert_int_equal(rh_source_load_set(&sh, &head, NULL, &err), 0);
    rh_profile p6;
    assert_int_equal(rh_tool_profile(RH_TOOL_DEFAULT, &p6, NULL, &err), 0);
    struct {
        const rh_tool *tool;
        const rh_profile *profile;
        size_t cached;
    } asks[] = {{dbmate, NULL, 3}, {RH_TOOL_DEFAULT, &p6, 0}, {RH_TOOL_DEFAULT, NULL, 0}, {rh_tool_find("drizzle"), NULL, 0}};
    for (size_t i = 0; i < sizeof asks / sizeof *asks; i++) {
        rh_check_cache cc;
        rh_cluster_opts co = {0};
        rh_check_cache_find(&cc, 1, asks[i].tool, asks[i].profile, 0, &base, &head, &co);
        assert_int_equal(cc.cached, asks[i].cached);
        rh_check_cache_free(&cc);
    }
    rh_migset_free(&base);
    rh_migset_free(&head);
}

/* drizzle/TAG.sql for each entry and meta/_journal.json, `when` 1750000000000 + i s, as drizzle-kit generate writes them. */
static void write_drizzle(const char *repo, const char *const *tags, const char *const *sql, size_t n)
{
    char path[4400];
    rh_buf j;
    rh_buf_init(&j);
    rh_buf_printf(&j, "{\n  \"version\": \"7\",\n  \"dialect\": \"postgresql\",\n  \"entries\": [");
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/drizzle/%s.sql", repo, tags[i]);
        rh_test_write_file(path, sql[i]);
        rh_buf_printf(&j, "%s\n    {\n      \"idx\": %zu,\n      \"version\": \"7\",\n      \"when\": %lld,\n"
                          "      \"tag\": \"%s\",\n      \"breakpoints\": true\n    }",
                      i ? "," : "", i, 1750000000000LL + (long long)i * 1000, tags[i]);
    }
    rh_buf_printf(&j, "\n  ]\n}");
    snprintf(path, sizeof path, "%s/drizzle/meta/_journal.json", repo);
    rh_test_write_file(path, j.data);
    rh_buf_free(&j);
}

static rh_migset drizzle_set(const char *repo)
{
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/drizzle", repo);
    rh_migset set;
    rh_err err;
    rh_load_spec spec = {.tool = rh_tool_find("drizzle"), .dir = dir};
    if (rh_source_load_set(&spec, &set, NULL, &err) < 0)
        fail_msg("%s", err.msg);
    return set;
}

/*
 * drizzle-kit migrate runs every pending entry in ONE transaction, so a state holding the first k entries
 * of a run is no part of that run, and the cache never offers one (only the whole run's state). A value
 * added to an enum type cannot be used in the transaction that added it (55P04), so:
 *  - the whole run (type, new value, a table defaulting to it) fails and is rolled back: nothing stays;
 *  - on the state of its first two entries (as `deploy --rev` of the base publishes it) the third is a
 *    run of its own and passes, keeping all three: not what the run does;
 *  - check (base = the first two, head = all three): base's state is cached and used for the upgrade path,
 *    where production has it committed, but head's clean deploy stays one run of everything and fails;
 *    continuing base's state would have passed it. The warm report equals the cold and --no-cache ones.
 */
static void test_drizzle_prefix_is_no_part_of_a_run(void **state)
{
    (void)state;
    const rh_tool *drizzle = rh_tool_find("drizzle");
    static const char *const tags[] = {"0000_mood", "0001_tense", "0002_people"};
    static const char *const sql[] = {
        "CREATE TYPE \"public\".\"mood\" AS ENUM('calm');",
        "ALTER TYPE \"public\".\"mood\" ADD VALUE 'tense';",
        "CREATE TABLE \"people\" (\n\t\"id\" serial PRIMARY KEY NOT NULL,\n\t\"mood\" \"mood\" DEFAULT 'tense' NOT NULL\n);"};
    char repo[4200];
    snprintf(repo, sizeof repo, "%s/drizzle-enum", rh_test_tmpdir());
    write_drizzle(repo, tags, sql, 2);
    char *init[] = {"git", "init", "-q", "-b", "main", repo, NULL};
    assert_int_equal(rh_test_run(init, NULL, NULL, NULL), 0);
    git_in(repo, "add", "-A", ".");
    git_in(repo, "commit", "-qm", "mood, tense");
    write_drizzle(repo, tags, sql, 3);
    rh_migset set = drizzle_set(repo);
    assert_int_equal(set.n, 3);
    assert_int_equal(rh_state_resume_min(drizzle, set.n), set.n);

    /* the whole run from nothing fails at the table, and nothing of it stays */
    rh_err err;
    rh_cluster *fresh = start(NULL);
    deployed a;
    deploy_on(fresh, drizzle, &set, NULL, 0, &a);
    assert_int_equal(a.res.exit_code, 1);
    assert_string_equal(a.res.sqlstate, "55P04"); /* unsafe use of new value "tense" of enum type mood */
    assert_string_equal(a.res.failed_migration, "0002_people");
    assert_int_equal(a.ledger.n, 0);
    assert_null(strstr(a.catalog, "mood"));
    deployed_free(&a);
    assert_int_equal(rh_cluster_stop(fresh, &err), 0);

    /* the first two entries' state */
    char (*keys)[65] = calloc(set.n + 1, sizeof *keys);
    rh_state_inputs in = {.tool = drizzle->name, .layout = RH_STATE_LAYOUT_FRESH};
    rh_state_keys(&in, &set, keys);
    rh_cluster *maker = start(NULL);
    rh_migset pre = prefix_of(&set, 2);
    deployed p;
    deploy_on(maker, drizzle, &pre, NULL, 0, &p);
    assert_int_equal(p.res.exit_code, 0);
    deployed_free(&p);
    rh_cluster_opts o = {0};
    assert_int_equal(rh_state_save(maker, &o, keys[2], "test: drizzle prefix\n", &err), 0);
    assert_int_equal(rh_cluster_stop(maker, &err), 0);

    /* the cache does not offer it for the run of three */
    rh_state_deploy sd;
    rh_cluster_opts co = {0};
    rh_state_deploy_find(&sd, drizzle, NULL, RH_STATE_LAYOUT_FRESH, &co, &set, 0);
    assert_true(sd.on);
    assert_int_equal(sd.cached, 0);
    assert_null(co.state);
    rh_state_deploy_free(&sd);

    /* why: on it, the rest is a run of its own and passes; the engine refuses to call that one run */
    char *entry = NULL;
    assert_int_equal(rh_state_longest(&o, keys, set.n, &entry), 2);
    rh_cluster *warm = start(entry);
    deployed b;
    deploy_on(warm, drizzle, &set, NULL, 0, &b);
    assert_int_equal(b.res.exit_code, 0);
    assert_int_equal(b.ledger.n, 3);
    deployed_free(&b);
    assert_int_equal(rh_cluster_stop(warm, &err), 0);
    warm = start(entry);
    PGconn *conn = rh_cluster_connect(warm, NULL, &err);
    assert_non_null(conn);
    rh_engine_result res;
    rh_engine_result_init(&res);
    rh_engine_opts resumed = {.resumed = 2};
    assert_int_equal(rh_tool_run(drizzle, "deploy", conn, &set, NULL, &resumed, &res, &err), -1);
    assert_non_null(strstr(err.msg, "one transaction"));
    rh_engine_result_free(&res);
    PQfinish(conn);
    assert_int_equal(rh_cluster_stop(warm, &err), 0);
    free(entry);

    /* check: base's state for the upgrade path, head's clean deploy one run; warm == cold == --no-cache */
    int rc;
    json_object *nocache = check_json_range(repo, "HEAD", NULL, 1, &rc);
    assert_int_equal(rc, 1);
    assert_string_equal(step_status(nocache, "clean_deploy"), "failed");
    assert_string_equal(step_status(nocache, "production"), "passed");
    json_object *cold = check_json_range(repo, "HEAD", NULL, 0, &rc);
    assert_int_equal(rc, 1);
    assert_true(json_bool_at(cold, "cache", "published"));
    json_object *hot = check_json_range(repo, "HEAD", NULL, 0, &rc);
    assert_int_equal(rc, 1);
    assert_int_equal(cached_count(hot), 2);
    assert_false(json_bool_at(hot, "cache", "one_path"));
    assert_string_equal(step_status(hot, "clean_deploy"), "failed");
    json_object *copy = json_tokener_parse(json_object_to_json_string(nocache));
    assert_same_report(nocache, cold);
    assert_same_report(copy, hot);

    free(keys);
    rh_migset_free(&set);
}

/* `rehearse bench check-cache --json` on a small history: the warm check took base from the cache, and
   every part of the time is reported for cold and warm (no timing asserted). */
static void test_bench_check_cache_reports_parts(void **state)
{
    (void)state;
    rh_check_bench_opts o = {.history = 10, .added = 3, .runs = 1, .json = 1};
    rh_buf b;
    rh_buf_init(&b);
    rh_err err;
    if (rh_check_bench_cache(&o, &b, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
    json_object *root = json_tokener_parse(b.data), *parts = NULL, *v = NULL;
    assert_non_null(root);
    assert_true(json_object_object_get_ex(root, "warm_ms", &v));
    assert_true(json_object_object_get_ex(root, "cpu_median_ms", &parts));
    assert_true(json_object_object_get_ex(parts, "cold", &v) && json_object_object_get_ex(parts, "warm", &v));
    assert_true(json_object_object_get_ex(root, "parts_median_ms", &parts));
    static const char *const names[] = {"history", "cache lookup", "cluster", "copy", "server start", "passwords",
                                        "clean deploy", "upgrade path", "base", "locks", "catalog", "stop", "publish"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        json_object *p = NULL;
        assert_true(json_object_object_get_ex(parts, names[i], &p));
        assert_true(json_object_object_get_ex(p, "cold", &v) && json_object_object_get_ex(p, "warm", &v));
    }
    assert_true(json_object_object_get_ex(root, "start_parts_median_ms", &parts));
    assert_true(json_object_object_get_ex(parts, "copy", &v));
    json_object_put(root);
    rh_buf_free(&b);
}

/* ---- a state's own databases are copied while its server starts, and are whole when the start returns ---- */

/* Whether a server of this process runs (data/postmaster.pid in one of its cluster folders): asked by the
   copy's end (rh_cluster_after_copy_hook). */
static int server_ran_at_copy_end;

static void note_server_running(const char *entry)
{
    (void)entry;
    DIR *d = opendir(rh_cluster_run_dir());
    assert_non_null(d);
    char mine[32];
    snprintf(mine, sizeof mine, "%d-", (int)getpid());
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char pidfile[4200];
        snprintf(pidfile, sizeof pidfile, "%s/%s/data/postmaster.pid", rh_cluster_run_dir(), e->d_name);
        if (strncmp(e->d_name, mine, strlen(mine)) == 0 && access(pidfile, F_OK) == 0)
            server_ran_at_copy_end = 1;
    }
    closedir(d);
}

/* Every file of folder a is in folder b with the same bytes, but for the relation cache's init file, which
   the server deletes at every start; and b holds nothing else. How many files a has. */
static int assert_same_files(const char *a, const char *b)
{
    DIR *d = opendir(a);
    assert_non_null(d);
    int n = 0, skipped = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char pa[4200], pb[4200];
        snprintf(pa, sizeof pa, "%s/%s", a, e->d_name);
        snprintf(pb, sizeof pb, "%s/%s", b, e->d_name);
        if (strcmp(e->d_name, "pg_internal.init") == 0) {
            if (access(pb, F_OK) == 0)
                fail_msg("%s is there: the server deletes it at every start", pb);
            skipped++;
            continue;
        }
        char *x = NULL, *y = NULL;
        size_t nx = 0, ny = 0;
        rh_err err;
        if (rh_fs_read(pa, &x, &nx, &err) < 0 || rh_fs_read(pb, &y, &ny, &err) < 0)
            fail_msg("%s", err.msg);
        if (nx != ny || memcmp(x, y, nx) != 0)
            fail_msg("%s differs from %s (%zu / %zu bytes)", pb, pa, ny, nx);
        free(x);
        free(y);
        n++;
    }
    closedir(d);
    d = opendir(b);
    assert_non_null(d);
    int nb = 0;
    while ((e = readdir(d)) != NULL)
        nb += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(nb, n);
    (void)skipped;
    return n;
}

/* The folder base/OID of the database dbname, below data directory data. */
static char *db_folder(PGconn *conn, const char *data, const char *dbname)
{
    const char *params[] = {dbname};
    PGresult *r = PQexecParams(conn, "SELECT oid FROM pg_database WHERE datname = $1", 1, NULL, params, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    char *f = rh_xasprintf("%s/base/%s", data, PQgetvalue(r, 0, 0));
    PQclear(r);
    return f;
}

/* A state whose database (as check's) was made after initdb: its files are copied while the server starts
   (the server reads none of them before someone connects), and rh_cluster_start returns only when every one
   is there, byte for byte the entry's; from a template, template1's the same. With extra server settings (a
   preloaded library could read every database at start) everything is copied first. Before, the whole copy
   ended before the server started (server_ran_at_copy_end stayed 0). */
static void test_state_databases_copied_while_the_server_starts(void **state)
{
    (void)state;
    rh_cluster_opts o = {0};
    rh_err err;
    assert_int_equal(rh_state_prune(&o, 0, NULL, NULL, &err), 0);
    rh_cluster *c = start(NULL);
    if (rh_cluster_create_db(c, "added", &err) < 0)
        fail_msg("%s", err.msg);
    PGconn *conn = rh_cluster_connect(c, "added", &err);
    assert_non_null(conn);
    PGresult *r = PQexec(conn, "CREATE TABLE t (id int PRIMARY KEY, v text); "
                               "INSERT INTO t SELECT i, repeat('x', 100) FROM generate_series(1, 5000) i");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    r = PQexec(conn, "VACUUM t"); /* its free space and visibility maps too */
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(conn);
    assert_int_equal(rh_state_save(c, &o, KEY_A, "added\n", &err), 0);
    assert_int_equal(rh_cluster_stop(c, &err), 0);
    char *entry = NULL;
    assert_int_equal(rh_state_lookup(&o, KEY_A, &entry, &err), 1);
    char *entry_data = rh_xasprintf("%s/data", entry);

    static const char *const extra[] = {"work_mem=8MB", NULL};
    for (int with_settings = 0; with_settings < 2; with_settings++) {
        server_ran_at_copy_end = 0;
        rh_cluster_after_copy_hook = note_server_running;
        rh_cluster_opts so = {.state = entry, .settings = with_settings ? extra : NULL};
        rh_cluster *from = NULL;
        int rc = rh_cluster_start(&from, &so, &err);
        rh_cluster_after_copy_hook = NULL;
        if (rc < 0)
            fail_msg("start from the state: %s", err.msg);
        assert_int_equal(server_ran_at_copy_end, !with_settings);
        /* whole on return: the files as the entry has them (nobody connected to the database yet) */
        PGconn *admin = rh_cluster_connect_admin(from, NULL, &err);
        assert_non_null(admin);
        char *mine = db_folder(admin, rh_cluster_datadir(from), "added");
        char *theirs = db_folder(admin, entry_data, "added");
        PQfinish(admin);
        assert_true(assert_same_files(theirs, mine) > 10);
        free(mine);
        free(theirs);
        PGconn *q = rh_cluster_connect(from, "added", &err);
        assert_non_null(q);
        r = PQexec(q, "SELECT count(*), sum(length(v)) FROM t");
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(r, 0, 0), "5000");
        assert_string_equal(PQgetvalue(r, 0, 1), "500000");
        PQclear(r);
        PQfinish(q);
        assert_int_equal(rh_cluster_stop(from, &err), 0);
    }
    /* from a template the same: its databases (template1 here) are copied while the server starts */
    server_ran_at_copy_end = 0;
    rh_cluster_after_copy_hook = note_server_running;
    rh_cluster *fresh = start(NULL);
    rh_cluster_after_copy_hook = NULL;
    assert_int_equal(server_ran_at_copy_end, 1);
    char *tmpl = NULL;
    assert_int_equal(rh_template_ensure(rh_cluster_pgbin(fresh), &o, &tmpl, &err), 0);
    char *t1 = rh_xasprintf("%s/data/base/1", tmpl), *f1 = rh_xasprintf("%s/base/1", rh_cluster_datadir(fresh));
    assert_true(assert_same_files(t1, f1) > 10);
    free(t1);
    free(f1);
    free(tmpl);
    assert_int_equal(rh_cluster_stop(fresh, &err), 0);
    free(entry_data);
    free(entry);
    assert_int_equal(rh_state_prune(&o, 0, NULL, NULL, &err), 0);
}

int main(void)
{
    /* a cache of this binary's own: the states it makes and damages are nobody else's */
    snprintf(cache_dir, sizeof cache_dir, "%s/cache", rh_test_tmpdir());
    setenv("REHEARSE_CACHE_DIR", cache_dir, 1);
    unsetenv("REHEARSE_NO_CACHE");
    snprintf(fixtures, sizeof fixtures, "%s/fx", rh_test_tmpdir());
    char *mk[] = {REHEARSE_SOURCE_DIR "/scripts/make-fixtures.sh", fixtures, NULL};
    if (rh_test_run(mk, NULL, NULL, NULL) != 0) {
        fprintf(stderr, "make-fixtures.sh failed\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_killed_writer_leaves_no_entry),
        cmocka_unit_test(test_prune_evicts_least_recently_used_within_a_second),
        cmocka_unit_test(test_hit_is_a_use_and_publish_keeps_the_limit),
        cmocka_unit_test(test_state_pruned_right_after_the_copy_still_starts),
        cmocka_unit_test(test_state_databases_copied_while_the_server_starts),
        cmocka_unit_test(test_every_input_changes_the_key),
        cmocka_unit_test(test_fixtures_cached_equals_fresh),
        cmocka_unit_test(test_lookup_misses_on_other_inputs),
        cmocka_unit_test(test_check_concurrent_fill_then_warm),
        cmocka_unit_test(test_check_falls_back_when_the_state_does_not_start),
        cmocka_unit_test(test_check_warm_one_path_only_when_base_unchanged),
        cmocka_unit_test(test_head_changing_the_cluster_is_not_published),
        cmocka_unit_test(test_tool_check_uses_the_cache),
        cmocka_unit_test(test_drizzle_prefix_is_no_part_of_a_run),
        cmocka_unit_test(test_bench_check_cache_reports_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
