"""A store that goes away for a while — a PostgreSQL restart, a SQLite file locked by another writer — must not
lose the measurement in progress. Which failures are worth waiting out, and how long to wait.

Every store method is one short transaction, so a method whose transaction failed on a transient error can
simply run again: the retry is the whole method, with bounded backoff, until the store answers or
`retry_s` has passed. Progress writes are not retried here: they are best-effort and must never hold up a
timing loop (`core.lifecycle.StoredProgress` writes them from a thread of their own).

A commit whose acknowledgement is lost with the connection is the one case a retry cannot see; a retried
status change then meets the status it already made and is refused, which the job reports.
"""
from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError

from core.errors import StoreUnavailable

F = TypeVar("F", bound=Callable[..., Any])

# What the drivers say when the server is away or restarting, or a SQLite writer kept its lock too long.
TRANSIENT_WORDS = ("terminating connection", "server closed the connection", "connection refused",
                   "could not connect", "the database system is starting up", "the database system is shutting down",
                   "the database system is in recovery mode", "connection not open", "connection is closed",
                   "consuming input failed", "ssl connection has been closed", "connection timed out",
                   "connection reset", "database is locked", "no connection to the server")
BACKOFF_S = (0.2, 0.5, 1.0, 2.0, 5.0)  # then every 5 s until the store answers or the time is up

_local = threading.local()


def is_transient(exc: BaseException) -> bool:
    """True for failures that end when the server comes back or the lock is released."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    text = str(getattr(exc, "orig", None) or exc).lower()
    return any(words in text for words in TRANSIENT_WORDS)


def retrying(method: F) -> F:
    """Run a store method again while the store is unavailable, for up to its store's `retry_s`.

    Only the outermost store call of a thread waits (a method calling another does not multiply the wait).
    The first failure and the recovery are each said once on stderr (the worker's log, the CLI's terminal).
    """

    @functools.wraps(method)
    def wrapper(store, *args, **kwargs):
        if getattr(_local, "inside", False):
            return method(store, *args, **kwargs)
        _local.inside = True
        try:
            return _with_retries(store, method, args, kwargs)
        finally:
            _local.inside = False
    return wrapper  # type: ignore[return-value]


def _with_retries(store, method, args, kwargs):
    start, attempt = time.monotonic(), 0
    while True:
        try:
            result = method(store, *args, **kwargs)
        except StoreUnavailable as exc:
            waited = time.monotonic() - start
            if waited >= store.retry_s:
                raise StoreUnavailable(f"{exc} — the store did not answer for {waited:.0f} s "
                                       f"(INFERSCOPE_STORE_RETRY_S={store.retry_s:g})") from None
            if attempt == 0:
                print(f"{exc}; trying again for up to {store.retry_s:g} s", file=sys.stderr, flush=True)
            time.sleep(min(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)], max(0.0, store.retry_s - waited)))
            attempt += 1
            continue
        if attempt:
            print(f"the run store answers again after {time.monotonic() - start:.1f} s", file=sys.stderr,
                  flush=True)
        return result


def retry_all(cls: type, *, except_: frozenset[str]) -> type:
    """Class decorator: every public method of `cls` (its own or its bases') but those named in `except_` is
    `retrying`."""
    for base in reversed(cls.__mro__[:-1]):  # the nearest definition wins, as in attribute lookup
        for name, value in list(vars(base).items()):
            if callable(value) and not name.startswith("_") and name not in except_ \
                    and not isinstance(value, (type, staticmethod, classmethod)):
                setattr(cls, name, retrying(value))
    return cls
