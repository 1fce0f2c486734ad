"""One load-and-validate pipeline (simulator/pipeline.py), used by every command (issue 11).

Every command gives the same verdict and the same problem list on an invalid design; a
problem is found once, at the path of the file the user wrote; the YAML is parsed once and
the world built once per engine version.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.errors import DesignError
from simulator.pipeline import Loaded, load

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _invalid_designs() -> list[Path]:
    """Every design under tests/data (loaders, compose, intent) that the pipeline refuses."""
    found = []
    for folder in ("loaders", "compose", "intent"):
        for path in sorted((DATA / folder).rglob("*")):
            if path.suffix not in (".yaml", ".yml") or path.name.endswith(".intent.yaml"):
                continue  # intent files are not designs
            try:
                load(path)
            except DesignError:
                found.append(path)
    return found


INVALID = _invalid_designs()


def test_the_invalid_designs_are_found():
    names = {p.name for p in INVALID}
    assert {"notutf8.yaml", "schema-and-semantic.yaml", "exhausted.compose.yaml", "intent.compose.yaml"} <= names


def _commands(design: Path, tmp_path: Path) -> dict[str, list]:
    """Every command that takes a design, with the arguments it needs (no engine is reached:
    deploy, verify and drift judge the design before they look for one)."""
    return {
        "check": ["check", design],
        "reach": ["reach", design],
        "trace": ["trace", design, "a", "b:80"],
        "exposure": ["exposure", design],
        "addresses": ["addresses", design],
        "rules": ["rules", design],
        "diagram": ["diagram", design, "-f", "dot"],
        "report": ["report", design, "-o", tmp_path / "out.html"],
        "test": ["test", design],
        "audit": ["audit", design],
        "diff": ["diff", design, design],
        "deploy": ["deploy", design, "--dry-run"],
        "verify": ["verify", design],
        "drift": ["drift", design],
    }


def _errors(stderr: str) -> list[str]:
    """The problem lines (errors) and the summary line; not warnings, not the kernel note."""
    return [line for line in stderr.splitlines() if line and ": warning: " not in line and not line.startswith("netsim: kernel:")]


@pytest.mark.parametrize("design", INVALID, ids=[p.name for p in INVALID])
def test_every_command_reports_the_same_problems(design, tmp_path):
    expected = None
    for name, argv in _commands(design, tmp_path).items():
        result = run(*argv)
        assert result.exit_code == 1, (name, result.exit_code, result.stderr)
        problems = _errors(result.stderr)
        assert problems and problems[-1].endswith("nothing was evaluated"), (name, result.stderr)
        if expected is None:
            expected = problems
        assert problems == expected, name
        assert not (tmp_path / "out.html").exists()


def test_the_problem_list_is_the_pipelines():
    """What the commands print is what pipeline.load raises, line for line."""
    design = DATA / "loaders" / "invalid" / "schema-and-semantic.yaml"
    with pytest.raises(DesignError) as exc:
        load(design)
    assert _errors(run("reach", design).stderr)[:-1] == [str(p) for p in exc.value.errors]


COMPOSE_ON_THE_LAN = """\
services:
  web:
    image: nginx
    networks: [front]
networks:
  front:
    ipam:
      config:
        - subnet: 192.168.1.0/24
"""


def test_compose_subnet_on_the_lan_is_reported_once_at_the_compose_path(tmp_path):
    design = tmp_path / "compose.yaml"
    design.write_text(COMPOSE_ON_THE_LAN)
    loaded = load(design)
    about_lan = [p for p in loaded.warnings + loaded.other_warnings if "192.168.1.0/24" in p.message]
    assert len(about_lan) == 1, about_lan
    assert about_lan[0].path == "networks.front.ipam.config[0].subnet"
    assert str(about_lan[0].location) == f"{design}:9:19"
    result = run("check", design)
    assert result.exit_code == 0 and result.stderr.count("192.168.1.0/24 overlaps") == 1, result.stderr
    assert "networks.front.subnet" not in result.stderr


def test_engine_problems_name_the_compose_path():
    """The engine checks find problems at model paths; the loader's map names the field as written."""
    design = DATA / "loaders" / "invalid" / "exhausted.compose.yaml"
    with pytest.raises(DesignError) as exc:
        load(design)
    assert [str(p) for p in exc.value.errors] == [
        f"{design}:5:33: services.b.networks[0]: network tiny has no free address left for container b "
        "(subnet 10.9.0.0/30): widen the subnet or ip_range"]
    assert exc.value.stage == "engine"


