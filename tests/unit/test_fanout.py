"""simulator.fanout: a map whose work runs in forked processes gives what the builtin map gives,
in order; failures reach the caller; shared values come back as the parent's own objects; and the
coarse groups of a large design are the same computed in workers as in one process."""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path

import pytest
import yaml

from simulator import fanout
from simulator.analysis.reachability import reach_of
from simulator.errors import NetsimError
from simulator.fanout import default_workers, ordered_map
from simulator.pipeline import load

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from scale_bench import generate


def _pid_and_square(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


def _pid_and_square_slowly(x: int) -> tuple[int, int]:
    time.sleep(0.005)  # long enough that every worker gets some before the others are done
    return os.getpid(), x * x


def test_results_come_in_order_and_from_other_processes():
    items = list(range(103))
    got = list(ordered_map(_pid_and_square_slowly, items, workers=3, chunk=4))
    assert [sq for _, sq in got] == [x * x for x in items]
    pids = {pid for pid, _ in got}
    assert os.getpid() not in pids and len(pids) >= 2


def _slow_if_even(x: int) -> tuple[int, int]:
    if x % 2 == 0:
        time.sleep(0.1)
    return os.getpid(), x


def test_a_worker_done_with_its_share_takes_the_rest_of_the_others():
    """Chunks of one item alternate: the even items are worker 0's share, and each takes 0.1 s."""
    got = list(ordered_map(_slow_if_even, list(range(40)), workers=2, chunk=1))
    assert [x for _, x in got] == list(range(40))
    odd = {pid for pid, x in got if x % 2}
    even = [pid for pid, x in got if x % 2 == 0]
    assert len(odd) == 1 and os.getpid() not in odd
    assert even[0] not in odd, "worker 0 took its first item itself"
    assert odd <= set(even), "worker 1 took some of worker 0's items once its own were done"
    taken = [x for pid, x in got if x % 2 == 0 and pid in odd]
    assert taken == list(range(40 - 2 * len(taken), 40, 2)), "from the end of worker 0's share"


def test_few_items_or_one_worker_stay_in_this_process():
    assert {pid for pid, _ in ordered_map(_pid_and_square, range(20), workers=1)} == {os.getpid()}
    assert {pid for pid, _ in ordered_map(_pid_and_square, range(20), workers=2, chunk=4, least=16)} == {os.getpid()}


def _fails_at_50(x: int) -> int:
    if x == 50:
        raise NetsimError(f"item {x} is bad")
    return x


def test_a_failure_in_a_worker_is_raised_to_the_caller_after_the_results_before_it():
    seen = []
    with pytest.raises(NetsimError, match="item 50 is bad"):
        for x in ordered_map(_fails_at_50, list(range(100)), workers=2, chunk=5):
            seen.append(x)
    assert seen == list(range(50))


def test_stopping_early_leaves_no_worker_behind():
    it = ordered_map(_pid_and_square, list(range(400)), workers=2, chunk=2)
    pids = {next(it)[0] for _ in range(3)}
    it.close()
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped already: not a child any more


class _Big(dict):
    __slots__ = ()


def test_shared_values_come_back_as_the_parents_objects():
    big = _Big((f"class{i}", i) for i in range(1000))
    other = {"a": 1}
    got = list(ordered_map(lambda i: (big, dict(other), i, [big]), list(range(40)), workers=2, chunk=2, shared=[big]))
    assert all(b is big and inner[0] is big for b, _, _, inner in got)
    assert all(o == other and o is not other for _, o, _, _ in got)
    assert not fanout._SHARED, "the pool's references are dropped with it"


def test_a_shared_value_of_a_builtin_type_is_refused():
    """The pickler is asked about no builtin value: a plain dict would travel by value, unnoticed."""
    with pytest.raises(NetsimError, match="type of its own"):
        list(ordered_map(lambda i: i, list(range(40)), workers=2, chunk=2, shared=[{"a": 1}]))


def _collector(_: int) -> tuple[int, int, bool]:
    return os.getpid(), gc.get_threshold()[0], gc.isenabled()


def test_workers_collect_cycles_rarely_and_the_parent_as_before():
    before = gc.get_threshold()
    got = list(ordered_map(_collector, list(range(40)), workers=2, chunk=2))
    assert {pid for pid, _, _ in got} - {os.getpid()}, "computed in workers"
    assert {(young, on) for _, young, on in got} == {(fanout.WORKER_YOUNG, gc.isenabled())}
    assert gc.get_threshold() == before


def test_netsim_jobs_sets_the_workers(monkeypatch):
    monkeypatch.setenv("NETSIM_JOBS", "3")
    assert default_workers() == 3
    monkeypatch.setenv("NETSIM_JOBS", "1")
    assert default_workers() == 1


def test_coarse_groups_in_workers_equal_those_in_one_process():
    world = load(yaml.safe_dump(generate(500, 24, 6, seed=7))).world()
    alone = reach_of(world)
    fanned = reach_of(world, workers=2)
    assert len(alone.classes) >= 64, "enough source classes to fork"
    one = [(g, tuple(g.target_counts)) for g in alone.coarse_groups()]
    two = [(g, tuple(g.target_counts)) for g in fanned.coarse_groups()]
    assert [g.source_class for g, _ in one] == [g.source_class for g, _ in two]
    assert one == two
    drawn = list(fanned.map_coarse(lambda cid, gs: (cid, os.getpid(), sum(g.count for g in gs))))
    assert {pid for _, pid, _ in drawn} - {os.getpid()}, "the groups were made in workers"
    assert [(cid, n) for cid, _, n in drawn] == [(cid, sum(g.count for g, _ in one if g.source_class == cid))
                                                 for cid in dict.fromkeys(g.source_class for g, _ in one)]


def _slow_unless_c(item: tuple[int, str]) -> tuple[int, float, tuple[int, str]]:
    if item[1] != "c":
        time.sleep(0.15)
    return os.getpid(), time.monotonic(), item


def test_a_worker_taking_from_another_prefers_a_key_it_has_computed():
    """Keys a and b alternate in one worker's share (slow), c is the other's (fast): once done with
    c, that worker takes the other's last chunk (a b) and then b's before any a."""
    items = [(i, "ab"[i % 2]) for i in range(20)] + [(i, "c") for i in range(20, 40)]
    plan = fanout._plan(items, 2, 1, lambda x: x[1])
    by_key = _workers_by_key(items, plan)
    assert set(by_key["a"]) == set(by_key["b"]) != set(by_key["c"])
    got = list(ordered_map(_slow_unless_c, items, workers=2, chunk=1, affinity=lambda x: x[1]))
    assert [x for _, _, x in got] == items
    fast = {pid for pid, _, (_, key) in got if key == "c"}
    taken = [x for _, pid, x in sorted((at, pid, x) for pid, at, x in got) if pid in fast and x[1] != "c"]
    assert len(taken) >= 3, "the fast worker took some of the slow one's chunks"
    assert taken[0] == (19, "b") and [key for _, key in taken[:3]] == ["b", "b", "b"]


def _when(x: int) -> tuple[int, float, int]:
    time.sleep(0.01)
    return os.getpid(), time.monotonic(), x


def test_an_early_item_is_computed_before_the_rest_of_its_workers_share():
    """Item 38 (worker 0's last, chunks of one item alternating) is worker 0's first."""
    got = list(ordered_map(_when, list(range(40)), workers=2, chunk=1, early=lambda x: x == 38))
    assert [x for _, _, x in got] == list(range(40))
    pid, at, _ = got[38]
    mine = [when for p, when, x in got if p == pid and x != 38]
    assert got[0][0] == pid and mine and at < min(mine)


def _workers_by_key(items: list, plan: list[tuple[int, int, int]]) -> dict[str, list[int]]:
    """key -> the worker of each of its items, by the plan."""
    by_key: dict[str, list[int]] = {}
    for w, start, end in plan:
        for _, key in items[start:end]:
            by_key.setdefault(key, []).append(w)
    return by_key


def test_items_of_one_key_are_one_workers_share_and_the_results_stay_in_order():
    items = [(i, f"host{(i * 7) % 5}") for i in range(120)]
    plan = fanout._plan(items, 2, 3, lambda x: x[1])
    assert [i for _, start, end in plan for i in range(start, end)] == list(range(120))
    assert all(end - start <= 3 for _, start, end in plan)
    by_key = _workers_by_key(items, plan)
    assert all(len(set(ws)) == 1 for ws in by_key.values())
    assert {ws[0] for ws in by_key.values()} == {0, 1}
    got = list(ordered_map(lambda x: (os.getpid(), x), items, workers=2, chunk=3, affinity=lambda x: x[1]))
    assert [x for _, x in got] == items and os.getpid() not in {pid for pid, _ in got}


def test_a_key_holding_more_than_a_workers_share_is_shared_out():
    """One host holding most of a design (a compose project) would leave the other workers idle."""
    items = [(i, "big" if i % 10 else f"small{i}") for i in range(120)]
    big = _workers_by_key(items, fanout._plan(items, 2, 3, lambda x: x[1]))["big"]
    assert abs(big.count(0) - len(big) / 2) <= 6, "about half each"
    got = list(ordered_map(lambda x: (os.getpid(), x), items, workers=2, chunk=3, affinity=lambda x: x[1]))
    assert [x for _, x in got] == items


def test_probes_made_in_workers_are_the_matrix_in_order():
    world = load(yaml.safe_dump(generate(90, 8, 3, seed=11))).world()
    alone = list(reach_of(world).iter_probes())
    fanned = reach_of(world, workers=2)
    assert len(fanned.source_names()) >= 64, "enough sources to fork"
    made = list(fanned.map_probes(lambda ps: (os.getpid(), ps)))
    assert {pid for pid, _ in made} - {os.getpid()}, "the probes were made in workers"
    assert [p for _, ps in made for p in ps] == alone
    some = {"external", alone[0].source}
    assert [p for ps in fanned.map_probes(lambda ps: ps, some) for p in ps] == [p for p in alone if p.source in some]


def _waits_for_the_last(item: tuple[int, str]) -> bytes:
    """Item 0 (worker 0's first chunk) waits until the last item (worker 1's) has been computed: only
    a parent reading worker 1's results before their turn lets worker 1 get that far (its results
    are far more than a pipe holds)."""
    i, flag = item
    if i == 0:
        for _ in range(400):
            if os.path.exists(flag):
                return b"first"
            time.sleep(0.05)
        raise NetsimError("worker 1 never got to the last item: its results were not read ahead")
    if i == 39:
        Path(flag).touch()
    return bytes(200_000)


def test_a_worker_whose_turn_has_not_come_keeps_computing(tmp_path):
    flag = str(tmp_path / "last-done")
    items = [(i, flag) for i in range(40)]  # chunks of one item, in turn: item 0 to worker 0, item 39 to worker 1
    got = list(ordered_map(_waits_for_the_last, items, workers=2, chunk=1))
    assert got[0] == b"first" and [len(g) for g in got[1:]] == [200_000] * 39


def test_read_ahead_is_bounded_and_the_results_still_come_in_order(monkeypatch):
    monkeypatch.setattr(fanout, "READ_AHEAD", 300_000)  # about one result: the parent stops reading early
    items = list(range(60))
    got = list(ordered_map(lambda i: (i, bytes(100_000 * (i % 4))), items, workers=2, chunk=2))
    assert [i for i, _ in got] == items
    assert [len(b) for _, b in got] == [100_000 * (i % 4) for i in items]


def test_an_early_result_larger_than_the_read_ahead_does_not_stop_the_others(monkeypatch):
    """Item 58 (worker 0's, taken first) sends 3 MB while the parent holds at most 300 kB of a
    worker's results before their turn: the parent keeps reading worker 0 for item 0 anyway."""
    monkeypatch.setattr(fanout, "READ_AHEAD", 300_000)
    items = list(range(60))
    got = list(ordered_map(lambda i: (i, bytes(3_000_000 if i == 58 else 100_000)), items, workers=2, chunk=2,
                           early=lambda i: i == 58))
    assert [i for i, _ in got] == items
    assert [len(b) for _, b in got] == [3_000_000 if i == 58 else 100_000 for i in items]


def test_class_groups_mapped_in_workers_equal_the_groups_in_one_process():
    world = load(yaml.safe_dump(generate(500, 24, 6, seed=3))).world()
    alone = list(reach_of(world).groups())
    fanned = reach_of(world, workers=2)
    made = list(fanned.map_groups(lambda cid, gs: (cid, os.getpid(), gs)))
    assert {pid for _, pid, _ in made} - {os.getpid()}, "the groups were made in workers"
    assert [(g, tuple(g.target_counts)) for _, _, gs in made for g in gs] == [(g, tuple(g.target_counts)) for g in alone]
    assert all(g.source_class == cid for cid, _, gs in made for g in gs)
    some = {alone[0].source_class, "external"}
    assert [g for _, gs in fanned.map_groups(lambda cid, gs: (cid, gs), some) for g in gs] == \
        [g for g in alone if g.source_class in some]


@pytest.mark.parametrize("design", ["designs/ipv6/dual-stack.yaml", "designs/compose-replicas/compose.yaml"])
def test_class_groups_mapped_per_class_are_the_groups(design):
    result = reach_of(load(Path(__file__).resolve().parents[2] / design).world())
    assert [g for _, gs in result.map_groups(lambda cid, gs: (cid, gs)) for g in gs] == list(result.groups())


@pytest.mark.skipif(not Path("/proc/sys/fs/pipe-max-size").exists()
                    or int(Path("/proc/sys/fs/pipe-max-size").read_text()) < fanout.PIPE_BYTES,
                    reason="Linux pipes of this size")
def test_a_workers_pipe_takes_a_message_of_a_megabyte_without_the_parent_reading():
    """A worker writes its message and goes on computing while the parent writes its output: the
    pipe holds PIPE_BYTES (the default, 64 KiB, kept it waiting for the parent every 64 KiB)."""
    r, w = os.pipe()
    try:
        fanout._widen(w)
        os.set_blocking(w, False)
        assert os.write(w, b"x" * fanout.PIPE_BYTES) == fanout.PIPE_BYTES  # all of it, nobody reading
        with pytest.raises(BlockingIOError):
            os.write(w, b"x")
    finally:
        os.close(r)
        os.close(w)
