#!/usr/bin/env bash
# watchdog_lost.test.sh — the watchdog is killed while deploy, check and bench cluster run (issue
# 17.6): the command must not die of SIGPIPE (exit 141) when it next tells the watchdog something;
# it finishes its output (Prisma's text, check's report), says on stderr (and in check's report)
# that the watchdog died, exits 2 instead of 0, and stops and deletes its clusters itself.
# Clusters go to a private REHEARSE_RUN_DIR so that other rehearse runs on the machine do not count.
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d /tmp/rh-wdl.XXXXXX)
chmod 755 "$work"
export REHEARSE_RUN_DIR="$work/run"
pass=0
cleanup() {
    for p in $(pgrep -f -- "$work/" || true); do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; ps -eo pid,ppid,args | grep -F -- "$work/" | grep -v grep >&2; ls -la "$work/run" >&2; exit 1; }

leftovers() {
    local n
    n=$(pgrep -f -- "$work/run/" | wc -l)
    n=$((n + $(find "$work/run" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)))
    echo "$n"
}
until_() { local t=$1; shift; while ! eval "$@"; do t=$((t - 1)); [ $t -gt 0 ] || return 1; sleep 0.1; done; }
guard=3000 # until_ bound, tenths of a second (5 min): a guard against a hang, not a timing; the condition ends the wait

# A backend of one of our servers runs a statement (the migrations' pg_sleep).
sleeping() {
    local pm
    for pm in $(pgrep -f -- "postgres -D $work/run/"); do
        pgrep -P "$pm" -f 'SELECT' >/dev/null && return 0
    done
    return 1
}
# Start "$@" in the background, kill its watchdog (the child named rehearse-watch) once `$when`
# holds, wait for the command; sets rc, and out/err files.
with_watchdog_killed() {
    local when=$1; shift
    "$@" >"$work/out.txt" 2>"$work/err.txt" &
    local pid=$! wd=
    until_ "$guard" "$when" || fail "$2: never got to where the watchdog is to be killed"
    wd=$(pgrep -P "$pid" -x rehearse-watch) || fail "$2: no watchdog"
    kill -KILL "$wd"
    wait "$pid"
    rc=$?
}

mkdir -p "$work/migs/20250101000000_init"
printf 'CREATE TABLE t (id int);\nSELECT pg_sleep(2);\n' > "$work/migs/20250101000000_init/migration.sql"

# deploy: Prisma's success text, then the lost watchdog as an error
with_watchdog_killed sleeping "$REHEARSE_BIN" deploy --migrations-dir "$work/migs"
[ $rc -ne 141 ] || fail "deploy died of SIGPIPE"
[ $rc -eq 2 ] || fail "deploy: exit $rc, expected 2: $(cat "$work/err.txt")"
grep -q "successfully applied" "$work/out.txt" || fail "deploy: no success text: $(cat "$work/out.txt")"
grep -q "watchdog process (pid [0-9]*) of this rehearse died" "$work/err.txt" || fail "deploy: stderr does not say the watchdog died: $(cat "$work/err.txt")"
until_ "$guard" '[ "$(leftovers)" -eq 0 ]' || fail "deploy: a server or cluster folder left behind"
pass=$((pass + 1))

# check: the report is complete and names the lost watchdog as an error finding
repo="$work/repo"
mkdir -p "$repo/prisma/migrations/20250101000000_init"
printf 'CREATE TABLE t (id int);\n' > "$repo/prisma/migrations/20250101000000_init/migration.sql"
git -C "$repo" init -q -b main
git -C "$repo" -c user.name=t -c user.email=t@t add -A
git -C "$repo" -c user.name=t -c user.email=t@t commit -qm base
mkdir -p "$repo/prisma/migrations/20250102000000_slow"
printf 'ALTER TABLE t ADD COLUMN x int;\nSELECT pg_sleep(2);\n' > "$repo/prisma/migrations/20250102000000_slow/migration.sql"
with_watchdog_killed sleeping "$REHEARSE_BIN" check --repo "$repo" --base main --no-color --no-locks --format json --output "$work/check.json"
[ $rc -ne 141 ] || fail "check died of SIGPIPE"
[ $rc -eq 1 ] || fail "check: exit $rc, expected 1 (an error finding): $(cat "$work/err.txt")"
grep -q '"cluster-cleanup"' "$work/check.json" || fail "check: the report has no cluster-cleanup finding: $(cat "$work/check.json")"
grep -q 'watchdog process' "$work/check.json" || fail "check: the report does not say the watchdog died"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/check.json" || fail "check: the JSON report does not parse"
grep -q "watchdog process" "$work/err.txt" || fail "check: stderr does not say the watchdog died: $(cat "$work/err.txt")"
until_ "$guard" '[ "$(leftovers)" -eq 0 ]' || fail "check: a server or cluster folder left behind"
pass=$((pass + 1))

# bench cluster: stops at the next cluster, with the reason, and leaves no server running
with_watchdog_killed 'pgrep -f -- "postgres -D $work/run/" >/dev/null' "$REHEARSE_BIN" bench cluster --runs 30
[ $rc -ne 141 ] || fail "bench died of SIGPIPE"
[ $rc -eq 2 ] || fail "bench: exit $rc, expected 2: $(cat "$work/err.txt")"
grep -q "watchdog process" "$work/err.txt" || fail "bench: stderr does not say the watchdog died: $(cat "$work/err.txt")"
until_ "$guard" '[ "$(leftovers)" -eq 0 ]' || fail "bench: a server or cluster folder left behind"
pass=$((pass + 1))

echo "$pass passed, 0 failed"
