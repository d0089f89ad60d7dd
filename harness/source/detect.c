/*
 * detect.c — which Prisma a revision uses and where its migrations folder is (see git.h).
 *
 * The version comes from the `prisma` dependency (else `@prisma/client`) of a package.json, a
 * range resolving to its minimum, refined by the exact version in the lock file that installs that
 * package (npm, pnpm, yarn classic and berry): its workspace root's, else its own folder's, as the
 * package manager decides. Monorepos: the package.json closest to the migrations folder wins.
 */
#include "source/git.h"

#include <ctype.h>
#include <fnmatch.h>
#include <json-c/json.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrations/profile.h"
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

/* ---- lock files ---------------------------------------------------------------------------------------- */

static int from_package_lock(const char *data, const char *pkgname, const char *pkgdir_rel, char *out, size_t outsz)
{
    json_object *root = json_tokener_parse(data);
    if (!root)
        return 0;
    int found = 0;
    json_object *packages, *entry, *ver, *deps;
    char key[1024];
    /* lockfile v2/v3: "packages": {"node_modules/prisma": {"version": ...}} (workspace-nested first) */
    if (json_object_object_get_ex(root, "packages", &packages)) {
        if (pkgdir_rel && *pkgdir_rel) {
            snprintf(key, sizeof key, "%s/node_modules/%s", pkgdir_rel, pkgname);
            if (json_object_object_get_ex(packages, key, &entry) && json_object_object_get_ex(entry, "version", &ver)) {
                snprintf(out, outsz, "%s", json_object_get_string(ver));
                found = 1;
            }
        }
        snprintf(key, sizeof key, "node_modules/%s", pkgname);
        if (!found && json_object_object_get_ex(packages, key, &entry) &&
            json_object_object_get_ex(entry, "version", &ver)) {
            snprintf(out, outsz, "%s", json_object_get_string(ver));
            found = 1;
        }
    }
    /* lockfile v1: "dependencies": {"prisma": {"version": ...}} */
    if (!found && json_object_object_get_ex(root, "dependencies", &deps) &&
        json_object_object_get_ex(deps, pkgname, &entry) && json_object_object_get_ex(entry, "version", &ver)) {
        snprintf(out, outsz, "%s", json_object_get_string(ver));
        found = 1;
    }
    json_object_put(root);
    return found;
}

static void regex_escape(rh_buf *b, const char *s)
{
    for (; *s; s++) {
        if (strchr(".[]()*+?{}|^$\\/", *s))
            rh_buf_putc(b, '\\');
        rh_buf_putc(b, *s);
    }
}

static size_t indent_of(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && line[i] == ' ')
        i++;
    return i;
}

/* "6.0.1(typescript@5.6.3)" (v6+), "6.0.1_typescript@5.6.3" (v5): the version alone. */
static int copy_pnpm_version(const char *v, size_t len, char *out, size_t outsz)
{
    while (len > 0 && (*v == '\'' || *v == '"' || *v == ' '))
        v++, len--;
    size_t n = 0;
    while (n < len && (isalnum((unsigned char)v[n]) || v[n] == '.' || v[n] == '-' || v[n] == '+'))
        n++;
    if (n == 0 || !isdigit((unsigned char)v[0]))
        return 0; /* "link:../x", "file:..." name no registry version */
    snprintf(out, outsz, "%.*s", (int)n, v);
    return 1;
}

/*
 * pnpm-lock.yaml's importer of the package folder `importer` ("." for the lock file's own folder):
 *   importers:
 *     packages/db:
 *       devDependencies:
 *         prisma:
 *           specifier: ^6.0.1
 *           version: 6.0.1(typescript@5.6.3)      (lockfile v6, v9; v5: `prisma: 6.0.1`)
 */
