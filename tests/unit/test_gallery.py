"""The docs site's gallery is generated (scripts/render_diagrams.py) and current: it shows the
SVG of every bundled design, copied where mkdocs serves it, with the Mermaid source below."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import render_diagrams  # noqa: E402


def test_gallery_and_its_svg_copies_are_current():
    stale = [str(p.relative_to(ROOT)) for p, data in render_diagrams.gallery().items()
             if not p.exists() or p.read_bytes() != data]
    assert not stale, f"stale: {stale}; run python scripts/render_diagrams.py"


def test_gallery_shows_an_image_per_design_with_the_mermaid_source_one_click_away():
    page = render_diagrams.GALLERY.read_text(encoding="utf-8")
    for stem, _ in render_diagrams.designs():
        svg = ROOT / "docs/assets/diagrams" / f"{stem}.svg"
        assert svg.read_bytes() == (ROOT / "diagrams" / f"{stem}.svg").read_bytes()
        assert f"](assets/diagrams/{stem}.svg)](assets/diagrams/{stem}.svg" in page
    assert page.count("<details>\n<summary>Mermaid source</summary>") == len(render_diagrams.designs())
    assert "```mermaid" not in page and "--8<--" not in page


def test_check_mode_notices_a_hand_edited_gallery(tmp_path, monkeypatch):
    copy = tmp_path / "gallery.md"
    copy.write_text(render_diagrams.GALLERY.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    monkeypatch.setattr(render_diagrams, "GALLERY", copy)
    assert any(p == copy and p.read_bytes() != data for p, data in render_diagrams.gallery().items())
