#!/usr/bin/env bash
# fuzz.sh [SECONDS] — fuzz rehearse's parsers with libFuzzer (+ASan/UBSan) for a bounded time:
# the scenario parser for SECONDS (default 60 s) from tests/fuzz/corpus_scenario, then the package
# managers' lock and workspace files (tools/prisma/lockfile.c) for a third of that (at least 10 s) from
# tests/fuzz/corpus_lockfile, then the cluster records and watchdog lines (cluster/record.c) for 10 s
# from tests/fuzz/corpus_record, then the stats documents and --rows guesses (scale/load.c) for 10 s
# from tests/fuzz/corpus_scale, then the split decision (tools/prisma/sqlparser_model.c) for 10 s from
# tests/fuzz/corpus_sql, then drizzle-kit's journal reader (tools/drizzle) for 10 s from
# tests/fuzz/corpus_drizzle, then dbmate's file reader and marker parser (tools/dbmate) for 10 s from
# tests/fuzz/corpus_dbmate, then `rehearse report merge`'s reader of run reports (report/merge.c) for
# 10 s from tests/fuzz/corpus_report, then the catalog's golden files and `expect` texts (catalog/text.c,
# assert.c) for 10 s from tests/fuzz/corpus_catalog, then PostgreSQL and Prisma versions and DATABASE_URL
# parameters and connection strings (util/pgver.c, tools/prisma/{profile,url}.c, util/pgurl.c's parse half)
# for 10 s from tests/fuzz/corpus_versions,
# then the files kept with a deployed state (cluster/state_file.c, engine/catalog_file.c) for 10 s from
# tests/fuzz/corpus_state_file, then the session texts the lock-wait proof takes as plain (runner/lock_text.c)
# for 10 s from tests/fuzz/corpus_lock_text. Exits non-zero on a crash, leaving the crashing input in build-fuzz/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=${1:-60}
lock_secs=$((secs / 3 > 10 ? secs / 3 : 10))
out=$root/build-fuzz
mkdir -p "$out/corpus" "$out/corpus_lockfile" "$out/corpus_record" "$out/corpus_scale" "$out/corpus_sql" "$out/corpus_drizzle" "$out/corpus_dbmate" "$out/corpus_report" \
  "$out/corpus_catalog" "$out/corpus_versions" "$out/corpus_state_file" "$out/corpus_lock_text"
