#!/usr/bin/env bash
# Builds the starting corpora of the fuzz targets in fuzz/corpus/<target>/ from the project's
# own inputs: test cases, examples and scanner fixtures, configurations and plans written by
# hipaa-gen, and the msgpack values kept in fuzz/seeds/msgpack_codec/. Files are named by
# their content's hash, so running it again adds nothing twice. libFuzzer grows each corpus
# from there; the corpora are not committed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
corpus="$root/fuzz/corpus"
mkdir -p "$corpus/hcl_loader" "$corpus/plan_loader" "$corpus/msgpack_codec"

# Copies each file named on stdin into a corpus directory under its content hash.
add() {
    local dir=$1 file hash
    while IFS= read -r file; do
        hash=$(sha256sum "$file" | cut -c1-16)
        cp "$file" "$dir/seed-$hash"
    done
}

cd "$root"
find tests/cases examples scanner/tests/fixtures -name '*.tf' -size -64k | add "$corpus/hcl_loader"
find tests/cases scanner/tests/fixtures -name 'plan.json' -size -256k | add "$corpus/plan_loader"
find fuzz/seeds/msgpack_codec -type f | add "$corpus/msgpack_codec"

# Generated inputs, small enough for libFuzzer to mutate quickly.
gen="$root/target/release/hipaa-gen"
if [ ! -x "$gen" ]; then
    cargo build --release -p hipaa-bench --bin hipaa-gen
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for size in 4 20; do
    "$gen" plan --resources "$size" --out "$scratch/plan-$size.json" >/dev/null
    "$gen" hcl --resources "$size" --out "$scratch/hcl-$size" >/dev/null
done
find "$scratch" -name 'plan-*.json' | add "$corpus/plan_loader"
find "$scratch" -name '*.tf' -size -64k | add "$corpus/hcl_loader"

for target in hcl_loader plan_loader msgpack_codec; do
    echo "$target: $(find "$corpus/$target" -type f | wc -l) inputs"
done
