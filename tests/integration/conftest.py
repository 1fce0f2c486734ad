"""Integration tests against the real Docker engine (marker ``docker``).

Without an engine they skip locally, but FAIL when ``CI=true``: CI must never silently
skip them.  Every test checks afterwards that nothing netsim-labelled, no LAN namespace
and no guard rule is left behind.
"""

from __future__ import annotations

import os
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
        return DockerEngine()
    except EngineUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the Docker engine is unavailable: {exc}")
        pytest.skip(f"no Docker engine: {exc}")


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
    return out
