"""Mutation testing of the chapter 5 grader (the harness: tests/mutation.py).

Mutants are realistic wrong implementations: each must lose marks, and where the grader
knows the mistake its feedback must say so. Correct alternatives are written differently
from the reference (loops instead of a backward recursion, ``probs=softmax`` instead of
``logits``, explicit layers instead of ``nn.Sequential``) and must get full marks.
"""
from __future__ import annotations

from mutation import Impl, define_tests

IMPORTS = "import numpy as np\nimport torch"


# --- 5.1 trajectory_returns ---------------------------------------------------------------------

TR = "trajectory_returns"

TR_MUTANTS = [
    Impl("reward-to-go", TR, """
        def trajectory_returns(rewards, dones, gamma):
            rewards, dones = np.asarray(rewards, dtype=float), np.asarray(dones, dtype=bool)
            out, running = np.empty_like(rewards), 0.0
            for t in reversed(range(len(rewards))):
                running = rewards[t] + gamma * (0.0 if dones[t] else running)
                out[t] = running
            return out
        """, expect="that is the reward-to-go"),
    Impl("no-restart-whole-batch", TR, """
        def trajectory_returns(rewards, dones, gamma):
            rewards = np.asarray(rewards, dtype=float)
            total = np.sum(rewards * gamma ** np.arange(len(rewards)))
            return np.full(len(rewards), total)
        """, expect="the returns do not restart at episode ends"),
    Impl("global-discount-exponent", TR, """
        def trajectory_returns(rewards, dones, gamma):
            rewards, dones = np.asarray(rewards, dtype=float), np.asarray(dones, dtype=bool)
            discounted = rewards * gamma ** np.arange(len(rewards))
            out, start = np.empty_like(rewards), 0
            for end in np.flatnonzero(dones):
                out[start:end + 1] = discounted[start:end + 1].sum()
                start = end + 1
            return out
        """, expect="the exponent here counts steps from the start of the batch"),
    Impl("gamma-from-the-wrong-end", TR, """
        def trajectory_returns(rewards, dones, gamma):
            rewards, dones = np.asarray(rewards, dtype=float), np.asarray(dones, dtype=bool)
            out, start = np.empty_like(rewards), 0
            for end in np.flatnonzero(dones):
                r = rewards[start:end + 1]
                out[start:end + 1] = np.sum(r * gamma ** np.arange(len(r))[::-1])
                start = end + 1
            return out
        """, expect="the discount is applied from the wrong end"),
    Impl("missing-gamma", TR, """
        def trajectory_returns(rewards, dones, gamma):
            rewards, dones = np.asarray(rewards, dtype=float), np.asarray(dones, dtype=bool)
            out, start = np.empty_like(rewards), 0
            for end in np.flatnonzero(dones):
                out[start:end + 1] = rewards[start:end + 1].sum()
                start = end + 1
            return out
        """, expect="the rewards are not discounted"),
    Impl("one-value-per-episode", TR, """
        def trajectory_returns(rewards, dones, gamma):
            rewards, dones = np.asarray(rewards, dtype=float), np.asarray(dones, dtype=bool)
            out, start = [], 0
            for end in np.flatnonzero(dones):
                r = rewards[start:end + 1]
                out.append(np.sum(r * gamma ** np.arange(len(r))))
                start = end + 1
            return np.array(out)
        """, expect="one value per episode was returned"),
    Impl("dones-read-as-episode-starts", TR, """
        def trajectory_returns(rewards, dones, gamma):
            rewards, dones = np.asarray(rewards, dtype=float), np.asarray(dones, dtype=bool)
            starts = list(np.flatnonzero(dones[1:]) + 1)
            bounds = [0] + [s for s in starts] + [len(rewards)]
            out = np.empty_like(rewards)
            for a, b in zip(bounds[:-1], bounds[1:]):
                r = rewards[a:b]
                out[a:b] = np.sum(r * gamma ** np.arange(len(r)))
            return out
        """, expect="dones[t] marks the LAST step of an episode"),
    Impl("zeros-like-int-rewards", TR, """
        def trajectory_returns(rewards, dones, gamma):
            out, start = np.zeros_like(rewards), 0  # ints in, ints out
            for end in np.flatnonzero(dones):
                r = np.asarray(rewards[start:end + 1], dtype=float)
                out[start:end + 1] = np.sum(r * gamma ** np.arange(len(r)))
                start = end + 1
            return out
        """, expect="[FAIL] array-like inputs"),
    Impl("returns-float32", TR, """
        def trajectory_returns(rewards, dones, gamma):
            rewards, dones = np.asarray(rewards, dtype=np.float32), np.asarray(dones, dtype=bool)
            out, start = np.empty_like(rewards), 0
            for end in np.flatnonzero(dones):
                r = rewards[start:end + 1]
                out[start:end + 1] = np.sum(r * np.float32(gamma) ** np.arange(len(r)))
                start = end + 1
            return out
        """, expect="expected dtype float64, got float32"),
]

