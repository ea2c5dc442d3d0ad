"""What the machine must have, checked before something fails obscurely without it: one line
per thing missing, saying how to install it.

Standard library only, and no import of the project: the Makefile runs this file with the
system's python3 before .venv exists, in isolated mode (`-I`, so the folder of this file is not
on sys.path and its modules cannot shadow the standard library's); `ettl` imports it.

    python3 -I ettl/prerequisites.py               a supported Python with venv, Java, make
    python3 -I ettl/prerequisites.py postgres      PostgreSQL's server, psql and JDBC driver,
                                                   installed with apt-get when missing (root)
    python3 -I ettl/prerequisites.py python 3.13   the path of a Python 3.13 found here
"""

from __future__ import annotations  # `str | None` annotations on a Python too old to run ettl

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

# Spark 4 runs on Java 17 or newer only.
MIN_JAVA = 17
JAVA_INSTALL = f"sudo apt-get install openjdk-{MIN_JAVA}-jre-headless"
# The supported Pythons are requires-python's: read from the checkout (make, before any
# install), else from the installed package's metadata.
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
DISTRIBUTION = "ettl-assets"
# Debian installs each PostgreSQL major version beside the others, in <major>/bin here.
POSTGRES_LIB = Path("/usr/lib/postgresql")
PSQL = Path("/usr/bin/psql")  # Debian's wrapper: runs the newest installed psql
POSTGRES_JDBC_JAR = Path("/usr/share/java/postgresql.jar")
POSTGRES_PACKAGES = ("postgresql", "libpostgresql-jdbc-java")


def java_command() -> str | None:
    """The java pyspark starts: $JAVA_HOME/bin/java when JAVA_HOME is set, else java on PATH."""
    home = os.environ.get("JAVA_HOME")
    return str(Path(home) / "bin" / "java") if home else shutil.which("java")


def java_major(output: str) -> int | None:
    """The major version `java -version` prints: "17.0.15" -> 17, "21-ea" -> 21, "1.8.0" -> 8."""
    found = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if found is None:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def java_problem() -> str | None:
    """Why Spark cannot start on this machine's Java, or None. Runs `java -version` (~0.1 s),
    not a JVM of Spark's."""
    needed = f"Java {MIN_JAVA} or newer is needed"
    java = java_command()
    home = os.environ.get("JAVA_HOME")
    fix = f"{JAVA_INSTALL}, and point JAVA_HOME at it" if home else JAVA_INSTALL
    if java is None:
        return f"{needed} (no java on PATH): {fix}"
    try:
        result = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        return f"{needed} ({java}: {exc.strerror or exc}): {fix}"
    except subprocess.TimeoutExpired:
        return f"{needed} (`{java} -version` did not answer in 60 s): {fix}"
    major = java_major(result.stderr + result.stdout)
    if major is None:
        first = (result.stderr + result.stdout).strip().splitlines()[:1]
        return f"{needed} (`{java} -version` names no version: {first}): {fix}"
    if major < MIN_JAVA:
        where = f"JAVA_HOME={home}" if home else java
        return f"{needed} (found {major}, {where}): {fix}"
    return None


def _requires_python() -> str:
    if PYPROJECT.is_file():
        found = re.search(r'^requires-python = "([^"]+)"', PYPROJECT.read_text(), re.MULTILINE)
        if found:
            return found.group(1)
    return metadata.metadata(DISTRIBUTION)["Requires-Python"]


def supported_pythons(spec: str | None = None) -> tuple[tuple[int, int], tuple[int, int]]:
    """The oldest and newest supported 3.x of requires-python (">=3.11,<3.14": 3.11 and 3.13)."""
    spec = spec or _requires_python()
    low = re.search(r">=\s*3\.(\d+)", spec)
    high = re.search(r"<\s*3\.(\d+)", spec)
    if low is None or high is None:
        raise ValueError(f"requires-python {spec!r} is not of the form >=3.X,<3.Y")
    return (3, int(low.group(1))), (3, int(high.group(1)) - 1)


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def python_problem(version: tuple[int, ...] | None = None, executable: str = "") -> str | None:
    """Why this Python cannot run the project, or None."""
    version = tuple(version or sys.version_info[:3])
    executable = executable or sys.executable
    low, high = supported_pythons()
    if low <= version[:2] <= high:
        return None
    return (
        f"Python {_dotted(low)} to {_dotted(high)} is needed (found {_dotted(version)}, "
        f"{executable}): install one (sudo apt-get install python3-venv where Debian's python3 "
        f"is one, or pyenv install {_dotted(high)}) and name it: make install "
        f"PYTHON=python{_dotted(high)}"
    )


