/*
 * assert.h — the assertion primitives scenarios use: "this index exists and is valid", "this
 * column is gone", "this constraint is NOT VALID", "this query returns 0", checked against a
 * catalog snapshot (catalog.h) or a live connection (queries).
 *
 * One expectation = one struct, so a scenario line maps onto one call:
 *
 *   expect index "WaitlistEntry_clientPartyId_idx" valid
 *     -> {RH_CAT_INDEX, NULL, NULL, "WaitlistEntry_clientPartyId_idx", RH_EXPECT_VALID}
 *   expect column "WaitlistEntry"."contactId" absent
 *     -> {RH_CAT_COLUMN, NULL, "WaitlistEntry", "contactId", RH_EXPECT_ABSENT}
 *   expect constraint "Order"."Order_userId_fkey" not-validated
 *     -> {RH_CAT_CONSTRAINT, NULL, "Order", "Order_userId_fkey", RH_EXPECT_NOT_VALIDATED}
 *
 * rh_catalog_expect_parse() does that mapping from the text after `expect`. Names are
 * case-sensitive as written; double quotes are only needed around names holding dots, spaces or
 * quotes. A failure message says what was expected, what is there, and (for a missing object) the
 * nearest existing names: `did you mean "WaitlistEntry_clientPartyId_idx"?`.
 */
#ifndef RH_CATALOG_ASSERT_H
#define RH_CATALOG_ASSERT_H

#include <libpq-fe.h>

#include "catalog/catalog.h"
#include "util/buf.h"
#include "util/err.h"

/* Results of a check; the values match the exit codes (0 ok, 1 check failed, 2 usage error). */
#define RH_CATALOG_CHECK_PASS 0
#define RH_CATALOG_CHECK_FAIL 1
#define RH_CATALOG_CHECK_ERROR 2 /* the expectation itself is wrong (e.g. "valid" asked of a column) */

typedef enum rh_expect_prop {
    RH_EXPECT_EXISTS,        /* every kind */
    RH_EXPECT_ABSENT,        /* every kind */
    RH_EXPECT_TYPE,          /* column, domain, sequence: value e.g. "integer", "varchar(255)", "TIMESTAMP(3)" */
    RH_EXPECT_NOT_NULL,      /* column, domain */
    RH_EXPECT_NULLABLE,      /* column, domain */
    RH_EXPECT_DEFAULT,       /* column, domain: value an expression, or "none" for no default */
    RH_EXPECT_VALID,         /* index: indisvalid */
    RH_EXPECT_INVALID,       /* index: left INVALID (failed CREATE INDEX CONCURRENTLY) */
    RH_EXPECT_UNIQUE,        /* index */
    RH_EXPECT_NOT_UNIQUE,    /* index */
    RH_EXPECT_DEFINITION,    /* index, constraint, view, matview, function, trigger: equal to, or ending with, value */
    RH_EXPECT_VALIDATED,     /* constraint */
    RH_EXPECT_NOT_VALIDATED, /* constraint (added NOT VALID and not validated since) */
    RH_EXPECT_KIND,          /* constraint: primary-key | unique | foreign-key | check | exclusion; function: function | procedure */
    RH_EXPECT_LABELS,        /* enum: the labels in order, comma-separated: "USER, ADMIN" */
    RH_EXPECT_ENABLED,       /* trigger */
    RH_EXPECT_DISABLED,      /* trigger */
    RH_EXPECT_PROPERTY,      /* any text-form property `key` (or "table"): equals value (double quotes aside);
                                value NULL: present and not "no"; value "none": absent */
    RH_EXPECT_PROP_COUNT
} rh_expect_prop;

/* The scenario word of a property ("not-validated"); and back (-1 if unknown). */
const char *rh_expect_prop_name(rh_expect_prop p);
int rh_expect_prop_from_name(const char *word);

typedef struct rh_catalog_expect {
    rh_catalog_kind kind;
    const char *schema;     /* NULL: the catalog's default schema */
    const char *table;      /* column, trigger, policy: required; constraint, index: NULL means any table */
    const char *name;
    const char *args;       /* functions: identity arguments "integer, text"; NULL: any overload */
    rh_expect_prop property;
    const char *value;      /* TYPE, DEFAULT, DEFINITION, KIND, LABELS, PROPERTY */
    const char *key;        /* PROPERTY: the text-form key, e.g. "deferrable" */
    char *owned_[8];        /* strings rh_catalog_expect_parse allocated; see rh_catalog_expect_clear */
} rh_catalog_expect;

