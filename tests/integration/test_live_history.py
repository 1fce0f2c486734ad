"""Issue 15's acceptance on a compose project started by hand (docker-compose v1) on an
engine with history: the import keeps the addresses the engine assigned, drift reports
nothing until the environment is changed by hand, then each change with its addresses,
and verify --live speaks of the design and the running environment.

Everything the tests create carries the label nstest=1 and is removed in a finally."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).resolve().parents[1] / "data" / "live"
CLI = [sys.executable, "-c", "from simulator.cli import main; main()"]
PROJECT = "nse2e"
FILE = DATA / "e2e" / "docker-compose.yml"


def netsim(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def compose(*args: str, file: Path = FILE) -> None:
    proc = subprocess.run(["docker-compose", "-p", PROJECT, "-f", str(file), *args], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr


def remove_all(api) -> None:
    """The project's containers one at a time, then the hand-started ones, then networks."""
    for label in (f"com.docker.compose.project={PROJECT}", "nstest=1"):
        for c in api.containers(all=True, filters={"label": label}):
            api.remove_container(c["Id"], force=True, v=True)
    for label in (f"com.docker.compose.project={PROJECT}", "nstest=1"):
        for n in api.networks(filters={"label": label}):
            if not n.get("Containers"):
                api.remove_network(n["Id"])


def inspect_addresses(api) -> dict[tuple[str, str], str]:
    """(service, compose network key) -> IPv4 address, as docker inspect shows them."""
    out = {}
    for c in api.containers(filters={"label": f"com.docker.compose.project={PROJECT}"}):
        info = api.inspect_container(c["Id"])
        service = info["Config"]["Labels"]["com.docker.compose.service"]
        for net, ep in info["NetworkSettings"]["Networks"].items():
            out[(service, net.removeprefix(f"{PROJECT}_"))] = ep["IPAddress"]
    return out


@pytest.fixture
def e2e(engine, root):
    api = engine.api
    engine.ensure_image("netsim-probe:1", build_default=True)
    remove_all(api)
    try:
        # history: a network created and removed first, so the pools are not fresh
        net = api.create_network("nsthrowaway", labels={"nstest": "1"})
        api.remove_network(net["Id"])
        compose("up", "-d")
        yield api
    finally:
        remove_all(api)
    assert not api.containers(all=True, filters={"label": "netsim.helper=1"})


