/*
 * fill.c — fill existing tables to production's row counts inside the throwaway cluster.
 *
 * Why client-side: rehearse generates each row (scale/values.c, ~0.1-0.5 µs of its CPU per row)
 * and streams it with COPY ... FROM STDIN (FORMAT binary), in chunks, so memory stays bounded
 * whatever N is; the server only stores the rows (server-side generation, INSERT ... SELECT over
 * generate_series with an SQL expression per column, cost ~4 µs of the server's CPU per row:
 * docs/scale.md). Each table is loaded in its own transaction: a table whose rows are refused is
 * rolled back whole and said, the others are filled.
 *
 * Value of row g (1 .. N) for a column (K is the column's key number, values.h its value):
 *   unique / primary-key column: K = g + rows before (distinct); else with stats: K = (g's rank among the
 *   non-NULL rows) % distinct-count, or g when there are as many values as non-NULL rows;
 *   else g. NULL in a nullable column when (g * 7919) mod 10000 < null_frac * 10000.
 *   foreign key: the (g / stride % parent_rows)-th row of the parent (read through a cursor, or generated
 *   again when this fill loaded the parent: known_keys); stride is
 *   the product of the earlier foreign keys' parent sizes, so (a_id, b_id) of a join table stays unique.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scale/scale.h"
#include "scale/values.h"
#include "tools/tool.h"
#include "util/buf.h"

typedef struct fk_edge {
    int child, parent;    /* indexes into the table list */
    int notnull;          /* a column of the key is NOT NULL: left NULL, it would skip the child */
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

/* A statement that puts back what the load dropped; merge_join: a foreign key whose validation is planned
   without hash joins (see load_table). */
typedef struct undo_step {
    char *sql;
    int merge_join;
} undo_step;

static void undo_add(undo_step **undo, size_t *nundo, char *sql, int merge_join)
{
    *undo = rh_xrealloc(*undo, (*nundo + 1) * sizeof **undo);
    (*undo)[(*nundo)++] = (undo_step){sql, merge_join};
}

/* Drops the constraints LISTED (rows: quoted name, definition[, 't' when its validation should merge-join]; NULL
 * or failed: nothing dropped, 0) from table QS.QN for the load, and appends to UNDO the statements that add each
 * back. 1 when every drop went through. */
static int drop_constraints_for_load(PGconn *conn, const PGresult *listed, const char *qs, const char *qn,
                                     const char *step, undo_step **undo, size_t *nundo, rh_buf *note)
{
    const PGresult *r = listed;
    int ok = r && PQresultStatus(r) == PGRES_TUPLES_OK;
    for (int i = 0; ok && i < PQntuples(r); i++) {
        char *q = rh_xasprintf("ALTER TABLE %s.%s DROP CONSTRAINT %s", qs, qn, PQgetvalue(r, i, 0));
        ok = bulk_step(conn, q, step, note) == 0;
        free(q);
        undo_add(undo, nundo, rh_xasprintf("ALTER TABLE %s.%s ADD CONSTRAINT %s %s", qs, qn, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)),
                 PQnfields(r) > 2 && PQgetvalue(r, i, 2)[0] == 't');
    }
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
 * A foreign key of the table being filled: its columns, and where their values come from: the
 * parent's rows (those with the key columns all set, the first pn of them when the stats give
 * fewer distinct values), read through a cursor (open_parent_cursors) in windows, so rehearse
 * holds at most a chunk's worth of parent keys. Row g of the child takes parent row
 * (g / stride) mod pn; stride = product of the earlier such foreign keys' pn, so that a composite
 * unique key over two foreign keys (a join table) stays unique.
 */
typedef struct fkey {
    char **cols;       /* the child's columns, in key order */
    size_t ncols;
    int self;          /* refers to its own table */
    char *parent;      /* the parent, schema-qualified and quoted (the same on every connection) */
    char **pcols;      /* the parent's key columns, quoted, in key order */
    char **pnames;     /* the same, as they are named */
    long long pn;      /* parent rows referred to; 0: none (no rows, or self): the columns are left NULL */
    long long limit;   /* > 0: only the first `limit` parent rows (the stats' distinct count) */
    long long stride;
    char **fmts;       /* the child's column types (NULL where not generated); NULL: no column generated */
    char *select;      /* the cursor's select list: the parent's columns cast to the child's types */
    int cursor;        /* declared as rh_fk<cursor> on kconn; 0: not used */
    PGconn *kconn;     /* the cursor's connection: the load's (in its transaction), or the fill's second
                          connection (WITH HOLD, declared before the load's transaction) */
    long long pos;     /* rows the cursor has moved past */
    long long fetched; /* parent rows fetched in all */
    PGresult *piece[2];    /* the window: parent rows start[i] .. start[i] + ntuples - 1 */
    long long start[2];
    int whole;         /* piece[0] holds every parent row */
    unsigned parent_oid;
    const rh_scale_gen **known; /* per key column: the generator that filled the parent's column in this fill
                                   (known_keys); NULL: the keys are read through the cursor */
} fkey;

static void fkeys_free(fkey *fks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < fks[i].ncols; c++) {
            free(fks[i].cols[c]);
            free(fks[i].pcols[c]);
            free(fks[i].pnames[c]);
            if (fks[i].fmts)
                free(fks[i].fmts[c]);
        }
        free(fks[i].fmts);
        free(fks[i].known);
        free(fks[i].cols);
        free(fks[i].pcols);
        free(fks[i].pnames);
        free(fks[i].parent);
        free(fks[i].select);
        PQclear(fks[i].piece[0]);
        PQclear(fks[i].piece[1]);
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

/* Split "a\1b\1c" into a new array of copies. */
static char **split1(const char *s, size_t *n)
{
    char **v = NULL;
    *n = 0;
    char *copy = rh_xstrdup(s);
    for (char *p = copy; p; (*n)++) {
        char *end = strchr(p, '\1');
        if (end)
            *end = '\0';
        v = rh_xrealloc(v, (*n + 1) * sizeof *v);
        v[*n] = rh_xstrdup(p);
        p = end ? end + 1 : NULL;
    }
    free(copy);
    return v;
}

