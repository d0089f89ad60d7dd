/*
 * fill.c — fill existing tables to production's row counts inside the throwaway cluster.
 *
 * Why server-side: one INSERT ... SELECT ... FROM generate_series(1, N) per table generates every
 * row in the server; rehearse only builds the statement, so memory stays bounded whatever N is and
 * no row crosses the socket. Each table is filled in its own statement (autocommit): a table whose
 * CHECK rejects the generated values is skipped and said, the others are filled.
 *
 * Value of row g for a column (K is the column's key number):
 *   unique / primary-key column: K = g (distinct);  else with stats: K = g % distinct-count;  else g.
 *   foreign key: the (g / stride % parent_rows)-th key of the parent, joined by row number; stride is the
 *   product of the earlier foreign keys' parent sizes, so (a_id, b_id) of a join table stays unique.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scale/scale.h"
#include "tools/tool.h"
#include "util/buf.h"

typedef struct fk_edge {
    int child, parent;    /* indexes into the table list */
} fk_edge;

typedef struct tbl {
    unsigned oid;
    char *schema, *name;
    const rh_scale_table *want;
} tbl;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *ident(PGconn *conn, const char *s)
{
    char *q = PQescapeIdentifier(conn, s, strlen(s));
    char *r = rh_xstrdup(q ? q : "\"?\"");
    PQfreemem(q);
    return r;
}

static char *literal(PGconn *conn, const char *s)
{
    char *q = PQescapeLiteral(conn, s, strlen(s));
    char *r = rh_xstrdup(q ? q : "''");
    PQfreemem(q);
    return r;
}

static PGresult *query(PGconn *conn, const char *sql, rh_err *err)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
        rh_err_set(err, "filling tables: %s", PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    return r;
}

static const rh_scale_column *stats_of(const rh_scale_table *t, const char *col)
{
    for (size_t i = 0; t && i < t->ncolumns; i++)
        if (strcmp(t->columns[i].name, col) == 0)
            return &t->columns[i];
    return NULL;
}

/*
 * The SQL expression of a value of type `type` from the bigint expression K; NULL when rehearse
 * cannot generate the type. typmod: atttypmod; labels: enum labels (typtype 'e').
 */
static char *value_expr(PGconn *conn, const char *typname, const char *fmt_type, char typtype, char category,
                        int typmod, unsigned typoid, const char *K, int avg_width)
{
    if (typtype == 'e') {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT enumlabel FROM pg_enum WHERE enumtypid = %u ORDER BY enumsortorder", typoid);
        PGresult *r = PQexec(conn, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0) {
            PQclear(r);
            return NULL;
        }
        rh_buf b;
        rh_buf_init(&b);
        rh_buf_puts(&b, "(ARRAY[");
        for (int i = 0; i < PQntuples(r); i++) {
            char *l = literal(conn, PQgetvalue(r, i, 0));
            rh_buf_printf(&b, "%s%s", i ? ", " : "", l);
            free(l);
        }
        rh_buf_printf(&b, "]::%s[])[1 + (%s) %% %d]", fmt_type, K, PQntuples(r));
        PQclear(r);
        return rh_buf_steal(&b);
    }
    if (category == 'A')
        return rh_xasprintf("'{}'::%s", fmt_type);
    if (!strcmp(typname, "int2"))
        return rh_xasprintf("((%s) %% 32767)::int2", K);
    if (!strcmp(typname, "int4"))
        return rh_xasprintf("((%s) %% 2147483647)::int4", K);
    if (!strcmp(typname, "int8"))
        return rh_xasprintf("(%s)::int8", K);
    if (!strcmp(typname, "numeric")) {
        if (typmod < 4)
            return rh_xasprintf("(%s)::numeric", K);
        int precision = ((typmod - 4) >> 16) & 0xffff, scale = (typmod - 4) & 0xffff;
        int digits = precision - scale > 15 ? 15 : precision - scale;
        long long mod = 1;
        for (int i = 0; i < digits; i++)
            mod *= 10;
        return rh_xasprintf("((%s) %% %lld)::%s", K, mod, fmt_type);
    }
    if (!strcmp(typname, "float4") || !strcmp(typname, "float8"))
        return rh_xasprintf("((%s)::float8 / 8)::%s", K, typname);
    if (!strcmp(typname, "bool"))
        return rh_xasprintf("((%s) %% 2 = 0)", K);
    if (!strcmp(typname, "text") || !strcmp(typname, "varchar") || !strcmp(typname, "bpchar") ||
        !strcmp(typname, "citext")) {
        int limit = typmod >= 4 ? typmod - 4 : 0;
        if (limit > 0 && limit <= 12) {
            /* short: K in base 62 (base 36 for citext, whose unique index ignores case) over `limit`
               characters, so that 62^n distinct values fit (zero-padded decimals behind a 'v' held only
               10^(n-1)); the digits sort as the numbers do in ASCII, so keys still arrive in index order */
            int base = !strcmp(typname, "citext") ? 36 : 62, width = limit > (base == 62 ? 10 : 12) ? (base == 62 ? 10 : 12) : limit;
            rh_buf b;
            rh_buf_init(&b);
            rh_buf_puts(&b, "(");
            long long power = 1;
            for (int i = 1; i < width; i++)
                power *= base;
            for (int i = 0; i < width; i++, power /= base)
                rh_buf_printf(&b, "%ssubstr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', "
                                  "((%s) / %lld %% %d)::int + 1, 1)",
                              i ? " || " : "", K, power, base);
            rh_buf_printf(&b, ")::%s", fmt_type);
            return rh_buf_steal(&b);
        }
        /* zero-padded, so that keys arrive in index order (appends to the btree's right edge: twice as
           fast as 'v' || g) and stay distinct inside varchar(n) */
        int pad = limit && limit - 1 < 12 ? limit - 1 : 12;
        char *key = pad > 0 ? rh_xasprintf("lpad((%s)::text, %d, '0')", K, pad) : rh_xasprintf("(%s)::text", K);
        char *s = avg_width > pad + 1 ? rh_xasprintf("rpad('v' || %s, %d, 'x')", key, avg_width > 4000 ? 4000 : avg_width)
                                      : rh_xasprintf("('v' || %s)", key);
        free(key);
        char *r = limit ? rh_xasprintf("left(%s, %d)::%s", s, limit, fmt_type) : rh_xasprintf("%s::%s", s, fmt_type);
        free(s);
        return r;
    }
    if (!strcmp(typname, "uuid"))
        return rh_xasprintf("lpad(to_hex(%s), 32, '0')::uuid", K);
    if (!strcmp(typname, "timestamp") || !strcmp(typname, "timestamptz"))
        return rh_xasprintf("(timestamp '2020-01-01' + (%s) * interval '1 second')::%s", K, fmt_type);
    if (!strcmp(typname, "date"))
        return rh_xasprintf("(date '2000-01-01' + ((%s) %% 36500)::int)", K);
    if (!strcmp(typname, "time") || !strcmp(typname, "timetz"))
        return rh_xasprintf("(time '00:00' + ((%s) %% 86400) * interval '1 second')::%s", K, fmt_type);
    if (!strcmp(typname, "json") || !strcmp(typname, "jsonb"))
        return rh_xasprintf("json_build_object('k', %s)::%s", K, typname);
    if (!strcmp(typname, "bytea"))
        return rh_xasprintf("int8send((%s)::int8)", K);
    return NULL;
}

