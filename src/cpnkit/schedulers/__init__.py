"""The brain: the Scheduler contract, the registry and every scheduler (no I/O)."""

from cpnkit.schedulers.base import Scheduler
from cpnkit.schedulers.registry import SchedulerRegistry, SchedulerSpec, make, registry
from cpnkit.schedulers.simple import NearestEcmpScheduler, RandomScheduler

__all__ = [
    "NearestEcmpScheduler",
    "RandomScheduler",
    "Scheduler",
    "SchedulerRegistry",
    "SchedulerSpec",
    "make",
    "registry",
]
