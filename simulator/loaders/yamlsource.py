"""Safe YAML reading that remembers where every key and value was written.

:func:`read_yaml` turns text into plain Python values (dict, list, str, int, float,
bool, None) plus a :class:`Doc` that maps each value's path to its
:class:`~simulator.model.Location`.  It never executes tags, resolves scalars with the
YAML 1.2 core schema (as docker compose does: ``22:22`` and ``on`` stay strings), refuses
duplicate keys, nesting deeper than :data:`MAX_DEPTH` and aliases that expand beyond
:data:`MAX_VALUES`, and raises only :class:`~simulator.errors.DesignLoadError`.

:class:`Report` collects :class:`~simulator.errors.Problem` values against those paths.
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network
from typing import NoReturn

import yaml

from ..errors import DesignLoadError, Problem
from ..model import Location, location_at
from ..printable import printable

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000  # YAML nodes as written
MAX_VALUES = 200_000  # values after expanding aliases and merge keys (<<)
MAX_NUMBER_CHARS = 64  # an integer written with more characters than this is refused (no field needs one)
MAX_SHOWN = 60  # characters of a value echoed in a message
MAX_LABELS = 1000  # labels of one object
MAX_LABEL_KEY = 255
MAX_LABEL_VALUE = 4096
MAX_IFNAME = 15  # Linux interface names: IFNAMSIZ (16) less the terminating NUL

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path = tuple  # of str keys and int indices

# YAML 1.2 core schema
_NULL = re.compile(r"^(?:~|null|Null|NULL|)\Z")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT10 = re.compile(r"^[-+]?[0-9]+\Z")
_INT8 = re.compile(r"^0o[0-7]+\Z")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)\Z")
_STD = "tag:yaml.org,2002:"
_NUMBER_START = re.compile(r"[-+]?(?:0[ox])?[0-9a-fA-F]")


def format_path(path: Iterable[object]) -> str:
    """``("services", "web", "ports", 0)`` → ``services.web.ports[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


MAX_HINTS = 50  # "did you mean" searches per design: each costs up to milliseconds with many names
MAX_HINT_CANDIDATES = 500
_hints_left: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("netsim_hints", default=None)


@contextlib.contextmanager
def hint_budget(count: int = MAX_HINTS):
    """Within this block at most ``count`` "did you mean" searches run; later ones give no hint, so a
    design with thousands of misspelt names cannot make loading quadratic."""
    token = _hints_left.set([count])
    try:
        yield
    finally:
        _hints_left.reset(token)


def did_you_mean(word: object, candidates: Iterable[str]) -> str:
    """`` (did you mean "x"?)`` when a candidate is close to ``word``, else ``""``."""
    if not isinstance(word, str) or len(word) > 100:
        return ""
    left = _hints_left.get()
    if left is not None:
        if left[0] <= 0:
            return ""
        left[0] -= 1
    pool = sorted(set(candidates))
    if len(pool) > MAX_HINT_CANDIDATES:  # keep the likely ones: similar length, same first letter
        pool = [c for c in pool if abs(len(c) - len(word)) <= 2 and c[:1].lower() == word[:1].lower()]
        pool = pool[:MAX_HINT_CANDIDATES]
    close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def shown(value: object, limit: int = MAX_SHOWN) -> str:
    """``value`` as text for a message: one line (control characters escaped), at most ``limit`` characters."""
    text = value if isinstance(value, str) else str(value) if not isinstance(value, int) else _int_text(value)
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _int_text(value: int) -> str:
    if value.bit_length() > 200:  # str() of a huge int is slow or refused (sys.get_int_max_str_digits)
        return f"a {value.bit_length()}-bit integer"
    return str(value)



def describe(value: object) -> str:
    """A short description of a value for messages: ``a list``, ``the string "x"``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {shown(value)}"
    if isinstance(value, str):
        return f'the string "{shown(value)}"'
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


class _Reset:
    """Compose's ``!reset`` tag: the key is dropped as if it were not written."""


_RESET = _Reset()


class _Node:
    __slots__ = ("col", "kind", "line", "plain", "tag", "value")

    def __init__(self, kind: str, value, tag, plain: bool, mark) -> None:
        self.kind, self.value, self.tag, self.plain = kind, value, tag, plain
        self.line, self.col = mark.line + 1, mark.column + 1


@dataclass
class Doc:
    """Parsed YAML: ``data`` and where each path was written."""

    data: object
    source: str
    values: dict = field(default_factory=dict)  # path -> Location of the value
    keys: dict = field(default_factory=dict)  # path -> Location of the mapping key
    raw: dict = field(default_factory=dict)  # path -> scalar text as written
    tags: dict = field(default_factory=dict)  # path -> "!reset" / "!override" (compose merge tags)
    # set by loaders.compose_project when a compose project was assembled from this document:
    assembled: bool = False  # interpolated, files merged, extends/include/profiles applied
    pending: list = field(default_factory=list)  # Problems found while assembling (each at its own file)
    project_name: str | None = None  # the project's name when not the file's `name:` (COMPOSE_PROJECT_NAME)
    project_dir: str | None = None  # the project directory (its name is the default project name)

    def loc(self, path: Path) -> Location | None:
        """Where the value at ``path`` (or its nearest ancestor) was written."""
        path = tuple(path)
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return None

    def key_loc(self, path: Path) -> Location | None:
        """Where the key of ``path`` was written (the value's place for list items)."""
        return self.keys.get(tuple(path)) or self.loc(path)

    def text(self, path: Path, value: object) -> str:
        """A scalar as the user wrote it (``20.10`` stays ``"20.10"``)."""
        raw = self.raw.get(tuple(path))
        if raw is not None and not isinstance(value, str):
            return raw
        if isinstance(value, bool):
            return str(value).lower()
        return "" if value is None else str(value)


class Report:
    """Problems found while loading, each tied to a path of the document."""

    def __init__(self, doc: Doc):
        self.doc = doc
        self.problems: list[Problem] = []
        self.limits: dict[str, int] = {}  # running totals of the loader's budgets (ports.PortBudget)

    def _add(self, path, message, severity, key, location=None):
        path = tuple(path)
        if location is None:
            location = self.doc.key_loc(path) if key else self.doc.loc(path)
        self.problems.append(Problem(message, format_path(path), location, severity))

    def error(self, path: Path, message: str, *, key: bool = False) -> None:
        self._add(path, message, "error", key)

    def warning(self, path: Path, message: str, *, key: bool = False) -> None:
        self._add(path, message, "warning", key)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def read_bytes(path, what: str = "file") -> bytes:
    """A file's bytes (at most one past the size limit, which decode() then refuses), or a DesignLoadError."""
    try:
        with open(path, "rb") as fh:
            return fh.read(MAX_BYTES + 1)
    except OSError as exc:
        _fail(str(path), 1, 1, f"cannot read the {what}: {exc.strerror or exc}")
    raise AssertionError("unreachable")  # pragma: no cover


def decode(data: bytes, source: str) -> str:
    """UTF-8 (or BOM-marked UTF-16) bytes to text, or a DesignLoadError naming the byte.

    UTF-32 (and UTF-16 without a byte order mark) is refused as such, not as "not UTF-8".
    """
    if len(data) > MAX_BYTES:
        _fail(source, 1, 1, f"file is larger than {MAX_BYTES // (1024 * 1024)} MB; netsim reads designs up to that size")
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        _fail(source, 1, 1, "file is UTF-32 text (it starts with a UTF-32 byte order mark); UTF-32 is not supported, "
              "save it as UTF-8")
    width = _wide_encoding(data)
    if width:
        _fail(source, 1, 1, f"file looks like {width} text without a byte order mark (ASCII letters with NUL bytes "
              f"between them); {width} is not supported, save it as UTF-8")
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            try:
                return data.decode("utf-16")
            except UnicodeDecodeError as exc:
                half = "an odd number of bytes (truncated?)" if len(data) % 2 else f"a broken character at byte {exc.start}"
                _fail(source, 1, 1, f"file starts with a UTF-16 byte order mark but is not valid UTF-16 ({half}); "
                      "save it as UTF-8")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        byte = data[start : start + 1].hex()
        _fail(source, line, column, f"file is not UTF-8 text (byte 0x{byte}); save it as UTF-8")
    raise AssertionError("unreachable")  # pragma: no cover


def _wide_encoding(data: bytes) -> str | None:
    """"UTF-32"/"UTF-16" when the first bytes are ASCII text interleaved with NULs, else None."""
    head = data[:64]
    if len(head) < 4 or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    quads = len(head) // 4 * 4
    for first in range(4):
        if all(head[i] == 0 for i in range(quads) if i % 4 != first) and any(head[first:quads:4]):
            return "UTF-32"
    pairs = len(head) // 2 * 2
    for first in range(2):
        if all(head[i] == 0 for i in range(pairs) if i % 2 != first) and all(head[first:pairs:2]):
            return "UTF-16"
    return None


def _position_of(problem: Problem) -> tuple[int, int]:
    """Where a problem is written (a problem without a place sorts first)."""
    return (problem.location.line, problem.location.column) if problem.location is not None else (0, 0)


def _fail(source: str, line: int, column: int, message: str) -> NoReturn:
    raise DesignLoadError([Problem(message, "", Location(source, line, column))])


def _position(text: str, index: int) -> tuple[int, int]:
    index = max(0, min(index, len(text)))
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def read_yaml(text: str | bytes, source: str = "<string>") -> Doc:
    """Parse one YAML document into a :class:`Doc`; raise DesignLoadError on any problem."""
    if isinstance(text, bytes):
        text = decode(text, source)
    if len(text) > MAX_BYTES:
        _fail(source, 1, 1, f"text is larger than {MAX_BYTES // (1024 * 1024)} MB; netsim reads designs up to that size")
    try:
        return _build(text, source)
    except DesignLoadError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        context = f" ({exc.context})" if exc.context else ""
        if col > 1024 and "mapping values are not allowed" in str(exc.problem):
            context += "; a key longer than 1024 characters is not a YAML key (and no name is that long)"
        _fail(source, line, col, f"YAML syntax error: {exc.problem}{context}")
    except yaml.reader.ReaderError as exc:
        line, col = _position(text, exc.position)
        _fail(source, line, col, f"YAML cannot contain this character ({exc.reason}); remove it")
    except yaml.YAMLError as exc:
        _fail(source, 1, 1, f"YAML error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    except (RecursionError, MemoryError):
        _fail(source, 1, 1, "the YAML is nested or repeated too deeply to read")
    raise AssertionError("unreachable")  # pragma: no cover


class _Unusual(Exception):
    """The one-pass reading met something only the full reading handles (or reports)."""


_AWAIT_KEY = object()  # a mapping frame waiting for its next key


def _read_plain(text: str, source: str) -> Doc | None:
    """The document read in one pass from parser events to values, for the common document: one
    document, no anchors, aliases, tags, merge keys or duplicate keys, within the limits. None for
    any other (and for any YAML error): :func:`_build` and :class:`_Converter` then read it and
    report what is wrong. Both readings give the same :class:`Doc` (values, locations, raw text)."""
    try:
        return _plain_pass(text, source)
    except (_Unusual, yaml.YAMLError):
        return None


def _plain_pass(text: str, source: str) -> Doc:
    """The one-pass reading (:func:`_read_plain`): scalars first (most events are), the open mapping or
    list kept in locals rather than read from the stack at each event."""
    doc = Doc(None, source)
    values, keys, raw = doc.values, doc.keys, doc.raw
    resolved: dict[str, object] = {}
    # a frame: [container, its path, the key awaiting its value (or _AWAIT_KEY), that key's path]; lists: key None
    stack: list[list] = []
    root: list = []
    frame: list | None = None  # the innermost open mapping or list (stack[-1]) and its container
    container: dict | list | None = None
    count = documents = 0
    scalar_event, mapping_start, sequence_start = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    skipped = (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)
    await_key = _AWAIT_KEY
    get_event = _Loader(text).get_event
    while (ev := get_event()) is not None:
        kind = type(ev)
        if kind is scalar_event:
            count += 1
            if count > MAX_NODES or ev.anchor is not None or ev.tag is not None:
                raise _Unusual
            mark = ev.start_mark
            loc = location_at(source, mark.line + 1, mark.column + 1)
            value = ev.value
            if frame is not None:
                key = frame[2]
                if key is await_key:  # this scalar is a mapping key
                    if value in container or (value == "<<" and ev.style in (None, "") and ev.implicit[0]):  # type: ignore[operator]
                        raise _Unusual
                    frame[2] = value
                    frame[3] = path = (*frame[1], value)
                    keys[path] = loc
                    continue
                path = frame[3] if key is not None else (*frame[1], len(container))  # type: ignore[arg-type]
            elif root:
                raise _Unusual
            else:
                key, path = None, ()
            values[path] = loc
            if ev.style in (None, "") and ev.implicit[0]:  # plain: resolved under the YAML 1.2 core schema
                raw[path] = value
                if len(value) > MAX_NUMBER_CHARS:
                    raise _Unusual
                found = resolved.get(value, await_key)
                if found is await_key:
                    found = resolved[value] = _resolve(value)
                value = found
            if frame is None:
                root.append(value)
            elif key is None:
                container.append(value)  # type: ignore[union-attr]
            else:
                container[key] = value  # type: ignore[index]
                frame[2] = await_key
            continue
        if kind is mapping_end or kind is sequence_end:
            stack.pop()
            frame = stack[-1] if stack else None
            container = frame[0] if frame is not None else None
            continue
        if kind is mapping_start or kind is sequence_start:
            count += 1
            if count > MAX_NODES or ev.anchor is not None or ev.tag is not None:
                raise _Unusual
            mark = ev.start_mark
            if frame is not None:
                key = frame[2]
                if key is await_key:  # a mapping or list as a key
                    raise _Unusual
                path = frame[3] if key is not None else (*frame[1], len(container))  # type: ignore[arg-type]
            elif root:
                raise _Unusual
            else:
                key, path = None, ()
            values[path] = location_at(source, mark.line + 1, mark.column + 1)
            value = {} if kind is mapping_start else []
            if frame is None:
                root.append(value)
            elif key is None:
                container.append(value)  # type: ignore[union-attr]
            else:
                container[key] = value  # type: ignore[index]
                frame[2] = await_key
            frame = [value, path, await_key if kind is mapping_start else None, None]
            container = value
            stack.append(frame)
            if len(stack) > MAX_DEPTH:
                raise _Unusual
            continue
        if kind in skipped:
            continue
        if kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Unusual
            continue
        raise _Unusual  # an alias (or an event this reading does not know)
    if len(root) != 1 or stack:
        raise _Unusual
    doc.data = root[0]
    return doc


def _build(text: str, source: str) -> Doc:
    """The document: in one pass when it is plain (:func:`_read_plain`), else through a tree of nodes
    (:func:`_nodes`) converted to values (:class:`_Converter`), which reports what is wrong."""
    fast = _read_plain(text, source)
    if fast is not None:
        return fast
    root = _nodes(text, source)
    doc = Doc(None, source)
    if root is None:
        _fail(source, 1, 1, "the file is empty; a design needs at least a name (or compose services)")
    converter = _Converter(doc)
    doc.data = converter.convert(root, ())
    if converter.duplicates:
        raise DesignLoadError(sorted(converter.duplicates, key=_position_of))
    return doc


def _nodes(text: str, source: str) -> _Node | None:
    """Events → node tree without expanding aliases; anchors map to shared nodes."""
    anchors: dict[str, _Node] = {}
    stack: list[tuple[_Node, str | None]] = []
    root: _Node | None = None
    documents = 0
    count = 0

    def add(node: _Node) -> None:
        nonlocal root
        if stack:
            stack[-1][0].value.append(node)
        else:
            root = node

    for ev in yaml.parse(text, Loader=_Loader):
        mark = ev.start_mark
        assert mark is not None  # the parser marks every event
        if isinstance(ev, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                _fail(source, mark.line + 1, mark.column + 1,
                      "more than one YAML document (---) in the file; put the design in one document")
            continue
        if isinstance(ev, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
            continue
        count += 1
        if count > MAX_NODES:
            _fail(source, mark.line + 1, mark.column + 1, f"more than {MAX_NODES} YAML values; the design is too large")
        if isinstance(ev, yaml.AliasEvent):
            target = anchors.get(ev.anchor) if ev.anchor is not None else None
            if target is None:
                _fail(source, mark.line + 1, mark.column + 1,
                      f'alias "*{ev.anchor}" refers to no anchor defined before it (anchors are written "&{ev.anchor}")')
            add(target)
        elif isinstance(ev, yaml.ScalarEvent):
            plain = ev.style in (None, "") and bool(ev.implicit[0])
            node = _Node("scalar", ev.value, ev.tag, plain, mark)
            if ev.anchor is not None:
                anchors[ev.anchor] = node
            add(node)
        elif isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            kind = "seq" if isinstance(ev, yaml.SequenceStartEvent) else "map"
            node = _Node(kind, [], ev.tag, False, mark)
            add(node)
            stack.append((node, ev.anchor))
            if len(stack) > MAX_DEPTH:
                _fail(source, mark.line + 1, mark.column + 1, f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            node, anchor = stack.pop()
            if anchor is not None:
                anchors[anchor] = node
    return root


class _Converter:
    """Node tree → plain values, recording locations; counts values to stop alias bombs."""

    def __init__(self, doc: Doc):
        self.doc = doc
        self.count = 0
        self.duplicates: list[Problem] = []

    def fail(self, node: _Node, message: str) -> NoReturn:
        _fail(self.doc.source, node.line, node.col, message)

    def tick(self, node: _Node, amount: int = 1) -> None:
        """Count values read (aliases and merge keys expanded); refuse past :data:`MAX_VALUES`."""
        self.count += amount
        if self.count > MAX_VALUES:
            self.fail(node, f"YAML aliases expand to more than {MAX_VALUES} values (merge keys << counted); "
                      "refusing (alias bomb?)")

    def convert(self, node: _Node, path: Path, depth: int = 0):
        self.tick(node)
        if depth > MAX_DEPTH:
            self.fail(node, f"nested more than {MAX_DEPTH} levels deep (counting aliases)")
        self.doc.values[path] = Location(self.doc.source, node.line, node.col)
        tag = node.tag
        if tag in ("!override", "!reset"):
            self.doc.tags[path] = tag
            if tag == "!reset":
                return _RESET
            tag = None
        if node.kind == "scalar":
            if node.plain or tag is not None:
                self.doc.raw[path] = node.value
            return self.scalar(node, tag)
        if tag is not None and tag not in (_STD + "map", _STD + "seq"):
            self.fail(node, f'YAML tag "{tag}" is not supported here')
        if node.kind == "seq":
            if tag == _STD + "map":
                self.fail(node, "tagged !!map but written as a list")
            out: list = []
            for item in node.value:
                value = self.convert(item, (*path, len(out)), depth + 1)
                if value is not _RESET:
                    out.append(value)
            return out
        if tag == _STD + "seq":
            self.fail(node, "tagged !!seq but written as a mapping")
        return self.mapping(node, path, depth)

    def mapping(self, node: _Node, path: Path, depth: int) -> dict:
        explicit: list[tuple[_Node, _Node]] = []
        merges: list[_Node] = []
        where: dict[str, int] = {}
        items = node.value
        for i in range(0, len(items) - 1, 2):
            knode, vnode = items[i], items[i + 1]
            if knode.kind != "scalar":
                self.fail(knode, "mapping keys must be plain strings, not a list or mapping")
            if knode.value == "<<" and knode.plain:
                merges.append(vnode)
                continue
            if knode.value in where:  # reported, reading goes on to find every duplicate
                self.duplicates.append(Problem(
                    f'duplicate key "{knode.value}" (first written at line {where[knode.value]}); keep one',
                    "", Location(self.doc.source, knode.line, knode.col)))
                continue
            where[knode.value] = knode.line
            explicit.append((knode, vnode))
        merged: dict = {}
        for merge in merges:  # earlier merge sources win over later ones
            if depth > MAX_DEPTH:
                self.fail(merge, f"nested more than {MAX_DEPTH} levels deep (counting merge keys)")
            for src in merge.value if merge.kind == "seq" else [merge]:
                self.tick(src)  # each merge source is read again, like an alias: count it
                if src.kind != "map":
                    self.fail(merge, "a merge key (<<) takes a mapping or a list of mappings")
                sub = self.mapping(src, path, depth + 1)
                self.tick(src, len(sub))
                for key, value in sub.items():
                    merged.setdefault(key, value)
        out: dict = {}
        for knode, vnode in explicit:  # explicit keys win over merged ones
            key_path = (*path, knode.value)
            self.doc.keys[key_path] = Location(self.doc.source, knode.line, knode.col)
            value = self.convert(vnode, key_path, depth + 1)
            merged.pop(knode.value, None)
            if value is not _RESET:
                out[knode.value] = value
        out.update(merged)
        return out

    def scalar(self, node: _Node, tag: str | None):
        text = node.value
        if (node.plain or tag is not None) and len(text) > MAX_NUMBER_CHARS and _NUMBER_START.match(text) \
                and (_INT10.match(text) or _INT8.match(text) or _INT16.match(text)):
            self.fail(node, f"this number has {len(text)} characters; no field takes a number longer than "
                      f"{MAX_NUMBER_CHARS} (quote it if it is a name)")
        if tag is None:
            return _resolve(text) if node.plain else text
        if tag in ("!", _STD + "str"):
            return text
        kind = tag[len(_STD):] if tag.startswith(_STD) else None
        value = _resolve(text)
        if kind == "null" and value is None:
            return None
        if kind == "bool" and isinstance(value, bool):
            return value
        if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if kind in ("null", "bool", "int", "float"):
            self.fail(node, f'"{shown(text)}" cannot be read as !!{kind}')
        self.fail(node, f'YAML tag "{tag}" is not supported (netsim reads plain data only)')
        return None  # pragma: no cover


def _resolve(text: str):
    """A plain scalar under the YAML 1.2 core schema."""
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    try:
        if _INT10.match(text):
            return int(text)
        if _INT8.match(text):
            return int(text[2:], 8)
        if _INT16.match(text):
            return int(text[2:], 16)
    except ValueError:  # more digits than Python converts
        return text
    if _FLOAT.match(text):
        value = float(text)
        return value if math.isfinite(value) else text
    if _INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.match(text):
        return float("nan")
    return text


# --- typed values ------------------------------------------------------------------------
# The converters read values the JSON Schema has already checked (the design schema, or the
# compose-spec): the schema is the one source of type and shape errors.  A value of a JSON type
# the schema refuses comes back as None (absent) without a second report; a converter reports
# only what the schema cannot say: an address that does not parse, host bits, a range or a
# string form the schema does not state (each caller passes what its schema leaves open).

_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def to_str(report: Report, path: Path, value: object) -> str | None:
    """A string (a number as written: ``20.10`` stays "20.10"); another type is the schema's to report."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return report.doc.text(path, value)
    return None


def to_bool(report: Report, path: Path, value: object, *, strings: bool = False) -> bool | None:
    """true/false; with ``strings`` (a schema that also takes strings) Go's ParseBool strings
    ("true", "1", "f", ...), any other string reported here."""
    if isinstance(value, bool):
        return value
    if strings and isinstance(value, str):
        if value in _TRUE + _FALSE:
            return value in _TRUE
        report.error(path, f"expected true or false, not {describe(value)}")
    return None


def to_int(report: Report, path: Path, value: object, low: int, high: int, what: str = "a number", *,
           schema_range: bool = False, strings: bool = False, fractions: bool = False) -> int | None:
    """An integer from ``low`` to ``high``; outside it None, reported here unless the schema states
    the range (``schema_range``).  Where the schema also takes strings (``strings``) a digit string
    is read and another string reported here; where it takes any number (``fractions``) a fraction is."""
    if strings and isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,9}", value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if low <= value <= high:
            return value
        if not schema_range:
            report.error(path, f"{shown(value)} is out of range: {what} is {low}-{high}")
        return None
    if (strings and isinstance(value, str)) or (fractions and isinstance(value, float)):
        report.error(path, f"expected {what} ({low}-{high}), not {describe(value)}")
    return None


def to_cidr(report: Report, path: Path, value: object) -> IPv4Network | None:
    """An IPv4 network from a string; host bits set is an error naming the network meant."""
    if not isinstance(value, str):
        return None
    try:
        if "/" not in value:
            raise ValueError(value)
        net = IPv4Network(value, strict=False)
    except ValueError:
        report.error(path, f"{_q(value)} is not a CIDR block (e.g. 10.0.0.0/24)")
        return None
    if str(net) != value:
        report.error(path, f'"{shown(value)}" has host bits set; the network is {net}')
        return None
    return net


def to_ip(report: Report, path: Path, value: object) -> IPv4Address | None:
    """An IPv4 address from a string."""
    if not isinstance(value, str):
        return None
    try:
        return IPv4Address(value)
    except ValueError:
        report.error(path, f"{_q(value)} is not an IPv4 address (e.g. 172.20.0.1)")
    return None


def to_iface(report: Report, path: Path, value: object) -> IPv4Interface | None:
    """A host address with its prefix from a string, e.g. 192.168.1.10/24."""
    if not isinstance(value, str):
        return None
    try:
        if "/" in value:
            iface = IPv4Interface(value)
            net = iface.network
            if net.prefixlen < 31 and iface.ip in (net.network_address, net.broadcast_address):
                report.error(path, f'"{shown(value)}" is the network or broadcast address of {net}; '
                             f"use a host address such as {net.network_address + 1}/{net.prefixlen}")
                return None
            return iface
    except ValueError:
        pass
    report.error(path, f"{_q(value)} is not an address with prefix (e.g. 192.168.1.10/24)")
    return None


def to_cidr6(report: Report, path: Path, value: object) -> IPv6Network | None:
    """An IPv6 network from a string; host bits set is an error naming the network meant (the
    engine's "invalid subnet X: it should be Y", api/types/network/ipam.go at v28.5.2)."""
    if not isinstance(value, str):
        return None
    try:
        if "/" not in value:
            raise ValueError(value)
        net = IPv6Network(value, strict=False)
    except ValueError:
        report.error(path, f"{_q(value)} is not an IPv6 CIDR block (e.g. fd00:db8:1::/64)")
        return None
    if net.network_address != IPv6Interface(value).ip:
        report.error(path, f'invalid subnet "{shown(value)}": it should be {net} (host bits are set)')
        return None
    return net


def to_ip6(report: Report, path: Path, value: object) -> IPv6Address | None:
    """An IPv6 address from a string."""
    if not isinstance(value, str):
        return None
    try:
        return IPv6Address(value)
    except ValueError:
        report.error(path, f"{_q(value)} is not an IPv6 address (e.g. fd00:db8:1::10)")
    return None


def to_iface6(report: Report, path: Path, value: object) -> IPv6Interface | None:
    """A host IPv6 address with its prefix from a string, e.g. 2001:db8:1::10/64."""
    if not isinstance(value, str):
        return None
    try:
        if "/" in value:
            iface = IPv6Interface(value)
            if iface.network.prefixlen < 127 and iface.ip == iface.network.network_address:
                report.error(path, f'"{shown(value)}" is the subnet-router anycast address of {iface.network}; '
                             f"use a host address such as {iface.network.network_address + 1}/{iface.network.prefixlen}")
                return None
            return iface
    except ValueError:
        pass
    report.error(path, f"{_q(value)} is not an IPv6 address with prefix (e.g. 2001:db8:1::10/64)")
    return None


def to_labels(report: Report, path: Path, value: object, *, lists: bool = False) -> tuple[tuple[str, str], ...]:
    """A mapping (with ``lists``, also compose's list of "key=value") → ordered (key, value) pairs.
    Values and items of a type the schema refuses are left out; the limits are checked here."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(item, (dict, list)):
                pairs.append((key, report.doc.text((*path, key), item)))
    elif lists and isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                key, _, text = item.partition("=")
                pairs.append((key, text))
    else:
        return ()
    if len(pairs) > MAX_LABELS:
        report.error(path, f"{len(pairs)} labels; netsim takes at most {MAX_LABELS} per object")
        return ()
    kept = []
    for i, (key, text) in enumerate(pairs):
        at = (*path, key) if isinstance(value, dict) else (*path, i)
        if len(key) > MAX_LABEL_KEY or len(text) > MAX_LABEL_VALUE:
            report.error(at, f'the label "{shown(key)}" is too long: keys take at most {MAX_LABEL_KEY} characters, '
                         f"values {MAX_LABEL_VALUE}")
        else:
            kept.append((key, text))
    return tuple(kept)


def _q(value: object) -> str:
    return f'"{shown(value)}"' if isinstance(value, str) else describe(value)
