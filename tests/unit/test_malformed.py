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
from simulator.pipeline import load
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
    start = time.process_time()
    with pytest.raises(DesignError) as exc:
        load_text(text, source)
    assert time.process_time() - start < 10
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


# --- hostile designs (issue 10): generated, each kind bounded in time with a file:line message ----
# Sizes are small so the suite stays fast; the budgets (docs/design-format.md, "Limits") are what
# bound memory, and each case asserts the loader ends in seconds (a hang guard, not a speed test).

from simulator.loaders import ports as port_limits  # noqa: E402
from simulator.loaders import yamlsource  # noqa: E402

HOSTILE = settings(FUZZ, max_examples=25)


def refused(text: str, source: str = "h.yaml", kind=None) -> DesignError:
    """``text`` is refused with a DesignError whose problems all name a place, within the hang guard."""
    start = time.process_time()
    with pytest.raises(DesignError) as exc:  # the pipeline every command uses: design, intent, engine checks
        load(text, source=source, kind=kind)
    assert time.process_time() - start < 10, "the loader must end within seconds"
    check(lambda: load_text(text, source, kind), source)
    for p in exc.value.problems:  # one line each, echoed values cut short
        assert "\n" not in str(p) and "\r" not in str(p) and "\x1b" not in str(p), repr(str(p))
        assert len(str(p)) < 1000, str(p)[:200]
    return exc.value


def merge_bomb(depth: int, width: int, base: str) -> str:
    lines = [f"a0: &a0 {base}"]
    lines += [f"a{i}: &a{i} {{<<: [{', '.join([f'*a{i - 1}'] * width)}]}}" for i in range(1, depth + 1)]
    return "name: x\nx-b:\n" + "\n".join("  " + line for line in lines) + "\n"


@settings(HOSTILE, max_examples=10)
@given(st.integers(2, 12), st.integers(2, 12), st.sampled_from(["{}", "{k: 1}", "{k: 1, j: [1, 2]}"]))
def test_generated_merge_key_bombs(depth, width, base):
    """Merge sources count toward the expansion budget: wide and deep ones are refused quickly."""
    text = merge_bomb(depth, width, base)
    if width ** depth <= yamlsource.MAX_VALUES // 10:
        start = time.process_time()
        check(lambda: load_text(text, "m.yaml"), "m.yaml")
        assert time.process_time() - start < 10
    elif width ** depth > yamlsource.MAX_VALUES:
        assert "aliases expand to more than" in str(refused(text, "m.yaml"))


def test_the_reported_merge_key_bomb():
    """Nine levels of ten merges over empty mappings (600 bytes) once ran for half an hour."""
    text = merge_bomb(9, 10, "{}")
    assert len(text) < 700
    assert "merge keys << counted" in str(refused(text))


@HOSTILE
@given(st.integers(1, 66), st.integers(1, 40), st.integers(1, 1000), st.booleans())
def test_generated_reused_port_ranges(ranges, containers, size, compose):
    """One anchored list of ranges reused by many containers: bounded by the per-container and
    per-design port budgets, never by memory."""
    items = ", ".join(f'"{a}-{min(a + size - 1, 65535)}"' for a in range(1, 65536, size)[:ranges])
    per = sum(min(a + size - 1, 65535) - a + 1 for a in range(1, 65536, size)[:ranges])
    if compose:
        text = f"x-r: &r [{items}]\nservices:\n" + "".join(f"  s{i}: {{expose: *r}}\n" for i in range(containers))
    else:
        text = f"name: x\nx-r: &r [{items}]\ncontainers:\n" + "".join(
            f"  c{i}: {{listens: *r}}\n" for i in range(containers))
    if per > port_limits.MAX_PER_CONTAINER or per * containers > port_limits.MAX_PER_DESIGN:
        assert "ports" in str(refused(text, "p.yaml"))
    else:
        start = time.process_time()
        check(lambda: load_text(text, "p.yaml"), "p.yaml")
        assert time.process_time() - start < 10


def test_the_reported_port_range_blowups():
    ranges = ", ".join(f'"{a}-{min(a + 999, 65535)}"' for a in range(1, 65536, 1000))
    text = f"name: x\nx-r: &r [{ranges}]\ncontainers:\n" + "".join(f"  c{i}: {{ports: *r}}\n" for i in range(400))
    msg = str(refused(text))
    assert f"more than {port_limits.MAX_PER_CONTAINER} ports" in msg
    assert f"more than {port_limits.MAX_PER_DESIGN}" in msg
    published = ", ".join(f'"{a}-{a + 999}:{a}-{a + 999}"' for a in range(1, 4000, 1000))
    text = "name: x\ncontainers:\n" + "".join(f"  c{i}: {{ports: [{published}]}}\n" for i in range(30))
    assert "ports" in str(refused(text))