TR_CORRECT = [
    Impl("python-loops", TR, """
        def trajectory_returns(rewards, dones, gamma):
            returns, episode = [], []
            for r, d in zip(rewards, dones):
                episode.append(float(r))
                if d:
                    G = sum(gamma**k * x for k, x in enumerate(episode))
                    returns.extend([G] * len(episode))
                    episode = []
            return np.array(returns, dtype=np.float64)
        """),
    Impl("split-and-repeat", TR, """
        def trajectory_returns(rewards, dones, gamma):
            rewards = np.asarray(rewards, dtype=np.float64)
            ends = np.flatnonzero(np.asarray(dones, dtype=bool)) + 1
            pieces = np.split(rewards, ends[:-1])
            totals = [p @ np.power(float(gamma), np.arange(p.size)) for p in pieces]
            return np.repeat(totals, [p.size for p in pieces]).astype(np.float64)
        """),
    Impl("forward-accumulation", TR, """
        def trajectory_returns(rewards, dones, gamma):
            rewards, dones = np.asarray(rewards, dtype=float), np.asarray(dones, dtype=bool)
            out = np.zeros_like(rewards)
            start, total, discount = 0, 0.0, 1.0
            for t in range(len(rewards)):
                total += discount * rewards[t]
                discount *= gamma
                if dones[t]:
                    out[start:t + 1] = total
                    start, total, discount = t + 1, 0.0, 1.0
            return out
        """),
]


# --- 5.2 surrogate_loss -------------------------------------------------------------------------

SL = "surrogate_loss"

SL_MUTANTS = [
    Impl("no-minus", SL, """
        def surrogate_loss(log_probs, weights):
            return (log_probs * weights.detach()).mean()
        """, expect="the sign is flipped"),
    Impl("sum-not-mean", SL, """
        def surrogate_loss(log_probs, weights):
            return -(log_probs * weights.detach()).sum()
        """, expect="you summed over the steps"),
    Impl("weights-not-detached", SL, """
        def surrogate_loss(log_probs, weights):
            return -(log_probs * weights).mean()
        """, expect="a gradient reaches weights"),
    Impl("item-breaks-the-graph", SL, """
        def surrogate_loss(log_probs, weights):
            return -(log_probs * weights.detach()).mean().item()
        """, expect="expected a torch.Tensor"),
    Impl("numpy-round-trip", SL, """
        def surrogate_loss(log_probs, weights):
            lp, w = log_probs.detach().numpy(), weights.detach().numpy()
            return torch.tensor(-np.mean(lp * w), dtype=log_probs.dtype)
        """, expect="no gradient reaches log_probs"),
    Impl("product-of-means", SL, """
        def surrogate_loss(log_probs, weights):
            return -log_probs.mean() * weights.detach().mean()
        """, expect="the mean of a product is not the product of the means"),
    Impl("per-step-terms", SL, """
        def surrogate_loss(log_probs, weights):
            return -(log_probs * weights.detach())
        """, expect="return one number"),
    Impl("casts-to-float64", SL, """
        def surrogate_loss(log_probs, weights):
            return -(log_probs.double() * weights.detach().double()).mean()
        """, expect="expected dtype torch.float32"),
    Impl("detaches-in-place", SL, """
        def surrogate_loss(log_probs, weights):
            weights.requires_grad_(False)
            return -(log_probs * weights).mean()
        """, expect="weights.requires_grad changed"),
    Impl("exponentiated", SL, """
        def surrogate_loss(log_probs, weights):
            return -(log_probs.exp() * weights.detach()).mean()
        """, expect="the log-probabilities were exponentiated"),
]