/* The table's foreign keys (all columns of each, multi-column ones too), with their parents' usable rows. */
static fkey *foreign_keys(PGconn *conn, const tbl *t, size_t *n)
{
    char sql[1400];
    snprintf(sql, sizeof sql,
             "SELECT c.confrelid = c.conrelid, c.confrelid, (SELECT quote_ident(n.nspname) || '.' || quote_ident(r.relname) "
             "  FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = c.confrelid), "
             "(SELECT string_agg(a.attname, chr(1) ORDER BY k.i) FROM unnest(c.conkey) WITH ORDINALITY k(n, i) "
             "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n), "
             "(SELECT string_agg(quote_ident(a.attname), chr(1) ORDER BY k.i) FROM unnest(c.confkey) WITH ORDINALITY k(n, i) "
             "  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n), "
             "(SELECT string_agg(a.attname, chr(1) ORDER BY k.i) FROM unnest(c.confkey) WITH ORDINALITY k(n, i) "
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
    for (int i = 0; i < PQntuples(r); i++) {
        fkey *k = &fks[(*n)++];
        k->self = PQgetvalue(r, i, 0)[0] == 't';
        k->parent_oid = (unsigned)strtoul(PQgetvalue(r, i, 1), NULL, 10);
        k->parent = rh_xstrdup(PQgetvalue(r, i, 2));
        size_t np = 0;
        k->cols = split1(PQgetvalue(r, i, 3), &k->ncols);
        k->pcols = split1(PQgetvalue(r, i, 4), &np);
        assert(np == k->ncols);
        k->pnames = split1(PQgetvalue(r, i, 5), &np);
        assert(np == k->ncols);
        if (k->self)
            continue;
        /* MATCH SIMPLE ignores a row with a NULL: only parent rows with every key column set */
        rh_buf where;
        rh_buf_init(&where);
        for (size_t c = 0; c < k->ncols; c++)
            rh_buf_printf(&where, "%s%s IS NOT NULL", c ? " AND " : "", k->pcols[c]);
        char *q = rh_xasprintf("SELECT count(*) FROM %s WHERE %s", k->parent, where.data);
        rh_buf_free(&where);
        PGresult *cr = PQexec(conn, q);
        k->pn = PQresultStatus(cr) == PGRES_TUPLES_OK ? atoll(PQgetvalue(cr, 0, 0)) : 0;
        PQclear(cr);
        free(q);
        /* the stats' distinct count of the (first) column: only that many parents are referred to */
        const rh_scale_column *st = k->ncols ? stats_of(t->want, k->cols[0]) : NULL;
        double d = !st ? 0 : st->n_distinct > 0 ? st->n_distinct : -st->n_distinct * (double)t->want->rows;
        if (d >= 1 && d < (double)k->pn)
            k->pn = k->limit = (long long)d;
        if (k->pn > 0) {
            k->stride = stride;
            stride = stride > (long long)1e15 / k->pn ? stride : stride * k->pn;
        }
    }
    PQclear(r);
    return fks;
}

/* Parent rows [lo, lo + count) of fk's cursor as one binary result; NULL (note said) on failure. */
static PGresult *fetch_parents(fkey *k, long long lo, long long count, rh_buf *note)
{
    PGconn *conn = k->kconn;
    char sql[96];
    if (lo != k->pos) {
        if (lo > k->pos)
            snprintf(sql, sizeof sql, "MOVE FORWARD %lld FROM rh_fk%d", lo - k->pos, k->cursor);
        else
            snprintf(sql, sizeof sql, "MOVE ABSOLUTE %lld FROM rh_fk%d", lo, k->cursor); /* on row lo: next is lo + 1 */
        if (bulk_step(conn, sql, " (reading the parent's keys)", note) < 0)
            return NULL;
    }
    snprintf(sql, sizeof sql, "FETCH FORWARD %lld FROM rh_fk%d", count, k->cursor);
    PGresult *r = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != count) {
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            rh_buf_printf(note, "%sskipped: the parent %s had %d rows where %lld were counted", note->len ? "; " : "",
                          k->parent, PQntuples(r), count);
        else
            note_refusal(note, " (reading the parent's keys)", r);
        PQclear(r);
        return NULL;
    }
    k->pos = lo + count;
    k->fetched += count;
    return r;
}

/* Make fk's window hold the parent rows that child rows g0 .. g1 refer to. 0, or -1 (note said). */
static int window_for(fkey *k, long long g0, long long g1, rh_buf *note)
{
    long long a = g0 / k->stride, span = g1 / k->stride - a + 1, lo = a % k->pn;
    if (k->whole)
        return 0;
    PQclear(k->piece[0]);
    PQclear(k->piece[1]);
    k->piece[0] = k->piece[1] = NULL;
    if (span >= k->pn) { /* every parent row: read once, kept */
        k->start[0] = 0;
        k->whole = 1;
        return (k->piece[0] = fetch_parents(k, 0, k->pn, note)) ? 0 : -1;
    }
    long long first = lo + span <= k->pn ? span : k->pn - lo;
    k->start[0] = lo;
    if (!(k->piece[0] = fetch_parents(k, lo, first, note)))
        return -1;
    if (first < span) { /* wraps around to the parent's first rows */
        k->start[1] = 0;
        if (!(k->piece[1] = fetch_parents(k, 0, span - first, note)))
            return -1;
    }
    return 0;
}

/* How one column of the COPY gets its value for row g. */
typedef struct colplan {
    int fk;             /* >= 0: from that foreign key's parent row, key column fkc; -1: generated */
    int fkc;
    int null_per_10000; /* NULL when (g * 7919) mod 10000 is below this */
    int unique;         /* K = g + rows before (distinct from the rows already there) */
    long long distinct; /* > 0: K = g mod distinct (the stats' distinct count); with NULLs, the row's
                           rank among the non-NULL rows mod distinct, so that they hold all of them */
    int *nulls_before;  /* with null_per_10000 and distinct: [r] = rows s < r of a 10 000 that are NULL */
    long long *passing; /* > 0 of them: K = passing[g mod npassing], the values its CHECKs let through */
    long long npassing;
    char *name, *fmt;   /* the column and its type (format_type) */
    rh_scale_gen gen;
} colplan;

typedef struct plan {
    char *cols;        /* the COPY's column list, quoted */
    colplan *c;
    size_t n;
    fkey *fks;
    size_t nfks;
    char *filter;      /* the CHECKs, as COPY's WHERE; NULL: none */
    long long before, rows;
} plan;

/* The field of parent row `idx` in fk's window, appended as COPY's binary field. */
static void put_parent_key(const fkey *k, long long idx, int col, rh_buf *out)
{
    int p = k->piece[1] && idx >= k->start[1] && idx < k->start[1] + PQntuples(k->piece[1]) ? 1 : 0;
    const PGresult *r = k->piece[p];
    int row = (int)(idx - k->start[p]);
    assert(row >= 0 && row < PQntuples(r));
    unsigned char len[4];
    int n = PQgetlength(r, row, col);
    len[0] = (unsigned char)(n >> 24), len[1] = (unsigned char)(n >> 16), len[2] = (unsigned char)(n >> 8), len[3] = (unsigned char)n;
    rh_buf_append(out, len, 4);
    rh_buf_append(out, PQgetvalue(r, row, col), (size_t)n);
}

