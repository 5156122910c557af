#!/usr/bin/env bash
# The suite's short fuzzing run: every target for 5,000 inputs under
# libFuzzer (clang) from its seeds, with a fixed seed, so the same inputs run
# every time (a fuzzer that finds something by chance would be a flaky test).
# 5,000, not 20,000: the Bluesky target's 62 KB seed runs at about 135 inputs a
# second under ASan, so 20,000 took 150 s of the suite's 17 minutes; the long
# runs are bench/fuzz.sh's job.
# Skipped (77) without clang's libFuzzer; bench/fuzz.sh SECONDS fuzzes for real.
#   brief.sh SOURCE_ROOT BUILD_ROOT [RUNS]
set -uo pipefail
src=$1 build=$2
export CK_FUZZ_RUNS=${3:-5000}
if ! command -v clang >/dev/null ||
   ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n){return 0;}' |
     clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
    echo "clang with libFuzzer is not installed (scripts/deps.sh --test installs it)"
    exit 77
fi
export CK_FUZZ_BUILD=$build/fuzz-build
exec "$src/bench/fuzz.sh"
