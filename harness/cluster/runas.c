/*
 * runas.c — whom initdb and postgres run as. Both refuse to run as root, and these machines (and
 * most CI runners) are root, so rehearse drops to an unprivileged account for them.
 */
#include "cluster/internal.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int rh_runas_resolve(rh_runas *out, const char *requested, rh_err *err)
{
    memset(out, 0, sizeof *out);
    if (geteuid() != 0) {
        if (requested && *requested) {
            struct passwd *me = getpwuid(geteuid());
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
        struct passwd *pw = getpwnam(candidates[i]);
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
