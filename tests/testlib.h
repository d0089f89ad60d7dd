/*
 * testlib.h — helpers shared by the cmocka tests: one real cluster per test binary, fresh
 * databases, temporary directories, SQL shortcuts, and running the rehearse binary.
 * Include after <cmocka.h>'s prerequisites (stdarg, stddef, setjmp).
 */
#ifndef RH_TESTLIB_H
#define RH_TESTLIB_H

#include <libpq-fe.h>
#include <stddef.h>

#include "cluster/cluster.h"

/* The binary's shared cluster, started on first use and stopped at exit. Fails the test if it can't start. */
rh_cluster *rh_test_cluster(void);

/* A new empty database in the shared cluster, connected; *dbname (if not NULL) gets its name (caller frees). */
PGconn *rh_test_fresh_db(char **dbname);

/* A new temporary directory, removed at exit; caller must not free. */
const char *rh_test_tmpdir(void);

/* Run SQL that must succeed (fails the test with the server's message otherwise). */
void rh_test_exec(PGconn *conn, const char *sql);

/* The first column of the first row as a malloc'd string (NULL for SQL NULL or no rows). */
char *rh_test_value(PGconn *conn, const char *sql);

/* Write a file (creating parent directories). */
void rh_test_write_file(const char *path, const char *content);

/*
 * Run a program (argv[0] is a path or searched in PATH) with optional stdin text; capture stdout
 * and stderr (malloc'd, NUL-terminated; pass NULL to discard). Returns the exit code, or 128+signal.
 */
int rh_test_run(char *const argv[], const char *stdin_text, char **out, char **errout);

#endif
