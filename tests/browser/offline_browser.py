"""The one way this project starts Chromium: headless, offline, driven over a pipe.

Offline twice over:

* flags that switch off Chromium's own background traffic (component updates, safe
  browsing lists, sync, field trials, QUIC, DNS prefetch), and, whatever a future
  Chromium makes of those flags,
* a network namespace of its own holding nothing but a loopback interface
  (``unshare --net``, then ``ip link set lo up``): there is no route to anywhere, so no
  packet can leave the machine.  Pages are loaded from ``file://`` URLs (a server in the
  machine's namespace is not reachable from inside; one started inside the same
  namespace, on its loopback, would be).

When no such namespace can be made (not root and no unprivileged user namespaces),
Chromium is not started at all: :func:`require_chromium` skips, or fails under CI=true.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
commands on fd 3, answers on fd 4), so no Python dependency is needed.

Also a command for scripts (screenshots of pages the project renders)::

    python3 tests/browser/offline_browser.py --screenshot out.png site/gallery/index.html
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
         "--disable-client-side-phishing-detection", "--disable-features=NetworkPrediction,OptimizationHints,"
         "MediaRouter,Translate,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
         "--dns-prefetch-disable", "--no-pings", "--metrics-recording-only", "--safebrowsing-disable-auto-update",
         "--remote-debugging-pipe"]

# runs inside the new namespace, then becomes the browser (exec keeps fds 3 and 4)
_LOOPBACK_ONLY = 'ip link set lo up && exec "$@"'


class Unavailable(RuntimeError):
    """No Chromium, or no loopback-only namespace to run it in: nothing was started."""


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def offline_argv(argv: list[str]) -> list[str]:
    """``argv`` wrapped to run in a new network namespace that has only loopback."""
    unshare = shutil.which("unshare")
    if unshare is None or shutil.which("ip") is None:
        raise Unavailable("unshare (util-linux) and ip (iproute2) are needed to run Chromium offline")
    user = [] if os.geteuid() == 0 else ["--map-root-user"]
    return [unshare, "--net", *user, "--", "sh", "-c", _LOOPBACK_ONLY, "offline-chromium", *argv]


def check_offline() -> None:
    """Make a loopback-only namespace once, and look inside: Unavailable when it can't be made."""
    try:
        proc = subprocess.run(offline_argv(["ip", "-o", "link", "show"]), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"cannot create a network namespace for Chromium: {exc}") from None
    if proc.returncode != 0:
        raise Unavailable(f"cannot create a network namespace for Chromium: {proc.stderr.strip()}")
    names = [line.split(":")[1].strip() for line in proc.stdout.splitlines() if line.strip()]
    if names != ["lo"]:
        raise Unavailable(f"the namespace for Chromium is not loopback-only: {names}")


def interfaces_of(pid: int) -> list[str]:
    """The network interfaces a process sees (its namespace's /proc/<pid>/net/dev)."""
    lines = Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]
    return sorted(line.split(":")[0].strip() for line in lines)


class DevTools:
    """Chromium in a loopback-only namespace, and a minimal DevTools client on its pipe."""

    def __init__(self, binary: str, profile: str):
        cmd_r, self._cmd_w = os.pipe()
        self._ans_r, ans_w = os.pipe()

        def wire() -> None:  # in the child: the pipe ends become fds 3 and 4
            high_r, high_w = os.dup(cmd_r), os.dup(ans_w)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        argv = offline_argv([binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"])
        self.proc = subprocess.Popen(argv, preexec_fn=wire, pass_fds=(3, 4),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(ans_w)
        self._buf = b""
        self._next = 0
        self.session: str | None = None
        self.events: list[dict] = []  # events read while waiting for an answer

    @property
    def pid(self) -> int:
        """The browser process (unshare and sh exec into it: the same pid)."""
        return self.proc.pid

    def call(self, method: str, **params):
        self._next += 1
        msg = {"id": self._next, "method": method, "params": params}
        if self.session:
            msg["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
            if "method" in answer:
                self.events.append(answer)

    def _read(self) -> dict:
        while b"\0" not in self._buf:
            chunk = os.read(self._ans_r, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the debugging pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def wait_event(self, method: str) -> dict:
        """The next event ``method`` of the attached page (the pipe blocks until it comes)."""
        while True:
            event = self.events.pop(0) if self.events else self._read()
            if event.get("method") == method and event.get("sessionId") == self.session:
                return event

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result["result"].get("value")

    def open(self, url: str) -> None:
        """Open ``url`` in a new tab and wait for its load event (images included)."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable")
        self.events.clear()
        answer = self.call("Page.navigate", url=url)
        if answer.get("errorText"):
            raise RuntimeError(f"{url}: {answer['errorText']}")
        self.wait_event("Page.loadEventFired")

    def screenshot(self, path: Path, width: int = 1280, height: int = 900) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))

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


@contextmanager
def offline_chromium(binary: str | None = None) -> Iterator[DevTools]:
    """A headless Chromium in a loopback-only namespace, with a throw-away profile."""
    binary = binary or chromium_binary()
    if binary is None:
        raise Unavailable("chromium is not installed (bash scripts/setup.sh --engine installs it)")
    check_offline()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        tools = DevTools(binary, profile)
        try:
            yield tools
        finally:
            tools.close()


def require_chromium():
    """For tests: an offline Chromium's context manager; skip (fail under CI=true) without one."""
    import pytest

    try:
        binary = chromium_binary()
        if binary is None:
            raise Unavailable("chromium is not installed (bash scripts/setup.sh --engine installs it)")
        check_offline()
    except Unavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    return offline_chromium(binary)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "--screenshot":
        print("usage: offline_browser.py --screenshot OUT.png PAGE.html", file=sys.stderr)
        return 2
    out, page = Path(argv[1]), Path(argv[2]).resolve()
    if not page.is_file():
        print(f"{page}: no such file (pages are opened from file://, the browser is offline)", file=sys.stderr)
        return 2
    try:
        with offline_chromium() as browser:
            browser.open(page.as_uri())
            browser.screenshot(out)
    except Unavailable as exc:
        print(f"not started: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
