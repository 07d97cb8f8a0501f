"""A fork server for sandboxed jobs: ``python -m autograder._zygote``.

Starting a fresh interpreter per exercise and importing NumPy and torch again costs more
than grading. This process imports them once, runs no student code itself, and forks one
child per job; the child becomes exactly what ``python -m autograder._worker JOBDIR`` would
be (its own session, the job folder as working directory, output to ``output.log``) and
locks itself down (:mod:`autograder.isolation`) before it runs any student code.

Protocol, one JSON object per line. In on stdin: ``{"jobdir", "env", "torch"}`` (``env`` is
the child's whole environment). Out on
stdout: ``{"pid": n}`` for each request, in order, and ``{"exit": n, "status": s}`` when a
child ends (``s`` as from ``os.waitstatus_to_exitcode``). Stdin closing ends the server.

The grader uses it only where Landlock scopes signals (ABI >= 6), so that children cannot
signal it; it is also non-dumpable, so they cannot ptrace it.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import sys

import numpy  # noqa: F401  (imported once here, inherited by every child)

from autograder import _worker, isolation, wire  # noqa: F401

_PR_SET_DUMPABLE = 4


def _send(message: dict) -> None:
    # One os.write of a short line is atomic on a pipe, even from the signal handler.
    os.write(1, (json.dumps(message) + "\n").encode())


def _reap(signum=None, frame=None) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send({"exit": pid, "status": os.waitstatus_to_exitcode(status)})


def _become_worker(request: dict, stdin_fd: int) -> None:
    """In the child: the environment of a fresh worker process, then the worker itself."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        # Dumpable again, so the grader (same user) can read /proc/<pid>/environ to find
        # stragglers; the zygote itself stays non-dumpable.
        ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
        os.setsid()
        os.environ.clear()
        os.environ.update(request["env"])  # the full environment a directly spawned worker gets
        jobdir = request["jobdir"]
        os.chdir(jobdir)
        log = os.open(os.path.join(jobdir, "output.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        for fd in (log, devnull, stdin_fd):
            if fd > 2:
                os.close(fd)
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        sys.argv = ["autograder._worker", jobdir]
        _worker.main(jobdir)  # ends with os._exit(0)
    except BaseException:
        code = 1
    os._exit(code)


def main() -> None:
    ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    if "--torch" in sys.argv:  # the chapter uses torch: import it now, while the grader prepares
        import torch  # noqa: F401
    stdin_fd = os.dup(0)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    signal.signal(signal.SIGCHLD, _reap)
    with os.fdopen(stdin_fd, "rb", buffering=0) as requests:
        buffer = b""
        while True:
            chunk = requests.read(65536)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                if request.get("torch"):
                    import torch  # noqa: F401  (once; children inherit it)
                pid = os.fork()
                if pid == 0:
                    _become_worker(request, stdin_fd)
                _send({"pid": pid})
    _reap()


if __name__ == "__main__":
    main()
