"""Copies of shared-cache values kept in this process, for one content version at a time, within
a budget of bytes: the small version read per request decides whether they still hold."""

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class LocalCopies:
    """Values from the shared cache, also kept in this process: copies of one content version,
    checked against the shared version on every request, so that a change on any server shows
    here at once; the least recently used are dropped first beyond a budget of bytes. Reading the
    small version costs a fraction of fetching and decoding the values again."""

    def __init__(self, budget: int, size: Callable[[Any], int]) -> None:
        self.budget = budget  # bytes kept, at most, as `size` counts them
        self.size = size
        self.version = ""
        self.used = 0
        self.values: OrderedDict[str, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get_many(self, version: str, keys: list[str]) -> dict[str, Any]:
        with self.lock:
            if version != self.version:
                self.version, self.used, self.values = version, 0, OrderedDict()
            found = {key: self.values[key] for key in keys if key in self.values}
            for key in found:
                self.values.move_to_end(key)
            return found

    def keep(self, version: str, values: dict[str, Any]) -> None:
        with self.lock:
            if version != self.version:
                return  # another version is the current one now
            for key, value in values.items():
                size = self.size(value)
                if key in self.values or size > self.budget:
                    continue
                while self.used + size > self.budget:
                    self.used -= self.size(self.values.popitem(last=False)[1])
                self.values[key] = value
                self.used += size
