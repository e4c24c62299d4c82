"""The resident process: a run's libraries imported once, and a forked child per command.

Most of a trivial ``podium run`` is importing what it is built on (langgraph and
langchain-core, guardrails-ai, chromadb, onnxruntime; BENCHMARKS.md, "Cold start"). The
first ``podium run``, ``resume`` or ``chat`` starts this process in the background and runs
its own command as before; later ones connect to it over a Unix socket in a folder only
the user can open. For each, it forks a child that takes the caller's standard streams
(passed as file descriptors), working folder, environment and arguments, and runs the
command as the caller would have; its exit status goes back to the caller, which exits
with it. Signals the caller gets (Ctrl-C, SIGTERM, SIGHUP, Ctrl-Z) are passed on to the
child, and a caller killed outright takes its child with it.

The process only imports modules: it runs no command itself and starts no thread, so each
child begins where a fresh interpreter would be after those imports. Its name is a key of
what the imports depend on (the interpreter, the installed packages, podium's own source
files, the environment variables libraries read at import), so after an upgrade, an edit
or another PYTHONPATH the next command starts a new one. One ends after
PODIUM_RESIDENT_IDLE seconds (default 600) without a command. PODIUM_RESIDENT=0 turns it
off; ``podium resident status`` and ``stop``.

Only the standard library is imported here: the caller's side is on every command's path.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys
from pathlib import Path
from typing import Any

COMMANDS = frozenset({"run", "resume", "chat"})  # the ones that load a run's libraries
IDLE_SECONDS = 600.0
OFF = frozenset({"0", "off", "false", "no"})
# Variables the libraries podium imports read when they are imported (not when called):
# a resident process that imported them under other values would not behave as a fresh one.
IMPORT_TIME_VARIABLES = (
    "PYTHON",
    "LANG",
    "LC_",
    "LANGCHAIN_",
    "LANGSMITH_",
    "LANGGRAPH_",
    "CHROMA_",
    "OTEL_",
    "HF_",
    "TRANSFORMERS_",
    "TOKENIZERS_",
    "OMP_",
    "ORT_",
    "ANONYMIZED_TELEMETRY",
    "GUARDRAILS_",
    # Read into module constants at import: the embedder's folder (~/.cache), tempfile's.
    "HOME",
    "XDG_",
    "TMPDIR",
)
FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGWINCH", "SIGUSR1", "SIGUSR2")
HEADER = struct.Struct(">I")  # the length of each message, before it
MAX_SOCKET_PATH = 107  # bytes of a Unix socket's path on Linux, less its final NUL


def wanted(arguments: list[str], environ: dict[str, str] | os._Environ[str]) -> bool:
    """Whether this command goes to the resident process (it is on, and the command loads)."""
    if environ.get("PODIUM_RESIDENT", "1").strip().lower() in OFF:
        return False
    if not sys.platform.startswith("linux"):  # fork after imports, SCM_RIGHTS: Linux only
        return False
    words = [a for a in arguments if a != "--debug"]
    return bool(words) and words[0] in COMMANDS


def folder(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path | None:
    """The folder of the sockets, made for this user alone; None when it is not safe to use.

    PODIUM_RESIDENT_DIR, else $XDG_RUNTIME_DIR/podium, else /tmp/podium-UID. A folder that
    someone else owns, or that others may open, is not used (the command runs in its own
    process): another user who could reach the socket could run commands as this one.
    """
    named = environ.get("PODIUM_RESIDENT_DIR")
    if named:
        place = Path(named)
    elif environ.get("XDG_RUNTIME_DIR"):
        place = Path(environ["XDG_RUNTIME_DIR"]) / "podium"
    else:
        place = Path("/tmp") / f"podium-{os.getuid()}"
    try:
        place.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = place.lstat()
    except OSError:
        return None
    if not _private(found):
        return None
    return place


def _private(found: os.stat_result) -> bool:
    import stat

    return (
        stat.S_ISDIR(found.st_mode)
        and found.st_uid == os.getuid()
        and not found.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    )


def key(environ: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """A name for what a resident process's imports depend on; another install, another name.

    Also its resource limits, priority and CPUs, which its children inherit and cannot all
    set back.
    """
    import hashlib

    digest = hashlib.blake2b(digest_size=8)
    digest.update(f"{sys.executable}\0{sys.version}\0".encode())
    for entry in sys.path:  # a package installed or removed changes its folder's time
        with contextlib.suppress(OSError):
            digest.update(f"{entry}\0{os.stat(entry or '.').st_mtime_ns}\0".encode())
    for path, mtime, size in _sources(Path(__file__).resolve().parents[1]):
        digest.update(f"{path}\0{mtime}\0{size}\0".encode())
    digest.update(repr(_limits()).encode())  # (ulimit: one resident process per set)
    # and its priority and CPUs (nice, taskset), which its children inherit the same way
    digest.update(repr((os.getpriority(os.PRIO_PROCESS, 0), _cpus())).encode())
    for name in sorted(environ):
        if name.startswith(IMPORT_TIME_VARIABLES):
            digest.update(f"{name}={environ[name]}\0".encode())
    return digest.hexdigest()


def _sources(package: Path) -> list[tuple[str, int, int]]:
    found = []
    for root, folders, files in os.walk(package):
        folders[:] = sorted(f for f in folders if f != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                with contextlib.suppress(OSError):
                    status = os.stat(os.path.join(root, name))
                    found.append((os.path.join(root, name), status.st_mtime_ns, status.st_size))
    return found


def paths(place: Path, name: str) -> tuple[Path, Path]:
    """The socket and the lock file of the resident process named ``name``."""
    return place / f"{name}.sock", place / f"{name}.lock"


# --- the caller's side ----------------------------------------------------------------


def hand_over(arguments: list[str]) -> int | None:
    """Run the command in a child of the resident process; its exit code, or None.

    None: there is no resident process to take it (one is started for the next command)
    or this process cannot hand its streams over; the caller runs the command itself.
    """
    place = folder()
    if place is None or not _streams_open():
        return None
    name = key()
    socket_path, _ = paths(place, name)
    if len(os.fsencode(socket_path)) > MAX_SOCKET_PATH:  # bind would fail: never start one
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(socket_path))
    except OSError:
        connection.close()
        start(place, name)
        return None
    with connection:
        try:
            cwd = os.getcwd()
        except OSError:  # a folder removed under the caller: the command says so, here
            return None
        header: dict[str, Any] = {
            "argv": [sys.argv[0], *arguments],
            "cwd": cwd,
            "env": dict(os.environ),
            "umask": _umask(),
        }
        pending: list[int] = []
        child: list[int] = []
        previous, ignored = _forward_signals(child, pending)
        header["ignored"] = ignored  # the command ignores them too, as it would here
        try:
            try:
                _send(connection, header, fds=[0, 1, 2])
                replies = connection.makefile("rb")
                first = _reply(replies)
            except OSError:  # it ended (stopped, idle, killed) before taking the command
                first = None
            if first is None or "pid" not in first:
                return None  # it refused (a stop under way) or is gone: run here
            child.append(int(first["pid"]))
            for number in pending:
                _signal(child[0], number)
            try:
                last = _reply(replies)
            except OSError:
                last = None
            if last is None or "exit" not in last:
                _wait_gone(child[0])  # signals still go to it (Ctrl-C ends it, not this)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
    if last is not None and "exit" in last:
        if "signal" in last:  # its command was killed by a signal: so is this process
            _die_by(int(last["signal"]))
        return int(last["exit"])
    print(
        "podium: the resident process ended before the command did; its exit status is "
        "lost (run it again, or with PODIUM_RESIDENT=0 to run it in this process)",
        file=sys.stderr,
    )
    return 1


def _die_by(number: int) -> None:
    """End as a process killed by signal ``number`` (its parent sees that, not a code)."""
    with contextlib.suppress(OSError, ValueError):
        if number not in (signal.SIGSTOP, signal.SIGTSTP, signal.SIGCONT, signal.SIGCHLD):
            sys.stdout.flush()
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)  # (a blocked one does not end it: the code stands)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _limits() -> list[tuple[int, int]]:
    """This process's resource limits: a child inherits the resident process's own."""
    import resource

    found = []
    for name in sorted(n for n in dir(resource) if n.startswith("RLIMIT_")):
        with contextlib.suppress(OSError, ValueError):
            found.append(resource.getrlimit(getattr(resource, name)))
    return found


def _cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return []


def _streams_open() -> bool:
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            return False
    return True


def _forward_signals(child: list[int], pending: list[int]) -> tuple[dict[int, Any], list[int]]:
    def forward(number: int, _frame: object) -> None:
        if not child:
            pending.append(number)
        elif number == signal.SIGTSTP:  # Ctrl-Z: the child stops, then this process does
            _signal(child[0], signal.SIGSTOP)
            signal.signal(signal.SIGTSTP, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTSTP)
            signal.signal(signal.SIGTSTP, forward)
        else:
            _signal(child[0], number)

    previous, ignored = {}, []
    numbers = [getattr(signal, n) for n in FORWARDED] + [signal.SIGTSTP, signal.SIGCONT]
    for number in numbers:
        if signal.getsignal(number) == signal.SIG_IGN:
            ignored.append(int(number))
            continue
        with contextlib.suppress(OSError, ValueError):
            previous[number] = signal.signal(number, forward)
    return previous, ignored


def _signal(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, number)


def _wait_gone(pid: int) -> None:
    import time

    while True:
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.05)


def _send(connection: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    body = json.dumps(message).encode()
    data = HEADER.pack(len(body)) + body
    sent = socket.send_fds(connection, [data], fds) if fds else connection.send(data)
    if sent < len(data):  # (an empty send after the server has answered and closed: EPIPE)
        connection.sendall(data[sent:])


def _reply(replies: Any) -> dict[str, Any] | None:
    line = replies.readline()
    if not line:
        return None
    try:
        answer = json.loads(line)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def start(place: Path, name: str) -> None:
    """Start the resident process named ``name`` in the background, for the next command."""
    import subprocess

    with contextlib.suppress(OSError):
        log = open(place / f"{name}.log", "ab")
        with log:
            subprocess.Popen(
                # -P and "/": the caller's folder is neither on its path (a module there
                # would be imported for every later command) nor kept busy by it.
                [sys.executable, "-P", "-m", "podium.cli.resident_server", str(place), name],
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # no terminal: Ctrl-C in the caller's does not reach it
                close_fds=True,
            )


def control(request: str) -> dict[str, Any] | None:
    """Ask this install's resident process for its ``status`` or to ``stop``; None if none."""
    place = folder()
    if place is None:
        return None
    socket_path, _ = paths(place, key())
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(5.0)
        try:
            connection.connect(str(socket_path))
            _send(connection, {"control": request})
            return _reply(connection.makefile("rb"))
        except OSError:
            return None
