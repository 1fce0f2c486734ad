"""A compose project as compose reads it: one document made of every file compose would read.

    doc = assemble(read_doc(text, "app/compose.yaml"), ProjectOptions(environment=os.environ))

From the design's document this builds the one document the compose loader reads
(:func:`simulator.loaders.compose.load`), the way ``docker compose`` builds its model
(compose specification: 12-interpolation.md, 13-merge.md, 14-include.md, 15-profiles.md and
05-services.md#extends, https://github.com/compose-spec/compose-spec):

1. **environment**: the project directory's ``.env`` (or the ``--env-file`` files instead),
   with the process environment taking precedence;
2. **files**: the design, then either the ``--file`` files or, when none is given and the
   design has one of compose's file names, the first ``compose.override.yml`` /
   ``compose.override.yaml`` / ``docker-compose.override.yml`` / ``docker-compose.override.yaml``
   beside it; each file is interpolated on its own (``${VAR}``, ``${VAR:-d}``, ``${VAR-d}``,
   ``${VAR:?e}``, ``${VAR?e}``, ``${VAR:+a}``, ``${VAR+a}``, ``$VAR``, ``$$``);
3. **extends** in each file (same file or ``file:``), then the files **merged** in order:
   mappings merged key by key, sequences appended (ports unique by address, published port,
   target and protocol; lists of names once each), ``command``/``entrypoint``/``healthcheck.test``
   replaced, ``!reset`` removes and ``!override`` replaces what the earlier files said;
4. **include**: each included project read the same way, with its own project directory and
   environment (its ``.env`` or ``env_file``, the including project's environment winning), and
   its resources added to the model (a name defined twice is an error);
5. **profiles**: services whose ``profiles`` are not active (``--profile``, else
   ``COMPOSE_PROFILES``) are left out, with a warning.

Every value keeps the place it was written (file, line, column), so a problem found later in
an included or extended file names that file.  Problems found here go to ``Doc.pending``.
"""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import ArgumentError, DesignLoadError, Problem
from ..model import Location
from .yamlsource import Doc, Report, decode, describe, did_you_mean, read_bytes, read_yaml, shown

DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = ("compose.override.yml", "compose.override.yaml", "docker-compose.override.yml",
                  "docker-compose.override.yaml")
INTENT_KEYS = ("expect", "audit")  # netsim's intent sections: not interpolated (as x-* keys)
REPLACED = ("command", "entrypoint", "test")  # sequences an override replaces (13-merge.md, "Shell commands")
MAPPABLE = ("networks", "labels", "environment", "depends_on", "annotations", "sysctls", "extra_hosts")
MAX_EXTENDS = 16  # extends chains deeper than this are refused
MAX_INCLUDE = 16  # include nesting deeper than this is refused
MAX_NESTING = 10  # ${...} inside ${...}
MAX_FILES = 64  # compose and env files one project reads (its own, included, extended)
_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ProjectOptions:
    """What ``docker compose``'s project options say (``-f``, ``--env-file``, ``--profile``,
    ``--project-directory``) and the environment it runs in."""

    files: tuple[str, ...] = ()  # more compose files, merged after the design in this order
    env_files: tuple[str, ...] = ()  # read instead of the project directory's .env
    profiles: tuple[str, ...] = ()  # active profiles (none given: COMPOSE_PROFILES)
    project_directory: str | None = None  # default: the design's directory
    environment: Mapping[str, str] = field(default_factory=dict)  # the process environment
    read_dotenv: bool = True  # read the project directory's .env
    read_override: bool = True  # read compose.override.* beside a design with a compose file name

    @property
    def given(self) -> bool:
        """Whether any compose project option was given (they apply to compose files only)."""
        return bool(self.files or self.env_files or self.profiles or self.project_directory)


#: What a library caller gets without options: the file alone, its defaults, no environment.
FILE_ONLY = ProjectOptions(read_dotenv=False, read_override=False)


# --- interpolation -----------------------------------------------------------------------


class _BadTemplate(Exception):
    pass


