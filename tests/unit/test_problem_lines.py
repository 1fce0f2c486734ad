"""A warning met at many places (one per replica) is shown once, the others named on the next line."""

from __future__ import annotations

from typer.testing import CliRunner

from simulator.cli import app
from simulator.errors import Problem, Severity
from simulator.model import Location
from simulator.render.problems import ALIKE, problem_lines


def _warning(name: str, line: int, message: str = "published port not predictable: 80/tcp") -> Problem:
    return Problem(message, f"containers.{name}.ports", Location("d.yaml", line, 5), Severity.WARNING)


def test_a_warning_met_often_is_gathered_at_its_first_place():
    error = Problem("unknown network", "containers.x.networks", Location("d.yaml", 2, 3))
    many = [_warning(f"web-{i}", 10 + i) for i in (3, 1, 2, 4, 5)]  # not in the order written
    few = [_warning(f"db-{i}", 40 + i, "another warning") for i in range(ALIKE - 1)]
    lines = list(problem_lines([error, many[0], *few[:1], *many[1:], *few[1:]]))
    assert lines[0] == str(error)
    assert lines[1] == str(many[1])  # the first written (line 11) stands for them all
    assert lines[2] == ("    the same warning for 4 more: containers.web-2.ports (line 12), containers.web-3.ports (line 13), "
                        "containers.web-4.ports (line 14), containers.web-5.ports (line 15)")
    assert lines[3:] == [str(p) for p in few]  # under ALIKE times: each its own line
    assert len(lines) == 3 + len(few)


def test_errors_are_never_gathered_and_long_lists_name_both_ends():
    errors = [Problem("same error", f"containers.c{i}", Location("d.yaml", i, 1)) for i in range(1, 9)]
    assert list(problem_lines(errors)) == [str(e) for e in errors]
    warnings = [_warning(f"w{i}", i) for i in range(1, 21)]
    first, more = problem_lines(warnings)
    assert first == str(warnings[0])
    assert more == ("    the same warning for 19 more: containers.w2.ports (line 2), containers.w3.ports (line 3), "
                    "containers.w4.ports (line 4), … 13 more …, containers.w18.ports (line 18), "
                    "containers.w19.ports (line 19), containers.w20.ports (line 20)")
    elsewhere = [_warning("a", 1), *(Problem(w.message, w.path, Location("e.yaml", 7, 1), w.severity) for w in warnings[:3])]
    assert list(problem_lines(elsewhere))[1].endswith("containers.w3.ports (e.yaml:7:1)")


def test_check_gathers_the_replicas_warning(tmp_path):
    containers = "".join(f"  web-{i}: {{networks: [back], ports: ['8080']}}\n" for i in range(1, 6))
    design = tmp_path / "d.yaml"
    design.write_text(f"name: s\nnetworks: {{back: {{internal: true}}}}\ncontainers:\n{containers}")
    result = CliRunner().invoke(app, ["check", str(design)], prog_name="netsim")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith(f"{design}:4:") and "warning: containers.web-1.ports: published ports are ignored" in lines[0]
    assert lines[1] == ("    the same warning for 4 more: containers.web-2.ports (line 5), containers.web-3.ports (line 6), "
                        "containers.web-4.ports (line 7), containers.web-5.ports (line 8)")
