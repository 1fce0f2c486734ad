"""The design's intent, judged twice: against the model and against what the engine did.

Each expectation lands in one of three places:

* holds — it holds in the model and on the engine;
* design breaks the intent — it fails in the model and on the engine alike (fix the design);
* engine disagrees with the model — it holds on one side only (a model bug or an
  engine-version rule netsim lacks: the verify mismatches say which probes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..analysis.probes import Probe
from ..analysis.reachability import ReachResult
from ..engine.trace import Disposition
from ..intent.evaluation import evaluate
from ..intent.model import Intent, Outcome
from .compare import Comparison

_OBSERVED_DISPOSITION = {
    "refused": Disposition.REFUSED,
    "unresolved": Disposition.NAME_NOT_RESOLVED,
}


@dataclass(frozen=True, slots=True)
class IntentVerdict:
    model: Outcome
    observed: Outcome

    @property
    def kind(self) -> str:
        if self.model.passed and self.observed.passed:
            return "holds"
        if not self.model.passed and not self.observed.passed:
            return "design breaks the intent"
        return "engine disagrees with the model"


def observed_probe(probe: Probe, obs) -> Probe:
    """The probe as the engine answered it (unchanged when it was not observed)."""
    if obs is None or not obs.compared:
        return probe
    if obs.reachable:
        disposition = Disposition.DELIVERED
    else:
        disposition = _OBSERVED_DISPOSITION.get(obs.status, Disposition.DROPPED_FILTER)
    responders = tuple(obs.responders) if obs.reachable else ()  # a balanced probe: everyone who answered
    return probe._replace(disposition=disposition, responder=obs.responder if obs.reachable else None,
                          responders=responders, reason=f"observed on the engine: {obs.status}", trace=None)


def observed_result(model: ReachResult, comparison: Comparison) -> ReachResult:
    """The model's matrix with every observed probe replaced by what the engine did."""
    by_key = {row.probe.key: row.observation for row in comparison.rows}
    return replace(model, probes=tuple(observed_probe(p, by_key.get(p.key)) for p in model.probes))


def judge_intent(intent: Intent, model: ReachResult, comparison: Comparison) -> list[IntentVerdict]:
    """Every expectation judged on the model and on the observations."""
    expected, _ = evaluate(intent, model.design, model.engine_version, result=model)
    seen, _ = evaluate(intent, model.design, model.engine_version, result=observed_result(model, comparison))
    return [IntentVerdict(m, o) for m, o in zip(expected, seen, strict=True)]  # one outcome per expectation each


def render_verdicts(verdicts: list[IntentVerdict]) -> str:
    if not verdicts:
        return ""
    lines = ["== intent (model vs engine) =="]
    for v in verdicts:
        e = v.model.expectation
        where = f"{e.location}: " if e.location else ""
        lines.append(f"{'ok' if v.kind == 'holds' else '!!'} {where}{e.path}: {e.text}: {v.kind}")
        if v.kind != "holds":
            lines.append(f"     model:  {v.model.message}")
            lines.append(f"     engine: {v.observed.message}")
    counts = {k: sum(v.kind == k for v in verdicts) for k in ("holds", "design breaks the intent", "engine disagrees with the model")}
    lines.append(", ".join(f"{n} {k}" for k, n in counts.items()))
    return "\n".join(lines) + "\n"
