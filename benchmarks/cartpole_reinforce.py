"""How fast does chapter 6's agent solve CartPole-v1, against plain REINFORCE?

Trains, for several seeds, the agent of chapter 6 (reward-to-go, a learned value baseline,
normalised advantages; the policy gradient itself is REINFORCE's, one Adam step per batch
of whole episodes) and plain REINFORCE (every step weighted by the discounted return of its
whole episode, chapter 5), and prints, per seed and as a median over seeds:

* the **transitions** (environment steps that enter the gradient) and the **env steps**
  (every sub-environment step the vector environment took, including Gymnasium's autoreset
  steps and those of idle sub-environments, which ``pglib.cartpole.collect_batch``
  discards) collected until the mean return of the last 100 training episodes first
  reaches 475 (CartPole-v1's "solved" threshold; episodes are capped at 500 steps);
* the **wall-clock seconds** of training until then (rollouts, updates, value fits).

Plain REINFORCE runs with chapter 5's own settings (gamma 1, one hidden layer of 64 units,
Adam 0.01, 16 episodes per batch on 8 environments) unless overridden: each agent is
compared with the settings it was tuned for.

A run that does not reach the threshold within its cap of transitions is reported as
"not reached", with the best 100-episode mean it attained. Runs stop as soon as the
threshold is reached. Usage::

    python benchmarks/cartpole_reinforce.py                 # 5 seeds, both agents
    python benchmarks/cartpole_reinforce.py --seeds 10 --reinforce-cap 500000
    python benchmarks/cartpole_reinforce.py --no-reinforce --lam 0.97 --lr 5e-3

This is a measurement, not a test: timings depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from pglib.advantages import (ValueNetwork, episode_slices,  # noqa: E402
                              train_with_value_baseline)
from pglib.cartpole import train_reinforce, whole_episode_returns  # noqa: E402
from solutions.ch05_reinforce import CategoricalPolicy  # noqa: E402
from solutions.ch06_variance_reduction import gae, normalize  # noqa: E402

THRESHOLD = 475.0
WINDOW = 100


class Reached(Exception):
    """Raised from the training callback to stop a run at the threshold."""


@dataclass
class Result:
    seed: int
    reached: bool
    transitions: int
    env_steps: int
    seconds: float
    best_mean: float
    episodes: int


class Tracker:
    """A training callback: counts steps and time, and stops at the threshold."""

    def __init__(self):
        self.start = time.monotonic()
        self.transitions = 0
        self.env_steps = 0
        self.returns: list[float] = []
        self.best = -np.inf
        self.hit: tuple[int, int, float] | None = None

    def __call__(self, k, batch, loss):
        self.transitions += batch.n_steps
        self.env_steps += batch.env_steps
        for value in batch.episode_returns:
            self.returns.append(float(value))
            if len(self.returns) >= WINDOW:
                mean = float(np.mean(self.returns[-WINDOW:]))
                self.best = max(self.best, mean)
                if mean >= THRESHOLD and self.hit is None:
                    self.hit = (self.transitions, self.env_steps,
                                time.monotonic() - self.start)
        if self.hit is not None:
            raise Reached

    def result(self, seed) -> Result:
        if self.hit is None:
            return Result(seed, False, self.transitions, self.env_steps,
                          time.monotonic() - self.start, self.best, len(self.returns))
        transitions, env_steps, seconds = self.hit
        return Result(seed, True, transitions, env_steps, seconds, self.best,
                      len(self.returns))


def chapter6_weights(gamma, lam):
    """GAE advantages (lam = 1: reward-to-go minus V, bootstrapped at truncations),
    normalised over the batch; value targets: the advantages plus the values."""
    def weights_fn(batch, values, bootstrap):
        adv = np.empty(batch.n_steps)
        for piece, last in zip(episode_slices(batch.dones), bootstrap):
            adv[piece] = gae(batch.rewards[piece], values[piece], last, gamma, lam)
        return normalize(adv), adv + values
    return weights_fn


def run_chapter6(seed, args) -> Result:
    torch.manual_seed(seed)
    policy = CategoricalPolicy(4, 2, hidden_sizes=tuple(args.hidden))
    value = ValueNetwork(4, tuple(args.hidden), scale=1 / (1 - args.gamma))
    tracker = Tracker()
    try:
        train_with_value_baseline(
            policy, value, chapter6_weights(args.gamma, args.lam), seed=seed,
            value_lr=args.value_lr, value_epochs=args.value_epochs,
            value_batch_size=args.value_batch_size, callback=tracker,
            total_steps=args.cap, episodes_per_batch=args.episodes, num_envs=args.envs,
            lr=args.lr, progress=False)
    except Reached:
        pass
    return tracker.result(seed)


def run_reinforce(seed, args) -> Result:
    torch.manual_seed(seed)
    policy = CategoricalPolicy(4, 2, hidden_sizes=tuple(args.reinforce_hidden))
    gamma = args.reinforce_gamma
    tracker = Tracker()
    try:
        train_reinforce(
            policy, lambda b: whole_episode_returns(b.rewards, b.dones, gamma),
            seed=seed, callback=tracker, total_steps=args.reinforce_cap,
            episodes_per_batch=args.reinforce_episodes, num_envs=args.reinforce_envs,
            lr=args.reinforce_lr, progress=False)
    except Reached:
        pass
    return tracker.result(seed)


def table(title, results: list[Result], cap: int) -> str:
    lines = [title, f"{'seed':>6} {'transitions':>12} {'env steps':>12} {'seconds':>9}"
                    f" {'episodes':>9}   best 100-episode mean"]
    for r in results:
        if r.reached:
            lines.append(f"{r.seed:>6} {r.transitions:>12,} {r.env_steps:>12,} "
                         f"{r.seconds:>9.1f} {r.episodes:>9,}   {r.best_mean:.1f}")
        else:
            lines.append(f"{r.seed:>6} {'not reached':>12} {'':>12} {r.seconds:>9.1f} "
                         f"{r.episodes:>9,}   {r.best_mean:.1f} (cap {cap:,} "
                         f"transitions, {r.env_steps:,} env steps)")
    reached = [r for r in results if r.reached]
    # The median over all seeds, counting a run that did not reach as +infinity.
    keys = [(r.transitions if r.reached else np.inf) for r in results]
    median = statistics.median(keys)
    if np.isfinite(median):
        med_env = statistics.median([(r.env_steps if r.reached else np.inf)
                                     for r in results])
        med_sec = statistics.median([(r.seconds if r.reached else np.inf) for r in results])
        lines.append(f"{'median':>6} {median:>12,.0f} {med_env:>12,.0f} {med_sec:>9.1f}"
                     f"   ({len(reached)} of {len(results)} seeds reached {THRESHOLD:g})")
    else:
        lines.append(f"{'median':>6} {'not reached':>12}   ({len(reached)} of {len(results)}"
                     f" seeds reached {THRESHOLD:g} within {cap:,} transitions)")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (default 5)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--cap", type=int, default=300_000,
                        help="transitions cap of the chapter 6 agent (default 300 000)")
    parser.add_argument("--reinforce-cap", type=int, default=300_000,
                        help="transitions cap of plain REINFORCE (default 300 000)")
    parser.add_argument("--no-reinforce", action="store_true", help="skip plain REINFORCE")
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--lam", type=float, default=1.0,
                        help="GAE lambda of the chapter 6 agent (default 1: reward-to-go "
                             "minus V)")
    parser.add_argument("--lr", type=float, default=3e-3, help="policy Adam step size")
    parser.add_argument("--episodes", type=int, default=8, help="episodes per batch")
    parser.add_argument("--envs", type=int, default=8, help="parallel environments")
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 64])
    parser.add_argument("--value-lr", type=float, default=1e-3)
    parser.add_argument("--value-epochs", type=int, default=5)
    parser.add_argument("--value-batch-size", type=int, default=256)
    # Plain REINFORCE runs with chapter 5's settings by default (its own tuning).
    parser.add_argument("--reinforce-gamma", type=float, default=1.0)
    parser.add_argument("--reinforce-lr", type=float, default=1e-2)
    parser.add_argument("--reinforce-episodes", type=int, default=16)
    parser.add_argument("--reinforce-envs", type=int, default=8)
    parser.add_argument("--reinforce-hidden", type=int, nargs="+", default=[64])
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: fastest for these small networks)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(f"CartPole-v1: training until the mean return of {WINDOW} consecutive training "
          f"episodes reaches {THRESHOLD:g}")
    print(f"machine: {platform.processor() or platform.machine()}, torch "
          f"{torch.__version__}, {args.threads} thread(s)")
    print(f"chapter 6 agent: policy MLP {args.hidden} tanh, Adam lr {args.lr}, "
          f"{args.episodes} episodes per batch on {args.envs} envs, gamma {args.gamma}")
    results = []
    for seed in seeds:
        results.append(run_chapter6(seed, args))
        print(f"  chapter 6 agent, seed {seed}: "
              + (f"{results[-1].transitions:,} transitions, {results[-1].seconds:.1f} s"
                 if results[-1].reached else "not reached"), flush=True)
    print()
    print(table(f"Chapter 6 agent: reward-to-go (GAE lambda = {args.lam:g}), value baseline "
                f"(MLP {args.hidden}, Adam lr {args.value_lr}, {args.value_epochs} epochs "
                f"per batch), normalised advantages", results, args.cap))
    if not args.no_reinforce:
        baseline = []
        for seed in seeds:
            baseline.append(run_reinforce(seed, args))
            print(f"  REINFORCE, seed {seed}: "
                  + (f"{baseline[-1].transitions:,} transitions, {baseline[-1].seconds:.1f} s"
                     if baseline[-1].reached else
                     f"not reached (best {baseline[-1].best_mean:.1f})"), flush=True)
        print()
        print(table(f"Plain REINFORCE (chapter 5's settings unless overridden): "
                    f"whole-episode return, gamma {args.reinforce_gamma:g}, no baseline; "
                    f"MLP {args.reinforce_hidden}, Adam lr {args.reinforce_lr}, "
                    f"{args.reinforce_episodes} episodes per batch on "
                    f"{args.reinforce_envs} envs", baseline, args.reinforce_cap))
    return 0


if __name__ == "__main__":
    sys.exit(main())
