/*
 * tool.h — the migration-tool seam: what rehearse needs to know about one migration tool
 * (Prisma Migrate, dbmate, ...), behind one vtable, so that no module outside tools/ names a tool.
 *
 * A tool says how to recognise its folder, how to read and order it into the common migration set
 * (migrations/migset.h: name = the migration's identity, checksum), its ledger (DDL, reading rows
 * into the common ledger model, restoring rows), how it applies a file (transaction per file, per
 * run or none; statement splitting; in-file markers), its commands with their texts and exit codes
 * (results in rh_engine_result: stdout, stderr, exit code, failed migration, SQLSTATE), and its
 * version profiles. The registry (registry.c) holds one line per tool.
 */
#ifndef RH_TOOL_H
#define RH_TOOL_H

#include <libpq-fe.h>
#include <stddef.h>

#include "engine/engine.h"
#include "migrations/migset.h"
#include "migrations/plan.h"
#include "migrations/profile.h"
#include "source/folder.h"
#include "source/git.h"
#include "util/buf.h"
#include "util/err.h"

struct rh_git_history; /* source/history.h */
struct rh_tool_bench_opts; /* below */

/* How a tool wraps its files in transactions when it applies them. */
typedef enum rh_tool_txn {
    RH_TOOL_TXN_NONE,      /* the file's text as the tool sends it; no transaction of the tool's own */
    RH_TOOL_TXN_PER_FILE,  /* one transaction per file (a file's marker may turn it off) */
    RH_TOOL_TXN_PER_RUN,   /* every pending file in one transaction */
} rh_tool_txn;

/*
 * Which deployed states of the cache (engine/cached.h) a tool's deploy can continue as one deploy, its
 * `resumed` migrations printed and counted as applied by it (rh_engine_opts.resumed).
 */
typedef enum rh_tool_resume {
    RH_TOOL_RESUME_NEVER,   /* its deploys are never cached (command mode: another program's output) */
    RH_TOOL_RESUME_PREFIX,  /* a state of any first k migrations: each file commits on its own (Prisma, dbmate),
                               so after file k a deploy has left exactly what the state holds */
    RH_TOOL_RESUME_WHOLE,   /* only a state of the whole set, which leaves the deploy nothing to send: one
                               transaction per run (drizzle-kit), so a prefix committed apart is not part of
                               the run (a failing entry rolls back the whole run; ALTER TYPE ... ADD VALUE
                               and a use of the value in one run fail where two runs pass, and back) */
} rh_tool_resume;

/* How a tool sends one file to the server. */
typedef enum rh_tool_send {
    RH_TOOL_SEND_WHOLE,       /* the file (or its up section) as one simple-query message */
    RH_TOOL_SEND_STATEMENTS,  /* statement by statement (split by the tool's rule) */
} rh_tool_send;

/*
 * The common ledger model is rh_ledger (engine/engine.h): one row per ledger entry with the
 * migration's identity (migration_name), its checksum ("" when the tool keeps none), finished /
 * rolled_back, and started_at as text ("" when the tool keeps no time). Tools fill what they keep.
 */

/* A command of the tool (deploy/up, status, a repair verb): the engine-style result convention. */
typedef int (*rh_tool_command_fn)(PGconn *conn, const rh_migset *set, const char *arg, const rh_engine_opts *opts,
                                  rh_engine_result *res, rh_err *err);

typedef struct rh_tool_verb {
    const char *name;        /* "deploy", "status", "resolve --applied", ... as the scenario step / CLI says it */
    const char *tool_says;   /* the tool's own command line: "prisma migrate deploy", "dbmate migrate" */
    int takes_name;          /* 1: the verb names a migration (arg) */
    rh_tool_command_fn run;
} rh_tool_verb;

