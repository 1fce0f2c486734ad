"""The command-line contract every command shares: loading, exit codes, writing outputs.

One place for each promise the commands make:

* :func:`load_checked` reads and validates a design the same way for every command
  (input checks, the loader, intent, engine version, kernel, engine checks), so every
  command gives the same verdict on the same file;
* :class:`NetsimGroup` turns every error into one line on stderr and the exit code of
  :data:`EXIT_CODES` (never a traceback), for ``netsim`` and for ``CliRunner`` alike;
* :func:`write_output` is the one writer of files: ``-`` is standard output, nothing is
  overwritten without ``--force``, an input never, a symbolic link is not followed
  silently, and a file is replaced atomically (temporary file + rename).
"""

from __future__ import annotations

import contextvars
import errno
import functools
import gc
import inspect
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from typer.core import TyperCommand, TyperGroup

try:  # typer 0.2x carries its own copy of click; older releases use click itself
    from typer import _click as click
except ImportError:  # pragma: no cover
    import click  # type: ignore[no-redef]  # the same module under its own name (typer before 0.20)

from ..errors import DesignError, InputError, NetsimError, OutputError, Problem, Stage, UsageError
from ..model import Design, Driver, KernelFeatures

if TYPE_CHECKING:  # the pipeline (loaders, engine, intent) is imported when a design is loaded, not by --help
    from ..loaders.compose_project import ProjectOptions
    from ..pipeline import Loaded

EXIT_OK = 0
EXIT_FOUND = 1  # the design is invalid, or the command found what it looks for
EXIT_USAGE = 2  # the command line asks for what cannot be done; nothing was evaluated
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_PIPE = 141  # the reader closed standard output (128 + SIGPIPE), as `yes | head -1`

#: What exit 1 means for each command (0 is always "ok", 2 always a usage error).
FOUND = {
    "check": "the design is invalid",
    "reach": "the design is invalid",
    "trace": "the design is invalid",
    "exposure": "the design is invalid",
    "addresses": "the design is invalid",
    "rules": "the design is invalid",
    "diagram": "the design is invalid",
    "report": "the design is invalid",
    "test": "the design (or its intent) is invalid, or an expectation fails",
    "audit": "the design is invalid, or a finding is at least as severe as `--fail-on`",
    "diff": "a design is invalid, or (with `--exit-code`) anything changes",
    "deploy": "the design is invalid",
    "verify": "the design is invalid, a probe disagrees with the model, or an expectation does not hold",
    "destroy": "the design is invalid",
    "import": "never",
    "drift": "the design is invalid, or the running environment drifted from it",
    "schema": "never",
}

