"""netsim import / drift / verify --live on compose projects started by docker-compose (v1),
not by netsim.  The tests create and remove the projects themselves (one container at a
time: concurrent removal corrupts endpoint counts on 20.10); netsim must change nothing
of them and leave no helper behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "live"
CLI = [sys.executable, "-c", "from simulator.cli import main; main()"]


def netsim(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def compose(project: str, file: Path, *args: str) -> None:
    proc = subprocess.run(["docker-compose", "-p", project, "-f", str(file), *args], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr


def remove_project(api, project: str) -> None:
    """What the test created, one container at a time, then the networks."""
    for c in api.containers(all=True, filters={"label": f"com.docker.compose.project={project}"}):
        api.remove_container(c["Id"], force=True, v=True)
    for n in api.networks(filters={"label": f"com.docker.compose.project={project}"}):
        api.remove_network(n["Id"])


def state(api, project: str) -> dict:
    """What netsim must not change: ids, start times, endpoints and port bindings."""
    out = {}
    for c in api.containers(all=True, filters={"label": f"com.docker.compose.project={project}"}):
        info = api.inspect_container(c["Id"])
        nets = info["NetworkSettings"]["Networks"]
        out[info["Name"]] = (info["Id"], info["State"]["StartedAt"], info["RestartCount"],
                             sorted((k, v["IPAddress"], tuple(sorted(v["Aliases"] or []))) for k, v in nets.items()),
                             json.dumps(info["HostConfig"]["PortBindings"], sort_keys=True))
    return out


def helpers(api) -> list[str]:
    return [c["Names"][0] for c in api.containers(all=True, filters={"label": "netsim.helper=1"})]


@pytest.fixture(scope="module")
def api(engine):
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose (v1, apt package docker-compose) is needed: scripts/setup.sh --engine installs it")
    engine.ensure_image("netsim-probe:1", build_default=True)
    return engine.api


@pytest.fixture
def project(api, request):
    started = []

    def start(name: str, directory: str) -> Path:
        remove_project(api, name)
        file = DATA / directory / "docker-compose.yml"
        started.append(name)
        compose(name, file, "up", "-d")
        return file

    yield start
    for name in started:
        remove_project(api, name)
    assert not helpers(api)


@pytest.mark.parametrize("name,directory", [("nslshop", "shop"), ("nsledge", "edge")])
def test_import_drift_and_live_verify_agree_with_the_compose_file(api, project, root, tmp_path, name, directory):
    file = project(name, directory)
    before = state(api, name)

    out = tmp_path / "import.yaml"
    r = netsim("import", "--project", name, "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert netsim("check", str(out)).returncode == 0
    again = netsim("import", "--project", name, "-o", str(out))
    assert again.returncode == 2 and "--force" in again.stderr
    assert netsim("import", "--project", name, "-o", str(out), "--force").returncode == 0

    r = netsim("drift", str(file), "--project", name, "--format", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["items"] == []

    r = netsim("verify", str(file), "--live", "--project", name, "--format", "json")
    data = json.loads(r.stdout)
    assert r.returncode == 0, [p for p in data["probes"] if p["verdict"] == "mismatch"]
    assert data["counts"]["mismatch"] == 0 and data["counts"]["agree"] >= 30
    assert any("external vantage point probed from an emulated LAN peer" in n for n in data["notes"])
    external = [p for p in data["probes"] if p["source"] == "external" and p["via"] != "dns"]
    assert external and all(p["verdict"] in ("agree", "not-compared") for p in external)
    assert any(p["verdict"] == "agree" for p in external)
    assert not [ns for ns in os.listdir("/run/netns") if ns.startswith("netsim-live-")] if os.path.isdir(
        "/run/netns") else True
    dns = [p for p in data["probes"] if p["via"] == "dns" and p["source"] not in ("host", "external")]
    assert dns and all(p["verdict"] == "agree" for p in dns)  # names looked up under the guard

    assert state(api, name) == before  # nothing of the project changed
    assert not helpers(api)


def _drift(file: Path, name: str) -> dict:
    r = netsim("drift", str(file), "--project", name, "--format", "json")
    assert r.returncode == 1, r.stdout + r.stderr
    return json.loads(r.stdout)


def _items(data: dict) -> set[tuple]:
    return {(i["category"], i["subject"], i["kind"]) for i in data["items"]}


def test_hand_made_changes_are_drift_with_their_consequences(api, project, root, tmp_path):
    name = "nslshop"
    file = project(name, "shop")

    # 1. a container connected to another network
    api.connect_container_to_network(f"{name}_db_1", f"{name}_front")
    data = _drift(file, name)
    assert ("attachment", "db on front", "added") in _items(data)
    assert any(c["new"]["source"] == "web" and c["new"]["target"] == "db" for c in data["consequence"]["opened"])

    # 2. a port re-published on 0.0.0.0 (compose recreates the container)
    compose(name, DATA / "shop" / "docker-compose.wider.yml", "up", "-d", "web")
    data = _drift(file, name)
    assert ("port", "web 80/tcp", "wider") in _items(data)
    assert data["consequence"]["opened"] or data["consequence"]["newly_exposed"]

    # 3. an alias removed (disconnected, reconnected without it)
    api.disconnect_container_from_network(f"{name}_app_1", f"{name}_back")
    api.connect_container_to_network(f"{name}_app_1", f"{name}_back", aliases=["app"])
    data = _drift(file, name)
    items = _items(data)
    assert ("alias", "app on back", "removed") in items
    assert ("attachment", "db on front", "added") in items and ("port", "web 80/tcp", "wider") in items
    assert any(c["old"]["name"] == "api" for c in data["consequence"]["closed"])

    junit = netsim("drift", str(file), "--project", name, "--format", "junit")
    assert junit.returncode == 1 and "<failure" in junit.stdout

    # the live probes see the changes too (an unknown name is looked up under the guard)
    before = state(api, name)
    r = netsim("verify", str(file), "--live", "--project", name, "--format", "json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    mism = {(p["source"], p["via"], p["target"], p["name"]) for p in data["probes"] if p["verdict"] == "mismatch"}
    assert ("db", "dns", None, "api") in mism
    assert state(api, name) == before and not helpers(api)
