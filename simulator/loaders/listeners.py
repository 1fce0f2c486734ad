"""What a compose service listens on, from where it is written (docs/listeners.md).

Sources, each marking its listeners with a :class:`~simulator.model.ListenerOrigin`:

* ``x-netsim: {listens: [...]}`` on the service (``x-netsim``): what the owner states;
* the compose file's ``expose`` and ``ports`` targets (``compose``);
* the image's ports, from the first of these that can say: the Dockerfile of a local ``build:``
  context (``dockerfile``; a stage built on an image inherits that image's ports, found as below),
  the image's ``ExposedPorts`` on a reachable engine, when the caller gives an
  :data:`ImageLookup` (``image``; never pulled), netsim's catalogue of well-known images
  (``catalogue``, simulator/data/image_ports.yaml).

Precedence: ``x-netsim.listens``, when given, replaces the image's ports (the compose file's
``expose`` and ``ports`` still count, as a netsim design's published ports do); otherwise the image's
ports join the compose file's, as Docker joins an image's ExposedPorts with ``expose``.  A port found
by several sources carries the origin of the first in the order x-netsim, compose, dockerfile,
image, catalogue.  A service none of them gives a port is *unknown*, with the reason.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path as FsPath

import yaml

from ..model import Listener, ListenerOrigin, Protocol
from ..schema import compose_netsim_schema
from .dockerfile import DockerfilePorts, exposed_ports
from .ports import COMPOSE, PortBudget, parse_listens
from .yamlsource import Report, describe, did_you_mean, shown

__all__ = ["CatalogueEntry", "ImageLookup", "ServiceListeners", "catalogue", "catalogue_ports", "image_lookup", "project_dir",
           "repository", "service_listeners", "using_images"]

#: image reference → its ``ExposedPorts`` keys ("80/tcp", ...) when the engine has it, None when it
#: does not; raises nothing (the CLI's adapter turns engine failures into None and a note).
ImageLookup = Callable[[str], tuple[str, ...] | None]

X_NETSIM_KEYS = tuple(compose_netsim_schema()["$defs"]["service"]["properties"])  # simulator/schema/compose-netsim.schema.json
MAX_DOCKERFILE = 1_000_000  # bytes of a Dockerfile netsim reads
_ORDER = {o: i for i, o in enumerate((ListenerOrigin.X_NETSIM, ListenerOrigin.COMPOSE, ListenerOrigin.DOCKERFILE,
                                      ListenerOrigin.IMAGE, ListenerOrigin.CATALOGUE, ListenerOrigin.DESIGN))}
_HINT = "say what it listens on with x-netsim: {listens: [PORT, ...]} (or listens: [] for nothing)"
_DOCKER_HUB = ("docker.io/", "index.docker.io/", "registry-1.docker.io/", "registry.hub.docker.com/")

_IMAGES: ContextVar[ImageLookup | None] = ContextVar("netsim_image_lookup", default=None)


@contextmanager
def using_images(lookup: ImageLookup | None) -> Iterator[None]:
    """Within the block, compose services' images are looked up with ``lookup`` (None: not at all)."""
    token = _IMAGES.set(lookup)
    try:
        yield
    finally:
        _IMAGES.reset(token)


def image_lookup() -> ImageLookup | None:
    """The lookup :func:`using_images` set, if any."""
    return _IMAGES.get()


# --- the catalogue -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    names: tuple[str, ...]
    ports: tuple[Listener, ...]
    source: str
    variants: tuple[tuple[str, tuple[Listener, ...]], ...] = ()  # (a word in the tag, the ports then)

    def ports_for(self, tag: str) -> tuple[Listener, ...]:
        for word, ports in self.variants:
            if word in tag:
                return ports
        return self.ports


def _listener(item: object) -> Listener:
    port, _, proto = str(item).partition("/")
    return Listener(int(port), Protocol(proto or "tcp"), ListenerOrigin.CATALOGUE)


@cache
def catalogue() -> tuple[CatalogueEntry, ...]:
    """The catalogue shipped in simulator/data/image_ports.yaml."""
    text = resources.files("simulator").joinpath("data/image_ports.yaml").read_text(encoding="utf-8")
    out = []
    for raw in yaml.safe_load(text):
        variants = tuple((v["tag_contains"], tuple(_listener(p) for p in v["ports"])) for v in raw.get("variants", ()))
        out.append(CatalogueEntry(tuple(raw["names"]), tuple(_listener(p) for p in raw["ports"]), raw["source"], variants))
    return tuple(out)


@cache
def _by_name() -> dict[str, CatalogueEntry]:
    return {name: entry for entry in catalogue() for name in entry.names}


