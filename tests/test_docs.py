"""The docs stay true to the repository (no Spark, no Dagster: file reads only).

- Every relative link in README.md, docs/*.md and deploy/README.md resolves to a file, and its
  `#anchor` to a heading or an `<a id>` of that file; so does every docs page (and anchor) named
  in the code, which links to the design decisions as `docs/design-decisions.md#d1`..`#d23`.
- Every repository path shown in backticks exists.
- docs/architecture.md's tree lists every module of the three packages, and nothing else.
- Every command shown in a fenced shell block of README.md or docs/*.md is run by a test (the
  table EXERCISED names the test file and the text in it that runs the command; the table itself
  is checked), or says it is not: its line, or the caption line right before or after its block,
  contains "not run by the tests".
"""

import itertools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINKED_PAGES = [*PAGES, ROOT / "deploy" / "README.md"]
NOT_RUN = "not run by the tests"
PACKAGES = ("ettl_assets", "ettl", "ettl_samples")

# A command shown in the docs counts as run when a test (or what `make test` runs) runs it: the
# command's first words, then the file that runs it and the text there that does.
EXERCISED: list[tuple[str, str, str]] = [
    ("make test", ".ci/run", "make test"),
    ("make postgres", "Makefile", "test: install lint browser postgres"),
    ("make lint", "Makefile", "test: install lint browser postgres"),
    ("ettl land", "tests/e2e/conftest.py", '"land", "--start"'),
    ("ettl run", "tests/e2e/conftest.py", '"run", "--start"'),
    ("ettl backfill", "tests/e2e/test_tier_backfills.py", '"backfill", "--from-tier"'),
    ("ettl plan", "tests/e2e/test_tier_backfills.py", 'ettl("plan", "--apply"'),
    ("ettl drift", "tests/e2e/test_when_sources_misbehave.py", 'ettl("drift", "--source"'),
    ("ettl lineage", "tests/e2e/test_pipeline.py", '"ettl"), "lineage"'),
    ("ettl status", "tests/e2e/test_crash_safety.py", '"ettl"), "status"'),
    ("ettl backup", "tests/e2e/test_backup.py", 'ettl("backup", "--to"'),
    ("ettl reconcile", "tests/e2e/test_when_sources_misbehave.py", 'ettl("reconcile", "--start"'),
    ("ettl restore", "tests/e2e/test_backup.py", 'ettl("restore", "--from"'),
    ("ettl dbt", "tests/e2e/test_warm_spark.py", '"ettl"), "dbt", "show"'),
    ("ettl spark-server start", "tests/e2e/test_cluster_deployment.py", '"spark-server", "start"'),
    (
        "ettl spark-server status",
        "tests/e2e/test_cluster_deployment.py",
        '"spark-server", "status"',
    ),
    ("ettl spark-server stop", "tests/e2e/test_cluster_deployment.py", '"spark-server", "stop"'),
    ("dbt show", "tests/e2e/test_pipeline.py", '["show", "--inline"'),
    ("dbt test", "tests/e2e/test_pipeline.py", 'dbt(["test"]'),
    ("dbt build", "tests/e2e/test_pipeline.py", 'dbt(["build"]'),
    ("dagster asset materialize", "tests/e2e/helpers.py", '"asset", "materialize"'),
    # docs/sources.md's walk-through, every block of it
    ("mkdir -p", "tests/e2e/test_new_source.py", 'walk_through_blocks(SOURCES_PAGE, "## Adding'),
    ("cat >", "tests/e2e/test_new_source.py", 'walk_through_blocks(SOURCES_PAGE, "## Adding'),
]

# Paths the docs name that a run creates (not in a fresh clone).
GENERATED = ("dbt_project/target", "dbt_project/logs")
# Paths the docs tell the reader to create (the example source of "Adding a source").
EXAMPLES = ("dbt_project/models/silver/bookings/", "dbt_project/models/bronze/_meters__sources.yml")


