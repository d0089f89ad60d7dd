/*
 * template.c — the initdb template cache.
 *
 * initdb costs ~0.7 s; copying its result costs a few ms. So initdb runs once per (server version,
 * encoding, locale) into the cache, and every cluster starts from a copy. Several rehearse
 * processes may want the same template at once: building happens under an flock, into a staging
 * directory that is renamed into place only when complete, and a marker file written last tells a
 * complete template from a partial one (a killed build), which is rebuilt.
 *
 * A cache entry templates/KEY/ holds data/ (what initdb made; the part each cluster copies),
 * manifest (see manifest.c), secret and the marker. The template knows no `trust`: its superuser
 * has a random password (secret, 0600, outside data/ so that no cluster holds it) that rehearse
 * uses once per cluster, right after start, to give that cluster passwords of its own. A template whose files no longer match their manifest
 * (damaged on disk, truncated by a full disk) is rebuilt too, instead of failing every run.
 */
#include "cluster/internal.h"

#include "report/escape.h" /* the one terminal escaper: paths in messages are the user's */
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MARKER "REHEARSE_TEMPLATE"
#define MANIFEST "manifest"
#define SECRET "secret"
/* Bumped whenever what a template holds changes, so that older cache entries are never used. */
#define TEMPLATE_FORMAT "t4"

char *rh_template_cache_dir(const rh_cluster_opts *opts)
{
    if (opts && opts->cache_dir && *opts->cache_dir)
        return rh_xstrdup(opts->cache_dir);
    const char *e = getenv("REHEARSE_CACHE_DIR");
    if (e && *e)
        return rh_xstrdup(e);
    e = getenv("XDG_CACHE_HOME");
    if (e && *e)
        return rh_xasprintf("%s/rehearse", e);
    e = getenv("HOME");
    if (e && *e)
        return rh_xasprintf("%s/.cache/rehearse", e);
    return rh_xasprintf("/tmp/rehearse-cache-%d", (int)geteuid());
}

static const char *opt_or(const char *v, const char *dflt)
{
    return v && *v ? v : dflt;
}

/* The cache key, with anything odd in the locale name made file-name safe. */
char *rh_template_key(const rh_pgbin *bin, const rh_cluster_opts *opts)
{
    char *key = rh_xasprintf("pg%s-%s-%s-" TEMPLATE_FORMAT, bin->version, opt_or(opts ? opts->encoding : NULL, "UTF8"),
                             opt_or(opts ? opts->locale : NULL, "C"));
    for (char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == '_'))
            *p = '_';
    return key;
}

static char *marker_text(const rh_pgbin *bin, const rh_cluster_opts *opts)
{
    return rh_xasprintf("rehearse template " TEMPLATE_FORMAT ": PostgreSQL %s, encoding %s, locale %s\n", bin->version,
                        opt_or(opts ? opts->encoding : NULL, "UTF8"), opt_or(opts ? opts->locale : NULL, "C"));
}

/*
 * A template is usable when its marker (written last) matches and its files match the manifest
 * written when it was built. why (may be NULL) says what is wrong.
 */
static int template_valid(const char *dir, const char *expected_marker, char *why, size_t whylen)
{
    return rh_cache_entry_valid(dir, MARKER, expected_marker, why, whylen);
}

int rh_cache_entry_valid(const char *dir, const char *marker_name, const char *expected_marker, char *why, size_t whylen)
{
    char scratch[512];
    if (!why) {
        why = scratch;
        whylen = sizeof scratch;
    }
    char path[4200], data_dir[4200];
    snprintf(path, sizeof path, "%s/%s", dir, marker_name);
    char *data = NULL;
    rh_err ignored;
    if (rh_fs_read(path, &data, NULL, &ignored) < 0) {
        snprintf(why, whylen, "no %s marker (an interrupted build)", marker_name);
        return 0;
    }
    int ok = strcmp(data, expected_marker) == 0;
    free(data);
    if (!ok) {
        snprintf(why, whylen, "its %s marker is not this version's", marker_name);
        return 0;
    }
    snprintf(path, sizeof path, "%s/" SECRET, dir);
    if (!rh_fs_exists(path)) {
        snprintf(why, whylen, "no %s file", SECRET);
        return 0;
    }
    snprintf(path, sizeof path, "%s/" MANIFEST, dir);
    snprintf(data_dir, sizeof data_dir, "%s/data", dir);
    return rh_manifest_check(data_dir, path, why, whylen);
}

