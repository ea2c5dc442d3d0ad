"""Progress output: a bar on a terminal, plain lines in captured output; one line per error."""

import io
import threading
import uuid

import dagster as dg

from ettl import cli
from ettl.progress import progress
from ettl.run_progress import LAUNCH_TAG, _watch


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_without_a_terminal_long_work_prints_a_line_per_tenth():
    out = io.StringIO()
    with progress("landing", total=730, stream=out) as advance:
        for n in range(730):
            advance(f"file {n}")
    lines = out.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0] == "landing: 73/730 file 72" and lines[-1] == "landing: 730/730 file 729"


def test_without_a_terminal_short_work_prints_every_item():
    out = io.StringIO()
    with progress("run", total=3, stream=out) as advance:
        for name in "abc":
            advance(name)
    assert out.getvalue().splitlines() == ["run: 1/3 a", "run: 2/3 b", "run: 3/3 c"]


def test_on_a_terminal_it_draws_a_bar():
    out = Terminal()
    with progress("landing", total=4, stream=out) as advance:
        for n in range(4):
            advance(f"file {n}")
    shown = out.getvalue()
    assert "landing" in shown and "4/4" in shown and "━" in shown
    assert "landing: 1/4" not in shown  # not the plain lines


def test_ettl_land_shows_progress_per_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path))
    assert cli.main(["land", "--start", "2013-01-01", "--end", "2013-01-01"]) == 0
    out = capsys.readouterr().out
    assert "landing: 1/6 flights/2013-01-01.csv" in out
    assert "landing: 3/6 passengers/2013-01-01.parquet" in out
    assert "landing: 6/6 airlines/airlines.csv" in out
    assert "landed flights: 1 day(s), 1 file(s) written" in out  # the summary lines stay


def test_a_run_in_progress_shows_each_asset_it_materialized(capsys):
    @dg.asset
    def first() -> None: ...

    @dg.asset(deps=[first])
    def second() -> None: ...

    launch_id = uuid.uuid4().hex
    with dg.DagsterInstance.get() as instance:
        dg.materialize([first, second], instance=instance, tags={LAUNCH_TAG: launch_id})
    done = threading.Event()
    done.set()  # the run is over: the watcher polls once and stops
    _watch(launch_id, {first.key, second.key}, "run", done)
    assert capsys.readouterr().out.splitlines() == [
        "run: 1/2 materialized first",
        "run: 2/2 materialized second",
    ]


def test_an_unexpected_error_is_one_line_naming_the_traceback_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ETTL_DATA_DIR", str(tmp_path))

    def broken(args):
        raise RuntimeError("the warehouse is gone")

    monkeypatch.setattr(cli, "drift", broken)
    assert cli.main(["drift"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    log = tmp_path / "logs" / "ettl-error.log"
    assert err == [f"ettl drift failed: RuntimeError: the warehouse is gone (details: {log})"]
    assert "Traceback" in log.read_text() and "broken" in log.read_text()