def without_fences(text: str) -> str:
    """The markdown outside fenced code blocks (what renders as prose, links and headings)."""
    return re.sub(r"^\s*```.*?^\s*```[ \t]*$", "", text, flags=re.M | re.S)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = page.read_text()
    found = set(re.findall(r'<a id="([^"]+)"', text))
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} (.+)$", without_fences(text), flags=re.M):
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if base in seen else base)
        seen[base] = seen.get(base, 0) + 1
    return found


def links(page: Path) -> list[str]:
    prose = re.sub(r"`[^`\n]*`", "", without_fences(page.read_text()))
    return re.findall(r"\]\(([^)\s]+)\)", prose)


def broken(page: Path, target: str) -> str | None:
    path, _, anchor = target.partition("#")
    resolved = (page.parent / path).resolve() if path else page
    if not resolved.exists():
        return f"{target}: no such file"
    if anchor and anchor not in anchors(resolved):
        return f"{target}: no heading or <a id> '{anchor}' in {resolved.name}"
    return None


def code_files() -> list[Path]:
    """The repository's code and configuration, where comments and messages point at the docs."""
    found = [
        path
        for folder in (*PACKAGES, "dbt_project", "deploy", "tests", "bench")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in {".py", ".sql", ".yml", ".yaml"}
        and not str(path.relative_to(ROOT)).startswith(GENERATED)
    ]
    return [*found, ROOT / "Makefile", ROOT / "ettl.yaml", ROOT / "deploy" / "Dockerfile"]


def joined(text: str) -> str:
    """Comment lines run together, so a reference wrapped over two lines reads as one."""
    return re.sub(r"\s*\n\s*(?:#|--)?\s*", " ", text)


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    relative = [t for t in links(page) if not re.match(r"[a-z]+:", t)]
    assert [problem for t in relative if (problem := broken(page, t))] == []


def test_the_docs_named_in_the_code_exist_with_their_anchors():
    problems = [
        f"{path.relative_to(ROOT)}: {problem}"
        for path in code_files()
        for target in re.findall(r"\bdocs/[\w-]+\.md(?:#[\w-]+)?", path.read_text())
        if (problem := broken(ROOT / "README.md", target))
    ]
    assert problems == []


def test_no_code_points_at_a_readme_section_that_is_gone():
    """The long README sections moved to docs/: a reference to one must follow them."""
    readme = without_fences((ROOT / "README.md").read_text())
    headings = set(re.findall(r"^#{1,6} (.+)$", readme, flags=re.M))
    stale = [
        f"{path.relative_to(ROOT)}: README {section!r}"
        for path in [*code_files(), *LINKED_PAGES]
        for section in re.findall(r'README[:,]? "([^"]+)"', joined(path.read_text()))
        if section not in headings
    ]
    assert stale == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_repository_path_in_backticks_exists(page):
    spans = re.findall(r"`([^`\n]+)`", without_fences(page.read_text()))
    pattern = rf"(?:{'|'.join(PACKAGES)}|tests|deploy|dbt_project|bench|docs|\.ci)/[\w./-]*"
    # A path ends in "/" (a folder) or has an extension; `ettl/backfill` is a run tag.
    paths = [
        s
        for s in spans
        if re.fullmatch(pattern, s)
        and (s.endswith("/") or "." in s.rsplit("/", 1)[-1])
        and not s.startswith(GENERATED + EXAMPLES)
    ]
    assert [p for p in paths if not (ROOT / p).exists()] == []


