"""The brain: the Scheduler contract, the registry and every scheduler (no I/O)."""

from cpnkit.schedulers.agent import Action, Agent, Observation
from cpnkit.schedulers.base import Scheduler
from cpnkit.schedulers.features import CandidateEncoder, CandidateGraph, project_split
from cpnkit.schedulers.filter import Candidate, CandidateFilter
from cpnkit.schedulers.green import CarbonAwareScheduler, WeightedScheduler, predict_footprint
from cpnkit.schedulers.lp import min_max_utilisation_split
from cpnkit.schedulers.paper import (
    Base1Scheduler,
    Base2Scheduler,
    Base3Scheduler,
    Base4Scheduler,
    OracleScheduler,
    QueueEstimator,
    WaterfillScheduler,
    evaluate_decision,
)
from cpnkit.schedulers.registry import SchedulerRegistry, SchedulerSpec, make, registry
from cpnkit.schedulers.simple import NearestEcmpScheduler, RandomScheduler

__all__ = [
    "Action",
    "Agent",
    "Base1Scheduler",
    "Base2Scheduler",
    "Base3Scheduler",
    "Base4Scheduler",
    "Candidate",
    "CandidateEncoder",
    "CandidateFilter",
    "CandidateGraph",
    "CarbonAwareScheduler",
    "NearestEcmpScheduler",
    "Observation",
    "OracleScheduler",
    "QueueEstimator",
    "RandomScheduler",
    "Scheduler",
    "SchedulerRegistry",
    "SchedulerSpec",
    "WaterfillScheduler",
    "WeightedScheduler",
    "evaluate_decision",
    "make",
    "min_max_utilisation_split",
    "predict_footprint",
    "project_split",
    "registry",
]
