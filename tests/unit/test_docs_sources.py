"""Docs cite what a reader can open: moby or docker/cli files at a release tag, Docker docs pages,
release notes. Never a note on a development machine ("facts 2.5", docker-facts.md, ../shared),
nor a private key of one ("RN28").

The checks are functions of a tree root so that they can be run on any checkout; the tests run
them on this one.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TEXT_SUFFIXES = {".md", ".py", ".yml", ".yaml", ".json", ".txt", ".html", ".css", ".js", ".toml", ".cfg"}

FORBIDDEN = {
    "a numbered note (\"facts 2.5\")": re.compile(r"\bfacts?\s+§?\d+(\.\d+)?", re.IGNORECASE),
    "the docker-facts note": re.compile(r"docker-facts", re.IGNORECASE),
    "a development-machine path (/work/)": re.compile(r"/work/"),
    "a development-machine path (../shared)": re.compile(r"\.\./shared"),
    "a private source key (RN28, IPT/x)": re.compile(r"\bRN\d{2}\b|\bIPT/"),
}

CITING_DOCS = ("docs/confirmed-rules.md", "docs/engine-versions.md")

TAG = r"(?:v\d+\.\d+\.\d+|docker-v\d+\.\d+\.\d+)"
URL_SHAPES = {
    "moby file at a tag": re.compile(rf"https://github\.com/moby/moby/blob/{TAG}/[\w./-]+\.\w+(?:#L\d+(?:-L\d+)?)?"),
    "moby issue or pull request": re.compile(r"https://github\.com/moby/moby/(?:issues|pull)/\d+"),
    "docker/cli file at a tag": re.compile(rf"https://github\.com/docker/cli/blob/{TAG}/[\w./-]+\.\w+(?:#L\d+(?:-L\d+)?)?"),
    "Docker docs page": re.compile(r"https://docs\.docker\.com/[a-z0-9._/-]*/(?:#[a-z0-9-]+)?"),
}
URL = re.compile(r"https?://[^\s)<>\]\"'`]+")
REFERENCE_DEFINITION = re.compile(r"^\[([^\]]+)\]:\s+(\S+)", re.MULTILINE)
REFERENCE_USE = re.compile(r"\]\[([^\]]+)\]")
INLINE_CODE = re.compile(r"`[^`]*`")


def scanned_files(root: Path) -> list[Path]:
    """Every text file under docs/ and simulator/, and README.md."""
    files = [root / "README.md"]
    for top in ("docs", "simulator"):
        files += [p for p in sorted((root / top).rglob("*")) if p.is_file() and p.suffix in TEXT_SUFFIXES]
    return [p for p in files if p.exists()]


def forbidden_citations(root: Path) -> list[str]:
    """file:line: what, for each citation of something a reader cannot open."""
    found = []
    for path in scanned_files(root):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for what, pattern in FORBIDDEN.items():
                if pattern.search(line):
                    found.append(f"{path.relative_to(root)}:{number}: {what}: {line.strip()[:100]}")
    return found


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """(number, line) outside fenced code blocks, with inline code removed: commands are not citations."""
    lines, fenced = [], False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append((number, INLINE_CODE.sub("", line)))
    return lines


def bad_urls(path: Path) -> list[str]:
    """URLs in a citing doc that are not a pinned moby/docker-cli file, a moby issue or a Docker docs page."""
    bad = []
    for number, line in prose_lines(path):
        for url in URL.findall(line):
            if not any(shape.fullmatch(url) for shape in URL_SHAPES.values()):
                bad.append(f"{path.name}:{number}: {url}")
    return bad


def unresolved_references(path: Path) -> list[str]:
    """Reference-style links ([text][label]) whose label has no definition: they render as plain brackets."""
    text = path.read_text(encoding="utf-8")
    defined = {label.lower() for label, _ in REFERENCE_DEFINITION.findall(text)}
    return sorted({label for label in REFERENCE_USE.findall(text) if label.lower() not in defined})


def source_cells(path: Path) -> list[tuple[str, str]]:
    """(behaviour, source) for each row of the version table in docs/engine-versions.md."""
    rows = []
    header = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not set("".join(cells)) <= set("-: "):
            rows.append((cells[0], cells[header.index("source")]))
    return rows


def test_no_doc_or_docstring_cites_a_development_machine_note():
    assert forbidden_citations(ROOT) == []


@pytest.mark.parametrize("doc", CITING_DOCS)
def test_citing_docs_link_only_pinned_sources(doc):
    path = ROOT / doc
    assert bad_urls(path) == []
    assert unresolved_references(path) == []
    pinned = [u for u in URL.findall(path.read_text(encoding="utf-8")) if "github.com/moby/moby/blob/" in u]
    assert len(pinned) >= 5, f"{doc} cites almost no moby source"


def test_every_engine_version_row_links_its_source():
    rows = source_cells(ROOT / "docs/engine-versions.md")
    assert len(rows) >= 8
    unlinked = [behaviour for behaviour, source in rows if not REFERENCE_USE.search(source) and "](http" not in source]
    assert unlinked == []


def test_the_checks_catch_what_they_forbid(tmp_path):
    """The checks are not vacuous: a tree with the old citations fails each of them."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "simulator").mkdir()
    (tmp_path / "README.md").write_text("See ../shared/notes.md.\n")
    (tmp_path / "simulator" / "x.py").write_text('"""Drops remote packets (RN28)."""\n')
    doc = tmp_path / "docs" / "engine-versions.md"
    doc.write_text(
        "Reference: `/work/shared/docker-facts.md` (numbers like \"facts 2.5\" refer to it).\n"
        "| behaviour | 20.10 | source |\n|---|---|---|\n| gateway modes | nat | facts 2.6/2.7 |\n"
        "See [the code][x] and https://github.com/moby/moby/blob/master/libnetwork/sandbox.go\n"
        "Commands are not citations: `wget http://IP:8000/`\n```\ncurl http://127.0.0.1:8080/\n```\n"
    )
    found = "\n".join(forbidden_citations(tmp_path))
    for what in FORBIDDEN:
        assert what in found
    assert bad_urls(doc) == ["engine-versions.md:5: https://github.com/moby/moby/blob/master/libnetwork/sandbox.go"]
    assert unresolved_references(doc) == ["x"]
    assert source_cells(doc) == [("gateway modes", "facts 2.6/2.7")]
