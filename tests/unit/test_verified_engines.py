"""What real 28.5.2 and 29.7.2 engines did, recorded, and the model held to it.

``tests/data/verified/observations/*.json`` holds, per design and engine, every probe
``netsim verify --dockerd`` compared on a Docker engine built from moby's source here
(docs/verified-engines.md): the probe's key and what the engine answered (status and the
container that answered).  The model of that engine's line must still agree with every one
of them, as verify judges it (``simulator.verify.compare``), and the addresses, subnets and
default gateways the engine handed out must still be the model's.  No engine is needed.
"""

from __future__ import annotations

import json
from dataclasses import replace
from ipaddress import ip_address
from pathlib import Path

import pytest

from simulator.analysis.probes import Via
from simulator.analysis.reachability import reach_of
from simulator.engine.topology import build_world
from simulator.engine.versions import engine_line
from simulator.pipeline import load
from simulator.verify.compare import compare
from simulator.verify.observe import Observation

ROOT = Path(__file__).resolve().parents[2]
RECORDS = sorted((ROOT / "tests/data/verified/observations").glob("*.json"))
ENGINES = ("28.5.2", "29.7.2")
IPV6 = " (IPv6)"  # how verify names an IPv6 subnet or address


def _as_placed(design, run):
    """The design with each swarm task on the node the engine's scheduler put it (the run's
    ``placement``, recorded when it was not the model's), as verify compared it."""
    placed = run.get("placement") or {}
    if not placed:
        return design
    return replace(design, containers=tuple(replace(c, host=placed.get(c.name, c.host)) for c in design.containers))


def _world(loaded, run, version):
    return build_world(_as_placed(loaded.design, run), version) if run.get("placement") else loaded.world(version)


def _runs():
    for path in RECORDS:
        record = json.loads(path.read_text())
        for run in record["runs"]:
            yield pytest.param(record["design"], run, id=f"{path.stem}-{run['engine']}")


def test_every_bundled_and_calibration_design_was_verified_on_both_engines():
    seen: dict[str, set[str]] = {}
    for path in RECORDS:
        record = json.loads(path.read_text())
        seen[record["design"]] = {run["engine"] for run in record["runs"]}
    bundled = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "designs").glob("*.yaml"))
    bundled += sorted(str(p.relative_to(ROOT)) for p in (ROOT / "designs").glob("*/compose.yaml"))
    calibration = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests/data/verified/calibration").glob("*.yaml"))
    assert len(calibration) == 14
    missing = [(d, e) for d in bundled + calibration for e in ENGINES if e not in seen.get(d, set())]
    assert missing == []


def test_every_ipv6_design_was_verified_on_both_engines():
    """designs/ipv6/*.yaml (issue 14): deployed and probed over both families on 28.5.2 and 29.7.2,
    IPv6 probes (the eleventh column, family 6) and IPv6 addresses included."""
    seen = {json.loads(p.read_text())["design"]: json.loads(p.read_text()) for p in RECORDS}
    designs = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "designs/ipv6").glob("*.yaml"))
    assert designs
    for design in designs:
        runs = {run["engine"]: run for run in seen.get(design, {}).get("runs", [])}
        assert sorted(runs) == list(ENGINES), design
        for run in runs.values():
            assert any(len(row) > 10 and row[10] == 6 for row in run["observed"]), design
            assert any(subject.endswith(IPV6) for _, subject, _ in run["addressing"]), design


def _observed_key(row: list) -> tuple:
    """A recorded observation's probe key: source, via, target, network, name, host, port, protocol,
    then status and responder; an eleventh column is the family (records before IPv6 have none: 4)."""
    return (*row[:8], row[10] if len(row) > 10 else 4)


