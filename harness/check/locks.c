/*
 * locks.c — (f) of `rehearse check`: what a migration locks and rewrites, observed on the server.
 *
 * The script is split into statements by libpg_query (migrations/split.h) and run one by one
 * inside a transaction on a throwaway database. After each statement the backend's own relation
 * locks are read from pg_locks (catalog, TOAST and temporary relations left out; oids mapped to
 * names) together with pg_class.relfilenode of the relations that existed before the migration,
 * so a changed relfilenode shows a table rewrite, and the sequential scans started on those tables
 * (pg_stat_get_xact_numscans), so work that grows with a table shows without timing. A statement that cannot run inside a transaction
 * block (25001: CREATE INDEX CONCURRENTLY ...) runs on its own, as production would run a
 * one-statement file; its locks are seen from a second connection that holds ROW EXCLUSIVE on the
 * existing tables so the statement pauses (waiting for writers) while its locks are read.
 *
 * In measuring mode (check --scale; the probes are scale/probe.c's meter) each statement is sent without blocking and probe
 * connections measure who waits for it and how long; a statement outside a transaction pauses on the
 * same second connection (its ROW EXCLUSIVE blocks neither probe) and its locks are probed while it
 * waits, its time not counting the pause. With autocommit on (Prisma >= 7.4 sending a file statement by statement) each statement
 * is committed on its own, so its locks are let go when it ends, as production's would be.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "check/check.h"
#include "check/check_int.h"
#include "migrations/split.h"
#include "migrations/txblock.h"
#include "util/buf.h"

/* A relation of the database, as pg_class describes it. */
typedef struct rel {
    unsigned long oid;
    unsigned long filenode;
    char kind;
    char *name;
    int before; /* existed when the tracer was made (before the first migration it runs) */
    long long scans; /* sequential scans started in the current transaction, last reading */
} rel;

typedef struct relset {
    rel *items;
    size_t n;
} relset;

/* A lock already held in the current transaction: (oid, mode). */
typedef struct held {
    unsigned long oid;
    char *mode;
} held;

/* Measuring mode: a statement run since the meter last handed its outcomes over (a probe's tag is its index). */
typedef struct tagged {
    rh_check_trace *trace; /* the statement is trace->stmts[index] */
    size_t index;
    double started;        /* the meter's clock at its start */
} tagged;

/* Lives across the migrations of one set, so "existed before" means before the first of them. */
struct rh_check_tracer {
    PGconn *conn;
    char *conninfo;
    char *schema;         /* current_schema(): names in it are printed unqualified */
    relset rels;          /* relations known so far (existing ones and those the migrations made) */
    held *held;           /* locks of the current transaction */
    size_t n_held, cap_held;
    rh_scale_meter *meter; /* measuring mode; NULL otherwise */
    int autocommit;        /* commit after each statement */
    int one_tx;            /* the tool runs every file in one transaction: a file's end does not commit */
    int in_tx;             /* the tracer's transaction is open */
    tagged *tags;          /* measuring mode: the statements since the outcomes were last attached */
    size_t n_tags, cap_tags;
    size_t tx_first;       /* the first tag of the current transaction */
};
typedef struct rh_check_tracer tracer;

static const char *const lock_modes[] = {
    "AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
    "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock",
};

/* Strength of a lock mode (1..8), 0 for an unknown name: to keep the strongest per relation. */
int rh_check_lock_strength(const char *mode)
{
    for (size_t i = 0; i < sizeof lock_modes / sizeof lock_modes[0]; i++)
        if (strcmp(lock_modes[i], mode) == 0)
            return (int)i + 1;
    return 0;
}

/* The modes a mode conflicts with, as bits 1 << strength (PostgreSQL's conflict table, lock.c). */
static unsigned conflicts(int strength)
{
    static const unsigned table[9] = {
        0,
        1u << 8,                                                       /* AccessShare */
        1u << 7 | 1u << 8,                                             /* RowShare */
        1u << 5 | 1u << 6 | 1u << 7 | 1u << 8,                         /* RowExclusive */
        1u << 4 | 1u << 5 | 1u << 6 | 1u << 7 | 1u << 8,               /* ShareUpdateExclusive */
        1u << 3 | 1u << 4 | 1u << 6 | 1u << 7 | 1u << 8,               /* Share */
        1u << 3 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 7 | 1u << 8,     /* ShareRowExclusive */
        0x1FCu,                                                        /* Exclusive: 2..8 */
        0x1FEu,                                                        /* AccessExclusive: 1..8 */
    };
    assert(strength >= 0 && strength <= 8);
    return table[strength];
}

/*
 * Outside a transaction: leave out a lock whose every conflict a lock on the same relation also
 * has (REINDEX CONCURRENTLY's brief RowExclusiveLock on the index it copies, beside the
 * ShareUpdateExclusiveLock it holds on it from start to end, which the pause always sees). It blocks
 * nothing the other does not, and whether a sample caught it was chance.
 */