/* Why the generated rows were refused, for the table's note. */
static void note_refusal(rh_buf *note, const char *step, const PGresult *r)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *con = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    int check = state && !strcmp(state, "23514");
    rh_buf_printf(note, "%sskipped: %s%s%s%s: %s%s%s", note->len ? "; " : "", check ? "CHECK constraint " : "the generated rows fail",
                  check && con ? con : "", check ? " rejects the generated values" : "", step, msg ? msg : PQresultErrorMessage(r),
                  detail ? " " : "", detail ? detail : "");
}

/* The previous way, kept for `rehearse bench scale` to compare against: one INSERT through the table's
   indexes and foreign-key triggers as they are, autocommit (and every foreign key joined, no driver). */
static void insert_direct(PGconn *conn, const char *ins, rh_scale_filled *f, rh_buf *note)
{
    PGresult *r = PQexec(conn, ins);
    if (PQresultStatus(r) == PGRES_COMMAND_OK)
        f->inserted = atoll(PQcmdTuples(r));
    else
        note_refusal(note, "", r);
    PQclear(r);
}

/* Run one statement of the bulk transaction; on failure the note says which step and why. */
static int bulk_step(PGconn *conn, const char *sql, const char *step, rh_buf *note)
{
    PGresult *r = PQexec(conn, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        note_refusal(note, step, r);
    PQclear(r);
    return ok ? 0 : -1;
}

/* Drops the constraints QUERY lists (quoted name, definition) from table QS.QN for the load, and appends to
 * UNDO the statements that add each back. 1 when every drop went through. */
static int drop_constraints_for_load(PGconn *conn, const char *query, const char *qs, const char *qn,
                                     const char *step, char ***undo, size_t *nundo, rh_buf *note)
{
    PGresult *r = PQexec(conn, query);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    for (int i = 0; ok && i < PQntuples(r); i++) {
        char *q = rh_xasprintf("ALTER TABLE %s.%s DROP CONSTRAINT %s", qs, qn, PQgetvalue(r, i, 0));
        ok = bulk_step(conn, q, step, note) == 0;
        free(q);
        *undo = rh_xrealloc(*undo, (*nundo + 1) * sizeof **undo);
        (*undo)[(*nundo)++] =
            rh_xasprintf("ALTER TABLE %s.%s ADD CONSTRAINT %s %s", qs, qn, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
    }
    PQclear(r);
    return ok;
}

/*
 * Tables that must be truncated with t (t and every table referring to it, transitively), as
 * "a, b, c"; NULL when one of them holds rows, has a TRUNCATE trigger, takes part in inheritance
 * or partitioning, or belongs to a role the session is not: then t is not truncated.
 */
static char *truncate_list(PGconn *conn, unsigned oid)
{
    char sql[1200];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE refs(oid) AS (SELECT %u::oid UNION SELECT k.conrelid FROM pg_constraint k JOIN refs "
             "ON k.confrelid = refs.oid WHERE k.contype = 'f') "
             "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), "
             "c.relkind <> 'r' OR c.relispartition OR NOT pg_has_role(c.relowner, 'USAGE') OR EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = c.oid "
             "OR h.inhparent = c.oid) OR EXISTS (SELECT 1 FROM pg_trigger tg WHERE tg.tgrelid = c.oid "
             "AND NOT tg.tgisinternal AND tg.tgtype & 32 <> 0) "
             "FROM refs JOIN pg_class c ON c.oid = refs.oid JOIN pg_namespace n ON n.oid = c.relnamespace",
             oid);
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return NULL;
    }
    rh_buf list;
    rh_buf_init(&list);
    int ok = 1;
    for (int i = 0; i < PQntuples(r) && ok; i++) {
        if (PQgetvalue(r, i, 1)[0] == 't') {
            ok = 0;
            break;
        }
        char *q = rh_xasprintf("SELECT EXISTS (SELECT 1 FROM ONLY %s)", PQgetvalue(r, i, 0));
        PGresult *e = PQexec(conn, q);
        ok = PQresultStatus(e) == PGRES_TUPLES_OK && PQgetvalue(e, 0, 0)[0] == 'f';
        PQclear(e);
        free(q);
        rh_buf_printf(&list, "%s%s", list.len ? ", " : "", PQgetvalue(r, i, 0));
    }
    PQclear(r);
    if (!ok || !list.len) {
        rh_buf_free(&list);
        return NULL;
    }
    return rh_buf_steal(&list);
}

/*
 * The fast way (measured in docs/scale.md): in one transaction, truncate the table when it and the
 * tables referring to it are empty (under wal_level=minimal a relation created in the transaction
 * writes no WAL), drop its plain indexes and its own foreign keys, insert, then add the foreign
 * keys back (one validating join instead of a trigger per row: a value that is wrong fails it,
 * 23503, as it would have failed the insert) and build the indexes again (a sort instead of a
 * btree insert per row; a unique index over duplicates fails, 23505). Primary keys, unique and
 * exclusion constraints stay: the insert checks them as production would. Anything that cannot be
 * put back exactly is left in place: indexes with a comment, a tablespace, statistics targets,
 * REPLICA IDENTITY or CLUSTER, indexes something depends on (a foreign key's referenced index), and
 * whatever belongs to inheritance or partitioning; a table of another owner is only inserted into. A failure rolls everything back: the table is
 * then as it was, and the note says why.
 */
static void insert_bulk(PGconn *conn, const tbl *t, const char *qs, const char *qn, int empty, const char *ins,
                        rh_scale_filled *f, rh_buf *note)
{
    char sql[2400];
    char **undo = NULL; /* statements that put back what was dropped, in order */
    size_t nundo = 0;
    if (bulk_step(conn, "BEGIN", "", note) < 0)
        return;
    /* memory for the index builds' sorts and the foreign-key join (the server's, per sort: bounded) */
    int ok = bulk_step(conn, "SET LOCAL maintenance_work_mem = '256MB'", "", note) == 0 &&
             bulk_step(conn, "SET LOCAL work_mem = '64MB'", "", note) == 0;
    char *trunc = ok && empty ? truncate_list(conn, t->oid) : NULL;
    if (trunc) {
        char *q = rh_xasprintf("TRUNCATE ONLY %s", trunc);
        ok = bulk_step(conn, q, " (truncating the empty tables)", note) == 0;
        free(q);
        free(trunc);
    }
    snprintf(sql, sizeof sql,
             "SELECT c.relispartition OR EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = c.oid OR h.inhparent = c.oid) "
             "OR NOT pg_has_role(c.relowner, 'USAGE') FROM pg_class c WHERE c.oid = %u",
             t->oid);
    PGresult *r = ok ? PQexec(conn, sql) : NULL;
    int plain = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 'f';
    PQclear(r);
    if (ok && plain) {
        /* its primary key and UNIQUE constraints that no foreign key refers to: built back after the
           insert (a sort instead of a btree insert per row); duplicates then fail, 23505, as they would have.
           Not one whose index has storage options: pg_get_constraintdef leaves out its WITH (...) */
        snprintf(sql, sizeof sql,
                 "SELECT quote_ident(k.conname), pg_get_constraintdef(k.oid) FROM pg_constraint k "
                 "JOIN pg_index i ON i.indexrelid = k.conindid JOIN pg_class ic ON ic.oid = k.conindid "
                 "WHERE k.conrelid = %u AND k.contype IN ('p', 'u') AND k.conparentid = 0 AND k.coninhcount = 0 "
                 "AND NOT i.indisreplident AND NOT i.indisclustered AND ic.reltablespace = 0 AND ic.reloptions IS NULL "
                 "AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.conindid = k.conindid AND f.oid <> k.oid) "
                 "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_class'::regclass "
                 "AND d.refobjid = k.conindid AND NOT (d.classid = 'pg_constraint'::regclass AND d.objid = k.oid)) "
                 "AND NOT EXISTS (SELECT 1 FROM pg_description d WHERE (d.objoid = k.oid "
                 "AND d.classoid = 'pg_constraint'::regclass) OR (d.objoid = k.conindid AND d.classoid = 'pg_class'::regclass)) "
                 "AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = k.conindid "
                 "AND a.attstattarget IS NOT NULL AND a.attstattarget <> -1) ORDER BY k.contype, k.conname",
                 t->oid);
        ok = drop_constraints_for_load(conn, sql, qs, qn, " (dropping a key for the load)", &undo, &nundo, note);
        /* its own foreign keys: dropped now, added back (validated) after the insert */
        snprintf(sql, sizeof sql,
                 "SELECT quote_ident(k.conname), pg_get_constraintdef(k.oid) FROM pg_constraint k "
                 "WHERE k.conrelid = %u AND k.contype = 'f' AND k.conparentid = 0 AND k.coninhcount = 0 "
                 "AND NOT EXISTS (SELECT 1 FROM pg_description d WHERE d.objoid = k.oid "
                 "AND d.classoid = 'pg_constraint'::regclass) ORDER BY k.conname",
                 t->oid);
        ok = ok && drop_constraints_for_load(conn, sql, qs, qn, " (dropping a foreign key for the load)", &undo, &nundo,
                                             note);
        /* its plain indexes (no constraint's, none that anything depends on): dropped, built again after */
        snprintf(sql, sizeof sql,
                 "SELECT pg_get_indexdef(i.indexrelid), quote_ident(n.nspname) || '.' || quote_ident(ic.relname) "
                 "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace "
                 "WHERE i.indrelid = %u AND i.indisvalid AND i.indisready AND NOT i.indisreplident AND NOT i.indisclustered "
                 "AND ic.reltablespace = 0 "
                 "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
                 "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_class'::regclass "
                 "AND d.refobjid = i.indexrelid) "
                 "AND NOT EXISTS (SELECT 1 FROM pg_description d WHERE d.objoid = i.indexrelid "
                 "AND d.classoid = 'pg_class'::regclass) "
                 "AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indexrelid "
                 "AND a.attstattarget IS NOT NULL AND a.attstattarget <> -1) "
                 "AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid) ORDER BY ic.relname",
                 t->oid);
        r = ok ? PQexec(conn, sql) : NULL;
        ok = ok && PQresultStatus(r) == PGRES_TUPLES_OK;
        for (int i = 0; ok && i < PQntuples(r); i++) {
            char *q = rh_xasprintf("DROP INDEX %s", PQgetvalue(r, i, 1));
            ok = bulk_step(conn, q, " (dropping an index for the load)", note) == 0;
            free(q);
            undo = rh_xrealloc(undo, (nundo + 1) * sizeof *undo);
            undo[nundo++] = rh_xstrdup(PQgetvalue(r, i, 0));
        }
        PQclear(r);
    }
    if (ok) {
        r = PQexec(conn, ins);
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            f->inserted = atoll(PQcmdTuples(r));
        else
            note_refusal(note, "", r), ok = 0;
        PQclear(r);
    }
    /* put back what was dropped, one statement at a time so that the note names the one that failed */
    for (size_t i = 0; i < nundo; i++) {
        if (ok) {
            char *step = rh_xasprintf(" (%s)", undo[i]);
            ok = bulk_step(conn, undo[i], step, note) == 0;
            free(step);
        }
        free(undo[i]);
    }
    free(undo);
    if (!ok || bulk_step(conn, "COMMIT", " (commit)", note) < 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        f->inserted = 0;
    }
}

/*
 * Where row g comes from. Without a foreign key: generate_series(1, N) g. With one whose parent has
 * rows, the parent's numbered rows drive instead: for j = 0 .. N / parent rows, every parent row rn
 * gives g = j * parent rows + rn (kept when 1 <= g <= N), so row g gets parent row g mod parent rows,
 * as a join on that would, without the join: sorting or hashing N row numbers cost 8-9 s per
 * million rows here, the scan 0.6 s (docs/scale.md). LATERAL makes j the outer loop, so g grows and
 * keys still arrive in index order. A small parent would be scanned N / rows times: joined instead.
 */
#define DRIVER_MIN_PARENT_ROWS 1000
typedef struct driver {
    char *source;          /* NULL: generate_series; else the parent's numbered rows (fk1) */
    long long parent_rows;
} driver;

/* The FROM clause (and WHERE) that yields rows g = 1 .. n, with the joins of the other foreign keys. */
static char *row_source(const driver *drv, const char *joins, long long n)
{
    if (!drv->source)
        return rh_xasprintf("generate_series(1::bigint, %lld) g%s", n, joins);
    return rh_xasprintf("generate_series(0::bigint, %lld) j CROSS JOIN LATERAL (SELECT x.*, j * %lld + x.rn AS g FROM (%s) x) fk1%s "
                        "WHERE g BETWEEN 1 AND %lld",
                        n / drv->parent_rows, drv->parent_rows, drv->source, joins, n);
}

/* A foreign key of the table being filled: its columns, and the join that gives them the keys of the parent's rows. */
typedef struct fkey {
    char **cols;  /* the child's columns, in key order */
    size_t ncols;
    int self;     /* refers to its own table */
    int join;     /* N of the join "fkN" that gives column i as fkN.k<i>; 0: parent has no rows (or self) */
} fkey;

static void fkeys_free(fkey *fks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < fks[i].ncols; c++)
            free(fks[i].cols[c]);
        free(fks[i].cols);
    }
    free(fks);
}

