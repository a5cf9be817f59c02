"""Screenshot a page of a running dashboard for the README (needs Debian's chromium and playwright).

    .venv/bin/python scripts/screenshot.py http://localhost:8501/ docs/runs.png "wait for this text"
"""
import sys

from playwright.sync_api import sync_playwright


def main(url: str, path: str, wait_text: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.get_by_text(wait_text).first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # let the dataframe canvas paint
        page.screenshot(path=path, full_page=True)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
