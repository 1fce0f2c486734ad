"""JSON text exactly as ``json.dumps(value, indent=1)`` writes it, several times faster.

With an indent the standard library encodes in pure Python, one generator step per token; a large
reach JSON (hundreds of thousands of groups or millions of probes) spends most of its time there.
:func:`dumps_indented` writes the same bytes for the values netsim's JSON holds (dicts with string
keys, lists, tuples, strings, integers, floats, booleans, None), with the C string encoder.

The reach rows repeat a few shapes (the same keys in the same order), so a dict is written by a
*writer* made for its keys and indent the second time they are seen: a small function, made once,
that unpacks the dict's values and joins them with the key texts in one step, each value written
inline the way its type was the time the writer was made. It checks each value's type as it goes
(a value of another type is written the general way), so it writes any dict with those keys.

:func:`dumps_lines` writes values one per line instead, compactly (the reach JSON's groups).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from json.encoder import encode_basestring_ascii as _string

_WRITER_KEYS_MAX = 64  # a dict with more keys is written the general way (a writer has a line per key)
_SHAPES_MAX = 512  # shapes remembered; past it the memory starts over (a design's dicts keyed by names)

_Writer = Callable[[dict], str]
_writers: dict[tuple[str, tuple], _Writer] = {}  # (pad, keys) -> its writer
_seen: set[tuple[str, tuple]] = set()  # (pad, keys) seen before
_brackets: dict[str, tuple[str, str, str]] = {}  # pad -> a list's opening, separator and closing


def dumps_indented(value: object, depth: int = 0) -> str:
    """``json.dumps(value, indent=1)`` with every line after the first indented by ``depth`` more spaces."""
    pad = "\n" + " " * (depth + 1)
    return _dict(value, pad) if type(value) is dict else _text(value, pad)


def _text(value: object, pad: str) -> str:
    """``value`` as json writes it; ``pad``: a newline and the indent of the value's own items."""
    if isinstance(value, dict):
        return _dict(value, pad)
    if isinstance(value, (list, tuple)):
        return _list(value, pad)
    if isinstance(value, str):  # str subclasses (enums) as their text
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    return json.dumps(value)  # floats and anything else: as json writes it


def _dict(value: dict, pad: str) -> str:
    if not value:
        return "{}"
    if type(value) is dict and len(value) <= _WRITER_KEYS_MAX:
        shape = (pad, tuple(value))
        write = _writers.get(shape) or _writer(shape, value)
        if write is not None:
            return write(value)
    inner = pad + " "
    items = [_key(k) + ": " + _text(v, inner) for k, v in value.items()]
    return "{" + pad + ("," + pad).join(items) + pad[:-1] + "}"


def _list(value: list | tuple, pad: str) -> str:
    if not value:
        return "[]"
    brackets = _brackets.get(pad)
    if brackets is None:
        brackets = _brackets[pad] = ("[" + pad, "," + pad, pad[:-1] + "]")
    opening, separator, closing = brackets
    first = value[0]
    if isinstance(first, str):
        try:  # strings only (the C encoder refuses anything else)
            return opening + separator.join(map(_string, value)) + closing
        except TypeError:
            pass
    inner = pad + " "
    if type(first) is dict and first:  # dicts alike (the reach JSON's class counts): one writer for all
        keys = tuple(first)
        write = _writers.get((inner, keys))
        if write is not None:
            texts = [write(v) if type(v) is dict and tuple(v) == keys else _text(v, inner) for v in value]
            return opening + separator.join(texts) + closing
    return opening + separator.join([_dict(v, inner) if type(v) is dict else _text(v, inner) for v in value]) + closing


def _key(k: object) -> str:
    if isinstance(k, str):
        return _string(k)
    return _string(next(iter(json.loads(json.dumps({k: 0})))))  # numbers, booleans, None: as json does


# A writer's expression for a value of the type the dict's value had when the writer was made
# (checked; any other value, None aside, goes through _text). ``s``: the string encoder, ``i``:
# int.__repr__, ``l``/``d``: _list/_dict, ``inner``: the pad of the value's own items.
_FAST: dict[type, str] = {
    type(None): "'null'",
    bool: "('true' if {a} else 'false')",
    list: "l({a}, inner)",
    tuple: "l({a}, inner)",
    dict: "d({a}, inner)",
}


def _fast(kind: type) -> str:
    if kind in _FAST:
        return _FAST[kind]
    if issubclass(kind, str):
        return "s({a})"  # str subclasses (enums) as their text
    if issubclass(kind, int):  # bool is in _FAST
        return "i({a})"
    return "t({a}, inner)"  # floats and anything else


def _writer(shape: tuple[str, tuple], value: dict) -> _Writer | None:
    """The writer of dicts of ``shape`` (pad, keys), made after ``value``; None the first time a
    shape is seen (most one-off dicts never come again) and for keys other than str.

    For ``{"port": 80, "name": None}`` it is, with ``c0``..``c2`` the texts around the values and
    ``k0``, ``k1`` the types int and NoneType::

        def write(v):
            a0, a1, = v.values()
            return ''.join((c0, (i(a0) if type(a0) is k0 else 'null' if a0 is None else t(a0, inner)),
                            c1, ('null' if type(a1) is k1 else 'null' if a1 is None else t(a1, inner)), c2))
    """
    pad, keys = shape
    if shape not in _seen:
        if len(_seen) >= _SHAPES_MAX:
            _seen.clear()
        _seen.add(shape)
        return None
    if any(type(k) is not str for k in keys):  # json writes 1 and True apart, a dict key takes them as equal
        return None
    texts, kinds, parts = [], [], []  # the text before each value (and the closing); each value's type; the join's parts
    before = "{" + pad
    for n, (k, v) in enumerate(value.items()):
        texts.append(before + _string(k) + ": ")
        kinds.append(type(v))
        fast = _fast(type(v)).format(a=f"a{n}")
        parts.append(f"c{n}, ({fast} if type(a{n}) is k{n} else 'null' if a{n} is None else t(a{n}, inner))")
        before = "," + pad
    texts.append(pad[:-1] + "}")
    count = len(keys)
    arguments = ", ".join([f"c{n}" for n in range(count + 1)] + [f"k{n}" for n in range(count)])
    source = (f"def make(s, i, t, l, d, inner, {arguments}):\n"
              f"    def write(v):\n"
              f"        {', '.join(f'a{n}' for n in range(count))}, = v.values()\n"
              f"        return ''.join(({', '.join(parts)}, c{count}))\n"
              f"    return write\n")
    made: dict[str, Callable[..., _Writer]] = {}
    exec(source, made)  # the source holds names only: the keys' texts and the types come in as arguments
    write = made["make"](_string, int.__repr__, _text, _list, _dict, pad + " ", *texts, *kinds)
    if len(_writers) >= _SHAPES_MAX:
        _writers.clear()
    _writers[shape] = write
    return write


def dumps_lines(values: Iterable[object]) -> list[bytes]:
    """Each value as JSON on one line, in UTF-8, without spaces (orjson: several times faster than
    the standard library at the sizes of the reach JSON's groups; imported here, where it is used,
    not by every command). Text holding a lone surrogate, which UTF-8 cannot carry, is written as
    the standard library writes it (``\\udXXX`` escapes)."""
    import orjson

    def line(value: object) -> bytes:
        try:
            return orjson.dumps(value)
        except orjson.JSONEncodeError:
            return json.dumps(value, separators=(",", ":")).encode()

    return [line(v) for v in values]
