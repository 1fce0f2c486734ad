"""A small iptables: rules written as `iptables -S` lines, evaluated against a packet.

Rules are generated (see :mod:`simulator.engine.rules`) in the exact syntax the engine
programs, so a trace quotes the rule that decided and the generated tables can be
compared line by line with ``iptables-save`` on a real host.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network

from ..errors import ArgumentError


@dataclass(frozen=True, slots=True)
class Packet:
    src: IPv4Address
    dst: IPv4Address
    proto: str
    dport: int
    in_iface: str | None = None  # None in OUTPUT (locally generated)
    out_iface: str | None = None
    ctstate: str = "NEW"
    dst_local: bool = False  # addrtype --dst-type LOCAL
    src_local: bool = False

    def with_(self, **changes) -> Packet:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Rule:
    chain: str
    text: str  # the rule as `iptables -S` prints it
    target: str
    in_iface: tuple[bool, str] | None = None  # (negated, name)
    out_iface: tuple[bool, str] | None = None
    src: tuple[bool, IPv4Network] | None = None
    dst: tuple[bool, IPv4Network] | None = None
    proto: str | None = None
    dport: int | None = None
    ctstates: frozenset[str] | None = None
    dst_type_local: bool | None = None
    src_type_local: bool | None = None
    to_destination: tuple[IPv4Address, int] | None = None

    def matches(self, p: Packet) -> bool:
        return (
            _iface_ok(self.in_iface, p.in_iface)
            and _iface_ok(self.out_iface, p.out_iface)
            and _net_ok(self.src, p.src)
            and _net_ok(self.dst, p.dst)
            and (self.proto is None or self.proto == p.proto)
            and (self.dport is None or self.dport == p.dport)
            and (self.ctstates is None or p.ctstate in self.ctstates)
            and (self.dst_type_local is None or self.dst_type_local == p.dst_local)
            and (self.src_type_local is None or self.src_type_local == p.src_local)
        )


def _iface_ok(cond: tuple[bool, str] | None, iface: str | None) -> bool:
    if cond is None:
        return True
    negated, name = cond
    hit = iface == name
    return not hit if negated else hit


def _net_ok(cond: tuple[bool, IPv4Network] | None, addr: IPv4Address) -> bool:
    if cond is None:
        return True
    negated, net = cond
    hit = addr in net
    return not hit if negated else hit


@lru_cache(maxsize=4096)
def _network(text: str) -> IPv4Network:
    """A rule's -s/-d prefix (one subnet is named by several rules: parsed once)."""
    return IPv4Network(text, strict=False)


def parse_rule(line: str) -> Rule:
    """Parse one ``-A CHAIN ...`` line (the subset of iptables syntax Docker uses)."""
    plain = line.isprintable() and not any(ch in line for ch in "\"'\\")  # spaces separate, nothing quoted
    tokens = line.split() if plain else shlex.split(line)  # the same tokens; shlex only when needed (speed)
    if len(tokens) < 2 or tokens[0] != "-A":
        raise ArgumentError(f"not an -A rule: {line!r}")
    chain = tokens[1]
    fields: dict = {}
    negate = False
    i = 2
    while i < len(tokens):
        tok = tokens[i]
        if tok == "!":
            negate = True
            i += 1
            continue
        arg = tokens[i + 1] if i + 1 < len(tokens) else ""
        if tok == "-i":
            fields["in_iface"] = (negate, arg)
        elif tok == "-o":
            fields["out_iface"] = (negate, arg)
        elif tok == "-s":
            fields["src"] = (negate, _network(arg))
        elif tok == "-d":
            fields["dst"] = (negate, _network(arg))
        elif tok == "-p":
            fields["proto"] = arg
        elif tok == "--dport":
            fields["dport"] = int(arg)
        elif tok == "--ctstate":
            fields["ctstates"] = frozenset(arg.split(","))
        elif tok == "--dst-type":
            fields["dst_type_local"] = not negate if arg == "LOCAL" else None
        elif tok == "--src-type":
            fields["src_type_local"] = not negate if arg == "LOCAL" else None
        elif tok == "-j":
            fields["target"] = arg
        elif tok == "--to-destination":
            host, _, port = arg.rpartition(":")
            fields["to_destination"] = (IPv4Address(host), int(port))
        elif tok in ("-m", "--comment"):
            pass  # match module names and comments carry no condition of their own
        else:
            raise ArgumentError(f"unsupported iptables token {tok!r} in {line!r}")
        negate = False
        i += 2
    if "target" not in fields:
        raise ArgumentError(f"rule without -j: {line!r}")
    return Rule(chain=chain, text=line, **fields)


