#!/usr/bin/env bash
# lock_wait.test.sh — a scenario's deploy that gives up Prisma's advisory-lock wait at once, because an idle
# session of the scenario holds the lock and nothing can end it (runner/lockwait.c), says and does exactly what
# the real Prisma says and does after waiting its 10 s out: 6.19.3 (../shared/oracle) and 7.10.1
# (../shared/oracle7), each on a database where another connection holds the lock. Compared: the exit code,
# stdout + stderr (minus the lines engine.test.sh names DEV-PRELUDE and DEV-TRACE), and the ledger (none: the
# lock comes before Prisma creates it). rehearse's side is a scenario; its report must say the wait was not
# waited out (else this would compare nothing new). Its last step, `expect output lacks "P1002"`, fails on
# purpose: a failed `expect output` keeps the whole output in the report, which is what is compared.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${REHEARSE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
bin=${REHEARSE_BIN:?REHEARSE_BIN must point at the rehearse binary}
find_oracle() { # the shared reference next to the checkout, else the copy vendored here
  for c in "$src/../shared/$1/$2" "/work/shared/$1/$2" "$here/$1/$2"; do [ -x "$c" ] && { echo "$c"; return; }; done
}
o6=$(find_oracle oracle prisma-oracle); o7=$(find_oracle oracle7 prisma7-oracle)
[ -n "$o6" ] && [ -n "$o7" ] || { echo "FAIL: prisma-oracle or prisma7-oracle not found"; exit 1; }

work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
chmod 755 "$work"
export REHEARSE_RUN_DIR=$work/run
cluster_id=
. "$here/../lib/tied_cluster.sh"
rh_tie_folder "$work"
holders=()
cleanup() {
  [ ${#holders[@]} -gt 0 ] && kill "${holders[@]}" 2>/dev/null
  [ -n "$cluster_id" ] && "$bin" clusters --stop "$cluster_id" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "  FAIL: $*"; failures=$((failures + 1)); }

# the oracles' cluster: rehearse's own, kept until the end (as engine.test.sh does)
mkdir -p "$work/empty" "$work/m/20250101000000_a"
printf 'provider = "postgresql"\n' >"$work/m/migration_lock.toml"
printf 'CREATE TABLE a (id int);\n' >"$work/m/20250101000000_a/migration.sql"
"$bin" status --migrations-dir "$work/empty" --keep --superuser >/dev/null 2>"$work/keep.err"
cluster_id=$(sed -n 's/.*rehearse clusters --stop \([^`]*\)`.*/\1/p' "$work/keep.err")
sockdir=$(sed -n "s/^  PGPASSFILE='[^']*' psql -h '\([^']*\)' -p \([0-9]*\) .*/\1/p" "$work/keep.err")
port=$(sed -n "s/^  PGPASSFILE='[^']*' psql -h '\([^']*\)' -p \([0-9]*\) .*/\2/p" "$work/keep.err")
password=$(sed -n 's|^  postgresql://postgres:\([^@]*\)@.*|\1|p' "$work/keep.err")
export PGPASSFILE="$sockdir.pgpass"
rh_tie_cluster "$cluster_id"
[ -n "$cluster_id" ] && [ -n "$sockdir" ] && [ -n "$password" ] || { echo "FAIL: could not start a cluster:"; cat "$work/keep.err"; exit 1; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PSQL="$pgbin/psql"; [ -x "$PSQL" ] || PSQL=psql
url() { echo "postgresql://postgres:$password@localhost/$1?host=$sockdir&port=$port"; }
sql() { "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -h "$sockdir" -p "$port" -U postgres -d "$1" -c "$2"; }

# DEV-PRELUDE and DEV-TRACE (engine.test.sh), on stdout and stderr alike
norm() {
  grep -v -e '^Prisma schema loaded from ' -e '^Datasource "db": ' -e '^rehearse: ' -e '^Loaded Prisma config from' \
       -e '^Prisma config detected' -e '^   [0-9]*: ' -e '^           with ' -e '^             at ' | sed -e '/./,$!d'
}

# the oracles, both at once (each waits Prisma's 10 s out), each with a connection holding the lock
for v in 6.19.3 7.10.1; do
  db=lw_${v%%.*}
  sql postgres "CREATE DATABASE $db" >/dev/null || { echo "FAIL: CREATE DATABASE $db"; exit 1; }
  "$PSQL" -X -q -h "$sockdir" -p "$port" -U postgres -d "$db" \
    -c 'SELECT pg_advisory_lock(72707369)' -c 'SELECT pg_sleep(120)' >/dev/null 2>&1 &
  holders+=($!)
  for _ in $(seq 3000); do   # a guard against a hang (5 min), not a timing: the lock held ends the wait
    [ "$(sql "$db" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 72707369 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")" = 1 ] && break
    sleep 0.1
  done
done
pids=()
for v in 6.19.3 7.10.1; do
  o=$o6; [ "${v%%.*}" = 7 ] && o=$o7
  ( "$o" --url "$(url "lw_${v%%.*}")" --migrations "$work/m" deploy >"$work/o$v.out" 2>"$work/o$v.err"; echo $? >"$work/o$v.rc" ) &
  pids+=($!)
done
wait "${pids[@]}"
kill "${holders[@]}" 2>/dev/null; wait "${holders[@]}" 2>/dev/null; holders=()

for v in 6.19.3 7.10.1; do
  echo "prisma $v"
  orc=$(cat "$work/o$v.rc")
  [ "$orc" = 1 ] || fail "$v: the oracle exited $orc, not 1: $(cat "$work/o$v.err")"
  grep -q '^Error: P1002$' "$work/o$v.err" || fail "$v: the oracle did not give P1002: $(cat "$work/o$v.err")"
  [ -z "$(sql "lw_${v%%.*}" "SELECT to_regclass('_prisma_migrations')")" ] || fail "$v: the oracle's deploy left a ledger"
  printf '%s\n' "scenario \"lock held by an idle session: P1002, not waited out ($v)\"" 'migrations m' "prisma $v" \
    'session stuck "SELECT pg_advisory_lock(72707369)"' 'deploy => exit 1' 'expect table _prisma_migrations absent' \
    'expect output lacks "P1002"' >"$work/s$v.scenario"
  "$bin" run --no-color --format json --output "$work/r$v.json" "$work/s$v.scenario" >/dev/null 2>"$work/r$v.err"
  # the scenario fails at its last step only (on purpose), and the deploy did not wait
  got=$(jq -r '.scenarios[0] | "\(.status) \(.failure.line)"' "$work/r$v.json")
  [ "$got" = "fail 7" ] || fail "$v: the scenario should fail at line 7 only, got '$got': $(jq -c '.scenarios[0] | {message, steps: [.steps[] | {line, failed}]}' "$work/r$v.json")"
  [ "$(jq -r '.scenarios[0].steps[] | select(.line == 5) | .wait_note != null' "$work/r$v.json")" = true ] ||
    fail "$v: the deploy waited for real (no wait_note): nothing new compared"
  jq -j '.scenarios[0].failure.output' "$work/r$v.json" | norm >"$work/r$v.text"
  { norm <"$work/o$v.out"; norm <"$work/o$v.err"; } >"$work/o$v.text"
  diff "$work/o$v.text" "$work/r$v.text" >"$work/d$v" || { fail "$v: the output differs (< prisma, > rehearse):"; cat "$work/d$v"; }
done
[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok"
