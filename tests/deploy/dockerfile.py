"""deploy/Dockerfile read as Docker reads it: instructions, the image's environment, its command.

Enough of the Dockerfile syntax for this one file (no parser directives, no heredocs): a line
ending in a backslash continues on the next, comment lines inside a continuation are dropped.
"""

import json
import shlex
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, ENV...
    arguments: str


def instructions(path: Path) -> list[Instruction]:
    found: list[Instruction] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        found.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    return found


def arguments_of(path: Path, keyword: str) -> list[str]:
    return [i.arguments for i in instructions(path) if i.keyword == keyword]


def image_env(path: Path) -> dict[str, str]:
    """The environment every container of the image starts with (its ENV instructions)."""
    env: dict[str, str] = {}
    for arguments in arguments_of(path, "ENV"):
        for pair in shlex.split(arguments):
            name, _, value = pair.partition("=")
            env[name] = value
    return env


def exec_form(arguments: str) -> list[str]:
    """CMD or ENTRYPOINT in JSON form (the shell form would run under /bin/sh -c)."""
    command = json.loads(arguments)
    assert isinstance(command, list), f"not the exec form: {arguments}"
    return command
