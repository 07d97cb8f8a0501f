"""Chapter 7 graders: fisher_vector_product (7.1), conjugate_gradient (7.2),
natural_gradient_step (7.3).

Inputs come from fixed seeds and cover the contract: several random inputs (one with
N = d), d = 1, N = 1, lists of ints, zero vectors, large and small magnitudes, singular
Fishers made positive-definite by damping, and inputs that must come back unchanged.

7.1 has a case with d = 30 000: forming the d x d Fisher would take 7.2 GB, more than the
sandbox's 3 GB, so only an implementation that never forms it passes; the case's label
says so, and it is what the student reads next to a MemoryError.

7.2 never sees a matrix: a case is the probe ``counted_fvp_solve`` of
:mod:`autograder.probes`, which builds a symmetric positive-definite A from a seed and its
eigenvalues inside the sandbox, hands the exercise ``fvp(v) = A v`` and returns the
solution with the number of calls. The k-th conjugate gradient iterate is unique (it
minimises the A-norm of the error over the Krylov space of dimension k), so every correct
implementation agrees with the reference up to rounding after any number of iterations,
and steepest descent, Jacobi or an iteration too many do not. One extra call of fvp (for an
initial residual g - A x_0 computed with it) is allowed; more calls than that are not.
"""
from __future__ import annotations

import numpy as np

from autograder.checks import (as_array, close, compare_arrays, describe_type, leaves_arrays_unchanged,
                               matches_reference, softmax)
from autograder.probes import spd_matrix
from autograder.spec import Case, Check, Chapter, Exercise, Hint, Outcome


def _floats(v) -> np.ndarray:
    return np.asarray(v, dtype=np.float64)


# --- 7.1 fisher_vector_product ---------------------------------------------------------------

def _fvp_case(scores, v, damping=None, note="", observe=False) -> Case:
    s, w = np.asarray(scores), np.asarray(v)
    label = f"scores of shape {s.shape}, v of shape {w.shape}"
    if damping is None:
        args = (scores, v)
        label += " (damping left at its default)"
    else:
        args = (scores, v, damping)
        label += f", damping={damping!r}"
    return Case(args, label + (f" ({note})" if note else ""), observe_args=observe)


BIG_D = 30_000
BIG_NOTE = (f"d = {BIG_D}: the {BIG_D} x {BIG_D} Fisher matrix would take 7.2 GB, more than the "
            "grader's 3 GB memory limit; compute scores.T @ (scores @ v) / N + damping * v, "
            "which never forms it")


def fisher_vector_product_checks() -> list[Check]:
    rng = np.random.default_rng(7001)
    random = [  # N = d first: transposing the wrong factor then gives a wrong value
        _fvp_case(rng.normal(size=(4, 4)), rng.normal(size=4), 0.0, "N = d"),
        _fvp_case(rng.normal(size=(50, 3)), rng.normal(size=3), 0.0),
        _fvp_case(rng.normal(size=(3, 6)), rng.normal(size=6), 0.0, "N < d: F is singular"),
        _fvp_case(rng.normal(1.0, 2.0, (20, 5)), rng.normal(size=5), None),
    ]
    damped = [
        _fvp_case(rng.normal(size=(30, 4)), rng.normal(size=4), 0.1),
        _fvp_case(rng.normal(size=(2, 5)), rng.normal(size=5), 1e-3, "N < d"),
        _fvp_case(rng.normal(size=(10, 3)), rng.normal(size=3), 2, "damping an int"),
    ]
    small = [
        _fvp_case(rng.normal(size=(1, 3)), rng.normal(size=3), 0.5, "N = 1"),
        _fvp_case(rng.normal(size=(25, 1)), rng.normal(size=1), 0.0, "d = 1"),
        _fvp_case(rng.normal(size=(1, 1)), rng.normal(size=1), 0.25, "N = 1, d = 1"),
        _fvp_case(rng.normal(size=(6, 3)), np.zeros(3), 0.5, "v = 0"),
        Case(([[1, 0], [0, 2], [1, -1]], [1, 1], 1),
             "scores=[[1, 0], [0, 2], [1, -1]], v=[1, 1], damping=1 (lists of ints)"),
    ]
    large = [
        _fvp_case(rng.normal(0.0, 1e3, (20, 3)), rng.normal(0.0, 1e3, 3), 1e2,
                  "scores and v of magnitude 1e3"),
        _fvp_case(rng.normal(0.0, 1e-4, (15, 4)), rng.normal(size=4), 1e-9,
                  "scores of magnitude 1e-4"),
    ]
    unchanged = [_fvp_case(rng.normal(size=(8, 3)), rng.normal(size=3), 0.3,
                           "scores and v must come back unchanged", observe=True)]
    big = [_fvp_case(rng.normal(size=(4, BIG_D)), rng.normal(size=BIG_D), 0.01, BIG_NOTE)]
    judge = matches_reference()
    return [
        Check("values on random batches", random, judge, points=2),
        Check("damping", damped, judge),
        Check("N = 1, d = 1, v = 0 and lists", small, judge),
        Check("large and small magnitudes", large, judge),
        Check("inputs are not modified", unchanged, leaves_arrays_unchanged()),
        Check(f"d = {BIG_D} without forming the d x d Fisher", big, judge, points=2),
    ]


