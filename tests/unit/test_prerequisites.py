"""What the machine must have (ettl/prerequisites.py): Java for the commands that start Spark,
a supported Python, PostgreSQL's newest installed version, each missing thing in one line.

Stand-in `java`, `apt-get` and Python executables on PATH print what a real one would."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ettl import cli, prerequisites
from ettl_assets.settings import PROJECT_ROOT


def _stand_in(folder: Path, name: str, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def java_on_path(tmp_path, monkeypatch):
    """Put a stand-in `java -version` printing `version` first on PATH (None: no java at all);
    it records each call in `calls`."""
    calls = tmp_path / "calls"

    def install(version: str | None) -> Path:
        monkeypatch.delenv("JAVA_HOME", raising=False)
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir(exist_ok=True)
        if version is not None:
            _stand_in(bin_dir, "java", f'echo java >> {calls}\n'
                      f'echo \'openjdk version "{version}" 2025-04-15\' >&2')  # fmt: skip
        # Only the stand-ins: no java of the machine's can be found behind them.
        monkeypatch.setenv("PATH", str(bin_dir))
        return calls

    return install


@pytest.mark.parametrize(
    ("printed", "major"),
    [('openjdk version "17.0.15" 2025-04-15', 17), ('openjdk version "21-ea"', 21),
     ('java version "1.8.0_392"', 8), ('openjdk version "11.0.2"', 11), ("no version", None)],
)  # fmt: skip
def test_the_major_version_is_read_from_java_version(printed, major):
    assert prerequisites.java_major(printed) == major


@pytest.mark.parametrize("version", ["17.0.15", "21.0.2", "25"])
def test_java_17_or_newer_is_enough(java_on_path, version):
    java_on_path(version)
    assert prerequisites.java_problem() is None


@pytest.mark.parametrize(("version", "found"), [("11.0.2", "11"), ("1.8.0_392", "8")])
def test_an_older_java_is_named_with_how_to_install_17(java_on_path, tmp_path, version, found):
    java_on_path(version)
    assert prerequisites.java_problem() == (
        f"Java 17 or newer is needed (found {found}, {tmp_path / 'bin' / 'java'}): "
        "sudo apt-get install openjdk-17-jre-headless"
    )


def test_no_java_at_all_is_said_so(java_on_path):
    java_on_path(None)
    assert prerequisites.java_problem() == (
        "Java 17 or newer is needed (no java on PATH): sudo apt-get install openjdk-17-jre-headless"
    )


def test_java_home_wins_over_path_as_it_does_for_pyspark(java_on_path, tmp_path, monkeypatch):
    java_on_path("17.0.15")
    home = tmp_path / "jdk11"
    _stand_in(home / "bin", "java", "echo 'openjdk version \"11.0.2\"' >&2")
    monkeypatch.setenv("JAVA_HOME", str(home))
    assert prerequisites.java_problem() == (
        f"Java 17 or newer is needed (found 11, JAVA_HOME={home}): "
        "sudo apt-get install openjdk-17-jre-headless, and point JAVA_HOME at it"
    )


def test_a_java_home_without_java_is_named(java_on_path, tmp_path, monkeypatch):
    java_on_path("17.0.15")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "gone"))
    assert prerequisites.java_problem() == (
        f"Java 17 or newer is needed ({tmp_path / 'gone' / 'bin' / 'java'}: No such file or "
        "directory): sudo apt-get install openjdk-17-jre-headless, and point JAVA_HOME at it"
    )


# ettl: the check runs for the commands that start a Spark JVM here, and only for those. The
# handlers are replaced, so a command that got past the check does nothing.
SPARK_COMMANDS = [
    ["run", "--start", "2013-01-02", "--end", "2013-01-02"],
    ["backfill", "--from-tier", "silver", "--start", "2013-01-02", "--end", "2013-01-02"],
    ["plan", "--apply"],
    ["dbt", "show", "--inline", "select 1"],
    ["restore", "--from", "file:///nowhere"],
    ["spark-server", "start"],
]
OTHER_COMMANDS = [
    ["backfill", "--from-tier", "silver", "--start", "2013-01-02", "--end", "2013-01-02",
     "--dry-run"],
    ["plan"],
    ["status"],
    ["drift"],
    ["spark-server", "stop"],
    ["backup"],
]  # fmt: skip
HANDLERS = ["run", "backfill", "plan", "dbt", "restore", "spark_server", "status", "drift",
            "backup"]  # fmt: skip


@pytest.fixture
def handled(monkeypatch):
    """Replace every handler: each records that it was called and succeeds."""
    called = []
    for name in HANDLERS:
        monkeypatch.setattr(cli, name, lambda args: called.append(args.command) or 0)
    return called


@pytest.mark.parametrize("argv", SPARK_COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_a_command_that_starts_spark_stops_in_one_line_on_java_11(
    argv, java_on_path, handled, capsys
):
    java_on_path("11.0.2")
    assert cli.main(argv) == 2
    assert handled == []
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("ettl: Java 17 or newer is needed (found 11, ")
    assert error.endswith(": sudo apt-get install openjdk-17-jre-headless\n")


def test_a_command_that_starts_spark_runs_on_java_17(java_on_path, handled):
    calls = java_on_path("17.0.15")
    assert cli.main(SPARK_COMMANDS[0]) == 0
    assert handled == ["run"]
    assert calls.read_text() == "java\n"  # one `java -version`, nothing cached


@pytest.mark.parametrize("argv", OTHER_COMMANDS, ids=" ".join)
def test_other_commands_never_run_java(argv, java_on_path, handled):
    calls = java_on_path("11.0.2")
    assert cli.main(argv) == 0
    assert handled == [argv[0]]
    assert not calls.exists()


def test_on_a_spark_server_deployment_only_a_local_server_needs_java(
    java_on_path, handled, monkeypatch
):
    calls = java_on_path("11.0.2")
    monkeypatch.setenv("ETTL_DEPLOYMENT", "thrift")  # dbt sends its SQL to the server
    assert cli.main(SPARK_COMMANDS[0]) == 0
    assert not calls.exists()
    assert cli.main(["spark-server", "start"]) == 2  # starts that server's JVM here
    assert handled == ["run"]


# Python: the supported versions are requires-python's, in one place.


def test_the_supported_pythons_are_those_of_requires_python():
    assert prerequisites.supported_pythons(">=3.11,<3.14") == ((3, 11), (3, 13))
    assert prerequisites.supported_pythons() == ((3, 11), (3, 13))
    with pytest.raises(ValueError, match="not of the form"):
        prerequisites.supported_pythons(">=3.11")


@pytest.mark.parametrize("version", [(3, 11, 7), (3, 12, 1), (3, 13, 0)])
def test_a_supported_python_passes(version):
    assert prerequisites.python_problem(version, "/x/python3") is None


@pytest.mark.parametrize("version", [(3, 10, 13), (3, 14, 0)])
def test_an_unsupported_python_is_named_with_what_to_do(version):
    found = ".".join(map(str, version))
    problem = prerequisites.python_problem(version, "/x/python3")
    assert problem.startswith(f"Python 3.11 to 3.13 is needed (found {found}, /x/python3): ")
    assert problem.endswith("make install PYTHON=python3.13")


def test_the_makefile_tests_the_newest_supported_python():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    newest = re.search(r"^NEWEST_PYTHON := (\S+)$", makefile, re.MULTILINE).group(1)
    assert newest == "{}.{}".format(*prerequisites.supported_pythons()[1])


def test_make_install_runs_the_check_with_the_system_python_before_the_venv():
    """The module must run on its own, standard library only: a missing java is one line."""
    env = {"PATH": str(Path(sys.executable).parent.parent / "no-such-dir"), "HOME": "/nonexistent"}
    result = subprocess.run(
        [sys.executable, "-I", str(PROJECT_ROOT / "ettl" / "prerequisites.py"),
         "--prefix", "make install"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "make install: Java 17 or newer is needed (no java on PATH): "
        "sudo apt-get install openjdk-17-jre-headless",
        "make install: make is needed: sudo apt-get install make",
    ]


def test_a_python_is_found_on_path_else_in_pyenv_the_newest_first(tmp_path, monkeypatch):
    ok = "exit 0"
    shims = tmp_path / "shims"
    _stand_in(shims, "python3.13", "exit 127")  # a pyenv shim of a version not selected
    root = tmp_path / "pyenv"
    for version in ("3.13.0", "3.13.2", "3.13.10t"):
        _stand_in(root / "versions" / version / "bin", "python3.13", ok)
    monkeypatch.setenv("PATH", str(shims))
    monkeypatch.setenv("PYENV_ROOT", str(root))
    assert prerequisites.find_python("3.13") == str(root / "versions/3.13.2/bin/python3.13")
    _stand_in(shims, "python3.13", ok)
    assert prerequisites.find_python("3.13") == str(shims / "python3.13")
    assert prerequisites.find_python("3.14") is None


# PostgreSQL: the newest major version installed, whichever it is.


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A machine's PostgreSQL paths, all missing until a test creates them."""
    monkeypatch.setattr(prerequisites, "POSTGRES_LIB", tmp_path / "lib")
    monkeypatch.setattr(prerequisites, "PSQL", tmp_path / "psql")
    monkeypatch.setattr(prerequisites, "POSTGRES_JDBC_JAR", tmp_path / "postgresql.jar")
    return tmp_path


