"""Loader behaviour on hostile or odd designs (issue 10): what is refused, what is modelled, and how it is said."""

from __future__ import annotations

import pytest

from simulator.errors import DesignError
from simulator.loaders import load_design, load_text
from simulator.loaders.ports import MAX_PER_CONTAINER
from simulator.pipeline import load


def errors(text: str, source: str = "l.yaml") -> list[str]:
    """The errors of the pipeline every command uses (design, its intent, engine checks)."""
    with pytest.raises(DesignError) as exc:
        load(text, source=source)
    return [str(p) for p in exc.value.problems if p.severity == "error"]


def loaded(text: str, source: str = "l.yaml"):
    return load_text(text, source)


# --- compose extends, scale 0 ----------------------------------------------------------------

EXTENDS = """\
name: p
services:
  base:
    image: nginx
    networks: [back]
    expose: [9000]
    labels: {tier: base}
  web:
    extends: base
    ports: ["8081:81"]
    expose: [9001]
  api:
    extends: {service: web}
    networks: {front: {aliases: [api.local]}}
    ports: !override ["8082:82"]
    labels: !reset {}
networks: {back: {}, front: {}}
"""


def test_extends_inherits_networks_and_ports():
    design, _ = loaded(EXTENDS)
    web, api = design.container("web"), design.container("api")
    assert [a.network for a in web.attachments] == ["back"]
    assert [p.host_port for p in web.ports] == [8081]
    assert {lst.port for lst in web.listeners if lst.origin == "compose"} == {81, 9000, 9001}  # 80: nginx, catalogue
    assert dict(web.labels) == {"tier": "base"}
    assert sorted(a.network for a in api.attachments) == ["back", "front"]
    assert dict((a.network, a.aliases) for a in api.attachments)["front"] == ("api.local",)
    assert [p.host_port for p in api.ports] == [8082]
    assert api.labels == ()


def test_extends_errors_name_the_limitation():
    msgs = errors("name: p\nservices:\n  a: {image: x, extends: {service: b, file: other.yml}}\n  b: {image: x}\n")
    assert any('l.yaml:3:45: services.a.extends.file: extends.file "other.yml": no such file' in m for m in msgs), msgs
    msgs = errors("name: p\nservices:\n  a: {image: x, extends: nope}\n")
    assert msgs == ['l.yaml:3:26: services.a.extends: extends names service "nope", which this file does not define']
    msgs = errors("name: p\nservices:\n  a: {extends: b}\n  b: {extends: a}\n")
    assert any("extends forms a cycle" in m for m in msgs), msgs


@pytest.mark.parametrize("field", ["scale: 0", "deploy: {replicas: 0}"])
def test_zero_replicas_run_nothing(field):
    design, warnings = loaded(f"name: p\nservices:\n  web: {{image: x, ports: ['80:80'], {field}}}\n  db: {{image: x}}\n")
    assert [c.name for c in design.containers] == ["db"]
    assert any("0 means compose creates no container" in str(w) and str(w).startswith("l.yaml:3:") for w in warnings)


# --- the design's intent is checked on load --------------------------------------------------

def test_expect_errors_fail_the_load():
    msgs = errors("name: x\ncontainers:\n  ab: {}\nexpect:\n  deny:\n    - {from: ab, to: ab, ports: [99999]}\n"
                  "    - {from: ab, to: ab, ports: ['80\\n']}\n")
    assert any(m.startswith("l.yaml:6:") and "99999" in m for m in msgs), msgs
    assert any(m.startswith("l.yaml:7:") for m in msgs), msgs
    msgs = errors("name: x\ncontainers:\n  ab: {}\nexpect:\n  deny: [{from: ab, to: zz}]\n")
    assert msgs == ['l.yaml:5:25: "zz" is not a container or group of the design; containers: ab']
    msgs = errors("services:\n  ab: {image: x}\nx-netsim-expect:\n  allow: [{from: ab, to: nope}]\n")
    assert any("nope" in m and m.startswith("l.yaml:4:") for m in msgs), msgs


def test_valid_expect_loads():
    loaded("name: x\ncontainers:\n  ab: {}\n  cd: {}\nexpect:\n  allow: [{from: ab, to: cd, ports: [80]}]\n")


# --- names -----------------------------------------------------------------------------------

def test_keys_are_checked_when_name_is_set():
    msgs = errors('name: x\ncontainers:\n  "a<b>": {name: web}\nnetworks:\n  "n:1": {name: net}\n')
    assert any('l.yaml:3:3: containers.a<b>: the container key "a<b>" has characters' in m for m in msgs), msgs
    assert any('l.yaml:5:3: networks.n:1: the network key "n:1" has characters' in m for m in msgs), msgs


