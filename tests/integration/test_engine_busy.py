"""verify never reports a mismatch the engine did not make, also on a busy machine.

Two CPU hogs (as on a shared CI runner) run while a bundled design is verified: every
compared probe agrees; a probe whose first try timed out against the model was retried with
a longer timeout (counted, not failed); nothing is left unobserved except what must not be
asked.  The hogs are killed in a ``finally``.  (scripts/fresh-engine-check.sh and the
report of issue 9 run the longer form: every bundled design and the benchmark, five times.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulator.loaders import load_design
from simulator.verify.session import VerifyOptions, run_verify

pytestmark = pytest.mark.docker

DESIGN = Path(__file__).resolve().parents[2] / "designs" / "frontend-backend.yaml"
NAMES_OFF_LIMITS = "names are not looked up from the host or the LAN"


def test_verify_on_a_busy_machine_reports_no_false_mismatch(engine, root, leftovers):
    design, _ = load_design(DESIGN)
    hogs = []
    try:
        hogs = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(2)]
        cmp = run_verify(design, engine, VerifyOptions())
        assert all(h.poll() is None for h in hogs), "the hogs stopped before the run ended"
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    wrong = [f"{r.probe.source} {r.probe.via} {r.probe.target or r.probe.name or ''} {r.probe.port}: {r.why}"
             for r in cmp.rows if r.verdict in ("mismatch", "detail")]
    assert wrong == []
    skipped = {r.why for r in cmp.rows if r.verdict == "not-compared"}
    assert all(NAMES_OFF_LIMITS in why for why in skipped), skipped
    # retries are allowed (that is the point): each retried probe then agreed (checked above)
    print(f"busy verify: {cmp.counts()}")
    assert cmp.counts()["agree"] >= 70, cmp.counts()
    assert leftovers(engine, design.name) == []