typedef struct rh_tool {
    const char *name;                /* "prisma", "dbmate" */
    const char *title;               /* its name as people write it ("Prisma"); NULL: name */
    const char *default_migrations;  /* the folder's usual path in a repository */
    rh_tool_txn txn;
    rh_tool_send send;
    const char *markers;             /* the in-file markers it reads, for people ("-- migrate:up ..."); "" none */
    const char *ledger_table;        /* for messages: "_prisma_migrations", "schema_migrations"; NULL: no
                                        ledger (command mode), and the ledger_* functions are NULL too */
    const char *ledger_sequence;     /* "[schema.]name": the ledger's own sequence (drizzle's serial id); NULL none */
    const char *ledger_schema;       /* a schema the tool creates only for its ledger ("drizzle"); NULL none.
                                        Catalogs leave out the table (with its columns, indexes ...), the
                                        sequence and that schema: they are the tool's, not the application's */
    int ledger_applied_only;         /* 1: a row means applied: no failed or rolled-back rows (a failed file leaves
                                        none; dbmate, drizzle) */
    int ledger_no_order;             /* 1: its rows do not say in which order they were applied (dbmate: versions) */
    int no_checksum;                 /* 1: its ledger keeps no checksum of the file (dbmate) */
    int external;                    /* 1: another program does the work (command mode): rehearse's engine
                                        hooks (faults at a migration) and its backend cannot be watched */
    rh_tool_resume resumable;        /* which cached states its deploy can continue (rh_engine_opts.resumed) */

    const char *detected_by;         /* what detect looks for, for "detected" notes */
    const char *file_suffix;         /* a migration's file below the folder is NAME + this ("/migration.sql",
                                        ".sql", "" when the name is the file's); NULL: no file (command mode) */
    /* check's advice beside a lock finding of CREATE INDEX: how this tool can run it CONCURRENTLY (a clause
       after "; "); NULL: the default wording */
    const char *concurrently_hint;

    /*
     * The codes its commands report beside their exit code (Prisma's P3009), which a scenario's
     * `deploy => error CODE` names: 1 when code is one of them. NULL: it reports none (a scenario
     * writes `=> fails NAME` or `=> exit N`). error_codes: a few, for messages, the first an example.
     */
    int (*is_error_code)(const char *code);
    const char *error_codes;

    /* 1 when the folder (on disk or at a revision: source/folder.h) holds this tool's migrations, 0 when
       not (no error: just not ours). */
    int (*detect)(rh_folder *f);

    /*
     * The tool's one reader of its folder (source/folder.h: on disk, or at a revision from git's object
     * database, WORKTREE on disk inside the work tree), with the tool's own rules for what git holds
     * (links, submodules), never writing it out. Sets out->origin; in the tool's order (a tool with
     * profiles: byte order, the loader sorts by the profile). Entered through the one loader,
     * rh_source_load (source/loader.h).
     */
    rh_folder_reader read;

    /*
     * Does a ledger row's stored checksum match migration m's file, by the tool's rule (Prisma's also
     * across CRLF/LF)? NULL: equal to m->checksum. Called only with a stored value and m->sql.
     */
    int (*checksum_matches)(const char *stored, const rh_migration *m);

    /* The ledger: does it exist (shape checked), create it, read it into the common model, restore rows. */
    int (*ledger_exists)(PGconn *conn, int *exists, rh_err *err);
    int (*ledger_create)(PGconn *conn, rh_err *err);
    int (*ledger_read)(PGconn *conn, rh_ledger *out, rh_err *err);
    int (*ledger_restore)(PGconn *conn, const rh_ledger *rows, rh_err *err);

    /*
     * Does this ledger row (as ledger_read gives it) record migration m? The ledger keeps the tool's
     * own identity (dbmate: the version; drizzle: the journal `when`), not always the migration's
     * name. NULL: the row's migration_name is the migration's name.
     */
    int (*ledger_row_is)(const rh_ledger_row *row, const rh_migration *m);

    /*
     * `restore ledger` (scenarios): the columns a CSV header may name (NULL-terminated, in the order
     * messages list them; name_column must be given), and one row written from values[i] for
     * ledger_columns[i] (NULL: not given or empty). current_set(data) gives the migrations at the
     * current checkout when a value needs them (Prisma's checksum "="); NULL when they cannot be
     * loaded (the caller has said why). err says what is wrong with the row, without the file, line or
     * record (the caller adds them). NULL ledger_insert_row: the tool keeps no ledger to restore.
     */
    const char *const *ledger_columns;
    const char *ledger_name_column;
    int (*ledger_insert_row)(PGconn *conn, const char *const *values, const rh_migset *(*current_set)(void *data),
                             void *data, rh_err *err);

    /* Its commands; verbs[0] is its deploy, verbs[1] its status; NULL-named entry ends the list. */
    const rh_tool_verb *verbs;

    /*
     * Migration m's file as the server gets it from the tool, what the tool does not send (dbmate's
     * down section) blanked with its line breaks kept, so a statement keeps its line in the file
     * (check's lock trace). NULL: the whole file is sent.
     */
    void (*sent_text)(const rh_migration *m, rh_buf *out);

    /*
     * The tool's findings between two revisions' sets (`rehearse history`, check's history part):
     * added to h (source/history.h, rh_hist_add) from h->a (at h->from; empty when the folder is
     * absent there) and h->b (at h->to), with h->migrations the folder for files. A tool's own hazard
     * is RH_HIST_TOOL with its code ("skipped-in-production"), its file h->migrations/NAME+file_suffix.
     * The default tool (Prisma) fills every kind, in h->profile's order; another tool its own and what a
     * rename (rh_hist_renames) does in it: history --tool and check add the common ones
     * (rh_tool_history_changed: edited, removed; history: added), less the renames. NULL: none (a rename
     * is then a file removed and one added).
     */
    void (*history_findings)(struct rh_git_history *h);

    /*
     * Does b, a file new by name at a later revision, carry the identity under which the ledger records a,
     * a file gone by name (dbmate: the same version)? Then the tool finds b applied where a was and runs
     * nothing of it, whatever its bytes: a rename (rh_tool_renames). NULL: only the same bytes pair.
     */
    int (*same_entry)(const rh_migration *a, const rh_migration *b);

    /*
     * How the tool at version profile `profile` (NULL: a tool without profiles) sends migration m
     * (`rehearse plan`, check, run --trace-locks; migrations/plan.h): plan (zeroed first) gets the
     * counts the report writers show (statements, atomic, CONCURRENTLY and whether it fails; mode
     * RH_SEND_WHOLE for one query, RH_SEND_STATEMENTS when split, RH_SEND_WHOLE_FALLBACK when the
     * tool's splitter rejects the file); out one or more lines, each "NAME: ...\n", the
     * first saying how it is sent, the others why it fails. Returns 1 when the tool cannot apply it as
     * written (25001 ...), else 0. NULL: rehearse does not send the tool's files (command mode).
     */
    int (*plan_file)(const rh_migration *m, const rh_profile *profile, rh_plan *plan, rh_buf *out);

    /*
     * Lay out n migrations in the tool's folder layout below dir (created), migration i's SQL being
     * sql[i] (`rehearse bench deploy --tool NAME`). NULL: the tool has no generator.
     */
    int (*write_history)(const char *dir, char *const *sql, int n, rh_err *err);

    /*
     * A DATABASE_URL as the tool takes it, made acceptable to libpq: the URL without the tool's own
     * query parameters (malloc'd), and the schema it says the tool works in in *schema (malloc'd;
     * NULL when none). NULL: the URL is libpq's as it is.
     */
    char *(*database_url)(const char *url, char **schema, rh_err *err);

    /*
     * Version profiles (migrations/profile.h): one from a version text ("6.19.3"); what a profile does,
     * for people (appended to out); the version used when nothing names one. All NULL when the tool
     * has one behaviour.
     */
    int (*profile_from_version)(rh_profile *out, const char *version, rh_err *err);
    void (*profile_describe)(const rh_profile *p, rh_buf *out);
    const char *default_version;
    const char *version_option;      /* the CLI option that names a version ("--prisma-version"), for messages */

    /*
     * Which version of the tool a revision uses (its package files; the ones nearest the folder `near`
     * first): 1 with version, source (where it was read: "apps/api/package.json devDependencies.prisma
     * ^6.19.0, yarn.lock 6.19.3") and *from (a lock file's or a package range's), 0 when the revision
     * names none, -1 with err (a file that cannot be read, a range that names no version). NULL: never
     * detected (the default version).
     */
    int (*detect_version)(rh_git_repo *repo, const rh_git_rev *rev, const char *near, char *version, size_t vsize,
                          char *source, size_t ssize, rh_profile_from *from, rh_err *err);

    /*
     * The tool's folder at a revision when none is given (Prisma: beside its schema): a malloc'd path
     * relative to the root in *out, or -1 with err saying what was looked for. NULL: default_migrations.
     */
    int (*find_folder)(rh_git_repo *repo, const rh_git_rev *rev, char **out, rh_err *err);

    /*
     * `rehearse bench deploy` of the tool's own (the default tool's: its real CLI and a psql loop beside
     * rehearse and the floor; struct rh_tool_bench_opts, below). NULL: rh_tool_bench's generic one (needs
     * write_history).
     */
    int (*bench)(const struct rh_tool_bench_opts *o, rh_buf *report, rh_err *err);
} rh_tool;

