#!/usr/bin/env bash
# Times `terraform plan` of 1,000 terraform_data resources (the baseline), 1,000 hipaa_*
# resources alone, and both together: first the plan of a fresh configuration, then, after an
# apply, the refresh-and-plan of an unchanged one. Each plan figure is the median of RUNS
# plans, as wall-clock seconds and as CPU seconds (user + system of Terraform and of the
# providers it ran); then come hipaa alone over the baseline (the target is 1.3x at most) and,
# last, the CPU time of fresh hipaa plans split between Terraform and the provider. On a
# machine shared with other work the CPU figures vary far less than the wall times.
#
# Usage: scripts/plan-timing.sh [COUNT [RUNS]]   (1000 of each kind, median of 3 plans)
# Needs terraform on the PATH. Builds the provider in release mode unless HIPAA_PROVIDER_DIR
# is set.
set -euo pipefail

count="${1:-1000}"
runs="${2:-3}"
repository="$(cd "$(dirname "$0")/.." && pwd)"
# HIPAA_PROVIDER_DIR names a directory holding an already built provider (scripts/bench.sh
# passes its own build, made with other packages and so with other dependency features).
if [[ -n "${HIPAA_PROVIDER_DIR:-}" ]]; then
  plugin_dir="$HIPAA_PROVIDER_DIR"
else
  cargo build --release -p terraform-provider-hipaa --manifest-path "$repository/Cargo.toml" >&2
  plugin_dir="$repository/target/release"
fi

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

# Prints the wall-clock seconds and the CPU seconds of one terraform command run in directory
# $1. The CPU time is that of the subshell's waited-for descendants: Terraform, and the
# provider processes Terraform waits for when it stops them.
time_command() {
  local dir="$1"
  shift
  local TIMEFORMAT='%R %U %S' timing real user system
  timing=$(
    { time (cd "$dir" && terraform "$@" -input=false -no-color > "$dir/last.log" 2>&1); } 2>&1
  ) || {
    cat "$dir/last.log" >&2
    exit 1
  }
  read -r real user system <<< "$timing"
  echo "$real $(echo "$user + $system" | bc)"
}

# Prints the median of its arguments.
median() {
  printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"
}

# Prints the median wall-clock and the median CPU seconds of $runs runs of one command.
median_of_runs() {
  local walls=() cpus=() i timing wall cpu
  for ((i = 0; i < runs; i++)); do
    timing=$(time_command "$@")
    read -r wall cpu <<< "$timing"
    walls+=("$wall")
    cpus+=("$cpu")
  done
  echo "$(median "${walls[@]}") $(median "${cpus[@]}")"
}

# Measures the configuration on stdin under the name $1; leaves "fresh-wall fresh-cpu
# refresh-wall refresh-cpu" seconds in $work/$1.times.
measure() {
  local name="$1" dir="$work/$1"
  mkdir -p "$dir"
  cat > "$dir/main.tf"
  local fresh apply refresh
  fresh=$(median_of_runs "$dir" plan)
  apply=$(time_command "$dir" apply -auto-approve -parallelism=10)
  refresh=$(median_of_runs "$dir" plan -detailed-exitcode)
  echo "$fresh $refresh" > "$work/$name.times"
  local fresh_wall fresh_cpu refresh_wall refresh_cpu
  read -r fresh_wall fresh_cpu refresh_wall refresh_cpu <<< "$fresh $refresh"
  printf '%-30s plan (fresh) %5.2fs, cpu %5.2fs   apply %6.2fs   ' \
    "$name" "$fresh_wall" "$fresh_cpu" "${apply%% *}"
  printf 'plan (after apply) %5.2fs, cpu %5.2fs\n' "$refresh_wall" "$refresh_cpu"
}

# Prints how many times slower the plans of $1 were than those of $2, in wall-clock and in
# CPU time.
ratio() {
  local a b
  read -r -a a < "$work/$1.times"
  read -r -a b < "$work/$2.times"
  printf '%s / %s: plan (fresh) %.2fx, cpu %.2fx   plan (after apply) %.2fx, cpu %.2fx\n' \
    "$1" "$2" "$(echo "${a[0]} / ${b[0]}" | bc -l)" "$(echo "${a[1]} / ${b[1]}" | bc -l)" \
    "$(echo "${a[2]} / ${b[2]}" | bc -l)" "$(echo "${a[3]} / ${b[3]}" | bc -l)"
}

# Splits the CPU time of fresh plans of the hipaa configuration between Terraform and the
# provider: Terraform starts the provider through a wrapper that appends the CPU time of itself
# and of the provider (bash's `times`, in milliseconds) to a log. What is left of the whole is
# Terraform's own: the plan would still take that much CPU if the provider took none at all,
# so divided by the baseline's CPU time it is the lowest CPU ratio this configuration can reach.
split_cpu() {
  local dir="$work/split" wrapper_dir="$work/split-provider" log="$work/split-provider.log"
  mkdir -p "$dir" "$wrapper_dir"
  write_hipaa > "$dir/main.tf"
  cat > "$wrapper_dir/terraform-provider-hipaa" <<WRAPPER
#!/usr/bin/env bash
"$plugin_dir/terraform-provider-hipaa" "\$@"
status=\$?
times >> "$log"
exit \$status
WRAPPER
  chmod +x "$wrapper_dir/terraform-provider-hipaa"
  sed "s|\"$plugin_dir\"|\"$wrapper_dir\"|" "$work/cli.tfrc" > "$work/split.tfrc"

  local totals=() providers=() own=() i total provider
  for ((i = 0; i < runs; i++)); do
    : > "$log"
    read -r _ total <<< "$(TF_CLI_CONFIG_FILE="$work/split.tfrc" time_command "$dir" plan)"
    # `times` prints two lines, the shell's own user and system time and then its children's,
    # as e.g. "0m0.012s 0m0.004s"; every field of every start is summed.
    provider=$(tr ' ' '\n' < "$log" | sed -n 's/^\([0-9]*\)m\([0-9.]*\)s$/\1 * 60 + \2/p' |
      paste -sd+ | bc)
    totals+=("$total")
    providers+=("$provider")
    own+=("$(echo "$total - $provider" | bc)")
  done
  local own_median base_cpu
  own_median=$(median "${own[@]}")
  read -r _ base_cpu _ _ < "$work/$baseline.times"
  printf '%s plan (fresh), cpu split: terraform %.2fs + provider %.2fs of %.2fs (medians)\n' \
    "$hipaa" "$own_median" "$(median "${providers[@]}")" "$(median "${totals[@]}")"
  printf "terraform's own cpu with the hipaa configuration / %s cpu: %.2fx\n" \
    "$baseline" "$(echo "$own_median / $base_cpu" | bc -l)"
}

echo "terraform $(terraform version | head -1 | sed 's/^Terraform //'), $count resources of" \
  "each kind, median of $runs plans; cpu: user + system of terraform and its providers"
baseline="terraform_data x$count" hipaa="hipaa x$count" both="hipaa + terraform_data x$count"
write_data | measure "$baseline"
write_hipaa | measure "$hipaa"
{ write_hipaa; write_data; } | measure "$both"
ratio "$hipaa" "$baseline"
ratio "$both" "$baseline"
split_cpu
