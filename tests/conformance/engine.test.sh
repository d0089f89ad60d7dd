#!/usr/bin/env bash
# engine.test.sh — conformance of rehearse's migrate engine with the real Prisma CLI (6.19.3, or 7.10.1 when
# REHEARSE_CONFORMANCE_PRISMA=7.10.1: engine7.test.sh; rehearse then runs with --prisma-version 7.10.1).
#
# For every case, the same migrations folder is run by prisma-oracle (../shared/oracle) on one fresh
# database and by `rehearse deploy|status|resolve --database-url` on an identical one, step by step.
# After each step we compare: exit codes, the stable lines of stdout and stderr, the ledger rows
# (names, order, checksums, finished/rolled-back nullness, applied_steps_count, logs NULL/''/text)
# and the schema (pg_dump -s). The ONLY deviations allowed, each applied by a named filter below:
#   DEV-P3018      the oracle (WebAssembly engine + driver adapter) reports a failing script as
#                  "Error: external connector error" + the driver's message, where the native engine
#                  prints P3018 (Migration name / Database error code / Database error). We check
#                  that both name the same server message and that rehearse's frame is complete.
#   DEV-LOGS       a failed row's logs hold that same different text (both non-empty, both contain
#                  the server's message).
#   DEV-TIMESTAMP  the oracle's ledger timestamps have millisecond precision (P3009 lines).
#   DEV-APPLYING   the native engine prints "Applying migration `NAME`" per migration; the oracle's
#                  WebAssembly engine prints nothing there.
#   DEV-TRACE      the oracle appends its WebAssembly engine's span trace to errors without a code.
#   DEV-PRELUDE    the CLI's first lines (config file, schema path, datasource) depend on the set-up.
# Under 7.10.1 (../shared/oracle7: the real 7.10.1 CLI on its WebAssembly engine, the native engine's statement
# splitting emulated with the real sqlparser 0.61): DEV-P3018, DEV-LOGS and DEV-TIMESTAMP as above; the oracle
# prints "Applying migration" itself, so DEV-APPLYING does not apply and those lines are compared. Steps whose
# expected exit code differs between the versions give both: `step 1/0 deploy` (6.x: 1, 7.x: 0).
# The oracle must run: if npm cannot install it, this test fails (it does not skip).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${REHEARSE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
bin=${REHEARSE_BIN:?REHEARSE_BIN must point at the rehearse binary}
version=${REHEARSE_CONFORMANCE_PRISMA:-6.19.3}
major=${version%%.*}
oracle=${REHEARSE_ORACLE:-}
if [ -z "$oracle" ]; then
  # the shared reference next to the checkout, else the copy vendored here (so CI needs only node + npm)
  if [ "$major" = 7 ]; then
    cands=("$src/../shared/oracle7/prisma7-oracle" "/work/shared/oracle7/prisma7-oracle" "$here/oracle7/prisma7-oracle")
  else
    cands=("$src/../shared/oracle/prisma-oracle" "/work/shared/oracle/prisma-oracle" "$here/oracle/prisma-oracle")
  fi
  for c in "${cands[@]}"; do
    [ -x "$c" ] && { oracle=$c; break; }
  done
fi
[ -n "$oracle" ] && [ -x "$oracle" ] || { echo "FAIL: prisma-oracle not found (set REHEARSE_ORACLE)"; exit 1; }

