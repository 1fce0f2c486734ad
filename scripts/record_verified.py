"""Turn ``netsim verify --dockerd … -f json`` output into a run of tests/data/verified/observations/<stem>.json.

    netsim verify DESIGN --dockerd ENGINES/28.5.2/dockerd --runtime ENGINES/runc/runc -f json > out.json
    python3 scripts/record_verified.py DESIGN out.json --engine 28.5.2 [--seconds 17.4]

The run holds what tests/unit/test_verified_engines.py reads: the figures, the addresses, subnets and
gateways the engine handed out, and every compared probe's key with the engine's answer (status and the
container that answered) and its address family. A run of the same engine already in the record is
replaced; the others are kept. Only a run with no mismatch is recorded (the record holds the model to it).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "tests/data/verified/observations"
HOW = "netsim verify DESIGN --dockerd ENGINES/<engine>/dockerd --runtime ENGINES/runc/runc -f json"
KEY = ("source", "via", "target", "network", "name", "host", "port", "protocol")


def run_of(report: dict, engine: str, seconds: float | None) -> dict:
    """The record's run for one verify report (its JSON form)."""
    counts = report["counts"]
    if counts["mismatch"] or counts["address-mismatch"]:
        raise SystemExit(f"verify reported {counts['mismatch']} mismatch(es) and {counts['address-mismatch']} address "
                         "difference(s): fix the model (or the deployment) first; only agreeing runs are recorded")
    observed = [[*(p[k] for k in KEY), p["observed"]["status"], p["observed"].get("responder"), p.get("family", 4)]
                for p in report["probes"] if p["verdict"] == "agree" and p.get("observed")]
    return {
        "engine": engine, "model": report["engine_version"],
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), "seconds": seconds,
        "probes": counts["probes"], "agree": counts["agree"], "mismatch": counts["mismatch"], "detail": counts["detail"],
        "not_compared": counts["not-compared"], "addressing_differences": counts["address-mismatch"],
        "addressing": [[a["kind"], a["subject"], a["engine"]] for a in report["addressing"]],
        "observed": sorted(observed, key=lambda row: json.dumps(row)),
    }


def dump(record: dict) -> str:
    """The record in the layout of the existing ones: one addressing entry and one probe per line."""
    lines = [f'{{"design":{json.dumps(record["design"])},', f' "how":{json.dumps(record["how"])},', ' "runs":[']
    for i, run in enumerate(record["runs"]):
        head = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in run.items() if k not in ("addressing", "observed"))
        lines.append(f"  {{{head},")
        addressing = ",\n    ".join(json.dumps(a) for a in run["addressing"])
        lines.append(f'   "addressing":[{addressing}],')
        lines.append('   "observed":[')
        lines.append(",\n".join(f"    {json.dumps(o)}" for o in run["observed"]))
        lines.append("   ]}" + ("," if i < len(record["runs"]) - 1 else ""))
    lines.append(" ]}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("design", help="the design verified, as a path from the repository root")
    parser.add_argument("report", type=Path, help="netsim verify -f json output")
    parser.add_argument("--engine", required=True, help="the engine's version, e.g. 28.5.2")
    parser.add_argument("--seconds", type=float, default=None, help="how long verify took")
    args = parser.parse_args(argv)
    design = Path(args.design).resolve().relative_to(ROOT).as_posix()
    path = RECORDS / f"{Path(design).stem}.json"
    record = json.loads(path.read_text()) if path.exists() else {"design": design, "how": HOW, "runs": []}
    if record["design"] != design:
        raise SystemExit(f"{path.relative_to(ROOT)} records {record['design']}, not {design}")
    run = run_of(json.loads(args.report.read_text()), args.engine, args.seconds)
    record["runs"] = sorted([r for r in record["runs"] if r["engine"] != args.engine] + [run], key=lambda r: r["engine"])
    path.write_text(dump(record))
    print(f"wrote {path.relative_to(ROOT)}: {args.engine}, {len(run['observed'])} observations", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