def _fvp_parts(args):
    s, v = _floats(args[0]), _floats(args[1])
    damping = float(args[2]) if len(args) > 2 else 0.0
    return s, v, damping


def _fvp_variant(args, divide=None, center=False, damping_term="v"):
    s, v, damping = _fvp_parts(args)
    n = s.shape[0]
    if center:
        s = s - s.mean(axis=0)
    fv = s.T @ (s @ v) / (n if divide is None else divide(n))
    extra = {"v": damping * v, "none": 0.0, "ones": damping * v.sum(), "scalar": damping,
             "squared": damping**2 * v}[damping_term]
    return fv + extra


def _fvp_hint(text, **variant):
    return Hint(text, lambda args, got, exp: close(got, _fvp_variant(args, **variant)))


FISHER_VECTOR_PRODUCT_HINTS = [
    _fvp_hint("you summed over the samples; the empirical Fisher is their mean: divide by N",
              divide=lambda n: 1.0),
    _fvp_hint("you divided by N - 1; the empirical Fisher divides by N (it is the uncentred "
              "mean of s_i s_i^T, not a sample covariance)", divide=lambda n: max(n - 1, 1)),
    _fvp_hint("the scores were centred (their mean subtracted): the empirical Fisher of "
              "exercise 2.1 is the uncentred mean of s_i s_i^T", center=True),
    _fvp_hint("the damping is missing: add damping * v", damping_term="none"),
    _fvp_hint("damping was added to every entry of F (F + damping * ones); the damped Fisher "
              "is F + damping * I, whose product with v adds damping * v",
              damping_term="ones"),
    _fvp_hint("damping was added as a number to every entry of F v; (F + damping I) v adds "
              "damping * v", damping_term="scalar"),
    _fvp_hint("the damping was squared: add damping * v", damping_term="squared"),
    Hint("the result has shape (d, d): that is the Fisher itself; multiply it by v, or better, "
         "never form it: scores.T @ (scores @ v) / N",
         lambda args, got, exp: as_array(got).ndim == 2),
]


# --- 7.2 conjugate_gradient -------------------------------------------------------------------

def _log_eigs(rng, d, condition):
    """d eigenvalues from 1 to condition, log-spaced, in random order."""
    return rng.permutation(np.logspace(0.0, np.log10(condition), d))


