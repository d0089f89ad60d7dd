#!/usr/bin/env bash
# keep_tied.test.sh — a kept cluster (--keep) of a test script does not outlive the script when it is killed
# with SIGKILL (ctest's time limit; no EXIT trap runs): tests/lib/tied_cluster.sh ties it to the script, and
# the cluster's server must not hold what rehearse's caller left open (else the tie never sees its end).
#  1. a server kept by `deploy --keep` holds none of the caller's open descriptors (fd 7, a pipe, here);
#  2. a script that kept a cluster and tied it is killed with its whole process group (SIGKILL): the
#     cluster's server and folder are gone afterwards (waited for, at most 60 s; no duration asserted);
#  3. the same script tied its temp folder (rh_tie_folder): it is gone too, without following a symlink
#     inside it; what it must not remove stays: a tied folder swapped for a symlink afterwards (and the
#     folder it points at), a folder outside the temp dir written straight into the tie's pipe, and one
#     rh_tie_folder refuses. The script's temp dir is $work/tmp, so nothing of it lands in /tmp.
# Clusters go to a private REHEARSE_RUN_DIR so that other rehearse runs on the machine do not count.
set -uo pipefail
: "${REHEARSE_BIN:?}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d /tmp/rh-tie.XXXXXX)
chmod 755 "$work"   # the server account (root runs it as postgres) reaches the run folder
export REHEARSE_RUN_DIR="$work/run"
cleanup() {
    # a failing run: stop what is left in the private run folder (only this test's clusters are there)
    "$REHEARSE_BIN" clusters --stop all >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; ps -eo pid,ppid,args | grep -F -- "$work/" | grep -v grep >&2; exit 1; }
servers() { pgrep -f -- "postgres -D $work/run/" | wc -l; }
# wait until the condition (a shell command) holds, up to $1 tenths of a second
until_() { local t=$1; shift; while ! eval "$*"; do t=$((t - 1)); [ $t -gt 0 ] || return 1; sleep 0.1; done; }
guard=3000 # until_ bound, tenths of a second (5 min): a guard against a hang, not a timing; the condition ends the wait
mkdir -p "$work/migs"
kept_id() { sed -n 's/.*rehearse clusters --stop \([^`]*\)`.*/\1/p'; }

# 1. the caller's pipe stays the caller's
exec 7> >(cat >/dev/null)
pipe=$(readlink /proc/$$/fd/7)
out=$("$REHEARSE_BIN" deploy --migrations-dir "$work/migs" --keep 2>&1) || fail "deploy --keep: $out"
id=$(kept_id <<<"$out")
[ -n "$id" ] || fail "deploy --keep printed no cluster id: $out"
spid=$(pgrep -f -- "postgres -D $work/run/$id/" | head -1)
[ -n "$spid" ] || fail "no server for kept cluster $id"
for f in /proc/"$spid"/fd/*; do
    [ "$(readlink "$f")" != "$pipe" ] || fail "the kept server (pid $spid) holds the caller's fd 7 ($pipe) as $f"
done
exec 7>&-
"$REHEARSE_BIN" clusters --stop "$id" >/dev/null || fail "clusters --stop $id"

# 2. SIGKILL to a script that keeps a tied cluster
cat > "$work/body.sh" <<'BODY'
. "$1"
out=$("$REHEARSE_BIN" deploy --migrations-dir "$2" --keep 2>&1) || exit 1
id=$(sed -n 's/.*rehearse clusters --stop \([^`]*\)`.*/\1/p' <<<"$out")
rh_tie_cluster "$id"
decoy=${3%/*}/decoy
own=$(mktemp -d) && touch "$own/file" && ln -s "$decoy" "$own/link" && rh_tie_folder "$own" || exit 1
swapped=$(mktemp -d) && rh_tie_folder "$swapped" && rmdir "$swapped" && ln -s "$decoy" "$swapped" || exit 1
echo "folder $decoy" >&"$rh_tie_fd"                   # past rh_tie_folder's checks: the watcher's own
! rh_tie_folder "$decoy" 2>/dev/null || exit 1        # outside the temp dir: refused
last=$(mktemp -d) && rh_tie_folder "$last" || exit 1  # the watcher goes in order: when it is gone, all are done
printf '%s\n' "$id" "$own" "$swapped" "$last" > "$3.tmp" && mv "$3.tmp" "$3"
sleep 600
BODY
mkdir -p "$work/tmp" "$work/decoy" && touch "$work/decoy/keep"
TMPDIR=$work/tmp setsid bash "$work/body.sh" "$here/../lib/tied_cluster.sh" "$work/migs" "$work/id" &
pid=$!
until_ "$guard" '[ -s "$work/id" ] || ! kill -0 $pid 2>/dev/null' || fail "the script never kept its cluster"
[ -s "$work/id" ] || fail "the script ended before it kept its cluster"
{ read -r id; read -r own; read -r swapped; read -r last; } < "$work/id"
[ -d "$own" ] && [ -L "$swapped" ] || fail "the script's temp folders are not there: $own $swapped"
[ "$(servers)" -ge 1 ] && [ -d "$work/run/$id" ] || fail "kept cluster $id is not running"
kill -KILL -- "-$pid"
wait "$pid" 2>/dev/null
until_ "$guard" '[ "$(servers)" -eq 0 ] && [ ! -e "$work/run/$id" ]' ||
    fail "kept cluster $id outlived its script killed with SIGKILL"

# 3. its tied temp folder went too; nothing else did
until_ "$guard" '[ ! -e "$own" ] && [ ! -e "$last" ]' || fail "tied temp folder $own or $last outlived its script killed with SIGKILL"
[ -L "$swapped" ] || fail "the tied folder swapped for a symlink was removed: $swapped"
[ -f "$work/decoy/keep" ] || fail "the watcher removed what a symlink points at, or a folder outside the temp dir"
echo "ok: the kept server does not hold the caller's descriptors; a tied cluster and temp folder go with their script (SIGKILL)"
