# shellcheck shell=bash
# tied_cluster.sh — sourced by shell tests that keep a cluster (--keep) for their whole run.
# `rh_tie_cluster ID` stops cluster ID when the sourcing shell ends, however it ends: the test's EXIT trap
# does not run when ctest kills it with SIGKILL at its time limit, and a kept cluster has no watchdog.
#
# The first call starts a watcher in a session of its own (a kill of the test's process group misses it)
# that reads ids from a pipe whose write end only this shell and the programs it starts hold (a server
# rehearse starts does not: cluster/spawn.c closes what it inherits). At end-of-file — all of them gone,
# normally or not — it runs `rehearse clusters --stop ID` for each id this shell gave it, and only those;
# rehearse checks that a pid is still the server it started before it signals it. After a normal end the
# test's own trap has stopped them already, and the watcher's stop finds nothing.
rh_tie_cluster() {
    local id=$1
    [ -n "$id" ] || return 0
    if [ -z "${rh_tie_fd:-}" ]; then
        exec {rh_tie_fd}> >(exec setsid sh -c 'ids=""
            while read -r id; do ids="$ids $id"; done
            for id in $ids; do "$0" clusters --stop "$id"; done' "${REHEARSE_BIN:?}" >/dev/null 2>&1)
    fi
    echo "$id" >&"$rh_tie_fd"
}
