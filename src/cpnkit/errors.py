"""One error root for cpnkit.

Misuse (bad configuration, malformed topology, unknown ids, bad decisions) is kept apart from
no-solution (``InfeasibleError``), as networkx keeps ``NetworkXError`` apart from ``NetworkXUnfeasible``.
Every message names the offending value, the constraint it breaks and the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "CheckpointError",
    "ConfigError",
    "CpnError",
    "DataError",
    "DecisionError",
    "InfeasibleError",
    "InvariantError",
    "TaskError",
    "TopologyError",
    "UnknownDeviceError",
    "UnknownNameError",
    "UnknownSchedulerError",
    "UnknownTopologyError",
    "did_you_mean",
]


class CpnError(Exception):
    """Root of every error cpnkit raises on purpose."""


class ConfigError(CpnError, ValueError):
    """A configuration value or argument breaks a documented constraint."""


class TopologyError(ConfigError):
    """A topology (or a topology file) is malformed: bad link, missing node, non-finite capacity, ..."""


class TaskError(ConfigError):
    """A task request is malformed (negative size, unknown architecture, ...)."""


class DecisionError(ConfigError):
    """A scheduling decision cannot be applied (unknown site, split not summing to 1, ...)."""


class DataError(ConfigError):
    """A data file or trace is malformed (wrong columns, NaN, negative values, gaps)."""


class CheckpointError(DataError):
    """A saved model or training checkpoint is corrupt, or does not match what loads it (id, layout, sizes)."""


class UnknownNameError(ConfigError, KeyError):
    """A name (topology, scheduler, device, ...) is not known; the message suggests close matches."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class UnknownTopologyError(UnknownNameError):
    """A topology name, ``topohub:`` key or path does not resolve."""


class UnknownSchedulerError(UnknownNameError):
    """A scheduler id is not registered."""


class UnknownDeviceError(UnknownNameError):
    """A device name is not in the device tables."""


class InfeasibleError(CpnError):
    """The request is well formed but has no solution (no path, no feasible candidate)."""


class InvariantError(CpnError):
    """A simulation broke one of the shared invariants (a bug in cpnkit or in a scheduler)."""


def did_you_mean(value: str, choices: Iterable[str], n: int = 3) -> str:
    """Return a ``" Did you mean ...?"`` suffix listing close matches, or ``""``.

    >>> did_you_mean("abilen", ["abilene", "ebone"])
    " Did you mean 'abilene'?"
    """
    matches = difflib.get_close_matches(value, list(choices), n=n, cutoff=0.6)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(m) for m in matches) + "?"
