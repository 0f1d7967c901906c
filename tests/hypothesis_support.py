"""Hypothesis in this suite: deterministic, nothing saved, caches outside the work tree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def hypothesis_storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hypothesis' caches (constants, Unicode tables) in a temporary folder, not the work tree.

    (Examples are never saved: every run sets `database=None`.)
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HYPOTHESIS_STORAGE_DIRECTORY", str(tmp_path_factory.mktemp("hypothesis")))
        yield
