"""A function with a hook run before each call, for tests that count a library's calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def calling_first(hook: Callable[[], object], function: Callable[P, R]) -> Callable[P, R]:
    """`function` with the same parameters, calling `hook()` before each call.

    Patch a method with it (`monkeypatch.setattr(Cls, "name", calling_first(hook, Cls.name))`):
    the result is a plain function, so it binds `self` as the method did.
    """

    def called(*args: P.args, **kwargs: P.kwargs) -> R:
        hook()
        return function(*args, **kwargs)

    return called
