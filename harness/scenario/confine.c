/*
 * confine.c — where a scenario's files may be (issue 17.4). A scenario from a pull request runs as
 * root in CI: the files it names (include, sql-file, restore, expect catalog = file, repo,
 * migrations, and the scenario file itself) must resolve, symbolic links followed, inside its own
 * folder or the work tree of the git repository holding it (never its .git folder), or inside a
 * folder the user allowed on the command line. Otherwise nothing of the file is read, so no report
 * can quote it.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/parse_int.h"
#include "util/buf.h"
#include "util/fs.h"

static const char rule_hint[] = "a scenario reads files only inside its own folder and the git repository holding "
                                "it; `rehearse run --allow-path DIR` adds DIR";

static void add_root(rh_scenario *s, char *dir)
{
    for (size_t i = 0; i < s->nroots; i++)
        if (strcmp(s->roots[i], dir) == 0) {
            free(dir);
            return;
        }
    s->roots = rh_xrealloc(s->roots, (s->nroots + 1) * sizeof *s->roots);
    s->roots[s->nroots++] = dir;
}

void rh_scnp_set_roots(rh_scenario *s, const char *const *allow, size_t nallow)
{
    assert(s->dir && s->nroots == 0);
    char *dir = realpath(s->dir, NULL);
    add_root(s, dir ? dir : rh_xstrdup(s->dir));
    char *top = rh_fs_git_toplevel(s->dir);
    if (top)
        add_root(s, top);
    for (size_t i = 0; i < nallow; i++) {
        char *a = realpath(allow[i], NULL);
        add_root(s, a ? a : rh_xstrdup(allow[i]));
    }
}

/* 1 inside; 0 outside, err names the path, where it leads and the roots (not the rule); -1 unresolvable */
static int check(const rh_scenario *s, const char *path, rh_err *err)
{
    int in = rh_fs_inside(path, (const char *const *)s->roots, s->nroots, NULL);
    if (in < 0)
        return rh_err_errno(err, "cannot open %s", path);
    if (in == 0) {   /* rh_fs_read_inside words the refusal and reads nothing of an outside file */
        char *none = NULL;
        size_t n;
        if (rh_fs_read_inside(path, (const char *const *)s->roots, s->nroots, 0, &none, &n, err) == 0) {
            free(none);   /* it moved inside meanwhile: still refused, this time */
            rh_err_set(err, "%s changed while being checked", path);
        }
    }
    return in;
}

int rh_scn_path_allowed(const rh_scenario *s, const char *path, rh_err *err)
{
    rh_err e;
    int in = check(s, path, &e);
    if (in == 0)
        rh_err_set(err, "%.3900s (%s)", e.msg, rule_hint);
    else if (in < 0 && err)
        *err = e;
    return in;
}

int rh_scn_read_file(const rh_scenario *s, const char *path, char **data, size_t *len, rh_err *err)
{
    *data = NULL;
    if (rh_scn_path_allowed(s, path, err) <= 0)
        return -1;
    return rh_fs_read_inside(path, (const char *const *)s->roots, s->nroots, RH_FS_READ_MAX, data, len, err);
}

int rh_scnp_check_path(cur *c, const rh_tok *at, const char *path, const char *what)
{
    rh_err e;
    /* a path that does not resolve yet is reported when the step runs (the runner checks again) */
    if (check(c->p->s, path, &e) != 0)
        return 0;
    return rh_scnp_err(c, at, rule_hint, "%s: %s", what, e.msg);
}
