"""An ordered map whose work runs in forked worker processes.

The analysis of a large design is a map over source classes whose work shares nothing but what
was computed before it started (the world, the class tables). :func:`ordered_map` forks
``workers`` processes that inherit all of that, hands each a share of the items in small chunks,
and yields the results in the items' order as they arrive (a consumer prints as it goes). A worker
done with its share takes the last chunks of the others' (the items' costs differ far more than
their number: the 10k design's source classes take 1 ms to 0.6 s each). With
one worker, few items or no ``fork`` it is the builtin ``map``: the results are the same either
way, which the tests check.

The parent reads every worker's messages as they come, not only the next one in order: a worker
whose turn has not come keeps computing while the parent waits for another, its messages held
until their turn, up to :data:`READ_AHEAD` bytes per worker (then it waits on a full pipe).

Results travel back pickled. Objects listed in ``shared`` (large values built before the fork
and read by many results, such as a bundle's target counts) travel as a reference to the
parent's copy instead of by value; each must be of a type of its own (not a builtin dict, list,
tuple...), the only values the pickler asks about.
"""

from __future__ import annotations

import gc
import io
import mmap
import os
import pickle
import select
import signal
import struct
import sys
import traceback
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import TypeVar

from .errors import ArgumentError, WorkerError

T = TypeVar("T")
R = TypeVar("R")

_HEADER = struct.Struct("<Q")  # a message's size; 0: the worker's last message (no chunk left)
_CHUNK = struct.Struct("<I")  # which chunk a message holds
_OK, _FAILED = b"o", b"f"
READ_AHEAD = 64 << 20  # bytes of a worker's messages the parent holds before their turn
PIPE_BYTES = 1 << 20  # what a worker's pipe holds (Linux's most for a user without CAP_SYS_RESOURCE): _widen
WORKER_YOUNG = 5_000_000  # a worker's cycle collector passes once per this many objects kept (see _serve)


def default_workers() -> int:
    """Workers for this machine: ``NETSIM_JOBS`` when set (1 turns fan-out off), else the CPUs
    this process may run on, at most 4."""
    given = os.environ.get("NETSIM_JOBS", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4))


def ordered_map(work: Callable[[T], R], items: Sequence[T], workers: int = 1, chunk: int = 4,
                shared: Iterable[object] = (), least: int = 2,
                affinity: Callable[[T], Hashable] | None = None,
                early: Callable[[T], bool] | None = None) -> Iterator[R]:
    """``map(work, items)``, computed by ``workers`` forked processes when there are at least
    ``least`` chunks of ``chunk`` items; the results in order. ``affinity``: items of one key go to
    the same worker's share (what a worker computes for one it reuses for the others: walks from one
    host; only the chunks taken once a worker's own share is done leave it),
    the keys spread so that the workers get as many items each as can be; a key holding more than
    a worker's share (one host holding most of a design, as every compose project does) is shared
    out like items without one. ``early``: items their worker computes before the rest of its share
    (one known to cost most would otherwise be computed last, and the others wait for it)."""
    shared = list(shared)
    if any(type(o) in _BUILTIN for o in shared):
        raise ArgumentError("a shared value must be of a type of its own (a subclass of dict, say): "
                            "the pickler is asked about no value of a builtin type")
    if workers <= 1 or len(items) < max(least, 2) * chunk or not hasattr(os, "fork"):
        yield from map(work, items)
        return
    plan = _plan(items, workers, chunk, affinity)
    keys = [None if affinity is None else affinity(items[start]) for _, start, _ in plan]
    first = [early is not None and any(map(early, items[start:end])) for _, start, end in plan]
    yield from _Pool(work, items, plan, _Claims(plan, workers, keys, first), shared).results()


