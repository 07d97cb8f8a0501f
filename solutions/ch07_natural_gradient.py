"""Chapter 7, the natural policy gradient: reference solutions of exercises 7.1-7.3.

Each function's source is copied verbatim into the book and into filled notebooks,
so it may use only ``np`` (imported by the chapter notebook's first code cell).

Shapes follow the course notation: ``scores (N, d)`` holds one score vector per row,
``theta``, ``grad`` and ``v`` are ``(d,)``, a Fisher matrix is ``(d, d)``.
"""
import numpy as np


def fisher_vector_product(scores, v, damping=0.0):
    """The damped empirical Fisher times a vector, without forming the Fisher.

    The empirical Fisher of N score vectors is ``F_hat = scores.T @ scores / N``
    (exercise 2.1), a (d, d) matrix; this returns ``(F_hat + damping * I) @ v`` in
    O(N d) time and memory, never building a (d, d) array (with d = 30 000 that
    matrix alone would take 7.2 GB).

    Args:
        scores: array-like of shape (N, d), one score vector s_i per row; N >= 1.
        v: array-like of shape (d,).
        damping: a number >= 0, added to every eigenvalue of F_hat.

    Returns:
        np.ndarray of float64, shape (d,):
        ``scores.T @ (scores @ v) / N + damping * v``.
    """
    s = np.asarray(scores, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    # s @ v is (N,): the directional derivative of each log-likelihood along v.
    # Going back through s.T gives F_hat v without the (d, d) outer products.
    return s.T @ (s @ v) / s.shape[0] + damping * v


def conjugate_gradient(fvp, g, iters=10, tol=1e-10):
    """Approximately solve A x = g by conjugate gradient, A known only through fvp.

    A is symmetric positive-definite (for a natural gradient, a damped Fisher)
    and ``fvp(v)`` returns ``A @ v`` as an array of shape (d,). The iteration
    starts at x_0 = 0, so the first residual is r_0 = g and needs no call of
    fvp; each iteration calls fvp exactly once (on the search direction).

    Args:
        fvp: a callable, v (d,) -> A v (d,).
        g: array-like of shape (d,), the right-hand side.
        iters: the largest number of iterations (and of calls of fvp), >= 0.
        tol: stop as soon as the squared residual norm ``r @ r`` is below tol
            (checked before every iteration, so g with ``g @ g < tol``, for
            example g = 0, returns zeros without calling fvp).

    Returns:
        np.ndarray of float64, shape (d,): the CG iterate x_k after k <= iters
        iterations; the exact solution (up to rounding) once k reaches d.
    """
    g = np.asarray(g, dtype=np.float64)
    x = np.zeros_like(g)
    r = g.copy()  # residual g - A x, with x = 0
    p = r.copy()  # search direction
    rr = r @ r
    for _ in range(iters):
        if rr < tol:
            break
        Ap = np.asarray(fvp(p), dtype=np.float64)
        alpha = rr / (p @ Ap)  # exact minimiser of the A-norm error along p
        x = x + alpha * p
        r = r - alpha * Ap
        rr_new = r @ r
        # beta makes the next direction A-conjugate to every previous one.
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def natural_gradient_step(theta, grad, fisher, max_kl, damping=0.0):
    """One natural gradient ascent step whose quadratic KL model equals max_kl.

    With ``A = fisher + damping * I`` and ``x = A^{-1} grad`` (a linear solve,
    not an inverse), the step is ``alpha * x`` with
    ``alpha = sqrt(2 max_kl / (x @ A @ x))``, so that
    ``0.5 * step @ A @ step == max_kl``: the TRPO step without its line search.

    Args:
        theta: array-like of shape (d,), the current parameters.
        grad: array-like of shape (d,), the gradient of the objective at theta.
        fisher: array-like of shape (d, d), symmetric positive semi-definite;
            ``fisher + damping * I`` must be positive-definite.
        max_kl: the size delta > 0 of the step in the quadratic KL model.
        damping: a number >= 0 added to the diagonal of fisher.

    Returns:
        np.ndarray of float64, shape (d,): ``theta + alpha * x``; theta itself
        (as a new array) when grad is zero. The inputs are not modified.
    """
    theta = np.asarray(theta, dtype=np.float64)
    grad = np.asarray(grad, dtype=np.float64)
    A = np.asarray(fisher, dtype=np.float64) + damping * np.eye(theta.shape[0])
    x = np.linalg.solve(A, grad)
    quad = x @ A @ x  # = grad @ x, the squared length of grad in the metric A^{-1}
    if quad <= 0.0:  # grad = 0: there is no direction to move in
        return theta.copy()
    return theta + np.sqrt(2.0 * max_kl / quad) * x
