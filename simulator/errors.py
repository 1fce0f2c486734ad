"""Every error netsim raises derives from :class:`NetsimError`.

    NetsimError
    ├── DesignError            the design cannot be used; carries every Problem found   (exit 1)
    │   └── DesignLoadError    the file could not be read or parsed at all               (exit 1)
    ├── ModelError             a model value built in code breaks the model's rules; carries
    │                          every ModelProblem (library use; loaders report these as
    │                          DesignError problems at file:line instead; also a ValueError)  (exit 2)
    ├── UsageError             the command line asks for what cannot be done             (exit 2)
    │   ├── UnknownEngineVersion   --engine-version names no rule set netsim knows
    │   ├── QueryError         a trace/diagram query names something not in the design
    │   │   └── UnknownName    Design.host/network/container of a name it lacks (also a KeyError)
    │   ├── InputError         an input path is not a readable regular file
    │   ├── OutputError        an output cannot (or may not) be written
    │   └── ArgumentError      a library function got a value it does not take (also a ValueError)
    └── EngineError            talking to a real Docker engine failed, or would          (exit 2)
        ├── EngineUnavailable  no engine reachable, or a prerequisite is missing
        ├── DeployRefused      the design cannot be deployed here (names in use, overlaps, ...)
        └── UnsafeTarget       a probe would leave the networks netsim created

The library never prints or exits; the CLI turns these into messages and exit codes
(one table: ``simulator.cli.common.EXIT_CODES``, documented in docs/commands.md).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the model imports this module (ModelError); Location is only an annotation here
    from .model import Location


class Severity(enum.StrEnum):
    """How bad a Problem is (a StrEnum: compares, prints and serialises as its value)."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a design, where it is written, and what would be right."""

    message: str
    path: str = ""  # dotted field path, e.g. "services.web.ports[0]"
    location: Location | None = None
    severity: Severity = Severity.ERROR

    def __post_init__(self) -> None:
        if type(self.severity) is not Severity:
            try:
                object.__setattr__(self, "severity", Severity(self.severity))
            except ValueError:
                raise ModelError([ModelProblem(("Problem", "severity"), f"severity {self.severity!r} is not one "
                                               "of error, warning")]) from None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        field_ = f"{self.path}: " if self.path else ""
        tag = "warning: " if self.severity == "warning" else ""
        return f"{where}{tag}{field_}{self.message}"


class NetsimError(Exception):
    """Root of every netsim error."""


class WorkerError(NetsimError):
    """A worker process of :mod:`simulator.fanout` ended without its results (killed, out of memory),
    or failed with an error that could not travel back (its traceback is the message)."""


class Stage(enum.StrEnum):
    """Which stage of the load pipeline (:mod:`simulator.pipeline`) found a DesignError's problems.

    A StrEnum: compares, prints and serialises as its value."""

    LOAD = "load"  # reading, parsing, schema, semantic and the design's own intent checks
    INTENT_FILE = "intent file"  # an extra intent file (--intent) that cannot be read or parsed
    ENGINE = "engine"  # the engine checks, and an intent file's problems with the design


class DesignError(NetsimError):
    """The design has problems; ``problems`` lists all of them (errors and warnings).

    ``stage`` says which pipeline stage found them (:class:`Stage`; "load" unless the raiser
    says otherwise): the CLI counts an "intent file" error against that file, and prints only
    the errors of an "engine" one (its warnings come with ``--warnings``)."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], stage: Stage = Stage.LOAD):
        self.problems = tuple(problems)
        self.stage = Stage(stage)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")


class DesignLoadError(DesignError):
    """The design file could not be read or parsed."""


@dataclass(frozen=True, slots=True)
class ModelProblem:
    """One broken rule of the model: where in the model (a path such as
    ``("containers", "web", "attachments", 0, "network")``) and what is wrong.

    ``code`` names the rule (e.g. ``unknown-network``), ``subject`` the thing that breaks it
    and ``value`` what it names, so a loader can word the problem for its own file format."""

    path: tuple
    message: str
    code: str = ""
    subject: str = ""
    value: object = None

    def __str__(self) -> str:
        where = ".".join(str(part) for part in self.path)
        return f"{where}: {self.message}" if where else self.message


class ModelError(NetsimError, ValueError):
    """A model value was built with what the model does not allow (netsim used as a library):
    ``problems`` lists every broken rule found.  Also a ValueError, as Python's own
    constructors raise for a value they do not take."""

    def __init__(self, problems: list[ModelProblem] | tuple[ModelProblem, ...]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(NetsimError):
    """The command line asks for something that cannot be done: exit 2, nothing was evaluated."""


class UnknownEngineVersion(UsageError):
    pass


class QueryError(UsageError):
    pass


class UnknownName(QueryError, KeyError):
    """A design was asked for a host, network or container it does not have. Also a KeyError,
    which is what a by-name lookup raises in Python."""

    __str__ = BaseException.__str__  # the message as written, not KeyError's quoted repr


class InputError(UsageError):
    """An input path is missing, a directory, a FIFO, a symlink loop, unreadable or too long."""


class OutputError(UsageError):
    """An output cannot be written, or would overwrite a file (or the input) without --force."""


class ArgumentError(UsageError, ValueError):
    """A library function was called with a value it does not take (e.g. an unknown design kind).
    Also a ValueError, which is what Python callers expect of a bad argument."""


class EngineError(NetsimError):
    pass


class EngineUnavailable(EngineError):
    pass


class DeployRefused(EngineError):
    """The design can't be deployed on this engine (multi-host, cycles, names in use, ...): says why."""


class UnsafeTarget(EngineError):
    pass
