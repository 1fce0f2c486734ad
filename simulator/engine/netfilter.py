"""A small iptables (and ip6tables): rules written as `iptables -S` lines, evaluated against a packet.

One ruleset holds one address family: a host's iptables rules, or its ip6tables rules (the same
syntax, IPv6 prefixes, ``--to-destination [address]:port``). Rules are generated (see :mod:`simulator.engine.rules`) in the exact syntax the engine
programs, so a trace quotes the rule that decided and the generated tables can be
compared line by line with ``iptables-save`` on a real host.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, fields
from functools import lru_cache
from ipaddress import ip_address, ip_network

from ..errors import ArgumentError
from ..values import quick_init
from .trace import Address, Prefix


@quick_init
@dataclass(frozen=True, slots=True)
class Packet:
    src: Address
    dst: Address
    proto: str
    dport: int
    in_iface: str | None = None  # None in OUTPUT (locally generated)
    out_iface: str | None = None
    ctstate: str = "NEW"
    dst_local: bool = False  # addrtype --dst-type LOCAL
    src_local: bool = False

    def with_(self, **changes) -> Packet:
        """A copy with ``changes`` (fields by name), built directly: dataclasses.replace was a hot spot of the walk."""
        assert changes.keys() <= _PACKET_FIELDS, f"Packet has no field {sorted(changes.keys() - _PACKET_FIELDS)}"
        get = changes.get
        return Packet(get("src", self.src), get("dst", self.dst), get("proto", self.proto), get("dport", self.dport),
                      get("in_iface", self.in_iface), get("out_iface", self.out_iface), get("ctstate", self.ctstate),
                      get("dst_local", self.dst_local), get("src_local", self.src_local))

    # the walk's own copies, built directly (a copy per namespace and chain crossed)
    def via(self, in_iface: str | None, out_iface: str | None) -> Packet:
        """The packet coming in through ``in_iface`` and going out of ``out_iface``."""
        return Packet(self.src, self.dst, self.proto, self.dport, in_iface, out_iface, self.ctstate,
                      self.dst_local, self.src_local)

    def local(self, dst_local: bool) -> Packet:
        """The packet with its destination (not) local to the namespace (``addrtype --dst-type LOCAL``)."""
        return Packet(self.src, self.dst, self.proto, self.dport, self.in_iface, self.out_iface, self.ctstate,
                      dst_local, self.src_local)


_PACKET_FIELDS = frozenset(f.name for f in fields(Packet))


@quick_init
@dataclass(frozen=True, slots=True)
class Rule:
    chain: str
    text: str  # the rule as `iptables -S` prints it
    target: str
    in_iface: tuple[bool, str] | None = None  # (negated, name)
    out_iface: tuple[bool, str] | None = None
    src: tuple[bool, Prefix] | None = None
    dst: tuple[bool, Prefix] | None = None
    proto: str | None = None
    dport: int | None = None
    ctstates: frozenset[str] | None = None
    dst_type_local: bool | None = None
    src_type_local: bool | None = None
    to_destination: tuple[Address, int] | None = None

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


def _net_ok(cond: tuple[bool, Prefix] | None, addr: Address) -> bool:
    if cond is None:
        return True
    negated, net = cond
    hit = addr in net
    return not hit if negated else hit


@lru_cache(maxsize=4096)
def _network(text: str) -> Prefix:
    """A rule's -s/-d prefix, of either family (one subnet is named by several rules: parsed once)."""
    return ip_network(text, strict=False)


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
            host, _, port = arg.rpartition(":")  # ip6tables writes [address]:port
            fields["to_destination"] = (ip_address(host.strip("[]")), int(port))
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


@quick_init
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
    """The one packet field a rule needs to equal (so it can be indexed), if any: its destination
    address (a /32, or /128), its outgoing or incoming interface, its source network or its port."""
    if rule.dst is not None and not rule.dst[0] and rule.dst[1].prefixlen == rule.dst[1].max_prefixlen:
        return ("d", int(rule.dst[1].network_address))
    if rule.out_iface is not None and not rule.out_iface[0]:
        return ("o", rule.out_iface[1])
    if rule.in_iface is not None and not rule.in_iface[0]:
        return ("i", rule.in_iface[1])
    if rule.src is not None and not rule.src[0]:
        return ("s", (rule.src[1].prefixlen, int(rule.src[1].network_address)))
    if rule.dport is not None:
        return ("p", rule.dport)
    return None


_MEMO = 1 << 16  # candidate lists remembered per chain (bounded: one per pair of interfaces and indexed field seen)
_RETURN, _TERMINAL, _JUMP = 0, 1, 2

# A rule ready to be matched fast: (rule, what its target does, then its conditions, addresses as integers)
#   (rule, action, in_iface, out_iface, src, dst, proto, dport, ctstates, dst_type_local, src_type_local)
# with in/out_iface (negated, name) and src/dst (negated, network, netmask), or None: :meth:`Rule.matches`.
_Compiled = tuple


def _compile(rule: Rule) -> _Compiled:
    action = _RETURN if rule.target == "RETURN" else _TERMINAL if rule.target in TERMINAL else _JUMP
    nets = [None if c is None else (c[0], int(c[1].network_address), int(c[1].netmask)) for c in (rule.src, rule.dst)]
    return (rule, action, rule.in_iface, rule.out_iface, nets[0], nets[1], rule.proto, rule.dport, rule.ctstates,
            rule.dst_type_local, rule.src_type_local)


