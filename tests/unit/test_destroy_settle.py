"""destroy removes a network once the engine lets go of it: it retries the two refusals that pass
(a removed container's endpoint, a removed service's task still on the manager) and reports any
other refusal at once."""

from __future__ import annotations

from simulator.adapters.engine import EngineObject
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
