"""A quick yes to "is this document valid under this JSON Schema?", for large valid designs.

jsonschema descends into every mapping and list of a design at some tens of microseconds each:
seconds for a design of 10,000 containers.  :func:`certainly_valid` compiles a schema that uses
only the keywords below into plain Python checks and answers True only when the document is
valid; anything else (a failure, or a keyword it does not compile) answers False, and the caller
then runs jsonschema for its exact errors.  So the problems reported never change: a valid
design skips jsonschema, an invalid one is reported by jsonschema as before.

Semantics follow JSON Schema draft 2020-12 for the keywords compiled, erring on the side of
"not certain": an integer-valued float is an integer to jsonschema but not here (jsonschema then
decides), and an enum matches only a value of the same type.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Check = Callable[[object], bool]

_ANNOTATIONS = {"$id", "$schema", "$comment", "title", "description", "default", "examples", "patternErrorMessage"}
_COMPILED = {"type", "enum", "minimum", "maximum", "pattern", "minLength", "maxLength", "properties",
             "patternProperties", "additionalProperties", "required", "items", "minItems"}

_TYPES: dict[str, Check] = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) in (int, float),
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
}


def _never(value: object) -> bool:
    return False


def _always(value: object) -> bool:
    return True


def compile_schema(schema: object, top_extra: Callable[[str], bool] | None = None) -> Check:
    """A function value -> True when ``value`` certainly satisfies ``schema`` (False: not certain).

    ``top_extra``: keys the top-level mapping may hold beyond what its schema allows (the caller
    lets them through, as the design loader does with ``x-`` keys)."""
    if schema is True:
        return _always
    if not isinstance(schema, dict) or not schema.keys() <= _COMPILED | _ANNOTATIONS:
        return _never
    checks: list[Check] = []
    kinds = schema.get("type")
    if kinds is not None:
        names = kinds if isinstance(kinds, list) else [kinds]
        if not all(isinstance(k, str) and k in _TYPES for k in names):
            return _never
        tests = tuple(_TYPES[k] for k in names)
        checks.append(tests[0] if len(tests) == 1 else _any_of(tests))
    if "enum" in schema:
        options = schema["enum"]
        if not isinstance(options, list):
            return _never
        checks.append(lambda v: any(type(v) is type(o) and v == o for o in options))
    checks += _number_checks(schema) + _string_checks(schema)
    obj = _object_check(schema, top_extra)
    if obj is not None:
        checks.append(obj)
    arr = _array_check(schema)
    if arr is not None:
        checks.append(arr)
    return _all_of(checks)


def _all_of(checks: list[Check]) -> Check:
    """One check that every one of ``checks`` passes, in order, stopping at the first that fails
    (written out for two and three: a generator per value was a third of the time of a large design)."""
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    if len(checks) == 3:
        first, second, third = checks
        return lambda v: first(v) and second(v) and third(v)

    return lambda v: all(c(v) for c in checks)


def _any_of(tests: tuple[Check, ...]) -> Check:
    return lambda v: any(t(v) for t in tests)


def _number_checks(schema: dict) -> list[Check]:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is None and high is None:
        return []

    def check(v: object) -> bool:
        if type(v) not in (int, float):
            return True
        return (low is None or v >= low) and (high is None or v <= high)

    return [check]


def _string_checks(schema: dict) -> list[Check]:
    search = re.compile(schema["pattern"]).search if "pattern" in schema else None
    shortest, longest = schema.get("minLength"), schema.get("maxLength")
    if search is None and shortest is None and longest is None:
        return []

    def check(v: object) -> bool:
        if type(v) is not str:
            return True
        return ((search is None or search(v) is not None) and (shortest is None or len(v) >= shortest)
                and (longest is None or len(v) <= longest))

    return [check]


def _object_check(schema: dict, top_extra: Callable[[str], bool] | None) -> Check | None:
    if not {"properties", "patternProperties", "additionalProperties", "required"} & schema.keys():
        return None
    props = {k: compile_schema(s) for k, s in schema.get("properties", {}).items()}
    patterns = [(re.compile(p).search, compile_schema(s)) for p, s in schema.get("patternProperties", {}).items()]
    extra_schema = schema.get("additionalProperties", True)
    extra = None if extra_schema is True else compile_schema(extra_schema)
    required = tuple(schema.get("required", ()))

    def check(v: object) -> bool:
        if type(v) is not dict:
            return True  # the keywords apply to mappings only
        for key in required:
            if key not in v:
                return False
        for key, value in v.items():
            known = props.get(key)
            if known is not None:
                if not known(value):
                    return False
                continue
            if type(key) is not str:
                return False
            matched = False
            for search, sub in patterns:
                if search(key) is not None:
                    matched = True
                    if not sub(value):
                        return False
            if not matched and extra is not None and not extra(value) and not (top_extra and top_extra(key)):
                return False
        return True

    return check


def _array_check(schema: dict) -> Check | None:
    if "items" not in schema and "minItems" not in schema:
        return None
    item = compile_schema(schema["items"]) if "items" in schema else _always
    shortest = schema.get("minItems", 0)

    def check(v: object) -> bool:
        if type(v) is not list:
            return True
        return len(v) >= shortest and all(item(x) for x in v)

    return check


_CACHE: dict[tuple[int, object], tuple[object, Check]] = {}


def certainly_valid(schema: dict, value: object, top_extra: Callable[[str], bool] | None = None) -> bool:
    """True when ``value`` certainly satisfies ``schema`` (compiled once per schema object and
    ``top_extra`` function)."""
    key = (id(schema), top_extra)
    cached = _CACHE.get(key)
    if cached is None or cached[0] is not schema:
        cached = _CACHE[key] = (schema, compile_schema(schema, top_extra))
    return cached[1](value)