static void drop_covered_locks(rh_check_stmt *st)
{
    size_t k = 0;
    for (size_t i = 0; i < st->n_locks; i++) {
        unsigned mine = conflicts(rh_check_lock_strength(st->locks[i].mode));
        int covered = 0;
        for (size_t j = 0; j < st->n_locks && !covered; j++)
            covered = j != i && strcmp(st->locks[j].relation, st->locks[i].relation) == 0 &&
                      strcmp(st->locks[j].mode, st->locks[i].mode) != 0 &&
                      (mine & ~conflicts(rh_check_lock_strength(st->locks[j].mode))) == 0;
        if (covered) {
            free(st->locks[i].relation);
            free(st->locks[i].mode);
            continue;
        }
        st->locks[k++] = st->locks[i];
    }
    st->n_locks = k;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void quiet_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* Silence NOTICEs (e.g. "relation already exists, skipping") on connections rehearse drives. */
void rh_check_quiet(PGconn *conn)
{
    PQsetNoticeProcessor(conn, quiet_notice, NULL);
}

/* Run a statement whose failure means the tracer itself cannot go on. */
static int exec_ok(PGconn *conn, const char *sql, rh_err *err)
{
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rh_err_set(err, "lock tracer: %s: %s", sql, PQerrorMessage(conn));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

static const char rels_sql[] =
    "SELECT c.oid::bigint, c.relfilenode::bigint, c.relkind, n.nspname, c.relname "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r','p','m','i','I','S','v','f') "
    "AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname !~ '^pg_(toast|temp)'";

static rel *rel_find(relset *s, unsigned long oid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].oid == oid)
            return &s->items[i];
    return NULL;
}

/* A relation's name as the report prints it: quoted when needed, qualified outside current_schema(). */
static char *rel_name(const tracer *t, const char *nsp, const char *name)
{
    rh_buf b;
    rh_buf_init(&b);
    if (!t->schema || strcmp(nsp, t->schema) != 0) {
        rh_catalog_quote_ident(&b, nsp);
        rh_buf_putc(&b, '.');
    }
    rh_catalog_quote_ident(&b, name);
    return rh_buf_steal(&b);
}

/*
 * Read pg_class: new relations are added (before = `before`), existing ones get their current
 * relfilenode; the names of pre-existing tables whose file changed are appended to rewrites.
 */
