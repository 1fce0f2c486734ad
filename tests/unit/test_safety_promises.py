"""Safety promises: ``deploy --dry-run`` touches nothing, stale guard rules are removed,
a routing loop ends (LOOP) instead of walking forever."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.adapters import kernel, lanpeer
from simulator.adapters.fake_engine import FakeEngine, FakeLan
from simulator.cli import app
from simulator.deploy.apply import apply, destroy
from simulator.deploy.plan import plan
from simulator.loaders import load_design
from simulator.model import KernelFeatures

ROOT = Path(__file__).resolve().parents[2]
VLAN_DESIGN = """\
name: dryrun-vlan
hosts:
  h1: {lan: {interface: eth0, address: 192.168.1.10/24}}
networks:
  tagged: {driver: macvlan, parent: eth0.50, subnet: 10.50.0.0/24}
  slim: {driver: ipvlan, parent: eth0, subnet: 10.60.0.0/24}
containers:
  tagged-app: {networks: [tagged], listens: [80]}
  slim-app: {networks: [slim], listens: [80]}
"""


class Touched(AssertionError):
    pass


@pytest.fixture
def nothing_may_run(monkeypatch):
    """Every way this process could run a command (ip link add, iptables) fails the test."""
    def refuse(*args, **kwargs):
        raise Touched(f"dry-run ran a command: {args[0] if args else kwargs}")

    for name in ("run", "Popen", "call", "check_call", "check_output"):
        monkeypatch.setattr(subprocess, name, refuse)
    monkeypatch.setattr(os, "system", refuse)
    monkeypatch.setattr(lanpeer, "kernel_capabilities", refuse)
    monkeypatch.setattr(lanpeer, "_run", refuse)


@pytest.mark.parametrize("design", ["designs/macvlan-lan.yaml", "designs/frontend-backend.yaml",
                                    "designs/overlay-two-hosts.yaml"])
def test_dry_run_runs_no_command(nothing_may_run, design):
    result = CliRunner().invoke(app, ["deploy", "--dry-run", str(ROOT / design)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.output
    assert "deploy plan for design" in result.output
    assert "deploy tries them" in result.output


def test_dry_run_reads_link_types_from_the_kernel_configuration(nothing_may_run, monkeypatch, tmp_path):
    design = tmp_path / "vlan.yaml"
    design.write_text(VLAN_DESIGN)
    monkeypatch.setattr(kernel, "_config_text", lambda: ("CONFIG_MACVLAN=y\n# CONFIG_IPVLAN is not set\n", "/proc/config.gz"))
    result = CliRunner().invoke(app, ["deploy", "--dry-run", str(design)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    # the plan skips what this kernel lacks (or the design is refused for it): either way, said
    assert re.search(r"ipvlan is not available in this machine's kernel|kernel has no ipvlan", result.output)
    assert re.search(r"802.1q \(vlan 50 sub-interface\) is not available|kernel has no 802.1q", result.output)
    monkeypatch.setattr(kernel, "_config_text",
                        lambda: ("CONFIG_MACVLAN=y\nCONFIG_IPVLAN=m\nCONFIG_VLAN_8021Q=y\n", "/boot/config-x"))
    out = CliRunner().invoke(app, ["deploy", "--dry-run", str(design)]).output
    assert "not available" not in out and "as /boot/config-x says" in out


def test_link_capabilities_without_a_readable_configuration(monkeypatch):
    monkeypatch.setattr(kernel, "_config_text", lambda: None)
    caps, where = kernel.link_capabilities()
    assert isinstance(caps, KernelFeatures) and where


# --- stale guard rules ------------------------------------------------------------------

def test_destroy_removes_stale_guard_rules():
    lan = FakeLan()
    lan.stale_guards = 2
    removed = destroy("shop", FakeEngine(), lan)
    assert "2 stale uplink guard rule(s) in DOCKER-USER" in removed
    assert lan.stale_guards == 0 and ("remove_stale_guards",) in lan.calls


def test_deploy_removes_stale_guard_rules_first():
    design, _ = load_design(ROOT / "designs/frontend-backend.yaml")
    lan = FakeLan()
    lan.stale_guards = 1
    dep = apply(plan(design), FakeEngine(), lan)
    assert lan.stale_guards == 0
    assert any("1 stale uplink guard rule(s)" in n for n in dep.notes)


class FakeIptables:
    """``iptables``/``ip6tables`` ``-S CHAIN`` / ``-D`` on a list of rules per tool."""

    def __init__(self, rules, rules6=()):
        self.rules = {"iptables": list(rules), "ip6tables": list(rules6)}
        self.deleted = []

    def __call__(self, argv, check=True, input=None, timeout=30):
        argv = list(argv)
        tool, verb = argv[:2]
        if tool not in self.rules:
            raise AssertionError(f"unexpected command {argv}")
        rules = self.rules[tool]
        if verb == "-S":  # as iptables-nft prints them: the comment in quotes
            shown = [re.sub(r"--comment (\S+)", r'--comment "\1"', r) for r in rules if r.startswith(argv[2] + " ")]
            out = f"-N {argv[2]}\n" + "".join("-A " + r + "\n" for r in shown)
            return subprocess.CompletedProcess(argv, 0, out, "")
        if verb == "-D":
            rule = " ".join(argv[2:])
            if rule in rules:
                rules.remove(rule)
                self.deleted.append(rule)
                return subprocess.CompletedProcess(argv, 0, "", "")
            return subprocess.CompletedProcess(argv, 1, "", "Bad rule")
        raise AssertionError(f"unexpected command {argv}")


def test_remove_stale_guards_keeps_the_guard_of_a_running_verify(monkeypatch):
    dead = 4_000_000  # above pid_max: no such process
    guard = "DOCKER-USER -o eth0 -m comment --comment {} -j REJECT --reject-with icmp-admin-prohibited"
    guard6 = "FORWARD -o eth0 -m comment --comment {} -j REJECT --reject-with icmp6-adm-prohibited"
    rules = [guard.format("netsim-guard"), guard.format(f"netsim-guard:{dead}"),
             guard.format(f"netsim-guard:{os.getpid()}"), "DOCKER-USER -j RETURN",
             guard.format("someone-else"), guard.format("netsim-guard:\u00b2")]
    rules6 = [guard6.format(f"netsim-guard:{dead}"), guard6.format(f"netsim-guard:{os.getpid()}"),
              "FORWARD -j ACCEPT"]
    fake = FakeIptables(rules, rules6)
    monkeypatch.setattr(lanpeer, "_run", fake)
    monkeypatch.setattr(lanpeer.os, "geteuid", lambda: 0)
    monkeypatch.setattr(lanpeer.shutil, "which", lambda name: f"/usr/sbin/{name}")
    assert lanpeer.remove_stale_guards() == 3
    assert fake.deleted == [rules[0], rules[1], rules6[0]]
    assert fake.rules == {"iptables": rules[2:], "ip6tables": rules6[1:]}
    assert lanpeer.guard_comment() == f"netsim-guard:{os.getpid()}"


def test_uplink_guard_covers_both_families_and_removes_its_rules(monkeypatch):
    """One REJECT per family with a default route; both gone when the block ends, also on errors."""
    fake = FakeIptables([], [])

    def run(argv, check=True, input=None, timeout=30):
        argv = list(argv)
        if argv[:2] == ["ip", "-j"]:
            dev = {"-4": "eth0", "-6": "eth0"}[argv[2]]
            return subprocess.CompletedProcess(argv, 0, json.dumps([{"dst": "default", "dev": dev}]), "")
        if argv[1] == "-I":
            fake.rules[argv[0]].insert(0, " ".join(argv[2:]))
            return subprocess.CompletedProcess(argv, 0, "", "")
        return fake(argv)

    monkeypatch.setattr(lanpeer, "_run", run)
    monkeypatch.setattr(lanpeer.os, "geteuid", lambda: 0)
    monkeypatch.setattr(lanpeer.shutil, "which", lambda name: f"/usr/sbin/{name}")
    with pytest.raises(RuntimeError):
        with lanpeer.uplink_guard() as note:
            assert note.startswith("uplink guard active")
            assert "iptables DOCKER-USER -o eth0" in note and "ip6tables FORWARD -o eth0" in note
            assert [r.split()[0] for r in fake.rules["iptables"]] == ["DOCKER-USER"]
            assert "icmp6-adm-prohibited" in fake.rules["ip6tables"][0]
            raise RuntimeError("probe failed")
    assert fake.rules == {"iptables": [], "ip6tables": []}


# --- routing loops ------------------------------------------------------------------------

LOOP_DESIGN = ROOT / "tests/data/walk/routing-loop.yaml"


def _netsim(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from simulator.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_a_routing_loop_ends_as_loop_with_a_trace():
    from simulator.analysis.paths import trace_between
    from simulator.engine.trace import Disposition
    from simulator.engine.walk import MAX_HOPS

    design, _ = load_design(LOOP_DESIGN)
    [(label, t)] = trace_between(design, "app", "10.99.0.5", 80)
    assert t.disposition is Disposition.LOOP
    assert len(t.hops) == MAX_HOPS + 1
    assert [h.node for h in t.hops[1:5]] == ["host docker1", "host docker2", "host docker1", "host docker2"]
    assert "hop limit" in str(t.hops[-1]) and "round host docker2 -> host docker1 -> host docker2" in str(t.hops[-1])
    assert str(t).endswith("=> LOOP: routing loop: the address is routed in a circle, until its TTL runs out "
                           "(the kernel answers ICMP time exceeded)")


def test_trace_command_on_a_routing_loop_ends():
    text = _netsim("trace", str(LOOP_DESIGN), "app", "10.99.0.5:80")
    assert text.returncode == 0, text.stderr
    assert "=> LOOP: routing loop" in text.stdout and "hop limit" in text.stdout
    as_json = _netsim("trace", str(LOOP_DESIGN), "app", "10.99.0.5:80", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    [path] = json.loads(as_json.stdout)
    assert path["disposition"] == "LOOP" and path["hops"][-1]["steps"][0]["detail"].startswith("hop limit")


def test_a_route_via_a_neighbour_off_the_lan_is_refused(tmp_path):
    from simulator.errors import DesignError

    bad = tmp_path / "bad.yaml"
    bad.write_text(LOOP_DESIGN.read_text().replace("10.99.0.0/24 via 192.168.1.11", "10.99.0.0/24 via 10.1.1.1")
                   .replace("10.99.0.0/24 via 192.168.1.10", "10.99.0.0/24 via nowhere"))
    with pytest.raises(DesignError) as err:
        load_design(bad)
    text = str(err.value)
    assert "bad.yaml:9:" in text and "10.1.1.1 is not on the host's LAN 192.168.1.0/24" in text
    assert "bad.yaml:13:" in text and '"nowhere" is not an IPv4 address' in text
