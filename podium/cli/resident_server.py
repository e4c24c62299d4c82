"""The resident process itself: imports once, then forks a child for each command.

Started by ``podium.cli.resident.start`` as ``python -m podium.cli.resident_server FOLDER
NAME``.
It holds a lock file for as long as it lives (a second one started at the same moment
finds it taken and leaves), listens on its socket, and waits in one thread, with
``select``, for commands, for its children's exits and for callers that went away. A
caller gone before its child ended is a caller killed outright: the child is killed too.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import signal
import socket
import struct
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.cli.resident import HEADER, IDLE_SECONDS, paths

# What a run imports, from its entry points down (they bring their libraries); and the
# libraries a run imports only once it needs them (memory, checkpoints, the embedder).
# Not onnxruntime: its import starts a thread of its own, which a forked child would lack
# (the child imports it, about 50 ms).
WARM = (
    "podium.cli.main",
    "podium.cli.render",
    "podium.agent",
    "podium.planner.graph",
    "podium.planner.router",
    "podium.plugins",
    "podium.tools.builtin",
    "podium.tools.sandbox",
    "podium.tools.subagents",
    "podium.memory.store",
    "podium.memory.embeddings",
    "podium.memory.heap",
    "podium.storage.sqlite",
    "podium.storage.serde",
    "podium.guardrails.validators",
    "podium.tracing.audit",
    "podium.tracing.recovery",
    "podium.tracing.views",
    "langchain_core.tracers.stdout",
    "langchain_core.tracers.run_collector",
    "tokenizers",
    "tiktoken_ext.openai_public",
    "chromadb.telemetry.product.posthog",
    "chromadb",
    "chromadb.api.rust",
    "chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2",
    "langgraph.checkpoint.sqlite.aio",
    "aiosqlite",
    "tiktoken",
    "langchain_openai",
)
RECEIVE_TIMEOUT = 5.0  # a caller that connects and sends nothing holds no one up for long


def main() -> None:
    """Serve as the resident process named on the command line (a child runs its command)."""
    place, name = Path(sys.argv[1]), sys.argv[2]
    idle = _seconds(os.environ.get("PODIUM_RESIDENT_IDLE"), IDLE_SECONDS)
    job = Server(place, name, idle).serve()
    if job is not None:  # in a child: the command, then a normal interpreter exit
        job.run()


def _seconds(text: str | None, default: float) -> float:
    try:
        return max(0.1, float(text)) if text else default
    except ValueError:
        return default


@dataclass
class Job:
    """A command in a forked child: the caller's streams, folder, environment and arguments."""

    arguments: list[str]
    cwd: str
    env: dict[str, str]

    def run(self) -> None:
        """Become the caller's process and run its command; never returns."""
        os.environ.clear()
        os.environ.update(self.env)
        time.tzset()
        sys.argv = self.arguments
        try:
            os.chdir(self.cwd)
        except OSError as error:
            print(f"podium: cannot enter {self.cwd}: {error.strerror}", file=sys.stderr)
            _exit(1)
        from podium.cli.main import main as command

        # click names the program after __main__'s package when it has one ("python -m
        # podium.cli...", this process's); a console script's has none: "podium".
        sys.modules["__main__"].__package__ = None
        try:
            command()
            code = 0
        except SystemExit as done:
            code = _exit_code(done.code)
        _exit(code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _exit(code: int) -> None:
    """End the child as the interpreter would, without taking its modules apart.

    What an exit owes is done: the threads that are not daemons are joined, the atexit
    functions run (the audit log's flush among them) and the streams are flushed. The
    teardown of every module and object is not: in a forked child it would touch, and so
    copy, every page it shares with the resident process (0.6-0.9 s of a trivial command).
    """
    import atexit
    import threading

    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


@dataclass
class Server:
    """The resident process's state: its socket, its running children and their callers."""

    place: Path
    name: str
    idle: float
    started: float = field(default_factory=time.time)
    served: int = 0
    last: dict[str, float] = field(default_factory=dict)
    running: dict[int, socket.socket | None] = field(default_factory=dict)
    stopping: bool = False

    def serve(self) -> Job | None:
        """Serve until stopped or idle (None); in a forked child, the command it is to run."""
        self.pid = os.getpid()
        socket_path, lock_path = paths(self.place, self.name)
        self.lock = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            import fcntl

            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another one holds it: that one serves
            os.close(self.lock)
            return None
        try:
            if not _warm():
                return None
            with contextlib.suppress(FileNotFoundError):
                socket_path.unlink()  # a socket left by one that was killed
            self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.listener.bind(str(socket_path))
            os.chmod(socket_path, 0o600)
            self.listener.listen(64)
            return self._loop()
        finally:
            if os.getpid() == self.pid:
                with contextlib.suppress(OSError):
                    socket_path.unlink()
                with contextlib.suppress(AttributeError, OSError):
                    self.listener.close()
                os.close(self.lock)

    def _loop(self) -> Job | None:
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        self.wakers = (wake_read, wake_write)
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGCHLD, _noted)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        last = time.monotonic()
        while True:
            if self.stopping and not self.running:
                return None
            waiting = self.idle - (time.monotonic() - last)
            if not self.running and not self.stopping and waiting <= 0:
                return None
            callers = [c for c in self.running.values() if c is not None]
            watched: list[Any] = [wake_read, *callers]
            if not self.stopping:
                watched.append(self.listener)
            timeout = 1.0 if self.running or self.stopping else waiting
            try:
                readable = select.select(watched, [], [], timeout)[0]
            except InterruptedError:
                continue
            if wake_read in readable:
                with contextlib.suppress(BlockingIOError):
                    while os.read(wake_read, 512):
                        pass
            if self._reap():
                last = time.monotonic()
            for caller in readable:
                if caller in callers:
                    self._caller_spoke(caller)
            if not self.stopping and self.listener in readable:
                served = self.served
                job = self._accept()
                if job is not None:
                    return job
                if self.served != served:  # a command, not a status: the idle time restarts
                    last = time.monotonic()

    def _stop(self, _number: int, _frame: object) -> None:
        self.stopping = True
        with contextlib.suppress(OSError):
            paths(self.place, self.name)[0].unlink()  # new callers run in their own process

    def _reap(self) -> bool:
        reaped = False
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return reaped
            if pid == 0:
                return reaped
            reaped = True
            self.last = {  # what the last command cost: `podium resident status` shows it
                "pid": pid,
                "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
                "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
            }
            code = os.waitstatus_to_exitcode(status)
            caller = self.running.pop(pid, None)
            if caller is not None:
                with contextlib.suppress(OSError):
                    ended = {"exit": code} if code >= 0 else {"exit": 128 - code, "signal": -code}
                    caller.sendall(_line(ended))
                caller.close()

    def _caller_spoke(self, caller: socket.socket) -> None:
        # A caller sends nothing once its command runs: readable means it went away.
        try:
            data = caller.recv(1, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            return
        for pid, known in list(self.running.items()):
            if known is caller:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)  # as the caller was: killed outright
                self.running[pid] = None
        caller.close()

    def _accept(self) -> Job | None:
        try:
            caller, _ = self.listener.accept()
        except OSError:
            return None
        try:
            caller.settimeout(RECEIVE_TIMEOUT)
            uid = struct.unpack(
                "3i",
                caller.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")),
            )[1]
            if uid != os.getuid():  # (the folder is the user's alone; this is the second lock)
                caller.close()
                return None
            message, fds = _receive(caller)
        except (OSError, ValueError):
            caller.close()
            return None
        if "control" in message:
            self._control(caller, str(message["control"]))
            for fd in fds:
                os.close(fd)
            return None
        if len(fds) != 3 or not isinstance(message.get("argv"), list):
            for fd in fds:
                os.close(fd)
            caller.close()
            return None
        pid = os.fork()
        if pid == 0:
            return self._child(caller, message, fds)
        for fd in fds:
            os.close(fd)
        self.served += 1
        try:
            caller.sendall(_line({"pid": pid}))
            caller.settimeout(None)
        except OSError:  # gone already
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            caller.close()
            self.running[pid] = None
            return None
        self.running[pid] = caller
        return None

    def _control(self, caller: socket.socket, request: str) -> None:
        with caller:
            if request == "stop":
                self._stop(signal.SIGTERM, None)
            with contextlib.suppress(OSError):
                caller.sendall(
                    _line(
                        {
                            "server": self.pid,
                            "name": self.name,
                            "started": self.started,
                            "served": self.served,
                            "running": sorted(self.running),
                            "idle": self.idle,
                            "stopping": self.stopping,
                            "last": self.last,
                            "max_rss_mb": round(_max_rss_mb(), 1),
                        }
                    )
                )

    def _child(self, caller: socket.socket, message: dict[str, Any], fds: list[int]) -> Job:
        signal.set_wakeup_fd(-1)
        for fd in self.wakers:
            os.close(fd)
        self.listener.close()
        os.close(self.lock)  # the lock is the server's: a child that outlives it holds none
        caller.close()
        for other in self.running.values():
            if other is not None:
                other.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.umask(int(message.get("umask", 0o022)) & 0o777)  # the files it makes: the caller's
        _signals_as_a_fresh_process([int(n) for n in message.get("ignored", [])])
        _standard_streams()
        return Job(
            arguments=[str(a) for a in message["argv"]],
            cwd=str(message.get("cwd", "/")),
            env={str(k): str(v) for k, v in dict(message.get("env", {})).items()},
        )


