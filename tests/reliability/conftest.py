"""The reliability suite reuses the page tests' AppTest fixture for the app-level faults."""
from tests.pages.conftest import app_page  # noqa: F401