@pytest.mark.parametrize(("design", "run"), list(_runs()))
def test_the_model_agrees_with_what_the_engine_did(design, run):
    loaded = load(ROOT / design)
    version = engine_line(run["engine"])
    assert version == run["model"]
    probes = reach_of(_world(loaded, run, version)).probes
    keys = {p.key for p in probes}
    observations = {}
    for row in run["observed"]:
        key = _observed_key(row)
        observations[key] = Observation(key, None, row[8], row[9])
    stale = [k for k in observations if k not in keys]
    assert stale == [], "recorded probes the model no longer makes"
    rows = [r for r in compare(probes, observations) if r.observation is not None]
    assert len(rows) == len(run["observed"]) == run["agree"]
    wrong = [f"{r.probe.key}: {r.why}" for r in rows if r.verdict != "agree"]
    assert wrong == []


@pytest.mark.parametrize(("design", "run"), list(_runs()))
def test_the_model_hands_out_the_engines_addresses(design, run):
    loaded = load(ROOT / design)
    world = _world(loaded, run, engine_line(run["engine"]))
    addressing = world.addressing  # the design as the engine line sees it (allocate(design) for 20.10 ones)
    checked = 0
    for kind, subject, engine_value in run["addressing"]:
        six = subject.endswith(IPV6)  # an IPv6 subnet or address (verify names them "… (IPv6)")
        subject = subject.removesuffix(IPV6)
        endpoints, segments = (addressing.endpoints6, addressing.segments6) if six else (addressing.endpoints, addressing.segments)
        if kind == "address":
            container, _, network = subject.partition(" on ")
            model = next((str(ep.address) for (c, n), ep in endpoints.items() if c == container and n == network), None)
        elif kind == "subnet":
            network = subject.removeprefix("network ")
            segment = next((s for (n, _), s in segments.items() if n == network), None)
            model = str(segment.subnet) if segment is not None else None
        else:  # gateway: the model's default route of the container's namespace
            ns = world.namespaces.get(world.ns_of.get(subject, ""))
            default = next((r for r in ns.routes if r.dest.prefixlen == 0), None) if ns else None
            model = str(default.via) if default is not None and default.via is not None else None
        assert model == engine_value, f"{kind} {subject}"
        checked += 1
    assert checked == len(run["addressing"]) and run["addressing_differences"] == 0
    assert all(v is None or ip_address(v.split("/")[0]).version == (6 if subject.endswith(IPV6) else 4)
               for _, subject, v in run["addressing"])


def _disagreements(design: str, engine: str, model_version: str) -> list[tuple]:
    record = json.loads((ROOT / "tests/data/verified/observations" / f"{Path(design).stem}.json").read_text())
    run = next(r for r in record["runs"] if r["engine"] == engine)
    probes = reach_of(load(ROOT / design).world(model_version)).probes
    observations = {_observed_key(o): Observation(_observed_key(o), None, o[8], o[9]) for o in run["observed"]}
    return sorted(r.probe.key[:3] + r.probe.key[6:7] for r in compare(probes, observations)
                  if r.observation is not None and r.verdict != "agree")


@pytest.mark.parametrize("engine", ENGINES)
def test_the_records_tell_the_lines_apart_direct_routing(engine):
    """28.0: the raw table drops packets from the LAN to a container's address; up to 27.x the
    DOCKER chain accepted them for published ports. The 27.5 model disagrees exactly there."""
    assert _disagreements("designs/frontend-backend.yaml", engine, "27.5") == [
        ("external", "ip", "proxy", 80), ("external", "ip", "proxy", 443)]
    assert _disagreements("designs/frontend-backend.yaml", engine, engine_line(engine)) == []


def test_the_records_tell_28_from_29_without_the_proxy():
    """Without docker-proxy, a container on another network reaches a published port through
    its gateway on 29.x (no isolation chains) but not on 28.x (DOCKER-ISOLATION drops the
    DNAT'd packet). Each engine's observation contradicts the other line's model."""
    design = "tests/data/verified/designs/userland-proxy-off.yaml"
    assert ("client", "host", None, 8080) in _disagreements(design, "29.7.2", "28.5")
    assert ("client", "host", None, 8080) in _disagreements(design, "28.5.2", "29.7")


