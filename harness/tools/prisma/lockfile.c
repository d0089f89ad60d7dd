/* lockfile.c — package managers' lock and workspace files, read as text (see lockfile.h). */
#include "tools/prisma/lockfile.h"

#include <ctype.h>
#include <fnmatch.h>
#include <json-c/json.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

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

/* ---- workspaces ------------------------------------------------ */

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

int rh_workspace_has(char *const *patterns, size_t n, const char *rel)
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

void rh_workspace_patterns_free(char **patterns, size_t n)
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

const char *rh_lock_file_name(rh_lock_kind kind)
{
    switch (kind) {
    case RH_LOCK_NPM: return "package-lock.json";
    case RH_LOCK_PNPM: return "pnpm-lock.yaml";
    case RH_LOCK_YARN: return "yarn.lock";
    }
    return "?";
}

int rh_lock_version(rh_lock_kind kind, const char *data, const char *pkgname, const char *pkgdir_rel,
                    const char *range, char *out, size_t outsz)
{
    switch (kind) {
    case RH_LOCK_NPM: return from_package_lock(data, pkgname, pkgdir_rel, out, outsz);
    case RH_LOCK_PNPM: return from_pnpm_lock(data, pkgname, pkgdir_rel, out, outsz);
    case RH_LOCK_YARN: return from_yarn_lock(data, pkgname, range, out, outsz);
    }
    return 0;
}

size_t rh_workspace_patterns(rh_workspace_kind kind, const char *data, size_t len, char ***out)
{
    return kind == RH_WORKSPACE_PNPM ? pnpm_workspaces(data, out) : json_workspaces(data, len, out);
}