def test_newline_in_a_key_is_escaped():
    msgs = errors('name: x\ncontainers:\n  "web\\nx": {name: web}\n')
    assert msgs and all("\n" not in m for m in msgs) and "web\\nx" in msgs[0]


def test_reserved_and_ambiguous_source_names():
    msgs = errors("name: x\nhosts: {h1: {}, H1: {}, external: {}}\ncontainers:\n  host: {host: h1}\n")
    assert any('hosts.H1: host "H1" differs from host "h1" only in case' in m for m in msgs), msgs
    assert any('hosts.external: a host cannot be named "external"' in m for m in msgs), msgs
    assert any('containers.host: a container cannot be named "host"' in m for m in msgs), msgs
    assert any('services.external: a service cannot be named "external"' in m
               for m in errors("services:\n  external: {image: x}\n")), "compose too"


def test_one_cause_one_error():
    msgs = errors("name: x\nnetworks:\n  n: {name: 'bad net!'}\n")
    assert msgs == ["l.yaml:3:13: networks.n.name: \"bad net!\" is not a valid network name: use letters, digits, "
                    "'_', '.' and '-', starting with a letter or digit, at most 128 characters"]
    ports = ", ".join(f'"{p}:{p}"' for p in range(8000, 8010))
    msgs = errors(f"name: x\ncontainers:\n  ab: {{ports: [{ports}]}}\n  cd: {{ports: [{ports}]}}\n")
    assert len(msgs) == 1 and "9 more of its ports clash the same way" in msgs[0], msgs


# --- numbers, ports, encodings ---------------------------------------------------------------

def test_non_ascii_digits_and_line_breaks():
    msgs = errors("name: x\nnetworks:\n  n: {driver: macvlan, parent: 'eth0.²'}\n")
    assert msgs == ['l.yaml:3:32: networks.n.parent: "eth0.²": the part after "." is a VLAN id (1-4094), e.g. eth0.50']
    msgs = errors('name: x\ncontainers:\n  ab: {ports: ["80:80\\n"]}\n')
    assert msgs == ['l.yaml:3:16: containers.ab.ports[0]: "80:80\\n" contains a space or line break; write the port '
                    'spec without one, e.g. "8080:80"']


def test_long_numbers_are_refused_where_written():
    assert errors("name: x\nengine_version: 0x" + "f" * 4000 + "\n") == [
        "l.yaml:2:17: this number has 4002 characters; no field takes a number longer than 64 (quote it if it is a name)"]
    assert "is not an engine version" in errors("name: x\nengine_version: '" + "9" * 5000 + "'\n")[0]


def test_port_budget_per_container():
    ranges = ", ".join(f'"{a}-{a + 999}"' for a in range(1, 4000, 1000))
    msgs = errors(f"name: x\ncontainers:\n  ab: {{listens: [{ranges}]}}\n")
    assert msgs == [f"l.yaml:3:41: containers.ab.listens[2]: the listens ports and published ports add up to more than "
                    f"{MAX_PER_CONTAINER} ports (ranges expanded); netsim models at most {MAX_PER_CONTAINER} per "
                    "container: narrow the ranges"]


@pytest.mark.parametrize("encoding, said", [("utf-32", "UTF-32"), ("utf-32-le", "UTF-32"), ("utf-16-be", "UTF-16")])
def test_wide_encodings_are_named(tmp_path, encoding, said):
    path = tmp_path / "w.yaml"
    path.write_bytes("name: x\ncontainers: {}\n".encode(encoding))
    with pytest.raises(DesignError) as exc:
        load_design(path)
    assert f"{said} is not supported, save it as UTF-8" in str(exc.value)


