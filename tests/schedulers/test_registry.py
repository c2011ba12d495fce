from __future__ import annotations

import pytest

from cpnkit.errors import ConfigError, UnknownSchedulerError
from cpnkit.schedulers import NearestEcmpScheduler, SchedulerRegistry, make, registry


def test_registry_unknown_id_suggests_close_match() -> None:
    with pytest.raises(UnknownSchedulerError, match=r"unknown scheduler 'nearest-ecm'. Did you mean 'nearest-ecmp'"):
        make("nearest-ecm")


def test_registry_lists_builtins_and_builds_them() -> None:
    assert {"nearest-ecmp", "random"} <= set(registry.ids())
    assert isinstance(make("nearest-ecmp"), NearestEcmpScheduler)


def test_registry_own_instance_rejects_bad_ids() -> None:
    own = SchedulerRegistry()
    own.register("mine", lambda **kw: NearestEcmpScheduler(**kw))
    assert "mine" in own.ids()
    with pytest.raises(ConfigError, match="kebab-case"):
        own.register("My_Sched", NearestEcmpScheduler)
    with pytest.raises(ConfigError, match="already registered"):
        own.register("mine", NearestEcmpScheduler)


def test_nearest_ecmp_rejects_bad_k() -> None:
    with pytest.raises(ConfigError, match="k_paths=0"):
        NearestEcmpScheduler(k_paths=0)
