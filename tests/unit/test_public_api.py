"""The library's edges: a version, an ``__all__`` in every package naming only what exists,
types shipped (py.typed), and one error root."""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
from pathlib import Path

import pytest

import simulator

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(
    ["simulator"] + [f"simulator.{m.name}" for m in pkgutil.iter_modules(simulator.__path__) if m.ispkg]
)


def test_version_is_the_distributions():
    assert simulator.__version__ == importlib.metadata.version("container-netsim")


def test_the_packages_are_found():
    assert {"simulator.engine", "simulator.loaders", "simulator.cli", "simulator.verify"} <= set(PACKAGES)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_package_declares_all_and_each_name_exists(name):
    package = importlib.import_module(name)
    assert isinstance(getattr(package, "__all__", None), list), f"{name} has no __all__"
    for attr in package.__all__:
        if not hasattr(package, attr):  # a submodule named in __all__ is imported by `import *`
            importlib.import_module(f"{name}.{attr}")


def test_types_ship_with_the_package():
    assert (ROOT / "simulator" / "py.typed").is_file()
    assert '"py.typed"' in (ROOT / "pyproject.toml").read_text()


def test_a_name_the_design_lacks_is_a_netsim_error_and_a_key_error():
    from simulator.errors import NetsimError, UnknownName
    from simulator.model import Design, Host

    design = Design("d", hosts=(Host("h1"),), networks=(), containers=())
    for lookup, kind in ((design.container, "container"), (design.network, "network"), (design.host, "host")):
        with pytest.raises(UnknownName) as caught:
            lookup("nope")
        assert isinstance(caught.value, NetsimError) and isinstance(caught.value, KeyError)
        assert str(caught.value) == f"design 'd' has no {kind} \"nope\""
    assert design.host("h1").name == "h1"


MODULE_MAPS = ["simulator.adapters", "simulator.analysis", "simulator.deploy", "simulator.engine", "simulator.live",
               "simulator.render", "simulator.verify"]


@pytest.mark.parametrize("name", MODULE_MAPS)
def test_a_package_whose_all_lists_its_modules_lists_every_one(name):
    package = importlib.import_module(name)
    modules = {m.name for m in pkgutil.iter_modules(package.__path__)}
    assert modules == set(package.__all__), f"{name}.__all__ (and its docstring's map) should list {sorted(modules)}"
