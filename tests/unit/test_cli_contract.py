"""One command-line contract for every command: exit codes, loading, the kernel, options, outputs.

The exit-code table lives in simulator/cli/common.py (FOUND, EXIT_CODES_DOC) and in
docs/commands.md; these tests hold every command to it, in process (CliRunner) and, where
the process itself matters (pipes, /dev/full, Ctrl-C), as a real `netsim` process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.cli.common import EXIT_CODES_DOC, FOUND, exit_codes_doc
from simulator.model import KernelFeatures

ROOT = Path(__file__).resolve().parents[2]
FB = ROOT / "designs/frontend-backend.yaml"
VLAN_COMPOSE = ROOT / "tests/data/compose/macvlan.compose.yaml"
INVALID = "name: bad\nnetworks:\n  n1: {subnet: 10.0.0.0/33}\ncontainers:\n  a: {networks: [n1]}\n"

COMMANDS = sorted(FOUND)
NEEDS_NO_DESIGN = {"schema", "import"}
ENGINE = {"verify", "destroy", "drift"}  # these need an engine once the design is valid


def run(*args, input=None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def args_for(command: str, design: Path, tmp_path: Path) -> list:
    """The shortest command line of ``command`` on ``design`` that needs no engine."""
    extra = {
        "trace": [design, "proxy", "db:5432"],
        "diff": [design, design],
        "report": [design, "-o", tmp_path / "out.html"],
        "diagram": [design, "-f", "dot"],
        "deploy": [design, "--dry-run"],
        "test": [design, "--intent", ROOT / "tests/data/intent/frontend-backend.intent.yaml"],
        "audit": [design, "--fail-on", "never"],
    }
    return [command, *extra.get(command, [design])]


def one_line_error(result, *needles: str) -> None:
    """The failure is one line on stderr, says what it is about, and is not a traceback."""
    err = result.stderr if hasattr(result, "stderr") else result.output
    if isinstance(err, bytes):
        err = err.decode()
    assert "Traceback (most recent call last)" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("netsim: "), err
    for needle in needles:
        assert needle in lines[0], (needle, err)


# --- 1. schema -----------------------------------------------------------------------------


def test_schema_prints_the_design_schema_as_json():
    r = run("schema")
    assert r.exit_code == 0, r.output
    schema = json.loads(r.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/") and "properties" in schema
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema)


# --- 2. the exit-code table, command by command ---------------------------------------------


def test_docs_carry_the_exit_code_table():
    page = (ROOT / "docs/commands.md").read_text()
    assert exit_codes_doc() in page
    for command in COMMANDS:
        assert f"| `{command}` | {FOUND[command]} |" in page
    assert "{rows}" in EXIT_CODES_DOC  # the rows come from FOUND, not a second copy


def test_every_command_is_in_the_table():
    import typer.main

    assert sorted(typer.main.get_command(app).commands) == COMMANDS


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - NEEDS_NO_DESIGN))
def test_invalid_design_exits_1(command, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(INVALID)
    r = run(*args_for(command, bad, tmp_path))
    assert r.exit_code == 1, r.output
    assert "bad.yaml:3:" in r.stderr and f"{bad}: 2 error(s); nothing was evaluated" in r.stderr
    assert "Traceback" not in r.output and r.stdout == ""


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - NEEDS_NO_DESIGN))
def test_missing_file_exits_2(command, tmp_path):
    missing = tmp_path / "missing.yaml"
    r = run(*args_for(command, missing, tmp_path))
    assert r.exit_code == 2, r.output
    one_line_error(r, str(missing), "no such file")


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - NEEDS_NO_DESIGN))
def test_directory_as_design_exits_2(command, tmp_path):
    r = run(*args_for(command, tmp_path, tmp_path))
    assert r.exit_code == 2, r.output
    one_line_error(r, str(tmp_path), "is a directory")


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - NEEDS_NO_DESIGN - {"deploy", "destroy"}))  # no -e there
def test_bad_engine_version_is_a_usage_error(command, tmp_path):
    """Checked before anything else (verify and drift: before the engine is asked)."""
    r = run(*args_for(command, FB, tmp_path), "--engine-version", "19.03")
    assert r.exit_code == 2, r.output
    one_line_error(r, "--engine-version", "19.03")
    assert ":1:" not in r.stderr  # not reported as a problem at line 1 of the design


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - NEEDS_NO_DESIGN - ENGINE))
def test_valid_design_exits_0(command, tmp_path):
    r = run(*args_for(command, FB, tmp_path))
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - {"schema"}))
def test_unknown_option_value_exits_2(command, tmp_path):
    option = {"audit": ["--fail-on", "sometimes"], "import": ["--output", tmp_path]}.get(command, ["--no-such-option"])
    args = [command, *option] if command == "import" else [*args_for(command, FB, tmp_path), *option]
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output


def test_found_exits_1():
    assert run("test", FB, "--intent", ROOT / "tests/data/intent/frontend-backend.failing.intent.yaml").exit_code == 1
    assert run("audit", FB).exit_code == 1  # findings at or above low
    assert run("diff", FB, ROOT / "designs/multi-homed.yaml", "--exit-code").exit_code == 1
    assert run("diff", FB, FB, "--exit-code").exit_code == 0


def test_intent_errors_are_an_invalid_design_not_a_usage_error(tmp_path):
    d = tmp_path / "fb.yaml"
    d.write_text(FB.read_text() + "expect:\n  deny:\n    - {from: proxi, to: db}\n")
    for command in ("check", "reach", "test", "audit"):
        r = run(command, d)
        assert r.exit_code == 1, (command, r.output)
        assert '"proxi" is not a container or group of the design (did you mean "proxy"?)' in r.stderr


def test_an_intent_warning_is_reported_once_wherever_the_expectation_is_written(tmp_path):
    """The design's own expect: is checked by the loader, an --intent file's by the CLI: never both."""
    d = tmp_path / "fb.yaml"
    d.write_text(FB.read_text().replace("networks:\n  frontend:", "networks:\n  spare:\n    subnet: 172.30.9.0/24\n  frontend:", 1)
                 + 'expect:\n  deny:\n    - {from: "network:spare", to: db}\n')
    r = run("check", d)
    assert r.exit_code == 0, r.output
    assert r.stderr.count('no container is attached to network "spare"') == 1, r.stderr
    intent = tmp_path / "i.yaml"
    intent.write_text('expect:\n  deny:\n    - {from: "network:spare", to: db}\n')
    plain = tmp_path / "plain.yaml"
    plain.write_text(d.read_text().split("expect:")[0])
    r = run("test", plain, "--intent", intent)
    assert r.stderr.count('no container is attached to network "spare"') == 1, r.stderr


def test_audit_unknown_rule_on_the_command_line_is_usage_in_the_design_invalid(tmp_path):
    assert run("audit", FB, "--disable", "NS999").exit_code == 2
    d = tmp_path / "fb.yaml"
    d.write_text(FB.read_text() + "audit: {disable: [NS999]}\n")
    assert run("audit", d).exit_code == 1


# --- 3. one load-and-validate: the same verdict everywhere --------------------------------


VERDICT_COMMANDS = [("check",), ("reach",), ("exposure",), ("addresses",), ("rules",), ("diagram", "-f", "dot"),
                    ("audit", "--fail-on", "never"), ("diff", "SELF")]


def _verdict(command: tuple, design: Path, *extra: str) -> int:
    args = [design if a == "SELF" else a for a in command[1:]]
    return run(command[0], design, *args, *extra).exit_code


@pytest.fixture
def kernel_without_vlan(monkeypatch):
    import simulator.adapters.kernel as kernel

    monkeypatch.setattr(kernel, "local_kernel", lambda: KernelFeatures(vlan=False, ipvlan=False, dummy=False,
                                                                       source="the test's kernel"))


def test_vlan_compose_same_verdict_on_the_default_kernel():
    verdicts = {c[0]: _verdict(c, VLAN_COMPOSE) for c in VERDICT_COMMANDS}
    assert set(verdicts.values()) == {0}, verdicts


def test_vlan_compose_same_verdict_on_a_local_kernel_without_802_1q(kernel_without_vlan):
    verdicts = {c[0]: _verdict(c, VLAN_COMPOSE, "--kernel", "local") for c in VERDICT_COMMANDS}
    assert set(verdicts.values()) == {1}, verdicts
    r = run("test", VLAN_COMPOSE, "--intent", ROOT / "tests/data/intent/compose-shop.intent.yaml", "--kernel", "local")
    assert r.exit_code == 1 and "no 802.1q support (the test's kernel)" in r.stderr


def test_compose_with_expect_key_same_verdict(tmp_path):
    d = tmp_path / "compose.yaml"
    d.write_text((ROOT / "designs/compose-shop/compose.yaml").read_text() + "expect:\n  deny:\n    - {from: web, to: db}\n")
    assert run("check", d).exit_code == 0
    assert run("reach", d).exit_code == 0
    assert run("test", d).exit_code in (0, 1)  # evaluated, not refused
    x = tmp_path / "x-compose.yaml"
    x.write_text((ROOT / "designs/compose-shop/compose.yaml").read_text() + "x-netsim-expect:\n  deny:\n    - {from: webb, to: db}\n")
    assert {run(c, x).exit_code for c in ("check", "reach", "test", "audit")} == {1}


def test_deploy_uses_this_machines_kernel(kernel_without_vlan):
    """deploy runs here: the design is valid (default kernel), the run uses this machine's and its
    plan skips, with a note, what this kernel cannot create."""
    r = run("deploy", VLAN_COMPOSE, "--dry-run")
    assert r.exit_code == 0, r.output
    assert "netsim: kernel: the test's kernel" in r.stderr


# --- 4. the kernel is visible -------------------------------------------------------------


def test_kernel_is_named_where_it_matters():
    r = run("check", VLAN_COMPOSE)
    assert r.exit_code == 0 and "kernel: the default kernel: a stock distribution kernel" in r.stdout
    r = run("reach", VLAN_COMPOSE, "-f", "json")
    assert r.exit_code == 0 and "netsim: kernel: the default kernel" in r.stderr
    assert json.loads(r.stdout)["kernel"] == {"docker1": "the default kernel: a stock distribution kernel (802.1q, macvlan, ipvlan, dummy, IPVS)"}
    for command in ("exposure", "addresses", "audit"):
        assert "docker1" in json.loads(run(command, VLAN_COMPOSE, "-f", "json").stdout)["kernel"]
    intent = ROOT / "tests/data/intent/frontend-backend.intent.yaml"
    assert "docker1" in json.loads(run("test", FB, "--intent", intent, "-f", "json").stdout)["kernel"]
    assert "kernel" not in run("check", FB).stdout and run("reach", FB).stderr == ""  # no macvlan/ipvlan: not shown


def test_kernel_local(kernel_without_vlan):
    r = run("reach", FB, "--kernel", "local", "-f", "json")
    assert json.loads(r.stdout)["kernel"] == {"docker1": "the test's kernel"}
    assert run("check", FB, "--kernel", "nosuch").exit_code == 2


def test_a_host_stating_its_kernel_keeps_it(tmp_path):
    d = tmp_path / "k.yaml"
    d.write_text("name: k\nhosts:\n  h1:\n    kernel: {vlan: false}\nnetworks:\n  lan:\n    driver: macvlan\n"
                 "    parent: eth0.30\n    subnet: 10.9.0.0/24\ncontainers:\n  app1: {networks: [lan]}\n")
    r = run("check", d)
    assert r.exit_code == 1 and "host h1's kernel as the design declares it" in r.stderr


# --- 5. options are checked ---------------------------------------------------------------


def test_reach_only_and_source_are_checked():
    r = run("reach", FB, "--only", "foo")
    assert r.exit_code == 2
    one_line_error(r, '"foo" is not one of: reachable, unreachable')
    r = run("reach", FB, "--source", "proxi")
    assert r.exit_code == 2
    one_line_error(r, 'unknown source "proxi" (did you mean "proxy"?)')
    assert run("reach", FB, "--source", "nosuch").exit_code == 2


def test_reach_only_applies_to_json_and_is_refused_with_matrix():
    data = json.loads(run("reach", FB, "--only", "unreachable", "-f", "json", "-s", "proxy").stdout)
    assert data["probes"] and all(not p["reachable"] and p["source"] == "proxy" for p in data["probes"])
    data = json.loads(run("reach", FB, "--only", "reachable", "-f", "json").stdout)
    assert data["probes"] and all(p["reachable"] for p in data["probes"])
    r = run("reach", FB, "--only", "unreachable", "--matrix")
    assert r.exit_code == 2
    one_line_error(r, "--only and --matrix")


def test_trace_protocol_is_tcp_or_udp():
    r = run("trace", FB, "proxy", "app:8000", "-p", "foo")
    assert r.exit_code == 2 and "5432/foo" not in r.output and "8000/foo" not in r.output


def test_trace_udp_without_a_port_traces_udp_listeners(tmp_path):
    r = run("trace", FB, "proxy", "app", "-p", "udp")
    assert r.exit_code == 2
    one_line_error(r, "'app' has no udp listener")
    d = tmp_path / "udp.yaml"
    d.write_text("name: u\nnetworks:\n  n: {subnet: 10.5.0.0/24}\ncontainers:\n"
                 "  client: {networks: [n]}\n  dns: {networks: [n], listens: [53/udp, 80]}\n")
    r = run("trace", d, "client", "dns", "-p", "udp")
    assert r.exit_code == 0, r.output
    assert "port 53/udp" in r.stdout and "/tcp" not in r.stdout
    r = run("trace", d, "client", "dns")
    assert "port 53/udp" in r.stdout and "port 80/tcp" in r.stdout


def test_unknown_names_get_did_you_mean():
    r = run("trace", FB, "proxi", "db")
    assert r.exit_code == 2
    one_line_error(r, 'did you mean "proxy"?')
    r = run("trace", FB, "proxy", "dbb")
    assert r.exit_code == 2
    one_line_error(r, 'did you mean "db"?')
    r = run("rules", FB, "--host", "dockr1")
    assert r.exit_code == 2
    one_line_error(r, 'unknown host "dockr1" (did you mean "docker1"?)')
    r = run("diagram", FB, "--host", "dockr1")
    assert r.exit_code == 2
    r = run("trace", FB, "proxy", "app:²")
    assert r.exit_code == 2
    one_line_error(r, "must be a number from 1 to 65535")


def test_diagram_refuses_an_unknown_suffix(tmp_path):
    out = tmp_path / "d.jpg"
    r = run("diagram", FB, "-o", out)
    assert r.exit_code == 2 and not out.exists()
    one_line_error(r, "d.jpg", ".svg, .png, .pdf, .dot, .gv, .mmd, .md")
    assert run("diagram", FB, "-o", tmp_path / "d.gv").exit_code == 0
    assert (tmp_path / "d.gv").read_text().startswith("digraph")
    assert run("diagram", FB, "-o", tmp_path / "d.mmd").exit_code == 0
    assert (tmp_path / "d.mmd").read_text().startswith("flowchart")


# --- 6. inputs that are not regular files -------------------------------------------------


def test_inputs_that_are_not_files(tmp_path):
    loop = tmp_path / "loop.yaml"
    os.symlink(tmp_path / "other.yaml", loop)
    os.symlink(loop, tmp_path / "other.yaml")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    long = tmp_path / ("a" * 300 + ".yaml")
    for path, why in ((loop, "a loop of symbolic links"), (fifo, "is not a regular file"), (long, "file name too long")):
        r = run("check", path)
        assert r.exit_code == 2, (path, r.output)
        one_line_error(r, why)
        assert len(r.stderr) < 400  # the path is shortened in the message


# --- 7. outputs ---------------------------------------------------------------------------


@pytest.fixture
def design(tmp_path) -> Path:
    d = tmp_path / "design.yaml"
    d.write_text(FB.read_text())
    return d


OUTPUT_COMMANDS = [("report",), ("diagram", "-f", "dot"), ("audit", "--fail-on", "never"), ("diff", "SELF"),
                   ("test", "--intent", str(ROOT / "tests/data/intent/frontend-backend.intent.yaml"))]


def _out(command: tuple, design: Path, output, *extra) -> object:
    args = [design if a == "SELF" else a for a in command[1:]]
    return run(command[0], design, *args, "-o", output, *extra)


@pytest.mark.parametrize("command", OUTPUT_COMMANDS, ids=lambda c: c[0])
def test_never_overwrites_its_input(command, design):
    before = design.read_bytes()
    for extra in ((), ("--force",)):
        r = _out(command, design, design, *extra)
        assert r.exit_code == 2, r.output
        one_line_error(r, str(design), "is an input of this command")
        assert design.read_bytes() == before


@pytest.mark.parametrize("command", OUTPUT_COMMANDS, ids=lambda c: c[0])
def test_existing_output_needs_force(command, design, tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("keep me")
    r = _out(command, design, out)
    assert r.exit_code == 2
    one_line_error(r, str(out), "exists; pass --force")
    assert out.read_text() == "keep me"
    r = _out(command, design, out, "--force")
    assert r.exit_code == 0, r.output
    assert out.read_text() != "keep me"


@pytest.mark.parametrize("command", OUTPUT_COMMANDS, ids=lambda c: c[0])
def test_symlink_output_needs_force(command, design, tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("keep me")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    r = _out(command, design, link)
    assert r.exit_code == 2
    one_line_error(r, "is a symbolic link; pass --force")
    assert target.read_text() == "keep me"
    assert _out(command, design, link, "--force").exit_code == 0
    assert link.is_symlink() and target.read_text() != "keep me"


@pytest.mark.parametrize("command", OUTPUT_COMMANDS, ids=lambda c: c[0])
def test_dash_is_standard_output(command, design, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = _out(command, design, "-")
    assert r.exit_code == 0, r.output
    assert len(r.stdout) > 100 and not (tmp_path / "-").exists()


@pytest.mark.parametrize("command", OUTPUT_COMMANDS, ids=lambda c: c[0])
def test_unwritable_outputs(command, design, tmp_path):
    for output, why in ((tmp_path / "nodir" / "x.txt", "does not exist"), (tmp_path, "is a directory"),
                        (tmp_path / ("b" * 300 + ".txt"), "file name too long")):
        r = _out(command, design, output)
        assert r.exit_code == 2, (output, r.output)
        one_line_error(r, why)
    r = _out(command, design, "/dev/full", "--force")
    assert r.exit_code == 2
    one_line_error(r, "/dev/full", "No space left on device")


def test_new_output_file_is_written_atomically_with_normal_permissions(design, tmp_path):
    out = tmp_path / "d.dot"
    assert run("diagram", design, "-o", out).exit_code == 0
    assert out.read_text().startswith("digraph") and (out.stat().st_mode & 0o777) == 0o666 & ~_umask()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_import_and_verify_refuse_outputs_before_touching_an_engine(tmp_path, design):
    existing = tmp_path / "existing.yaml"
    existing.write_text("keep me")
    r = run("import", "-o", existing)
    assert r.exit_code == 2 and existing.read_text() == "keep me"
    one_line_error(r, "exists; pass --force")
    r = run("verify", design, "--junit", design)
    assert r.exit_code == 2 and design.read_text() == FB.read_text()
    one_line_error(r, "is an input of this command")


# --- 8. the process: pipes, full disks, Ctrl-C (a real `netsim`) -------------------------


def netsim(*args, stdout=subprocess.PIPE, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from simulator.cli import main; main()", *map(str, args)],
                          stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT, timeout=120, **kw)


def test_standard_output_on_a_full_disk():
    with open("/dev/full", "wb") as full:
        done = netsim("reach", FB, stdout=full)
    assert done.returncode == 2
    one_line_error(done, "standard output", "No space left on device")


def test_closed_pipe_exits_quietly():
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before netsim writes anything
    try:
        done = netsim("reach", FB, "-f", "json", stdout=write_end)
    finally:
        os.close(write_end)
    assert done.returncode == 141 and done.stderr == b""


def test_ctrl_c_exits_130_with_one_line():
    code = ("import simulator.analysis.reachability as r\n"
            "def interrupted(*a, **k):\n    raise KeyboardInterrupt\n"
            "r.reach_of = interrupted\n"
            "from simulator.cli import main; main()\n")
    done = subprocess.run([sys.executable, "-c", code, "reach", str(FB)], capture_output=True, cwd=ROOT, timeout=120)
    assert done.returncode == 130
    one_line_error(done, "interrupted")


def test_ctrl_c_in_process_too(monkeypatch):
    import simulator.analysis.reachability as reachability

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(reachability, "reach_of", interrupted)
    r = run("reach", FB)
    assert r.exit_code == 130
    one_line_error(r, "interrupted")


def test_an_unexpected_error_is_one_line_not_a_traceback(monkeypatch):
    import simulator.analysis.reachability as reachability

    def broken(*a, **k):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(reachability, "reach_of", broken)
    monkeypatch.delenv("NETSIM_DEBUG", raising=False)
    r = run("reach", FB)
    assert r.exit_code == 2
    one_line_error(r, "internal error: ZeroDivisionError: boom")


def test_a_bad_engine_version_in_the_design_is_an_invalid_design(tmp_path):
    d = tmp_path / "old.yaml"
    d.write_text(FB.read_text().replace("hosts:\n  docker1:\n", "hosts:\n  docker1:\n    engine_version: '19.03'\n"))
    assert "19.03" in d.read_text()
    r = run("check", d)
    assert r.exit_code == 1 and "19.03" in r.stderr and str(d) in r.stderr


def test_interrupt_while_starting_is_one_line():
    code = "raise KeyboardInterrupt"  # as if Ctrl-C arrived while the command modules were imported
    done = subprocess.run([sys.executable, "-c", "import builtins, sys\n"
                           "real = builtins.__import__\n"
                           "def imp(name, *a, **k):\n"
                           "    if name.endswith('render_cmds') or a and a[2] and 'render_cmds' in a[2]:\n"
                           f"        {code}\n"
                           "    return real(name, *a, **k)\n"
                           "builtins.__import__ = imp\n"
                           "from simulator.cli import main\n"], capture_output=True, cwd=ROOT, timeout=120)
    assert done.returncode == 130
    one_line_error(done, "interrupted")


@pytest.mark.parametrize("command", ["import", "drift", "destroy", "verify"])
def test_no_engine_is_one_line_and_exit_2(command, tmp_path):
    """DOCKER_HOST names a socket that does not exist: nothing is dialled, nothing is touched."""
    args = [command] if command == "import" else [command, FB]
    r = CliRunner().invoke(app, [str(a) for a in args], env={"DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"})
    assert r.exit_code == 2, r.output
    one_line_error(r, "no Docker engine reachable")


def test_a_failed_write_leaves_the_old_file_as_it_was(design, tmp_path, monkeypatch):
    import errno

    import simulator.cli.common as common

    out = tmp_path / "old.dot"
    out.write_text("the old diagram")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(common.os, "fsync", full)
    r = run("diagram", design, "-o", out, "--force")
    assert r.exit_code == 2
    one_line_error(r, str(out), "No space left on device")
    assert out.read_text() == "the old diagram"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["design.yaml", "old.dot"]  # no temporary file left


def test_fifo_and_symlink_loop_outputs(design, tmp_path):
    fifo = tmp_path / "out.fifo.dot"
    os.mkfifo(fifo)
    for extra in ((), ("--force",)):
        r = run("diagram", design, "-o", fifo, *extra)
        assert r.exit_code == 2  # refused, not blocked waiting for a reader
        one_line_error(r, "not a regular file")
    loop = tmp_path / "loop.dot"
    os.symlink(tmp_path / "other.dot", loop)
    os.symlink(loop, tmp_path / "other.dot")
    r = run("diagram", design, "-o", loop)
    assert r.exit_code == 2
    one_line_error(r, "is a symbolic link; pass --force")
    r = run("diagram", design, "-o", loop, "--force")
    assert r.exit_code == 2
    one_line_error(r, "a loop of symbolic links")
