"""`make bench` (quick) and `make bench-full`: what the orchestration costs over the engine.

Measured in one run on this machine, each a median of several repetitions:

  P1  bronze ingest of the flights deliveries (landing CSV -> bronze Parquet with audit columns,
      the platform's `ingest`) vs bare pyarrow `read_csv` + `write_table` of the same files
  P2  an N-day silver+gold backfill in one run vs a 1-day one (cold `ettl backfill` processes)
  P3  one partition, silver+gold, via `dagster asset materialize` vs the same models in one
      hand-written PySpark script (bench/pyspark_pipeline.py), both cold processes
  P4  the same at volume (flights landed at `--scale`), plus the peak RSS of every Python process
  P2b (full mode) 7 one-day runs vs one 7-day run

Prints a table and writes data/bench/bench-<mode>.json. Uses its own data dirs and Dagster
instances under data/bench/. Absolute times are for context; the ratios are the results.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from process_memory import PeakMemory, run_measured  # noqa: E402  (a sibling script module)

from ettl.progress import Advance, progress  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BENCH_ROOT = ROOT / "data" / "bench"
BIN = Path(sys.executable).parent
GIB = 1024**3


@dataclass(frozen=True)
class Mode:
    p1_days: tuple[str, str]  # flights deliveries ingested (inclusive)
    p2_days: tuple[str, str]  # the long backfill of P2; its 1-day run is the first day
    p3_day: str
    scale: int
    scale_days: tuple[str, str]
    reps: int  # repetitions of the cheap measure (P1)
    heavy_reps: int  # repetitions of each pipeline run (P2-P4)
    seven_runs: bool  # P2b


MODES = {
    # The same measures at small volume, each a median of 3: ~18 min on 2 cores.
    "quick": Mode(
        p1_days=("2013-06-01", "2013-06-30"),
        p2_days=("2013-06-01", "2013-06-14"),
        p3_day="2013-06-03",
        scale=3,
        scale_days=("2013-06-03", "2013-06-05"),
        reps=3,
        heavy_reps=3,
        seven_runs=False,
    ),
    # The goals' own sizes: a year of flights; 30x flights of a year is ~10 M rows.
    "full": Mode(
        p1_days=("2013-01-01", "2013-12-31"),
        p2_days=("2013-01-01", "2013-12-31"),
        p3_day="2013-06-03",
        scale=30,
        scale_days=("2013-01-01", "2013-12-31"),
        reps=5,
        heavy_reps=3,
        seven_runs=True,
    ),
}


def days(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [str(start + timedelta(n)) for n in range((end - start).days + 1)]


class Workspace:
    """One data dir + Dagster instance; commands run as cold processes against it."""

    def __init__(self, name: str) -> None:
        self.root = BENCH_ROOT / name
        self.data = self.root / "data"
        home = self.root / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home)
        # Its own landing root too: ettl.yaml may name a shared one.
        self.env = {**os.environ, "ETTL_DATA_DIR": str(self.data), "DAGSTER_HOME": str(home),
                    "ETTL_LANDING_ROOT": str(self.data / "landing")}  # fmt: skip
        self.env.pop("OPENLINEAGE_URL", None)  # a benchmark does not post to a Marquez
        self.advance: Advance = lambda _: None  # the bench's progress bar, set by main()

    def run(self, label: str, command: list[str]) -> tuple[float, PeakMemory]:
        log = self.root / "logs" / f"{label}.log"
        seconds, memory = run_measured(command, log, self.env)
        python = memory.peak.get("python", 0) / GIB
        print(f"  {seconds:7.1f}s  {label}  (largest Python process {python:.2f} GiB)", flush=True)
        self.advance(label)
        return seconds, memory

    def ettl(self, label: str, *args: str) -> tuple[float, PeakMemory]:
        return self.run(label, [str(BIN / "ettl"), *args])

    def materialize_silver_gold(self, label: str, first: str, last: str):
        """`dagster asset materialize` of every silver and gold asset for [first, last]."""
        selection = ",".join(silver_and_gold_keys())
        return self.run(
            label,
            [
                str(BIN / "dagster"),
                "asset",
                "materialize",
                "-m",
                "ettl_assets.definitions",
                "--select",
                selection,
                "--partition-range",
                f"{first}...{last}",
            ],
        )

    def handwritten(self, label: str, first: str, last: str):
        out = self.root / "pyspark_out"
        shutil.rmtree(out, ignore_errors=True)
        return self.run(
            label,
            [
                sys.executable,
                str(ROOT / "bench" / "pyspark_pipeline.py"),
                "--data-dir",
                str(self.data),
                "--out",
                str(out),
                "--start",
                first,
                "--end",
                last,
            ],
        )

    def prepare(self, first: str, last: str, scale: int = 1) -> PeakMemory:
        """Land [first, last] and build every tier for it once: the measured runs then rebuild
        existing tables, as a daily run does (not measured against anything)."""
        self.ettl(f"land-x{scale}", "land", "--start", first, "--end", last, "--scale", str(scale))
        _, memory = self.ettl(
            f"all-tiers-x{scale}",
            "backfill",
            "--from-tier",
            "bronze",
            "--start",
            first,
            "--end",
            last,
        )
        return memory


def silver_and_gold_keys() -> list[str]:
    from ettl_assets.definitions import defs

    keys = defs.resolve_asset_graph().get_all_asset_keys()
    return sorted(k.to_user_string() for k in keys if k.path[0] in ("silver", "gold"))


def median_of(reps: int, measure: Callable[[int], float]) -> float:
    return statistics.median(measure(rep) for rep in range(reps))


def p1_bronze_vs_pyarrow(workspace: Workspace, mode: Mode) -> dict[str, float]:
    """In process, alternating: the platform's ingest of each delivery vs bare pyarrow."""
    os.environ.update(
        ETTL_DATA_DIR=str(workspace.data), ETTL_LANDING_ROOT=str(workspace.data / "landing")
    )
    from ettl_assets import settings
    from ettl_assets.bronze.assets import bronze_file, ingest, quarantine_dir
    from ettl_assets.bronze.registry import load_registry

    (flights,) = [spec for spec in load_registry() if spec.name == "flights"]
    wanted = days(*mode.p1_days)
    landing = [flights.landing_path(settings.landing_dir(), day) for day in wanted]
    bare_out = workspace.root / "bare_pyarrow"

    def platform(rep: int) -> float:
        for path in (bronze_file(flights).parent, quarantine_dir(flights)):
            shutil.rmtree(path, ignore_errors=True)  # ingest skips unchanged deliveries
        began = time.monotonic()
        for day in wanted:
            ingest(flights, day, f"bench-{rep}")
        return time.monotonic() - began

    def bare(rep: int) -> float:
        shutil.rmtree(bare_out, ignore_errors=True)
        bare_out.mkdir(parents=True)
        began = time.monotonic()
        for path in landing:
            pq.write_table(pacsv.read_csv(path), bare_out / f"{path.stem}.parquet")
        return time.monotonic() - began

    times = {"platform": [], "baseline": []}
    for rep in range(mode.reps):
        times["platform"].append(platform(rep))
        times["baseline"].append(bare(rep))
    result = {side: statistics.median(values) for side, values in times.items()}
    print(
        f"  P1 {len(wanted)} days: ingest {result['platform']:.1f}s, bare pyarrow "
        f"{result['baseline']:.1f}s (medians of {mode.reps})"
    )
    return result


