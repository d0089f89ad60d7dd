# shellcheck shell=bash
# cli_test.sh — the start of a CLI test script that works in one temp folder, sourced first thing:
# sets `bin` (the rehearse binary), `work` (a fresh folder in /dev/shm, else the temp dir; removed at exit,
# and by the watcher of tied_cluster.sh when the script is killed with SIGKILL), a private REHEARSE_RUN_DIR
# in it (so that "nothing left in the run folder" counts only this script's clusters), and `fail MESSAGE`,
# which prints and counts into `failures`: the script ends with `[ "$failures" = 0 ]`.
# shellcheck disable=SC2034 # bin is for the sourcing script
bin=${REHEARSE_BIN:?REHEARSE_BIN must point at the rehearse binary}
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d) # tmpfs: each cluster copies a 28 MB data directory
chmod 0711 "$work" # the server account (rehearse runs as root here) must reach the run folder
export REHEARSE_RUN_DIR="$work/run"
mkdir -p "$REHEARSE_RUN_DIR"
trap 'rm -rf "$work"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/tied_cluster.sh"
rh_tie_folder "$work"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
