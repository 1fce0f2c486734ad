"""Listeners from where they are written: compose, x-netsim, Dockerfile, image, catalogue (docs/listeners.md).

The projects below have the shapes of the sample stacks of docker/awesome-compose (a database
without expose, a back end built from a local Dockerfile with a target stage, a front end built
FROM nginx, a proxy publishing a port), written here for the suite.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from urllib.parse import urlparse

import pytest

from simulator.errors import DesignError
from simulator.loaders.listeners import catalogue, catalogue_ports, repository, using_images
from simulator.model import ListenerOrigin
from simulator.pipeline import load


def project(tmp_path: Path, compose: str, files: dict[str, str] | None = None) -> Path:
    for name, text in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    main = tmp_path / "compose.yaml"
    main.write_text(textwrap.dedent(compose))
    return main


def heard(design, name: str) -> list[str]:
    return [f"{lst.port}/{lst.protocol.value} {lst.origin}" for lst in design.container(name).listeners]


STACK = """\
    services:
      proxy:
        build: proxy
        ports: ["8080:80"]
      backend:
        build:
          context: backend
          target: builder
          args: {PORT: "9000"}
      worker:
        build: worker
      db:
        image: docker.io/library/mariadb:10-focal
      cache:
        image: redis:7@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
      wp:
        image: wordpress:6-fpm
      legacy:
        image: example/legacy:1
      stated:
        image: example/legacy:1
        ports: ["8443:443"]
        x-netsim: {listens: [7000, "7001/udp"]}
      quiet:
        image: example/legacy:1
        x-netsim: {listens: []}
      isolated:
        image: example/legacy:1
        network_mode: none
    """

FILES = {
    "proxy/Dockerfile": "FROM nginx:1.25-alpine\nCOPY nginx.conf /etc/nginx/conf.d/default.conf\n",
    "backend/Dockerfile": """\
        # syntax=docker/dockerfile:1.4
        FROM --platform=$BUILDPLATFORM python:3.12-alpine AS builder
        ARG PORT=8000
        EXPOSE $PORT
        CMD ["python3", "app.py"]
        FROM builder AS dev-envs
        EXPOSE 5678
        """,
    "worker/Dockerfile": "FROM golang:1.22 AS build\nRUN go build\nFROM scratch\nCOPY --from=build /app /app\n",
}


@pytest.fixture
def stack(tmp_path):
    return load(project(tmp_path, STACK, FILES)).design


def test_each_source_marks_its_listeners(stack):
    assert heard(stack, "proxy") == ["80/tcp compose"]  # published, and nginx's own port: compose wins
    assert heard(stack, "backend") == ["9000/tcp dockerfile"]  # build arg over the ARG default, target stage
    assert heard(stack, "db") == ["3306/tcp catalogue"]  # docker.io/library/ and the tag do not matter
    assert heard(stack, "cache") == ["6379/tcp catalogue"]  # nor a digest
    assert heard(stack, "wp") == ["9000/tcp catalogue"]  # an fpm tag runs php-fpm
    assert heard(stack, "stated") == ["443/tcp compose", "7000/tcp x-netsim", "7001/udp x-netsim"]
    assert heard(stack, "quiet") == [] and stack.container("quiet").listeners_unknown is None


def test_unknown_listeners_say_why(stack):
    unknown = {c.name: c.listeners_unknown for c in stack.containers if c.listeners_unknown}
    assert sorted(unknown) == ["legacy", "worker"]  # isolated (network_mode none) is reached by nothing
    assert unknown["legacy"].startswith('image "example/legacy:1" is not in netsim\'s catalogue')
    assert unknown["worker"].startswith("its Dockerfile worker/Dockerfile exposes no port and builds FROM scratch")
    assert all("x-netsim: {listens: [PORT, ...]}" in why for why in unknown.values())


def test_a_stage_built_on_a_catalogued_image_inherits_its_ports(tmp_path):
    design = load(project(tmp_path, "services:\n  web:\n    build: web\n",
                          {"web/Dockerfile": "FROM nginx:alpine AS base\nFROM base\nRUN true\n"})).design
    assert heard(design, "web") == ["80/tcp catalogue"]


def test_dockerfile_and_dockerfile_inline(tmp_path):
    compose = """\
        services:
          a:
            build: {context: app, dockerfile: Containerfile.prod}
          b:
            build:
              context: .
              dockerfile_inline: |
                FROM scratch
                EXPOSE 4000/udp
        """
    design = load(project(tmp_path, compose, {"app/Containerfile.prod": "FROM scratch\nEXPOSE 5000\n"})).design
    assert heard(design, "a") == ["5000/tcp dockerfile"]
    assert heard(design, "b") == ["4000/udp dockerfile"]


def test_a_missing_dockerfile_and_a_remote_context(tmp_path):
    compose = """\
        services:
          a: {build: nowhere}
          b: {build: "https://github.com/example/app.git#main"}
        """
    design = load(project(tmp_path, compose)).design
    assert design.container("a").listeners_unknown.startswith("its Dockerfile nowhere/Dockerfile cannot be read")
    assert design.container("b").listeners_unknown.startswith('its build context "https://github.com/example/app.git#main" is remote')


def test_a_compose_text_without_a_file_does_not_read_the_working_directory():
    design = load("services:\n  a: {build: .}\n", source="<string>", kind="compose").design
    assert "not read from a file" in design.container("a").listeners_unknown


def test_the_engine_image_wins_over_the_catalogue_and_is_never_required(tmp_path):
    compose = "services:\n  db: {image: postgres:16}\n  app: {image: example/app}\n  gone: {image: example/gone}\n"
    path = project(tmp_path, compose)
    asked: list[str] = []

    def lookup(ref: str):
        asked.append(ref)
        return {"postgres:16": ("5432/tcp", "5433/tcp"), "example/app": ("8080/tcp", "x/tcp")}.get(ref)

    with using_images(lookup):
        design = load(path).design
    assert heard(design, "db") == ["5432/tcp image", "5433/tcp image"]
    assert heard(design, "app") == ["8080/tcp image"]  # a key that is not a port is left out
    assert "is not on the engine (netsim does not pull)" in design.container("gone").listeners_unknown
    assert sorted(asked) == ["example/app", "example/gone", "postgres:16"]
    assert heard(load(path).design, "db") == ["5432/tcp catalogue"]  # outside the block: not asked


@pytest.mark.parametrize(("text", "fragment"), [
    ("x-netsim: {listen: [80]}", 'unknown key "listen" in x-netsim; expected one of listens (did you mean "listens"?)'),
    ("x-netsim: {listens: 80}", "x-netsim.listens is a list of ports"),
    ("x-netsim: [80]", "x-netsim is a mapping"),
    ('x-netsim: {listens: ["80/icmp"]}', "services.a.x-netsim.listens[0]"),
])
def test_x_netsim_mistakes_are_reported_at_their_line(tmp_path, text, fragment):
    path = project(tmp_path, f"services:\n  a:\n    image: redis\n    {text}\n")
    with pytest.raises(DesignError) as caught:
        load(path)
    messages = [str(p) for p in caught.value.problems]
    assert any(fragment in m and ":4:" in m for m in messages), messages


def test_image_references_are_matched_by_repository():
    assert repository("docker.io/library/postgres:16-alpine") == ("postgres", "16-alpine")
    assert repository("localhost:5000/team/app:1") == ("localhost:5000/team/app", "1")
    assert repository("MCR.microsoft.com/azure-sql-edge:1.0.4") == ("mcr.microsoft.com/azure-sql-edge", "1.0.4")
    assert catalogue_ports("mcr.microsoft.com/azure-sql-edge:1.0.4")[1][0].port == 1433
    assert catalogue_ports("rabbitmq:3-management")[1] != catalogue_ports("rabbitmq:3")[1]
    assert catalogue_ports("team/postgres") is None  # another repository of the same last name


def test_the_catalogue_has_forty_service_images_each_with_a_source():
    entries = catalogue()
    names = [n for e in entries for n in e.names]
    assert len(names) == len(set(names)), "an image name is listed twice"
    serving = [n for e in entries if e.ports for n in e.names]
    assert len(serving) >= 40
    for entry in entries:
        url = urlparse(entry.source)
        assert url.scheme == "https" and url.netloc, entry
        assert all(lst.origin is ListenerOrigin.CATALOGUE for lst in entry.ports)
    for wanted in ("postgres", "mysql", "mariadb", "mongo", "redis", "memcached", "rabbitmq", "nginx", "httpd",
                   "traefik", "elasticsearch", "prom/prometheus", "grafana/grafana"):
        assert wanted in names


# --- what the commands say ------------------------------------------------------------------

from typer.testing import CliRunner  # noqa: E402

from simulator.adapters.fake_engine import FakeEngine  # noqa: E402
from simulator.cli import app  # noqa: E402


def netsim(*args: str):
    return CliRunner().invoke(app, list(args), prog_name="netsim", env={"COLUMNS": "200", "NO_COLOR": "1"})


def test_check_lists_unknown_listeners_at_their_line(tmp_path):
    path = project(tmp_path, STACK, FILES)
    result = netsim("check", str(path))
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if "listeners unknown" in line]
    assert [line.split(": warning: ")[0].rsplit(":", 2)[1:] for line in lines] == [["10", "3"], ["18", "3"]]
    assert "services.worker: listeners unknown: its Dockerfile worker/Dockerfile" in lines[0]
    assert "services.legacy: listeners unknown: image \"example/legacy:1\"" in lines[1]


def test_reach_says_listens_unknown_and_each_probes_origin(tmp_path):
    path = project(tmp_path, STACK, FILES)
    table = netsim("reach", str(path)).stdout
    assert "listens: unknown for 2 container(s); no probe targets them" in table
    assert "  worker: listens: unknown (its Dockerfile" in table
    data = __import__("json").loads(netsim("reach", str(path), "-f", "json").stdout)
    assert [row["container"] for row in data["listeners_unknown"]] == ["worker", "legacy"]
    by_target = {(p["target"], p["port"], p["protocol"]): p["listener_origin"] for p in data["probes"] if p["via"] == "ip"}
    assert by_target[("db", 3306, "tcp")] == "catalogue"
    assert by_target[("backend", 9000, "tcp")] == "dockerfile"
    assert by_target[("stated", 7001, "udp")] == "x-netsim"
    assert by_target[("proxy", 80, "tcp")] == "compose"
    assert not any(p["target"] in ("worker", "legacy") for p in data["probes"])
    host = [p for p in data["probes"] if p["via"] == "host"]
    assert host and all(p["listener_origin"] == "compose" for p in host if p["reachable"])


def test_images_on_an_unreachable_engine_says_so_and_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    result = netsim("check", str(project(tmp_path, "services:\n  db: {image: postgres}\n")), "--images")
    assert result.exit_code == 0
    assert "netsim: --images: no Docker engine reachable" in result.stderr
    assert "netsim's catalogue stands in" in result.stderr


def test_the_fake_engine_answers_image_inspect_like_the_engine():
    fake = FakeEngine()
    fake.exposed["web:1"] = ("80/tcp",)
    assert fake.image_exposed_ports("web:1") == ("80/tcp",)
    assert fake.image_exposed_ports("netsim-probe:1") == ()
    assert fake.image_exposed_ports("absent:1") is None


def test_a_build_in_an_included_file_starts_from_that_files_directory(tmp_path):
    compose = "include: [sub/compose.yaml]\nservices:\n  web: {image: nginx}\n"
    design = load(project(tmp_path, compose, {
        "sub/compose.yaml": "services:\n  api:\n    build: app\n",
        "sub/app/Dockerfile": "FROM scratch\nEXPOSE 4444\n",
        "app/Dockerfile": "FROM scratch\nEXPOSE 1111\n",  # the main file's directory: not this one
    })).design
    assert heard(design, "api") == ["4444/tcp dockerfile"]


def test_the_diagram_marks_origins_and_the_legend_explains_them(stack):
    from simulator.render.diagram import build_scene, render_dot

    scene = build_scene(stack)
    boxes = {box.title: box.listens for host in scene.hosts for box in host.boxes}
    assert boxes["proxy"] == "80/tcp"  # written in the file: unmarked, as before
    assert boxes["db"] == "3306/tcp [catalogue]"
    assert boxes["stated"] == "443/tcp · 7000/tcp [x-netsim] · 7001/udp [x-netsim]"
    assert boxes["worker"] == "unknown (netsim check says why)"
    assert scene.listener_origins == ("x-netsim: listens stated on the service",
                                      "dockerfile: EXPOSE in the build's Dockerfile",
                                      "catalogue: netsim's default ports of a well-known image")
    dot = render_dot(scene)
    assert "listens 80/tcp [origin]: learnt from" in dot and "catalogue: netsim&#x27;s default ports" in dot


def test_a_design_whose_listeners_are_all_written_has_no_origin_legend():
    from simulator.render.diagram import build_scene, render_dot

    design = load(Path(__file__).parents[2] / "designs" / "frontend-backend.yaml").design
    scene = build_scene(design)
    assert scene.listener_origins == () and "[origin]" not in render_dot(scene)


def test_the_report_lists_each_listener_with_its_origin(stack):
    from simulator.render.report import render_report

    page = render_report(stack, None, "")
    section = page[page.index('id="listeners-h"'):]
    assert "<td>db</td><td>3306/tcp</td><td>catalogue</td>" in section
    assert "<td>backend</td><td>9000/tcp</td><td>dockerfile</td>" in section
    assert "<td>worker</td><td>unknown</td><td>its Dockerfile worker/Dockerfile exposes no port" in section


def test_exposure_json_carries_each_listeners_origin(tmp_path):
    path = project(tmp_path, STACK, FILES)
    data = __import__("json").loads(netsim("exposure", str(path), "-f", "json").stdout)
    found = {(e["container"], e["port"], e["through_kind"]): e["listener_origin"] for e in data["exposure"]}
    assert found[("db", 3306, "address")] == "catalogue"
    assert found[("proxy", 8080, "published-port")] == "compose"  # the host port: the listener is the container's 80
    assert found[("stated", 7001, "address")] == "x-netsim"


def test_a_dockerfile_that_is_a_fifo_or_too_large_is_not_read(tmp_path):
    import os

    from simulator.loaders.listeners import MAX_DOCKERFILE

    (tmp_path / "a").mkdir()
    os.mkfifo(tmp_path / "a" / "Dockerfile")  # opening it would wait for a writer forever
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Dockerfile").write_text("FROM scratch\n" + "#" * MAX_DOCKERFILE)
    design = load(project(tmp_path, "services:\n  a: {build: a}\n  b: {build: b}\n")).design
    assert design.container("a").listeners_unknown.startswith("its Dockerfile a/Dockerfile is not a regular file")
    assert "is larger than 1,000,000 bytes" in design.container("b").listeners_unknown