def planned_steps(mode: Mode) -> int:
    """Commands run by main() (setup: land + all tiers, twice; P3 and P4: two sides x
    repetitions; P2: its long run x repetitions; P2b: 8), plus P1 (in process): the length of
    the progress bar."""
    return 4 + 1 + 5 * mode.heavy_reps + (8 if mode.seven_runs else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=sorted(MODES), default="quick")
    mode_name = parser.parse_args().mode
    mode = MODES[mode_name]
    try:
        with progress("bench", total=planned_steps(mode)) as advance:
            bench(mode_name, mode, advance)
    except subprocess.CalledProcessError as exc:  # the failing command and its log, one line
        sys.exit(f"bench: {exc.cmd} exited {exc.returncode}")


def bench(mode_name: str, mode: Mode, advance: Advance) -> None:
    began = time.monotonic()
    normal, scaled = Workspace("normal"), Workspace(f"scale-{mode.scale}")
    normal.advance = scaled.advance = advance
    first = min(mode.p1_days[0], mode.p2_days[0], mode.p3_day)
    last = max(mode.p1_days[1], mode.p2_days[1], mode.p3_day)

    print(
        f"setup ({mode_name}): land and build every tier for {first}..{last}, and for "
        f"{mode.scale}x flights on "
        f"{mode.scale_days[0]}..{mode.scale_days[1]}"
    )
    normal.prepare(first, last)
    setup_memory = scaled.prepare(*mode.scale_days, scale=mode.scale)

    print("measurements:")
    rows: dict[str, dict] = {}
    p1 = p1_bronze_vs_pyarrow(normal, mode)
    advance("P1")
    rows["P1"] = {
        "measure": f"bronze ingest of {len(days(*mode.p1_days))} days of flights vs bare "
        "pyarrow read_csv + write_table",
        **p1,
        "goal": 1.3,
    }

    platform_memory: list[PeakMemory] = [setup_memory]

    def platform_run(workspace: Workspace, label: str, first: str, last: str) -> float:
        seconds, memory = workspace.materialize_silver_gold(label, first, last)
        platform_memory.append(memory)
        return seconds

    # P3's platform side is also P2's 1-day run: the same command, one day.
    p3 = {
        "platform": median_of(
            mode.heavy_reps,
            lambda r: platform_run(normal, f"p3-dagster-{r}", mode.p3_day, mode.p3_day),
        ),
        "baseline": median_of(
            mode.heavy_reps,
            lambda r: normal.handwritten(f"p3-pyspark-{r}", mode.p3_day, mode.p3_day)[0],
        ),
    }
    long_days = len(days(*mode.p2_days))
    rows["P2"] = {
        "measure": f"{long_days}-day silver+gold backfill in one run vs a 1-day run "
        "(dagster asset materialize, P3's platform side)",
        "platform": median_of(
            mode.heavy_reps,
            lambda r: platform_run(normal, f"p2-{long_days}-days-{r}", *mode.p2_days),
        ),
        "baseline": p3["platform"],
        "goal": 3.0,
    }
    rows["P3"] = {
        "measure": "one partition silver+gold: dagster asset materialize vs "
        "hand-written PySpark (cold processes)",
        **p3,
        "goal": 1.5,
    }
    p4 = {
        "platform": median_of(
            mode.heavy_reps, lambda r: platform_run(scaled, f"p4-dagster-{r}", *mode.scale_days)
        ),
        "baseline": median_of(
            mode.heavy_reps, lambda r: scaled.handwritten(f"p4-pyspark-{r}", *mode.scale_days)[0]
        ),
    }
    rows["P4"] = {
        "measure": f"{mode.scale}x flights, {len(days(*mode.scale_days))} days, "
        "silver+gold: dagster vs hand-written PySpark",
        **p4,
        "goal": 1.3,
    }
    if mode.seven_runs:
        week = days("2013-06-10", "2013-06-16")
        seven = sum(
            normal.ettl(f"p2b-{d}", "backfill", "--from-tier", "silver", "--start", d, "--end", d)[
                0
            ]
            for d in week
        )
        seven_day = normal.ettl(
            "p2b-7-days", "backfill", "--from-tier", "silver", "--start", week[0], "--end", week[-1]
        )[0]
        rows["P2b"] = {
            "measure": "7 one-day runs vs one 7-day run",
            "platform": seven,
            "baseline": seven_day,
            "goal": None,
        }

    for row in rows.values():
        row["ratio"] = row["platform"] / row["baseline"]
        row["met"] = None if row["goal"] is None else row["ratio"] <= row["goal"]
    largest_python = max(m.peak.get("python", 0) for m in platform_memory)
    largest_java = max(m.peak.get("java", 0) for m in platform_memory)
    report = {
        "mode": mode_name,
        "date": date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}",
        "repetitions": {"P1": mode.reps, "P2-P4": mode.heavy_reps},
        "results": rows,
        "peak_rss_gib": {
            "largest_python_process": round(largest_python / GIB, 2),
            "largest_jvm": round(largest_java / GIB, 2),
            "python_goal_met (< 4 GiB)": largest_python < 4 * GIB,
        },
        "wall_minutes": round((time.monotonic() - began) / 60, 1),
    }
    print(f"\n{'id':<4} {'platform s':>10} {'baseline s':>10} {'ratio':>6} {'goal':>5}  measure")
    for key, row in rows.items():
        goal = f"{row['goal']:.1f}" if row["goal"] else "-"
        flag = {True: "met", False: "MISSED", None: ""}[row["met"]]
        print(
            f"{key:<4} {row['platform']:>10.1f} {row['baseline']:>10.1f} {row['ratio']:>6.2f} "
            f"{goal:>5}  {row['measure']} {flag}"
        )
    print(
        f"peak RSS: largest Python process {largest_python / GIB:.2f} GiB (goal < 4), "
        f"largest JVM {largest_java / GIB:.2f} GiB; {report['wall_minutes']} min in all"
    )
    out = BENCH_ROOT / f"bench-{mode_name}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