def tree_entries() -> list[str]:
    """The paths under the three packages in docs/architecture.md's tree block."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    block = re.search(r"^## The tree$.*?^```\n(.*?)^```$", text, flags=re.M | re.S).group(1)
    entries, stack = [], []
    for line in block.splitlines():
        name = line.split()[0] if line.strip() else ""
        depth = (len(line) - len(line.lstrip())) // 2
        if not re.fullmatch(r"[\w.]+/?", name) or len(line) - len(line.lstrip()) > 2 * len(stack):
            continue  # a description's continuation line
        stack[depth:] = [name]
        if stack[0].rstrip("/") in PACKAGES:
            entries.append("".join(stack))
    return entries


def test_the_architecture_tree_lists_every_module_and_nothing_else():
    listed = {entry for entry in tree_entries() if entry.endswith(".py")}
    modules = {
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.name != "__init__.py"
    }
    assert sorted(modules - listed) == [], "modules missing from docs/architecture.md's tree"
    assert sorted(listed - modules) == [], "docs/architecture.md's tree lists files that are gone"


def caption(lines: list[str], before: bool) -> str:
    """The paragraph right before (or after) a code block, as one line."""
    walk = reversed(lines) if before else iter(lines)
    paragraph = [
        *itertools.takewhile(str.strip, itertools.dropwhile(lambda s: not s.strip(), walk))
    ]
    return " ".join(" ".join(line.split()) for line in (paragraph[::-1] if before else paragraph))


def shell_commands(page: Path) -> list[tuple[int, str, bool]]:
    """(line number, command, marked as not run) of every command in a fenced shell block: each
    line of a bash/sh block, and the `$ ` lines of an untyped or console block (a transcript).
    Continuation lines and heredoc bodies belong to the command above them."""
    lines = page.read_text().splitlines()
    commands, i = [], 0
    while i < len(lines):
        fence = re.match(r"\s*```(\w*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if re.match(r"\s*```\s*$", lines[j]))
        captions = caption(lines[:i], before=True), caption(lines[end + 1 :], before=False)
        block_marked = any(NOT_RUN in text for text in captions)
        heredoc, continued = None, False
        for number in range(i + 1, end):
            line = lines[number].strip()
            if heredoc or continued:
                heredoc = None if line == heredoc else heredoc
                continued = line.endswith("\\")
                continue
            if fence.group(1) in ("bash", "sh", "shell"):
                command = line
            elif fence.group(1) in ("", "console") and line.startswith("$ "):
                command = line[2:]
            else:
                continue
            if command and not command.startswith("#"):
                continued = command.endswith("\\")
                opened = re.search(r"<<-?'?(\w+)'?", command)
                heredoc = opened.group(1) if opened else None
                commands.append((number + 1, command, block_marked or NOT_RUN in command))
        i = end + 1
    return commands


def command_words(command: str) -> list[str]:
    """The program and its arguments, without a trailing comment, leading VAR=value settings or
    a .venv/bin/ prefix; [] for a line that only sets variables (`export A=1`)."""
    words = command.split(" #")[0].split()
    if words[:1] == ["export"]:
        words = words[1:]
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", words[0]):
        words = words[1:]
    if words:
        words[0] = words[0].removeprefix(".venv/bin/")
    return words


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_shown_is_run_by_a_test_or_says_it_is_not(page):
    unexercised = [
        f"{page.relative_to(ROOT)}:{number}: {command}"
        for number, command, marked in shell_commands(page)
        if (words := command_words(command))
        and not marked
        and not any(words[: len(key.split())] == key.split() for key, _, _ in EXERCISED)
    ]
    assert unexercised == [], f"run them in a test, or mark them '{NOT_RUN}'"


@pytest.mark.parametrize(("command", "path", "evidence"), EXERCISED, ids=[e[0] for e in EXERCISED])
def test_each_command_counted_as_run_is_run_where_the_table_says(command, path, evidence):
    assert evidence in (ROOT / path).read_text(), f"{path} no longer runs `{command}`"


def test_the_readme_is_a_front_page_that_links_every_docs_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    linked = {target.partition("#")[0] for target in links(ROOT / "README.md")}
    pages = {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")}
    assert sorted(pages - linked) == []


def test_the_checks_above_can_fail(tmp_path):
    """The parsers find what they look for: a broken link, an unknown anchor, an unrun command."""
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n[gone](missing.md) [here](#title) [bad](#nowhere)\n\n"
        "```bash\nettl run --start D\nkubectl apply -f x.yaml\n"
        "make dev  # not run by the tests\n```\n"
    )
    assert broken(page, "missing.md") == "missing.md: no such file"
    assert broken(page, "#title") is None
    assert broken(page, "#nowhere").startswith("#nowhere: no heading")
    commands = [(command_words(c)[:2], marked) for _, c, marked in shell_commands(page)]
    assert commands == [
        (["ettl", "run"], False),
        (["kubectl", "apply"], False),
        (["make", "dev"], True),
    ]