EXIT_CODES_DOC = """\
## Exit codes

Every command follows one contract (implemented once, in `simulator/cli/common.py`):

| code | meaning |
|---|---|
| 0 | ok: the design is valid and nothing the command looks for was found |
| 1 | the design is invalid (every problem is listed with file:line; this includes its `expect:`/`audit:` sections and an `--intent` file), or the command found what it looks for (see below) |
| 2 | usage error, nothing was evaluated: an unknown option value, an unknown container, host or network name (with "did you mean"), a bad `--engine-version`, an input that is missing, a directory, a FIFO, a symbolic-link loop or unreadable, an output that cannot be written or would overwrite a file without `--force`, `test` on a design without expectations, an unknown audit rule in `--disable`; also no reachable Docker engine (deploy, verify, destroy, import, drift) |
| 130 | interrupted (Ctrl-C) |
| 141 | the reader closed standard output (`netsim reach d.yaml \\| head -1`): netsim stops quietly, without a message (0 when the whole output was already in the pipe) |

What exit 1 means, command by command:

| command | exit 1 |
|---|---|
{rows}

Every error is one line on standard error (`netsim: ...`, or `file:line:column: ...` for
a design's problems), never a traceback. A bug in netsim is reported the same way
(`netsim: internal error: ...`, exit 2); `NETSIM_DEBUG=1` shows its traceback.

## The kernel a design is evaluated against

macvlan and ipvlan networks depend on the Docker host's kernel (802.1q sub-interfaces,
ipvlan, dummy links). A host of a netsim design may state its kernel
(`hosts.NAME.kernel: {{vlan: false, ipvlan: true, dummy: true}}`); a compose file and a host
that states nothing are evaluated against the **default kernel**, a stock distribution
kernel such as Debian's, which has 802.1q, macvlan, ipvlan and dummy links. `--kernel local`
uses this machine's kernel instead (read from /proc/config.gz or /boot/config-RELEASE).
`deploy`, `verify`, `destroy` and `drift` run on this machine: they judge the design like the
other commands, then run it with this machine's kernel, and deploy's plan skips (with a note)
a network this kernel cannot create. When the verdict depends on the kernel (an ipvlan
network, a macvlan/ipvlan network on an 802.1q parent or without a parent), every command
says on standard error which kernel it used (`netsim: kernel: ...`), `check` says it in its
summary, and the JSON of `reach`, `exposure`, `addresses`, `test`, `audit`, `verify` and
`drift` always carries it in the field `kernel` (host name → kernel).

## Outputs

`-o FILE` (`--output`, and `verify --junit FILE`) is written by one writer for every
command:

- `-o -` is standard output;
- an existing file is not replaced without `--force`; the design being read is never
  replaced, not even with `--force`;
- a symbolic link is not written through without `--force`;
- directories, FIFOs and devices are refused (with `--force` a character device such as
  /dev/null is written to);
- the file is written to a temporary file beside it and renamed into place, so a failed
  write (a full disk) leaves the old file as it was.
"""


def exit_codes_doc() -> str:
    """The exit-code, kernel and output sections of docs/commands.md."""
    rows = "\n".join(f"| `{name}` | {meaning} |" for name, meaning in FOUND.items())
    return EXIT_CODES_DOC.format(rows=rows)


# --- problems and messages ---------------------------------------------------------------


def print_problems(problems: Iterable[Problem]) -> None:
    """Each problem on standard error, a warning met many times gathered (:mod:`simulator.render.problems`)."""
    from ..render.problems import problem_lines
    from ..render.text import printable  # no control character from a name reaches the terminal

    for line in problem_lines(problems):
        typer.echo(printable(line, keep="\n"), err=True)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    from ..render.text import printable

    typer.echo(printable(f"netsim: {message}", keep="\n"), err=True)
    raise typer.Exit(code)


def unknown(kind: str, value: str, choices: Sequence[str]) -> UsageError:
    """``unknown container "wbe" (did you mean "web"?); the design has: ...``"""
    from ..loaders.yamlsource import did_you_mean, shown

    listed = ", ".join(sorted(choices)) or "none"
    return UsageError(f'unknown {kind} "{shown(value)}"{did_you_mean(value, choices)}; the design has: {shown(listed, 400)}')


# --- inputs --------------------------------------------------------------------------------


def check_input(path: Path, what: str = "design") -> None:
    """A readable regular file, else :class:`InputError` naming the path and why."""
    text = os.fspath(path)  # a StdinPath (DESIGN "-") opens its in-memory copy; str() is "<stdin>"
    try:
        st = os.stat(text)
    except OSError as exc:
        raise InputError(f"{_p(path)}: {_why(exc, what)}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{_p(path)}: is a directory, not a {what} file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{_p(path)}: is not a regular file (a FIFO, socket or device); netsim reads {what}s from files")
    if not os.access(text, os.R_OK):
        raise InputError(f"{_p(path)}: permission denied")


def _why(exc: OSError, what: str = "file") -> str:
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno == errno.ELOOP:
        return "a loop of symbolic links"
    if exc.errno == errno.ENAMETOOLONG:
        return "file name too long"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is not a directory"
    return exc.strerror or str(exc)


