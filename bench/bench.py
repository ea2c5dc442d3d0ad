"""`make bench` (quick) and `make bench-full`: what the orchestration costs over the engine.

Measured in one run on this machine, each a median of several repetitions, the platform's and
the baseline's runs alternating (and their order reversed every other repetition):

  P1    bronze ingest of the flights deliveries (landing CSV -> bronze Parquet, the platform's
        `ingest`, in process) vs a hand-written pyarrow ingest of the same files that reads
        with the contract's column types, adds the three audit columns and writes atomically;
        once on daily files (a year in full mode) and once on 30x files (`ettl land --scale 30`)
  P2    an N-day silver+gold run vs a 1-day one (both `dagster asset materialize`, cold)
  P3    one partition, silver+gold, via `dagster asset materialize` vs the same models in one
        hand-written PySpark script (bench/pyspark_pipeline.py), both cold processes
  P3n   P3's platform side without the data tests (a job of the same assets without their
        asset checks: dagster-dbt then builds the models only) vs the same script
  P4    the same as P3 at volume (flights landed at `--scale`)
  P2b   (full mode) 7 one-day runs vs one 7-day run
  RSS   the largest process of each kind (Python, JVM) in every phase: setup, P1 (the bench's
        own process), each side of P2-P4

Both Spark sides start their JVM with the same options, the class-data archive included
(ettl_assets/spark_class_archive.py). After every P3/P4 pair, the row counts and column
checksums of every table both sides wrote are compared (bench/same_output.py); a difference
stops the bench, naming the table and both values.

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
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline_coverage import coverage_line, not_covered  # noqa: E402  (sibling modules)
from process_memory import PeakMemory, run_measured, sampling  # noqa: E402
from pyspark_pipeline import PARTITION_COLUMN  # noqa: E402
from reconciliation_cost import daily_runs, ledger_cost  # noqa: E402
from same_output import DifferentOutput, compare_outputs  # noqa: E402
from without_checks import WITH_CHECKS_JOB, WITHOUT_CHECKS_JOB, WITHOUT_LEDGER_JOB  # noqa: E402

from ettl.progress import Advance, progress  # noqa: E402
from ettl_assets import spark_class_archive  # noqa: E402
from ettl_assets.bronze.registry import SourceSpec  # noqa: E402
from ettl_assets.bronze.table_columns import AUDIT_FIELDS  # noqa: E402
from ettl_assets.settings import temporary_environment  # noqa: E402
from ettl_assets.spark_settings import ENGINE  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BENCH_ROOT = ROOT / "data" / "bench"
BIN = Path(sys.executable).parent
GIB = 1024**3
P1_SCALE = 30  # P1's large files: 30 distinct copies of each day's flights


@dataclass(frozen=True)
class Mode:
    p1_days: tuple[str, str]  # daily flights deliveries ingested by P1 (inclusive)
    p1_scaled_days: tuple[str, str]  # the same at P1_SCALE
    p2_days: tuple[str, str]  # the long run of P2; its 1-day run is P3's day
    p3_day: str
    scale: int  # P4's volume
    scale_days: tuple[str, str]  # P4's span, run heavy_reps times
    scale_once_days: tuple[str, str] | None  # a longer P4 span run once (full mode: the year)
    reps: int  # repetitions of the cheap measure (P1)
    heavy_reps: int  # repetitions of each pipeline run (P2-P4)
    seven_runs: bool  # P2b


MODES = {
    # The same measures at small volume, each a median of 3 (26.8 min on 2 cores, 2026-11-30).
    "quick": Mode(
        p1_days=("2013-06-01", "2013-06-30"),
        p1_scaled_days=("2013-06-01", "2013-06-07"),
        p2_days=("2013-06-01", "2013-06-14"),
        p3_day="2013-06-03",
        scale=3,
        scale_days=("2013-06-03", "2013-06-05"),
        scale_once_days=None,
        reps=3,
        heavy_reps=3,
        seven_runs=False,
    ),
    # The goals' own sizes: a year of flights; P4 at 30x flights for a month (3 times) and for
    # the year (~10 M rows) once.
    "full": Mode(
        p1_days=("2013-01-01", "2013-12-31"),
        p1_scaled_days=("2013-01-01", "2013-12-31"),
        p2_days=("2013-01-01", "2013-12-31"),
        p3_day="2013-06-03",
        scale=30,
        scale_days=("2013-06-01", "2013-06-30"),
        scale_once_days=("2013-01-01", "2013-12-31"),
        reps=5,
        heavy_reps=3,
        seven_runs=True,
    ),
    # Every measure once on the smallest inputs: checks that the bench runs end to end; its
    # figures mean nothing.
    "smoke": Mode(
        p1_days=("2013-06-02", "2013-06-04"),
        p1_scaled_days=("2013-06-03", "2013-06-03"),
        p2_days=("2013-06-03", "2013-06-04"),
        p3_day="2013-06-03",
        scale=2,
        scale_days=("2013-06-03", "2013-06-03"),
        scale_once_days=("2013-06-03", "2013-06-04"),
        reps=1,
        heavy_reps=1,
        seven_runs=False,
    ),
}


def scaled_span(mode: Mode) -> tuple[str, str]:
    """The days P4's workspace is landed and built for: its repeated span and its once-run."""
    spans = [mode.scale_days, *([mode.scale_once_days] if mode.scale_once_days else [])]
    return min(first for first, _ in spans), max(last for _, last in spans)


