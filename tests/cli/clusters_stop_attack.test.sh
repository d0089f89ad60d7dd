#!/usr/bin/env bash
# clusters_stop_attack.test.sh — issue 17.2 played through the command line: a kept cluster's
# postmaster.pid is rewritten by the server account (as a migration's COPY ... TO PROGRAM could)
# to name a root process; `rehearse clusters --stop all` must stop the real server, delete the
# cluster, and leave the root process alone. The account cannot rewrite rehearse's record either.
set -uo pipefail
: "${REHEARSE_BIN:?}"
if [ "$(id -u)" != 0 ]; then echo "skipped: the attack needs root and a server account"; exit 0; fi
work=$(mktemp -d /tmp/rh-stopatk.XXXXXX)
chmod 755 "$work"
export REHEARSE_RUN_DIR="$work/run"
victim=
cleanup() {
    [ -n "$victim" ] && kill -KILL "$victim" 2>/dev/null
    for p in $(pgrep -f -- "$work/" || true); do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
account=$(id -un postgres 2>/dev/null || echo nobody)

mkdir -p "$work/migs/20250101000000_init"
printf 'CREATE TABLE t (id int);\n' > "$work/migs/20250101000000_init/migration.sql"
"$REHEARSE_BIN" deploy --keep --migrations-dir "$work/migs" >/dev/null 2>&1 || fail "deploy --keep failed"
id=$(find "$work/run" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | head -1)
[ -n "$id" ] || fail "no kept cluster"
server=$(pgrep -f -- "postgres -D $work/run/$id/data" | head -1)
[ -n "$server" ] || fail "the kept server is not running"

sleep 1000 &
victim=$!
runuser -u "$account" -- sh -c "printf '%s\n' $victim > '$work/run/$id/data/postmaster.pid'" ||
    fail "the server account could not write postmaster.pid (the attack did not happen)"
runuser -u "$account" -- sh -c "echo 'owner $victim 1' > '$work/run/$id.owner'" 2>/dev/null &&
    fail "the server account rewrote rehearse's record $work/run/$id.owner"

"$REHEARSE_BIN" clusters --stop all || fail "clusters --stop all: exit $?"
kill -0 "$victim" 2>/dev/null || fail "the root process named in postmaster.pid was killed"
for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
kill -0 "$server" 2>/dev/null && fail "the real server $server still runs"
[ -z "$(ls -A "$work/run")" ] || fail "left in the run folder: $(ls -A "$work/run")"
echo "1 passed, 0 failed"
