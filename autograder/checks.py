"""The checks library: comparisons that explain themselves, and statistical tests.

Every function returns an :class:`~autograder.spec.Outcome` whose message says what was
expected, what came, and where, in the style of pytest's assertion messages. Tolerances are
arguments with stated defaults; statistical tests take their false-failure rate ``alpha``.
"""
from __future__ import annotations

import numpy as np

from autograder.spec import Outcome
from autograder.wire import TensorData, Unsupported

# Relative and absolute tolerance for float64 results computed by a different but correct
# formula: rounding differences are ~1e-15 relative, so 1e-7 leaves a wide margin while a
# wrong formula (off by a factor, a sign, a term) is off by far more.
RTOL = 1e-7
ATOL = 1e-10


def describe_type(value) -> str:
    if isinstance(value, np.ndarray):
        return f"np.ndarray of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, TensorData):
        return f"torch.Tensor of shape {tuple(value.array.shape)} and dtype torch.{value.dtype}"
    if isinstance(value, Unsupported):
        return value.type_name
    if isinstance(value, np.generic):
        return f"NumPy scalar {type(value).__name__}"
    return type(value).__name__


def summarise(array: np.ndarray, limit: int = 6) -> str:
    """A short, readable rendering of an array: the whole of a small one, stats of a big one."""
    array = np.asarray(array)
    if array.size <= limit:
        return np.array2string(array, precision=5, separator=", ", suppress_small=False)
    flat = array.reshape(-1)
    head = ", ".join(f"{v:.5g}" for v in flat[:3])
    if np.issubdtype(array.dtype, np.number) and np.all(np.isfinite(flat)):
        return f"[{head}, ...] (shape {array.shape}, min {flat.min():.4g}, max {flat.max():.4g})"
    return f"[{head}, ...] (shape {array.shape})"


def compare_arrays(got, expected: np.ndarray, *, rtol: float = RTOL, atol: float = ATOL,
                   dtype: str | None = "float64", kind: str = "ndarray") -> Outcome:
    """Check type, shape, dtype, finiteness and values, in that order; say which failed.

    ``got`` may be an ndarray or (``kind="tensor"``) a :class:`TensorData`; ``expected`` is an
    ndarray. Values must satisfy ``|got - expected| <= atol + rtol * |expected|`` everywhere.
    """
    if kind == "tensor":
        if not isinstance(got, TensorData):
            return Outcome(False, f"expected a torch.Tensor, got {describe_type(got)}")
        if dtype is not None and got.dtype != dtype:
            return Outcome(False, f"expected dtype torch.{dtype} (the dtype of the input), got torch.{got.dtype}")
        got_array = got.array
    else:
        if not isinstance(got, np.ndarray):
            return Outcome(False, f"expected an np.ndarray, got {describe_type(got)}")
        if dtype is not None and got.dtype != np.dtype(dtype):
            return Outcome(False, f"expected dtype {dtype}, got {got.dtype}")
        got_array = got
    expected = np.asarray(expected)
    if got_array.shape != expected.shape:
        return Outcome(False, f"expected shape {expected.shape}, got shape {got_array.shape}")
    if not np.issubdtype(got_array.dtype, np.number) and got_array.dtype != bool:
        return Outcome(False, f"expected numbers, got an array of dtype {got_array.dtype}")
    got_f = got_array.astype(np.float64) if got_array.dtype.kind != "c" else got_array
    exp_f = expected.astype(np.float64) if expected.dtype.kind != "c" else expected
    bad = ~np.isfinite(got_f) & np.isfinite(exp_f)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return Outcome(False, f"got {got_f[index]} at index {list(index)} where {exp_f[index]:.6g} was "
                              f"expected ({int(bad.sum())} non-finite entries)")
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(got_f - exp_f)
        allowed = atol + rtol * np.abs(exp_f)
        wrong = ~(err <= allowed) & ~(np.isnan(got_f) & np.isnan(exp_f))
    if wrong.any():
        worst = np.unravel_index(np.argmax(np.where(wrong, err - allowed, -np.inf)), err.shape) if err.ndim else ()
        at = f" at index {[int(i) for i in worst]}" if err.ndim else ""
        return Outcome(
            False,
            f"values differ{at}: expected {exp_f[worst]:.6g}, got {got_f[worst]:.6g} "
            f"({int(wrong.sum())} of {wrong.size} entries outside rtol={rtol:g}, atol={atol:g}); "
            f"expected {summarise(exp_f)}, got {summarise(got_f)}",
        )
    return Outcome(True)


