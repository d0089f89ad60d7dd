#!/usr/bin/env bash
# interrupt.test.sh — a `rehearse run -j2` interrupted mid-run leaves nothing behind: killed with
# SIGKILL, SIGINT or SIGTERM (the runner alone), or Ctrl-C (SIGINT to the whole process group), no
# worker, no postgres server and no cluster folder of it remains, and (but for SIGKILL) the report
# is written, every scenario in it, the cut-short ones saying so; nor of a `rehearse deploy` killed
# while its cluster starts, nor of `bench cluster`'s initdb + pg_ctl round; a hanging scenario hits its time limit and its cluster goes too.
# Clusters go to a private REHEARSE_RUN_DIR so that other rehearse runs on the machine do not count,
# on /dev/shm when it is there, as rehearse's own default run folder is (a cluster starts faster there, so
# the kills land in other moments of its start: the one between the server's fork and exec is covered).
set -uo pipefail
: "${REHEARSE_BIN:?}"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then work=$(mktemp -d /dev/shm/rh-int.XXXXXX); else work=$(mktemp -d /tmp/rh-int.XXXXXX); fi
chmod 755 "$work"
export REHEARSE_RUN_DIR="$work/run"
pass=0
cleanup() {
    # last resort, for a failing run: nothing of this test may outlive it
    for p in $(pgrep -f -- "$work/" || true); do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; ps -eo pid,ppid,args | grep -F -- "$work/" | grep -v grep >&2; ls -la "$work/run" >&2; exit 1; }

mkdir -p "$work/migs/20250101000000_init" "$work/scn"
printf 'CREATE TABLE t (id int);\n' > "$work/migs/20250101000000_init/migration.sql"
cp -r "$work/migs" "$work/scn/migs"   # a scenario reads only inside its folder (issue 17.4)
for i in 1 2 3 4; do
    # a DO block: its backend's process title ends in " DO" (no step before it sends one), so the test
    # sees when a worker is inside its sleep
    printf 'migrations migs\ndeploy\nsql "DO $$ BEGIN PERFORM pg_sleep(60); END $$"\n' > "$work/scn/s$i.scenario"
done

servers() { pgrep -f -- "postgres -D $work/run/" | wc -l; }
# backends of our servers inside the scenarios' sleep (their process title ends in " DO")
sleeping() {
    local n=0 p
    for p in $(pgrep -f -- "postgres -D $work/run/"); do n=$((n + $(pgrep -P "$p" -f -- ' DO$' | wc -l))); done
    echo "$n"
}
leftovers() {
    local n
    n=$(pgrep -f -- "$work/" | wc -l)
    n=$((n + $(find "$work/run" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)))
    echo "$n"
}
# wait until the condition (a shell command) holds, up to $1 tenths of a second
until_() { local t=$1; shift; while ! eval "$@"; do t=$((t - 1)); [ $t -gt 0 ] || return 1; sleep 0.1; done; }
guard=3000 # until_ bound, tenths of a second (5 min): a guard against a hang, not a timing; the condition ends the wait

# how: KILL, INT, TERM (to the runner alone) or GROUP-INT (Ctrl-C: the whole process group)
interrupt() {
    local how=$1
    rm -f "$work/r.tap"
    setsid "$REHEARSE_BIN" run -j2 --no-color --allow-path "$work/migs" --format tap --output "$work/r.tap" "$work/scn" >"$work/out.txt" 2>&1 &
    local pid=$!
    until_ "$guard" '[ "$(sleeping)" -ge 2 ]' || fail "$how: the two workers never got to their sleep"
    if [ "$how" = GROUP-INT ]; then kill -INT -- "-$pid"; else kill "-$how" "$pid"; fi
    wait "$pid" 2>/dev/null
    local rc=$?
    until_ "$guard" '[ "$(leftovers)" -eq 0 ]' || fail "$how: workers, servers or cluster folders left behind"
    if [ "$how" = KILL ]; then
        [ $rc -eq 137 ] || fail "KILL: exit $rc"
    else
        # nothing is lost: the report accounts for every scenario, and the run ends by the signal
        local want=130
        [ "$how" = TERM ] && want=143
        [ $rc -eq $want ] || fail "$how: exit $rc, expected $want: $(cat "$work/out.txt")"
        grep -q '^1\.\.4$' "$work/r.tap" || fail "$how: the TAP report does not list the 4 scenarios: $(cat "$work/r.tap")"
        [ "$(grep -c 'interrupted (' "$work/r.tap")" -eq 4 ] ||
            fail "$how: every scenario should say it was interrupted or not run: $(cat "$work/r.tap")"
        grep -q 'in this step' "$work/r.tap" || fail "$how: the running ones do not name their step"
        grep -q 'interrupted' "$work/out.txt" || fail "$how: nothing on stderr says the run was interrupted"
    fi
    pass=$((pass + 1))
}
interrupt KILL
interrupt INT
interrupt TERM
interrupt GROUP-INT

# SIGKILL at any moment of a cluster's start (the template copy takes a while on a disk): the
# cluster folder is known to the watchdog before it exists, so none is left for the next run to reap
for d in 0.02 0.05 0.1 0.15 0.2 0.3; do
    "$REHEARSE_BIN" deploy --migrations-dir "$work/migs" >/dev/null 2>&1 &
    pid=$!
    sleep "$d"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    until_ "$guard" '[ "$(leftovers)" -eq 0 ]' || fail "deploy killed after ${d}s: a cluster folder or server left behind"
done
pass=$((pass + 1))

# `bench cluster` killed during its initdb + pg_ctl round: that folder (and server) goes too
"$REHEARSE_BIN" bench cluster --runs 1 >/dev/null 2>&1 &
pid=$!
sleep 0.35
kill -KILL "$pid"
wait "$pid" 2>/dev/null
until_ "$guard" '[ "$(leftovers)" -eq 0 ]' || fail "bench cluster killed: a folder or server left behind"
# and such a folder of a dead process is reaped, as cluster folders are
true & dead=$!
wait "$dead"
mkdir -p "$work/run/bench-naive-$dead-abcdef/data"
"$REHEARSE_BIN" clusters --reap >/dev/null || fail "clusters --reap: exit $?"
[ ! -e "$work/run/bench-naive-$dead-abcdef" ] || fail "a dead bench's naive cluster folder is not reaped"
pass=$((pass + 1))

# a hanging scenario: its time limit, reported with the step, and its cluster is gone. The hanging
# step comes first, with a limit far above a cluster start on a loaded machine: which step the limit
# lands in must not depend on how fast the machine is (a deploy before it once took longer than 3 s).
printf 'migrations migs\ntimeout 10s\nsql "select pg_sleep(600)"\n' > "$work/hang.scenario"
out=$("$REHEARSE_BIN" run --no-color "$work/hang.scenario" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "a hanging scenario: exit $rc, expected 2: $out"
grep -q "TIMEOUT" <<<"$out" || fail "no TIMEOUT in: $out"
grep -q "hang.scenario:3" <<<"$out" || fail "the report does not name the hanging step: $out"
until_ "$guard" '[ "$(leftovers)" -eq 0 ]' || fail "timeout: a server or cluster folder left behind"
pass=$((pass + 1))

echo "$pass passed, 0 failed"
