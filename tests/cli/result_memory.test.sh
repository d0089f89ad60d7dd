#!/usr/bin/env bash
# result_memory.test.sh — a migration whose SELECT returns far more than rehearse needs to keep
# (`SELECT repeat('x', 10000000) FROM generate_series(1, 60)`: 600 MB of rows) must not be held whole in
# rehearse's memory: the engine drops rows as they arrive (single-row mode). Played under `ulimit -v`
# (400 MB of address space for rehearse and the server it starts): before, libpq ran out of memory
# gathering the result and the deploy failed (P1017); now it applies. Skipped (77) for a sanitizer
# build, whose shadow memory needs terabytes of address space.
set -uo pipefail
: "${REHEARSE_BIN:?}"
libs=$(ldd "$REHEARSE_BIN" 2>/dev/null || true)
if grep -q -e libasan -e libubsan -e libtsan <<<"$libs"; then
    echo "skip: a sanitizer build cannot run under ulimit -v"
    exit 77
fi
if [ -d /dev/shm ] && [ -w /dev/shm ]; then work=$(mktemp -d /dev/shm/rh-mem.XXXXXX); else work=$(mktemp -d); fi
chmod 755 "$work"
export REHEARSE_RUN_DIR="$work/run"
cleanup() {
    for p in $(pgrep -f -- "$work/" || true); do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$work/migs/20250101000000_big_select"
printf 'provider = "postgresql"\n' > "$work/migs/migration_lock.toml"
printf "SELECT repeat('x', 10000000) FROM generate_series(1, 60);\nCREATE TABLE after_it (id int);\n" \
    > "$work/migs/20250101000000_big_select/migration.sql"
out=$( (ulimit -v 400000; timeout 300 "$REHEARSE_BIN" deploy --no-cache --migrations-dir "$work/migs") 2>&1); rc=$?
[ "$rc" = 0 ] || fail "deploy exited $rc under a 400 MB address-space limit (the result held whole?): $out"
grep -q "All migrations have been successfully applied." <<<"$out" || fail "not applied: $out"
echo "ok: a 600 MB result is not held by rehearse"
