"""verify --live without an engine: the guard, responder identity, scripts, helper cleanup."""

from __future__ import annotations

import json
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from simulator.adapters.engine import EngineObject
from simulator.adapters.fake_engine import FakeEngine
from simulator.adapters.probe_agent import Dial, DialResult
from simulator.errors import UnsafeTarget
from simulator.live.importer import import_snapshot
from simulator.live.live_observe import (
    LABEL_SESSION,
    _observation,
    build_context,
    connect_script,
    helper_labels,
    remove_helpers,
)
from simulator.live.snapshot import Scope, Snapshot
from simulator.loaders import load_design

DATA = Path(__file__).resolve().parents[1] / "data" / "live"


@pytest.fixture
def ctx():
    snap = Snapshot.from_json(json.loads((DATA / "nslshop.snapshot.json").read_text()))
    design, _ = load_design(DATA / "shop" / "docker-compose.yml")
    routes = [(IPv4Network("192.0.2.0/24"), "eth0"), (IPv4Network("172.31.71.0/24"), "br-x"),
              (IPv4Network("172.31.72.0/24"), "br-y"), (IPv4Network("172.17.0.0/16"), "docker0")]
    return build_context(design, import_snapshot(snap, Scope("compose", "nslshop")), routes,
                         [r for r, d in routes if d != "eth0"], ["10.255.255.53"])


def test_guard_allows_only_the_projects_networks_and_loopback(ctx):
    assert str(ctx.guard.check("172.31.72.10")) == "172.31.72.10"
    assert str(ctx.guard.check("127.0.0.1", host_ns=True)) == "127.0.0.1"
    for bad in ("192.0.2.1", "10.255.255.53", "172.17.0.5", "8.8.8.8"):
        with pytest.raises(UnsafeTarget):
            ctx.guard.check(bad)


def test_design_names_follow_the_running_project(ctx):
    assert ctx.design.container("web").docker_name == "nslshop_web_1"  # compose v1 naming
    assert ctx.address_of[("db", "back")] == "172.31.72.10"


def test_responder_is_the_owner_of_the_address_or_the_binding(ctx):
    design = ctx.design
    from simulator.analysis.reachability import compute_reach

    probes = {(p.source, p.via, p.target, p.network, p.port): p for p in compute_reach(design, "20.10").probes}
    p = probes[("app", "ip", "db", "back", 5432)]
    obs = _observation(ctx, p, "172.31.72.10", DialResult("p1", "OK"))
    assert obs.reachable and obs.responder == "db"
    p = probes[("host", "host", None, None, 18080)]
    obs = _observation(ctx, p, "127.0.0.1", DialResult("p2", "OK"))
    assert obs.responder == "web"
    assert _observation(ctx, p, "127.0.0.1", DialResult("p3", "REFUSED")).status == "refused"


def test_udp_silence_is_not_compared(ctx):
    from simulator.analysis.probes import Probe
    from simulator.engine.trace import Disposition

    p = Probe("app", "ip", 53, "udp", Disposition.DELIVERED, "", "db", "db", "back")
    assert _observation(ctx, p, "172.31.72.10", DialResult("x", "TIMEOUT")).status == "skipped"


def test_connect_script_dials_tcp_with_nc_and_udp_with_nsagent():
    text = connect_script([Dial("p1", "tcp", "172.31.72.10", 5432), Dial("p2", "udp", "172.31.72.10", 53)])
    assert "nc -w 1" in text and "-e /bin/true" in text and "p1 172.31.72.10 5432" in text
    assert "nsagent probe" in text and "p2 udp 172.31.72.10 53" in text


def test_remove_helpers_touches_only_its_session():
    engine = FakeEngine()
    mine = engine.add_container("netsim-helper-a-0", helper_labels("a", "shop"))
    other = engine.add_container("netsim-helper-b-0", helper_labels("b", "shop"))
    foreign = engine.add_container("shop_web_1", {"com.docker.compose.project": "shop"})
    assert remove_helpers(engine, "a") == ["netsim-helper-a-0"]
    assert other in engine.containers and foreign in engine.containers and mine not in engine.containers
    assert helper_labels("a", "shop")[LABEL_SESSION] == "a" and "netsim.design" not in helper_labels("a", "shop")
