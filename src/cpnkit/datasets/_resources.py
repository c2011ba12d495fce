"""Locating the bundled data files (package data under ``cpnkit/datasets/data``)."""

from __future__ import annotations

import contextlib
import importlib.resources
from collections.abc import Iterator
from pathlib import Path

__all__ = ["bundled_file"]


@contextlib.contextmanager
def bundled_file(*parts: str) -> Iterator[Path]:
    """A real file-system path to the bundled file ``data/<parts...>`` for the duration of the block.

    For an ordinary install this is the file inside the installed package; from a zip import it is a
    temporary copy (``importlib.resources.as_file``).
    """
    resource = importlib.resources.files("cpnkit.datasets").joinpath("/".join(("data", *parts)))
    with importlib.resources.as_file(resource) as path:
        yield Path(path)
