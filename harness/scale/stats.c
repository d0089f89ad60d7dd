/*
 * stats.c — the statistics query `rehearse stats` prints for production.
 *
 * Why these sources: the query must never block production nor wait behind a migration holding
 * AccessExclusiveLock. pg_relation_size() and friends open the relation (AccessShareLock, which
 * queues behind such a lock), so sizes come from pg_class.relpages (as of the last VACUUM/ANALYZE)
 * times the block size; rows from reltuples (-1 when never analyzed: then n_live_tup). Catalog and
 * statistics views take no lock on user tables. pg_stats is read for null_frac, n_distinct and
 * avg_width only: its most_common_vals and histogram_bounds hold row data and stay on production.
 */
#include "scale/scale.h"

static const char stats_query[] =
    "-- rehearse stats: production's table sizes and column statistics, no row data.\n"
    "-- Read-only; takes no lock on any user table. Run on production or a replica:\n"
    "--   psql -XAtq -d \"$DATABASE_URL\" -f stats.sql > stats.json\n"
    "SELECT json_build_object(\n"
    "  'rehearse_stats', 1,\n"
    "  'server_version_num', current_setting('server_version_num')::int,\n"
    "  'tables', coalesce(json_agg(t ORDER BY t.schema, t.name), '[]'::json))\n"
    "FROM (\n"
    "  SELECT n.nspname AS schema, c.relname AS name,\n"
    "    CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE coalesce(s.n_live_tup, 0) END AS rows,\n"
    "    (c.relpages::bigint + coalesce(tc.relpages, 0)::bigint)\n"
    "      * current_setting('block_size')::bigint AS table_bytes,\n"
    "    (SELECT coalesce(sum(i.relpages), 0)::bigint FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid\n"
    "      WHERE x.indrelid = c.oid) * current_setting('block_size')::bigint AS index_bytes,\n"
    "    coalesce(s.n_dead_tup, 0) AS dead_tuples,\n"
    "    (SELECT coalesce(json_agg(json_build_object('name', st.attname, 'null_frac', st.null_frac,\n"
    "                                                'n_distinct', st.n_distinct, 'avg_width', st.avg_width)\n"
    "                     ORDER BY st.attname), '[]'::json)\n"
    "       FROM pg_stats st WHERE st.schemaname = n.nspname AND st.tablename = c.relname\n"
    "        AND NOT st.inherited) AS columns\n"
    "  FROM pg_class c\n"
    "  JOIN pg_namespace n ON n.oid = c.relnamespace\n"
    "  LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid\n"
    "  LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid\n"
    "  WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')\n"
    "    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'\n"
    ") t;\n";

const char *rh_scale_stats_query(void)
{
    return stats_query;
}
