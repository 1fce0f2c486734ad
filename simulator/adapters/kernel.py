"""What the local kernel supports, read from its build configuration (no side effects)."""

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
