from __future__ import annotations

import numpy as np
import pytest

from cpnkit.datasets import load_latency_table
from cpnkit.datasets.predictor_models import (
    PAPER_NEW_DEVICES,
    load_arch_encodings,
    load_base_model,
    make_bundled_predictor,
    training_devices,
)
from cpnkit.errors import ConfigError, DataError, TaskError, UnknownDeviceError, UnknownNameError
from cpnkit.estimate import AdaptivePredictor, LatencyPredictor, LatencySamples
from cpnkit.estimate.predictors import (
    PREDICTOR_IDS,
    ArchEncodings,
    BaseTraining,
    make_predictor,
    normalised_mse,
    predictor_from_state,
    train_base_model,
)

FAST = {"brp-nas": {"steps": 30, "hidden": 16}, "tsft": {"steps": 30, "pseudo_labels": 300}}


def _samples(device: str, k: int, seed: int = 0) -> tuple[LatencySamples, np.ndarray]:
    column = load_latency_table([device]).latency_s[:, 0]
    idx = np.random.default_rng(seed).choice(column.size, k, replace=False)
    return LatencySamples(idx, column[idx], device), column


@pytest.mark.parametrize("method", PREDICTOR_IDS)
def test_predictor_predictions_positive_and_finite(method: str) -> None:
    predictor = make_bundled_predictor(method, seed=0, **FAST.get(method, {}))
    assert isinstance(predictor, LatencyPredictor)
    assert isinstance(predictor, AdaptivePredictor)
    given, column = _samples("raspi4", 20)
    predictor.adapt("raspi4", given)
    out = predictor.predict(np.arange(column.size), "raspi4")
    assert out.shape == (column.size,)
    assert np.isfinite(out).all()
    assert (out > 0).all()
    assert normalised_mse(out, column) < 0.05  # sane, not a benchmark
    assert "raspi4" in predictor.devices
    with pytest.raises(UnknownDeviceError, match="Did you mean 'raspi4'"):
        predictor.predict([0], "raspi5")
    with pytest.raises(TaskError):
        predictor.predict([15625], "raspi4")


def test_predictor_adapt_sees_only_its_k_labels() -> None:
    # the same k labels and anything at all elsewhere in the column give the same predictions
    given, _ = _samples("fpga", 20, seed=3)
    a = make_bundled_predictor("tsft", seed=1)
    b = make_bundled_predictor("tsft", seed=1)
    a.adapt("fpga", given)
    b.adapt("fpga", LatencySamples(given.arch_idx.copy(), given.latency_s.copy(), "fpga"))
    assert np.array_equal(a.predict(np.arange(15625), "fpga"), b.predict(np.arange(15625), "fpga"))


def test_predictor_scenario_hands_over_only_n_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    import cpnkit.datasets.predictor_models as pm
    from cpnkit.datasets import predictors as scen

    seen: dict[str, LatencySamples] = {}
    real = pm.make_bundled_predictor

    def spying(name: str, seed: int = 0, **kw: object) -> AdaptivePredictor:
        predictor = real(name, seed=seed, **kw)
        adapt = predictor.adapt

        def record(device: str, samples: LatencySamples) -> None:
            seen[device] = samples
            adapt(device, samples)

        predictor.adapt = record  # type: ignore[method-assign]
        return predictor

    monkeypatch.setattr(pm, "make_bundled_predictor", spying)
    scen._cached.cache_clear()
    table = scen.scenario_predictor("tsft-s1", ["1080ti_1", "gold_6226", "eyeriss"], seed=4, n_samples=7)
    scen._cached.cache_clear()
    assert set(seen) == {"gold_6226", "eyeriss"}  # 1080ti_1 is a training device
    measured = load_latency_table(["gold_6226", "eyeriss"])
    for device, samples in seen.items():
        assert len(samples) == 7
        np.testing.assert_array_equal(samples.latency_s, measured.column(device)[samples.arch_idx])
    assert table.devices == ("1080ti_1", "gold_6226", "eyeriss")
    assert (table.latency_s > 0).all()