BUILTIN_CHAINS = {
    "raw": ("PREROUTING", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
}
TERMINAL = {"ACCEPT", "DROP", "REJECT", "DNAT", "MASQUERADE"}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of traversing a chain: a terminal target (or the policy) and why."""

    target: str  # ACCEPT | DROP | REJECT | DNAT | MASQUERADE | RETURN (fell through)
    rule: Rule | None  # the rule that decided, None when the policy decided
    path: tuple[str, ...]  # chains traversed, e.g. ("FORWARD", "DOCKER-ISOLATION-STAGE-1", ...)
    policy: str = ""

    def describe(self, table: str) -> str:
        if self.rule is not None:
            return f"-t {table} {self.rule.text}"
        return f"-t {table} -P {self.path[0]} {self.policy}"


def _bucket(rule: Rule) -> tuple | None:
    """The one packet field a rule needs to equal (so it can be indexed), if any."""
    if rule.dst is not None and not rule.dst[0] and rule.dst[1].prefixlen == 32:
        return ("d", rule.dst[1].network_address)
    if rule.out_iface is not None and not rule.out_iface[0]:
        return ("o", rule.out_iface[1])
    if rule.in_iface is not None and not rule.in_iface[0]:
        return ("i", rule.in_iface[1])
    return None


@dataclass
class Table:
    name: str
    chains: dict[str, list[Rule]] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)
    _index: dict[str, dict] = field(default_factory=dict, repr=False)

    def add(self, line: str) -> None:
        rule = parse_rule(line)
        self.chains.setdefault(rule.chain, []).append(rule)
        self._index.clear()

    def insert(self, line: str) -> None:
        rule = parse_rule(line)
        self.chains.setdefault(rule.chain, []).insert(0, rule)
        self._index.clear()

    def _candidates(self, chain: str, p: Packet) -> list[tuple[int, Rule]]:
        """Rules of ``chain`` that could match ``p``, in chain order (an index keeps this short)."""
        index = self._index.get(chain)
        if index is None:
            index = {}
            for pos, rule in enumerate(self.chains.get(chain, ())):
                index.setdefault(_bucket(rule), []).append((pos, rule))
            self._index[chain] = index
        found = list(index.get(None, ()))
        for key in (("d", p.dst), ("o", p.out_iface), ("i", p.in_iface)):
            extra = index.get(key)
            if extra:
                found.extend(extra)
        found.sort(key=lambda item: item[0])
        return found

    def evaluate(self, chain: str, packet: Packet) -> Verdict:
        """Walk ``chain`` (a built-in chain) for ``packet``; the policy applies at the end."""
        verdict = self._walk(chain, packet, (chain,), depth=0)
        if verdict is not None:
            return verdict
        policy = self.policies.get(chain, "ACCEPT")
        return Verdict(policy, None, (chain,), policy=policy)

    def _walk(self, chain: str, packet: Packet, path: tuple[str, ...], depth: int) -> Verdict | None:
        if depth > 16:
            raise RecursionError(f"iptables chain loop through {path}")
        for _, rule in self._candidates(chain, packet):
            if not rule.matches(packet):
                continue
            if rule.target == "RETURN":
                return None
            if rule.target in TERMINAL:
                return Verdict(rule.target, rule, path)
            sub = self._walk(rule.target, packet, path + (rule.target,), depth + 1)
            if sub is not None:
                return sub
        return None

    def lines(self) -> list[str]:
        out = [f"-P {c} {self.policies.get(c, 'ACCEPT')}" for c in BUILTIN_CHAINS[self.name]]
        jumped_to = {r.target for rules in self.chains.values() for r in rules if r.target not in TERMINAL | {"RETURN"}}
        for chain in sorted((set(self.chains) | jumped_to) - set(BUILTIN_CHAINS[self.name])):
            out.append(f"-N {chain}")  # every chain a rule jumps to is declared, even an empty one (iptables-restore needs it)
        for rules in self.chains.values():
            out.extend(r.text for r in rules)
        return out


@dataclass
class Ruleset:
    """The raw, nat and filter tables of one host."""

    raw: Table = field(default_factory=lambda: Table("raw"))
    nat: Table = field(default_factory=lambda: Table("nat"))
    filter: Table = field(default_factory=lambda: Table("filter"))

    def save(self) -> str:
        """The ruleset in `iptables-save`-like form (sorted chains, rules in order)."""
        parts = []
        for table in (self.raw, self.nat, self.filter):
            parts.append(f"*{table.name}")
            parts.extend(table.lines())
            parts.append("COMMIT")
        return "\n".join(parts) + "\n"
