"""verify on a busy machine: every bundled design and verify_bench.py, N times, with CPU hogs.

    sudo flock /tmp/netsim-engine.lock python3 benchmarks/busy_verify.py [--runs 5] [--hogs 2]

Starts ``--hogs`` processes spinning ``while 1: pass`` (as other jobs on a shared CI runner
would), then, ``--runs`` times in a row, verifies every design in designs/ (deploy, probe,
compare, destroy) and runs benchmarks/verify_bench.py; the hogs are killed in a ``finally``.
Prints one line per verification (mismatches, probes retried, seconds) and a summary;
exit 1 when any run had a mismatch (or a probe that was not compared for another reason
than the host's resolver / an unrouted overlay address).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.adapters.docker_engine import DockerEngine  # noqa: E402
from simulator.loaders import load_design  # noqa: E402
from simulator.verify.session import VerifyOptions, run_verify  # noqa: E402

DESIGNS = sorted(list((ROOT / "designs").glob("*.yaml")) + [ROOT / "designs" / "compose-shop" / "compose.yaml"])
EXPECTED_NOT_COMPARED = ("names are not looked up from the host or the LAN",
                         "not routed on this machine except by its uplink")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--hogs", type=int, default=2)
    ap.add_argument("--no-bench", action="store_true", help="skip verify_bench.py")
    args = ap.parse_args()
    engine = DockerEngine()
    failures = 0
    totals = {"mismatch": 0, "retried": 0, "verifications": 0}
    hogs = []
    try:
        hogs = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(args.hogs)]
        for run in range(1, args.runs + 1):
            for path in DESIGNS:
                design, _ = load_design(path)
                t = time.monotonic()
                cmp = run_verify(design, engine, VerifyOptions())
                c = cmp.counts()
                odd = [r for r in cmp.rows if r.verdict == "not-compared"
                       and not any(ok in r.why for ok in EXPECTED_NOT_COMPARED)]
                bad = c["mismatch"] + c["detail"] + len(odd)
                failures += bool(bad)
                totals["mismatch"] += c["mismatch"]
                totals["retried"] += c["retried"]
                totals["verifications"] += 1
                print(f"run {run} {design.name:<24} {c['mismatch']} mismatch, {c['detail']} detail, "
                      f"{len(odd)} unexpectedly not compared, {c['retried']} retried, {c['agree']} agree, "
                      f"{time.monotonic() - t:5.1f} s", flush=True)
                for r in [r for r in cmp.rows if r.verdict in ("mismatch", "detail")] + odd:
                    print(f"    {r.verdict}: {r.probe.source} {r.probe.via} "
                          f"{r.probe.target or r.probe.name or 'host'} {r.probe.port}/{r.probe.protocol}: {r.why}")
            if not args.no_bench:
                t = time.monotonic()
                proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "verify_bench.py")],
                                      capture_output=True, text=True)
                line = next((x for x in proc.stdout.splitlines() if "verdicts:" in x), proc.stderr[-300:])
                m = re.search(r"'mismatch': (\d+).*'retried': (\d+)", line)
                mism, retried = (int(m.group(1)), int(m.group(2))) if m else (-1, -1)
                failures += mism != 0
                totals["mismatch"] += max(mism, 0)
                totals["retried"] += max(retried, 0)
                totals["verifications"] += 1
                print(f"run {run} {'verify_bench (30 ctrs)':<24} {mism} mismatch, {retried} retried, "
                      f"exit {proc.returncode}, {time.monotonic() - t:5.1f} s  [{line.strip()}]", flush=True)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    print(f"{args.runs} run(s) with {args.hogs} CPU hog(s): {totals['verifications']} verifications, "
          f"{totals['mismatch']} mismatch(es), {totals['retried']} probe(s) retried; "
          f"{'PASS' if failures == 0 else f'FAIL ({failures} verification(s) went wrong)'}")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
