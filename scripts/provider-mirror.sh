#!/usr/bin/env bash
# Installs terraform-provider-hipaa into a filesystem mirror, so that `terraform init` finds it
# offline, with no registry, the way Terraform installs any other provider.
#
# Usage: scripts/provider-mirror.sh MIRROR_DIR
# The binary is target/release/terraform-provider-hipaa, built first; set HIPAA_PROVIDER_BIN
# to install another build. Then point Terraform at the mirror in its CLI configuration:
#
#   provider_installation {
#     filesystem_mirror {
#       path    = "MIRROR_DIR"
#       include = ["example.com/acme/hipaa"]
#     }
#     direct {
#       exclude = ["example.com/acme/hipaa"]
#     }
#   }
set -euo pipefail

mirror="${1:?usage: scripts/provider-mirror.sh MIRROR_DIR}"
repository="$(cd "$(dirname "$0")/.." && pwd)"
source_address="example.com/acme/hipaa"

binary="${HIPAA_PROVIDER_BIN:-}"
if [ -z "$binary" ]; then
  cargo build --release -p terraform-provider-hipaa --manifest-path "$repository/Cargo.toml" >&2
  binary="$repository/target/release/terraform-provider-hipaa"
fi

version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$repository/Cargo.toml" | head -n 1)"
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch="$(uname -m)" ;;
esac
os="$(uname -s | tr '[:upper:]' '[:lower:]')"

# The unpacked layout: HOSTNAME/NAMESPACE/TYPE/VERSION/TARGET/terraform-provider-TYPE_vVERSION
target_dir="$mirror/$source_address/$version/${os}_${arch}"
mkdir -p "$target_dir"
install -m 0755 "$binary" "$target_dir/terraform-provider-hipaa_v$version"
echo "installed $source_address $version for ${os}_${arch} in $mirror"