def repository(image: str) -> tuple[str, str]:
    """(repository, tag) of an image reference, lower case: ``docker.io/library/postgres:16`` →
    ("postgres", "16"); a digest is dropped; Docker Hub's registry names and ``library/`` too."""
    ref = image.strip().lower().split("@", 1)[0]
    for prefix in _DOCKER_HUB:
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
            break
    if ref.startswith("library/"):
        ref = ref[len("library/"):]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    tag = ""
    if colon > slash:
        ref, tag = ref[:colon], ref[colon + 1:]
    return ref, tag


def catalogue_ports(image: str) -> tuple[CatalogueEntry, tuple[Listener, ...]] | None:
    """The catalogue's entry for ``image`` (any tag) and its ports for that tag, or None."""
    name, tag = repository(image)
    entry = _by_name().get(name)
    return None if entry is None else (entry, entry.ports_for(tag))


# --- one service -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceListeners:
    """A service's listeners with their origins, or why they are unknown (``unknown`` is None when known)."""

    listeners: tuple[Listener, ...]
    unknown: str | None = None


@dataclass(frozen=True, slots=True)
class _ImagePorts:
    listeners: tuple[Listener, ...]
    why_none: str  # when listeners is empty: why (a sentence)


def service_listeners(spec: Mapping, declared: tuple[Listener, ...], report: Report, src: tuple,
                      project_dir: FsPath | None, budget: PortBudget) -> ServiceListeners:
    """The listeners of one compose service (``spec``, after extends), given those its ``expose`` and
    ``ports`` declare (``declared``); problems of ``x-netsim`` are reported at ``src``."""
    compose = tuple(_marked(declared, ListenerOrigin.COMPOSE))
    stated = _x_netsim(spec.get("x-netsim"), report, (*src, "x-netsim"), budget)
    if stated is not None:
        return ServiceListeners(_joined(stated, compose))
    image = _image_ports(spec, project_dir)
    joined = _joined(compose, image.listeners)
    if joined:
        return ServiceListeners(joined)
    return ServiceListeners((), f"{image.why_none}; {_HINT}")


def _marked(listeners: tuple[Listener, ...], origin: ListenerOrigin) -> Iterator[Listener]:
    for lst in listeners:
        yield lst if lst.origin is origin else Listener(lst.port, lst.protocol, origin)


def _joined(*groups: tuple[Listener, ...]) -> tuple[Listener, ...]:
    """One listener per (port, protocol), of the first origin in precedence order, sorted."""
    best: dict[tuple[int, str], Listener] = {}
    for group in groups:
        for lst in group:
            key = (lst.port, lst.protocol.value)
            if key not in best or _ORDER[lst.origin] < _ORDER[best[key].origin]:
                best[key] = lst
    return tuple(best[k] for k in sorted(best))


def _x_netsim(value: object, report: Report, at: tuple, budget: PortBudget) -> tuple[Listener, ...] | None:
    """``x-netsim: {listens: [...]}``: the listeners it states, or None when it states none."""
    if value is None:
        return None
    if not isinstance(value, dict):
        report.error(at, f"x-netsim is a mapping (x-netsim: {{listens: [80, \"53/udp\"]}}), not {describe(value)}")
        return None
    for key in value:
        if key not in X_NETSIM_KEYS:
            report.error((*at, key), f'unknown key "{shown(key)}" in x-netsim; expected one of '
                         f"{', '.join(X_NETSIM_KEYS)}{did_you_mean(str(key), X_NETSIM_KEYS)}", key=True)
    if "listens" not in value:
        return None
    listens = value["listens"]
    if listens is None:
        listens = []
    if not isinstance(listens, list):
        report.error((*at, "listens"), f'x-netsim.listens is a list of ports (80, "53/udp", "9000-9002"), '
                     f"not {describe(listens)}")
        return None
    found = parse_listens(listens, report, (*at, "listens"), "listens", budget, COMPOSE)
    return tuple(_marked(tuple(found), ListenerOrigin.X_NETSIM))


def _image_ports(spec: Mapping, project_dir: FsPath | None) -> _ImagePorts:
    image = spec.get("image") if isinstance(spec.get("image"), str) else None
    build = spec.get("build")
    if build is not None:
        built = _built_ports(build, project_dir)
        if built.listeners or image is None:
            return built
        from_image = _named_image_ports(image)
        return from_image if from_image.listeners else _ImagePorts((), f"{built.why_none}; {from_image.why_none}")
    if image is None:
        return _ImagePorts((), "the service names no image and no build")
    return _named_image_ports(image)


def _named_image_ports(image: str) -> _ImagePorts:
    """An image's ports: the engine's metadata (when asked for and present), else the catalogue's."""
    lookup = image_lookup()
    note = ""
    if lookup is not None:
        exposed = lookup(image)
        if exposed is not None:
            found = tuple(_exposed(exposed))
            if found:
                return _ImagePorts(found, "")
            return _ImagePorts((), f'image "{shown(image)}" on the engine exposes no port')
        note = " and is not on the engine (netsim does not pull)"
    hit = catalogue_ports(image)
    if hit is not None:
        _entry, ports = hit
        if ports:
            return _ImagePorts(ports, "")
        return _ImagePorts((), f'image "{shown(image)}" exposes no port (netsim\'s catalogue){note}')
    how = "" if lookup is not None else " (netsim check --images reads it from a local engine)"
    return _ImagePorts((), f'image "{shown(image)}" is not in netsim\'s catalogue{note}{how}')


