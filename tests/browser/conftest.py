"""A real app server and a real Chromium (Debian's), driven by Playwright."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT, subprocess_env

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_server(tmp_path, monkeypatch):
    """`streamlit run app.py` on a free port with a fresh data directory; yields the URL."""
    home = tmp_path / "home"
    monkeypatch.setenv("INFERSCOPE_HOME", str(home))
    monkeypatch.setenv("INFERSCOPE_DB", f"sqlite:///{home / 'inferscope.db'}")
    port = _free_port()
    env = subprocess_env({"INFERSCOPE_HOME": str(home), "INFERSCOPE_DB": f"sqlite:///{home / 'inferscope.db'}"})
    log = open(tmp_path / "streamlit.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                               "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}/"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail("the app did not start: " + (tmp_path / "streamlit.log").read_text())
    yield url
    server.terminate()
    server.wait(timeout=30)  # the worker exits by itself once the queue is empty


@pytest.fixture
def browser_page():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: apt-get install chromium (scripts/test.sh does this as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        context = browser.new_context(viewport={"width": 1400, "height": 2200}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(60_000)
        yield page
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "last-page.png"), full_page=True)
        browser.close()
