#!/usr/bin/env bash
# test.sh — install what is missing, build, and run every test: the normal build, then the
# ASan+UBSan build. Tests start real PostgreSQL clusters (and run the real Prisma CLI).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/bootstrap.sh"

echo "== build (RelWithDebInfo) =="
"$root/scripts/build.sh" "$root/build"
echo "== tests =="
ctest --test-dir "$root/build" --output-on-failure -j2 --timeout 900

echo "== build (ASan + UBSan) =="
"$root/scripts/build.sh" "$root/build-asan" -DREHEARSE_SANITIZE=ON
echo "== tests under ASan + UBSan =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$root/build-asan" --output-on-failure -j2 --timeout 900 -E '^conformance_'

# No test may leave a server behind.
left=$(ps -eo pid=,args= | awk '$2 ~ /(^|\/)postgres$/ && / -D .*rehearse-/' || true)
if [ -n "$left" ]; then
  echo "FAIL: PostgreSQL servers left running by the tests:" >&2
  echo "$left" >&2
  exit 1
fi
