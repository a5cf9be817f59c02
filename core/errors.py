"""Errors a user can act on.

Anything raised as `InferScopeError` is shown to the user verbatim (CLI, UI, stored run error),
so its message must say what went wrong *and* what to change.
"""
from __future__ import annotations


class InferScopeError(Exception):
    """A problem the user can fix; the message says how."""


class UnknownNameError(InferScopeError, KeyError):
    """A name that is not registered; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class ConfigError(InferScopeError):
    """An option, setting or flag value that is not allowed (wrong type, out of range, NaN)."""


class NotFoundError(InferScopeError):
    """A run, curve or exploration id that the store does not hold."""


class RecipeError(InferScopeError):
    """A recipe that cannot run as written."""


class DataError(InferScopeError):
    """A dataset that is missing, corrupt or unusable."""


class ModelError(InferScopeError):
    """A model that cannot be built or loaded."""


class StoreError(InferScopeError):
    """The run store cannot be opened or written."""


class StoreUnavailable(StoreError):
    """The run store is away for now (a server restarting, a file locked by another writer): worth waiting out."""


class MeasurementError(InferScopeError):
    """A measurement that cannot be true (a NaN, infinite or negative latency): never stored as done."""


class VerificationError(InferScopeError):
    """An exported file does not reproduce the stored run."""


class RunCancelled(InferScopeError):
    """The user asked to stop a run."""
