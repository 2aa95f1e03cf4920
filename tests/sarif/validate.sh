#!/usr/bin/env bash
# Validates SARIF files against the official SARIF 2.1.0 JSON schema.
#
# Usage: tests/sarif/validate.sh FILE...
#
# The validator (requirements.txt beside this script) is installed on first use into a Python
# virtual environment under the cargo target directory, and reinstalled only when
# requirements.txt changes. Nothing is installed globally.
#
# Exit status: 0 all files valid, 1 some file invalid, 3 the validator could not be installed
# or its schema is not the expected one.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
case $target in /*) ;; *) target=$PWD/$target ;; esac
cache=${SARIF_VALIDATOR_DIR:-$target/sarif-validator}
venv=$cache/venv
stamp=$cache/installed-requirements.txt

unavailable() {
    echo "validate.sh: the SARIF validator is unavailable: $*" >&2
    exit 3
}

mkdir -p "$cache" || unavailable "cannot create $cache"

# Two test runs installing at once would trip over each other's half-made environment.
if command -v flock >/dev/null; then
    exec 9>"$cache/lock"
    flock 9
fi

if ! cmp -s "$here/requirements.txt" "$stamp" || [ ! -x "$venv/bin/python" ]; then
    command -v python3 >/dev/null || unavailable "python3 is not installed"
    rm -rf "$venv" "$stamp"
    echo "validate.sh: installing the SARIF validator into $venv" >&2
    python3 -m venv "$venv" >&2 || unavailable "python3 -m venv failed"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        -r "$here/requirements.txt" >&2 || unavailable "pip install failed"
    cp "$here/requirements.txt" "$stamp"
fi

"$venv/bin/python" "$here/validate.py" "$@"
