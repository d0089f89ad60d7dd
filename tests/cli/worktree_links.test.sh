#!/usr/bin/env bash
# worktree_links.test.sh — issue 17.5: in WORKTREE mode, symbolic links (and ../) that lead out of
# the repository are not read: a prisma/migrations link to a folder outside, a migration.sql link to
# /etc/passwd or to a file outside, --migrations ../outside. Each is refused or marked, and nothing of
# the outside files reaches the output. Links that stay inside the repository are read as before.
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d -p /dev/shm rh-wtlinks.XXXXXX 2>/dev/null || mktemp -d /tmp/rh-wtlinks.XXXXXX) # tmpfs: a data directory copied per cluster
chmod 755 "$work"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tied_cluster.sh" # the folder (RAM on /dev/shm) goes with this script, however it ends
rh_tie_folder "$work"
trap 'rm -rf "$work"' EXIT
export REHEARSE_RUN_DIR="$work/run"
fail() { echo "FAIL: $*" >&2; exit 1; }
pass=0
secret="TOPSECRET_$$"
mkdir -p "$work/outside/migs/20250101000000_evil"
printf 'CREATE TABLE %s (id int);\n' "$secret" > "$work/outside/migs/20250101000000_evil/migration.sql"
printf 'SELECT * FROM %s;\n' "$secret" > "$work/outside/secret.sql"

# make_repo NAME: a repository with one committed migration
make_repo() {
    local r=$work/$1
    mkdir -p "$r/prisma/migrations/20250101000000_init"
    printf 'CREATE TABLE t (id int);\n' > "$r/prisma/migrations/20250101000000_init/migration.sql"
    git -C "$r" init -q && git -C "$r" add -A &&
        git -C "$r" -c user.name=t -c user.email=t@t commit -qm init || fail "git in $r"
}
# run_rh WANT_RC WANT... -- ARGS: rehearse ARGS exits WANT_RC, prints each WANT, never the secret
run_rh() {
    local want_rc=$1
    shift
    local wants=()
    while [ "$1" != "--" ]; do wants+=("$1"); shift; done
    shift
    local out rc
    out=$("$REHEARSE_BIN" "$@" 2>&1); rc=$?
    [ $rc -eq "$want_rc" ] || fail "$*: exit $rc, expected $want_rc: $out"
    grep -qF "$secret" <<<"$out" && fail "$*: the output holds the outside file's content: $out"
    grep -qF "root:x:0:0" <<<"$out" && fail "$*: the output holds /etc/passwd: $out"
    for w in "${wants[@]}"; do
        grep -qF -- "$w" <<<"$out" || fail "$*: the output lacks '$w': $out"
    done
    pass=$((pass + 1))
}

# the migrations folder is a link to a folder outside
make_repo dirlink
rm -rf "$work/dirlink/prisma/migrations"
ln -s ../../outside/migs "$work/dirlink/prisma/migrations"
run_rh 2 "leads out of the repository" -- deploy --repo "$work/dirlink" --rev WORKTREE --migrations prisma/migrations
run_rh 2 "leads out of the repository" -- status --repo "$work/dirlink" --rev WORKTREE

# migration.sql links to /etc/passwd and to a file outside: marked, not read
make_repo filelink
ln -sf /etc/passwd "$work/filelink/prisma/migrations/20250101000000_init/migration.sql"
mkdir -p "$work/filelink/prisma/migrations/20250102000000_two"
ln -s ../../../../outside/secret.sql "$work/filelink/prisma/migrations/20250102000000_two/migration.sql"
run_rh 1 "leads out of the repository (to /etc/passwd)" -- deploy --repo "$work/filelink" --rev WORKTREE

# --migrations ../outside: refused like an absolute path outside
make_repo rel
run_rh 2 "outside the repository" -- deploy --repo "$work/rel" --rev WORKTREE --migrations ../outside/migs
run_rh 2 "outside the repository" -- deploy --repo "$work/rel" --rev WORKTREE --migrations prisma/../../outside/migs
run_rh 2 "outside the repository" -- deploy --repo "$work/rel" --rev HEAD --migrations ../outside/migs

# links that stay inside the repository are read
make_repo inside
mkdir -p "$work/inside/sql"
mv "$work/inside/prisma/migrations/20250101000000_init/migration.sql" "$work/inside/sql/init.sql"
ln -s ../../../sql/init.sql "$work/inside/prisma/migrations/20250101000000_init/migration.sql"
run_rh 0 "20250101000000_init" -- deploy --repo "$work/inside" --rev WORKTREE
run_rh 0 -- deploy --repo "$work/inside" --rev WORKTREE --migrations prisma/../prisma/migrations

echo "worktree_links: $pass checks passed"
