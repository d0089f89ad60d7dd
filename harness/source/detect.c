/*
 * detect.c — which Prisma a revision uses and where its migrations folder is (see git.h).
 *
 * The version comes from the `prisma` dependency (else `@prisma/client`) of a package.json, a
 * range resolving to its minimum, refined by the exact version in a lock file of that package or
 * of a parent folder (npm, pnpm, yarn classic and berry). Monorepos: the package.json closest to
 * the migrations folder wins.
 */
#include "source/git.h"

#include <ctype.h>
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

/* pnpm-lock.yaml: package keys "/prisma/5.0.0:" (v5), "/prisma@6.1.0:" (v6), "prisma@6.19.3:" (v9). */
static int from_pnpm_lock(const char *data, const char *pkgname, char *out, size_t outsz)
{
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

/* yarn.lock: a block whose key line lists "prisma@..." then `  version "6.19.3"` (v1) or `  version: 6.19.3`. */
static int from_yarn_lock(const char *data, const char *pkgname, char *out, size_t outsz)
{
    size_t pn = strlen(pkgname);
    const char *p = data;
    int in_block = 0;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > 0 && !isspace((unsigned char)p[0])) {
            in_block = 0;
            /* key line: comma-separated specifiers, each maybe quoted */
            const char *q = p, *end = p + len;
            while (q < end) {
                while (q < end && (*q == ' ' || *q == ',' || *q == '"'))
                    q++;
                if ((size_t)(end - q) > pn && strncmp(q, pkgname, pn) == 0 && q[pn] == '@') {
                    in_block = 1;
                    break;
                }
                while (q < end && *q != ',')
                    q++;
            }
        } else if (in_block) {
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
                    return 1;
                }
            }
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return 0;
}

/* Look for a lock file in the package's folder, then each parent up to the root. */
static int from_lock_files(rh_git_repo *repo, const rh_git_rev *rev, const pkg_hit *h, char *version, size_t vsz,
                           char *lockpath, size_t lsz)
{
    char *dir = rh_xstrdup(h->dir);
    for (;;) {
        static const char *const locks[] = {"package-lock.json", "pnpm-lock.yaml", "yarn.lock"};
        for (int i = 0; i < 3; i++) {
            char *path = join2(dir, locks[i]);
            char *data = NULL;
            size_t len = 0;
            rh_err err;
            int found = 0;
            if (rh_git_read_file(repo, rev, path, &data, &len, &err) == 1) {
                /* the package's folder relative to the lock file's folder, for npm workspaces */
                const char *rel = h->dir + strlen(dir);
                while (*rel == '/')
                    rel++;
                if (i == 0)
                    found = from_package_lock(data, h->name, rel, version, vsz);
                else if (i == 1)
                    found = from_pnpm_lock(data, h->name, version, vsz);
                else
                    found = from_yarn_lock(data, h->name, version, vsz);
            }
            free(data);
            if (found) {
                snprintf(lockpath, lsz, "%s", path);
                free(path);
                free(dir);
                return 1;
            }
            free(path);
        }
        if (!*dir)
            break;
        char *up = dirname_of(dir);
        free(dir);
        dir = up;
    }
    free(dir);
    return 0;
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
