"""A throwaway copy of the working tree, so that `make bench` never touches the user's own _build.

The copy holds what git would see (tracked files plus untracked files that are not ignored), and
the vendored front-end files (_vendor/, made by `make assets`). It never holds .venv: commands in
the copy use the repository's .venv by absolute path. node_modules is linked, not copied: chapter 7
runs node-oidc-provider from it, and nothing in the copy writes there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
BIN = VENV / "bin"


def tree_files(root: Path = ROOT) -> list[str]:
    """Tracked files and untracked-but-not-ignored ones, relative to ``root`` (that exist right now)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8")
    names = sorted({name for name in out.split("\0") if name})
    # A tracked file deleted in the working tree is still listed: copy what is there.
    return [name for name in names if (root / name).is_file()]


def make_copy(dest_parent: str | None = None, root: Path = ROOT) -> Path:
    """Copy the working tree into a fresh temporary directory and return it. File times are kept
    (make compares them). The caller removes it (:func:`remove_copy`)."""
    dest = Path(tempfile.mkdtemp(prefix="joselab-bench-", dir=dest_parent))
    for name in tree_files(root):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)
    vendor = root / "_vendor"
    if vendor.is_dir():
        shutil.copytree(vendor, dest / "_vendor", symlinks=True)
    modules = root / "node_modules"
    if modules.is_dir():
        (dest / "node_modules").symlink_to(modules, target_is_directory=True)
    return dest


def copy_env(copy: Path) -> dict[str, str]:
    """The environment for commands run in the copy: the repository's .venv first on PATH, and the
    copy's own joselab first on the import path (the venv's editable install points at ROOT)."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    env["PYTHONPATH"] = str(copy) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONHASHSEED"] = "0"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env.pop("MAKEFLAGS", None)  # make bench's own flags must not leak into the copy's make
    env.pop("MFLAGS", None)
    env.pop("MAKELEVEL", None)
    return env


def remove_copy(copy: Path) -> None:
    shutil.rmtree(copy, ignore_errors=True)
