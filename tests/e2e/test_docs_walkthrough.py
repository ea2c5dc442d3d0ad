"""The docs, run as a newcomer runs them: every shell block of README.md and docs/*.md that does
not say it is not run, verbatim, in the pages' order, in a copy of the repository.

Each block runs in a clean `bash` whose environment holds only what a user's shell has (HOME,
PATH, a locale, and how this machine reaches the package registries), plus what the pages say
to do: once a block has run `source
.venv/bin/activate`, every later block starts with it, as the reader's shell would have it.
The copy's data dir is the one the README's `make run` builds there (it creates `.venv`, lands
the sample and builds every tier). Each block must end with status 0 (a transcript's command:
with the status it says), and print what the page shows for it (tests/docs_pages.py says how
blocks, marks and expected output are read).

Nothing of the suite's own environment reaches the blocks: not ETTL_*, not DAGSTER_HOME, not the
suite's `.venv`. What the copy started is stopped at the end, by pid.
"""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs_pages import ROOT, Block, blocks, unmatched

pytestmark = pytest.mark.e2e

# The reader's order: the README's commands build the data dir and getting-started looks at it;
# sources.md adds a source to the project, so it comes after the pages about the sample.
FIRST = ("README.md", "docs/getting-started.md")
LAST = ("docs/sources.md",)
PAGES = [
    ROOT / name
    for name in (
        *FIRST,
        *sorted(
            str(page.relative_to(ROOT))
            for page in (ROOT / "docs").glob("*.md")
            if str(page.relative_to(ROOT)) not in FIRST + LAST
        ),
        *LAST,
    )
]
WALKED = [block for page in PAGES for block in blocks(page) if block.commands]
ACTIVATE = "source .venv/bin/activate"
# `make run` installs and builds a month: minutes on 2 cores. No other block takes that long.
TIMEOUT_S = 1500
LOGS = ROOT / "test-artifacts" / "docs-walkthrough"


def user_path() -> str:
    """The PATH a user's shell has: this one, less any virtual environment's bin (the suite
    itself may run from an activated one)."""
    entries = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(os.pathsep)
    return os.pathsep.join(e for e in entries if not (Path(e) / "activate").exists())


def machine_network_settings() -> dict[str, str]:
    """How this machine reaches the package registries (proxies, the CA bundle of a TLS proxy,
    pip's and uv's index settings): a user's shell here has them too, and `make run` installs
    through them. Nothing of the project's own configuration."""
    network = re.compile(r"(?i).*_proxy|SSL_CERT_\w+|\w*CA_BUNDLE|PIP_\w+|UV_\w+")
    return {name: value for name, value in os.environ.items() if network.fullmatch(name)}


def copy_of_the_repository(target: Path) -> Path:
    """The repository's files as a clone has them (tracked, and new files not ignored): no
    .venv, no data dir, no Dagster history."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # a file deleted in the work tree is still listed as tracked
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


class Reader:
    """A newcomer's shell sessions in the copy: the blocks run so far, and what they started."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.activated = False
        self.done: set[str] = set()  # the names of the blocks run

    def environment(self) -> dict[str, str]:
        return {
            **machine_network_settings(),
            "HOME": os.environ["HOME"],
            "PATH": user_path(),
            "LANG": "C.UTF-8",
        }

    def run(self, block: Block) -> list[tuple[int, int, str]]:
        """Run a block; (expected status, status, output) of each script or command."""
        prelude = f"{ACTIVATE}\n" if self.activated else ""
        if block.script:
            scripts = [
                (0, "set -eo pipefail\n" + prelude + "\n".join(c.text for c in block.commands))
            ]
        else:
            scripts = [(c.status, prelude + c.text) for c in block.commands]
        results = []
        LOGS.mkdir(parents=True, exist_ok=True)
        log = LOGS / f"{block.name.replace('/', '_').replace(':', '-')}.log"
        log.write_text("")
        for status, script in scripts:
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-c", script], cwd=self.home,
                env=self.environment(), capture_output=True, text=True, timeout=TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
            output = done.stdout + done.stderr
            with log.open("a") as written:  # a transcript's commands one after the other
                written.write(f"$ {script}\n{output}\n[exit status {done.returncode}]\n")
            results.append((status, done.returncode, output))
        self.activated = self.activated or any(
            c.text.strip().startswith(ACTIVATE) for c in block.commands
        )
        return results

    def stop_what_it_started(self) -> None:
        """The warm Spark server by its own command, then any process still running from the
        copy (its command line or working directory in it), by pid: SIGTERM, then SIGKILL."""
        if (self.home / ".venv" / "bin" / "ettl").exists():
            subprocess.run(
                ["bash", "-c", f"{ACTIVATE} && ettl spark-server stop"], cwd=self.home,
                env=self.environment(), capture_output=True, timeout=120,
            )  # fmt: skip
        for sig in (signal.SIGTERM, signal.SIGKILL):
            left = processes_in(self.home)
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + 15
            while left and processes_in(self.home) and time.monotonic() < deadline:
                time.sleep(0.5)


def processes_in(folder: Path) -> list[int]:
    """Live processes started from a folder: it is in their command line or working directory."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (str(folder) in command or cwd.startswith(str(folder))):
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def reader(tmp_path_factory) -> Iterator[Reader]:
    home = copy_of_the_repository(tmp_path_factory.mktemp("newcomer") / "ettl")
    reader = Reader(home)
    try:
        yield reader
    finally:
        reader.stop_what_it_started()
        assert processes_in(home) == [], "the walk-through left processes running"


@pytest.mark.parametrize("block", WALKED, ids=[block.name for block in WALKED])
def test_the_block_runs_as_the_page_shows(reader, block):
    # The blocks before it first, as a reader gets there (also when this one is picked alone).
    for earlier in WALKED[: WALKED.index(block)]:
        if earlier.name not in reader.done:
            reader.run(earlier)
            reader.done.add(earlier.name)
    results = reader.run(block)
    reader.done.add(block.name)
    for expected_status, status, output in results:
        assert status == expected_status, f"{block.name} exited {status}:\n{output[-4000:]}"
    printed = "\n".join(output for _, _, output in results)
    missing = unmatched(block.expected, printed)
    assert missing is None, f"{block.name} did not print {missing!r}:\n{printed[-4000:]}"


def test_the_walk_through_covers_the_newcomers_pages():
    """The README and getting-started pages are run, not only marked: their blocks that run
    include `make run` and dbt by hand."""
    walked = {block.page.name: [c.text for c in block.commands] for block in WALKED}
    run = [text for page in ("README.md", "getting-started.md") for text in walked.get(page, [])]
    assert any(text.startswith("make run") for text in run)
    for command in ("dbt show", "dbt test", "dbt build", "dagster asset materialize"):
        assert any(text.startswith(command) for text in run), command
