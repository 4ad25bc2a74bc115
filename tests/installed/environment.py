"""lagscope as a user installs it: a wheel, in a fresh virtual environment of its own.

``install()`` builds the wheel from a copy of the repository (the build leaves nothing in
the checkout), creates a venv in a temporary folder and installs the wheel into it,
non-editably.  Its third-party packages come one of two ways:

* ``LAGSCOPE_TEST_PYTHON`` unset (the suite, ``make test``): the venv uses the interpreter
  of the development venv and sees that venv's site-packages through a ``.pth`` file, so
  the session needs no network and installs in about a second.  Only the folder is
  added: the ``.pth`` files inside it are not processed, so the development venv's
  *editable* lagscope finder is not active; ``lagscope`` resolves to the wheel's copy
  (``test_the_venv_runs_the_wheels_lagscope_not_the_checkouts`` checks it).
* ``LAGSCOPE_TEST_PYTHON=/path/to/python3.X`` (``make test-versions``): a venv of that
  interpreter, with the wheel's dependencies installed from the package index for it
  (pip's cache makes the second time fast).  The checks then run on that Python.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON_ENV = "LAGSCOPE_TEST_PYTHON"
# Not part of a build; everything else of the checkout is copied (a new package folder
# reaches the wheel, or fails the checks, as it would for a user).
SKIP = (".git", ".venv", "runs", "build", "*.egg-info", "__pycache__", ".mypy_cache",
        ".ruff_cache", ".hypothesis", ".pytest_cache", "tests", "benchmarks", "docs")  # fmt: skip
INSTALL_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Installed:
    """A venv with lagscope installed from its wheel."""

    venv: Path
    wheel: Path
    python: Path
    site_packages: Path

    @property
    def lagscope(self) -> Path:
        return self.venv / "bin" / "lagscope"

    def env(self) -> dict[str, str]:
        """The environment of a user's shell: this venv first, nothing of the checkout's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(self.venv)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def run(self, *argv: str | Path, cwd: Path, timeout: float = 300.0) -> Completed:
        """Run ``argv`` (``lagscope`` means this venv's) in ``cwd``, as a user would."""
        args = [str(self.lagscope) if a == "lagscope" else str(a) for a in argv]
        done = subprocess.run(
            args, cwd=cwd, env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        return Completed(done.returncode, done.stdout, done.stderr)

    def python_says(self, code: str, *, cwd: Path) -> str:
        done = self.run(self.python, "-c", code, cwd=cwd, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def pip_install(self, *targets: str | Path) -> None:
        """Install ``targets`` (wheels) into the venv, non-editably, without their deps."""
        _check(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(self.python),
                "install",
                "--quiet",
                "--no-deps",
                *map(str, targets),
            ]  # fmt: skip
        )


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def _check(argv: list[str], *, cwd: Path | None = None) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")


def build_wheel(project: Path, dest: Path) -> Path:
    """Build ``project``'s wheel into ``dest`` with the running environment's setuptools
    (no build isolation: no download)."""
    dest.mkdir(parents=True, exist_ok=True)
    _check(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(dest),
            str(project),
        ]  # fmt: skip
    )
    (wheel,) = [p for p in dest.glob("*.whl") if _distribution(p) == _distribution_of(project)]
    return wheel


def _distribution(wheel: Path) -> str:
    return wheel.name.split("-")[0].lower()


def _distribution_of(project: Path) -> str:
    import tomllib

    name = tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"]
    return str(name).replace("-", "_").lower()


def build_lagscope_wheel(dest: Path) -> Path:
    """The wheel of this checkout, built from a copy of it."""
    source = dest / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*SKIP))
    return build_wheel(source, dest / "dist")


def wheel_files(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def create(root: Path, wheel: Path) -> Installed:
    """A fresh venv under ``root`` with ``wheel`` installed (see the module's docstring)."""
    venv = root / "venv"
    base = os.environ.get(PYTHON_ENV)
    if base:
        _check([base, "-m", "venv", str(venv)])
    else:
        _check([sys._base_executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    installed = Installed(venv=venv, wheel=wheel, python=python, site_packages=Path(purelib))
    if base:
        _check([str(python), "-m", "pip", "install", "--quiet", str(wheel)])
    else:
        ours = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
        (installed.site_packages / "_lagscope_test_dependencies.pth").write_text(
            "".join(f"{p}\n" for p in sorted(ours))
        )
        installed.pip_install(wheel)
    return installed
