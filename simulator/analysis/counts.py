"""Target classes with counts, shared between the groups that read them.

A coarse group (:mod:`simulator.analysis.coarse`) that stands for a bundle (every destination a
source reaches alike beyond its own networks and host) covers most of the design's target classes.
Its counts are a shared base (the bundle's, per port) less the parts the source's own networks and
host took out, times the source class's members, plus and minus the group's own: a
:class:`Remainder` read by reference in a :class:`TargetCounts`, laid out only when listed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence


class SharedCounts(dict):
    """A bundle's target counts (target class -> probes), read by many groups and never changed: a
    type of its own, so that results sent between processes refer to the parent's copy rather than
    carry it (``shared`` of :func:`simulator.fanout.ordered_map`)."""

    __slots__ = ()


class Remainder:
    """A shared bundle's target counts less some shared parts of it (never changed, never copied):
    read without laying it out (its first classes, how many), laid out once when listed."""

    __slots__ = ("_classes", "_left", "_left_dict", "_size", "_taken", "_taken_json", "base", "name", "parts")

    def __init__(self, base: dict[str, int], parts: list[dict[str, int]], name: str | None = None) -> None:
        self.base = base
        self.parts = parts
        self.name = name  # the base's name among the target sets of the reach JSON (docs/reach-json.md)
        self._taken: dict[str, int] | None = None
        self._size: int | None = None
        self._left: tuple[tuple[str, int], ...] | None = None
        self._left_dict: dict[str, int] | None = None
        self._classes: frozenset[str] | None = None
        self._taken_json: list[dict] | None = None

    def taken(self) -> dict[str, int]:
        """The parts added up."""
        if self._taken is None:
            if len(self.parts) == 1:
                self._taken = self.parts[0]
            else:
                taken: dict[str, int] = {}
                for part in self.parts:
                    for cls, n in part.items():
                        taken[cls] = taken.get(cls, 0) + n
                self._taken = taken
        return self._taken

    def taken_json(self) -> list[dict]:
        """:meth:`taken` as the reach JSON lists it (``less`` of ``targets_from``), made once: every
        group of the remainder writes it (read it, never change it)."""
        if self._taken_json is None:
            self._taken_json = _listed(self.taken())
        return self._taken_json

    def size(self) -> int:
        """How many target classes the parts leave something of."""
        if self._size is None:
            base = self.base
            self._size = len(base) - sum(1 for c, n in self.taken().items() if n and base.get(c, 0) - n <= 0)
        return self._size

    def first(self, most: int) -> list[str]:
        """The first ``most`` target classes left, in the base's order."""
        if most <= 0:
            return []
        if self._left is not None:
            return [c for c, _ in self._left[:most]]
        taken, out = self.taken(), []
        for c, n in self.base.items():
            if n - taken.get(c, 0) > 0:
                out.append(c)
                if len(out) == most:
                    break
        return out

    def left(self) -> tuple[tuple[str, int], ...]:
        """(target class, count) in the base's order, those the parts leave something of."""
        if self._left is None:
            taken = self.taken()
            self._left = tuple((c, k) for c, n in self.base.items() if (k := n - taken.get(c, 0)) > 0)
        return self._left

    def classes(self) -> frozenset[str]:
        """The target classes left, as a set (made once)."""
        if self._classes is None:
            self._classes = frozenset(self.left_dict())
        return self._classes

    def __reduce__(self):  # sent to another process without what it laid out
        return Remainder, (self.base, self.parts, self.name)

    def left_dict(self) -> dict[str, int]:
        if self._left_dict is None:
            self._left_dict = dict(self.left())
        return self._left_dict