def interpolate(value: object, report: Report, path: tuple, env: Mapping[str, str],
                _memo: dict | None = None) -> object:
    """Substitute variables in every string value (in place for containers; keys are left alone,
    as are the top level's ``x-*`` and intent sections).  A long string reached many times through
    aliases is substituted once."""
    memo = {} if _memo is None else _memo
    if isinstance(value, dict):
        for key in list(value):
            if not (path == () and (key.startswith("x-") or key in INTENT_KEYS)):
                value[key] = interpolate(value[key], report, (*path, key), env, memo)
        return value
    if isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = interpolate(item, report, (*path, i), env, memo)
        return value
    if isinstance(value, str) and "$" in value:
        if len(value) > 256 and value in memo:
            return memo[value]
        try:
            result = _Substitution(report, path, env).run(value, 0)
        except _BadTemplate as exc:
            report.error(path, f'invalid interpolation format in "{shown(value)}": {exc}')
            result = value
        if len(value) > 256:
            memo[value] = result
        return result
    return value


_BRACES = re.compile(r"\$\{|\}")


class _Substitution:
    """One string's substitution; problems go to ``report`` at ``path``."""

    def __init__(self, report: Report | None, path: tuple, env: Mapping[str, str]):
        self.report, self.path, self.env = report, path, env
        self.unset: set[str] = set()  # variables already reported unset in this value (each said once)

    def run(self, text: str, depth: int) -> str:
        if depth > MAX_NESTING:
            raise _BadTemplate("variables nested too deeply")
        out, i = [], 0
        while i < len(text):
            dollar = text.find("$", i)
            if dollar < 0:
                out.append(text[i:])
                break
            out.append(text[i:dollar])
            i = dollar
            nxt = text[i + 1 : i + 2]
            if nxt == "$":
                out.append("$")
                i += 2
            elif nxt == "{":
                end = _closing(text, i + 2)
                out.append(self.braced(text[i + 2 : end], depth))
                i = end + 1
            elif m := _VAR.match(text, i + 1):
                out.append(self.lookup(m.group()))
                i = m.end()
            else:
                raise _BadTemplate('a "$" must start ${VAR} or $VAR; write $$ for a literal $')
        return "".join(out)

    def lookup(self, name: str) -> str:
        found = self.env.get(name)
        if found is None:
            if self.report is not None and name not in self.unset:
                self.unset.add(name)
                self.report.warning(self.path, f"variable {name} is not set, substituting an empty string (set it in "
                                    "the environment or the project's .env file, or give a default: ${" + name
                                    + ":-value})")
            return ""
        return found

    def braced(self, inner: str, depth: int) -> str:
        m = _VAR.match(inner)
        if not m:
            raise _BadTemplate(f'"${{{inner}}}" does not start with a variable name')
        name, rest = m.group(), inner[m.end():]
        if rest == "":
            return self.lookup(name)
        value = self.env.get(name)
        for op in (":-", "-", ":?", "?", ":+", "+"):
            if not rest.startswith(op):
                continue
            arg = rest[len(op):]
            missing = value is None or (op.startswith(":") and value == "")
            if op in (":-", "-"):
                return self.run(arg, depth + 1) if missing else str(value)
            if op in (":?", "?"):
                if missing:
                    if self.report is not None:
                        self.report.error(self.path, f"required variable {name} is missing a value: "
                                          f"{self.run(arg, depth + 1) or 'set it'} (set it in the environment or "
                                          "the project's .env file)")
                    return ""
                return str(value)
            return "" if missing else self.run(arg, depth + 1)
        raise _BadTemplate(f'"${{{inner}}}": use ${{{name}}}, ${{{name}:-default}}, ${{{name}:?message}} or '
                           f"${{{name}:+alternative}}")


def _closing(text: str, start: int) -> int:
    depth = 1
    for m in _BRACES.finditer(text, start):
        depth += 1 if m.group() == "${" else -1
        if depth == 0:
            return m.start()
    raise _BadTemplate('"${" is never closed with "}"')


# --- .env files --------------------------------------------------------------------------

_ENV_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*\Z")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "\\$"}


def read_env_file(path: str, lookup: Mapping[str, str], problems: list[Problem]) -> dict[str, str]:
    """``KEY=value`` lines of an env file (``export``, ``#`` comments, '' and "" quotes, ``${VAR}`` in
    unquoted and double-quoted values); a line of another shape is a problem at its line."""
    text = decode(read_bytes(path, "env file"), path)
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _ENV_LINE.match(line)
        if not m:
            problems.append(Problem(f'"{shown(line)}" is not a variable: write NAME=value', "",
                                    Location(path, number, 1)))
            continue
        name, raw = m.groups()
        scope = {**out, **lookup}
        if raw[:1] == "'" and raw.endswith("'") and len(raw) >= 2:
            value = raw[1:-1]
        elif raw[:1] == '"' and raw.endswith('"') and len(raw) >= 2:
            body = re.sub(r"\\(.)", lambda e: _ESCAPES.get(e.group(1), "\\" + e.group(1)), raw[1:-1])
            value = _expand(body, scope, path, number, problems)
        else:
            value = _expand(re.sub(r"\s+#.*\Z", "", raw), scope, path, number, problems)
        out[name] = value
    return out


