"""simulator.values.quick_init: a frozen slotted dataclass given the faster ``__init__`` behaves as
the dataclass's own (parameters, defaults, frozen, equality, hashing, replace, pickling), and a
class it cannot serve keeps the dataclass's own, never served wrongly."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import pkgutil

import pytest

import simulator
from simulator.values import quick_init


def _record(name: str) -> type:
    """A frozen slotted dataclass of four fields, two with defaults (made twice: one plain, one quick)."""
    fields = {"__annotations__": {"a": "int", "b": "str", "c": "tuple", "d": "str | None"}, "c": (), "d": None}
    return dataclasses.dataclass(frozen=True, slots=True)(type(name, (), fields))


_Plain = _record("_Plain")
_Quick = quick_init(_record("_Quick"))


@dataclasses.dataclass(frozen=True, slots=True)
class _Base:
    a: int


@quick_init
@dataclasses.dataclass(frozen=True, slots=True)
class _Derived(_Base):
    b: int = 2


def _twin(q):
    return _Plain(**{f.name: getattr(q, f.name) for f in dataclasses.fields(q)})


@pytest.mark.parametrize("args, kwargs", [
    ((1, "x"), {}), ((1, "x", (2,)), {}), ((1,), {"b": "y", "d": "z"}), ((), {"a": 3, "b": "w", "c": (1, 2), "d": None}),
])
def test_made_alike_positional_keyword_and_defaults(args, kwargs):
    q, p = _Quick(*args, **kwargs), _Plain(*args, **kwargs)
    assert [getattr(q, f.name) for f in dataclasses.fields(q)] == [getattr(p, f.name) for f in dataclasses.fields(p)]
    assert repr(q).replace("_Quick", "_Plain") == repr(p)
    assert _twin(q) == p


def test_same_signature_and_same_argument_errors():
    assert inspect.signature(_Quick) == inspect.signature(_Plain)
    for args, kwargs in [((), {}), ((1,), {}), ((1, "x", (), None, 5), {}), ((1, "x"), {"e": 1}), ((1, "x"), {"a": 2})]:
        with pytest.raises(TypeError):
            _Quick(*args, **kwargs)
        with pytest.raises(TypeError):
            _Plain(*args, **kwargs)


def test_still_frozen_equal_hashable_replaceable_picklable():
    q = _Quick(1, "x", (2, 3))
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.a = 2  # type: ignore[misc]
    assert q == _Quick(1, "x", (2, 3)) and q != _Quick(1, "y", (2, 3))
    assert hash(q) == hash(_Quick(1, "x", (2, 3)))
    assert dataclasses.replace(q, b="z") == _Quick(1, "z", (2, 3))
    assert pickle.loads(pickle.dumps(q)) == q


def test_inherited_fields_are_set_too():
    d = _Derived(5)
    assert (d.a, d.b) == (5, 2) and d == _Derived(a=5, b=2)
    params = inspect.signature(_Derived).parameters.values()
    assert [(p.name, p.default) for p in params] == [("a", inspect.Parameter.empty), ("b", 2)]


@pytest.mark.parametrize("make", [
    lambda: dataclasses.dataclass(frozen=True)(type("NoSlots", (), {"__annotations__": {"a": int}})),
    lambda: dataclasses.dataclass(slots=True)(type("NotFrozen", (), {"__annotations__": {"a": int}})),
    lambda: dataclasses.dataclass(frozen=True, slots=True)(type("Factory", (), {
        "__annotations__": {"a": list}, "a": dataclasses.field(default_factory=list)})),
    lambda: dataclasses.dataclass(frozen=True, slots=True)(type("KwOnly", (), {
        "__annotations__": {"a": int}, "a": dataclasses.field(kw_only=True)})),
    lambda: dataclasses.dataclass(frozen=True, slots=True)(type("NotInit", (), {
        "__annotations__": {"a": int}, "a": dataclasses.field(init=False, default=1)})),
    lambda: dataclasses.dataclass(frozen=True, slots=True)(type("PostInit", (), {
        "__annotations__": {"a": int}, "__post_init__": lambda self: None})),
])
def test_a_class_it_cannot_serve_keeps_its_own_init(make):
    cls = make()
    own = cls.__init__
    assert quick_init(cls) is cls and cls.__init__ is own


def test_every_class_given_it_keeps_the_dataclass_signature():
    """Across the package: a class with the quick ``__init__`` takes exactly the parameters (names,
    order, defaults) its fields give."""
    given = []
    for info in pkgutil.walk_packages(simulator.__path__, "simulator."):
        module = importlib.import_module(info.name)
        for cls in vars(module).values():
            if (isinstance(cls, type) and cls.__module__ == module.__name__ and dataclasses.is_dataclass(cls)
                    and cls.__init__.__code__.co_filename == "<string>"
                    and all(n.startswith("_set_") for n in cls.__init__.__code__.co_names)):  # quick_init's
                given.append(cls)
                expected = [(f.name, f.default) for f in dataclasses.fields(cls)]
                got = [(p.name, p.default if p.default is not inspect.Parameter.empty else dataclasses.MISSING)
                       for p in inspect.signature(cls).parameters.values()]
                assert got == expected, cls
    names = {c.__name__ for c in given}
    assert {"Trace", "Packet", "ProbeGroup", "RouteStep"} <= names, names
