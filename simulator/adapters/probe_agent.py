"""What runs inside probe containers, and the Python prober for the host and the LAN peer.

* :func:`listener_command`: the probe container's command.  With ``nsagent`` in the image,
  one process serves every TCP and UDP listener; otherwise busybox ``nc -ll -e ident``
  serves each TCP port (UDP then has no listener).  Each answer starts with the design
  container's name, so the prober knows *who* answered.
* :func:`prepare_script`: one exec per source container that prints its default gateway
  and resolves every name it will dial (busybox ``nslookup``, concurrently, bounded).
* :func:`probe_script`: one exec per source container that dials every probe concurrently
  (``nsagent probe``; fallback: ``xargs -P`` over ``timeout 2 nc -w 1``).
* :func:`probe_sockets` / ``python -m simulator.adapters.probe_agent``: the same batch in
  Python, for the host's namespace and (via ``ip netns exec``) the LAN peer.

Result lines are ``ID STATUS [ANSWER]``: STATUS is OK, REFUSED, TIMEOUT, EMPTY, ERR or
UNSUPPORTED; :func:`parse_results` reads them.

Both scripts print everything at once between ``BEGIN`` and ``END`` lines: the
engine can lose the first bytes of an exec's output on a busy machine (moby/moby#27289,
"Output from stdout for `docker exec` sometimes isn't returned"), so a caller tells a
complete answer from a truncated one and runs the exec again instead of reading a lost
line as "no gateway" or "did not resolve".

Timeouts: the first pass dials with :data:`TIMEOUT_MS` and looks names up with
:data:`DNS_TIMEOUT_S`; the retry pass (see ``simulator/verify/session.py``) uses the
longer :data:`RETRY_TIMEOUT_MS` / :data:`RETRY_DNS_TIMEOUT_S`.
"""

from __future__ import annotations

import errno
import json
import os
import re
import selectors
import shlex
import socket
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

TIMEOUT_MS = 1000
RETRY_TIMEOUT_MS = 5000
DNS_TIMEOUT_S = 2
RETRY_DNS_TIMEOUT_S = 6
READY_WAIT_S = 15  # how long a container may take to bind its listeners before probing starts
NC_PARALLEL = 48
DNS_PARALLEL = 16
BEGIN = "NETSIM_BEGIN"
END = "NETSIM_END"


@dataclass(frozen=True, slots=True)
class Dial:
    """One dial: an id for matching the answer, protocol, address and port."""

    id: str
    protocol: str
    address: str
    port: int

    def line(self) -> str:
        return f"{self.id} {self.protocol} {self.address} {self.port}"


@dataclass(frozen=True, slots=True)
class DialResult:
    id: str
    status: str  # OK | REFUSED | TIMEOUT | EMPTY | ERR | UNSUPPORTED
    answer: str = ""

    @property
    def responder(self) -> str | None:
        """The identity in the answer (``NAME saw ...``), or None."""
        if self.status != "OK" or not self.answer.strip():
            return None
        return self.answer.split()[0]


def listener_command(identity: str, listeners: Iterable[tuple[int, str]], dns_stub: bool = False) -> tuple[str, ...]:
    """The probe container's command: serve every (port, protocol) answering ``identity``.

    ``dns_stub``: also answer NXDOMAIN on 127.0.0.1:53/udp, the upstream the embedded DNS
    forwards unknown names to (only for containers with a namespace of their own)."""
    specs = sorted({(int(p), proto) for p, proto in listeners if proto in ("tcp", "udp")})
    agent_args = " ".join(f"{proto}:{port}" for port, proto in specs) + (" dnsstub" if dns_stub else "")
    fallback = "".join(
        f"nc -ll -p {port} -e /bin/ident & " for port, proto in specs if proto == "tcp"
    )
    script = (
        f"if [ -x /bin/nsagent ]; then exec /bin/nsagent serve \"$NAME\" {agent_args}; fi; "
        f"{fallback}exec sleep 2147483647"
    )
    return ("/bin/sh", "-c", script)


