"""JSON-Schema failures as Problems: one message per failure, at the key or value it concerns.

Shared by the design loader and the intent loader, so both speak the same way:
unknown keys with a "did you mean", wrong types in words, enum choices listed.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

from .yamlsource import Report, describe, did_you_mean, shown

if TYPE_CHECKING:
    import jsonschema

TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
              "number": "a number", "boolean": "true or false", "null": "nothing"}


def report_schema_error(report: Report, path: tuple, err: jsonschema.ValidationError,
                        allow_key=lambda path, key: False) -> None:
    """Turn one validation error into problems on ``report`` (``allow_key``: keys to let through)."""
    kind, schema, inst = err.validator, err.schema, err.instance
    if "propertyNames" in err.schema_path:  # a bad key: say it at the key, not at the mapping
        path = (*path, inst)
        if kind == "maxLength":
            message = f'the key "{shown(inst)}" is {len(inst)} characters long; at most {err.validator_value}'
        else:
            message = f'the key "{shown(inst)}" is not valid: {schema.get("patternErrorMessage", "must match " + str(err.validator_value))}'
        report.error(path, message, key=True)
        return
    if kind == "additionalProperties" and isinstance(inst, dict):
        known = list(schema.get("properties", {}))
        for key in inst:
            if key in known or allow_key(path, key):
                continue
            hint = did_you_mean(key, known) or (f"; expected one of {', '.join(known)}" if known else "")
            report.error((*path, key), f'unknown key "{shown(key)}"{hint}', key=True)
        return
    if kind == "required":
        for key in err.validator_value:
            if isinstance(inst, dict) and key not in inst:
                report.error(path, f'missing required key "{key}"', key=True)
        return
    if kind == "enum" and "type" in schema and not _type_ok(schema["type"], inst):
        return  # the type error about the same value says it
    if kind == "type":
        want = err.validator_value
        want = " or ".join(TYPE_WORDS.get(str(t), str(t)) for t in (want if isinstance(want, list) else [want]))
        message = f"expected {want}, not {describe(inst)}"
    elif kind == "enum":
        options = ", ".join(str(o) for o in err.validator_value)
        message = f'"{shown(inst)}" is not one of {options}{did_you_mean(inst, [str(o) for o in err.validator_value])}'
    elif kind == "pattern":
        message = f'"{shown(inst)}" is not valid: {schema.get("patternErrorMessage", "must match " + err.validator_value)}'
    elif kind in ("minimum", "maximum"):
        message = f"{shown(inst)} is out of range ({schema.get('minimum', '')}-{schema.get('maximum', '')})"
    elif kind == "maxLength" and isinstance(inst, str):
        message = f'"{shown(inst)}" is {len(inst)} characters long; at most {err.validator_value}'
    elif kind in ("minItems", "minLength"):
        message = "must not be empty"
    elif kind == "uniqueItems" and isinstance(inst, list):
        seen: list = []
        twice = None
        for item in inst:
            if item in seen:
                twice = item
                break
            seen.append(item)
        message = f"{describe(twice)} is listed more than once; each item must be unique"
    else:
        message = err.message
    report.error(path, message)


# --- a faster validator --------------------------------------------------------------------
# jsonschema spends about 40 microseconds on each scalar it descends into; a design of 200,000
# values (the loader's limit) would take seconds.  Scalars whose schema uses only the keywords
# below are checked here directly, and handed to jsonschema (for its exact error) only when
# they fail.

_SCALAR_KEYWORDS = {"type", "enum", "minimum", "maximum", "pattern", "minLength", "maxLength",
                    # keywords that do not apply to scalars, or only annotate
                    "properties", "additionalProperties", "required", "items", "minItems", "propertyNames",
                    "description", "examples", "default", "patternErrorMessage", "title", "$comment"}
_TYPES = {"string": lambda v: isinstance(v, str), "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
          "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
          "boolean": lambda v: isinstance(v, bool), "null": lambda v: v is None,
          "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list)}


def _type_ok(kinds: object, value: object) -> bool:
    return any(_TYPES[k](value) for k in (kinds if isinstance(kinds, list) else [kinds]) if k in _TYPES)


_CHECKERS: dict[int, tuple[object, object]] = {}  # id(schema) -> (schema, checker or None)


def _checker(schema: object):
    """A function value -> bool for a scalar-only schema (None when the schema needs jsonschema)."""
    cached = _CHECKERS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    check = None
    if isinstance(schema, dict) and schema.keys() <= _SCALAR_KEYWORDS:
        kinds = schema.get("type")
        kinds = None if kinds is None else tuple(kinds if isinstance(kinds, list) else [kinds])
        enum = schema.get("enum")
        low, high = schema.get("minimum"), schema.get("maximum")
        pattern = re.compile(schema["pattern"]) if "pattern" in schema else None
        shortest, longest = schema.get("minLength", 0), schema.get("maxLength")

        def check(value) -> bool:
            if isinstance(value, (dict, list)):
                return False
            if kinds is not None and not any(_TYPES[k](value) for k in kinds if k in _TYPES):
                return False
            if enum is not None and not any(value == o and type(value) is type(o) for o in enum):
                return False
            if isinstance(value, str):
                return ((pattern is None or pattern.search(value) is not None) and len(value) >= shortest
                        and (longest is None or len(value) <= longest))
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return (low is None or value >= low) and (high is None or value <= high)
            return True
    _CHECKERS[id(schema)] = (schema, check)
    return check


def _scalar_ok(schema: object, value: object) -> bool:
    """True when ``value`` (a scalar) certainly satisfies ``schema``; False means "ask jsonschema"."""
    check = _checker(schema)
    return check is not None and check(value)


def _items(validator, items, instance, schema):
    if not validator.is_type(instance, "array") or not isinstance(items, dict) or "prefixItems" in schema:
        from jsonschema import _keywords

        yield from _keywords.items(validator, items, instance, schema)
        return
    check = _checker(items) or (lambda value: False)
    for index, item in enumerate(instance):
        if not check(item):
            yield from validator.descend(instance=item, schema=items, path=index)


def _properties(validator, properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for name, subschema in properties.items():
        if name in instance and not _scalar_ok(subschema, instance[name]):
            yield from validator.descend(instance[name], subschema, path=name, schema_path=name)


def _required(validator, required, instance, schema):
    """One error per mapping missing keys (jsonschema's own gives one per key, and each names them all)."""
    if validator.is_type(instance, "object") and any(key not in instance for key in required):
        from jsonschema import ValidationError

        yield ValidationError(f"missing required keys {required}")


# The validator classes are made on first use: jsonschema takes a tenth of a second to import, and a
# valid design (the compiled check of schema_check says so) never needs it.

@functools.cache
def _validator_class(name: str) -> Any:
    import jsonschema

    if name == "FastValidator":  # Draft 2020-12 validation with the scalar fast path (same errors, same paths)
        return jsonschema.validators.extend(
            jsonschema.Draft202012Validator, {"items": _items, "properties": _properties, "required": _required})
    # ComposeValidator: Draft 7 validation (the compose-spec's draft) with the scalar fast path for properties
    return jsonschema.validators.extend(jsonschema.Draft7Validator, {"properties": _properties, "required": _required})


def fast_validator(schema: dict) -> Any:
    """A Draft 2020-12 validator of ``schema`` with the scalar fast path (same errors, same paths)."""
    return _validator_class("FastValidator")(schema)


def compose_validator(schema: dict) -> Any:
    """A Draft 7 validator (the compose-spec's draft) of ``schema`` with the scalar fast path for properties."""
    return _validator_class("ComposeValidator")(schema)


def __getattr__(name: str) -> Any:
    """``FastValidator`` and ``ComposeValidator``, the classes, made when first asked for."""
    if name in ("FastValidator", "ComposeValidator"):
        return _validator_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