static void append_log_tail(rh_err *err, const char *log_path)
{
    char *data = NULL;
    size_t len = 0;
    rh_err ignored;
    if (rh_fs_read(log_path, &data, &len, &ignored) < 0)
        return;
    const char *start = len > 1500 ? data + len - 1500 : data;
    size_t used = strlen(err->msg);
    snprintf(err->msg + used, sizeof err->msg - used, "\n--- %s (end) ---\n%s", log_path, start);
    free(data);
}

/* Run initdb into workdir/data as the server account; the result is moved into the cache by the caller. */
static int run_initdb(const rh_pgbin *bin, const rh_cluster_opts *opts, const rh_runas *ra,
                      const char *workdir, const char *pwfile, rh_err *err)
{
    char initdb[4200], data[4200], log[4200];
    snprintf(initdb, sizeof initdb, "%s/initdb", bin->bindir);
    snprintf(data, sizeof data, "%s/data", workdir);
    snprintf(log, sizeof log, "%s/initdb.log", workdir);
    char *enc = rh_xasprintf("--encoding=%s", opt_or(opts ? opts->encoding : NULL, "UTF8"));
    char *loc = rh_xasprintf("--locale=%s", opt_or(opts ? opts->locale : NULL, "C"));
    /* 1 MB WAL segments: the template (and every copy of it) is 15 MB smaller. */
    char *pwarg = rh_xasprintf("--pwfile=%s", pwfile);
    char *argv[] = {initdb, "-D", data, "-U", "postgres", "--auth=scram-sha-256", pwarg, enc, loc,
                    "--no-sync", "--wal-segsize=1", NULL};
    rh_err e2;
    pid_t pid = rh_spawn_detached(argv, ra, log, &e2);
    int rc = 0;
    if (pid < 0) {
        rc = rh_err_set(err, "initdb: %s", e2.msg);
    } else {
        int status = rh_wait_child(pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            rc = rh_err_set(err, "initdb failed (%s %s %s)", initdb, enc, loc);
            append_log_tail(err, log);
        }
    }
    free(enc);
    free(loc);
    free(pwarg);
    return rc;
}

static int build_template(const rh_pgbin *bin, const rh_cluster_opts *opts, const char *dir,
                          const char *marker, rh_err *err)
{
    rh_runas ra;
    if (rh_runas_resolve(&ra, opts ? opts->run_as : NULL, err) < 0)
        return -1;
    /* initdb works in the run directory: the account it runs as may not reach root's home. */
    const char *run = rh_cluster_run_dir();
    if (rh_run_dir_prepare(run, err) < 0) /* 0711: initdb must reach its workdir */
        return -1;
    char *workdir = rh_xasprintf("%s/initdb-%d-XXXXXX", run, (int)getpid());
    int rc = -1;
    char *staging = NULL;
    if (!mkdtemp(workdir)) {
        rh_err_errno(err, "cannot create %s", workdir);
        goto out;
    }
    if (ra.active && chown(workdir, ra.uid, ra.gid) < 0) {
        rh_err_errno(err, "cannot give %s to %s", workdir, ra.name);
        goto out;
    }
    /*
     * The superuser's bootstrap password. initdb gets its SCRAM secret, which PostgreSQL stores as
     * given: the password itself never reaches a file the server's account can read.
     */
    char secret[RH_PASSWORD_LEN + 1];
    rh_random_password(secret);
    char *pwfile = rh_xasprintf("%s/pw", workdir);
    char *scram = rh_scram_secret(secret);
    int prc = rh_fs_write(pwfile, scram, strlen(scram), 0600, err);
    free(scram);
    if (prc == 0 && ra.active && chown(pwfile, ra.uid, ra.gid) < 0)
        prc = rh_err_errno(err, "cannot give %s to %s", pwfile, ra.name);
    if (prc == 0)
        prc = run_initdb(bin, opts, &ra, workdir, pwfile, err);
    unlink(pwfile);
    free(pwfile);
    if (prc < 0)
        goto out;
    staging = rh_xasprintf("%s.tmp-%d", dir, (int)getpid());
    rh_fs_rmtree(staging, err);
    if (mkdir(staging, 0755) < 0) {
        rh_err_errno(err, "cannot create %s", staging);
        goto out;
    }
    char *data = rh_xasprintf("%s/data", workdir);
    char *sdata = rh_xasprintf("%s/data", staging);
    int moved = rename(data, sdata) == 0;
    if (!moved && errno != EXDEV) {
        rh_err_errno(err, "cannot move the new template to %s", sdata);
        free(data);
        free(sdata);
        goto out;
    }
    if (!moved && rh_fs_copytree(data, sdata, (uid_t)-1, (gid_t)-1, err) < 0) {
        free(data);
        free(sdata);
        goto out;
    }
    free(data);
    char *manifest = rh_xasprintf("%s/" MANIFEST, staging);
    int wrc = rh_manifest_write(sdata, manifest, err);
    free(manifest);
    free(sdata);
    if (wrc < 0)
        goto out;
    char *spath = rh_xasprintf("%s/" SECRET, staging);
    wrc = rh_fs_write(spath, secret, strlen(secret), 0600, err);
    free(spath);
    if (wrc < 0)
        goto out;
    char *mpath = rh_xasprintf("%s/" MARKER, staging);
    wrc = rh_fs_write(mpath, marker, strlen(marker), 0644, err);
    free(mpath);
    if (wrc < 0)
        goto out;
    if (rename(staging, dir) < 0) {
        rh_err_errno(err, "cannot install the template at %s", dir);
        goto out;
    }
    rc = 0;
out:
    if (staging) {
        rh_err ignored;
        if (rc < 0)
            rh_fs_rmtree(staging, &ignored);
        free(staging);
    }
    rh_err ignored;
    rh_fs_rmtree(workdir, &ignored);
    free(workdir);
    return rc;
}

