"""Every `netsim ...` command shown in the README and in docs/*.md runs and exits as documented.

Commands are taken from the fenced shell blocks (```sh, ```bash, ```console or unlabelled).
Placeholders are filled in (DESIGN, FROM, TO, OLD, NEW, ...), optional parts in [brackets]
are left out, ``a|b`` in the command's name means each of them.  Each command runs through
netsim's entry point, with ``<`` and ``>`` done as a shell does, in a directory of its own
holding the bundled designs and the illustrative file names the docs use (design.yaml,
compose.yaml, intent.yaml, old.yaml, new.yaml).

Commands that need a Docker engine are not run here: ``deploy`` runs with ``--dry-run``
(which touches nothing), the commands in :data:`ENGINE_ONLY` are parsed (arguments and
options checked against the command) but not run.  The integration tests run them.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
import typer.main

from simulator.cli import app

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCKS = {"", "sh", "bash", "shell", "console"}

# Commands that need a running Docker engine: parsed here, run by the integration tests.
ENGINE_ONLY = {"verify", "destroy", "import", "drift"}

PLACEHOLDERS = {
    "DESIGN": "designs/frontend-backend.yaml",
    "OLD": "old.yaml",
    "NEW": "new.yaml",
    "FROM": "proxy",
    "TO": "db:5432",
    "F": "intent.yaml",
    "FILE": "out.txt",
    "V": "28.2",
    "NAME": "shop",
}

# Where a command needs a particular kind of design: `netsim test DESIGN` tests a design with expectations.
PLACEHOLDERS_FOR = {"test": {"DESIGN": "design.yaml"}}

# Files the docs name for illustration, provided in each command's directory.
ILLUSTRATIVE = {
    "design.yaml": "tests/data/intent/clean.yaml",  # a design with an expect: section
    "compose.yaml": "designs/compose-shop/compose.yaml",
    "intent.yaml": "tests/data/intent/compose-shop.intent.yaml",
    "old.yaml": "tests/data/intent/diff/old.yaml",
    "new.yaml": "tests/data/intent/diff/new.yaml",
}

# The documented exit code of commands that do not exit 0 (the command as run, after substitution).
EXPECTED_EXIT = {
    "netsim audit designs/frontend-backend.yaml": 1,  # findings at or above --fail-on low
    "netsim audit compose.yaml --fail-on high --format sarif -o audit.sarif": 1,  # a high finding
    "netsim test compose.yaml --intent intent.yaml": 1,  # an expectation of the example intent fails
    "netsim test compose.yaml --intent intent.yaml --format junit -o intent.xml": 1,
    "netsim diff old.yaml - --exit-code < new.yaml": 1,  # --exit-code: the designs differ
}

# Runs documented commands one after another through netsim's entry point (simulator.cli:main) in
# one process, each in its own directory with ``< file`` / ``> file`` as the shell would do them:
# the same code path as the `netsim` script, without starting Python forty times.
DRIVER = r"""
import json, os, shlex, sys
from simulator.cli import main

def run(where, command):
    words = shlex.split(command)
    stdin_path = stdout_path = None
    if "<" in words:
        i = words.index("<"); stdin_path = words[i + 1]; del words[i:i + 2]
    if ">" in words:
        i = words.index(">"); stdout_path = words[i + 1]; del words[i:i + 2]
    os.chdir(where)
    saved = sys.stdin, sys.stdout, sys.stderr, sys.argv
    out = open(stdout_path or "stdout.txt", "w", encoding="utf-8")
    err = open("stderr.txt", "w", encoding="utf-8")
    inp = open(stdin_path, encoding="utf-8") if stdin_path else open(os.devnull, encoding="utf-8")
    sys.stdin, sys.stdout, sys.stderr, sys.argv = inp, out, err, ["netsim", *words[1:]]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:  # a traceback: report it
        import traceback
        traceback.print_exc(file=err)
        code = "Traceback"
    finally:
        for f in (out, err, inp):
            try:
                f.close()
            except OSError:
                pass
        sys.stdin, sys.stdout, sys.stderr, sys.argv = saved
    return code, open(os.path.join(where, "stderr.txt"), encoding="utf-8").read()