def prepare_script(names: Sequence[str], listeners: Sequence[tuple[int, str]] = (),
                   dns_timeout: int = DNS_TIMEOUT_S, names6: Sequence[str] = ()) -> str:
    """Print ``GW <addr>``, ``GW6 <addr>``, ``NS <nameserver>`` lines and one line per name
    (framed by ``BEGIN``/``END``).

    Per name: ``NAME <name> <addr>...`` (resolved; no address: the server answered without
    one), ``NXNAME <name>`` (NXDOMAIN: final) or ``DNSTIMEOUT <name>`` (no answer within
    ``dns_timeout`` seconds: transient, worth a retry); ``names6`` are looked up for AAAA
    records the same way, their lines ``NAME6``, ``NXNAME6``, ``DNSTIMEOUT6``.  Names are
    looked up only when every nameserver is a loopback address (the embedded DNS 127.0.0.11,
    or the 127.0.0.1 netsim sets): never the machine's real resolver.

    ``listeners``: first wait (at most :data:`READY_WAIT_S` s, polling the namespace's socket
    table) until every ``(port, protocol)`` is bound, then print ``READY`` or
    ``NOTREADY tcp:80 ...``: probing starts only once the targets listen.
    """
    lines = ["out=$({"]
    checks = []
    for port, proto in sorted(set((int(p), pr) for p, pr in listeners if pr in ("tcp", "udp"))):
        files = "/proc/net/tcp /proc/net/tcp6" if proto == "tcp" else "/proc/net/udp /proc/net/udp6"
        state = "0A" if proto == "tcp" else "07"
        checks.append((f"{proto}:{port}", f"grep -qs ':{port:04X} [0-9A-F]*:[0-9A-F]* {state} ' {files}"))
    if checks:
        lines.append(f"n=0; while [ $n -lt {READY_WAIT_S * 20} ]; do")
        lines.append("  ok=1; " + " ".join(f"{test} || ok=0;" for _, test in checks))
        lines.append("  [ $ok = 1 ] && break; n=$((n+1)); sleep 0.05")
        lines.append("done")
        lines.append("miss=''; " + " ".join(f"{test} || miss=\"$miss {label}\";" for label, test in checks))
        lines.append('if [ -z "$miss" ]; then echo READY; else echo "NOTREADY$miss"; fi')
    lines += [
        "ip -4 route show default 2>/dev/null | sed -n 's/^default via \\([0-9.]*\\).*/GW \\1/p'",
        "ip -6 route show default 2>/dev/null | sed -n 's/^default via \\([0-9a-fA-F:]*\\).*/GW6 \\1/p'",
        "sed -n 's/^nameserver[ \\t]*\\([^ \\t]*\\).*/NS \\1/p' /etc/resolv.conf 2>/dev/null",
    ]
    if names or names6:
        t = max(1, int(dns_timeout))
        lines += [
            "if grep '^nameserver' /etc/resolv.conf | grep -qv '^nameserver[ \t]*127\\.'; then",
            "  echo 'NSERR non-loopback nameserver: names not looked up'",
            "else",
            "  {",
        ]
        for batch, kind, suffix, chars in ((names, "a", "", "[0-9.]"), (names6, "aaaa", "6", "[0-9a-fA-F:.]")):
            if not batch:
                continue
            quoted = " ".join(shlex.quote(n) for n in batch)
            lines.append(
                f"  printf '%s\\n' {quoted} | xargs -P {DNS_PARALLEL} -n 1 sh -c "
                + shlex.quote(
                    f'out=$(timeout {t + 2} nslookup -type={kind} -timeout={t} -retry=1 "$0" 2>&1); '
                    f"a=$(echo \"$out\" | sed -n '/^Name:/,$ s/^Address:[ \\t]*\\({chars}*\\).*/\\1/p' | tr '\\n' ' '); "
                    f'if [ -n "$a" ]; then echo "NAME{suffix} $0 $a"; '
                    f'else case "$out" in *NXDOMAIN*) echo "NXNAME{suffix} $0";; '
                    f'*"timed out"*|*"no servers"*|"") echo "DNSTIMEOUT{suffix} $0";; '
                    f'*) echo "NAME{suffix} $0";; esac; fi'
                )
                + " &"
            )
        lines += ["  wait", "  }", "fi"]
    lines.append("} 2>/dev/null)")
    # everything at once, then the end marker (a truncated answer is told from a complete one)
    lines.append(f'printf "{BEGIN}\\n%s\\n{END}\\n" "$out"')
    return "\n".join(lines) + "\n"


