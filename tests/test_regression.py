"""Regression: today's code reproduces small runs of every experiment recorded at commit
91a84e0, before the refactoring of issue 10 (tests/fixtures/regression.npz, written by
tests/fixtures/record_regression.py).

float64 experiments (concept, single neuron): at most 1e-12 relative difference
(bit-identical when recorded). The recurrent training runs: 1e-9, because XLA compiles
for the CPU it runs on, and the last bits it gives differ between machines; over 200
training trials they grow to 5e-12 relative (a 2026-12-04 machine, the same for the code
of 2e52ec4, two sessions older, which met 1e-12 where it was written).

The trained runs on the generic simulator also pass within a fraction of each array's
largest magnitude (SCALE_TOL_*), a criterion for arrays that pass through zero
(gradients, a loss that converges to 1e-22). Since issue 19's third round the simulator
recomputes each event step in the backward pass (`jax.checkpoint`) instead of storing
its intermediates; the recomputation rounds differently, so the float64 gradients differ
by up to 2.4e-14 of their scale, and training carries that along. On a 2026-12-08
machine: single neuron, 3000 trials, within 2.4e-14 of the scale (the final parameters
bit-identical); recurrent, 200 Adabelief trials, within 9e-10; grid search, 30 trials,
within 1.7e-8. The forward passes did not change (the concept sweeps, within 1e-12
elementwise).
MNIST (float32): the forward pass (the test metrics before training) bit-identical; the
trained parameters, losses and metrics within 1e-5 relative, because the theta layers'
backward pass is now a hand-written adjoint (issue 11), whose float32 gradients differ
from autodiff's by rounding (about 3e-6 relative; in float64 they agree to 1e-15,
tests/test_feedforward.py).
"""

from pathlib import Path

import jax
import numpy as np
import pytest

from snnlib.experiments import concept, mnist, recurrent, single_neuron

FIXTURE = np.load(Path(__file__).parent / "fixtures" / "regression.npz")
RTOL = 1e-12
RTOL_TRAINED_FLOAT64 = 1e-9  # the recurrent training runs: machine rounding, amplified
SCALE_TOL_SINGLE = 1e-12  # of an array's largest magnitude: recomputed gradients' rounding
SCALE_TOL_RECURRENT = 1e-7  # the same, amplified by the recurrent training runs


PREFIXES = ("recurrent_grid_", "recurrent_", "single_", "concept_", "mnist_")


def expected(prefix: str) -> dict[str, np.ndarray]:
    """The fixture's arrays of one run (keys: its first matching prefix, then the name)."""
    owner = {k: next((p for p in PREFIXES if k.startswith(p)), None) for k in FIXTURE.files}
    return {k.removeprefix(prefix): FIXTURE[k] for k in FIXTURE.files if owner[k] == prefix}


def assert_reproduces(
    actual: dict[str, np.ndarray], prefix: str, rtol: float = RTOL, scale_tol: float = 0.0
) -> None:
    """Each array of the run as the fixture's: integers equal; floats within rtol of each
    element plus scale_tol times the array's largest finite magnitude."""
    wanted = expected(prefix)
    assert wanted, prefix
    for name, value in wanted.items():
        got = np.asarray(actual[name])
        assert got.dtype == value.dtype and got.shape == value.shape, name
        if rtol == 0 or value.dtype.kind not in "fc":
            np.testing.assert_array_equal(got, value, err_msg=f"{prefix}{name}")
        else:
            finite = np.abs(value[np.isfinite(value)])
            atol = scale_tol * (finite.max() if finite.size else 0.0)
            np.testing.assert_allclose(
                got, value, rtol=rtol, atol=atol, equal_nan=True, err_msg=f"{prefix}{name}"
            )


def test_fixture_was_recorded_before_the_refactoring():
    assert str(FIXTURE["commit"]).startswith("91a84e0")


