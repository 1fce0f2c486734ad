"""``--images``: read compose services' image metadata from the local Docker engine, when asked.

netsim reads no engine by default, so ``check`` and ``reach`` stay fast and work without Docker;
with ``--images`` the ``ExposedPorts`` of each image the engine already has are used (never pulled),
and an engine that cannot be reached is said in one line, the catalogue standing in.
"""

from __future__ import annotations

import typer

from ..errors import EngineError

__all__ = ["ImagesOpt", "engine_images"]

ImagesOpt = typer.Option(False, "--images", help="Read the exposed ports of compose services' images from the local "
                         "Docker engine (never pulls); default: no engine is used (docs/listeners.md).")


def engine_images(asked: bool):
    """The image lookup for :func:`simulator.loaders.listeners.using_images`: None unless ``asked``
    and an engine answers (else a line on standard error says why)."""
    if not asked:
        return None
    from ..adapters.docker_engine import DockerEngine

    try:
        engine = DockerEngine(timeout=10)
    except EngineError as exc:
        typer.echo(f"netsim: --images: {exc}; image metadata not read (netsim's catalogue stands in)", err=True)
        return None
    found: dict[str, tuple[str, ...] | None] = {}
    failed: list[str] = []

    def lookup(ref: str) -> tuple[str, ...] | None:
        if ref not in found:
            try:
                found[ref] = engine.image_exposed_ports(ref)
            except EngineError as exc:
                found[ref] = None
                if not failed:
                    typer.echo(f"netsim: --images: {exc}; netsim's catalogue stands in", err=True)
                failed.append(ref)
        return found[ref]

    return lookup
