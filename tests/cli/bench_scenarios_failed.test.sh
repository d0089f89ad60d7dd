#!/usr/bin/env bash
# bench_scenarios_failed.test.sh — `rehearse bench scenarios` on a suite where a scenario fails gives no
# verdict: its times measure the failure (a bench run without scenarios/fixtures once printed
# "warm / cold 0.804 ... MISSED" over 168 failed runs). With --cache it stops after the fill run (exit 2,
# saying how many failed); without, the table is printed, "not judged", exit 1. A passing suite still
# gets its verdict and exit 0. Nothing is left in TMPDIR.
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
chmod 755 "$work" # the server account (rehearse runs as root here) must reach the run folder
trap 'rm -rf "$work"' EXIT
export REHEARSE_RUN_DIR=$work/run REHEARSE_CACHE_DIR=$work/cache
# the bench's scenario times go into a temporary folder of TMPDIR, removed at the end (with --cache the
# runner writes a second file there, for the runs without the cache: it was left behind once)
mkdir -p "$work/tmp" && export TMPDIR=$work/tmp
unset REHEARSE_NO_CACHE
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir -p "$work/bad" "$work/good"
printf 'scenario "fails on purpose"\nexpect query "select 1" = 2\n' >"$work/bad/a.scenario"
printf 'scenario "passes"\nexpect query "select 1" = 1\n' >"$work/bad/b.scenario"
cp "$work/bad/b.scenario" "$work/good/b.scenario"

"$REHEARSE_BIN" bench scenarios --cache --runs 1 "$work/bad" >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" = 2 ] || fail "--cache on a failing suite: exit $rc, expected 2: $(cat "$work/out" "$work/err")"
grep -q '1 of the 2 scenarios failed or errored in the fill run' "$work/err" || fail "--cache: no count: $(cat "$work/err")"
! grep -q 'warm / cold' "$work/out" || fail "--cache on a failing suite printed a ratio: $(cat "$work/out")"

"$REHEARSE_BIN" bench scenarios "$work/bad" >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" = 1 ] || fail "-j1/-j2 on a failing suite: exit $rc, expected 1: $(cat "$work/out" "$work/err")"
grep -q '^not judged: scenarios failed' "$work/out" || fail "-j1/-j2: no 'not judged': $(cat "$work/out")"

"$REHEARSE_BIN" bench scenarios --cache --runs 1 "$work/good" >"$work/out" 2>"$work/err" ||
    fail "--cache on a passing suite: exit $?: $(cat "$work/out" "$work/err")"
grep -q 'warm / cold [0-9.]* (goal <= 0.60: \(met\|MISSED\)); failed or errors: 0' "$work/out" ||
    fail "--cache on a passing suite: no verdict: $(cat "$work/out")"
"$REHEARSE_BIN" bench scenarios "$work/good" >"$work/out" 2>"$work/err" || fail "-j1/-j2 on a passing suite: exit $?"
! grep -q 'not judged' "$work/out" || fail "a passing suite was not judged: $(cat "$work/out")"
[ -z "$(ls -A "$work/tmp")" ] || fail "the bench left files in TMPDIR: $(ls -A "$work/tmp")"
echo "ok: bench scenarios judges only a passing suite"