def probe_script(dials: Sequence[Dial], udp_supported: bool = True, timeout_ms: int = TIMEOUT_MS) -> str:
    """One shell script dialling every probe concurrently and printing one line per dial,
    all at once, framed by ``BEGIN``/``END``."""
    agent_input = "\n".join(d.line() for d in dials)
    nc_input = "\n".join(d.line() for d in dials if d.protocol == "tcp")
    udp_lines = "\n".join(f"echo '{d.id} UNSUPPORTED no-udp-prober'" for d in dials if d.protocol == "udp")
    wait_s = max(1, -(-int(timeout_ms) // 1000))
    one = (
        f'out=$(timeout {wait_s + 1} nc -w {wait_s} "$2" "$3" </dev/null 2>&1); rc=$?; '
        'case "$out" in *refused*) echo "$0 REFUSED";; '
        '"") if [ $rc = 0 ]; then echo "$0 EMPTY"; else echo "$0 TIMEOUT"; fi;; '
        '*"can'"'"'t connect"*|*timed\\ out*) echo "$0 TIMEOUT";; '
        '*) echo "$0 OK $(echo "$out" | head -n 1)";; esac'
    )
    return (
        "out=$(\n"
        "if [ -x /bin/nsagent ]; then\n"
        f"/bin/nsagent probe {int(timeout_ms)} <<'NETSIM_EOF'\n{agent_input}\nNETSIM_EOF\n"
        "else\n"
        + (f"{udp_lines}\n" if udp_lines else "")
        + (
            f"xargs -P {NC_PARALLEL} -n 4 sh -c {shlex.quote(one)} <<'NETSIM_EOF'\n{nc_input}\nNETSIM_EOF\n"
            if nc_input
            else ""
        )
        + "fi\n"
        + ")\n"
        + f'printf "{BEGIN}\\n%s\\n{END}\\n" "$out"\n'
    )


def complete(text: str) -> bool:
    """The exec's output starts with the begin marker and ends with the end marker (nothing of
    it was lost on the way)."""
    lines = text.strip().splitlines()
    return len(lines) >= 2 and lines[0].strip() == BEGIN and lines[-1].strip() == END


_LINE = re.compile(r"^(\S+) (OK|REFUSED|TIMEOUT|EMPTY|ERR|UNSUPPORTED)(?: (.*))?$")


def parse_results(text: str) -> dict[str, DialResult]:
    """Read ``ID STATUS [ANSWER]`` lines; anything else is ignored."""
    out: dict[str, DialResult] = {}
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if m:
            out[m.group(1)] = DialResult(m.group(1), m.group(2), (m.group(3) or "").strip())
    return out


@dataclass(frozen=True, slots=True)
class Prepared:
    """What :func:`prepare_script` printed: gateway, nameservers, addresses per name."""

    gateway: str | None
    nameservers: tuple[str, ...]
    names: dict[str, tuple[str, ...]]
    note: str = ""
    dns_timeouts: frozenset[str] = frozenset()  # no answer in time (transient)
    nxdomain: frozenset[str] = frozenset()  # the server said: no such name (final)
    not_ready: tuple[str, ...] = ()  # listeners still not bound after the wait
    complete: bool = True  # the end marker arrived (False: output was lost, run it again)
    gateway6: str | None = None  # the IPv6 default gateway
    names6: dict[str, tuple[str, ...]] = field(default_factory=dict)  # AAAA answers per name
    dns_timeouts6: frozenset[str] = frozenset()
    nxdomain6: frozenset[str] = frozenset()

    def lookup(self, family: int) -> tuple[dict[str, tuple[str, ...]], frozenset[str], frozenset[str]]:
        """(addresses per name, names that timed out, NXDOMAIN names) of one family's lookups."""
        if family == 6:
            return self.names6, self.dns_timeouts6, self.nxdomain6
        return self.names, self.dns_timeouts, self.nxdomain


def parse_prepared(text: str) -> Prepared:
    gateways: dict[str, str] = {}
    servers, note = [], ""
    found: dict[str, dict[str, tuple[str, ...]]] = {"": {}, "6": {}}
    timeouts: dict[str, set[str]] = {"": set(), "6": set()}
    nx: dict[str, set[str]] = {"": set(), "6": set()}
    address = {"": r"[0-9.]+", "6": r"[0-9a-fA-F:.]*:[0-9a-fA-F:.]*"}
    not_ready: tuple[str, ...] = ()
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        word, six = parts[0].removesuffix("6"), "6" if parts[0].endswith("6") else ""
        if word == "GW" and len(parts) > 1:
            gateways.setdefault(six, parts[1])
        elif parts[0] == "NS" and len(parts) > 1:
            servers.append(parts[1])
        elif word == "NAME" and len(parts) > 1:
            found[six][parts[1]] = tuple(a for a in parts[2:] if re.fullmatch(address[six], a))
        elif word == "NXNAME" and len(parts) > 1:
            found[six][parts[1]] = ()
            nx[six].add(parts[1])
        elif word == "DNSTIMEOUT" and len(parts) > 1:
            found[six][parts[1]] = ()
            timeouts[six].add(parts[1])
        elif parts[0] == "NOTREADY":
            not_ready = tuple(parts[1:])
        elif parts[0] == "NSERR":
            note = line[6:]
    return Prepared(gateways.get(""), tuple(servers), found[""], note, frozenset(timeouts[""]), frozenset(nx[""]),
                    not_ready, complete(text), gateways.get("6"), found["6"], frozenset(timeouts["6"]),
                    frozenset(nx["6"]))


def probe_sockets(dials: Sequence[Dial], timeout: float = TIMEOUT_MS / 1000) -> dict[str, DialResult]:
    """Dial every probe concurrently from the current network namespace (Python sockets; an
    address with a colon is dialled over IPv6)."""
    sel = selectors.DefaultSelector()
    results: dict[str, DialResult] = {}
    pending: dict[int, tuple[Dial, socket.socket, float]] = {}

    def done(d: Dial, s: socket.socket, status: str, answer: str = "") -> None:
        results[d.id] = DialResult(d.id, status, answer)
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        pending.pop(s.fileno(), None)
        s.close()

    for d in dials:
        udp = d.protocol == "udp"
        family = socket.AF_INET6 if ":" in d.address else socket.AF_INET
        s = socket.socket(family, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        s.setblocking(False)
        start = time.monotonic()
        try:
            err = s.connect_ex((d.address, d.port))
            if err not in (0, errno.EINPROGRESS):
                results[d.id] = _failure(d.id, err)
                s.close()
                continue
            if udp:
                s.send(b"netsim\n")
                sel.register(s, selectors.EVENT_READ, d)
            else:
                sel.register(s, selectors.EVENT_WRITE if err else selectors.EVENT_READ, d)
        except OSError as exc:
            results[d.id] = _failure(d.id, exc.errno or 0)
            s.close()
            continue
        pending[s.fileno()] = (d, s, start)

    while pending:
        for key, events in sel.select(timeout=0.05):
            d, s = key.data, cast(socket.socket, key.fileobj)  # only sockets are registered
            if events & selectors.EVENT_WRITE:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    f = _failure(d.id, err)
                    done(d, s, f.status, f.answer)
                else:
                    sel.modify(s, selectors.EVENT_READ, d)
                continue
            try:
                data = s.recv(600)
            except BlockingIOError:
                continue
            except OSError as exc:
                f = _failure(d.id, exc.errno or 0)
                done(d, s, f.status, f.answer)
                continue
            if not data:
                done(d, s, "EMPTY")
            else:
                done(d, s, "OK", data.decode(errors="replace").splitlines()[0].strip())
        now = time.monotonic()
        for d, s, start in list(pending.values()):
            if now - start >= timeout:
                done(d, s, "TIMEOUT")
    sel.close()
    return results


def _failure(dial_id: str, err: int) -> DialResult:
    """A failed dial as a result line: refused, or ERR with the system's words."""
    if err == errno.ECONNREFUSED:
        return DialResult(dial_id, "REFUSED")
    return DialResult(dial_id, "ERR", os.strerror(err) if err else "unknown error")


def main() -> None:
    """``python -m simulator.adapters.probe_agent [TIMEOUT_MS]``: dials JSON
    ``[[id, proto, addr, port]...]`` from stdin and prints result lines, then ``END`` (used
    inside the LAN peer's and the extra hosts' namespaces)."""
    timeout_ms = int(sys.argv[1]) if len(sys.argv) > 1 else TIMEOUT_MS
    dials = [Dial(str(i), p, a, int(port)) for i, p, a, port in json.load(sys.stdin)]
    print(BEGIN)
    for r in probe_sockets(dials, timeout_ms / 1000).values():
        print(f"{r.id} {r.status} {r.answer}".rstrip())
    print(END)


if __name__ == "__main__":
    main()