/*
 * Row g's rank among the non-NULL rows of its column: g less the NULL rows before it. Each 10 000
 * consecutive rows hold null_per_10000 NULLs (7919 is prime to 10 000), so a table of one 10 000 says
 * the rest. K = g mod distinct put NULL and K in step whenever distinct shares factors with
 * 10 000 (n_distinct -0.1 of 300 000 rows: 30 000 values, 60 % NULL: 12 000 of them in the table), and
 * repeated a column production has unique when not NULL (n_distinct = -(1 - null_frac), as ANALYZE
 * writes it): a unique index on it failed with 23505.
 */
static long long non_null_rank(const colplan *c, long long g)
{
    if (!c->nulls_before)
        return g;
    return g - g / 10000 * c->null_per_10000 - c->nulls_before[g % 10000];
}

static int *nulls_before_table(int null_per_10000)
{
    int *t = rh_xcalloc(10000, sizeof *t);
    for (int r = 1; r < 10000; r++)
        t[r] = t[r - 1] + ((long long)(r - 1) * 7919 % 10000 < null_per_10000);
    return t;
}

static void put_row(const plan *p, long long g, rh_buf *out)
{
    unsigned char nf[2] = {(unsigned char)(p->n >> 8), (unsigned char)p->n};
    static const unsigned char null_field[4] = {0xff, 0xff, 0xff, 0xff};
    rh_buf_append(out, nf, 2);
    for (size_t i = 0; i < p->n; i++) {
        const colplan *c = &p->c[i];
        if (c->null_per_10000 && (g * 7919) % 10000 < c->null_per_10000)
            rh_buf_append(out, null_field, 4);
        else if (c->fk >= 0) {
            const fkey *k = &p->fks[c->fk];
            long long idx = g / k->stride % k->pn;
            if (k->known) /* the parent's row idx + 1 of this fill */
                rh_scale_gen_put(k->known[c->fkc], idx + 1, out);
            else
                put_parent_key(k, idx, c->fkc, out);
        } else
            rh_scale_gen_put(&c->gen,
                             c->npassing ? c->passing[g % c->npassing]
                             : c->unique ? g + p->before
                             : c->distinct ? non_null_rank(c, g) % c->distinct
                                           : g,
                             out);
    }
}

/* Rows per COPY statement: the parent keys read for one is bounded by this (per foreign key). */
#define CHUNK_ROWS 65536
/* Bytes rehearse gathers before handing them to libpq. */
#define SEND_BYTES (256 * 1024)

/* One COPY of rows g0 .. g0 + m - 1; the rows it kept (the CHECKs leave some out), or -1 (note said). */
static long long copy_chunk(PGconn *conn, const char *copy_sql, plan *p, long long g0, long long m, rh_buf *out, rh_buf *note)
{
    for (size_t i = 0; i < p->nfks; i++)
        if (p->fks[i].cursor && window_for(&p->fks[i], g0, g0 + m - 1, note) < 0)
            return -1;
    PGresult *r = PQexec(conn, copy_sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        note_refusal(note, "", r);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0"; /* signature, flags, extension length */
    rh_buf_reset(out);
    rh_buf_append(out, header, sizeof header);
    int sent = 1;
    for (long long g = g0; g < g0 + m && sent; g++) {
        put_row(p, g, out);
        if (out->len >= SEND_BYTES) {
            sent = PQputCopyData(conn, out->data, (int)out->len) == 1;
            rh_buf_reset(out);
        }
    }
    static const unsigned char trailer[2] = {0xff, 0xff};
    rh_buf_append(out, trailer, 2);
    sent = sent && PQputCopyData(conn, out->data, (int)out->len) == 1;
    PQputCopyEnd(conn, sent ? NULL : "rehearse could not send the rows");
    long long kept = -1;
    while ((r = PQgetResult(conn))) {
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            kept = atoll(PQcmdTuples(r));
        else
            note_refusal(note, "", r);
        PQclear(r);
    }
    return kept;
}

/*
 * The rows: generated by rehearse and streamed to the server (COPY ... FROM STDIN (FORMAT binary))
 * in chunks of CHUNK_ROWS, the foreign keys' parent rows read through their cursors between chunks.
 * With CHECKs, the rows that fail them are left out (COPY's WHERE) and more are tried, up to twice
 * the rows asked for. FREEZE (the rows are written frozen and their pages all-visible: the index
 * builds and the foreign keys' validation after it read them without a visibility check per row)
 * when the table was truncated here and no cursor is open on conn (COPY FREEZE refuses then).
 * Returns 0 or -1.
 */
static int stream_rows(PGconn *conn, const char *qs, const char *qn, plan *p, int truncated, rh_scale_filled *f,
                       rh_buf *note)
{
    int cursors = 0; /* open on conn: COPY FREEZE refuses then */
    for (size_t i = 0; i < p->nfks; i++)
        if (p->fks[i].cursor && p->fks[i].kconn == conn)
            cursors++;
    char *copy_sql = rh_xasprintf("COPY %s.%s (%s) FROM STDIN (FORMAT binary%s)%s%s", qs, qn, p->cols,
                                  truncated && !cursors ? ", FREEZE" : "", p->filter ? " WHERE " : "",
                                  p->filter ? p->filter : "");
    long long tries = p->filter ? 2 * p->rows : p->rows, tried = 0, g = 1;
    rh_buf out;
    rh_buf_init(&out);
    int rc = 0;
    f->inserted = 0;
    while (f->inserted < p->rows && tried < tries) {
        long long m = p->rows - f->inserted; /* never more than still asked for: the CHECKs may keep them all */
        if (m > tries - tried)
            m = tries - tried;
        if (m > CHUNK_ROWS)
            m = CHUNK_ROWS;
        long long kept = copy_chunk(conn, copy_sql, p, g, m, &out, note);
        if (kept < 0) {
            rc = -1;
            break;
        }
        f->inserted += kept;
        tried += m;
        g += m;
    }
    rh_buf_free(&out);
    free(copy_sql);
    return rc;
}

/*
 * Cursors over the parents' keys of the foreign keys whose columns are generated: `SELECT key columns
 * ::child's types FROM parent WHERE all NOT NULL [LIMIT distinct count]` with synchronize_seqscans off,
 * so every read gives the same row order. On kc when it is not NULL: WITH HOLD, in a transaction of
 * their own committed before the load's begins (the rows are kept by the server, spilling to disk
 * past work_mem, and kc holds no lock on the parent, whose foreign key the load drops), so that the
 * load's COPY can be FREEZE (it refuses while a cursor is open in its transaction). Else on conn, in
 * the load's transaction. 0, or -1 (note said).
 */
static int open_parent_cursors(PGconn *conn, PGconn *kc, plan *p, rh_buf *note)
{
    PGconn *on = kc ? kc : conn;
    int cursors = 0, ok = 1, began = 0;
    for (size_t i = 0; ok && i < p->nfks; i++) {
        fkey *k = &p->fks[i];
        if (!k->select || k->cursor || k->known)
            continue;
        if (!began) { /* every read of a parent starts at its first block: the same row order each time */
            began = 1;
            ok = (!kc || bulk_step(kc, "BEGIN", " (reading the parent's keys)", note) == 0) &&
                 bulk_step(on, "SET LOCAL synchronize_seqscans = off", "", note) == 0;
        }
        rh_buf where;
        rh_buf_init(&where);
        for (size_t c = 0; c < k->ncols; c++)
            rh_buf_printf(&where, "%s%s IS NOT NULL", c ? " AND " : "", k->pcols[c]);
        char lim[40] = "";
        if (k->limit)
            snprintf(lim, sizeof lim, " LIMIT %lld", k->limit);
        char *q = rh_xasprintf("DECLARE rh_fk%d SCROLL CURSOR%s FOR SELECT %s FROM %s WHERE %s%s", cursors + 1,
                               kc ? " WITH HOLD" : "", k->select, k->parent, where.data, lim);
        rh_buf_free(&where);
        ok = ok && bulk_step(on, q, " (reading the parent's keys)", note) == 0;
        free(q);
        if (ok) {
            k->cursor = ++cursors;
            k->kconn = on;
        }
    }
    if (kc && began && (!ok || bulk_step(kc, "COMMIT", " (reading the parent's keys)", note) < 0)) {
        PQclear(PQexec(kc, "ROLLBACK")); /* the held cursors are gone with it */
        for (size_t i = 0; i < p->nfks; i++)
            p->fks[i].cursor = 0;
        return -1;
    }
    return ok ? 0 : -1;
}

/* Close the parents' cursors: the load's own while its transaction is ok (a failure then fails it; a
   rollback closes them anyway) and the held ones whatever happened. 0, or -1 (note said). */
static int close_parent_cursors(PGconn *conn, plan *p, int ok, rh_buf *note)
{
    int rc = 0;
    for (size_t i = 0; i < p->nfks; i++) {
        fkey *k = &p->fks[i];
        if (!k->cursor)
            continue;
        char sql[40];
        snprintf(sql, sizeof sql, "CLOSE rh_fk%d", k->cursor);
        if (k->kconn == conn) {
            if (ok && rc == 0)
                rc = bulk_step(conn, sql, "", note);
        } else {
            PQclear(PQexec(k->kconn, sql)); /* outside the load: a failure here changes nothing in the table */
        }
        k->cursor = 0;
    }
    return rc;
}

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        rh_scale_gen_free(&p->c[i].gen);
        free(p->c[i].nulls_before);
        free(p->c[i].passing);
        free(p->c[i].name);
        free(p->c[i].fmt);
    }
    free(p->c);
    free(p->cols);
    free(p->filter);
    fkeys_free(p->fks, p->nfks);
    memset(p, 0, sizeof *p);
}



