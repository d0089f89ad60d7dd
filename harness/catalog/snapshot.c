/*
 * snapshot.c — reads a database's schema into the catalog model: one catalog query per object
 * kind (never one per object), inside one REPEATABLE READ snapshot, with the session settings that
 * change how expressions print pinned to fixed values.
 */
#include "catalog/catalog_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Schemas that belong to PostgreSQL itself, never to the application. */
#define NSP_FILTER(n) " " n ".nspname NOT IN ('pg_catalog', 'information_schema') AND " n ".nspname !~ '^pg_(toast|temp_)' "
/* Objects created by an extension are covered by "extension NAME version V". */
#define NOT_EXT(cls, oid) " NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '" cls "'::regclass AND e.objid = " oid " AND e.deptype = 'e') "
/* Privileges and owners cost a subquery or a lookup per row: computed only when asked for. */
#define ACL(col) "CASE WHEN current_setting('rehearse.grants') = 'on' THEN " \
    "(SELECT string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(" col ") x) END"
#define OWNER(col) "CASE WHEN current_setting('rehearse.owners') = 'on' THEN pg_get_userbyid(" col ") END"
#define DESCR(alias, cls, oid, sub) " LEFT JOIN pg_description " alias " ON " alias ".objoid = " oid " AND " alias ".classoid = '" cls "'::regclass AND " alias ".objsubid = " sub " "

/* A collation by oid as SQL writes it (schema-qualified unless pg_catalog). */
#define COLLNAME(oid) "(SELECT CASE WHEN qcn.nspname = 'pg_catalog' THEN quote_ident(qco.collname) " \
    "ELSE quote_ident(qcn.nspname) || '.' || quote_ident(qco.collname) END FROM pg_collation qco " \
    "JOIN pg_namespace qcn ON qcn.oid = qco.collnamespace WHERE qco.oid = " oid ")"
/* An identifier quoted the way the text form quotes identities (only when not plain lower case). */
#define RHQ(x) "(CASE WHEN " x " ~ '^[a-z_][a-z0-9_$]*$' THEN " x "::text ELSE '\"' || replace(" x ", '\"', '\"\"') || '\"' END)"
/* A text[] of options ("k=v") as one sorted line. */
#define OPTIONS(col) "(SELECT string_agg(o, ', ' ORDER BY o) FROM unnest(" col ") o)"

static const char Q_SCHEMAS[] =
    "SELECT n.nspname, " OWNER("n.nspowner") ", " ACL("n.nspacl") ", d.description "
    "FROM pg_namespace n" DESCR("d", "pg_namespace", "n.oid", "0")
    "WHERE" NSP_FILTER("n") "AND" NOT_EXT("pg_namespace", "n.oid");

static const char Q_EXTENSIONS[] =
    "SELECT e.extname, e.extversion, n.nspname, d.description "
    "FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
    DESCR("d", "pg_extension", "e.oid", "0");

/*
 * Enums, domains, composite types (CREATE TYPE AS (...), not a table's row type) and range types
 * (their multirange is a property of the range). MULTIRANGE is NULL before PostgreSQL 14.
 */
#define Q_TYPES_SQL(MULTIRANGE) \
    "SELECT n.nspname, t.typname, t.typtype, " \
    "  (SELECT string_agg(quote_literal(l.enumlabel), ', ' ORDER BY l.enumsortorder) FROM pg_enum l WHERE l.enumtypid = t.oid), " \
    "  CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) " \
    "       WHEN t.typtype = 'r' THEN format_type(rg.rngsubtype, NULL) END, t.typnotnull, t.typdefault, " \
    "  CASE WHEN t.typtype IN ('d', 'r') AND co.oid <> bt.typcollation THEN " \
    "    CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname) ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END END, " \
    "  " OWNER("t.typowner") ", " ACL("t.typacl") ", d.description, " \
    "  CASE WHEN t.typtype = 'c' THEN (SELECT coalesce(string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod) " \
    "      || CASE WHEN a.attcollation <> at.typcollation THEN ' COLLATE ' || " COLLNAME("a.attcollation") " ELSE '' END, " \
    "      ', ' ORDER BY a.attnum), '') " \
    "    FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid " \
    "    WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END, " \
    "  (SELECT quote_ident(ocn.nspname) || '.' || quote_ident(oc.opcname) FROM pg_opclass oc " \
    "    JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace WHERE oc.oid = rg.rngsubopc AND NOT oc.opcdefault), " \
    "  CASE WHEN rg.rngcanonical <> 0 THEN rg.rngcanonical::regproc::text END, " \
    "  CASE WHEN rg.rngsubdiff <> 0 THEN rg.rngsubdiff::regproc::text END, " \
    "  " MULTIRANGE " " \
    "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace " \
    "LEFT JOIN pg_range rg ON t.typtype = 'r' AND rg.rngtypid = t.oid " \
    "LEFT JOIN pg_class tc ON t.typtype = 'c' AND tc.oid = t.typrelid " \
    "LEFT JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'r' THEN rg.rngsubtype ELSE t.typbasetype END " \
    "LEFT JOIN pg_collation co ON co.oid = CASE WHEN t.typtype = 'r' THEN rg.rngcollation ELSE t.typcollation END " \
    "LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace" \
    DESCR("d", "pg_type", "t.oid", "0") \
    "WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND tc.relkind = 'c')) AND" NSP_FILTER("n") \
    "AND" NOT_EXT("pg_type", "t.oid")