SL_CORRECT = [
    Impl("dot-over-length", SL, """
        def surrogate_loss(log_probs, weights):
            return -torch.dot(log_probs, weights.detach()) / log_probs.numel()
        """),
    Impl("no-grad-clone", SL, """
        def surrogate_loss(log_probs, weights):
            with torch.no_grad():
                w = weights.clone()
            return torch.mean(-w * log_probs)
        """),
    Impl("sum-divided", SL, """
        def surrogate_loss(log_probs, weights):
            terms = log_probs * weights.detach().to(log_probs.dtype)
            return -terms.sum() / len(terms)
        """),
]


# --- 5.3 CategoricalPolicy ----------------------------------------------------------------------

CP = "CategoricalPolicy"

_SEQUENTIAL_INIT = """
    def __init__(self, obs_dim, n_actions, hidden_sizes=(64,)):
        super().__init__()
        sizes = [obs_dim, *hidden_sizes, n_actions]
        layers = []
        for i in range(len(sizes) - 1):
            if i > 0:
                layers.append(torch.nn.Tanh())
            layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        self.net = torch.nn.Sequential(*layers)
"""


def _policy(forward: str, init: str = _SEQUENTIAL_INIT) -> str:
    return "class CategoricalPolicy(torch.nn.Module):\n" + init + "\n" + forward