/*
 * A second connection to conn's database as conn's role (its connection options: host, port, user,
 * password, database); NULL when it cannot be opened.
 */
static PGconn *open_helper(PGconn *conn)
{
    PQconninfoOption *opts = PQconninfo(conn);
    if (!opts)
        return NULL;
    size_t n = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        n++;
    const char **keys = rh_xcalloc(n + 1, sizeof *keys), **vals = rh_xcalloc(n + 1, sizeof *vals);
    size_t k = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && o->val[0]) {
            keys[k] = o->keyword;
            vals[k++] = o->val;
        }
    PGconn *h = PQconnectdbParams(keys, vals, 0);
    free(keys);
    free(vals);
    PQconninfoFree(opts);
    if (PQstatus(h) != CONNECTION_OK) {
        PQfinish(h);
        return NULL;
    }
    return h;
}

/*
 * maintenance_work_mem for a bulk load's index builds, in MB: 128 bytes per row of the table (a btree
 * sort's tuple and index tuple of a short key), so that each participant of a build sorts its share in
 * memory (past it the sort writes runs and merges them: 10 000 000 Users' two builds took 11.9 - 14.1 s
 * of the server's CPU with 256 MB, 10.9 - 12.2 s sized: docs/scale.md, session 7). At least 256 MB (what
 * it was for every size), at most 2 GB and an eighth of the machine's memory: many clusters share the
 * machine (the server is local: rehearse's own throwaway cluster), and one build at a time of one fill
 * uses it (its parallel workers share it).
 */
static long long sort_memory_mb(long long rows)
{
    long long mb = rows / (1024 * 1024 / 128), cap = 2048;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 && (long long)pages * page / 8 / (1024 * 1024) < cap)
        cap = (long long)pages * page / 8 / (1024 * 1024);
    if (mb > cap)
        mb = cap;
    return mb < 256 ? 256 : mb;
}

/* The fill's second connection (for the parents' keys), opened when a table first needs it, kept for the others. */
typedef struct helper_conn {
    PGconn *conn;
    int tried; /* opening it was tried (and failed when conn is NULL: the load's own cursors then) */
} helper_conn;