jobs = json.load(sys.stdin)
json.dump([run(where, command) for where, command in jobs], sys.stdout)
"""


def _drop_optional(text: str) -> str:
    """Leave out [optional parts], nested ones included."""
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"\[[^\[\]]*\]", "", text)
    return text


def _strip_comment(line: str) -> str:
    return re.split(r"\s#\s|\s#$", line, maxsplit=1)[0].rstrip()


def commands_in(path: Path) -> list[tuple[str, int, str]]:
    """(file, line, command) for every `netsim` command line of the file's shell code blocks."""
    found, in_block, shell = [], False, False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fence = re.match(r"^\s*```+\s*([\w-]*)", line)
        if fence:
            in_block, shell = (not in_block, fence.group(1).lower() in SHELL_BLOCKS) if not in_block else (False, False)
            continue
        if not (in_block and shell):
            continue
        text = re.sub(r"^\s*\$\s+", "", line).strip()
        for part in re.split(r"\s&&\s", text):
            part = part.strip()
            if re.match(r"^netsim(\s|$)", part):
                found.append((str(path.relative_to(ROOT)), number, part))
    return found


def expand(command: str) -> list[str]:
    """One documented line -> the commands it stands for, placeholders filled in."""
    command = _drop_optional(_strip_comment(command))
    words = command.split()
    names = words[1].split("|") if len(words) > 1 else [""]
    out = []
    for name in names:
        table = {**PLACEHOLDERS, **PLACEHOLDERS_FOR.get(name, {})}
        filled = [table.get(w, w) for w in words[2:]]
        out.append(" ".join(["netsim", name, *filled]).strip())
    return out


@lru_cache(maxsize=1)
def documented() -> list[tuple[str, str]]:
    """[(where, command)] for every documented command, in file order, duplicates once."""
    seen, out = set(), []
    for path in DOCS:
        for rel, number, line in commands_in(path):
            for command in expand(line):
                if command not in seen:
                    seen.add(command)
                    out.append((f"{rel}:{number}", command))
    return out


def _workdir(base: Path, index: int) -> Path:
    """A directory of its own for one command: the bundled designs and the illustrative files."""
    where = base / f"cmd{index:03d}"
    where.mkdir()
    (where / "designs").symlink_to(ROOT / "designs")
    (where / "tests").symlink_to(ROOT / "tests")
    for name, target in ILLUSTRATIVE.items():
        (where / name).symlink_to(ROOT / target)
    return where


def run_documented(base: Path, commands: list[str]) -> list[tuple[int | str, str]]:
    """[(exit code, stderr)] of each command, run through netsim's entry point."""
    import json

    assert not [c for c in commands if "|" in shlex.split(c)], "pipes in documented commands: teach DRIVER"
    jobs = [(str(_workdir(base, i)), c) for i, c in enumerate(commands)]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "NO_COLOR": "1", "COLUMNS": "100"}
    done = subprocess.run([sys.executable, "-c", DRIVER], input=json.dumps(jobs), capture_output=True, text=True,
                          env=env, timeout=600, cwd=base)
    assert done.returncode == 0, done.stderr[-3000:]
    return [tuple(r) for r in json.loads(done.stdout)]


def _parse_only(command: str) -> str | None:
    """Parse an engine command's arguments with the real command; None when they are accepted."""
    words = shlex.split(command)
    if any(w in ("|", ">", "<") for w in words):
        words = words[:min(words.index(w) for w in ("|", ">", "<") if w in words)]
    group = typer.main.get_command(app)
    cmd = group.commands[words[1]]
    try:
        cmd.make_context(words[1], words[2:], parent=group.make_context("netsim", [words[1]], resilient_parsing=True))
    except Exception as exc:  # noqa: BLE001 - a usage error of whatever parser typer ships
        return f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
    return None


def test_docs_show_commands_and_cover_every_command():
    commands = documented()
    assert len(commands) >= 30, commands
    shown = {c.split()[1] for _, c in commands}
    every = set(typer.main.get_command(app).commands)
    assert every <= shown, f"commands without an example in the docs: {sorted(every - shown)}"
    assert ENGINE_ONLY <= every


def test_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    assert blocks[0].strip() == "bash scripts/setup.sh && netsim reach designs/frontend-backend.yaml"
    assert blocks[1].strip() == "bash scripts/setup.sh --engine && python3 -m pytest -q"


def test_every_documented_command_runs_with_its_documented_exit_code(tmp_path):
    commands = documented()
    runnable, parsed = [], []
    for where, command in commands:
        name = command.split()[1]
        if name in ENGINE_ONLY:
            parsed.append((where, command))
        else:
            if name == "deploy" and "--dry-run" not in command.split():
                command += " --dry-run"
            runnable.append((where, command))
    assert {c.split()[1] for _, c in parsed} == ENGINE_ONLY, "every engine-only command is documented"
    unknown = set(EXPECTED_EXIT) - {c for _, c in runnable}
    assert not unknown, f"EXPECTED_EXIT names commands the docs no longer show: {sorted(unknown)}"

    results = run_documented(tmp_path, [c for _, c in runnable])
    wrong = []
    for (where, command), (code, stderr) in zip(runnable, results):
        expected = EXPECTED_EXIT.get(command, 0)
        if code != expected or "Traceback" in stderr:
            wrong.append(f"{where}: `{command}` exited {code}, documented {expected}: {stderr.strip()[-400:]}")
    for where, command in parsed:
        problem = _parse_only(command)
        if problem:
            wrong.append(f"{where}: `{command}` does not parse: {problem}")
    assert not wrong, "\n".join(wrong)