work=$(mktemp -d)
cluster_id=
. "$here/../lib/tied_cluster.sh" # the kept cluster goes with this script, killed by ctest's limit too
cleanup() {
  [ -n "$cluster_id" ] && "$bin" clusters --stop "$cluster_id" >/dev/null 2>&1
  if [ -n "${KEEP_WORK:-}" ]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# ---- one throwaway cluster for the whole test (rehearse's own cluster module, kept until the end)
mkdir -p "$work/empty"
# (as the superuser: the comparisons below create and drop databases and read every catalog)
"$bin" status --migrations-dir "$work/empty" --keep --superuser >/dev/null 2>"$work/keep.err"
cluster_id=$(sed -n 's/.*rehearse clusters --stop \([^`]*\)`.*/\1/p' "$work/keep.err")
sockdir=$(sed -n "s/^  PGPASSFILE='[^']*' psql -h '\([^']*\)' -p \([0-9]*\) .*/\1/p" "$work/keep.err")
port=$(sed -n "s/^  PGPASSFILE='[^']*' psql -h '\([^']*\)' -p \([0-9]*\) .*/\2/p" "$work/keep.err")
# the cluster's own password: in the printed URL (for Prisma) and in its pgpass file (for psql)
password=$(sed -n 's|^  postgresql://postgres:\([^@]*\)@.*|\1|p' "$work/keep.err")
export PGPASSFILE="$sockdir.pgpass"
rh_tie_cluster "$cluster_id"
[ -n "$cluster_id" ] && [ -n "$sockdir" ] && [ -n "$password" ] || { echo "FAIL: could not start a cluster:"; cat "$work/keep.err"; exit 1; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PSQL="$pgbin/psql"; [ -x "$PSQL" ] || PSQL=psql
PGDUMP="$pgbin/pg_dump"; [ -x "$PGDUMP" ] || PGDUMP=pg_dump
url() { echo "postgresql://postgres:$password@localhost/$1?host=$sockdir&port=$port"; }
sql() { "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -h "$sockdir" -p "$port" -U postgres -d "$1" -c "$2"; }

# ---- make sure the oracle is installed (npm ci on first use); a failure here fails the test
if ! "$oracle" --help >/dev/null 2>&1; then echo "FAIL: prisma-oracle --help failed"; exit 1; fi
sql postgres "CREATE DATABASE oracle_warmup" >/dev/null
if ! "$oracle" --url "$(url oracle_warmup)" --migrations "$work/empty" status >"$work/warm.out" 2>&1; then
  if ! grep -q "not managed by Prisma Migrate" "$work/warm.out"; then
    echo "FAIL: prisma-oracle does not run (npm install of its pinned packages failed?):"; cat "$work/warm.out"; exit 1
  fi
fi

failures=0
fail() { echo "  FAIL [$case/$stepno]: $*"; failures=$((failures + 1)); }

# normalisation of outputs (the named deviations)
norm_stdout() {  # DEV-PRELUDE, DEV-APPLYING (6.x only)
  if [ "$major" = 7 ]; then
    grep -v -e '^Prisma schema loaded from ' -e '^Datasource "db": ' -e '^rehearse: '
  else
    grep -v -e '^Prisma schema loaded from ' -e '^Datasource "db": ' -e '^Applying migration `' -e '^rehearse: '
  fi
}
norm_stderr() {  # DEV-PRELUDE, DEV-TIMESTAMP, DEV-TRACE (and the empty line after the trace)
  awk 'NR==1 && /^Loaded Prisma config from/ {cfg=1; next} cfg && NR<=3 && (/^$/ || /^Prisma config detected/) {next}
       trace && /^$/ {trace=0; next} {trace=/^             at /; print}' |
    grep -v -e '^rehearse: ' -e '^Prisma schema loaded from ' -e '^   [0-9]*: ' -e '^           with ' -e '^             at ' |
    sed -E 's/ migration started at [0-9-]+ [0-9:.]+ UTC failed/ migration started at <T> UTC failed/'
}
ledger() {
  sql "$1" "SELECT migration_name, checksum, CASE WHEN finished_at IS NULL THEN 'unfinished' ELSE 'finished' END,
                   CASE WHEN rolled_back_at IS NULL THEN '-' ELSE 'rolled-back' END, applied_steps_count,
                   CASE WHEN logs IS NULL THEN 'logs:NULL' WHEN logs = '' THEN 'logs:empty' ELSE 'logs:text' END
              FROM _prisma_migrations ORDER BY started_at, migration_name" 2>/dev/null || echo "(no ledger)"
}
schema() { "$PGDUMP" -s -h "$sockdir" -p "$port" -U postgres "$1" | grep -v -e '^--' -e '^$' -e '^SET ' -e '^SELECT pg_catalog.set_config' -e '^\\restrict ' -e '^\\unrestrict '; }

# new_case NAME: two identical fresh databases NAME_o (oracle) and NAME_r (rehearse), a folder
new_case() {
  case=$1; stepno=0
  sql postgres "CREATE DATABASE ${case}_o" >/dev/null && sql postgres "CREATE DATABASE ${case}_r" >/dev/null
  dir="$work/$case"; mkdir -p "$dir"
  echo "case $case"
}
both_sql() { sql "${case}_o" "$1" >/dev/null; sql "${case}_r" "$1" >/dev/null; }
mig() { mkdir -p "$dir/$1"; printf '%s' "$2" >"$dir/$1/migration.sql"; }

# step EXPECTED_RC ARGS...: run both, compare everything; ARGS are prisma's (deploy | status | resolve ...)
step() {
  local want=$1; shift
  case "$want" in */*) if [ "$major" = 7 ]; then want=${want#*/}; else want=${want%/*}; fi ;; esac
  stepno=$((stepno + 1))
  local o="$work/$case.$stepno"
  "$oracle" --url "$(url "${case}_o")" --migrations "$dir" "$@" >"$o.oout" 2>"$o.oerr"; local orc=$?
  "$bin" "$@" --prisma-version "$version" --database-url "$(url "${case}_r")" --migrations-dir "$dir" >"$o.rout" 2>"$o.rerr"; local rrc=$?
  [ "$orc" = "$want" ] || fail "$* : oracle exited $orc, the case expects $want: $(cat "$o.oerr")"
  [ "$rrc" = "$orc" ] || fail "$* : rehearse exited $rrc, prisma $orc: $(cat "$o.rerr")"
  if ! diff <(norm_stdout <"$o.oout") <(norm_stdout <"$o.rout") >"$o.d1"; then
    fail "$* : stdout differs (< prisma, > rehearse):"; cat "$o.d1"
  fi
  if grep -q '^Error: external connector error' "$o.oerr"; then
    # DEV-P3018: same server message, complete P3018 frame on rehearse's side
    local dbmsg; dbmsg=$(sed -n 's/^Error querying the database: //p' "$o.oerr" | head -1)
    grep -qF "$dbmsg" "$o.rerr" || fail "$* : rehearse's error does not name the server's message '$dbmsg'"
    for l in '^Error: P3018$' '^Migration name: ' '^Database error code: ' '^Database error:$'; do
      grep -q "$l" "$o.rerr" || fail "$* : rehearse's P3018 frame lacks $l"
    done
  elif ! diff <(norm_stderr <"$o.oerr") <(norm_stderr <"$o.rerr") >"$o.d2"; then
    fail "$* : stderr differs (< prisma, > rehearse):"; cat "$o.d2"
  fi
  if ! diff <(ledger "${case}_o") <(ledger "${case}_r") >"$o.d3"; then
    fail "$* : ledger differs (< prisma, > rehearse):"; cat "$o.d3"
  fi
  # DEV-LOGS: failed rows' logs name the same server message on both sides
  local ol rl
  ol=$(sql "${case}_o" "SELECT count(*) FROM _prisma_migrations WHERE logs <> ''" 2>/dev/null || echo 0)
  rl=$(sql "${case}_r" "SELECT count(*) FROM _prisma_migrations WHERE logs LIKE '%Migration name: %' AND logs LIKE '%Database error code: %'" 2>/dev/null || echo 0)
  [ "$ol" = "$rl" ] || fail "$* : $ol failed rows with logs at prisma, $rl complete P3018 logs at rehearse"
  if ! diff <(schema "${case}_o") <(schema "${case}_r") >"$o.d4"; then
    fail "$* : schema differs (< prisma, > rehearse):"; head -40 "$o.d4"
  fi
}

lock='# Please do not edit this file manually
# It should be added in your version-control system (e.g., Git)
provider = "postgresql"
'

# ---------------------------------------------------------------------------------------------------
new_case clean
printf '%s' "$lock" >"$dir/migration_lock.toml"
mig 20250101000000_init 'CREATE TABLE "User" (id SERIAL PRIMARY KEY, email TEXT NOT NULL);
CREATE UNIQUE INDEX "User_email_key" ON "User"(email);'
mig 20250102000000_post 'CREATE TABLE "Post" (id SERIAL PRIMARY KEY, "authorId" INT NOT NULL REFERENCES "User"(id));'
mig 20250103000000_empty ''
step 1 status                                   # no ledger, migrations on disk: database behind
step 0 deploy
step 0 deploy                                   # nothing pending
step 0 status                                   # up to date
mig 20250104000000_more 'ALTER TABLE "User" ADD COLUMN name TEXT;'
step 1 status                                   # behind by one
step 0 deploy                                   # redeploy with a new migration

new_case cic_multi                              # prisma/orm #14456: CONCURRENTLY in a multi-statement file
mig 20250101000000_a 'CREATE TABLE w (id INT, party INT);'
mig 20250102000000_cic 'SET lock_timeout = '"'"'5s'"'"';
CREATE INDEX CONCURRENTLY w_party_idx ON w (party);'
mig 20250103000000_c 'CREATE TABLE later (id INT);'
step 1/0 deploy                                 # 6.x: 25001, nothing of the file stays; 7.x: split, applies
step 1/0 status                                 # failed / up to date
step 1/0 deploy                                 # P3009 / nothing pending
step 1 resolve --applied 20250101000000_a       # P3008 on a finished row
step 1 resolve --rolled-back 20250101000000_a   # P3012 on a finished row
step 1 resolve --rolled-back 20250109000000_nope # P3011: never applied
step 0/1 resolve --rolled-back 20250102000000_cic # the failed row / 7.x: P3012, it is finished
step 0/1 resolve --rolled-back 20250102000000_cic # again: Prisma marks unfinished rows, rolled back or not
step 1/0 status                                 # rolled back and nothing else: what does status say?
mig 20250102000000_cic 'CREATE INDEX CONCURRENTLY w_party_idx ON w (party);'
step 0 deploy                                   # redeploy after the fix: a second row for the name
step 0 status

new_case cic_lone                               # a file whose only statement is CONCURRENTLY succeeds
mig 20250101000000_a 'CREATE TABLE w (id INT);'
mig 20250102000000_cic 'CREATE INDEX CONCURRENTLY w_id_idx ON w (id);'
step 0 deploy

# Where 6.19.3 and 7.10.1 differ (issue 11.1): 7.x sends a file statement by statement when sqlparser 0.61
# parses all of it (autocommit: a failure in the middle leaves the earlier statements), else whole.
new_case split_cic                              # ADD COLUMN + CREATE INDEX CONCURRENTLY in one file
mig 20250101000000_a 'CREATE TABLE w (id INT);'
mig 20250102000000_b 'ALTER TABLE w ADD COLUMN party INT;
CREATE INDEX CONCURRENTLY w_party_idx ON w (party);'
step 1/0 deploy                                 # 6.x: 25001, nothing stays; 7.x: applies
step 1/0 status

new_case split_partial                          # a failure in the middle of a multi-statement file
mig 20250101000000_a 'CREATE TABLE t (id INT);
ALTER TABLE t ADD COLUMN x INT;
INSERT INTO t VALUES (1, 1), (1/0, 2);
ALTER TABLE t ADD COLUMN y INT;'
mig 20250102000000_b 'CREATE TABLE later (id INT);'
step 1 deploy                                   # 6.x: nothing of a stays; 7.x: t with x stays (partial), failed row
step 1 deploy                                   # P3009
step 1 status                                   # failed
step 0 resolve --rolled-back 20250101000000_a
step 1 status                                   # 7.x lists a among the migrations not yet applied, 6.x does not
mig 20250101000000_a 'CREATE TABLE IF NOT EXISTS t (id INT);
ALTER TABLE t ADD COLUMN IF NOT EXISTS x INT;
ALTER TABLE t ADD COLUMN IF NOT EXISTS y INT;'
step 0 deploy                                   # the fixed file, then b
step 0 status

new_case split_do                               # a DO block: sqlparser rejects the file, 7.x sends it whole
mig 20250101000000_a 'CREATE TABLE t (id INT);
DO $$ BEGIN PERFORM 1; END $$;
SELECT 1/0;'
step 1 deploy                                   # nothing stays under both

new_case partial                                # BEGIN; ... COMMIT; then a failing statement
mig 20250101000000_a 'BEGIN;
CREATE TABLE kept (id INT);
COMMIT;
CREATE TABLE lost (id INT);
SELECT 1/0;'
mig 20250102000000_b 'CREATE TABLE never (id INT);'
step 1 deploy
step 0 resolve --applied 20250101000000_a       # hotfix recorded: failed row rolled back + new row
step 0 deploy                                   # continues with b
step 0 status

# A file's own BEGIN/COMMIT and a failing statement (issue 10.1, 10.12). After a statement fails
# inside the file's block the session is in an aborted transaction block; Prisma still reports the
# statement's own SQLSTATE and writes the failure into logs (not 25P02, not logs NULL).
new_case txn_inside                             # fails inside BEGIN ... COMMIT
mig 20250101000000_a 'CREATE TYPE "Status" AS ENUM ('"'"'open'"'"', '"'"'done'"'"');'
mig 20250102000000_b 'BEGIN;
ALTER TYPE "Status" ADD VALUE '"'"'done'"'"';
COMMIT;'
mig 20250103000000_c 'CREATE TABLE c (id INT);'
step 1 deploy                                   # P3018 with 42710, logs written
step 1 status                                   # failed
step 0 resolve --rolled-back 20250102000000_b
mig 20250102000000_b 'BEGIN;
ALTER TYPE "Status" ADD VALUE IF NOT EXISTS '"'"'done'"'"';
COMMIT;'
step 0 deploy                                   # the fix, then c
step 0 status

new_case txn_before                             # fails before the block: nothing of the file stays
mig 20250101000000_a 'CREATE TABLE pre (id INT);
INSERT INTO missing VALUES (1);
BEGIN;
CREATE TABLE inside (id INT);
COMMIT;'
step 1 deploy
step 1 deploy                                   # P3009

new_case txn_joined                             # statements before BEGIN join its block: all undone
mig 20250101000000_a 'CREATE TABLE pre (id INT);
BEGIN;
CREATE TABLE inside (id INT);
SELECT 1/0;
COMMIT;'
step 1 deploy

new_case txn_after                              # fails after COMMIT: pre and inside stay (partial)
mig 20250101000000_a 'CREATE TABLE pre (id INT);
BEGIN;
CREATE TABLE inside (id INT);
COMMIT;
CREATE TABLE post (id INT);
SELECT 1/0;'
step 1 deploy

new_case txn_two_blocks                         # the first block commits, the second fails inside
mig 20250101000000_a 'BEGIN;
CREATE TABLE one (id INT);
COMMIT;
BEGIN;
CREATE TABLE two (id INT);
SELECT 1/0;
COMMIT;'
mig 20250102000000_b 'CREATE TABLE b (id INT);'
step 1 deploy
step 0 resolve --applied 20250101000000_a
step 0 deploy

new_case txn_unterminated                       # BEGIN with no COMMIT: "applied", then rolled back
mig 20250101000000_a 'CREATE TABLE a (id INT);'
mig 20250102000000_b 'BEGIN;
CREATE TABLE b (id INT);'
step 0 deploy                                   # exit 0, yet b's row stays unfinished, table b gone
step 1 deploy                                   # P3009 on the next deploy

new_case p3005
both_sql 'CREATE TABLE existing (id INT)'
mig 20250101000000_a 'CREATE TABLE a (id INT);'
step 1 status                                   # no ledger, non-empty database
step 1 deploy                                   # P3005
step 0 resolve --applied 20250101000000_a       # baseline: creates the ledger without the check
step 0 deploy

new_case notp3005                               # only types, views, sequences, other schemas: not P3005
both_sql 'CREATE TYPE mood AS ENUM ('"'"'ok'"'"'); CREATE VIEW v AS SELECT 1 AS x; CREATE SEQUENCE s; CREATE SCHEMA other; CREATE TABLE other.t (id INT)'
mig 20250101000000_a 'CREATE TABLE a (id INT);'
step 0 deploy

new_case p3015
mig 20250101000000_a 'CREATE TABLE a (id INT);'
mkdir -p "$dir/20250102000000_nofile"
mig 20250103000000_c 'CREATE TABLE c (id INT);'
step 1 deploy                                   # a applied, then P3015
step 1 resolve --applied 20250102000000_nofile  # P3017: no migration.sql
step 1 resolve --applied 20250109000000_nope    # P3017: no folder
step 1 status

new_case nul_byte                               # a NUL byte in a file: the server refuses the whole message
mig 20250101000000_a 'CREATE TABLE a (id INT);'
mkdir -p "$dir/20250102000000_nul"
printf 'CREATE TABLE b (id INT);\n\000DROP TABLE a;\n' >"$dir/20250102000000_nul/migration.sql"
mig 20250103000000_c 'CREATE TABLE c (id INT);'
step 1 deploy                                   # a applied; the NUL file fails (08P01), nothing of it runs
step 1 status

new_case resolve_fresh                          # resolve on a database without a ledger
mig 20250101000000_a 'CREATE TABLE a (id INT);'
mig 20250102000000_b 'CREATE TABLE b (id INT);'
step 1 resolve --rolled-back 20250101000000_a   # the missing-table text
step 0 resolve --applied 20250102000000_b       # creates the ledger
step 1 status                                   # a is behind
step 0 deploy                                   # applies a only

new_case diverge
mig 20250101000000_a 'CREATE TABLE a (id INT);'
mig 20250102000000_b 'CREATE TABLE b (id INT);'
step 0 deploy
rm -rf "$dir/20250102000000_b"
step 0 status                                   # folder behind: still "up to date" for Prisma
mig 20250103000000_c 'CREATE TABLE c (id INT);'
step 1 status                                   # histories diverge
rm -rf "$dir"/2025*
step 0 status                                   # no migrations, ledger not empty: folder behind, 'up to date'
step 0 deploy

new_case nomigrations
step 1 status                                   # not managed by Prisma Migrate
step 0 deploy                                   # creates the ledger, nothing to apply
step 0 status

new_case provider
printf 'provider = "mysql"\n' >"$dir/migration_lock.toml"
mig 20250101000000_a 'CREATE TABLE a (id INT);'
step 1 deploy                                   # P3019
step 1 resolve --applied 20250101000000_a       # P3019
printf 'provider = "postgres"\n' >"$dir/migration_lock.toml"
step 1 deploy                                   # the alias is not accepted either

new_case order                                  # the folder-order table (Prisma >= 6.6: ICU collation)
for n in 20251225061321_y 20251225_step6_x 20251225-dash 20251225.dot 2025122506_Upper 20251225061321_Y \
         20251225061321a 20251225061321_ .hidden _underscore 20251225061321__double; do
  mig "$n" "CREATE TABLE \"t_$n\" (id INT);"
done
step 0 deploy                                   # the ledger's started_at order is the applied order
step 0 status

new_case advisory_lock                          # another deploy holds the lock: P1002 after Prisma's 10 s
mig 20250101000000_a 'CREATE TABLE a (id INT);'
holders=()
for db in "${case}_o" "${case}_r"; do
  "$PSQL" -X -q -h "$sockdir" -p "$port" -U postgres -d "$db" \
    -c 'SELECT pg_advisory_lock(72707369)' -c 'SELECT pg_sleep(60)' >/dev/null 2>&1 &
  holders+=($!)
done
for db in "${case}_o" "${case}_r"; do   # wait until both sessions hold it
  for _ in $(seq 3000); do   # a guard against a hang (5 min), not a timing: the lock held ends the wait
    [ "$(sql "$db" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 72707369 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")" = 1 ] && break
    sleep 0.1
  done
done
step 1 deploy                                   # P1002, no ledger created
kill "${holders[@]}" 2>/dev/null; wait "${holders[@]}" 2>/dev/null
sql postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN ('${case}_o', '${case}_r') AND pid <> pg_backend_pid()" >/dev/null
step 0 deploy                                   # the lock is free again

new_case edited                                 # rehearse's finding: edited after apply (Prisma: silent)
mig 20250101000000_a 'CREATE TABLE a (id INT);'
step 0 deploy
mig 20250101000000_a 'CREATE TABLE a (id BIGINT);'
step 0 status
grep -q '^rehearse: edited-after-apply: 20250101000000_a: ' "$work/$case.$stepno.rerr" \
  || fail "status did not report the edited migration: $(cat "$work/$case.$stepno.rerr")"

# ---------------------------------------------------------------------------------------------------
# What the history findings (harness/source/history.c) claim Prisma does, one case per claim: a
# folder as revision A deployed, then changed to revision B (issue 10.3).
oracle_says() {  # oracle_says STREAM TEXT: the last step's oracle output (out|err) holds TEXT
  grep -qF -- "$2" "$work/$case.$stepno.o$1" || fail "prisma did not say '$2' (the finding claims it): $(cat "$work/$case.$stepno.o$1")"
}

new_case claim_removed                          # `removed`: a ledger row with no folder
mig 20250101000000_a 'CREATE TABLE a (id INT);'
mig 20250102000000_b 'CREATE TABLE b (id INT);'
step 0 deploy
rm -rf "$dir/20250102000000_b"
step 0 status                                   # up to date, exit 0 (not "diverged")
oracle_says out 'Database schema is up to date!'
step 0 deploy                                   # ignores the row
oracle_says out 'No pending migrations to apply.'
mig 20250103000000_c 'CREATE TABLE c (id INT);'
step 1 status                                   # with a new migration pending: diverged, exit 1
oracle_says err 'Your local migration history and the migrations table from your database are different'
step 0 deploy
step 0 status                                   # up to date again
oracle_says out 'Database schema is up to date!'

new_case claim_renamed                          # `renamed`: the same SQL under a new name runs again
mig 20250101000000_a 'CREATE TABLE a (id INT);'
mig 20250102000000_b 'CREATE TABLE b (id INT);'
step 0 deploy
mv "$dir/20250102000000_b" "$dir/20250102000001_b_renamed"
step 1 status                                   # diverged until deployed
oracle_says err 'Your local migration history and the migrations table from your database are different'
step 1 deploy                                   # applies the same SQL again: 42P07
oracle_says err 'relation "b" already exists'

new_case claim_edited                           # `edited`: deploy never runs the new version, status silent
mig 20250101000000_a 'CREATE TABLE a (id INT);'
step 0 deploy
mig 20250101000000_a 'CREATE TABLE a (id BIGINT);'
step 0 deploy
oracle_says out 'No pending migrations to apply.'
step 0 status
oracle_says out 'Database schema is up to date!'

new_case claim_crlf                             # `edited` in line endings only: nothing said
mig 20250101000000_a 'CREATE TABLE a (id INT);
CREATE TABLE b (id INT);
'
step 0 deploy
printf 'CREATE TABLE a (id INT);\r\nCREATE TABLE b (id INT);\r\n' >"$dir/20250101000000_a/migration.sql"
step 0 status
oracle_says out 'Database schema is up to date!'
step 0 deploy
oracle_says out 'No pending migrations to apply.'

new_case claim_nosql_added                      # migration.sql added to a folder that had none
mig 20250101000000_a 'CREATE TABLE a (id INT);'
mkdir -p "$dir/20250102000000_b"
mig 20250103000000_c 'CREATE TABLE c (id INT);'
step 1 deploy                                   # A: P3015 at b, no row for it (a stays)
oracle_says err 'P3015'
mig 20250102000000_b 'CREATE TABLE b (id INT);'
step 0 deploy                                   # B: b runs as pending, then c

new_case claim_out_of_order                     # `out-of-order`: applied after the last one, no objection
mig 20250101000000_a 'CREATE TABLE a (id INT);'
mig 20250103000000_c 'CREATE TABLE c (id INT);'
step 0 deploy
mig 20250102000000_b 'CREATE TABLE b (id INT);'
step 1 status                                   # b not yet applied
oracle_says out '20250102000000_b'
step 0 deploy                                   # applied after c, exit 0
oracle_says out 'All migrations have been successfully applied.'

# Production's recovery after a failed deploy, as `rehearse check` follows it (issue 10.4): the fixed
# migration is edited in place (cic_multi above), replaced by another, or still broken; a folder
# without migration.sql (P3015, no ledger row) gets its file (claim_nosql_added above) or is deleted.
new_case recover_replaced
mig 20250101000000_a 'CREATE TABLE a (id INT);'
mig 20250102000000_x 'CREATE TABLE x (id INTEGR);'
mig 20250103000000_b 'CREATE TABLE b (id INT);'
step 1 deploy                                   # P3018 at x: a failed row
rm -rf "$dir/20250102000000_x"
mig 20250104000000_y 'CREATE TABLE x (id INT);'
step 1 deploy                                   # P3009 even though x's folder is gone
step 0 resolve --rolled-back 20250102000000_x   # accepted with the folder gone
step 0 deploy                                   # b and y; x's row stays, rolled back
step 0 status                                   # up to date: a rolled-back row without a folder is ignored
oracle_says out 'Database schema is up to date!'

new_case recover_p3015_gone
mig 20250101000000_a 'CREATE TABLE a (id INT);'
mkdir -p "$dir/20250102000000_x"
step 1 deploy
rm -rf "$dir/20250102000000_x"
mig 20250103000000_b 'CREATE TABLE b (id INT);'
step 0 deploy
step 0 status

new_case recover_unchanged
mig 20250101000000_a 'CREATE TABLE a (id INT);'
mig 20250102000000_x 'CREATE TABLE x (id INTEGR);'
step 1 deploy
step 0 resolve --rolled-back 20250102000000_x
step 1 deploy                                   # the same file fails again: a second failed row
step 1 deploy                                   # P3009

echo
if [ "$failures" -gt 0 ]; then echo "$failures conformance failure(s)"; exit 1; fi
echo "all conformance cases agree with Prisma $version"
