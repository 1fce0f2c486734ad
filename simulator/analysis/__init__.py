"""Answers computed from the simulated world: pure, no I/O.

    probes.py        one source dialling one target one way (the matrix's unit)
    classes.py       containers that behave alike up to their addresses
    reachability.py  the reachability matrix (per probe, or per pair of classes)
    roundrobin.py    a name with several records, dialled by members holding one of them (replicas)
    mesh.py          the routing mesh: a swarm service's port published in ingress mode, on every node
    coarse.py        the matrix's wide groups, computed per destination segment (large designs)
    counts.py        target classes with counts shared between coarse groups (a bundle's base, less parts)
    exposure.py      which listeners are reachable from outside their networks
    paths.py         every way one source can dial one target, with traces
    addressing.py    each container's interfaces, addresses, gateway, names, ports
    listeners.py     where each listener was learnt; containers whose listeners are unknown
"""

__all__ = ["addressing", "classes", "coarse", "counts", "exposure", "listeners", "mesh", "paths", "probes", "reachability", "roundrobin"]
