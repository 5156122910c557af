#!/usr/bin/env bash
# The suite's short fuzzing run: every target for 20,000 inputs under
# libFuzzer (clang) from its seeds, with a fixed seed, so the same inputs run
# every time (a fuzzer that finds something by chance would be a flaky test).
# Skipped (77) without clang's libFuzzer; bench/fuzz.sh SECONDS fuzzes for real.
#   brief.sh SOURCE_ROOT BUILD_ROOT [RUNS]
set -uo pipefail
src=$1 build=$2
export CK_FUZZ_RUNS=${3:-20000}
if ! command -v clang >/dev/null ||
   ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n){return 0;}' |
     clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
    echo "clang with libFuzzer is not installed (scripts/deps.sh --test installs it)"
    exit 77
fi
export CK_FUZZ_BUILD=$build/fuzz-build
exec "$src/bench/fuzz.sh"