/* The first foreign key that column `name` is part of, and its position in it. */
static int fk_of(const fkey *fks, size_t n, const char *name, size_t *fk, size_t *pos)
{
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < fks[i].ncols; c++)
            if (!strcmp(fks[i].cols[c], name)) {
                *fk = i;
                *pos = c;
                return 1;
            }
    return 0;
}

/*
 * The table's foreign keys (all columns of each, multi-column ones too), and for each whose parent
 * has rows a join appended to `joins`: the parent's rows numbered, row g of the child taking the
 * (g / stride mod parent rows)-th; stride = product of the earlier foreign keys' parent sizes, so
 * that a composite unique key over two foreign keys stays unique.
 */
static fkey *foreign_keys(PGconn *conn, const tbl *t, int direct, size_t *n, rh_buf *joins, driver *drv)
{
    char sql[1400];
    snprintf(sql, sizeof sql,
             "SELECT c.confrelid = c.conrelid, c.confrelid::regclass::text, "
             "(SELECT string_agg(a.attname, chr(1) ORDER BY k.i) FROM unnest(c.conkey) WITH ORDINALITY k(n, i) "
             "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n), "
             "(SELECT string_agg(quote_ident(a.attname), chr(1) ORDER BY k.i) FROM unnest(c.confkey) WITH ORDINALITY k(n, i) "
             "  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n) "
             "FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = %u ORDER BY c.conname",
             t->oid);
    PGresult *r = PQexec(conn, sql);
    *n = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return NULL;
    }
    fkey *fks = rh_xcalloc((size_t)PQntuples(r) + 1, sizeof *fks);
    long long stride = 1;
    int njoins = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        fkey *k = &fks[(*n)++];
        k->self = PQgetvalue(r, i, 0)[0] == 't';
        char *child = rh_xstrdup(PQgetvalue(r, i, 2)), *parent = rh_xstrdup(PQgetvalue(r, i, 3));
        for (char *p = child; p; k->ncols++) {
            k->cols = rh_xrealloc(k->cols, (k->ncols + 1) * sizeof *k->cols);
            char *end = strchr(p, '\1');
            if (end)
                *end = '\0';
            k->cols[k->ncols] = rh_xstrdup(p);
            p = end ? end + 1 : NULL;
        }
        /* parent columns: "k0, k1 ..." selected, all NOT NULL (MATCH SIMPLE ignores a row with a NULL) */
        rh_buf sel, notnull;
        rh_buf_init(&sel);
        rh_buf_init(&notnull);
        size_t c = 0;
        for (char *p = parent; p; c++) {
            char *end = strchr(p, '\1');
            if (end)
                *end = '\0';
            rh_buf_printf(&sel, "%s AS k%zu, ", p, c);
            rh_buf_printf(&notnull, "%s%s IS NOT NULL", c ? " AND " : "", p);
            p = end ? end + 1 : NULL;
        }
        if (!k->self) {
            char *q = rh_xasprintf("SELECT count(*) FROM %s WHERE %s", PQgetvalue(r, i, 1), notnull.data);
            PGresult *cr = PQexec(conn, q);
            long long pn = PQresultStatus(cr) == PGRES_TUPLES_OK ? atoll(PQgetvalue(cr, 0, 0)) : 0;
            PQclear(cr);
            free(q);
            /* the stats' distinct count of the (first) column: only that many parents are referred to */
            const rh_scale_column *st = k->ncols ? stats_of(t->want, k->cols[0]) : NULL;
            double d = !st ? 0 : st->n_distinct > 0 ? st->n_distinct : -st->n_distinct * (double)t->want->rows;
            char *from = NULL;
            if (d >= 1 && d < (double)pn) {
                pn = (long long)d;
                from = rh_xasprintf("(SELECT * FROM %s WHERE %s LIMIT %lld) p", PQgetvalue(r, i, 1), notnull.data, pn);
            } else {
                from = rh_xasprintf("%s WHERE %s", PQgetvalue(r, i, 1), notnull.data);
            }
            if (pn > 0 && njoins == 0 && pn >= DRIVER_MIN_PARENT_ROWS && !direct) {
                /* the first: drives the rows (see driver) */
                k->join = ++njoins;
                drv->parent_rows = pn;
                drv->source = rh_xasprintf("SELECT %srow_number() OVER () - 1 AS rn FROM %s", sel.data, from);
                stride = pn;
            } else if (pn > 0) {
                k->join = ++njoins;
                rh_buf_printf(joins, " JOIN (SELECT %srow_number() OVER () - 1 AS rn FROM %s) fk%d"
                                     " ON fk%d.rn = (g / %lld) %% %lld",
                              sel.data, from, k->join, k->join, stride, pn);
                stride = stride > (long long)1e15 / pn ? stride : stride * pn;
            }
            free(from);
        }
        rh_buf_free(&sel);
        rh_buf_free(&notnull);
        free(child);
        free(parent);
    }
    PQclear(r);
    return fks;
}

