"""Audit rules of swarm services (NS013-NS016): each fires on the design that has the risk, with
its proof, and not where the risk is absent (no IPVS: the routing mesh binds nothing)."""

from __future__ import annotations

import textwrap

import pytest

from simulator.audit import run_audit
from simulator.loaders import load_text

DESIGN = """
name: audit-services
hosts:
  node-a: {role: manager, lan: {address: 192.168.1.11/24}, kernel: {ipvs: IPVS}}
  node-b: {role: worker, lan: {address: 192.168.1.12/24}, labels: {zone: b}, kernel: {ipvs: IPVS}}
  node-c: {role: worker, lan: {address: 192.168.1.13/24}, labels: {zone: c}, kernel: {ipvs: IPVS}}
networks:
  mesh: {driver: overlay, attachable: true}
containers:
  client: {host: node-a, networks: [mesh]}
services:
  web: {networks: [mesh], listens: [80], ports: ['8080:80'], placement: {constraints: ['node.labels.zone == b']}}
  rr: {replicas: 2, endpoint_mode: dnsrr, networks: [mesh], listens: [9200]}
  packed: {replicas: 2, networks: [mesh], listens: [7000], placement: {constraints: ['node.labels.zone == c']}}
  spread: {replicas: 3, networks: [mesh], listens: [7001]}
"""


def findings(ipvs: bool):
    design, warnings = load_text(textwrap.dedent(DESIGN).replace("IPVS", "true" if ipvs else "false"), "a.yaml")
    return [f for f in run_audit(design, warnings) if f.rule.id in ("NS013", "NS014", "NS015", "NS016")]


def test_with_ipvs_every_service_rule_fires_where_its_risk_is():
    found = findings(ipvs=True)
    mesh = [f for f in found if f.rule.id == "NS013"]
    said = [i.message for f in mesh for i in (f.instances or (f,))]  # one case per node, grouped
    assert sorted(m.split()[1] for m in said) == ["node-a", "node-c"]  # node-b runs web's task
    assert all(f.evidence for f in mesh) and "balances it over 1 task(s)" in mesh[0].evidence[0].result
    assert all("runs no task there (its tasks run on node-b)" in m for m in said)
    assert str(mesh[0].location).startswith("a.yaml:12:")  # web's ports
    hidden = [f for f in found if f.rule.id == "NS015"]
    assert len(hidden) == 1 and "ingress sandbox's address" in hidden[0].message and hidden[0].evidence
    rr = [f for f in found if f.rule.id == "NS014"]
    assert [f.services for f in rr] == [("rr.1", "rr.2")] and "answers rr → 10.0.1.7, 10.0.1.8" in rr[0].evidence[0].result
    packed = [f for f in found if f.rule.id == "NS016"]
    assert [f.services for f in packed] == [("packed.1", "packed.2")]  # spread runs on three nodes: no finding
    assert "node.labels.zone == c" in packed[0].message and "max_replicas_per_node" in packed[0].fix


def test_without_ipvs_the_routing_mesh_rules_stay_quiet():
    ids = {f.rule.id for f in findings(ipvs=False)}
    assert "NS013" not in ids and "NS015" not in ids
    assert {"NS014", "NS016"} <= ids


@pytest.mark.parametrize("rule", ["NS013", "NS014", "NS015", "NS016"])
def test_each_service_rule_has_a_filled_fix(rule):
    f = next(f for f in findings(ipvs=True) if f.rule.id == rule)
    assert "<" not in f.fix and "{" not in f.fix.replace("{target", "").replace("{max_", ""), f.fix
