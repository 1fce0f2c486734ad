"""netsim: a container-network design simulator.

The library's entry points (the CLI, ``netsim``, is built on them)::

    from simulator.pipeline import load
    loaded = load("designs/shop.yaml")              # design, warnings, intent; DesignError if invalid
    result = compute_reach(loaded.design)           # simulator.analysis.reachability

Packages, lowest layer first (each imports only from those before it; pyproject.toml's
import-linter contract checks it): :mod:`~simulator.errors` and :mod:`~simulator.model`,
:mod:`~simulator.loaders`, :mod:`~simulator.engine`, :mod:`~simulator.analysis`,
:mod:`~simulator.render`, :mod:`~simulator.intent`, :mod:`~simulator.audit` and
:mod:`~simulator.diff`, :mod:`~simulator.pipeline`; beside them the engine side,
:mod:`~simulator.adapters`, :mod:`~simulator.deploy`, :mod:`~simulator.verify`,
:mod:`~simulator.live`; and :mod:`~simulator.cli` on top.  Every error the library raises
derives from :class:`~simulator.errors.NetsimError`.
"""

from __future__ import annotations

__all__ = ["DISTRIBUTION", "__version__"]

DISTRIBUTION = "container-netsim"


def _version() -> str:
    """The installed distribution's version; from a source tree never installed, pyproject.toml's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        import tomllib
        from pathlib import Path

        try:
            with open(Path(__file__).resolve().parents[1] / "pyproject.toml", "rb") as f:
                return str(tomllib.load(f)["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0+unknown"


def __getattr__(name: str) -> str:
    """``__version__``, read from the package metadata when first asked for (importing
    importlib.metadata and scanning the installed distributions cost every command a few
    hundredths of a second at start)."""
    if name == "__version__":
        value = globals()["__version__"] = _version()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
