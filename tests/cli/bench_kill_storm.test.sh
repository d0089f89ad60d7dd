#!/usr/bin/env bash
# bench_kill_storm.test.sh — `bench cluster --runs 2` killed with SIGKILL at random moments leaves
# nothing behind (issue 17.7): no folder or record in its run folder, no process whose arguments or
# working directory name it (initdb, pg_ctl, postmasters of the naive round), no new
# /dev/shm/PostgreSQL.* segment that no process maps any more (a running server elsewhere on the
# machine, or another test's, maps its own: those are not counted). REHEARSE_STORM_KILLS=N (default 4) kills; REHEARSE_STORM_MAX_MS the
# latest kill moment (default 3000). Without REHEARSE_STORM_KILLS no kill starts after 40 s. Prints the
# figures; fails on any leak.
set -uo pipefail
: "${REHEARSE_BIN:?}"
kills=${REHEARSE_STORM_KILLS:-4}
# in the suite, no new kill after 40 s (a busy machine makes each round slow); none when N is given
budget=40; [ -n "${REHEARSE_STORM_KILLS:-}" ] && budget=100000
max_ms=${REHEARSE_STORM_MAX_MS:-3000}
base=/dev/shm; [ -w /dev/shm ] || base=/tmp
work=$(mktemp -d "$base/rh-storm.XXXXXX")
chmod 711 "$work"
run="$work/run"
export REHEARSE_RUN_DIR="$run"
cleanup() {
    for p in $(pgrep -f -- "$work/" || true); do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

shm_list() { ls /dev/shm 2>/dev/null | grep '^PostgreSQL\.' | sort; }
# segments some live process still maps: a running server's (another test's, another user's), not a leak
shm_mapped() { cat /proc/[0-9]*/maps 2>/dev/null | grep -o 'PostgreSQL\.[0-9]*' | sort -u; }
# processes whose arguments or working directory name the run folder
procs_in_run() {
    local n=0 p cwd named
    named=$(pgrep -f -- "$run/")
    n=$(grep -c . <<<"$named")
    for p in /proc/[0-9]*; do
        cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
        case "$cwd" in "$run"/*) grep -qx "${p#/proc/}" <<<"$named" || n=$((n + 1));; esac
    done
    echo "$n"
}
entries() { find "$run" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
until_() { local t=$1; shift; while ! eval "$@"; do t=$((t - 1)); [ $t -gt 0 ] || return 1; sleep 0.1; done; }
guard=3000 # until_ bound, tenths of a second (5 min): a guard against a hang, not a timing; the condition ends the wait

shm_before=$(shm_list)
leaked_dirs=0 leaked_procs=0 t0=$SECONDS
done_kills=0
for i in $(seq 1 "$kills"); do
    [ "$i" -eq 1 ] || [ $((SECONDS - t0)) -lt "$budget" ] || break
    done_kills=$i
    "$REHEARSE_BIN" bench cluster --runs 2 >/dev/null 2>"$work/err.txt" &
    pid=$!
    ms=$((RANDOM % max_ms))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    # the watchdog cleans up after the kill (it may take a few seconds on a busy machine)
    until_ "$guard" '[ "$(entries)" -eq 0 ] && [ "$(procs_in_run)" -eq 0 ]'
    d=$(entries) p=$(procs_in_run)
    if [ "$d" -ne 0 ] || [ "$p" -ne 0 ]; then
        echo "kill $i after ${ms} ms: $d entries, $p processes left:" >&2
        ls -la "$run" >&2
        ps -eo pid,ppid,user,args | grep -F -- "$run/" | grep -v grep >&2
        leaked_dirs=$((leaked_dirs + d)) leaked_procs=$((leaked_procs + p))
        for q in $(pgrep -f -- "$run/" || true); do kill -KILL "$q" 2>/dev/null; done
        rm -rf "$run"
    fi
done
# new since the storm began and mapped by no process: left by a killed server
leaked_shm=$(comm -13 <(echo "$shm_before") <(shm_list) | comm -23 - <(shm_mapped) | grep -c . || true)
echo "bench cluster kill storm: $done_kills kills in $((SECONDS - t0)) s; left behind: $leaked_dirs folders/records, $leaked_procs processes, $leaked_shm /dev/shm/PostgreSQL.* segments"
[ "$leaked_dirs" -eq 0 ] && [ "$leaked_procs" -eq 0 ] && [ "$leaked_shm" -eq 0 ] || { echo "FAIL: leaks" >&2; exit 1; }
echo "1 passed, 0 failed"
