"""Backfill benchmark (`make bench-backfill`): does the cost follow rows, not partitions?

Measures, in one go on this machine, each as a cold `ettl backfill --from-tier silver` process
(what a user runs): a 1-day silver+gold backfill, the 365-day one, 7 one-day runs one after
another, and one 7-day run. Prints the table and writes data/bench/backfill.json. Uses its own
data dir and Dagster instance (data/bench/), landing and ingesting all of 2013 first.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "data" / "bench"
ETTL = str(Path(sys.executable).parent / "ettl")


def ettl(*args: str) -> float:
    """Run one `ettl` command to completion; its wall time in seconds."""
    log = BENCH_DIR / "logs" / ("_".join(args).replace("-", "") + ".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with log.open("w") as out:
        result = subprocess.run([ETTL, *args], stdout=out, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - began
    if result.returncode != 0:
        sys.exit(f"bench: `ettl {' '.join(args)}` failed, see {log}")
    print(f"  {seconds:7.1f}s  ettl {' '.join(args)}", flush=True)
    return seconds


def silver_backfill(first: date, last: date) -> float:
    return ettl("backfill", "--from-tier", "silver", "--start", str(first), "--end", str(last))


def main() -> None:
    os.environ["ETTL_DATA_DIR"] = str(BENCH_DIR)
    os.environ["DAGSTER_HOME"] = str(BENCH_DIR / "dagster_home")
    (BENCH_DIR / "dagster_home").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", BENCH_DIR / "dagster_home")
    print("setup: land and ingest all of 2013 (not measured against anything)")
    ettl("land", "--start", "2013-01-01", "--end", "2013-12-31")
    ettl("backfill", "--from-tier", "bronze", "--start", "2013-01-01", "--end", "2013-12-31")

    print("measurements:")
    week = [date(2013, 6, 10) + timedelta(days=n) for n in range(7)]
    one_day = silver_backfill(date(2013, 6, 3), date(2013, 6, 3))
    full_year = silver_backfill(date(2013, 1, 1), date(2013, 12, 31))
    seven_runs = sum(silver_backfill(day, day) for day in week)
    seven_day_run = silver_backfill(week[0], week[-1])

    results = {
        "machine": f"{os.cpu_count()} cores",
        "date": date.today().isoformat(),
        "seconds": {
            "silver_gold_1_day": round(one_day, 1),
            "silver_gold_365_days_one_run": round(full_year, 1),
            "silver_gold_7_one_day_runs": round(seven_runs, 1),
            "silver_gold_7_days_one_run": round(seven_day_run, 1),
        },
        "ratios": {
            "365_days_vs_1_day (goal <= 3)": round(full_year / one_day, 2),
            "7_runs_vs_one_7_day_run": round(seven_runs / seven_day_run, 2),
        },
    }
    (BENCH_DIR / "backfill.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"written to {BENCH_DIR / 'backfill.json'}")


if __name__ == "__main__":
    main()