def _plan(items: Sequence, workers: int, chunk: int, affinity: Callable | None) -> list[tuple[int, int, int]]:
    """The chunks in the items' order: (worker, first item, end), each at most ``chunk`` items of one worker."""
    owner = _owners(items, workers, affinity) if affinity is not None else None
    if owner is None:
        owner = [(i // chunk) % workers for i in range(len(items))]
    plan: list[tuple[int, int, int]] = []
    start = 0
    for i in range(1, len(items) + 1):
        if i == len(items) or owner[i] != owner[start] or i - start == chunk:
            plan.append((owner[start], start, i))
            start = i
    return plan


def _owners(items: Sequence, workers: int, affinity: Callable) -> list[int] | None:
    """The worker of each item, items of one key together, the keys spread so that the workers get
    as many items each as can be; None when one key holds more than a worker's share (one host
    holding most of a design): then it is shared out like items without a key."""
    keys = [affinity(x) for x in items]
    sizes: dict = {}
    for k in keys:
        sizes[k] = sizes.get(k, 0) + 1
    if max(sizes.values()) * workers > len(items):
        return None
    load = [0] * workers
    worker_of = {}
    for k, n in sorted(sizes.items(), key=lambda kv: -kv[1]):  # the largest first, to the least loaded
        w = load.index(min(load))
        worker_of[k] = w
        load[w] += n
    return [worker_of[k] for k in keys]


class _Inbox:
    """One worker's pipe, read as it comes (it does not block): each message read straight into a
    buffer of its own size and kept as it is (the results of the per-probe JSON are hundreds of
    megabytes, and the parent copying them again and again took CPU from the workers)."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        self.header = bytearray(_HEADER.size)
        self.body: bytearray | None = None  # the message being read, once its header is
        self.got = 0  # bytes of the header (no body yet) or of the body read so far
        self.messages: deque[memoryview] = deque()
        self.held = 0  # bytes read and not yet taken by the caller
        self.ended = False  # the pipe is closed
        self.finished = False  # the worker sent its last message

    def fill(self) -> None:
        """Read what the pipe holds now (up to a megabyte or so) and keep the whole messages."""
        read = 0
        while read < 1 << 20:
            into = memoryview(self.header if self.body is None else self.body)[self.got:]
            try:
                n = os.readv(self.fd, [into])
            except BlockingIOError:
                return
            if not n:
                self.ended = True
                return
            read += n
            self.got += n
            self.held += n
            if n < len(into):
                continue
            self.got = 0
            if self.body is not None:
                self.messages.append(memoryview(self.body))
                self.body = None
                continue
            (size,) = _HEADER.unpack_from(self.header)
            if size:
                self.body = bytearray(size)
            else:  # the worker's last message
                self.messages.append(memoryview(b""))


class _Claims:
    """Which worker computes which chunk, in memory the forked workers share with the parent.

    Each worker has a queue of chunks (its share of the plan, in the items' order but for those it
    takes first) and takes them in order; a worker whose queue is done takes from the end of the
    longest other queue, a chunk of a key it has computed before when there is one (what it computed
    for that key serves again). A chunk is taken once, under a lock (a pipe holding one byte), and the taker is written down so
    that the parent knows whose messages to read for the chunk whose turn has come."""

    def __init__(self, plan: list[tuple[int, int, int]], workers: int, keys: list[Hashable], first: list[bool]) -> None:
        # a queue: the chunks its worker takes first, then the others, each in the items' order
        self.queues = [[c for c, (w, _, _) in enumerate(plan) if w == k and first[c]]
                       + [c for c, (w, _, _) in enumerate(plan) if w == k and not first[c]] for k in range(workers)]
        self.keys = keys  # chunk -> the affinity key of its first item
        # ints: the chunks left in each queue, then the taker of each chunk (-1: not taken yet)
        self.memory = mmap.mmap(-1, 4 * (workers + len(plan)))
        self.ints = memoryview(self.memory).cast("i")
        for k, queue in enumerate(self.queues):
            self.ints[k] = len(queue)
        self.takers = workers  # where the takers begin among the ints
        for c in range(len(plan)):
            self.ints[self.takers + c] = -1
        self.lock_read, self.lock_write = os.pipe()
        os.write(self.lock_write, b"x")
        self.front = 0  # (a worker's own, after the fork) where it is in its queue
        self.seen: set[Hashable] = set()  # (a worker's own) the keys it has computed

    def take(self, w: int) -> int | None:
        """The next chunk for worker ``w`` (its own, else another's), or None when none is left."""
        ints, takers = self.ints, self.takers
        os.read(self.lock_read, 1)
        try:
            queue, owner = self.queues[w], w
            while self.front < len(queue) and ints[takers + queue[self.front]] >= 0:
                self.front += 1  # taken by another
            if self.front < len(queue):
                chunk = queue[self.front]
                self.front += 1
            else:
                owner = max(range(len(self.queues)), key=lambda k: ints[k])
                if ints[owner] <= 0:
                    return None
                chunk = self._steal(self.queues[owner])
            ints[owner] -= 1
            ints[takers + chunk] = w
            self.seen.add(self.keys[chunk])
            return chunk
        finally:
            os.write(self.lock_write, b"x")

    def _steal(self, queue: list[int]) -> int:
        """The last chunk of ``queue`` not taken of a key this worker has computed, else its last not taken."""
        ints, takers, last = self.ints, self.takers, None
        for chunk in reversed(queue):
            if ints[takers + chunk] < 0:
                if self.keys[chunk] in self.seen:
                    return chunk
                if last is None:
                    last = chunk
        assert last is not None, "a queue with chunks left"
        return last

    def taker(self, chunk: int) -> int:
        """The worker that took ``chunk``, or -1."""
        return self.ints[self.takers + chunk]

    def close(self) -> None:
        os.close(self.lock_read)
        os.close(self.lock_write)
        self.ints.release()
        self.memory.close()


class _Pool:
    def __init__(self, work: Callable, items: Sequence, plan: list[tuple[int, int, int]], claims: _Claims,
                 shared: Iterable[object]) -> None:
        self.work, self.items, self.plan, self.claims = work, items, plan, claims
        self.workers = len(claims.queues)
        self.shared = {id(o): o for o in shared}
        self.pids: list[int] = []
        self.inboxes: list[_Inbox] = []
        self.arrived: dict[int, memoryview] = {}  # chunk -> its message, read before its turn

    def results(self) -> Iterator:
        sys.stdout.flush()
        sys.stderr.flush()
        for key, value in self.shared.items():
            _SHARED[key] = value
            _USERS[key] = _USERS.get(key, 0) + 1
        try:
            for w in range(self.workers):
                read_fd, write_fd = os.pipe()
                _widen(write_fd)
                pid = os.fork()
                if pid == 0:  # the worker: never returns
                    os.close(read_fd)
                    self._serve(w, write_fd)
                os.close(write_fd)
                self.pids.append(pid)
                self.inboxes.append(_Inbox(read_fd))
            for chunk in range(len(self.plan)):
                yield from self._receive(chunk)
        finally:
            self._stop()

    def _serve(self, w: int, fd: int) -> None:
        """The worker's life: the chunks it takes (:class:`_Claims`), each sent as one message; then
        exit without running the parent's clean-up (buffers, atexit handlers)."""
        code = 0
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            # what a worker keeps are caches that live until it exits: the collector's passes over
            # them (every 100,000 objects kept, as the parent has it) found no garbage and cost 4 %
            # of the 10k reach's workers; past WORKER_YOUNG objects it still passes
            gc.set_threshold(WORKER_YOUNG, *gc.get_threshold()[1:])
            for inbox in self.inboxes:  # the parent's ends of the workers forked before
                os.close(inbox.fd)
            out = os.fdopen(fd, "wb", buffering=1 << 20)
            shared = self.shared
            while (chunk := self.claims.take(w)) is not None:
                _, start, end = self.plan[chunk]
                body: bytes | memoryview
                try:
                    body = _dumps(_OK, [self.work(x) for x in self.items[start:end]], shared)
                except Exception as e:  # noqa: BLE001 - a failure travels to the parent, which raises it
                    body = _FAILED + _failure(e)
                out.write(_HEADER.pack(len(body) + _CHUNK.size))
                out.write(_CHUNK.pack(chunk))
                out.write(body)
                out.flush()  # the parent may be waiting for this one: never held back in a buffer
                if body[:1] == _FAILED:
                    break
            out.write(_HEADER.pack(0))  # the end: no chunk left to take
            out.flush()
        except BaseException:  # noqa: BLE001 - the parent went away or was interrupted: nothing to tell
            code = 1
        finally:
            os._exit(code)

    def _receive(self, chunk: int) -> list:
        """The results of ``chunk``, reading the workers' other messages meanwhile: always those of the
        worker that took it (not taken yet: its queue's worker), the others' up to READ_AHEAD bytes each."""
        while chunk not in self.arrived:
            taker = self.claims.taker(chunk)
            # not taken yet: its queue's worker is watched whatever it holds (what it took before are
            # its chunks taken first, or before this one in order), so the wait cannot last forever;
            # the timeout notices a taker whose pipe is not watched
            reader = taker if taker >= 0 else self.plan[chunk][0]
            if self.inboxes[reader].ended:  # done, and this chunk neither sent nor left to take
                raise WorkerError("a worker process ended before sending its results")
            watched = [x.fd for k, x in enumerate(self.inboxes)
                       if not x.ended and (k == reader or x.held < READ_AHEAD)]
            ready, _, _ = select.select(watched, [], [], None if taker >= 0 else 0.05)
            for x in self.inboxes:
                if x.fd in ready:
                    self._read(x)
        body = self.arrived.pop(chunk)
        self.inboxes[self.claims.taker(chunk)].held -= len(body) + _CHUNK.size + _HEADER.size
        if body[:1] == _FAILED:
            raise pickle.loads(body[1:])
        return pickle.loads(body[1:])  # (a shared value comes back through _shared)

    def _read(self, inbox: _Inbox) -> None:
        """What ``inbox``'s pipe holds now, each whole message filed by its chunk (its bytes still held
        until its turn). A worker that ended without its last message was killed: nothing it took is
        certain to come, and a worker killed while taking a chunk leaves the others waiting."""
        inbox.fill()
        while inbox.messages:
            body = inbox.messages.popleft()
            if not len(body):
                inbox.finished = True
                inbox.held -= _HEADER.size
                continue
            (chunk,) = _CHUNK.unpack_from(body)
            self.arrived[chunk] = body[_CHUNK.size:]
        if inbox.ended and not inbox.finished:
            raise WorkerError("a worker process ended before sending its results (killed, or out of memory?)")

    def _stop(self) -> None:
        for inbox in self.inboxes:
            os.close(inbox.fd)
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in self.pids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self.claims.close()
        for key in self.shared:
            _USERS[key] -= 1
            if not _USERS[key]:
                del _USERS[key], _SHARED[key]


def _widen(fd: int) -> None:
    """A worker's pipe made to hold :data:`PIPE_BYTES` (Linux; where it cannot, it stays as it is).
    A message larger than the pipe holds keeps its worker waiting until the parent has read the rest,
    and the parent reads between writing the output it is given: with the default 64 KiB, the 10k
    outcome JSON's workers waited 1.5 s or more each for the parent on a busy machine."""
    try:
        import fcntl  # (POSIX only, as fork is)

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, or beyond /proc/sys/fs/pipe-max-size for this user
        pass


def _failure(e: Exception) -> bytes:
    try:
        return pickle.dumps(e)
    except Exception:  # noqa: BLE001 - an exception that cannot be pickled travels as its traceback
        return pickle.dumps(WorkerError("".join(traceback.format_exception(e))))


_SHARED: dict[int, object] = {}  # the shared values of the pools open in this process, by id (see _shared)
_USERS: dict[int, int] = {}  # how many open pools share each
_BUILTIN = (dict, list, tuple, set, frozenset, str, bytes, bytearray, int, float, bool, type(None))


def _shared(key: int) -> object:
    """A shared value sent by reference: the parent's own (results are read in the parent only)."""
    return _SHARED[key]


class _Pickler(pickle.Pickler):
    """A pickler sending the shared values by reference. It is asked (``reducer_override``) about
    objects of other than builtin types only: a hook asked about every object (``persistent_id``)
    cost half the pickling of the groups a report's workers send back."""

    def __init__(self, file, shared: dict[int, object]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.shared = shared

    def reducer_override(self, obj):
        key = id(obj)
        if self.shared.get(key) is obj:
            return _shared, (key,)
        return NotImplemented


def _dumps(status: bytes, value: object, shared: dict[int, object]) -> memoryview:
    """``status`` and ``value`` pickled after it (the bytes as written, not copied)."""
    buf = io.BytesIO()
    buf.write(status)
    _Pickler(buf, shared).dump(value)
    return buf.getbuffer()

