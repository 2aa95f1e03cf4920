#!/usr/bin/env bash
# Fuzzes one target, or each in turn, for SECONDS each; needs cargo-fuzz and a nightly
# toolchain (see fuzz/README.md).
#
#   scripts/fuzz.sh hcl_loader|plan_loader|msgpack_codec|all SECONDS
#
# Each run is one libFuzzer process in fork mode with one job, so that a crash is saved and the
# run goes on. Crashing inputs land in fuzz/artifacts/<target>/, the full output in
# fuzz/logs/, and a line per run (target, seconds, executions, crashes) is added to
# fuzz/RUNS.md.
set -euo pipefail

if [ $# -ne 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 hcl_loader|plan_loader|msgpack_codec|all SECONDS" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# The longest input each target is given: a few times its larger seeds, no more, so that
# time goes to variety rather than to mutating huge files.
declare -A max_len=([hcl_loader]=16384 [plan_loader]=80000 [msgpack_codec]=4096)

case $1 in
    all) targets=(hcl_loader plan_loader msgpack_codec) ;;
    hcl_loader | plan_loader | msgpack_codec) targets=("$1") ;;
    *)
        echo "unknown target $1; expected hcl_loader, plan_loader, msgpack_codec or all" >&2
        exit 2
        ;;
esac
seconds=$2

# Counts the inputs libFuzzer saved for a target as crashes, timeouts or out-of-memory.
count_artifacts() {
    find "fuzz/artifacts/$1" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \) |
        wc -l
}

for target in "${targets[@]}"; do
    [ -d "fuzz/corpus/$target" ] || fuzz/seeds.sh
    # No sanitizer: the product is safe Rust, so the checks that matter are panics, overflow
    # checks (on by default) and the stack and memory limits, at twice the speed.
    cargo +nightly fuzz build --sanitizer none "$target"
    # cargo-fuzz builds for the host's target triple, which names the output directory.
    host="$(rustc -vV | sed -n 's/^host: //p')"
    binary="fuzz/target/$host/release/$target"

    mkdir -p "fuzz/artifacts/$target" fuzz/logs
    log="fuzz/logs/$target-$(date -u +%Y%m%dT%H%M%SZ).log"
    before=$(count_artifacts "$target")
    # -timeout: a `count` near the loader's 100 000-instance limit takes seconds in this
    # instrumented build on a busy machine; a hang takes far longer.
    "$binary" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
        -max_len="${max_len[$target]}" -artifact_prefix="fuzz/artifacts/$target/" \
        "fuzz/corpus/$target" 2>"$log" || true

    # Fork mode reports "#EXECS: cov: ... oom/timeout/crash: O/T/C time: Ss ..." as it goes.
    # Its counts include a stack overflow, whose input is lost without a sanitizer.
    last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -n 1 || true)
    execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
    counted=$(sed -nE 's@.*oom/timeout/crash: ([0-9/]+).*@\1@p' <<<"$last")
    saved=$(($(count_artifacts "$target") - before))
    [ -f fuzz/RUNS.md ] || printf '%s\n\n%s\n%s\n' '# Fuzzing runs' \
        '| date (UTC) | target | seconds | executions | oom/timeout/crash | inputs saved | commit |' \
        '|---|---|---|---|---|---|---|' >fuzz/RUNS.md
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$target" \
        "$seconds" "${execs:-0}" "${counted:-0/0/0}" "$saved" "$(git rev-parse --short HEAD)" \
        >>fuzz/RUNS.md
    echo "$target: ${execs:-0} executions in ${seconds}s, $saved inputs saved (log: $log)"
done
