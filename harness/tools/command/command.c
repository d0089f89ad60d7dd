/*
 * command.c — any migration tool, by command (`--migrate-command CMD`): the migrations folder's files
 * are written into a fresh temporary work tree (never the user's checkout), CMD runs there through
 * /bin/sh -c (the user's own command line, passed as one argument, nothing of rehearse's built into
 * it) with DATABASE_URL and PGHOST/PGPORT/PGDATABASE/PGUSER/PGPASSWORD naming the throwaway
 * database, and its exit code, stdout and stderr become the result. No ledger of its own; the
 * engine's hooks (faults at a migration) cannot reach inside another program.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "migrations/profile.h"
#include "source/folder.h"
#include "tools/tool.h"
#include "util/buf.h"
#include "util/fs.h"

#define MAX_DEPTH 8

static int command_detect(rh_folder *f)
{
    (void)f;
    return 0; /* never guessed: the user names it */
}

/* Every regular file below rel (name = its path relative to the folder); links and special files are noted, not followed. */
static int read_tree(rh_migset *out, rh_folder *f, const char *rel, int depth, rh_err *err)
{
    rh_folder_entry *e = NULL;
    size_t n = 0;
    if (rh_folder_list(f, rel, &e, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *name = rel[0] ? rh_xasprintf("%s/%s", rel, e[i].name) : rh_xstrdup(e[i].name);
        char *shown = rh_folder_describe(f, name);
        if (e[i].kind == RH_ENTRY_DIR) {
            if (depth >= MAX_DEPTH)
                rh_migset_add_problem(out, "%s: deeper than %d folders, not copied", shown, MAX_DEPTH);
            else
                rc = read_tree(out, f, name, depth + 1, err);
        } else if (e[i].kind == RH_ENTRY_FILE) {
            char *data = NULL;
            size_t len = 0;
            int got = rh_folder_read(f, name, &data, &len, NULL, err);
            if (got < 0)
                rc = -1;
            else if (got == 1)
                rh_migration_set_sql(rh_migset_push(out, name, strlen(name)), data, len);
            free(data);
        } else {
            rh_migset_add_problem(out, "%s: not a regular file (a link, submodule or special file), not copied",
                                  shown);
        }
        free(shown);
        free(name);
    }
    rh_folder_entries_free(e, n);
    return rc;
}

static int command_read(rh_migset *out, rh_folder *f, rh_err *err)
{
    if (read_tree(out, f, "", 0, err) < 0)
        return -1;
    rh_migset_sort_in(out, RH_ORDER_BYTES); /* the tool reads its folder in byte order */
    out->origin = rh_xstrdup(rh_folder_origin(f));
    return 0;
}


/* Write the set's files below a new temporary folder; its path (malloc'd) or NULL. */
static char *write_work_tree(const rh_migset *set, rh_err *err)
{
    const char *tmp = getenv("TMPDIR");
    char *root = rh_xasprintf("%s/rehearse-command-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        rh_err_set(err, "cannot create a temporary work tree in %s: %s", tmp && *tmp ? tmp : "/tmp", strerror(errno));
        free(root);
        return NULL;
    }
    for (size_t i = 0; i < set->n; i++) {
        const rh_migration *m = &set->items[i];
        /* names come from our own listing (no "..", no absolute paths); assert it stays so */
        if (m->name[0] == '/' || strstr(m->name, "..")) {
            rh_err_set(err, "%s: refusing a path that leaves the work tree", m->name);
            goto fail;
        }
        char *path = rh_xasprintf("%s/%s", root, m->name);
        char *slash = strrchr(path, '/');
        *slash = '\0';
        int rc = rh_fs_mkdir_p(path, 0700, err);
        *slash = '/';
        if (rc == 0)
            rc = rh_fs_write(path, m->sql ? m->sql : "", m->sql_len, 0600, err);
        free(path);
        if (rc < 0)
            goto fail;
    }
    return root;
fail:;
    rh_err e2;
    rh_fs_rmtree(root, &e2);
    free(root);
    return NULL;
}

/* postgresql://USER:PASS@localhost:PORT/DB?host=SOCKET — every part percent-encoded. */
static void put_encoded(rh_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p))
            rh_buf_putc(b, (char)*p);
        else
            rh_buf_printf(b, "%%%02X", *p);
    }
}