/*
 * Parse the text after `expect` for a catalog expectation:
 *   KIND NAME [PROPERTY [VALUE]]        (PROPERTY defaults to exists)
 * NAME: [schema.]name for tables, views, matviews, sequences, enums, domains, indexes, functions
 * (optionally with "(arg types)"); [schema.]table.name for columns, triggers, policies;
 * name | table.name | schema.table.name for constraints; a bare name for schemas, extensions.
 * PROPERTY "property KEY [VALUE]" checks any text-form property. VALUE is the rest of the line;
 * one surrounding pair of quotes ('...' or "...") is removed. Errors name the column of the problem.
 * Call rh_catalog_expect_clear() afterwards.
 */
int rh_catalog_expect_parse(const char *text, rh_catalog_expect *out, rh_err *err);

/* The same from words a shell-like lexer already split and unquoted: {"index", "Foo_idx", "valid"}. */
int rh_catalog_expect_from_words(int argc, const char *const *argv, rh_catalog_expect *out, rh_err *err);

/*
 * The same from separate fields, as the scenario parser keeps them (rh_scn_step: obj_kind, schema,
 * table, name, property, value): kind and property are words ("index", "not-validated"; "present"
 * = exists; NULL property = exists); for tables, views and the like the name may come in `table`
 * with `name` NULL. Strings are copied.
 */
int rh_catalog_expect_from_fields(const char *kind, const char *schema, const char *table, const char *name,
                                  const char *property, const char *value, rh_catalog_expect *out, rh_err *err);

/* Free what parsing allocated; harmless on a struct filled by hand with owned_ zeroed. */
void rh_catalog_expect_clear(rh_catalog_expect *e);

/* The expectation in scenario syntax, e.g. `index public."X" valid` (for reports). */
void rh_catalog_expect_describe(const rh_catalog_expect *e, rh_buf *out);

/*
 * Check one expectation against a snapshot. Returns RH_CATALOG_CHECK_PASS, RH_CATALOG_CHECK_FAIL or RH_CATALOG_CHECK_ERROR;
 * on FAIL/ERROR appends to `message` (may be NULL) what was expected, what was found, and for a
 * missing object the nearest names ("did you mean ...?", case-insensitive edit distance).
 */
int rh_catalog_check(const rh_catalog *cat, const rh_catalog_expect *e, rh_buf *message);

/*
 * Up to `max` existing names of objects of `kind` nearest to `name` (case-insensitive Levenshtein,
 * close enough to be a typo), each appended to `out` as it would be written in a scenario,
 * separated by ", ". Returns how many were appended. table != NULL prefers that table's objects.
 */
int rh_catalog_nearest(const rh_catalog *cat, rh_catalog_kind kind, const char *schema, const char *table,
                       const char *name, int max, rh_buf *out);

/* Case-insensitive (ASCII) edit distance. */
int rh_catalog_levenshtein(const char *a, const char *b);

/* ---- query checks, against a live connection -------------------------------------------------- */

typedef enum rh_catalog_query_kind {
    RH_CATQ_EQUALS, /* the result equals value: one cell as text ("null" for NULL); several cells as rows
                        of "a|b" joined by newlines */
    RH_CATQ_ROWS,   /* the statement returns (or affects) value rows */
    RH_CATQ_RAISES  /* the statement fails with SQLSTATE value ("23505") or its name ("unique_violation") */
} rh_catalog_query_kind;

/*
 * Run `sql` on conn and check the outcome. Inside an open transaction the statement runs in a
 * savepoint so an expected error does not abort the caller's transaction. Message as above, with
 * the server's error (and SQLSTATE) when the statement failed unexpectedly.
 */
int rh_catalog_check_query(PGconn *conn, const char *sql, rh_catalog_query_kind kind, const char *value,
                           rh_buf *message);

/* A SQLSTATE for a condition name ("unique_violation" -> "23505"); NULL if unknown. */
const char *rh_catalog_sqlstate_for(const char *name);

#endif
