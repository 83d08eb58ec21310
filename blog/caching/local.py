"""Copies of shared-cache values kept in this process, each with the version it was stored under,
within a budget of bytes: the small version read per request decides whether a copy still holds."""

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class LocalCopies:
    """Values from the shared cache, also kept in this process with their versions, checked
    against the version read on every request, so that a change on any server shows here at
    once; the least recently used are dropped first beyond a budget of bytes (copies whose
    version has passed among them). Reading the small version costs a fraction of fetching and
    decoding the values again."""

    def __init__(self, budget: int, size: Callable[[Any], int]) -> None:
        self.budget = budget  # bytes kept, at most, as `size` counts them
        self.size = size
        self.used = 0
        self.values: OrderedDict[str, tuple[str, Any, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get_many(self, version: str, keys: list[str]) -> dict[str, Any]:
        """The copies of `keys` kept for `version`."""
        with self.lock:
            found = {}
            for key in keys:
                entry = self.values.get(key)
                if entry is not None and entry[0] == version:
                    found[key] = entry[1]
                    self.values.move_to_end(key)
            return found

    def keep(self, version: str, values: dict[str, Any]) -> None:
        with self.lock:
            for key, value in values.items():
                size = self.size(value)
                if size > self.budget:
                    continue
                if (old := self.values.pop(key, None)) is not None:
                    self.used -= old[2]
                while self.used + size > self.budget:
                    self.used -= self.values.popitem(last=False)[1][2]
                self.values[key] = (version, value, size)
                self.used += size
