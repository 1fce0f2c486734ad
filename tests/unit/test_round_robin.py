"""A replica dialling its service's name gets the probe the walk of every record gives (issue 12).

``Matrix._dns_probe`` answers a member holding one of a name's records from the others' walks summed
up once (``RoundRobin``) rather than by walking each record for each replica. The coarse groups,
the class groups and the per-probe matrix all read that same answer, so their property tests
cannot tell it apart from the walk; here it is held to the record-by-record reading itself (a
caller's ``walked``, which the summary never serves), probe for probe, on random designs and on
the cases where a member's own record answers unlike the others' (icc off, nothing listening).
"""

from __future__ import annotations

import json

import pytest
from test_classes_property import random_design

from simulator.analysis.reachability import reach_of
from simulator.engine.dns import vip_of
from simulator.pipeline import load


def _several_record_probes(world) -> int:
    """Every source holding one record of a name with several, at every port: fast == walked; how many."""
    m = reach_of(world)._matrix()
    design = world.design
    names = sorted({name for table in m.names.by_network.values() for name in table})  # every name a network carries
    ports = sorted({(lst.port, lst.protocol.value) for c in design.containers for lst in c.listeners}) + [(1, "tcp")]
    compared = 0
    for source, ns in m.sources():
        if ns.kind != "container":
            continue
        owned = m.owned(ns)
        for name in names:
            res = m.names.resolve(ns, name)
            if len(res.records) < 2 or vip_of(res.records[0][1]) is not None:
                continue
            if sum(int(a) in owned for a, _, _ in res.records) != 1:
                continue
            for port, proto in ports:
                fast = m._dns_probe(source, ns, name, res, port, proto)
                walked = m._dns_probe(source, ns, name, res, port, proto,
                                      lambda addr, host, ns=ns, port=port, proto=proto: m.probe(ns, addr, port, proto, host))
                assert fast == walked, (source, name, port)
                compared += 1
    return compared


@pytest.mark.parametrize("seed", range(0, 160, 2))
def test_a_replica_dialling_its_service_reads_what_each_record_gives(seed):
    _several_record_probes(load(random_design(seed)).world())


def test_the_random_designs_hold_replicas_dialling_their_service():
    """The sweep above is not empty: its designs have members holding one record of several."""
    assert sum(_several_record_probes(load(random_design(seed)).world()) for seed in range(0, 160, 8)) > 100


def _service(replicas: int, net: dict, listens: str) -> str:
    """A service of ``replicas`` on network ``back`` (its settings: ``net``) and a client."""
    return f"""
name: rr
hosts: {{h0: {{lan: {{interface: eth0, address: 192.168.1.10/24}}}}}}
networks: {{back: {json.dumps(net)}}}
containers:
  web: {{replicas: {replicas}, networks: [back]{listens}}}
  client: {{networks: [back]}}
"""


@pytest.mark.parametrize(("net", "listens"), [
    ({}, ", listens: [8000]"),  # every record answers: the member's own last
    ({"icc": False}, ", listens: [8000]"),  # only its own answers: the others are dropped
    ({}, ""),  # none answers: the first record decides
    ({"internal": True, "icc": False}, ", listens: [8000]"),
])
def test_own_record_answering_unlike_the_others(tmp_path, net, listens):
    path = tmp_path / "rr.yaml"
    path.write_text(_service(6, net, listens))
    ports = 2 if listens else 1  # 8000 when listened on, and a port nothing listens on
    assert _several_record_probes(load(path).world()) == 6 * ports  # each replica dialling "web"


def test_replicas_dialling_their_service_walk_each_record_a_few_times(tmp_path, monkeypatch):
    """400 replicas of one service dialling its name: each reads the others' walks from their
    summary; read one by one, that was 400 x 400 readings per port (2,000 replicas took 12 s)."""
    from simulator.analysis.reachability import Matrix

    path = tmp_path / "rr.yaml"
    path.write_text(_service(400, {"subnet": "10.20.0.0/16"}, ", listens: [8000]"))
    result = reach_of(load(path).world())
    calls = []
    probe = Matrix.probe
    monkeypatch.setattr(Matrix, "probe", lambda self, *a, **k: calls.append(1) or probe(self, *a, **k))
    groups = list(result.groups())  # the class groups: every replica's probe of "web" read as the matrix has it
    assert sum(g.count for g in groups if g.via == "dns" and g.name == "web" and g.reachable) == 401  # every container, at 8000
    assert len(calls) < 10 * 400, len(calls)  # a few per record, not one per replica and record