def _cg_case(seed, eigs, g, iters=None, tol=None, note="") -> Case:
    eigs = np.asarray(eigs, dtype=np.float64)
    d = eigs.shape[0]
    cond = eigs.max() / eigs.min()
    gd = np.asarray(g)
    label = (f"fvp(v) = A v with A symmetric positive-definite, d = {d}, condition number "
             f"{cond:.3g}; g of shape {gd.shape}")
    label += ", iters left at its default (10)" if iters is None else f", iters={iters}"
    label += ", tol left at its default (1e-10)" if tol is None else f", tol={tol:g}"
    return Case((seed, eigs, g, iters, tol), label + (f" ({note})" if note else ""),
                op="probe:counted_fvp_solve")


def _limit(case) -> int:
    iters = case.args[3]
    return 10 if iters is None else int(iters)


def _parse_solution(got) -> tuple[object, int] | None:
    value = got.value
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], int):
        return value
    return None


def cg_judge(rtol: float = 1e-6, check_calls: str = "iters"):
    """The returned x is within ``rtol`` of the reference in Euclidean norm (relative), has
    shape (d,) and dtype float64, and fvp was called at most iters + 1 times (or, with
    ``check_calls="reference"``, at most once more than the reference: early stopping)."""
    def judge(case, got, expected, args) -> Outcome:
        parsed = _parse_solution(got)
        want, want_calls = expected
        if parsed is None:
            return Outcome(False, "the solution could not be read back")
        x, calls = parsed
        if not isinstance(x, np.ndarray):
            return Outcome(False, f"expected an np.ndarray, got {describe_type(x)}")
        limit = _limit(case) if check_calls == "iters" else want_calls
        if calls > limit + 1:
            why = ("one call per iteration, at most iters iterations" if check_calls == "iters"
                   else f"a correct solver stops once r @ r < tol, after {want_calls} calls "
                        "here: check the squared residual norm every iteration")
            return Outcome(False, f"fvp was called {calls} times, more than {limit} ({why}); "
                                  "one extra call for an initial residual is tolerated")
        outcome = compare_arrays(x, want, rtol=0.0, atol=np.inf)  # type, shape, dtype
        if not outcome.passed:
            return outcome
        error = np.linalg.norm(x - want)
        if not error <= rtol * max(np.linalg.norm(want), 1e-300):
            return Outcome(False, f"x differs from the expected iterate: relative error "
                                  f"{error / max(np.linalg.norm(want), 1e-300):.3g} "
                                  f"(tolerance {rtol:g}); expected {_short(want)}, got {_short(x)}")
        if np.linalg.norm(want) == 0 and np.any(x != 0):
            return Outcome(False, f"expected zeros, got {_short(x)}")
        return Outcome(True)

    return judge


def _short(x) -> str:
    from autograder.checks import summarise

    return summarise(np.asarray(x))


