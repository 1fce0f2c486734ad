"""Expected (the model's probes) against observed (the engine's answers): a pure diff.

A probe *agrees* when both sides say the same about reachability and, when reachable,
the same container answered.  When both agree it is unreachable but disagree on how
(refused by a closed port vs. dropped on the way), the row is a *detail* difference:
listed, but not a failure.  Probes that could not be observed here (skipped, unsupported,
refused by the safety guard, errors) are *not compared* and listed with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # observe imports this module (needs_retry)
    from ..analysis.probes import Probe
    from ..model import Design
    from .observe import Observation

# how each model disposition shows on the wire
_EXPECTED = {
    "DELIVERED": "answered",
    "REFUSED": "refused",
    "NAME_NOT_RESOLVED": "unresolved",
}
_OBSERVED = {
    "answered": "answered",
    "refused": "refused",
    "unresolved": "unresolved",
    "timeout": "dropped",
    "no-route": "dropped",
    "no-address": "dropped",
    "empty": "dropped",
}


def expected_outcome(probe: Probe) -> str:
    """answered | refused | unresolved | dropped, from the model's disposition."""
    disp = getattr(probe.disposition, "value", str(probe.disposition))
    return _EXPECTED.get(disp, "dropped")


def observed_outcome(obs: Observation) -> str:
    if obs.status == "answered" and obs.responder is None:
        return "dropped"
    return _OBSERVED.get(obs.status, "unknown")


def needs_retry(probe: Probe, obs: Observation | None) -> bool:
    """Dial again, with a longer timeout, before calling the probe unreachable?

    Only when the first observation failed for a transient cause (a connect or DNS timeout,
    an answer lost on the way) *and* disagrees with the model: a timeout the model predicts
    (a dropped packet) is the answer, not a reason to wait longer, so designs where many
    probes are meant to time out cost no extra time.  A refusal (RST, ICMP unreachable,
    NXDOMAIN) is final at once: it is never transient."""
    if obs is None or not getattr(obs, "transient", False):
        return False
    if not obs.compared:
        return True  # the answer was lost: the probe was not observed at all
    return compare_probe(probe, obs).verdict != "agree"


@dataclass(frozen=True, slots=True)
class ProbeRow:
    probe: Probe
    observation: Observation | None
    verdict: str  # agree | mismatch | detail | not-compared
    why: str = ""

    @property
    def expected_responders(self) -> tuple[str, ...]:
        rs = tuple(self.probe.responders or ())
        return rs or ((self.probe.responder,) if self.probe.responder else ())


def compare_probe(probe: Probe, obs: Observation | None) -> ProbeRow:
    if obs is None:
        return ProbeRow(probe, None, "not-compared", "no observation")
    if not obs.compared:
        return ProbeRow(probe, obs, "not-compared", f"{obs.status}: {obs.detail}")
    row = ProbeRow(probe, obs, "agree")
    expected = expected_outcome(probe)
    observed = observed_outcome(obs)
    if probe.reachable != obs.reachable:
        want = f"reachable ({'/'.join(row.expected_responders)} answers)" if probe.reachable else f"unreachable ({expected})"
        got = f"reachable ({obs.responder} answered)" if obs.reachable else f"unreachable ({obs.status})"
        return ProbeRow(probe, obs, "mismatch", f"model: {want}; engine: {got}")
    if probe.reachable and obs.responder not in row.expected_responders:
        return ProbeRow(probe, obs, "mismatch",
                        f"model: {'/'.join(row.expected_responders)} answers; engine: {obs.responder} answered")
    answered = tuple(getattr(obs, "responders", ()) or ())
    if probe.reachable and answered and set(answered) != set(row.expected_responders):
        return ProbeRow(probe, obs, "mismatch", f"model: {'/'.join(row.expected_responders)} answer; engine (each "
                        f"address of {probe.name} dialled): {'/'.join(answered)} answered")
    if expected != observed:
        return ProbeRow(probe, obs, "detail", f"model: {expected}; engine: {obs.status}")
    return row


def compare(probes: Sequence[Probe], observations: Mapping[tuple, Observation]) -> tuple[ProbeRow, ...]:
    return tuple(compare_probe(p, observations.get(p.key)) for p in probes)


@dataclass(frozen=True, slots=True)
class AddressRow:
    """One addressing fact: a container's address, a network's subnet or a default gateway."""

    kind: str  # address | subnet | gateway
    subject: str  # "web on front", "network front", "web"
    expected: str | None
    observed: str | None

    @property
    def agree(self) -> bool:
        return self.expected == self.observed


def compare_addressing(
    expected_addresses: Mapping[tuple[str, str], IPv4Address | IPv6Address | None],
    observed_addresses: Mapping[tuple[str, str], IPv4Address | IPv6Address | None],
    expected_subnets: Mapping[str, IPv4Network | IPv6Network | None],
    observed_subnets: Mapping[str, IPv4Network | IPv6Network | None],
    expected_gateways: Mapping[str, IPv4Address | None],
    observed_gateways: Mapping[str, IPv4Address | None],
    family: int = 4,
) -> tuple[AddressRow, ...]:
    """Compare the model's addressing with the deployment's, key by key (sorted); ``family`` 6:
    the IPv6 side (its subjects say so)."""
    rows: list[AddressRow] = []
    tag = " (IPv6)" if family == 6 else ""

    def s(v) -> str | None:
        return None if v is None else str(v)

    for net in sorted(set(expected_subnets) | set(observed_subnets)):
        rows.append(AddressRow("subnet", f"network {net}{tag}", s(expected_subnets.get(net)),
                               s(observed_subnets.get(net))))
    for c, net in sorted(set(expected_addresses) | set(observed_addresses)):
        rows.append(AddressRow("address", f"{c} on {net}{tag}", s(expected_addresses.get((c, net))),
                               s(observed_addresses.get((c, net)))))
    for c in sorted(set(expected_gateways) | set(observed_gateways)):
        rows.append(AddressRow("gateway", c, s(expected_gateways.get(c)), s(observed_gateways.get(c))))
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class Comparison:
    design: str
    engine_version: str
    rows: tuple[ProbeRow, ...]
    addressing: tuple[AddressRow, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    live: bool = False  # verify --live: a difference is the running environment breaking the design
    causes: Mapping[tuple, tuple[str, ...]] = field(default_factory=dict)  # live: probe key -> drift items (text)
    placed: Design | None = None  # the design as the swarm's scheduler placed its tasks, when not as modelled

    def with_verdict(self, verdict: str) -> tuple[ProbeRow, ...]:
        return tuple(r for r in self.rows if r.verdict == verdict)

    @property
    def mismatches(self) -> tuple[ProbeRow, ...]:
        return self.with_verdict("mismatch")

    @property
    def address_mismatches(self) -> tuple[AddressRow, ...]:
        return tuple(r for r in self.addressing if not r.agree)

    @property
    def ok(self) -> bool:
        """Every compared probe agrees (details and addressing are reported, not failed)."""
        return not self.mismatches

    @property
    def retried(self) -> tuple[ProbeRow, ...]:
        """Rows whose probe was dialled a second time (first try timed out against the model)."""
        return tuple(r for r in self.rows if r.observation is not None and r.observation.attempts > 1)

    def counts(self) -> dict[str, int]:
        out = {"probes": len(self.rows)}
        for v in ("agree", "mismatch", "detail", "not-compared"):
            out[v] = len(self.with_verdict(v))
        out["address-mismatch"] = len(self.address_mismatches)
        out["retried"] = len(self.retried)
        return out
