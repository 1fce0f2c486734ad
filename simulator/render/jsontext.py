"""JSON text exactly as ``json.dumps(value, indent=1)`` writes it, several times faster.

With an indent the standard library encodes in pure Python, one generator step per token; a large
reach JSON (hundreds of thousands of groups or millions of probes) spends most of its time there.
:func:`dumps_indented` writes the same bytes for the values netsim's JSON holds (dicts with string
keys, lists, tuples, strings, integers, floats, booleans, None), with the C string encoder.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii


def dumps_indented(value: object, depth: int = 0) -> str:
    """``json.dumps(value, indent=1)`` with every line after the first indented by ``depth`` more spaces."""
    out: list[str] = []
    _write(value, "\n" + " " * (depth + 1), out)
    return "".join(out)


def _write(value: object, pad: str, out: list[str]) -> None:
    """``value`` into ``out``; ``pad``: a newline and the indent of the value's own items."""
    if isinstance(value, str):
        out.append(encode_basestring_ascii(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = pad + " "
        sep = "{" + pad
        for k, v in value.items():
            if not isinstance(k, str):
                k = json.loads(json.dumps({k: 0}))  # the key as json writes it (numbers, booleans, None)
                k = next(iter(k))
            out.append(sep)
            out.append(encode_basestring_ascii(k))
            out.append(": ")
            _write(v, inner, out)
            sep = "," + pad
        out.append(pad[:-1] + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = pad + " "
        sep = "[" + pad
        flat = _flat_dicts(value)
        for v in value:
            out.append(sep)
            if flat:
                out.append(_flat(v, inner))
            else:
                _write(v, inner, out)
            sep = "," + pad
        out.append(pad[:-1] + "]")
    else:  # floats and anything else: as json writes it
        out.append(json.dumps(value))


def _flat_dicts(items: list | tuple) -> bool:
    """Whether every item is a non-empty dict of string keys to strings and plain integers (a list
    of counts such as ``[{"class": .., "count": ..}, ...]``): written a dict at a time."""
    for v in items:
        if type(v) is not dict or not v:
            return False
        for k, x in v.items():
            if type(k) is not str or (type(x) is not str and type(x) is not int):
                return False
    return True


def _flat(value: dict, pad: str) -> str:
    """A flat dict whose keys go at ``pad`` (a newline and their indent)."""
    return "{" + pad + ("," + pad).join(
        encode_basestring_ascii(k) + ": " + (encode_basestring_ascii(x) if type(x) is str else int.__repr__(x))
        for k, x in value.items()) + pad[:-1] + "}"
