import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def no_autostart_worker(monkeypatch):
    """Page tests queue runs; the tests execute the queue themselves."""
    monkeypatch.setenv("INFERSCOPE_AUTOSTART_WORKER", "0")


@pytest.fixture
def app_page():
    """AppTest for the app, switched to one page by its file name."""
    def open_page(name: str | None = None) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        if name:
            at.switch_page(f"pages/{name}.py").run()
        assert not at.exception, at.exception
        return at
    return open_page
