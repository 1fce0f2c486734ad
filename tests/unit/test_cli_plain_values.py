"""The command line reads texts, choices and paths without pydantic (common._plain_coercions), to the
same values typer's validators give, and leaves every other value and every refusal to them."""

from __future__ import annotations

import subprocess
import sys
from enum import Enum
from pathlib import Path

import pytest

from simulator.cli import app, common

ROOT = Path(__file__).resolve().parents[2]

typer_coercion = pytest.importorskip("typer._coercion")
if common._PlainValue is None:  # pragma: no cover - a typer without validators to spare
    pytest.skip("this typer reads values without pydantic already", allow_module_level=True)


def _params():
    import typer.main

    group = typer.main.get_command(app)
    ctx = group.make_context("netsim", ["--help"], resilient_parsing=True)
    for name, command in sorted(group.commands.items()):
        for param in command.get_params(ctx):
            if hasattr(param, "type_descriptor"):
                yield f"{name}:{param.name}", param


PARAMS = list(_params())


def _samples(annotation) -> list:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        values = [m.value for m in annotation]
        return [*annotation, *values, *(v.upper() for v in values), *(v.title() for v in values)]
    if annotation is str:
        return ["web", "", "a b", "-", "ünï", "web:80"]
    if annotation is Path:
        return ["designs/frontend-backend.yaml", "", "-", "/no/such", "a\udcffb", str(ROOT)]
    return []


def _outcome(runtime, value, param, ctx):
    try:
        return ("value", runtime.coerce(value, param=param, ctx=ctx))
    except Exception as exc:  # noqa: BLE001 - the refusal itself is compared
        return ("refused", type(exc).__name__, str(exc))


@pytest.mark.parametrize(("name", "param"), PARAMS, ids=[n for n, _ in PARAMS])
def test_plain_reading_gives_the_validators_values(name, param):
    import typer.main

    desc = param.type_descriptor
    plain = common._PlainValue(desc.parameter_info, desc.annotation)
    typer_own = typer_coercion.build_runtime_param(desc)
    ctx = typer.main.get_command(app).make_context("netsim", ["--help"], resilient_parsing=True)
    for value in [None, *_samples(desc.annotation)]:
        assert _outcome(plain, value, param, ctx) == _outcome(typer_own, value, param, ctx), (name, value)


def test_some_parameters_are_read_plainly():
    kinds = {type(p.type_descriptor.annotation) for _, p in PARAMS}
    assert len(PARAMS) > 50 and type in kinds
    assert any(_samples(p.type_descriptor.annotation) for _, p in PARAMS)


def test_a_trace_does_not_import_pydantic():
    code = ("import sys\nfrom simulator.cli import main\n"
            "sys.argv = ['netsim', 'trace', 'designs/frontend-backend.yaml', 'proxy', 'db:5432', '-p', 'TCP', '-f', 'json']\n"
            "try:\n    main()\nexcept SystemExit as exc:\n"
            "    print('exit', exc.code, 'pydantic' in sys.modules, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.stderr.strip().splitlines()[-1] == "exit 0 False", done.stderr
    assert '"disposition"' in done.stdout
