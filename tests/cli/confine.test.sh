#!/usr/bin/env bash
# confine.test.sh — the attack of issue 17.4: a scenario (from a pull request, run as root in CI) names
# files outside its folder — by absolute path, by ../, through a symbolic link, in a .git folder, or
# is itself a link to one. Each is refused with an error naming the path and the rule, and the report
# never holds the file's content. --allow-path DIR opens DIR; the repository holding the scenario is in.
set -uo pipefail
: "${REHEARSE_BIN:?}"
work=$(mktemp -d -p /dev/shm rh-confine.XXXXXX 2>/dev/null || mktemp -d /tmp/rh-confine.XXXXXX) # tmpfs: a data directory copied per cluster
chmod 755 "$work"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tied_cluster.sh" # the folder (RAM on /dev/shm) goes with this script, however it ends
rh_tie_folder "$work"
trap 'rm -rf "$work"' EXIT
export REHEARSE_RUN_DIR="$work/run"
fail() { echo "FAIL: $*" >&2; exit 1; }
pass=0
secret="TOPSECRET-$$-do-not-print"
mkdir -p "$work/outside" "$work/scn/migs/20250101000000_init"
printf 'CREATE TABLE t (id int);\n' > "$work/scn/migs/20250101000000_init/migration.sql"
# the secret is a syntax error as SQL, a bad CSV header, a bad catalog file: each would be quoted
printf '%s:$6$salt$hash:19000:0:99999:7:::\n' "$secret" > "$work/outside/shadow"
printf 'select 1;\n' > "$work/outside/ok.sql"
git init -q "$work/outside/repo"
cd "$work/scn" || exit 1
ln -s ../outside/shadow link.sql
ln -s ../outside sub-link

# refused NAME TEXT WANT...: exit 2, the report names the rule and each WANT, and never the secret
refused() {
    local name=$1 text=$2
    shift 2
    printf '%s' "$text" > "$name.scenario"
    local out rc
    out=$("$REHEARSE_BIN" run --no-color --format human "$name.scenario" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "$name: exit $rc, expected 2: $out"
    grep -qF "$secret" <<<"$out" && fail "$name: the report quotes the outside file: $out"
    grep -qF -- "--allow-path" <<<"$out" || fail "$name: the rule (--allow-path) is not said: $out"
    for want in "$@"; do
        grep -qF -- "$want" <<<"$out" || fail "$name: the report lacks '$want': $out"
    done
    pass=$((pass + 1))
}

refused inc-dotdot $'migrations migs\ninclude ../outside/shadow\n' "../outside/shadow" "is outside"
refused inc-abs "migrations migs
include $work/outside/shadow
" "$work/outside/shadow" "is outside"
refused inc-link $'migrations migs\ninclude link.sql\n' "link.sql ($work/outside/shadow)" "is outside"
refused sql-dotdot $'migrations migs\ndeploy\nsql-file ../outside/shadow\n' "sql-file" "is outside"
refused sql-link $'migrations migs\ndeploy\nsql-file link.sql\n' "sql-file" "link.sql"
refused sql-dirlink $'migrations migs\ndeploy\nsql-file sub-link/shadow\n' "sub-link/shadow"
refused restore-schema $'migrations migs\nrestore schema link.sql\ndeploy\n' "restore schema" "link.sql"
refused restore-ledger $'migrations migs\nrestore ledger ../outside/shadow\ndeploy\n' "restore ledger"
refused catalog-file $'migrations migs\ndeploy\nexpect catalog = file link.sql\n' "expect catalog = file"
refused repo-out $'repo ../outside/repo\ndeploy\n' "repo" "../outside/repo"
if [ -r /etc/shadow ]; then
    first=$(head -1 /etc/shadow | cut -d: -f1-2)
    printf 'migrations migs\ndeploy\nsql-file /etc/shadow\n' > etc.scenario
    out=$("$REHEARSE_BIN" run --no-color etc.scenario 2>&1)
    grep -qF "$first" <<<"$out" && fail "/etc/shadow is quoted: $out"
    grep -qF "/etc/shadow is outside" <<<"$out" || fail "/etc/shadow: not refused as outside: $out"
    pass=$((pass + 1))
fi

# a *.scenario link in a collected folder that leads out: refused, not parsed and quoted
mkdir -p "$work/coll"
printf 'deploy %s\n' "$secret" > "$work/outside/evil.scenario"
ln -s ../outside/evil.scenario "$work/coll/evil.scenario"
out=$("$REHEARSE_BIN" run --no-color "$work/coll" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "scenario link: exit $rc: $out"
grep -qF "$secret" <<<"$out" && fail "the linked scenario's content is quoted: $out"
grep -qF "is outside" <<<"$out" || fail "the linked scenario is not refused as outside: $out"
pass=$((pass + 1))

# --allow-path opens the folder, and only it
printf 'migrations migs\ndeploy\nsql-file ../outside/ok.sql\n' > allowed.scenario
out=$("$REHEARSE_BIN" run --no-color allowed.scenario 2>&1); rc=$?
[ $rc -eq 2 ] || fail "ok.sql without --allow-path: exit $rc: $out"
out=$("$REHEARSE_BIN" run --no-color --allow-path "$work/outside" allowed.scenario 2>&1); rc=$?
[ $rc -eq 0 ] || fail "ok.sql with --allow-path: exit $rc: $out"
out=$("$REHEARSE_BIN" run --no-color --allow-path "$work/nope" allowed.scenario 2>&1); rc=$?
[ $rc -eq 2 ] && grep -qF -- "--allow-path $work/nope: not a folder" <<<"$out" || fail "--allow-path of no folder: $out"
pass=$((pass + 1))

# the git repository holding the scenario is in (../ inside it), its .git folder is not
git init -q "$work/scn"
mkdir -p "$work/scn/deep"
printf 'migrations ../migs\ndeploy\nsql-file ../../outside/../scn/deep/../link.sql\n' > deep/esc.scenario
printf 'select 1;\n' > "$work/scn/in-repo.sql"
printf 'migrations ../migs\ndeploy\nsql-file ../in-repo.sql\n' > deep/ok.scenario
out=$("$REHEARSE_BIN" run --no-color deep/ok.scenario 2>&1); rc=$?
[ $rc -eq 0 ] || fail "a file of the scenario's repository: exit $rc: $out"
out=$("$REHEARSE_BIN" run --no-color deep/esc.scenario 2>&1); rc=$?
[ $rc -eq 2 ] && ! grep -qF "$secret" <<<"$out" || fail "a link out of the repository: exit $rc: $out"
git -C "$work/scn" config rehearse.token "$secret"
refused dotgit $'migrations migs\ninclude .git/config\n' ".git/config" "is outside"
pass=$((pass + 1))

echo "confine: $pass checks passed"
