"""JSON text exactly as ``json.dumps(value, indent=1)`` writes it, several times faster.

With an indent the standard library encodes in pure Python, one generator step per token; a large
reach JSON (hundreds of thousands of groups or millions of probes) spends most of its time there.
:func:`dumps_indented` writes the same bytes for the values netsim's JSON holds (dicts with string
keys, lists, tuples, strings, integers, floats, booleans, None), with the C string encoder, and a
dict's or list's plain values (strings, integers, booleans, None) written in one join.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii

_PLAIN = {str: encode_basestring_ascii, int: int.__repr__, bool: lambda b: "true" if b else "false",
          type(None): lambda _: "null"}


def dumps_indented(value: object, depth: int = 0) -> str:
    """``json.dumps(value, indent=1)`` with every line after the first indented by ``depth`` more spaces."""
    return _text(value, "\n" + " " * (depth + 1))


def _plain(value: object) -> str | None:
    """A value that is no container as json writes it; None for a dict, list or tuple."""
    write = _PLAIN.get(type(value))
    if write is not None:
        return write(value)
    if isinstance(value, (dict, list, tuple)):
        return None
    if isinstance(value, str):  # str subclasses (enums) as their text
        return encode_basestring_ascii(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__repr__(value)
    return json.dumps(value)  # floats and anything else: as json writes it


def _key(k: object) -> str:
    if type(k) is str:
        return encode_basestring_ascii(k)
    return encode_basestring_ascii(next(iter(json.loads(json.dumps({k: 0})))))  # numbers, booleans, None: as json does


def _text(value: object, pad: str) -> str:
    """``value`` as json writes it; ``pad``: a newline and the indent of the value's own items."""
    text = _plain(value)
    if text is not None:
        return text
    inner = pad + " "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [_key(k) + ": " + (_plain(v) or _text(v, inner)) for k, v in value.items()]
        return "{" + pad + ("," + pad).join(items) + pad[:-1] + "}"
    if not value:
        return "[]"
    listed = [_plain(v) or _text(v, inner) for v in value]  # type: ignore[attr-defined]
    return "[" + pad + ("," + pad).join(listed) + pad[:-1] + "]"