def test_truncated_utf16_is_named(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_bytes("name: x\n".encode("utf-16")[:-1])
    with pytest.raises(DesignError) as exc:
        load_design(path)
    assert "not valid UTF-16 (an odd number of bytes (truncated?))" in str(exc.value)


# --- through the command line: exit 1, one file:line:column line per problem ------------------

HOSTILE_FILES = {
    "merge-bomb.yaml": "name: x\nx-b:\n  a0: &a0 {}\n" + "".join(
        f"  a{i}: &a{i} {{<<: [{', '.join([f'*a{i - 1}'] * 10)}]}}\n" for i in range(1, 10)),
    "ranges.yaml": "name: x\nx-r: &r [" + ", ".join(f'"{a}-{min(a + 999, 65535)}"' for a in range(1, 65536, 1000))
                   + "]\ncontainers:\n" + "".join(f"  c{i}: {{ports: *r}}\n" for i in range(400)),
    "markup.yaml": 'name: x\ncontainers:\n  "<!--<script>\\u001b[31m\\n": {name: web}\n',
    "digits.yaml": "name: x\nnetworks:\n  n: {driver: macvlan, parent: 'eth0.²'}\n",
    "expect.yaml": "name: x\ncontainers:\n  ab: {}\nexpect:\n  deny: [{from: ab, to: zz}]\n",
    "extends.yaml": "services:\n  a: {image: x, extends: {service: b, file: b.yml}}\n  b: {image: x}\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_check_exits_1_with_places(tmp_path, name):
    import time

    from typer.testing import CliRunner

    from simulator.cli import app

    path = tmp_path / name
    path.write_text(HOSTILE_FILES[name], encoding="utf-8")
    start = time.process_time()
    result = CliRunner().invoke(app, ["check", str(path)])
    assert time.process_time() - start < 10  # a hang guard in CPU seconds of this process: a busy machine does not trip it
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith(str(path) + ":")]
    assert lines and all("\x1b" not in line and len(line) < 1000 for line in lines), result.output
    assert any(line.split(":")[1].isdecimal() and line.split(":")[2].isdecimal() for line in lines), lines


# --- many routes: overlaps found by index, counted exactly ------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from ipaddress import IPv4Network  # noqa: E402

_blocks = st.builds(lambda a, p: IPv4Network((a, p), strict=False), st.integers(0, 2**32 - 1), st.integers(0, 32))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(_blocks, max_size=40), _blocks)
def test_route_index_agrees_with_every_pair(routes, net):
    from simulator.loaders.validate import _Routes

    found, total = _Routes(routes).overlapping(net)
    brute = {r for r in routes if r.overlaps(net)}
    assert total == len(brute)
    assert set(found) <= brute and len(found) == min(len(brute), _Routes.SHOWN)


def test_many_routes_stay_fast():
    import time

    routes = ", ".join(f"10.{i // 256}.{i % 256}.0/24" for i in range(20_000))
    text = f"name: x\nhosts:\n  h1:\n    routes: [{routes}]\nnetworks:\n" + "".join(
        f"  n{i}: {{subnet: 10.{i}.0.0/16, host: h1}}\n" for i in range(60))
    start = time.process_time()
    design, warnings = loaded(text)
    assert time.process_time() - start < 10
    first = [str(w) for w in warnings if "networks.n0.subnet" in str(w)]
    assert len(first) == 3 and first[-1].endswith("breaks that route; 253 more routes of host h1 overlap it"), first


def test_hosts_and_network_instances_are_bounded():
    hosts = "".join(f"  h{i}: {{}}\n" for i in range(300))
    assert errors(f"name: x\nhosts:\n{hosts}") == ["l.yaml:2:1: hosts: 300 hosts; netsim models at most 256 hosts in one design"]
    hosts = "".join(f"  h{i}: {{}}\n" for i in range(200))
    every = ", ".join(f"h{i}" for i in range(200))
    nets = "".join(f"  n{i}: {{hosts: *all}}\n" for i in range(101))
    msgs = errors(f"name: x\nhosts:\n{hosts}x-all: &all [{every}]\nnetworks:\n{nets}")
    assert msgs == ["l.yaml:204:1: networks: the networks exist 20,200 times over the hosts (each network once per host "
                    "it is on, an overlay on every host); netsim models at most 20,000"], msgs


def test_attachments_are_bounded():
    nets = ", ".join(f"n{i}" for i in range(100))
    body = "".join(f"  c{i}: {{networks: *n}}\n" for i in range(501))
    declared = "".join(f"  n{i}: {{}}\n" for i in range(100))
    msgs = errors(f"name: x\nnetworks:\n{declared}x-n: &n [{nets}]\ncontainers:\n{body}")
    assert msgs == ["l.yaml:104:1: containers: the containers join networks 50,100 times in all; netsim models at most "
                    "50,000 attachments in one design"], msgs
    body = "".join(f"  s{i}: {{image: x, networks: *n}}\n" for i in range(501))
    msgs = errors(f"name: p\nnetworks:\n{declared}x-n: &n [{nets}]\nservices:\n{body}")
    assert any("the services join networks 50,100 times" in m for m in msgs), msgs[:3]