def _expand(text: str, scope: Mapping[str, str], path: str, number: int, problems: list[Problem]) -> str:
    if "$" not in text:
        return text
    try:
        return _Substitution(None, (), scope).run(text.replace("\\$", "$$"), 0)
    except _BadTemplate as exc:
        problems.append(Problem(f"invalid interpolation format: {exc}", "", Location(path, number, 1)))
        return text


# --- values that remember their place ------------------------------------------------------


class _L:
    """A value with the document and path it was written at; mappings and lists hold _L items."""

    __slots__ = ("doc", "path", "value")

    def __init__(self, value: object, doc: Doc, path: tuple):
        self.value, self.doc, self.path = value, doc, path


def _located(doc: Doc, path: tuple, value: object) -> _L:
    if isinstance(value, dict):
        return _L({k: _located(doc, (*path, k), v) for k, v in value.items()}, doc, path)
    if isinstance(value, list):
        return _L([_located(doc, (*path, i), v) for i, v in enumerate(value)], doc, path)
    return _L(value, doc, path)


def _plain(node: _L) -> object:
    value = node.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _flatten(node: _L, out: Doc, path: tuple) -> object:
    """The plain value of ``node``, recording in ``out`` where each part was written."""
    loc = node.doc.values.get(node.path) or node.doc.loc(node.path)
    if loc is not None:
        out.values[path] = loc
    key = node.doc.keys.get(node.path)
    if key is not None:
        out.keys[path] = key
    raw = node.doc.raw.get(node.path)
    if raw is not None:
        out.raw[path] = raw
    value = node.value
    if isinstance(value, dict):
        return {k: _flatten(v, out, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_flatten(v, out, (*path, i)) for i, v in enumerate(value)]
    return value


# --- merging (13-merge.md) -------------------------------------------------------------------


class _Tags:
    """The ``!reset`` / ``!override`` tags of each document, by the path of what holds them."""

    def __init__(self) -> None:
        self._by_doc: dict[int, dict[tuple, dict[str, str]]] = {}

    def of(self, node: _L) -> dict[str, str]:
        """key -> tag of the keys written in the mapping ``node``."""
        index = self._by_doc.get(id(node.doc))
        if index is None:
            index = {}
            for path, tag in node.doc.tags.items():
                if path and isinstance(path[-1], str):
                    index.setdefault(path[:-1], {})[path[-1]] = tag
            self._by_doc[id(node.doc)] = index
        return index.get(node.path, {})


def _port_key(value: object) -> object:
    """What makes a port mapping unique (13-merge.md): address, published port, target, protocol."""
    if isinstance(value, dict):
        return (str(value.get("host_ip") or ""), str(value.get("published") or ""), str(value.get("target")),
                str(value.get("protocol") or "tcp"))
    text = str(value)
    text, _, protocol = text.partition("/")
    address = ""
    if text.startswith("["):
        address, _, text = text[1:].partition("]")
        text = text.lstrip(":")
    parts = text.rsplit(":", 2)
    if len(parts) == 3:
        address, parts = parts[0], parts[1:]
    published, target = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
    return (address, published, target, protocol or "tcp")


def _as_map(node: _L, key: str) -> _L:
    """A list of names (networks, depends_on) or of ``k=v`` (labels, environment) as a mapping."""
    if not isinstance(node.value, list):
        return node
    out: dict[str, _L] = {}
    for item in node.value:
        if not isinstance(item.value, str):
            continue
        if key in ("networks", "depends_on"):
            out[item.value] = _L(None, item.doc, item.path)
        else:
            name, eq, text = item.value.partition("=" if key != "extra_hosts" else ":")
            out[name] = _L(text if eq else None, item.doc, item.path)
    return _L(out, node.doc, node.path)


def _hashable(value: object) -> object:
    """``value`` (plain YAML data) as something a set holds, equal exactly when the values are."""
    if isinstance(value, dict):
        return ("map", tuple((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("seq", tuple(_hashable(v) for v in value))
    return (type(value).__name__, value)


def _merge(base: _L, over: _L, key: str | None, tags: _Tags) -> _L:
    """``over`` (a later file, or the extending service) merged onto ``base``; a null over a value
    leaves it as it was (``!reset`` removes a value)."""
    if over.value is None and base.value is not None:
        return base
    if isinstance(base.value, list) != isinstance(over.value, list) and key in MAPPABLE:
        base, over = _as_map(base, key), _as_map(over, key)
    if isinstance(base.value, dict) and isinstance(over.value, dict):
        out = dict(base.value)
        written = tags.of(over)
        for k, v in over.value.items():
            out[k] = v if k not in out or written.get(k) == "!override" else _merge(out[k], v, k, tags)
        for k, tag in written.items():
            if tag == "!reset":
                out.pop(k, None)
        return _L(out, base.doc, base.path)
    if isinstance(base.value, list) and isinstance(over.value, list) and key not in REPLACED:
        items = list(base.value)
        if key == "ports":
            where = {_port_key(_plain(item)): i for i, item in enumerate(items)}
            for item in over.value:
                found = where.get(_port_key(_plain(item)))
                if found is None:
                    where[_port_key(_plain(item))] = len(items)
                    items.append(item)
                else:
                    items[found] = item
        else:
            seen = {_hashable(_plain(item)) for item in items}
            for item in over.value:
                value = _hashable(_plain(item))
                if value not in seen:
                    seen.add(value)
                    items.append(item)
        return _L(items, base.doc, base.path)
    return over


# --- the project ------------------------------------------------------------------------------


def _directory(source: str) -> str:
    """The directory of a file named ``source`` (standard input: the working directory)."""
    if source.startswith("<"):
        return os.getcwd()
    return os.path.dirname(os.path.abspath(source))


class _Project:
    """One compose project being read: its environment, files, problems."""

    def __init__(self, env: Mapping[str, str], directory: str, problems: list[Problem], tags: _Tags,
                 chain: tuple[str, ...] = ()):
        self.env, self.directory, self.problems, self.tags, self.chain = env, directory, problems, tags, chain
        self._trees: dict[str, _L] = {}  # other files read for extends, by absolute path
        self._done: dict[tuple[str, str], _L] = {}  # (file, service) -> the service with its extends applied

    # reading
    def prepare(self, doc: Doc) -> None:
        """Interpolate a document read for this project (its problems noted)."""
        report = Report(doc)
        if isinstance(doc.data, dict):
            interpolate(doc.data, report, (), self.env)
        self.problems += report.problems

    def tree(self, path: str) -> _L:
        """Another compose file of this project (extends: file), read and interpolated once."""
        found = self._trees.get(path)
        if found is None:
            doc = read_compose_file(path)
            self.prepare(doc)
            found = self._trees[path] = _located(doc, (), doc.data)
        return found

    def problem(self, node: _L, message: str, *, key: bool = False) -> None:
        loc = (node.doc.key_loc(node.path) if key else node.doc.loc(node.path)) or Location(node.doc.source, 1, 1)
        self.problems.append(Problem(message, _path_text(node.path), loc))

    # extends (05-services.md#extends)
    def extends(self, doc: Doc) -> _L:
        """A file's located tree with every service's ``extends`` applied (and removed)."""
        root = _located(doc, (), doc.data)
        services = _services_of(root)
        if services is None or not any(isinstance(s.value, dict) and s.value.get("extends") is not None
                                       for s in services.values()):
            return root
        path = doc.source if doc.source.startswith("<") else os.path.abspath(doc.source)
        self._trees.setdefault(path, root)  # an extends.file naming this very file finds it
        for name in list(services):
            services[name] = self._service(path, root, name, ())
        return root

    def _service(self, path: str, root: _L, name: str, chain: tuple) -> _L:
        """Service ``name`` of the file at ``path`` with its extends applied; ``chain``: the
        (file, service) pairs being resolved, which it must not extend again."""
        key = (path, name)
        if key in self._done:
            return self._done[key]
        services = _services_of(root) or {}
        node = services[name]
        if not isinstance(node.value, dict) or node.value.get("extends") is None or node.value["extends"].value is None:
            return node
        ext = node.value["extends"]
        own = _L({k: v for k, v in node.value.items() if k != "extends"}, node.doc, node.path)
        base = self._base(path, root, name, ext, (*chain, key))
        result = own if base is None else _merge(base, own, None, self.tags)
        result = _L(result.value, own.doc, own.path)  # the service is where the extending one is written
        self._done[key] = result
        return result

    def _base(self, path: str, root: _L, name: str, ext: _L, chain: tuple) -> _L | None:
        target_file = None
        target = ext.value
        if isinstance(ext.value, dict):
            target = ext.value["service"].value if "service" in ext.value else None
            if "file" in ext.value and isinstance(ext.value["file"].value, str):
                target_file = ext.value["file"]
        if not isinstance(target, str):
            self.problem(ext, f"extends names a service (extends: web or extends: {{service: web, file: other.yaml}}), "
                         f"not {describe(target)}")
            return None
        if len(chain) > MAX_EXTENDS:
            self.problem(ext, f"extends chains more than {MAX_EXTENDS} services; netsim stops there")
            return None
        other_path, other_root, where = path, root, "this file"
        if target_file is not None:
            other_path = os.path.abspath(os.path.join(_directory(ext.doc.source), str(target_file.value)))
            if not os.path.isfile(other_path):
                self.problem(target_file, f'extends.file "{shown(target_file.value)}": no such file (looked for '
                             f"{shown(shown_path(other_path), 200)})")
                return None
            other_root, where = self.tree(other_path), shown(target_file.value)
        others = _services_of(other_root) or {}
        if target not in others or not isinstance(others[target].value, dict):
            self.problem(ext, f'extends names service "{shown(target)}", which {where} does not define'
                         f"{did_you_mean(target, list(others))}")
            return None
        if (other_path, target) in chain:
            loop = " -> ".join(service for _, service in (*chain, (other_path, target)))
            self.problem(ext, f"extends forms a cycle ({shown(loop, 200)}); one service must not extend another "
                         "that extends it")
            return None
        base = self._service(other_path, other_root, target, chain)
        if other_path == path or other_path.startswith("<"):
            return base
        return _rebased(base, os.path.dirname(other_path), self.directory)

    # include (14-include.md)
    def include(self, root: _L) -> _L:
        """The resources of every project ``include:`` names, added to ``root`` (which loses the key)."""
        if not isinstance(root.value, dict) or "include" not in root.value:
            return root
        entries = root.value.pop("include")
        if not isinstance(entries.value, list):
            return root  # the schema reports it
        for entry in entries.value:
            self._include_one(root, entry)
        return root

    def _include_one(self, root: _L, entry: _L) -> None:
        spec = entry.value
        if isinstance(spec, str):
            paths, project_dir, env_files = [entry], None, []
        elif isinstance(spec, dict) and "path" in spec:
            given = spec["path"]
            paths = given.value if isinstance(given.value, list) else [given]
            project_dir = spec.get("project_directory")
            env = spec.get("env_file")
            env_files = [] if env is None else env.value if isinstance(env.value, list) else [env]
        else:
            return  # the schema reports it
        here = _directory(entry.doc.source)
        files = []
        for p in paths:
            if not isinstance(p.value, str):
                return
            path = os.path.abspath(os.path.join(here, p.value))
            if not os.path.isfile(path):
                self.problem(p, f'include "{shown(p.value)}": no such file (looked for {shown(shown_path(path), 200)})')
                return
            if path in self.chain:
                self.problem(p, f'include "{shown(p.value)}" includes a file that includes it (a cycle)')
                return
            files.append(path)
        if len(self.chain) >= MAX_INCLUDE:
            self.problem(entry, f"include nests more than {MAX_INCLUDE} projects deep; netsim stops there")
            return
        directory = (os.path.abspath(os.path.join(here, project_dir.value))
                     if project_dir is not None and isinstance(project_dir.value, str) else os.path.dirname(files[0]))
        defaults: dict[str, str] = {}
        env_paths = [os.path.join(here, e.value) for e in env_files if isinstance(e.value, str)]
        if not env_paths and os.path.isfile(os.path.join(directory, ".env")):
            env_paths = [os.path.join(directory, ".env")]
        for env_path in env_paths:
            if not os.path.isfile(env_path):
                self.problem(entry, f'include env_file "{shown(env_path, 200)}": no such file')
                return
            defaults.update(read_env_file(env_path, self.env, self.problems))
        sub = _Project({**defaults, **self.env}, directory, self.problems, self.tags, (*self.chain, *files))
        included = sub.files([read_compose_file(path) for path in files])
        services = included.value.get("services") if isinstance(included.value, dict) else None
        if services is not None and isinstance(services.value, dict):  # builds start from the included project's directory
            services.value.update({name: _rebased(node, directory, self.directory) for name, node in services.value.items()})
        self._add_resources(root, included, entry)

    def _add_resources(self, root: _L, included: _L, entry: _L) -> None:
        if not isinstance(included.value, dict) or not isinstance(root.value, dict):
            return
        for section in ("services", "networks", "volumes", "configs", "secrets"):
            theirs = included.value.get(section)
            if theirs is None or not isinstance(theirs.value, dict):
                continue
            ours = root.value.get(section)
            if ours is None or not isinstance(ours.value, dict):
                ours = root.value[section] = _L({}, theirs.doc, theirs.path)
            mine: dict = ours.value  # type: ignore[assignment]  # a mapping: checked or made just above
            for name, node in theirs.value.items():
                if name in mine:
                    if section == "services" or _plain(mine[name]) != _plain(node):
                        there = node.doc.key_loc(node.path)
                        self.problem(mine[name], f'{section}.{shown(name)} is defined here and by the included '
                                     f"{there or node.doc.source}; compose does not merge an included resource: "
                                     "rename one", key=True)
                    continue
                mine[name] = node

    def files(self, docs: list[Doc]) -> _L:
        """Several files of this project, interpolated, extended, merged in order, their includes added."""
        root: _L | None = None
        for doc in docs:
            self.prepare(doc)
            tree = self.extends(doc)
            root = tree if root is None else _merge(root, tree, None, self.tags)
        assert root is not None
        return self.include(root)


def _services_of(root: _L) -> dict[str, _L] | None:
    """The services mapping of a file's tree (None when it has none)."""
    services = root.value.get("services") if isinstance(root.value, dict) else None
    return services.value if services is not None and isinstance(services.value, dict) else None


def _rebased(node: _L, from_dir: str, project_dir: str) -> _L:
    """A service read from a file in another directory, its relative build context made absolute
    (compose resolves it against the file that wrote it)."""
    if from_dir == project_dir or not isinstance(node.value, dict) or "build" not in node.value:
        return node
    build = node.value["build"]
    value = dict(node.value)
    if isinstance(build.value, str):
        value["build"] = _L(os.path.normpath(os.path.join(from_dir, build.value)), build.doc, build.path)
    elif isinstance(build.value, dict):
        ctx = build.value.get("context")
        inner = dict(build.value)
        where = ctx if ctx is not None else build
        inner["context"] = _L(os.path.normpath(os.path.join(from_dir, str(ctx.value) if ctx is not None else ".")),
                              where.doc, where.path)
        value["build"] = _L(inner, build.doc, build.path)
    return _L(value, node.doc, node.path)


_files_read: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("netsim_files_read", default=None)


def read_compose_file(path: str) -> Doc:
    """A compose file of the project; past :data:`MAX_FILES` files a DesignLoadError (each can be 10 MB)."""
    count = _files_read.get()
    if count is not None:
        count[0] += 1
        if count[0] > MAX_FILES:
            raise DesignLoadError([Problem(f"the project reads more than {MAX_FILES} compose files (include, extends, "
                                           "--file); netsim stops there", "", Location(shown_path(path), 1, 1))])
    return read_yaml(read_bytes(path, "compose file"), shown_path(path))


def shown_path(path: str) -> str:
    """A file's name as messages show it: relative to the working directory when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _path_text(path: tuple) -> str:
    from .yamlsource import format_path

    return format_path(path)


def _environment(options: ProjectOptions, directory: str, problems: list[Problem]) -> dict[str, str]:
    """The project's variables: its env files (``--env-file``, else ``.env``), the process environment winning."""
    process = dict(options.environment)
    if options.env_files:
        paths = list(options.env_files)
        for path in paths:
            if not os.path.isfile(path):
                raise ArgumentError(f"--env-file {path}: no such file")
    else:
        dotenv = os.path.join(directory, ".env")
        paths = [dotenv] if options.read_dotenv and os.path.isfile(dotenv) else []
    values: dict[str, str] = {}
    for path in paths:
        values.update(read_env_file(shown_path(os.path.abspath(path)), {**values, **process}, problems))
    return {**values, **process}


def override_file(source: str) -> str | None:
    """The override file compose reads beside ``source`` when ``source`` has a compose file name."""
    if source.startswith("<") or os.path.basename(source) not in DEFAULT_FILES:
        return None
    directory = os.path.dirname(source)
    for name in OVERRIDE_FILES:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def assemble(doc: Doc, options: ProjectOptions = FILE_ONLY) -> Doc:
    """The document compose would build from ``doc`` and ``options`` (see the module's docstring).

    Raises DesignLoadError when a file it reads is not YAML, ArgumentError when a ``--file`` or
    ``--env-file`` does not exist; every other problem is in the result's ``pending``."""
    if doc.assembled:
        return doc
    token = _files_read.set([1])
    try:
        return _assemble(doc, options)
    finally:
        _files_read.reset(token)


def _assemble(doc: Doc, options: ProjectOptions) -> Doc:
    problems: list[Problem] = []
    directory = os.path.abspath(options.project_directory) if options.project_directory else _directory(doc.source)
    env = _environment(options, directory, problems)
    extra = list(options.files)
    if not extra and options.read_override:
        found = override_file(doc.source)
        if found is not None:
            extra = [found]
    for path in options.files:
        if not os.path.isfile(path):
            raise ArgumentError(f"--file {path}: no such file")
    project = _Project(env, directory, problems, _Tags(),
                       () if doc.source.startswith("<") else (os.path.abspath(doc.source),))
    data = doc.data
    simple = not extra and isinstance(data, dict) and "include" not in data and not _has_extends(data)
    if simple:
        project.prepare(doc)
        out = doc
    else:
        docs = [doc] + [read_compose_file(path) for path in extra]
        root = project.files(docs)
        out = Doc(None, doc.source)
        out.data = _flatten(root, out, ())
    if isinstance(out.data, dict):
        _profiles(out, _active_profiles(options, env), problems)
    out.pending = problems
    out.assembled = True
    out.project_dir = directory
    name = env.get("COMPOSE_PROJECT_NAME")
    out.project_name = name if name else None
    return out


def _has_extends(data: dict) -> bool:
    services = data.get("services")
    return isinstance(services, dict) and any(isinstance(s, dict) and s.get("extends") is not None
                                              for s in services.values())


def _active_profiles(options: ProjectOptions, env: Mapping[str, str]) -> frozenset[str]:
    if options.profiles:
        return frozenset(options.profiles)
    return frozenset(p.strip() for p in env.get("COMPOSE_PROFILES", "").split(",") if p.strip())


def _profiles(doc: Doc, active: frozenset[str], problems: list[Problem]) -> None:
    """Leave out services none of whose profiles is active (15-profiles.md); a service that stays
    and depends on one left out is an error."""
    assert isinstance(doc.data, dict)
    services = doc.data.get("services")
    if not isinstance(services, dict):
        return
    report = Report(doc)
    left: dict[str, list[str]] = {}
    for name, spec in services.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("profiles"), list) or not spec["profiles"]:
            continue
        names = [str(p) for p in spec["profiles"]]
        if "*" in active or active & set(names):
            continue
        left[name] = names
        report.warning(("services", name, "profiles"), f"profiles {', '.join(shown(n) for n in names)}: none is active, "
                       f"so compose does not start this service and netsim leaves it out (--profile {shown(names[0])} "
                       "or COMPOSE_PROFILES selects it)", key=True)
    for name in left:
        del services[name]
    for name, spec in services.items():
        deps = spec.get("depends_on") if isinstance(spec, dict) else None
        if not isinstance(deps, (list, dict)):
            continue
        gone = [d for d in deps if isinstance(d, str) and d in left]
        for dep in gone:
            at = ("services", name, "depends_on", dep) if isinstance(deps, dict) else \
                ("services", name, "depends_on", deps.index(dep))
            required = not isinstance(deps, dict) or not isinstance(deps[dep], dict) or deps[dep].get("required", True)
            if required is not False:
                report.error(at, f'service "{shown(name)}" depends on "{shown(dep)}", which its profiles '
                             f"({', '.join(left[dep])}) leave out; activate one (--profile {shown(left[dep][0])})")
            if isinstance(deps, dict):
                del deps[dep]
            else:
                deps.remove(dep)
    problems += report.problems


__all__ = ["DEFAULT_FILES", "FILE_ONLY", "OVERRIDE_FILES", "ProjectOptions", "assemble",
           "interpolate", "override_file", "read_compose_file", "read_env_file", "shown_path"]
