/*
 * runas.c — whom initdb and postgres run as. Both refuse to run as root, and these machines (and
 * most CI runners) are root, so rehearse drops to an unprivileged account for them.
 */
#include "cluster/internal.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The account's entry in buf (getpwnam_r/getpwuid_r): rh_cluster_start runs on several threads at once
 * (check's isolated paths: the clean deploy's cluster and the fork's twins), and getpwnam's one static
 * entry would be rewritten by one thread while another reads it. NULL when there is no such account.
 */
typedef struct pw_entry {
    struct passwd pw;
    char buf[16384];
} pw_entry;

static struct passwd *pw_by_name(const char *name, pw_entry *e)
{
    struct passwd *found = NULL;
    return getpwnam_r(name, &e->pw, e->buf, sizeof e->buf, &found) == 0 ? found : NULL;
}

static struct passwd *pw_by_uid(uid_t uid, pw_entry *e)
{
    struct passwd *found = NULL;
    return getpwuid_r(uid, &e->pw, e->buf, sizeof e->buf, &found) == 0 ? found : NULL;
}

int rh_runas_resolve(rh_runas *out, const char *requested, rh_err *err)
{
    pw_entry e;
    memset(out, 0, sizeof *out);
    if (geteuid() != 0) {
        if (requested && *requested) {
            struct passwd *me = pw_by_uid(geteuid(), &e);
            if (!me || strcmp(me->pw_name, requested) != 0)
                return rh_err_set(err, "--run-as %s: only root can run the server as another account",
                                  requested);
        }
        return 0;
    }
    const char *candidates[3] = {requested, NULL, NULL};
    if (!requested || !*requested) {
        candidates[0] = "postgres";
        candidates[1] = "nobody";
    }
    for (int i = 0; i < 3 && candidates[i]; i++) {
        struct passwd *pw = pw_by_name(candidates[i], &e);
        if (!pw)
            continue;
        if (pw->pw_uid == 0)
            return rh_err_set(err, "--run-as %s: that account is root; PostgreSQL refuses to run as root",
                              candidates[i]);
        out->active = 1;
        out->uid = pw->pw_uid;
        out->gid = pw->pw_gid;
        snprintf(out->name, sizeof out->name, "%s", pw->pw_name);
        return 0;
    }
    if (requested && *requested)
        return rh_err_set(err, "--run-as %s: no such account", requested);
    return rh_err_set(err, "running as root, and neither a 'postgres' nor a 'nobody' account exists to run "
                           "the server as; create one or pass --run-as USER");
}

int rh_runas_drop(const rh_runas *ra)
{
    if (!ra->active)
        return 0;
    if (setgroups(0, NULL) < 0)
        return -1;
    if (setgid(ra->gid) < 0)
        return -1;
    if (setuid(ra->uid) < 0)
        return -1;
    return 0;
}

/* Whether the account may search (directory) or execute (file) st: owner, then primary group (the
   children drop every supplementary group), then others. ACLs are not looked at. */
static int account_may_x(const struct stat *st, const rh_runas *ra)
{
    if (st->st_uid == ra->uid)
        return (st->st_mode & S_IXUSR) != 0;
    if (st->st_gid == ra->gid)
        return (st->st_mode & S_IXGRP) != 0;
    return (st->st_mode & S_IXOTH) != 0;
}

/* The first component of path (every parent folder, then path itself) the account may not pass. */
static int first_denied(const rh_runas *ra, const char *path, char *out, size_t outsz, struct stat *st)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (stat(p, st) == 0 && !account_may_x(st, ra)) {
            snprintf(out, outsz, "%s", p);
            return 1;
        }
        *s = saved;
        if (saved == '\0')
            return 0;
    }
}

int rh_runas_check_reach(const rh_runas *ra, const char *path, const char *what, const char *instead, rh_err *err)
{
    if (!ra->active || path[0] != '/')
        return 0;
    char denied[PATH_MAX], real[PATH_MAX];
    struct stat st;
    /* the path as given (a link's own folders), then where it leads */
    int found = first_denied(ra, path, denied, sizeof denied, &st);
    if (!found && realpath(path, real))
        found = first_denied(ra, real, denied, sizeof denied, &st);
    if (!found)
        return 0;
    pw_entry e;
    struct passwd *owner = pw_by_uid(st.st_uid, &e);
    char owner_name[64];
    if (owner)
        snprintf(owner_name, sizeof owner_name, "%s", owner->pw_name);
    else
        snprintf(owner_name, sizeof owner_name, "uid %d", (int)st.st_uid);
    int is_dir = S_ISDIR(st.st_mode);
    return rh_err_set(err,
                      "%s %s: the server account '%s' (uid %d), which initdb and postgres run as because rehearse runs "
                      "as root, cannot %s %s (mode %04o, owner %s). Make it reachable (e.g. chmod o+x %s), %s, or "
                      "run the server as an account that can reach it (--run-as USER)",
                      what, path, ra->name, (int)ra->uid, is_dir ? "search the folder" : "execute", denied,
                      (unsigned)(st.st_mode & 07777), owner_name, denied, instead);
}
