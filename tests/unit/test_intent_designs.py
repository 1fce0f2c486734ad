"""Intent on every bundled design: expectations that hold pass, the others fail with the right trace."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.intent import evaluate
from simulator.intent.parse import load_intent_text
from simulator.loaders import load_design

ROOT = Path(__file__).resolve().parents[2]

# design -> (intent, {line of expectation: disposition or text the failure must show}) per engine version
CASES = {
    "designs/default-vs-user-bridge.yaml": ("""
expect:
  allow:
    - {from: legacy-app, to: legacy-worker, via: ip}
    - {from: client, to: legacy-app, via: host}
    - {from: legacy-app, to: legacy-worker, via: dns}
  deny:
    - {from: client, to: legacy-worker}
  resolve:
    - {from: legacy-app, name: legacy-worker, resolves: false}
    - {from: client, name: api.internal, to: api}
  structure: {default_bridge: false}
""", {"20.10": {6: "NAME_NOT_RESOLVED", 12: "legacy-app is on the default bridge"}}),
    "designs/frontend-backend.yaml": ((ROOT / "tests/data/intent/frontend-backend.intent.yaml").read_text(), {"20.10": {}, "28.0": {}}),
    "designs/host-mode.yaml": ("""
expect:
  allow:
    - {from: external, to: monitoring-agent, ports: [9100], via: host}
  deny:
    - {from: external, to: worker}
  exposure:
    - {service: admin-ui, never_from: external}
  structure: {host_mode: false}
""", {"20.10": {8: "DELIVERED", 9: "monitoring-agent uses network_mode: host"},
      "28.0": {9: "monitoring-agent uses network_mode: host"}}),
    "designs/internal-network.yaml": ("""
expect:
  deny:
    - {from: external, to: [secrets, auditor]}
  allow:
    - {from: app, to: secrets, ports: [8200]}
    - {from: host, to: secrets, via: ip}
    - {from: external, to: secrets, ports: [8200], via: host}
  exposure:
    - {network: vault, published: false}
""", {"20.10": {8: "secrets publishes nothing to 8200/tcp", 10: "app publishes 0.0.0.0:8080->8080/tcp"}}),
    "designs/macvlan-lan.yaml": ("""
expect:
  allow:
    - {from: external, to: printer-service, ports: [631], via: ip}
    - {from: host, to: printer-service, via: ip}
""", {"20.10": {5: "DROPPED_L2"}}),
    "designs/multi-homed.yaml": ("""
expect:
  deny:
    - {from: user-client, to: data-store}
  allow:
    - {from: gateway, to: [user-client, data-store, mgmt-console]}
  structure: {networks_per_container: 1}
""", {"20.10": {7: "gateway has 3 network(s)"}}),
    "designs/overlay-two-hosts.yaml": ("""
expect:
  allow:
    - {from: web, to: api, via: dns}
    - {from: node-a, to: api, via: ip}
  deny:
    - {from: metrics, to: api}
  resolve:
    - {from: web, name: api.mesh}
""", {"20.10": {5: "LEFT_MODEL"}}),
    "designs/swarm-services.yaml": ("""
expect:
  allow:
    - {from: client, to: api, via: ip}
    - {from: client, to: search, via: dns}
    - {from: external, to: api}
  resolve:
    - {from: client, name: api}
    - {from: client, name: tasks.api}
""", {"20.10": {6: "NO_ROUTE"}}),
    "designs/swarm-three-nodes.yaml": ("""
expect:
  allow:
    - {from: external, to: web, via: host, ports: [80]}
    - {from: client, to: api, via: dns, ports: [8080]}
    - {from: agent, to: db, via: ip, ports: [5432]}
    - {from: web, to: web, via: ip, ports: [80]}
  deny:
    - {from: external, to: db}
""", {"20.10": {4: "needs IPVS"}}),
    "designs/compose-replicas/compose.yaml": ("""
expect:
  allow:
    - {from: proxy, to: web, via: dns, ports: [8000]}
    - {from: web, to: db, via: dns}
    - {from: external, to: web}
  deny:
    - {from: proxy, to: db}
