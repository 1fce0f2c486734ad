"""Docker's semantics, simulated: addressing, names, netfilter rules, namespaces and the walk of
one connection through them, per engine version.  Pure: no I/O.

    versions.py   engine versions and what changed between them
    ipam.py       address allocation as Docker's default IPAM does it
    ipam6.py      the IPv6 side of it: dual-stack networks' subnets and addresses
    dns.py        the embedded DNS server's answers
    rules.py      the netfilter rules an engine programs
    netfilter.py  a small iptables that evaluates them
    topology.py   the simulated machines (the World)
    ondemand.py   a dict whose entries are made when first read (a world laid out as far as it is read)
    walk.py       one connection attempt, hop by hop
    trace.py      the typed record of a walk (Trace → Hop → Step)
    checks.py     what the engine would refuse
"""

__all__ = ["checks", "dns", "ipam", "ipam6", "netfilter", "ondemand", "rules", "topology", "trace", "versions", "walk"]