static int from_pnpm_importer(const char *data, const char *pkgname, const char *importer, char *out, size_t outsz)
{
    size_t pn = strlen(pkgname), in = strlen(importer);
    int in_importers = 0, in_mine = 0, in_deps = 0, in_pkg = 0;
    for (const char *p = data; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        size_t ind = indent_of(p, len);
        const char *t = p + ind;
        size_t tl = len - ind;
        while (tl > 0 && (t[tl - 1] == '\r' || t[tl - 1] == ' '))
            tl--;
        if (tl == 0 || *t == '#') {
            /* blank lines and comments end nothing */
        } else if (ind == 0) {
            in_importers = tl == 10 && strncmp(t, "importers:", 10) == 0;
            in_mine = in_deps = in_pkg = 0;
        } else if (in_importers && ind == 2) {
            const char *k = t;
            size_t kl = tl;
            if (kl > 0 && k[kl - 1] == ':')
                kl--;
            else if (kl > 4 && strncmp(k + kl - 4, ": {}", 4) == 0)
                kl -= 4;
            if (kl >= 2 && (k[0] == '\'' || k[0] == '"') && k[kl - 1] == k[0])
                k++, kl -= 2;
            in_mine = kl == in && strncmp(k, importer, in) == 0;
            in_deps = in_pkg = 0;
        } else if (in_mine && ind == 4) {
            in_deps = (tl == 13 && strncmp(t, "dependencies:", 13) == 0) ||
                      (tl == 16 && strncmp(t, "devDependencies:", 16) == 0) ||
                      (tl == 21 && strncmp(t, "optionalDependencies:", 21) == 0);
            in_pkg = 0;
        } else if (in_deps && ind == 6) {
            const char *k = t;
            size_t kl = tl;
            if (kl > 0 && (*k == '\'' || *k == '"'))
                k++, kl--;
            in_pkg = 0;
            if (kl > pn && strncmp(k, pkgname, pn) == 0 && (k[pn] == ':' || ((k[pn] == '\'' || k[pn] == '"') &&
                                                                             kl > pn + 1 && k[pn + 1] == ':'))) {
                const char *v = strchr(k + pn, ':') + 1;
                size_t vl = (size_t)(t + tl - v);
                while (vl > 0 && *v == ' ')
                    v++, vl--;
                if (vl > 0) /* lockfile v5: `prisma: 6.0.1` */
                    return copy_pnpm_version(v, vl, out, outsz);
                in_pkg = 1;
            }
        } else if (in_pkg && ind == 8 && tl > 8 && strncmp(t, "version:", 8) == 0) {
            return copy_pnpm_version(t + 8, tl - 8, out, outsz);
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return 0;
}

/*
 * pnpm-lock.yaml: the package folder's importer (see from_pnpm_importer), else the first package
 * key: "/prisma/5.0.0:" (v5), "/prisma@6.1.0:" (v6), "prisma@6.19.3:" (v9).
 */
static int from_pnpm_lock(const char *data, const char *pkgname, const char *pkgdir_rel, char *out, size_t outsz)
{
    if (from_pnpm_importer(data, pkgname, pkgdir_rel && *pkgdir_rel ? pkgdir_rel : ".", out, outsz))
        return 1;
    rh_buf pat;
    rh_buf_init(&pat);
    rh_buf_puts(&pat, "^[ ]+['\"]?/?");
    regex_escape(&pat, pkgname);
    rh_buf_puts(&pat, "[@/]([0-9]+\\.[0-9]+\\.[0-9]+[-+.0-9A-Za-z]*)['\"(:]");
    regex_t re;
    int found = 0;
    if (regcomp(&re, pat.data, REG_EXTENDED | REG_NEWLINE) == 0) {
        regmatch_t m[2];
        if (regexec(&re, data, 2, m, 0) == 0) {
            snprintf(out, outsz, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), data + m[1].rm_so);
            found = 1;
        }
        regfree(&re);
    }
    rh_buf_free(&pat);
    return found;
}

/*
 * yarn.lock: the block whose key line lists "prisma@RANGE" (v1) or "prisma@npm:RANGE" (berry) for the
 * package.json's range, else the first block listing "prisma@..."; then `  version "6.19.3"` (v1) or
 * `  version: 6.19.3` (berry).
 */
static int from_yarn_lock(const char *data, const char *pkgname, const char *range, char *out, size_t outsz)
{
    size_t pn = strlen(pkgname), rn = range ? strlen(range) : 0;
    const char *p = data;
    int in_block = 0, exact = 0, found = 0;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > 0 && !isspace((unsigned char)p[0])) {
            in_block = exact = 0;
            /* key line: comma-separated specifiers, each maybe quoted */
            const char *q = p, *end = p + len;
            while (q < end) {
                while (q < end && (*q == ' ' || *q == ',' || *q == '"'))
                    q++;
                const char *spec = q;
                while (q < end && *q != ',' && *q != '"' && !(*q == ':' && (q + 1 == end || q[1] == ' ')))
                    q++;
                size_t sl = (size_t)(q - spec);
                if (sl > pn && strncmp(spec, pkgname, pn) == 0 && spec[pn] == '@') {
                    in_block = 1;
                    const char *r = spec + pn + 1;
                    size_t rl = sl - pn - 1;
                    if (rl > 4 && strncmp(r, "npm:", 4) == 0)
                        r += 4, rl -= 4;
                    if (rn && rl == rn && strncmp(r, range, rn) == 0)
                        exact = 1;
                }
                while (q < end && *q != ',')
                    q++;
            }
        } else if (in_block && (exact || !found)) {
            const char *t = p;
            while (t < p + len && isspace((unsigned char)*t))
                t++;
            if (strncmp(t, "version", 7) == 0) {
                t += 7;
                while (t < p + len && (*t == ':' || *t == ' ' || *t == '"'))
                    t++;
                const char *ve = t;
                while (ve < p + len && *ve != '"' && !isspace((unsigned char)*ve))
                    ve++;
                if (ve > t) {
                    snprintf(out, outsz, "%.*s", (int)(ve - t), t);
                    found = 1;
                    if (exact)
                        return 1;
                    in_block = 0;
                }
            }
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return found;
}

/* ---- workspaces: which lock file installs a package ------------------------------------------------ */

/*
 * Does a workspace pattern ("./apps/api", a glob; an exclusion without its '!') name the package
 * folder `rel` (relative to the workspace root)? Globs as npm, yarn and pnpm read them: '*' within
 * one folder name, "**" across folders.
 */
static int workspace_pattern_matches(const char *pattern, const char *rel)
{
    while (pattern[0] == '.' && pattern[1] == '/')
        pattern += 2;
    char *pat = rh_xstrdup(pattern);
    size_t n = strlen(pat);
    while (n > 0 && pat[n - 1] == '/')
        pat[--n] = '\0';
    int flags = strstr(pat, "**") ? 0 : FNM_PATHNAME;
    int match = n > 0 && fnmatch(pat, rel, flags) == 0;
    free(pat);
    return match;
}

/* Is `rel` one of the workspace's packages: matched by a pattern and by no later '!' pattern? */
static int in_workspace(char *const *patterns, size_t n, const char *rel)
{
    int in = 0;
    for (size_t i = 0; i < n; i++) {
        if (patterns[i][0] == '!') {
            if (in && workspace_pattern_matches(patterns[i] + 1, rel))
                in = 0;
        } else if (!in && workspace_pattern_matches(patterns[i], rel)) {
            in = 1;
        }
    }
    return in;
}

static void free_patterns(char **patterns, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(patterns[i]);
    free(patterns);
}

/* package.json "workspaces": [...] (npm, yarn) or {"packages": [...]} (yarn classic). */
static size_t json_workspaces(const char *data, size_t len, char ***out)
{
    *out = NULL;
    json_tokener *tok = json_tokener_new();
    json_object *root = json_tokener_parse_ex(tok, data, (int)len);
    json_tokener_free(tok);
    json_object *ws = NULL, *list = NULL;
    size_t n = 0;
    if (root && json_object_object_get_ex(root, "workspaces", &ws)) {
        if (json_object_is_type(ws, json_type_array))
            list = ws;
        else if (json_object_is_type(ws, json_type_object))
            json_object_object_get_ex(ws, "packages", &list);
    }
    if (list && json_object_is_type(list, json_type_array)) {
        size_t k = json_object_array_length(list);
        *out = rh_xcalloc(k ? k : 1, sizeof **out);
        for (size_t i = 0; i < k; i++) {
            json_object *e = json_object_array_get_idx(list, i);
            if (json_object_is_type(e, json_type_string))
                (*out)[n++] = rh_xstrdup(json_object_get_string(e));
        }
    }
    json_object_put(root);
    return n;
}

/* pnpm-workspace.yaml: the items of its top-level `packages:` list (`  - 'apps/x'` items). */
static size_t pnpm_workspaces(const char *data, char ***out)
{
    *out = NULL;
    size_t n = 0;
    int in_packages = 0;
    for (const char *p = data; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > 0 && !isspace((unsigned char)p[0]) && p[0] != '#') {
            in_packages = strncmp(p, "packages:", 9) == 0;
        } else if (in_packages) {
            const char *t = p, *end = p + len;
            while (t < end && isspace((unsigned char)*t))
                t++;
            if (t < end && *t == '-') {
                t++;
                while (t < end && isspace((unsigned char)*t))
                    t++;
                const char *e = end;
                size_t rem = t < end ? (size_t)(end - t) : 0;
                const char *hash = rem ? memchr(t, '#', rem) : NULL;
                if (hash && (*t != '\'' && *t != '"'))
                    e = hash;
                while (e > t && isspace((unsigned char)e[-1]))
                    e--;
                if (e - t >= 2 && (*t == '\'' || *t == '"') && e[-1] == *t)
                    t++, e--;
                if (e > t) {
                    *out = rh_xrealloc(*out, (n + 1) * sizeof **out);
                    (*out)[n++] = rh_xstrndup(t, (size_t)(e - t));
                }
            }
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return n;
}

typedef enum lock_kind { LOCK_NPM, LOCK_PNPM, LOCK_YARN } lock_kind;

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
                size_t n = kind == 0 ? pnpm_workspaces(data, &patterns) : json_workspaces(data, len, &patterns);
                member = in_workspace(patterns, n, rel);
                free_patterns(patterns, n);
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
    static const char *const names[] = {"package-lock.json", "pnpm-lock.yaml", "yarn.lock"};
    static const lock_kind npm_first[] = {LOCK_NPM, LOCK_PNPM, LOCK_YARN};
    static const lock_kind pnpm_first[] = {LOCK_PNPM, LOCK_NPM, LOCK_YARN};
    const lock_kind *order = pnpm ? pnpm_first : npm_first;
    /* the package's folder relative to the lock file's folder: npm's nested keys, pnpm's importers */
    const char *rel = h->dir + strlen(dir);
    while (*rel == '/')
        rel++;
    int found = 0;
    for (int i = 0; i < 3 && !found; i++) {
        char *path = join2(dir, names[order[i]]);
        char *data = NULL;
        size_t len = 0;
        rh_err err;
        if (rh_git_read_file(repo, rev, path, &data, &len, &err) == 1) {
            if (order[i] == LOCK_NPM)
                found = from_package_lock(data, h->name, rel, version, vsz);
            else if (order[i] == LOCK_PNPM)
                found = from_pnpm_lock(data, h->name, rel, version, vsz);
            else
                found = from_yarn_lock(data, h->name, h->range, version, vsz);
        }
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
    } else if (rh_profile_from_version(&p, h->range, &perr) == 0) {
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