def compare_values(got, expected, **kwargs) -> Outcome:
    """compare_arrays for ndarray or tensor results, chosen by the expected value's type."""
    if isinstance(expected, TensorData):
        return compare_arrays(got, expected.array, kind="tensor", dtype=kwargs.pop("dtype", expected.dtype), **kwargs)
    return compare_arrays(got, expected, **kwargs)


def matches_reference(rtol: float = RTOL, atol: float = ATOL, dtype: str | None = "float64"):
    """A judge: the returned value equals the reference (type, shape, dtype, values).

    For torch references the dtype checked is the reference's (the contract keeps the input's).
    """
    def judge(case, got, expected, args) -> Outcome:
        if isinstance(expected, TensorData):
            return compare_values(got.value, expected, rtol=rtol, atol=atol)
        return compare_values(got.value, expected, rtol=rtol, atol=atol, dtype=dtype)

    return judge


def matches_reference_gradients(rtol: float = 1e-6, atol: float = 1e-9, names: tuple[str, ...] = (),
                                constants: tuple[int, ...] = ()):
    """A judge for ``Case(op="backward")``: the output and the gradients of ``sum(output)``
    with respect to each tensor input that requires grad both equal the reference's.

    This is the torch gradient check: it catches outputs that are right in value but not
    differentiable (``.detach()``, ``.item()``, NumPy round trips) or differentiable wrongly.
    ``names`` name the inputs in messages (else "input 1", ...); the inputs at the indices in
    ``constants`` must receive no gradient at all (e.g. a surrogate loss's weights).
    """
    def name(index: int) -> str:
        return names[index] if index < len(names) else f"input {index + 1}"

    def judge(case, got, expected, args) -> Outcome:
        value, grads = got.value if isinstance(got.value, tuple) and len(got.value) == 2 else (got.value, None)
        want_value, want_grads = expected
        outcome = compare_values(value, want_value, rtol=rtol, atol=atol)
        if not outcome.passed:
            return outcome
        if not isinstance(grads, list) or len(grads) != len(want_grads):
            return Outcome(False, "the gradient could not be computed from the returned tensor (did "
                                  "the function change requires_grad of its inputs?)")
        for index, (grad, want) in enumerate(zip(grads, want_grads)):
            if index in constants:
                if grad is not None and np.any(as_array(grad) != 0):
                    first = as_array(grad).reshape(-1)[0]
                    return Outcome(False, f"a gradient reaches {name(index)} (d output / d {name(index)}[0] = "
                                          f"{first:.4g}): it is a constant here, never differentiated; "
                                          f"use {name(index)}.detach()")
                continue
            if want is None:
                continue
            if grad is None:
                return Outcome(False, f"no gradient reaches {name(index)}: the result is cut off from "
                                      "the autograd graph (.detach(), .item(), NumPy or a new tensor?)")
            outcome = compare_values(grad, want, rtol=rtol, atol=atol)
            if not outcome.passed:
                return Outcome(False, f"gradient with respect to {name(index)}: {outcome.message}")
        return Outcome(True)

    return judge


def matches_reference_at_scale(rtol: float = RTOL):
    """A judge for results of extreme scale (entries ~1e6 next to exact zeros): every entry
    within ``rtol`` times the largest expected entry. A zero computed as 1e-12 of a 1e6 matrix
    passes; a wrong formula (off by a factor, a term) still fails."""
    def judge(case, got, expected, args) -> Outcome:
        values = expected.array if isinstance(expected, TensorData) else np.asarray(expected)
        scale = float(np.max(np.abs(values))) if values.size else 1.0
        return compare_values(got.value, expected, rtol=rtol, atol=rtol * scale)

    return judge