static const char Q_TYPES[] = Q_TYPES_SQL("format_type(rg.rngmultitypid, NULL)");
static const char Q_TYPES_PRE14[] = Q_TYPES_SQL("NULL::text");

static const char Q_RELATIONS[] =
    "SELECT n.nspname, c.relname, c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity, "
    "  CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, "
    "  pn.nspname, pc.relname, CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END, "
    "  CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END, "
    "  (SELECT string_agg(o, ', ' ORDER BY o) FROM unnest(c.reloptions) o), "
    "  " OWNER("c.relowner") ", " ACL("c.relacl") ", d.description, "
    "  format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, "
    "  own_n.nspname, own_c.relname, "
    "  (SELECT own_a.attname FROM pg_attribute own_a WHERE own_a.attrelid = dep.refobjid AND own_a.attnum = dep.refobjsubid), "
    "  fs.srvname, " OPTIONS("ft.ftoptions") ", "
    /* plain inheritance (INHERITS), parents in declaration order; partitions say partition-of instead */
    "  CASE WHEN c.relkind IN ('r', 'f') AND NOT c.relispartition THEN (SELECT string_agg(" RHQ("ipn.nspname") " || '.' || "
    "    " RHQ("ipc.relname") ", ', ' ORDER BY ih.inhseqno) FROM pg_inherits ih JOIN pg_class ipc ON ipc.oid = ih.inhparent "
    "    JOIN pg_namespace ipn ON ipn.oid = ipc.relnamespace WHERE ih.inhrelid = c.oid) END "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND c.relispartition "
    "LEFT JOIN pg_class pc ON pc.oid = i.inhparent LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace "
    "LEFT JOIN pg_sequence s ON s.seqrelid = c.oid "
    "LEFT JOIN pg_depend dep ON c.relkind = 'S' AND dep.classid = 'pg_class'::regclass AND dep.objid = c.oid "
    "  AND dep.refclassid = 'pg_class'::regclass AND dep.refobjsubid > 0 AND dep.deptype IN ('a', 'i') "
    "LEFT JOIN pg_class own_c ON own_c.oid = dep.refobjid LEFT JOIN pg_namespace own_n ON own_n.oid = own_c.relnamespace "
    "LEFT JOIN pg_foreign_table ft ON c.relkind = 'f' AND ft.ftrelid = c.oid "
    "LEFT JOIN pg_foreign_server fs ON fs.oid = ft.ftserver"
    DESCR("d", "pg_class", "c.oid", "0")
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND" NSP_FILTER("n") "AND" NOT_EXT("pg_class", "c.oid");

static const char Q_COLUMNS[] =
    "SELECT n.nspname, c.relname, a.attname, a.attrelid, "
    "  format_type(a.atttypid, a.atttypmod), a.attnotnull, "
    /* a default cannot refer to a column, so it prints the same without the table as context, and
       PostgreSQL 15 then does not open (build the relcache entry of) every table: ~10 % of the snapshot's
       server CPU on 250 tables; a generated column's expression does refer to columns */
    "  pg_get_expr(ad.adbin, CASE WHEN a.attgenerated = '' THEN 0 ELSE ad.adrelid END), a.attidentity, a.attgenerated, "
    "  CASE WHEN co.oid IS NULL THEN NULL WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname) "
    "    ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END, "
    "  d.description, " ACL("a.attacl") ", a.attnum, "
    "  CASE WHEN a.attfdwoptions IS NOT NULL THEN " OPTIONS("a.attfdwoptions") " END "
    "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_type t ON t.oid = a.atttypid "
    "LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum "
    "LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> t.typcollation "
    "LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace"
    DESCR("d", "pg_class", "a.attrelid", "a.attnum")
    "WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f') AND" NSP_FILTER("n")
    "AND" NOT_EXT("pg_class", "c.oid");