static PGconn *helper_get(helper_conn *h, PGconn *conn)
{
    if (!h->tried) {
        h->tried = 1;
        h->conn = open_helper(conn);
    }
    return h->conn;
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
 * then as it was, and the note says why. 1 when the table was truncated here and its load committed (loaded FREEZE).
 */
static int load_table(PGconn *conn, helper_conn *helper, const tbl *t, const char *qs, const char *qn, int bulk,
                      int empty, plan *p, rh_scale_filled *f, rh_buf *note)
{
    char sql[2400];
    undo_step *undo = NULL; /* statements that put back what was dropped, in order */
    size_t nundo = 0;
    /* a table filled from empty may be truncated, then its COPY is FREEZE: the parents' keys are read
       through held cursors of the fill's second connection, declared before the load's transaction */
    int keys = 0;
    for (size_t i = 0; i < p->nfks; i++)
        keys |= p->fks[i].select != NULL && !p->fks[i].known;
    PGconn *kc = bulk && empty && keys && p->cols ? helper_get(helper, conn) : NULL;
    if (kc && open_parent_cursors(conn, kc, p, note) < 0)
        return 0;
    if (bulk_step(conn, "BEGIN", "", note) < 0) {
        close_parent_cursors(conn, p, 0, note);
        return 0;
    }
    /* memory for the index builds' sorts and the foreign-key join (the server's, per sort: bounded) */
    char mwm[64];
    snprintf(mwm, sizeof mwm, "SET LOCAL maintenance_work_mem = '%lldMB'", sort_memory_mb(p->before + p->rows));
    int ok = !bulk || (bulk_step(conn, mwm, "", note) == 0 && bulk_step(conn, "SET LOCAL work_mem = '64MB'", "", note) == 0);
    char *trunc = ok && bulk && empty ? truncate_list(conn, t->oid) : NULL;
    int truncated = 0;
    if (trunc) {
        char *q = rh_xasprintf("TRUNCATE ONLY %s", trunc);
        ok = bulk_step(conn, q, " (truncating the empty tables)", note) == 0;
        truncated = ok;
        free(q);
        free(trunc);
    }
    snprintf(sql, sizeof sql,
             "SELECT c.relispartition OR EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = c.oid OR h.inhparent = c.oid) "
             "OR NOT pg_has_role(c.relowner, 'USAGE') FROM pg_class c WHERE c.oid = %u",
             t->oid);
    PGresult *r = ok && bulk ? PQexec(conn, sql) : NULL;
    int plain = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 'f';
    PQclear(r);
    char **late = NULL; /* put back after everything else: the other tables' foreign keys into this one */
    size_t nlate = 0;
    if (ok && plain && truncated) {
        /* the tables referring to this one were truncated with it (all empty): their foreign keys into it
           are dropped too and put back last (validated over no rows: at once), so that the keys they
           rely on are built by a sort as well instead of a btree insert per row */
        snprintf(sql, sizeof sql,
                 "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), quote_ident(k.conname), "
                 "pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
                 "JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE k.contype = 'f' AND k.confrelid = %u AND k.conrelid <> %u AND k.conparentid = 0 "
                 "AND k.coninhcount = 0 AND NOT EXISTS (SELECT 1 FROM pg_description d WHERE d.objoid = k.oid "
                 "AND d.classoid = 'pg_constraint'::regclass) ORDER BY 1, 2",
                 t->oid, t->oid);
        r = PQexec(conn, sql);
        ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        for (int i = 0; ok && i < PQntuples(r); i++) {
            char *q = rh_xasprintf("ALTER TABLE %s DROP CONSTRAINT %s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
            ok = bulk_step(conn, q, " (dropping a foreign key into the table for the load)", note) == 0;
            free(q);
            late = rh_xrealloc(late, (nlate + 1) * sizeof *late);
            late[nlate++] = rh_xasprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                                         PQgetvalue(r, i, 2));
        }
        PQclear(r);
    }
    if (ok && plain) {
        /* its own foreign keys, dropped last and added back (validated) after the insert and the indexes.
           Listed first: whether an index of the table leads with a key's columns is read before the
           indexes are dropped (they are all built back before the keys). Where the table was loaded
           FREEZE (all-visible: index-only scans read no heap) and such a btree index exists, the
           validating anti-join is planned without hash joins: it then merges that index with the
           parent's key index. The planner costs both about even, but for 1 000 000 rows the hash join
           took 0.8 - 1.1 s of the backend's CPU and the merge 0.25 - 0.5 s (docs/scale.md, session 6) */
        snprintf(sql, sizeof sql,
                 "SELECT quote_ident(k.conname), pg_get_constraintdef(k.oid), %s AND EXISTS (SELECT 1 FROM pg_index i "
                 "JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam "
                 "WHERE i.indrelid = k.conrelid AND am.amname = 'btree' AND i.indpred IS NULL "
                 "AND (SELECT array_agg(u.a ORDER BY u.o) FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(a, o) "
                 "WHERE u.o <= cardinality(k.conkey)) = k.conkey) FROM pg_constraint k "
                 "WHERE k.conrelid = %u AND k.contype = 'f' AND k.conparentid = 0 AND k.coninhcount = 0 "
                 "AND NOT EXISTS (SELECT 1 FROM pg_description d WHERE d.objoid = k.oid "
                 "AND d.classoid = 'pg_constraint'::regclass) ORDER BY k.conname",
                 truncated ? "true" : "false", t->oid);
        PGresult *fks = PQexec(conn, sql);
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
        r = PQexec(conn, sql);
        ok = drop_constraints_for_load(conn, r, qs, qn, " (dropping a key for the load)", &undo, &nundo, note);
        PQclear(r);
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
            undo_add(&undo, &nundo, rh_xstrdup(PQgetvalue(r, i, 0)), 0);
        }
        PQclear(r);
        ok = ok && drop_constraints_for_load(conn, fks, qs, qn, " (dropping a foreign key for the load)", &undo, &nundo,
                                             note);
        PQclear(fks);
    }
    for (size_t i = 0; i < nlate; i++)
        undo_add(&undo, &nundo, late[i], 0);
    free(late);
    if (ok && p->cols) {
        ok = open_parent_cursors(conn, NULL, p, note) == 0 && stream_rows(conn, qs, qn, p, truncated, f, note) == 0;
        ok = close_parent_cursors(conn, p, ok, note) == 0 && ok;
    }
    else if (ok) { /* no column to give a value: every one has its DEFAULT */
        snprintf(sql, sizeof sql, "INSERT INTO %s.%s SELECT FROM generate_series(1, %lld)", qs, qn, p->rows);
        r = PQexec(conn, sql);
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            f->inserted = atoll(PQcmdTuples(r));
        else
            note_refusal(note, "", r), ok = 0;
        PQclear(r);
    }
    /* put back what was dropped, one statement at a time so that the note names the one that failed */
    for (size_t i = 0; i < nundo; i++) {
        if (ok) {
            char *step = rh_xasprintf(" (%s)", undo[i].sql);
            ok = (!undo[i].merge_join || bulk_step(conn, "SET LOCAL enable_hashjoin = off", step, note) == 0) &&
                 bulk_step(conn, undo[i].sql, step, note) == 0 &&
                 (!undo[i].merge_join || bulk_step(conn, "SET LOCAL enable_hashjoin TO DEFAULT", step, note) == 0);
            free(step);
        }
        free(undo[i].sql);
    }
    free(undo);
    if (!ok || bulk_step(conn, "COMMIT", " (commit)", note) < 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        f->inserted = 0;
        return 0;
    }
    return truncated;
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

/*
 * The keys of a table this fill loaded from empty (truncated, FREEZE), with every row it asked for and no
 * CHECK leaving any out, and no BEFORE ROW INSERT trigger that could have changed them: its rows hold, in each
 * generated unique column without NULLs, the values K = 1 .. N of
 * that column's generator (whatever their order). A child filled after it takes its foreign keys into those
 * columns from the generators (fkey.known) instead of reading the parent's rows through a cursor: no held
 * cursor to materialize on the second connection (0.21 - 0.36 s of the server's CPU per 1 000 000 keys), no
 * fetches. Only within one fill: later, migrations may change the parent's rows.
 */
typedef struct known_keys {
    unsigned oid;
    size_t n;
    char **cols, **fmts; /* the columns and their types */
    rh_scale_gen *gens;
} known_keys;

typedef struct known_list {
    known_keys *v;
    size_t n;
} known_list;

static void known_free(known_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        for (size_t c = 0; c < l->v[i].n; c++) {
            free(l->v[i].cols[c]);
            free(l->v[i].fmts[c]);
            rh_scale_gen_free(&l->v[i].gens[c]);
        }
        free(l->v[i].cols);
        free(l->v[i].fmts);
        free(l->v[i].gens);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Keep the generators of table oid's unique generated columns (moved out of the plan). */
static void known_add(known_list *l, unsigned oid, plan *p)
{
    known_keys k = {.oid = oid};
    for (size_t i = 0; i < p->n; i++) {
        colplan *c = &p->c[i];
        if (c->fk >= 0 || !c->unique || c->null_per_10000)
            continue;
        k.cols = rh_xrealloc(k.cols, (k.n + 1) * sizeof *k.cols);
        k.fmts = rh_xrealloc(k.fmts, (k.n + 1) * sizeof *k.fmts);
        k.gens = rh_xrealloc(k.gens, (k.n + 1) * sizeof *k.gens);
        k.cols[k.n] = rh_xstrdup(c->name);
        k.fmts[k.n] = rh_xstrdup(c->fmt);
        k.gens[k.n++] = c->gen;
        memset(&c->gen, 0, sizeof c->gen); /* now the list's */
    }
    if (!k.n)
        return;
    l->v = rh_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = k;
}

/* The table has a BEFORE ROW INSERT trigger (it may change the values it is given), or cannot be asked. */
static int changes_rows(PGconn *conn, unsigned oid)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = %u AND NOT tgisinternal AND tgenabled <> 'D' "
             "AND tgtype & 7 = 7)", /* ROW | BEFORE | INSERT */
             oid);
    PGresult *r = PQexec(conn, sql);
    int no = PQresultStatus(r) == PGRES_TUPLES_OK && PQgetvalue(r, 0, 0)[0] == 'f';
    PQclear(r);
    return !no;
}

