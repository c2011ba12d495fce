"""Execution plane: the event-driven network-and-compute simulator (no I/O)."""

from cpnkit.sim.background import (
    BackgroundTraffic,
    gravity_background,
    route_demands,
    scale_background,
    series_background,
)
from cpnkit.sim.checks import check_scheduler
from cpnkit.sim.engine import Simulator, simulate
from cpnkit.sim.fairness import max_min_rates
from cpnkit.sim.invariants import check_result
from cpnkit.sim.network import Flow, FlowNetwork, propagation_rtt_s
from cpnkit.sim.result import OUTCOME_COLUMNS, SimResult
from cpnkit.sim.scenario import Mode, Scenario, SimConfig
from cpnkit.sim.transfers import (
    BackgroundFlow,
    TransferResult,
    TransferScenario,
    TransferSubflow,
    TransferTask,
    evaluate_transfers,
)
from cpnkit.sim.workload import WorkloadConfig, poisson_workload, trace_workload

__all__ = [
    "OUTCOME_COLUMNS",
    "BackgroundFlow",
    "BackgroundTraffic",
    "Flow",
    "FlowNetwork",
    "Mode",
    "Scenario",
    "SimConfig",
    "SimResult",
    "Simulator",
    "TransferResult",
    "TransferScenario",
    "TransferSubflow",
    "TransferTask",
    "WorkloadConfig",
    "check_result",
    "check_scheduler",
    "evaluate_transfers",
    "gravity_background",
    "max_min_rates",
    "poisson_workload",
    "propagation_rtt_s",
    "route_demands",
    "scale_background",
    "series_background",
    "simulate",
    "trace_workload",
]