/*
 * The table's CHECK constraints whose columns all get a generated value, as one condition over
 * those columns ("(e1) AND (e2)"), their names into *names; NULL when there is none. The filler
 * keeps the generated rows that pass it and tries twice as many rows as it needs, rather than
 * aiming values at the expressions: a CHECK rehearse cannot read still holds, and what it leaves out
 * is said. A CHECK over a column left to its DEFAULT is not in it (the insert then checks it).
 */
static char *check_filter(PGconn *conn, unsigned oid, const char *generated, rh_buf *names)
{
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT c.conname, pg_get_expr(c.conbin, c.conrelid), (SELECT string_agg(a.attname, chr(1)) FROM pg_attribute a "
             "WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)) FROM pg_constraint c "
             "WHERE c.contype = 'c' AND c.conrelid = %u ORDER BY c.conname",
             oid);
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return NULL;
    }
    rh_buf cond;
    rh_buf_init(&cond);
    for (int i = 0; i < PQntuples(r); i++) {
        int all = !PQgetisnull(r, i, 2);
        char *cols = rh_xstrdup(PQgetvalue(r, i, 2));
        for (char *p = cols; all && p;) {
            char *end = strchr(p, '\1');
            if (end)
                *end = '\0';
            char *needle = rh_xasprintf("\1%s\1", p);
            all = strstr(generated, needle) != NULL;
            free(needle);
            p = end ? end + 1 : NULL;
        }
        free(cols);
        if (!all)
            continue;
        rh_buf_printf(&cond, "%s(%s) IS NOT FALSE", cond.len ? " AND " : "", PQgetvalue(r, i, 1));
        rh_buf_printf(names, "%s%s", names->len ? ", " : "", PQgetvalue(r, i, 0));
    }
    PQclear(r);
    if (!cond.len) {
        rh_buf_free(&cond);
        return NULL;
    }
    return rh_buf_steal(&cond);
}