def _max_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _noted(_number: int, _frame: object) -> None:
    """A handler, so that the signal reaches the wakeup pipe; the loop does the work."""


def _warm() -> bool:
    """Import what a run imports; False if that left a thread running (forking is unsafe)."""
    from podium.privacy import quiet_environment

    quiet_environment()
    # numpy's OpenBLAS starts its threads at import; OpenBLAS stops them before a fork and
    # starts them again when next needed (its own fork handler), so they are counted apart.
    with contextlib.suppress(ImportError):
        import numpy  # noqa: F401
    expected = _threads()
    for module in WARM:
        try:
            importlib.import_module(module)
        except Exception:  # the child meets the same error, and reports it as a run would
            traceback.print_exc()
    if _threads() != expected:
        print(f"podium resident: {_threads()} threads after the imports; not serving", flush=True)
        return False
    import gc

    gc.collect()
    gc.freeze()  # what is here now is never collected in a child: its pages stay shared
    return True


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _signals_as_a_fresh_process(ignored: list[int]) -> None:
    for name in (
        "SIGCHLD",
        "SIGTERM",
        "SIGHUP",
        "SIGQUIT",
        "SIGUSR1",
        "SIGUSR2",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGWINCH",
        "SIGCONT",
        "SIGALRM",
    ):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as Python sets it at start
    for number in ignored:  # what the caller ignored, its command ignores too
        with contextlib.suppress(OSError, ValueError):
            signal.signal(number, signal.SIG_IGN)