def _exposed(keys: tuple[str, ...]) -> Iterator[Listener]:
    for key in keys:
        port, _, proto = key.partition("/")
        if port.isascii() and port.isdigit() and 0 < int(port) < 65536 and (proto or "tcp") in ("tcp", "udp", "sctp"):
            yield Listener(int(port), Protocol(proto or "tcp"), ListenerOrigin.IMAGE)


# --- a build context's Dockerfile --------------------------------------------------------

_REMOTE = re.compile(r"^(https?://|git://|git@|ssh://|github\.com/)|\.git(#.*)?$", re.IGNORECASE)


def _built_ports(build: object, project_dir: FsPath | None) -> _ImagePorts:
    if isinstance(build, str):
        build = {"context": build}
    if not isinstance(build, dict):
        return _ImagePorts((), "its build: is not a context or a mapping")
    given = build.get("context", ".")
    context = given if isinstance(given, str) else "."
    target = build.get("target") if isinstance(build.get("target"), str) else None
    args = _build_args(build.get("args"))
    inline = build.get("dockerfile_inline")
    if isinstance(inline, str):
        return _from_dockerfile(exposed_ports(inline, "dockerfile_inline", target, args), "dockerfile_inline")
    if _REMOTE.search(context):
        return _ImagePorts((), f'its build context "{shown(context)}" is remote; netsim reads local Dockerfiles only')
    if project_dir is None:
        return _ImagePorts((), "the compose file was not read from a file, so its build context cannot be found")
    named = build.get("dockerfile")
    dockerfile = named if isinstance(named, str) else "Dockerfile"
    where = FsPath(project_dir, context, dockerfile)
    shown_path = os.path.normpath(os.path.join(context, dockerfile))
    try:
        st = os.stat(where)
        if not stat.S_ISREG(st.st_mode):  # a FIFO or a device would block or never end
            return _ImagePorts((), f"its Dockerfile {shown(shown_path)} is not a regular file")
        if st.st_size > MAX_DOCKERFILE:
            return _ImagePorts((), f"its Dockerfile {shown(shown_path)} is larger than {MAX_DOCKERFILE:,} bytes; "
                               "netsim does not read it")
        found = _read_dockerfile(str(where), st.st_mtime_ns, st.st_size, shown_path, target, tuple(sorted(args.items())))
    except OSError as exc:
        return _ImagePorts((), f"its Dockerfile {shown(shown_path)} cannot be read ({exc.strerror or exc})")
    return _from_dockerfile(found, shown_path)


@lru_cache(maxsize=256)
def _read_dockerfile(path: str, mtime_ns: int, size: int, name: str, target: str | None,
                     args: tuple[tuple[str, str | None], ...]) -> DockerfilePorts:
    """A Dockerfile's ports, read once for the services that build the same file the same way
    (keyed by its modification time and size, so an edited file is read again)."""
    with open(path, "rb") as f:
        raw = f.read(MAX_DOCKERFILE)
    return exposed_ports(raw.decode("utf-8", errors="replace"), name, target, dict(args))


def _build_args(value: object) -> dict[str, str | None]:
    if isinstance(value, dict):
        return {str(k): (None if v is None else str(v)) for k, v in value.items()}
    out: dict[str, str | None] = {}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                key, eq, val = item.partition("=")
                out[key] = val if eq else None
    return out


def _from_dockerfile(found: DockerfilePorts, name: str) -> _ImagePorts:
    stage = f' (stage "{found.stage}")' if found.stage and not found.stage.isdigit() else ""
    inherited: tuple[Listener, ...] = ()
    base_why = ""
    if found.base_image:
        base = _named_image_ports(found.base_image)
        inherited, base_why = base.listeners, base.why_none
    joined = _joined(found.listeners, inherited)
    if joined:
        return _ImagePorts(joined, "")
    gaps = f" ({'; '.join(found.gaps[:3])})" if found.gaps else ""
    if found.base_image:
        return _ImagePorts((), f"its Dockerfile {shown(name)}{stage} exposes no port{gaps}, and its base: {base_why}")
    scratch = "" if gaps else " and builds FROM scratch"
    return _ImagePorts((), f"its Dockerfile {shown(name)}{stage} exposes no port{gaps}{scratch}")


def project_dir(source: str) -> FsPath | None:
    """The directory a compose file's relative paths start from: the file's, the working directory
    for standard input (as compose), None for a text given without a file."""
    if source == "<stdin>":
        return FsPath.cwd()
    if source.startswith("<"):
        return None
    return FsPath(source).absolute().parent