""", {"20.10": {6: "web.1"}}),
    "designs/compose-shop/compose.yaml": ((ROOT / "tests/data/intent/compose-shop.intent.yaml").read_text(),
                                          {"20.10": {10: "DELIVERED"}, "28.0": {10: "DELIVERED"}}),
}


def test_every_design_is_exercised():
    bundled = {str(p.relative_to(ROOT)) for p in (ROOT / "designs").glob("*.yaml")}
    bundled |= {str(p.relative_to(ROOT)) for p in (ROOT / "designs").glob("*/compose.yaml")}
    assert bundled <= set(CASES)


@pytest.mark.parametrize("design,version", [(d, v) for d, (_, per) in CASES.items() for v in per])
def test_expectations_on_design(design, version):
    text, per_version = CASES[design]
    model, _ = load_design(ROOT / design)
    intent, problems = load_intent_text(text, "intent.yaml")
    assert problems == []
    outcomes, problems = evaluate(intent, model, version)
    assert [p for p in problems if p.severity == "error"] == []
    failing = per_version[version]
    got = {o.expectation.location.line: o for o in outcomes if not o.passed}
    assert sorted(got) == sorted(failing), {k: o.message for k, o in got.items()}
    for line, shows in failing.items():
        o = got[line]
        shown = o.message + "\n" + "\n".join(f"{e}\n{e.trace_text or ''}" for e in o.evidence)
        assert shows in shown


def test_failure_carries_the_full_trace():
    model, _ = load_design(ROOT / "designs/frontend-backend.yaml")
    intent, _ = load_intent_text("expect:\n  allow:\n    - {from: proxy, to: db, ports: [5432], via: ip}\n", "i.yaml")
    [o], _ = evaluate(intent, model, "20.10")
    assert not o.passed
    [ev] = o.evidence
    assert ev.what == "proxy -> db at 172.30.2.10 on backend, 5432/tcp (ip)"
    assert ev.trace is not None and ev.trace.disposition.value == "DROPPED_ISOLATION"
    assert ev.trace_text.splitlines() == [
        "container proxy",
        "  route: 172.30.2.10 via 172.30.1.1 dev eth0 (default route)",
        "  l2: delivered on the bridge segment to 172.30.1.1 (br-frontend)",
        "host docker1",
        "  route: forward 172.30.2.10 out of br-backend",
        "  netfilter: filter FORWARD: DROP (via FORWARD > DOCKER-ISOLATION-STAGE-1 > DOCKER-ISOLATION-STAGE-2)  "
        "[-t filter -A DOCKER-ISOLATION-STAGE-2 -o br-backend -j DROP]",
        "=> DROPPED_ISOLATION: forwarded packet dropped by network isolation: -t filter -A DOCKER-ISOLATION-STAGE-2 -o br-backend -j DROP",
    ]


def test_direct_routing_expectation_depends_on_engine_version():
    model, _ = load_design(ROOT / "designs/frontend-backend.yaml")
    intent, _ = load_intent_text("expect:\n  deny:\n    - {from: external, to: proxy, via: ip}\n", "i.yaml")
    [old], _ = evaluate(intent, model, "20.10")
    [new], _ = evaluate(intent, model, "28.0")
    assert not old.passed and new.passed
    assert "external reaches proxy 443/tcp (ip)" in old.message


def test_failing_intent_file_for_frontend_backend():
    from simulator.intent import load_intent_file

    model, _ = load_design(ROOT / "designs/frontend-backend.yaml")
    intent, problems = load_intent_file(ROOT / "tests/data/intent/frontend-backend.failing.intent.yaml")
    assert problems == []
    outcomes, _ = evaluate(intent, model, "20.10")
    assert [(o.expectation.kind, o.passed) for o in outcomes] == [
        ("deny", False), ("deny", False), ("allow", False), ("exposure", False), ("resolve", False),
        ("structure", False), ("structure", True)]
