"""A problem is found once (issue 11): no loader stage reports what another already reported,
so the loader's final pass only tidies and sorts. Every bundled and test design, and designs with
hostile names (each name rule broken at a key, at a ``name:`` and in a compose file), load without
two equal problems (nor do the engine checks find one twice), and a broken name is reported once, by the name check."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.engine.checks import engine_problems
from simulator.errors import NetsimError
from simulator.loaders import ordered, parse_doc, read_doc

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(p for d in (ROOT / "designs", ROOT / "tests" / "data") for p in d.rglob("*")
               if p.suffix in (".yaml", ".yml") and p.is_file())
LONG = "x" * 20000

HOSTILE = {
    "design name": "name: 'Shop!'\n",
    "long design name": f"name: {LONG}\n",
    "host key": "name: s\nhosts:\n  'a b': {}\n",
    "network key": "name: s\nnetworks:\n  'n:1': {}\n",
    "network name": "name: s\nnetworks:\n  n: {name: 'bad net!'}\n",
    "long network name": f"name: s\nnetworks:\n  n: {{name: {LONG}}}\n",
    "container key": "name: s\ncontainers:\n  'a<b>': {}\n",
    "long container key": f"name: s\ncontainers:\n  {'x' * 300}: {{}}\n",
    "long container key, explicit": f"name: s\ncontainers:\n  ? {LONG}\n  : {{}}\n",
    "container name": "name: s\ncontainers:\n  web: {name: 'w b'}\n",
    "compose container_name": "name: p\nservices:\n  a: {image: x, container_name: 'é<é'}\n",
    "compose project name": "name: 'P!'\nservices:\n  a: {image: x}\n",
}


POOLS = "name: s\nhosts:\n  docker1:\n    daemon: {default_address_pools: [{size: 24}, {}]}\n"


def _problems(text: str | bytes, source: str) -> list:
    try:
        doc = read_doc(text, source)
    except NetsimError:
        return []  # unreadable YAML (a malformed test file) is one problem by construction
    return ordered(list(parse_doc(doc).problems))


def _twice(problems: list) -> list:
    return [p for i, p in enumerate(problems) if p in problems[:i]]


def test_the_files_are_found():
    assert len(FILES) > 20


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_problem_twice_in_a_file(path):
    assert _twice(_problems(path.read_bytes(), str(path))) == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_engine_problem_twice(path):
    """The engine checks report each issue once (their dedupe pass is gone: nothing needed it)."""
    try:
        parsed = parse_doc(read_doc(path.read_bytes(), str(path)))
    except NetsimError:
        return
    if parsed.design is None or not parsed.complete or any(p.severity == "error" for p in parsed.problems):
        return
    problems = engine_problems(parsed.design)
    assert [p for i, p in enumerate(problems) if (p.message, p.path) in [(q.message, q.path) for q in problems[:i]]] == []


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_no_problem_twice_for_a_hostile_name(text):
    problems = _problems(text, "h.yaml")
    assert problems, "each case breaks a rule"
    assert _twice(problems) == []
    # one report per place: the name check's, not also the schema's pattern or length
    places = [(p.location, p.path) for p in problems]
    assert len(places) == len(set(places)), [str(p) for p in problems]


def test_each_missing_key_once():
    """jsonschema finds a missing key once per key; the loader said all of them for each."""
    assert [f"{p.path}: {p.message}" for p in _problems(POOLS, "h.yaml")] == [
        'hosts.docker1.daemon.default_address_pools[0]: missing required key "base"',
        'hosts.docker1.daemon.default_address_pools[1]: missing required key "base"',
        'hosts.docker1.daemon.default_address_pools[1]: missing required key "size"']
