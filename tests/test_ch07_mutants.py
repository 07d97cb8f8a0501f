"""Mutation testing of the chapter 7 grader (the harness: tests/mutation.py)."""
from __future__ import annotations

from mutation import Impl, define_tests

IMPORTS = "import numpy as np"


# --- 7.1 fisher_vector_product ----------------------------------------------------------------

FVP = "fisher_vector_product"

FVP_MUTANTS = [
    Impl("sum-not-mean", FVP, """
        def fisher_vector_product(scores, v, damping=0.0):
            s, v = np.asarray(scores, dtype=float), np.asarray(v, dtype=float)
            return s.T @ (s @ v) + damping * v
        """, expect="you summed over the samples"),
    Impl("divides-by-n-minus-1", FVP, """
        def fisher_vector_product(scores, v, damping=0.0):
            s, v = np.asarray(scores, dtype=float), np.asarray(v, dtype=float)
            return s.T @ (s @ v) / max(len(s) - 1, 1) + damping * v
        """, expect="you divided by N - 1"),
    Impl("centred-scores", FVP, """
        def fisher_vector_product(scores, v, damping=0.0):
            s, v = np.asarray(scores, dtype=float), np.asarray(v, dtype=float)
            s = s - s.mean(axis=0)
            return s.T @ (s @ v) / len(s) + damping * v
        """, expect="the scores were centred"),
    Impl("no-damping", FVP, """
        def fisher_vector_product(scores, v, damping=0.0):
            s, v = np.asarray(scores, dtype=float), np.asarray(v, dtype=float)
            return s.T @ (s @ v) / len(s)
        """, expect="the damping is missing"),
    Impl("damping-on-every-entry", FVP, """
        def fisher_vector_product(scores, v, damping=0.0):
            s, v = np.asarray(scores, dtype=float), np.asarray(v, dtype=float)
            F = s.T @ s / len(s) + damping
            return F @ v
        """, expect="damping was added to every entry of F"),
    Impl("forms-the-fisher", FVP, """
        def fisher_vector_product(scores, v, damping=0.0):
            s, v = np.asarray(scores, dtype=float), np.asarray(v, dtype=float)
            F = s.T @ s / len(s) + damping * np.eye(s.shape[1])
            return F @ v
        """, expect="7.2 GB, more than the grader's 3 GB memory limit"),
    Impl("returns-the-fisher", FVP, """
        def fisher_vector_product(scores, v, damping=0.0):
            s = np.asarray(scores, dtype=float)
            return s.T @ s / len(s) + damping * np.eye(s.shape[1])
        """, expect="that is the Fisher itself"),
    Impl("returns-float32", FVP, """
        def fisher_vector_product(scores, v, damping=0.0):
            s, v = np.asarray(scores, dtype=np.float32), np.asarray(v, dtype=np.float32)
            return s.T @ (s @ v) / len(s) + np.float32(damping) * v
        """, expect="expected dtype float64, got float32"),
    Impl("damps-v-in-place", FVP, """
        def fisher_vector_product(scores, v, damping=0.0):
            s, v = np.asarray(scores, dtype=float), np.asarray(v, dtype=float)
            out = s.T @ (s @ v) / len(s)
            v *= damping
            return out + v
        """, expect="was modified in place"),
    Impl("no-asarray-lists-fail", FVP, """
        def fisher_vector_product(scores, v, damping=0.0):
            return scores.T @ (scores @ v) / len(scores) + damping * v
        """, expect="[FAIL] N = 1, d = 1, v = 0 and lists"),
]