static char *database_url(PGconn *conn)
{
    rh_buf b;
    rh_buf_init(&b);
    const char *host = PQhost(conn);
    int socket_dir = host && host[0] == '/';
    rh_buf_puts(&b, "postgresql://");
    put_encoded(&b, PQuser(conn));
    if (PQpass(conn) && *PQpass(conn)) {
        rh_buf_putc(&b, ':');
        put_encoded(&b, PQpass(conn));
    }
    rh_buf_putc(&b, '@');
    if (socket_dir)
        rh_buf_puts(&b, "localhost");
    else
        put_encoded(&b, host);
    rh_buf_printf(&b, ":%s/", PQport(conn));
    put_encoded(&b, PQdb(conn));
    if (socket_dir) {
        rh_buf_puts(&b, "?host=");
        put_encoded(&b, host);
    }
    return b.data ? b.data : rh_xstrdup("");
}

extern char **environ;

/* The environment minus every PG* variable and DATABASE_URL, plus those naming the database. */
static char **child_env(PGconn *conn, const char *url)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = rh_xcalloc(n + 8, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "PG", 2) != 0 && strncmp(environ[i], "DATABASE_URL=", 13) != 0)
            env[k++] = rh_xstrdup(environ[i]);
    const char *host = PQhost(conn);
    env[k++] = rh_xasprintf("DATABASE_URL=%s", url);
    env[k++] = rh_xasprintf("PGHOST=%s", host ? host : "");
    env[k++] = rh_xasprintf("PGPORT=%s", PQport(conn));
    env[k++] = rh_xasprintf("PGDATABASE=%s", PQdb(conn));
    env[k++] = rh_xasprintf("PGUSER=%s", PQuser(conn));
    if (PQpass(conn) && *PQpass(conn))
        env[k++] = rh_xasprintf("PGPASSWORD=%s", PQpass(conn));
    env[k] = NULL;
    return env;
}

static void free_env(char **env)
{
    for (size_t i = 0; env[i]; i++)
        free(env[i]);
    free(env);
}

/* Run /bin/sh -c CMD in dir with the database's variables; stdout/stderr into res. Exit code or -1. */
static int run_shell(const char *cmd, const char *dir, PGconn *conn, rh_engine_result *res, rh_err *err)
{
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) < 0)
        return rh_err_set(err, "pipe: %s", strerror(errno));
    if (pipe2(pe, O_CLOEXEC) < 0) {
        close(po[0]), close(po[1]);
        return rh_err_set(err, "pipe: %s", strerror(errno));
    }
    char *url = database_url(conn);
    char **envp = child_env(conn, url); /* built before fork: the child only calls async-signal-safe functions */
    pid_t pid = fork();
    if (pid < 0) {
        free(url);
        free_env(envp);
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        return rh_err_set(err, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        if (chdir(dir) < 0)
            _exit(126);
        execve("/bin/sh", (char *const[]){"sh", "-c", (char *)cmd, NULL}, envp);
        _exit(127);
    }
    free(url);
    free_env(envp);
    close(po[1]), close(pe[1]);
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    rh_buf *bufs[2] = {&res->out, &res->errout};
    int open_fds = 2;
    char chunk[4096];
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            } else {
                rh_buf_append(bufs[i], chunk, (size_t)n);
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return rh_err_set(err, "waiting for the migrate command: %s", strerror(errno));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int command_deploy(PGconn *conn, const rh_migset *set, const char *cmd, const rh_engine_opts *opts,
                          rh_engine_result *res, rh_err *err)
{
    (void)opts;
    if (!cmd || !*cmd)
        return rh_err_set(err, "no command to run (give --migrate-command CMD)");
    if (opts && opts->before_migration)
        return rh_err_set(err, "a fault at a migration needs rehearse's own engine; command mode runs another "
                               "program and cannot stop it between migrations");
    char *dir = write_work_tree(set, err);
    if (!dir)
        return -1;
    res->n_found = set->n;
    int rc = run_shell(cmd, dir, conn, res, err);
    rh_err e2;
    if (rh_fs_rmtree(dir, &e2) < 0 && rc >= 0)
        rc = rh_err_set(err, "%s", e2.msg);
    free(dir);
    if (rc < 0)
        return -1;
    res->exit_code = rc;
    return rc;
}

static const rh_tool_verb command_verbs[] = {
    {"deploy", "the --migrate-command", 0, command_deploy},
    {NULL, NULL, 0, NULL},
};

const rh_tool rh_tool_command = {
    .name = "command",
    .default_migrations = "",
    .txn = RH_TOOL_TXN_NONE,
    .send = RH_TOOL_SEND_WHOLE,
    .markers = "",
    .ledger_table = NULL, /* none: `expect query`, or --tool NAME's reader */
    .external = 1,
    .detect = command_detect,
    .read = command_read,
    .verbs = command_verbs,
};
