"""The compiled schema check says "certainly valid" only of documents jsonschema finds valid, and
says it of every bundled design (so large valid designs skip jsonschema)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.loaders.native import _extension_key
from simulator.loaders.schema_check import certainly_valid, compile_schema
from simulator.loaders.schema_errors import FastValidator
from simulator.loaders.yamlsource import read_yaml
from simulator.schema import design_schema

ROOT = Path(__file__).resolve().parents[2]
DESIGNS = sorted((ROOT / "designs").glob("*.yaml"))


def jsonschema_valid(data: object) -> bool:
    """The loader's judgement: no jsonschema error but extension keys at the top."""
    for err in FastValidator(design_schema()).iter_errors(data):
        if err.validator == "additionalProperties" and not err.absolute_path and isinstance(err.instance, dict):
            known = design_schema()["properties"]
            if all(k in known or str(k).startswith("x-") for k in err.instance):
                continue
        return False
    return True


def data_of(path: Path) -> object:
    return read_yaml(path.read_text(encoding="utf-8"), str(path)).data


@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.name)
def test_every_bundled_design_is_certainly_valid(path):
    data = data_of(path)
    assert jsonschema_valid(data)
    assert certainly_valid(design_schema(), data, _extension_key)


JSON = st.recursive(st.none() | st.booleans() | st.integers(-10, 70000) | st.floats(allow_nan=True)
                    | st.sampled_from(["", "x", "eth0", "10.0.0.0/24", "tcp", "bridge", "overlay", "8080:80", "a" * 300]),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.sampled_from(["name", "subnet", "hosts", "networks", "listens", "ports", "x-a", "zz", "driver"]),
                        inner, max_size=3), max_leaves=8)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _set(data, path, value):
    if not path:
        return value
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(DESIGNS), st.integers(0, 10_000), JSON, st.booleans())
def test_certainly_valid_implies_jsonschema_valid(path, pick, value, rename):
    """Every value of a bundled design replaced (or a key renamed): the compiled check never
    says valid where jsonschema finds an error."""
    data = copy.deepcopy(data_of(path))
    paths = list(_paths(data))
    where = paths[pick % len(paths)]
    if rename and where and isinstance(where[-1], str):
        parent = data
        for part in where[:-1]:
            parent = parent[part]
        parent[str(value)[:20] if not isinstance(value, (dict, list)) else "zz"] = parent.pop(where[-1])
    else:
        data = _set(data, where, value)
    if certainly_valid(design_schema(), data, _extension_key):
        assert jsonschema_valid(data), (where, value)


@given(JSON)
@settings(max_examples=300, deadline=None)
def test_scalar_schemas_agree_with_jsonschema(value):
    """On each small schema the compiled check is never looser than jsonschema."""
    import jsonschema

    for schema in ({"type": "integer", "minimum": 1, "maximum": 65535}, {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5},
                   {"enum": ["tcp", "udp"]}, {"type": ["string", "integer"]}, {"type": "array", "items": {"type": "string"}, "minItems": 1},
                   {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"], "additionalProperties": False},
                   {"type": "object", "patternProperties": {"^x-": {}}, "additionalProperties": {"type": "integer"}}):
        if compile_schema(schema)(value):
            assert jsonschema.Draft202012Validator(schema).is_valid(value), (schema, value)


def test_unknown_keywords_are_never_certain():
    assert not compile_schema({"oneOf": [{"type": "string"}]})("x")
    assert not compile_schema({"type": "object", "properties": {"a": {"$ref": "#/x"}}})({"a": 1})
    assert compile_schema({"type": "object", "properties": {"a": {"$ref": "#/x"}}})({})
