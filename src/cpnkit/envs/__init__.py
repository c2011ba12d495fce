"""Gymnasium environments (adapter layer): ``cpnkit/Scheduling-v0``.

Importing this package registers the env with Gymnasium when gymnasium is installed (extra ``rl``); the env's
module (and so the simulator and datasets) is loaded only when the env is made::

    import gymnasium as gym
    import cpnkit.envs  # registers cpnkit/Scheduling-v0

    env = gym.make("cpnkit/Scheduling-v0", topology="abilene", n_tasks=100, mode="isolated")

``gym.make("cpnkit.envs:cpnkit/Scheduling-v0")`` imports this package itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cpnkit.envs.scheduling import SchedulingEnv

__all__ = ["ENV_ID", "SchedulingEnv", "register_envs"]

#: The scheduling env's Gymnasium id.
ENV_ID = "cpnkit/Scheduling-v0"


def register_envs() -> bool:
    """Register cpnkit's envs with Gymnasium (idempotent); ``False`` when gymnasium is not installed."""
    try:
        import gymnasium
    except ImportError:
        return False
    if ENV_ID not in gymnasium.registry:
        gymnasium.register(id=ENV_ID, entry_point="cpnkit.envs.scheduling:SchedulingEnv")
    return True


def __getattr__(name: str) -> Any:
    # SchedulingEnv loads gymnasium, the simulator and the datasets: only when asked for
    if name == "SchedulingEnv":
        from cpnkit.envs.scheduling import SchedulingEnv

        return SchedulingEnv
    raise AttributeError(f"module 'cpnkit.envs' has no attribute {name!r}")


register_envs()
