"""Accuracy of latency predictions: the paper's normalised MSE, and MAPE and Spearman rho on ms (no I/O)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from cpnkit.errors import DataError

__all__ = ["mape", "normalised_mse", "spearman_rho"]


def _pair(predicted: npt.ArrayLike, actual: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    p = np.asarray(predicted, dtype=np.float64).ravel()
    a = np.asarray(actual, dtype=np.float64).ravel()
    if p.shape != a.shape or p.size == 0:
        raise DataError(f"predicted {p.shape} and actual {a.shape} must be non-empty and of one shape")
    if not (np.isfinite(p).all() and np.isfinite(a).all()):
        raise DataError("predicted and actual latencies must be finite")
    return p, a


def normalised_mse(
    predicted: npt.ArrayLike, actual: npt.ArrayLike, low: float | None = None, high: float | None = None
) -> float:
    """MSE after min-max normalising both by ``[low, high]`` (RLMS-CPN Table 5's metric).

    The normaliser is the device's range over the evaluated architectures (``actual``'s min and max unless
    given): it is a scoring convention, never something a predictor sees.

    >>> round(normalised_mse([1.0, 2.0, 4.0], [1.0, 3.0, 5.0]), 4)
    0.0417
    """
    p, a = _pair(predicted, actual)
    lo = float(a.min()) if low is None else float(low)
    hi = float(a.max()) if high is None else float(high)
    if not hi > lo:
        raise DataError(f"normaliser range [{lo}, {hi}] is empty; min-max normalisation needs max > min")
    return float(np.mean(((p - a) / (hi - lo)) ** 2))


def mape(predicted: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """Mean absolute percentage error, in % (``actual`` > 0).

    >>> mape([110.0, 90.0], [100.0, 100.0])
    10.0
    """
    p, a = _pair(predicted, actual)
    if (a <= 0).any():
        raise DataError("MAPE needs actual latencies > 0")
    return float(np.mean(np.abs(p - a) / a) * 100.0)


def spearman_rho(predicted: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """Spearman rank correlation (average ranks for ties): how well the ranking of architectures is kept.

    >>> spearman_rho([1.0, 2.0, 3.0], [10.0, 20.0, 30.0])
    1.0
    """
    from scipy.stats import rankdata

    p, a = _pair(predicted, actual)
    rp, ra = rankdata(p), rankdata(a)
    rp, ra = rp - rp.mean(), ra - ra.mean()
    denom = float(np.sqrt((rp**2).sum() * (ra**2).sum()))
    return float((rp * ra).sum() / denom) if denom > 0 else float("nan")
