"""A tiny name -> object registry shared by models, datasets and techniques."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from core.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps unique names to entries; unknown names raise an error that lists the valid ones."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        """Add `entry` under `name`; a second entry with the same name is a programming error."""
        if name in self._entries:
            raise ValueError(f"duplicate {self.kind} name {name!r}")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        """Return the entry for `name` or raise `UnknownNameError` listing valid names."""
        try:
            return self._entries[name]
        except KeyError:
            valid = ", ".join(sorted(self._entries)) or "(none)"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; valid {self.kind}s: {valid}") from None

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[tuple[str, T]]:
        return iter(self._entries.items())
