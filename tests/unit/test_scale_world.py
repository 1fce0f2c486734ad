"""What the faster build keeps: each container's gateway network and interface order as the rules
define them, each host's containers, and the cycle collector's state around a load."""

from __future__ import annotations

import gc
import importlib.util
import sys
from pathlib import Path

import pytest

from simulator import pipeline
from simulator.engine.rules import endpoint_order, gateway_endpoint_network
from simulator.errors import DesignError
from simulator.model import ModeKind

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("scale_bench", ROOT / "benchmarks" / "scale_bench.py")
assert _spec is not None and _spec.loader is not None
scale_bench = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("scale_bench", scale_bench)
_spec.loader.exec_module(scale_bench)


def _designs():
    for path in sorted((ROOT / "designs").glob("*.yaml")):
        yield path.name, path.read_text(encoding="utf-8")
    for seed in (1, 2, 3):
        import yaml

        yield f"generated-{seed}", yaml.safe_dump(scale_bench.generate(160, 10, 3 + seed, seed), sort_keys=False)


@pytest.mark.parametrize("version", ["20.10", "28.2", "29.0"])
@pytest.mark.parametrize(("name", "text"), list(_designs()), ids=lambda v: v if len(v) < 40 else "")
def test_world_keeps_each_containers_gateway_and_interface_order(name, text, version):
    loaded = pipeline.load(text, source=name)
    world = loaded.world(version)
    design, addressing = world.design, world.addressing
    checked = 0
    for c in design.containers:
        if c.mode.kind is not ModeKind.NETWORKS:
            continue
        ns = world.namespace_of(c.name)
        assert ns.gateway_network == gateway_endpoint_network(design, addressing, c.name, world.version), c.name
        order = [n for n, _ in endpoint_order(design, addressing, c.name, world.version)]
        by_name = [ns.interfaces[f"eth{i}"].network for i in range(len(order))]
        assert by_name == order, c.name
        checked += 1
    assert checked or not any(c.mode.kind is ModeKind.NETWORKS for c in design.containers)


@pytest.mark.parametrize(("name", "text"), list(_designs()), ids=lambda v: v if len(v) < 40 else "")
def test_containers_on_each_host(name, text):
    design = pipeline.load(text, source=name).design
    for host in design.hosts:
        assert design.containers_on(host.name) == tuple(c for c in design.containers if c.host == host.name)
    assert design.containers_on("no-such-host") == ()
    assert sum(len(design.containers_on(h.name)) for h in design.hosts) == len(design.containers)


def test_load_leaves_the_cycle_collector_as_it_found_it():
    text = (ROOT / "designs" / "frontend-backend.yaml").read_text(encoding="utf-8")
    assert gc.isenabled()
    pipeline.load(text)
    assert gc.isenabled()
    with pytest.raises(DesignError):
        pipeline.load("name: x\ncontainers:\n  a: {networks: [nowhere]}\n")
    assert gc.isenabled()
    gc.disable()
    try:
        pipeline.load(text).world("28.2")
        assert not gc.isenabled()
    finally:
        gc.enable()
