"""Small shared validators for domain values (raise domain errors, never assert)."""

from __future__ import annotations

import math

from cpnkit.errors import ConfigError


def check_positive(name: str, value: float, fix: str, error: type[ConfigError] = ConfigError) -> None:
    """Raise ``error`` unless ``value`` is a finite number > 0."""
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise error(f"{name}={value!r} must be a finite number > 0; {fix}")


def check_non_negative(name: str, value: float, fix: str, error: type[ConfigError] = ConfigError) -> None:
    """Raise ``error`` unless ``value`` is a finite number >= 0."""
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise error(f"{name}={value!r} must be a finite number >= 0; {fix}")
