#!/usr/bin/env bash
# Fuzz every parser of untrusted input with libFuzzer (Debian's clang), and
# print executions per target.
#   bench/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default: 60 s, every target
# Builds build-fuzz/ (clang, -Dfuzz=true, ASan+UBSan) once. Each target starts
# from a copy of tests/fuzz/corpus/TARGET (the checked-in seeds stay as they
# are) in build-fuzz/work/TARGET; a crash or broken invariant leaves its input
# in build-fuzz/work/TARGET/crash-*: add it to tests/fuzz/regress/TARGET/ with
# the fix, and the suite replays it on every change.
# CK_FUZZ_RUNS=N runs N inputs per target with a fixed seed from the seeds
# alone (a fresh corpus): the same inputs every time, as the suite's brief
# run (tests/fuzz/brief.sh) needs, so it cannot fail by chance.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
dir=${CK_FUZZ_BUILD:-build-fuzz}
if [ ! -f "$dir/build.ninja" ]; then
    CC=clang meson setup "$dir" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        --buildtype=debugoptimized >/dev/null || exit 1
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=($(sed -n "s/^fuzz_targets = \[\(.*\)\]/\1/p" tests/fuzz/meson.build | tr -d "',"))
fi
# Only the fuzz targets (and the library they link): the whole clang build
# (the program, every test) took minutes of the suite's brief run for nothing.
exes=("${targets[@]/#/tests/fuzz/fuzz_}")
ninja -C "$dir" "${exes[@]}" >/dev/null || { ninja -C "$dir" "${exes[@]}" | tail -20; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=0
printf '%-10s %12s %10s %8s  %s\n' target execs exec/s corpus result
for t in "${targets[@]}"; do
    work=$dir/work/$t
    if [ -n "${CK_FUZZ_RUNS:-}" ]; then
        rm -rf "$work"
        limit=(-runs="$CK_FUZZ_RUNS" -seed=1)
    else
        limit=(-max_total_time="$secs")
    fi
    mkdir -p "$work/corpus"
    cp -n tests/fuzz/corpus/"$t"/* "$work/corpus/" 2>/dev/null || true
    log=$work/log.txt
    (cd "$work" && "../../tests/fuzz/fuzz_$t" "${limit[@]}" -max_len=65536 \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 corpus >"$(basename "$log")" 2>&1)
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    size=$(ls "$work/corpus" | wc -l)
    if [ $rc -eq 0 ]; then res=ok; else res="FAILED (see $log)"; failed=$((failed + 1)); fi
    printf '%-10s %12s %10s %8s  %s\n' "$t" "${execs:-?}" "${speed:-?}" "$size" "$res"
done
exit $((failed > 0))