class TargetCounts(Sequence):
    """(target class, probes) pairs of a coarse group: a shared :class:`Remainder` ``times`` over,
    plus and minus this group's own counts, laid out only when read."""

    __slots__ = ("_items", "_minus", "_plus", "_rest", "_times")

    def __init__(self) -> None:
        self._rest: Remainder | None = None
        self._times = 1
        self._plus: dict[str, int] = {}
        self._minus: dict[str, int] = {}
        self._items: tuple[tuple[str, int], ...] | None = None

    def add(self, cls: str, n: int) -> None:
        self._plus[cls] = self._plus.get(cls, 0) + n

    def add_all(self, counts: dict[str, int], times: int = 1) -> None:
        plus = self._plus
        if not plus:  # the first counts: copied at once (the same order)
            self._plus = dict(counts) if times == 1 else {cls: n * times for cls, n in counts.items()}
            return
        for cls, n in counts.items():
            plus[cls] = plus.get(cls, 0) + n * times

    def add_counts(self, other: TargetCounts, times: int = 1) -> None:
        """Add another group's own counts (one with no remainder and nothing taken out) ``times`` over."""
        assert other._rest is None and not other._minus, "only counts added one by one"
        self.add_all(other._plus, times)

    def add_base(self, base: dict[str, int], minus: list[dict[str, int]], times: int = 1) -> None:
        """Add a whole shared bundle ``times`` over, less the shared dicts ``minus`` (what of it is
        not part of the group), none of them copied."""
        self.add_rest(Remainder(base, list(minus)), times)

    def add_rest(self, rest: Remainder, times: int = 1) -> None:
        """Add a shared remainder ``times`` over (kept by reference)."""
        if self._rest is None:
            self._rest, self._times = rest, times
        else:
            self.add_all(rest.left_dict(), times)

    def subtract(self, cls: str, n: int) -> None:
        self._minus[cls] = self._minus.get(cls, 0) + n

    def shared_json(self) -> dict | None:
        """``targets_from`` of the reach JSON (docs/reach-json.md): the counts as a named target set
        less some counts, times over, plus and minus this group's own; None without a named set."""
        rest = self._rest
        if rest is None or rest.name is None:
            return None

        return {"set": rest.name, "less": rest.taken_json(), "times": self._times,
                "plus": _listed(self._plus), "minus": _listed(self._minus)}

    def listed(self) -> list[dict]:
        """The pairs as the reach JSON lists them (``targets``), made straight from the counts added
        when there is no remainder (the tuple of :meth:`items` is not laid out for this)."""
        if self._items is None and self._rest is None:
            plus, minus = self._plus, self._minus
            if not minus:
                return [{"class": c, "count": n} for c, n in plus.items() if n > 0]
            return [{"class": c, "count": k} for c, n in plus.items() if (k := n - minus.get(c, 0)) > 0]
        return [{"class": c, "count": n} for c, n in self.items()]

    def _plain(self) -> bool:
        """Nothing but the remainder: its laid-out counts, times over, are the answer."""
        return self._rest is not None and not self._plus and not self._minus

    def several(self) -> bool:
        """Whether more than one target class is left (without laying out the whole list)."""
        if self._plain():
            return self._rest.size() > 1  # type: ignore[union-attr]
        if self._rest is None:
            found = 0
            for cls, n in self._plus.items():
                if n - self._minus.get(cls, 0) > 0:
                    found += 1
                    if found > 1:
                        return True
            return False
        return len(self.items()) > 1

    def sole(self) -> tuple[bool, str | None]:
        """(:meth:`several`, the one target class left when not several, None for none), without
        laying out the list when only counts were added (most groups: one target class)."""
        if self._items is None and self._rest is None and not self._minus:
            first = None
            for cls, n in self._plus.items():
                if n > 0:
                    if first is not None:
                        return True, None
                    first = cls
            return False, first
        if self.several():
            return True, None
        return False, next(iter(self.items()), (None, 0))[0]

    def classes(self) -> frozenset[str] | set[str]:
        """The target classes covered, as a set (a remainder's alone: shared, made once)."""
        if self._plain() and self._items is None:
            return self._rest.classes()  # type: ignore[union-attr]
        return {c for c, _ in self.items()}

    def counts(self) -> dict[str, int]:
        """Target class -> probes (a remainder's alone times once: shared, made once)."""
        if self._plain() and self._items is None and self._times == 1:
            return self._rest.left_dict()  # type: ignore[union-attr]
        return dict(self.items())

    def preview(self, most: int) -> tuple[list[str], int]:
        """The first ``most`` target classes and how many there are, without laying out the list."""
        if self._items is None:
            if self._plain():
                return self._rest.first(most), self._rest.size()  # type: ignore[union-attr]
            plus = self._plus
            if self._rest is None and not self._minus and (not plus or min(plus.values()) > 0):
                return list(itertools.islice(plus, max(most, 0))), len(plus)  # counts added only: every one is left
        names = [c for c, _ in self.items()]
        return names[:most], len(names)

    def items(self) -> tuple[tuple[str, int], ...]:
        if self._items is None:
            rest, times, plus, minus = self._rest, self._times, self._plus, self._minus
            if rest is None:
                self._items = tuple((c, k) for c, n in plus.items() if (k := n - minus.get(c, 0)) > 0)
            elif not plus and not minus:
                self._items = tuple((c, n * times) for c, n in rest.left()) if times != 1 else rest.left()
            else:
                left = rest.left_dict()
                keys = list(rest.base) + [c for c in plus if c not in rest.base]
                self._items = tuple((c, k) for c in keys
                                    if (k := left.get(c, 0) * times + plus.get(c, 0) - minus.get(c, 0)) > 0)
        return self._items

    def __len__(self) -> int:
        return len(self.items())

    def __bool__(self) -> bool:
        """Whether any target class is covered (a remainder alone: without laying out the list)."""
        if self._items is None and self._plain():
            return self._rest.size() > 0  # type: ignore[union-attr]
        return bool(self.items())

    def __getitem__(self, i):
        return self.items()[i]

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(self.items())

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, (tuple, TargetCounts)) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.items())

    def __repr__(self) -> str:
        return f"TargetCounts({self.items()!r})"


def _listed(counts: dict[str, int]) -> list[dict]:
    """Counts as the reach JSON lists target classes: ``{"class", "count"}`` for each but the zeros."""
    return [{"class": c, "count": n} for c, n in counts.items() if n]
