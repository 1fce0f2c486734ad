"""`netsim diff` with IPv6 (issue 14): probes matched by their key, which holds the family; the IPv6
side of hosts, networks and containers compared field by field."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from simulator.analysis.reachability import compute_reach
from simulator.cli import app
from simulator.diff import Ipv6Change, diff_results, ipv6_changes, render_text
from simulator.engine.topology import build_world
from simulator.loaders import load_design, load_text

ROOT = Path(__file__).resolve().parents[2]
DUAL = ROOT / "designs/ipv6/dual-stack.yaml"
GUARDED = ROOT / "designs/ipv6/dual-stack-ip6tables.yaml"


def _diff(old, new):
    return diff_results(compute_reach(old), compute_reach(new))


def test_turning_ip6tables_on_closes_the_ipv6_paths_to_db():
    old, _ = load_design(DUAL)
    new, _ = load_design(GUARDED)
    d = _diff(old, new)
    assert [str(c) for c in d.ipv6] == ["~ host docker1: ip6tables from off to on; experimental from False to True"]
    closed = {c.probe.key for c in d.of("closed")}
    assert ("external", "ip", "db", "back", None, None, 5432, "tcp", 6) in closed
    assert all(c.probe.family == 6 for c in d.of("closed"))  # IPv4 is as it was
    assert d.of("opened") == []
    assert [(e.container, e.port, e.audience, e.family) for e in d.unexposed if e.container == "db"][:1] == \
        [("db", 5432, "external", 6)]
    text = render_text(d)
    assert "IPv6 (hosts, networks, containers):\n  ~ host docker1: ip6tables from off to on" in text
    assert "- external -> db at fd00:db8:20::3 on back, 5432/tcp (ip, IPv6): was answered by db" in text
    assert "from external over IPv6 through its IPv6 address fd00:db8:20::3 on back" in text


def test_the_family_keeps_the_same_path_apart():
    old, _ = load_design(DUAL)
    new, _ = load_design(GUARDED)
    d = _diff(old, new)
    keys = [c.probe.key for c in d.changes]
    assert len(keys) == len(set(keys))
    assert not any(k[:8] == ("external", "ip", "db", "back", None, None, 5432, "tcp") and k[8] == 4 for k in keys)


def test_enabling_ipv6_on_a_network_lists_its_subnet_and_addresses():
    text = DUAL.read_text()
    before = text.replace('    enable_ipv6: true\n    subnet6: "fd00:db8:20::/64"\n', "")
    old, _ = load_text(before, "old.yaml")
    new, _ = load_design(DUAL)
    changes = ipv6_changes(old, build_world(old), new, build_world(new))
    shown = [str(c) for c in changes]
    assert "+ network back: enable ipv6 True; subnet6 fd00:db8:20::/64; gateway6 fd00:db8:20::1" in shown
    assert "~ container db: ipv6 addresses from none to fd00:db8:20::3 on back" in shown or \
        "+ container db: ipv6 addresses fd00:db8:20::3 on back" in shown
    assert any(c.startswith("~ container api: ipv6 addresses from fd00:db8:10::2 on front to fd00:db8:10::2 on front, "
                            "fd00:db8:20::2 on back") for c in shown)


def test_ipv4_designs_have_no_ipv6_changes():
    old, _ = load_design(ROOT / "designs/frontend-backend.yaml")
    new, _ = load_design(ROOT / "designs/internal-network.yaml")
    assert ipv6_changes(old, build_world(old), new, build_world(new)) == ()


def test_the_json_has_an_ipv6_list():
    r = CliRunner().invoke(app, ["diff", str(DUAL), str(GUARDED), "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["ipv6"] == [{"change": "changed", "host": "docker1",
                             "fields": {"ip6tables": {"old": "off", "new": "on"},
                                        "experimental": {"old": False, "new": True}}}]
    assert all(c["old"]["family"] == 6 for c in data["closed"])


def test_a_change_reads_added_and_removed():
    added = Ipv6Change("added", "network", "n", (("enable_ipv6", None, True), ("subnet6", None, ("fd00::/64",)),
                                                 ("gateway6", None, ("fd00::1",))))
    assert str(added) == "+ network n: enable ipv6 True; subnet6 fd00::/64; gateway6 fd00::1"
    removed = Ipv6Change("removed", "container", "c", (("ipv6_addresses", ("fd00::2 on n",), None), ("ipv6_ports", (), None)))
    assert str(removed) == "- container c (was ipv6 addresses fd00::2 on n)"
    assert removed.to_json() == {"change": "removed", "container": "c",
                                 "fields": {"ipv6_addresses": {"old": ["fd00::2 on n"], "new": None},
                                            "ipv6_ports": {"old": [], "new": None}}}
