#!/usr/bin/env bash
# engine_env.test.sh — the user's libpq environment (PGOPTIONS, PGTZ, PGDATESTYLE, PGSERVICE ...) does not
# reach rehearse's own connections to its throwaway clusters, as it does not reach Prisma's native engine
# (tokio-postgres reads no environment). Each variable is played on `rehearse deploy`: the deploy succeeds
# and the database holds what it holds without the variable (before util/pgenv.c, statement_timeout=1 in
# PGOPTIONS failed the deploy, a search_path put the ledger elsewhere, PGTZ changed a timestamptz, ...).
# Then the real Prisma CLIs (../shared/oracle*, 6.19.3 and 7.10.1) deploy the same folder under the session
# variables: same rows as rehearse's. The oracle's driver adapter (node-postgres) does take PGOPTIONS and
# PGAPPNAME, which the native engine does not: that is a difference of the oracle, asserted below so that
# the claim in docs/cluster.md stays checked.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${REHEARSE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
bin=${REHEARSE_BIN:?REHEARSE_BIN must point at the rehearse binary}
. "$here/../lib/tied_cluster.sh" # kept clusters go with this script, however it ends
work=$(mktemp -d)
kept=
cleanup() { [ -n "$kept" ] && "$bin" clusters --stop "$kept" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PSQL="$pgbin/psql"; [ -x "$PSQL" ] || PSQL=psql
oracle6= oracle7=
for c in "$src/../shared/oracle/prisma-oracle" /work/shared/oracle/prisma-oracle "$here/oracle/prisma-oracle"; do
  [ -x "$c" ] && { oracle6=$c; break; }
done
for c in "$src/../shared/oracle7/prisma7-oracle" /work/shared/oracle7/prisma7-oracle "$here/oracle7/prisma7-oracle"; do
  [ -x "$c" ] && { oracle7=$c; break; }
done
[ -n "$oracle6" ] && [ -n "$oracle7" ] || { echo "FAIL: prisma-oracle / prisma7-oracle not found"; exit 1; }

# what the session saw, and three values the session settings change (a timestamptz without offset, a
# date in D/M or M/D order, the bytes of a non-ASCII text)
mkdir -p "$work/prisma/migrations/20240101000000_env"
cat >"$work/prisma/migrations/20240101000000_env/migration.sql" <<'EOF'
CREATE TABLE seen AS SELECT current_schema() AS schema, current_setting('TimeZone') AS tz,
    current_setting('DateStyle') AS datestyle, current_setting('statement_timeout') AS statement_timeout,
    current_setting('client_encoding') AS client_encoding, current_setting('application_name') AS app,
    current_setting('geqo') AS geqo, pg_is_in_recovery() AS recovery;
CREATE TABLE t (at timestamptz, d date, s text);
INSERT INTO t VALUES ('2024-01-01 00:00', '01/02/2024', 'é');
EOF
migs="$work/prisma/migrations"

# read NAME CONNECTION-ARGS...: the two tables as text, with a clean environment (PGPASSFILE aside)
read_db() {
  env -i PATH="$PATH" PGPASSFILE="$1" "$PSQL" -X -A -t -v ON_ERROR_STOP=1 -h "$2" -p "$3" -U migrator -d "$4" \
    -c "SELECT * FROM public.seen" -c "SELECT extract(epoch FROM at), d, octet_length(s) FROM public.t" 2>&1
}

# deploy_read VAR=VALUE...: rehearse deploy --keep under the variables; prints the tables, stops the cluster
deploy_read() {
  env "$@" "$bin" deploy --migrations-dir "$migs" --keep >"$work/out" 2>"$work/err"
  local rc=$?
  kept=$(sed -n 's/.*rehearse clusters --stop \([^`]*\)`.*/\1/p' "$work/err")
  [ -n "$kept" ] && rh_tie_cluster "$kept"
  if [ "$rc" != 0 ]; then
    echo "deploy exited $rc: $(grep -v '^rehearse: Prisma' "$work/err" | head -3)"
  else
    local line
    line=$(grep "^  PGPASSFILE='" "$work/err")
    read_db "$(sed -n "s/^  PGPASSFILE='\([^']*\)'.*/\1/p" <<<"$line")" "$(sed -n "s/.* -h '\([^']*\)'.*/\1/p" <<<"$line")" \
      "$(sed -n "s/.* -p \([0-9]*\) .*/\1/p" <<<"$line")" postgres
  fi
  [ -n "$kept" ] && "$bin" clusters --stop "$kept" >/dev/null 2>&1
  kept=
}

baseline=$(deploy_read REHEARSE_NO_CACHE=1)
expected='public|Etc/UTC|ISO, MDY|0|UTF8||on|f
1704067200.000000|2024-01-02|2'
[ "$baseline" = "$expected" ] || fail "baseline (no variable): expected
$expected
got
$baseline"

# a service file whose entry would set a statement_timeout and another schema
printf '[rehearse_env_test]\noptions=-c statement_timeout=1 -c search_path=elsewhere\n' >"$work/pg_service.conf"
for v in 'PGOPTIONS=-c statement_timeout=1' 'PGOPTIONS=-c search_path=elsewhere' 'PGTZ=Asia/Tokyo' \
  'PGDATESTYLE=SQL, DMY' 'PGCLIENTENCODING=LATIN1' 'PGAPPNAME=from-env' 'PGGEQO=off' \
  'PGTARGETSESSIONATTRS=read-only' 'PGCHANNELBINDING=require' 'PGSSLMINPROTOCOLVERSION=bogus' \
  'PGSERVICE=rehearse_env_test' 'PGSERVICE=no_such_service' 'PGHOSTADDR=127.0.0.1'; do
  got=$(deploy_read REHEARSE_NO_CACHE=1 PGSERVICEFILE="$work/pg_service.conf" "$v")
  [ "$got" = "$expected" ] || fail "$v reached rehearse's connections: expected
$expected
got
$got"
done

# a tool run by command is the user's own program: it gets the variables that name the throwaway database and
# none of the user's other PG* variables (docs/tools.md), so a rehearsal does not depend on the shell it ran in
got=$(env PGOPTIONS='-c statement_timeout=1' PGTZ=Asia/Tokyo PGSERVICE=rehearse_env_test PGAPPNAME=from-env \
  REHEARSE_NO_CACHE=1 "$bin" deploy --migrations-dir "$migs" --migrate-command 'env | grep "^PG" | cut -d= -f1 | sort | tr "\n" " "' 2>"$work/err")
[ "$got" = "PGDATABASE PGHOST PGPASSWORD PGPORT PGUSER " ] || fail "the command's PG* variables: $got $(cat "$work/err")"

# the real Prisma CLIs under the session variables their driver ignores: the same rows as rehearse's
mkdir -p "$work/none"
"$bin" status --migrations-dir "$work/none" --keep >/dev/null 2>"$work/keep.err"
kept=$(sed -n 's/.*rehearse clusters --stop \([^`]*\)`.*/\1/p' "$work/keep.err")
[ -n "$kept" ] && rh_tie_cluster "$kept"
line=$(grep "^  PGPASSFILE='" "$work/keep.err")
passfile=$(sed -n "s/^  PGPASSFILE='\([^']*\)'.*/\1/p" <<<"$line")
sock=$(sed -n "s/.* -h '\([^']*\)'.*/\1/p" <<<"$line")
port=$(sed -n "s/.* -p \([0-9]*\) .*/\1/p" <<<"$line")
url=$(grep '^  postgresql://' "$work/keep.err" | sed 's/^  //')
[ -n "$kept" ] && [ -n "$url" ] || { echo "FAIL: no kept cluster: $(cat "$work/keep.err")"; exit 1; }
mkdb() { env -i PATH="$PATH" PGPASSFILE="$passfile" "$PSQL" -X -q -h "$sock" -p "$port" -U migrator -d postgres -c "CREATE DATABASE $1"; }
session_vars=(PGTZ=Asia/Tokyo 'PGDATESTYLE=SQL, DMY' PGCLIENTENCODING=LATIN1 PGGEQO=off PGSERVICE=rehearse_env_test
  PGSERVICEFILE="$work/pg_service.conf")
for o in 6:"$oracle6" 7:"$oracle7"; do
  db=oracle${o%%:*}
  mkdb "$db"
  env "${session_vars[@]}" "${o#*:}" --url "${url/\/postgres\?//$db?}" --migrations "$migs" deploy >"$work/$db.out" 2>&1 ||
    fail "Prisma ${o%%:*} under ${session_vars[*]}: $(tail -3 "$work/$db.out")"
  got=$(read_db "$passfile" "$sock" "$port" "$db")
  # the oracles are node programs: their session names no application (as rehearse's)
  [ "$got" = "$expected" ] || fail "Prisma ${o%%:*} under the session variables: expected
$expected
got
$got"
done
# the oracle's driver (node-postgres) reads PGOPTIONS; the native engine (tokio-postgres) does not. Asserted so
# that the difference is known: were it gone, this project's oracle could check PGOPTIONS directly.
mkdb oracle_opts
env 'PGOPTIONS=-c statement_timeout=1' "$oracle6" --url "${url/\/postgres\?//oracle_opts?}" --migrations "$migs" deploy \
  >"$work/opts.out" 2>&1 && fail "the oracle's driver no longer takes PGOPTIONS: docs/cluster.md says it does"

[ "$failures" = 0 ] && echo "libpq environment: all checks passed" || { echo "$failures failure(s)"; exit 1; }