def days(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [str(start + timedelta(n)) for n in range((end - start).days + 1)]


class Workspace:
    """One data dir + Dagster instance; commands run as cold processes against it."""

    def __init__(self, name: str, java_options: str) -> None:
        self.root = BENCH_ROOT / name
        self.data = self.root / "data"
        home = self.root / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home)
        # Its own landing root too: ettl.yaml may name a shared one. Both Spark sides (the
        # platform's dbt steps and the PySpark script) start their JVM with the same options.
        self.env = {**os.environ, "ETTL_DATA_DIR": str(self.data), "DAGSTER_HOME": str(home),
                    "ETTL_LANDING_ROOT": str(self.data / "landing"),
                    spark_class_archive.JAVA_OPTIONS_ENV: java_options}  # fmt: skip
        self.env.pop("OPENLINEAGE_URL", None)  # a benchmark does not post to a Marquez
        self.advance: Advance = lambda _: None  # the bench's progress bar, set by main()
        self.memory: dict[str, PeakMemory] = {}  # phase -> peak RSS, set by main()

    def run(self, label: str, command: list[str], phase: str = "setup") -> float:
        log = self.root / "logs" / f"{label}.log"
        seconds, memory = run_measured(command, log, self.env)
        self.memory.setdefault(phase, PeakMemory()).merge(memory)
        python = memory.peak.get("python", 0) / GIB
        print(f"  {seconds:7.1f}s  {label}  (largest Python process {python:.2f} GiB)", flush=True)
        self.advance(label)
        return seconds

    def ettl(self, label: str, *args: str, phase: str = "setup") -> float:
        return self.run(label, [str(BIN / "ettl"), *args], phase)

    def materialize_silver_gold(self, label: str, first: str, last: str, phase: str) -> float:
        """`dagster asset materialize` of every silver and gold asset for [first, last]."""
        selection = ",".join(silver_and_gold_keys())
        return self.run(
            label,
            [str(BIN / "dagster"), "asset", "materialize", "-m", "ettl_assets.definitions",
             "--select", selection, "--partition-range", f"{first}...{last}"],
            phase,
        )  # fmt: skip

    def materialize_job(self, job: str, label: str, first: str, last: str, phase: str) -> float:
        """The same assets and range through one of bench/without_checks.py's jobs (without
        any check, without the ledger's, or with every check), with the partition-range tags
        `dagster asset materialize --partition-range` sets."""
        tags = {"dagster/asset_partition_range_start": first,
                "dagster/asset_partition_range_end": last}  # fmt: skip
        module = ROOT / "bench" / "without_checks.py"
        return self.run(
            label,
            [str(BIN / "dagster"), "job", "execute", "-f", str(module),
             "-j", job, "--tags", json.dumps(tags)],
            phase,
        )  # fmt: skip

    @property
    def baseline_out(self) -> Path:
        return self.root / "pyspark_out"

    def handwritten(self, label: str, first: str, last: str, phase: str) -> float:
        shutil.rmtree(self.baseline_out, ignore_errors=True)
        return self.run(
            label,
            [sys.executable, str(ROOT / "bench" / "pyspark_pipeline.py"),
             "--data-dir", str(self.data), "--out", str(self.baseline_out),
             "--start", first, "--end", last,
             *(f"--conf={key}={value}" for key, value in ENGINE.items())],
            phase,
        )  # fmt: skip

    def ledger_cost(
        self, day: str, with_ledger: float, without_ledger: float, since: datetime
    ) -> dict:
        """What the reconciliation ledger costs a one-day silver+gold run: the run with every
        check less the same run without the ledger's checks (medians of interleaved runs, both
        jobs of bench/without_checks.py), plus the ledger's Python in the dbt step, which runs
        in both (from P3's runs' records). Goal: under 5% of the run. The JSON also has an upper
        bound from the records alone: the Python plus the ledger's dbt tests as if they ran
        alone on the critical path (they share dbt's threads). Only this bench's runs (`since`):
        dbt's target folders of older ones may be gone."""
        with dg.DagsterInstance.from_config(self.env["DAGSTER_HOME"]) as instance:
            runs = daily_runs(instance, day, since)
            costs = [ledger_cost(instance, run_id) for run_id in runs]
        python = statistics.median(cost.python for cost in costs)
        return {
            "measure": "reconciliation ledger: a one-day silver+gold run with every check less "
            "the same run without the ledger's checks, plus the ledger's Python, vs the run",
            "platform": with_ledger - without_ledger + python,
            "baseline": with_ledger,
            "goal": 0.05,
            "at_most_seconds": statistics.median(cost.at_most for cost in costs),
        }

    def check_same_output(self, first: str, last: str) -> None:
        """Fail unless the platform's tables hold what the baseline just wrote."""
        rows = compare_outputs(
            self.data / "warehouse", self.baseline_out, PARTITION_COLUMN, days(first, last)
        )
        print(f"  same output: {len(rows)} tables, {sum(rows.values())} rows", flush=True)

    def land(self, first: str, last: str, scale: int = 1) -> None:
        self.ettl(f"land-x{scale}", "land", "--start", first, "--end", last, "--scale", str(scale))

    def build_all_tiers(self, first: str, last: str, scale: int = 1) -> None:
        """Build every tier for [first, last] once: the measured runs then rebuild existing
        tables, as a daily run does (not measured against anything)."""
        self.ettl(f"all-tiers-x{scale}", "backfill", "--from-tier", "bronze",
                  "--start", first, "--end", last)  # fmt: skip

    def prepare(self, first: str, last: str, scale: int = 1) -> None:
        self.land(first, last, scale)
        self.build_all_tiers(first, last, scale)