@pytest.mark.parametrize(
    ("arch_idx", "latency_s", "match"),
    [
        ([], [], "zero samples"),
        ([1, 2], [0.01, float("nan")], "finite"),
        ([1, 2], [0.01, -0.01], "finite and > 0"),
        ([1, 1], [0.01, 0.01], "twice"),
    ],
)
def test_predictor_bad_samples_rejected(arch_idx: list[int], latency_s: list[float], match: str) -> None:
    with pytest.raises(DataError, match=match):
        LatencySamples(np.array(arch_idx, dtype=np.int64), np.array(latency_s), "x")


def test_predictor_samples_of_another_device_rejected() -> None:
    given, _ = _samples("fpga", 5)
    with pytest.raises(DataError, match="measured on 'fpga'"):
        make_bundled_predictor("flops").adapt("eyeriss", given)


def test_predictor_registry_errors() -> None:
    enc = load_arch_encodings()
    with pytest.raises(UnknownNameError, match="Did you mean 'tsft'"):
        make_predictor("tsfx", enc)
    with pytest.raises(ConfigError, match="base model"):
        make_predictor("tsft", enc)
    with pytest.raises(ConfigError, match="takes no settings"):
        make_predictor("flops", enc, steps=3)
    with pytest.raises(ConfigError):
        make_predictor("tsft", enc, base_model=load_base_model(), bogus=1)


def test_predictor_base_fits_training_devices_and_ships_small() -> None:
    model = load_base_model()
    assert set(model.devices) == set(training_devices())
    assert not set(model.devices) & set(PAPER_NEW_DEVICES)
    assert sum(w.size for w in model.weights.values()) < 500_000
    base = make_bundled_predictor("base")
    table = load_latency_table(["1080ti_1", "pixel3"])
    for device in table.devices:
        assert normalised_mse(base.predict(np.arange(15625), device), table.column(device)) < 0.005


@pytest.mark.parametrize("method", ["flops", "layerwise", "brp-nas", "base", "tsft", "tsft-s1"])
def test_predictor_state_round_trip(method: str) -> None:
    predictor = make_bundled_predictor(method, seed=2, **FAST.get(method, {}))
    given, _ = _samples("eyeriss", 12)
    predictor.adapt("eyeriss", given)
    state = predictor.state()  # type: ignore[attr-defined]
    again = predictor_from_state(state, load_arch_encodings())
    np.testing.assert_allclose(
        again.predict(np.arange(15625), "eyeriss"), predictor.predict(np.arange(15625), "eyeriss"), rtol=1e-5
    )


def test_predictor_tiny_training_run() -> None:
    enc = load_arch_encodings()
    small = ArchEncodings(enc.cells[:400], enc.flops_m[:400])
    rng = np.random.default_rng(0)
    labels = np.c_[small.flops_m * 0.1 + 1, small.op_counts()[:, 3] * 2 + 1] * rng.uniform(0.98, 1.02, (400, 2))
    training = BaseTraining(epochs=3, batch_archs=64, holdout_archs=50, hidden=8, layers=2, embedding=4)
    model = train_base_model(small, labels, ("a", "b"), training=training, seed=0)
    again = train_base_model(small, labels, ("a", "b"), training=training, seed=0)
    for key, value in model.weights.items():
        np.testing.assert_array_equal(value, again.weights[key])  # seeded: reproducible
    assert np.isfinite(model.info["holdout_mse_normalised"])
    tsft = make_predictor("tsft", small, base_model=model, steps=5, pseudo_labels=50)
    tsft.adapt("c", LatencySamples(np.arange(10), labels[:10, 0] / 1e3 * 1.5, "c"))
    out = tsft.predict(np.arange(400), "c")
    assert np.isfinite(out).all()
    assert (out > 0).all()
    with pytest.raises(DataError, match="labels of shape"):
        train_base_model(small, labels[:, :1], ("a", "b"), training=training)