def _server(machine: Path, version: str) -> None:
    _stand_in(machine / "lib" / version / "bin", "postgres", "exit 0")


def test_the_newest_installed_postgresql_is_found(machine):
    for version in ("9.6", "13", "16", "18beta1"):
        _server(machine, version)
    (machine / "lib" / "17" / "bin").mkdir(parents=True)  # a client only: no server
    assert prerequisites.postgres_bindir() == machine / "lib" / "16" / "bin"


def test_no_postgresql_server_is_none(machine):
    assert prerequisites.postgres_bindir() is None
    (machine / "lib").mkdir()
    assert prerequisites.postgres_bindir() is None


def test_what_of_postgresql_is_missing_is_named(machine):
    assert prerequisites.postgres_missing() == [
        f"a PostgreSQL server ({machine / 'lib'}/<version>/bin)",
        str(machine / "psql"),
        str(machine / "postgresql.jar"),
    ]
    _server(machine, "15")
    (machine / "psql").touch()
    (machine / "postgresql.jar").touch()
    assert prerequisites.postgres_missing() == []


@pytest.fixture
def missing_jar(machine, monkeypatch):
    """A machine with PostgreSQL 15 but no JDBC driver; apt-get is a stand-in that logs its
    arguments and then exits with $APT_EXIT."""
    _server(machine, "15")
    (machine / "psql").touch()
    log = machine / "apt-get.log"
    _stand_in(machine / "bin", "apt-get", f'echo "$*" >> {log}\nexit "${{APT_EXIT:-0}}"')
    monkeypatch.setenv("PATH", str(machine / "bin"))
    return log