def result_is_detached(rtol: float = 1e-6, atol: float = 1e-9):
    """A judge for torch results that must come back detached from any autograd graph."""
    def judge(case, got, expected, args) -> Outcome:
        value = got.value
        if not isinstance(value, TensorData):
            return Outcome(False, f"expected a torch.Tensor, got {describe_type(value)}")
        if value.requires_grad or value.has_grad_fn:
            return Outcome(False, "the result is still attached to an autograd graph (requires_grad=True); "
                                  "return it .detach()-ed")
        return compare_values(value, expected, rtol=rtol, atol=atol)

    return judge


def leaves_input_unchanged(index: int, name: str, rtol: float = 1e-6, atol: float = 1e-9, then=None):
    """A judge for torch exercises that must not change an input tensor (``Case(observe_args=True)``):
    its values, its ``.grad`` and its ``requires_grad`` stay as they were, and the result is right
    (equal to the reference; or, for a random result, accepted by the judge ``then``)."""
    def judge(case, got, expected, args) -> Outcome:
        before = args[index]
        after = got.args_after[index] if got.args_after and len(got.args_after) > index else None
        if not isinstance(after, TensorData):
            return Outcome(False, f"{name} could not be read back after the call")
        if not np.array_equal(after.array, before.detach().numpy()):
            return Outcome(False, f"{name} changed: it was {before.detach().numpy()}, after the call it is {after.array}")
        if before.grad is None and after.grad is not None:
            return Outcome(False, f"{name}.grad was None and is now {after.grad}: .backward() on the caller's "
                                  f"{name} accumulates into its .grad; differentiate a detached copy "
                                  f"({name}.detach().clone()) or use torch.autograd.grad")
        if before.grad is not None and (after.grad is None or not np.array_equal(after.grad, before.grad.numpy())):
            return Outcome(False, f"{name}.grad changed from {before.grad.numpy()} to {after.grad}: leave the "
                                  f"caller's gradient alone (use torch.autograd.grad or a detached copy of {name})")
        if after.requires_grad != bool(before.requires_grad):
            return Outcome(False, f"{name}.requires_grad changed: set requires_grad on a detached copy, not on {name}")
        if then is not None:
            return then(case, got, expected, args)
        return compare_values(got.value, expected, rtol=rtol, atol=atol)

    return judge


def leaves_arrays_unchanged(rtol: float = RTOL, atol: float = ATOL):
    """A judge for NumPy exercises (``Case(observe_args=True)``): every array input comes back
    with the values it went in with, and the result equals the reference."""
    same_as_reference = matches_reference(rtol, atol)

    def judge(case, got, expected, args) -> Outcome:
        after = got.args_after or []
        for index, before in enumerate(args):
            if not isinstance(before, np.ndarray):
                continue
            now = after[index] if index < len(after) else None
            if not (isinstance(now, np.ndarray) and np.array_equal(now, before)):
                return Outcome(False, f"input {index + 1} was modified in place: it was {summarise(before)}, "
                                      f"after the call it is {summarise(now) if now is not None else 'missing'}; "
                                      "work on new arrays (x = x - y, not x -= y on np.asarray of the caller's array)")
        return same_as_reference(case, got, expected, args)

    return judge


def describe_input(name: str, value) -> str:
    """How a case names one input for the student: its shape, or its value if a number."""
    value = np.asarray(value)
    return f"{name} of shape {value.shape}" if value.ndim else f"{name} = {value.item():.4g}"


