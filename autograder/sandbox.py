"""Run one exercise's cases in a separate, limited process and read back plain data.

The child gets its own session (process group), a temporary working folder and a
wall-clock limit, and locks itself down before it runs student code (memory, file-size and
CPU limits, Landlock: see :mod:`autograder.isolation`). When the limit passes, or when the
child ends, the whole group is killed, so forked children and hung loops cannot
outlive the grading of that exercise. Only the JSON and ``.npz`` files the child wrote
are read back, with ``allow_pickle=False``; its stdout/stderr are kept only as a tail of
text to show a student whose code crashed the process.
"""
from __future__ import annotations

import importlib.util
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder import isolation, wire

PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)
MAX_RESULT_BYTES = 256 * 1024 * 1024  # per case, arrays included
MAX_JSON_BYTES = 16 * 1024 * 1024
JOB_TOKEN_VAR = "PG_AUTOGRADER_JOB"


@dataclass
class Limits:
    timeout: float = 30.0  # seconds of wall clock for all cases of one exercise
    memory_mb: int = 3072  # address space of the child
    file_mb: int = 512  # largest file the child may write

    @property
    def cpu_seconds(self) -> int:
        """A CPU-time backstop; the wall clock normally stops the child first."""
        return int(self.timeout * 2) + 10


def unreadable_paths() -> list[str]:
    """Where the reference solutions are: the worker may not read them."""
    paths = {os.path.join(PACKAGE_ROOT, "solutions")}
    spec = importlib.util.find_spec("solutions")
    if spec is not None and spec.submodule_search_locations:
        paths.update(str(Path(p).resolve()) for p in spec.submodule_search_locations)
    return sorted(p for p in paths if os.path.isdir(p))


@dataclass
class CaseResult:
    status: str  # ok | error | not_implemented | undefined (by the worker) | missing (no result)
    value: Any = None
    error: str | None = None
    args_after: list | None = None


@dataclass
class JobResult:
    cases: list[CaseResult]
    setup_errors: list[str] = field(default_factory=list)
    unprotected: list[str] = field(default_factory=list)  # isolation this machine could not give
    timed_out: bool = False
    exit_note: str | None = None  # how the process ended, if not normally
    output_tail: str = ""
    elapsed: float = 0.0


# Sandboxed processes alive at once, across all threads: a batch of notebooks, each grading
# its exercises in parallel, must not start more processes than the cores can serve.
_SLOTS = threading.BoundedSemaphore((os.cpu_count() or 1) + 1)


def run_job(cells: list[tuple[str, str]], function: str, cases: list, limits: Limits) -> JobResult:
    """Run ``function`` from ``cells`` on each :class:`~autograder.spec.Case` in a sandbox."""
    encoder = wire.Encoder()
    encoded = [
        {
            "args": [encoder.encode(a) for a in case.args],
            "kwargs": {k: encoder.encode(v) for k, v in case.kwargs.items()},
            "observe_args": case.observe_args,
            "op": case.op,
        }
        for case in cases
    ]
    jobdir = tempfile.mkdtemp(prefix="pg-autograder-")
    start = time.monotonic()
    try:
        with open(os.path.join(jobdir, "job.json"), "w") as handle:
            json.dump({"cells": cells, "function": function, "cases": encoded, "isolation": {
            "memory_mb": limits.memory_mb, "file_mb": limits.file_mb, "cpu_seconds": limits.cpu_seconds,
            "unreadable": unreadable_paths()}}, handle)
        np.savez(os.path.join(jobdir, "inputs.npz"), **encoder.arrays)
        needs_torch = any(isinstance(a, wire.Tensor) for case in cases for a in case.args) or any(
            "torch" in source for _, source in cells)
        with _SLOTS:
            timed_out, exit_note, tail = _run_child(jobdir, limits, needs_torch)
        result = _collect(jobdir, len(cases))
        result.timed_out, result.exit_note, result.output_tail = timed_out, exit_note, tail
    finally:
        shutil.rmtree(jobdir, ignore_errors=True)
    result.elapsed = time.monotonic() - start
    return result


