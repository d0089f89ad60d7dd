/* pgbin.c — finding initdb and postgres, and which PostgreSQL version they are. */
#include "cluster/internal.h"

#include <dirent.h>
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

/* Ask `postgres --version` which version this is: the template cache is keyed on it. */
static int read_version(rh_pgbin *out, rh_err *err)
{
    char exe[4200];
    snprintf(exe, sizeof exe, "%s/postgres", out->bindir);
    char *argv[] = {exe, "--version", NULL};
    rh_buf b;
    rh_buf_init(&b);
    int rc = rh_spawn_capture(argv, &b, err);
    if (rc != 0) {
        if (rc > 0)
            rh_err_set(err, "%s --version failed (exit %d): %s", exe, rc, b.data);
        rh_buf_free(&b);
        return -1;
    }
    /* "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" */
    const char *p = strstr(b.data, ") ");
    char ver[64] = "";
    if (p)
        sscanf(p + 2, "%63[0-9.a-z]", ver);
    rh_buf_free(&b);
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

int rh_pgbin_find(rh_pgbin *out, const char *override, rh_err *err)
{
    memset(out, 0, sizeof *out);
    rh_buf tried;
    rh_buf_init(&tried);
    int rc = -1;

    if (override && *override) {
        if (has_binaries(override))
            rc = use_dir(out, override, err);
        else
            rh_err_set(err, "--pg-bin %s: no executable initdb and postgres there", override);
        rh_buf_free(&tried);
        return rc;
    }
    const char *env = getenv("PG_BINDIR");
    if (env && *env) {
        if (has_binaries(env)) {
            rh_buf_free(&tried);
            return use_dir(out, env, err);
        }
        rh_buf_printf(&tried, "  PG_BINDIR=%s: no initdb/postgres there\n", env);
    }

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
            if (has_binaries(b.data))
                rc = use_dir(out, b.data, err);
            else
                rh_buf_printf(&tried, "  %s --bindir: %s has no initdb/postgres (client-only install?)\n",
                              exe, b.data);
        }
        rh_buf_free(&b);
        break;
    }
    free(paths);
    if (rc == 0) {
        rh_buf_free(&tried);
        return 0;
    }
    if (!found_pg_config)
        rh_buf_puts(&tried, "  pg_config: not on PATH\n");

    /* Debian/Ubuntu layout: the highest installed major version wins. */
    DIR *d = opendir("/usr/lib/postgresql");
    int best = -1;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            int v = atoi(e->d_name);
            char dir[4096];
            snprintf(dir, sizeof dir, "/usr/lib/postgresql/%.200s/bin", e->d_name);
            if (v > best && has_binaries(dir))
                best = v;
        }
        closedir(d);
    }
    if (best >= 0) {
        char dir[4096];
        snprintf(dir, sizeof dir, "/usr/lib/postgresql/%d/bin", best);
        rh_buf_free(&tried);
        return use_dir(out, dir, err);
    }
    rh_buf_puts(&tried, "  /usr/lib/postgresql/*/bin: none with initdb and postgres\n");
    rh_err_set(err,
               "cannot find the PostgreSQL server programs (initdb, postgres). Tried:\n%s"
               "Install them (Debian/Ubuntu: apt-get install postgresql) or name their folder with "
               "--pg-bin DIR or PG_BINDIR=DIR.",
               tried.data);
    rh_buf_free(&tried);
    return -1;
}