int rh_template_ensure(const rh_pgbin *bin, const rh_cluster_opts *opts, char **path, rh_err *err)
{
    char *cache = rh_template_cache_dir(opts);
    char *key = rh_template_key(bin, opts);
    char *marker = marker_text(bin, opts);
    char *tdir = rh_xasprintf("%s/templates", cache);
    char *dir = rh_xasprintf("%s/%s", tdir, key);
    char *lock = NULL;
    int lockfd = -1, rc = -1;

    if (template_valid(dir, marker, NULL, 0)) { /* the common case: no lock needed */
        rc = 0;
        goto out;
    }
    if (rh_fs_mkdir_p(tdir, 0755, err) < 0) {
        rh_err_prefix(err, "template cache");
        goto out;
    }
    lock = rh_xasprintf("%s/%s.lock", tdir, key);
    lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lockfd < 0) {
        rh_err_errno(err, "cannot open the template lock %s", lock);
        goto out;
    }
    while (flock(lockfd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            rh_err_errno(err, "cannot lock %s", lock);
            goto out;
        }
    }
    /* Another process may have built it while we waited. */
    char why[1024];
    if (template_valid(dir, marker, why, sizeof why)) {
        rc = 0;
        goto out;
    }
    /* Whatever is there is partial, damaged or from something else: rebuild. */
    if (rh_fs_exists(dir)) {
        /* a complete template that no longer matches its manifest was damaged: say so once */
        char mpath[4200];
        snprintf(mpath, sizeof mpath, "%s/" MARKER, dir);
        if (rh_fs_exists(mpath))
            rh_report_term_eprintf("rehearse: the cached template %s is damaged (%s); building it again\n", dir, why);
        if (rh_fs_rmtree(dir, err) < 0) {
            rh_err_prefix(err, "cannot remove the damaged template %s", dir);
            goto out;
        }
    }
    rc = build_template(bin, opts, dir, marker, err);
    if (rc < 0)
        rh_err_prefix(err, "building the template %s (REHEARSE_CACHE_DIR chooses the cache)", dir);
out:
    if (lockfd >= 0)
        close(lockfd); /* releases the flock */
    if (rc == 0 && path)
        *path = rh_xstrdup(dir);
    free(lock);
    free(dir);
    free(tdir);
    free(marker);
    free(key);
    free(cache);
    return rc;
}

int rh_template_secret(const char *entry, char out[RH_PASSWORD_LEN + 1], rh_err *err)
{
    char *path = rh_xasprintf("%s/" SECRET, entry);
    char *data = NULL;
    size_t len = 0;
    int rc = rh_fs_read(path, &data, &len, err);
    if (rc == 0 && len != RH_PASSWORD_LEN)
        rc = rh_err_set(err, "the template's %s is damaged (%zu bytes, not %d): delete %s and rehearse builds it again",
                        path, len, RH_PASSWORD_LEN, entry);
    if (rc == 0)
        memcpy(out, data, RH_PASSWORD_LEN + 1);
    free(data);
    free(path);
    return rc;
}