def silver_and_gold_keys() -> list[str]:
    from ettl_assets.definitions import defs

    keys = defs.resolve_asset_graph().get_all_asset_keys()
    return sorted(k.to_user_string() for k in keys if k.path[0] in ("silver", "gold"))


def interleaved(
    reps: int, sides: dict[str, Callable[[int], float]], after: Callable[[int], None]
) -> dict[str, float]:
    """Median seconds of each side, run in turn in every repetition (in reverse order every
    other one, so no side always runs after the same neighbour); `after(rep)` ends each."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    for rep in range(reps):
        order = list(sides) if rep % 2 == 0 else list(reversed(sides))
        for name in order:
            times[name].append(sides[name](rep))
        after(rep)
    return {name: statistics.median(values) for name, values in times.items()}


# ------------------------------------------------------------------------------------ P1
def data_dirs(data: Path, landing: Path):
    """The in-process ingest reads ETTL_DATA_DIR and ETTL_LANDING_ROOT on every call."""
    return temporary_environment({"ETTL_DATA_DIR": str(data), "ETTL_LANDING_ROOT": str(landing)})


def typed_pyarrow_ingest(spec: SourceSpec, landing: Path, target: Path, run_id: str) -> int:
    """P1's baseline: what a careful hand-written ingest does with one CSV delivery. It reads
    with the contract's column types (from the source registry), adds the audit columns, and
    writes a temp file renamed over the target; its rows. Nothing else the platform does
    (per-row quarantine, type-change detection, fingerprints that skip unchanged files)."""
    types = {column.name: column.arrow_type for column in spec.stored_columns}
    table = pacsv.read_csv(
        landing,
        convert_options=pacsv.ConvertOptions(
            column_types=types, null_values=[""], strings_can_be_null=True
        ),
    )
    values = (datetime.now(UTC), str(landing), run_id)
    for field, value in zip(AUDIT_FIELDS, values, strict=True):
        table = table.append_column(field, pa.array([value] * table.num_rows, field.type))
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, temp)
    os.replace(temp, target)
    return table.num_rows


def p1_ingest(name: str, landing: Path, wanted: list[str], reps: int) -> tuple[dict, PeakMemory]:
    """In process, alternating: the platform's ingest of each flights delivery vs the typed
    pyarrow ingest, into a data dir of their own (`landing`: another workspace's deliveries).
    Fails if the two wrote different row counts. The bench process's own peak RSS too."""
    from ettl_assets.bronze.assets import bronze_file, ingest, quarantine_dir
    from ettl_assets.bronze.registry import load_registry

    (flights,) = [spec for spec in load_registry() if spec.name == "flights"]
    data = BENCH_ROOT / name / "data"
    baseline_out = BENCH_ROOT / name / "typed_pyarrow"
    rows = {"platform": 0, "baseline": 0}

    def platform(rep: int) -> float:
        for path in (bronze_file(flights).parent, quarantine_dir(flights)):
            shutil.rmtree(path, ignore_errors=True)  # ingest skips unchanged deliveries
        began = time.monotonic()
        written = sum(ingest(flights, day, f"bench-{rep}").rows for day in wanted)
        seconds = time.monotonic() - began
        rows["platform"] = written
        return seconds

    def baseline(rep: int) -> float:
        shutil.rmtree(baseline_out, ignore_errors=True)
        began = time.monotonic()
        written = sum(
            typed_pyarrow_ingest(
                flights,
                flights.landing_path(landing, day),
                baseline_out / f"partition_date={day}" / "part-0.parquet",
                f"bench-{rep}",
            )
            for day in wanted
        )
        seconds = time.monotonic() - began
        rows["baseline"] = written
        return seconds

    def same_rows(_: int) -> None:
        if rows["platform"] != rows["baseline"]:
            raise DifferentOutput(
                f"{name} bronze.flights rows: platform {rows['platform']}, "
                f"baseline {rows['baseline']}"
            )

    with data_dirs(data, landing), sampling(os.getpid()) as memory:
        result = interleaved(reps, {"platform": platform, "baseline": baseline}, same_rows)
    print(
        f"  P1 {name}: {len(wanted)} day(s), {rows['platform']} rows: ingest "
        f"{result['platform']:.2f}s, typed pyarrow {result['baseline']:.2f}s "
        f"(medians of {reps})",
        flush=True,
    )
    return {**result, "rows": rows["platform"]}, memory


# ------------------------------------------------------------------------------------ main
def planned_steps(mode: Mode, separate_p1_landing: bool) -> int:
    """Commands run by bench() (setup: land + all tiers, twice, and the 30x landing of P1 when
    P4's is not it; per repetition P3's group: 1-day run, baseline, 1-day runs without tests,
    with every check and without the ledger's (bench/without_checks.py), P2's long run, and P4's
    pair; P4's once-run pair; P2b: 8), plus P1's two measures (in process): the length of the
    progress bar."""
    once = 2 if mode.scale_once_days else 0
    seven = 8 if mode.seven_runs else 0
    return 4 + int(separate_p1_landing) + 2 + 8 * mode.heavy_reps + once + seven


def class_archive_options() -> str:
    """The embedded Spark's JVM options both sides get: the class-data archive, dumped first
    if this virtualenv has none yet (so neither side's first run starts without it)."""
    spark_class_archive.dump_archive(print)
    spark_class_archive.wait_for_dump()  # one started by `make install` may still be under way
    options = spark_class_archive.java_options()
    print(f"JVM options of both Spark sides: {options or '(none: no class-data archive)'}")
    return options


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=sorted(MODES), default="quick")
    mode_name = parser.parse_args().mode
    mode = MODES[mode_name]
    separate = separate_p1_landing(mode)
    try:
        with progress("bench", total=planned_steps(mode, separate)) as advance:
            bench(mode_name, mode, advance)
    except subprocess.CalledProcessError as exc:  # the failing command and its log, one line
        sys.exit(f"bench: {exc.cmd} exited {exc.returncode}")
    except DifferentOutput as exc:
        sys.exit(f"bench: the platform and the baseline wrote different data: {exc}")


