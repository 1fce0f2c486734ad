"""`netsim reach` at scale (issue 12): JSON streamed probe by probe, the class-level form
(`--by class`), and the table summarised by class with drill-down (`--source`, `--target`, `--all`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.analysis import reachability
from simulator.analysis.listeners import ListenerOrigins, unknown_listeners
from simulator.analysis.reachability import reach_of
from simulator.cli import app
from simulator.pipeline import load

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "designs").glob("*.yaml")) + [ROOT / "designs/compose-shop/compose.yaml"]
REPLICAS = """\
name: replicas
hosts:
  docker1:
    lan: {interface: eth0, address: 192.168.1.10/24}
networks:
  back: {subnet: 172.31.0.0/24}
  front: {subnet: 172.31.1.0/24}
containers:
  web:
    networks: [front, back]
    listens: [80]
    ports: ["8080:80"]
  api-1: {networks: [back], listens: [9000]}
  api-2: {networks: [back], listens: [9000]}
  api-3: {networks: [back], listens: [9000]}
  api-3-side: {network_mode: "container:api-3", listens: [9100]}
  lone: {networks: [front], listens: [5000]}
"""


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "100"})


@pytest.fixture
def replicas(tmp_path) -> Path:
    path = tmp_path / "replicas.yaml"
    path.write_text(REPLICAS)
    return path


def reference_json(design: Path, kernel: dict, trace: bool = False) -> str:
    """The reach JSON as the command wrote it before streaming: one json.dumps of the whole object."""
    world = load(design).world()
    model = world.design
    result = reach_of(world, with_traces=trace)
    data = {"design": model.name, "engine_version": result.engine_version,
            "probes": [p.to_json(trace) for p in result.probes], "kernel": kernel}
    origins = ListenerOrigins(model)
    for row in data["probes"]:
        row["listener_origin"] = origins.at(row["via"], row["responder"], row["target"], row["port"], row["protocol"])
    data["listeners_unknown"] = [{"container": n, "reason": why} for n, why in unknown_listeners(model)]
    return json.dumps(data, indent=1) + "\n"


@pytest.mark.parametrize("design", BUNDLED, ids=lambda p: p.name)
def test_streamed_json_is_the_text_one_dump_wrote(design):
    out = run("reach", design, "-f", "json")
    assert out.exit_code == 0, out.output
    assert out.stdout == reference_json(design, json.loads(out.stdout)["kernel"])


def test_streamed_json_with_traces_is_the_text_one_dump_wrote():
    design = ROOT / "designs/overlay-two-hosts.yaml"
    out = run("reach", design, "-f", "json", "--trace")
    assert out.exit_code == 0, out.output
    assert out.stdout == reference_json(design, json.loads(out.stdout)["kernel"], trace=True)


def test_no_output_holds_every_probe(monkeypatch, replicas):
    """JSON (both forms) and the summary table never materialise the list of probes."""
    expected = json.loads(run("reach", replicas, "-f", "json").stdout)

    def refuse(self, obj, owner=None):
        if obj is None:
            return None
        raise AssertionError("the whole list of probes was built")

    monkeypatch.setattr(reachability._Probes, "__get__", refuse)
    streamed = run("reach", replicas, "-f", "json")
    assert streamed.exit_code == 0, streamed.output
    assert json.loads(streamed.stdout) == expected
    for args in (["--by", "class", "-f", "json"], [], ["--source", "api-2"], ["--all"]):
        out = run("reach", replicas, *args)
        assert out.exit_code == 0, (args, out.output)


def test_class_json_counts_add_up_to_the_probes(replicas):
    probes = json.loads(run("reach", replicas, "-f", "json").stdout)["probes"]
    data = json.loads(run("reach", replicas, "--by", "class", "-f", "json").stdout)
    classes = {c["id"]: c["members"] for c in data["classes"]}
    assert classes["api×2 (back)"] == ["api-1", "api-2"]  # api-3's sidecar makes its namespace no replica's
    assert classes["api-3"] == ["api-3"]
    assert sorted(m for ms in classes.values() for m in ms) == sorted(
        ["web", "api-1", "api-2", "api-3", "api-3-side", "lone"])
    assert sum(g["count"] for g in data["groups"]) == len(probes)
    for g in data["groups"]:
        assert g["example"] in probes
        assert (g["disposition"], g["reason"], g["reachable"]) == (
            g["example"]["disposition"], g["example"]["reason"], g["example"]["reachable"])
    web_to_api = [g for g in data["groups"] if g["source_class"] == "web" and g["via"] == "ip"
                  and g["target_class"] == "api×2 (back)"]
    assert [(g["network"], g["port"], g["count"], g["reachable"]) for g in web_to_api] == [("back", 9000, 2, True)]


def test_by_class_over_many_classes_names_the_compact_form(replicas, monkeypatch):
    from simulator.cli import design_cmds

    quiet = run("reach", replicas, "--by", "class", "-f", "json")
    assert quiet.exit_code == 0 and quiet.stderr == ""  # 5 classes: 25 pairs, under the default
    monkeypatch.setattr(design_cmds, "CLASS_PAIRS_HINT", 24)
    hinted = run("reach", replicas, "--by", "class", "-f", "json")
    assert hinted.exit_code == 0, hinted.output
    assert hinted.stderr.startswith("netsim: --by class lists a group for every source class") and "--by outcome" in hinted.stderr
    assert "5 classes make up to 25 pairs" in hinted.stderr
    assert json.loads(hinted.stdout) == json.loads(quiet.stdout)  # the hint is not part of the output
    for args in (["--by", "outcome", "-f", "json"], ["--by", "class", "--source", "api-2"], []):
        assert run("reach", replicas, *args).stderr == "", args


def test_class_json_keeps_what_source_target_and_only_name(replicas):
    data = json.loads(run("reach", replicas, "--by", "class", "-f", "json", "--source", "api-2",
                          "--target", "lone", "--only", "unreachable").stdout)
    assert data["groups"]
    assert {g["source_class"] for g in data["groups"]} == {"api×2 (back)"}
    assert all(g["target_class"] == "lone" and not g["reachable"] for g in data["groups"])


def test_probe_json_source_takes_a_class(replicas):
    data = json.loads(run("reach", replicas, "-f", "json", "--source", "api×2 (back)", "--target", "web").stdout)
    assert {p["source"] for p in data["probes"]} == {"api-1", "api-2"}
    assert all(p["target"] == "web" or p["responder"] == "web" or p["name"] == "web" for p in data["probes"])


def _rows(table: str) -> list[list[str]]:
    return [[c.strip() for c in line.split("│")[1:-1]] for line in table.splitlines()
            if line.startswith("│") and line.split("│")[1].strip()]


def test_summary_table_counts_every_probe_once(replicas):
    probes = json.loads(run("reach", replicas, "-f", "json").stdout)["probes"]
    out = run("reach", replicas, "--wide")
    assert out.exit_code == 0, out.output
    text = out.stdout
    assert text.startswith("replicas: 6 container(s) in 5 class(es), engine ")
    assert "from api×2 (back): 2 containers alike (api-1 … api-2)" in text
    total = re.search(r"^(\d+) probes in (\d+) group\(s\), (\d+) answered$", text, re.M)
    assert total is not None
    assert int(total[1]) == len(probes) and int(total[3]) == sum(p["reachable"] for p in probes)
    counts = [int(r[3]) for r in _rows(text)]
    assert sum(counts) == len(probes)


def test_drill_down_by_source_and_target(replicas):
    by_name = run("reach", replicas, "--source", "api-2", "--wide").stdout
    by_class = run("reach", replicas, "--source", "api×2 (back)", "--wide").stdout
    assert by_name == by_class  # a container stands for its class
    assert "from api×2 (back)" in by_name and "from web" not in by_name
    rows = _rows(by_name)
    assert {r[0] for r in rows} == {"ip", "dns", "host"}  # one row per way, network and port
    assert any(r[1] == "lone @ front" for r in rows) and any(r[1] == "api×2 (back) @ back" for r in rows)
    only = run("reach", replicas, "--target", "lone", "--only", "reachable", "--wide").stdout
    assert all("lone" in r[1] and r[4].startswith("✔") for r in _rows(only))


def test_all_prints_every_probe_of_the_sources_named(replicas):
    probes = json.loads(run("reach", replicas, "-f", "json", "--source", "api×2 (back)").stdout)["probes"]
    out = run("reach", replicas, "--all", "--source", "api×2 (back)", "--wide").stdout
    assert [line for line in out.splitlines() if line.startswith("from ")] == ["from api-1", "from api-2"]
    assert len(_rows(out)) == len(probes)


def test_unknown_source_or_target_is_one_line_with_a_suggestion(replicas):
    out = run("reach", replicas, "--source", "api-4x")
    assert out.exit_code == 2 and 'unknown source "api-4x"' in out.stderr
    out = run("reach", replicas, "--target", "lonely")
    assert out.exit_code == 2 and 'unknown target "lonely" (did you mean "lone"?)' in out.stderr


@pytest.mark.parametrize("by", ["class", "outcome"])
def test_group_forms_write_a_group_a_line_around_the_indented_object(replicas, by):
    """docs/reach-json.md, Layout: the object as json.dumps(indent=1) lays it out, each group on one line."""
    out = run("reach", replicas, "--by", by, "-f", "json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    lines = out.stdout.splitlines()
    start = lines.index(' "groups": [') + 1
    group_lines = lines[start:start + len(data["groups"])]
    assert [json.loads(line.removeprefix("  ").removesuffix(",")) for line in group_lines] == data["groups"]
    assert all(line.startswith("  {") for line in group_lines) and lines[start + len(data["groups"])] == " ],"
    assert "api×2 (back)" in out.stdout  # UTF-8 text, not \u escapes, in the groups
    laid_out = {k: v for k, v in data.items() if k != "groups"}
    head = json.dumps(laid_out, indent=1)
    assert out.stdout.startswith(head[:head.index(' "kernel"')])  # what precedes the list: as indent=1 writes it