/* Fill one table; the note says what was not done. */
static void fill_table(PGconn *conn, const tbl *t, int cycle_broken, int direct, long long bulk_from, rh_scale_filled *f)
{
    char *qs = ident(conn, t->schema), *qn = ident(conn, t->name);
    char sql[1024];
    rh_buf note;
    rh_buf_init(&note);
    fkey *fks = NULL;
    size_t nfks = 0;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.%s", qs, qn);
    PGresult *r = PQexec(conn, sql);
    f->before = PQresultStatus(r) == PGRES_TUPLES_OK ? atoll(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    long long n = f->target - f->before;
    if (n <= 0)
        goto out;

    /* columns, with whether they are unique, and their single-column foreign key if any */
    snprintf(sql, sizeof sql,
             "SELECT a.attname, t.typname, format_type(a.atttypid, a.atttypmod), t.typtype, t.typcategory, "
             "a.atttypmod, a.atttypid, a.attnotnull, a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', "
             "EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = a.attrelid AND x.indisunique "
             "        AND a.attnum = ANY (x.indkey::int2[])), "
             "NULL, "
             "a.attgenerated <> '' OR a.attidentity = 'a' "
             "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
             "WHERE a.attrelid = %u AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
             t->oid);
    r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rh_buf_printf(&note, "skipped: cannot read its columns: %s", PQresultErrorMessage(r));
        PQclear(r);
        goto out;
    }
    rh_buf cols, vals, joins;
    rh_buf_init(&cols);
    rh_buf_init(&vals);
    rh_buf_init(&joins);
    rh_buf generated; /* "\1a\1b\1": the columns given a value here */
    rh_buf_init(&generated);
    rh_buf_puts(&generated, "\1");
    int skip = 0;
    driver drv = {0};
    fks = foreign_keys(conn, t, direct, &nfks, &joins, &drv);
    for (int i = 0; i < PQntuples(r) && !skip; i++) {
        const char *name = PQgetvalue(r, i, 0), *typname = PQgetvalue(r, i, 1), *fmt = PQgetvalue(r, i, 2);
        char typtype = PQgetvalue(r, i, 3)[0], category = PQgetvalue(r, i, 4)[0];
        int typmod = atoi(PQgetvalue(r, i, 5));
        unsigned typoid = (unsigned)strtoul(PQgetvalue(r, i, 6), NULL, 10);
        int notnull = PQgetvalue(r, i, 7)[0] == 't', hasdef = PQgetvalue(r, i, 8)[0] == 't';
        int unique = PQgetvalue(r, i, 9)[0] == 't', always = PQgetvalue(r, i, 11)[0] == 't';
        size_t fki = 0, fkc = 0;
        int fk = fk_of(fks, nfks, name, &fki, &fkc);
        const rh_scale_column *st = stats_of(t->want, name);
        if (always)
            continue; /* generated / GENERATED ALWAYS AS IDENTITY: the server computes it */
        char *qc = ident(conn, name);
        char *expr = NULL;
        if (fk) {
            const fkey *k = &fks[fki];
            if (k->join && !notnull && st && st->null_frac > 0) /* the stats' share of rows without a parent */
                expr = rh_xasprintf("CASE WHEN (g * 7919) %% 10000 < %d THEN NULL ELSE fk%d.k%zu::%s END",
                                    (int)(st->null_frac * 10000 + 0.5), k->join, fkc, fmt);
            else if (k->join)
                expr = rh_xasprintf("fk%d.k%zu::%s", k->join, fkc, fmt);
            else if (notnull) {
                rh_buf_printf(&note, "%sskipped: NOT NULL foreign key %s %s", note.len ? "; " : "", name,
                              k->self ? "refers to its own table" : "has no parent rows to refer to");
                skip = 1;
            } else {
                rh_buf_printf(&note, "%s%s left NULL (%s)", note.len ? "; " : "", name,
                              k->self ? "refers to its own table" : cycle_broken ? "foreign-key cycle broken here"
                                                                                     : "parent has no rows");
            }
            if (!expr) {
                free(qc);
                continue;
            }
        } else {
            if (hasdef) {
                free(qc);
                continue; /* its DEFAULT (now(), a sequence, gen_random_uuid() ...) gives the value, as in the application */
            }
            char key[64];
            if (!unique && st) {
                double d = st->n_distinct > 0 ? st->n_distinct : -st->n_distinct * (double)f->target;
                if (d >= 1 && d < (double)f->target)
                    snprintf(key, sizeof key, "(g %% %lld)", (long long)d);
                else
                    snprintf(key, sizeof key, "g");
            } else {
                snprintf(key, sizeof key, "(g + %lld)", f->before);
            }
            expr = value_expr(conn, typname, fmt, typtype, category, typmod, typoid, key, st ? st->avg_width : 0);
            if (!expr) {
                if (notnull) {
                    rh_buf_printf(&note, "skipped: rehearse cannot generate type %s (NOT NULL column %s)", fmt, name);
                    skip = 1;
                }
                free(qc);
                continue;
            }
            if (!notnull && st && st->null_frac > 0) {
                char *nexpr = rh_xasprintf("CASE WHEN (g * 7919) %% 10000 < %d THEN NULL ELSE %s END",
                                           (int)(st->null_frac * 10000 + 0.5), expr);
                free(expr);
                expr = nexpr;
            }
        }
        rh_buf_printf(&cols, "%s%s", cols.len ? ", " : "", qc);
        rh_buf_printf(&vals, "%s%s AS %s", vals.len ? ", " : "", expr, qc);
        rh_buf_printf(&generated, "%s\1", name);
        free(qc);
        free(expr);
    }
    PQclear(r);
    if (!skip) {
        rh_buf checks;
        rh_buf_init(&checks);
        char *filter = cols.len ? check_filter(conn, t->oid, generated.data, &checks) : NULL;
        char *from = row_source(&drv, joins.len ? joins.data : "", filter ? 2 * n : n);
        char *ins = filter ? rh_xasprintf("INSERT INTO %s.%s (%s) SELECT %s FROM (SELECT %s FROM %s) s WHERE %s LIMIT %lld", qs, qn,
                                          cols.data, cols.data, vals.data, from, filter, n)
                  : cols.len ? rh_xasprintf("INSERT INTO %s.%s (%s) SELECT %s FROM %s", qs, qn, cols.data, vals.data, from)
                             : rh_xasprintf("INSERT INTO %s.%s SELECT FROM %s", qs, qn, from);
        free(from);
        double t0 = now_ms();
        if (direct || n < bulk_from) /* a small load: dropping and building back would cost more than it saves */
            insert_direct(conn, ins, f, &note);
        else
            insert_bulk(conn, t, qs, qn, f->before == 0, ins, f, &note);
        f->ms = now_ms() - t0;
        free(ins);
        if (filter && f->inserted < n && !note.len)
            rh_buf_printf(&note, "%lld of %lld rows: CHECK constraint %s rejects the generated values of the others "
                                 "(rows failing a CHECK are left out; %lld tried)",
                          f->before + f->inserted, f->target, checks.data, 2 * n);
        free(filter);
        rh_buf_free(&checks);
        /* ANALYZE (when the session may: owner or the database's owner; else the server only warns) */
        snprintf(sql, sizeof sql,
                 "SELECT pg_has_role(c.relowner, 'USAGE') OR pg_has_role(d.datdba, 'USAGE') FROM pg_class c, pg_database d "
                 "WHERE c.oid = %u AND d.datname = current_database()",
                 t->oid);
        r = f->inserted > 0 ? PQexec(conn, sql) : NULL;
        if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't') {
            snprintf(sql, sizeof sql, "ANALYZE %s.%s", qs, qn);
            PQclear(PQexec(conn, sql));
        }
        PQclear(r);
    }
    rh_buf_free(&cols);
    rh_buf_free(&vals);
    rh_buf_free(&joins);
    rh_buf_free(&generated);
    free(drv.source);
