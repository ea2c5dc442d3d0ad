"""P3 with the warm Spark server on (ETTL_WARM_SPARK_IDLE_MINUTES; by hand, not part of
`make bench`; docs/performance.md).

Run after `make bench` (quick mode): it reuses the bench's `normal` workspace, its bronze and its
tables. The first one-day silver+gold run starts the data dir's warm server (its time is printed:
what a run that finds no server pays); then 3 interleaved repetitions of: the same run
(`dagster asset materialize`), the PySpark script, and the run without the data tests
(bench/without_checks.py), comparing the outputs after each. The server and its watchdog are
stopped by their pids at the end, whatever happened.

    .venv/bin/python bench/warm_server.py
"""

import contextlib
import os
import signal
import subprocess

from without_checks import WITHOUT_CHECKS_JOB

from bench import BIN, Workspace, class_archive_options, interleaved
from ettl_assets import warm_spark

DAY = "2013-06-03"  # the quick mode's P3 day
REPETITIONS = 3


def main() -> None:
    workspace = Workspace("normal", class_archive_options())
    workspace.env[warm_spark.IDLE_MINUTES_ENV] = "30"  # longer than this script
    files = warm_spark.server_files(workspace.data)
    try:
        first = workspace.materialize_silver_gold("warm-first", DAY, DAY, "warm")
        medians = interleaved(
            REPETITIONS,
            {
                "platform": lambda r: workspace.materialize_silver_gold(
                    f"warm-p3-{r}", DAY, DAY, "warm"
                ),
                "baseline": lambda r: workspace.handwritten(f"warm-pyspark-{r}", DAY, DAY, "warm"),
                "without_tests": lambda r: workspace.materialize_job(
                    WITHOUT_CHECKS_JOB, f"warm-without-tests-{r}", DAY, DAY, "warm"
                ),
            },
            after=lambda r: workspace.check_same_output(DAY, DAY),
        )
    finally:
        pids = [int(f.read_text()) for f in (files.pid, files.watchdog_pid) if f.exists()]
        subprocess.run([str(BIN / "ettl"), "spark-server", "stop"], env=workspace.env, check=False)
        for pid in pids:  # never leave a JVM or a watchdog behind
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    print(f"first run (starts the server): {first:.1f} s")
    for side, seconds in medians.items():
        print(f"{side}: median {seconds:.1f} s")
    print(f"P3 with the warm server: {medians['platform'] / medians['baseline']:.2f}")
    print(f"P3n with the warm server: {medians['without_tests'] / medians['baseline']:.2f}")


if __name__ == "__main__":
    main()