FVP_CORRECT = [
    Impl("loop-over-samples", FVP, """
        def fisher_vector_product(scores, v, damping=0.0):
            v = np.asarray(v, dtype=float)
            total = np.zeros_like(v)
            rows = np.asarray(scores, dtype=float)
            for s_i in rows:
                total += s_i * (s_i @ v)
            return total / len(rows) + damping * v
        """),
    Impl("einsum", FVP, """
        def fisher_vector_product(scores, v, damping=0.0):
            s, v = np.asarray(scores, dtype=float), np.asarray(v, dtype=float)
            return np.einsum("ni,n->i", s, s @ v) / s.shape[0] + damping * v
        """),
    Impl("row-vector-form", FVP, """
        def fisher_vector_product(scores, v, damping=0.0):
            s = np.array(scores, dtype=np.float64)
            w = np.array(v, dtype=np.float64)
            return np.add((w @ s.T) @ s / len(s), np.multiply(damping, w))
        """),
]


# --- 7.2 conjugate_gradient -------------------------------------------------------------------

CG = "conjugate_gradient"

CG_MUTANTS = [
    Impl("steepest-descent", CG, """
        def conjugate_gradient(fvp, g, iters=10, tol=1e-10):
            g = np.asarray(g, dtype=float)
            x, r = np.zeros_like(g), g.copy()
            for _ in range(iters):
                if r @ r < tol:
                    break
                Ar = fvp(r)
                alpha = (r @ r) / (r @ Ar)
                x = x + alpha * r
                r = r - alpha * Ar
            return x
        """, expect="that is steepest descent"),
    Impl("direction-never-updated", CG, """
        def conjugate_gradient(fvp, g, iters=10, tol=1e-10):
            g = np.asarray(g, dtype=float)
            x, r = np.zeros_like(g), g.copy()
            p, rr = r.copy(), r @ r
            for _ in range(iters):
                if rr < tol:
                    break
                Ap = fvp(p)
                alpha = rr / (p @ Ap)
                x = x + alpha * p
                r = r - alpha * Ap
                rr = r @ r
            return x
        """, expect="the search direction is never updated"),
    Impl("beta-inverted", CG, """
        def conjugate_gradient(fvp, g, iters=10, tol=1e-10):
            g = np.asarray(g, dtype=float)
            x, r = np.zeros_like(g), g.copy()
            p, rr = r.copy(), r @ r
            for _ in range(iters):
                if rr < tol:
                    break
                Ap = fvp(p)
                alpha = rr / (p @ Ap)
                x = x + alpha * p
                r = r - alpha * Ap
                rr_new = r @ r
                p = r + (rr / rr_new) * p
                rr = rr_new
            return x
        """, expect="beta is inverted"),
    Impl("alpha-with-p-dot-p", CG, """
        def conjugate_gradient(fvp, g, iters=10, tol=1e-10):
            g = np.asarray(g, dtype=float)
            x, r = np.zeros_like(g), g.copy()
            p, rr = r.copy(), r @ r
            for _ in range(iters):
                if rr < tol:
                    break
                Ap = fvp(p)
                alpha = rr / (p @ p)
                x = x + alpha * p
                r = r - alpha * Ap
                rr_new = r @ r
                p = r + (rr_new / rr) * p
                rr = rr_new
            return x
        """, expect="the step length uses p @ p"),
    Impl("one-iteration-too-many", CG, """
        def conjugate_gradient(fvp, g, iters=10, tol=1e-10):
            g = np.asarray(g, dtype=float)
            x, r = np.zeros_like(g), g.copy()
            p, rr = r.copy(), r @ r
            for _ in range(iters + 1):
                if rr < tol:
                    break
                Ap = fvp(p)
                alpha = rr / (p @ Ap)
                x = x + alpha * p
                r = r - alpha * Ap
                rr_new = r @ r
                p = r + (rr_new / rr) * p
                rr = rr_new
            return x
        """, expect="one iteration more than iters"),
    Impl("no-early-stopping", CG, """
        def conjugate_gradient(fvp, g, iters=10, tol=1e-10):
            g = np.asarray(g, dtype=float)
            x, r = np.zeros_like(g), g.copy()
            p, rr = r.copy(), r @ r
            if rr == 0:
                return x
            for _ in range(iters):
                Ap = fvp(p)
                alpha = rr / (p @ Ap)
                x = x + alpha * p
                r = r - alpha * Ap
                rr_new = r @ r
                p = r + (rr_new / rr) * p
                rr = rr_new
            return x
        """, expect="a correct solver stops once r @ r < tol"),
    Impl("residual-recomputed-with-an-extra-call", CG, """
        def conjugate_gradient(fvp, g, iters=10, tol=1e-10):
            g = np.asarray(g, dtype=float)
            x = np.zeros_like(g)
            r = g - fvp(x)
            p, rr = r.copy(), r @ r
            for _ in range(iters):
                if rr < tol:
                    break
                Ap = fvp(p)
                alpha = rr / (p @ Ap)
                x = x + alpha * p
                r = g - fvp(x)  # exact residual, but a second product per iteration
                rr_new = r @ r
                p = r + (rr_new / rr) * p
                rr = rr_new
            return x
        """, expect="fvp was called"),
    Impl("zero-g-divides-by-zero", CG, """
        def conjugate_gradient(fvp, g, iters=10, tol=1e-10):
            g = np.asarray(g, dtype=float)
            x, r = np.zeros_like(g), g.copy()
            p, rr = r.copy(), r @ r
            for _ in range(iters):
                Ap = fvp(p)
                alpha = rr / (p @ Ap)
                x = x + alpha * p
                r = r - alpha * Ap
                rr_new = r @ r
                p = r + (rr_new / rr) * p
                rr = rr_new
                if rr < tol:
                    break
            return x
        """, expect="no 0/0"),
    Impl("wrong-sign", CG, """
        def conjugate_gradient(fvp, g, iters=10, tol=1e-10):
            g = np.asarray(g, dtype=float)
            x, r = np.zeros_like(g), g.copy()
            p, rr = r.copy(), r @ r
            for _ in range(iters):
                if rr < tol:
                    break
                Ap = fvp(p)
                alpha = rr / (p @ Ap)
                x = x - alpha * p
                r = r - alpha * Ap
                rr_new = r @ r
                p = r + (rr_new / rr) * p
                rr = rr_new
            return x
        """, expect="the result has the wrong sign"),
    Impl("returns-list", CG, """
        def conjugate_gradient(fvp, g, iters=10, tol=1e-10):
            g = np.asarray(g, dtype=float)
            x, r = np.zeros_like(g), g.copy()
            p, rr = r.copy(), r @ r
            for _ in range(iters):
                if rr < tol:
                    break
                Ap = fvp(p)
                alpha = rr / (p @ Ap)
                x = x + alpha * p
                r = r - alpha * Ap
                rr_new = r @ r
                p = r + (rr_new / rr) * p
                rr = rr_new
            return list(x)
        """, expect="expected an np.ndarray, got list"),
]

