"""The walls around the worker process: rlimits, no_new_privs, Landlock and seccomp.

``apply()`` is called by ``pycontract.worker`` once, after it has imported everything it needs
and opened the ledger read-only, and before it reads the first request (so before any contract
source is even parsed). Each layer reports what it did; a layer the kernel does not offer is
reported as unavailable rather than failing the worker (rlimits and no_new_privs are always
required). See docs/sandbox.md for what each layer enforces.

Everything here is Linux-specific and uses only ctypes (no compiled extension):

* rlimits: address space, CPU seconds (re-armed per request by ``set_cpu_budget``), open files,
  processes (ineffective for root, hence seccomp), core dumps, file size 0.
* ``prctl(PR_SET_NO_NEW_PRIVS)``: required by unprivileged seccomp/Landlock, and stops any
  set-uid gain should an exec ever slip through.
* Landlock: deny every filesystem write, make-node, rename/link, truncate and device ioctl
  everywhere; allow reads only beneath the interpreter's and the package's directories and the
  ledger's directory; deny TCP bind/connect (ABI >= 4); deny signals to processes outside the
  sandbox and abstract unix sockets (ABI >= 6).
* seccomp (through libseccomp): execve/execveat, fork/vfork/clone without CLONE_THREAD (clone3
  reports ENOSYS so libc falls back to the filtered clone), socket creation and networking,
  ptrace and cross-process memory access, mounts, namespaces, keyrings, bpf, perf, kernel
  modules, io_uring and similar fail with EPERM.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import signal
import sys

GiB = 1024**3

#: defaults used by the worker; the host may override them
DEFAULT_LIMITS = {
    "address_space": 2 * GiB,
    "cpu_seconds": 120,  # per request; see set_cpu_budget
    "cpu_hard_seconds": 24 * 3600,  # lifetime ceiling of one worker process
    "open_files_margin": 16,
}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

PR_SET_NO_NEW_PRIVS = 38
PR_GET_NO_NEW_PRIVS = 39


# ------------------------------------------------------------------------------- rlimits


def _set(res, soft, hard=None):
    hard = soft if hard is None else hard
    resource.setrlimit(res, (soft, hard))


def set_cpu_budget(seconds: int) -> None:
    """Arm RLIMIT_CPU so this process gets SIGXCPU after ``seconds`` more CPU seconds."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = spent + int(seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _highest_open_fd() -> int:
    try:
        fds = [int(n) for n in os.listdir("/proc/self/fd")]
    except OSError:
        return 64
    return max(fds) if fds else 2


def apply_rlimits(limits: dict) -> dict:
    nofile = _highest_open_fd() + 1 + int(limits["open_files_margin"])
    _set(resource.RLIMIT_AS, int(limits["address_space"]))
    _set(resource.RLIMIT_CORE, 0)
    _set(resource.RLIMIT_FSIZE, 0)
    _set(resource.RLIMIT_NPROC, 0)
    _set(resource.RLIMIT_NOFILE, nofile)
    _set(resource.RLIMIT_CPU, int(limits["cpu_hard_seconds"]))
    set_cpu_budget(int(limits["cpu_seconds"]))
    # a write beyond RLIMIT_FSIZE fails with EFBIG instead of killing the process
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return {
        "address_space": int(limits["address_space"]),
        "cpu_seconds_per_request": int(limits["cpu_seconds"]),
        "open_files": nofile,
        "file_size": 0,
        "core": 0,
        "nproc": 0,
    }


def set_no_new_privs() -> bool:
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(e)}")
    return _libc.prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1


# ------------------------------------------------------------------------------- Landlock

_SYS_LANDLOCK = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}

LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1

FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 when Landlock is unavailable."""
    nums = _SYS_LANDLOCK.get(platform.machine())
    if nums is None:
        return 0
    v = _libc.syscall(nums[0], None, ctypes.c_size_t(0), ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return int(v) if v > 0 else 0


def apply_landlock(read_paths) -> dict:
    abi = landlock_abi()
    if abi <= 0:
        return {"enabled": False, "reason": "Landlock is not available on this kernel"}
    create, add_rule, restrict = _SYS_LANDLOCK[platform.machine()]
    fs_write = (
        FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_CHAR | FS_MAKE_DIR
        | FS_MAKE_REG | FS_MAKE_SOCK | FS_MAKE_FIFO | FS_MAKE_BLOCK | FS_MAKE_SYM
    )
    if abi >= 2:
        fs_write |= FS_REFER
    if abi >= 3:
        fs_write |= FS_TRUNCATE
    if abi >= 5:
        fs_write |= FS_IOCTL_DEV
    handled_fs = fs_write | FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
    attr = _RulesetAttr(handled_fs, 0, 0)
    size = 8
    if abi >= 4:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP
        size = 16
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
    fd = _libc.syscall(create, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if fd < 0:
        e = ctypes.get_errno()
        return {"enabled": False, "abi": abi, "reason": f"landlock_create_ruleset: {os.strerror(e)}"}
    allowed = []
    try:
        for path in read_paths:
            try:
                pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                is_dir = os.path.isdir(path)
                rule = _PathBeneathAttr(FS_READ_FILE | (FS_READ_DIR if is_dir else 0), pfd)
                r = _libc.syscall(add_rule, ctypes.c_int(fd), ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH),
                                  ctypes.byref(rule), ctypes.c_uint32(0))
                if r == 0:
                    allowed.append(path)
            finally:
                os.close(pfd)
        r = _libc.syscall(restrict, ctypes.c_int(fd), ctypes.c_uint32(0))
        if r != 0:
            e = ctypes.get_errno()
            return {"enabled": False, "abi": abi, "reason": f"landlock_restrict_self: {os.strerror(e)}"}
    finally:
        os.close(fd)
    return {
        "enabled": True,
        "abi": abi,
        "filesystem": "no writes anywhere; reads only beneath the allowed paths",
        "read_paths": allowed,
        "tcp": "denied" if abi >= 4 else "not handled (ABI < 4)",
        "signals_outside_sandbox": "denied" if abi >= 6 else "not handled (ABI < 6)",
    }


# ------------------------------------------------------------------------------- seccomp

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_MASKED_EQ = 7
CLONE_THREAD = 0x00010000


def SCMP_ACT_ERRNO(e: int) -> int:  # noqa: N802 - mirrors the C macro
    return 0x00050000 | (e & 0xFFFF)


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


#: syscalls that fail with EPERM inside the worker
DENIED_SYSCALLS = (
    # new programs and processes
    "execve", "execveat", "fork", "vfork",
    # networking and IPC endpoints
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "sendto", "sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg",
    # other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_open", "pidfd_getfd",
    "pidfd_send_signal",
    # the system
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree",
    "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "swapon", "swapoff", "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "sethostname", "setdomainname", "syslog", "quotactl", "iopl", "ioperm",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "open_by_handle_at",
    "name_to_handle_at", "personality", "memfd_create", "memfd_secret", "mknod", "mknodat",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
    "capset",
)


_LIBSECCOMP = []


def _load_libseccomp():
    if not _LIBSECCOMP:
        lib = None
        for name in ("libseccomp.so.2", "libseccomp.so"):
            try:
                lib = ctypes.CDLL(name, use_errno=True)
                break
            except OSError:
                continue
        _LIBSECCOMP.append(lib)
    return _LIBSECCOMP[0]


def apply_seccomp() -> dict:
    lib = _load_libseccomp()
    if lib is None:
        return {"enabled": False, "reason": "libseccomp (libseccomp.so.2) is not installed"}
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.restype = ctypes.c_int
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_ArgCmp)
    ]
    lib.seccomp_load.restype = ctypes.c_int
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]

    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        return {"enabled": False, "reason": "seccomp_init failed"}
    denied, unknown = [], []
    try:

        def rule(action, sysname, cmps=()):
            nr = lib.seccomp_syscall_resolve_name(sysname.encode())
            if nr < 0:
                unknown.append(sysname)
                return
            arr = (_ArgCmp * max(1, len(cmps)))(*cmps) if cmps else None
            rc = lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), arr)
            if rc != 0:
                raise OSError(-rc, f"seccomp_rule_add({sysname}): {os.strerror(-rc)}")
            denied.append(sysname)

        for sysname in DENIED_SYSCALLS:
            rule(SCMP_ACT_ERRNO(errno.EPERM), sysname)
        # clone without CLONE_THREAD is a new process; threads stay possible
        rule(SCMP_ACT_ERRNO(errno.EPERM), "clone", [_ArgCmp(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)])
        # clone3 passes its flags in memory, which seccomp cannot inspect: report ENOSYS so
        # libc falls back to clone, filtered above
        rule(SCMP_ACT_ERRNO(errno.ENOSYS), "clone3")
        rc = lib.seccomp_load(ctx)
        if rc != 0:
            return {"enabled": False, "reason": f"seccomp_load: {os.strerror(-rc)}"}
    finally:
        lib.seccomp_release(ctx)
    return {"enabled": True, "denied": denied, "unknown_on_this_arch": unknown}


# ------------------------------------------------------------------------------- all layers


def default_read_paths(extra=()) -> list[str]:
    """Directories the worker may still read after sandboxing: the interpreter, its libraries,
    the import path (lazy imports) and whatever the caller adds (the ledger's directory)."""
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    paths += [p for p in sys.path if p]
    here = os.path.dirname(os.path.abspath(__file__))
    paths += [os.path.dirname(here)]
    paths += ["/usr/lib", "/usr/lib64", "/lib", "/lib64", "/etc/ld.so.cache", "/dev/null",
              "/dev/urandom"]
    paths += list(extra)
    out = []
    for p in paths:
        p = os.path.abspath(p)
        if p == "/":  # never the whole filesystem (e.g. the working directory on sys.path)
            continue
        if os.path.exists(p) and p not in out:
            out.append(p)
    return out


def apply(limits: dict | None = None, read_paths=None) -> dict:
    """Apply every layer; return a report of what is in force. Raises if rlimits or
    no_new_privs cannot be set (those are never optional)."""
    lim = dict(DEFAULT_LIMITS)
    lim.update(limits or {})
    _load_libseccomp()  # before Landlock narrows what can be read
    report = {"rlimits": apply_rlimits(lim), "no_new_privs": set_no_new_privs()}
    try:
        report["landlock"] = apply_landlock(read_paths if read_paths is not None else default_read_paths())
    except Exception as e:  # noqa: BLE001 - best effort, reported
        report["landlock"] = {"enabled": False, "reason": f"{type(e).__name__}: {e}"}
    try:
        report["seccomp"] = apply_seccomp()
    except Exception as e:  # noqa: BLE001 - best effort, reported
        report["seccomp"] = {"enabled": False, "reason": f"{type(e).__name__}: {e}"}
    return report


def probe(scratch_dir: str) -> dict:
    """Try what the sandbox must refuse; return {attempt: "refused: ..." | "ALLOWED"}.
    Used by the tests (from inside a sandboxed process) and by nothing else."""
    out = {}

    def attempt(name, fn):
        try:
            fn()
        except OSError as e:
            out[name] = f"refused: {errno.errorcode.get(e.errno, e.errno)}"
        else:
            out[name] = "ALLOWED"

    def do_fork():
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)

    def do_exec():
        os.execv("/bin/true", ["/bin/true"])

    def do_socket():
        import socket

        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()

    def do_unix_socket():
        import socket

        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()

    def do_write():
        with open(os.path.join(scratch_dir, "written-by-sandbox"), "wb") as f:
            f.write(b"x")

    def do_read_etc():
        with open("/etc/hostname", "rb") as f:
            f.read()

    def do_kill_parent():
        os.kill(os.getppid(), 0)

    attempt("fork", do_fork)
    attempt("exec", do_exec)
    attempt("socket_inet", do_socket)
    attempt("socket_unix", do_unix_socket)
    attempt("file_write", do_write)
    attempt("read_etc_hostname", do_read_etc)
    attempt("signal_parent", do_kill_parent)
    return out
