"""Compose files as compose reads them (issue 16): .env and interpolation, override and --file
merging, extends, include, profiles, each checked against docker compose itself.

Every test project under tests/data/compose/projects/ is read by netsim (simulator.pipeline.load
with ProjectOptions) and by Debian's docker-compose 1.29.2 (``docker-compose config``; for
profiles, the services its own Project.get_services(include_deps=True) starts, which is what
``up`` runs: ``config`` prints every service whatever the profiles). The services, their
networks, published ports and compose-declared listeners (expose + port targets) must be equal.

Where the compose specification goes beyond 1.29 (include, ``!reset``/``!override``,
``${VAR:+alt}``), netsim follows the specification (compose-spec 14-include.md, 13-merge.md,
12-interpolation.md) and the tests say so: an include is compared with each included project
read alone by docker-compose (its own directory and environment), which is what 14-include.md
says include does. docker-compose is installed by scripts/setup.sh; a machine without it fails
these tests rather than skipping them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from simulator.errors import ArgumentError, DesignError
from simulator.loaders.compose_project import ProjectOptions
from simulator.model import ListenerOrigin
from simulator.pipeline import load

PROJECTS = Path(__file__).resolve().parents[1] / "data" / "compose" / "projects"
CLEAN_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def _tool() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        pytest.fail("docker-compose (Debian's 1.29.2) is not installed: scripts/setup.sh installs it; these tests "
                    "compare netsim's reading of compose projects with it")
    return found


def compose_config(directory: Path, files=(), env_files=(), env=None, profiles=()) -> dict:
    """What ``docker-compose config`` prints for the project, parsed."""
    args = [_tool()]
    for f in files:
        args += ["-f", str(f)]
    for e in env_files:
        args += ["--env-file", str(e)]
    for p in profiles:
        args += ["--profile", p]
    run = subprocess.run([*args, "--project-directory", str(directory), "config"], cwd=directory,
                         env={**CLEAN_ENV, **(env or {})}, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return yaml.safe_load(run.stdout)


def compose_started(directory: Path, profiles: list[str]) -> list[str] | str:
    """The services docker-compose 1.29 starts with these profiles (its own library, run by the
    interpreter of the docker-compose script), or its error."""
    with open(_tool(), encoding="utf-8") as fh:
        python = fh.readline()[2:].strip()
    code = textwrap.dedent(f"""\
        from compose.cli.command import get_project
        try:
            project = get_project({str(directory)!r}, enabled_profiles={profiles!r})
            print(" ".join(sorted(s.name for s in project.get_services(include_deps=True))))
        except Exception as exc:
            print("error: " + str(exc))
        """)
    run = subprocess.run([python, "-c", code], cwd=directory, env=CLEAN_ENV, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    out = run.stdout.strip()
    return out if out.startswith("error: ") else out.split()


def _port(value) -> tuple:
    """A port as docker-compose config prints it -> (host_ip, published, target, protocol)."""
    if isinstance(value, dict):
        return (value.get("host_ip"), value.get("published"), int(value["target"]), value.get("protocol", "tcp"))
    text, _, protocol = str(value).partition("/")
    parts = text.split(":")
    ip = parts[0] if len(parts) == 3 else None
    published = int(parts[-2]) if len(parts) >= 2 and parts[-2] else None
    return (ip, published, int(parts[-1]), protocol or "tcp")


def compose_view(config: dict, only: set[str] | None = None) -> dict:
    """services -> (networks, ports, listeners) as docker-compose config says them."""
    out = {}
    for name, spec in (config.get("services") or {}).items():
        if only is not None and name not in only:
            continue
        nets = sorted(spec.get("networks") or ({} if "network_mode" in spec else {"default": None}))
        ports = sorted((_port(p) for p in spec.get("ports") or []), key=str)
        listeners = {(int(str(e).partition("/")[0]), str(e).partition("/")[2] or "tcp") for e in spec.get("expose") or []}
        listeners |= {(p[2], p[3]) for p in ports}
        out[name] = (nets, ports, sorted(listeners))
    return out


def netsim_view(design) -> dict:
    out = {}
    for c in design.containers:
        nets = sorted(a.network for a in c.attachments)
        ports = sorted(((str(p.host_ip) if p.host_ip else None, p.host_port, p.container_port, p.protocol.value)
                        for p in c.ports), key=str)
        listeners = sorted((lst.port, lst.protocol.value) for lst in c.listeners if lst.origin is ListenerOrigin.COMPOSE)
        out[c.name] = (nets, ports, listeners)
    return out


def used_networks(view: dict) -> list[str]:
    return sorted({n for nets, _, _ in view.values() for n in nets})


def netsim_load(path: Path, **options):
    return load(path, project=ProjectOptions(**options)).design


def _same(design, expected: dict) -> None:
    assert netsim_view(design) == expected
    assert sorted(n.name for n in design.networks) == used_networks(expected)


# --- .env, interpolation, override file, --file, --env-file ---------------------------------


def test_env_file_and_override_file_as_docker_compose_reads_them():
    here = PROJECTS / "env-override"
    design = netsim_load(here / "compose.yaml")
    expected = compose_view(compose_config(here))
    _same(design, expected)
    assert "cache" in expected and expected["web"][1][0] == (None, 8080, 80, "tcp")  # the override and .env were read
    assert design.name == "env-override"


def test_files_and_env_files_given_replace_the_override_and_dotenv():
    here = PROJECTS / "env-override"
    design = netsim_load(here / "compose.yaml", files=(str(here / "prod.yaml"),),
                         env_files=(str(here / "prod.env"),))
    expected = compose_config(here, files=["compose.yaml", "prod.yaml"], env_files=["prod.env"])
    _same(design, compose_view(expected))
    assert "cache" not in netsim_view(design)  # -f given: compose.override.yaml is not read
    assert dict((a.network, a.aliases) for a in design.container("web").attachments)["front"] == ("www",)


def test_process_environment_wins_over_dotenv():
    here = PROJECTS / "env-override"
    env = {"WEB_PORT": "8181", "METRICS": "9111"}
    design = netsim_load(here / "compose.yaml", environment=env)
    _same(design, compose_view(compose_config(here, env=env)))
    assert (None, 8181, 80, "tcp") in netsim_view(design)["web"][1]


def test_merge_rules_as_docker_compose():
    """networks list + mapping, a port written twice in two forms, a repeated expose, a null that
    changes nothing (compose-spec 13-merge.md)."""
    here = PROJECTS / "merge"
    design = netsim_load(here / "compose.yaml")
    _same(design, compose_view(compose_config(here)))
    web = design.container("web")
    assert [(p.host_port, p.container_port) for p in web.ports].count((8080, 80)) == 1
    assert dict((a.network, a.aliases) for a in web.attachments) == {"back": ("web.back",), "front": ()}


# --- extends ----------------------------------------------------------------------------------


def test_extends_same_file_and_other_file_as_docker_compose():
    here = PROJECTS / "extends"
    design = netsim_load(here / "compose.yaml")
    _same(design, compose_view(compose_config(here)))
    assert sorted(lst.port for lst in design.container("api").listeners if lst.origin is ListenerOrigin.COMPOSE) \
        == [82, 9000, 9001]  # api extends web extends base


def test_extends_build_context_is_the_extended_files():
    here = PROJECTS / "extends"
    from simulator.loaders import read_doc
    from simulator.loaders.compose_project import assemble

    doc = assemble(read_doc((here / "compose.yaml").read_bytes(), str(here / "compose.yaml")), ProjectOptions())
    config = compose_config(here)
    assert doc.data["services"]["worker"]["build"] == config["services"]["worker"]["build"]["context"]


# --- profiles ---------------------------------------------------------------------------------


@pytest.mark.parametrize("profiles", [[], ["backend"], ["debug", "backend"], ["tools"]])
def test_profiles_start_what_docker_compose_starts(profiles):
    here = PROJECTS / "profiles"
    started = compose_started(here, profiles)
    if isinstance(started, str):  # a service depends on one its profiles leave out: both refuse
        assert "was pulled in as a dependency" in started
        with pytest.raises(DesignError) as exc:
            netsim_load(here / "compose.yaml", profiles=tuple(profiles))
        assert any("depends on \"db\", which its profiles (backend) leave out" in p.message
                   and p.location is not None and p.location.line == 17 for p in exc.value.errors)
        return
    design = netsim_load(here / "compose.yaml", profiles=tuple(profiles))
    assert sorted(c.name for c in design.containers) == started
    _same(design, compose_view(compose_config(here), only=set(started)))


def test_compose_profiles_variable_and_star():
    here = PROJECTS / "profiles"
    by_env = netsim_load(here / "compose.yaml", environment={"COMPOSE_PROFILES": "backend, debug"})
    assert sorted(c.name for c in by_env.containers) == compose_started(here, ["backend", "debug"])
    every = netsim_load(here / "compose.yaml", profiles=("*",))
    assert len(every.containers) == 5


# --- include (compose-spec 14-include.md; not in docker-compose 1.29) ---------------------------


def _without(path: Path, target: Path, networks=()) -> Path:
    """A copy of a compose file without ``include`` and depends_on, with the included projects'
    ``networks`` declared: the including project alone, for docker-compose 1.29, which reads no include."""
    data = yaml.safe_load(path.read_text())
    data.pop("include", None)
    for spec in data.get("services", {}).values():
        spec.pop("depends_on", None)
    for name in networks:
        data.setdefault("networks", {})[name] = {}
    target.write_text(yaml.safe_dump(data))
    return target


def _dotenv(path: Path) -> dict:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


def test_include_is_each_project_read_alone(tmp_path):
    here = PROJECTS / "include"
    design = netsim_load(here / "compose.yaml")
    parent_env = _dotenv(here / ".env")  # the including project's environment wins in an included one
    main = shutil.copytree(here, tmp_path / "include")
    _without(here / "compose.yaml", main / "compose.yaml", networks=["data"])
    expected = compose_view(compose_config(main))
    expected.update(compose_view(compose_config(here / "db", env=parent_env)))
    cache_env = compose_config(here / "cache", env_files=[here / "cache" / "cache.env"], env=parent_env)
    expected.update(compose_view(cache_env))
    _same(design, expected)
    assert (("127.0.0.1", 15432, 5432, "tcp")) in netsim_view(design)["db"][1]  # parent .env over db/.env


def test_full_project_as_docker_compose_reads_its_parts(tmp_path):
    """The project of the engine test: .env, override, extends (other file), include, a profile."""
    here = PROJECTS / "full"
    design = netsim_load(here / "compose.yaml", profiles=("debug",))
    main = shutil.copytree(here, tmp_path / "full")
    _without(here / "compose.yaml", main / "compose.yaml", networks=["data"])
    started = compose_started(main, ["debug"])
    assert started == ["api", "debug", "web"]
    expected = compose_view(compose_config(main), only=set(started))
    expected.update(compose_view(compose_config(here / "shared", env=_dotenv(here / ".env"))))
    _same(design, expected)
    assert sorted(c.name for c in design.containers) == ["api", "db", "debug", "web"]
    assert [c.name for c in netsim_load(here / "compose.yaml").containers] == ["web", "api", "db"]


# --- !reset and !override (compose-spec 13-merge.md; not in docker-compose 1.29) -------------------


def test_reset_and_override_follow_the_specification():
    design = netsim_load(PROJECTS / "tags" / "compose.yaml")
    app, proxy = design.container("app"), design.container("proxy")
    assert app.ports == () and app.labels == ()  # ports: !reset [], labels: !reset null
    assert [a.network for a in app.attachments] == ["back"]  # networks: !override [back]
    assert sorted(lst.port for lst in app.listeners if lst.origin is ListenerOrigin.COMPOSE) == [9000, 9001]
    assert [(p.host_port, p.container_port) for p in proxy.ports] == [(8443, 443)]  # ports: !override


# --- interpolation (compose-spec 12-interpolation.md) -------------------------------------------


def _one(tmp_path: Path, text: str, env: dict | None = None, dotenv: str | None = None):
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text))
    if dotenv is not None:
        (tmp_path / ".env").write_text(textwrap.dedent(dotenv))
    return load(tmp_path / "compose.yaml", project=ProjectOptions(environment=env or {}))


def test_interpolation_forms(tmp_path):
    loaded = _one(tmp_path, """\
        name: p
        services:
          web:
            labels:
              v: "a${SET:+-alt}b${UNSET:+-no}c${EMPTY+-set}d${UNSET+-no}e${EMPTY:-f}${EMPTY-g}h$$i${X:-${SET}}"
              w: "${SET?}${SET:?}x$SET"
        """, env={"SET": "1", "EMPTY": ""})
    assert dict(loaded.design.container("web").labels) == {"v": "a-altbc-setdefh$i1", "w": "11x1"}


def test_required_variable_names_the_place(tmp_path):
    with pytest.raises(DesignError) as exc:
        _one(tmp_path, "name: p\nservices:\n  web:\n    image: 'x:${TAG:?give TAG}'\n", env={})
    assert [str(p) for p in exc.value.errors] == [
        f"{tmp_path / 'compose.yaml'}:4:12: services.web.image: required variable TAG is missing a value: give TAG "
        "(set it in the environment or the project's .env file)"]


def test_dotenv_forms(tmp_path):
    loaded = _one(tmp_path, "name: p\nservices:\n  web:\n    labels: {v: '${A}-${B}-${C}-${D}-${E}'}\n",
                  dotenv="""\
                      # comment
                      export A=one
                      B='two ${A}'
                      C="three ${A}"
                      D=four # a comment
                      E=${A}five
                      """)
    assert dict(loaded.design.container("web").labels) == {"v": "one-two ${A}-three one-four-onefive"}


def test_dotenv_line_of_another_shape_is_a_problem_at_its_line(tmp_path):
    with pytest.raises(DesignError) as exc:
        _one(tmp_path, "name: p\nservices:\n  web: {}\n", dotenv="A=1\nnot a variable\n")
    assert any(p.location is not None and p.location.file.endswith(".env") and p.location.line == 2
               and "is not a variable" in p.message for p in exc.value.errors)


# --- problems point at the file they are written in ---------------------------------------------


def test_problems_in_override_extended_and_included_files_name_those_files(tmp_path):
    (tmp_path / "compose.yaml").write_text(
        "include: [sub/compose.yaml]\nservices:\n  web:\n    extends: {file: base.yaml, service: b}\n")
    (tmp_path / "compose.override.yaml").write_text("services:\n  web:\n    ports: ['99999:80']\n")
    (tmp_path / "base.yaml").write_text("services:\n  b:\n    image: x\n    networkz: [a]\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "compose.yaml").write_text("services:\n  db:\n    expose: ['70000']\n")
    with pytest.raises(DesignError) as exc:
        load(tmp_path / "compose.yaml", project=ProjectOptions())
    where = {(Path(p.location.file).name if p.location else None, p.location.line if p.location else None)
             for p in exc.value.errors}
    assert ("compose.override.yaml", 3) in where, exc.value.errors
    assert ("base.yaml", 4) in where, exc.value.errors
    assert any(p.location is not None and p.location.file.endswith("sub/compose.yaml") and p.location.line == 3
               for p in exc.value.errors), exc.value.errors


def test_missing_files_are_named(tmp_path):
    (tmp_path / "compose.yaml").write_text("services:\n  web: {image: x}\n")
    with pytest.raises(ArgumentError, match=r"--file .*nope.yaml: no such file"):
        load(tmp_path / "compose.yaml", project=ProjectOptions(files=(str(tmp_path / "nope.yaml"),)))
    with pytest.raises(ArgumentError, match=r"--env-file .*nope.env: no such file"):
        load(tmp_path / "compose.yaml", project=ProjectOptions(env_files=(str(tmp_path / "nope.env"),)))


def test_project_options_on_a_netsim_design_are_refused():
    design = Path(__file__).resolve().parents[2] / "designs" / "frontend-backend.yaml"
    with pytest.raises(ArgumentError, match="apply to compose files"):
        load(design, project=ProjectOptions(profiles=("x",)))


def test_cycles_are_refused(tmp_path):
    (tmp_path / "compose.yaml").write_text("include: [a.yaml]\nservices:\n  web: {image: x}\n")
    (tmp_path / "a.yaml").write_text("include: [compose.yaml]\nservices:\n  db: {image: x}\n")
    with pytest.raises(DesignError, match="a cycle"):
        load(tmp_path / "compose.yaml", project=ProjectOptions())
    (tmp_path / "b.yaml").write_text("services:\n  a:\n    extends: {file: c.yaml, service: a}\n")
    (tmp_path / "c.yaml").write_text("services:\n  a:\n    extends: {file: b.yaml, service: a}\n")
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    extends: {file: b.yaml, service: a}\n")
    with pytest.raises(DesignError, match="cycle"):
        load(tmp_path / "compose.yaml", project=ProjectOptions())


def test_project_name_from_environment_and_directory(tmp_path):
    (tmp_path / "compose.yaml").write_text("name: fromfile\nservices:\n  web: {image: x}\n")
    assert load(tmp_path / "compose.yaml", project=ProjectOptions()).design.name == "fromfile"
    named = load(tmp_path / "compose.yaml", project=ProjectOptions(environment={"COMPOSE_PROJECT_NAME": "env"}))
    assert named.design.name == "env" and named.design.container("web").docker_name == "env-web-1"
    (tmp_path / "compose.yaml").write_text("services:\n  web: {image: x}\n")
    other = tmp_path / "My Project"
    other.mkdir()
    assert load(tmp_path / "compose.yaml", project=ProjectOptions(project_directory=str(other))).design.name == \
        "myproject"


# --- the command line -----------------------------------------------------------------------------


def test_every_command_with_a_design_takes_the_project_options():
    import typer

    from simulator.cli import app

    group = typer.main.get_command(app)
    for name, cmd in group.commands.items():
        opts = {o for p in cmd.params for o in p.opts}
        args = {p.name for p in cmd.params if p.param_type_name == "argument"}
        if "design" in args:
            assert {"--file", "--env-file", "--profile", "--project-directory"} <= opts, name
        elif "old" in args:
            assert {"--env-file", "--profile", "--project-directory"} <= opts and "--file" not in opts, name
        else:
            assert not opts & {"--file", "--env-file", "--profile", "--project-directory"}, name


def test_cli_reads_the_project(tmp_path):
    from typer.testing import CliRunner

    from simulator.cli import app

    here = PROJECTS / "full"
    result = CliRunner().invoke(app, ["check", str(here / "compose.yaml"), "--profile", "debug"], env={"API_TAG": "9"})
    assert result.exit_code == 0, result.output
    assert "4 container(s)" in result.output
    result = CliRunner().invoke(app, ["check", str(PROJECTS / "env-override" / "compose.yaml"),
                                      "--file", str(PROJECTS / "env-override" / "prod.yaml"),
                                      "--env-file", str(PROJECTS / "env-override" / "prod.env")])
    assert result.exit_code == 0, result.output
    assert "2 container(s)" in result.output
    result = CliRunner().invoke(app, ["check", str(PROJECTS / "full" / "compose.yaml"), "--file", "nope.yaml"])
    assert result.exit_code == 2 and "nope.yaml: no such file" in result.output



def test_a_project_reads_a_bounded_number_of_files(tmp_path):
    from simulator.loaders.compose_project import MAX_FILES

    (tmp_path / "compose.yaml").write_text("include:\n" + "".join(
        f"  - path: [a.yaml]\n    project_directory: d{i}\n" for i in range(MAX_FILES + 5)) + "services:\n  web: {}\n")
    (tmp_path / "a.yaml").write_text("services:\n  db: {image: x}\n")
    with pytest.raises(DesignError, match=f"more than {MAX_FILES} compose files"):
        load(tmp_path / "compose.yaml", project=ProjectOptions())


def test_a_file_that_only_includes_is_a_compose_project(tmp_path):
    (tmp_path / "compose.yaml").write_text("include:\n  - web/compose.yaml\n  - db/compose.yaml\n")
    for name in ("web", "db"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "compose.yaml").write_text(f"services:\n  {name}:\n    image: x\n    expose: ['80']\n")
    design = load(tmp_path / "compose.yaml", project=ProjectOptions()).design
    assert design.kind == "compose" and [c.name for c in design.containers] == ["web", "db"]


def test_an_unset_variable_is_said_once_per_value(tmp_path):
    loaded = _one(tmp_path, "name: p\nservices:\n  web:\n    image: x\n    ports: ['${P}80:${P}80']\n")
    unset = [p for p in loaded.warnings if "variable P is not set" in p.message]
    assert len(unset) == 1 and unset[0].path == "services.web.ports[0]"


def test_extends_naming_its_own_file_and_files_extending_each_other(tmp_path):
    """No cycle: web extends base through its own file's name; a.yaml's x extends b.yaml's y, which
    extends a.yaml's z (compose allows both)."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  base:\n    image: x\n    expose: ['1']\n"
        "  web:\n    extends: {file: compose.yaml, service: base}\n    expose: ['2']\n"
        "  api:\n    extends: {file: a.yaml, service: x}\n")
    (tmp_path / "a.yaml").write_text("services:\n  x:\n    extends: {file: b.yaml, service: y}\n    expose: ['3']\n"
                                     "  z:\n    image: x\n    expose: ['5']\n")
    (tmp_path / "b.yaml").write_text("services:\n  y:\n    extends: {file: a.yaml, service: z}\n    expose: ['4']\n")
    design = load(tmp_path / "compose.yaml", project=ProjectOptions()).design
    ports = {c.name: sorted(lst.port for lst in c.listeners if lst.origin is ListenerOrigin.COMPOSE)
             for c in design.containers}
    assert ports == {"base": [1], "web": [1, 2], "api": [3, 4, 5]}
