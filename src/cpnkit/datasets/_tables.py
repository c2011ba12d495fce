"""Reading and checking CSV tables, with every failure as a ``DataError`` naming the file."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cpnkit.datasets._resources import bundled_file
from cpnkit.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["check_range", "read_csv", "source_path"]


@contextlib.contextmanager
def source_path(path: str | os.PathLike[str] | None, *bundled: str) -> Iterator[Path]:
    """``path`` when given, else the bundled file ``data/<bundled...>``."""
    if path is not None:
        yield Path(path).expanduser()
    else:
        with bundled_file(*bundled) as file:
            yield file


def read_csv(path: Path, columns: Sequence[str], **options: Any) -> pd.DataFrame:
    """Read a CSV (``.gz`` allowed) and check that it has ``columns``.

    Raises:
        DataError: the file is missing, unreadable, not CSV, or lacks a column.
    """
    import pandas as pd

    try:
        frame: pd.DataFrame = pd.read_csv(path, **options)
    except FileNotFoundError:
        raise DataError(f"{path}: data file does not exist; check the path") from None
    except (OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path}: cannot be read as CSV ({err}); give a comma-separated file with a header") from err
    except ValueError as err:  # a missing index/date column, an unparsable value
        raise DataError(f"{path}: {err}; check the header against the expected columns {list(columns)}") from err
    present = set(frame.columns) | set(frame.index.names)
    missing = [c for c in columns if c not in present]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {missing}; found {list(frame.columns)}. "
            f"The file needs the columns {list(columns)}"
        )
    return frame


def check_range(
    frame: pd.DataFrame,
    path: Path,
    columns: Sequence[str],
    unit: str,
    *,
    low: float = 0.0,
    high: float | None = None,
    allow_nan: bool = False,
    positive: bool = False,
) -> None:
    """Check that ``columns`` are numeric, finite (or NaN with ``allow_nan``) and within ``[low, high]``.

    With ``positive`` the values must also be > 0.

    Raises:
        DataError: naming the file, the column, the row and the value.
    """
    import numpy as np
    import pandas as pd

    upper = np.inf if high is None else high
    for column in columns:
        raw = frame[column]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        missing = raw.isna().to_numpy()
        not_a_number = np.isnan(values) & ~missing  # text where a number belongs
        with np.errstate(invalid="ignore"):
            out_of_range = ~np.isnan(values) & (
                ~np.isfinite(values) | (values < low) | (values > upper) | ((values <= 0) if positive else False)
            )
        bad = not_a_number | out_of_range | (missing & (not allow_nan))
        if bad.any():
            row = int(np.argmax(bad))
            bound = f"in [{low:g}, {high:g}]" if high is not None else f">= {low:g}"
            bound = "> 0" if positive and high is None and low <= 0 else bound
            value = frame[column].iloc[row]
            value = value.item() if isinstance(value, np.generic) else value  # np.float64(1.5) -> 1.5
            raise DataError(
                f"{path}: column {column!r}, row {frame.index[row]!r} is {value!r}; "
                f"values must be finite numbers {bound} {unit}"
                + ("" if allow_nan else " with no gaps")
                + "; fix or drop the row"
            )