CG_CORRECT = [
    Impl("baselines-style-check-after-update", CG, """
        def conjugate_gradient(fvp, g, iters=10, tol=1e-10):
            b = np.array(g, dtype=np.float64)
            x = np.zeros_like(b)
            if b.dot(b) < tol:
                return x
            r, p = b.copy(), b.copy()
            rdotr = r.dot(r)
            for i in range(iters):
                z = fvp(p)
                v = rdotr / p.dot(z)
                x += v * p
                r -= v * z
                newrdotr = r.dot(r)
                mu = newrdotr / rdotr
                p = r + mu * p
                rdotr = newrdotr
                if rdotr < tol:
                    break
            return x
        """),
    Impl("polak-ribiere-beta-and-r-dot-p-alpha", CG, """
        def conjugate_gradient(fvp, g, iters=10, tol=1e-10):
            g = np.asarray(g, dtype=float)
            x, r = np.zeros(len(g)), g.copy()
            p = r.copy()
            k = 0
            while k < iters and r @ r >= tol:
                Ap = np.asarray(fvp(p))
                alpha = (r @ p) / (p @ Ap)
                x += alpha * p
                r_new = r - alpha * Ap
                beta = r_new @ (r_new - r) / (r @ r)
                p = r_new + beta * p
                r = r_new
                k += 1
            return x
        """),
    Impl("initial-residual-with-a-call", CG, """
        def conjugate_gradient(fvp, g, iters=10, tol=1e-10):
            g = np.asarray(g, dtype=float)
            x = np.zeros_like(g)
            r = g - fvp(x)
            p = r.copy()
            for _ in range(iters):
                rr = r @ r
                if rr < tol:
                    break
                Ap = fvp(p)
                alpha = rr / (p @ Ap)
                x = x + alpha * p
                r = r - alpha * Ap
                p = r + (r @ r / rr) * p
            return x
        """),
]


