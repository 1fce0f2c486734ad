"""Generated files are current (diagrams/, the design-format page) and the docs site builds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import gen_schema_docs  # noqa: E402
import render_diagrams  # noqa: E402


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_rendered_diagrams_are_current():
    stale = [p for stem, path in render_diagrams.designs() for p in render_diagrams.stale(render_diagrams.rendered(stem, path))]
    assert not stale, f"stale: {[str(p.relative_to(ROOT)) for p in stale]}; run python scripts/render_diagrams.py"


def test_every_design_has_a_diagram():
    stems = {stem for stem, _ in render_diagrams.designs()}
    assert {p.stem for p in (ROOT / "diagrams").glob("*.dot")} == stems


def test_design_format_page_is_current():
    current = gen_schema_docs.render(__import__("json").loads(gen_schema_docs.SCHEMA.read_text(encoding="utf-8")))
    assert gen_schema_docs.PAGE.read_text(encoding="utf-8") == current, "run python scripts/gen_schema_docs.py"


def test_docs_site_builds_strictly(tmp_path):
    pytest.importorskip("material", reason="mkdocs-material is not installed (pip install -e '.[test]')")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    gallery = (tmp_path / "site/gallery/index.html").read_text()
    assert gallery.count('<img alt="The ') == len(render_diagrams.designs())  # pictures (tests/browser: they load)


def test_command_reference_is_current():
    import gen_cli_docs

    assert gen_cli_docs.PAGE.read_text(encoding="utf-8") == gen_cli_docs.render(), "run python scripts/gen_cli_docs.py"