def test_recurrent_quick_runs_reproduce():
    normal = recurrent.run(
        recurrent.RecurrentConfig(training=recurrent.AdabeliefTraining(n_trials=200), chunk=50),
        progress=False,
    )
    assert_reproduces(
        normal.arrays, "recurrent_", rtol=RTOL_TRAINED_FLOAT64, scale_tol=SCALE_TOL_RECURRENT
    )
    grid = recurrent.run(
        recurrent.RecurrentConfig(training=recurrent.GridSearchTraining(n_trials=30), chunk=10),
        progress=False,
    )
    assert_reproduces(
        grid.arrays, "recurrent_grid_", rtol=RTOL_TRAINED_FLOAT64, scale_tol=SCALE_TOL_RECURRENT
    )


def test_single_neuron_run_reproduces():
    results = single_neuron.run(single_neuron.SingleNeuronConfig(n_trace_points=300))
    assert_reproduces(results.arrays, "single_", scale_tol=SCALE_TOL_SINGLE)


def test_concept_sweeps_reproduce():
    results = concept.run(
        concept.ConceptConfig(
            n_weights=2001, n_inhibition_times=1001, n_gradient_points=101, n_trace_points=101
        )
    )
    assert_reproduces(results.arrays, "concept_")


def test_mnist_two_epochs_reproduce():
    from snnlib import classification

    config = mnist.quick_config(epochs=2, n_train=2000, n_test=500, batch_size=500)
    net = config.network
    train_data, test_data = mnist.load_data(config)
    params = net.init(jax.random.PRNGKey(config.training.seed))
    result = classification.train(
        net, params, train_data, test_data, config.training, progress=False
    )
    actual = {f"param_{i}": leaf for i, leaf in enumerate(jax.tree.leaves(result.params))}
    actual |= {
        "step_loss": result.step_loss,
        "test_accuracy": np.asarray(result.metrics.accuracy),
        "test_loss": np.asarray(result.metrics.loss),
    }
    wanted = expected("mnist_")
    for name, value in wanted.items():
        got = np.asarray(actual[name])
        assert got.dtype == value.dtype and got.shape == value.shape, name
        if name.startswith("test_"):  # before training: the forward pass, bit for bit
            np.testing.assert_array_equal(got[:1], value[:1], err_msg=name)
        # AdaBelief divides by the gradient's spread, which amplifies float32 rounding in
        # small gradient components: parameters within 1e-4 absolute (weights ~0.02-0.5)
        tolerance = {"atol": 1e-4} if name.startswith("param_") else {"rtol": 1e-3}
        np.testing.assert_allclose(got, value, err_msg=name, **tolerance)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_the_comparison_can_fail(prefix):
    wanted = expected(prefix)
    name = next(k for k, v in wanted.items() if v.dtype.kind == "f" and v.size)
    changed = dict(wanted)
    changed[name] = np.nextafter(wanted[name], np.inf, dtype=wanted[name].dtype) * (1 + 1e-9)
    with pytest.raises(AssertionError):
        assert_reproduces(changed, prefix)


@pytest.mark.parametrize(
    "prefix, rtol, scale_tol",
    [
        ("single_", RTOL, SCALE_TOL_SINGLE),
        ("recurrent_", RTOL_TRAINED_FLOAT64, SCALE_TOL_RECURRENT),
        ("recurrent_grid_", RTOL_TRAINED_FLOAT64, SCALE_TOL_RECURRENT),
    ],
)
def test_the_scaled_comparison_can_fail(prefix, rtol, scale_tol):
    """A shift of 10 scale_tol times the largest magnitude, in every element, fails."""
    wanted = expected(prefix)
    name = next(k for k, v in wanted.items() if v.dtype.kind == "f" and v.size)
    value = wanted[name]
    changed = dict(wanted)
    changed[name] = value + 10 * scale_tol * np.max(np.abs(value[np.isfinite(value)]))
    with pytest.raises(AssertionError):
        assert_reproduces(changed, prefix, rtol=rtol, scale_tol=scale_tol)