# --- 7.3 natural_gradient_step ----------------------------------------------------------------

NG = "natural_gradient_step"

NG_MUTANTS = [
    Impl("returns-the-step", NG, """
        def natural_gradient_step(theta, grad, fisher, max_kl, damping=0.0):
            g = np.asarray(grad, dtype=float)
            A = np.asarray(fisher, dtype=float) + damping * np.eye(len(g))
            x = np.linalg.solve(A, g)
            if not np.any(g):
                return np.zeros_like(g)
            return np.sqrt(2 * max_kl / (x @ A @ x)) * x
        """, expect="you returned the step alone"),
    Impl("descent", NG, """
        def natural_gradient_step(theta, grad, fisher, max_kl, damping=0.0):
            theta, g = np.asarray(theta, dtype=float), np.asarray(grad, dtype=float)
            A = np.asarray(fisher, dtype=float) + damping * np.eye(len(g))
            x = np.linalg.solve(A, g)
            if not np.any(g):
                return theta.copy()
            return theta - np.sqrt(2 * max_kl / (x @ A @ x)) * x
        """, expect="the step goes the wrong way"),
    Impl("vanilla-direction", NG, """
        def natural_gradient_step(theta, grad, fisher, max_kl, damping=0.0):
            theta, g = np.asarray(theta, dtype=float), np.asarray(grad, dtype=float)
            A = np.asarray(fisher, dtype=float) + damping * np.eye(len(g))
            if not np.any(g):
                return theta.copy()
            return theta + np.sqrt(2 * max_kl / (g @ A @ g)) * g
        """, expect="the vanilla gradient rescaled to the KL size"),
    Impl("no-square-root", NG, """
        def natural_gradient_step(theta, grad, fisher, max_kl, damping=0.0):
            theta, g = np.asarray(theta, dtype=float), np.asarray(grad, dtype=float)
            A = np.asarray(fisher, dtype=float) + damping * np.eye(len(g))
            x = np.linalg.solve(A, g)
            if not np.any(g):
                return theta.copy()
            return theta + 2 * max_kl / (x @ A @ x) * x
        """, expect="misses the square root"),
    Impl("factor-two-missing", NG, """
        def natural_gradient_step(theta, grad, fisher, max_kl, damping=0.0):
            theta, g = np.asarray(theta, dtype=float), np.asarray(grad, dtype=float)
            A = np.asarray(fisher, dtype=float) + damping * np.eye(len(g))
            x = np.linalg.solve(A, g)
            if not np.any(g):
                return theta.copy()
            return theta + np.sqrt(max_kl / (x @ A @ x)) * x
        """, expect="the factor 2 is missing"),
    Impl("euclidean-length", NG, """
        def natural_gradient_step(theta, grad, fisher, max_kl, damping=0.0):
            theta, g = np.asarray(theta, dtype=float), np.asarray(grad, dtype=float)
            A = np.asarray(fisher, dtype=float) + damping * np.eye(len(g))
            x = np.linalg.solve(A, g)
            if not np.any(g):
                return theta.copy()
            return theta + np.sqrt(2 * max_kl / (x @ x)) * x
        """, expect="uses the Euclidean norm"),
    Impl("undamped-length", NG, """
        def natural_gradient_step(theta, grad, fisher, max_kl, damping=0.0):
            theta, g = np.asarray(theta, dtype=float), np.asarray(grad, dtype=float)
            F = np.asarray(fisher, dtype=float)
            x = np.linalg.solve(F + damping * np.eye(len(g)), g)
            if not np.any(g):
                return theta.copy()
            return theta + np.sqrt(2 * max_kl / (x @ F @ x)) * x
        """, expect="the step length ignores the damping"),
    Impl("undamped-solve", NG, """
        def natural_gradient_step(theta, grad, fisher, max_kl, damping=0.0):
            theta, g = np.asarray(theta, dtype=float), np.asarray(grad, dtype=float)
            F = np.asarray(fisher, dtype=float)
            x = np.linalg.solve(F, g)
            A = F + damping * np.eye(len(g))
            if not np.any(g):
                return theta.copy()
            return theta + np.sqrt(2 * max_kl / (x @ A @ x)) * x
        """, expect="the damping is missing from the solve"),
    Impl("nan-at-zero-grad", NG, """
        def natural_gradient_step(theta, grad, fisher, max_kl, damping=0.0):
            theta, g = np.asarray(theta, dtype=float), np.asarray(grad, dtype=float)
            A = np.asarray(fisher, dtype=float) + damping * np.eye(len(g))
            x = np.linalg.solve(A, g)
            return theta + np.sqrt(2 * max_kl / (x @ A @ x)) * x
        """, expect="a nan (or inf) came out where grad = 0"),
    Impl("updates-theta-in-place", NG, """
        def natural_gradient_step(theta, grad, fisher, max_kl, damping=0.0):
            theta, g = np.asarray(theta, dtype=float), np.asarray(grad, dtype=float)
            A = np.asarray(fisher, dtype=float) + damping * np.eye(len(g))
            x = np.linalg.solve(A, g)
            if np.any(g):
                theta += np.sqrt(2 * max_kl / (x @ A @ x)) * x
            return theta
        """, expect="was modified in place"),
]

