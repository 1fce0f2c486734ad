"""Listeners from a Dockerfile agree with the image the engine builds from it, and --images reads them.

The image is built FROM netsim's probe image (local: nothing is pulled), with a global ARG in FROM,
a target stage, a build argument and ENV inherited from an earlier stage; the ports netsim reads
from the Dockerfile must be the ExposedPorts the engine records for the built image.
"""

from __future__ import annotations

import io
import textwrap

import pytest

from simulator.adapters.probe_image import DEFAULT_PROBE_IMAGE
from simulator.loaders.dockerfile import exposed_ports
from simulator.loaders.listeners import using_images
from simulator.pipeline import load

TAG = "nstest-listeners:1"
TEST_LABEL = {"nstest": "1"}  # as conftest.TEST_LABEL: what a test creates by hand
DOCKERFILE = textwrap.dedent(f"""\
    ARG BASE={DEFAULT_PROBE_IMAGE}
    FROM ${{BASE}} AS base
    ENV ADMIN=7001
    EXPOSE 53/udp
    FROM base AS app
    ARG PORT=8000
    EXPOSE $PORT ${{ADMIN}}
    FROM base AS other
    EXPOSE 1
    """)


@pytest.fixture
def built(engine):
    engine.ensure_image(DEFAULT_PROBE_IMAGE, build_default=True)
    api = engine.api
    try:
        for _ in api.build(fileobj=io.BytesIO(DOCKERFILE.encode()), tag=TAG, target="app", buildargs={"PORT": "9000"},
                           labels=TEST_LABEL, rm=True, forcerm=True, pull=False, decode=True):
            pass
        yield engine
    finally:
        try:
            api.remove_image(TAG, force=True)
        except Exception:  # noqa: BLE001 - the build may have failed before tagging: nothing to remove
            pass


def test_dockerfile_ports_are_the_built_images_exposed_ports(built):
    engine_ports = built.image_exposed_ports(TAG)
    base_ports = built.image_exposed_ports(DEFAULT_PROBE_IMAGE)
    read = exposed_ports(DOCKERFILE, target="app", build_args={"PORT": "9000"})
    assert read.base_image == DEFAULT_PROBE_IMAGE and read.gaps == ()
    assert set(engine_ports) == {f"{x.port}/{x.protocol.value}" for x in read.listeners} | set(base_ports)
    assert set(engine_ports) >= {"9000/tcp", "7001/tcp", "53/udp"}
    assert built.image_exposed_ports("nstest-not-there:0") is None


def test_images_lookup_marks_the_engines_ports(built, tmp_path):
    (tmp_path / "compose.yaml").write_text(f"services:\n  app:\n    image: {TAG}\n")
    with using_images(built.image_exposed_ports):
        design = load(tmp_path / "compose.yaml").design
    assert {(f"{x.port}/{x.protocol.value}", str(x.origin)) for x in design.container("app").listeners} == {
        (p, "image") for p in built.image_exposed_ports(TAG)}
    assert "not in netsim's catalogue" in load(tmp_path / "compose.yaml").design.container("app").listeners_unknown
