/*
 * catalog.h — a database schema as a value: snapshot (a handful of catalog queries over a PGconn),
 * a deterministic text form (golden files), lookups, and diffs.
 *
 * The model is a sorted list of objects. Each object has an identity (kind, schema, table, name,
 * args) and an ordered list of properties (key -> text value): "type integer", "valid yes",
 * "definition CREATE UNIQUE INDEX ...". The text form prints one block per object, sorted, with no
 * OIDs and no volatile values, so two databases holding the same schema print the same bytes.
 * The text form parses back into the same model, so a golden file and a live database compare alike.
 * docs/catalog.md describes the format; assert.h builds the scenario assertions on top of it.
 */
#ifndef RH_CATALOG_H
#define RH_CATALOG_H

#include <libpq-fe.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

/* Object kinds, in no particular order (the text form sorts by schema and owning relation). */
typedef enum rh_catalog_kind {
    RH_CAT_SCHEMA,
    RH_CAT_EXTENSION,
    RH_CAT_ENUM,
    RH_CAT_DOMAIN,
    RH_CAT_SEQUENCE,
    RH_CAT_TABLE,      /* ordinary, partitioned, unlogged, partitions ("kind" and "partition-*" say which) */
    RH_CAT_VIEW,
    RH_CAT_MATVIEW,
    RH_CAT_COLUMN,     /* table = its table */
    RH_CAT_CONSTRAINT, /* table = its table, or its domain for a domain's CHECK constraint */
    RH_CAT_INDEX,      /* table = the indexed relation (informative: index names are unique per schema) */
    RH_CAT_TRIGGER,    /* table = its table */
    RH_CAT_POLICY,     /* table = its table */
    RH_CAT_FUNCTION,   /* functions, procedures, aggregates; args = identity arguments */
    RH_CAT_COMPOSITE,  /* CREATE TYPE x AS (...) */
    RH_CAT_RANGE,      /* CREATE TYPE x AS RANGE (...); its multirange is a property */
    RH_CAT_FOREIGN_TABLE,
    RH_CAT_RULE,       /* table = the relation the rule is on */
    RH_CAT_STATISTICS, /* extended statistics; table = the relation (informative, like an index's) */
    RH_CAT_SERVER,     /* foreign server (no schema) */
    RH_CAT_PUBLICATION, /* no schema */
    RH_CAT_KIND_COUNT
} rh_catalog_kind;

/* The word used in the text form and in scenarios ("table", "matview", ...). */
const char *rh_catalog_kind_name(rh_catalog_kind k);
/* The kind for a word (also accepts "materialized-view", "procedure"); -1 if unknown. */
int rh_catalog_kind_from_name(const char *word);

/* What a snapshot includes and what a diff compares. All-zero is the default. */
typedef struct rh_catalog_opts {
    int include_ledger;       /* keep the migration tool's ledger table (left out by default) */
    int strict_column_order;  /* record and compare column positions ("position N") */
    int include_owners;       /* record and compare "owner" (off: roles differ between clusters) */
    int include_grants;       /* record and compare "acl" (off by default, same reason) */
    int ignore_comments;      /* drop "comment" properties (recorded by default) */
    const char *default_schema; /* unqualified names; NULL: first schema of search_path, else public */
    const struct rh_tool *ledger_tool; /* whose ledger is left out (tools/tool.h: its ledger_table with what
                                 belongs to it, its ledger_sequence, its ledger_schema); NULL: the default
                                 tool's; a bare name matches in every schema */
} rh_catalog_opts;

typedef struct rh_catalog rh_catalog;
typedef struct rh_catalog_obj rh_catalog_obj;

/*
 * Read the schema of the database `conn` is connected to. Runs in its own REPEATABLE READ
 * transaction (or a savepoint if the connection is already inside one) with fixed search_path,
 * DateStyle, IntervalStyle, TimeZone and extra_float_digits, so expressions print the same way
 * whatever the session had. Errors name the query (object kind) that failed and the server message.
 */
int rh_catalog_snapshot(PGconn *conn, const rh_catalog_opts *opts, rh_catalog **out, rh_err *err);

/* Parse the text form; `origin` (a file name) prefixes error messages as origin:line. */
int rh_catalog_parse(const char *text, const char *origin, rh_catalog **out, rh_err *err);

/* Append the text form (the bytes golden files hold). */
void rh_catalog_text(const rh_catalog *cat, rh_buf *out);

void rh_catalog_free(rh_catalog *cat);

