"""The faster ways of loading a large design give exactly what the general ways give.

The one-pass YAML reading (yamlsource._read_plain) must produce the same Doc as the full
reading (_build + _Converter): data, every value's and key's location, the raw text of
plain scalars, in the same order; documents it does not handle fall back to the full reading.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.errors import DesignLoadError
from simulator.loaders import yamlsource

ROOT = Path(__file__).resolve().parents[2]


def _full(text: str, source: str):
    """The document as the full reading gives it (the one-pass reading switched off)."""
    real = yamlsource._read_plain
    yamlsource._read_plain = lambda t, s: None
    try:
        return yamlsource.read_yaml(text, source)
    finally:
        yamlsource._read_plain = real


def _snapshot(doc) -> tuple:
    return (repr(doc.data), list(doc.values.items()), list(doc.keys.items()), list(doc.raw.items()),
            list(doc.tags.items()))


def _outcome(read, text: str) -> object:
    try:
        return _snapshot(read(text, "d.yaml"))
    except DesignLoadError as exc:
        return [str(p) for p in exc.problems]


PLAIN = [
    "name: x\n",
    "a: 1\nb: '2'\nc: \"3\"\nd: 0x1F\ne: 0o17\nf: 1.5\ng: .inf\nh: .nan\ni: ~\nj:\nk: true\nl: on\nm: 22:22\n",
    "list:\n  - 1\n  - [a, b, {c: d}]\n  - {}\n  - []\n  -\n  - - nested\n    - more\n",
    "80: eighty\n'81': quoted\ntrue: key\nnull: key2\n",
    "text: |\n  block\n  lines\nfolded: >\n  one\n  two\nplain: multi\n  line\n",
    "- top\n- level\n- list\n",
    "just a scalar\n",
    "x: {a: 1, b: [1, 2, 3], c: {d: {e: {f: g}}}}\n",
    "'<<': not a merge key\nk: v\n",
    "containers:\n  web:\n    networks: [front, back]\n    ports: ['8080:80', 9000]\n    listens: [80/tcp]\n",
]

UNUSUAL = [  # each one falls back to the full reading (which decides, and reports what is wrong)
    "a: &x 1\nb: *x\n",
    "base: &b {k: 1}\nother:\n  <<: *b\n  j: 2\n",
    "a: 1\na: 2\n",
    "a: !!int 3\n",
    "a: ! 12\n",
    "a: !reset null\n",
    "a: 1\n---\nb: 2\n",
    "",
    "a: [1, 2\n",
    "a: b: c\n",
    "x: " + "9" * 80 + "\n",
    "{[a]: 1}\n",
    "\t- tab\n",
]


@pytest.mark.parametrize("text", PLAIN)
def test_one_pass_reading_gives_the_full_readings_document(text):
    assert yamlsource._read_plain(text, "d.yaml") is not None  # this document is read in one pass
    assert _outcome(yamlsource.read_yaml, text) == _outcome(_full, text)


@pytest.mark.parametrize("text", UNUSUAL)
def test_unusual_documents_are_left_to_the_full_reading(text):
    assert yamlsource._read_plain(text, "d.yaml") is None
    assert _outcome(yamlsource.read_yaml, text) == _outcome(_full, text)


def _repo_yaml() -> list[Path]:
    found = []
    for folder in ("examples", "tests", "docs", "benchmarks"):
        base = ROOT / folder
        if base.is_dir():
            found += sorted(p for p in base.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return found


def test_every_yaml_file_of_the_repository_reads_the_same_both_ways():
    files = _repo_yaml()
    assert len(files) > 20
    one_pass = 0
    for path in files:
        text = path.read_bytes()
        assert _outcome(yamlsource.read_yaml, text) == _outcome(_full, text), path
        try:
            one_pass += yamlsource._read_plain(yamlsource.decode(text, str(path)), str(path)) is not None
        except DesignLoadError:
            pass
    assert one_pass > len(files) // 2  # most designs are plain: the one-pass reading is the one used


@pytest.mark.parametrize("address,prefixlen", [(0, 0), (1, 0), (167772161, 8), (167772161, 24), (0xFFFFFFFF, 32),
                                               (0xFFFFFFFE, 31), (3232235777, 16), (2886729730, 12), (168430090, 30)])
def test_interface_of_equals_the_parsed_interface(address, prefixlen):
    from ipaddress import IPv4Interface

    from simulator.cidr import interface_of

    made, parsed = interface_of(address, prefixlen), IPv4Interface((address, prefixlen))
    assert made == parsed and hash(made) == hash(parsed) and vars(made) == vars(parsed)
    assert (str(made), repr(made), made.with_prefixlen, made.with_netmask, made.ip, made.network, made.hostmask) == \
        (str(parsed), repr(parsed), parsed.with_prefixlen, parsed.with_netmask, parsed.ip, parsed.network, parsed.hostmask)


def test_location_at_is_a_location_like_any_other():
    import copy
    import dataclasses
    import pickle

    from simulator.model import Location, location_at

    made, built = location_at("d.yaml", 3, 7), Location("d.yaml", 3, 7)
    assert made == built and hash(made) == hash(built) and (repr(made), str(made)) == (repr(built), str(built))
    assert dataclasses.asdict(made) == dataclasses.asdict(built) and pickle.loads(pickle.dumps(made)) == built
    assert copy.deepcopy(made) == built
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.line = 4  # type: ignore[misc]
