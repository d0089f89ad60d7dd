/*
 * cli.h — the `rehearse` command line: one file per command (cmd_NAME.c defines rh_cmd_NAME),
 * dispatched from main.c. Commands return the process exit code:
 * 0 success, 1 the check failed (or the migration tool's own exit code), 2 usage or setup error.
 */
#ifndef RH_CLI_H
#define RH_CLI_H

#include <stdio.h>

#define RH_EXIT_OK 0
#define RH_EXIT_FAIL 1
#define RH_EXIT_USAGE 2

/* Each takes the arguments after the command name (argv[0] is the command name). */
int rh_cmd_run(int argc, char **argv);
int rh_cmd_deploy(int argc, char **argv);
int rh_cmd_status(int argc, char **argv);
int rh_cmd_resolve(int argc, char **argv);
int rh_cmd_rollback(int argc, char **argv);
int rh_cmd_history(int argc, char **argv);
int rh_cmd_snapshot(int argc, char **argv);
int rh_cmd_diff(int argc, char **argv);
int rh_cmd_check(int argc, char **argv);
int rh_cmd_clusters(int argc, char **argv);
int rh_cmd_bench(int argc, char **argv);
int rh_cmd_plan(int argc, char **argv);
int rh_cmd_pg(int argc, char **argv);
int rh_cmd_stats(int argc, char **argv);
int rh_cmd_report(int argc, char **argv);
int rh_cmd_cache(int argc, char **argv);

/* Print "rehearse CMD: message" to stderr and return RH_EXIT_USAGE. */
int rh_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A message on stderr (an error, a note), shown terminal-safe (report/escape.h rh_report_term_text):
   it may quote arguments and repository text (migration names, server messages). */
void rh_cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Exit 2 with a message ("rehearse CMD: timed out after ...") once ms have passed (cli/time_limit.c). */
void rh_cli_time_limit(const char *cmd, long ms);

/* `rehearse --version`: version, commit built from, the libraries as they report themselves. */
void rh_cli_version(FILE *f);

#endif
