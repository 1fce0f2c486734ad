"""Design.with_hosts: another kernel or daemon on the same hosts keeps the design as checked; hosts
renamed, added or removed are checked again like any changed copy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from simulator.errors import ModelError
from simulator.model import Container, Design, Host, KernelFeatures


def _design(**kw) -> Design:
    return Design("d", (Host("h1"), Host("h2")), (), (Container("a", "h1"), Container("b", "h2")), **kw)


def test_same_hosts_other_kernel_is_that_design_with_the_kernel():
    design = _design()
    kernel = KernelFeatures(ipvlan=False, source="a kernel without ipvlan")
    changed = design.with_hosts(tuple(replace(h, kernel=kernel) for h in design.hosts))
    assert changed == replace(design, hosts=tuple(replace(h, kernel=kernel) for h in design.hosts))
    assert [h.kernel for h in changed.hosts] == [kernel, kernel]
    assert changed.containers is design.containers and changed.locations == design.locations


def test_same_host_names_are_not_checked_again():
    broken = Design.unchecked("d", (Host("h1"),), (), (Container("a", "nowhere"),))
    with pytest.raises(ModelError):
        replace(broken, hosts=(Host("h1", engine_version="28.2"),))
    assert broken.with_hosts((Host("h1", engine_version="28.2"),)).hosts[0].engine_version == "28.2"


def test_other_host_names_are_checked_again():
    design = _design()
    with pytest.raises(ModelError, match="h2"):
        design.with_hosts((Host("h1"),))
    with pytest.raises(ModelError):
        design.with_hosts((Host("h1"), Host("h3")))
    assert design.with_hosts((Host("h1"), Host("h2"), Host("h3"))).hosts[2].name == "h3"
