"""Replicas on a plain engine (issue 13): compose ``deploy.replicas``/``scale`` and netsim
``replicas`` become one container per replica, named ``<service>.<slot>``; the service's name
resolves to all of them; ports, names and errors follow the engine (confirmed on 20.10.24:
docs/confirmed-rules.md, "Replicas")."""

from __future__ import annotations

import textwrap

import pytest

from simulator.analysis.reachability import reach_of
from simulator.errors import DesignError
from simulator.loaders import load_text
from simulator.pipeline import load

COMPOSE = """
name: shop
services:
  proxy:
    image: nginx
    ports: ["8080:80"]
    networks: [front]
  web:
    image: nginx
    deploy: {replicas: 3}
    expose: ["8000"]
    networks: [front]
  api:
    image: nginx
    scale: 2
    ports: ["9000-9002:9000"]
    networks: [front]
  side:
    image: busybox
    network_mode: "service:web"
    x-netsim: {listens: []}
networks:
  front: {}
"""


def problems(text: str, kind: str = "compose") -> list[str]:
    try:
        _, warnings = load_text(textwrap.dedent(text), "c.yaml", kind=kind)
        return [str(p) for p in warnings]
    except DesignError as exc:
        return [str(p) for p in exc.problems]


def test_compose_replicas_are_containers_named_by_slot():
    design, _ = load_text(COMPOSE, "c.yaml", kind="compose")
    by_name = {c.name: c for c in design.containers}
    assert [n for n in by_name if n.startswith("web")] == ["web.1", "web.2", "web.3"]
    assert [by_name[f"web.{n}"].engine_name for n in (1, 2, 3)] == ["shop-web-1", "shop-web-2", "shop-web-3"]
    assert {by_name[f"web.{n}"].service for n in (1, 2, 3)} == {"web"}
    assert by_name["proxy"].engine_name == "shop-proxy-1"  # one replica: named as before
    # each replica binds the next port of the host range; service:web joins the first replica
    assert [by_name[f"api.{n}"].ports[0].host_port for n in (1, 2)] == [9000, 9001]
    assert by_name["side"].mode.target == "web.1"


def test_the_service_name_resolves_to_every_replica_and_any_may_answer():
    loaded = load(textwrap.dedent(COMPOSE).encode(), source="c.yaml")
    result = reach_of(loaded.world())
    probe = next(p for p in result.iter_probes() if p.source == "proxy" and p.via == "dns" and p.name == "web")
    assert probe.reachable and probe.balanced_by == "dns"
    assert probe.responders == ("web.1", "web.2", "web.3")
    assert probe.to_json()["balanced_by"] == "dns"
    one = next(p for p in result.iter_probes() if p.source == "proxy" and p.via == "dns" and p.name == "shop-web-2")
    assert one.responders == ("web.2",) and one.balanced_by is None and "balanced_by" not in one.to_json()


def test_a_name_answers_when_any_of_its_records_does():
    """Two containers share an alias; only one listens: the client may get either address first
    (the embedded DNS shuffles them), so the name is reachable, through that one only."""
    text = """
    name: mixed
    hosts: {docker1: {}}
    networks: {app: {driver: bridge}}
    containers:
      client: {networks: [app]}
      one: {networks: {app: {aliases: [svc]}}, listens: [80]}
      two: {networks: {app: {aliases: [svc]}}, listens: [81]}
    """
    result = reach_of(load(textwrap.dedent(text).encode(), source="m.yaml").world())
    probe = next(p for p in result.iter_probes() if p.source == "client" and p.name == "svc" and p.port == 80)
    assert probe.reachable and probe.responders == ("one",) and probe.balanced_by == "dns"
    assert "2 records" in probe.reason and "1 answer" in probe.reason
    # the class-level groups say the same as the probes
    group = next(g for g in result.coarse_groups() if g.source_class == "client" and g.via == "dns"
                 and g.name == "svc" and g.port == 80)
    assert group.reachable and group.reason == probe.reason


