"""What the dashboard costs the machine while a run is timing: the Streamlit server's CPU share.

Starts the app on a fresh data directory (the committed .streamlit/config.toml: no file watcher),
queues a run of the default model (trained briefly) whose timing lasts longer than the window, opens the
Run page in Chromium and reads the server process's CPU time (psutil) over the window while the
worker times. Target: under 3% of one core.

    .venv/bin/python benchmarks/dashboard_cpu.py [--seconds 60] [--page run] [--port 8597]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_PCT = 3.0


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("localhost", port), 1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the app did not start on port {port}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measurement window")
    parser.add_argument("--page", default="run", help="page to keep open (run, results, ...)")
    parser.add_argument("--port", type=int, default=8597)
    args = parser.parse_args()

    import psutil
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="inferscope-dashboard-cpu-"))
    env = {**os.environ, "INFERSCOPE_HOME": str(home), "INFERSCOPE_AUTOSTART_WORKER": "1"}
    os.environ.update(INFERSCOPE_HOME=str(home))
    from core.api import InferScope, RunRequest

    api = InferScope()
    window = args.seconds
    run_id = api.submit(RunRequest(model="resnet8:epochs=1,train_limit=1024", subset=100,
                                   timing={"min_seconds": window + 60, "max_seconds": window + 120}))
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(args.port),
                               "--server.headless", "true"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(args.port)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=os.environ.get("INFERSCOPE_CHROMIUM", "/usr/bin/chromium"),
                                         args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://localhost:{args.port}/{'' if args.page == 'run' else args.page}")
            page.get_by_role("heading").first.wait_for()
            deadline = time.monotonic() + 300
            while api.run(run_id).stage != "time" and time.monotonic() < deadline:
                time.sleep(0.5)  # the page starts the worker; wait until it times
            process = psutil.Process(server.pid)
            before, start = process.cpu_times(), time.monotonic()
            time.sleep(window)
            after, elapsed = process.cpu_times(), time.monotonic() - start
            browser.close()
        used = (after.user + after.system) - (before.user + before.system)
        share = 100.0 * used / elapsed
        still_timing = api.run(run_id).stage == "time"
        print(f"Streamlit server on the {args.page} page while run {run_id} was timing: {used:.2f} s CPU in "
              f"{elapsed:.0f} s = {share:.1f}% of one core (target < {TARGET_PCT:g}%)"
              + ("" if still_timing else "; note: the run stopped timing inside the window"))
        return 0 if share < TARGET_PCT else 1
    finally:
        server.terminate()
        server.wait(timeout=30)
        api.cancel(run_id)


if __name__ == "__main__":
    raise SystemExit(main())
