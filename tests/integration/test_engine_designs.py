"""Every bundled design, deployed on the real engine and verified: zero mismatches.

The two-host design runs its second host as an extra dockerd in a network namespace of its
own, on the emulated LAN (see test_engine_multihost.py for what is checked about it).

Also: verify's observations agree with independent probes of the same deployment
(one plain `docker exec ... nc` per probe, no netsim probing code involved).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from simulator.loaders import load_design
from simulator.verify.session import VerifyOptions, run_verify

pytestmark = pytest.mark.docker

DESIGNS = Path(__file__).resolve().parents[2] / "designs"
BUNDLED = sorted(list(DESIGNS.glob("*.yaml")) + list(DESIGNS.glob("*/compose.yaml")))
NAMES_OFF_LIMITS = "names are not looked up from the host or the LAN"
# an overlay address dialled from this machine's own namespace would leave by its uplink: not sent
UNROUTED_HERE = "not routed on this machine except by its uplink"
# multi-host: the LAN peer routes a subnet on several hosts (docker_gwbridge) through one of them
SHARED_SUBNET = "subnet is on several hosts"


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.parent.name if p.name == "compose.yaml" else p.stem)
def test_bundled_design_matches_engine(engine, root, path, leftovers):
    from simulator.adapters.extra_daemon import leftovers as daemon_leftovers

    design, _ = load_design(path)
    cmp = run_verify(design, engine, VerifyOptions())
    counts = cmp.counts()
    assert [f"{r.probe.source} {r.probe.via} {r.probe.target or r.probe.name or ''} {r.probe.port}: {r.why}"
            for r in cmp.rows if r.verdict in ("mismatch", "detail")] == []
    # what is not observed is only what must not be asked: names from the host's own resolver
    # (and, with overlays, overlay addresses from this machine's namespace)
    allowed = (NAMES_OFF_LIMITS, UNROUTED_HERE) if any(n.swarm_scope for n in design.networks) else (NAMES_OFF_LIMITS,)
    allowed += (SHARED_SUBNET,) if len(design.hosts) > 1 else ()
    skipped = {r.why for r in cmp.rows if r.verdict == "not-compared"}
    assert all(any(ok in why for ok in allowed) for why in skipped), skipped
    assert counts["agree"] > 0, counts
    assert leftovers(engine, design.name) + daemon_leftovers(design.name) == []


def test_two_host_design_is_verified_on_two_engines(engine, root, leftovers):
    """Formerly refused ("one engine can't stand in for several hosts"): now node-b is an
    extra dockerd in its own namespace, and every host is a vantage point by its name."""
    from simulator.adapters.extra_daemon import leftovers as daemon_leftovers

    design, _ = load_design(DESIGNS / "overlay-two-hosts.yaml")
    cmp = run_verify(design, engine, VerifyOptions())
    assert cmp.ok, [r.why for r in cmp.mismatches]
    assert any("started host node-b as dockerd in namespace" in n for n in cmp.notes)
    by_host = {r.probe.source for r in cmp.rows if r.verdict == "agree" and r.probe.source.startswith("node-")}
    assert by_host == {"node-a", "node-b"}
    over = next(r for r in cmp.rows if (r.probe.source, r.probe.via, r.probe.target, r.probe.network)
                == ("api", "ip", "web", "mesh"))
    assert over.verdict == "agree" and over.observation.responder == "web"  # node-b -> node-a over VXLAN
    assert leftovers(engine, design.name) + daemon_leftovers(design.name) == []
    assert not engine.swarm_state().active


def test_observations_agree_with_independent_probes(engine, root, leftovers):
    from simulator.deploy.apply import destroy

    design, _ = load_design(DESIGNS / "frontend-backend.yaml")
    try:
        cmp = run_verify(design, engine, VerifyOptions(keep=True))
        rows = [r for r in cmp.rows if r.probe.via == "ip" and r.probe.protocol == "tcp"
                and r.observation is not None and r.observation.compared and design.has_container(r.probe.source)]
        sample = random.Random(7).sample(rows, min(16, len(rows)))
        assert any(r.observation.reachable for r in sample) and any(not r.observation.reachable for r in sample)
        for row in sample:
            container = engine.client.containers.get(design.container(row.probe.source).engine_name)
            independent = None
            for wait in ("1", "5"):  # as verify does: a timeout is tried once more, longer
                code, out = container.exec_run(["nc", "-w", wait, row.observation.address, str(row.probe.port)])
                answer = out.decode(errors="replace").split()
                independent = answer[0] if code == 0 and answer else None
                if independent is not None or not row.observation.reachable:
                    break
            assert independent == row.observation.responder, (row.probe.key, out)
    finally:
        destroy(design.name, engine)
    assert leftovers(engine, design.name) == []


def test_verify_judges_intent_on_the_engine(engine, root, leftovers, tmp_path):
    """The same intent judged on observations: the broken expectation is the design's fault."""
    import re

    from simulator.analysis.reachability import compute_reach
    from simulator.intent import load_with_intent
    from simulator.verify.intent_check import judge_intent

    source = (Path(__file__).resolve().parents[1] / "unit" / "test_verify_intent.py").read_text()
    path = tmp_path / "judged.yaml"
    path.write_text(re.search(r'DESIGN = """(.*?)"""', source, re.S).group(1))
    design, _, intent, _ = load_with_intent(path)
    cmp = run_verify(design, engine, VerifyOptions())
    assert cmp.ok
    kinds = [v.kind for v in judge_intent(intent, compute_reach(design, cmp.engine_version), cmp)]
    assert kinds == ["holds", "holds", "design breaks the intent"]
    assert leftovers(engine, design.name) == []


def test_swarm_services_addresses_and_virtual_ip_match_the_engine(engine, root, leftovers):
    """designs/swarm-services.yaml on a single-node swarm of this machine's engine (no IPVS in
    its kernel): every overlay address is the model's, and the service name that resolves to
    a virtual IP gets no route to host, as the model says (docs/confirmed-rules.md §17)."""
    design, _ = load_design(DESIGNS / "swarm-services.yaml")
    cmp = run_verify(design, engine, VerifyOptions())
    overlay = [a for a in cmp.addressing if a.subject.endswith(" on backend")]
    assert len(overlay) == 8, overlay
    by_service: dict[str, tuple[set, set]] = {}  # which task of a service gets which of its addresses is not fixed
    for a in overlay:
        expected, observed = by_service.setdefault(a.subject.split(".")[0].split(" ")[0], (set(), set()))
        expected.add(a.expected)
        observed.add(a.observed)
    assert {s: e for s, (e, _) in by_service.items()} == {s: o for s, (_, o) in by_service.items()}
    vip = next(r for r in cmp.rows if r.probe.source == "client" and r.probe.via == "dns" and r.probe.name == "api")
    # nobody answers ARP for it: "No route to host" after ~3 s, a timeout within verify's 1 s first dial
    assert vip.verdict == "agree" and not vip.probe.reachable and vip.observation.status in ("no-route", "timeout")
    assert cmp.mismatches == ()
    assert leftovers(engine, design.name) == []
