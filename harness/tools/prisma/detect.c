/*
 * detect.c — which Prisma a revision uses and where its migrations folder is (see detect.h).
 *
 * The version comes from the `prisma` dependency (else `@prisma/client`) of a package.json, a
 * range resolving to its minimum, refined by the exact version in the lock file that installs that
 * package (npm, pnpm, yarn classic and berry): its workspace root's, else its own folder's, as the
 * package manager decides. Monorepos: the package.json closest to the migrations folder wins.
 */
#include "tools/prisma/detect.h"

#include <ctype.h>
#include <json-c/json.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/prisma/profile.h"
#include "tools/prisma/lockfile.h"
#include "util/buf.h"

#define MAX_DEPTH 8

typedef struct pkg_hit {
    char *path;      /* the package.json */
    char *dir;       /* its folder ("" for the root) */
    char *name;      /* "prisma" or "@prisma/client" */
    char *range;
    const char *key; /* "dependencies" / "devDependencies" */
    int depth;
} pkg_hit;

typedef struct pkg_scan {
    rh_git_repo *repo;
    const rh_git_rev *rev;
    pkg_hit *hits;
    size_t n;
    char *schema_setting; /* package.json "prisma": {"schema": ...}, resolved from the root, first found */
    char *bad_json;       /* the first package.json that is not JSON: "path:line: why" */
} pkg_scan;

static char *dirname_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? rh_xstrndup(path, (size_t)(slash - path)) : rh_xstrdup("");
}

static char *join2(const char *a, const char *b)
{
    if (!a || !*a)
        return rh_xstrdup(b);
    return rh_xasprintf("%s/%s", a, b);
}

static int depth_of(const char *path)
{
    int d = 0;
    for (const char *p = path; *p; p++)
        d += *p == '/';
    return d;
}

static void add_hit(pkg_scan *s, const char *path, const char *name, const char *range, const char *key)
{
    s->hits = rh_xrealloc(s->hits, (s->n + 1) * sizeof *s->hits);
    pkg_hit *h = &s->hits[s->n++];
    h->path = rh_xstrdup(path);
    h->dir = dirname_of(path);
    h->name = rh_xstrdup(name);
    h->range = rh_xstrdup(range);
    h->key = key;
    h->depth = depth_of(path);
}

static int on_package_json(const char *relpath, void *ctx)
{
    pkg_scan *s = ctx;
    char *data = NULL;
    size_t len = 0;
    rh_err err;
    if (rh_git_read_file(s->repo, s->rev, relpath, &data, &len, &err) != 1)
        return 0;
    json_tokener *tok = json_tokener_new();
    json_object *root = json_tokener_parse_ex(tok, data, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (!root || jerr != json_tokener_success) {
        /* remembered: if no other package.json names Prisma, the user must hear why */
        if (!s->bad_json) {
            size_t at = json_tokener_get_parse_end(tok);
            int line = 1;
            for (size_t i = 0; i < at && i < len; i++)
                line += data[i] == '\n';
            s->bad_json = rh_xasprintf("%s:%d: not valid JSON (%s)", relpath, line,
                                       jerr == json_tokener_continue ? "unexpected end of file"
                                                                     : json_tokener_error_desc(jerr));
        }
        json_object_put(root);
        json_tokener_free(tok);
        free(data);
        return 0;
    }
    json_tokener_free(tok);
    free(data);
    static const char *const keys[] = {"dependencies", "devDependencies"};
    static const char *const names[] = {"prisma", "@prisma/client"};
    for (int n = 0; n < 2; n++) {
        for (int k = 0; k < 2; k++) {
            json_object *deps, *v;
            if (json_object_object_get_ex(root, keys[k], &deps) && json_object_object_get_ex(deps, names[n], &v) &&
                json_object_is_type(v, json_type_string)) {
                add_hit(s, relpath, names[n], json_object_get_string(v), keys[k]);
                goto deps_done;
            }
        }
    }
deps_done:;
    json_object *pr, *schema;
    if (!s->schema_setting && json_object_object_get_ex(root, "prisma", &pr) &&
        json_object_object_get_ex(pr, "schema", &schema) && json_object_is_type(schema, json_type_string)) {
        char *dir = dirname_of(relpath);
        const char *sp = json_object_get_string(schema);
        while (sp[0] == '.' && sp[1] == '/')
            sp += 2;
        s->schema_setting = join2(dir, sp);
        free(dir);
    }
    json_object_put(root);
    return 0;
}

static void scan_free(pkg_scan *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->hits[i].path);
        free(s->hits[i].dir);
        free(s->hits[i].name);
        free(s->hits[i].range);
    }
    free(s->hits);
    free(s->schema_setting);
    free(s->bad_json);
}

