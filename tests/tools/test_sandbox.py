"""Opening files inside a sandbox by walking it from its own directory descriptor."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from podium.tools.sandbox import OutsideSandbox, open_inside


def read(root: Path, path: str) -> tuple[str, str]:
    fd, relative = open_inside(root, path)
    with os.fdopen(fd) as handle:
        return handle.read(), relative


def test_paths_and_links_inside_are_followed_by_the_walk(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f.txt").write_text("found")
    (tmp_path / "up").symlink_to("a/b/../b")
    (tmp_path / "a" / "b" / "again").symlink_to("../../up/f.txt")
    assert read(tmp_path, "a/b/f.txt") == ("found", "a/b/f.txt")
    assert read(tmp_path, "./a/../a/b/f.txt") == ("found", "a/b/f.txt")
    assert read(tmp_path, "up/f.txt") == ("found", "a/b/f.txt")
    assert read(tmp_path, "a/b/again") == ("found", "a/b/f.txt")
    fd, relative = open_inside(tmp_path, ".", directory=True)
    os.close(fd)
    assert relative == ""


def test_ways_out_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (tmp_path / "secret").write_text("x")
    (root / "dotdot").symlink_to("../secret")
    (root / "absolute").symlink_to(tmp_path / "secret")
    for path in ("../secret", "a/../../secret", "dotdot", "absolute", str(tmp_path / "secret")):
        with pytest.raises(OutsideSandbox, match="outside the sandbox directory"):
            open_inside(root, path)


def test_loops_missing_files_and_bad_names_are_errors(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError, match="too many symbolic links"):
        open_inside(tmp_path, "loop")
    with pytest.raises(FileNotFoundError):
        open_inside(tmp_path, "missing")
    with pytest.raises(NotADirectoryError):
        open_inside(tmp_path, "file/below")
    with pytest.raises(IsADirectoryError, match="not a regular file"):
        open_inside(tmp_path, ".")
    with pytest.raises(ValueError, match="NUL"):
        open_inside(tmp_path, "fi\x00le")
