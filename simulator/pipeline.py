"""One way from a design file to a checked model, used by every command.

    loaded = load("shop.yaml")                    # or load(text, source="shop.yaml")
    loaded.design, loaded.warnings, loaded.intent
    world = loaded.world()                        # built once per engine version, then reused

The stages, each run once, each problem found in one of them and reported once:

1. **read**: the file's bytes, decoded (:func:`~simulator.loaders.yamlsource.read_bytes`);
2. **parse with positions**: one YAML parse into a :class:`~simulator.loaders.yamlsource.Doc`;
3. **schema**: the netsim design schema, or the compose-spec schema for compose files;
4. **semantic checks**: the typed conversion into a model and :func:`~simulator.loaders.validate`;
   the intent sections (``expect:``/``audit:``) are read from the same document;
5. **engine checks**: what the engine would refuse or ignore (:mod:`simulator.engine.checks`),
   at model paths that the loader's path map turns into the field and line the user wrote;
6. **model**: a :class:`Loaded` holding the design, its warnings, its intent and the world
   built by the engine checks (:meth:`Loaded.world` reuses it).

:func:`load` raises :class:`~simulator.errors.DesignError` listing every problem (with
file:line:column) when a stage finds an error; stages after a failed one do not run, since
their findings on a broken model would only add noise. ``DesignError.stage`` (a
:class:`~simulator.errors.Stage`) says which stage stopped it: "load" (reading, schema, semantic
and intent checks; the default), "intent file" (an ``intent_file`` that cannot be read) or
"engine" (the engine checks and an intent file's problems).
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import ParamSpec, TypeVar

from .engine.checks import engine_check
from .engine.topology import World, build_world
from .engine.versions import parse_version
from .errors import ArgumentError, DesignError, Problem, Stage
from .intent import load_intent_file
from .intent.model import Intent
from .intent.select import reference_problems
from .intent.source import read_design
from .loaders import KINDS, detect_kind, read_doc
from .loaders.compose_project import ProjectOptions, assemble
from .loaders.validate import Context
from .loaders.yamlsource import hint_budget, read_bytes
from .model import Design, KernelFeatures

__all__ = ["Loaded", "load"]


@dataclass(frozen=True)
class Loaded:
    """A design that passed every check, with what the checks found and built."""

    design: Design
    warnings: tuple[Problem, ...]  # the loader's warnings (what audit builds on)
    intent: Intent
    other_warnings: tuple[Problem, ...] = ()  # the engine's and an --intent file's warnings
    _worlds: dict = field(default_factory=dict, compare=False, repr=False)

    def world(self, engine_version: str | None = None, *, on_demand: bool = False) -> World:
        """The :class:`~simulator.engine.topology.World` of the design on ``engine_version`` (None: the
        design's own), built once per version and kept. ``on_demand``: its namespaces laid out when
        first read (:meth:`~simulator.engine.topology.World.lay_out_on_demand`: a trace reads a few),
        not all now."""
        key = _version_key(self.design, engine_version)
        found = self._worlds.get(key)
        if found is None or not found.laid_out:  # the engine checks' world has addresses and ports only
            with cycle_collection_paused():
                if found is None:
                    found = self._worlds[key] = build_world(self.design, engine_version)
                if on_demand:
                    found.lay_out_on_demand()
                else:
                    found.lay_out()  # laid out here, while the collector is paused
        return found

    def with_design(self, design: Design) -> Loaded:
        """The same result for a changed design (e.g. another kernel); its worlds are built afresh,
        unless the design did not change (then the worlds already built are kept)."""
        if design == self.design:
            return self
        return replace(self, design=design, _worlds={})


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Python's cycle collector off while a design is read and its world built, and what they made
    set aside from its later passes (``gc.freeze``): a design of 10,000 containers makes hundreds of
    thousands of objects that live as long as the command, and the collector's repeated passes over
    them took a third of `netsim check` and as much again of the analysis after it. Frozen objects
    are still freed by reference counting; only garbage cycles made meanwhile are never collected
    (loading makes next to none: a dozen objects at 10,000 containers). On an error nothing is frozen."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    except BaseException:
        gc.enable()
        raise
    gc.freeze()
    gc.enable()


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _paused(func: Callable[_P, _R]) -> Callable[_P, _R]:
    @functools.wraps(func)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with cycle_collection_paused():
            return func(*args, **kwargs)
    return run


def _version_key(design: Design, engine_version: str | None) -> object:
    return parse_version(engine_version or design.hosts[0].engine_version)


@_paused
def load(path_or_text: str | bytes | os.PathLike, *, source: str | None = None, kind: str | None = None,
         engine_version: str | None = None, default_kernel: KernelFeatures | None = None,
         intent_file: str | os.PathLike | None = None, project: ProjectOptions | None = None) -> Loaded:
    """Read, parse, check and model a design (a path, or its text) in one pass.

    ``kind``: "netsim", "compose" or None (detected). ``engine_version``: the engine the design
    is judged on (None: each host's own). ``default_kernel``: the kernel of hosts that state none
    (the CLI's ``--kernel``). ``intent_file``: an extra intent file whose expectations join the
    design's own. ``project``: how a compose file is read as a project (the CLI's ``--file``,
    ``--env-file``, ``--profile``, ``--project-directory`` and the process environment; None: the
    project directory's .env and override file, no process environment), see
    :mod:`simulator.loaders.compose_project`. Raises :class:`DesignError` (every problem,
    file:line:column) when invalid, and :class:`~simulator.errors.DesignLoadError` when the text
    cannot be read as YAML.
    """

    if kind not in (None, *KINDS):
        raise ArgumentError(f"kind must be one of {', '.join(KINDS)} or None, not {kind!r}")
    if isinstance(path_or_text, (str, bytes)):
        text, name = path_or_text, source or "<string>"
    else:
        name = source or str(path_or_text)
        text = read_bytes(path_or_text)
    with hint_budget():
        doc = read_doc(text, name)
        if (kind or detect_kind(doc.data)) == "compose":
            doc = assemble(doc, project or ProjectOptions())
        elif project is not None and project.given:
            raise ArgumentError(f"{name} is a netsim design: --file, --env-file, --profile and --project-directory "
                                "apply to compose files")
        read = read_design(doc, kind)  # a DesignError of stage "load"
    design, intent, warnings = read.design, read.intent, read.warnings
    more: list[Problem] = []
    from_file: Intent | None = None
    if intent_file is not None:
        intent, from_file, more = _with_intent_file(intent, intent_file)
    if default_kernel is not None:
        design = _with_kernel(design, default_kernel)
    place = Context(design, read.paths).problem
    found, world = engine_check(design, engine_version, place)
    problems = list(dict.fromkeys(more + found + (_references(from_file, design) if from_file is not None else [])))
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DesignError(list(warnings) + problems, stage=Stage.ENGINE)
    loaded = Loaded(design, warnings, intent, tuple(problems))
    if world is not None:
        loaded._worlds[_version_key(design, engine_version)] = world
    return loaded


def _with_intent_file(intent: Intent, path) -> tuple[Intent, Intent, list[Problem]]:
    """(the design's intent joined by an intent file's, the file's expectations alone, the file's problems).

    An intent file that cannot be read as YAML raises DesignLoadError naming the file."""
    try:
        extra, problems = load_intent_file(path)
    except DesignError as exc:  # the file's own error (e.g. DesignLoadError), raised as this stage's
        raise type(exc)(exc.problems, stage=Stage.INTENT_FILE) from None
    joined = Intent(intent.source, intent.expectations + extra.expectations, intent.groups + extra.groups,
                    intent.audit_disable + extra.audit_disable,
                    intent.audit_disable_locations + extra.audit_disable_locations)
    return joined, replace(joined, expectations=extra.expectations), list(problems)


def _references(intent: Intent, design: Design) -> list[Problem]:
    """Selectors of an intent file that name nothing in the design (the design's own were checked on load)."""
    if not intent.expectations:
        return []
    return reference_problems(intent, design)


def _with_kernel(design: Design, kernel: KernelFeatures) -> Design:
    """Hosts that state no kernel get ``kernel``."""
    hosts = tuple(replace(h, kernel=kernel) if h.kernel == KernelFeatures() else h for h in design.hosts)
    return design.with_hosts(hosts)
