"""The chapter 7 reference solutions against independent computations.

Nothing here reuses the solutions' own formulas. The Fisher-vector product is checked
against the explicitly formed matrix (and its memory use against the size of that matrix);
conjugate gradient against ``np.linalg.solve`` and, after k < d iterations, against the
minimiser of the A-norm error over the Krylov space computed by a least-squares problem on
an orthonormal Krylov basis (the characterisation of the CG iterate, Nocedal & Wright 2006,
theorem 5.2); the natural step against the KL-constrained maximisation it solves (random
points on the constraint ellipsoid, and scipy's SLSQP) and against its invariance under a
change of coordinates. All inputs come from fixed seeds.
"""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.optimize

from autograder import probes
from solutions.ch07_natural_gradient import (
    conjugate_gradient,
    fisher_vector_product,
    natural_gradient_step,
)

SEEDS = range(6)


def _spd(rng, d, condition=10.0):
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (q * np.logspace(0.0, np.log10(condition), d)) @ q.T


# --- 7.1 fisher_vector_product ---------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (4, 4), (30, 3), (3, 12)])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("damping", [0.0, 0.3])
def test_fvp_matches_the_formed_matrix(seed, shape, damping):
    rng = np.random.default_rng(seed)
    s, v = rng.normal(size=shape), rng.normal(size=shape[1])
    F = sum(np.outer(row, row) for row in s) / shape[0] + damping * np.eye(shape[1])
    got = fisher_vector_product(s, v, damping)
    assert got.dtype == np.float64 and got.shape == (shape[1],)
    np.testing.assert_allclose(got, F @ v, rtol=1e-12, atol=1e-12)


def test_fvp_takes_lists_and_defaults_to_no_damping():
    got = fisher_vector_product([[1, 0], [0, 2], [1, -1]], [1, 1])
    # F = [[2, -1], [-1, 5]] / 3
    np.testing.assert_allclose(got, np.array([1.0, 4.0]) / 3, rtol=1e-14)


def test_fvp_never_allocates_the_d_by_d_matrix():
    rng = np.random.default_rng(7)
    n, d = 4, 20_000
    s, v = rng.normal(size=(n, d)), rng.normal(size=d)
    tracemalloc.start()
    fisher_vector_product(s, v, 0.1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100 * d * 8  # a few (d,) vectors, far below d * d * 8 = 3.2 GB


def test_fvp_leaves_inputs_alone():
    rng = np.random.default_rng(8)
    s, v = rng.normal(size=(5, 3)), rng.normal(size=3)
    s0, v0 = s.copy(), v.copy()
    fisher_vector_product(s, v, 0.5)
    assert np.array_equal(s, s0) and np.array_equal(v, v0)


# --- 7.2 conjugate_gradient -------------------------------------------------------------------

def _krylov_minimiser(A, g, k):
    """argmin over x in span{g, Ag, ..., A^(k-1) g} of |x - A^-1 g|_A, by least squares."""
    if k == 0:
        return np.zeros_like(g)
    K = np.column_stack([np.linalg.matrix_power(A, j) @ g for j in range(k)])
    Q, _ = np.linalg.qr(K)
    # |Q c - x*|_A^2 is minimised by (Q^T A Q) c = Q^T A x* = Q^T g.
    c = np.linalg.solve(Q.T @ A @ Q, Q.T @ g)
    return Q @ c


class _Counted:
    def __init__(self, A):
        self.A, self.calls = A, 0

    def __call__(self, v):
        self.calls += 1
        return self.A @ v


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("d", [1, 3, 8])
def test_cg_solves_in_d_iterations(seed, d):
    rng = np.random.default_rng(seed)
    A, g = _spd(rng, d), rng.normal(size=d)
    fvp = _Counted(A)
    x = conjugate_gradient(fvp, g, iters=d, tol=1e-30)
    assert x.dtype == np.float64 and x.shape == (d,)
    np.testing.assert_allclose(x, np.linalg.solve(A, g), rtol=1e-9, atol=1e-12)
    assert fvp.calls <= d


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [0, 1, 2, 3, 5])
def test_cg_iterate_minimises_the_a_norm_error_over_the_krylov_space(seed, k):
    rng = np.random.default_rng(100 + seed)
    d = 12
    A, g = _spd(rng, d, condition=50.0), rng.normal(size=d)
    fvp = _Counted(A)
    x = conjugate_gradient(fvp, g, iters=k, tol=1e-30)
    np.testing.assert_allclose(x, _krylov_minimiser(A, g, k), rtol=1e-8, atol=1e-10)
    assert fvp.calls == k


def test_cg_stops_early_and_handles_zero():
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(9, 9)))
    A = (q * np.repeat([1.0, 3.0, 7.0], 3)) @ q.T  # three distinct eigenvalues
    g = rng.normal(size=9)
    fvp = _Counted(A)
    x = conjugate_gradient(fvp, g, iters=100, tol=1e-20)
    np.testing.assert_allclose(A @ x, g, rtol=1e-9, atol=1e-9)
    assert fvp.calls <= 4
    fvp = _Counted(A)
    assert np.array_equal(conjugate_gradient(fvp, np.zeros(9)), np.zeros(9)) and fvp.calls == 0
    x_list = conjugate_gradient(lambda v: A @ v, list(g), iters=9, tol=1e-30)
    np.testing.assert_allclose(x_list, np.linalg.solve(A, g), rtol=1e-9)


