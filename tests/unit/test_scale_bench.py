"""benchmarks/scale_bench.py: the generated designs have the issue's structure, and the 1k run
prints a complete, well-formed table (times are measured and reported, never asserted)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("scale_bench", ROOT / "benchmarks" / "scale_bench.py")
assert _spec is not None and _spec.loader is not None
scale_bench = importlib.util.module_from_spec(_spec)
sys.modules["scale_bench"] = scale_bench
_spec.loader.exec_module(scale_bench)


@pytest.mark.parametrize("size", ["1k", "3k"])
def test_generated_design_has_the_irregular_structure(size):
    containers, networks, hosts = scale_bench.SIZES[size]
    design = scale_bench.generate(containers, networks, hosts, seed=1)
    ctrs, nets = design["containers"], design["networks"]
    assert len(ctrs) == containers and len(nets) == networks and len(design["hosts"]) == hosts
    attached = [c for c in ctrs.values() if "network_mode" not in c and "networks" in c]
    assert all(1 <= len(c["networks"]) <= 2 for c in attached)
    assert any(len(c["networks"]) == 2 for c in attached) and any(len(c["networks"]) == 1 for c in attached)
    assert all(1 <= len(c["listens"]) <= 2 for c in attached)
    publishing = sum("ports" in c for c in ctrs.values()) / containers
    assert 0.15 < publishing < 0.45, publishing
    overlays = [n for n in nets.values() if n.get("driver") == "overlay"]
    assert overlays and all(len(n["hosts"]) >= 2 for n in overlays)
    modes = Counter(c.get("network_mode", "").split(":")[0] for c in ctrs.values())
    assert {"host", "none", "container"} <= set(modes), modes
    # classes of replicas of varied sizes, and singletons
    services = Counter(re.sub(r"-\d+$", "", name) for name in ctrs)
    sizes = set(services.values())
    assert 1 in sizes and max(sizes) >= 20 and len(sizes) >= 8, sorted(sizes)
    src, dst = design[scale_bench.BENCH_KEY]["trace"]
    assert src in ctrs and dst.split(":")[0] in ctrs


def test_generate_is_deterministic_and_seeded():
    a = scale_bench.generate(300, 20, 4, seed=7)
    assert a == scale_bench.generate(300, 20, 4, seed=7)
    assert a != scale_bench.generate(300, 20, 4, seed=8)


def test_written_design_is_valid(tmp_path):
    """A generated design passes `netsim check` (warnings allowed: ephemeral ports are unpredictable)."""
    path = tmp_path / "d.yaml"
    scale_bench.write(scale_bench.generate(400, 30, 6, seed=3), path)
    done = subprocess.run([sys.executable, "-c", "from simulator.cli import main; main()", "check", str(path)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert re.search(r": ok \(6 host\(s\), 3[01] network\(s\), 400 container\(s\)\)", done.stdout), done.stdout  # 31: the default bridge


def test_1k_run_prints_a_complete_table():
    commands = ["check", "trace", "addresses", "reach"]
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scale_bench.py"), "--sizes", "1k",
                           "--commands", ",".join(commands), "--rounds", "1", "--timeout", "600"],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("sizes: 1k = 1,000 containers / 50 networks / 10 hosts")
    # the machine's speed before and after (a reference workload's CPU seconds): runs compare at a like one
    assert re.fullmatch(r"machine: reference workload \d+\.\d{3} CPU s \(load average .*\)", lines[1])
    assert re.fullmatch(r"machine: reference workload \d+\.\d{3} CPU s \(load average .*\)", lines[-1])
    assert lines[2].split() == ["command", "1k", "s", "1k", "cpu", "1k", "MB"]
    assert set(lines[3]) == {"-"}
    rows = lines[4:-1]
    assert [r.split()[0] for r in rows] == commands, done.stdout
    for row in rows:
        _, seconds, cpu, mb = row.split()
        assert float(seconds) > 0 and float(cpu) > 0 and float(mb) > 0, row
    # the progress lines on stderr say each ran to completion
    assert len(re.findall(r"\bok\b", done.stderr)) == len(commands), done.stderr


def test_table_marks_timeouts_failures_and_missing_commands():
    Run = scale_bench.Run
    runs = [Run("check", "1k", 1.5, 50, "ok", 10, 1.0), Run("check", "10k", 6.0, 90, "ok", 10, 5.0),
            Run("trace", "1k", 1.0, 50, "ok", 10, 0.9), Run("trace", "10k", 30.0, 300, "timeout", 0, 29.0),
            Run("audit", "1k", 2.0, 60, "exit 2", 10, 1.9), Run("audit", "10k", 2.0, 60, "ok", 10, 1.9),
            Run("reach-by-class", "1k", 0, 0, "n/a", 0), Run("reach-by-class", "10k", 0, 0, "n/a", 0)]
    text = scale_bench.table(runs, ["1k", "10k"], ["check", "trace", "audit", "reach-by-class"])
    rows = {line.split()[0]: line.split() for line in text.splitlines()[2:6]}
    assert rows["check"][-1] == "x5.0"
    assert rows["trace"][4] == ">30" and rows["trace"][-1] == "-"
    assert rows["audit"][1] == "2.00!" and rows["audit"][-1] == "-"
    assert rows["reach-by-class"][1:] == ["n/a", "-", "-", "n/a", "-", "-", "-"]
    assert "audit at 1k: exit 2" in text


def test_cells_are_medians_and_growth_the_median_of_each_round_s_ratio():
    """The shared machine slows down by half for the second round: each round's ratio (its sizes run
    back to back) stays 5, where the ratio of the cells' medians (1.0 and 6.0) would read 6."""
    Run = scale_bench.Run
    runs = [Run("check", "1k", 1.2, 50, "ok", 10, 1.0, round=0), Run("check", "10k", 6.0, 90, "ok", 10, 5.0, round=0),
            Run("check", "1k", 1.8, 50, "ok", 10, 1.5, round=1), Run("check", "10k", 9.0, 90, "ok", 10, 7.5, round=1),
            Run("check", "1k", 1.1, 50, "ok", 10, 0.9, round=2), Run("check", "10k", 7.0, 90, "ok", 10, 6.0, round=2)]
    text = scale_bench.table(runs, ["1k", "10k"], ["check"])
    row = text.splitlines()[2].split()
    assert row[1:4] == ["1.20", "1.00", "50"] and row[4:7] == ["7.00", "6.00", "90"]  # the median run of each
    assert row[-1] == "x5.0"  # ratios 5.0, 5.0, 6.67
    assert "3 rounds" in text
    assert scale_bench.reference_seconds(rounds=1) > 0


def test_timed_runs_find_netsim_compiled(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # as in shells that would make each run compile again
    env = scale_bench.compiled_env(tmp_path / "cache")
    assert "PYTHONDONTWRITEBYTECODE" not in env
    compiled = {p.name.split(".")[0] for p in (tmp_path / "cache").rglob("*.pyc")}
    assert {"design_cmds", "coarse", "reachability", "jsontext"} <= compiled
    ours = tmp_path / "cache" / ROOT.relative_to("/") / "simulator"
    before = sorted((p, p.stat().st_mtime_ns) for p in ours.rglob("*.pyc"))
    assert len(before) == len(list((ROOT / "simulator").rglob("*.py")))
    done = subprocess.run([sys.executable, "-c", "import sys, simulator.cli.design_cmds; print(sys.pycache_prefix)"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(tmp_path / "cache")
    assert sorted((p, p.stat().st_mtime_ns) for p in ours.rglob("*.pyc")) == before, "nothing of netsim compiled again"
