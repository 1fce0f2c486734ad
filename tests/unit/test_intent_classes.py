"""`netsim test` reads only the probes an expectation needs: the probes of the sources it names
(made for them alone) and exposure from the listeners' side; its outcomes equal the ones read off
every probe of the matrix (the reference: the same evaluation on the matrix's probes given to it).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.analysis.reachability import reach_of
from simulator.intent import evaluate
from simulator.pipeline import load

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale_bench import generate  # noqa: E402  (irregular designs with replica classes)

INTENT = ROOT / "tests/data/intent"
CASES = [(INTENT / "clean.yaml", None), (ROOT / "designs/frontend-backend.yaml", INTENT / "frontend-backend.intent.yaml"),
         (ROOT / "designs/frontend-backend.yaml", INTENT / "frontend-backend.failing.intent.yaml"),
         (INTENT / "shop.compose.yaml", INTENT / "compose-shop.intent.yaml")]


def _both(loaded, version=None):
    world = loaded.world(version)
    mine = evaluate(loaded.intent, loaded.design, version, reach_of(world))
    result = reach_of(world)
    reference = evaluate(loaded.intent, loaded.design, version, replace(result, probes=tuple(result.iter_probes())))
    return mine, reference


def _same(mine, reference):
    (outcomes, problems), (ref_outcomes, ref_problems) = mine, reference
    assert problems == ref_problems
    assert [(o.expectation, o.passed, o.message, o.evidence) for o in outcomes] == \
        [(o.expectation, o.passed, o.message, o.evidence) for o in ref_outcomes]
    return outcomes


@pytest.mark.parametrize("version", [None, "20.10", "28.2"])
@pytest.mark.parametrize("design,intent", CASES, ids=lambda p: getattr(p, "name", "-"))
def test_intent_files_evaluate_as_on_every_probe(design, intent, version):
    loaded = load(design, intent_file=intent) if intent else load(design)
    outcomes = _same(*_both(loaded, version))
    assert outcomes


EXPECT = """
expect:
  allow:
    - {{from: "{a}", to: "{b}"}}
    - {{from: external, to: "*", via: host}}
  deny:
    - {{from: "{b}", to: "{a}"}}
    - {{from: host, to: "{a}"}}
  exposure:
    - {{service: "*", never_from: [external, other-networks]}}
    - {{service: "{b}", from: lan, only_ports: [80]}}
"""


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(12, 40), st.integers(2, 6), st.integers(1, 3), st.integers(0, 10_000))
def test_generated_designs_evaluate_as_on_every_probe(containers, networks, hosts, seed):
    data = generate(containers, networks, hosts, seed)
    names = [n for n, c in data["containers"].items() if "network_mode" not in c]
    text = yaml.safe_dump(data) + EXPECT.format(a=names[0], b=names[-1])
    outcomes = _same(*_both(load(text)))
    assert any(not o.passed for o in outcomes)  # the exposure ceilings fail on these designs: evidence compared too
