/*
 * scenario.h — the scenario language: parsing scenario files into a list of steps.
 *
 * A scenario file is line oriented: one step per line, `#` comments, shell-like quoting, heredoc
 * bodies for SQL (`sql <<EOF` ... `EOF`), `include FILE` for shared setup. docs/scenarios.md is the
 * reference; this header is the step model the runner executes. Parse errors name file:line:col,
 * show the line with a caret, say what was expected and give a hint.
 *
 * The model is plain data (owned by rh_scenario, freed by rh_scn_free): the runner reads it, tests
 * inspect it. The module never touches a database or the network.
 */
#ifndef RH_SCENARIO_H
#define RH_SCENARIO_H

#include <stddef.h>

#include "util/err.h"

/* ---- the step model ------------------------------------------------------------------------- */

typedef enum rh_scn_kind {
    RH_STEP_REPO,            /* repo PATH                      arg = path (resolved against the file) */
    RH_STEP_MIGRATIONS,      /* migrations PATH                arg = folder inside the repo (or a dir) */
    RH_STEP_CHECKOUT,        /* checkout REV                   arg = revision (WORKTREE allowed) */
    RH_STEP_DEPLOY,          /* deploy [&] [=> OUTCOME] */
    RH_STEP_STATUS,          /* status [&] [=> OUTCOME] */
    RH_STEP_RESOLVE,         /* resolve --applied|--rolled-back NAME [&] [=> OUTCOME]  arg = name, mode */
    RH_STEP_SQL,             /* sql [--each] TEXT|<<EOF [=> ok|error SQLSTATE]     text */
    RH_STEP_SQL_FILE,        /* sql-file [--each] PATH | --migration NAME [=> ...] arg = path or name */
    RH_STEP_SESSION,         /* session NAME TEXT|<<EOF [=> ok|error S|blocked]    arg = name, text */
    RH_STEP_WAIT,            /* wait NAME [blocked] [=> OUTCOME]                   arg = name ("deploy" ...) */
    RH_STEP_COMMIT,          /* commit NAME */
    RH_STEP_ROLLBACK,        /* rollback NAME */
    RH_STEP_RELEASE,         /* release NAME: close the session's connection (drops every lock) */
    RH_STEP_CANCEL,          /* cancel NAME: cancel the session's running statement */
    RH_STEP_TERMINATE,       /* terminate NAME: pg_terminate_backend on the session */
    RH_STEP_SET,             /* set GUC VALUE   (for the deploy session) arg = guc, arg2 = value */
    RH_STEP_RESET,           /* reset GUC */
    RH_STEP_ENV,             /* env NAME VALUE  (environment of the engine commands) */
    RH_STEP_FAULT,           /* fault ACTION at MIGRATION | when blocked */
    RH_STEP_RESTART,         /* restart: immediate shutdown + start (crash recovery) */
    RH_STEP_RESTORE_SCHEMA,  /* restore schema PATH|<<EOF      arg = path or text */
    RH_STEP_RESTORE_LEDGER,  /* restore ledger PATH|<<EOF      CSV with a header row */
    RH_STEP_SNAPSHOT,        /* snapshot NAME */
    RH_STEP_SLEEP,           /* sleep DURATION */
    RH_STEP_SCALE,           /* scale FILE | scale TABLE ROWS   arg = stats file, or arg2 = "TABLE=ROWS" */
    RH_STEP_TOOL,            /* tool NAME [VERSION] | tool command "CMD" [ledger NAME] | prisma VERSION
                                arg = name, arg2 = version or command line, value = the ledger reader's tool;
                                n = 1: written short, without `tool` (`prisma VERSION`) */
    RH_STEP_REPAIR,          /* repair VERB [NAME] [=> OUTCOME]: a repair command of the scenario's tool
                                (dbmate rollback ...)  arg = verb, arg2 = migration name or NULL */
    RH_STEP_EXPECT_CATALOG,  /* expect catalog =|!= snapshot NAME | clean REV | file PATH */
    RH_STEP_EXPECT_OBJECT,   /* expect KIND OBJECT [PROPERTY [VALUE]] */
    RH_STEP_EXPECT_LEDGER,   /* expect ledger ... */
    RH_STEP_EXPECT_QUERY,    /* expect query TEXT|<<EOF =|!= VALUE | rows N | error S | ok */
    RH_STEP_EXPECT_STATUS,   /* expect status up-to-date | pending N [NAME...] | failed NAME */
    RH_STEP_EXPECT_OUTPUT,   /* expect output contains|lacks TEXT */
    RH_STEP_EXPECT_ORDER,    /* expect order NAME NAME ...  (folder order of the profile) */
    RH_STEP_EXPECT_FINDING,  /* expect finding KIND [NAME] | expect findings none   arg = kind, arg2 = name */
    RH_STEP__COUNT
} rh_scn_kind;