def conjugate_gradient_checks() -> list[Check]:
    rng = np.random.default_rng(7002)

    def case(d, condition, iters=None, tol=None, note="", g_scale=1.0, eig_scale=1.0,
             g_as_list=False):
        seed = int(rng.integers(2**31))
        g = g_scale * rng.normal(size=d)
        g = [float(v) for v in g] if g_as_list else g
        return _cg_case(seed, eig_scale * _log_eigs(rng, d, condition), g, iters, tol, note)

    exact = [  # iters >= d: the exact solution (tol tiny, so every iteration runs)
        case(5, 10.0, iters=5, tol=1e-30, note="iters = d"),
        case(8, 100.0, iters=16, tol=1e-30),
        case(12, 1e4, iters=60, tol=1e-30, note="ill-conditioned"),
    ]
    partial = [  # iters < d: the k-th CG iterate, which no other method reproduces
        case(10, 100.0, iters=1, tol=1e-30, note="one iteration"),
        case(10, 100.0, iters=3, tol=1e-30),
        case(20, 1e4, iters=5, tol=1e-30, note="ill-conditioned"),
        case(30, 1e3, note="iters and tol at their defaults"),
    ]
    # Three distinct eigenvalues: CG is exact after 3 iterations, r @ r then drops to ~1e-30.
    three = np.repeat([1.0, 5.0, 20.0], 4)
    stop = [
        _cg_case(int(rng.integers(2**31)), three, rng.normal(size=12), 50, 1e-12,
                 "A has 3 distinct eigenvalues: CG is exact after 3 iterations and must stop"),
        case(15, 10.0, iters=100, tol=1e-2, note="a loose tol: stop as soon as r @ r < tol"),
    ]
    edge = [
        _cg_case(int(rng.integers(2**31)), _log_eigs(rng, 6, 100.0), np.zeros(6), 10, None,
                 "g = 0: x = 0 at once, no 0/0"),
        case(1, 1.0, iters=3, note="d = 1", eig_scale=3.5),
        case(4, 10.0, iters=0, tol=1e-30, note="iters = 0: no iteration, x = 0"),
        case(6, 50.0, iters=6, tol=1e-30, note="g a list of floats", g_as_list=True),
    ]
    scale = [
        case(8, 1e2, iters=4, tol=1e-30, note="A of magnitude 1e6, g of magnitude 1e3",
             g_scale=1e3, eig_scale=1e6),
        case(8, 1e2, iters=20, tol=1e-40, note="A of magnitude 1e-4, g of magnitude 1e-6",
             g_scale=1e-6, eig_scale=1e-4),
    ]
    judge = cg_judge()
    return [
        Check("the exact solution when iters >= d", exact, judge, points=2),
        Check("the k-th conjugate gradient iterate when iters = k < d", partial, judge, points=2),
        Check("early stopping once r @ r < tol", stop, cg_judge(check_calls="reference")),
        Check("g = 0, d = 1, iters = 0 and a list", edge, judge),
        Check("large and small magnitudes", scale, judge),
    ]


def _matrix(args):
    return spd_matrix(args[0], args[1])


def _variant_iterate(args, k, method="cg", beta_inverted=False, alpha_plain=False,
                     no_update_direction=False):
    """The k-th iterate of a (possibly wrong) iteration, for the hint detectors."""
    A, g = _matrix(args), _floats(args[2])
    if method == "jacobi":
        x = np.zeros_like(g)
        for _ in range(k):
            x = x + (g - A @ x) / np.diag(A)
        return x
    x, r = np.zeros_like(g), g.copy()
    p, rr = r.copy(), r @ r
    for _ in range(k):
        if rr == 0:
            break
        direction = r if method == "steepest" else p
        Ap = A @ direction
        alpha = rr / (direction @ direction if alpha_plain else direction @ Ap)
        if method == "steepest":
            alpha = (r @ r) / (r @ Ap)
        x = x + alpha * direction
        r = r - alpha * Ap
        rr_new = r @ r
        if not no_update_direction:
            p = r + ((rr / rr_new) if beta_inverted else (rr_new / rr)) * p
        rr = rr_new
    return x


def _cg_hint(text, offset=0, **variant):
    def applies(args, got, exp):
        x = got[0]
        k = (10 if args[3] is None else int(args[3])) + offset
        want = exp[0]
        if k < 0 or close(x, want):
            return False
        return close(x, _variant_iterate(args, k, **variant), rtol=1e-5, atol=1e-12)

    return Hint(text, applies)


CONJUGATE_GRADIENT_HINTS = [
    _cg_hint("that is steepest descent (each step along the residual r); conjugate gradient "
             "steps along p = r + beta p, with beta = (r_new @ r_new) / (r @ r)",
             method="steepest"),
    _cg_hint("that is the Jacobi iteration, which needs the diagonal of A; conjugate gradient "
             "uses only products A p", method="jacobi"),
    _cg_hint("the search direction is never updated: after each step set p = r + beta p "
             "with beta = (r_new @ r_new) / (r @ r)", no_update_direction=True),
    _cg_hint("beta is inverted: beta = (r_new @ r_new) / (r_old @ r_old)", beta_inverted=True),
    _cg_hint("the step length uses p @ p; it is alpha = (r @ r) / (p @ A p)", alpha_plain=True),
    _cg_hint("that is the iterate after one iteration more than iters", offset=1),
    _cg_hint("that is the iterate after one iteration fewer than iters", offset=-1),
    Hint("the result has the wrong sign: A x = g, so x moves along +g at the first step",
         lambda args, got, exp: close(got[0], -as_array(exp[0])) and not close(exp[0], 0 * exp[0])),
]


