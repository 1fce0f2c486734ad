"""The ports a Dockerfile's image exposes: its ``EXPOSE`` lines, resolved as a build would.

What is read, following the Dockerfile reference (https://docs.docker.com/reference/dockerfile/):

* parser directives at the top (``# escape=`` changes the line-continuation character), comments,
  continued lines, and here-documents (``RUN <<EOF`` ... ``EOF``), whose bodies are skipped;
* stages (``FROM [--platform=...] IMAGE [AS NAME]``): the build's ``target`` stage, or the last one;
  a stage built ``FROM`` an earlier stage inherits its exposed ports and its ``ENV``, as the image
  it builds on would; a stage built from another image inherits that image's ports, which the
  caller looks up (:attr:`DockerfilePorts.base_image`);
* variables in ``FROM`` (the ``ARG`` lines before the first ``FROM``) and in ``EXPOSE`` (the
  stage's ``ARG`` and ``ENV``; ``ENV`` wins over ``ARG`` of the same name), with the build
  arguments given (compose ``build.args``) replacing an ``ARG``'s default, ``$VAR``, ``${VAR}``,
  ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:+alt}``, ``${VAR+alt}`` and ``\\$`` for a literal
  dollar (https://docs.docker.com/reference/dockerfile/#environment-replacement);
* ``EXPOSE 80 443/tcp 53/udp 8000-8010`` (https://docs.docker.com/reference/dockerfile/#expose).

What cannot be resolved (a variable without a value, a target that is not a stage) is listed in
:attr:`DockerfilePorts.gaps`, each naming its line; nothing here raises on a bad file.  Pure: the
caller reads the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..model import Listener, ListenerOrigin, Protocol

__all__ = ["DockerfilePorts", "exposed_ports"]

MAX_STAGES = 256  # a Dockerfile with more stages is read up to here
MAX_RANGE = 1000  # ports in one EXPOSE range (as ports.MAX_RANGE)
MAX_PORTS = 2000  # ports one image exposes, ranges expanded (as ports.MAX_PER_CONTAINER)
_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9_]*)\s*=\s*(\S*)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PORT = re.compile(r"([0-9]{1,5})(?:-([0-9]{1,5}))?(?:/([A-Za-z]+))?")


@dataclass(frozen=True, slots=True)
class DockerfilePorts:
    """What a Dockerfile says about the ports of the image it builds.

    ``listeners``: the exposed ports of the chosen stage and the earlier stages it builds on (origin
    ``dockerfile``), each with the line of its EXPOSE in ``lines``; ``base_image``: the image the
    chain of stages starts from (None for ``scratch`` or when it cannot be resolved), whose own
    ports the image inherits; ``stage``: the stage chosen (its name or number); ``gaps``: what could
    not be resolved, one sentence each, naming the line."""

    listeners: tuple[Listener, ...]
    lines: tuple[int, ...]
    base_image: str | None
    stage: str
    gaps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Instruction:
    line: int  # 1-based line where the instruction starts
    keyword: str  # upper case
    rest: str  # the arguments, continuation lines joined


@dataclass
class _Stage:
    index: int
    name: str | None
    base: str  # FROM's image, variables substituted
    line: int
    body: list[_Instruction]


class _Unset(Exception):
    """A variable the expansion needs has no value."""


def exposed_ports(text: str, name: str = "Dockerfile", target: str | None = None,
                  build_args: Mapping[str, str | None] | None = None) -> DockerfilePorts:
    """The ports the image built from ``text`` (a Dockerfile called ``name`` in messages) exposes.

    ``target``: the stage to build (compose ``build.target``; None: the last); ``build_args``: the
    build arguments (None as a value: given without one, so the ARG has no value here)."""
    args = dict(build_args or {})
    instructions = _instructions(text)
    stages, global_args, gaps = _stages(instructions, args, name)
    if not stages:
        return DockerfilePorts((), (), None, "", (*gaps, f"{name}: no FROM line, so it builds no image"))
    if target is None:
        chosen = stages[-1]
    else:
        found = next((s for s in stages if s.name is not None and s.name.lower() == target.lower()), None)
        if found is None:
            names = ", ".join(s.name for s in stages if s.name) or "none"
            return DockerfilePorts((), (), None, target, (*gaps, f'{name}: no stage is named "{target}" '
                                                                 f"(its named stages: {names})"))
        chosen = found
    ports: dict[tuple[int, str], tuple[Listener, int]] = {}
    base, _env = _expose_chain(chosen, stages, global_args, args, name, ports, gaps, set())
    ordered = sorted(ports.values(), key=lambda item: (item[0].port, item[0].protocol.value))
    return DockerfilePorts(tuple(lst for lst, _ in ordered), tuple(line for _, line in ordered), base,
                           chosen.name or str(chosen.index), tuple(gaps))


# --- reading the file --------------------------------------------------------------------


def _instructions(text: str) -> list[_Instruction]:
    """Instructions with their first line, continuation lines joined, comments and here-document
    bodies left out, the ``escape`` parser directive honoured."""
    lines = text.splitlines()
    escape = "\\"
    i = 0
    while i < len(lines):  # parser directives: only at the very top, before any other line
        m = _DIRECTIVE.match(lines[i].strip())
        if not m:
            break
        if m.group(1).lower() == "escape" and m.group(2) in ("\\", "`"):
            escape = m.group(2)
        i += 1
    out: list[_Instruction] = []
    while i < len(lines):
        raw = lines[i].strip()
        if not raw or raw.startswith("#"):
            i += 1
            continue
        start, parts = i + 1, []
        while True:
            line = lines[i].rstrip()
            i += 1
            if line.endswith(escape) and not line.endswith(escape * 2):
                parts.append(line[:-1])
                while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith("#")):
                    i += 1  # comment and empty lines inside a continued instruction are dropped
                if i < len(lines):
                    continue
            else:
                parts.append(line)
            break
        joined = " ".join(p.strip() for p in parts)
        keyword, _, rest = joined.partition(" ")
        for m in _HEREDOC.finditer(rest):  # skip each here-document's body, up to its delimiter
            strip_tabs, word = m.group(1) == "-", m.group(3)
            while i < len(lines):
                body = lines[i].lstrip("\t") if strip_tabs else lines[i]
                i += 1
                if body.rstrip("\r") == word:
                    break
        out.append(_Instruction(start, keyword.upper(), rest.strip()))
    return out


def _stages(instructions: list[_Instruction], args: dict[str, str | None],
            name: str) -> tuple[list[_Stage], dict[str, str | None], list[str]]:
    """The stages, and the global ARGs (before the first FROM) that FROM lines may use."""
    global_args: dict[str, str | None] = {}
    stages: list[_Stage] = []
    gaps: list[str] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            if len(stages) >= MAX_STAGES:
                gaps.append(f"{name}:{ins.line}: more than {MAX_STAGES} stages; netsim reads the first {MAX_STAGES}")
                break
            words = [w for w in ins.rest.split() if not w.startswith("--")]
            image = words[0] if words else ""
            stage_name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            try:
                image = _expand(image, global_args)
            except _Unset as exc:
                gaps.append(f"{name}:{ins.line}: FROM {image}: {exc}")
                image = ""
            stages.append(_Stage(len(stages), stage_name, image, ins.line, []))
        elif not stages:
            if ins.keyword == "ARG":
                for key, default in _pairs(ins.rest, arg=True):
                    global_args[key] = args.get(key, default)
        else:
            stages[-1].body.append(ins)
    return stages, global_args, gaps


# --- one stage and the stages it builds on -----------------------------------------------


def _expose_chain(stage: _Stage, stages: list[_Stage], global_args: dict, args: dict, name: str,
                  ports: dict, gaps: list[str], seen: set[int]) -> tuple[str | None, dict[str, str | None]]:
    """Collect ``stage``'s exposed ports and those of the stages it builds on into ``ports``
    (the nearest declaration wins); return (the external base image or None, the ENV it ends with)."""
    seen.add(stage.index)
    parent = _parent(stage, stages)
    env: dict[str, str | None] = {}
    base: str | None = stage.base
    if parent is not None and parent.index not in seen:
        base, env = _expose_chain(parent, stages, global_args, args, name, ports, gaps, seen)
    elif parent is not None:
        gaps.append(f"{name}:{stage.line}: FROM {stage.base} forms a cycle of stages")
        base = None
    elif stage.base.lower() == "scratch" or not stage.base:
        base = None
    env = dict(env)
    variables: dict[str, str | None] = {}  # ARGs of this stage (their values), then ENV over them
    for ins in stage.body:
        if ins.keyword == "ARG":
            for key, default in _pairs(ins.rest, arg=True):
                variables[key] = args[key] if key in args else (default if default is not None else global_args.get(key))
        elif ins.keyword == "ENV":
            scope = {**variables, **env}
            for key, value in _pairs(ins.rest, arg=False):
                try:
                    env[key] = _expand(value or "", scope)
                except _Unset:
                    env[key] = None
                scope[key] = env[key]
        elif ins.keyword == "EXPOSE":
            _expose(ins, {**variables, **env}, name, ports, gaps)
    return base, env


def _parent(stage: _Stage, stages: list[_Stage]) -> _Stage | None:
    """The earlier stage ``stage`` is built FROM (by name or number), if its FROM names one."""
    ref = stage.base.lower()
    for other in stages[: stage.index]:
        if (other.name is not None and other.name.lower() == ref) or ref == str(other.index):
            return other
    return None


def _expose(ins: _Instruction, scope: dict[str, str | None], name: str, ports: dict, gaps: list[str]) -> None:
    for word in ins.rest.split():
        try:
            text = _expand(word, scope)
        except _Unset as exc:
            gaps.append(f"{name}:{ins.line}: EXPOSE {word}: {exc}")
            continue
        for item in text.split():
            m = _PORT.fullmatch(item)
            proto = (m.group(3) or "tcp").lower() if m else ""
            if not m or proto not in ("tcp", "udp", "sctp"):
                gaps.append(f'{name}:{ins.line}: EXPOSE "{item[:40]}" is not a port (80, 53/udp or 8000-8010/tcp)')
                continue
            first, last = int(m.group(1)), int(m.group(2) or m.group(1))
            if not 1 <= first <= last <= 65535 or last - first + 1 > MAX_RANGE:
                gaps.append(f'{name}:{ins.line}: EXPOSE "{item}" is not a port or range netsim reads '
                            f"(1-65535, at most {MAX_RANGE} ports in a range)")
                continue
            for port in range(first, last + 1):
                if len(ports) >= MAX_PORTS:
                    gaps.append(f"{name}:{ins.line}: more than {MAX_PORTS} exposed ports; netsim reads the first {MAX_PORTS}")
                    return
                ports[(port, proto)] = (Listener(port, Protocol(proto), ListenerOrigin.DOCKERFILE), ins.line)


# --- words and variables -----------------------------------------------------------------


def _pairs(rest: str, arg: bool) -> list[tuple[str, str | None]]:
    """``ARG a=1 b`` / ``ENV a=1 b="two words"`` / legacy ``ENV a value with spaces``."""
    words = _words(rest)
    if not words:
        return []
    if not arg and "=" not in words[0][0]:  # ENV key value: the rest of the line is the value
        key, _, value = rest.strip().partition(" ")
        return [(key, _unquote(value.strip()))] if _NAME.fullmatch(key) else []
    out: list[tuple[str, str | None]] = []
    for word, _ in words:
        key, eq, value = word.partition("=")
        if _NAME.fullmatch(key):
            out.append((key, _unquote(value) if eq else None))
    return out


def _words(rest: str) -> list[tuple[str, int]]:
    """Whitespace-separated words, quotes kept together ('a b' and "a b" are one word)."""
    out, current, quote, start = [], [], "", 0
    for i, ch in enumerate(rest):
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            current.append(ch)
        elif ch.isspace():
            if current:
                out.append(("".join(current), start))
                current = []
        else:
            if not current:
                start = i
            current.append(ch)
    if current:
        out.append(("".join(current), start))
    return out


def _unquote(value: str) -> str:
    out, quote, i = [], "", 0
    while i < len(value):
        ch = value[i]
        if quote and ch == quote:
            quote = ""
        elif not quote and ch in "\"'":
            quote = ch
        elif ch == "\\" and quote != "'" and i + 1 < len(value):
            i += 1
            out.append(value[i])
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _expand(word: str, scope: Mapping[str, str | None]) -> str:
    """``word`` with its variables replaced from ``scope``; raises _Unset naming a variable that has
    no value where one is needed."""
    out, i = [], 0
    while i < len(word):
        ch = word[i]
        if ch == "\\" and word[i + 1 : i + 2] == "$":
            out.append("$")
            i += 2
            continue
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        if word[i + 1 : i + 2] == "{":
            end = word.find("}", i + 2)
            if end < 0:
                raise _Unset(f'"{word[:60]}": "${{" is never closed')
            out.append(_braced(word[i + 2 : end], scope))
            i = end + 1
            continue
        m = _NAME.match(word, i + 1)
        if not m:
            out.append("$")
            i += 1
            continue
        out.append(_value(m.group(), scope))
        i = m.end()
    return "".join(out)


def _braced(inner: str, scope: Mapping[str, str | None]) -> str:
    m = _NAME.match(inner)
    if not m:
        raise _Unset(f'"${{{inner[:40]}}}" does not start with a variable name')
    key, rest = m.group(), inner[m.end():]
    value = scope.get(key)
    for op in (":-", "-", ":+", "+"):
        if rest.startswith(op):
            word = rest[len(op):]
            is_set = key in scope and value is not None
            empty = not value
            if op == ":-":
                return value if not empty and value is not None else word
            if op == "-":
                return value if is_set and value is not None else word
            if op == ":+":
                return word if not empty else ""
            return word if is_set else ""
    if rest:
        raise _Unset(f'"${{{inner[:40]}}}": netsim reads ${{VAR}}, ${{VAR:-default}} and ${{VAR:+alternative}}')
    return _value(key, scope)


def _value(key: str, scope: Mapping[str, str | None]) -> str:
    value = scope.get(key)
    if value is None:
        given = "is declared without a value" if key in scope else "is not declared (ARG or ENV)"
        raise _Unset(f"{key} {given}; pass it as a build argument (compose build.args)")
    return value
