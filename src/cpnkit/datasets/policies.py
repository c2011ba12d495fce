"""Bundled policies of the learned schedulers (``rlms-cpn``, ``rlms-mlp``, ``gnn-dqn``) and their factories.

The registry's entries for the learned ids are the lazy strings ``"cpnkit.datasets.policies:rlms_cpn"`` etc.,
not factories in ``cpnkit.schedulers``: a learned scheduler is a trained agent plus its weights, and reading the
bundled weight files is I/O, which the core (``schedulers``) does not do. So the agents, the networks and
``LearnedScheduler`` live in the core (``cpnkit.schedulers.learned``), and this adapter module gives
``LearnedScheduler`` a function from a topology name to an agent; the scheduler calls it at its first decision,
with ``snapshot.topology.name``. A topology with its own policy (the paper's four) gets it; any other topology
gets the ``general`` policy, trained on several topologies.

Files: ``data/models/rlms/<id>/<topology>.json`` (the agent's header: id, n, k, feature names, hyper-parameters,
steps; and the provenance: the training command, seed, steps, wall-clock, evaluation) and ``<topology>.npz``
(the acting network's weights — the actor, or the DQN's Q-network — as float16 arrays named
``<network>/<parameter>``, read back as float32; no critic, target network or optimiser state: a shipped policy
is for deciding, about 25 KB a file, and retraining starts from a full checkpoint of the harness). npz + JSON
rather than a torch pickle: loading runs no code from the file. ``cpnkit train --export STEM`` writes them; its
command is recorded in every JSON.
"""

from __future__ import annotations

import functools
import io
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from cpnkit.datasets._resources import bundled_file
from cpnkit.errors import CheckpointError, ConfigError
from cpnkit.schedulers import CandidateEncoder
from cpnkit.schedulers.learned import AGENT_IDS, LearnedScheduler, agent_from_state
from cpnkit.schedulers.learned.agents import ActorCriticAgent, DQNAgent

__all__ = [
    "GENERAL_POLICY",
    "POLICY_TOPOLOGIES",
    "bundled_agent",
    "bundled_policy_meta",
    "gnn_dqn",
    "load_policy",
    "read_policy",
    "rlms_cpn",
    "rlms_mlp",
    "write_policy",
]

#: Topologies with their own bundled policy (the paper's four).
POLICY_TOPOLOGIES: tuple[str, ...] = ("abilene", "ebone", "sprintlink", "tiscali")
#: Name of the policy trained on several topologies, used for every other topology.
GENERAL_POLICY = "general"
_HEADER_KEYS = ("format", "id", "n", "k", "features", "hyper", "steps", "updates")
#: The networks a policy file keeps: the ones that act (the critic and the DQN's target are for training).
_ACTING = ("actor", "q")


def write_policy(
    agent: ActorCriticAgent | DQNAgent, stem: str | os.PathLike[str], provenance: Mapping[str, Any]
) -> tuple[Path, Path]:
    """Write ``agent``'s weights to ``<stem>.npz`` and its header and ``provenance`` to ``<stem>.json``."""
    state = agent.state()
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        f"{net}/{name}": value.detach().cpu().numpy().astype(np.float16)
        for net, params in state["weights"].items()
        if net in _ACTING
        for name, value in params.items()
    }
    meta = {key: state[key] for key in _HEADER_KEYS}
    meta["provenance"] = dict(provenance)
    json_path, npz_path = stem.with_suffix(".json"), stem.with_suffix(".npz")
    json_path.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    np.savez_compressed(npz_path, allow_pickle=False, **arrays)
    return json_path, npz_path


