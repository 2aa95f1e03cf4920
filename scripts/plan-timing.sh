#!/usr/bin/env bash
# Times `terraform plan` for 1,000 hipaa_* resources beside 1,000 terraform_data resources,
# against a baseline of the terraform_data resources alone: first the plan of a fresh
# configuration, then, after an apply, the refresh-and-plan of an unchanged one.
#
# Usage: scripts/plan-timing.sh [COUNT]   (COUNT defaults to 1000 of each)
# Needs terraform on the PATH. Builds the provider in release mode.
set -euo pipefail

count="${1:-1000}"
repository="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release -p terraform-provider-hipaa --manifest-path "$repository/Cargo.toml" >&2
plugin_dir="$repository/target/release"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat > "$work/cli.tfrc" <<CONFIG
provider_installation {
  dev_overrides {
    "example.com/acme/hipaa" = "$plugin_dir"
  }
}
disable_checkpoint = true
CONFIG
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

# terraform_data resources only: the baseline.
write_data() {
  cat <<HCL
resource "terraform_data" "filler" {
  count = $count
  input = "filler-\${count.index}"
}
HCL
}

# One license and one agreement, then boundaries, roles and reviews bound to the license.
write_hipaa() {
  local rest=$((count - 2))
  local boundaries=$((rest / 3)) roles=$((rest / 3))
  local reviews=$((rest - boundaries - roles))
  cat <<HCL
terraform {
  required_providers {
    hipaa = { source = "example.com/acme/hipaa" }
  }
}

resource "hipaa_license" "main" {
  name    = "timing"
  version = "1"
}

resource "hipaa_baa" "main" {
  vendor          = "Vendor"
  services        = ["s3"]
  effective_date  = "2025-01-01"
  expiration_date = "2099-12-31"
}

resource "hipaa_boundary" "b" {
  count      = $boundaries
  license_id = hipaa_license.main.id
  name       = "boundary-\${count.index}"
  regions    = ["us-east-1"]
}

resource "hipaa_access_role" "r" {
  count       = $roles
  license_id  = hipaa_license.main.id
  name        = "role-\${count.index}"
  permissions = ["claims:read"]
}

resource "hipaa_security_review" "v" {
  count        = $reviews
  license_id   = hipaa_license.main.id
  performed_on = "2025-06-01"
  reviewer     = "reviewer-\${count.index}"
}
HCL
}

# Prints the wall-clock seconds of one terraform command run in directory $1.
time_command() {
  local dir="$1"
  shift
  local start end
  start=$(date +%s.%N)
  (cd "$dir" && terraform "$@" -input=false -no-color > "$dir/last.log" 2>&1) || {
    cat "$dir/last.log" >&2
    exit 1
  }
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

measure() {
  local name="$1" dir="$work/$1"
  mkdir -p "$dir"
  cat > "$dir/main.tf"
  local fresh apply refresh
  fresh=$(time_command "$dir" plan)
  apply=$(time_command "$dir" apply -auto-approve -parallelism=10)
  refresh=$(time_command "$dir" plan -detailed-exitcode)
  printf '%-28s plan (fresh) %7.2fs   apply %7.2fs   plan (after apply) %7.2fs\n' \
    "$name" "$fresh" "$apply" "$refresh"
}

echo "terraform $(terraform version | head -1), $count resources of each kind"
write_data | measure "terraform_data x$count"
{ write_hipaa; write_data; } | measure "hipaa x$count + data x$count"