/* Every registered tool, NULL-terminated (registry.c: one line per tool). */
extern const rh_tool *const rh_tools[];

/* The default tool (rh_tools[0]): the one a command uses when neither --tool nor detection names another. */
#define RH_TOOL_DEFAULT (rh_tools[0])

/* A tool by name; NULL when none is registered under it. */
const rh_tool *rh_tool_find(const char *name);

/* The tool whose commands report this error code (its is_error_code); NULL when none does. */
const rh_tool *rh_tool_for_error_code(const char *code);

/*
 * What every tool but the default one shares between h->a and h->b (history --tool and check (d), one
 * writer for both): a file edited after `from` (RH_HIST_EDITED, a hazard: the tool never runs the new
 * bytes and says nothing) and one removed (RH_HIST_REMOVED, a hazard) — not the old name of a rename
 * when the tool's history_findings says what a rename does. Check makes its own severities of them.
 */
void rh_tool_history_changed(const rh_tool *tool, struct rh_git_history *h);

/*
 * The renames between h->a and h->b as the tool sees them: rh_hist_renames (same bytes), then a file new by
 * name paired with a file gone by name of the same identity (rh_tool.same_entry). Indexed by h->b:
 * 1 + the index in h->a of the file it was, or 0 (malloc'd, h->b.n + 1 entries).
 */
