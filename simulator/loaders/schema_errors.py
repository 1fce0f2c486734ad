"""JSON-Schema failures as Problems: one message per failure, at the key or value it concerns.

Shared by the design loader and the intent loader, so both speak the same way:
unknown keys with a "did you mean", wrong types in words, enum choices listed.
"""

from __future__ import annotations

import jsonschema

from .yamlsource import Report, describe, did_you_mean

TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
              "number": "a number", "boolean": "true or false", "null": "nothing"}


def report_schema_error(report: Report, path: tuple, err: jsonschema.ValidationError,
                        allow_key=lambda path, key: False) -> None:
    """Turn one validation error into problems on ``report`` (``allow_key``: keys to let through)."""
    kind, schema, inst = err.validator, err.schema, err.instance
    if kind == "additionalProperties" and isinstance(inst, dict):
        known = list(schema.get("properties", {}))
        for key in inst:
            if key in known or allow_key(path, key):
                continue
            hint = did_you_mean(key, known) or (f"; expected one of {', '.join(known)}" if known else "")
            report.error((*path, key), f'unknown key "{key}"{hint}', key=True)
            report.mute((*path, key))
        return
    if kind == "required":
        for key in err.validator_value:
            if isinstance(inst, dict) and key not in inst:
                report.error(path, f'missing required key "{key}"', key=True)
        return
    if kind == "type":
        want = err.validator_value
        want = " or ".join(TYPE_WORDS.get(t, t) for t in (want if isinstance(want, list) else [want]))
        message = f"expected {want}, not {describe(inst)}"
    elif kind == "enum":
        options = ", ".join(str(o) for o in err.validator_value)
        message = f'"{inst}" is not one of {options}{did_you_mean(inst, [str(o) for o in err.validator_value])}'
    elif kind == "pattern":
        message = f'"{inst}" is not valid: {schema.get("patternErrorMessage", "must match " + err.validator_value)}'
    elif kind in ("minimum", "maximum"):
        message = f"{inst} is out of range ({schema.get('minimum', '')}-{schema.get('maximum', '')})"
    elif kind in ("minItems", "minLength"):
        message = "must not be empty"
    else:
        message = err.message
    report.error(path, message, dedupe=True)
    report.mute(path)