/* What an action is expected to end with (`=> ...`). */
typedef enum rh_scn_outcome_kind {
    RH_OUT_DEFAULT,  /* no `=>`: success (a session step may also stay blocked) */
    RH_OUT_OK,       /* => ok */
    RH_OUT_ANY,      /* => any: not checked */
    RH_OUT_FAILS,    /* => fails NAME [sqlstate S]: deploy stops at migration NAME (P3018) */
    RH_OUT_ERROR,    /* => error CODE: a tool's own code (rh_scn_tools) for engine steps, a SQLSTATE for SQL */
    RH_OUT_EXIT,     /* => exit N: the command's exit code */
    RH_OUT_BLOCKED,  /* => blocked: a session statement is left waiting on a lock */
} rh_scn_outcome_kind;

typedef struct rh_scn_outcome {
    rh_scn_outcome_kind kind;
    char *name;       /* FAILS: the migration */
    char code[16];    /* FAILS: SQLSTATE or ""; ERROR: the tool's code or a SQLSTATE */
    int exit_code;    /* EXIT */
} rh_scn_outcome;

typedef enum rh_scn_resolve_mode { RH_RESOLVE_APPLIED, RH_RESOLVE_ROLLED_BACK } rh_scn_resolve_mode;

typedef enum rh_scn_fault_action { RH_FAULT_TERMINATE, RH_FAULT_CANCEL, RH_FAULT_RESTART } rh_scn_fault_action;
typedef enum rh_scn_fault_trigger {
    RH_FAULT_AT_MIGRATION,   /* once the named (or N-th, 1-based) migration's script is running */
    RH_FAULT_BEFORE_MIGRATION, /* as the engine is about to start that migration */
    RH_FAULT_WHEN_BLOCKED,   /* once the deploying backend waits on a lock (pg_blocking_pids) */
} rh_scn_fault_trigger;

typedef enum rh_scn_ledger_check {
    RH_LEDGER_STATE_OF,      /* expect ledger STATE NAME: some row of NAME is in STATE (absent: no row) */
    RH_LEDGER_COUNT,         /* expect ledger STATE N: N rows in STATE */
    RH_LEDGER_ROWS_OF,       /* expect ledger rows NAME N */
    RH_LEDGER_ROWS,          /* expect ledger rows N (all rows) */
    RH_LEDGER_CHECKSUM,      /* expect ledger checksum NAME matches|differs */
    RH_LEDGER_ORDER,         /* expect ledger order NAME NAME ... (applied rows by started_at) */
} rh_scn_ledger_check;

typedef enum rh_scn_state { RH_STATE_APPLIED, RH_STATE_FAILED, RH_STATE_ROLLED_BACK, RH_STATE_ABSENT } rh_scn_state;

typedef enum rh_scn_query_check {
    RH_QUERY_EQ, RH_QUERY_NE, RH_QUERY_ROWS, RH_QUERY_ERROR, RH_QUERY_OK
} rh_scn_query_check;

typedef enum rh_scn_catalog_ref { RH_CATREF_SNAPSHOT, RH_CATREF_CLEAN, RH_CATREF_FILE } rh_scn_catalog_ref;

typedef enum rh_scn_status_check { RH_STATUS_UP_TO_DATE, RH_STATUS_PENDING, RH_STATUS_FAILED } rh_scn_status_check;

typedef struct rh_scn_step {
    rh_scn_kind kind;
    const char *file;        /* the file the step was read from (owned by the scenario) */
    int line, col;           /* 1-based position of the step's first word */
    char *source;            /* the step's first line, as written (for reports) */

    char *arg;               /* main argument (see rh_scn_kind); NULL if none */
    char *arg2;              /* second argument (set VALUE, env VALUE ...) */
    char *text;              /* SQL text (inline or heredoc); NULL if none */
    int text_line;           /* line where the text starts (heredoc body or the step line) */
    int each;                /* sql / sql-file --each: one statement at a time, autocommit */
    int background;          /* trailing `&` on deploy/status/resolve */
    int from_migration;      /* sql-file --migration NAME; restore from a path when 0 and text NULL */
    int negate;              /* != in expect catalog / expect query; `lacks` in expect output */
    long n;                  /* a count (ledger, rows, pending), a duration in ms (sleep), an index */
    rh_scn_outcome outcome;

    rh_scn_resolve_mode resolve_mode;
    rh_scn_fault_action fault_action;
    rh_scn_fault_trigger fault_trigger;   /* AT/BEFORE: arg = name, or NULL and n = 1-based number */
    rh_scn_ledger_check ledger_check;
    rh_scn_state state;
    rh_scn_query_check query_check;
    int value_is_null;                    /* expect query ... = null (unquoted) */
    rh_scn_catalog_ref catalog_ref;       /* arg = snapshot name, revision or path */
    rh_scn_status_check status_check;

    /* expect KIND OBJECT PROPERTY VALUE: the catalog module's check, field for field */
    char *obj_kind;          /* "table", "column", "index", ... */
    char *schema;            /* NULL unless qualified: the first schema of the search_path */
    char *table;             /* table-scoped objects (column, constraint, trigger, policy) and tables */
    char *name;              /* the object's own name (NULL for a table) */
    char *property;          /* "present" when none was written */
    char *value;             /* the property's value, or NULL */

    char **names;            /* lists: expect order, expect ledger order, expect status pending */
    size_t nnames;
} rh_scn_step;