def test_the_runner_reports_exit_codes_and_redirections(tmp_path):
    """The runner is not a rubber stamp: failures, output files and standard input come through."""
    results = run_documented(tmp_path, ["netsim check no-such-design.yaml", "netsim schema > s.json",
                                        "netsim check - < designs/frontend-backend.yaml"])
    assert results[0][0] == 2 and "no-such-design.yaml" in results[0][1]
    assert results[1][0] == 0 and (tmp_path / "cmd001/s.json").read_text().lstrip().startswith("{")
    assert results[2][0] == 0 and (tmp_path / "cmd002/stdout.txt").read_text().startswith("<stdin>: ok")


def test_engine_only_commands_are_really_checked():
    """The parse check refuses what the command refuses (so it is not a rubber stamp)."""
    assert _parse_only("netsim verify designs/frontend-backend.yaml --live --project shop") is None
    assert _parse_only("netsim verify designs/frontend-backend.yaml --no-such-option")
    assert _parse_only("netsim drift")  # DESIGN is missing
    assert _parse_only("netsim import --format json")  # import has no --format


def test_extraction_fills_placeholders_and_alternatives():
    assert expand("netsim deploy|verify|destroy DESIGN  # comment") == [
        "netsim deploy designs/frontend-backend.yaml", "netsim verify designs/frontend-backend.yaml",
        "netsim destroy designs/frontend-backend.yaml"]
    assert expand("netsim trace  DESIGN FROM TO[:PORT]  # hop by hop") == [
        "netsim trace designs/frontend-backend.yaml proxy db:5432"]
    assert expand("netsim import [--project NAME | --all] [-o design.yaml [--force]]") == ["netsim import"]


def test_readme_layout_names_every_part_of_the_package():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = text[text.index("## Layout"):]
    parts = sorted(p.name + ("/" if p.is_dir() else "") for p in (ROOT / "simulator").iterdir()
                   if not p.name.startswith(("_", ".")) and (p.is_dir() or p.suffix == ".py"))
    missing = [p for p in parts if f"`{p}`" not in layout and f"`{p.rstrip('/')}`" not in layout]
    assert not missing, f"README's Layout section does not mention: {missing}"


def test_command_reference_lists_what_typer_parses():
    """docs/commands.md is generated from the declarations; it names exactly the options typer accepts."""
    import gen_cli_docs

    page = gen_cli_docs.render()
    group = typer.main.get_command(app)
    for name, cmd in group.commands.items():
        section = page.split(f"\n## netsim {name}\n", 1)[1].split("\n## netsim ", 1)[0]
        documented_opts = set(re.findall(r"`(--?[A-Za-z][\w-]*(?:/--[\w-]+)?)`", section))
        parsed = set()
        for param in cmd.params:
            if param.param_type_name != "option":
                continue
            longs = [o for o in param.opts if o.startswith("--")]
            shorts = [o for o in param.opts if not o.startswith("--")]
            parsed.add(longs[0] + "".join("/" + s for s in param.secondary_opts) if param.secondary_opts else longs[0])
            parsed.update(shorts)
        assert parsed <= documented_opts, f"{name}: not in docs/commands.md: {sorted(parsed - documented_opts)}"
        extra = documented_opts - parsed - {"--help"}
        assert not extra, f"{name}: docs/commands.md names options the command does not take: {sorted(extra)}"


def test_command_reference_keeps_the_hand_written_part(tmp_path, monkeypatch):
    import gen_cli_docs

    page = tmp_path / "commands.md"
    page.write_text("# Command reference\n\n## Exit codes\n\n| code | meaning |\n\n" + gen_cli_docs.MARKER + "\nold\n")
    monkeypatch.setattr(gen_cli_docs, "PAGE", page)
    text = gen_cli_docs.render()
    assert text.startswith("# Command reference\n\n## Exit codes\n\n| code | meaning |\n\n" + gen_cli_docs.MARKER)
    assert "\nold\n" not in text and "## netsim reach" in text