# --- 7.3 natural_gradient_step ----------------------------------------------------------------

def _spd(rng, d, singular=False, scale=1.0):
    """A random Fisher-like matrix: the empirical Fisher of 2d scores (or d - 1: singular)."""
    n = d - 1 if singular else 2 * d
    s = rng.normal(size=(max(n, 1), d))
    return scale * s.T @ s / max(n, 1)


def _step_case(theta, grad, fisher, max_kl, damping=None, note="", observe=False) -> Case:
    t, f = np.asarray(theta), np.asarray(fisher)
    label = f"theta of shape {t.shape}, grad of shape {np.asarray(grad).shape}, fisher of " \
            f"shape {f.shape}, max_kl={max_kl!r}"
    args = (theta, grad, fisher, max_kl)
    if damping is None:
        label += " (damping left at its default)"
    else:
        args += (damping,)
        label += f", damping={damping!r}"
    return Case(args, label + (f" ({note})" if note else ""), observe_args=observe)


def _categorical_fisher(logits):
    p = softmax(logits)
    return np.diag(p) - np.outer(p, p)


def natural_gradient_step_checks() -> list[Check]:
    rng = np.random.default_rng(7003)

    def random(d, max_kl=0.01, damping=0.0, note="", **kw):
        return _step_case(rng.normal(size=d), rng.normal(size=d), _spd(rng, d, **kw), max_kl,
                          damping, note)

    values = [
        random(2),
        random(3, 0.05),
        random(5, 1e-3, note="d = 5"),
        _step_case(rng.normal(size=4), rng.normal(size=4), _spd(rng, 4), 0.02, None),
    ]
    damped = [
        random(4, 0.01, damping=0.1),
        random(5, 0.01, damping=1e-2, note="singular Fisher (rank 4), damped", singular=True),
        _step_case(rng.normal(size=3), rng.normal(size=3),
                   _categorical_fisher(rng.normal(size=3)), 0.01, 1e-3,
                   "the categorical Fisher of chapter 2: singular along (1, 1, 1)"),
        random(3, 0.01, damping=1, note="damping an int"),
    ]
    edge = [
        _step_case(rng.normal(size=3), np.zeros(3), _spd(rng, 3), 0.01, 0.0,
                   "grad = 0: theta comes back unchanged"),
        _step_case(rng.normal(size=3), np.zeros(3), _categorical_fisher(rng.normal(size=3)),
                   0.01, 1e-2, "grad = 0 with a singular, damped Fisher"),
        _step_case(rng.normal(size=1), rng.normal(size=1), np.array([[2.5]]), 0.1, 0.0,
                   "d = 1"),
        Case(([0, 1], [1, -2], [[2, 0], [0, 1]], 0.5),
             "theta=[0, 1], grad=[1, -2], fisher=[[2, 0], [0, 1]], max_kl=0.5 (lists of ints)"),
    ]
    scale = [
        random(3, 1e-8, note="fisher of magnitude 1e6, max_kl = 1e-8", scale=1e6),
        _step_case(rng.normal(size=3), 1e-6 * rng.normal(size=3), 1e-4 * _spd(rng, 3),
                   1e-3, 0.0, "grad of magnitude 1e-6, fisher of magnitude 1e-4"),
        _step_case(1e3 * rng.normal(size=3), 1e4 * rng.normal(size=3), _spd(rng, 3), 0.01,
                   0.0, "theta of magnitude 1e3, grad of magnitude 1e4"),
    ]
    unchanged = [_step_case(rng.normal(size=3), rng.normal(size=3), _spd(rng, 3), 0.01, 0.1,
                            "theta, grad and fisher must come back unchanged", observe=True)]
    judge = matches_reference()
    return [
        Check("values on random inputs", values, judge, points=2),
        Check("damping, singular Fishers included", damped, judge, points=2),
        Check("grad = 0, d = 1 and lists", edge, judge),
        Check("large and small magnitudes", scale, judge),
        Check("inputs are not modified", unchanged, leaves_arrays_unchanged()),
    ]


