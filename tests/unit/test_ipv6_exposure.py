"""Exposure over both families (issue 14): each entry carries its family, and a listener reachable
over IPv6 but not over IPv4 (or the reverse) from an audience reads as such, in the text, the JSON,
the report and the diagram's colours. From the listeners' side it equals the exposure read off every
probe of both families."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.analysis.exposure import Exposure, compute_exposure
from simulator.analysis.reachability import ReachResult, reach_of
from simulator.cli import app
from simulator.pipeline import load
from simulator.render.report import render_report
from simulator.render.tables import exposure_table

ROOT = Path(__file__).resolve().parents[2]
DUAL = ROOT / "designs/ipv6/dual-stack.yaml"
GUARDED = ROOT / "designs/ipv6/dual-stack-ip6tables.yaml"


def exposure_per_probe(result: ReachResult) -> list[Exposure]:
    """The reference: the exposure read off every probe of both families, in order (the path a result
    given its probes takes: the first of each exposure proves it, and each entry's families are those
    over which its audience reaches its listener)."""
    return compute_exposure(replace(result, probes=tuple(result.iter_probes())))


@pytest.mark.parametrize("version", [None, "28.2"])
@pytest.mark.parametrize("path", [DUAL, GUARDED], ids=lambda p: p.stem)
def test_exposure_over_both_families_equals_the_per_probe_one(path, version):
    world = load(path).world(version)
    expected = exposure_per_probe(reach_of(world))
    assert any(e.family == 6 for e in expected) and any(e.family == 4 for e in expected)
    assert compute_exposure(reach_of(world)) == expected


def _entries(path: Path) -> list[Exposure]:
    return compute_exposure(reach_of(load(path).world()))


def test_db_is_reachable_from_the_lan_over_ipv6_only():
    db = [e for e in _entries(DUAL) if e.container == "db" and e.audience == "external"]
    assert [(e.port, e.family, e.families, e.family_text) for e in db] == [(5432, 6, (6,), "IPv6 only")]
    assert db[0].through == "its IPv6 address fd00:db8:20::3 on back, routed through the host (no NAT)"
    assert db[0].example == "external -> [fd00:db8:20::3]:5432/tcp (ip)"
    assert db[0].to_json()["family"] == 6 and db[0].to_json()["families"] == [6]


def test_with_ip6tables_on_db_is_not_exposed_to_the_lan():
    assert not [e for e in _entries(GUARDED) if e.container == "db" and e.audience in ("external", "other networks")]


def test_ports_published_on_ipv6_host_addresses_are_named_with_brackets():
    web = {(e.port, e.through) for e in _entries(DUAL) if e.container == "web" and e.audience == "external"}
    assert (443, "published port [::]:443->443/tcp on front") in web
    assert (80, "published port [2001:db8:1::10]:80->80/tcp on front") in web


def test_both_families_read_as_such():
    web443 = {e.family_text for e in _entries(DUAL) if e.container == "web" and e.port == 443 and e.audience == "external"}
    assert web443 == {"IPv4", "IPv6"}


def test_an_ipv4_design_has_no_family_column():
    entries = _entries(ROOT / "designs/frontend-backend.yaml")
    assert all(e.families == () and e.family == 4 and e.family_text == "" for e in entries)
    assert "family" not in exposure_table("fb", entries, width=None)


def test_the_table_has_a_family_column_with_ipv6_only():
    table = exposure_table("dual-stack", _entries(DUAL), width=None)
    header = next(line for line in table.splitlines() if "reachable from" in line and "container" in line)
    assert header.index("reachable from") < header.index("family") < header.index("through")
    assert any("db" in line and "IPv6 only" in line for line in table.splitlines())


def test_exposure_json_carries_family_and_families():
    r = CliRunner().invoke(app, ["exposure", str(DUAL), "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert {(e["container"], e["audience"], tuple(e["families"])) for e in data["exposure"] if e["family"] == 6} >= \
        {("db", "external", (6,))}
    assert all("family" in g["first"] for g in data["by_class"])


def test_the_report_has_a_family_column():
    world = load(DUAL).world()
    result = reach_of(world)
    page = render_report(world.design, None, "", result)
    assert "<th>family</th>" in page or ">family<" in page
    assert "IPv6 only" in page


REPLICAS = """
name: replicas6
engine_version: "{version}"
hosts:
  docker1:
    lan: {{interface: eth0, address: 192.168.1.10/24, address6: "2001:db8:1::10/64"}}
    daemon: {{ipv6: true, fixed_cidr_v6: "fd00:db8:17::/64"{daemon}}}
networks:
  front: {{subnet: 172.31.10.0/24, enable_ipv6: true, subnet6: "fd00:db8:10::/64"}}
  back: {{subnet: 172.31.20.0/24, enable_ipv6: true, subnet6: "fd00:db8:20::/64", internal: true}}
  plain: {{subnet: 172.31.30.0/24}}
containers:
{containers}
"""


def _replicas(version: str, daemon: str = "") -> str:
    lines = []
    for i in range(1, 6):
        lines.append(f"  web{i}: {{networks: [front, back], ports: ['{8000 + i}:80'], listens: [80]}}")
    for i in range(1, 4):
        lines.append(f"  db{i}: {{networks: [back], listens: [5432]}}")
    for i in range(1, 3):
        lines.append(f"  old{i}: {{networks: [plain], ports: ['127.0.0.1:{9000 + i}:22'], listens: [22]}}")
    lines.append("  admin: {networks: [front, plain], ports: ['[::1]:7000:7000'], listens: [7000]}")
    return REPLICAS.format(version=version, daemon=daemon, containers="\n".join(lines))


@pytest.mark.parametrize(("version", "daemon"), [("20.10", ""), ("20.10", ", ip6tables: true, experimental: true"),
                                                 ("28.2", ""), ("28.2", ", ip6tables: false")])
def test_classes_of_replicas_over_both_families_equal_the_per_probe_one(version, daemon):
    world = load(_replicas(version, daemon)).world()
    result = reach_of(world)
    assert max(len(c.members) for c in result.classes) >= 3
    expected = exposure_per_probe(reach_of(world))
    assert any(e.family == 6 for e in expected)
    assert compute_exposure(result) == expected
