/* testlib.c — shared test helpers (see testlib.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fs.h"

static rh_cluster *shared_cluster;
static char *tmpdirs[256];
static int ntmpdirs;
static int dbseq;

static void cleanup(void)
{
    rh_err err;
    if (shared_cluster)
        rh_cluster_stop(shared_cluster, &err);
    shared_cluster = NULL;
    for (int i = 0; i < ntmpdirs; i++) {
        rh_fs_rmtree(tmpdirs[i], &err);
        free(tmpdirs[i]);
    }
    ntmpdirs = 0;
}

static void register_cleanup(void)
{
    static int done;
    if (!done) {
        atexit(cleanup);
        done = 1;
    }
}

rh_cluster *rh_test_cluster(void)
{
    if (shared_cluster)
        return shared_cluster;
    register_cleanup();
    rh_err err;
    /*
     * As the superuser: the module tests use SQL a migration role may not run (file_fdw, publications
     * FOR ALL TABLES). The migration role is tested where it matters: test_cluster, test_security and
     * the CLI tests, which run with rehearse's defaults.
     */
    rh_cluster_opts opts = {.superuser = 1};
    if (rh_cluster_start(&shared_cluster, &opts, &err) < 0) {
        fprintf(stderr, "cannot start a test cluster: %s\n", err.msg);
        fail();
    }
    return shared_cluster;
}

PGconn *rh_test_fresh_db(char **dbname)
{
    rh_cluster *c = rh_test_cluster();
    char name[64];
    snprintf(name, sizeof name, "t%d_%d", (int)getpid(), ++dbseq);
    rh_err err;
    if (rh_cluster_create_db(c, name, &err) < 0) {
        fprintf(stderr, "cannot create database %s: %s\n", name, err.msg);
        fail();
    }
    PGconn *conn = rh_cluster_connect(c, name, &err);
    if (!conn) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
    if (dbname)
        *dbname = rh_xstrdup(name);
    return conn;
}

const char *rh_test_tmpdir(void)
{
    register_cleanup();
    const char *base = getenv("TMPDIR");
    char *tmpl = rh_xasprintf("%s/rehearse-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        fail();
    }
    assert_true(ntmpdirs < 256);
    tmpdirs[ntmpdirs++] = tmpl;
    return tmpl;
}

void rh_test_exec(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fprintf(stderr, "SQL failed: %s\n%s\n", sql, PQresultErrorMessage(r));
        PQclear(r);
        fail();
    }
    PQclear(r);
}

char *rh_test_value(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "SQL failed: %s\n%s\n", sql, PQresultErrorMessage(r));
        PQclear(r);
        fail();
    }
    char *v = NULL;
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = rh_xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

void rh_test_write_file(const char *path, const char *content)
{
    rh_err err;
    char *dir = rh_xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        assert_int_equal(rh_fs_mkdir_p(dir, 0755, &err), 0);
    }
    free(dir);
    if (rh_fs_write(path, content, strlen(content), 0644, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        fail();
    }
}

int rh_test_run(char *const argv[], const char *stdin_text, char **out, char **errout)
{
    int in[2], o[2], e[2];
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(o, O_CLOEXEC), 0);
    assert_int_equal(pipe2(e, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(o[1], 1);
        dup2(e[1], 2);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(o[1]);
    close(e[1]);
    if (stdin_text) {
        size_t len = strlen(stdin_text), off = 0;
        signal(SIGPIPE, SIG_IGN);
        while (off < len) {
            ssize_t n = write(in[1], stdin_text + off, len - off);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
    }
    close(in[1]);
    rh_buf bo, be;
    rh_buf_init(&bo);
    rh_buf_init(&be);
    struct pollfd p[2] = {{o[0], POLLIN, 0}, {e[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char chunk[8192];
            ssize_t n = read(p[i].fd, chunk, sizeof chunk);
            if (n <= 0) {
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
            } else {
                rh_buf_append(i == 0 ? &bo : &be, chunk, (size_t)n);
            }
        }
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (out)
        *out = rh_buf_steal(&bo);
    if (errout)
        *errout = rh_buf_steal(&be);
    rh_buf_free(&bo);
    rh_buf_free(&be);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}
