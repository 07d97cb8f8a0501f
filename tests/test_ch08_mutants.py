"""Mutation testing of the chapter 8 grader (the harness: tests/mutation.py).

The Gumbel-softmax alternatives draw the noise in other correct ways (``-log(-log u)`` from
``rng.random``, ``rng.uniform``, float32 noise), so they produce different samples from the
reference's: the grader must judge them by distribution and give them full marks.
"""
from __future__ import annotations

from mutation import Impl, define_tests

IMPORTS = "import numpy as np\nimport torch"


# --- 8.1 es_gradient ----------------------------------------------------------------------

_ES = """
    def es_gradient(f_values, eps, sigma):
        f = np.asarray(f_values, dtype=np.float64)
        e = np.asarray(eps, dtype=np.float64)
        return {ret}
"""


def _es(ret):
    return _ES.format(ret=ret)


ES_MUTANTS = [
    Impl("no-sigma", "es_gradient", _es("(f[:, None] * e).mean(axis=0)"),
         expect="you did not divide by sigma"),
    Impl("sigma-squared", "es_gradient", _es("(f[:, None] * e).mean(axis=0) / sigma**2"),
         expect="you divided by sigma^2"),
    Impl("times-sigma", "es_gradient", _es("(f[:, None] * e).mean(axis=0) * sigma"),
         expect="you multiplied by sigma"),
    Impl("sum", "es_gradient", _es("(f[:, None] * e).sum(axis=0) / sigma"),
         expect="you summed over the samples"),
    Impl("broadcast-wrong-axis", "es_gradient", _es("(f * e).mean(axis=0) / sigma"),
         expect="broadcast against the last axis"),
    Impl("product-of-means", "es_gradient", _es("f.mean() * e.mean(axis=0) / sigma"),
         expect="the mean of a product"),
    Impl("per-sample-terms", "es_gradient", _es("f[:, None] * e / sigma"),
         expect="per-sample terms"),
    Impl("float32", "es_gradient", _es("((f[:, None] * e).mean(axis=0) / sigma)"
                                       ".astype(np.float32)"),
         expect="expected dtype float64"),
    Impl("scales-eps-in-place", "es_gradient", """
        def es_gradient(f_values, eps, sigma):
            f = np.asarray(f_values, dtype=np.float64)
            e = np.asarray(eps, dtype=np.float64)
            e /= sigma  # the caller's array, when it is already float64
            return (f[:, None] * e).mean(axis=0)
        """, expect="was modified in place"),
]

ES_CORRECT = [
    Impl("loop", "es_gradient", """
        def es_gradient(f_values, eps, sigma):
            eps = np.array(eps, dtype=float)
            total = np.zeros(eps.shape[1])
            for f_i, e_i in zip(f_values, eps):
                total += f_i * e_i
            return total / (len(eps) * sigma)
        """),
    Impl("matmul", "es_gradient", """
        def es_gradient(f_values, eps, sigma):
            f = np.asarray(f_values, dtype=float)
            return f @ np.asarray(eps, dtype=float) / (f.size * float(sigma))
        """),
    Impl("einsum-copy", "es_gradient", """
        def es_gradient(f_values, eps, sigma):
            e = np.array(eps, dtype=np.float64) / sigma
            f = np.array(f_values, dtype=np.float64)
            return np.einsum("i,ij->j", f, e) / len(f)
        """),
]


# --- 8.2 antithetic_es_gradient -----------------------------------------------------------

_ANTI = """
    def antithetic_es_gradient(f_plus, f_minus, eps, sigma):
        fp = np.asarray(f_plus, dtype=np.float64)
        fm = np.asarray(f_minus, dtype=np.float64)
        e = np.asarray(eps, dtype=np.float64)
        return {ret}
"""


def _anti(ret):
    return _ANTI.format(ret=ret)


