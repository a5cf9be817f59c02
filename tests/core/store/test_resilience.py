"""Which store failures are waited out, and how the wait is bounded."""
import time

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from core.errors import StoreUnavailable
from core.store.resilience import is_transient, retry_all


def test_a_server_restart_or_a_lock_is_transient_and_a_broken_constraint_is_not():
    for text in ("terminating connection due to administrator command", "the database system is starting up",
                 "connection refused", "database is locked", "server closed the connection unexpectedly"):
        assert is_transient(OperationalError("UPDATE runs …", {}, Exception(text))), text
    assert not is_transient(OperationalError("SELECT", {}, Exception("no such table: runs")))
    assert not is_transient(IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: uploads.sha256")))


@pytest.fixture
def flaky():
    class Flaky:
        retry_s = 3.0

        def __init__(self, failures: int) -> None:
            self.failures, self.calls = failures, 0

        def read(self) -> str:
            self.calls += 1
            if self.calls <= self.failures:
                raise StoreUnavailable("the run store x is not answering (connection refused)")
            return "answer"

        def outer(self) -> str:
            return self.read()  # a store method calling another waits once, not once per level

        def progress(self) -> str:
            self.calls += 1
            raise StoreUnavailable("the run store x is not answering (connection refused)")
    return retry_all(Flaky, except_=frozenset({"progress"}))


def test_a_call_waits_for_the_store_to_come_back_and_says_so_once(flaky, capsys):
    store = flaky(failures=2)
    assert store.outer() == "answer" and store.calls == 3
    said = capsys.readouterr().err
    assert said.count("trying again for up to 3 s") == 1 and "the run store answers again after" in said


def test_a_store_away_for_longer_than_the_wait_fails_saying_how_long(flaky):
    store = flaky(failures=10_000)
    store.retry_s = 0.8
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=r"not answering \(connection refused\) — the store did not answer for "
                                               r"\d s \(INFERSCOPE_STORE_RETRY_S=0.8\)"):
        store.read()
    assert 0.8 <= time.monotonic() - started < 3


def test_progress_writes_are_never_waited_for(flaky):
    store = flaky(failures=1)
    with pytest.raises(StoreUnavailable):
        store.progress()
    assert store.calls == 1
