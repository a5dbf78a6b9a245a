#!/usr/bin/env python3
"""Validates Protocol/: openapi.yaml (OpenAPI 3.1) and every JSON Schema
(draft 2020-12), then every example body of vectors/ against its schema.

Run by .ci/run; needs the PyPI packages openapi-spec-validator and jsonschema.
Exits non-zero, naming the file, on the first class of failure."""
import json, pathlib, sys
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from referencing import Registry, Resource

root = pathlib.Path(__file__).resolve().parent
failures = 0
registry = Registry()
schemas = {}
for path in sorted((root / "schemas").glob("*.json")):
    schema = json.loads(path.read_text())
    try:
        Draft202012Validator.check_schema(schema)
    except Exception as e:  # noqa: BLE001
        print(f"FAIL {path.relative_to(root)}: {e}")
        failures += 1
        continue
    schemas[path.stem] = schema
    registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
print(f"{len(schemas)} JSON Schemas valid (draft 2020-12)")

spec, base = read_from_filename(str(root / "openapi.yaml"))
try:
    validate(spec, base_uri=base)
    print("openapi.yaml valid (OpenAPI 3.1)")
except Exception as e:  # noqa: BLE001
    print(f"FAIL openapi.yaml: {e}")
    failures += 1

# Bodies the vectors give as valid messages must match their schema.
checked = 0
for path in sorted((root / "vectors").glob("*.json")):
    doc = json.loads(path.read_text())
    for vector in doc.get("vectors", []):
        examples = list(vector.get("messages", []))
        # The changes of merge and pull vectors are messages too.
        for change in vector.get("start", []) + vector.get("changes", []) + vector.get("held", []):
            examples.append({"schema": "change", "body": change})
        for example in examples:
            validator = Draft202012Validator(schemas[example["schema"]], registry=registry)
            errors = list(validator.iter_errors(example["body"]))
            if bool(errors) == example.get("valid", True):
                print(f"FAIL {path.name} {vector['id']}: {example['schema']} expected valid={example.get('valid', True)}: {errors[:1]}")
                failures += 1
            checked += 1
print(f"{checked} vector messages checked against their schemas")
sys.exit(1 if failures else 0)
