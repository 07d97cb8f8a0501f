"""The checks library: comparison messages and the calibration of the statistical tests."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from autograder.checks import bonferroni, compare_arrays, compare_values, frequency_test, mean_test
from autograder.wire import TensorData, Unsupported

# --- compare_arrays -------------------------------------------------------------------------------

EXPECTED = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def test_equal_arrays_pass():
    assert compare_arrays(EXPECTED.copy(), EXPECTED).passed
    assert compare_arrays(EXPECTED * (1 + 1e-9), EXPECTED).passed  # within rtol=1e-7


@pytest.mark.parametrize("got, says", [
    ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "expected an np.ndarray, got list"),
    (3.0, "expected an np.ndarray, got float"),
    (None, "expected an np.ndarray, got NoneType"),
    (np.float64(1.0), "expected an np.ndarray, got NumPy scalar float64"),
    (Unsupported("__main__.Liar"), "expected an np.ndarray, got __main__.Liar"),
    (TensorData(EXPECTED, "float64", False, False), "expected an np.ndarray, got torch.Tensor of shape (2, 3)"),
])
def test_wrong_type_message(got, says):
    outcome = compare_arrays(got, EXPECTED)
    assert not outcome.passed
    assert says in outcome.message


def test_wrong_shape_message():
    outcome = compare_arrays(EXPECTED.T.copy(), EXPECTED)
    assert not outcome.passed
    assert outcome.message == "expected shape (2, 3), got shape (3, 2)"


def test_wrong_dtype_message():
    outcome = compare_arrays(EXPECTED.astype(np.float32), EXPECTED)
    assert not outcome.passed
    assert outcome.message == "expected dtype float64, got float32"
    assert compare_arrays(EXPECTED.astype(np.float32), EXPECTED, dtype=None).passed


def test_nan_message_says_where():
    got = EXPECTED.copy()
    got[1, 2] = np.nan
    got[0, 1] = np.inf
    outcome = compare_arrays(got, EXPECTED)
    assert not outcome.passed
    # the first non-finite entry in C order, with what was expected there, and how many
    assert outcome.message.startswith("got inf at index [0, 1] where 2 was expected")
    assert "2 non-finite entries" in outcome.message


def test_nan_where_nan_is_expected_passes():
    expected = np.array([1.0, np.nan])
    assert compare_arrays(np.array([1.0, np.nan]), expected).passed
    assert not compare_arrays(np.array([1.0, 2.0]), expected).passed


def test_values_message_says_expected_got_and_where():
    got = EXPECTED.copy()
    got[1, 0] = 4.5  # the worst offender
    got[0, 2] = 3.01
    outcome = compare_arrays(got, EXPECTED)
    assert not outcome.passed
    message = outcome.message
    assert message.startswith("values differ at index [1, 0]: expected 4, got 4.5")
    assert "2 of 6 entries outside rtol=1e-07, atol=1e-10" in message
    assert "expected [[1" in message and "got [[1" in message


def test_values_message_for_a_scalar_array():
    outcome = compare_arrays(np.array(2.0), np.array(1.0))
    assert not outcome.passed
    assert outcome.message.startswith("values differ: expected 1, got 2")


def test_values_message_summarises_big_arrays():
    expected = np.arange(100.0).reshape(10, 10)
    got = expected.copy()
    got[3, 7] = -1.0
    message = compare_arrays(got, expected).message
    assert "at index [3, 7]: expected 37, got -1" in message
    assert "shape (10, 10)" in message and "min 0" in message and "max 99" in message


def test_tolerances_are_arguments():
    got = EXPECTED + 1e-3
    assert not compare_arrays(got, EXPECTED).passed
    assert compare_arrays(got, EXPECTED, atol=2e-3).passed
    assert compare_arrays(got, EXPECTED, rtol=1e-2).passed


def test_tensor_comparisons():
    ok = TensorData(EXPECTED.astype(np.float32), "float32", False, False)
    assert compare_arrays(ok, EXPECTED, kind="tensor", dtype="float32", rtol=1e-6).passed
    outcome = compare_arrays(EXPECTED, EXPECTED, kind="tensor", dtype="float32")
    assert outcome.message.startswith("expected a torch.Tensor, got np.ndarray of shape (2, 3)")
    outcome = compare_arrays(ok, EXPECTED, kind="tensor", dtype="float64")
    assert outcome.message == "expected dtype torch.float64 (the dtype of the input), got torch.float32"
    # compare_values picks the tensor comparison, and the dtype, from the expected value
    expected = TensorData(EXPECTED, "float64", False, False)
    assert compare_values(TensorData(EXPECTED.copy(), "float64", False, False), expected).passed
    assert "torch.float64" in compare_values(ok, expected).message


def test_non_numeric_arrays_are_refused():
    outcome = compare_arrays(np.array(["a", "b"]), np.array([1.0, 2.0]), dtype=None)
    assert not outcome.passed
    assert "expected numbers" in outcome.message


# --- statistical tests: calibration -------------------------------------------------------------------
# Over SEEDS fixed seeds a correct sampler is rejected at level ALPHA a Binomial(SEEDS, ~ALPHA)
# number of times. The band below holds that count with probability >= 99.9%, so each
# calibration test would fail falsely with probability about 0.1%; seeded, it is deterministic.

SEEDS = 400
ALPHA = 0.05
LOW = int(stats.binom.ppf(0.0005, SEEDS, ALPHA))  # P(count < LOW) <= 0.0005
HIGH = int(stats.binom.isf(0.0005, SEEDS, ALPHA))  # P(count > HIGH) <= 0.0005


def test_band_is_what_it_claims():
    assert stats.binom.cdf(LOW - 1, SEEDS, ALPHA) + stats.binom.sf(HIGH, SEEDS, ALPHA) <= 0.001
    assert LOW < SEEDS * ALPHA < HIGH


MEAN = np.array([0.5, -1.0, 2.0])
COV = np.array([[1.0, 0.3, 0.0], [0.3, 2.0, -0.4], [0.0, -0.4, 0.5]])


def _gaussian(seed: int, n: int = 100, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).multivariate_normal(MEAN + shift, COV, size=n)


def _rejections(test, sample, seeds=range(SEEDS)) -> int:
    return sum(not test(sample(seed)).passed for seed in seeds)


def test_mean_test_is_calibrated_for_a_correct_sampler():
    rejected = _rejections(lambda s: mean_test(s, MEAN, COV, ALPHA), _gaussian)
    assert LOW <= rejected <= HIGH, rejected


def test_mean_test_is_calibrated_for_a_non_gaussian_sampler():
    """Exponential(1) draws: mean 1, variance 1; the test relies on the central limit theorem."""
    sample = lambda seed: np.random.default_rng(10_000 + seed).exponential(1.0, size=500)
    rejected = _rejections(lambda s: mean_test(s, np.array([1.0]), np.array([[1.0]]), ALPHA), sample)
    assert LOW <= rejected <= HIGH, rejected


def test_mean_test_rejects_a_wrong_sampler():
    outcomes = [mean_test(_gaussian(seed, n=400, shift=0.3), MEAN, COV, ALPHA) for seed in range(20)]
    assert not any(o.passed for o in outcomes)
    message = outcomes[0].message
    assert "too far from the true mean" in message and "N=400" in message and "alpha = 0.05" in message


def test_mean_test_rejects_a_wrong_covariance_scale():
    """Right mean, but samples that all share one draw: the mean wanders far too much."""
    sample = lambda seed: np.repeat(_gaussian(seed, n=1), 200, axis=0)
    assert _rejections(lambda s: mean_test(s, MEAN, COV, ALPHA), sample, range(100)) > 50


PROBS = np.array([0.4, 0.3, 0.2, 0.07, 0.02, 0.01])  # the rare categories get pooled at N = 200


def _counts(seed: int, probs=PROBS, n: int = 200) -> np.ndarray:
    draws = np.random.default_rng(20_000 + seed).choice(len(probs), size=n, p=probs)
    return np.bincount(draws, minlength=len(PROBS))


def test_frequency_test_is_calibrated_for_a_correct_sampler():
    rejected = _rejections(lambda c: frequency_test(c, PROBS, ALPHA), _counts)
    assert LOW <= rejected <= HIGH, rejected


def test_frequency_test_rejects_a_wrong_sampler():
    wrong = np.array([0.3, 0.4, 0.2, 0.07, 0.02, 0.01])  # two categories swapped
    outcomes = [frequency_test(_counts(seed, wrong, n=1000), PROBS, ALPHA) for seed in range(20)]
    assert not any(o.passed for o in outcomes)
    assert "do not match the probabilities" in outcomes[0].message
    assert "alpha = 0.05" in outcomes[0].message


def test_frequency_test_rejects_an_impossible_category():
    outcome = frequency_test(np.array([50, 0, 3]), np.array([0.5, 0.5, 0.0]), ALPHA)
    assert not outcome.passed
    assert outcome.message == "category 2 has probability 0 but was drawn 3 times"


def test_frequency_test_with_too_few_samples_does_not_fail():
    assert frequency_test(np.array([1, 2]), np.array([0.5, 0.5]), ALPHA).passed


def test_bonferroni():
    assert bonferroni(0.01, 4) == pytest.approx(0.0025)
    assert bonferroni(0.01, 0) == 0.01