def test_yaml_is_parsed_once_and_the_world_built_once(monkeypatch):
    from simulator import pipeline
    from simulator.engine import checks, topology
    from simulator.loaders import yamlsource

    parses, builds = [], []
    real_build, real_world = yamlsource._build, topology.build_world
    monkeypatch.setattr(yamlsource, "_build", lambda text, source: parses.append(source) or real_build(text, source))
    counted = lambda *a, **k: builds.append(a) or real_world(*a, **k)  # noqa: E731
    monkeypatch.setattr(topology, "build_world", counted)
    monkeypatch.setattr(checks, "build_world", counted)
    monkeypatch.setattr(pipeline, "build_world", counted)
    loaded = load(DATA / "intent" / "clean.yaml")  # a design with expect: and audit:
    assert isinstance(loaded, Loaded) and loaded.intent.expectations
    assert len(parses) == 1
    world = loaded.world()
    assert loaded.world() is world and loaded.world(loaded.design.hosts[0].engine_version) is world
    assert len(builds) == 1  # the engine checks' world is the one the commands get
    version = "29.0" if loaded.design.hosts[0].engine_version.startswith("28") else "28.0"
    other = loaded.world(version)
    assert other is not world and loaded.world(version) is other and len(builds) == 2


def test_text_and_path_give_the_same_result(tmp_path):
    design = tmp_path / "compose.yaml"
    design.write_text(COMPOSE_ON_THE_LAN)
    by_path, by_text = load(design), load(COMPOSE_ON_THE_LAN, source=str(design))
    assert by_path.design == by_text.design and by_path.warnings == by_text.warnings


def test_each_stage_marks_its_own_error(tmp_path):
    """DesignError.stage is a field set where the error is raised: "load" by default, "engine"
    for the engine checks, "intent file" for an --intent file that cannot be read."""
    from simulator.errors import DesignLoadError, Stage

    assert DesignError([]).stage is Stage.LOAD and DesignError([], stage="engine").stage is Stage.ENGINE
    with pytest.raises(DesignError) as bad:
        load("hosts: 5\n", source="bad.yaml")
    assert bad.value.stage is Stage.LOAD
    with pytest.raises(DesignError) as engine:
        load(DATA / "loaders" / "invalid" / "exhausted.compose.yaml")
    assert engine.value.stage is Stage.ENGINE
    empty = tmp_path / "empty.intent.yaml"
    empty.write_text("")
    with pytest.raises(DesignLoadError) as intent:
        load(ROOT / "designs" / "frontend-backend.yaml", intent_file=empty)
    assert intent.value.stage is Stage.INTENT_FILE and "intent file is empty" in str(intent.value)


PARENTS = """\
name: s
networks:
  first: {driver: %s, mode: %s}
  second: {driver: %s}
  tagged: {driver: %s, vlan: 10}
"""
ALREADY = ("network first is already using parent interface eth0 on host docker1: ")
PASSTHRU = 'macvlan passthru needs parent eth0 to itself, but "first" and "second" both use it on host docker1'


@pytest.mark.parametrize(("version", "driver", "mode", "expected"), [
    ("20.10", "macvlan", "bridge", "second.parent: " + ALREADY + "engine 20.10 allows one macvlan network per parent "
     "(27.0 and later allow several, except in passthru mode); use a VLAN sub-interface (vlan:) or one network"),
    ("28.2", "macvlan", "bridge", None),
    ("29.0", "macvlan", "bridge", None),
    ("20.10", "macvlan", "passthru", "second.parent: " + PASSTHRU),
    ("28.2", "macvlan", "passthru", "second.parent: " + PASSTHRU),
    ("29.0", "macvlan", "passthru", "second.parent: " + PASSTHRU),
    ("20.10", "ipvlan", "l2", "second.parent: " + ALREADY + "the engine allows one ipvlan network per parent "
     "(on every version); use a VLAN sub-interface (vlan:) or one network"),
    ("28.2", "ipvlan", "l2", "second.parent: " + ALREADY + "the engine allows one ipvlan network per parent "
     "(on every version); use a VLAN sub-interface (vlan:) or one network"),
    ("29.0", "ipvlan", "l2", "second.parent: " + ALREADY + "the engine allows one ipvlan network per parent "
     "(on every version); use a VLAN sub-interface (vlan:) or one network"),
])
def test_one_network_per_parent_follows_the_engine_line(version, driver, mode, expected):
    """moby's ipvlan driver refuses a second network on a parent on every line; macvlan up to 26.x,
    from 27.0 only when passthru is involved; a VLAN sub-interface is another parent. Found once,
    by the engine stage, at the second network's line in the user's file."""
    text = PARENTS % (driver, mode, driver, driver)
    if expected is None:
        loaded = load(text, source="p.yaml", engine_version=version)
        assert not [p for p in loaded.warnings + loaded.other_warnings if "parent" in p.message]
        return
    with pytest.raises(DesignError) as exc:
        load(text, source="p.yaml", engine_version=version)
    assert exc.value.stage == "engine"
    assert [str(p) for p in exc.value.errors] == [f"p.yaml:4:3: networks.{expected}"]  # parent unwritten: the network


