#!/usr/bin/env bash
# test.sh — install what is missing, build, and run every test: the normal build, then the
# Release build (built only: what the package ships), then the ASan+UBSan build, then the unit
# tests under valgrind, then a bounded fuzzing run of the parsers. Tests start real PostgreSQL
# clusters (and run the real Prisma CLI).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/bootstrap.sh"

echo "== build (RelWithDebInfo) =="
"$root/scripts/build.sh" "$root/build"
# The package is built -O3 (ci/*.yml); -O3 finds warnings -O2 does not (maybe-uninitialized broke it once).
echo "== build (Release, as the package: no tests) =="
"$root/scripts/build.sh" "$root/build-release" -DCMAKE_BUILD_TYPE=Release -DREHEARSE_TESTS=OFF
echo "== tests =="
ctest --test-dir "$root/build" --output-on-failure -j2 --timeout 900 | tee "$root/build/ctest.log"
passed=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$root/build/ctest.log")
passed=$((passed + 1)) # the Release build

echo "== build (ASan + UBSan) =="
"$root/scripts/build.sh" "$root/build-asan" -DREHEARSE_SANITIZE=ON
echo "== tests under ASan + UBSan =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$root/build-asan" --output-on-failure -j2 --timeout 900 -E '^conformance_' -LE '^pg$' \
  | tee "$root/build-asan/ctest.log"
passed=$((passed + $(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$root/build-asan/ctest.log")))

echo "== unit tests under valgrind (memcheck) =="
# as under ctest (tests/CMakeLists.txt): a unit binary run directly would otherwise publish deployed states into
# the shared ~/.cache/rehearse; test_state_cache turns the cache on itself where it tests it
for t in "$root"/build/tests/test_*; do
  [ -x "$t" ] || continue
  REHEARSE_NO_CACHE=1 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --child-silent-after-fork=yes "$t" >"$root/build/valgrind-$(basename "$t").log" 2>&1 \
    || { echo "FAIL: valgrind $(basename "$t") (log: build/valgrind-$(basename "$t").log)" >&2; tail -n 40 "$root/build/valgrind-$(basename "$t").log" >&2; exit 1; }
  echo "valgrind clean: $(basename "$t")"
  passed=$((passed + 1))
done

echo "== fuzzing the scenario parser (libFuzzer, ${REHEARSE_FUZZ_SECONDS:-60} s) =="
"$root/scripts/fuzz.sh" "${REHEARSE_FUZZ_SECONDS:-60}"
passed=$((passed + 1))

# No test may leave a server behind.
left=$(ps -eo pid=,args= | awk '$2 ~ /(^|\/)postgres$/ && / -D .*rehearse-/' || true)
if [ -n "$left" ]; then
  echo "FAIL: PostgreSQL servers left running by the tests:" >&2
  echo "$left" >&2
  exit 1
fi
echo "all checks: $passed passed, 0 failed"