def read_policy(stem: str | os.PathLike[str]) -> dict[str, Any]:
    """The agent state (without optimiser) saved at ``<stem>.json`` / ``<stem>.npz``, plus its ``provenance``.

    Raises:
        CheckpointError: a file is missing, unreadable or malformed.
    """
    stem = Path(stem)
    json_path, npz_path = stem.with_suffix(".json"), stem.with_suffix(".npz")
    try:
        meta = json.loads(json_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{json_path}: unreadable policy header ({err}); write it with write_policy") from err
    if not isinstance(meta, dict) or any(key not in meta for key in _HEADER_KEYS):
        raise CheckpointError(f"{json_path}: policy header lacks one of {', '.join(_HEADER_KEYS)}")
    try:
        data = npz_path.read_bytes()  # np.load leaves the file open when it fails on a corrupt archive
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name].astype(np.float32) for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"{npz_path}: unreadable policy weights ({err})") from err
    weights: dict[str, dict[str, Any]] = {}
    for name, value in arrays.items():
        net, sep, param = name.partition("/")
        if not sep:
            raise CheckpointError(f"{npz_path}: weight {name!r} is not named <network>/<parameter>")
        weights.setdefault(net, {})[param] = value
    state = {key: meta[key] for key in _HEADER_KEYS}
    state["weights"] = weights
    state["provenance"] = meta.get("provenance", {})
    return state


def load_policy(stem: str | os.PathLike[str]) -> ActorCriticAgent | DQNAgent:
    """The agent saved at ``stem`` (``.json`` + ``.npz``).

    Raises:
        CheckpointError: the files are corrupt or do not describe an agent of this version.
    """
    return agent_from_state(read_policy(stem))


def _check_id(agent_id: str) -> None:
    if agent_id not in AGENT_IDS:
        raise ConfigError(f"no bundled policy for {agent_id!r}; learned ids: {', '.join(AGENT_IDS)}")


@functools.cache
def _bundled_state(agent_id: str, name: str) -> dict[str, Any] | None:
    with bundled_file("models", "rlms", agent_id, f"{name}.json") as path:
        if not path.is_file():
            return None
        return read_policy(path.with_suffix(""))


def bundled_policy_meta(agent_id: str, topology: str) -> dict[str, Any]:
    """Header and provenance of the bundled policy ``agent_id`` uses on ``topology`` (``policy`` names the file).

    Raises:
        ConfigError: ``agent_id`` is not a learned id, or no policy (not even the general one) is bundled.
    """
    _check_id(agent_id)
    for name in (topology, GENERAL_POLICY):
        state = _bundled_state(agent_id, name)
        if state is not None:
            return {"policy": name, **{k: v for k, v in state.items() if k != "weights"}}
    raise ConfigError(f"no bundled {agent_id} policy; train one with cpnkit train --scheduler {agent_id} --export STEM")


def bundled_agent(agent_id: str, topology: str) -> ActorCriticAgent | DQNAgent:
    """A fresh agent with the bundled weights for ``topology`` (the general policy for an unknown topology).

    Raises:
        ConfigError: ``agent_id`` is not a learned id, or nothing is bundled for it.
        CheckpointError: the bundled files are corrupt.
    """
    meta = bundled_policy_meta(agent_id, topology)
    state = _bundled_state(agent_id, meta["policy"])
    if state is None:  # pragma: no cover - bundled_policy_meta found it
        raise ConfigError(f"bundled {agent_id} policy {meta['policy']!r} vanished")
    return agent_from_state(state)


def _scheduler(agent_id: str, seed: int | None) -> LearnedScheduler:
    del seed  # greedy policies are deterministic; accepted like every scheduler's
    _check_id(agent_id)
    return LearnedScheduler(functools.partial(bundled_agent, agent_id), CandidateEncoder(5, 3), name=agent_id)


def rlms_cpn(seed: int | None = None) -> LearnedScheduler:
    """RLMS-CPN (SyncGNN + actor-critic) with the bundled policy of the snapshot's topology."""
    return _scheduler("rlms-cpn", seed)


def rlms_mlp(seed: int | None = None) -> LearnedScheduler:
    """The Table 4 ablation (MLP in place of SyncGNN) with its bundled policy."""
    return _scheduler("rlms-mlp", seed)


def gnn_dqn(seed: int | None = None) -> LearnedScheduler:
    """GNN+DQN (the paper's ref. [8]) with its bundled policy."""
    return _scheduler("gnn-dqn", seed)
