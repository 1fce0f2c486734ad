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


def engine_images(asked: bool, label: str = "--images"):
    """The image lookup for :func:`simulator.loaders.listeners.using_images`: None unless ``asked``.
    The engine is reached at the first image looked up (a design without images never reaches it);
    when it cannot be, one line on standard error (starting with ``label``) says so and every image
    is then left to the catalogue."""
    if not asked:
        return None
    state: dict = {}
    found: dict[str, tuple[str, ...] | None] = {}

    def engine():
        if "engine" not in state:
            from ..adapters.docker_engine import DockerEngine

            try:
                state["engine"] = DockerEngine(timeout=10)
            except EngineError as exc:
                state["engine"] = None
                typer.echo(f"netsim: {label}: {exc}; image metadata not read (netsim's catalogue stands in)", err=True)
        return state["engine"]

    def lookup(ref: str) -> tuple[str, ...] | None:
        if ref not in found:
            reached = engine()
            try:
                found[ref] = None if reached is None else reached.image_exposed_ports(ref)
            except EngineError as exc:
                found[ref] = None
                if not state.get("failed"):
                    typer.echo(f"netsim: {label}: {exc}; netsim's catalogue stands in", err=True)
                state["failed"] = True
        return found[ref]

    return lookup