def drift_json(design: Path) -> dict:
    r = netsim("drift", str(design), "--project", PROJECT, "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    data = json.loads(r.stdout)
    assert (r.returncode == 1) == data["drift"]
    return data


def items(data: dict) -> dict[tuple[str, str, str], dict]:
    return {(i["category"], i["subject"], i["kind"]): i for i in data["items"]}


def test_import_keeps_the_engines_addresses_and_drift_reports_each_hand_change(e2e, tmp_path):
    api = e2e
    seen = inspect_addresses(api)
    assert len(seen) == 4  # web/front, api/front, api/back, db/back

    out = tmp_path / "import.yaml"
    r = netsim("import", "--project", PROJECT, "-o", str(out))
    assert r.returncode == 0, r.stderr
    written = yaml.safe_load(out.read_text())
    pinned = {(c, n): spec["ipv4_address"] for c, cs in written["containers"].items()
              for n, spec in cs["networks"].items()}
    assert pinned == seen
    imported = written["x-netsim"]["imported"]
    assert imported["read"]["lan"]["value"].split()[0] == written["hosts"]["docker1"]["lan"]["interface"]
    assert "daemon.userland-proxy" in imported["read"] and "daemon.forwarding_preset" in imported["assumed"]

    # reach on the imported design lists exactly the addresses docker inspect shows
    r = netsim("reach", str(out), "--format", "json")
    assert r.returncode == 0, r.stderr
    listed = {(p["target"], p["network"]): p["address"] for p in json.loads(r.stdout)["probes"] if p["via"] == "ip"}
    assert listed == seen

    assert drift_json(FILE)["items"] == [] and drift_json(out)["items"] == []

    # 1. connect a network: web joins back
    api.connect_container_to_network(f"{PROJECT}_web_1", f"{PROJECT}_back")
    web_back = inspect_addresses(api)[("web", "back")]
    found = items(drift_json(out))
    assert found[("attachment", "web on back", "added")]["actual"] == f"attached to back at {web_back}"
    data = drift_json(FILE)
    assert ("attachment", "web on back", "added") in items(data)
    opened = data["consequence"]["opened"]
    assert any(c["new"]["source"] == "web" and c["new"]["target"] == "db" and c["new"]["address"] == seen[("db", "back")]
               for c in opened), opened

    # 2. disconnect one: api leaves front
    api.disconnect_container_from_network(f"{PROJECT}_api_1", f"{PROJECT}_front")
    found = items(drift_json(out))
    assert found[("attachment", "api on front", "removed")]["expected"] == f"attached to front at {seen[('api', 'front')]}"

    # 3. re-publish a port on 0.0.0.0 (compose recreates web: its address may change)
    compose("up", "-d", "web", file=DATA / "e2e" / "docker-compose.wider.yml")
    now = inspect_addresses(api)
    found = items(drift_json(out))
    assert found[("port", "web 80/tcp", "wider")]["actual"] == "0.0.0.0:18380->80/tcp"
    if now[("web", "front")] != seen[("web", "front")]:
        assert found[("address", "web on front", "changed")]["actual"] == now[("web", "front")]
    else:
        assert ("address", "web on front", "changed") not in found

    # 4. stop a container: named as docker-compose v1 named it
    api.stop(f"{PROJECT}_db_1", timeout=1)
    found = items(drift_json(FILE))
    assert found[("container", "container db", "missing")]["expected"] == f"{PROJECT}_db_1"

    # 5. an unlabelled container started on a project network
    extra = api.create_container("netsim-probe:1", ["sleep", "600"], name="nse2e-intruder", labels={"nstest": "1"},
                                 host_config=api.create_host_config(network_mode=f"{PROJECT}_front"))
    api.start(extra["Id"])
    addr = api.inspect_container(extra["Id"])["NetworkSettings"]["Networks"][f"{PROJECT}_front"]["IPAddress"]
    found = items(drift_json(out))  # not of the project by labels, but on its network
    assert found[("container", "container nse2e-intruder", "extra")]["actual"] == f"nse2e-intruder on front at {addr}"
    assert ("container", "container db", "missing") in found


def test_live_verify_speaks_of_design_and_running_and_probes_from_the_lan(e2e):
    api = e2e
    # untouched: everything compared agrees, from every vantage point, the LAN peer included
    r = netsim("verify", str(FILE), "--live", "--project", PROJECT, "--format", "json")
    data = json.loads(r.stdout)
    assert r.returncode == 0, data["differences"]
    assert data["mode"] == "live" and data["differences"] == [] and data["drift_items"] == []
    seen = inspect_addresses(api)
    running = {a["subject"]: a["engine"] for a in data["addressing"] if a["kind"] == "address"}
    assert running == {f"{c} on {n}": ip for (c, n), ip in seen.items()}  # the addressing view, every endpoint
    udp = [p for p in data["probes"] if p["protocol"] == "udp" and p["source"] == "api" and p["via"] == "ip"]
    assert udp and all(p["verdict"] == "agree" and p["observed"]["status"] == "answered" for p in udp)
    assert any(n.startswith("external vantage point probed from an emulated LAN peer") for n in data["notes"])
    ext = {(p["via"], p["target"], p["network"]): p for p in data["probes"] if p["source"] == "external"}
    web = ext[("ip", "web", "front")]  # 20.10: a LAN host routing to the subnet reaches a published container port
    assert web["verdict"] == "agree" and web["observed"]["address"] == seen[("web", "front")]
    assert web["observed"]["status"] == "answered"
    published = ext[("host", None, None)]  # 127.0.0.1:18380: refused from the LAN
    assert published["verdict"] == "agree" and published["observed"]["status"] == "refused"

    # a hand-made connection: the differences in plain words, under the drift that causes them
    api.connect_container_to_network(f"{PROJECT}_web_1", f"{PROJECT}_back")
    r = netsim("verify", str(FILE), "--live", "--project", PROJECT, "--format", "json")
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    groups = data["differences"]
    assert groups and groups[0]["drift"] and "web on back" in groups[0]["drift"][0]
    plain = [d for g in groups for d in g["differences"]]
    db = seen[("db", "back")]
    assert any(d["design"] == f"design: web cannot reach db on back at {db} 5432/tcp"
               and d["running"] == f"running: web reaches db on back at {db} 5432/tcp (db answered)" for d in plain), plain

    # re-published on 0.0.0.0: the LAN now reaches it, and the drift says why
    compose("up", "-d", "web", file=DATA / "e2e" / "docker-compose.wider.yml")
    r = netsim("verify", str(FILE), "--live", "--project", PROJECT, "--format", "json")
    data = json.loads(r.stdout)
    wider = [g for g in data["differences"] if any("wider" in d for d in g["drift"])]
    assert wider and any(d["design"].startswith("design: external cannot reach the host at ")
                         and d["running"].startswith("running: external reaches the host at ")
                         for d in wider[0]["differences"]), data["differences"]

    text = netsim("verify", str(FILE), "--live", "--project", PROJECT)
    assert "because of drift: web 80/tcp: published on 0.0.0.0:18380" in text.stdout
    assert "running: external reaches the host" in text.stdout and "MISMATCH" not in text.stdout
    assert not [ns for ns in os.listdir("/run/netns") if ns.startswith("netsim-live-")]
    assert not re.search(r"\bnsl[0-9]+[hp]\b", subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout)