def _p(path: Path | str) -> str:
    """A path for a message: one line, at most 200 characters."""
    from ..loaders.yamlsource import shown

    return shown(str(path), 200)


# --- the kernel ----------------------------------------------------------------------------


class KernelChoice(str, Enum):
    default = "default"
    local = "local"


DEFAULT_KERNEL = KernelFeatures(source="the default kernel: a stock distribution kernel (802.1q, macvlan, ipvlan, dummy, IPVS)")
KernelOpt = typer.Option(KernelChoice.default, "--kernel",
                         help="Kernel for hosts that state none (compose files): default (a stock distribution "
                              "kernel) or local (this machine's).")


def apply_kernel(design: Design, choice: KernelChoice | str, run_here: bool = False) -> Design:
    """Give every host that states no kernel (``run_here``: every host) the chosen one."""
    choice = KernelChoice(choice)
    if choice is KernelChoice.local:
        from ..adapters.kernel import local_kernel

        kernel = local_kernel()
        if kernel is None and run_here:  # deploy/verify: run here anyway, on the documented default
            kernel = replace(DEFAULT_KERNEL, source=DEFAULT_KERNEL.source + " (this machine's configuration is not readable)")
        elif kernel is None:
            raise UsageError("--kernel local: this machine's kernel configuration is not readable "
                             "(/proc/config.gz, /boot/config-RELEASE); use --kernel default")
    else:
        kernel = DEFAULT_KERNEL
    hosts = tuple(replace(h, kernel=kernel) if run_here or h.kernel == KernelFeatures() else h for h in design.hosts)
    return replace(design, hosts=hosts)


def kernel_matters(design: Design) -> bool:
    """Whether the verdict depends on a kernel feature: an ipvlan network, an 802.1q parent, no parent,
    a swarm service's virtual IP or routing mesh (IPVS)."""
    return any(n.driver is Driver.IPVLAN or (n.driver is Driver.MACVLAN and (n.parent is None or "." in (n.parent_interface or "")))
               for n in design.networks) or any(s.endpoint_mode == "vip" or s.ingress for s in design.services)


def kernel_json(design: Design) -> dict[str, str]:
    """host name → the kernel it was evaluated against (the JSON field ``kernel``)."""
    return {h.name: h.kernel.source for h in design.hosts}


def kernel_summary(design: Design) -> str:
    sources = list(dict.fromkeys(h.kernel.source for h in design.hosts))
    if len(sources) == 1:
        return sources[0]
    return "; ".join(f"host {h.name}: {h.kernel.source}" for h in design.hosts)


# --- loading: one way for every command ----------------------------------------------------


def load_checked(path: Path, engine_version: str | None = None, kernel: KernelChoice | str = KernelChoice.default,
                 intent_file: Path | None = None, show_warnings: bool = False, run_here: bool = False,
                 announce_kernel: bool = True) -> Loaded:
    """Load and validate a design exactly as every command does (:func:`simulator.pipeline.load`),
    or exit with the contract's code.

    Exit 2 (nothing evaluated) for a bad input path, intent path or ``--engine-version``;
    exit 1 listing every problem when the design (or its intent) is invalid: the loader's
    problems, ``expect:``/``audit:`` sections and their names, and what the engine would
    refuse on the chosen kernel. The :class:`~simulator.pipeline.Loaded` it returns keeps the
    world the engine checks built (``loaded.world(version)``).
    """
    from ..engine.versions import parse_version
    from ..pipeline import load
    from ..render.problems import by_place

    check_input(path)
    if intent_file is not None:
        check_input(intent_file, "intent")
    if engine_version is not None:
        try:
            parse_version(engine_version)
        except NetsimError as exc:
            raise UsageError(f"--engine-version: {exc}") from None
    # deploy/verify/destroy/drift run on this machine: the design is judged on the kernels it
    # states (or the default), and the model then carries this machine's kernel; what it lacks
    # is skipped by deploy's plan with a note, not refused.
    chosen = _kernel_of(KernelChoice.default if run_here else kernel)
    try:
        loaded = load(path, source=str(path), engine_version=engine_version, default_kernel=chosen,
                      intent_file=intent_file, project=project_options())
    except DesignError as exc:
        stage = exc.stage
        if stage == Stage.ENGINE:
            errors = list(exc.errors)
            print_problems(errors if not show_warnings else sorted(exc.problems, key=by_place))
            raise typer.Exit(_count(path, errors)) from None
        print_problems(exc.problems)
        raise typer.Exit(_count(intent_file if stage == Stage.INTENT_FILE and intent_file is not None else path, exc.errors)) from None
    if run_here:
        loaded = loaded.with_design(apply_kernel(loaded.design, kernel, run_here=True))
    if show_warnings:
        print_problems(loaded.warnings + loaded.other_warnings)
    if announce_kernel and kernel_matters(loaded.design):
        typer.echo(f"netsim: kernel: {kernel_summary(loaded.design)}", err=True)
    return loaded