static const char Q_CONSTRAINTS[] =
    "SELECT n.nspname, coalesce(c.relname, t.typname), con.conname, con.contype, pg_get_constraintdef(con.oid), "
    "  con.convalidated, con.condeferrable, con.condeferred, d.description "
    "FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace "
    "LEFT JOIN pg_class c ON c.oid = con.conrelid LEFT JOIN pg_type t ON t.oid = con.contypid"
    DESCR("d", "pg_constraint", "con.oid", "0")
    "WHERE (c.relkind IN ('r', 'p', 'f') OR t.oid IS NOT NULL) AND" NSP_FILTER("n")
    /* a foreign key to a partitioned table gets one derived row per referenced partition on the same
       table ("fkey1", "fkey2"): bookkeeping whose names depend on partition order, left out */
    "AND NOT EXISTS (SELECT 1 FROM pg_constraint pcon WHERE pcon.oid = con.conparentid AND pcon.conrelid = con.conrelid) "
    /* PostgreSQL 17 (domains) and 18 (tables) keep NOT NULL as constraints named after the table or
       domain it was created with: the column's or domain's `nullable` says the same on every major, so a
       plain one is left out; a NOT VALID or NO INHERIT one (18) says more and is kept */
    "AND NOT (con.contype = 'n' AND con.convalidated AND NOT con.connoinherit) "
    "AND" NOT_EXT("pg_class", "con.conrelid") "AND" NOT_EXT("pg_type", "con.contypid");

static const char Q_INDEXES[] =
    "SELECT n.nspname, t.relname, i.relname, pg_get_indexdef(x.indexrelid), x.indisunique, x.indisprimary, "
    "  x.indisvalid, x.indisready, pg_get_expr(x.indpred, x.indrelid), d.description "
    "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
    "JOIN pg_namespace n ON n.oid = i.relnamespace"
    DESCR("d", "pg_class", "i.oid", "0")
    "WHERE t.relkind IN ('r', 'p', 'm') AND" NSP_FILTER("n") "AND" NOT_EXT("pg_class", "t.oid");

static const char Q_TRIGGERS[] =
    "SELECT n.nspname, c.relname, tg.tgname, pg_get_triggerdef(tg.oid), tg.tgenabled, d.description "
    "FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
    DESCR("d", "pg_trigger", "tg.oid", "0")
    "WHERE NOT tg.tgisinternal AND" NSP_FILTER("n") "AND" NOT_EXT("pg_class", "c.oid");

static const char Q_POLICIES[] =
    "SELECT n.nspname, c.relname, p.polname, p.polcmd, p.polpermissive, "
    "  (SELECT string_agg(rn, ', ' ORDER BY rn) FROM (SELECT CASE WHEN r = 0 THEN 'public' "
    "     ELSE quote_ident(pg_get_userbyid(r)) END AS rn FROM unnest(p.polroles) r) s), "
    "  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), d.description "
    "FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
    DESCR("d", "pg_policy", "p.oid", "0")
    "WHERE" NSP_FILTER("n");

static const char Q_FUNCTIONS[] =
    "SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind, "
    "  pg_get_function_result(p.oid), l.lanname, CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END, "
    "  " OWNER("p.proowner") ", " ACL("p.proacl") ", d.description "
    "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang"
    DESCR("d", "pg_proc", "p.oid", "0")
    "WHERE" NSP_FILTER("n") "AND" NOT_EXT("pg_proc", "p.oid");

/* Rules (CREATE RULE); a view's own `_RETURN` rule is its definition, already recorded. */
static const char Q_RULES[] =
    "SELECT n.nspname, c.relname, r.rulename, pg_get_ruledef(r.oid), r.ev_enabled, d.description "
    "FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace"
    DESCR("d", "pg_rewrite", "r.oid", "0")
    "WHERE r.rulename <> '_RETURN' AND" NSP_FILTER("n") "AND" NOT_EXT("pg_class", "c.oid");

/* Extended statistics (CREATE STATISTICS). */
static const char Q_STATISTICS[] =
    "SELECT n.nspname, c.relname, s.stxname, pg_get_statisticsobjdef(s.oid), s.stxstattarget, "
    "  " OWNER("s.stxowner") ", d.description "
    "FROM pg_statistic_ext s JOIN pg_class c ON c.oid = s.stxrelid JOIN pg_namespace n ON n.oid = s.stxnamespace"
    DESCR("d", "pg_statistic_ext", "s.oid", "0")
    "WHERE" NSP_FILTER("n") "AND" NOT_EXT("pg_statistic_ext", "s.oid") "AND" NOT_EXT("pg_class", "c.oid");

/* Foreign servers (their wrapper usually comes with an extension, covered by `extension`). */
static const char Q_SERVERS[] =
    "SELECT s.srvname, w.fdwname, s.srvtype, s.srvversion, " OPTIONS("s.srvoptions") ", "
    "  " OWNER("s.srvowner") ", " ACL("s.srvacl") ", d.description "
    "FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw"
    DESCR("d", "pg_foreign_server", "s.oid", "0")
    "WHERE" NOT_EXT("pg_foreign_server", "s.oid");

/*
 * Publications: what they publish and which tables (with column lists and row filters, PostgreSQL
 * 15) or schemas (TABLES IN SCHEMA, 15); each list sorted.
 */