ANTI_MUTANTS = [
    Impl("sign-flipped", "antithetic_es_gradient",
         _anti("((fm - fp)[:, None] * e).mean(axis=0) / (2 * sigma)"),
         expect="the sign is flipped"),
    Impl("no-half", "antithetic_es_gradient",
         _anti("((fp - fm)[:, None] * e).mean(axis=0) / sigma"),
         expect="the factor 1/2 is missing"),
    Impl("plus-added", "antithetic_es_gradient",
         _anti("((fp + fm)[:, None] * e).mean(axis=0) / (2 * sigma)"),
         expect="f_minus was added"),
    Impl("f-minus-unused", "antithetic_es_gradient",
         _anti("(fp[:, None] * e).mean(axis=0) / sigma"),
         expect="f_minus was not used"),
    Impl("mean-over-2N", "antithetic_es_gradient",
         _anti("((fp - fm)[:, None] * e).sum(axis=0) / (2 * len(fp)) / (2 * sigma)"),
         expect="the mean was taken over all 2N"),
    Impl("no-sigma", "antithetic_es_gradient",
         _anti("((fp - fm)[:, None] * e).mean(axis=0) / 2"),
         expect="you did not divide by sigma"),
    Impl("sum", "antithetic_es_gradient",
         _anti("((fp - fm)[:, None] * e).sum(axis=0) / (2 * sigma)"),
         expect="you summed over the samples"),
    Impl("subtracts-in-place", "antithetic_es_gradient", """
        def antithetic_es_gradient(f_plus, f_minus, eps, sigma):
            fp = np.asarray(f_plus, dtype=np.float64)
            fp -= np.asarray(f_minus, dtype=np.float64)  # overwrites the caller's f_plus
            e = np.asarray(eps, dtype=np.float64)
            return (fp[:, None] * e).mean(axis=0) / (2 * sigma)
        """, expect="was modified in place"),
]

ANTI_CORRECT = [
    Impl("mirrored-samples", "antithetic_es_gradient", """
        def antithetic_es_gradient(f_plus, f_minus, eps, sigma):
            e = np.asarray(eps, dtype=float)
            f = np.concatenate([np.asarray(f_plus, float), np.asarray(f_minus, float)])
            # the plain estimate over the 2N samples eps_i and -eps_i
            return f @ np.concatenate([e, -e]) / (len(f) * sigma)
        """),
    Impl("loop", "antithetic_es_gradient", """
        def antithetic_es_gradient(f_plus, f_minus, eps, sigma):
            out = 0.0
            for p, m, e in zip(f_plus, f_minus, eps):
                out = out + (p - m) * np.array(e, dtype=float) / (2.0 * sigma)
            return np.asarray(out / len(eps), dtype=np.float64)
        """),
    Impl("einsum", "antithetic_es_gradient", """
        def antithetic_es_gradient(f_plus, f_minus, eps, sigma):
            diff = np.subtract(f_plus, f_minus, dtype=np.float64)
            return np.einsum("i,ij->j", diff, np.asarray(eps, float)) / (2 * sigma * len(diff))
        """),
]


# --- 8.3 gumbel_softmax_sample ------------------------------------------------------------

_GS = """
    def gumbel_softmax_sample(logits, temperature, rng):
        {noise}
        g = torch.as_tensor(noise, dtype=logits.dtype)
        return {ret}
"""
_GUMBEL = "noise = rng.gumbel(size=tuple(logits.shape))"
_SOFTMAX = "torch.softmax((logits + g) / temperature, dim=-1)"


def _gs(noise=_GUMBEL, ret=_SOFTMAX):
    return _GS.format(noise=noise, ret=ret)