def _kernel_of(choice: KernelChoice | str) -> KernelFeatures:
    """The kernel of hosts that state none: the default, or this machine's (UsageError when unreadable)."""
    if KernelChoice(choice) is KernelChoice.local:
        from ..adapters.kernel import local_kernel

        kernel = local_kernel()
        if kernel is None:
            raise UsageError("--kernel local: this machine's kernel configuration is not readable "
                             "(/proc/config.gz, /boot/config-RELEASE); use --kernel default")
        return kernel
    return DEFAULT_KERNEL


def _count(path: Path, errors: Sequence[Problem]) -> int:
    typer.echo(f"{_p(path)}: {len(errors)} error(s); nothing was evaluated", err=True)
    return EXIT_FOUND


def load_or_exit(path: Path, show_warnings: bool = True, engine_version: str | None = None,
                 kernel: KernelChoice | str = KernelChoice.default, run_here: bool = False) -> Design:
    """:func:`load_checked`, returning the design only."""
    return load_checked(path, engine_version, kernel, show_warnings=show_warnings, run_here=run_here).design


# --- outputs -------------------------------------------------------------------------------

ForceOpt = typer.Option(False, "--force", help="Overwrite an existing output file (never the design being read).")


def is_stdout(output: Path | None) -> bool:
    return output is None or str(output) == "-"


def write_output(output: Path | None, data: str | bytes, force: bool = False,
                 inputs: Sequence[Path | None] = (), announce: bool = True) -> None:
    """Write ``data`` to ``output`` (None or ``-``: standard output) under the output rules.

    Raises :class:`OutputError` (exit 2) naming the path: it is an input, it exists or is a
    symbolic link and ``--force`` was not given, it is a directory or a FIFO, its directory
    is missing, or the write failed (the old file is then untouched).
    """
    if is_stdout(output):
        write_stdout(data)
        return
    assert output is not None
    st, link = check_output(output, force, inputs)
    text, where = os.fspath(output), _p(output)
    if st is not None and not stat.S_ISREG(st.st_mode):  # a device, with --force: write to it in place
        _write_in_place(text, data, where)
        _announce(output, announce)
        return
    target = os.path.realpath(text) if link else text
    _write_atomic(target, data, where, st.st_mode if st is not None else None)
    _announce(output, announce)


def check_output(output: Path | None, force: bool = False, inputs: Sequence[Path | None] = ()):
    """Raise :class:`OutputError` when ``output`` may not be written; else (its stat or None, is a link).

    Commands call it before long work (a report, a deployment), :func:`write_output` again.
    """
    if is_stdout(output):
        return None, False
    assert output is not None
    text = os.fspath(output)
    where = _p(output)
    for source in inputs:
        if source is not None and not is_stdout(source) and _same_file(output, source):
            raise OutputError(f"{where}: is an input of this command; netsim never overwrites its input "
                              "(not even with --force): choose another output")
    link = os.path.islink(text)
    if link and not force:
        raise OutputError(f"{where}: is a symbolic link; pass --force to write through it")
    try:
        st = os.stat(text)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"{where}: cannot write: {_why(exc)}") from None
    if st is None:
        directory = os.path.dirname(os.path.realpath(text) if link else text) or "."
        if not os.path.isdir(directory):
            raise OutputError(f"{where}: cannot write: the directory {_p(directory)} does not exist")
    else:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(f"{where}: is a directory; give a file name")
        if stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode):
            raise OutputError(f"{where}: is not a regular file (a FIFO or socket); write to a file or to -")
        if not force:
            raise OutputError(f"{where}: exists; pass --force to overwrite it")
    return st, link