#define Q_PUBLICATIONS_SQL(COLS, FILTER, SCHEMAS) \
    "SELECT p.pubname, p.puballtables, concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END, " \
    "  CASE WHEN p.pubupdate THEN 'update' END, CASE WHEN p.pubdelete THEN 'delete' END, " \
    "  CASE WHEN p.pubtruncate THEN 'truncate' END), p.pubviaroot, " \
    "  (SELECT string_agg(x, ', ' ORDER BY x) FROM (SELECT " RHQ("rn.nspname") " || '.' || " RHQ("rc.relname") \
    "     " COLS " " FILTER " AS x FROM pg_publication_rel pr JOIN pg_class rc ON rc.oid = pr.prrelid " \
    "     JOIN pg_namespace rn ON rn.oid = rc.relnamespace WHERE pr.prpubid = p.oid) s), " \
    "  " SCHEMAS ", " OWNER("p.pubowner") ", d.description " \
    "FROM pg_publication p" DESCR("d", "pg_publication", "p.oid", "0") \
    "WHERE" NOT_EXT("pg_publication", "p.oid")

static const char Q_PUBLICATIONS[] = Q_PUBLICATIONS_SQL(
    "|| CASE WHEN pr.prattrs IS NOT NULL THEN ' (' || (SELECT string_agg(" RHQ("a.attname") ", ', ' ORDER BY a.attnum) "
    "FROM pg_attribute a WHERE a.attrelid = pr.prrelid AND a.attnum = ANY (pr.prattrs)) || ')' ELSE '' END",
    "|| coalesce(' WHERE ' || pg_get_expr(pr.prqual, pr.prrelid), '')",
    "(SELECT string_agg(" RHQ("sn.nspname") ", ', ' ORDER BY sn.nspname) FROM pg_publication_namespace pn "
    "JOIN pg_namespace sn ON sn.oid = pn.pnnspid WHERE pn.pnpubid = p.oid)");
static const char Q_PUBLICATIONS_PRE15[] = Q_PUBLICATIONS_SQL("", "", "NULL::text");

/* One result row being turned into an object. */
typedef struct row {
    PGresult *r;
    int i;
    const long *pos; /* columns: position among the table's live columns, by result row */
} row;

static const char *v(const row *w, int col)
{
    return PQgetisnull(w->r, w->i, col) ? NULL : PQgetvalue(w->r, w->i, col);
}

static int is_true(const row *w, int col)
{
    const char *s = v(w, col);
    return s && s[0] == 't';
}

static const char *yes_no(int b)
{
    return b ? "yes" : "no";
}

/* Add a property only when the value is there (absent means the default; see docs/catalog.md). */
static void opt_prop(rh_catalog *cat, const char *key, const char *value)
{
    if (value)
        rh_cat_prop(cat, key, value);
}

