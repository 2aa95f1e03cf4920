#!/usr/bin/env bash
# The whole benchmark in one run: hipaa scan against the JSON parsing floor and checkov (and
# trivy when it is on the PATH) on generated plans and configuration trees of 1,000, 10,000
# and 50,000 resources, then the provider's start-up and terraform plan timings. Prints one
# table and writes it to target/bench/results.md. See "Benchmarks" in README.md.
#
# Usage: scripts/bench.sh [--sizes 1000,10000,50000] [--runs 3] [--timeout 600]
#                         [--no-checkov] [--no-terraform]
#
# Builds the release binaries; installs checkov (pinned below) into target/bench/checkov-venv
# the first time. Inputs under target/bench/inputs are reused while the generator is unchanged.
set -euo pipefail

checkov_version="3.3.30"
sizes="1000,10000,50000"
runs=3
timeout=600
use_checkov=1
use_terraform=1

while (($#)); do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --no-checkov) use_checkov=0; shift ;;
    --no-terraform) use_terraform=0; shift ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

repository="$(cd "$(dirname "$0")/.." && pwd)"
work="$repository/target/bench"
mkdir -p "$work"

cargo build --release --manifest-path "$repository/Cargo.toml" \
  -p hipaa-scanner -p hipaa-bench -p terraform-provider-hipaa --bins --example load_plan >&2

arguments=(--sizes "$sizes" --runs "$runs" --timeout "$timeout" --work "$work"
  --bin-dir "$repository/target/release")

if ((use_checkov)); then
  venv="$work/checkov-venv"
  installed="$("$venv/bin/python" -m pip show checkov 2>/dev/null | sed -n 's/^Version: //p' || true)"
  if [[ "$installed" != "$checkov_version" ]]; then
    echo "installing checkov $checkov_version into $venv (a few minutes, once)" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet "checkov==$checkov_version" >&2
  fi
  arguments+=(--checkov "$venv/bin/checkov")
fi

if ((use_terraform)); then
  arguments+=(--plan-timing "$repository/scripts/plan-timing.sh")
fi

exec "$repository/target/release/hipaa-bench" "${arguments[@]}"
