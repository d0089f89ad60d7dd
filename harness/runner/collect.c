/*
 * collect.c — which scenarios a run covers: files and folders expanded into a sorted list of
 * *.scenario files (dangling symlinks included, so that they are reported rather than lost), the
 * one selection rule (--shard, --filter on path or title) that `run` and `run --list` share, and
 * the stable shard partition for CI fleets.
 */
#include "runner/runner.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"

typedef struct list {
    char **items;
    size_t n, cap;
} list;

static void push(list *l, char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->items = rh_xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->n++] = s;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The folders being walked, outermost first: a symlink back to one of them is a cycle. */
typedef struct ancestry {
    dev_t dev[34];
    ino_t ino[34];
    int n;
} ancestry;

/* Walk a folder for *.scenario; hidden folders (.git) are skipped, symlink cycles are not followed. */
static int walk(const char *dir, list *out, int depth, ancestry *up, rh_err *err)
{
    if (depth > 32)
        return 0;
    struct stat self;
    int pushed = 0;
    if (stat(dir, &self) == 0) {
        for (int i = 0; i < up->n; i++)
            if (up->dev[i] == self.st_dev && up->ino[i] == self.st_ino)
                return 0;   /* a link back up: every file below was found already */
        up->dev[up->n] = self.st_dev;
        up->ino[up->n] = self.st_ino;
        up->n++;
        pushed = 1;
    }
    int rc = 0;
    DIR *d = opendir(dir);
    if (!d) {
        rc = rh_err_errno(err, "cannot read folder %s", dir);
        goto out;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *path = strcmp(dir, ".") == 0 ? rh_xstrdup(e->d_name) : rh_xasprintf("%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) < 0) {
            /* a *.scenario link to nothing is a scenario gone missing: keep it, the run reports it */
            if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode) && ends_with(e->d_name, ".scenario"))
                push(out, path);
            else
                free(path);
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            rc = walk(path, out, depth + 1, up, err);
            free(path);
            if (rc < 0)
                break;
        } else if (S_ISREG(sb.st_mode) && ends_with(e->d_name, ".scenario")) {
            push(out, path);
        } else {
            free(path);
        }
    }
    closedir(d);
out:
    if (pushed)
        up->n--;
    return rc;
}

/* The same file under two names (a symlinked folder): keep the first name in path order. */
static size_t drop_same_files(char **items, size_t n)
{
    dev_t *dev = rh_xcalloc(n + 1, sizeof *dev);
    ino_t *ino = rh_xcalloc(n + 1, sizeof *ino);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        int dup = 0;
        if (stat(items[i], &sb) == 0) {
            for (size_t j = 0; j < k && !dup; j++)
                dup = dev[j] == sb.st_dev && ino[j] == sb.st_ino && (dev[j] || ino[j]);
        } else {
            memset(&sb, 0, sizeof sb);   /* (0, 0) matches nothing: two dangling links are two problems */
        }
        if (dup) {
            free(items[i]);
            continue;
        }
        dev[k] = sb.st_dev;
        ino[k] = sb.st_ino;
        items[k++] = items[i];
    }
    free(dev);
    free(ino);
    return k;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "./x/y/" -> "x/y": the same file is named the same way whatever the user typed. */
static char *normalise(const char *p)
{
    while (p[0] == '.' && p[1] == '/')
        p += 2;
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    return rh_xstrndup(p, n);
}

int rh_runner_collect(const char *const *paths, size_t npaths, char ***files, size_t *nfiles, rh_err *err)
{
    list out = {0};
    for (size_t i = 0; i < npaths; i++) {
        char *p = normalise(paths[i]);
        struct stat sb;
        if (stat(p, &sb) < 0) {
            if (rh_runner_check_link(p, err) == 0)
                rh_err_errno(err, "%s", p);
            free(p);
            goto fail;
        }
        if (S_ISDIR(sb.st_mode)) {
            ancestry up = {.n = 0};
            int rc = walk(p, &out, 0, &up, err);
            free(p);
            if (rc < 0)
                goto fail;
        } else {
            push(&out, p);
        }
    }
    if (out.n)
        qsort(out.items, out.n, sizeof *out.items, cmp);
    /* drop duplicates (a file named and also found in a folder) */
    size_t k = 0;
    for (size_t i = 0; i < out.n; i++) {
        if (k && strcmp(out.items[k - 1], out.items[i]) == 0)
            free(out.items[i]);
        else
            out.items[k++] = out.items[i];
    }
    *files = out.items;
    *nfiles = drop_same_files(out.items, k);
    return 0;
fail:
    for (size_t i = 0; i < out.n; i++)
        free(out.items[i]);
    free(out.items);
    *files = NULL;
    *nfiles = 0;
    return -1;
}

int rh_runner_check_link(const char *path, rh_err *err)
{
    struct stat sb;
    if (stat(path, &sb) == 0 || lstat(path, &sb) < 0 || !S_ISLNK(sb.st_mode))
        return 0;
    char target[4096];
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0)
        return rh_err_errno(err, "%s: error: a symlink that cannot be read", path);
    target[n] = 0;
    return rh_err_set(err,
                      "%s: error: a symlink to '%s', which does not exist\n"
                      "  hint: restore the target, or delete the link if the scenario was removed on purpose",
                      path, target);
}

/* Path first (no parsing needed); the title only when the path does not match. */
int rh_runner_selects(const rh_runner_opts *o, const char *path, const char *title)
{
    if (o->shard_n > 1 && !rh_runner_in_shard(path, o->shard_k, o->shard_n))
        return 0;
    if (!o->filter)
        return 1;
    return strstr(path, o->filter) != NULL || (title && strstr(title, o->filter) != NULL);
}

int rh_runner_select_file(const rh_runner_opts *o, const char *path, rh_err *err)
{
    if (!rh_runner_selects(o, path, NULL)) {
        if (!o->filter || (o->shard_n > 1 && !rh_runner_in_shard(path, o->shard_k, o->shard_n)))
            return 0;
        /* the path does not match: the title may (a file that does not parse has none, as in a run) */
        rh_scenario *s = NULL;
        rh_err perr;
        rh_scn_tools tools;
        rh_runner_scn_tools(&tools);
        int sel = rh_scn_parse_file_allow(&s, path, o->allow, o->nallow, &tools, &perr) == 0 &&
                  rh_runner_selects(o, path, s->name);
        rh_scn_free(s);
        if (!sel)
            return 0;
    }
    return rh_runner_check_link(path, err) < 0 ? -1 : 1;
}

/* FNV-1a of the path: adding or removing other files never moves a scenario between shards. */
int rh_runner_in_shard(const char *path, int k, int n)
{
    if (n <= 1)
        return 1;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return (int)(h % (uint64_t)n) == k - 1;
}

int rh_runner_parse_shard(const char *s, int *k, int *n, rh_err *err)
{
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10);
    if (end == s || *end != '/')
        return rh_err_set(err, "--shard %s: expected K/N, e.g. 2/4", s);
    const char *q = end + 1;
    long b = strtol(q, &end, 10);
    if (end == q || *end || errno || a < 1 || b < 1 || a > b || b > 10000)
        return rh_err_set(err, "--shard %s: expected K/N with 1 <= K <= N, e.g. 2/4", s);
    *k = (int)a;
    *n = (int)b;
    return 0;
}