def test_a_fixed_host_port_starts_one_replica_only():
    text = COMPOSE.replace('ports: ["9000-9002:9000"]', 'ports: ["9000:9000"]')
    found = [p for p in problems(text) if "already allocated" in p]
    assert len(found) == 1, found  # said once for the service, not once per replica
    assert found[0].startswith("c.yaml:16:") and "services.api.ports[0]" in found[0]
    assert "every replica of api" in found[0] and "api.1 binds it" in found[0]


def test_a_host_port_range_too_short_leaves_a_replica_without_a_port():
    text = COMPOSE.replace('ports: ["9000-9002:9000"]', 'ports: ["9000-9001:9000"]').replace("scale: 2", "scale: 3")
    found = [p for p in problems(text) if "all ports are allocated" in p]
    assert len(found) == 1 and "services.api.ports[0]" in found[0] and "shop-api-3" in found[0], found


@pytest.mark.parametrize("change, fragment", [
    (("deploy: {replicas: 3}", "deploy: {replicas: 3}\n    container_name: theweb"), "container_name \"theweb\" with 3 replicas"),
    (("scale: 2", "scale: 2\n    deploy: {replicas: 4}"), "scale (2) and deploy.replicas (4) differ"),
    (("scale: 2", "scale: 20000"), "20000 is out of range"),
])
def test_compose_refusals(change, fragment):
    found = [p for p in problems(COMPOSE.replace(*change)) if fragment in p]
    assert found and found[0].startswith("c.yaml:"), problems(COMPOSE.replace(*change))


NATIVE = """
name: nrep
hosts: {docker1: {}}
networks: {app: {driver: bridge}}
containers:
  web: {replicas: 3, networks: [app], listens: [80]}
  lb: {networks: [app], ports: ["8080:80"]}
"""


def test_netsim_replicas_and_their_names():
    design, _ = load_text(textwrap.dedent(NATIVE), "n.yaml")
    web = [c for c in design.containers if c.service == "web"]
    assert [(c.name, c.engine_name) for c in web] == [("web.1", "web-1"), ("web.2", "web-2"), ("web.3", "web-3")]
    result = reach_of(load(textwrap.dedent(NATIVE).encode(), source="n.yaml").world())
    probe = next(p for p in result.iter_probes() if p.source == "lb" and p.name == "web")
    assert probe.responders == ("web.1", "web.2", "web.3")


def test_netsim_replicas_refuse_a_fixed_name():
    text = NATIVE.replace("web: {replicas: 3,", "web: {replicas: 3, name: theweb,")
    found = [p for p in problems(text, kind=None) if "name with 3 replicas" in p]
    assert found and found[0].startswith("c.yaml:6:") and "containers.web.name" in found[0]


def test_intent_names_a_service_for_all_its_replicas():
    """``to: web`` stands for every replica: three pairs are judged, and a port none listens on
    breaks the expectation for each of them."""
    from simulator.intent import evaluate
    from simulator.intent.parse import load_intent_text

    design, _ = load_text(textwrap.dedent(COMPOSE), "c.yaml", kind="compose")
    for port, holds in ((8000, True), (9999, False)):
        intent, found = load_intent_text(f"expect:\n  allow:\n    - {{from: proxy, to: web, ports: [{port}]}}\n", "i.yaml")
        assert found == []
        outcomes, found = evaluate(intent, design, "20.10")
        assert [p for p in found if p.severity == "error"] == []
        assert [o.passed for o in outcomes] == [holds]
        assert "3 source/target/port combination(s)" in outcomes[0].message or not holds
        if not holds:
            assert all(f"web.{n} does not listen on 9999/tcp" in outcomes[0].message for n in (1, 2, 3))


def test_swarm_only_deploy_keys_of_a_compose_file_are_said_to_be_ignored():
    text = COMPOSE.replace("deploy: {replicas: 3}", "deploy: {replicas: 3, endpoint_mode: dnsrr, "
                                                    "placement: {constraints: ['node.role == manager']}}")
    found = [p for p in problems(text) if "docker stack deploy" in p]
    assert len(found) == 2 and all(p.startswith("c.yaml:10:") and "warning" in p for p in found), found