typedef struct rh_scenario {
    char *name;              /* from `scenario "..."`, else the file name without extension */
    char *path;              /* the file as given */
    char *dir;               /* its directory: relative paths in steps are resolved against it */
    int name_line;
    rh_scn_step *steps;
    size_t nsteps;
    long timeout_ms;         /* `timeout DURATION`; 0 = the runner's default */
    char *skip;              /* `skip REASON`: the scenario is reported as skipped */
    int superuser;           /* `superuser`: its SQL and commands run as the cluster's superuser */
    char *postgres;          /* `postgres VERSION`: "14", "17.10": the server version it runs on; NULL: --pg's */
    int postgres_line;
    char **files;            /* every file read (the scenario and its includes), owned here */
    size_t nfiles;
    char **roots;            /* the folders its files may be in: its own folder, the work tree of the git
                                repository holding it, and the --allow-path folders (docs/scenarios.md) */
    size_t nroots;
} rh_scenario;

/* ---- parsing -------------------------------------------------------------------------------- */

enum {
    RH_SCN_NO_INCLUDE = 1,   /* `include` is an error (fuzzing, untrusted text) */
};

/*
 * What the parser asks the migration tools while it reads a line. The module links no tool: its
 * caller fills this from the tools registry (runner.h: rh_runner_scn_tools). Passed as NULL (the
 * fuzzer), `=> error WORD` after a command takes any word; the runner's check before a cluster starts
 * still asks the scenario's tool.
 */
typedef struct rh_scn_tools {
    /* 1 when code is an error code some tool's command reports (`deploy => error CODE`), else 0 */
    int (*is_error_code)(const char *code);
    char example[16];    /* such a code, for hints: "e.g. => error EXAMPLE" */
    char kind[96];       /* what such codes are, for "'WORD' is not KIND" */
    char looks[192];     /* what they look like, the hint of that error */
} rh_scn_tools;

/*
 * Parse a scenario file, asking tools (may be NULL: see rh_scn_tools). On error, err holds every
 * problem found (up to a few), each with position.
 */
int rh_scn_parse_file(rh_scenario **out, const char *path, const rh_scn_tools *tools, rh_err *err);

/*
 * rh_scn_parse_file, with more folders its files may be in (`rehearse run --allow-path DIR`).
 * Without them, every path a scenario names (the file itself, include, sql-file, restore, expect
 * catalog = file, repo, migrations) must resolve inside the scenario's folder or the work tree of
 * the git repository holding it, never in a .git folder.
 */
int rh_scn_parse_file_allow(rh_scenario **out, const char *path, const char *const *allow, size_t nallow,
                            const rh_scn_tools *tools, rh_err *err);

/* Read a file a step names (sql-file, restore, expect catalog = file) under the scenario's roots. */
int rh_scn_read_file(const rh_scenario *s, const char *path, char **data, size_t *len, rh_err *err);

/* Is path (a repo or migrations folder) inside the scenario's roots? 1 yes; 0 no, err says so. */
int rh_scn_path_allowed(const rh_scenario *s, const char *path, rh_err *err);

/*
 * Parse scenario text held in memory. `path` names it in messages and anchors relative paths
 * (includes are read relative to its directory). `flags`: RH_SCN_NO_INCLUDE.
 */
int rh_scn_parse_string(rh_scenario **out, const char *path, const char *text, size_t len, int flags,
                        const rh_scn_tools *tools, rh_err *err);

void rh_scn_free(rh_scenario *s);

/* The step's keyword as written in files ("deploy", "expect ledger" ...). */
const char *rh_scn_kind_name(rh_scn_kind kind);
const char *rh_scn_state_name(rh_scn_state st);

/* Describe an expected outcome in words ("fails 2025_x with SQLSTATE 25001"); caller frees. */
char *rh_scn_outcome_text(const rh_scn_outcome *o);

/* Parse a duration: "250ms", "10s", "2m", a bare number is seconds. Returns ms or -1. */
long rh_scn_parse_duration(const char *s);

#endif
