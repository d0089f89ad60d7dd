#!/usr/bin/env bash
# bundled.test.sh — the bundled scenarios (the seed incidents, replayed) must all pass, at -j2,
# on fixture repositories built from scratch; and TAP output must satisfy a real TAP consumer.
set -euo pipefail
: "${REHEARSE_BIN:?}" "${REHEARSE_SOURCE_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Build the fixtures where the scenarios expect them (scenarios/fixtures, gitignored).
"$REHEARSE_SOURCE_DIR/scripts/make-fixtures.sh" "$REHEARSE_SOURCE_DIR/scenarios/fixtures" >/dev/null

"$REHEARSE_BIN" run -j2 --no-color "$REHEARSE_SOURCE_DIR/scenarios" | tee "$work/human.txt"

# TAP 13 through prove (the consumer pg_prove users have).
"$REHEARSE_BIN" run -j2 --format tap --output "$work/run.tap" --filter clean- "$REHEARSE_SOURCE_DIR/scenarios" >/dev/null
prove --exec cat "$work/run.tap"
