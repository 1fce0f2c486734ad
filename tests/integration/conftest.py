"""Integration tests against the real Docker engine (marker ``docker``).

Without an engine they skip locally, but FAIL when ``CI=true``: CI must never silently
skip them.  Every test checks afterwards that nothing netsim-labelled, no LAN namespace
and no guard rule is left behind.

The suite runs on an engine that has never seen netsim (scripts/fresh-engine-check.sh
proves it): whatever a test needs (the probe image included) it builds or finds through
the product's own code, and it removes what it created in a ``finally``.  What an earlier,
killed run may have left is removed first, when the session opens the engine: every design
the suite deploys is destroyed by netsim's own ``destroy`` (by label: containers, networks,
LAN namespace, extra daemons, guard rule, netsim's swarm), and every object a test created
by hand carries the label ``nstest=1`` and is removed by that label.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "compose"


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def engine():
    from simulator.adapters.docker_engine import DockerEngine
    from simulator.errors import EngineUnavailable

    try:
        found = DockerEngine()
    except EngineUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the Docker engine is unavailable: {exc}")
        pytest.skip(f"no Docker engine: {exc}")
    remove_leftovers(found)
    return found


TEST_LABEL = {"nstest": "1"}  # on everything a test creates by hand (not through netsim)
# designs the tests build in code (the others are read from designs/ and tests/data/compose)
CODED_DESIGNS = ("nstiny", "nsclash", "judged", "nsbench2", "nsv6-ip6t") + tuple(f"rnd{seed}" for seed in range(8))


def suite_designs() -> list[str]:
    """The name of every design the suite deploys."""
    from simulator.loaders import load_design

    root = Path(__file__).resolve().parents[2]
    files = sorted(root.glob("designs/*.yaml")) + [root / "designs" / "compose-shop" / "compose.yaml"]
    files += sorted(DATA.glob("*.yaml")) + sorted(root.glob("designs/ipv6/*.yaml"))
    files += sorted(root.glob("tests/data/ipv6/*.yaml"))
    names = list(CODED_DESIGNS)
    for f in files:
        try:
            names.append(load_design(f)[0].name)
        except Exception:  # a broken design fails its own test; the others still get cleaned
            continue
    return sorted(set(names))


def remove_leftovers(engine) -> list[str]:
    """What an earlier, killed run left: the suite's designs (netsim's destroy) and the objects
    labelled nstest=1."""
    from simulator.deploy.apply import destroy

    removed = []
    for name in suite_designs():
        removed += destroy(name, engine)
    api = engine.api
    label = [f"{k}={v}" for k, v in TEST_LABEL.items()]
    for c in api.containers(all=True, filters={"label": label}):
        api.remove_container(c["Id"], force=True)
        removed.append(f"container {c['Names'][0]}")
    for n in api.networks(filters={"label": label}):
        api.remove_network(n["Id"])
        removed.append(f"network {n['Name']}")
    # test_live_dns_guard's packet counters (iptables rules with a test comment)
    rules = subprocess.run(["iptables", "-t", "mangle", "-S", "POSTROUTING"], capture_output=True, text=True).stdout
    for rule in rules.splitlines():
        if "netsim-test-dns-count" in rule and rule.startswith("-A "):
            subprocess.run(["iptables", "-t", "mangle", "-D", *shlex.split(rule)[1:]], check=False)
            removed.append(f"iptables mangle rule {rule}")
    return removed


@pytest.fixture(scope="session")
def root():
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but not root: the emulated LAN (ip netns, veth) needs root")
        pytest.skip("needs root for the emulated LAN")


@pytest.fixture(scope="session")
def compose_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def load_compose():
    return load


@pytest.fixture(scope="session")
def leftovers():
    return find_leftovers


def load(name: str):
    from simulator.loaders import load_design

    design, _ = load_design(DATA / name)
    return design


def find_leftovers(engine, design_name: str) -> list[str]:
    """Everything netsim might have left for a design: labelled objects, netns, veth, rules."""
    from simulator.adapters.engine import design_labels
    from simulator.deploy.plan import lan_names

    out = [f"{o.kind} {o.name}" for o in engine.list_by_label(design_labels(design_name))]
    namespace, host_if, _ = lan_names(design_name)
    if os.path.exists(f"/run/netns/{namespace}"):
        out.append(f"netns {namespace}")
    if subprocess.run(["ip", "link", "show", host_if], capture_output=True).returncode == 0:
        out.append(f"veth {host_if}")
    rules = subprocess.run(["iptables", "-S", "DOCKER-USER"], capture_output=True, text=True).stdout
    if "netsim-guard" in rules:
        out.append("DOCKER-USER guard rule")
    from simulator.adapters import ipv6_guard

    if design_name in ipv6_guard.holders():
        out.append(f"IPv6 forwarding record {ipv6_guard.RECORD} held by {design_name}")
    if not ipv6_guard.holders() and ipv6_guard.rules_present():
        out.append("ip6tables OUTPUT MLD drop rules without a holder")
    return out
