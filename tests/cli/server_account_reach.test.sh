#!/usr/bin/env bash
# server_account_reach.test.sh — as root, initdb and postgres run as the server account; when that
# account cannot reach the programs (--pg-bin under a 0700 folder) or the run folder (under a 0700
# folder), the error names the account, the folder it cannot pass and what to do (issue 10.13),
# instead of "initdb: cannot execute for .../initdb: Permission denied".
set -uo pipefail
: "${REHEARSE_BIN:?}"
if [ "$(id -u)" != 0 ]; then echo "skipped: only root runs the server as another account"; exit 0; fi
work=$(mktemp -d /tmp/rh-reach.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass=0
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
mkdir -p "$work/migs/20250101000000_init" "$work/private/bin"
printf 'CREATE TABLE t (id int);\n' > "$work/migs/20250101000000_init/migration.sql"
chmod 700 "$work/private"
for f in initdb postgres pg_ctl; do ln -s "$bindir/$f" "$work/private/bin/$f"; done
account=$(id -un postgres 2>/dev/null || echo nobody)

expect_reach_error() { # label, folder it cannot pass, what to do, output
    grep -q "the server account '$account'" <<<"$4" || fail "$1: the account is not named: $4"
    grep -q "cannot search the folder $2 (mode 0700, owner root)" <<<"$4" || fail "$1: the folder is not named: $4"
    grep -q "chmod o+x $2" <<<"$4" || fail "$1: no remedy: $4"
    grep -q -- "$3" <<<"$4" || fail "$1: no '$3' in: $4"
    grep -q -- "--run-as USER" <<<"$4" || fail "$1: --run-as not offered: $4"
    grep -q "cannot execute for" <<<"$4" && fail "$1: the old message: $4"
    pass=$((pass + 1))
}

# programs it cannot reach: initdb (a new cache), then postgres (a cached template)
out=$(REHEARSE_CACHE_DIR="$work/cache" REHEARSE_RUN_DIR="$work/run" "$REHEARSE_BIN" deploy --pg-bin "$work/private/bin" \
      --migrations-dir "$work/migs" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "initdb unreachable: exit $rc: $out"
grep -q "cannot run $work/private/bin/initdb" <<<"$out" || fail "initdb is not named: $out"
expect_reach_error initdb "$work/private" "--pg-bin" "$out"

"$REHEARSE_BIN" deploy --migrations-dir "$work/migs" >/dev/null 2>&1 || fail "the default binaries do not work"
out=$(REHEARSE_RUN_DIR="$work/run" "$REHEARSE_BIN" deploy --pg-bin "$work/private/bin" --migrations-dir "$work/migs" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "postgres unreachable: exit $rc: $out"
grep -q "cannot run $work/private/bin/postgres" <<<"$out" || fail "postgres is not named: $out"
expect_reach_error postgres "$work/private" "--pg-bin" "$out"
[ -z "$(ls -A "$work/run")" ] || fail "a cluster folder or record left behind: $(ls -A "$work/run")"

# a run folder it cannot reach
out=$(REHEARSE_RUN_DIR="$work/private/run" "$REHEARSE_BIN" deploy --migrations-dir "$work/migs" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "run folder unreachable: exit $rc: $out"
grep -q "the run folder $work/private/run" <<<"$out" || fail "the run folder is not named: $out"
expect_reach_error run-folder "$work/private" "REHEARSE_RUN_DIR" "$out"

echo "$pass passed, 0 failed"
