"""What the local kernel supports, read from its build configuration (no side effects: nothing here creates a link)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from ..model import KernelFeatures

_OPTIONS = {"ipvlan": "CONFIG_IPVLAN", "vlan": "CONFIG_VLAN_8021Q", "dummy": "CONFIG_DUMMY", "macvlan": "CONFIG_MACVLAN",
            "ipvs": "CONFIG_IP_VS"}


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


def _enabled(text: str) -> set[str]:
    return {line.split("=", 1)[0] for line in text.splitlines() if line.endswith(("=y", "=m"))}


def local_kernel() -> KernelFeatures | None:
    """The local kernel's features, or None when its configuration cannot be read."""
    found = _config_text()
    if found is None:
        return None
    text, where = found
    enabled = _enabled(text)
    flags = {name: option in enabled for name, option in _OPTIONS.items()}
    return KernelFeatures(**flags, source=f"this machine's kernel, per {where}")


_MODULES = {"macvlan": "macvlan", "ipvlan": "ipvlan", "vlan": "8021q", "ipvs": "ip_vs"}
UNREAD = KernelFeatures(ipvlan=False, source="defaults (the kernel's configuration is not readable)")


def link_capabilities() -> tuple[KernelFeatures, str]:
    """Which link types this machine could create (macvlan, ipvlan, 802.1q), read only.

    For ``deploy --dry-run``, which must touch nothing: the kernel's build configuration
    (/proc/config.gz or /boot/config-*), else the modules already loaded (/sys/module),
    else :data:`UNREAD` (no ipvlan, as deploy assumes when it cannot try).  Returns
    ``(features, where they were read)``.  (A real deploy tries the links instead,
    :func:`simulator.adapters.lanpeer.kernel_capabilities`.)
    """
    found = _config_text()
    if found is not None:
        text, where = found
        enabled = _enabled(text)
        flags = {k: opt in enabled for k, opt in _OPTIONS.items()}
        return KernelFeatures(**flags, source=f"this machine's kernel, per {where}"), where
    sysmod = Path("/sys/module")
    if sysmod.is_dir():
        flags = {k: (sysmod / mod).exists() for k, mod in _MODULES.items()}
        if any(flags.values()):
            where = "/sys/module (modules loaded now)"
            return KernelFeatures(**flags, source=f"this machine's kernel, per {where}"), where
    return UNREAD, UNREAD.source
