"""render.jsontext writes exactly what json.dumps(indent=1) writes."""

from __future__ import annotations

import collections
import enum
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.render import jsontext
from simulator.render.jsontext import dumps_indented


def _value(rng: random.Random, depth: int = 0):
    kinds = ["str", "int", "none", "bool", "float"] + (["dict", "list", "tuple"] * 2 if depth < 4 else [])
    kind = rng.choice(kinds)
    if kind == "str":
        return "".join(rng.choice('ab "\\\n\t/é✔\x01<>&') for _ in range(rng.randint(0, 8)))
    if kind == "int":
        return rng.randint(-10**12, 10**12)
    if kind == "none":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "float":
        return rng.choice([0.5, -1e300, 3.0, float("inf"), 1 / 3])
    n = rng.randint(0, 4)
    if kind == "dict":
        return {rng.choice(["k", "é", 'q"', "x" * rng.randint(1, 3), 7, None, True]): _value(rng, depth + 1) for _ in range(n)}
    items = [_value(rng, depth + 1) for _ in range(n)]
    return items if kind == "list" else tuple(items)


@pytest.mark.parametrize("seed", range(300))
def test_the_same_text_as_json_dumps_with_indent_1(seed):
    rng = random.Random(seed)
    value = _value(rng)
    depth = rng.randint(0, 3)
    assert dumps_indented(value, depth) == json.dumps(value, indent=1).replace("\n", "\n" + " " * depth)


def test_a_reach_group_as_json_writes_it():
    from simulator.analysis.reachability import compute_reach
    from simulator.pipeline import load

    from pathlib import Path

    result = compute_reach(load(Path(__file__).resolve().parents[2] / "designs" / "frontend-backend.yaml").design)
    rows = [g.to_json(True) for g in result.coarse_groups()] + [p.to_json(True) for p in result.iter_probes()]
    assert rows
    for row in rows:
        assert dumps_indented(row, 2) == json.dumps(row, indent=1).replace("\n", "\n  ")


@pytest.mark.parametrize("seed", range(100))
def test_lists_of_flat_counts_the_same_as_json_dumps(seed):
    rng = random.Random(seed)
    rows = [{"class": "".join(rng.choice('ab"é\\') for _ in range(rng.randint(0, 5))), "count": rng.randint(-5, 10**6)}
            for _ in range(rng.randint(1, 6))]
    if seed % 3 == 0:
        rows[-1]["flag"] = True  # not flat: written the general way
    value = {"targets": rows, "nested": [rows, {"x": rows}]}
    depth = rng.randint(0, 3)
    assert dumps_indented(value, depth) == json.dumps(value, indent=1).replace("\n", "\n" + " " * depth)


# The shapes netsim writes, many times over: rows with the same keys in the same order (a dict's
# writer is made the second time its keys and indent come), the type under a key changing from
# row to row, nested lists of dicts alike, non-ASCII text, empty containers, enums.
class _Colour(enum.StrEnum):
    RED = "red"
    ODD = 'é"\n'


class _Level(enum.IntEnum):
    LOW = 1


_KEYS = ["source", "via", "é✔", 'q"', "%s", "{a}", "", "count", "class"]
_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.text(max_size=6),
                    st.sampled_from(["ip", "dns", "tcp", "delivered: bridged on br-x"]),
                    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([*_Colour, *_Level]))
_VALUES = st.recursive(_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(st.sampled_from(_KEYS), inner, max_size=3),
    st.lists(st.fixed_dictionaries({"class": st.text(max_size=4), "count": st.integers(0, 99)}), max_size=3)),
    max_leaves=6)


@st.composite
def _rows(draw) -> list[dict]:
    keys = draw(st.lists(st.sampled_from(_KEYS), max_size=6, unique=True))
    return [{k: draw(_VALUES) for k in keys} for _ in range(draw(st.integers(2, 6)))]


@settings(max_examples=400, deadline=None)
@given(_rows(), st.integers(0, 3))
def test_rows_alike_the_same_as_json_dumps(rows, depth):
    for value in (*rows, rows, {"rows": rows, "again": rows}):
        assert dumps_indented(value, depth) == json.dumps(value, indent=1).replace("\n", "\n" + " " * depth)


def test_a_writer_meets_every_type_under_its_keys():
    values = [None, "a", _Colour.ODD, 7, _Level.LOW, True, False, 0.5, float("nan"), [], (), {}, ["x", 1], ("x",),
              {"k": None}, [{"class": "c", "count": 1}, {"class": "d", "count": 2}, {"count": 3, "class": "e"}, "f"],
              "✔\x01"]
    for n, first in enumerate(values):
        for m, then in enumerate(values):
            key = f"w{n}.{m}"  # a writer made for each pair of types, then given them the other way round
            for value in ({"v": first, key: then}, {"v": first, key: then}, {"v": then, key: first}):
                assert dumps_indented(value, 1) == json.dumps(value, indent=1).replace("\n", "\n ")
            assert ("\n  ", ("v", key)) in jsontext._writers


def test_keys_that_are_no_plain_strings_as_json_writes_them():
    for value in [{1: "a"}, {True: "a"}, {1.0: "a"}, {None: 1, "x": 2}, {_Colour.RED: 1}, {"red": 1}, {_Colour.RED: 2},
                  {False: 0}, {0: 0}] * 3:
        assert dumps_indented(value) == json.dumps(value, indent=1)


def test_many_shapes_wide_dicts_and_dict_subclasses():
    values = [{f"k{n}": n, f"j{n}": [n]} for n in range(1500)] * 2
    values += [{f"k{n}": n for n in range(100)}] * 3 + [collections.OrderedDict(a=1, b="x")] * 3
    values += [collections.Counter({"a": 2})] * 3
    assert [dumps_indented(v, 2) for v in values] == [json.dumps(v, indent=1).replace("\n", "\n  ") for v in values]


def test_a_value_json_cannot_write_fails_as_in_json():
    for _ in range(3):
        for value in ({"a": object()}, {"a": "x", "b": {1, 2}}, [{"class": "c", "count": object()}] * 2):
            with pytest.raises(TypeError):
                json.dumps(value, indent=1)
            with pytest.raises(TypeError):
                dumps_indented(value)


def test_a_line_holds_the_values_json_would_write():
    from simulator.render.jsontext import dumps_lines

    values = [{"via": _Colour.RED, "name": "api×3 (back)", "n": None, "ok": True, "port": 80, "t": ("a", 1),
               "nested": {"targets": [{"class": "c\n1", "count": 2}], "empty": [], "e": {}}},
              {"lone": "\ud800 and \udfff", "quote": '"\\'}, [1, 2.5, "\u2028"], "x", 3]
    lines = dumps_lines(values)
    assert len(lines) == len(values)
    for value, line in zip(values, lines, strict=True):
        assert isinstance(line, bytes) and b"\n" not in line
        assert json.loads(line) == json.loads(json.dumps(value))
    assert dumps_lines([{"a": [1, "×"]}]) == ['{"a":[1,"×"]}'.encode()]
    with pytest.raises(TypeError):
        dumps_lines([{"a": object()}])
