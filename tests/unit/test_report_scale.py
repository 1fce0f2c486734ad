"""The report's matrix from the coarse groups: the same cells, states and counts as from the
fine groups (one per pair of classes), examples of the cell they are shown in, and bounds that hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.analysis.reachability import compute_reach
from simulator.loaders import load_design, load_text
from simulator.render import report
from simulator.render.report import grid_data

ROOT = Path(__file__).resolve().parents[2]
DESIGNS = sorted(p.relative_to(ROOT / "designs").as_posix() for p in (ROOT / "designs").glob("*.yaml")) \
    + ["compose-shop/compose.yaml"]

# Three services on two networks, replicas listening on one port alike (so the coarse groups merge
# target classes: one blocked group stands for several classes), one publishing, one on both networks.
MIXED = """name: mixed
hosts: {h1: {lan: {interface: eth0, address: 192.168.1.10/24}}}
networks: {a: {subnet: 10.20.0.0/24}, b: {subnet: 10.21.0.0/24}}
containers:
""" + "".join(f"""  web-{r}: {{host: h1, networks: [a], listens: [80], ports: ['{8080 + r}:80']}}
  api-{r}: {{host: h1, networks: [a, b], listens: [80]}}
  db-{r}: {{host: h1, networks: {{b: {{aliases: [store]}}}}, listens: [80]}}
""" for r in range(3))


def counts(data: dict) -> dict[str, int]:
    return {key: sum(g[6] for g in groups) for key, groups in data["cells"].items()}


def states(data: dict) -> dict[str, str]:
    if "rows" in data:
        return {f"{i},{j}": s for i, row in enumerate(data["rows"]) for j, s in enumerate(row) if s != "-"}
    return dict(data["states"])


@pytest.mark.parametrize("name", DESIGNS + ["MIXED"])
def test_the_coarse_matrix_has_the_cells_states_and_counts_of_the_fine_one(name):
    design = load_text(MIXED)[0] if name == "MIXED" else load_design(ROOT / "designs" / name)[0]
    result = compute_reach(design, None)
    coarse = grid_data(result, False)
    fine = grid_data(result, False, result.groups())
    assert coarse["sources"] == fine["sources"] and coarse["targets"] == fine["targets"]
    assert states(coarse) == states(fine)
    assert counts(coarse) == counts(fine)
    assert (coarse["probes"], coarse["answered"]) == (fine["probes"], fine["answered"])


def test_the_mixed_design_has_groups_of_several_classes():
    """The design above exercises what the test above is for: coarse groups standing for several cells."""
    result = compute_reach(load_text(MIXED)[0], None)
    assert any(len(g.target_counts) > 1 for g in result.coarse_groups())


def test_every_example_is_a_probe_of_its_cell():
    result = compute_reach(load_text(MIXED)[0], None)
    data = grid_data(result, True)
    assert data["traces"] is True
    members = {c.id: set(c.members) for c in result.classes}
    for key, groups in data["cells"].items():
        target = data["targets"][int(key.split(",")[1])]
        for dialled, address, _, _, _, hops, _, example in groups:
            assert "(in " not in example  # not borrowed from another cell
            assert hops  # with its trace
            dialled_target = example.partition(" → ")[2]
            if dialled.startswith("via ip: "):
                assert dialled_target in members[target], (key, dialled, example)
            elif dialled.startswith("via dns: name"):
                named = dialled.split(" ", 3)[3]
                assert dialled_target in named.replace(",", " ").split()  # the example dials a name listed


def test_without_traces_a_borrowed_example_says_whose_it_is(monkeypatch):
    monkeypatch.setattr(report, "TRACE_LIMIT", 0)
    result = compute_reach(load_text(MIXED)[0], None)
    data = grid_data(result, True)
    assert data["traces"] is False
    members = {c.id: set(c.members) for c in result.classes}
    borrowed = 0
    for key, groups in data["cells"].items():
        target = data["targets"][int(key.split(",")[1])]
        for dialled, *_, example in groups:
            if dialled.startswith("via ip: ") and example.split(" → ", 1)[1].split(" ")[0] not in members[target]:
                assert "(in " in example and "the same way, port and outcome" in example
                borrowed += 1
    assert borrowed  # the design has such cells


def test_a_list_keeps_only_cells_whose_groups_all_fit(monkeypatch):
    result = compute_reach(load_text(MIXED)[0], None)
    fine = counts(grid_data(result, False, result.groups()))
    monkeypatch.setattr(report, "GRID_CELLS", 4)
    monkeypatch.setattr(report, "GROUP_LIMIT", 5)
    data = grid_data(result, False)
    assert "rows" not in data and 0 < sum(map(len, data["cells"].values())) <= 5
    assert set(data["cells"]) <= set(data["states"])  # only open cells are listed, and only those carry groups
    for key, n in counts(data).items():
        assert n == fine[key]  # a cell shown has all its probes


def test_a_list_shows_every_open_cell_with_all_its_groups_and_counts_the_blocked_ones(monkeypatch):
    result = compute_reach(load_text(MIXED)[0], None)
    fine = grid_data(result, False, result.groups())
    monkeypatch.setattr(report, "GRID_CELLS", 4)
    data = grid_data(result, False)
    open_cells = {key: s for key, s in states(fine).items() if s != "n"}
    assert data["states"] == open_cells
    assert counts(data) == {key: n for key, n in counts(fine).items() if key in open_cells}
    mixed = [key for key in open_cells if {g[3] for g in data["cells"][key]} >= {"DELIVERED", "DROPPED_ISOLATION"}]
    assert mixed  # open cells holding blocked groups too (api's address on the other network)
    per_row = [sum(1 for key, s in states(fine).items() if s == "n" and key.startswith(f"{i},"))
               for i in range(len(fine["sources"]))]
    assert data["blocked"] == per_row


def test_the_tables_are_bounded_and_say_what_they_leave_out(monkeypatch):
    from simulator.analysis.exposure import exposure_proofs

    design = load_text(MIXED)[0]
    result = compute_reach(design, None)
    proofs = exposure_proofs(result)
    whole = report.render_report(design, None, "", result, proofs=proofs)
    assert "Containers alike (the same class) share a row" in whole  # the web replicas' published ports
    assert "The first" not in whole
    monkeypatch.setattr(report, "TABLE_ROWS", 2)
    page = report.render_report(design, None, "", result, proofs=proofs)
    for head, command in (('id="exposure-h"', "netsim exposure DESIGN"), ('id="addressing-h"', "netsim addresses DESIGN"),
                          ('id="listeners-h"', None)):
        section = page[page.index(head):]
        section = section[:section.index("<h2", 1)] if "<h2" in section[1:] else section
        assert section.count("<tr") == 1 + 2  # the head and two rows
        assert "The first 2 rows" in section and (command is None or command in section)


def test_listeners_are_listed_by_class():
    result = compute_reach(load_text(MIXED)[0], None)
    section = report._listeners_html(result)
    assert section.count("<tr") == 1 + 3  # web, api, db: three classes of three replicas, each on 80/tcp
    assert all(f"<td>{c.id}</td><td>80/tcp</td>" in section for c in result.classes)
