"""Progress of long terminal work: a rich progress bar on a terminal, plain lines otherwise.

Tests and CI capture output into files, where a redrawn bar would be noise: there, progress is
a line per tenth of the work (or per item, for short work), each readable on its own.
"""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

# Without a terminal, short work gets a line per item, longer work one per tenth.
EVERY_ITEM_UP_TO = 20

Advance = Callable[[str], None]  # one unit of work done; the text says which


@contextmanager
def progress(
    description: str,
    total: int,
    stream: TextIO | None = None,
    write: Callable[[str], None] | None = None,
) -> Iterator[Advance]:
    """Yield `advance(item)`, to be called once per unit of work, `total` units in all. With
    `write`, the plain lines go to it (a log, a test) instead of a stream, never as a bar."""
    stream = stream or sys.stdout
    if write is None and stream.isatty():
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[item]}"),
            console=Console(file=stream),
        ) as bar:
            task = bar.add_task(description, total=total, item="")
            yield lambda item: bar.update(task, advance=1, item=item)
        return
    done = 0
    tenths_shown = 0

    def advance(item: str) -> None:
        nonlocal done, tenths_shown
        done += 1
        tenths = done * 10 // max(total, 1)
        if total <= EVERY_ITEM_UP_TO or tenths > tenths_shown or done == total:
            tenths_shown = tenths
            line = f"{description}: {done}/{total} {item}"
            write(line) if write else print(line, file=stream, flush=True)

    yield advance