def _standard_streams() -> None:
    """New sys.stdin, stdout and stderr on the caller's descriptors, buffered as Python does."""
    import io

    made = []
    for fd, old in ((0, sys.__stdin__), (1, sys.__stdout__), (2, sys.__stderr__)):
        encoding = getattr(old, "encoding", None) or "utf-8"
        errors = getattr(old, "errors", None) or ("backslashreplace" if fd == 2 else "strict")
        if fd == 0:
            stream: Any = io.TextIOWrapper(
                open(0, "rb", closefd=False), encoding=encoding, errors=errors
            )
        else:
            stream = io.TextIOWrapper(
                open(fd, "wb", closefd=False),
                encoding=encoding,
                errors=errors,
                line_buffering=fd == 2 or os.isatty(fd),
            )
        made.append(stream)
    sys.stdin, sys.stdout, sys.stderr = made
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = made  # type: ignore[misc]


def _receive(caller: socket.socket) -> tuple[dict[str, Any], list[int]]:
    deadline = time.monotonic() + RECEIVE_TIMEOUT
    caller.settimeout(RECEIVE_TIMEOUT)
    data, fds, _, _ = socket.recv_fds(caller, 1 << 16, 3)
    try:
        return _message(caller, data, deadline), list(fds)
    except (OSError, ValueError):
        for fd in fds:
            os.close(fd)
        raise


def _message(caller: socket.socket, data: bytes, deadline: float) -> dict[str, Any]:
    if len(data) < HEADER.size:
        data += _exactly(caller, HEADER.size - len(data), deadline)
    (size,) = HEADER.unpack(data[: HEADER.size])
    if size > 1 << 24:
        raise ValueError("a message of more than 16 MB")
    body = data[HEADER.size :]
    if len(body) < size:
        body += _exactly(caller, size - len(body), deadline)
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ValueError("not an object")
    return message


def _exactly(caller: socket.socket, size: int, deadline: float) -> bytes:
    """``size`` more bytes, all within RECEIVE_TIMEOUT of the connection's start.

    One deadline for the whole message, not a time-out per read: a caller sending a byte
    every few seconds would otherwise hold every other command up as long as it likes.
    """
    chunks = []
    while size > 0:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ValueError("the caller took too long to send its command")
        caller.settimeout(left)
        chunk = caller.recv(min(size, 1 << 16))
        if not chunk:
            raise ValueError("the caller went away mid-message")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _line(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\n"


if __name__ == "__main__":
    main()