/* The schema unqualified names resolve to. */
const char *rh_catalog_default_schema(const rh_catalog *cat);

/* Objects, in text-form order. */
size_t rh_catalog_count(const rh_catalog *cat);
const rh_catalog_obj *rh_catalog_at(const rh_catalog *cat, size_t i);

/*
 * Find an object. schema NULL: the default schema (ignored for schemas and extensions);
 * table NULL: any table; args NULL: any overload (functions). Exact, case-sensitive names.
 */
const rh_catalog_obj *rh_catalog_find(const rh_catalog *cat, rh_catalog_kind kind, const char *schema,
                                      const char *table, const char *name, const char *args);

rh_catalog_kind rh_catalog_obj_kind(const rh_catalog_obj *o);
const char *rh_catalog_obj_schema(const rh_catalog_obj *o);  /* NULL for schemas and extensions */
const char *rh_catalog_obj_table(const rh_catalog_obj *o);   /* NULL unless the kind has one */
const char *rh_catalog_obj_name(const rh_catalog_obj *o);
const char *rh_catalog_obj_args(const rh_catalog_obj *o);    /* functions only, else NULL */
/* A property's value, NULL if the object does not have it (absent = the default, see docs). */
const char *rh_catalog_obj_prop(const rh_catalog_obj *o, const char *key);
size_t rh_catalog_obj_nprops(const rh_catalog_obj *o);
void rh_catalog_obj_prop_at(const rh_catalog_obj *o, size_t i, const char **key, const char **value);
/* The object's header as printed in the text form, e.g. `column public."User".email`. */
void rh_catalog_obj_label(const rh_catalog_obj *o, rh_buf *out);

/* Append an identifier quoted the way the text form does (only when needed). */
void rh_catalog_quote_ident(rh_buf *out, const char *ident);

/*
 * Compare two catalogs. Properties the options switch off (owner, acl, comment, position) and the
 * ledger table are ignored even if present in a file. Appends a readable diff grouped by object
 * ("- " only in a, "+ " only in b, "~ " changed, with the changed properties) to `out` (may be
 * NULL) and returns the number of objects that differ (0: same schema).
 */
size_t rh_catalog_diff(const rh_catalog *a, const rh_catalog *b, const rh_catalog_opts *opts,
                       const char *label_a, const char *label_b, rh_buf *out);

/*
 * Load an operand of `rehearse diff` / `snapshot`: a database URL or conninfo ("postgres://...",
 * "postgresql://...", "host=... dbname=..."), "rev:REV" (a clean deploy of a revision, through
 * the resolver below), or else a snapshot file.
 */
int rh_catalog_load(const char *operand, const rh_catalog_opts *opts, rh_catalog **out, rh_err *err);

/* An operand as it may be shown (a URL's password replaced by ***); caller frees. */
char *rh_catalog_operand_label(const char *operand);

/*
 * Hook for "rev:REV" operands: the migrate engine deploys REV on a fresh cluster and snapshots it.
 * Until someone registers one, "rev:" operands fail with a clear message.
 */
typedef int (*rh_catalog_rev_resolver)(const char *rev, const rh_catalog_opts *opts, rh_catalog **out,
                                       void *ctx, rh_err *err);
void rh_catalog_set_rev_resolver(rh_catalog_rev_resolver fn, void *ctx);

/*
 * Benchmark for `rehearse bench`: create `tables` tables with `indexes_per_table` indexes each
 * (plus primary keys, foreign keys, an enum) in the database of `conn` (which should be empty),
 * then take `runs` snapshots. Fills the median and the best wall time in microseconds, and the
 * number of objects a snapshot holds.
 */
typedef struct rh_catalog_bench_result {
    long first_us;   /* the first snapshot on the connection (cold catalog caches) */
    long median_us;
    long min_us;
    long max_us;
    size_t objects;
    size_t text_bytes;
} rh_catalog_bench_result;
int rh_catalog_bench(PGconn *conn, int tables, int indexes_per_table, int runs,
                     rh_catalog_bench_result *res, rh_err *err);

/*
 * The whole benchmark for `rehearse bench catalog`: a fresh cluster (cluster_opts: a
 * rh_cluster_opts *, NULL for defaults), a database with the schema, `runs` snapshots, the cluster
 * stopped. Appends a human report, or JSON when `json`, to out. Default sizes: 500 tables x 4.
 */
int rh_catalog_bench_run(const void *cluster_opts, int tables, int indexes_per_table, int runs, int json,
                         rh_buf *out, rh_err *err);

#endif
