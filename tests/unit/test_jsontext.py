"""render.jsontext writes exactly what json.dumps(indent=1) writes."""

from __future__ import annotations

import json
import random

import pytest

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
