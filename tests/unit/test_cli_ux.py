"""What people expect of a command-line tool, tested on the real `netsim` command.

--version; shell completion; examples in every --help; `-` reads the design from standard
input; NO_COLOR / TERM=dumb / pipes decide colour; tables fit the terminal (--wide: no limit);
a short option means the same everywhere; scripts/setup.sh fails loudly.
"""

from __future__ import annotations

import fcntl
import importlib.metadata
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from simulator.cli import app
from simulator.cli.terminal import DEFAULT_WIDTH, output_width, use_color

ROOT = Path(__file__).resolve().parents[2]
DESIGN = ROOT / "designs/frontend-backend.yaml"
COMPOSE = ROOT / "designs/compose-shop/compose.yaml"
WITH_INTENT = ROOT / "tests/data/intent/clean.yaml"  # a design with an expect: section that holds
ANSI = "\x1b["
NETSIM = [sys.executable, "-c", "import sys; sys.argv[0] = 'netsim'; from simulator.cli import main; main()"]


def _env(**changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM", "COLUMNS", "FORCE_COLOR", "LINES")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    for key, value in changes.items():
        if value is not None:
            env[key] = value
    return env


def netsim_proc(*args: str, stdin: bytes | None = None, **env: str | None) -> subprocess.CompletedProcess:
    """Run the real command in its own process, with its output to a pipe."""
    return subprocess.run([*NETSIM, *args], input=stdin, capture_output=True, cwd=ROOT, env=_env(**env), timeout=120)


class Done:
    def __init__(self, result):
        self.returncode = result.exit_code
        self.stdout = result.stdout_bytes
        # click < 8.2 mixes standard error into the output unless told otherwise
        self.stderr = result.stderr_bytes if result.stderr_bytes is not None else result.stdout_bytes


def netsim(*args: str, stdin: bytes | None = None, **env: str | None) -> Done:
    """Run the command in this process (typer's test runner: output to a pipe, not a terminal)."""
    full = {k: None for k in ("NO_COLOR", "TERM", "COLUMNS", "FORCE_COLOR")}
    full.update(env)
    result = CliRunner().invoke(app, list(args), input=stdin, prog_name="netsim", env=full)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Done(result)


def netsim_on_terminal(*args: str, columns: int = 120, **env: str | None) -> tuple[int, str]:
    """Run the real command with standard output on a pseudo-terminal ``columns`` wide."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen([*NETSIM, *args], stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE,
                            cwd=ROOT, env=_env(**env))
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.stderr.read()
    proc.wait(timeout=120)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def _widest(text: str) -> int:
    return max(len(re.sub(r"\x1b\[[0-9;]*m", "", line)) for line in text.splitlines())


# --- --version and completion --------------------------------------------------------------


def test_version_prints_the_package_version():
    expected = importlib.metadata.version("container-netsim")
    for flag in ("--version", "-V"):
        done = netsim_proc(flag)
        assert done.returncode == 0, done.stderr
        assert done.stdout.decode() == f"netsim {expected}\n"


def test_shell_completion_script_and_completions():
    # the shell named, not detected from the process tree (a test run need not descend from a shell)
    script = netsim_proc("--show-completion", "bash", _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    assert script.returncode == 0, script.stderr
    assert b"_NETSIM_COMPLETE=complete_bash" in script.stdout and b"complete -o" in script.stdout
    commands = netsim_proc(_NETSIM_COMPLETE="complete_bash", COMP_WORDS="netsim rea", COMP_CWORD="1")
    assert commands.stdout.decode().split() == ["reach"]
    options = netsim_proc(_NETSIM_COMPLETE="complete_bash", COMP_WORDS=f"netsim reach {DESIGN} --wi", COMP_CWORD="3")
    assert options.stdout.decode().split() == ["--wide"]
    assert "--install-completion" in CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).output


def _commands() -> list[str]:
    return sorted(typer.main.get_command(app).commands)


@pytest.mark.parametrize("command", _commands())
def test_every_command_help_shows_examples(command):
    result = CliRunner().invoke(app, [command, "--help"], prog_name="netsim", env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.output
    after = result.output.split("Examples:", 1)[1]
    examples = [line.strip() for line in after.splitlines() if line.strip().startswith(f"netsim {command}")]
    assert 1 <= len(examples) <= 3, after
    # shown as written in the docstring: no markup eaten, no lines joined
    callback = next(c.callback for c in app.registered_commands if (c.name or c.callback.__name__) == command)
    written = [line.strip() for line in callback.__doc__.split("Examples:", 1)[1].splitlines() if line.strip()]
    assert examples == written


@pytest.mark.parametrize("command", _commands())
def test_help_prose_wraps_to_an_80_column_terminal(command):
    """A paragraph of the description fills each line but its last: the docstring's own line
    breaks (written for 100 columns) do not break it again on a narrow terminal."""
    result = CliRunner().invoke(app, [command, "--help"], prog_name="netsim", env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    description = result.output.split("Usage:", 1)[1].split("Examples:", 1)[0].split("\n", 1)[1]
    paragraphs: list[list[str]] = [[]]
    for line in description.splitlines():
        if line.strip():
            paragraphs[-1].append(line.rstrip())
        elif paragraphs[-1]:
            paragraphs.append([])
    assert len(paragraphs) > 1, description
    for lines in paragraphs:
        short = [line for line in lines[:-1] if len(line) < 60 and not line.startswith("  ")]
        assert not short, (command, lines)


# --- "-": the design from standard input ---------------------------------------------------

STDIN_CASES = {
    "check": ["check", "-"],
    "reach": ["reach", "-", "--format", "json"],
    "trace": ["trace", "-", "proxy", "db:5432"],
    "exposure": ["exposure", "-", "--format", "json"],
    "addresses": ["addresses", "-", "--format", "json"],
    "rules": ["rules", "-"],
    "diagram": ["diagram", "-", "--format", "dot"],
    "audit": ["audit", "-", "--format", "json", "--fail-on", "never"],
    "deploy": ["deploy", "-", "--dry-run"],
}


@pytest.mark.parametrize("command", sorted(STDIN_CASES))
def test_dash_reads_the_design_from_stdin(command):
    args = STDIN_CASES[command]
    from_stdin = netsim(*args, stdin=DESIGN.read_bytes(), NO_COLOR="1")
    from_file = netsim(*[str(DESIGN) if a == "-" else a for a in args], NO_COLOR="1")
    assert from_stdin.returncode == from_file.returncode == 0, from_stdin.stderr.decode()
    assert from_stdin.stdout.replace(b"<stdin>", str(DESIGN).encode()) == from_file.stdout


def test_dash_for_test_and_diff():
    done = netsim("test", "-", "--format", "json", stdin=WITH_INTENT.read_bytes())
    assert done.returncode == 0, done.stderr.decode()
    assert b'"passed"' in done.stdout or b"passed" in done.stdout
    same = netsim("diff", "-", str(DESIGN), "--exit-code", stdin=DESIGN.read_bytes())
    assert same.returncode == 0, same.stderr.decode()
    changed = netsim("diff", str(COMPOSE), "-", "--exit-code", stdin=DESIGN.read_bytes())
    assert changed.returncode == 1, changed.stderr.decode()


def test_report_from_stdin(tmp_path):
    out = tmp_path / "r.html"
    done = netsim("report", "-", "-o", str(out), stdin=COMPOSE.read_bytes())
    assert done.returncode == 0, done.stderr.decode()
    assert "<html" in out.read_text(encoding="utf-8").lower()


@pytest.mark.parametrize("command", ["check", "reach", "test", "audit", "diagram", "deploy", "verify", "destroy", "drift"])
def test_stdin_errors_name_stdin_with_line_and_column(command):
    """Also the engine commands: the design is read and judged before any engine is contacted."""
    bad = b"name: x\nhosts:\n  h1: {}\nnetworks:\n  n1: {subnet: 10.0.0.0/33}\n"
    done = netsim(command, "-", stdin=bad)
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert re.search(r"^<stdin>:5:\d+: ", err, re.M), err
    assert "Traceback" not in err


def test_only_one_design_can_come_from_stdin():
    done = netsim_proc("diff", "-", "-", stdin=DESIGN.read_bytes())
    assert done.returncode == 2
    assert b"only one design can come from standard input" in done.stderr
    assert b"Traceback" not in done.stderr


def test_a_file_named_dash_is_not_needed_and_not_read(tmp_path, monkeypatch):
    """`-` always means standard input, also where a file named `-` exists in the directory."""
    (tmp_path / "-").write_text("this is not a design: [")
    monkeypatch.chdir(tmp_path)
    done = netsim("check", "-", stdin=DESIGN.read_bytes())
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.startswith(b"<stdin>: ok")


# --- colour ----------------------------------------------------------------------------------


class _Stream:
    def __init__(self, tty: bool):
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("env, tty, flag, expected", [
    ({}, True, None, True),
    ({}, False, None, False),
    ({"NO_COLOR": "1"}, True, None, False),
    ({"NO_COLOR": ""}, True, None, True),  # no-color.org: only a non-empty value counts
    ({"TERM": "dumb"}, True, None, False),
    ({"NO_COLOR": "1"}, False, True, True),  # an explicit --color wins
    ({}, True, False, False),
])
def test_use_color_decision(monkeypatch, env, tty, flag, expected):
    for key in ("NO_COLOR", "TERM"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert use_color(flag, _Stream(tty)) is expected


def test_colour_on_a_terminal_and_not_with_no_color_or_dumb_term():
    code, out = netsim_on_terminal("reach", str(DESIGN), TERM="xterm")
    assert code == 0 and ANSI in out
    code, out = netsim_on_terminal("reach", str(DESIGN), TERM="xterm", NO_COLOR="1")
    assert code == 0 and ANSI not in out and "✔ proxy" in out
    code, out = netsim_on_terminal("exposure", str(DESIGN), TERM="dumb")
    assert code == 0 and ANSI not in out
    code, out = netsim_on_terminal("addresses", str(DESIGN), "--no-color", TERM="xterm")
    assert code == 0 and ANSI not in out


def test_no_colour_into_a_pipe_unless_asked():
    plain = netsim("reach", str(DESIGN), TERM="xterm")
    assert plain.returncode == 0 and ANSI.encode() not in plain.stdout
    forced = netsim("reach", str(DESIGN), "--color", TERM="xterm", NO_COLOR="1")
    assert forced.returncode == 0 and ANSI.encode() in forced.stdout


# --- width -----------------------------------------------------------------------------------


def test_output_width_rules(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    assert output_width(False, _Stream(False)) == DEFAULT_WIDTH
    assert output_width(True, _Stream(False)) is None
    monkeypatch.setenv("COLUMNS", "72")
    assert output_width(False, _Stream(False)) == 72
    monkeypatch.setenv("COLUMNS", "not-a-number")
    assert output_width(False, _Stream(False)) == DEFAULT_WIDTH


@pytest.mark.parametrize("command", ["reach", "exposure", "addresses"])
def test_tables_fit_the_width_and_wide_does_not_wrap(command):
    every = ["--all"] if command == "reach" else []  # reach: every probe with its address (the summary has none)
    piped = netsim(command, str(DESIGN), *every)
    assert piped.returncode == 0
    assert _widest(piped.stdout.decode()) <= DEFAULT_WIDTH
    narrow = netsim(command, str(DESIGN), *every, COLUMNS="80")
    assert _widest(narrow.stdout.decode()) <= 80
    wide = netsim(command, str(DESIGN), *every, "--wide", COLUMNS="80")
    assert _widest(wide.stdout.decode()) > 100
    if command != "exposure":  # every address survives the narrow table whole
        for address in ("172.30.1.2", "172.30.2.10"):
            assert address in narrow.stdout.decode()


def test_reach_wraps_the_reason_and_wide_keeps_it_on_one_line():
    from simulator.analysis.reachability import compute_reach
    from simulator.loaders import load_design

    design, _ = load_design(DESIGN)
    reason = max((p.reason for p in compute_reach(design, None).probes), key=len)
    assert len(reason) > 60
    narrow = netsim("reach", str(DESIGN), COLUMNS="90").stdout.decode()
    assert reason not in narrow
    assert reason in netsim("reach", str(DESIGN), "--wide").stdout.decode()


def test_table_fits_the_terminal_window():
    code, out = netsim_on_terminal("reach", str(DESIGN), columns=84, NO_COLOR="1")
    assert code == 0
    assert 70 < _widest(out) <= 84


# --- short options -----------------------------------------------------------------------------

# One meaning per letter, in every command (the letters netsim uses today).
SHORT_OPTIONS = {
    "-d": "--disable",
    "-e": "--engine-version",
    "-f": "--format",
    "-i": "--intent",
    "-o": "--output",
    "-p": "--protocol",
    "-P": "--project",
    "-q": "--quiet",
    "-s": "--source",
    "-w": "--wide",
    "-V": "--version",
}


def _short_options() -> dict[str, set[tuple[str, str]]]:
    """short option -> {(long option, command)} over the top level and every command."""
    root = typer.main.get_command(app)
    seen: dict[str, set[tuple[str, str]]] = {}
    for name, cmd in [("", root), *root.commands.items()]:
        for param in cmd.params:
            decls = list(param.opts) + list(param.secondary_opts)
            longs = sorted(d for d in decls if d.startswith("--"))
            for short in (d for d in decls if re.fullmatch(r"-[A-Za-z0-9]", d)):
                seen.setdefault(short, set()).add((longs[0] if longs else "?", name or "netsim"))
    return seen


def test_a_short_option_means_the_same_in_every_command():
    seen = _short_options()
    clashes = {s: sorted(v) for s, v in seen.items() if len({long for long, _ in v}) > 1}
    assert not clashes, f"one letter, several meanings: {clashes}"
    meanings = {s: next(iter(v))[0] for s, v in seen.items()}
    unlisted = {s: m for s, m in meanings.items() if SHORT_OPTIONS.get(s) != m}
    assert not unlisted, f"add new short options to SHORT_OPTIONS (and check their meaning is free): {unlisted}"
    assert meanings["-p"] == "--protocol"
    assert {cmd for _, cmd in seen["-P"]} >= {"verify", "drift", "import"}


def test_a_long_option_has_the_same_short_form_everywhere():
    root = typer.main.get_command(app)
    shorts: dict[str, set[str]] = {}
    for cmd in root.commands.values():
        for param in cmd.params:
            decls = list(param.opts)
            for long in (d for d in decls if d.startswith("--")):
                shorts.setdefault(long, set()).add(next((d for d in decls if re.fullmatch(r"-[A-Za-z0-9]", d)), ""))
    mixed = {long: sorted(v) for long, v in shorts.items() if len(v) > 1}
    assert not mixed, f"a long option with a short form in some commands and not in others: {mixed}"


# --- scripts/setup.sh ---------------------------------------------------------------------------


def _fake_bin(tmp_path: Path, pip_exit: int, netsim_on_path: bool = True) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").write_text(f"#!/bin/sh\necho \"pip: $*\" >&2\nexit {pip_exit}\n")
    if netsim_on_path:
        (bin_dir / "netsim").write_text("#!/bin/sh\necho 'netsim 9.9.9'\n")
    (bin_dir / "dpkg").write_text("#!/bin/sh\nexit 0\n")  # every system package "installed"
    (bin_dir / "apt-get").write_text("#!/bin/sh\necho apt-get must not run >&2\nexit 99\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}


def test_setup_fails_loudly_when_pip_install_fails(tmp_path):
    done = subprocess.run(["bash", str(ROOT / "scripts/setup.sh")], capture_output=True, text=True,
                          env=_fake_bin(tmp_path, pip_exit=1), timeout=60)
    assert done.returncode != 0
    assert "pip: -m pip install" in done.stderr
    assert "setup: pip install -e '.[test]' failed" in done.stderr


def test_setup_succeeds_when_pip_install_succeeds(tmp_path):
    done = subprocess.run(["bash", str(ROOT / "scripts/setup.sh")], capture_output=True, text=True,
                          env=_fake_bin(tmp_path, pip_exit=0), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "apt-get must not run" not in done.stderr
    assert "setup: netsim 9.9.9" in done.stderr


def test_setup_fails_when_the_command_is_not_on_path(tmp_path):
    done = subprocess.run(["bash", str(ROOT / "scripts/setup.sh")], capture_output=True, text=True,
                          env=_fake_bin(tmp_path, pip_exit=0, netsim_on_path=False), timeout=60)
    assert done.returncode == 1
    assert "the netsim command is not on PATH" in done.stderr


def test_dash_with_standard_input_closed_is_a_usage_error():
    import shlex

    command = " ".join(shlex.quote(a) for a in NETSIM) + " check - <&-"
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=ROOT, env=_env(NO_COLOR="1"),
                          timeout=120)
    assert done.returncode == 2
    flat = " ".join(re.sub(r"[│╭╮╰╯─]", " ", done.stderr).split())
    assert "standard input, which is closed" in flat and "Traceback" not in done.stderr
