"""The HTML report in a real headless Chromium: it opens, shows the diagram and the grid,
and a click on a cell shows the trace.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
commands on fd 3, answers on fd 4), so no Python dependency is needed. Runs whenever
Chromium is installed; fails instead of skipping when CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from simulator.cli.render_cmds import diagram_source, run_dot, DiagramFormat
from simulator.loaders import load_design
from simulator.render.report import render_report

ROOT = Path(__file__).resolve().parents[2]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--remote-debugging-pipe"]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (bash scripts/setup.sh --engine installs it)")
        pytest.skip("chromium is not installed")
    return found


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, binary: str, profile: str):
        cmd_r, self._cmd_w = os.pipe()
        self._ans_r, ans_w = os.pipe()

        def wire() -> None:  # in the child: the pipe ends become fds 3 and 4
            high_r, high_w = os.dup(cmd_r), os.dup(ans_w)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     preexec_fn=wire, pass_fds=(3, 4),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(ans_w)
        self._buf = b""
        self._next = 0
        self.session: str | None = None

    def call(self, method: str, **params):
        self._next += 1
        msg = {"id": self._next, "method": method, "params": params}
        if self.session:
            msg["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" not in self._buf:
                chunk = os.read(self._ans_r, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed the debugging pipe")
                self._buf += chunk
            raw, self._buf = self._buf.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result["result"].get("value")

    def close(self) -> None:
        """Ask Chromium to quit (so its helper processes leave the profile alone), then make sure."""
        self.session = None
        try:
            self.call("Browser.close")
            self.proc.wait(timeout=10)
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd_w)
        os.close(self._ans_r)


@pytest.fixture()
def page(tmp_path):
    binary = _chromium()
    design, _ = load_design(ROOT / "designs/frontend-backend.yaml")
    svg = run_dot(diagram_source(design, None, DiagramFormat.dot), "svg").decode()
    report = tmp_path / "report.html"
    report.write_text(render_report(design, None, svg), encoding="utf-8")
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        tools = DevTools(binary, profile)
        try:
            target = tools.call("Target.createTarget", url=report.as_uri())["targetId"]
            tools.session = tools.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for _ in range(100):
                if tools.evaluate("location.protocol + document.readyState") == "file:complete":
                    break
            yield tools
        finally:
            tools.close()


def test_report_opens_with_diagram_and_grid(page):
    assert page.evaluate("document.title") == "frontend-backend — netsim report"
    assert page.evaluate("document.querySelectorAll('#diagram svg g.node').length") > 5
    assert page.evaluate("document.querySelectorAll('#grid td').length") == 6 * 4  # 6 sources × 4 containers
    assert page.evaluate("document.querySelectorAll('#grid td.y').length") > 0


def test_click_on_a_cell_shows_its_trace(page):
    rect = page.evaluate("""(() => {
        const data = JSON.parse(document.getElementById('netsim-data').textContent);
        const cell = data.sources.indexOf('external') + ',' + data.targets.indexOf('proxy');
        const td = document.querySelector('#grid td[data-cell="' + cell + '"]');
        td.scrollIntoView({block: 'center'});
        const r = td.getBoundingClientRect();
        return {x: r.x + r.width / 2, y: r.y + r.height / 2};
    })()""")
    for kind in ("mousePressed", "mouseReleased"):
        page.call("Input.dispatchMouseEvent", type=kind, x=rect["x"], y=rect["y"], button="left", clickCount=1)
    text = page.evaluate("document.getElementById('cell').innerText")
    assert text.startswith("external → proxy: answers")
    assert "external LAN peer\n  route: 172.30.1.2 via 192.168.1.10 dev eth0" in text
    assert "=> DELIVERED: delivered: lan link, routed through the host, bridge link" in text
    assert page.evaluate("document.querySelector('#grid td.sel').dataset.cell") is not None
