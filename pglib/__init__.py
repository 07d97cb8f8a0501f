"""Course code that is not an exercise: environments and tools the chapters share.

Chapters import from here what several of them use (a tabular MDP, CartPole rollouts), so
that it is written once. Exercise solutions never live here: they are in ``solutions/``.
"""