out:
    fkeys_free(fks, nfks);
    f->note = note.len ? rh_buf_steal(&note) : NULL;
    rh_buf_free(&note);
    free(qs);
    free(qn);
}

int rh_scale_fill(PGconn *conn, const rh_scale *s, rh_scale_fill_result *out, rh_err *err)
{
    return rh_scale_fill_with(conn, s, NULL, out, err);
}

int rh_scale_fill_with(PGconn *conn, const rh_scale *s, const rh_scale_fill_opts *opts, rh_scale_fill_result *out,
                       rh_err *err)
{
    memset(out, 0, sizeof *out);
    /* every user table but the migration tool's ledger */
    char schema[128];
    const char *ledger = rh_tool_ledger_parts(RH_TOOL_DEFAULT->ledger_table, schema, sizeof schema);
    const char *params[] = {schema, ledger ? ledger : ""};
    PGresult *r = PQexecParams(conn,
                               "SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                               "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                               "AND n.nspname NOT LIKE 'pg\\_%' AND NOT (c.relname = $2 AND ($1 = '' OR n.nspname = $1)) "
                               "ORDER BY 2, 3",
                               2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rh_err_set(err, "filling tables: %s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    size_t n = 0;
    tbl *ts = rh_xcalloc((size_t)PQntuples(r) + 1, sizeof *ts);
    for (int i = 0; i < PQntuples(r); i++) {
        const rh_scale_table *want = rh_scale_find(s, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
        if (!want || want->rows <= 0)
            continue;
        ts[n].oid = (unsigned)strtoul(PQgetvalue(r, i, 0), NULL, 10);
        ts[n].schema = rh_xstrdup(PQgetvalue(r, i, 1));
        ts[n].name = rh_xstrdup(PQgetvalue(r, i, 2));
        ts[n].want = want;
        n++;
    }
    PQclear(r);

    /* foreign keys among the tables to fill: parents first (Kahn); a cycle is broken and said */
    fk_edge *edges = NULL;
    size_t nedges = 0;
    r = query(conn, "SELECT conrelid, confrelid FROM pg_constraint WHERE contype = 'f'", err);
    if (!r)
        goto fail;
    edges = rh_xcalloc((size_t)PQntuples(r) + 1, sizeof *edges);
    for (int i = 0; i < PQntuples(r); i++) {
        unsigned c = (unsigned)strtoul(PQgetvalue(r, i, 0), NULL, 10), p = (unsigned)strtoul(PQgetvalue(r, i, 1), NULL, 10);
        int ci = -1, pi = -1;
        for (size_t k = 0; k < n; k++) {
            if (ts[k].oid == c)
                ci = (int)k;
            if (ts[k].oid == p)
                pi = (int)k;
        }
        if (ci >= 0 && pi >= 0 && ci != pi)
            edges[nedges++] = (fk_edge){ci, pi};
    }
    PQclear(r);
    int *done = rh_xcalloc(n + 1, sizeof *done), *broken = rh_xcalloc(n + 1, sizeof *broken);
    out->tables = rh_xcalloc(n + 1, sizeof *out->tables);
    for (size_t filled = 0; filled < n; filled++) {
        int pick = -1;
        for (size_t k = 0; k < n && pick < 0; k++) {
            if (done[k])
                continue;
            int ready = 1;
            for (size_t e = 0; e < nedges && ready; e++)
                if (edges[e].child == (int)k && !done[edges[e].parent])
                    ready = 0;
            if (ready)
                pick = (int)k;
        }
        if (pick < 0) { /* every table left waits on another: a cycle; break it at the first */
            for (size_t k = 0; k < n && pick < 0; k++)
                if (!done[k])
                    pick = (int)k;
            broken[pick] = 1;
        }
        done[pick] = 1;
        rh_scale_filled *f = &out->tables[out->n++];
        f->schema = rh_xstrdup(ts[pick].schema);
        f->name = rh_xstrdup(ts[pick].name);
        f->target = ts[pick].want->rows;
        fill_table(conn, &ts[pick], broken[pick], opts && opts->direct,
                   opts && opts->bulk_from_rows > 0 ? opts->bulk_from_rows : RH_SCALE_BULK_FROM_ROWS, f);
        out->rows += f->inserted;
        out->ms += f->ms;
    }
    free(done);
    free(broken);
    free(edges);
    for (size_t k = 0; k < n; k++) {
        free(ts[k].schema);
        free(ts[k].name);
    }
    free(ts);
    return 0;
fail:
    for (size_t k = 0; k < n; k++) {
        free(ts[k].schema);
        free(ts[k].name);
    }
    free(ts);
    free(edges);
    return -1;
}

void rh_scale_fill_result_free(rh_scale_fill_result *r)
{
    for (size_t i = 0; r && i < r->n; i++) {
        free(r->tables[i].schema);
        free(r->tables[i].name);
        free(r->tables[i].note);
    }
    if (r) {
        free(r->tables);
        memset(r, 0, sizeof *r);
    }
}
