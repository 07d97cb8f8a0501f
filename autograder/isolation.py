"""What the worker does to itself before it runs student code.

1. Resource limits: address space, file size, no core dumps, a CPU-time backstop.
2. If it runs as root, it drops every capability, so student code cannot raise those limits
   again (it keeps uid 0, and so the same file permissions as the grader).
3. Landlock (Linux >= 5.13, no privileges needed), where the kernel has it:
   - files: read anything except the reference solutions; write, create and delete only
     inside the job's own folder (plus /dev/null and friends);
   - network: no TCP connect or bind (ABI >= 4);
   - signals and abstract Unix sockets: only within the worker's own domain (ABI >= 6), so
     student code cannot kill or talk to the grader.
   These restrictions hold for the worker and everything it starts, and cannot be undone.

Where Landlock is missing, steps 1-2 still apply and :func:`apply` says what is missing;
the grader reports it. The module uses only the standard library (ctypes, os, resource).
"""
from __future__ import annotations

import ctypes
import os
import resource
from pathlib import Path

# Syscall numbers of Landlock: the same on every Linux architecture (new generic table).
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS, _PR_CAPBSET_DROP = 38, 24

# File-system access rights, by the ABI version that introduced them.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_ABI1_FS = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

_READ = EXECUTE | READ_FILE | READ_DIR
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # allowed on a non-directory
_DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/full")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 where there is none."""
    try:
        version = _libc().syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    except (OSError, AttributeError):
        return 0
    return max(0, int(version))


def set_limits(memory_mb: int, file_mb: int, cpu_seconds: int) -> None:
    for limit, value in ((resource.RLIMIT_AS, memory_mb * 2**20), (resource.RLIMIT_FSIZE, file_mb * 2**20),
                         (resource.RLIMIT_CORE, 0), (resource.RLIMIT_CPU, cpu_seconds)):
        resource.setrlimit(limit, (value, value))


def drop_capabilities() -> None:
    """As root: empty the bounding set and the effective/permitted/inheritable sets."""
    libc = _libc()
    last_cap = int(Path("/proc/sys/kernel/cap_last_cap").read_text()) if Path("/proc/sys/kernel/cap_last_cap").exists() else 40
    for cap in range(last_cap + 1):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3, all zero
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _readable_except(forbidden: list[Path]) -> list[Path]:
    """Paths whose hierarchies together cover the whole file system except ``forbidden``.

    Landlock only grants; to deny a folder we grant every sibling along the way to it.
    """
    forbidden = [p for p in forbidden if p.exists()]
    grants: list[Path] = []

    def visit(directory: Path) -> None:
        try:
            entries = list(os.scandir(directory))
        except OSError:
            return
        for entry in entries:
            path = Path(entry.path)
            if any(path == f for f in forbidden):
                continue
            target = path.resolve() if entry.is_symlink() else path
            if any(target == f or f.is_relative_to(target) for f in forbidden) and target != path:
                continue  # a link to (an ancestor of) a forbidden folder
            if entry.is_dir(follow_symlinks=False) and any(f.is_relative_to(path) for f in forbidden):
                visit(path)
            else:
                grants.append(path)

    visit(Path("/"))
    return grants


def _add_rule(libc, ruleset_fd: int, path: str | Path, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):
            access &= _FILE_RIGHTS
        attr = _PathBeneathAttr(access, fd)
        libc.syscall(_SYS_ADD_RULE, ruleset_fd, _RULE_PATH_BENEATH, ctypes.byref(attr), 0)
    finally:
        os.close(fd)


def restrict(writable: Path, unreadable: list[Path]) -> list[str]:
    """Apply Landlock to this process. Returns what could not be restricted (empty if all)."""
    abi = landlock_abi()
    if abi < 1:
        return ["files", "network", "signals"]
    handled = _ABI1_FS | (REFER if abi >= 2 else 0) | (TRUNCATE if abi >= 3 else 0) | (IOCTL_DEV if abi >= 5 else 0)
    attr = _RulesetAttr(handled, (NET_BIND_TCP | NET_CONNECT_TCP) if abi >= 4 else 0,
                        (SCOPE_SIGNAL | SCOPE_ABSTRACT_UNIX_SOCKET) if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    libc = _libc()
    ruleset_fd = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    if ruleset_fd < 0:
        return ["files", "network", "signals"]
    try:
        writable_root = writable.resolve()
        for path in _readable_except([p.resolve() for p in unreadable]):
            _add_rule(libc, ruleset_fd, path, _READ)
        _add_rule(libc, ruleset_fd, writable_root, handled)
        for device in _DEVICES:
            _add_rule(libc, ruleset_fd, device, READ_FILE | WRITE_FILE | (TRUNCATE if abi >= 3 else 0))
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return ["files", "network", "signals"]
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset_fd, 0) != 0:
            return ["files", "network", "signals"]
    finally:
        os.close(ruleset_fd)
    missing = []
    if abi < 4:
        missing.append("network")
    if abi < 6:
        missing.append("signals")
    return missing


def apply(jobdir: Path, unreadable: list[Path], memory_mb: int, file_mb: int, cpu_seconds: int) -> list[str]:
    """Everything above, in order; returns the protections this machine could not give."""
    set_limits(memory_mb, file_mb, cpu_seconds)
    if os.geteuid() == 0:
        drop_capabilities()
    return restrict(jobdir, unreadable)
