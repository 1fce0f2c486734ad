"""destroy removes a network once the engine lets go of it: it retries the two refusals that pass
(a removed container's endpoint, a removed service's task still on the manager) and reports any
other refusal at once."""

from __future__ import annotations

from simulator.adapters.engine import EngineObject, SwarmState
from simulator.deploy import apply
from simulator.errors import EngineError


class _Refusing:
    """An engine whose network removal is refused with ``texts``, one per try, then succeeds."""

    def __init__(self, *texts: str):
        self.texts = list(texts)
        self.tries = 0

    def remove(self, obj: EngineObject) -> None:
        self.tries += 1
        if self.texts:
            raise EngineError(self.texts.pop(0))


NET = EngineObject("network", "n1", "frontend", {})


def test_a_network_still_in_use_by_a_removed_services_task_is_removed_when_it_goes(monkeypatch):
    monkeypatch.setattr(apply.time, "sleep", lambda s: None)
    engine = _Refusing("network frontend is in use by task abc", "error while removing network: network frontend "
                       "id n1 has active endpoints")
    assert apply._remove_network(engine, NET) is None
    assert engine.tries == 3


def test_another_refusal_is_reported_at_once():
    engine = _Refusing("network frontend not found")
    assert apply._remove_network(engine, NET) == "network frontend not found"
    assert engine.tries == 1


def test_a_refusal_that_never_passes_is_reported_after_the_settle_time():
    engine = _Refusing(*["network frontend is in use by task abc"] * 1000)
    assert apply._remove_network(engine, NET, settle_s=0.3) == "network frontend is in use by task abc"
    assert 1 < engine.tries < 1000


class _Swarm:
    """A manager whose removed services leave their tasks' containers behind (the swarm stops them
    later), and whose networks hold endpoints that go one per look."""

    def __init__(self, endpoints: dict[str, list[dict]]):
        self.objects = [EngineObject("service", "s1", "api", {}),
                        EngineObject("container", "t1", "api.1.x", {"com.docker.swarm.service.name": "api"}),
                        EngineObject("container", "t2", "api.2.y", {"com.docker.swarm.service.name": "api"})]
        self.endpoints = endpoints  # network id -> what each look finds, in turn (the last stays)
        self.removed: list[str] = []
        self.looks = 0
        self.swarm_labels = {apply.LABEL_SWARM: "d"}  # initialised by netsim for design d

    def list_by_label(self, labels):
        return list(self.objects)

    def remove(self, obj: EngineObject) -> None:
        self.removed.append(obj.name)
        self.objects = [o for o in self.objects if o.id != obj.id]

    def find(self, kind: str, name: str):
        return EngineObject("network", "gw", name, {}) if name == apply.GWBRIDGE else None

    def swarm_state(self):
        return SwarmState(active=True, labels=dict(self.swarm_labels))

    def inspect_network(self, network: str) -> dict:
        self.looks += 1
        seen = self.endpoints.get(network, [{}])
        return {"Containers": seen.pop(0) if len(seen) > 1 else seen[0]}


def test_destroy_removes_the_tasks_containers_of_removed_services_one_at_a_time(monkeypatch):
    monkeypatch.setattr(apply.time, "sleep", lambda s: None)
    engine = _Swarm({})
    labelled = {id(engine): engine.list_by_label({})}
    assert apply._remove_services([("", engine)], labelled, [], "d") == ["service api"]
    assert engine.removed == ["api", "api.1.x", "api.2.y"]  # the service, then each task's container in turn


def test_destroy_waits_until_overlays_and_the_gateway_bridge_let_go_of_their_endpoints(monkeypatch):
    monkeypatch.setattr(apply.time, "sleep", lambda s: None)
    overlay = EngineObject("network", "o1", "backend", {}, driver="overlay")
    sandbox = {"ingress-sbox": {"Name": "gateway_ingress-sbox"}}
    engine = _Swarm({"o1": [{"c1": {"Name": "client"}}, {"lb-backend": {"Name": "backend-endpoint"}}, {}],
                     "gw": [{"c1": {"Name": "gateway_c1"}, **sandbox}, sandbox]})
    apply._endpoints_released([("", engine)], {id(engine): [overlay]})
    assert engine.endpoints == {"o1": [{}], "gw": [sandbox]}  # waited for both: the ingress sandbox stays
    looks = engine.looks
    apply._endpoints_released([("", engine)], {id(engine): [overlay]})
    assert engine.looks == looks + 2  # nothing held: one look at each


def test_destroy_goes_on_when_endpoints_never_go():
    engine = _Swarm({"gw": [{"c1": {"Name": "gateway_c1"}}]})
    apply._endpoints_released([("", engine)], {id(engine): []}, wait_s=0.3)
    assert engine.looks > 1


def test_destroy_leaves_docker_gwbridge_alone_in_a_swarm_not_netsims():
    engine = _Swarm({"gw": [{"c1": {"Name": "gateway_theirs"}}]})  # a task of the user's own service
    engine.swarm_labels = {}
    apply._endpoints_released([("", engine)], {id(engine): []}, wait_s=30)
    assert engine.looks == 0  # returned at once: nothing of the design's to wait for