NON_ASCII_DIGITS = st.characters(categories=["Nd", "No"]).filter(lambda ch: not "0" <= ch <= "9")
DIGIT_PLACES = [
    "name: x\nnetworks:\n  n: {{driver: macvlan, parent: 'eth0.{d}'}}\ncontainers:\n  ab: {{networks: [n]}}\n",
    "name: x\nnetworks:\n  n: {{driver: macvlan, vlan: '{d}'}}\n",
    "name: x\ncontainers:\n  ab: {{ports: ['{d}:80']}}\n",
    "name: x\ncontainers:\n  ab: {{ports: ['80:{d}']}}\n",
    "name: x\ncontainers:\n  ab: {{ports: [{{target: '{d}'}}]}}\n",
    "name: x\ncontainers:\n  ab: {{listens: ['{d}']}}\n",
    "name: x\nengine_version: '2{d}.10'\n",
    "name: x\nhosts:\n  h1: {{engine_version: '{d}'}}\n",
    "name: x\nhosts:\n  h1: {{daemon: {{default_address_pools: [{{base: 10.0.0.0/8, size: '{d}'}}]}}}}\n",
    "services:\n  a: {{image: x, scale: '{d}'}}\n",
    "services:\n  a: {{image: x, deploy: {{replicas: '{d}'}}}}\n",
    "services:\n  a: {{image: x, expose: ['{d}']}}\n",
    "services:\n  a: {{image: x, networks: [n]}}\nnetworks:\n  n: {{driver: macvlan, driver_opts: {{parent: 'eth0.{d}'}}}}\n",
    "name: x\ncontainers:\n  ab: {{}}\nexpect:\n  allow: [{{from: ab, to: ab, ports: ['{d}']}}]\n",
]


@HOSTILE
@given(st.sampled_from(DIGIT_PLACES), st.text(NON_ASCII_DIGITS, min_size=1, max_size=3))
def test_generated_unicode_digits(place, digits):
    """Digits that str.isdigit() accepts and int() refuses ("²") are refused, never a traceback."""
    refused(place.format(d=digits))


HUGE_PLACES = [
    "name: x\nengine_version: {n}\n",
    "name: x\nengine_version: '{n}'\n",
    "name: x\nnetworks:\n  n: {{driver: macvlan, vlan: {n}}}\n",
    "name: x\nnetworks:\n  n: {{name: {n}}}\n",
    "name: x\ncontainers:\n  ab: {{ports: [{n}]}}\n",
    "name: x\ncontainers:\n  ab: {{networks: {{bridge: {{gw_priority: {n}}}}}}}\n",
    "name: {n}\n",
    "services:\n  a: {{image: x, scale: {n}}}\n",
    "services:\n  a: {{image: x, deploy: {{replicas: {n}}}}}\n",
    "services:\n  a: {{image: x, container_name: {n}}}\n",
]


@HOSTILE
@given(st.sampled_from(HUGE_PLACES), st.integers(yamlsource.MAX_NUMBER_CHARS + 1, 6000),
       st.sampled_from(["", "0x", "0o", "-"]))
def test_generated_huge_integers(place, length, prefix):
    """Integers past Python's 4,300-digit conversion limit, in any base, in any field."""
    digits = {"0x": "f", "0o": "7"}.get(prefix, "9") * length
    refused(place.format(n=prefix + digits))


NASTY = st.text(st.sampled_from(list("<>&\"'`{}[]\\:;#|%$ \t\n\r\x1b\x00\x07\u2028é漢-_.aZ09")), min_size=1, max_size=40)
NAME_PLACES = [
    ("name: x\ncontainers:\n  {key}: {{name: web}}\n", "key"),
    ("name: x\ncontainers:\n  {key}: {{}}\n", "key"),
    ("name: x\nnetworks:\n  {key}: {{name: net}}\ncontainers:\n  ab: {{networks: [{key}]}}\n", "key"),
    ("name: x\nhosts:\n  {key}: {{}}\n", "key"),
    ("name: x\ncontainers:\n  ab: {{name: {key}}}\n", "value"),
    ("name: x\nnetworks:\n  n: {{name: {key}}}\n", "value"),
    ("name: x\ncontainers:\n  ab: {{hostname: {key}}}\n", "value"),
    ("name: x\ncontainers:\n  ab: {{networks: {{n: {{aliases: [{key}]}}}}}}\nnetworks: {{n: {{}}}}\n", "value"),
    ("services:\n  {key}: {{image: x}}\n", "key"),
    ("services:\n  a: {{image: x, container_name: {key}}}\n", "value"),
    ("name: {key}\n", "value"),
]


@HOSTILE
@given(st.sampled_from(NAME_PLACES), NASTY, st.sampled_from([1, 1, 1, 50, 2000]))
def test_generated_bad_names(place, nasty, repeat):
    """Markup, quotes, control characters and very long names, as keys and as name: values:
    refused (or accepted when valid) with one-line messages that echo at most a short prefix."""
    template, _ = place
    name = (nasty * repeat)[:20_000]
    text = template.format(key=json_quote(name))
    try:
        design, _ = load_text(text, "n.yaml")
    except DesignError as exc:
        for p in exc.problems:
            assert "\n" not in str(p) and "\x1b" not in str(p) and "\x00" not in str(p), repr(str(p))
            assert len(str(p)) < 1000
        check(lambda: load_text(text, "n.yaml"), "n.yaml")
        return
    import re as _re  # accepted: then every name is one Docker accepts and short
    for c in design.containers:
        assert _re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", c.name) and len(c.name) <= 255, c.name
        assert _re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+", c.engine_name), c.engine_name
    for n in design.networks:
        assert _re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", n.engine_name) and len(n.engine_name) <= 128
    for h in design.hosts:
        assert h.name not in ("host", "external")