cp -n "$root"/tests/fuzz/corpus_catalog/* "$out/corpus_catalog/" 2>/dev/null || true
cp -n "$root"/tests/fuzz/corpus_versions/* "$out/corpus_versions/" 2>/dev/null || true
cp -n "$root"/tests/fuzz/corpus_state_file/* "$out/corpus_state_file/" 2>/dev/null || true
cp -n "$root"/tests/fuzz/corpus_lock_text/* "$out/corpus_lock_text/" 2>/dev/null || true
cp -n "$root"/tests/fuzz/corpus_report/* "$out/corpus_report/" 2>/dev/null || true
cp -n "$root"/tests/fuzz/corpus_drizzle/* "$out/corpus_drizzle/" 2>/dev/null || true
cp -n "$root"/tests/fuzz/corpus_dbmate/* "$out/corpus_dbmate/" 2>/dev/null || true
cp -n "$root"/tests/fuzz/corpus_scenario/* "$out/corpus/" 2>/dev/null || true
cp -n "$root"/tests/fuzz/corpus_lockfile/* "$out/corpus_lockfile/" 2>/dev/null || true
cp -n "$root"/tests/fuzz/corpus_record/* "$out/corpus_record/" 2>/dev/null || true
cp -n "$root"/tests/fuzz/corpus_scale/* "$out/corpus_scale/" 2>/dev/null || true
cp -n "$root"/tests/fuzz/corpus_sql/* "$out/corpus_sql/" 2>/dev/null || true
cflags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -I "$root/harness")
clang "${cflags[@]}" $(pkg-config --cflags json-c libpq) "$root/tests/fuzz/fuzz_scenario.c" "$root"/harness/scenario/*.c \
  "$root"/harness/scale/load.c "$root"/harness/util/{buf,err,fs,pgver,workers}.c $(pkg-config --libs json-c) -o "$out/fuzz_scenario"
clang "${cflags[@]}" $(pkg-config --cflags json-c) "$root/tests/fuzz/fuzz_lockfile.c" \
  "$root/harness/tools/prisma/lockfile.c" "$root"/harness/util/{buf,err}.c $(pkg-config --libs json-c) \
  -o "$out/fuzz_lockfile"
clang "${cflags[@]}" $(pkg-config --cflags libpq) "$root/tests/fuzz/fuzz_record.c" "$root/harness/cluster/record.c" \
  "$root"/harness/util/{buf,err,fs,workers}.c -o "$out/fuzz_record"
clang "${cflags[@]}" $(pkg-config --cflags json-c libpq) "$root/tests/fuzz/fuzz_scale.c" "$root"/harness/scale/load.c \
  "$root"/harness/util/{buf,err,fs,workers}.c $(pkg-config --libs json-c) -o "$out/fuzz_scale"
clang "${cflags[@]}" $(pkg-config --cflags json-c) "$root/tests/fuzz/fuzz_sqlparser_model.c" \
  "$root/harness/tools/prisma/sqlparser_model.c" "$root"/harness/migrations/{split,globals}.c "$root"/harness/util/{buf,err}.c \
  -lpg_query $(pkg-config --libs json-c) -o "$out/fuzz_sqlparser_model"
clang "${cflags[@]}" $(pkg-config --cflags json-c libpq libgit2) "$root/tests/fuzz/fuzz_drizzle.c" \
  "$root/harness/tools/drizzle/drizzle.c" "$root"/harness/migrations/{migset,split,txblock}.c "$root"/harness/source/{folder,git,odb_guard,hist_finding}.c \
  "$root"/harness/util/{buf,err,fs,utf8,workers}.c -lpg_query $(pkg-config --libs json-c libpq libgit2 zlib) -lcrypto -o "$out/fuzz_drizzle"
clang "${cflags[@]}" $(pkg-config --cflags json-c libpq icu-i18n libgit2) "$root/tests/fuzz/fuzz_dbmate.c" \
  "$root/harness/tools/dbmate/dbmate.c" "$root"/harness/migrations/{migset,split,profile,txblock}.c "$root/harness/engine/result.c" \
  "$root"/harness/source/{folder,git,odb_guard,hist_finding}.c "$root/harness/tools/renames.c" "$root"/harness/util/{buf,err,fs,utf8,workers}.c -lpg_query \
  $(pkg-config --libs json-c libpq icu-i18n libgit2 zlib) -lcrypto -o "$out/fuzz_dbmate"
clang "${cflags[@]}" $(pkg-config --cflags json-c libpq) "$root/tests/fuzz/fuzz_report_json.c" "$root/harness/report/merge.c" \
  "$root/harness/runner/result.c" "$root"/harness/{migrations,tools/prisma}/profile.c "$root"/harness/util/{buf,err}.c \
  $(pkg-config --libs json-c icu-i18n) -o "$out/fuzz_report_json"
clang "${cflags[@]}" $(pkg-config --cflags json-c libpq) "$root/tests/fuzz/fuzz_catalog.c" \
  "$root"/harness/catalog/{text,model,assert,nearest}.c "$root"/harness/util/{buf,err}.c -o "$out/fuzz_catalog"
clang "${cflags[@]}" $(pkg-config --cflags json-c libpq) "$root/tests/fuzz/fuzz_versions.c" "$root"/harness/util/{pgver,pgurl,pgenv,buf,err}.c \
  "$root"/harness/tools/prisma/{profile,url}.c $(pkg-config --libs libpq) -o "$out/fuzz_versions"
clang "${cflags[@]}" $(pkg-config --cflags libpq) "$root/tests/fuzz/fuzz_state_file.c" "$root/harness/cluster/state_file.c" \
  "$root/harness/engine/catalog_file.c" "$root/harness/runner/steps_file.c" "$root"/harness/util/{buf,err}.c -lcrypto \
  -o "$out/fuzz_state_file"
clang "${cflags[@]}" "$root/tests/fuzz/fuzz_lock_text.c" "$root/harness/runner/lock_text.c" -o "$out/fuzz_lock_text"
cd "$out"
./fuzz_scenario -max_total_time="$secs" -max_len=4096 -print_final_stats=1 corpus 2>&1 | tail -n 12
./fuzz_lockfile -max_total_time="$lock_secs" -max_len=4096 -print_final_stats=1 corpus_lockfile 2>&1 | tail -n 12
./fuzz_record -max_total_time=10 -max_len=4096 -print_final_stats=1 corpus_record 2>&1 | tail -n 12
./fuzz_scale -max_total_time=10 -max_len=4096 -print_final_stats=1 corpus_scale 2>&1 | tail -n 12
./fuzz_sqlparser_model -max_total_time=10 -max_len=4096 -print_final_stats=1 corpus_sql 2>&1 | tail -n 12
./fuzz_drizzle -max_total_time=10 -max_len=4096 -print_final_stats=1 corpus_drizzle 2>&1 | tail -n 12
./fuzz_dbmate -max_total_time=10 -max_len=4096 -print_final_stats=1 corpus_dbmate 2>&1 | tail -n 12
./fuzz_report_json -max_total_time=10 -max_len=65536 -print_final_stats=1 corpus_report 2>&1 | tail -n 12
./fuzz_catalog -max_total_time=10 -max_len=8192 -print_final_stats=1 corpus_catalog 2>&1 | tail -n 12
./fuzz_versions -max_total_time=10 -max_len=4096 -print_final_stats=1 corpus_versions 2>&1 | tail -n 12
./fuzz_state_file -max_total_time=10 -max_len=4096 -print_final_stats=1 corpus_state_file 2>&1 | tail -n 12
./fuzz_lock_text -max_total_time=10 -max_len=1024 -print_final_stats=1 corpus_lock_text 2>&1 | tail -n 12