def softmax(z, axis: int = -1) -> np.ndarray:
    """A stable softmax in float64 (the row maximum is subtracted first), for graders' judges
    and hint detectors."""
    z = np.asarray(z, dtype=np.float64)
    z = np.exp(z - z.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


def as_array(value) -> np.ndarray:
    """An ndarray view of a returned value (TensorData included), for hint detectors."""
    return value.array if isinstance(value, TensorData) else np.asarray(value, dtype=np.float64)


def close(a, b, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Same shape and close values: the test hint detectors use."""
    a, b = as_array(a), as_array(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


# --- statistical tests ------------------------------------------------------------------
# Each is an exact or asymptotic level-alpha test: a correct implementation fails it with
# probability (about) alpha. Graders use fixed seeds, so a verdict is the same every run.

def chi2_sf(stat: float, dof: int) -> float:
    """P(X >= stat) for X chi-square with ``dof`` degrees of freedom: ``scipy.stats.chi2.sf``,
    from ``scipy.special`` (the same function underneath), which imports in a third of the time."""
    from scipy.special import chdtrc

    return float(chdtrc(dof, stat))


def mean_test(samples: np.ndarray, mean: np.ndarray, cov: np.ndarray, alpha: float) -> Outcome:
    """Is the sample mean of ``samples (N, d)`` consistent with the true ``mean (d,)``?

    With the true covariance known, ``N (m - mean)^T cov^{-1} (m - mean)`` is asymptotically
    chi-square with d degrees of freedom (central limit theorem); reject when its p-value < alpha.
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim == 1:
        samples = samples[:, None]
    mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
    cov = np.atleast_2d(np.asarray(cov, dtype=np.float64))
    n, d = samples.shape
    diff = samples.mean(axis=0) - mean
    stat = float(n * diff @ np.linalg.solve(cov, diff))
    p_value = chi2_sf(stat, d)
    if p_value < alpha:
        return Outcome(False, f"sample mean {summarise(samples.mean(axis=0))} is too far from the true mean "
                              f"{summarise(mean)} for N={n} (p = {p_value:.2g} < alpha = {alpha:g}; a correct "
                              f"implementation fails this test with probability {alpha:g})")
    return Outcome(True, f"p = {p_value:.3g}")


def frequency_test(counts: np.ndarray, probs: np.ndarray, alpha: float) -> Outcome:
    """Pearson chi-square goodness of fit of category ``counts`` to ``probs``.

    Categories with expected count below 5 are pooled so the chi-square approximation holds.
    A category with probability 0 that was observed fails outright.
    """
    counts = np.asarray(counts, dtype=np.float64).reshape(-1)
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)
    impossible = (probs <= 0) & (counts > 0)
    if impossible.any():
        return Outcome(False, f"category {int(np.argmax(impossible))} has probability 0 but was drawn "
                              f"{int(counts[impossible][0])} times")
    n = counts.sum()
    expected = n * probs
    order = np.argsort(expected)
    pooled_obs, pooled_exp, acc_o, acc_e = [], [], 0.0, 0.0
    for i in order:
        acc_o += counts[i]
        acc_e += expected[i]
        if acc_e >= 5:
            pooled_obs.append(acc_o)
            pooled_exp.append(acc_e)
            acc_o = acc_e = 0.0
    if acc_e > 0 and pooled_exp:
        pooled_obs[-1] += acc_o
        pooled_exp[-1] += acc_e
    if len(pooled_exp) < 2:
        return Outcome(True, "too few samples per category to test")
    obs, exp = np.asarray(pooled_obs), np.asarray(pooled_exp)
    p_value = chi2_sf(float(np.sum((obs - exp) ** 2 / exp)), len(exp) - 1)  # Pearson's statistic
    if p_value < alpha:
        return Outcome(False, f"observed frequencies {summarise(counts / n)} do not match the probabilities "
                              f"{summarise(probs)} (chi-square p = {p_value:.2g} < alpha = {alpha:g}; a correct "
                              f"implementation fails this test with probability {alpha:g})")
    return Outcome(True, f"p = {p_value:.3g}")


def bonferroni(alpha: float, n_tests: int) -> float:
    """Per-test level so that n_tests tests together falsely fail with probability <= alpha."""
    return alpha / max(1, n_tests)
