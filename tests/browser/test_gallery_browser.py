"""The docs site's gallery in a real (offline) Chromium: every design is a picture, not
Mermaid source text, and the source is one click away.

The site is built with ``mkdocs build --strict`` into a temporary directory and opened
from file://; Chromium runs in a loopback-only namespace (:mod:`offline_browser`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from offline_browser import require_chromium

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import render_diagrams  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("material", reason="mkdocs-material is not installed (pip install -e '.[test]')")
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture()
def gallery(site):
    with require_chromium() as browser:
        browser.open((site / "gallery/index.html").as_uri())
        browser.evaluate("Promise.all([...document.images].map(i => i.decode().catch(() => null)))")
        yield browser


def test_every_design_is_shown_as_an_image(gallery):
    images = gallery.evaluate("""[...document.querySelectorAll('article img')].map(i => ({
        src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}))""")
    stems = [stem for stem, _ in render_diagrams.designs()]
    assert [Path(i["src"]).stem for i in images] == stems
    for image in images:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    # no Mermaid block is left to a script that would fetch mermaid.js from the internet
    assert gallery.evaluate("document.querySelectorAll('.mermaid').length") == 0


def test_mermaid_source_is_one_click_away(gallery):
    details = "document.querySelector('article details')"
    assert gallery.evaluate(f"{details}.open") is False
    assert gallery.evaluate(f"{details}.querySelector('summary').innerText") == "Mermaid source"
    assert gallery.evaluate(f"{details}.querySelector('pre').checkVisibility()") is False
    gallery.evaluate(f"{details}.querySelector('summary').click()")
    assert gallery.evaluate(f"{details}.open") is True
    assert gallery.evaluate(f"{details}.querySelector('pre').innerText").startswith("flowchart TB")
    assert gallery.evaluate(f"{details}.querySelector('pre').checkVisibility()") is True