def test_cg_on_an_ill_conditioned_matrix_meets_the_kappa_bound():
    rng = np.random.default_rng(4)
    d, kappa = 30, 1e4
    A, g = _spd(rng, d, condition=kappa), rng.normal(size=d)
    x_star = np.linalg.solve(A, g)
    for k in range(0, 31, 5):
        e = conjugate_gradient(lambda v: A @ v, g, iters=k, tol=1e-30) - x_star
        bound = 2 * ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** k
        assert np.sqrt(e @ A @ e) <= bound * np.sqrt(x_star @ A @ x_star) + 1e-12


def test_the_grader_probe_hands_over_a_counted_spd_product():
    eigs = np.array([1.0, 2.0, 5.0, 10.0])
    A = probes.spd_matrix(11, eigs)
    np.testing.assert_allclose(A, A.T, atol=1e-14)
    np.testing.assert_allclose(np.linalg.eigvalsh(A), eigs, rtol=1e-12)
    g = np.arange(1.0, 5.0)
    x, calls = probes.counted_fvp_solve(conjugate_gradient, 11, eigs, g, 4, 1e-30)
    np.testing.assert_allclose(x, np.linalg.solve(A, g), rtol=1e-10)
    assert calls == 4
    _, calls = probes.counted_fvp_solve(conjugate_gradient, 11, eigs, g)
    assert calls <= 4  # defaults: iters=10, but exact after d = 4 and then stops


# --- 7.3 natural_gradient_step ----------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("damping", [0.0, 0.1])
def test_step_maximises_the_linear_model_under_the_kl_constraint(seed, damping):
    rng = np.random.default_rng(200 + seed)
    d, max_kl = 3, 0.02
    M = rng.normal(size=(d, d))
    F = M @ M.T + 0.05 * np.eye(d)
    A = F + damping * np.eye(d)
    theta, g = rng.normal(size=d), rng.normal(size=d)
    step = natural_gradient_step(theta, g, F, max_kl, damping) - theta
    assert 0.5 * step @ A @ step == pytest.approx(max_kl, rel=1e-10)
    # SLSQP on the constrained problem finds the same step.
    res = scipy.optimize.minimize(
        lambda s: -g @ s, np.zeros(d), jac=lambda s: -g, method="SLSQP",
        constraints=[{"type": "ineq", "fun": lambda s: max_kl - 0.5 * s @ A @ s,
                      "jac": lambda s: -(A @ s)}], options={"ftol": 1e-14, "maxiter": 500})
    np.testing.assert_allclose(step, res.x, rtol=1e-5, atol=1e-7)
    # ... and no point of the constraint's boundary does better.
    z = rng.normal(size=(20_000, d))
    z *= np.sqrt(2 * max_kl) / np.linalg.norm(z, axis=1, keepdims=True)
    boundary = np.linalg.solve(np.linalg.cholesky(A).T, z.T).T
    assert (boundary @ g).max() <= g @ step + 1e-12


def test_step_is_invariant_under_a_linear_change_of_coordinates():
    rng = np.random.default_rng(9)
    d = 4
    M = rng.normal(size=(d, d))
    F, g, theta = M @ M.T + 0.1 * np.eye(d), rng.normal(size=d), rng.normal(size=d)
    J = rng.normal(size=(d, d)) + 3 * np.eye(d)  # theta = J eta
    eta = np.linalg.solve(J, theta)
    new_eta = natural_gradient_step(eta, J.T @ g, J.T @ F @ J, 0.01)
    np.testing.assert_allclose(J @ new_eta, natural_gradient_step(theta, g, F, 0.01),
                               rtol=1e-10, atol=1e-12)


def test_step_edge_cases():
    # zero gradient: theta back, unchanged, even with a singular damped Fisher
    p = np.array([0.2, 0.3, 0.5])
    F_cat = np.diag(p) - np.outer(p, p)
    theta = np.array([1.0, -2.0, 0.5])
    out = natural_gradient_step(theta, np.zeros(3), F_cat, 0.01, 1e-3)
    assert out.dtype == np.float64 and np.array_equal(out, theta) and out is not theta
    # d = 1 by hand: A = 4, x = g / 4, alpha = sqrt(2 kl / (4 x^2))
    out = natural_gradient_step([1], [2], [[4]], 0.5)
    np.testing.assert_allclose(out, [1.0 + np.sqrt(2 * 0.5 / 4)], rtol=1e-14)
    # the inputs are not modified
    theta, g, F = np.array([0.1, 0.2]), np.array([1.0, -1.0]), np.eye(2)
    natural_gradient_step(theta, g, F, 0.1, 0.5)
    assert np.array_equal(theta, [0.1, 0.2]) and np.array_equal(g, [1.0, -1.0])
    assert np.array_equal(F, np.eye(2))