def test_as_another_user_it_says_root_is_needed_and_runs_no_apt_get(missing_jar, monkeypatch,
                                                                      capsys):  # fmt: skip
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert prerequisites.main(["postgres", "--prefix", "make postgres"]) == 1
    assert capsys.readouterr().err == (
        f"make postgres: missing {missing_jar.parent / 'postgresql.jar'}; installing it needs "
        "root: sudo apt-get install --no-install-recommends postgresql libpostgresql-jdbc-java\n"
    )
    assert not missing_jar.exists()


def test_as_root_a_failing_apt_get_is_named_not_root(missing_jar, monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("APT_EXIT", "100")
    assert prerequisites.main(["postgres", "--prefix", "make postgres"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("make postgres: `apt-get update` failed (100; its output is above)")
    assert "needs root" not in error
    assert missing_jar.read_text() == "update\n"


def test_as_root_what_apt_get_did_not_install_is_named(missing_jar, monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert prerequisites.main(["postgres", "--prefix", "make postgres"]) == 1
    assert missing_jar.read_text() == (
        "update\ninstall -y --no-install-recommends postgresql libpostgresql-jdbc-java\n"
    )
    jar = missing_jar.parent / "postgresql.jar"
    assert capsys.readouterr().err == (
        f"make postgres: still missing after apt-get install: {jar}\n"
    )


def test_nothing_missing_installs_nothing(missing_jar, capsys):
    (missing_jar.parent / "postgresql.jar").touch()
    assert prerequisites.main(["postgres", "--prefix", "make postgres"]) == 0
    assert not missing_jar.exists()
    assert capsys.readouterr() == ("", "")
