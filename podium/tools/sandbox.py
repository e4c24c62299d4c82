"""Opening files inside a sandbox directory so that no symbolic link can lead out of it.

Checking a resolved path and then opening it leaves a window in which a component can be
swapped for a link to somewhere else. Here nothing is opened by path: the walk starts at
the sandbox's own directory descriptor and opens one component at a time relative to the
last, with ``O_NOFOLLOW``. A symbolic link met on the way is read and followed by the same
walk, so a link that stays inside the sandbox works and one that leaves it is refused,
whatever happens to it meanwhile. On Linux the opened file's path is checked once more
through ``/proc/self/fd`` (a directory moved out during the walk).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath

MAX_LINKS = 40  # symbolic links followed in one walk, as the kernel's own limit
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class OutsideSandbox(PermissionError):
    """A path that leads out of the sandbox directory."""


def _outside(path: str) -> OutsideSandbox:
    return OutsideSandbox(f"{path!r} is outside the sandbox directory; use a path inside it")


def _components(path: str, roots: tuple[Path, ...]) -> list[str]:
    """The path's components, relative to the root (absolute paths must lie inside it)."""
    if "\x00" in path:
        raise ValueError(f"{path!r} holds a NUL character; remove it")
    pure = PurePosixPath(path)
    if not pure.is_absolute():
        return list(pure.parts)
    for base in roots:
        if pure.is_relative_to(base):
            return list(pure.relative_to(base).parts)
    raise _outside(path)


def _link_target(name: str, directory: int, error: OSError) -> str:
    """Where the link ``name`` points, or the error if it is not a link."""
    try:
        return os.readlink(name, dir_fd=directory)
    except OSError:
        raise error from None


def _walk(root_fd: int, parts: list[str], path: str, roots: tuple[Path, ...]) -> tuple[int, str]:
    """Open ``parts`` below ``root_fd``: the descriptor, and its path from the root."""
    stack: list[tuple[int, str]] = []  # directories and the file opened below the root
    pending = list(reversed(parts))
    links = 0
    try:
        while pending:
            name = pending.pop()
            if name in ("", "."):
                continue
            if name == "..":
                if not stack:
                    raise _outside(path)
                os.close(stack.pop()[0])
                continue
            here = stack[-1][0] if stack else root_fd
            flags = os.O_RDONLY | (os.O_NONBLOCK if not pending else _DIRECTORY)
            try:
                stack.append((os.open(name, flags | _NOFOLLOW | _CLOEXEC, dir_fd=here), name))
                continue
            except OSError as error:
                if error.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise
                target = _link_target(name, here, error)
            links += 1
            if links > MAX_LINKS:
                raise OSError(errno.ELOOP, f"too many symbolic links in {path!r}")
            if target.startswith("/"):  # a link by absolute path: from the root again
                while stack:
                    os.close(stack.pop()[0])
                target_parts = _components(target, roots)
            else:
                target_parts = list(PurePosixPath(target).parts)
            pending.extend(reversed(target_parts))
        relative = "/".join(name for _, name in stack)
        fd = stack.pop()[0] if stack else os.dup(root_fd)
        return fd, relative
    finally:
        for fd, _ in stack:
            os.close(fd)


def _confirm_inside(fd: int, root: Path, path: str) -> None:
    """Refuse a descriptor whose file is no longer below the root (Linux only)."""
    try:
        real = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return  # no /proc: the walk alone stands
    if not Path(real).is_relative_to(root):
        raise _outside(path)


def open_inside(root: Path, path: str, *, directory: bool = False) -> tuple[int, str]:
    """A read-only descriptor of ``path`` in ``root`` and its path relative to the root.

    Raises OutsideSandbox for a path (or a link on it) that leads out of the root,
    FileNotFoundError when there is no such file or directory, and IsADirectoryError or
    NotADirectoryError when it is not of the kind asked for.
    """
    real_root = root.resolve()
    roots = (real_root, Path(os.path.abspath(root)))
    parts = _components(path, roots)
    root_fd = os.open(real_root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        fd, relative = _walk(root_fd, parts, path, roots)
    finally:
        os.close(root_fd)
    try:
        _confirm_inside(fd, real_root, path)
        mode = os.fstat(fd).st_mode
        if directory and not stat.S_ISDIR(mode):
            raise NotADirectoryError(f"{path!r} in the sandbox is not a directory")
        if not directory and not stat.S_ISREG(mode):
            raise IsADirectoryError(f"{path!r} in the sandbox is not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, relative