def venv_problem() -> str | None:
    """Debian ships `python3 -m venv`'s pip (ensurepip) apart, in python3-venv."""
    if importlib.util.find_spec("ensurepip") is None:
        return "Python's venv cannot install pip here: sudo apt-get install python3-venv"
    return None


def make_problem() -> str | None:
    return None if shutil.which("make") else "make is needed: sudo apt-get install make"


def machine_problems() -> list[str]:
    """Everything `make install` needs from the machine that is missing."""
    python = python_problem()
    venv = None if python else venv_problem()
    return [p for p in (python, venv, java_problem(), make_problem()) if p]


def find_python(minor: str) -> str | None:
    """A Python `minor` ("3.13") that runs: python3.13 on PATH, else pyenv's newest 3.13.x.
    Each is run once: a pyenv shim is on PATH for every version pyenv has, but runs only the
    ones selected (`pyenv global`)."""
    wanted = tuple(int(part) for part in minor.split("."))
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    installed = sorted(
        root.glob(f"versions/{minor}.*/bin/python{minor}"),
        key=lambda path: _version_key(path.parents[1].name),
        reverse=True,
    )
    check = f"import sys; sys.exit(sys.version_info[:2] != {wanted})"
    for candidate in [shutil.which(f"python{minor}"), *installed]:
        if candidate is None:
            continue
        try:
            ran = subprocess.run([str(candidate), "-c", check], capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if ran.returncode == 0:
            return str(candidate)
    return None


def _version_key(name: str) -> tuple[int, ...]:
    """A folder's name as a version, 3.13.2 -> (3, 13, 2); one not made of numbers only
    (3.13.0t, 15beta) is (-1,)."""
    parts = name.split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else (-1,)


def postgres_bindir() -> Path | None:
    """The bin directory of the newest installed PostgreSQL server (<major>/bin)."""
    found = [path.parent for path in POSTGRES_LIB.glob("*/bin/postgres") if path.is_file()]
    found = [path for path in found if _version_key(path.parent.name) != (-1,)]
    return max(found, key=lambda path: _version_key(path.parent.name), default=None)


def postgres_missing() -> list[str]:
    """What of PostgreSQL the tests and the thrift deployment use is not installed."""
    missing = [] if postgres_bindir() else [f"a PostgreSQL server ({POSTGRES_LIB}/<version>/bin)"]
    missing += [str(path) for path in (PSQL, POSTGRES_JDBC_JAR) if not path.exists()]
    return missing


def install_postgres(prefix: str) -> int:
    """Install what is missing with apt-get, as root; say in one line why not otherwise."""
    missing = postgres_missing()
    if not missing:
        return 0
    packages = " ".join(POSTGRES_PACKAGES)
    if os.geteuid() != 0:
        print(f"{prefix}: missing {', '.join(missing)}; installing it needs root: sudo apt-get "
              f"install --no-install-recommends {packages}", file=sys.stderr)  # fmt: skip
        return 1
    print(f"{prefix}: missing {', '.join(missing)}: installing {packages}", flush=True)
    install = ["apt-get", "install", "-y", "--no-install-recommends", *POSTGRES_PACKAGES]
    for command in (["apt-get", "update"], install):
        try:
            failed = subprocess.run(command).returncode
        except OSError as exc:
            failed = str(exc)
        if failed:
            print(f"{prefix}: `{' '.join(command)}` failed ({failed}; its output is above): "
                  f"{', '.join(missing)} still missing", file=sys.stderr)  # fmt: skip
            return 1
    still = postgres_missing()
    if still:
        return _report(prefix, [f"still missing after apt-get install: {', '.join(still)}"])
    return 0


def _report(prefix: str, problems: list[str]) -> int:
    for problem in problems:
        print(f"{prefix}: {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check what the machine must have.")
    parser.add_argument("what", nargs="?", default="machine",
                        choices=["machine", "postgres", "python"])  # fmt: skip
    parser.add_argument("version", nargs="?", help="python: the X.Y to find (e.g. 3.13)")
    parser.add_argument("--prefix", default="prerequisites", help="what the lines start with")
    args = parser.parse_args(argv)
    if args.what == "machine":
        return _report(args.prefix, machine_problems())
    if args.what == "postgres":
        return install_postgres(args.prefix)
    if not args.version:
        parser.error("python needs the version to find, e.g. 3.13")
    found = find_python(args.version)
    if found is None:
        return _report(args.prefix, [
            f"Python {args.version} is needed (no python{args.version} that runs on PATH, nor "
            f"in pyenv's versions): pyenv install {args.version}, or your system's "
            f"python{args.version} package"])  # fmt: skip
    print(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
