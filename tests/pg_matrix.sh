#!/usr/bin/env bash
# pg_matrix.sh MAJOR — the catalog, the engine and the bundled scenarios on PostgreSQL MAJOR (issue 13),
# installed with `rehearse pg install` (kept in its install folder between runs: only the first run
# fetches). Registered as ctest tests pg14, pg16, ... (label pg); the system's 15 runs everything else.
set -euo pipefail
major=${1:?usage: pg_matrix.sh MAJOR}
: "${REHEARSE_BIN:?}" "${REHEARSE_SOURCE_DIR:?}" "${TEST_CATALOG:?}" "${TEST_ENGINE:?}"
work=$(mktemp -d /tmp/rh-pg$major.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

"$REHEARSE_BIN" pg install "$major"
export REHEARSE_PG=$major
"$TEST_CATALOG"
"$TEST_ENGINE"
# The bundled scenarios on fixtures of their own (make-fixtures.sh rebuilds a folder in place: the
# scenarios_bundled test may be using the source tree's at the same time).
# The layout of the source tree (a scenario reads ../scripts/fixtures/...), in a repository of its own.
mkdir -p "$work/tree/scenarios" "$work/tree/scripts"
for f in "$REHEARSE_SOURCE_DIR"/scenarios/*; do   # everything but the built fixtures (rebuilt below)
    [ "$(basename "$f")" = fixtures ] || cp -r "$f" "$work/tree/scenarios/"
done
cp -r "$REHEARSE_SOURCE_DIR/scripts/fixtures" "$work/tree/scripts/"
git init -q "$work/tree"
"$REHEARSE_SOURCE_DIR/scripts/make-fixtures.sh" "$work/tree/scenarios/fixtures" >/dev/null
"$REHEARSE_BIN" run -j2 --no-color --pg "$major" "$work/tree/scenarios" > "$work/run.txt" || { cat "$work/run.txt"; exit 1; }
tail -n 1 "$work/run.txt"