def test_the_records_confirm_gw_priority():
    """28.0+: the endpoint with the highest gw_priority gives the default gateway; the engines
    gave picky (beta: 10) and lowered (alpha: -5) beta's gateway, plain alpha's (name order).
    A 27.5 model (gw_priority ignored) gives both alpha's."""
    design = "tests/data/verified/designs/gw-priority.yaml"
    record = json.loads((ROOT / "tests/data/verified/observations/gw-priority.json").read_text())
    for run in record["runs"]:
        gateways = {subject: value for kind, subject, value in run["addressing"] if kind == "gateway"}
        assert gateways == {"picky": "172.31.41.1", "lowered": "172.31.41.1", "plain": "172.31.40.1"}
    world = load(ROOT / design).world("27.5")
    for name in ("picky", "lowered"):
        default = next(r for r in world.namespaces[world.ns_of[name]].routes if r.dest.prefixlen == 0)
        assert str(default.via) == "172.31.40.1"


@pytest.mark.parametrize("engine", ENGINES)
def test_the_ipv6_records_tell_the_lines_apart(engine):
    """Over IPv6 the 28.5.2 and 29.7.2 engines (ip6tables on by default) let two containers of the
    internal network reach each other, which a model before 24.0.6 denies (the internal rules drop the
    neighbour solicitation, moby#45649), and drop the LAN peer's packets to the containers' IPv6
    addresses in raw PREROUTING, which a 27.5 model delivers for published container ports."""
    design = "designs/ipv6/dual-stack-ip6tables.yaml"
    neighbours = {("api", Via.IP, "db", 5432), ("db", Via.IP, "api", 8080)}
    assert neighbours <= set(_disagreements(design, engine, "24.0"))
    assert not neighbours & set(_disagreements(design, engine, "24.0.6"))
    direct = set(_disagreements("designs/ipv6/dual-stack.yaml", engine, "27.5"))
    assert direct == {("external", Via.IP, "api", 8080), ("external", Via.IP, "web", 80), ("external", Via.IP, "web", 443)}
    assert _disagreements("designs/ipv6/dual-stack.yaml", engine, engine_line(engine)) == []


def _default_via(design: str, line: str, container: str) -> str | None:
    world = load(ROOT / design).world(line)
    default = next((r for r in world.namespace_of(container).routes if r.dest.prefixlen == 0), None)
    return str(default.via) if default is not None else None


def test_the_ipv6_records_confirm_the_gateway_choice_per_line():
    """An IPv4-only network with gw_priority 10 and a dual-stack one: 28.5.2 took m3's IPv4 default
    route from the dual-stack network, 29.7.2 from the priority one (moby#52328, 29.4.1); a dual-stack
    macvlan network without a gateway gave 29.7.2's containers none (moby#50929). Each record
    contradicts the other line's model."""
    design = "tests/data/verified/designs/ipv6-gateways.yaml"
    record = json.loads((ROOT / "tests/data/verified/observations/ipv6-gateways.json").read_text())
    got = {run["engine"]: {s: v for kind, s, v in run["addressing"] if kind == "gateway"}["m3"] for run in record["runs"]}
    assert got == {"28.5.2": "172.31.41.1", "29.7.2": "172.31.40.1"}
    assert _default_via(design, "29.7", "m3") == got["29.7.2"] != _default_via(design, "28.5", "m3")
    macvlan = "tests/data/verified/designs/ipv6-macvlan-29.yaml"
    record = json.loads((ROOT / "tests/data/verified/observations/ipv6-macvlan-29.json").read_text())
    assert [v for kind, _, v in record["runs"][0]["addressing"] if kind == "gateway"] == [None, None]
    assert _default_via(macvlan, "28.5", "v1") == "10.250.0.128" and _default_via(macvlan, "29.7", "v1") is None
