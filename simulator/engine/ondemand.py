"""A dict whose entries are made the first time they are read (the parts of a world a command reads)."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import UnknownName


class OnDemand(dict):
    """A dict whose entries are made when first read: ``make(key)`` (None: no such key). What reads
    the whole dict (iteration, length, views, comparison) first fills it with ``whole()``, in order."""

    def __init__(self, make: Callable[[object], object | None], whole: Callable[[], dict]):
        super().__init__()
        self._make: Callable[[object], object | None] | None = make
        self._whole: Callable[[], dict] | None = whole

    def _fetch(self, key: object) -> object | None:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        if self._make is None:  # filled: there is no such key
            return None
        value = self._make(key)
        if value is not None:
            dict.__setitem__(self, key, value)
        return value

    @property
    def filled(self) -> bool:
        """Whether every entry is made."""
        return self._whole is None

    def fill(self) -> None:
        """Every entry made now, in order."""
        if self._whole is not None:
            whole, self._whole = self._whole, None
            made = {**whole()}
            for key in made:  # what was read before is kept (the same objects)
                if dict.__contains__(self, key):
                    made[key] = dict.__getitem__(self, key)
            dict.clear(self)
            dict.update(self, made)
            self._make = None

    def __missing__(self, key: object) -> object:
        value = self._fetch(key)
        if value is None:
            raise UnknownName(f"the world has no {key!r}")  # a KeyError
        return value

    def get(self, key: object, default: object = None) -> object:
        value = self._fetch(key)
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return self._fetch(key) is not None

    def __iter__(self):
        self.fill()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self.fill()
        return dict.__len__(self)

    def __eq__(self, other: object) -> bool:
        self.fill()
        return dict.__eq__(self, other)

    __hash__ = None

    def __repr__(self) -> str:
        self.fill()
        return dict.__repr__(self)

    def keys(self):
        self.fill()
        return dict.keys(self)

    def values(self):
        self.fill()
        return dict.values(self)

    def items(self):
        self.fill()
        return dict.items(self)

    def copy(self) -> dict:
        self.fill()
        return dict(dict.items(self))
