#!/usr/bin/env bash
# time_limit.test.sh — a pull request's migration that never ends (`SELECT pg_sleep(1e9)`) must not
# hang the CI job: `rehearse check --timeout DUR` (and `deploy --timeout DUR`) gives up at DUR with
# exit 2 and a message that says so, and nothing of the run is left (no server, no cluster folder in
# its private REHEARSE_RUN_DIR). Before, neither had a limit and waited as long as the migration did.
# The help states check's default limit (how a user learns there is one). The `timeout 120` is only a
# guard against a hang.
set -uo pipefail
: "${REHEARSE_BIN:?}"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then work=$(mktemp -d /dev/shm/rh-cto.XXXXXX); else work=$(mktemp -d); fi
chmod 755 "$work"
export REHEARSE_RUN_DIR="$work/run"
cleanup() {
    for p in $(pgrep -f -- "$work/" || true); do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cd "$work" && git init -q -b main repo && cd repo
git config user.email t@example.invalid && git config user.name t
m=prisma/migrations
mkdir -p $m/20240101000000_init
printf 'CREATE TABLE t (id int primary key);\n' > $m/20240101000000_init/migration.sql
git add -A && git commit -qm base
git checkout -qb pr
mkdir -p $m/20240102000000_forever
printf 'SELECT pg_sleep(1e9);\n' > $m/20240102000000_forever/migration.sql
git add -A && git commit -qm forever

nothing_left() { # CMD: the watchdog stops the servers of a run that exited: wait for it (bounded)
    for _ in $(seq 100); do
        [ -z "$(pgrep -f -- "$work/run/" || true)" ] && [ -z "$(find "$work/run" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)" ] && break
        sleep 0.1
    done
    [ -z "$(pgrep -f -- "$work/run/" || true)" ] || fail "$1: a server of the timed-out run is still running"
    [ -z "$(find "$work/run" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)" ] || fail "$1: a cluster folder is left: $(ls "$work/run")"
}
timeout 120 "$REHEARSE_BIN" check --base main --head pr --timeout 5s >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" = 2 ] || fail "check exited $rc (expected 2 at its limit; 124 = it hung): $(cat "$work/err")"
grep -q "^rehearse check: timed out after 5 s (the limit: --timeout DUR" "$work/err" || fail "no timeout message: $(cat "$work/err")"
nothing_left check
timeout 120 "$REHEARSE_BIN" deploy --repo . --rev pr --timeout 3s >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" = 2 ] || fail "deploy exited $rc (expected 2 at its limit; 124 = it hung): $(cat "$work/err")"
grep -q "^rehearse deploy: timed out after 3 s" "$work/err" || fail "deploy: no timeout message: $(cat "$work/err")"
nothing_left deploy

# bad values are usage errors; the help says the default
"$REHEARSE_BIN" check --timeout soon >/dev/null 2>"$work/err2"; rc=$?
[ "$rc" = 2 ] && grep -q -- "--timeout takes a duration" "$work/err2" || fail "--timeout soon: rc $rc $(cat "$work/err2")"
"$REHEARSE_BIN" check --help >"$work/help"
grep -q -- "--timeout DUR.*" "$work/help" && grep -q "default 30min" "$work/help" || fail "help does not state the limit"
echo "ok: check/deploy --timeout stop a migration that never ends; nothing left"
