/* pgbin.c — finding initdb and postgres, and which PostgreSQL version they are. */
#include "cluster/internal.h"
#include "util/fs.h"

#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int has_binaries(const char *dir)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/postgres", dir);
    if (access(p, X_OK) != 0)
        return 0;
    snprintf(p, sizeof p, "%s/initdb", dir);
    return access(p, X_OK) == 0;
}

/* The version in `postgres --version`'s answer ("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"):
   1 found (in ver), 0 not. */
static int parse_version(const char *text, char ver[64])
{
    const char *p = strstr(text, ") ");
    ver[0] = '\0';
    if (p)
        sscanf(p + 2, "%63[0-9.a-z]", ver);
    return ver[0] != '\0';
}

/*
 * `postgres --version` costs a process start that loads the server's libraries (ICU among them: about
 * 8 ms of CPU, 25 ms at load 10), in every rehearse process that starts a cluster. Its answer is kept
 * in the cache folder, keyed on the binary: its real path and its file's identity (device, inode,
 * size, modification and change times to the nanosecond). Any new binary (an upgrade, a rebuild, a
 * `pg install --force`) has another identity, so a kept answer is never another binary's. NULL: none
 * (the caller asks postgres). The caller frees the name.
 */
static char *version_file(const char *exe, char **real_out)
{
    struct stat st;
    char *real = realpath(exe, NULL);
    if (!real || stat(real, &st) < 0) {
        free(real);
        return NULL;
    }
    char *dir = rh_template_cache_dir(NULL);
    char *file = rh_xasprintf("%s/versions/postgres-%llx-%llx-%llx-%llx.%09ld-%llx.%09ld", dir,
                              (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
                              (unsigned long long)st.st_size, (unsigned long long)st.st_mtim.tv_sec,
                              st.st_mtim.tv_nsec, (unsigned long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
    free(dir);
    *real_out = real;
    return file;
}

/* The kept answer for real (the file's first line names the binary, the second is its answer). */
static int kept_version(const char *file, const char *real, char ver[64])
{
    char *text = NULL;
    size_t len = 0;
    rh_err ignored;
    if (rh_fs_read_max(file, 4096 + 256, &text, &len, &ignored) < 0)
        return 0;
    size_t n = strlen(real);
    int ok = len > n + 1 && strlen(text) == len && memcmp(text, real, n) == 0 && text[n] == '\n' &&
             parse_version(text + n + 1, ver);
    free(text);
    return ok;
}

/* Keep an answer: written aside and renamed, so that a reader sees all of it or nothing. Best effort:
   a cache that cannot be written only costs the next process a `postgres --version`. */
static void keep_version(const char *file, const char *real, const char *answer)
{
    char *dir = rh_xstrdup(file);
    *strrchr(dir, '/') = '\0';
    rh_err ignored;
    if (rh_fs_mkdir_p(dir, 0700, &ignored) == 0) {
        char *tmp = rh_xasprintf("%s/.tmp-%d-%lx", dir, (int)getpid(), (unsigned long)pthread_self());
        char *text = rh_xasprintf("%s\n%s", real, answer);
        if (rh_fs_write(tmp, text, strlen(text), 0600, &ignored) < 0 || rename(tmp, file) < 0)
            unlink(tmp);
        free(text);
        free(tmp);
    }
    free(dir);
}

/* Ask `postgres --version` which version this is (or its kept answer): the template cache is keyed
   on it. */
static int read_version(rh_pgbin *out, rh_err *err)
{
    char exe[4200];
    snprintf(exe, sizeof exe, "%s/postgres", out->bindir);
    char ver[64] = "";
    char *real = NULL;
    char *file = version_file(exe, &real);
    if (!file || !kept_version(file, real, ver)) {
        char *argv[] = {exe, "--version", NULL};
        rh_buf b;
        rh_buf_init(&b);
        int rc = rh_spawn_capture(argv, &b, err);
        if (rc != 0) {
            if (rc > 0)
                rh_err_set(err, "%s --version failed (exit %d): %s", exe, rc, b.data);
            rh_buf_free(&b);
            free(file);
            free(real);
            return -1;
        }
        if (parse_version(b.data, ver) && file)
            keep_version(file, real, b.data);
        rh_buf_free(&b);
    }
    free(file);
    free(real);
    if (!ver[0])
        return rh_err_set(err, "cannot read the version printed by %s --version", exe);
    snprintf(out->version, sizeof out->version, "%s", ver);
    out->major = atoi(ver);
    return 0;
}

static int use_dir(rh_pgbin *out, const char *dir, rh_err *err)
{
    if (strlen(dir) >= sizeof out->bindir)
        return rh_err_set(err, "PostgreSQL folder name too long: %.200s...", dir);
    memcpy(out->bindir, dir, strlen(dir) + 1);
    return read_version(out, err);
}

/* Use dir if it holds the wanted version; else note in tried what it is. 0 used, -1 not. */
static int try_dir(rh_pgbin *out, const char *dir, const char *label, const char *want, int major, int minor,
                   rh_buf *tried)
{
    if (!has_binaries(dir)) {
        rh_buf_printf(tried, "  %s %s: no executable initdb and postgres there\n", label, dir);
        return -1;
    }
    rh_err e;
    if (use_dir(out, dir, &e) < 0) {
        rh_buf_printf(tried, "  %s %s: %s\n", label, dir, e.msg);
        if (strcmp(label, "rehearse pg install") == 0)
            rh_buf_printf(tried, "    (a damaged install: `rehearse pg install --force %s` replaces it)\n",
                          want ? want : "VERSION");
        return -1;
    }
    if (want && !rh_pgver_matches(out->version, major, minor)) {
        rh_buf_printf(tried, "  %s %s: PostgreSQL %s, not %s\n", label, dir, out->version, want);
        return -1;
    }
    snprintf(out->origin, sizeof out->origin, "%s", label);
    return 0;
}

int rh_pgbin_find(rh_pgbin *out, const char *override, rh_err *err)
{
    return rh_pgbin_find_version(out, override, NULL, err);
}

int rh_pgbin_find_version(rh_pgbin *out, const char *override, const char *want, rh_err *err)
{
    return rh_pgbin_find_version_from(out, override, want, NULL, err);
}

int rh_pgbin_find_version_from(rh_pgbin *out, const char *override, const char *want, const char *from, rh_err *err)
{
    memset(out, 0, sizeof *out);
    int major = 0, minor = -1;
    const char *want_from = from ? from : "--pg";
    if (!want || !*want) {
        want = getenv("REHEARSE_PG");
        want_from = "REHEARSE_PG";
    }
    if (want && !*want)
        want = NULL;
    if (want && !rh_pgver_parse(want, &major, &minor))
        return rh_err_set(err, "%s %s: not a PostgreSQL version (expected a major like 17 or a major.minor like 17.10)",
                          want_from, want);

    if (override && *override) {
        rh_buf tried;
        rh_buf_init(&tried);
        int rc = try_dir(out, override, "--pg-bin", want, major, minor, &tried);
        if (rc < 0)
            rh_err_set(err, "%.*s", (int)(tried.len > 2 ? tried.len - 3 : 0), tried.len > 2 ? tried.data + 2 : "");
        rh_buf_free(&tried);
        return rc;
    }
    rh_buf tried;
    rh_buf_init(&tried);
    int rc = -1;
    const char *env = getenv("PG_BINDIR");
    if (env && *env)
        rc = try_dir(out, env, "PG_BINDIR", want, major, minor, &tried);

    /* pg_config may be on PATH; it names the bindir of the installation it belongs to. */
    const char *path = getenv("PATH");
    char *paths = rh_xstrdup(path ? path : "/usr/bin:/bin");
    char *save = NULL;
    int found_pg_config = 0;
    for (char *d = strtok_r(paths, ":", &save); d && rc < 0; d = strtok_r(NULL, ":", &save)) {
        char exe[4200];
        snprintf(exe, sizeof exe, "%s/pg_config", d);
        if (access(exe, X_OK) != 0)
            continue;
        found_pg_config = 1;
        char *argv[] = {exe, "--bindir", NULL};
        rh_buf b;
        rh_buf_init(&b);
        rh_err ignored;
        if (rh_spawn_capture(argv, &b, &ignored) == 0) {
            while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
                b.data[--b.len] = '\0';
            rc = try_dir(out, b.data, "pg_config", want, major, minor, &tried);
        }
        rh_buf_free(&b);
        break;
    }
    free(paths);
    if (rc < 0 && !found_pg_config)
        rh_buf_puts(&tried, "  pg_config: not on PATH\n");

    /* Debian/Ubuntu layout: the wanted major, or the highest installed one. */
    if (rc < 0) {
        DIR *d = opendir("/usr/lib/postgresql");
        int best = -1;
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                int v = atoi(e->d_name);
                char dir[4096];
                snprintf(dir, sizeof dir, "/usr/lib/postgresql/%.200s/bin", e->d_name);
                if (v > best && (!want || v == major) && has_binaries(dir))
                    best = v;
            }
            closedir(d);
        }
        if (best >= 0) {
            char dir[4096];
            snprintf(dir, sizeof dir, "/usr/lib/postgresql/%d/bin", best);
            rc = try_dir(out, dir, "installed package", want, major, minor, &tried);
        } else if (want) {
            rh_buf_printf(&tried, "  /usr/lib/postgresql/%d/bin: not installed\n", major);
        } else {
            rh_buf_puts(&tried, "  /usr/lib/postgresql/*/bin: none with initdb and postgres\n");
        }
    }

    /* rehearse's own installs (`rehearse pg install`): the highest matching version. */
    if (rc < 0) {
        char dir[4096];
        if (rh_pginstall_find(dir, sizeof dir, want ? major : 0, minor, &tried) == 0)
            rc = try_dir(out, dir, "rehearse pg install", want, major, minor, &tried);
    }
    if (rc == 0) {
        rh_buf_free(&tried);
        return 0;
    }
    if (want)
        rh_err_set(err,
                   "cannot find PostgreSQL %s (asked by %s). Tried:\n%s"
                   "Install it with `rehearse pg install %s` (or apt-get install postgresql-%d), or name its "
                   "folder with --pg-bin DIR.",
                   want, want_from, tried.data, want, major);
    else
        rh_err_set(err,
                   "cannot find the PostgreSQL server programs (initdb, postgres). Tried:\n%s"
                   "Install them (Debian/Ubuntu: apt-get install postgresql, or `rehearse pg install 17`) or name "
                   "their folder with --pg-bin DIR or PG_BINDIR=DIR.",
                   tried.data);
    rh_buf_free(&tried);
    return -1;
}