def _child_env(token: str, jobdir: str) -> dict:
    env = dict(os.environ)
    env[JOB_TOKEN_VAR] = token  # inherited by anything the worker starts: see _kill_stragglers
    # Caches and temporary files of student code and its libraries stay in the job folder,
    # the only place it may write.
    for var in ("HOME", "TMPDIR", "MPLCONFIGDIR", "XDG_CACHE_HOME"):
        env[var] = jobdir
    env["PYTHONPATH"] = PACKAGE_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MPLBACKEND="Agg",
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONIOENCODING="utf-8",
    )
    return env


class ForkServer:
    """The client of :mod:`autograder._zygote`: spawn a job, wait for it with a time limit."""

    def __init__(self, torch: bool = False):
        env = _child_env("", tempfile.gettempdir())
        env.pop(JOB_TOKEN_VAR)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder._zygote", *(["--torch"] if torch else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=env, start_new_session=True,
        )
        self.lock = threading.Lock()  # one spawn request in flight at a time
        self.spawned: "queue.Queue[int | None]" = queue.Queue()
        self.exits: dict[int, int] = {}
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True, name="zygote-reader").start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "pid" in message:
                self.spawned.put(int(message["pid"]))
            elif "exit" in message:
                with self.changed:
                    self.exits[int(message["exit"])] = int(message["status"])
                    self.changed.notify_all()
        self.spawned.put(None)  # the zygote is gone
        with self.changed:
            self.changed.notify_all()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def spawn(self, jobdir: str, env: dict, torch: bool) -> int | None:
        with self.lock:
            if not self.alive:
                return None
            request = json.dumps({"jobdir": jobdir, "env": env, "torch": torch}) + "\n"
            try:
                self.proc.stdin.write(request.encode())
                self.proc.stdin.flush()
                return self.spawned.get(timeout=60)
            except (OSError, queue.Empty):
                return None

    def wait(self, pid: int, timeout: float) -> int | None:
        """The child's exit code (negative: killed by that signal), or None on timeout."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while pid not in self.exits:
                left = deadline - time.monotonic()
                if left <= 0 or not self.alive and pid not in self.exits:
                    return self.exits.pop(pid, None)
                self.changed.wait(min(left, 0.5))
            return self.exits.pop(pid)


_SERVER: ForkServer | None = None
_SERVER_LOCK = threading.Lock()


def fork_server(torch: bool = False) -> ForkServer | None:
    """The process-wide fork server, started on first use; None where it must not be used.

    ``torch=True`` asks a server that is being started to import torch at once (grading
    calls this early, so the import overlaps with its own preparation).

    It is used only where Landlock scopes signals (children cannot signal it) and can be
    turned off with PG_AUTOGRADER_FORKSERVER=0.
    """
    global _SERVER
    if os.environ.get("PG_AUTOGRADER_FORKSERVER", "1") == "0" or isolation.landlock_abi() < 6:
        return None
    with _SERVER_LOCK:
        if _SERVER is None or not _SERVER.alive:
            try:
                _SERVER = ForkServer(torch=torch)
            except OSError:
                return None
        return _SERVER


def _exit_note(code: int | None, timed_out: bool, limits: Limits, jobdir: str) -> str | None:
    if timed_out:
        return f"stopped after the time limit of {limits.timeout:g} s"
    if code is None:
        return "the process ended without a result"
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else "?"
        note = f"the process was killed by signal {name}"
        return note + (" (often: out of memory)" if -code == signal.SIGKILL else "")
    if code != 0 and not os.path.exists(os.path.join(jobdir, "done.json")):
        return f"the process exited with status {code}"
    return None


def _run_child(jobdir: str, limits: Limits, needs_torch: bool) -> tuple[bool, str | None, str]:
    log_path = os.path.join(jobdir, "output.log")
    token = secrets.token_hex(16)
    server = fork_server()
    if server is not None:
        pid = server.spawn(jobdir, _child_env(token, jobdir), needs_torch)
        if pid is not None:
            code = server.wait(pid, limits.timeout)
            timed_out = code is None and server.alive
            _kill_group(pid)
            if code is None:
                code = server.wait(pid, 5)
            _kill_stragglers(token)
            return timed_out, _exit_note(code, timed_out, limits, jobdir), _tail(log_path)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "autograder._worker", jobdir],
            cwd=jobdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_child_env(token, jobdir),
            start_new_session=True,
        )
        timed_out = False
        try:
            proc.wait(timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(proc.pid)
            proc.wait()
            _kill_stragglers(token)
    return timed_out, _exit_note(proc.returncode, timed_out, limits, jobdir), _tail(log_path)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_stragglers(token: str) -> None:
    """Kill processes the worker started that left its process group (``os.setsid()``).

    They still carry the job's token in their environment. A process caught between fork
    and exec can be missed by one pass over /proc, so passes repeat, 20 ms apart, until two
    in a row find nothing. A process that replaced its environment with ``execve`` escapes
    this; full isolation needs OS support (a PID namespace or a cgroup).
    """
    marker = f"{JOB_TOKEN_VAR}={token}".encode()
    quiet = 0
    for _ in range(50):  # at most ~1 s, against a process that keeps forking
        if _kill_marked(marker):
            quiet = 0
        else:
            quiet += 1
            if quiet == 2:
                return
        time.sleep(0.02)


def _kill_marked(marker: bytes) -> bool:
    """One pass over /proc: SIGKILL every process whose environment holds ``marker``."""
    killed = False
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else []:
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as handle:
                if marker in handle.read():
                    os.kill(int(entry.name), signal.SIGKILL)
                    killed = True
        except (OSError, ValueError):
            continue
    return killed


def _tail(path: str, limit: int = 1500) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _read(jobdir: str, stem: str) -> tuple[dict, dict] | None:
    path, npz = os.path.join(jobdir, f"{stem}.json"), os.path.join(jobdir, f"{stem}.npz")
    try:
        if os.path.getsize(path) > MAX_JSON_BYTES or os.path.getsize(npz) > MAX_RESULT_BYTES:
            return {"status": "error", "error": "the returned value is too large"}, {}
        with open(path) as handle:
            payload = json.load(handle)
        with np.load(npz, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return (payload, arrays) if isinstance(payload, dict) else None


def _collect(jobdir: str, n_cases: int) -> JobResult:
    setup = _read(jobdir, "setup")
    errors = setup[0].get("errors", []) if setup else []
    setup_errors = [str(e)[:500] for e in errors] if isinstance(errors, list) else []
    unprotected = setup[0].get("unprotected", []) if setup else []
    cases = []
    for index in range(n_cases):
        read = _read(jobdir, f"case-{index}")
        if read is None:
            cases.append(CaseResult("missing"))
            continue
        payload, arrays = read
        status = payload.get("status")
        if status not in ("ok", "error", "not_implemented", "undefined"):
            cases.append(CaseResult("error", error="the worker wrote a malformed result"))
            continue
        case = CaseResult(status, error=str(payload["error"])[:600] if payload.get("error") else None)
        try:
            if status == "ok":
                case.value = wire.decode_data(payload.get("value"), arrays)
            if isinstance(payload.get("args_after"), list):
                case.args_after = [wire.decode_data(v, arrays) for v in payload["args_after"]]
        except (ValueError, TypeError, KeyError, RecursionError):
            case = CaseResult("error", error="the returned value could not be read back")
        cases.append(case)
    return JobResult(cases=cases, setup_errors=setup_errors,
                     unprotected=[str(u) for u in unprotected][:5] if isinstance(unprotected, list) else [])
