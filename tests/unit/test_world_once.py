"""Compute once per command: one world per design and engine version, however many views it feeds."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_trace_json import TRACE_CHECK
from typer.testing import CliRunner

import simulator
from simulator.cli import app
from simulator.engine import topology

ROOT = Path(__file__).resolve().parents[2]
FB = str(ROOT / "designs/frontend-backend.yaml")


@pytest.fixture
def builds(monkeypatch) -> Counter:
    """Count build_world calls by engine version, wherever a module holds the function."""
    original = topology.build_world
    counts: Counter = Counter()

    def counting(design, engine_version=None):
        counts[engine_version] += 1
        return original(design, engine_version)

    for info in pkgutil.walk_packages(simulator.__path__, "simulator."):  # every module that may hold the name,
        importlib.import_module(info.name)  # imported before patching (one imported later would keep a stale patch)
    for name, module in list(sys.modules.items()):
        if name.startswith("simulator") and getattr(module, "build_world", None) is original:
            monkeypatch.setattr(module, "build_world", counting)
    return counts


COMMANDS = {
    "reach": ["reach", FB],
    "reach --trace json": ["reach", FB, "--format", "json", "--trace"],
    "trace": ["trace", FB, "proxy", "db:5432"],
    "exposure": ["exposure", FB],
    "addresses": ["addresses", FB],
    "rules": ["rules", FB],
    "diagram --path": ["diagram", FB, "-f", "dot", "--path", "external", "proxy:443"],
    "audit": ["audit", FB, "--fail-on", "never"],
}


@pytest.mark.parametrize("command,version", [(c, None) for c in sorted(COMMANDS)] + [("reach", "28.2"), ("trace", "28.2")])
def test_one_world_per_command(builds, command, version):
    args = COMMANDS[command] + (["-e", version] if version else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert builds == Counter({version: 1}), f"{command}: build_world calls by version {dict(builds)}"


@pytest.mark.parametrize("version", [None, "28.2"])
def test_one_world_for_a_report(builds, tmp_path, version):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", FB, "-o", str(out)] + (["-e", version] if version else []))
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert builds == Counter({version: 1}), f"build_world calls by version {dict(builds)}"


def test_one_world_per_design_for_a_diff(builds):
    result = CliRunner().invoke(app, ["diff", FB, str(ROOT / "designs/internal-network.yaml")])
    assert result.exit_code == 0, result.output
    assert builds == Counter({None: 2})


@pytest.fixture
def engine_stubbed(monkeypatch):
    """verify with everything that touches an engine, the LAN or this machine replaced: a fake engine,
    a no-op deploy and cleanup, no facts, and observations that agree with the model except for
    the first reachable probe (refused), so a mismatch's traces are computed too."""
    from types import SimpleNamespace

    from simulator.adapters.fake_engine import FakeEngine, FakeLan
    from simulator.cli import engine_cmds
    from simulator.verify import session
    from simulator.verify.observe import Observation

    class Lan(FakeLan):
        @contextmanager
        def uplink_guard(self):
            yield "uplink guard: stubbed"

    def observed(design, plan, probes, *args, **kwargs):
        first = next(p.key for p in probes if p.reachable)
        return {p.key: Observation(p.key, p.address, "answered" if p.reachable and p.key != first else "refused",
                                   p.responder if p.reachable and p.key != first else None) for p in probes}

    monkeypatch.setattr(engine_cmds, "_engine", lambda: FakeEngine("20.10.24"))
    monkeypatch.setattr(session, "lanpeer", Lan())
    monkeypatch.setattr(session, "apply", lambda *a, **k: SimpleNamespace(notes=[], lan_ready=False, engines={}))
    monkeypatch.setattr(session, "destroy", lambda *a, **k: [])
    monkeypatch.setattr(session, "gather_facts", lambda *a, **k: SimpleNamespace(notes=[], containers={}, subnets={}, lan_ready=False))
    monkeypatch.setattr(session, "host_local_routes", lambda: [])
    monkeypatch.setattr(session, "host_forbidden", lambda *a: [])
    monkeypatch.setattr(session, "build_guard", lambda *a: None)
    monkeypatch.setattr(session, "observe", observed)


@pytest.fixture
def designs_built(monkeypatch) -> list:
    """(design, engine version) of every build_world call."""
    original = topology.build_world
    calls: list = []

    def counting(design, engine_version=None):
        calls.append((design, engine_version))
        return original(design, engine_version)

    for info in pkgutil.walk_packages(simulator.__path__, "simulator."):
        importlib.import_module(info.name)
    for name, module in list(sys.modules.items()):
        if name.startswith("simulator") and getattr(module, "build_world", None) is original:
            monkeypatch.setattr(module, "build_world", counting)
    return calls


@pytest.mark.parametrize("version", [None, "28.2"])
def test_one_world_for_verify(engine_stubbed, designs_built, version):
    """verify's model, the traces of its mismatches and the intent verdicts share one world of the
    design it deploys (the load's engine checks judge the design as written, before this machine's
    kernel is put in, and build that one's world)."""
    args = ["verify", FB, "--intent", str(ROOT / "tests/data/intent/frontend-backend.intent.yaml"), "--format", "json"]
    result = CliRunner().invoke(app, args + (["-e", version] if version else []))
    assert result.exit_code == 1, result.output  # the stubbed mismatch
    data = json.loads(result.stdout)
    assert data["counts"]["mismatch"] == 1 and data["intent"], data["counts"]
    [mismatch] = [p for p in data["probes"] if p["verdict"] == "mismatch"]
    TRACE_CHECK.validate(mismatch["trace"])  # the model's trace, in the one trace shape
    assert mismatch["trace"]["disposition"] == "DELIVERED" and all("trace" not in p for p in data["probes"] if p is not mismatch)
    deployed = designs_built[-1][0]
    used = [v for d, v in designs_built if d is deployed]
    assert used == [version or "20.10"], designs_built
    assert all(d is not deployed and v == version for d, v in designs_built[:-1]), designs_built
    assert len(designs_built) <= 2


def test_one_world_per_design_for_verify_live(designs_built, monkeypatch):
    """verify --live on the fakes of test_live_retry: the design probed (the written one on the running
    engine's names and addresses) and the running one each get one world, although drift asks again."""
    from test_live_retry import DATA, Lan
    from test_live_retry import World as LiveEnvironment

    from simulator.adapters.fake_engine import FakeEngine
    from simulator.live import live_observe
    from simulator.live.snapshot import Scope, Snapshot
    from simulator.loaders import load_design

    snap = Snapshot.from_json(json.loads((DATA / "nslshop.snapshot.json").read_text()))
    design, _ = load_design(DATA / "shop" / "docker-compose.yml")
    engine = FakeEngine()
    running = LiveEnvironment(engine, snap)
    engine.exec_handler = running.exec
    monkeypatch.setattr(live_observe, "read_snapshot", lambda eng, scope: snap)
    monkeypatch.setattr(live_observe, "connect_sockets", running.host)
    cmp = live_observe.run_live_verify(design, engine, Scope("compose", "nslshop"), lan_ops=Lan())
    assert cmp.rows and cmp.drift is not None
    assert len(designs_built) == 2, [v for _, v in designs_built]
    assert designs_built[0] != designs_built[1]