static int scan_packages(rh_git_repo *repo, const rh_git_rev *rev, pkg_scan *s, rh_err *err)
{
    memset(s, 0, sizeof *s);
    s->repo = repo;
    s->rev = rev;
    return rh_git_find_files(repo, rev, "package.json", MAX_DEPTH, on_package_json, s, err);
}

/* Is dir an ancestor of (or equal to) path? "" is everyone's ancestor. */
static int is_ancestor(const char *dir, const char *path)
{
    size_t n = strlen(dir);
    if (n == 0)
        return 1;
    return strncmp(dir, path, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static const pkg_hit *choose(const pkg_scan *s, const char *near)
{
    const pkg_hit *best = NULL;
    for (size_t i = 0; i < s->n; i++) {
        const pkg_hit *h = &s->hits[i];
        int anc = near && is_ancestor(h->dir, near);
        if (!best) {
            best = h;
            continue;
        }
        int best_anc = near && is_ancestor(best->dir, near);
        if (anc != best_anc) {
            if (anc)
                best = h;
            continue;
        }
        if (anc) { /* both hold `near`: the deeper one is closer */
            if (h->depth > best->depth)
                best = h;
        } else if (h->depth < best->depth) {
            best = h;
        }
        /* same place: "prisma" was added before "@prisma/client" for one file */
    }
    return best;
}

/*
 * The folder whose lock file installs the package in `pkgdir`: the root of the workspace it belongs
 * to (the closest parent folder whose package.json "workspaces" or pnpm-workspace.yaml names it),
 * else the package's own folder. *pnpm says the workspace is pnpm's (its lock file comes first).
 */
static char *installing_folder(rh_git_repo *repo, const rh_git_rev *rev, const char *pkgdir, int *pnpm)
{
    *pnpm = 0;
    if (!*pkgdir)
        return rh_xstrdup("");
    char *dir = dirname_of(pkgdir);
    for (;;) {
        const char *rel = pkgdir + strlen(dir);
        while (*rel == '/')
            rel++;
        for (int kind = 0; kind < 2; kind++) {
            char *path = join2(dir, kind == 0 ? "pnpm-workspace.yaml" : "package.json");
            char *data = NULL;
            size_t len = 0;
            rh_err err;
            int member = 0;
            if (rh_git_read_file(repo, rev, path, &data, &len, &err) == 1) {
                char **patterns = NULL;
                size_t n = rh_workspace_patterns(kind == 0 ? RH_WORKSPACE_PNPM : RH_WORKSPACE_PACKAGE_JSON, data,
                                                 len, &patterns);
                member = rh_workspace_has(patterns, n, rel);
                rh_workspace_patterns_free(patterns, n);
            }
            free(data);
            free(path);
            if (member) {
                *pnpm = kind == 0;
                return dir;
            }
        }
        if (!*dir)
            break;
        char *up = dirname_of(dir);
        free(dir);
        dir = up;
    }
    free(dir);
    return rh_xstrdup(pkgdir);
}

/*
 * The version in the lock file of the folder that installs the package (see installing_folder):
 * never a parent's lock for a package outside any workspace, never a package's own stale lock when
 * a workspace installs it.
 */
static int from_lock_files(rh_git_repo *repo, const rh_git_rev *rev, const pkg_hit *h, char *version, size_t vsz,
                           char *lockpath, size_t lsz)
{
    int pnpm = 0;
    char *dir = installing_folder(repo, rev, h->dir, &pnpm);
    static const rh_lock_kind npm_first[] = {RH_LOCK_NPM, RH_LOCK_PNPM, RH_LOCK_YARN};
    static const rh_lock_kind pnpm_first[] = {RH_LOCK_PNPM, RH_LOCK_NPM, RH_LOCK_YARN};
    const rh_lock_kind *order = pnpm ? pnpm_first : npm_first;
    /* the package's folder relative to the lock file's folder: npm's nested keys, pnpm's importers */
    const char *rel = h->dir + strlen(dir);
    while (*rel == '/')
        rel++;
    int found = 0;
    for (int i = 0; i < 3 && !found; i++) {
        char *path = join2(dir, rh_lock_file_name(order[i]));
        char *data = NULL;
        size_t len = 0;
        rh_err err;
        if (rh_git_read_file(repo, rev, path, &data, &len, &err) == 1)
            found = rh_lock_version(order[i], data, h->name, rel, h->range, version, vsz);
        free(data);
        if (found)
            snprintf(lockpath, lsz, "%s", path);
        free(path);
    }
    free(dir);
    return found;
}

int rh_git_detect_prisma(rh_git_repo *repo, const rh_git_rev *rev, const char *near, rh_prisma_version *out,
                         rh_err *err)
{
    memset(out, 0, sizeof *out);
    pkg_scan s;
    if (scan_packages(repo, rev, &s, err) < 0) {
        scan_free(&s);
        return -1;
    }
    const pkg_hit *h = choose(&s, near);
    if (!h) {
        int bad = s.bad_json != NULL;
        if (bad)
            rh_err_set(err, "%s at %s", s.bad_json, rev->label);
        scan_free(&s);
        return bad ? -1 : 0;
    }
    snprintf(out->range, sizeof out->range, "%s", h->range);
    char lockver[64] = "", lockpath[1024] = "";
    int locked = from_lock_files(repo, rev, h, lockver, sizeof lockver, lockpath, sizeof lockpath);
    rh_profile p;
    rh_err perr;
    if (locked) {
        snprintf(out->version, sizeof out->version, "%s", lockver);
    } else if (rh_prisma_profile_from_version(&p, h->range, &perr) == 0) {
        snprintf(out->version, sizeof out->version, "%s", p.version);
    } else {
        out->version[0] = '\0';
    }
    rh_buf src;
    rh_buf_init(&src);
    rh_buf_printf(&src, "%s %s.%s %s", h->path, h->key, h->name, h->range);
    if (locked)
        rh_buf_printf(&src, ", %s %s", lockpath, lockver);
    size_t n = src.len < sizeof out->source - 1 ? src.len : sizeof out->source - 1;
    memcpy(out->source, src.data, n);
    out->source[n] = '\0';
    rh_buf_free(&src);
    int found = out->version[0] != '\0';
    if (!found)
        rh_err_set(err, "%s names Prisma as '%s', which is not a version or range rehearse can read", h->path, h->range);
    scan_free(&s);
    return found ? 1 : (rh_err_prefix(err, "at %s", rev->label), -1);
}

/* ---- the migrations folder -------------------------------------------------------------------------------- */

typedef struct schema_scan {
    rh_git_repo *repo;
    const rh_git_rev *rev;
    char *best;          /* folder of the best schema.prisma so far */
    int best_depth;
    int best_has_migrations;
} schema_scan;

static int on_schema(const char *relpath, void *ctx)
{
    schema_scan *s = ctx;
    char *dir = dirname_of(relpath);
    char *mig = join2(dir, "migrations");
    rh_err err;
    int has = rh_git_is_dir(s->repo, s->rev, mig, &err) == 1;
    int depth = depth_of(relpath);
    free(mig);
    if (!s->best || (has && !s->best_has_migrations) ||
        (has == s->best_has_migrations && depth < s->best_depth)) {
        free(s->best);
        s->best = dir;
        s->best_depth = depth;
        s->best_has_migrations = has;
    } else {
        free(dir);
    }
    return 0;
}

/* prisma.config.ts: `migrations: { path: "..." }` or `schema: "..."`, read with a light pattern. */
static char *from_prisma_config(rh_git_repo *repo, const rh_git_rev *rev)
{
    char *data = NULL;
    size_t len = 0;
    rh_err err;
    if (rh_git_read_file(repo, rev, "prisma.config.ts", &data, &len, &err) != 1)
        return NULL;
    char *result = NULL;
    regex_t re;
    regmatch_t m[2];
    if (regcomp(&re, "migrations[\"']?[ \t\r\n]*:[ \t\r\n]*\\{[^}]*path[\"']?[ \t\r\n]*:[ \t\r\n]*[\"'`]([^\"'`]+)[\"'`]",
                REG_EXTENDED) == 0) {
        if (regexec(&re, data, 2, m, 0) == 0)
            result = rh_xstrndup(data + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
        regfree(&re);
    }
    if (!result && regcomp(&re, "(^|[^A-Za-z_])schema[\"']?[ \t]*:[ \t]*[\"'`]([^\"'`]+)[\"'`]", REG_EXTENDED) == 0) {
        regmatch_t m3[3];
        if (regexec(&re, data, 3, m3, 0) == 0) {
            char *schema = rh_xstrndup(data + m3[2].rm_so, (size_t)(m3[2].rm_eo - m3[2].rm_so));
            size_t n = strlen(schema);
            if (n > 7 && strcmp(schema + n - 7, ".prisma") == 0)
                result = dirname_of(schema);
            else
                result = rh_xstrdup(schema);
            char *r2 = join2(result, "migrations");
            free(result);
            free(schema);
            result = r2;
        }
        regfree(&re);
    }
    free(data);
    if (result) {
        char *p = result;
        while (p[0] == '.' && p[1] == '/')
            p += 2;
        char *clean = rh_xstrdup(p);
        free(result);
        result = clean;
    }
    return result;
}

int rh_git_default_migrations(rh_git_repo *repo, const rh_git_rev *rev, char **out, rh_err *err)
{
    *out = NULL;
    /* 1. prisma.config.ts at the root (Prisma >= 6.x) */
    char *cfg = from_prisma_config(repo, rev);
    if (cfg) {
        *out = cfg;
        return 0;
    }
    /* 2. package.json "prisma": {"schema": ...} */
    pkg_scan ps;
    if (scan_packages(repo, rev, &ps, err) < 0) {
        scan_free(&ps);
        return -1;
    }
    if (ps.schema_setting) {
        const char *sp = ps.schema_setting;
        size_t n = strlen(sp);
        char *dir = (n > 7 && strcmp(sp + n - 7, ".prisma") == 0) ? dirname_of(sp) : rh_xstrdup(sp);
        *out = join2(dir, "migrations");
        free(dir);
        scan_free(&ps);
        return 0;
    }
    scan_free(&ps);
    /* 3. Prisma's default */
    int rc = rh_git_is_dir(repo, rev, "prisma/migrations", err);
    if (rc < 0)
        return -1;
    if (rc == 1) {
        *out = rh_xstrdup("prisma/migrations");
        return 0;
    }
    /* 4. next to a schema.prisma somewhere in the tree */
    schema_scan ss = {repo, rev, NULL, 0, 0};
    if (rh_git_find_files(repo, rev, "schema.prisma", MAX_DEPTH, on_schema, &ss, err) < 0) {
        free(ss.best);
        return -1;
    }
    if (ss.best) {
        *out = join2(ss.best, "migrations");
        free(ss.best);
        return 0;
    }
    return rh_err_set(err, "no migrations folder found at %s: no prisma/migrations, no schema.prisma, no "
                           "prisma.config.ts or package.json \"prisma.schema\" setting (give --migrations PATH)",
                      rev->label);
}