/* Multi-line definitions: trailing blank space and newlines carry no meaning and vary by source. */
static void def_prop(rh_catalog *cat, rh_buf *tmp, const char *key, const char *value)
{
    if (!value)
        return;
    size_t n = strlen(value);
    while (n && (value[n - 1] == '\n' || value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r'))
        n--;
    rh_buf_reset(tmp);
    rh_buf_append(tmp, value, n);
    rh_cat_prop(cat, key, tmp->data);
}

static void common_props(rh_catalog *cat, const rh_catalog_opts *o, const char *owner, const char *acl,
                         const char *comment)
{
    if (o->include_owners)
        opt_prop(cat, "owner", owner);
    if (o->include_grants)
        opt_prop(cat, "acl", acl);
    if (!o->ignore_comments)
        opt_prop(cat, "comment", comment);
}

/* "schema.rel" or "schema.rel.col", quoted like the text form quotes identities. */
static const char *qualified(rh_buf *tmp, const char *a, const char *b, const char *c)
{
    rh_buf_reset(tmp);
    rh_catalog_quote_ident(tmp, a);
    rh_buf_putc(tmp, '.');
    rh_catalog_quote_ident(tmp, b);
    if (c) {
        rh_buf_putc(tmp, '.');
        rh_catalog_quote_ident(tmp, c);
    }
    return tmp->data;
}

typedef void (*row_fn)(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp);

static void schema_row(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp)
{
    rh_cat_begin(cat, RH_CAT_SCHEMA, NULL, NULL, v(w, 0), NULL);
    common_props(cat, o, v(w, 1), v(w, 2), v(w, 3));
    rh_cat_end(cat);
}

static void extension_row(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp)
{
    rh_cat_begin(cat, RH_CAT_EXTENSION, NULL, NULL, v(w, 0), NULL);
    rh_cat_prop(cat, "version", v(w, 1));
    rh_buf_reset(tmp);
    rh_catalog_quote_ident(tmp, v(w, 2));
    rh_cat_prop(cat, "schema", tmp->data);
    common_props(cat, o, NULL, NULL, v(w, 3));
    rh_cat_end(cat);
}

static void type_row(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp)
{
    char t = v(w, 2)[0];
    rh_catalog_kind k = t == 'e' ? RH_CAT_ENUM : t == 'c' ? RH_CAT_COMPOSITE : t == 'r' ? RH_CAT_RANGE : RH_CAT_DOMAIN;
    rh_cat_begin(cat, k, v(w, 0), NULL, v(w, 1), NULL);
    if (k == RH_CAT_ENUM) {
        rh_cat_prop(cat, "labels", v(w, 3) ? v(w, 3) : "");
    } else if (k == RH_CAT_COMPOSITE) {
        rh_cat_prop(cat, "attributes", v(w, 11) ? v(w, 11) : "");
    } else if (k == RH_CAT_RANGE) {
        rh_cat_prop(cat, "subtype", v(w, 4));
        opt_prop(cat, "subtype-opclass", v(w, 12));
        opt_prop(cat, "collation", v(w, 7));
        opt_prop(cat, "canonical", v(w, 13));
        opt_prop(cat, "subtype-diff", v(w, 14));
        opt_prop(cat, "multirange", v(w, 15));
    } else {
        rh_cat_prop(cat, "type", v(w, 4));
        if (is_true(w, 5))
            rh_cat_prop(cat, "not-null", "yes");
        opt_prop(cat, "default", v(w, 6));
        opt_prop(cat, "collation", v(w, 7));
    }
    common_props(cat, o, v(w, 8), v(w, 9), v(w, 10));
    rh_cat_end(cat);
}

static void relation_row(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp)
{
    char relkind = v(w, 2)[0];
    rh_catalog_kind k = relkind == 'v' ? RH_CAT_VIEW : relkind == 'm' ? RH_CAT_MATVIEW
                      : relkind == 'S' ? RH_CAT_SEQUENCE : relkind == 'f' ? RH_CAT_FOREIGN_TABLE : RH_CAT_TABLE;
    rh_cat_begin(cat, k, v(w, 0), NULL, v(w, 1), NULL);
    if (k == RH_CAT_SEQUENCE) {
        rh_cat_prop(cat, "type", v(w, 15));
        rh_cat_prop(cat, "start", v(w, 16));
        rh_cat_prop(cat, "increment", v(w, 17));
        rh_cat_prop(cat, "min", v(w, 18));
        rh_cat_prop(cat, "max", v(w, 19));
        rh_cat_prop(cat, "cache", v(w, 20));
        if (is_true(w, 21))
            rh_cat_prop(cat, "cycle", "yes");
        if (v(w, 22))
            rh_cat_prop(cat, "owned-by", qualified(tmp, v(w, 22), v(w, 23), v(w, 24)));
    }
    if (relkind == 'p')
        rh_cat_prop(cat, "partition-key", v(w, 6));
    if (v(w, 7) && v(w, 8))
        rh_cat_prop(cat, "partition-of", qualified(tmp, v(w, 7), v(w, 8), NULL));
    opt_prop(cat, "partition-bound", v(w, 9));
    if (k == RH_CAT_FOREIGN_TABLE) {
        rh_cat_prop(cat, "server", v(w, 25));
        opt_prop(cat, "options", v(w, 26));
    }
    opt_prop(cat, "inherits", v(w, 27));
    if (v(w, 3)[0] == 'u')
        rh_cat_prop(cat, "unlogged", "yes");
    if (is_true(w, 4))
        rh_cat_prop(cat, "row-security", "yes");
    if (is_true(w, 5))
        rh_cat_prop(cat, "force-row-security", "yes");
    def_prop(cat, tmp, "definition", v(w, 10));
    opt_prop(cat, "options", v(w, 11));
    common_props(cat, o, v(w, 12), v(w, 13), v(w, 14));
    rh_cat_end(cat);
}

static void column_row(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp)
{
    rh_cat_begin(cat, RH_CAT_COLUMN, v(w, 0), v(w, 1), v(w, 2), NULL);
    if (o->strict_column_order)
    {
        char num[24];
        snprintf(num, sizeof num, "%ld", w->pos ? w->pos[w->i] : 0L);
        rh_cat_prop(cat, "position", num);
    }
    rh_cat_prop(cat, "type", v(w, 4));
    rh_cat_prop(cat, "not-null", yes_no(is_true(w, 5)));
    const char *ident = v(w, 7), *gen = v(w, 8);
    if (gen && gen[0] == 's')
        rh_cat_prop(cat, "generated", v(w, 6));
    else
        opt_prop(cat, "default", v(w, 6));
    if (ident && ident[0])
        rh_cat_prop(cat, "identity", ident[0] == 'a' ? "always" : "by-default");
    opt_prop(cat, "collation", v(w, 9));
    opt_prop(cat, "options", v(w, 13));
    common_props(cat, o, NULL, v(w, 11), v(w, 10));
    rh_cat_end(cat);
}

/* pg_constraint.contype as a word. */
static const char *contype_name(char c)
{
    switch (c) {
    case 'c': return "check";
    case 'f': return "foreign-key";
    case 'p': return "primary-key";
    case 'u': return "unique";
    case 't': return "trigger";
    case 'x': return "exclusion";
    case 'n': return "not-null";
    default: return "other";
    }
}

static void constraint_row(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp)
{
    rh_cat_begin(cat, RH_CAT_CONSTRAINT, v(w, 0), v(w, 1), v(w, 2), NULL);
    rh_cat_prop(cat, "kind", contype_name(v(w, 3)[0]));
    rh_cat_prop(cat, "definition", v(w, 4));
    rh_cat_prop(cat, "validated", yes_no(is_true(w, 5)));
    if (is_true(w, 6))
        rh_cat_prop(cat, "deferrable", "yes");
    if (is_true(w, 7))
        rh_cat_prop(cat, "initially-deferred", "yes");
    common_props(cat, o, NULL, NULL, v(w, 8));
    rh_cat_end(cat);
}

static void index_row(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp)
{
    rh_cat_begin(cat, RH_CAT_INDEX, v(w, 0), v(w, 1), v(w, 2), NULL);
    rh_cat_prop(cat, "definition", v(w, 3));
    rh_cat_prop(cat, "unique", yes_no(is_true(w, 4)));
    if (is_true(w, 5))
        rh_cat_prop(cat, "primary", "yes");
    rh_cat_prop(cat, "valid", yes_no(is_true(w, 6)));
    rh_cat_prop(cat, "ready", yes_no(is_true(w, 7)));
    opt_prop(cat, "predicate", v(w, 8));
    common_props(cat, o, NULL, NULL, v(w, 9));
    rh_cat_end(cat);
}

static void trigger_row(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp)
{
    rh_cat_begin(cat, RH_CAT_TRIGGER, v(w, 0), v(w, 1), v(w, 2), NULL);
    rh_cat_prop(cat, "definition", v(w, 3));
    char e = v(w, 4)[0];
    rh_cat_prop(cat, "enabled", e == 'O' ? "yes" : e == 'D' ? "no" : e == 'R' ? "replica" : "always");
    common_props(cat, o, NULL, NULL, v(w, 5));
    rh_cat_end(cat);
}

static void policy_row(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp)
{
    rh_cat_begin(cat, RH_CAT_POLICY, v(w, 0), v(w, 1), v(w, 2), NULL);
    char c = v(w, 3)[0];
    rh_cat_prop(cat, "command", c == 'r' ? "SELECT" : c == 'a' ? "INSERT" : c == 'w' ? "UPDATE"
                                : c == 'd' ? "DELETE" : "ALL");
    rh_cat_prop(cat, "mode", is_true(w, 4) ? "permissive" : "restrictive");
    opt_prop(cat, "roles", v(w, 5));
    opt_prop(cat, "using", v(w, 6));
    opt_prop(cat, "with-check", v(w, 7));
    common_props(cat, o, NULL, NULL, v(w, 8));
    rh_cat_end(cat);
}

static void function_row(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp)
{
    rh_cat_begin(cat, RH_CAT_FUNCTION, v(w, 0), NULL, v(w, 1), v(w, 2));
    char k = v(w, 3)[0];
    rh_cat_prop(cat, "kind", k == 'p' ? "procedure" : k == 'a' ? "aggregate" : k == 'w' ? "window" : "function");
    opt_prop(cat, "returns", v(w, 4));
    rh_cat_prop(cat, "language", v(w, 5));
    def_prop(cat, tmp, "definition", v(w, 6));
    common_props(cat, o, v(w, 7), v(w, 8), v(w, 9));
    rh_cat_end(cat);
}

static void rule_row(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp)
{
    rh_cat_begin(cat, RH_CAT_RULE, v(w, 0), v(w, 1), v(w, 2), NULL);
    def_prop(cat, tmp, "definition", v(w, 3));
    char e = v(w, 4)[0];
    rh_cat_prop(cat, "enabled", e == 'D' ? "no" : e == 'R' ? "replica" : e == 'A' ? "always" : "yes");
    common_props(cat, o, NULL, NULL, v(w, 5));
    rh_cat_end(cat);
}

static void statistics_row(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp)
{
    rh_cat_begin(cat, RH_CAT_STATISTICS, v(w, 0), v(w, 1), v(w, 2), NULL);
    def_prop(cat, tmp, "definition", v(w, 3));
    /* -1 (NULL from PostgreSQL 17) is the default: the column's statistics target */
    const char *target = v(w, 4);
    if (target && target[0] != '-')
        rh_cat_prop(cat, "target", target);
    common_props(cat, o, v(w, 5), NULL, v(w, 6));
    rh_cat_end(cat);
}

static void server_row(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp)
{
    rh_cat_begin(cat, RH_CAT_SERVER, NULL, NULL, v(w, 0), NULL);
    rh_buf_reset(tmp);
    rh_catalog_quote_ident(tmp, v(w, 1));
    rh_cat_prop(cat, "wrapper", tmp->data);
    opt_prop(cat, "type", v(w, 2));
    opt_prop(cat, "version", v(w, 3));
    opt_prop(cat, "options", v(w, 4));
    common_props(cat, o, v(w, 5), v(w, 6), v(w, 7));
    rh_cat_end(cat);
}

static void publication_row(rh_catalog *cat, const rh_catalog_opts *o, const row *w, rh_buf *tmp)
{
    rh_cat_begin(cat, RH_CAT_PUBLICATION, NULL, NULL, v(w, 0), NULL);
    if (is_true(w, 1))
        rh_cat_prop(cat, "all-tables", "yes");
    rh_cat_prop(cat, "publish", v(w, 2));
    if (is_true(w, 3))
        rh_cat_prop(cat, "via-root", "yes");
    opt_prop(cat, "tables", v(w, 4));
    opt_prop(cat, "schemas", v(w, 5));
    common_props(cat, o, v(w, 6), NULL, v(w, 7));
    rh_cat_end(cat);
}

/* sql_old, when set, replaces sql on servers older than old_before (catalog columns they lack). */
static const struct {
    const char *what;
    const char *sql;
    row_fn fn;
    const char *sql_old;
    int old_before;
} queries[] = {
    {"schemas", Q_SCHEMAS, schema_row, NULL, 0},
    {"extensions", Q_EXTENSIONS, extension_row, NULL, 0},
    {"enums, domains, composite and range types", Q_TYPES, type_row, Q_TYPES_PRE14, 140000},
    {"tables, views, sequences and foreign tables", Q_RELATIONS, relation_row, NULL, 0},
    {"columns", Q_COLUMNS, column_row, NULL, 0},
    {"constraints", Q_CONSTRAINTS, constraint_row, NULL, 0},
    {"indexes", Q_INDEXES, index_row, NULL, 0},
    {"triggers", Q_TRIGGERS, trigger_row, NULL, 0},
    {"policies", Q_POLICIES, policy_row, NULL, 0},
    {"functions", Q_FUNCTIONS, function_row, NULL, 0},
    {"rules", Q_RULES, rule_row, NULL, 0},
    {"statistics objects", Q_STATISTICS, statistics_row, NULL, 0},
    {"foreign servers", Q_SERVERS, server_row, NULL, 0},
    {"publications", Q_PUBLICATIONS, publication_row, Q_PUBLICATIONS_PRE15, 150000},
};

/*
 * Column positions ("position N" under strict_column_order) count live columns only, so a dropped
 * column leaves no gap. Computed here rather than with a window function: sorting the whole
 * column set on the server cost more than the rest of the query.
 */
typedef struct colkey {
    unsigned long rel;
    long attnum;
    int row;
} colkey;

static int colkey_cmp(const void *a, const void *b)
{
    const colkey *x = a, *y = b;
    if (x->rel != y->rel)
        return x->rel < y->rel ? -1 : 1;
    return x->attnum < y->attnum ? -1 : x->attnum > y->attnum;
}

static long *column_positions(PGresult *r)
{
    int n = PQntuples(r);
    colkey *k = rh_xmalloc((size_t)(n ? n : 1) * sizeof *k);
    for (int i = 0; i < n; i++) {
        k[i].rel = strtoul(PQgetvalue(r, i, 3), NULL, 10);
        k[i].attnum = strtol(PQgetvalue(r, i, 12), NULL, 10);
        k[i].row = i;
    }
    qsort(k, (size_t)n, sizeof *k, colkey_cmp);
    long *pos = rh_xmalloc((size_t)(n ? n : 1) * sizeof *pos);
    for (int i = 0; i < n; i++)
        pos[k[i].row] = i > 0 && k[i - 1].rel == k[i].rel ? pos[k[i - 1].row] + 1 : 1;
    free(k);
    return pos;
}

/* Run a statement whose result we do not need; fills err with the server's message. */
static int exec_cmd(PGconn *conn, const char *sql, const char *what, rh_err *err)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        rh_err_set(err, "catalog snapshot: %s failed: %s", what, PQresultErrorMessage(r));
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (st)
            rh_err_code(err, st);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

/* The schema unqualified names mean: the option, else the first schema of search_path, else public. */
static char *resolve_default_schema(PGconn *conn, const rh_catalog_opts *o, rh_err *err)
{
    if (o->default_schema && *o->default_schema)
        return rh_xstrdup(o->default_schema);
    PGresult *r = PQexec(conn, "SELECT (current_schemas(false))[1]");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rh_err_set(err, "catalog snapshot: reading search_path failed: %s", PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    char *s = rh_xstrdup(PQntuples(r) && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "public");
    PQclear(r);
    return s;
}

static int run_queries(PGconn *conn, rh_catalog *cat, const rh_catalog_opts *o, rh_err *err)
{
    rh_buf sql, tmp;
    rh_buf_init(&sql);
    rh_buf_init(&tmp);
    char *q = PQescapeIdentifier(conn, cat->default_schema, strlen(cat->default_schema));
    if (!q) {
        rh_buf_free(&sql);
        rh_buf_free(&tmp);
        return rh_err_set(err, "catalog snapshot: cannot quote schema name: %s", PQerrorMessage(conn));
    }
    /* Expressions print relative to search_path and these settings: pin them. A scenario's own
       statement_timeout (set to make a deploy fail) must not make the snapshot fail. */
    rh_buf_printf(&sql, "SET LOCAL search_path TO %s; SET LOCAL DateStyle TO 'ISO, YMD'; "
                        "SET LOCAL IntervalStyle TO 'postgres'; SET LOCAL TimeZone TO 'UTC'; "
                        "SET LOCAL extra_float_digits TO 1; SET LOCAL bytea_output TO 'hex'; "
                        "SET LOCAL statement_timeout TO 0; SET LOCAL lock_timeout TO '30s'; "
                        "SET LOCAL rehearse.owners TO %s; SET LOCAL rehearse.grants TO %s",
                  q, o->include_owners ? "on" : "off", o->include_grants ? "on" : "off");
    PQfreemem(q);
    int rc = exec_cmd(conn, sql.data, "pinning session settings", err);
    /* All the queries in one round trip (a multi-statement query inside our transaction): the server
       runs them back to back while we turn each result into objects, instead of waiting on us 14 times. */
    size_t nq = sizeof queries / sizeof queries[0];
    int version = PQserverVersion(conn);
    rh_buf_reset(&sql);
    for (size_t qi = 0; qi < nq; qi++) {
        const char *q_sql = queries[qi].sql_old && version < queries[qi].old_before ? queries[qi].sql_old : queries[qi].sql;
        rh_buf_printf(&sql, "%s;\n", q_sql);
    }
    if (rc == 0 && !PQsendQuery(conn, sql.data))
        rc = rh_err_set(err, "catalog snapshot: sending the queries failed: %s", PQerrorMessage(conn));
    size_t qi = 0;
    PGresult *r;
    while (rc == 0 && (r = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = rh_err_set(err, "catalog snapshot: reading %s failed: %s", qi < nq ? queries[qi].what : "the catalog",
                            PQresultErrorMessage(r));
            const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            if (st)
                rh_err_code(err, st);
        } else {
            assert(qi < nq);
            long *pos = queries[qi].fn == column_row && o->strict_column_order ? column_positions(r) : NULL;
            row w = {r, 0, pos};
            for (int n = PQntuples(r); w.i < n; w.i++)
                queries[qi].fn(cat, o, &w, &tmp);
            free(pos);
            qi++;
        }
        PQclear(r);
    }
    while ((r = PQgetResult(conn)) != NULL) /* after an error: drain the rest, or the connection stays busy */
        PQclear(r);
    if (rc == 0 && qi != nq)
        rc = rh_err_set(err, "catalog snapshot: %zu of %zu catalog queries answered", qi, nq);
    rh_buf_free(&sql);
    rh_buf_free(&tmp);
    return rc;
}

/* Drop the ledger table and its children unless asked for (it is asserted on by the ledger checks). */
static void drop_ledger(rh_catalog *cat, const rh_catalog_opts *opts)
{
    size_t j = 0;
    for (size_t i = 0; i < cat->n; i++)
        if (!rh_cat_is_ledger(&cat->objs[i], opts))
            cat->objs[j++] = cat->objs[i];
    cat->n = j;
}

int rh_catalog_snapshot(PGconn *conn, const rh_catalog_opts *opts, rh_catalog **out, rh_err *err)
{
    static const rh_catalog_opts defaults;
    const rh_catalog_opts *o = opts ? opts : &defaults;
    *out = NULL;
    if (!conn || PQstatus(conn) != CONNECTION_OK)
        return rh_err_set(err, "catalog snapshot: not connected%s%s", conn ? ": " : "",
                          conn ? PQerrorMessage(conn) : "");
    PGTransactionStatusType ts = PQtransactionStatus(conn);
    if (ts == PQTRANS_INERROR)
        return rh_err_set(err, "catalog snapshot: the connection is inside a failed transaction "
                               "(ROLLBACK it first)");
    if (ts != PQTRANS_IDLE && ts != PQTRANS_INTRANS)
        return rh_err_set(err, "catalog snapshot: the connection is busy");
    int own = ts == PQTRANS_IDLE;
    if (exec_cmd(conn, own ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "SAVEPOINT rh_catalog_snapshot",
                 "starting a transaction", err) < 0)
        return -1;
    char *schema = resolve_default_schema(conn, o, err);
    rh_catalog *cat = schema ? rh_cat_new(schema) : NULL;
    free(schema);
    int rc = cat ? run_queries(conn, cat, o, err) : -1;
    rh_err ignored;
    exec_cmd(conn, own ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT rh_catalog_snapshot; RELEASE SAVEPOINT rh_catalog_snapshot",
             "ending the transaction", &ignored);
    if (rc == 0) {
        if (!o->include_ledger)
            drop_ledger(cat, o);
        rc = rh_cat_sort(cat, err);
    }
    if (rc < 0) {
        rh_catalog_free(cat);
        return -1;
    }
    *out = cat;
    return 0;
}