CP_MUTANTS = [
    Impl("softmax-over-the-batch-axis", CP, _policy("""
    def forward(self, obs):
        return torch.distributions.Categorical(probs=torch.softmax(self.net(obs), dim=0))
"""), expect="a softmax over the batch axis"),
    Impl("ignores-the-observation", CP, _policy("""
    def forward(self, obs):
        logits = self.net(torch.zeros_like(obs))
        return torch.distributions.Categorical(logits=logits)
"""), expect="every observation gets the same distribution"),
    Impl("frozen-first-layer", CP, _policy("""
    def forward(self, obs):
        return torch.distributions.Categorical(logits=self.net(obs))
""", _SEQUENTIAL_INIT + """        for p in self.net[0].parameters():
            p.requires_grad_(False)
"""), expect="have requires_grad=False"),
    Impl("flattens-the-batch", CP, _policy("""
    def forward(self, obs):
        flat = obs.reshape(-1, obs.shape[-1])
        return torch.distributions.Categorical(logits=self.net(flat))
"""), expect="the distribution's batch shape"),
    Impl("returns-logits", CP, _policy("""
    def forward(self, obs):
        return self.net(obs)
"""), expect="not a torch.distributions.Categorical"),
    Impl("hidden-sizes-ignored", CP, _policy("""
    def forward(self, obs):
        return torch.distributions.Categorical(logits=self.net(obs))
""", """
    def __init__(self, obs_dim, n_actions, hidden_sizes=(64,)):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(obs_dim, 64), torch.nn.Tanh(),
                                       torch.nn.Linear(64, n_actions))
"""), expect="expected parameters of shapes"),
    Impl("no-nonlinearity", CP, _policy("""
    def forward(self, obs):
        return torch.distributions.Categorical(logits=self.net(obs))
""", """
    def __init__(self, obs_dim, n_actions, hidden_sizes=(64,)):
        super().__init__()
        sizes = [obs_dim, *hidden_sizes, n_actions]
        self.net = torch.nn.Sequential(*[torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])])
"""), expect="is affine in the observation"),
    Impl("tanh-squashes-the-logits", CP, _policy("""
    def forward(self, obs):
        return torch.distributions.Categorical(logits=torch.tanh(self.net(obs)))
"""), expect="is something applied to the logits"),
    Impl("forward-under-no-grad", CP, _policy("""
    def forward(self, obs):
        with torch.no_grad():
            logits = self.net(obs)
        return torch.distributions.Categorical(logits=logits)
"""), expect="is not differentiable"),
    Impl("layers-in-a-plain-list", CP, """
class CategoricalPolicy(torch.nn.Module):
    def __init__(self, obs_dim, n_actions, hidden_sizes=(64,)):
        super().__init__()
        sizes = [obs_dim, *hidden_sizes, n_actions]
        self.layers = [torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]

    def forward(self, obs):
        x = obs
        for i, layer in enumerate(self.layers):
            x = layer(x) if i == 0 else layer(torch.tanh(x))
        return torch.distributions.Categorical(logits=x)
""", expect="the module has no parameters"),
    Impl("probabilities-in-float64", CP, _policy("""
    def forward(self, obs):
        return torch.distributions.Categorical(logits=self.net(obs).double())
"""), expect="keep torch.float32"),
    Impl("squeezes-the-batch", CP, _policy("""
    def forward(self, obs):
        return torch.distributions.Categorical(logits=self.net(obs).squeeze())
"""), expect="the distribution's batch shape"),
]

CP_CORRECT = [
    Impl("relu-activation", CP, _policy("""
    def forward(self, obs):
        return torch.distributions.Categorical(logits=self.net(obs))
""", _SEQUENTIAL_INIT.replace("torch.nn.Tanh()", "torch.nn.ReLU()"))),
    Impl("sequential-with-probs", CP, _policy("""
    def forward(self, obs):
        return torch.distributions.Categorical(probs=torch.softmax(self.net(obs), dim=-1))
""")),
    Impl("explicit-module-list", CP, """
class CategoricalPolicy(torch.nn.Module):
    def __init__(self, obs_dim, n_actions, hidden_sizes=(64,)):
        super().__init__()
        sizes = [obs_dim] + list(hidden_sizes) + [n_actions]
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, obs):
        x = obs
        for layer in self.layers[:-1]:
            x = torch.tanh(layer(x))
        return torch.distributions.Categorical(logits=self.layers[-1](x))
"""),
    Impl("named-attributes-log-softmax", CP, """
import torch.nn as nn
from torch.distributions import Categorical

class CategoricalPolicy(nn.Module):
    def __init__(self, obs_dim, n_actions, hidden_sizes=(64,)):
        super().__init__()
        self.n_hidden = len(hidden_sizes)
        width = obs_dim
        for i, h in enumerate(hidden_sizes):
            setattr(self, f"hidden{i}", nn.Linear(width, h))
            width = h
        self.head = nn.Linear(width, n_actions)

    def forward(self, obs):
        x = obs
        for i in range(self.n_hidden):
            x = torch.tanh(getattr(self, f"hidden{i}")(x))
        return Categorical(logits=torch.log_softmax(self.head(x), dim=-1))
"""),
]

MUTANTS = TR_MUTANTS + SL_MUTANTS + CP_MUTANTS
CORRECT = TR_CORRECT + SL_CORRECT + CP_CORRECT
EXERCISES = (TR, SL, CP)


define_tests(globals(), mutants=MUTANTS, correct=CORRECT, exercises=EXERCISES, imports=IMPORTS,
             slow_first=CP)
