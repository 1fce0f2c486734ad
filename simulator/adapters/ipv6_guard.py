"""While IPv6 designs are deployed on this machine's engine: keep its multicast listener reports
off the uplink, and put the IPv6 forwarding settings back afterwards.

Creating the first ``enable_ipv6`` network makes the engine write 1 to
``net.ipv6.conf.all.forwarding`` and ``default.forwarding`` (writing ``all`` sets every
interface, the uplink included), and it never writes 0 back (confirmed-rules §18h,
libnetwork ``setupIPv6Forwarding`` at v20.10.24).  With forwarding on, the kernel sends MLD
reports (ICMPv6 types 131, 132 and 143) out of every interface.  So, before netsim creates
the first IPv6 network of a design on this machine's engine (:func:`hold`):

* the forwarding settings found (``all``, ``default`` and each interface's) are recorded in
  :data:`RECORD` (``/run/netsim/ipv6-forwarding.json``), with the design as a holder, unless a
  record exists already (another design holds IPv6 now: the record keeps what was found first);
* ip6tables ``OUTPUT -o <uplink> -p ipv6-icmp --icmpv6-type T -j DROP`` is inserted for T in
  131, 132, 143, each with the comment :data:`COMMENT`.

When the last holder is released (:func:`release`, from ``destroy``, in whichever process runs
it, also after Ctrl-C or a failed deploy) the settings are written back as found (``all``,
``default``, then each recorded interface that still exists), the rules are deleted and the
record goes.  The rules are never left without a record: :func:`remove_stale` (the stale-guard
cleanup of every deploy and destroy) deletes them when no record holds them.

Every function takes the command runner (``run``) and the record's path, so unit tests drive
the logic with fakes.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

RECORD = Path("/run/netsim/ipv6-forwarding.json")
COMMENT = "netsim-guard-mld"
MLD_TYPES = (131, 132, 143)  # MLD query response (v1 report), done, MLDv2 report
SYSCTL_ROOT = Path("/proc/sys/net/ipv6/conf")

Runner = Callable[..., subprocess.CompletedProcess]


def _run(argv: Sequence[str], check: bool = False, input: str | None = None,
         timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, input=input, timeout=timeout)


def read_forwarding(root: Path = SYSCTL_ROOT) -> dict[str, str]:
    """``net.ipv6.conf.<name>.forwarding`` for ``all``, ``default`` and every interface."""
    out: dict[str, str] = {}
    try:
        names = sorted(p.name for p in root.iterdir())
    except OSError:
        return out
    for name in names:
        try:
            out[name] = (root / name / "forwarding").read_text().strip()
        except OSError:
            continue
    return out


def write_forwarding(found: dict[str, str], root: Path = SYSCTL_ROOT) -> list[str]:
    """Write recorded values back: ``all`` first (it sets every interface), then ``default``, then
    each interface that still exists and now differs; what was written (``name=value``)."""
    written = []
    order = [k for k in ("all", "default") if k in found] + sorted(k for k in found if k not in ("all", "default"))
    for name in order:
        path = root / name / "forwarding"
        try:
            if name not in ("all", "default") and path.read_text().strip() == found[name]:
                continue
            path.write_text(found[name] + "\n")
            written.append(f"{name}={found[name]}")
        except OSError:
            continue
    return written


def _load(record: Path) -> dict | None:
    try:
        data = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _rule(uplink: str, icmp_type: int) -> list[str]:
    return ["OUTPUT", "-o", uplink, "-p", "ipv6-icmp", "-m", "icmp6", "--icmpv6-type", str(icmp_type),
            "-m", "comment", "--comment", COMMENT, "-j", "DROP"]


def rules_present(run: Runner = _run) -> list[str]:
    """The guard's rules now in ip6tables OUTPUT (as ``ip6tables -S`` prints them)."""
    proc = run(["ip6tables", "-S", "OUTPUT"], check=False)
    return [line for line in (proc.stdout or "").splitlines() if line.startswith("-A ") and COMMENT in line]


def hold(design: str, uplink: str | None, run: Runner = _run, record: Path = RECORD,
         root: Path = SYSCTL_ROOT) -> list[str]:
    """Before ``design`` creates its first IPv6 network on this machine's engine: record the
    forwarding settings (unless recorded already), drop MLD reports on ``uplink`` (None: this
    machine has no IPv6 default route, so nothing to drop), add the design as a holder; notes.

    Raises OSError when the record cannot be written: nothing IPv6 is created then."""
    notes = []
    data = _load(record)
    if data is None:
        data = {"found": read_forwarding(root), "holders": [], "uplink": uplink}
        notes.append("recorded net.ipv6.conf.{all,default}.forwarding = "
                     f"{data['found'].get('all', '?')}, {data['found'].get('default', '?')} (put back on destroy)")
    if design not in data["holders"]:
        data["holders"].append(design)
    uplink = uplink or data.get("uplink")
    data["uplink"] = uplink
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(data, indent=1, sort_keys=True))
    if uplink is not None and not rules_present(run):
        for t in MLD_TYPES:
            proc = run(["ip6tables", "-I", *_rule(uplink, t)], check=False)
            if proc.returncode != 0:
                notes.append(f"could not insert the ip6tables OUTPUT drop of ICMPv6 type {t} on {uplink}: "
                             f"{(proc.stderr or proc.stdout or '').strip()}")
        notes.append(f"ip6tables OUTPUT drops ICMPv6 types {', '.join(map(str, MLD_TYPES))} (MLD reports) "
                     f"out of {uplink} while IPv6 designs are deployed")
    return notes


def release(design: str, run: Runner = _run, record: Path = RECORD, root: Path = SYSCTL_ROOT) -> list[str]:
    """``design`` no longer has IPv6 networks on this machine's engine: drop it as a holder; when
    it was the last, write the forwarding settings back, delete the MLD rules and the record.
    What was done (empty when the design held nothing)."""
    data = _load(record)
    if data is None or design not in data.get("holders", []):
        return []
    data["holders"] = [h for h in data["holders"] if h != design]
    if data["holders"]:
        record.write_text(json.dumps(data, indent=1, sort_keys=True))
        return []
    written = write_forwarding(data.get("found") or {}, root)
    removed = _delete_rules(run)
    record.unlink(missing_ok=True)
    try:
        record.parent.rmdir()  # netsim's run directory goes with its last record
    except OSError:
        pass
    out = [f"IPv6 forwarding put back as found ({', '.join(written) or 'unchanged'})"]
    if removed:
        out.append(f"{removed} ip6tables OUTPUT MLD drop rule(s)")
    return out


def _delete_rules(run: Runner) -> int:
    count = 0
    for line in rules_present(run):
        if run(["ip6tables", "-D", *shlex.split(line[3:])], check=False).returncode == 0:
            count += 1
    return count


def remove_stale(run: Runner = _run, record: Path = RECORD) -> int:
    """Delete MLD drop rules that no record holds (a record's holders keep them); how many."""
    if os.geteuid() != 0 or _load(record) is not None:
        return 0
    return _delete_rules(run)


def holders(record: Path = RECORD) -> list[str]:
    """The designs holding IPv6 on this machine's engine now."""
    data = _load(record)
    return list(data.get("holders", [])) if data else []

