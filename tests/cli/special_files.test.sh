#!/usr/bin/env bash
# special_files.test.sh — a scenario that names a FIFO, a device, a directory or a huge file (issue 17.9)
# is refused with an error naming the file and what it is; rehearse neither hangs on the FIFO nor runs
# out of memory on /dev/zero, and the run still ends with a report (exit 2). A migration.sql of those
# kinds: P3015 and a note saying the file is there and why it is not read.
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d -p /dev/shm rh-special.XXXXXX 2>/dev/null || mktemp -d /tmp/rh-special.XXXXXX) # tmpfs: a data directory copied per cluster
chmod 755 "$work"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tied_cluster.sh" # the folder (RAM on /dev/shm) goes with this script, however it ends
rh_tie_folder "$work"
trap 'rm -rf "$work"' EXIT
export REHEARSE_RUN_DIR="$work/run"
fail() { echo "FAIL: $*" >&2; exit 1; }
pass=0
cd "$work" || exit 1
mkdir -p migs/20250101000000_init
printf 'CREATE TABLE t (id int);\n' > migs/20250101000000_init/migration.sql

mkfifo fifo.in
mkdir adir
truncate -s 17M huge.in                   # sparse: a regular file over the 16 MiB limit
zero=""
if mknod zero.in c 1 5 2>/dev/null; then  # /dev/zero's device, inside the scenario's folder
    zero=zero.in
else
    echo "note: mknod is not permitted here (not root?): the device case is not played" >&2
fi

# expect_refused NAME TEXT WANT...: exit 2 within the bound (a hang or an abort fails), the report holds each WANT
expect_refused() {
    local name=$1 text=$2
    shift 2
    printf '%s' "$text" > "$name.scenario"
    local out rc
    # the bound only turns a hang into a failure; nothing here depends on how long it takes
    out=$(timeout 120 "$REHEARSE_BIN" run --no-color --timeout 30s "$name.scenario" 2>&1); rc=$?
    [ $rc -ne 124 ] || fail "$name: rehearse hung: $out"
    [ $rc -eq 2 ] || fail "$name: exit $rc, expected 2: $out"
    grep -qF "Summary" <<<"$out" || grep -qF "error" <<<"$out" || fail "$name: no report: $out"
    for want in "$@"; do
        grep -qF -- "$want" <<<"$out" || fail "$name: the report lacks '$want': $out"
    done
    pass=$((pass + 1))
}

expect_refused inc-fifo $'migrations migs\ninclude fifo.in\n' "cannot include 'fifo.in'" "a FIFO (named pipe)" \
    "rehearse reads only regular files"
expect_refused inc-dir $'migrations migs\ninclude adir\n' "cannot include 'adir'" "a directory"
expect_refused inc-huge $'migrations migs\ninclude huge.in\n' "cannot include 'huge.in'" "17825792 bytes" \
    "limit of 16 MiB"
expect_refused sql-fifo $'migrations migs\ndeploy\nsql-file fifo.in\n' "sql-file fifo.in" "a FIFO (named pipe)"
expect_refused sql-huge $'migrations migs\ndeploy\nsql-file huge.in\n' "sql-file huge.in" "limit of 16 MiB"
expect_refused restore-fifo $'migrations migs\nrestore schema fifo.in\ndeploy\n' "restore schema" "a FIFO (named pipe)"
expect_refused ledger-dir $'migrations migs\nrestore ledger adir\ndeploy\n' "restore ledger" "a directory"
expect_refused catalog-fifo $'migrations migs\ndeploy\nexpect catalog = file fifo.in\n' "fifo.in" \
    "a FIFO (named pipe)"
# one file under the limit, included twice: the total is what counts
head -c 9437184 /dev/zero | tr '\0' '#' | fold -w 63 > nine.inc
expect_refused inc-twice $'migrations migs\ninclude nine.inc\ninclude nine.inc\n' "cannot include 'nine.inc'" \
    "the scenario and its includes would hold" "limit of 16 MiB"
if [ -n "$zero" ]; then
    expect_refused inc-zero $'migrations migs\ninclude zero.in\n' "cannot include 'zero.in'" "a character device"
    expect_refused sql-zero $'migrations migs\ndeploy\nsql-file zero.in\n' "sql-file zero.in" "a character device"
fi

# a migration.sql that is there but not read (a FIFO, a link to /dev/zero, over the 1 GiB limit): P3015 as a
# missing file would give, and a note that says the file is there and why rehearse does not read it
# (before: P3015 alone, and the problem text said "no migration.sql")
expect_unread() { # NAME WANT: deploy of folder NAME exits 1 (P3015) and notes WANT
    local out rc
    out=$(timeout 120 "$REHEARSE_BIN" deploy --migrations-dir "$1" 2>&1); rc=$?
    [ $rc -eq 1 ] || fail "$1: deploy exit $rc, expected 1: $out"
    grep -qF "Error: P3015" <<<"$out" || fail "$1: no P3015: $out"
    grep -q "^rehearse: note: 20250102000000_x: .*migration.sql is not read: $2" <<<"$out" || fail "$1: no note '$2': $out"
    pass=$((pass + 1))
}
for kind in fifo zero huge; do
    mkdir -p "mig-$kind/20250102000000_x" && cp -r migs/20250101000000_init "mig-$kind/"
done
mkfifo mig-fifo/20250102000000_x/migration.sql
ln -s /dev/zero mig-zero/20250102000000_x/migration.sql
truncate -s 1025M mig-huge/20250102000000_x/migration.sql   # sparse
expect_unread mig-fifo "it is a device, FIFO or socket, not a regular file"
expect_unread mig-zero "it is a device, FIFO or socket, not a regular file"
expect_unread mig-huge "cannot read mig-huge/20250102000000_x/migration.sql: it is 1074790400 bytes, over rehearse's limit of 1024 MiB"

# the scenario file itself, given on the command line
out=$(timeout 120 "$REHEARSE_BIN" run --no-color fifo.in 2>&1); rc=$?
[ $rc -eq 2 ] || fail "a FIFO as the scenario: exit $rc, expected 2: $out"
grep -qF "a FIFO (named pipe)" <<<"$out" || fail "a FIFO as the scenario is not named as such: $out"
pass=$((pass + 1))

echo "special_files: $pass checks passed"