def _announce(output: Path, announce: bool) -> None:
    if announce:
        typer.echo(f"wrote {_p(output)}", err=True)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _write_in_place(path: str, data: str | bytes, where: str) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with open(path, "wb") as f:
            f.write(raw)
    except OSError as exc:
        raise OutputError(f"{where}: cannot write: {_why(exc)}") from None


def _write_atomic(path: str, data: str | bytes, where: str, mode: int | None) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise OutputError(f"{where}: cannot write: the directory {_p(directory)} does not exist")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)[:100]}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, stat.S_IMODE(mode))
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise OutputError(f"{where}: cannot write: {_why(exc)}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def write_stdout(data: str | bytes) -> None:
    """Text or bytes to standard output (the CLI's errors on it are handled by NetsimGroup)."""
    if isinstance(data, bytes):
        sys.stdout.flush()
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:
            sys.stdout.write(data.decode("utf-8", "replace"))
        else:
            buffer.write(data)
            buffer.flush()
        return
    typer.echo(data, nl=False)


# --- exit codes: one mapping for every command ---------------------------------------------


# --- compose project options: the same four on every command that loads a design ----------

_FileList = list[Path] | None
#: name -> (annotation, typer option) of the compose project options; :func:`add_project_options`
#: gives them to every command with a DESIGN (``diff``: all but ``--file``), :func:`load_checked`
#: reads them.  ``-f`` is not used: it is ``--format``.
PROJECT_OPTIONS: dict[str, tuple[object, object]] = {
    "file": (_FileList, typer.Option(None, "--file", rich_help_panel="Compose project", help=(
        "A compose file merged after DESIGN, in order (compose's -f); with it the override file beside DESIGN "
        "is not read."))),
    "env_file": (_FileList, typer.Option(None, "--env-file", rich_help_panel="Compose project", help=(
        "Variables for a compose file's interpolation, read instead of the project directory's .env "
        "(the process environment still wins)."))),
    "profile": (list[str] | None, typer.Option(None, "--profile", rich_help_panel="Compose project", help=(
        "Start the compose services of this profile too (default: COMPOSE_PROFILES)."))),
    "project_directory": (Path | None, typer.Option(None, "--project-directory", rich_help_panel="Compose project",
                                                    help="The compose project directory: its .env and its name "
                                                    "(default: DESIGN's directory).")),
}
_project: contextvars.ContextVar[dict] = contextvars.ContextVar("netsim_project", default={})  # noqa: B039


def add_project_options(app: typer.Typer) -> None:
    """Give every command of ``app`` that reads a DESIGN the compose project options (once); every
    command starts by resuming the cycle collector (:func:`resume_collection`)."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = NetsimCommand
        callback = info.callback
        if callback is None or getattr(callback, "_netsim_project", False):
            continue
        sig = inspect.signature(callback, eval_str=True)
        if "design" not in sig.parameters and "old" not in sig.parameters:
            names = []
        else:
            names = [n for n in PROJECT_OPTIONS if not (n == "file" and "old" in sig.parameters)]
        info.callback = _with_project_options(callback, sig, names)


def resume_collection() -> None:
    """Python's cycle collector on again, what start-up made set aside from its passes (``gc.freeze``).

    :func:`simulator.cli.main` turns the collector off while the command starts: importing the
    command line (typer, and the pydantic it imports to read the arguments) makes only objects that
    live as long as the process, and the collector's passes over them cost every command some
    hundredths of a second.

    The youngest generation is collected every 100,000 allocations rather than 700: the analysis of
    a large design keeps hundreds of thousands of small objects (walk caches, groups being counted)
    that live until it ends, and the collector's frequent passes over them cost a quarter of
    `netsim reach` on 10,000 containers (measured: 400 source classes 16.5 -> 12.8 s CPU). Garbage
    cycles are still collected, a little later."""
    if not gc.isenabled():
        gc.freeze()
        gc.set_threshold(100_000, 50, 100)
        gc.enable()


def _with_project_options(callback, sig: inspect.Signature, names: list[str]):
    @functools.wraps(callback)
    def command(*args, **kwargs):
        resume_collection()
        given = {n: kwargs.pop(n, None) for n in names}
        token = _project.set(given)
        try:
            return callback(*args, **kwargs)
        finally:
            _project.reset(token)

    extra = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=PROJECT_OPTIONS[n][1],
                               annotation=PROJECT_OPTIONS[n][0]) for n in names]
    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in sig.parameters.values()]
    command.__signature__ = sig.replace(parameters=params + extra)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params + extra}
    command._netsim_project = True  # type: ignore[attr-defined]
    return command


def project_options() -> ProjectOptions:
    """The running command's compose project options, with the process environment."""
    from ..loaders.compose_project import ProjectOptions

    given = _project.get()
    directory = given.get("project_directory")
    return ProjectOptions(files=tuple(map(str, given.get("file") or ())),
                          env_files=tuple(map(str, given.get("env_file") or ())),
                          profiles=tuple(given.get("profile") or ()),
                          project_directory=None if directory is None else str(directory),
                          environment=dict(os.environ))


def reflow_help(text: str) -> str:
    """A docstring's prose as the terminal should wrap it: the lines of a paragraph joined into one
    (rich's help keeps every line break, so lines written 100 columns wide broke in two on an 80-column
    terminal); an indented line (an example) or a ``- `` item keeps its own line."""
    paragraphs = []
    for paragraph in text.split("\n\n"):
        lines: list[str] = []
        for line in paragraph.split("\n"):
            own = not lines or line[:1].isspace() or line.startswith("- ") or lines[-1][:1].isspace()
            if own:
                lines.append(line)
            else:
                lines[-1] = f"{lines[-1].rstrip()} {line.strip()}"
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


class NetsimCommand(TyperCommand):
    """A command whose help is reflowed (:func:`reflow_help`) and whose parameters are read as
    :func:`_plain_coercions` says."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.help:
            self.help = reflow_help(self.help)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        _plain_coercions(self.get_params(ctx))
        return super().parse_args(ctx, args)


class NetsimGroup(TyperGroup):
    """Runs a command and maps whatever it raises to one line and the contract's exit code."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        _plain_coercions(self.get_params(ctx))
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            result = super().invoke(ctx)
            _flush_stdout()
            return result
        except typer.Exit as exc:
            if exc.exit_code == 0:
                _flush_stdout()
            raise
        except (click.ClickException, typer.Abort):
            raise
        except BaseException as exc:  # every error becomes one line and a code
            code = handle_error(exc)
            if code is None:
                raise
            raise typer.Exit(code) from None


def _plain_coercions(params: Sequence[object]) -> None:
    """Parameters read without building pydantic validators, where typer builds them (typer 0.2x
    reads each value through a pydantic TypeAdapter: importing pydantic and building them took a
    tenth of `netsim trace` at 10,000 containers). A text, an enum choice and a path are coerced by
    typer's own functions, as its validators call them; any other value (and any value they refuse,
    so the message is typer's) goes to the validator typer builds. A typer without this machinery
    is left as it is."""
    if _PlainValue is None:
        return
    for param in params:
        if getattr(param, "_runtime_param", False) is None:
            desc = param.type_descriptor  # type: ignore[attr-defined]
            param._runtime_param = _PlainValue(desc.parameter_info, desc.annotation)  # type: ignore[attr-defined]


def _plain_value_class():
    try:
        from dataclasses import dataclass

        from typer._coercion import RuntimeParam, build_runtime_param
        from typer._param_types import coerce_cli_choice, coerce_cli_path, routes_to_path
    except ImportError:  # pragma: no cover - typer before 0.2x: no validators to spare
        return None

    @dataclass(frozen=True)
    class PlainValue(RuntimeParam):
        def _coerce_value(self, value, param, ctx):
            annotation, info = self.annotation, self.parameter_info
            if info.parser is None:
                if annotation is str and isinstance(value, str):
                    return value
                if isinstance(annotation, type) and issubclass(annotation, Enum):
                    try:
                        return coerce_cli_choice(value, choices=tuple(annotation), case_sensitive=info.case_sensitive, ctx=ctx)
                    except ValueError:
                        pass  # typer's validator says what is wrong
                elif (annotation is Path and isinstance(value, str) and info.path_type is None
                      and routes_to_path(annotation, info)):
                    return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
            return build_runtime_param(param.type_descriptor)._coerce_value(value, param=param, ctx=ctx)

    return PlainValue


_PlainValue = _plain_value_class()


def _flush_stdout() -> None:
    sys.stdout.flush()


def handle_error(exc: BaseException) -> int | None:
    """Print the one line for ``exc`` and return its exit code (None: not ours, re-raise)."""
    if isinstance(exc, (SystemExit, GeneratorExit)):
        return None
    if isinstance(exc, KeyboardInterrupt):
        _said["interrupted"] = True
        _err("netsim: interrupted")
        return EXIT_INTERRUPTED
    if isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno == errno.EPIPE):
        silence_stdout()
        return EXIT_PIPE
    if isinstance(exc, DesignError):
        print_problems(exc.problems)
        return EXIT_FOUND
    if isinstance(exc, NetsimError):
        _err(f"netsim: {exc}")
        return EXIT_USAGE
    if isinstance(exc, OSError):
        if exc.filename is None:  # most likely standard output: do not let the flush at exit fail again
            silence_stdout()
        name = exc.filename if exc.filename is not None else "standard output"
        _err(f"netsim: {_p(name)}: {_why(exc)}")
        return EXIT_USAGE
    if isinstance(exc, RecursionError):
        _err("netsim: the input is nested too deeply to process")
        return EXIT_FOUND
    if isinstance(exc, MemoryError):
        _err("netsim: out of memory: the input is too large to process")
        return EXIT_USAGE
    if os.environ.get("NETSIM_DEBUG"):
        return None
    _err(f"netsim: internal error: {type(exc).__name__}: {exc} (a bug in netsim; NETSIM_DEBUG=1 shows the traceback)")
    return EXIT_USAGE


_said: dict[str, bool] = {}


def _err(line: str) -> None:
    try:
        typer.echo(line, err=True)
    except OSError:
        pass


def silence_stdout() -> None:
    """Point standard output at /dev/null so the interpreter's flush at exit cannot fail."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass


def run(app: typer.Typer) -> None:
    """The ``netsim`` entry point: run ``app``, then flush standard output under the same rules."""
    code = EXIT_OK
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code == EXIT_INTERRUPTED and not _said.get("interrupted"):  # Ctrl-C while typer parsed the command line
            _err("netsim: interrupted")
    except KeyboardInterrupt:
        _err("netsim: interrupted")
        code = EXIT_INTERRUPTED
    except BaseException as exc:  # what escapes click (it should not)
        handled = handle_error(exc)
        if handled is None:
            raise
        code = handled
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
        code = EXIT_PIPE
    except OSError as exc:
        _err(f"netsim: standard output: {_why(exc)}")
        silence_stdout()
        code = EXIT_USAGE
    sys.exit(code)
