#!/usr/bin/env bash
# demo.sh — install what is missing, build rehearse, build the fixture repositories, and run the
# bundled scenarios (the seed incidents, replayed) on throwaway clusters. Extra arguments go to
# `rehearse run` (e.g. --filter breederhq, --format tap).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" "$root/build" >/dev/null
"$root/scripts/make-fixtures.sh" "$root/scenarios/fixtures" >/dev/null
exec "$root/build/harness/rehearse" run -j"$(nproc)" "$@" "$root/scenarios"
