"""A running engine as a design: import it, compare it with the intended design (drift),
and probe it in place without changing it (``verify --live``).

    snapshot.py      read the engine (inspect JSON, listening sockets from /proc): I/O
    importer.py      snapshot -> Design: a pure mapping, unit-tested with recorded JSON
    swarm_import.py  a swarm manager's services, tasks and nodes -> services, tasks, hosts (pure)
    writer.py        Design -> netsim YAML (deterministic)
    drift.py         intended Design vs imported Design: differences and their consequences
    live_observe.py  probe a running environment through helper containers (read-only)
"""

__all__ = ["drift", "importer", "live_observe", "snapshot", "swarm_import", "writer"]