def json_quote(text: str) -> str:
    """A YAML double-quoted scalar holding ``text`` exactly (JSON strings are YAML)."""
    import json

    return json.dumps(text)


def test_long_names_are_not_echoed_in_full():
    name = "x" * 20_000
    for text in (f"name: x\ncontainers:\n  ? {name}\n  : {{name: web}}\n", f"name: x\nnetworks:\n  n: {{name: {name}}}\n",
                 f"services:\n  ? {name}\n  : {{image: x}}\n", f"name: {name}\n",
                 f"name: x\ncontainers:\n  {name}: {{name: web}}\n"):
        msg = str(refused(text))
        assert "x" * 100 not in msg and ("characters" in msg or "1024" in msg), msg


@HOSTILE
@given(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"]),
       st.sampled_from(["name: x\n", "name: x\ncontainers:\n  web: {ports: ['8080:80']}\n"]), st.data())
def test_generated_wide_encodings(encoding, text, data):
    """UTF-16/UTF-32, whole or truncated, with or without a byte order mark: said as such."""
    raw = text.encode(encoding)
    cut = data.draw(st.integers(1, len(raw)))
    raw = raw[:cut]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "w.yaml")
        with open(path, "wb") as fh:
            fh.write(raw)
        start = time.process_time()
        try:
            load_design(path)
        except DesignError as exc:
            message = str(exc)
            check(lambda: load_design(path), path)
            if len(raw) >= 4 or raw.startswith((b"\xff\xfe", b"\xfe\xff")):
                assert "UTF-16" in message or "UTF-32" in message or encoding == "utf-16" and cut == len(raw), message
                assert "not UTF-8" not in message and "control character" not in message.lower(), message
        else:
            assert encoding == "utf-16" and cut == len(raw)  # whole UTF-16 with its byte order mark is read
        assert time.process_time() - start < 10


@HOSTILE
@given(st.sampled_from(["8080:80", "80", "127.0.0.1:53:53/udp", "8000-8001:80-81"]), st.data(),
       st.sampled_from(["\n", " ", "\t", "\r\n", "\u00a0", "\u2028"]))
def test_generated_whitespace_in_ports(spec, data, space):
    at = data.draw(st.integers(0, len(spec)))
    bad = spec[:at] + space + spec[at:]
    refused(f"name: x\ncontainers:\n  ab: {{ports: [{json_quote(bad)}]}}\n")
    refused(f"services:\n  a: {{image: x, ports: [{json_quote(bad)}]}}\n")


@settings(HOSTILE, max_examples=4)
@given(st.integers(200, 800), st.integers(100, 800))
def test_generated_misspelt_references(containers, networks):
    """Thousands of names close to thousands of others: "did you mean" is bounded per design
    (it once took minutes); every reference is still reported at its place."""
    text = ("name: x\nnetworks:\n" + "".join(f"  net{i}: {{}}\n" for i in range(networks)) + "containers:\n"
            + "".join(f"  c{i}: {{networks: [nte{i}]}}\n" for i in range(containers)))
    exc = refused(text, "d.yaml")
    assert len([p for p in exc.errors if "unknown network" in p.message]) == containers


@settings(HOSTILE, max_examples=6)
@given(st.integers(10, 2000), st.integers(1_000, 500_000), st.sampled_from(["${X:-", "${X-", "${X:+", "$${"]))
def test_generated_interpolation_through_aliases(aliases, size, op):
    """A long compose template aliased many times is substituted once, not once per alias."""
    template = op + "a" * size + "}"
    text = (f'x-a: &a {json_quote(template)}\nservices:\n  s: {{image: x, labels: [{", ".join(["*a"] * aliases)}]}}\n')
    start = time.process_time()
    check(lambda: load_text(text, "i.yaml"), "i.yaml")
    assert time.process_time() - start < 10


@HOSTILE
@given(st.sampled_from([
    "name: x\nnetworks:\n  n: {{driver: macvlan, parent: {v}}}\n",
    "name: x\nhosts:\n  h1: {{lan: {{interface: {v}}}}}\n",
    "services:\n  a: {{image: x, networks: [n]}}\nnetworks:\n  n: {{driver: macvlan, driver_opts: {{parent: {v}}}}}\n",
    "name: x\ncontainers:\n  ab: {{labels: {{k: {v}}}}}\n",
    "services:\n  a: {{image: x, labels: [{v}]}}\n",
]), st.integers(4097, 100_000))
def test_generated_long_free_text(place, length):
    """Interface names and labels are bounded too (IFNAMSIZ; netsim's label caps)."""
    refused(place.format(v=json_quote("e" * length)))
