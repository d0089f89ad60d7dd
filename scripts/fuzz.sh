#!/usr/bin/env bash
# fuzz.sh [SECONDS] — fuzz the scenario parser with libFuzzer (+ASan/UBSan) for a bounded time
# (default 60 s), starting from tests/fuzz/corpus_scenario. Exits non-zero on a crash, leaving the
# crashing input in build-fuzz/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=${1:-60}
out=$root/build-fuzz
mkdir -p "$out/corpus"
cp -n "$root"/tests/fuzz/corpus_scenario/* "$out/corpus/" 2>/dev/null || true
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -I "$root/harness" \
  "$root/tests/fuzz/fuzz_scenario.c" "$root"/harness/scenario/*.c \
  "$root"/harness/util/{buf,err,fs}.c -o "$out/fuzz_scenario"
cd "$out"
./fuzz_scenario -max_total_time="$secs" -max_len=4096 -print_final_stats=1 corpus 2>&1 | tail -n 12
