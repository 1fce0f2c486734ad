"""What the local kernel supports, read from its build configuration (no side effects: nothing here creates a link)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from ..model import KernelFeatures

_OPTIONS = {"ipvlan": "CONFIG_IPVLAN", "vlan": "CONFIG_VLAN_8021Q", "dummy": "CONFIG_DUMMY"}


def _config_text() -> tuple[str, str] | None:
    proc = Path("/proc/config.gz")
    if proc.exists():
        try:
            return gzip.decompress(proc.read_bytes()).decode("utf-8", "replace"), "/proc/config.gz"
        except OSError:
            return None
    boot = Path(f"/boot/config-{os.uname().release}")
    if boot.exists():
        return boot.read_text(errors="replace"), str(boot)
    return None


def local_kernel() -> KernelFeatures | None:
    """The local kernel's features, or None when its configuration cannot be read."""
    found = _config_text()
    if found is None:
        return None
    text, where = found
    enabled = {line.split("=", 1)[0] for line in text.splitlines() if line.endswith(("=y", "=m"))}
    flags = {name: option in enabled for name, option in _OPTIONS.items()}
    return KernelFeatures(**flags, source=f"this machine's kernel, per {where}")


_LINK_OPTIONS = {"macvlan": "CONFIG_MACVLAN", "ipvlan": "CONFIG_IPVLAN", "vlan": "CONFIG_VLAN_8021Q"}
_MODULES = {"macvlan": "macvlan", "ipvlan": "ipvlan", "vlan": "8021q"}


def link_capabilities():
    """Which link types this machine could create (macvlan, ipvlan, 802.1q), read only.

    For ``deploy --dry-run``, which must touch nothing: the kernel's build configuration
    (/proc/config.gz or /boot/config-*), else the modules already loaded (/sys/module),
    else :class:`~simulator.deploy.plan.Capabilities`' defaults.  Returns
    ``(capabilities, where it was read)``.  (A real deploy tries the links instead,
    :func:`simulator.adapters.lanpeer.kernel_capabilities`.)
    """
    from ..deploy.plan import Capabilities

    found = _config_text()
    if found is not None:
        text, where = found
        enabled = {line.split("=", 1)[0] for line in text.splitlines() if line.endswith(("=y", "=m"))}
        return Capabilities(**{k: opt in enabled for k, opt in _LINK_OPTIONS.items()}), where
    sysmod = Path("/sys/module")
    if sysmod.is_dir():
        flags = {k: (sysmod / mod).exists() for k, mod in _MODULES.items()}
        if any(flags.values()):
            return Capabilities(**flags), "/sys/module (modules loaded now)"
    return Capabilities(), "defaults (the kernel's configuration is not readable)"
