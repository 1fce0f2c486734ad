"""Intent judged on the model and on observations: holds / design breaks it / engine disagrees."""

from simulator.analysis.reachability import compute_reach
from simulator.intent import load_with_intent
from simulator.verify.compare import Comparison, compare
from simulator.verify.intent_check import judge_intent
from simulator.verify.observe import Observation

DESIGN = """
name: judged
networks:
  front: {subnet: 10.31.1.0/24}
  back: {subnet: 10.31.2.0/24}
containers:
  web: {networks: [front, back], listens: [80]}
  db: {networks: [back], listens: [5432]}
  proxy: {networks: [front], listens: [443], ports: ["443:443"]}
expect:
  allow:
    - {from: web, to: db, ports: [5432], via: ip}
  deny:
    - {from: proxy, to: db, via: ip}
    - {from: web, to: proxy, via: ip, why: broken on purpose - web shares front with proxy}
"""


def _comparison(result, flip=None):
    """Observations equal to the model, except the probes ``flip`` selects."""
    obs = {}
    for p in result.probes:
        reachable = p.reachable != bool(flip and flip(p))
        obs[p.key] = Observation(p.key, p.address, "answered" if reachable else "timeout",
                                 responder=(p.responder or p.target) if reachable else None)
    return Comparison(result.design.name, "20.10", compare(result.probes, obs))


def _verdicts(tmp_path, flip=None):
    path = tmp_path / "judged.yaml"
    path.write_text(DESIGN)
    design, _, intent, problems = load_with_intent(path)
    assert not problems
    result = compute_reach(design, "20.10")
    return judge_intent(intent, result, _comparison(result, flip))


def test_engine_agreeing_with_model(tmp_path):
    kinds = [v.kind for v in _verdicts(tmp_path)]
    assert kinds == ["holds", "holds", "design breaks the intent"]


def test_engine_disagreeing_with_model(tmp_path):
    # the engine (hypothetically) lets proxy reach db: the deny holds in the model only
    flip = lambda p: p.source == "proxy" and p.target == "db" and p.via == "ip"  # noqa: E731
    kinds = [v.kind for v in _verdicts(tmp_path, flip)]
    assert kinds == ["holds", "engine disagrees with the model", "design breaks the intent"]