def _step_parts(args):
    theta, grad = _floats(args[0]), _floats(args[1])
    fisher = _floats(args[2])
    max_kl = float(args[3])
    damping = float(args[4]) if len(args) > 4 else 0.0
    return theta, grad, fisher, max_kl, damping


def _step_variant(args, direction="natural", kl_factor=2.0, sqrt=True, norm="damped",
                  solve="damped", sign=1.0, add_theta=True):
    theta, grad, fisher, max_kl, damping = _step_parts(args)
    damped = fisher + damping * np.eye(theta.shape[0])
    if direction == "natural":
        x = np.linalg.solve(damped if solve == "damped" else fisher, grad)
    else:
        x = grad
    metric = {"damped": damped, "undamped": fisher, "identity": np.eye(theta.shape[0])}[norm]
    quad = x @ metric @ x
    ratio = kl_factor * max_kl / quad
    alpha = np.sqrt(ratio) if sqrt else ratio
    step = sign * alpha * x
    return theta + step if add_theta else step


def _step_hint(text, **variant):
    def applies(args, got, exp):
        return close(got, _step_variant(args, **variant))

    return Hint(text, applies)


NATURAL_GRADIENT_STEP_HINTS = [
    _step_hint("you returned the step alone; the function returns the new parameters "
               "theta + step", add_theta=False),
    _step_hint("the step goes the wrong way: this is ascent, theta + alpha * x",
               sign=-1.0),
    _step_hint("that is the vanilla gradient rescaled to the KL size: the direction must be "
               "x = (fisher + damping I)^{-1} grad, the natural gradient",
               direction="vanilla"),
    _step_hint("the step length misses the square root: alpha = sqrt(2 max_kl / (x @ A @ x))",
               sqrt=False),
    _step_hint("the factor 2 is missing: 0.5 * step @ A @ step = max_kl gives "
               "alpha = sqrt(2 max_kl / (x @ A @ x))", kl_factor=1.0),
    _step_hint("the step length uses the Euclidean norm x @ x; the KL model measures it in "
               "the Fisher: x @ A @ x", norm="identity"),
    _step_hint("the step length ignores the damping: use A = fisher + damping I both in the "
               "solve and in x @ A @ x", norm="undamped"),
    Hint("the damping is missing from the solve: x = (fisher + damping I)^{-1} grad",
         lambda args, got, exp: _step_parts(args)[4] > 0 and abs(np.linalg.det(
             _step_parts(args)[2])) > 1e-10 and close(got, _step_variant(args, solve="fisher"))),
    Hint("a nan (or inf) came out where grad = 0: x = 0 then, and alpha = sqrt(2 max_kl / 0); "
         "return theta unchanged when grad is zero",
         lambda args, got, exp: not np.any(_step_parts(args)[1])
         and not np.all(np.isfinite(as_array(got)))),
]


CHAPTER = Chapter(
    slug="07_natural_gradient",
    number=7,
    title="The natural policy gradient",
    solutions_module="solutions.ch07_natural_gradient",
    exercises=[
        Exercise("7.1", "fisher_vector_product", fisher_vector_product_checks,
                 FISHER_VECTOR_PRODUCT_HINTS, timeout=20),
        Exercise("7.2", "conjugate_gradient", conjugate_gradient_checks,
                 CONJUGATE_GRADIENT_HINTS, timeout=20),
        Exercise("7.3", "natural_gradient_step", natural_gradient_step_checks,
                 NATURAL_GRADIENT_STEP_HINTS, timeout=20),
    ],
)
