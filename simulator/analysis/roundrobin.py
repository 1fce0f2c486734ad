"""A name answered with several records, dialled by the members of a class that hold one of them.

The embedded DNS answers a service's name with every replica's address (round robin), and each
replica dialling that name holds one of them. ``Matrix._dns_probe`` reads every record's walk for
every such member: with *n* replicas, *n* × *n* readings for one name and port (2,000 replicas
took 20 s of a ``reach``). The walks to the others' addresses are the same for every member sending
the same way; only the member's own record differs. :class:`RoundRobin` sums up the records as a
member holding none of them reaches them, once, and gives each member holding one of them what
``_dns_probe`` would (the record that decides, how many answer, the first that does not, who
answers) from that summary and its own walk.
"""

from __future__ import annotations

from ..engine.trace import Trace


def balanced_reason(name: str, records: int, answering: int, other: str, reason: str) -> str:
    """Why a name with several records (the embedded DNS shuffles them per query, the client dials
    one) is reachable when any record answers, or not when none does: ``reason`` the deciding
    record's, ``other`` the first record's that does not answer (read when some answer and some do not)."""
    if not answering or answering == records:
        return f"{name} has {records} records (round robin); first: {reason}"
    return (f"{name} has {records} records (round robin): {answering} answer, {records - answering} do not "
            f"({other}); answering: {reason}")


class RoundRobin:
    """The walks to each record of a name (in record order) from a member holding none of them."""

    __slots__ = ("answering", "counts", "failing", "responders", "traces")

    def __init__(self, traces: list[Trace]) -> None:
        self.traces = traces
        self.answering = [k for k, t in enumerate(traces) if t.delivered]
        self.failing = [k for k, t in enumerate(traces) if not t.delivered][:2]  # the first two that do not answer
        counts: dict[str, int] = {}
        for k in self.answering:
            who = traces[k].responder
            if who:
                counts[who] = counts.get(who, 0) + 1
        self.counts = counts
        self.responders = tuple(sorted(counts))

    def held(self, name: str, j: int, own: Trace) -> tuple[int, Trace, str, tuple[str, ...]]:
        """For a member holding record ``j`` of ``name`` (its own walk there: ``own``): the record that
        decides (the first that answers, its own last; none answering: the first), that record's
        walk, the reason (:func:`balanced_reason`) and who answers, as ``_dns_probe`` reads them."""
        traces, answering = self.traces, self.answering
        mine = traces[j]
        others = len(answering) - (1 if mine.delivered else 0)
        if others:
            first = answering[0] if answering[0] != j else answering[1]
            decides = traces[first]
        elif own.delivered:
            first, decides = j, own
        else:
            first = 0
            decides = own if j == 0 else traces[0]
        answered = others + (1 if own.delivered else 0)
        other = ""
        if 0 < answered < len(traces):  # the first record that does not answer, in record order
            failing = [k for k in self.failing if k != j][:1]
            other = own.reason if not own.delivered and (not failing or j < failing[0]) else traces[failing[0]].reason
        return first, decides, balanced_reason(name, len(traces), answered, other, decides.reason), self._responders(mine, own)

    def _responders(self, mine: Trace, own: Trace) -> tuple[str, ...]:
        """Who answers: the others' responders with the member's own record's as its own walk has it."""
        before = mine.responder if mine.delivered else None
        after = own.responder if own.delivered else None
        if before == after:
            return self.responders
        counts = dict(self.counts)
        if before:
            counts[before] -= 1
        if after:
            counts[after] = counts.get(after, 0) + 1
        return tuple(sorted(who for who, n in counts.items() if n > 0))