size_t *rh_tool_renames(const rh_tool *tool, const struct rh_git_history *h);

/* A tool's verb by name; NULL when the tool has no such command. */
const rh_tool_verb *rh_tool_verb_find(const rh_tool *tool, const char *verb);

/*
 * Run a tool's verb ("deploy", "status", "resolve --applied" ...; arg: the migration it names, or
 * NULL): the verb's return convention (the tool's exit code, res filled; -1 with err when rehearse
 * could not run it). A verb the tool lacks is -1 with err naming both.
 */
int rh_tool_run(const rh_tool *tool, const char *verb, PGconn *conn, const rh_migset *set, const char *arg,
                const rh_engine_opts *opts, rh_engine_result *res, rh_err *err);

/*
 * Which tool's folder is this? The one tool that claims it; RH_TOOL_DEFAULT when none does (an empty
 * folder, or the default tool's own problems for its loader to say); NULL with err naming the folder
 * when two tools claim it, or when it holds .sql files of no known tool and no sub-folder.
 */
const rh_tool *rh_tool_detect_dir(const char *dir, rh_err *err);

/*
 * A ledger_table ("[schema.]table") in its parts: returns the table (NULL when ledger_table is NULL)
 * and writes the schema to schema ("" for a bare name, which means: in whatever schema it resolves).
 */
const char *rh_tool_ledger_parts(const char *ledger_table, char *schema, size_t size);

