# shellcheck shell=bash
# tied_cluster.sh — sourced by shell tests that keep a cluster (--keep) or make a temp folder for their run.
# `rh_tie_cluster ID` stops cluster ID and `rh_tie_folder DIR` removes the temp folder DIR when the sourcing
# shell ends, however it ends: the test's EXIT trap does not run when ctest kills it with SIGKILL at its time
# limit, a kept cluster has no watchdog, and a killed script's `mktemp -d` folder would stay in /tmp.
#
# The first call starts a watcher in a session of its own (a kill of the test's process group misses it)
# that reads "cluster ID" / "folder DIR" lines from a pipe whose write end only this shell and the programs
# it starts hold (a server rehearse starts does not: cluster/spawn.c closes what it inherits). At
# end-of-file — all of them gone, normally or not — it runs `rehearse clusters --stop ID` for each id this
# shell gave it, and only those (rehearse checks that a pid is still the server it started before it signals
# it), then removes each folder it was given, and only those. After a normal end the test's own trap has
# done both already, and the watcher finds nothing.
#
# A folder is removed only if it is a direct child of the temp dir (${TMPDIR:-/tmp}, its real path) or of
# /dev/shm (a test that copies data directories works on tmpfs), a directory that is not a symlink, owned by
# this user; `rm -rf --one-file-system` follows no symlink inside.
# The watcher checks this again at the end (the folder may have been swapped for a link meanwhile).

# the watcher: "$0" is the rehearse binary; stdio to /dev/null so that ctest does not wait for it
rh_tie_watcher='tmp=$(cd "${TMPDIR:-/tmp}" 2>/dev/null && pwd -P) || tmp=/nonexistent
shm=$(cd /dev/shm 2>/dev/null && pwd -P) || shm=/nonexistent
ids="" dirs=""
while IFS= read -r line; do
    case $line in
        "cluster "*) ids="$ids ${line#cluster }" ;;
        "folder "*) dirs="$dirs${line#folder }
" ;;
    esac
done
for id in $ids; do "$0" clusters --stop "$id"; done
printf %s "$dirs" | while IFS= read -r d; do
    name=${d##*/}
    [ "${d%/*}" = "$tmp" ] || [ "${d%/*}" = "$shm" ] || continue
    case $name in ""|.|..) continue ;; esac
    [ -d "$d" ] && [ ! -L "$d" ] && [ -O "$d" ] || continue
    rm -rf --one-file-system -- "$d"
done'

rh_tie_start() {
    [ -z "${rh_tie_fd:-}" ] || return 0
    exec {rh_tie_fd}> >(exec setsid sh -c "$rh_tie_watcher" "${REHEARSE_BIN:?}" >/dev/null 2>&1)
}

rh_tie_cluster() {
    local id=$1
    [ -n "$id" ] || return 0
    rh_tie_start
    echo "cluster $id" >&"$rh_tie_fd"
}

# rh_tie_folder DIR: DIR (from `mktemp -d [-p /dev/shm]`) is removed when this shell ends; refused (exit 1,
# a message on stderr) for anything the watcher would not remove
rh_tie_folder() {
    local dir=$1 tmp shm parent
    tmp=$(cd "${TMPDIR:-/tmp}" && pwd -P) || return 1
    shm=$(cd /dev/shm 2>/dev/null && pwd -P) || shm=/nonexistent
    parent=$(cd "$(dirname -- "$dir")" 2>/dev/null && pwd -P) && dir=$parent/$(basename -- "$dir")
    if [ -L "$dir" ] || [ ! -d "$dir" ] || [ ! -O "$dir" ] || { [ "$parent" != "$tmp" ] && [ "$parent" != "$shm" ]; } ||
        [ "$dir" != "${dir//$'\n'/}" ] || [ "${dir##*/}" = . ] || [ "${dir##*/}" = .. ]; then
        echo "rh_tie_folder: $1 is not a folder of this user directly in the temp dir $tmp or in $shm" >&2
        return 1
    fi
    rh_tie_start
    echo "folder $dir" >&"$rh_tie_fd"
}
