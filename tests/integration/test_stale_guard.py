"""A guard rule left by a killed verify (its process is gone) is removed by ``netsim
destroy``; the guard of a verify still running (its process lives) is left alone."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from simulator.adapters import lanpeer

ROOT = Path(__file__).resolve().parents[2]


def _rule(comment: str, uplink: str) -> list[str]:
    return ["DOCKER-USER", "-o", uplink, "-m", "comment", "--comment", comment,
            "-j", "REJECT", "--reject-with", "icmp-admin-prohibited"]


def _rules() -> str:
    return subprocess.run(["iptables", "-S", "DOCKER-USER"], capture_output=True, text=True, check=True).stdout


def test_destroy_removes_a_killed_verify_guard(engine, root):
    uplink = lanpeer.uplink_interface()
    assert uplink
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process that has ended: its guard rule is stale
    stale, live = f"{lanpeer.GUARD_COMMENT}:{gone.pid}", lanpeer.guard_comment()
    try:
        subprocess.run(["iptables", "-I", *_rule(stale, uplink)], check=True)
        subprocess.run(["iptables", "-I", *_rule(live, uplink)], check=True)
        done = subprocess.run([sys.executable, "-c", "from simulator.cli import main; main()", "destroy",
                               str(ROOT / "designs/frontend-backend.yaml")],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        assert "1 stale uplink guard rule(s) in DOCKER-USER" in done.stdout
        rules = _rules()
        assert not re.search(rf'--comment "?{stale}"? ', rules)
        assert re.search(rf'--comment "?{live}"? ', rules)  # this test's process lives: its "verify" still runs
    finally:
        for comment in (stale, live):
            subprocess.run(["iptables", "-D", *_rule(comment, uplink)], capture_output=True)
    assert "netsim-guard" not in _rules()