/* fk's generators when its parent is in the list with every key column, of the child column's type. */
static void known_match(const known_list *l, fkey *k)
{
    const known_keys *kk = NULL;
    for (size_t i = 0; i < l->n && !kk; i++)
        if (l->v[i].oid == k->parent_oid)
            kk = &l->v[i];
    if (!kk || k->self || !k->fmts)
        return;
    const rh_scale_gen **gens = rh_xcalloc(k->ncols, sizeof *gens);
    size_t found = 0;
    for (size_t c = 0; c < k->ncols; c++)
        for (size_t j = 0; j < kk->n && k->fmts[c]; j++)
            if (!strcmp(kk->cols[j], k->pnames[c]) && !strcmp(kk->fmts[j], k->fmts[c])) {
                gens[c] = &kk->gens[j];
                found++;
                break;
            }
    if (found == k->ncols)
        k->known = gens;
    else
        free(gens);
}

/* Candidate values an aimed int column is tried on: K = 0 .. this - 1 (its type's K mod m kept below m). */
#define CHECK_CANDIDATES 65536

/*
 * The values K < `below` of a generated int-like column (int2/int4/int8/numeric, no stats, no unique
 * index) that pass every CHECK of its table reading it alone, into c->passing; only when the last
 * candidate fails (a bound the values K = g run past: `age < 150`, `rating BETWEEN 1 AND 5`), since
 * K = g with COPY's WHERE keeps every row of a CHECK that only a few values fail, all distinct. The
 * server evaluates the constraint's own expression (pg_get_expr) over the candidates cast to the
 * column's type, named as the column (quoted): rehearse parses no expression. Any error (a CHECK
 * that cannot run on a candidate), a CHECK over several columns or no passing value: nothing aimed,
 * the filter leaves the failing rows out as before (docs/scale.md).
 */
static void aim_at_checks(PGconn *conn, unsigned oid, colplan *c, long long below)
{
    const char *params[1] = {c->name};
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT pg_get_expr(c.conbin, c.conrelid) FROM pg_constraint c JOIN pg_attribute a "
             "ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] WHERE c.contype = 'c' AND c.conrelid = %u "
             "AND cardinality(c.conkey) = 1 AND a.attname = $1 ORDER BY c.conname",
             oid);
    PGresult *r = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0) {
        PQclear(r);
        return;
    }
    rh_buf cond;
    rh_buf_init(&cond);
    for (int i = 0; i < PQntuples(r); i++)
        rh_buf_printf(&cond, "%s(%s) IS NOT FALSE", i ? " AND " : "", PQgetvalue(r, i, 0));
    PQclear(r);
    char *qc = ident(conn, c->name);
    /* the candidates as a one-column relation named as the column: the expression reads only it */
    char *q = rh_xasprintf("SELECT %s::int8 FROM (SELECT k::%s AS %s FROM generate_series(0, %lld) k) candidates WHERE %s ORDER BY 1",
                           qc, c->fmt, qc, below - 1, cond.data);
    free(qc);
    rh_buf_free(&cond);
    int in_tx = PQtransactionStatus(conn) == PQTRANS_INTRANS;
    if (in_tx)
        PQclear(PQexec(conn, "SAVEPOINT rh_scale_aim"));
    r = PQexec(conn, q);
    free(q);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (in_tx)
        PQclear(PQexec(conn, ok ? "RELEASE SAVEPOINT rh_scale_aim"
                                : "ROLLBACK TO SAVEPOINT rh_scale_aim; RELEASE SAVEPOINT rh_scale_aim"));
    int n = ok ? PQntuples(r) : 0;
    if (n > 0 && n < below && atoll(PQgetvalue(r, n - 1, 0)) != below - 1) {
        c->passing = rh_xcalloc((size_t)n, sizeof *c->passing);
        for (int i = 0; i < n; i++)
            c->passing[i] = atoll(PQgetvalue(r, i, 0));
        c->npassing = n;
    }
    PQclear(r);
}

