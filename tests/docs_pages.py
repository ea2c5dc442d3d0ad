"""The docs' pages and the shell blocks in them, as the docs walk-through runs them.

A shell block is a fenced block of language `bash`, `sh` or `shell` (a script: run verbatim as
one) or a transcript: a `console` or untyped block whose `$ ` lines are commands and whose other
lines are what those commands print. A bash block followed by a `text` block (only blank lines
between) shows its output in that block.

What is not run says so, with its reason: a command whose line holds "not run by the tests: <why>"
(a comment) is left out of its block; a block whose caption (the paragraph right before or after
it) holds it is not run at all. A transcript's command that is meant to fail says with which
status in a comment: `# exit status 2`.

Expected output is matched line by line, in order, each line against some later line of what the
block printed: runs of whitespace match any run of whitespace, `...` matches any text, and a line
that is only `...` matches nothing (it stands for lines left out).
"""

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_RUN = "not run by the tests"
SCRIPTS = {"bash", "sh", "shell"}
TRANSCRIPTS = {"console", ""}
EXIT_STATUS = re.compile(r"#\s*exit status (\d+)\s*$")


@dataclass(frozen=True)
class Command:
    text: str  # as shown, verbatim (a script's lines, with their continuations and heredocs)
    line: int  # the page's line number of its first line
    status: int = 0  # the exit status the page says it ends with


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # the page's line number of the opening fence
    script: bool  # a bash block (one script) rather than a transcript (one command per `$ `)
    commands: tuple[Command, ...]  # what runs, marked commands left out
    expected: tuple[str, ...]  # the output the page shows for it
    not_run: tuple[str, ...]  # the marks of what is left out ("not run by the tests: why")

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def caption(lines: list[str], before: bool) -> str:
    """The paragraph right before (or after) a code block, as one line (another block's fence
    ends it)."""
    walk = reversed(lines) if before else iter(lines)
    prose = itertools.dropwhile(lambda s: not s.strip(), walk)
    paragraph = [*itertools.takewhile(lambda s: s.strip() and "```" not in s, prose)]
    return " ".join(" ".join(line.split()) for line in (paragraph[::-1] if before else paragraph))


def mark(text: str) -> str | None:
    """The "not run by the tests..." phrase in a text, with its reason, if there is one."""
    found = re.search(rf"{NOT_RUN}[^.)]*", text)
    return found.group(0) if found else None


def fences(lines: list[str]) -> list[tuple[int, int, str]]:
    """(opening line index, closing line index, language) of every fenced block."""
    found, i = [], 0
    while i < len(lines):
        opening = re.match(r"\s*```([\w-]*)\s*$", lines[i])
        if not opening:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if re.match(r"\s*```\s*$", lines[j]))
        found.append((i, end, opening.group(1)))
        i = end + 1
    return found


def script_commands(body: list[tuple[int, str]]) -> tuple[list[Command], list[str]]:
    """A bash block's commands, each with its continuation lines and heredoc body, and the marks
    of the ones left out."""
    commands: list[list[tuple[int, str]]] = []
    heredoc, continued = None, False
    for number, line in body:
        stripped = line.strip()
        if heredoc or continued:
            commands[-1].append((number, line))
            heredoc = None if stripped == heredoc else heredoc
            continued = not heredoc and stripped.endswith("\\")
            continue
        commands.append([(number, line)])
        continued = stripped.endswith("\\")
        opened = re.search(r"<<-?\s*'?\"?(\w+)'?\"?", stripped)
        heredoc = opened.group(1) if opened and not stripped.startswith("#") else None
    kept, marks = [], []
    for command in commands:
        text = "\n".join(line for _, line in command)
        if mark(text.splitlines()[0]):
            marks.append(mark(text.splitlines()[0]))
        elif text.strip() and not text.strip().startswith("#"):
            kept.append(Command(text, command[0][0]))
    return kept, marks


def transcript_commands(body: list[tuple[int, str]]) -> tuple[list[Command], list[str], list[str]]:
    """A transcript's commands, the output it shows, and the marks of commands left out."""
    commands, expected, marks = [], [], []
    skipping = False
    for number, line in body:
        if line.startswith("$ "):
            text = line[2:]
            skipping = mark(text) is not None
            if skipping:
                marks.append(mark(text))
                continue
            status = EXIT_STATUS.search(text)
            commands.append(Command(text, number, int(status.group(1)) if status else 0))
        elif not skipping and line.strip():
            expected.append(line)
    return commands, expected, marks


def blocks(page: Path) -> list[Block]:
    """Every shell block of a page that has a command, run or not."""
    lines = page.read_text().splitlines()
    found = []
    all_fences = fences(lines)
    for index, (start, end, language) in enumerate(all_fences):
        indent = len(lines[start]) - len(lines[start].lstrip())  # a block inside a list item
        body = [(number + 1, lines[number][indent:]) for number in range(start + 1, end)]
        if language in SCRIPTS:
            commands, marks = script_commands(body)
            expected = []
            following = all_fences[index + 1] if index + 1 < len(all_fences) else None
            between = lines[end + 1 : following[0]] if following else []
            if following and following[2] == "text" and not any(s.strip() for s in between):
                expected = [line for line in lines[following[0] + 1 : following[1]] if line.strip()]
        elif language in TRANSCRIPTS and any(line.startswith("$ ") for _, line in body):
            commands, expected, marks = transcript_commands(body)
        else:
            continue
        block_mark = mark(caption(lines[:start], before=True)) or mark(
            caption(lines[end + 1 :], before=False)
        )
        if block_mark:
            commands, marks = [], [block_mark]
        found.append(
            Block(
                page, start + 1, language in SCRIPTS, tuple(commands), tuple(expected), tuple(marks)
            )  # fmt: skip
        )
    return found


def line_pattern(expected: str) -> re.Pattern[str]:
    """An expected line as a pattern over a printed line with its whitespace runs made one space."""
    normalized = " ".join(expected.split())
    return re.compile(".*".join(re.escape(part) for part in normalized.split("...")))


def unmatched(expected: list[str] | tuple[str, ...], output: str) -> str | None:
    """The first expected line that no later line of the output matches, or None."""
    printed = iter(output.splitlines())
    for line in expected:
        if line.strip() == "...":
            continue
        pattern = line_pattern(line)
        if not any(pattern.fullmatch(" ".join(seen.split())) for seen in printed):
            return line
    return None