def test_one_network_per_parent_in_a_compose_file_names_driver_opts(tmp_path):
    design = tmp_path / "compose.yaml"
    design.write_text("services:\n  a: {image: x, networks: [one, two]}\nnetworks:\n"
                      "  one: {driver: ipvlan, driver_opts: {parent: eth0}}\n"
                      "  two: {driver: ipvlan, driver_opts: {parent: eth0}}\n")
    with pytest.raises(DesignError) as exc:
        load(design, engine_version="29.0")
    errors = [str(p) for p in exc.value.errors]
    assert len(errors) == 1 and "is already using parent interface eth0" in errors[0], errors
    assert errors[0].startswith(f"{design}:5:"), errors
    assert "networks.two.driver_opts.parent" in errors[0], errors


def _problems(text: str, source: str) -> list[str]:
    with pytest.raises(DesignError) as exc:
        load(text, source=source)
    return [str(p) for p in exc.value.problems]


def test_a_value_the_schema_refuses_is_reported_once():
    """The schema is the one source of type and shape errors; the typed converters take a refused
    value as absent instead of finding it again (no muted set hides a second finding)."""
    from simulator.loaders.yamlsource import Report

    assert not hasattr(Report, "mute")
    native = ("name: s\nhosts:\n  docker1:\n    daemon: {default_address_pools: [{}]}\nnetworks:\n"
              "  m: {driver: macvlan, mode: 7, vlan: 70000}\ncontainers:\n"
              "  web: {networks: [m], ports: [{target: 80, protocol: 7}], listens: [70000]}\n")
    assert _problems(native, "n.yaml") == [
        'n.yaml:4:38: hosts.docker1.daemon.default_address_pools[0]: missing required key "base"',
        'n.yaml:4:38: hosts.docker1.daemon.default_address_pools[0]: missing required key "size"',
        "n.yaml:6:30: networks.m.mode: expected a string, not the number 7",
        "n.yaml:6:39: networks.m.vlan: 70000 is out of range (1-4094)",
        "n.yaml:8:55: containers.web.ports[0].protocol: expected a string, not the number 7",
        "n.yaml:8:70: containers.web.listens[0]: 70000 is out of range (1-65535)",
    ]
    compose = "services:\n  web:\n    image: x\n    ports: [{target: 80, host_ip: null, published: true}]\n"
    assert _problems(compose, "c.yaml") == [
        "c.yaml:4:35: services.web.ports[0].host_ip: expected a string, not nothing (null)",
        "c.yaml:4:52: services.web.ports[0].published: expected a string or an integer, not the boolean true",
    ]


def test_what_the_schema_cannot_say_the_converters_report_once():
    text = ("name: s\nnetworks:\n  n: {subnet: 10.0.0.1/24, gateway: 10.0.0.300}\n"
            "  m: {driver: ipvlan, mode: passthru}\n")
    assert _problems(text, "n.yaml") == [
        'n.yaml:3:15: networks.n.subnet: "10.0.0.1/24" has host bits set; the network is 10.0.0.0/24',
        'n.yaml:3:37: networks.n.gateway: "10.0.0.300" is not an IPv4 address (e.g. 172.20.0.1)',
        'n.yaml:4:29: networks.m.mode: "passthru" is not a ipvlan mode; use one of l2, l3, l3s',
    ]


def test_compose_settings_of_the_wrong_type_are_worded_not_raw_jsonschema():
    """A nested oneOf (a service's network settings) is worded like every type error, once."""
    text = "services:\n  web:\n    image: x\n    networks: {back: 7}\nnetworks:\n  back: {}\n"
    assert _problems(text, "c.yaml") == [
        "c.yaml:4:22: services.web.networks.back: expected a mapping or nothing, not the number 7"]
