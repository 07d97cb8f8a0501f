"""Reference solutions of the course's graded exercises: one module per chapter.

Every exercise function is defined exactly once, at module level, in the module of its
chapter (``solutions.ch01_log_derivative_trick`` ...). The chapter notebooks hold only
stubs (same signature and docstring, body ``raise NotImplementedError``; see
``scripts/sync_stubs.py``); ``python -m autograder fill`` and the book build put these
definitions in their place. Each reference may use only ``np`` and ``torch``, which every
chapter notebook imports in its first code cell.
"""