NG_CORRECT = [
    Impl("inverse-and-g-dot-x", NG, """
        def natural_gradient_step(theta, grad, fisher, max_kl, damping=0.0):
            theta, g = np.array(theta, dtype=float), np.array(grad, dtype=float)
            A_inv = np.linalg.inv(np.array(fisher, dtype=float) + damping * np.eye(g.size))
            x = A_inv @ g
            gx = g @ x  # = x @ A @ x
            if gx == 0:
                return theta
            return theta + np.sqrt(2 * max_kl / gx) * x
        """),
    Impl("cholesky", NG, """
        def natural_gradient_step(theta, grad, fisher, max_kl, damping=0.0):
            theta = np.asarray(theta, dtype=np.float64)
            g = np.asarray(grad, dtype=np.float64)
            if not np.any(g):
                return theta.copy()
            A = np.asarray(fisher, dtype=np.float64) + damping * np.eye(len(g))
            L = np.linalg.cholesky(A)
            y = np.linalg.solve(L, g)  # |y|^2 = g A^-1 g
            x = np.linalg.solve(L.T, y)
            step = x * np.sqrt(2 * max_kl) / np.linalg.norm(y)
            return theta + step
        """),
    Impl("lstsq-and-kl-rescale", NG, """
        def natural_gradient_step(theta, grad, fisher, max_kl, damping=0.0):
            t = np.asarray(theta, dtype=float)
            g = np.asarray(grad, dtype=float)
            A = np.asarray(fisher, dtype=float) + float(damping) * np.identity(t.shape[0])
            x = np.linalg.lstsq(A, g, rcond=None)[0]
            kl = 0.5 * x @ A @ x
            return t + (np.sqrt(max_kl / kl) * x if kl > 0 else 0.0 * x)
        """),
]

MUTANTS = FVP_MUTANTS + CG_MUTANTS + NG_MUTANTS
CORRECT = FVP_CORRECT + CG_CORRECT + NG_CORRECT
EXERCISES = (FVP, CG, NG)


define_tests(globals(), mutants=MUTANTS, correct=CORRECT, exercises=EXERCISES, imports=IMPORTS,
             slow_first=FVP)
