"""verify --live retries transient failures as verify does (issue 9), with the fake engine.

The running environment is the recorded compose project of tests/data/live (nslshop:
web on front, db on the internal back network, app on both).  The fake engine answers
the helpers' execs like that environment would; a test makes some answers slow (a
timeout with the 1 s first-pass timeout, an answer with the 5 s retry timeout), refused,
or lost on the way, and checks what was dialled again and what the report counts."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from simulator.adapters.engine import ExecResult
from simulator.adapters.fake_engine import FakeEngine
from simulator.adapters.probe_agent import BEGIN, END, DialResult
from simulator.live import live_observe
from simulator.live.live_observe import LABEL_SESSION, connect_script, run_live_verify
from simulator.live.snapshot import Scope, Snapshot
from simulator.loaders import load_design
from simulator.verify.report import render_json, render_text

DATA = Path(__file__).resolve().parents[1] / "data" / "live"
FRONT, BACK = IPv4Network("172.31.71.0/24"), IPv4Network("172.31.72.0/24")
WEB, APP_F, APP_B, DB = "172.31.71.2", "172.31.71.3", "172.31.72.2", "172.31.72.10"
LISTENING = {(WEB, 80), (APP_F, 8000), (APP_B, 8000), (DB, 5432)}
ON = {"web": (FRONT,), "app": (FRONT, BACK), "db": (BACK,)}
GATEWAY = {"web": "172.31.71.1", "app": "172.31.71.1"}  # back is internal: db has no default route
NAMES = {  # what the embedded DNS answers in each container's networks
    "web": {n: WEB for n in ("web", "www", "nslshop_web_1")} | {n: APP_F for n in ("app", "nslshop_app_1")},
    "app": ({n: WEB for n in ("web", "www", "nslshop_web_1")} | {n: APP_F for n in ("app", "nslshop_app_1")}
            | {"api": APP_B} | {n: DB for n in ("db", "nslshop_db_1")}),
    "db": {n: APP_B for n in ("app", "api", "nslshop_app_1")} | {n: DB for n in ("db", "nslshop_db_1")},
}
DIAL = re.compile(r"^(p\d+) (\d+\.\d+\.\d+\.\d+) (\d+)$", re.M)


class Lan:
    """This machine as live verify sees it: routes, uplink, the uplink guard."""

    def host_routes(self):
        return [(IPv4Network("192.0.2.0/24"), "eth0"), (FRONT, "br-front"), (BACK, "br-back"),
                (IPv4Network("172.17.0.0/16"), "docker0")]

    def uplink_interface(self):
        return "eth0"

    @contextmanager
    def uplink_guard(self):
        yield "uplink guard active (test)"


class World:
    """Answers the helpers' execs like the running project; ``slow`` (source, addr, port)
    and ``slow_names`` (source, name) time out with the first pass's timeouts only,
    ``refused`` answer RST, ``lose`` execs lose their first lines (moby/moby#27289)."""

    def __init__(self, engine: FakeEngine, snap: Snapshot):
        self.engine = engine
        self.source_of = {c["Id"]: c["Name"].lstrip("/").split("_")[1] for c in snap.containers}
        self.slow, self.slow_names, self.refused = set(), set(), set()
        self.lose: dict[str, int] = {}  # source -> how many of its execs lose their beginning
        self.names = {src: dict(names) for src, names in NAMES.items()}
        self.execs: list[tuple[str, str]] = []  # (source, script)
        self.host_timeouts: list[float] = []

    def source(self, helper: str) -> str:
        ctr = next(c for c in self.engine.containers.values() if c.obj.name == helper)
        return self.source_of[ctr.spec.network_mode.split(":", 1)[1]]

    def exec(self, helper: str, script: str) -> ExecResult:
        src = self.source(helper)
        self.execs.append((src, script))
        if "-e /bin/true" in script:
            lines = [self.dial(src, i, addr, int(port), "nc -w 1 " in script) for i, addr, port in DIAL.findall(script)]
        else:
            lines = [f"GW {GATEWAY[src]}"] if src in GATEWAY else []
            lines.append("NS 127.0.0.11")
            m = re.search(r"printf '%s\\n' (.*) \| xargs", script)
            first = "-timeout=2 " in script
            for name in (m.group(1).replace("'", "").split() if m else ()):
                if (src, name) in self.slow_names and first:
                    lines.append(f"DNSTIMEOUT {name}")
                elif name in self.names[src]:
                    lines.append(f"NAME {name} {self.names[src][name]}")
                else:
                    lines.append(f"NXNAME {name}")
        text = "\n".join([BEGIN, *lines, END]) + "\n"
        if self.lose.get(src, 0) > 0:
            self.lose[src] -= 1
            text = text.split("\n", 2)[-1]  # the begin marker and the first answer never arrive
        return ExecResult(0, text)

    def dial(self, src: str, i: str, addr: str, port: int, first: bool) -> str:
        if not any(IPv4Address(addr) in net for net in ON[src]) or ((src, addr, port) in self.slow and first):
            return f"{i} TIMEOUT"
        if (src, addr, port) in self.refused or (addr, port) not in LISTENING:
            return f"{i} REFUSED"
        return f"{i} OK"

    def host(self, dials, timeout):
        """The host's sockets: published 127.0.0.1:18080 (web) and every container address."""
        self.host_timeouts.append(timeout)
        out = {}
        for d in dials:
            if ("host", d.address, d.port) in self.slow and timeout < 2:
                out[d.id] = DialResult(d.id, "TIMEOUT")
            elif (d.address, d.port) in LISTENING or (d.address, d.port) == ("127.0.0.1", 18080):
                out[d.id] = DialResult(d.id, "OK")
            else:
                out[d.id] = DialResult(d.id, "REFUSED")
        return out

    def connects(self, first: bool) -> list[tuple[str, list[tuple[str, str, str]]]]:
        flag = "nc -w 1 " if first else "nc -w 5 "
        return [(src, DIAL.findall(s)) for src, s in self.execs if flag in s]


@pytest.fixture
def live(monkeypatch):
    snap = Snapshot.from_json(json.loads((DATA / "nslshop.snapshot.json").read_text()))
    design, _ = load_design(DATA / "shop" / "docker-compose.yml")
    engine = FakeEngine()
    world = World(engine, snap)
    engine.exec_handler = world.exec
    monkeypatch.setattr(live_observe, "read_snapshot", lambda eng, scope: snap)
    monkeypatch.setattr(live_observe, "connect_sockets", world.host)

    def run():
        cmp = run_live_verify(design, engine, Scope("compose", "nslshop"), lan_ops=Lan())
        assert not [c for c in engine.containers.values() if LABEL_SESSION in c.obj.labels]  # helpers removed
        return cmp

    return world, run


def rows_by(cmp):
    return {(r.probe.source, r.probe.via, r.probe.target or r.probe.name, r.probe.network, r.probe.port): r
            for r in cmp.rows}


def test_a_steady_environment_is_dialled_once(live):
    world, run = live
    cmp = run()
    assert cmp.ok and cmp.counts()["retried"] == 0
    assert world.connects(first=True) and not world.connects(first=False)
    assert world.host_timeouts == [1.0]
    assert not any("-timeout=6 " in s for _, s in world.execs)
    # the model's drops did time out, and were not dialled again
    assert rows_by(cmp)[("web", "ip", "db", "back", 5432)].observation.status == "timeout"


def test_timeouts_against_the_model_are_retried_with_longer_timeouts(live):
    world, run = live
    world.slow = {("app", DB, 5432), ("host", WEB, 80)}
    world.slow_names = {("app", "db")}
    cmp = run()
    rows = rows_by(cmp)
    retried = {k for k, r in rows.items() if r.observation and r.observation.attempts == 2}
    assert retried == {("app", "ip", "db", "back", 5432), ("app", "dns", "nslshop_db_1", None, 5432),  # slow db
                       ("app", "dns", "db", None, 5432),  # slow DNS answer
                       ("host", "ip", "web", "front", 80)}
    assert cmp.ok and cmp.counts()["retried"] == 4
    assert rows[("app", "ip", "db", "back", 5432)].observation.responder == "db"
    # the retry pass dials only the disagreeing probes, with the longer timeouts
    [(src, dials)] = world.connects(first=False)
    assert src == "app" and sorted((a, p) for _, a, p in dials) == [(DB, "5432")] * 3
    assert world.host_timeouts == [1.0, 5.0]
    assert any(src == "app" and "-timeout=6 " in s for src, s in world.execs)
    assert not any(src in ("web", "db") and "-timeout=6 " in s for src, s in world.execs)
    # web -> db@back times out as the model says (isolation): never dialled again
    assert rows[("web", "ip", "db", "back", 5432)].observation.attempts == 1
    # the report counts the retries like verify's
    assert render_json(cmp)["counts"]["retried"] == 4
    assert render_text(cmp).rstrip().endswith("4 needed a retry")


def test_a_refusal_is_final(live):
    world, run = live
    world.refused = {("app", DB, 5432)}
    cmp = run()
    row = rows_by(cmp)[("app", "ip", "db", "back", 5432)]
    assert row.verdict == "mismatch" and row.observation.status == "refused" and row.observation.attempts == 1
    assert not world.connects(first=False) and cmp.counts()["retried"] == 0


def test_an_unknown_name_is_final(live):
    world, run = live
    del world.names["app"]["db"]  # NXDOMAIN where the model resolves it
    cmp = run()
    row = rows_by(cmp)[("app", "dns", "db", None, 5432)]
    assert row.verdict == "mismatch" and "NXDOMAIN" in row.observation.detail and row.observation.attempts == 1
    assert not any("-timeout=6 " in s for _, s in world.execs) and cmp.counts()["retried"] == 0


def test_lost_helper_output_is_asked_again_not_counted_as_a_retry(live):
    world, run = live
    world.lose = {"web": 2}  # web's first two execs (its prepare) lose their beginning
    cmp = run()
    assert cmp.ok and cmp.counts()["retried"] == 0 and world.lose == {"web": 0}
    web = [s for src, s in world.execs if src == "web"]
    assert web[0] == web[1] == web[2] and "ip -4 route show default" in web[0]  # asked again, same script
    assert len(web) == 5  # 3 x gateway (2 lost), names, dials: nothing dialled twice


def test_connect_script_is_framed_and_takes_the_timeout():
    from simulator.adapters.probe_agent import Dial, complete

    text = connect_script([Dial("p1", "tcp", DB, 5432), Dial("p2", "udp", DB, 53)], 5000)
    assert "nc -w 5 " in text and "timeout 7 nc" in text and "nsagent probe 5000" in text
    assert text.rstrip().endswith(f'{END}\\n" "$out"') and BEGIN in text
    assert not complete("p1 OK\n" + END) and "nc -w 1 " in connect_script([Dial("p1", "tcp", DB, 5432)])


class Peer:
    """adapters.live_peer as live verify uses it: the peer while the block runs, torn down after."""

    def __init__(self, routed=(FRONT,), lan=None):
        self.routed, self.lan, self.events = routed, lan, []

    @contextmanager
    def live_peer(self, subnets, lan_address):
        from ipaddress import IPv4Interface

        from simulator.adapters.live_peer import LivePeer

        self.events.append(("up", tuple(subnets), lan_address))
        try:
            yield LivePeer("netsim-live-1", "nsl1h", "nsl1p", IPv4Interface("198.18.0.1/30"),
                           IPv4Interface("198.18.0.2/30"), tuple(self.routed), self.lan)
        finally:
            self.events.append(("down",))


@pytest.fixture
def peered(live, monkeypatch):
    world, _ = live
    engine = world.engine
    design, _ = load_design(DATA / "shop" / "docker-compose.yml")
    dialled = []

    def peer_dials(namespace, dials, timeout_ms=1000):
        dialled.append((namespace, [(d.address, d.port) for d in dials]))
        return {d.id: DialResult(d.id, "OK" if (d.address, d.port) == (WEB, 80) else "TIMEOUT") for d in dials}

    monkeypatch.setattr(live_observe, "peer_dials", peer_dials)
    peer = Peer()

    def run():
        cmp = run_live_verify(design, engine, Scope("compose", "nslshop"), lan_ops=Lan(), peer_ops=peer)
        assert not [c for c in engine.containers.values() if LABEL_SESSION in c.obj.labels]
        return cmp

    return peer, dialled, run


def test_the_lan_peer_dials_only_what_it_routes_and_is_torn_down(peered):
    peer, dialled, run = peered
    cmp = run()
    assert peer.events[0][0] == "up" and FRONT in peer.events[0][1] and peer.events[-1] == ("down",)
    [(ns, dials)] = [d for d in dialled if d[1]]  # first pass; the model's drops are not dialled again
    assert ns == "netsim-live-1" and all(IPv4Address(a) in FRONT for a, _ in dials)
    rows = rows_by(cmp)
    assert rows[("external", "ip", "web", "front", 80)].verdict == "agree"
    assert rows[("external", "ip", "app", "back", 8000)].observation.status == "unsafe"  # back: not routed for it
    assert any(n.startswith("external vantage point probed from an emulated LAN peer") for n in cmp.notes)


def test_the_lan_peer_is_torn_down_on_ctrl_c(peered, monkeypatch):
    peer, _, run = peered

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(live_observe, "peer_dials", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run()
    assert peer.events[-1] == ("down",)


def test_without_a_peer_the_note_says_why(live):
    _, run = live
    cmp = run()
    assert any(n.startswith("external vantage point (the LAN) not probed: ") for n in cmp.notes)
    assert all(r.verdict == "not-compared" for r in cmp.rows if r.probe.source == "external")