static int refresh_rels(tracer *t, int before, char ***rewrites, size_t *n_rewrites, rh_err *err)
{
    PGresult *r = PQexec(t->conn, rels_sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rh_err_set(err, "lock tracer: reading pg_class: %s", PQerrorMessage(t->conn));
        PQclear(r);
        return -1;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        unsigned long oid = strtoul(PQgetvalue(r, i, 0), NULL, 10);
        unsigned long fn = strtoul(PQgetvalue(r, i, 1), NULL, 10);
        rel *x = rel_find(&t->rels, oid);
        if (!x) {
            t->rels.items = rh_xrealloc(t->rels.items, (t->rels.n + 1) * sizeof *t->rels.items);
            x = &t->rels.items[t->rels.n++];
            x->oid = oid;
            x->filenode = fn;
            x->kind = PQgetvalue(r, i, 2)[0];
            x->name = rel_name(t, PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
            x->before = before;
            x->scans = 0;
            continue;
        }
        if (x->filenode != fn) {
            if (x->before && (x->kind == 'r' || x->kind == 'm') && rewrites) {
                *rewrites = rh_xrealloc(*rewrites, (*n_rewrites + 1) * sizeof **rewrites);
                (*rewrites)[(*n_rewrites)++] = rh_xstrdup(x->name);
            }
            x->filenode = fn;
        }
    }
    PQclear(r);
    return 0;
}

/*
 * Read the sequential scans started in this transaction on the pre-existing tables; with `st`, the
 * tables whose count grew since the last reading are appended to st->scans.
 */
static int read_scans(tracer *t, rh_check_stmt *st, rh_err *err)
{
    rh_buf oids;
    rh_buf_init(&oids);
    rh_buf_putc(&oids, '{');
    for (size_t i = 0; i < t->rels.n; i++)
        if (t->rels.items[i].before && (t->rels.items[i].kind == 'r' || t->rels.items[i].kind == 'm'))
            rh_buf_printf(&oids, "%s%lu", oids.len > 1 ? "," : "", t->rels.items[i].oid);
    rh_buf_putc(&oids, '}');
    int rc = 0;
    if (oids.len > 2) {
        const char *params[1] = {oids.data};
        PGresult *r = PQexecParams(t->conn,
                                   "SELECT c.oid::bigint, pg_stat_get_xact_numscans(c.oid) FROM pg_class c "
                                   "WHERE c.oid = ANY($1::oid[])",
                                   1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = rh_err_set(err, "lock tracer: reading scan counts: %s", PQerrorMessage(t->conn));
        } else {
            for (int i = 0; i < PQntuples(r); i++) {
                rel *x = rel_find(&t->rels, strtoul(PQgetvalue(r, i, 0), NULL, 10));
                long long n = strtoll(PQgetvalue(r, i, 1), NULL, 10);
                if (!x)
                    continue;
                if (st && n > x->scans) {
                    st->scans = rh_xrealloc(st->scans, (st->n_scans + 1) * sizeof *st->scans);
                    st->scans[st->n_scans++] = rh_xstrdup(x->name);
                }
                x->scans = n;
            }
        }
        PQclear(r);
    }
    rh_buf_free(&oids);
    return rc;
}

static int is_held(const tracer *t, unsigned long oid, const char *mode)
{
    for (size_t i = 0; i < t->n_held; i++)
        if (t->held[i].oid == oid && strcmp(t->held[i].mode, mode) == 0)
            return 1;
    return 0;
}

static void forget_held(tracer *t)
{
    for (size_t i = 0; i < t->n_held; i++)
        free(t->held[i].mode);
    t->n_held = 0;
}

/* Record a (relation, mode) observed for a statement unless it was already held before it. */
static void note_lock(tracer *t, rh_check_stmt *st, unsigned long oid, const char *mode, const char *nsp,
                      const char *name, char kind)
{
    if (is_held(t, oid, mode))
        return;
    if (t->n_held == t->cap_held) {
        t->cap_held = t->cap_held ? 2 * t->cap_held : 16;
        t->held = rh_xrealloc(t->held, t->cap_held * sizeof *t->held);
    }
    t->held[t->n_held].oid = oid;
    t->held[t->n_held].mode = rh_xstrdup(mode);
    t->n_held++;

    rel *x = rel_find(&t->rels, oid);
    st->locks = rh_xrealloc(st->locks, (st->n_locks + 1) * sizeof *st->locks);
    rh_check_lock *l = &st->locks[st->n_locks++];
    l->mode = rh_xstrdup(mode);
    l->held_ms = -1;
    if (x) {
        l->relation = rh_xstrdup(x->name);
        l->relkind = x->kind;
        l->existed_before = x->before;
    } else {
        assert(name); /* read_locks leaves out what was never known and is gone */
        l->relation = rel_name(t, nsp, name);
        l->relkind = kind;
        l->existed_before = 0;
    }
}

/*
 * The relation locks of backend `pid` (granted, or requested and waiting), outside catalogs,
 * TOAST and temporary schemas. Relations the statement dropped have no pg_class row: kept by oid.
 */
static const char locks_sql[] =
    "SELECT l.relation::bigint, l.mode, n.nspname, c.relname, c.relkind "
    "FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation "
    "LEFT JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE l.pid = $1::int AND l.locktype = 'relation' "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND (n.nspname IS NULL OR (n.nspname NOT IN ('pg_catalog','information_schema') "
    "     AND n.nspname !~ '^pg_(toast|temp)')) "
    "AND (c.oid IS NOT NULL OR l.relation >= 16384) "
    "ORDER BY l.relation, l.mode";

/*
 * Which of `oids` (a comma-separated list) are live now, read on a snapshot taken after the locks were:
 * a relation whose pg_class row is gone, or an index marked not live (pg_index.indislive = false:
 * DROP INDEX CONCURRENTLY's and REINDEX CONCURRENTLY's old index once they set it dead), is not. A dead
 * index is in no table's index list (RelationGetIndexList skips it), so no query plans on it or writes
 * to it; the AccessExclusiveLock its final drop takes, which a sample caught now and then (about 1
 * check in 12), blocks no application work. The lock is taken only after the commit that sets the
 * index dead, and this snapshot follows the reading that saw the lock: never a stale "live".
 * The result's rows are the live oids; NULL after an error.
 */
static PGresult *live_rels(PGconn *via, const char *oids, rh_err *err)
{
    const char *params[1] = {oids};
    PGresult *r = PQexecParams(via,
                               "SELECT c.oid::bigint FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid "
                               "WHERE c.oid = ANY(string_to_array($1, ',')::oid[]) AND coalesce(i.indislive, true)",
                               1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rh_err_set(err, "lock tracer: reading pg_index: %s", PQerrorMessage(via));
        PQclear(r);
        return NULL;
    }
    return r;
}

static int is_listed(const PGresult *r, const char *oid)
{
    for (int i = 0; i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, 0), oid) == 0)
            return 1;
    return 0;
}

/*
 * Read backend pid's relation locks into the statement's report. Returns the number of rows.
 *
 * A relation the tracer never knew and whose pg_class row is gone was made and dropped inside the
 * statement's own uncommitted work (REFRESH MATERIALIZED VIEW CONCURRENTLY's temporary tables): no
 * other session could see it, so its locks block nothing, and its oid ("oid 16574") changed from one
 * run to the next. Left out.
 *
 * known_only (a statement outside a transaction, sampled while it runs): only relations that existed
 * when it began, and are still live just after (live_rels). Its own new relation's locks (CREATE
 * INDEX CONCURRENTLY: AccessExclusiveLock on the index while its first phase, invisible to everyone
 * else, creates it; RowExclusiveLock while it is built) come and go between phases faster than a
 * sample, so whether one showed was chance, and none of them can block another session's work on
 * what existed before; nor can a lock on an index already dead.
 */
static int read_locks(tracer *t, PGconn *via, int pid, rh_check_stmt *st, int known_only, rh_err *err)
{
    char pidtxt[16];
    snprintf(pidtxt, sizeof pidtxt, "%d", pid);
    const char *params[1] = {pidtxt};
    PGresult *r = PQexecParams(via, locks_sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rh_err_set(err, "lock tracer: reading pg_locks: %s", PQerrorMessage(via));
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    PGresult *live = NULL;
    if (known_only && n > 0) {
        rh_buf oids;
        rh_buf_init(&oids);
        for (int i = 0; i < n; i++)
            rh_buf_printf(&oids, "%s%s", i ? "," : "", PQgetvalue(r, i, 0));
        live = live_rels(via, oids.data, err);
        rh_buf_free(&oids);
        if (!live) {
            PQclear(r);
            return -1;
        }
    }
    for (int i = 0; i < n; i++) {
        int has = !PQgetisnull(r, i, 3);
        unsigned long oid = strtoul(PQgetvalue(r, i, 0), NULL, 10);
        int known = rel_find(&t->rels, oid) != NULL;
        if (!has && !known)
            continue; /* made and dropped by the statement itself */
        if (known_only && (!known || !is_listed(live, PQgetvalue(r, i, 0))))
            continue;
        note_lock(t, st, oid, PQgetvalue(r, i, 1), has ? PQgetvalue(r, i, 2) : NULL,
                  has ? PQgetvalue(r, i, 3) : NULL, has ? PQgetvalue(r, i, 4)[0] : '?');
    }
    PQclear(live);
    PQclear(r);
    return n;
}

/* Transaction control in a migration file: the tracer keeps its own transaction instead. */
static int is_tx_control(const char *kw)
{
    return rh_txblock_is_control(kw);
}

/* One line, at most 120 characters, for reports (leading comments dropped). */
static char *one_line(const char *text)
{
    int ignored = 0;
    text = rh_sql_skip_blank(text, &ignored);
    rh_buf b;
    rh_buf_init(&b);
    int space = 0;
    for (const char *p = text; *p && b.len < 120; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            space = 1;
            continue;
        }
        if (space && b.len)
            rh_buf_putc(&b, ' ');
        space = 0;
        rh_buf_putc(&b, *p);
    }
    if (strlen(text) > 0 && b.len >= 120)
        rh_buf_puts(&b, "...");
    return rh_buf_steal(&b);
}

/* The statement as written, without the blanks after it (the JSON report's complete text). */
static char *complete(const char *text)
{
    size_t n = strlen(text);
    while (n && (text[n - 1] == ' ' || text[n - 1] == '\t' || text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    return rh_xstrndup(text, n);
}

/* The leading words as a label: "CREATE INDEX IF NOT" -> "CREATE INDEX" (IF [NOT] EXISTS is no verb). kw is
   words upper-cased (rh_stmt_keywords, for the cut); the label keeps words as written (rh_stmt_words), so an
   identifier reads as the statement has it: "ALTER TABLE t20 ADD", not "T20". */
static char *statement_label(const char *kw, const char *words)
{
    assert(strlen(kw) == strlen(words));
    const char *cut = strstr(kw, " IF ");
    size_t n = cut ? (size_t)(cut - kw) : strlen(kw);
    if (!cut && n >= 3 && strcmp(kw + n - 3, " IF") == 0)
        n -= 3;
    return rh_xstrndup(words, n);
}

static void set_error(rh_check_stmt *st, const PGresult *r, PGconn *conn)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    snprintf(st->sqlstate, sizeof st->sqlstate, "%s", state ? state : "");
    st->error = rh_xstrdup(msg ? msg : PQerrorMessage(conn));
}

/* Open a blocker connection (*out): BEGIN and LOCK TABLE every user table of `kinds` IN `mode`. 1 when it
   holds something, 0 when there was nothing to lock (open all the same: it reads pg_locks), -1 after an
   error (*out NULL). */
static int open_blocker(tracer *t, PGconn **out, const char *kinds, const char *mode, rh_err *err)
{
    *out = NULL;
    PGconn *b = PQconnectdb(t->conninfo);
    if (PQstatus(b) != CONNECTION_OK) {
        rh_err_set(err, "lock tracer: second connection: %s", PQerrorMessage(b));
        PQfinish(b);
        return -1;
    }
    rh_check_quiet(b);
    rh_buf lock;
    rh_buf_init(&lock);
    const char *params[1] = {kinds};
    PGresult *names = PQexecParams(b, "SELECT string_agg(c.oid::regclass::text, ', ') FROM pg_class c "
                                      "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                      "WHERE c.relkind::text = ANY(string_to_array($1, ',')) "
                                      "AND n.nspname NOT IN ('pg_catalog','information_schema') "
                                      "AND n.nspname !~ '^pg_(toast|temp)'",
                                   1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(names) == PGRES_TUPLES_OK && PQntuples(names) == 1 && !PQgetisnull(names, 0, 0))
        rh_buf_printf(&lock, "LOCK TABLE %s IN %s MODE", PQgetvalue(names, 0, 0), mode);
    PQclear(names);
    int rc = 0;
    if (lock.len && (exec_ok(b, "BEGIN", err) < 0 || exec_ok(b, lock.data, err) < 0))
        rc = -1;
    else if (lock.len)
        rc = 1;
    rh_buf_free(&lock);
    if (rc < 0)
        PQfinish(b);
    else
        *out = b;
    return rc;
}

/*
 * Run a statement outside any transaction on t->conn while blockers hold locks it must wait for, so it
 * pauses with its own locks taken (or requested), which are read from pg_locks (and, measuring,
 * probed); then that blocker lets go. Statements that do not wait are sampled while they run.
 *  - the first holds ROW EXCLUSIVE on every table (LOCK TABLE takes tables and views only; partitions
 *    follow their parent): a concurrent index build pauses while it waits for writers;
 *  - the second holds ACCESS SHARE on every plain table (partitions, not their parents): a statement that
 *    takes ACCESS EXCLUSIVE on one after its waits for other sessions is seen asking for it. Without it,
 *    DETACH PARTITION ... CONCURRENTLY (which holds nothing while it waits, then takes ShareUpdateExclusive
 *    on the parent and AccessExclusive on the partition in a transaction too short for a sample) listed
 *    no lock at all, 30 traces of 30. It is not on the parents, so the DETACH's first wait (for the
 *    parent's users) ends with the first blocker, and the second is still there for the partition.
 * Each blocker is let go, in this order, at a wait of the statement; what is left goes when it ends.
 * Measuring: neither conflicts with a probe (a read, a write).
 */
static int run_outside(tracer *t, rh_check_stmt *st, size_t tag, const char *sql, rh_err *err)
{
    PGconn *b[2] = {NULL, NULL};
    int rc = 0;
    int holding = 0; /* blockers b[released .. holding-1] still hold their locks */
    int released = 0;
    int got = open_blocker(t, &b[0], "r,p", "ROW EXCLUSIVE", err); /* b[0] also reads pg_locks */
    if (got < 0)
        return -1;
    if (got == 1) {
        holding = 1;
        if ((got = open_blocker(t, &b[1], "r", "ACCESS SHARE", err)) < 0) {
            rc = -1;
            goto out;
        }
        holding += got; /* a plain table is a table: b[1] holds something when b[0] does, unless all are partitioned */
    }
    int pid = PQbackendPID(t->conn);
    rh_scale_meter_resume(t->meter);
    double t0 = now_ms(), paused_ms = 0; /* paused: the tracer's own work while the statement waits for it */
    if (!PQsendQuery(t->conn, sql)) {
        rc = rh_err_set(err, "lock tracer: sending a statement: %s", PQerrorMessage(t->conn));
        goto out;
    }
    for (;;) {
        if (!PQconsumeInput(t->conn)) {
            rc = rh_err_set(err, "lock tracer: %s", PQerrorMessage(t->conn));
            goto out;
        }
        if (!PQisBusy(t->conn))
            break;
        if (read_locks(t, b[0], pid, st, 1, err) < 0 || (t->meter && rh_scale_meter_poll(t->meter, pid, tag, err) < 0)) {
            rc = -1;
            goto out;
        }
        if (released < holding) {
            char pidtxt[16];
            snprintf(pidtxt, sizeof pidtxt, "%d", pid);
            PGresult *r = PQexecParams(b[0], "SELECT cardinality(pg_blocking_pids($1::int)) > 0", 1, NULL,
                                       (const char *const[]){pidtxt}, NULL, NULL, 0);
            int waiting = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
            PQclear(r);
            if (now_ms() - t0 > 5000)
                waiting = 1; /* a wait pg_blocking_pids does not show: never hold the statement forever */
            if (waiting) {
                /* it holds its locks and waits for us: read them and, measuring, probe each (through or
                   queued, as after a statement in a transaction) before letting it go: a fast statement
                   is measured as surely as a slow one; neither the clock nor its time count this */
                double tp = now_ms();
                rh_scale_meter_pause(t->meter);
                if (read_locks(t, b[0], pid, st, 1, err) < 0 ||
                    (t->meter && rh_scale_meter_settle(t->meter, pid, tag, err) < 0) ||
                    exec_ok(b[released], "ROLLBACK", err) < 0) {
                    rc = -1;
                    goto out;
                }
                released++;
                rh_scale_meter_resume(t->meter);
                paused_ms += now_ms() - tp;
            }
        }
        usleep(1000);
    }
    PGresult *r;
    while ((r = PQgetResult(t->conn)) != NULL) {
        if (PQresultStatus(r) == PGRES_FATAL_ERROR && !st->error)
            set_error(st, r, t->conn);
        PQclear(r);
    }
    st->ms += now_ms() - t0 - paused_ms;
    drop_covered_locks(st);
    if (t->meter) {
        rh_scale_meter_pause(t->meter);
        for (size_t k = 0; k < st->n_locks; k++)
            st->locks[k].held_ms = st->ms; /* a statement outside a transaction lets go when it ends */
        rh_scale_meter_drain(t->meter);
    }
out:
    rh_scale_meter_pause(t->meter);
    for (int k = released; k < holding; k++)
        PQclear(PQexec(b[k], "ROLLBACK"));
    for (int k = 0; k < 2; k++)
        PQfinish(b[k]);
    return rc;
}

rh_check_tracer *rh_check_tracer_new(PGconn *conn, const char *conninfo, rh_err *err)
{
    tracer *t = rh_xcalloc(1, sizeof *t);
    t->conn = conn;
    t->conninfo = rh_xstrdup(conninfo);
    rh_check_quiet(conn);
    PGresult *r = PQexec(conn, "SELECT current_schema()");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        t->schema = rh_xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (refresh_rels(t, 1, NULL, NULL, err) < 0) {
        rh_check_tracer_free(t);
        return NULL;
    }
    return t;
}

void rh_check_tracer_free(rh_check_tracer *t)
{
    if (!t)
        return;
    forget_held(t);
    free(t->held);
    free(t->tags);
    rh_scale_meter_free(t->meter);
    for (size_t i = 0; i < t->rels.n; i++)
        free(t->rels.items[i].name);
    free(t->rels.items);
    free(t->schema);
    free(t->conninfo);
    free(t);
}

int rh_check_tracer_measure(rh_check_tracer *t, rh_err *err)
{
    if (t->meter)
        return 0;
    t->meter = rh_scale_meter_new(t->conninfo, err);
    if (!t->meter)
        return -1;
    rh_scale_meter_pause(t->meter); /* the clock runs while the migration's own work runs */
    return 0;
}

void rh_check_tracer_autocommit(rh_check_tracer *t, int on)
{
    t->autocommit = on;
}

/*
 * Measuring mode: run one statement inside the tracer's transaction, sent without blocking, the
 * meter polling while it runs. Returns its result (the failure when one of its results failed).
 */
static PGresult *exec_measured(tracer *t, size_t tag, const char *sql, rh_err *err, int *lost)
{
    PGconn *conn = t->conn;
    int pid = PQbackendPID(conn);
    *lost = 0;
    rh_scale_meter_resume(t->meter);
    if (!PQsendQuery(conn, sql)) {
        rh_scale_meter_pause(t->meter);
        *lost = 1;
        rh_err_set(err, "lock tracer: sending a statement: %s", PQerrorMessage(conn));
        return NULL;
    }
    for (;;) {
        if (!PQconsumeInput(conn)) {
            *lost = 1;
            rh_err_set(err, "lock tracer: %s", PQerrorMessage(conn));
            break;
        }
        if (!PQisBusy(conn))
            break;
        if (rh_scale_meter_poll(t->meter, pid, tag, err) < 0) {
            *lost = 1;
            break;
        }
        usleep(1000);
    }
    rh_scale_meter_pause(t->meter);
    PGresult *keep = NULL, *r;
    while ((r = PQgetResult(conn)) != NULL) {
        if (!keep || (PQresultStatus(r) == PGRES_FATAL_ERROR && PQresultStatus(keep) != PGRES_FATAL_ERROR)) {
            PQclear(keep);
            keep = r;
        } else {
            PQclear(r);
        }
    }
    if (*lost) {
        PQclear(keep);
        return NULL;
    }
    return keep;
}

/* Measuring mode: a tag for statement `index` of trace, started now on the meter's clock. */
static size_t tag_stmt(tracer *t, rh_check_trace *trace, size_t index)
{
    if (t->n_tags == t->cap_tags) {
        t->cap_tags = t->cap_tags ? 2 * t->cap_tags : 16;
        t->tags = rh_xrealloc(t->tags, t->cap_tags * sizeof *t->tags);
    }
    t->tags[t->n_tags] = (tagged){.trace = trace, .index = index, .started = rh_scale_meter_clock(t->meter)};
    return t->n_tags++;
}

/*
 * Measuring mode: the tracer's transaction ended now (commit or rollback): the locks of its statements
 * (every file's, when the tool runs them in one) were held from each one's start until now; the probes
 * still waiting get through.
 */
static void tx_ended(tracer *t)
{
    if (!t->meter)
        return;
    double now = rh_scale_meter_clock(t->meter);
    for (size_t j = t->tx_first; j < t->n_tags; j++) {
        rh_check_stmt *st = &t->tags[j].trace->stmts[t->tags[j].index];
        if (st->skipped || st->outside_tx)
            continue;
        for (size_t k = 0; k < st->n_locks; k++)
            st->locks[k].held_ms = now - t->tags[j].started;
    }
    rh_scale_meter_drain(t->meter);
    t->tx_first = t->n_tags;
}

/* Measuring mode, no transaction open: the probes' outcomes go to the statements whose locks they met. */
static void attach_waits(tracer *t)
{
    assert(!t->in_tx);
    rh_scale_meter_drain(t->meter);
    rh_scale_probe *res = NULL;
    size_t n = rh_scale_meter_take(t->meter, &res);
    for (size_t i = 0; i < n; i++) {
        assert(res[i].tag < t->n_tags);
        rh_check_stmt *st = &t->tags[res[i].tag].trace->stmts[t->tags[res[i].tag].index];
        if (res[i].unprobed) { /* named once per statement: a finding says it was not measured */
            size_t k = 0;
            while (k < st->n_unprobed && strcmp(st->unprobed[k], res[i].table) != 0)
                k++;
            if (k < st->n_unprobed) {
                free(res[i].table);
                continue;
            }
            st->unprobed = rh_xrealloc(st->unprobed, (st->n_unprobed + 1) * sizeof *st->unprobed);
            st->unprobed[st->n_unprobed++] = res[i].table;
            continue;
        }
        st->waits = rh_xrealloc(st->waits, (st->n_waits + 1) * sizeof *st->waits);
        st->waits[st->n_waits++] = (rh_check_wait){.table = res[i].table, .write = res[i].write,
                                                   .blocked = res[i].blocked, .ms = res[i].ms, .rows = res[i].rows,
                                                   .production_rows = -1, .estimate_ms = -1};
    }
    free(res);
    t->n_tags = t->tx_first = 0;
}

/* COMMIT the tracer's transaction, its clock running (production commits too). */
static int commit_tx(tracer *t, rh_err *err)
{
    rh_scale_meter_resume(t->meter);
    int rc = exec_ok(t->conn, "COMMIT", err);
    rh_scale_meter_pause(t->meter);
    t->in_tx = 0;
    return rc;
}

/* BEGIN the tracer's transaction and take the scan counts it starts from. */
static int begin_tx(tracer *t, rh_err *err)
{
    if (exec_ok(t->conn, "BEGIN", err) < 0)
        return -1;
    t->in_tx = 1;
    return read_scans(t, NULL, err);
}

/* COMMIT the tracer's transaction: its locks go as production's would. */
static int end_tx(tracer *t, rh_err *err)
{
    assert(t->in_tx);
    if (commit_tx(t, err) < 0)
        return -1;
    tx_ended(t);
    forget_held(t);
    return 0;
}

/* ROLLBACK whatever transaction is open (a statement failed, or rehearse cannot go on). */
static void rollback_tx(tracer *t)
{
    PQclear(PQexec(t->conn, "ROLLBACK")); /* harmless when no transaction is open */
    t->in_tx = 0;
    tx_ended(t);
    forget_held(t);
}

/* end_tx, then BEGIN the next transaction at once (the file's COMMIT, or a split file's statement). */
static int restart_tx(tracer *t, rh_err *err)
{
    if (end_tx(t, err) < 0)
        return -1;
    return begin_tx(t, err);
}

void rh_check_tracer_one_transaction(rh_check_tracer *t, int on)
{
    t->one_tx = on;
}

int rh_check_tracer_end(rh_check_tracer *t, rh_err *err)
{
    int rc = 0;
    if (t->in_tx && end_tx(t, err) < 0) {
        rollback_tx(t);
        rc = -1;
    }
    if (t->meter)
        attach_waits(t);
    return rc;
}

int rh_check_tracer_run(rh_check_tracer *tp, const char *name, const char *file, const char *sql, size_t len,
                        rh_check_trace *out, rh_err *err)
{
    tracer *t = tp;
    PGconn *conn = t->conn;
    memset(out, 0, sizeof *out);
    out->migration = rh_xstrdup(name);
    out->file = rh_xstrdup(file ? file : name);
    rh_split split = {0};
    rh_err perr;
    if (rh_sql_split(&split, sql, len, &perr) < 0) {
        out->parse_error = rh_xstrdup(perr.msg);
        out->failed = 1;
        if (t->in_tx) /* the tool's run (one transaction) fails here: what ran before goes too */
            rollback_tx(t);
        if (t->meter)
            attach_waits(t);
        return 0;
    }

    int rc = 0;
    PGresult *r;
    out->measured = t->meter != NULL;
    out->autocommit = t->meter && t->autocommit; /* unmeasured, the tracer keeps one transaction */
    out->run_tx = t->one_tx;
    /* in_tx: the tool runs every file in one transaction and an earlier file's is still open */
    if (refresh_rels(t, 0, NULL, NULL, err) < 0 || (!t->in_tx && begin_tx(t, err) < 0)) {
        rc = -1;
        goto done;
    }
    for (size_t i = 0; t->meter && i < t->rels.n; i++)
        if (t->rels.items[i].before && (t->rels.items[i].kind == 'r' || t->rels.items[i].kind == 'p'))
            rh_scale_meter_watch(t->meter, t->rels.items[i].oid, t->rels.items[i].name);
    out->stmts = rh_xcalloc(split.n ? split.n : 1, sizeof *out->stmts);
    for (size_t i = 0; i < split.n; i++) {
        rh_check_stmt *st = &out->stmts[out->n++];
        char kw[128], words[128];
        rh_stmt_keywords(split.items[i].text, 4, kw, sizeof kw);
        rh_stmt_words(split.items[i].text, 4, words, sizeof words);
        int skipped_lines = 0;
        st->sql = complete(rh_sql_skip_blank(split.items[i].text, &skipped_lines));
        st->line = split.items[i].line + skipped_lines; /* the statement's first keyword, not its comment */
        st->text = one_line(split.items[i].text);
        st->keywords = statement_label(kw, words);
        if (is_tx_control(kw)) {
            st->skipped = 1;
            if (t->meter && rh_txblock_ends(kw) && t->n_tags > t->tx_first) {
                /* measuring: the file's COMMIT lets its locks go; so does the tracer's */
                if (restart_tx(t, err) < 0) {
                    rc = -1;
                    goto done;
                }
            }
            continue;
        }
        if (exec_ok(conn, "SAVEPOINT rh_check_stmt", err) < 0) {
            rc = -1;
            goto done;
        }
        double t0 = now_ms();
        size_t tag = t->meter ? tag_stmt(t, out, out->n - 1) : 0;
        if (t->meter) {
            int lost = 0;
            r = exec_measured(t, tag, split.items[i].text, err, &lost);
            if (lost) {
                rc = -1;
                goto done;
            }
        } else {
            r = PQexec(conn, split.items[i].text);
        }
        st->ms = now_ms() - t0;
        ExecStatusType s = PQresultStatus(r);
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            if (state && strcmp(state, "25001") == 0) {
                /* cannot run inside a transaction block: keep what ran so far, run it alone */
                PQclear(r);
                if (exec_ok(conn, "ROLLBACK TO SAVEPOINT rh_check_stmt", err) < 0 ||
                    end_tx(t, err) < 0) {
                    rc = -1;
                    goto done;
                }
                st->outside_tx = 1;
                if (run_outside(t, st, tag, split.items[i].text, err) < 0) {
                    rc = -1;
                    goto done;
                }
                if (refresh_rels(t, 0, &st->rewrites, &st->n_rewrites, err) < 0) {
                    rc = -1;
                    goto done;
                }
                if (st->error) {
                    out->failed = 1;
                    goto done;
                }
                if (begin_tx(t, err) < 0) {
                    rc = -1;
                    goto done;
                }
                continue;
            }
            set_error(st, r, conn);
            PQclear(r);
            out->failed = 1;
            rollback_tx(t);
            goto done;
        }
        PQclear(r);
        if (exec_ok(conn, "RELEASE SAVEPOINT rh_check_stmt", err) < 0 ||
            read_locks(t, conn, PQbackendPID(conn), st, 0, err) < 0 ||
            refresh_rels(t, 0, &st->rewrites, &st->n_rewrites, err) < 0 || read_scans(t, st, err) < 0) {
            rc = -1;
            goto done;
        }
        /* measuring: every lock it holds gets its probes, queued, before anything lets it go (a fast
           statement can end before a poll sees it; a file's last one is committed right after); the clock
           stands still meanwhile: the probes' waits count the migration's own time only */
        if (t->meter && rh_scale_meter_settle(t->meter, PQbackendPID(conn), tag, err) < 0) {
            rc = -1;
            goto done;
        }
        if (t->meter && t->autocommit) {
            /* Prisma >= 7.4 sends this statement alone: it commits, its locks go */
            if (restart_tx(t, err) < 0) {
                rc = -1;
                goto done;
            }
        }
    }
    if (t->one_tx)
        out->tx_goes_on = 1; /* it commits with the tool's run: rh_check_tracer_end, or a later file */
    else if (end_tx(t, err) < 0)
        rc = -1;
done:
    if (rc < 0 || out->failed)
        rollback_tx(t);
    if (t->meter && !t->in_tx)
        attach_waits(t);
    if (rc < 0)
        rh_err_prefix(err, "tracing %s", out->file);
    rh_split_free(&split);
    return rc;
}

int rh_check_trace_pending(rh_check_result *r, rh_cluster *c, const char *db, int as_admin, const rh_migset *head,
                           const rh_check_sender *how, rh_err *err)
{
    PGconn *conn = as_admin ? rh_cluster_connect_admin(c, db, err) : rh_cluster_connect(c, db, err);
    if (!conn)
        return -1;
    rh_check_quiet(conn);
    char *conninfo = rh_cluster_conninfo_db(c, db);
    r->traces = rh_xcalloc(r->n_pending ? r->n_pending : 1, sizeof *r->traces);
    rh_check_tracer *tr = rh_check_tracer_new(conn, conninfo, err);
    int rc = tr ? 0 : -1;
    /* on tables of production's size, measure what each statement costs the application */
    if (tr && r->scaled && rh_check_tracer_measure(tr, err) < 0)
        rc = -1;
    if (tr)
        rh_check_tracer_one_transaction(tr, how->one_transaction);
    for (size_t i = 0; tr && rc == 0 && i < head->n; i++) {
        const rh_migration *m = &head->items[i];
        if (!rh_check_in_names(r->pending, r->n_pending, m->name) || !m->sql)
            continue;
        assert(r->n_traces < r->n_pending);
        rh_buf sent;
        rh_buf_init(&sent);
        int autocommit = 0;
        how->text(r, m, &sent, &autocommit);
        rh_check_tracer_autocommit(tr, autocommit);
        char *file = r->migrations ? rh_xasprintf("%s/%s%s", r->migrations, m->name, how->file_suffix) : rh_xstrdup(m->name);
        rh_check_trace *t = &r->traces[r->n_traces];
        rc = rh_check_tracer_run(tr, m->name, file, sent.data ? sent.data : "", sent.len, t, err);
        free(file);
        rh_buf_free(&sent);
        if (rc < 0) {
            rh_check_trace_free(t);
            break;
        }
        t->sent_split = autocommit;
        r->n_traces++;
        if (t->failed)
            break; /* later migrations may depend on this one */
    }
    if (rc == 0 && r->n_traces)
        r->traces[r->n_traces - 1].tx_goes_on = 0; /* the last of the run: it commits right after */
    if (tr && rc == 0 && rh_check_tracer_end(tr, err) < 0)
        rc = -1;
    rh_check_tracer_free(tr);
    free(conninfo);
    PQfinish(conn);
    return rc;
}

int rh_check_trace_deploy(rh_cluster *c, const char *db, int as_admin, const struct rh_tool *tool, const rh_profile *profile,
                          const rh_migset *set, char *const *names, size_t n, rh_check_trace **traces,
                          size_t *n_traces, rh_err *err)
{
    /* check's own path with a result that holds only what the tracer reads: the tool, the profile, the names */
    rh_check_result r;
    memset(&r, 0, sizeof r);
    r.tool = tool;
    if (profile)
        r.profile = *profile;
    r.pending = (char **)names;
    r.n_pending = n;
    rh_check_sender how = tool ? rh_check_tool_sender(tool) : rh_check_default_sender;
    int rc = n ? rh_check_trace_pending(&r, c, db, as_admin, set, &how, err) : 0;
    *traces = r.traces;
    *n_traces = r.n_traces;
    return rc;
}

int rh_check_trace_migration(PGconn *conn, const char *conninfo, const char *name, const char *file,
                             const char *sql, size_t len, rh_check_trace *out, rh_err *err)
{
    rh_check_tracer *t = rh_check_tracer_new(conn, conninfo, err);
    if (!t) {
        memset(out, 0, sizeof *out);
        return rh_err_prefix(err, "tracing %s", file ? file : name);
    }
    int rc = rh_check_tracer_run(t, name, file, sql, len, out, err);
    rh_check_tracer_free(t);
    return rc;
}

void rh_check_trace_free(rh_check_trace *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        rh_check_stmt *st = &t->stmts[i];
        for (size_t j = 0; j < st->n_locks; j++) {
            free(st->locks[j].relation);
            free(st->locks[j].mode);
        }
        free(st->locks);
        for (size_t j = 0; j < st->n_rewrites; j++)
            free(st->rewrites[j]);
        free(st->rewrites);
        for (size_t j = 0; j < st->n_scans; j++)
            free(st->scans[j]);
        free(st->scans);
        free(st->text);
        free(st->sql);
        free(st->keywords);
        free(st->error);
        for (size_t j = 0; j < st->n_waits; j++)
            free(st->waits[j].table);
        free(st->waits);
        for (size_t j = 0; j < st->n_unprobed; j++)
            free(st->unprobed[j]);
        free(st->unprobed);
    }
    free(t->stmts);
    free(t->migration);
    free(t->file);
    free(t->parse_error);
    memset(t, 0, sizeof *t);
}

const char *rh_check_trace_strongest(const rh_check_trace *t, const char *relation)
{
    const char *best = NULL;
    for (size_t i = 0; i < t->n; i++)
        for (size_t j = 0; j < t->stmts[i].n_locks; j++) {
            const rh_check_lock *l = &t->stmts[i].locks[j];
            if (strcmp(l->relation, relation) == 0 &&
                (!best || rh_check_lock_strength(l->mode) > rh_check_lock_strength(best)))
                best = l->mode;
        }
    return best;
}
