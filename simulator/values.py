"""Frozen values made as fast as plain ones.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (its own
``__setattr__`` refuses). The analysis of a large design makes millions of its frozen records
(traces, packets, steps, groups): at 10,000 containers their ``__init__`` was a tenth of
`netsim reach`. :func:`quick_init` gives a frozen slotted dataclass an ``__init__`` with the same
parameters that sets its slots through their descriptors, about twice as fast; everything else
(frozen, equality, hashing, ``dataclasses.replace``, pickling) is the dataclass's own.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

_T = TypeVar("_T")


def quick_init(cls: type[_T]) -> type[_T]:
    """``cls`` (a ``@dataclass(frozen=True, slots=True)``) with a faster ``__init__`` of the same
    parameters. Only for plain fields: a class that is not a frozen slotted dataclass, or has a
    ``__post_init__``, a default factory, a field left out of ``__init__`` or keyword-only fields,
    keeps the dataclass's own ``__init__``."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        return cls
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if not all(f.init and not f.kw_only and f.default_factory is dataclasses.MISSING for f in fields):
        return cls
    scope: dict[str, object] = {}
    params_text = []
    for f in fields:
        scope[f"_set_{f.name}"] = getattr(cls, f.name).__set__  # the slot's descriptor
        if f.default is dataclasses.MISSING:
            params_text.append(f.name)
        else:
            scope[f"_default_{f.name}"] = f.default
            params_text.append(f"{f.name}=_default_{f.name}")
    source = f"def __init__(self, {', '.join(params_text)}):\n"
    source += "".join(f"    _set_{f.name}(self, {f.name})\n" for f in fields) or "    pass\n"
    exec(source, scope)  # the text is made above from the field names alone
    init: Any = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