def separate_p1_landing(mode: Mode) -> bool:
    """P1's 30x files come from P4's landing when it is 30x and covers P1's days."""
    first, last = mode.p1_scaled_days
    scaled_first, scaled_last = scaled_span(mode)
    covered = scaled_first <= first and last <= scaled_last
    return not (mode.scale == P1_SCALE and covered)


def bench(mode_name: str, mode: Mode, advance: Advance) -> None:
    began, began_at = time.monotonic(), datetime.now(UTC)
    java_options = class_archive_options()
    normal = Workspace("normal", java_options)
    scaled = Workspace(f"scale-{mode.scale}", java_options)
    land_first = min(mode.p1_days[0], mode.p2_days[0], mode.p3_day)
    land_last = max(mode.p1_days[1], mode.p2_days[1], mode.p3_day)
    build_first, build_last = min(mode.p2_days[0], mode.p3_day), max(mode.p2_days[1], mode.p3_day)
    memory: dict[str, PeakMemory] = {}
    for workspace in (normal, scaled):
        workspace.advance, workspace.memory = advance, memory

    scaled_first, scaled_last = scaled_span(mode)
    print(coverage_line())
    print(
        f"setup ({mode_name}): land {land_first}..{land_last} and build every tier for "
        f"{build_first}..{build_last}; {mode.scale}x flights on "
        f"{scaled_first}..{scaled_last}, every tier"
    )
    normal.land(land_first, land_last)
    normal.build_all_tiers(build_first, build_last)
    scaled.prepare(scaled_first, scaled_last, scale=mode.scale)
    p1_scaled_source = scaled
    if separate_p1_landing(mode):
        p1_scaled_source = Workspace(f"landing-{P1_SCALE}x", java_options)
        p1_scaled_source.advance, p1_scaled_source.memory = advance, memory
        p1_scaled_source.land(*mode.p1_scaled_days, scale=P1_SCALE)

    print("measurements:")
    rows: dict[str, dict] = {}
    for key, source, span, what in (
        ("P1", normal, mode.p1_days, "daily files"),
        (f"P1x{P1_SCALE}", p1_scaled_source, mode.p1_scaled_days, f"{P1_SCALE}x files"),
    ):
        wanted = days(*span)
        result, p1_memory = p1_ingest(f"p1-{key}", source.data / "landing", wanted, mode.reps)
        memory.setdefault("P1 (the bench process)", PeakMemory()).merge(p1_memory)
        advance(key)
        rows[key] = {
            "measure": f"bronze ingest of {len(wanted)} days of flights ({what}, "
            f"{result.pop('rows')} rows) vs a typed pyarrow ingest with audit columns",
            **result,
            "goal": 1.3,
        }

    day, long_days = mode.p3_day, len(days(*mode.p2_days))
    # P3's platform side is also P2's 1-day run; in each repetition the 1-day run, the
    # baseline, the runs of bench/without_checks.py's jobs and P2's long run follow each other.
    group = interleaved(
        mode.heavy_reps,
        {
            "p3_platform": lambda r: normal.materialize_silver_gold(
                f"p3-dagster-{r}", day, day, "P3 platform"
            ),
            "p3_baseline": lambda r: normal.handwritten(f"p3-pyspark-{r}", day, day, "P3 baseline"),
            **{
                side: lambda r, job=job, label=label: normal.materialize_job(
                    job, f"p3-dagster-{label}-{r}", day, day, f"P3 platform, {label}"
                )
                for side, job, label in (
                    ("p3_without_tests", WITHOUT_CHECKS_JOB, "without-tests"),
                    ("p3_with_checks_job", WITH_CHECKS_JOB, "with-checks-job"),
                    ("p3_without_ledger", WITHOUT_LEDGER_JOB, "without-ledger"),
                )
            },
            "p2_long": lambda r: normal.materialize_silver_gold(
                f"p2-{long_days}-days-{r}", *mode.p2_days, "P2 long run"
            ),
        },
        # Every platform run rewrites the day with the same data: compare once all have run.
        after=lambda r: normal.check_same_output(day, day),
    )
    rows["P2"] = {
        "measure": f"{long_days}-day silver+gold run vs a 1-day run (dagster asset "
        "materialize, P3's platform side)",
        "platform": group["p2_long"],
        "baseline": group["p3_platform"],
        "goal": 3.0,
    }
    rows["P3"] = {
        "measure": "one partition silver+gold: dagster asset materialize vs "
        "hand-written PySpark (cold processes)",
        "platform": group["p3_platform"],
        "baseline": group["p3_baseline"],
        "goal": 1.5,
    }
    rows["ledger"] = normal.ledger_cost(
        day, group["p3_with_checks_job"], group["p3_without_ledger"], began_at
    )
    rows["P3n"] = {
        "measure": "P3 without the data tests (the same assets without their asset checks) "
        "vs hand-written PySpark",
        "platform": group["p3_without_tests"],
        "baseline": group["p3_baseline"],
        "goal": None,
        # Both started by `dagster job execute` (bench/without_checks.py), unlike P3.
        "data_tests_seconds": group["p3_with_checks_job"] - group["p3_without_tests"],
    }
    spans = {"P4": (mode.scale_days, mode.heavy_reps)}
    if mode.scale_once_days:
        spans["P4once"] = (mode.scale_once_days, 1)
    for key, (span, reps) in spans.items():
        name = key.lower()
        p4 = interleaved(
            reps,
            {
                "platform": lambda r, name=name, span=span: scaled.materialize_silver_gold(
                    f"{name}-dagster-{r}", *span, "P4 platform"
                ),
                "baseline": lambda r, name=name, span=span: scaled.handwritten(
                    f"{name}-pyspark-{r}", *span, "P4 baseline"
                ),
            },
            after=lambda r, span=span: scaled.check_same_output(*span),
        )
        rows[key] = {
            "measure": f"{mode.scale}x flights, {len(days(*span))} days, silver+gold: dagster "
            f"vs hand-written PySpark ({reps} run{'s' if reps > 1 else ''})",
            **p4,
            "goal": 1.3,
        }
    if mode.seven_runs:
        week = days("2013-06-10", "2013-06-16")

        def silver_run(label: str, first: str, last: str) -> float:
            return normal.ettl(label, "backfill", "--from-tier", "silver", "--start", first,
                               "--end", last, phase="P2b")  # fmt: skip

        seven = sum(silver_run(f"p2b-{d}", d, d) for d in week)
        seven_day = silver_run("p2b-7-days", week[0], week[-1])
        rows["P2b"] = {
            "measure": "7 one-day runs vs one 7-day run",
            "platform": seven,
            "baseline": seven_day,
            "goal": None,
        }
    report(mode_name, mode, rows, memory, java_options, began)


