"""A least-recently-used map bounded in entries and in total weight (bytes, characters...).

Every in-process cache on the request path is one of these, so none of them can be made to
grow without bound by a client sending new keys.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

HEAVY_ITEM_SHARE = 8
"""An item weighing more than 1/8 of the cache's weight limit is not cached: one item never
evicts most of the others."""


def _one(_key: object, _value: object) -> int:
    return 1


class BoundedCache(Generic[K, V]):
    """At most `max_entries` items weighing `weigh(key, value)` each, `max_weight` in all.

    The least recently used items leave first. Without `max_weight` only entries count.
    """

    def __init__(
        self,
        max_entries: int,
        max_weight: int | None = None,
        weigh: Callable[[K, V], int] = _one,
    ) -> None:
        self.max_entries = max_entries
        self.max_weight = max_weight
        self.weigh = weigh
        self.weight = 0
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: K, value: V) -> None:
        weight = self.weigh(key, value)
        self.pop(key)
        if self.max_weight is not None and weight * HEAVY_ITEM_SHARE > self.max_weight:
            return
        if self.max_entries <= 0:
            return
        self._items[key] = (value, weight)
        self.weight += weight
        while len(self._items) > self.max_entries or (
            self.max_weight is not None and self.weight > self.max_weight
        ):
            _, (_, dropped) = self._items.popitem(last=False)
            self.weight -= dropped

    def pop(self, key: K) -> V | None:
        found = self._items.pop(key, None)
        if found is None:
            return None
        self.weight -= found[1]
        return found[0]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[K]:
        """The keys, least recently used first."""
        return iter(list(self._items))


__all__ = ["BoundedCache"]