/* Fill one table; the note says what was not done. */
static void fill_table(PGconn *conn, helper_conn *helper, known_list *known, const tbl *t, int cycle_broken, int direct,
                       long long bulk_from, rh_scale_filled *f)
{
    char *qs = ident(conn, t->schema), *qn = ident(conn, t->name);
    char sql[1024];
    rh_buf note;
    rh_buf_init(&note);
    plan p = {0};
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.%s", qs, qn);
    PGresult *r = PQexec(conn, sql);
    f->before = PQresultStatus(r) == PGRES_TUPLES_OK ? atoll(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    long long n = f->target - f->before;
    if (n <= 0)
        goto out;
    p.before = f->before;
    p.rows = n;

    /* columns, with whether they are unique, and whether a date/time column's DEFAULT is the transaction's
       time (now(), CURRENT_TIMESTAMP, CURRENT_DATE ...: a stable call and no volatile one, read from the
       expression's node tree). Such a DEFAULT gives every row of a fill the same value, where production's
       rows hold the times they were inserted at: those columns are generated instead (an index on createdAt
       is then built over as many values as production's; a unique one passes or fails as there) */
    char *colq = rh_xasprintf(
        "SELECT a.attname, t.typname, format_type(a.atttypid, a.atttypmod), t.typtype, t.typcategory, "
        "a.atttypmod, a.atttypid, a.attnotnull, a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', "
        "EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = a.attrelid AND x.indisunique "
        "        AND a.attnum = ANY (x.indkey::int2[])), "
        "t.typelem, "
        "a.attgenerated <> '' OR a.attidentity = 'a', "
        "t.typcategory = 'D' AND EXISTS (SELECT 1 FROM pg_attrdef d WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "  AND (d.adbin::text LIKE '%%{SQLVALUEFUNCTION %%' OR EXISTS (SELECT 1 FROM regexp_matches(d.adbin::text, "
        "       ':(?:op)?funcid (\\d+)', 'g') m JOIN pg_proc f ON f.oid = m[1]::oid WHERE f.provolatile = 's')) "
        "  AND NOT EXISTS (SELECT 1 FROM regexp_matches(d.adbin::text, ':(?:op)?funcid (\\d+)', 'g') m "
        "       JOIN pg_proc f ON f.oid = m[1]::oid WHERE f.provolatile = 'v')) "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE a.attrelid = %u AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        t->oid);
    r = PQexec(conn, colq);
    free(colq);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rh_buf_printf(&note, "skipped: cannot read its columns: %s", PQresultErrorMessage(r));
        PQclear(r);
        goto out;
    }
    rh_buf cols;
    rh_buf_init(&cols);
    rh_buf generated; /* "\1a\1b\1": the columns given a value here */
    rh_buf_init(&generated);
    rh_buf_puts(&generated, "\1");
    int skip = 0;
    p.fks = foreign_keys(conn, t, &p.nfks);
    p.c = rh_xcalloc((size_t)PQntuples(r) + 1, sizeof *p.c);
    for (int i = 0; i < PQntuples(r) && !skip; i++) {
        const char *name = PQgetvalue(r, i, 0), *typname = PQgetvalue(r, i, 1), *fmt = PQgetvalue(r, i, 2);
        char typtype = PQgetvalue(r, i, 3)[0], category = PQgetvalue(r, i, 4)[0];
        int typmod = atoi(PQgetvalue(r, i, 5));
        unsigned typoid = (unsigned)strtoul(PQgetvalue(r, i, 6), NULL, 10);
        unsigned typelem = (unsigned)strtoul(PQgetvalue(r, i, 10), NULL, 10);
        int notnull = PQgetvalue(r, i, 7)[0] == 't', hasdef = PQgetvalue(r, i, 8)[0] == 't';
        int unique = PQgetvalue(r, i, 9)[0] == 't', always = PQgetvalue(r, i, 11)[0] == 't';
        int now_default = PQgetvalue(r, i, 12)[0] == 't';
        size_t fki = 0, fkc = 0;
        int fk = fk_of(p.fks, p.nfks, name, &fki, &fkc);
        const rh_scale_column *st = stats_of(t->want, name);
        if (always)
            continue; /* generated / GENERATED ALWAYS AS IDENTITY: the server computes it */
        colplan *c = &p.c[p.n];
        c->fk = -1;
        if (fk) {
            fkey *k = &p.fks[fki];
            if (k->pn > 0) {
                c->fk = (int)fki;
                c->fkc = (int)fkc;
                if (!notnull && st && st->null_frac > 0) /* the stats' share of rows without a parent */
                    c->null_per_10000 = (int)(st->null_frac * 10000 + 0.5);
                /* the cursor reads the parent's key columns cast to the child's types (COPY's binary
                   form is the type's: an int4 parent key of an int8 column must arrive as int8) */
                if (!k->fmts)
                    k->fmts = rh_xcalloc(k->ncols, sizeof *k->fmts);
                free(k->fmts[fkc]);
                k->fmts[fkc] = rh_xstrdup(fmt);
            } else if (notnull) {
                rh_buf_printf(&note, "%sskipped: NOT NULL foreign key %s %s", note.len ? "; " : "", name,
                              k->self ? "refers to its own table" : "has no parent rows to refer to");
                skip = 1;
                continue;
            } else {
                rh_buf_printf(&note, "%s%s left NULL (%s)", note.len ? "; " : "", name,
                              k->self ? "refers to its own table" : cycle_broken ? "foreign-key cycle broken here"
                                                                                     : "parent has no rows");
                continue;
            }
        } else {
            if (hasdef && !now_default)
                continue; /* its DEFAULT (a sequence, gen_random_uuid(), a constant ...) gives the value, as in the application */
            if (rh_scale_gen_init(&c->gen, conn, typname, typtype, category, typmod, typoid, typelem, st ? st->avg_width : 0) < 0) {
                if (notnull && !hasdef) {
                    rh_buf_printf(&note, "skipped: rehearse cannot generate type %s (NOT NULL column %s)", fmt, name);
                    skip = 1;
                }
                continue;
            }
            if (!notnull && st && st->null_frac > 0)
                c->null_per_10000 = (int)(st->null_frac * 10000 + 0.5);
            if (!unique && st) {
                double d = st->n_distinct > 0 ? st->n_distinct : -st->n_distinct * (double)f->target;
                /* as many values as non-NULL rows (within rounding): every value distinct, K = g */
                double non_null = (double)f->target * (10000 - c->null_per_10000) / 10000;
                if (d >= 1 && d + 1 < non_null)
                    c->distinct = (long long)d;
                if (c->distinct && c->null_per_10000)
                    c->nulls_before = nulls_before_table(c->null_per_10000);
            } else {
                c->unique = 1;
            }
        }
        c->name = rh_xstrdup(name);
        c->fmt = rh_xstrdup(fmt);
        if (c->fk < 0 && !st && !unique && (c->gen.kind == RH_GEN_INT2 || c->gen.kind == RH_GEN_INT4 ||
                                            c->gen.kind == RH_GEN_INT8 || c->gen.kind == RH_GEN_NUMERIC))
            aim_at_checks(conn, t->oid, c,
                          c->gen.kind == RH_GEN_INT2 ? 32767
                          : c->gen.mod && c->gen.mod < CHECK_CANDIDATES ? c->gen.mod
                                                                        : CHECK_CANDIDATES);
        char *qc = ident(conn, name);
        rh_buf_printf(&cols, "%s%s", cols.len ? ", " : "", qc);
        free(qc);
        rh_buf_printf(&generated, "%s\1", name);
        p.n++;
    }
    PQclear(r);
    for (size_t i = 0; i < p.nfks; i++) {
        fkey *k = &p.fks[i];
        if (!k->fmts)
            continue; /* none of its columns is generated */
        rh_buf sel;
        rh_buf_init(&sel);
        for (size_t kc = 0; kc < k->ncols; kc++)
            rh_buf_printf(&sel, "%s%s%s%s", kc ? ", " : "", k->pcols[kc], k->fmts[kc] ? "::" : "", k->fmts[kc] ? k->fmts[kc] : "");
        k->select = rh_buf_steal(&sel);
        known_match(known, k);
    }
    if (!skip) {
        rh_buf checks;
        rh_buf_init(&checks);
        p.filter = cols.len ? check_filter(conn, t->oid, generated.data, &checks) : NULL;
        p.cols = cols.len ? rh_xstrdup(cols.data) : NULL;
        double t0 = now_ms();
        /* a small load: dropping and building back would cost more than it saves */
        int frozen = load_table(conn, helper, t, qs, qn, !direct && n >= bulk_from, f->before == 0, &p, f, &note);
        f->ms = now_ms() - t0;
        if (frozen && !p.filter && f->inserted == n && !changes_rows(conn, t->oid))
            known_add(known, t->oid, &p);
        if (p.filter && f->inserted < n && !note.len)
            /* every reader prints the table's counts before its note ("X of N rows after filling: ...") */
            rh_buf_printf(&note, "CHECK constraint %s rejects the generated values of the others "
                                 "(rows failing a CHECK are left out; %lld tried)",
                          checks.data, 2 * n);
        rh_buf_free(&checks);
        /* ANALYZE (when the session may: owner or the database's owner; else the server only warns) */
        snprintf(sql, sizeof sql,
                 "SELECT pg_has_role(c.relowner, 'USAGE') OR pg_has_role(d.datdba, 'USAGE') FROM pg_class c, pg_database d "
                 "WHERE c.oid = %u AND d.datname = current_database()",
                 t->oid);
        r = f->inserted > 0 ? PQexec(conn, sql) : NULL;
        if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't') {
            /* From 16 on, COPY extends a table by up to 64 blocks at a time: a FREEZE load leaves empty
               pages at its end, not all-visible, that a vacuumed production table has not (VACUUM
               truncates them). This VACUUM skips the all-frozen pages and visits those (docs/scale.md) */
            snprintf(sql, sizeof sql, "%s %s.%s",
                     frozen && PQserverVersion(conn) >= 160000 ? "VACUUM (ANALYZE, INDEX_CLEANUP OFF, PROCESS_TOAST FALSE)"
                                                               : "ANALYZE",
                     qs, qn);
            PQclear(PQexec(conn, sql));
        }
        PQclear(r);
    }
    rh_buf_free(&cols);
    rh_buf_free(&generated);
out:
    for (size_t i = 0; i < p.nfks; i++)
        f->parent_keys_read += p.fks[i].fetched;
    plan_free(&p);
    f->note = note.len ? rh_buf_steal(&note) : NULL;
    rh_buf_free(&note);
    free(qs);
    free(qn);
}



/*
 * Every table not done waits on another (Kahn found none ready): the table to fill next with its
 * foreign keys into unfilled tables left NULL. It must be ON a cycle: a table that only waits on a
 * cycle (a child of one of its tables) would get no parent keys, and a NOT NULL key would skip it.
 * Of the cycle's tables, the first whose keys into unfilled tables are all nullable, so that none is
 * skipped; else the first on a cycle.
 */
static int cycle_break(size_t n, const int *done, const fk_edge *edges, size_t nedges)
{
    int first_on_cycle = -1;
    char *reach = rh_xcalloc(n + 1, 1);
    for (size_t k = 0; k < n; k++) {
        if (done[k])
            continue;
        /* the unfilled tables k waits on, directly or through others */
        memset(reach, 0, n);
        for (size_t e = 0; e < nedges; e++)
            if (edges[e].child == (int)k && !done[edges[e].parent])
                reach[edges[e].parent] = 1;
        for (int grew = 1; grew;) {
            grew = 0;
            for (size_t e = 0; e < nedges; e++)
                if (reach[edges[e].child] && !done[edges[e].parent] && !reach[edges[e].parent])
                    reach[edges[e].parent] = grew = 1;
        }
        if (!reach[k])
            continue;
        int nullable = 1;
        for (size_t e = 0; e < nedges && nullable; e++)
            if (edges[e].child == (int)k && !done[edges[e].parent] && edges[e].notnull)
                nullable = 0;
        if (nullable) {
            free(reach);
            return (int)k;
        }
        if (first_on_cycle < 0)
            first_on_cycle = (int)k;
    }
    free(reach);
    assert(first_on_cycle >= 0); /* no table ready means some table waits on itself through others */
    return first_on_cycle;
}

/* t names the tool's ledger (never filled, and no mistake to name: stats of production list it) */
static int tool_ledger_named(const rh_scale_table *t, const char *schema, const char *ledger)
{
    return ledger && strcmp(t->name, ledger) == 0 && (!schema[0] || !t->schema || strcmp(t->schema, schema) == 0);
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
    const rh_tool *tool = opts && opts->ledger_tool ? opts->ledger_tool : RH_TOOL_DEFAULT;
    const char *ledger = rh_tool_ledger_parts(tool->ledger_table, schema, sizeof schema);
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
    char *matched = rh_xcalloc(s->ntables + 1, 1);
    for (int i = 0; i < PQntuples(r); i++)
        for (size_t k = 0; k < s->ntables; k++)
            if (strcmp(s->tables[k].name, PQgetvalue(r, i, 2)) == 0 &&
                (!s->tables[k].schema || strcmp(s->tables[k].schema, PQgetvalue(r, i, 1)) == 0))
                matched[k] = 1;
    out->unmatched = rh_xcalloc(s->ntables + 1, sizeof *out->unmatched);
    for (size_t k = 0; k < s->ntables; k++)
        if (!matched[k] && !(tool_ledger_named(&s->tables[k], schema, ledger)))
            out->unmatched[out->nunmatched++] = k;
    free(matched);
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
    r = query(conn,
              "SELECT conrelid, confrelid, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = conrelid"
              " AND a.attnum = ANY (conkey) AND a.attnotnull) FROM pg_constraint WHERE contype = 'f'",
              err);
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
            edges[nedges++] = (fk_edge){ci, pi, PQgetvalue(r, i, 2)[0] == 't'};
    }
    PQclear(r);
    int *done = rh_xcalloc(n + 1, sizeof *done), *broken = rh_xcalloc(n + 1, sizeof *broken);
    helper_conn helper = {0};
    known_list known = {0};
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
        if (pick < 0) { /* every table left waits on another: a cycle; break it on the cycle */
            pick = cycle_break(n, done, edges, nedges);
            broken[pick] = 1;
        }
        done[pick] = 1;
        rh_scale_filled *f = &out->tables[out->n++];
        f->schema = rh_xstrdup(ts[pick].schema);
        f->name = rh_xstrdup(ts[pick].name);
        f->target = ts[pick].want->rows;
        fill_table(conn, &helper, &known, &ts[pick], broken[pick], opts && opts->direct,
                   opts && opts->bulk_from_rows > 0 ? opts->bulk_from_rows : RH_SCALE_BULK_FROM_ROWS, f);
        out->rows += f->inserted;
        out->ms += f->ms;
    }
    PQfinish(helper.conn);
    known_free(&known);
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
    free(out->unmatched);
    out->unmatched = NULL;
    out->nunmatched = 0;
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
        free(r->unmatched);
        memset(r, 0, sizeof *r);
    }
}