def commit() -> str:
    """The checkout's commit, marked when it has uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    dirty = " (with uncommitted changes)" if git("status", "--porcelain").strip() else ""
    return git("rev-parse", "--short", "HEAD").strip() + dirty


def report(
    mode_name: str,
    mode: Mode,
    rows: dict[str, dict],
    memory: dict[str, PeakMemory],
    java_options: str,
    began: float,
) -> None:
    for row in rows.values():
        row["ratio"] = row["platform"] / row["baseline"]
        row["met"] = None if row["goal"] is None else row["ratio"] <= row["goal"]
    largest_python = max(m.peak.get("python", 0) for m in memory.values())
    largest_java = max(m.peak.get("java", 0) for m in memory.values())
    data_tests = rows["P3n"]["data_tests_seconds"]
    result = {
        "mode": mode_name,
        "date": date.today().isoformat(),
        "commit": commit(),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}",
        "repetitions": {"P1": mode.reps, "P2-P4": mode.heavy_reps},
        "spark_jvm_options_both_sides": java_options,
        "results": rows,
        "data_tests_seconds_of_p3": round(data_tests, 1),
        "peak_rss_gib": {
            "largest_python_process": round(largest_python / GIB, 2),
            "largest_jvm": round(largest_java / GIB, 2),
            "python_goal_met (< 4 GiB)": largest_python < 4 * GIB,
            "by_phase": {
                phase: {kind: round(rss / GIB, 2) for kind, rss in sorted(m.peak.items())}
                for phase, m in memory.items()
            },
        },
        "wall_minutes": round((time.monotonic() - began) / 60, 1),
        "models_not_in_the_baseline": not_covered(),
    }
    print(f"\n{'id':<6} {'platform s':>10} {'baseline s':>10} {'ratio':>6} {'goal':>5}  measure")
    for key, row in rows.items():
        goal = f"{row['goal']:g}" if row["goal"] else "-"
        flag = {True: "met", False: "MISSED", None: ""}[row["met"]]
        print(
            f"{key:<6} {row['platform']:>10.2f} {row['baseline']:>10.2f} {row['ratio']:>6.2f} "
            f"{goal:>5}  {row['measure']} {flag}"
        )
    print(f"data tests: {data_tests:.1f} s of a one-day run (with every check - without any)")
    bound = result["results"]["ledger"]["at_most_seconds"]
    print(f"ledger, upper bound from the runs' records: {bound:.1f} s of a one-day run")
    print("peak RSS by phase (GiB):")
    for phase, peaks in result["peak_rss_gib"]["by_phase"].items():
        print(f"  {phase:<28} " + ", ".join(f"{kind} {gib:.2f}" for kind, gib in peaks.items()))
    print(
        f"peak RSS: largest Python process {largest_python / GIB:.2f} GiB (goal < 4), "
        f"largest JVM {largest_java / GIB:.2f} GiB; {result['wall_minutes']} min in all"
    )
    print(coverage_line())
    out = BENCH_ROOT / f"bench-{mode_name}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
