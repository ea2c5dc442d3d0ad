"""The docs stay true to the repository (no Spark, no Dagster: file reads only).

- Every relative link in README.md, docs/*.md and deploy/README.md resolves to a file, and its
  `#anchor` to a heading or an `<a id>` of that file; so does every docs page (and anchor) named
  in the code, which links to the design decisions as `docs/design-decisions.md#d1`..`#d23`.
- Every repository path shown in backticks exists.
- docs/architecture.md's tree lists every module of the three packages, and nothing else.
- Every command of a shell block that the docs walk-through (tests/e2e/test_docs_walkthrough.py)
  does not run says why: "not run by the tests: <reason>" on its line or in its block's caption.
"""

import re
from pathlib import Path

import pytest

from tests.docs_pages import NOT_RUN, ROOT, blocks, unmatched

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINKED_PAGES = [*PAGES, ROOT / "deploy" / "README.md"]
PACKAGES = ("ettl_assets", "ettl", "ettl_samples")

# Paths the docs name that a run creates (not in a fresh clone).
GENERATED = ("dbt_project/target", "dbt_project/logs")
# Paths the docs tell the reader to create (the example source of "Adding a source").
EXAMPLES = ("dbt_project/models/silver/bookings/",)


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


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_not_run_says_why(page):
    """What the walk-through leaves out carries its reason, so "not run" is a decision a reader
    can check, never a way to hide a command that fails."""
    marks = [(block.name, m) for block in blocks(page) for m in block.not_run]
    assert [(name, m) for name, m in marks if not re.fullmatch(rf"{NOT_RUN}: \S.{{8,}}", m)] == []


def test_the_readme_is_a_front_page_that_links_every_docs_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    linked = {target.partition("#")[0] for target in links(ROOT / "README.md")}
    pages = {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")}
    assert sorted(pages - linked) == []


def test_the_checks_above_can_fail(tmp_path):
    """The parsers find what they look for: a broken link, an unknown anchor, the commands a
    block runs and leaves out, a transcript's expected output and status."""
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n[gone](missing.md) [here](#title) [bad](#nowhere)\n\n"
        "```bash\nettl run --start D\ncat > f <<'EOF'\na # not run by the tests: inside\nEOF\n"
        "make dev  # not run by the tests: serves until stopped\n```\n\n"
        "```console\n$ ettl lineage flight   # exit status 2\nettl: no asset 'flight'\n```\n"
    )
    assert broken(page, "missing.md") == "missing.md: no such file"
    assert broken(page, "#title") is None
    assert broken(page, "#nowhere").startswith("#nowhere: no heading")
    script, transcript = blocks(page)
    assert [c.text.split()[0] for c in script.commands] == ["ettl", "cat"]
    assert script.not_run == ("not run by the tests: serves until stopped",)
    assert [(c.text.split()[:2], c.status) for c in transcript.commands] == [
        (["ettl", "lineage"], 2)
    ]
    assert unmatched(transcript.expected, "ettl:  no asset 'flight'") is None
    assert unmatched(["took ... s", "..."], "a\ntook 3.2 s") is None
    assert unmatched(["b", "a"], "a\nb") == "a"  # in order