/*
 * The tool's profile for version (NULL: its default_version); -1 with err when the tool has no
 * profiles. Inline: report readers use it with no more of the registry than rh_tools[].
 */
static inline int rh_tool_profile(const rh_tool *tool, rh_profile *out, const char *version, rh_err *err)
{
    if (!tool->profile_from_version)
        return rh_err_set(err, "%s has one behaviour: it takes no version", tool->name);
    return tool->profile_from_version(out, version ? version : tool->default_version, err);
}

/* The tool's folder at a revision when none is given (its find_folder, else default_migrations). */
int rh_tool_find_folder(const rh_tool *tool, rh_git_repo *repo, const rh_git_rev *rev, char **out, rh_err *err);

/* The tool's database_url (a copy of url and no schema when it has none). Malloc'd; NULL with err when the URL
   names what the tool takes but PostgreSQL cannot (Prisma: a schema with a NUL byte). */
char *rh_tool_database_url(const rh_tool *tool, const char *url, char **schema, rh_err *err);

/* Does a stored checksum match m's file (the tool's checksum_matches, else equality)? 0 when either is missing. */
int rh_tool_checksum_matches(const rh_tool *tool, const char *stored, const rh_migration *m);

/* The tool's plan_file for m at profile (out may be NULL); a tool without one: a zeroed plan (whole), 0. */
int rh_tool_plan(const rh_tool *tool, const rh_migration *m, const rh_profile *profile, rh_plan *plan, rh_buf *out);

/* Does the ledger row record migration m (the tool's ledger_row_is, else the name)? */
int rh_tool_row_is(const rh_tool *tool, const rh_ledger_row *row, const rh_migration *m);

/* "deploy, status, rollback" — a tool's verbs, for messages; written to out, returned. */
const char *rh_tool_verb_names(const rh_tool *tool, char *out, size_t size);

/*
 * Which tool's folder is at revision rev_spec of the repository at repo_path? Each tool's folder
 * (`migrations`, or the tool's usual path) is asked with detect, read from git's object database
 * (WORKTREE: on disk). Returns the one tool that claims its folder, with `why` saying
 * which folder made it so; RH_TOOL_DEFAULT when no other tool claims one (its own loader finds its
 * folder as before); NULL with err when two tools claim one (name them), when the folder `migrations`
 * names holds .sql files of no known tool and no sub-folder (rh_tool_detect_dir's rule), or git fails.
 */
const rh_tool *rh_tool_detect_rev(const char *repo_path, const char *rev_spec, const char *migrations, char *why,
                                  size_t why_size, rh_err *err);

/*
 * `rehearse bench deploy --tool NAME`: a generated history of `generate` migrations (default 200)
 * deployed on fresh clusters by the tool through rehearse, by the floor (each migration's SQL sent
 * over one connection, no ledger) and, when cli is given, by that command line (the real CLI, run as
 * command mode runs it: in a copy of the folder with DATABASE_URL/PG* set), `runs` rounds interleaved;
 * medians and ratios in report (human, or JSON when json).
 */
typedef struct rh_tool_bench_opts {
    int generate, runs, json;
    const char *cli;
    const char *pg_bin, *pg_version;
    /* read by a tool's own benchmark (rh_tool.bench; the default tool's): */
    const char *migrations_dir;      /* a folder of the tool's to deploy instead of a generated history */
    int no_oracle, no_psql;          /* leave out the tool's real CLI / a psql-per-file loop */
    const char *version;             /* also time rehearse at this version's profile */
    const rh_cluster_opts *cluster;  /* the fresh clusters' options (--run-as ...); NULL: pg_bin, pg_version */
} rh_tool_bench_opts;
/* The tool's own benchmark when it has one (rh_tool.bench), else the one above. */
int rh_tool_bench(const rh_tool *tool, const rh_tool_bench_opts *o, rh_buf *report, rh_err *err);

/* "prisma, dbmate" — the registered names, for usage messages; written to out, returned. */
const char *rh_tool_names(char *out, size_t size);

#endif
