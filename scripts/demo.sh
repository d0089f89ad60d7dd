#!/usr/bin/env bash
# demo.sh — install what is missing, build rehearse, and run it on the bundled examples.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" "$root/build" >/dev/null
rehearse="$root/build/harness/rehearse"
if [ -x "$root/scripts/make-fixtures.sh" ] && ls "$root"/scenarios/*.scn >/dev/null 2>&1 \
   && "$rehearse" run --help >/dev/null 2>&1; then
  "$root/scripts/make-fixtures.sh" "$root/scenarios/fixtures" >/dev/null
  exec "$rehearse" run "$root/scenarios"
fi
exec "$rehearse" deploy --migrations-dir "$root/examples/basic/prisma/migrations"
