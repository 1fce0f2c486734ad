"""Build the probe image ``netsim-probe:1`` locally: no registry is needed.

The image is a tar root filesystem holding the host's static busybox (Debian's
``busybox-static``), every applet as a symlink, an ``ident`` script for ``nc -e`` and,
when a C compiler with a static libc is present, the ``nsagent`` helper compiled from
``probe/nsagent.c`` (one process serving every TCP and UDP listener, and a concurrent
batch prober).  Without ``nsagent`` the image still works for TCP through busybox ``nc``;
UDP probes are then reported as unsupported.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import EngineUnavailable

DEFAULT_PROBE_IMAGE = "netsim-probe:1"
AGENT_SOURCE = Path(__file__).with_name("probe") / "nsagent.c"
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
LABEL_UDP = "netsim.probe.udp"
LABEL_REV = "netsim.probe.rev"

IDENT_SCRIPT = '#!/bin/sh\necho "${NAME:-$(hostname)} saw tcp"\n'


@dataclass(frozen=True, slots=True)
class ImageBuild:
    """What went into a freshly built image."""

    name: str
    udp: bool  # nsagent included
    notes: tuple[str, ...] = ()


def image_revision() -> str:
    """A digest of what goes into the image, so a stale default image gets rebuilt."""
    digest = hashlib.sha256(AGENT_SOURCE.read_bytes() + IDENT_SCRIPT.encode() + b"layout-1")
    return digest.hexdigest()[:12]


def find_static_busybox() -> str:
    """The path of a statically linked busybox, or EngineUnavailable naming the fix."""
    for path in BUSYBOX_CANDIDATES:
        if os.path.isfile(path) and _is_static(path):
            return path
    raise EngineUnavailable(
        "cannot build the probe image: no statically linked busybox found at "
        f"{' or '.join(BUSYBOX_CANDIDATES)}; install busybox-static "
        "(apt-get install busybox-static) or pass --probe-image IMAGE"
    )


def _is_static(path: str) -> bool:
    """True when the ELF file has no PT_INTERP segment (no dynamic loader)."""
    with open(path, "rb") as fh:
        head = fh.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit ELF only
            return False
        phoff = int.from_bytes(head[32:40], "little")
        phentsize = int.from_bytes(head[54:56], "little")
        phnum = int.from_bytes(head[56:58], "little")
        fh.seek(phoff)
        table = fh.read(phentsize * phnum)
    return all(int.from_bytes(table[i : i + 4], "little") != 3 for i in range(0, len(table), phentsize))


def compile_agent(out: Path) -> str | None:
    """Compile nsagent statically into ``out``; a note explaining why not, or None on success."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        return "no C compiler (gcc): UDP listeners/probes unavailable; install gcc and libc6-dev"
    proc = subprocess.run(
        [cc, "-O2", "-static", "-o", str(out), str(AGENT_SOURCE)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        return f"static build of nsagent failed (UDP unavailable): {proc.stderr.strip()[:300]}"
    return None


def rootfs_tar(busybox: str, agent: Path | None) -> bytes:
    """The image's root filesystem as an uncompressed tar archive."""
    listing = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ("bin", "etc", "tmp"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        tar.add(busybox, arcname="bin/busybox")
        for applet in sorted(set(listing.split())):
            if applet in ("busybox", "") or "/" in applet:
                continue
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)
        _add_bytes(tar, "bin/ident", IDENT_SCRIPT.encode(), 0o755)
        _add_bytes(tar, "etc/passwd", b"root:x:0:0:root:/:/bin/sh\n", 0o644)
        _add_bytes(tar, "etc/group", b"root:x:0:\n", 0o644)
        if agent is not None:
            tar.add(str(agent), arcname="bin/nsagent")
    return buf.getvalue()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def needs_build(api, name: str = DEFAULT_PROBE_IMAGE) -> bool:
    """Would ``ensure_image`` build ``name``: netsim's default image missing, or from an
    older netsim (another revision)?  Any other image is never built."""
    from docker.errors import ImageNotFound

    if name != DEFAULT_PROBE_IMAGE:
        return False
    try:
        labels = (api.inspect_image(name).get("Config") or {}).get("Labels") or {}
    except ImageNotFound:
        return True
    return labels.get(LABEL_REV) != image_revision()


def build_probe_image(api, name: str = DEFAULT_PROBE_IMAGE) -> ImageBuild:
    """Build and import the image through a docker ``APIClient``."""
    busybox = find_static_busybox()
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="netsim-img-") as tmp:
        agent = Path(tmp) / "nsagent"
        note = compile_agent(agent)
        if note:
            notes.append(note)
        data = rootfs_tar(busybox, None if note else agent)
    repo, _, tag = name.rpartition(":") if ":" in name.split("/")[-1] else (name, "", "latest")
    changes = [
        'CMD ["/bin/sh"]',
        "ENV PATH=/bin",
        "LABEL netsim.probe-image=1",
        f"LABEL {LABEL_UDP}={'1' if not note else '0'}",
        f"LABEL {LABEL_REV}={image_revision()}",
    ]
    api.import_image_from_data(data, repository=repo, tag=tag, changes=changes)
    return ImageBuild(name=name, udp=not note, notes=tuple(notes))