GS_MUTANTS = [
    Impl("naive-exp-overflows", "gumbel_softmax_sample", _gs(
        ret="torch.exp((logits + g) / temperature) / torch.exp((logits + g) / temperature)"
            ".sum(dim=-1, keepdim=True)"), expect="the softmax overflowed"),
    Impl("global-max", "gumbel_softmax_sample", _gs(
        ret="torch.exp((logits + g) / temperature - ((logits + g) / temperature).max()) / "
            "torch.exp((logits + g) / temperature - ((logits + g) / temperature).max())"
            ".sum(dim=-1, keepdim=True)")),
    Impl("float64-noise", "gumbel_softmax_sample", """
        def gumbel_softmax_sample(logits, temperature, rng):
            g = torch.from_numpy(rng.gumbel(size=tuple(logits.shape)))
            return torch.softmax((logits + g) / temperature, dim=-1)
        """, expect="expected dtype torch.float32"),
    Impl("noise-not-tempered", "gumbel_softmax_sample", _gs(
        ret="torch.softmax(logits / temperature + g, dim=-1)"),
        expect="the noise is not divided by the temperature"),
    Impl("temperature-ignored", "gumbel_softmax_sample", _gs(
        ret="torch.softmax(logits + g, dim=-1)"), expect="the temperature is ignored"),
    Impl("temperature-multiplies", "gumbel_softmax_sample", _gs(
        ret="torch.softmax((logits + g) * temperature, dim=-1)"),
        expect="the temperature is ignored"),
    Impl("noise-sign", "gumbel_softmax_sample", _gs(
        noise="noise = np.log(-np.log(rng.random(tuple(logits.shape))))"),
        expect="the wrong sign"),
    Impl("gaussian-noise", "gumbel_softmax_sample", _gs(
        noise="noise = rng.normal(size=tuple(logits.shape))"), expect="the noise is Gaussian"),
    Impl("uniform-noise", "gumbel_softmax_sample", _gs(
        noise="noise = rng.random(tuple(logits.shape))"), expect="the noise is uniform"),
    Impl("exponential-noise", "gumbel_softmax_sample", _gs(
        noise="noise = -np.log(rng.random(tuple(logits.shape)))"),
        expect="exponential noise"),
    Impl("one-noise-per-category", "gumbel_softmax_sample", _gs(
        noise="noise = rng.gumbel(size=logits.shape[-1])"),
        expect="every row got the same noise"),
    Impl("softmax-dim-0", "gumbel_softmax_sample", _gs(
        ret="torch.softmax((logits + g) / temperature, dim=0)"), expect="the wrong axis"),
    Impl("straight-through", "gumbel_softmax_sample", """
        def gumbel_softmax_sample(logits, temperature, rng):
            g = torch.as_tensor(rng.gumbel(size=tuple(logits.shape)), dtype=logits.dtype)
            y = torch.softmax((logits + g) / temperature, dim=-1)
            hard = torch.nn.functional.one_hot(y.argmax(dim=-1), y.shape[-1]).to(y.dtype)
            return hard - y.detach() + y
        """, expect="the sample is one-hot"),
    Impl("numpy-detached", "gumbel_softmax_sample", """
        def gumbel_softmax_sample(logits, temperature, rng):
            z = (logits.detach().numpy() + rng.gumbel(size=tuple(logits.shape))) / temperature
            z = np.exp(z - z.max(axis=-1, keepdims=True))
            return torch.tensor(z / z.sum(axis=-1, keepdims=True), dtype=logits.dtype)
        """, expect="no gradient reaches logits"),
    Impl("torch-global-rng", "gumbel_softmax_sample", """
        def gumbel_softmax_sample(logits, temperature, rng):
            u = torch.rand(logits.shape, dtype=logits.dtype)
            g = -torch.log(-torch.log(u))
            return torch.softmax((logits + g) / temperature, dim=-1)
        """, expect="two calls with identical generators"),
    Impl("in-place-on-logits", "gumbel_softmax_sample", """
        def gumbel_softmax_sample(logits, temperature, rng):
            g = torch.as_tensor(rng.gumbel(size=tuple(logits.shape)), dtype=logits.dtype)
            logits += g  # changes the caller's tensor (and fails if it requires grad)
            return torch.softmax(logits / temperature, dim=-1)
        """, expect="logits changed: it was"),
]

GS_CORRECT = [
    Impl("double-log-of-uniform", "gumbel_softmax_sample", """
        def gumbel_softmax_sample(logits, temperature, rng):
            u = rng.random(tuple(logits.shape))
            g = torch.as_tensor(-np.log(-np.log(u)), dtype=logits.dtype)
            return torch.log_softmax((logits + g) / temperature, dim=-1).exp()
        """),
    Impl("float32-noise-manual-softmax", "gumbel_softmax_sample", """
        def gumbel_softmax_sample(logits, temperature, rng):
            noise = rng.gumbel(size=logits.shape).astype(np.float32)
            z = (logits + torch.from_numpy(noise).to(logits.dtype)) / temperature
            z = z - z.max(dim=-1, keepdim=True).values.detach()
            return z.exp() / z.exp().sum(dim=-1, keepdim=True)
        """),
    Impl("torch-log-of-uniform", "gumbel_softmax_sample", """
        import torch.nn.functional as F

        def gumbel_softmax_sample(logits, temperature, rng):
            u = torch.tensor(rng.uniform(size=logits.shape), dtype=torch.float64)
            g = (-torch.log(-torch.log(u))).to(logits.dtype)
            return F.softmax(logits.add(g).div(temperature), dim=logits.dim() - 1)
        """),
]


define_tests(globals(), mutants=ES_MUTANTS + ANTI_MUTANTS + GS_MUTANTS,
             correct=ES_CORRECT + ANTI_CORRECT + GS_CORRECT,
             exercises=("es_gradient", "antithetic_es_gradient", "gumbel_softmax_sample"),
             imports=IMPORTS, slow_first="gumbel_softmax_sample")
