/*
 * record.c — what rehearse knows about one of its clusters, in a file the server account cannot
 * write: RUN_DIR/ID.owner, next to (not inside) the cluster folder RUN_DIR/ID.
 *
 * The cluster folder belongs to the server account (PostgreSQL needs that), so anything in it —
 * postmaster.pid above all — may have been rewritten by a migration (COPY ... TO PROGRAM). The run
 * folder belongs to rehearse's account and is 0711: the server account can neither create, replace
 * nor rename files in it. A record is only believed when it is a regular file of rehearse's account
 * that no one else may write, in such a run folder.
 *
 *     owner PID START          the rehearse process that started the cluster
 *     server PID START UID     its postmaster (0 0 0 before it runs)
 *     exe:PATH                 the postmaster's executable (real path; empty before it runs)
 *     kept 0|1                 left running on purpose (--keep)
 *
 * The watchdog's "A" lines carry the same reference: "pid start uid<TAB>exe<TAB>dir".
 */
#include "cluster/internal.h"

#include "util/fs.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *rh_record_path(const char *dir)
{
    return rh_xasprintf("%s.owner", dir);
}

char *rh_record_pgpass_path(const char *dir)
{
    return rh_xasprintf("%s.pgpass", dir);
}

/* A folder or file only rehearse's account may change. */
static int trusted_stat(const struct stat *st)
{
    return st->st_uid == geteuid() && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

int rh_run_dir_trusted(const char *run, rh_err *err)
{
    struct stat st;
    if (lstat(run, &st) < 0)
        return rh_err_errno(err, "cannot inspect the run folder %s", run);
    if (!S_ISDIR(st.st_mode) || !trusted_stat(&st))
        return rh_err_set(err,
                          "the run folder %s is not a folder of uid %d that only it may write (owner uid %d, mode "
                          "%04o): another account could plant files there; remove it, or choose another "
                          "REHEARSE_RUN_DIR",
                          run, (int)geteuid(), (int)st.st_uid, (unsigned)(st.st_mode & 07777));
    return 0;
}

int rh_run_dir_prepare(const char *run, rh_err *err)
{
    if (rh_fs_mkdir_p(run, 0711, err) < 0)
        return -1;
    /* before the chmod: chmod follows a link, and /dev/shm lets any account plant one there */
    if (rh_run_dir_trusted(run, err) < 0)
        return -1;
    int fd = open(run, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return rh_err_errno(err, "cannot open the run folder %s", run);
    /* an existing run folder (a mkdtemp one) may be 0700: the server account must reach its folder inside */
    int rc = fchmod(fd, 0711) < 0 ? rh_err_errno(err, "cannot chmod the run folder %s", run) : 0;
    close(fd);
    return rc;
}

int rh_record_write(const char *dir, const rh_cluster_record *r, rh_err *err)
{
    assert(strchr(r->server.exe, '\n') == NULL);
    char *path = rh_record_path(dir);
    char *tmp = rh_xasprintf("%s.tmp", path);
    char *text = rh_xasprintf("owner %d %llu\nserver %d %llu %u\nexe:%s\nkept %d\n", (int)r->owner_pid,
                              r->owner_start, (int)r->server.pid, r->server.start, (unsigned)r->server.uid,
                              r->server.exe, r->kept ? 1 : 0);
    int rc = 0;
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len)
        rc = rh_err_errno(err, "cannot write %s", tmp);
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = rh_err_errno(err, "cannot write %s", tmp);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = rh_err_errno(err, "cannot rename %s to %s", tmp, path);
    if (rc < 0)
        unlink(tmp);
    free(text);
    free(tmp);
    free(path);
    return rc;
}

int rh_record_read(const char *dir, rh_cluster_record *r)
{
    memset(r, 0, sizeof *r);
    char *path = rh_record_path(dir);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return -1;
    struct stat st;
    char text[4096 + 256];
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && trusted_stat(&st))
        n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return -1;
    text[n] = '\0';
    return rh_record_parse(text, r);
}

int rh_record_parse(char *text, rh_cluster_record *r)
{
    memset(r, 0, sizeof *r);
    int pid = 0, spid = 0, kept = 0, used = 0;
    unsigned uid = 0;
    if (sscanf(text, "owner %d %llu\nserver %d %llu %u\nexe:%n", &pid, &r->owner_start, &spid, &r->server.start,
               &uid, &used) != 5 || used == 0)
        return -1;
    char *exe = text + used, *nl = strchr(exe, '\n');
    if (!nl || sscanf(nl + 1, "kept %d", &kept) != 1)
        return -1;
    *nl = '\0';
    if (strlen(exe) >= sizeof r->server.exe)
        return -1;
    r->owner_pid = (pid_t)pid;
    r->server.pid = (pid_t)spid;
    r->server.uid = (uid_t)uid;
    snprintf(r->server.exe, sizeof r->server.exe, "%s", exe);
    r->kept = kept;
    return 0;
}

void rh_record_remove(const char *dir)
{
    char *path = rh_record_path(dir);
    if (unlink(path) < 0 && errno != ENOENT) {
        /* nothing more to do: the reaper tries again */
    }
    free(path);
    path = rh_record_pgpass_path(dir);
    unlink(path);
    free(path);
}

int rh_watchdog_line_parse(char *text, rh_proc_ref *ref, char **dir)
{
    memset(ref, 0, sizeof *ref);
    int pid = 0, used = 0;
    unsigned long long start = 0;
    unsigned uid = 0;
    if (sscanf(text, "%d %llu %u%n", &pid, &start, &uid, &used) != 3 || text[used] != '\t')
        return -1;
    char *exe = text + used + 1, *tab = strchr(exe, '\t');
    if (!tab || (size_t)(tab - exe) >= sizeof ref->exe || pid < 0)
        return -1;
    *tab = '\0';
    ref->pid = (pid_t)pid;
    ref->start = start;
    ref->uid = (uid_t)uid;
    snprintf(ref->exe, sizeof ref->exe, "%s", exe);
    *dir = tab + 1;
    return 0;
}
