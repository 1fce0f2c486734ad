"""Fuzzing: whatever the input, loaders raise only DesignError/DesignLoadError with places.

Budget: about 1500 Hypothesis examples in total plus hand-made bombs; well under a minute.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import DesignError, DesignLoadError
from simulator.loaders import load_design, load_text
from simulator.loaders.compose import NETWORK_KEYS, SERVICE_KEYS, SERVICE_NETWORK_KEYS
from simulator.model import Design
from simulator.schema import design_schema

DATA = Path(__file__).parents[1] / "data" / "loaders"
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def check(call, source: str) -> None:
    """The call returns a design or raises a DesignError whose problems all name a place."""
    try:
        design, warnings = call()
    except DesignError as exc:
        assert exc.problems and exc.errors, "a DesignError needs at least one error"
        problems = exc.problems
        assert str(exc)
    else:
        assert isinstance(design, Design)
        assert all(p.severity == "warning" for p in warnings)
        problems = warnings
    for p in problems:
        assert p.message and p.severity in ("error", "warning")
        assert p.location is not None, f"no location: {p}"
        assert p.location.file == source and p.location.line >= 1 and p.location.column >= 1, p
        assert str(p).startswith(f"{source}:{p.location.line}:{p.location.column}: ")


# --- vocabularies --------------------------------------------------------------------------

_schema = design_schema()["properties"]
_props = lambda section: list(_schema[section]["additionalProperties"]["properties"])  # noqa: E731
NATIVE_KEYS = sorted({"name", "engine_version", "hosts", "networks", "containers", "lan", "daemon", "routes",
                      "interface", "address", "bip", "default_address_pools", "base", "size", "aliases",
                      "ipv4_address", "gw_priority", "target", "published", "host_ip", "protocol", "docker1", "web",
                      "db", "bridge", "host", "none", "frontend", "x-a", "<<"}
                     | set(_props("networks")) | set(_props("containers")))
COMPOSE_KEYS = sorted({"services", "networks", "name", "version", "ipam", "config", "subnet", "gateway", "external",
                       "driver_opts", "replicas", "default", "web", "db", "x-ext", "parent", "macvlan_mode",
                       "com.docker.network.bridge.enable_icc", "encrypted"}
                      | set(SERVICE_KEYS) | set(NETWORK_KEYS) | set(SERVICE_NETWORK_KEYS))
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
    st.sampled_from(["10.0.0.0/24", "10.0.0.0/33", "10.0.0.1", "172.17.0.0/16", "999.1.1.1", "8080:80", "80/udp",
                     "1-65535", "[::1]:80:80", "host", "none", "bridge", "container:web", "service:db", "service:",
                     "container:", "macvlan", "overlay", "ipvlan", "passthru", "l3", "20.10", "28.2", "eth0.50",
                     "${X:-1}", "${X}", "${X:?no}", "$", "${", "true", "0x1F", "", " ", "web", "db", "default"]),
    st.text(max_size=12),
)


def trees(keys: list[str]):
    return st.recursive(
        SCALARS,
        lambda inner: st.one_of(st.lists(inner, max_size=4),
                                st.dictionaries(st.sampled_from(keys), inner, max_size=5)),
        max_leaves=30,
    )


def dump(data) -> str:
    return yaml.safe_dump(data, default_flow_style=None, allow_unicode=True)


# --- Hypothesis ----------------------------------------------------------------------------

@settings(FUZZ, max_examples=250)
@given(st.text(max_size=300))
def test_random_text(text):
    check(lambda: load_text(text, "f.yaml"), "f.yaml")


@settings(FUZZ, max_examples=150)
@given(st.binary(max_size=300))
def test_random_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bin.yaml")
        with open(path, "wb") as fh:
            fh.write(data)
        check(lambda: load_design(path), path)


@settings(FUZZ, max_examples=350)
@given(st.dictionaries(st.sampled_from(NATIVE_KEYS), trees(NATIVE_KEYS), max_size=6))
def test_random_netsim_trees(data):
    text = dump(data)
    check(lambda: load_text(text, "n.yaml", kind="netsim"), "n.yaml")


@settings(FUZZ, max_examples=350)
@given(st.dictionaries(st.sampled_from(COMPOSE_KEYS), trees(COMPOSE_KEYS), max_size=6))
def test_random_compose_trees(data):
    text = dump({"services": {}, **data})
    check(lambda: load_text(text, "c.yaml"), "c.yaml")


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


FIXTURES = {name: yaml.safe_load((DATA / name).read_text())
            for name in ("shop.yaml", "lanpub.compose.yaml", "shopapp/docker-compose.yml")}


@settings(FUZZ, max_examples=300)
@given(st.sampled_from(sorted(FIXTURES)), st.data())
def test_mutated_fixtures(name, data):
    """Valid designs with one value replaced, a key removed, or a character changed."""
    import copy

    doc = copy.deepcopy(FIXTURES[name])
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(trees(COMPOSE_KEYS if "compose" in name else NATIVE_KEYS))
    text = dump(doc)
    if data.draw(st.booleans()) and text:
        at = data.draw(st.integers(0, len(text) - 1))
        text = text[:at] + data.draw(st.sampled_from(["", ":", "-", "{", "[", "&a ", "*a", "'", "\t", "\n  "])) + text[at + 1:]
    if "name" not in doc:
        doc["name"] = "fuzz"
    check(lambda: load_text(text, "m.yaml"), "m.yaml")


# --- hand-made attacks ---------------------------------------------------------------------

def _load_error(text, source="a.yaml") -> str:
    start = time.monotonic()
    with pytest.raises(DesignError) as exc:
        load_text(text, source)
    assert time.monotonic() - start < 10
    check(lambda: load_text(text, source), source)
    return str(exc.value)


def test_billion_laughs():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    msg = _load_error("name: x\nx-b:\n" + "\n".join("  " + line for line in lines) + "\n")
    assert "aliases expand to more than" in msg


def test_merge_key_bomb():
    lines = ["a0: &a0 {k: 1}"] + [f"a{i}: &a{i} {{<<: [{', '.join([f'*a{i - 1}'] * 9)}], k{i}: 1}}" for i in range(1, 12)]
    _load_error("name: x\nx-b:\n" + "\n".join("  " + line for line in lines) + "\n")


def test_deep_nesting():
    assert "nested more than 64 levels deep" in _load_error("name: x\nx: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert "nested more than" in _load_error("".join(" " * i + "a:\n" for i in range(2000)))
    assert "nested" in _load_error("name: x\nx: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n")


def test_recursive_and_undefined_aliases():
    assert "refers to no anchor" in _load_error("name: x\na: &a [*a]\n")
    assert "refers to no anchor" in _load_error("name: x\na: *nope\n")


def test_huge_file(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"name: x\n" + b"#" * (11 * 1024 * 1024))
    with pytest.raises(DesignLoadError) as exc:
        load_design(path)
    assert "larger than 10 MB" in str(exc.value)
    assert "larger than 10 MB" in _load_error("name: x\n" + "#" * (11 * 1024 * 1024))


def test_many_values():
    assert "more than 200000 YAML values" in _load_error("name: x\nx: [" + "1," * 250_000 + "1]\n")


def test_syntax_errors_point_at_the_problem():
    assert _load_error("name: x\ncontainers:\n  web: [\n").startswith("a.yaml:4:1: YAML syntax error:")
    assert _load_error("name: x\n\tcontainers: {}\n").startswith("a.yaml:2:1: YAML syntax error: found a tab")
    assert "a.yaml:1:8: YAML cannot contain this character" in _load_error("name: x\x00\n")
    assert "more than one YAML document" in _load_error("name: x\n---\nname: y\n")
    assert "the file is empty" in _load_error("# nothing\n")


def test_unsupported_tags():
    assert 'YAML tag "tag:yaml.org,2002:python/object/apply:os.system" is not supported' in _load_error(
        "name: !!python/object/apply:os.system [ls]\n")
    assert '"abc" cannot be read as !!int' in _load_error("name: !!int abc\n")
    assert "mapping keys must be plain strings" in _load_error("? [a]\n: 1\nname: x\n")


def test_huge_integers_and_odd_scalars():
    _load_error("name: x\ncontainers:\n  web: {ports: [" + "9" * 10000 + "]}\n")
    _load_error("name: x\nengine_version: .inf\n")
    check(lambda: load_text("name: x\nx-a: !!float 1e999\n", "a.yaml"), "a.yaml")


def test_utf16_with_bom_is_read(tmp_path):
    path = tmp_path / "u16.yaml"
    path.write_bytes("name: utf\n".encode("utf-16"))
    design, _ = load_design(path)
    assert design.name == "utf"


def test_reset_and_override_tags():
    design, _ = load_text("name: p\nservices:\n  web: {ports: !reset [], hostname: !override web}\n")
    assert design.container("web").ports == () and design.container("web").hostname == "web"


def test_wrong_types_everywhere_never_crash():
    for section in ("hosts", "networks", "containers"):
        for value in ("1", "[1, 2]", "x", "{a: 1}", "{a: [1]}", "{a: {b: c}}", "{a: {networks: {n: 5}}}",
                      "{a: {lan: 5, daemon: [], routes: x}}", "{a: {ports: [{}, [], {target: x}]}}"):
            check(lambda: load_text(f"name: x\n{section}: {value}\n", "t.yaml"), "t.yaml")
    for value in ("1", "[1]", "{a: 1}", "{a: {networks: 5}}", "{a: {ports: 5, expose: {}}}", "{a: {deploy: 5}}",
                  "{a: {networks: {n: [1]}}}", "{a: {labels: 5}}", "{a: {network_mode: 5}}"):
        check(lambda: load_text(f"services: {value}\nnetworks: {{n: {{ipam: {{config: 5}}}}}}\n", "t.yaml"), "t.yaml")