class _ChainIndex:
    """A chain's rules (compiled) by the one field they need to equal, and the candidate lists already asked for."""

    __slots__ = ("buckets", "by_dst", "by_port", "by_src", "memo", "src_masks")

    def __init__(self, rules: list[Rule]):
        self.buckets: dict[tuple | None, list[tuple[int, _Compiled]]] = {}  # None, ("o", name), ("i", name)
        self.by_dst: dict[int, list[tuple[int, _Compiled]]] = {}
        self.by_src: dict[tuple[int, int], list[tuple[int, _Compiled]]] = {}  # (prefix length, network)
        self.by_port: dict[int, list[tuple[int, _Compiled]]] = {}
        for pos, rule in enumerate(rules):
            bucket, item = _bucket(rule), (pos, _compile(rule))
            kind = bucket[0] if bucket is not None else None
            if kind == "d":
                self.by_dst.setdefault(bucket[1], []).append(item)  # type: ignore[index]
            elif kind == "s":
                self.by_src.setdefault(bucket[1], []).append(item)  # type: ignore[index]
            elif kind == "p":
                self.by_port.setdefault(bucket[1], []).append(item)  # type: ignore[index]
            else:
                self.buckets.setdefault(bucket, []).append(item)
        self.src_masks = sorted({(r[4][2].bit_count(), r[4][2]) for items in self.by_src.values() for _, r in items})
        self.memo: dict[tuple, tuple[_Compiled, ...]] = {}

    def candidates(self, p: Packet, src: int, dst: int) -> tuple[_Compiled, ...]:
        """The rules that could match ``p`` (``src``/``dst``: its addresses as ints), in chain order."""
        sources: tuple = ()
        if self.src_masks:
            by_src = self.by_src
            for length, mask in self.src_masks:
                if (k := (length, src & mask)) in by_src:
                    sources += (k,)
        key = (p.out_iface, p.in_iface, dst if dst in self.by_dst else None, sources,
               p.dport if p.dport in self.by_port else None)
        found = self.memo.get(key)
        if found is None:
            picked = list(self.buckets.get(None, ()))
            for more in (self.buckets.get(("o", key[0])), self.buckets.get(("i", key[1])), self.by_dst.get(dst),
                         *(by_src[k] for k in sources), self.by_port.get(p.dport)):
                if more:
                    picked.extend(more)
            picked.sort(key=lambda item: item[0])
            if len(self.memo) >= _MEMO:
                self.memo.clear()
            found = self.memo[key] = tuple(compiled for _, compiled in picked)
        return found


@dataclass
class Table:
    name: str
    chains: dict[str, list[Rule]] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)
    _index: dict[str, _ChainIndex] = field(default_factory=dict, repr=False, compare=False)

    def add(self, line: str) -> None:
        rule = parse_rule(line)
        self.chains.setdefault(rule.chain, []).append(rule)
        self._index.clear()

    def insert(self, line: str) -> None:
        rule = parse_rule(line)
        self.chains.setdefault(rule.chain, []).insert(0, rule)
        self._index.clear()

    def _chain(self, chain: str) -> _ChainIndex:
        index = self._index.get(chain)
        if index is None:
            index = self._index[chain] = _ChainIndex(self.chains.get(chain, []))
        return index

    def _candidates(self, chain: str, p: Packet) -> list[Rule]:
        """Rules of ``chain`` that could match ``p``, in chain order (an index keeps this short)."""
        return [c[0] for c in self._chain(chain).candidates(p, int(p.src), int(p.dst))]

    def evaluate(self, chain: str, packet: Packet) -> Verdict:
        """Walk ``chain`` (a built-in chain) for ``packet``; the policy applies at the end."""
        verdict = None if not self.chains.get(chain) else self._walk(chain, packet, int(packet.src), int(packet.dst), (chain,), depth=0)
        if verdict is not None:
            return verdict
        policy = self.policies.get(chain, "ACCEPT")
        return Verdict(policy, None, (chain,), policy=policy)

    def _walk(self, chain: str, p: Packet, src: int, dst: int, path: tuple[str, ...], depth: int) -> Verdict | None:
        """The first verdict of ``chain`` for ``p`` (``src``/``dst`` its addresses as ints); None when it returns.
        The conditions are :meth:`Rule.matches`, written out on the compiled rule (the walk's innermost loop)."""
        if depth > 16:
            raise RecursionError(f"iptables chain loop through {path}")
        in_iface, out_iface = p.in_iface, p.out_iface
        for rule, action, in_c, out_c, src_c, dst_c, proto, dport, ctstates, dst_local, src_local in \
                self._chain(chain).candidates(p, src, dst):
            if (
                (in_c is not None and (in_iface == in_c[1]) == in_c[0])
                or (out_c is not None and (out_iface == out_c[1]) == out_c[0])
                or (src_c is not None and (src & src_c[2] == src_c[1]) == src_c[0])
                or (dst_c is not None and (dst & dst_c[2] == dst_c[1]) == dst_c[0])
                or (proto is not None and proto != p.proto)
                or (dport is not None and dport != p.dport)
                or (ctstates is not None and p.ctstate not in ctstates)
                or (dst_local is not None and dst_local != p.dst_local)
                or (src_local is not None and src_local != p.src_local)
            ):
                continue
            if action == _RETURN:
                return None
            if action == _TERMINAL:
                return Verdict(rule.target, rule, path)
            sub = self._walk(rule.target, p, src, dst, path + (rule.target,), depth + 1)
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
    managed: bool = True  # False: ip6tables the engine does not manage (no rule; the host's own policies)

    def save(self) -> str:
        """The ruleset in `iptables-save`-like form (sorted chains, rules in order)."""
        parts = []
        for table in (self.raw, self.nat, self.filter):
            parts.append(f"*{table.name}")
            parts.extend(table.lines())
            parts.append("COMMIT")
        return "\n".join(parts) + "\n"
