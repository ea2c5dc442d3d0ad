"""P3 on an engine that is already up: the most one warm Spark per run could give (by hand, not
part of `make bench`; docs/performance.md).

Run after `make bench` (quick mode): it reuses the bench's `normal` workspace, its bronze and its
tables. It starts a Spark Thrift server on that data dir (`ettl spark-server start`, loopback, a
free port), warms it with one run, then runs 3 interleaved repetitions of: the one-day silver+gold
`dagster asset materialize` with ETTL_DEPLOYMENT=thrift, the PySpark script, and the same run
without the data tests, comparing the outputs after each. The server is stopped by its pid at the
end, whatever happened.

    .venv/bin/python bench/warm_server.py
"""

import contextlib
import os
import signal
import socket
import subprocess

from without_checks import WITHOUT_CHECKS_JOB

from bench import BIN, Workspace, class_archive_options, interleaved
from ettl_assets import pii_key

DAY = "2013-06-03"  # the quick mode's P3 day
REPETITIONS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    workspace = Workspace("normal", class_archive_options())
    # The local key of the bench's runs: the server's passengers hashes then match the script's.
    key = pii_key.local_key_file(workspace.data).read_text().strip()
    workspace.env |= {"ETTL_DEPLOYMENT": "thrift", "ETTL_SPARK_PORT": str(free_port()),
                      pii_key.PII_KEY_ENV: key}  # fmt: skip
    workspace.ettl("warm-server-start", "spark-server", "start")
    pid = int((workspace.data / "spark-server" / "server.pid").read_text())
    try:
        workspace.materialize_silver_gold("warm-first", DAY, DAY, "warm")  # its first jobs
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
        subprocess.run([str(BIN / "ettl"), "spark-server", "stop"], env=workspace.env, check=False)
        with contextlib.suppress(ProcessLookupError):  # never leave a JVM behind
            os.killpg(pid, signal.SIGKILL)
    for side, seconds in medians.items():
        print(f"{side}: median {seconds:.1f} s")
    print(f"P3 on a warm server: {medians['platform'] / medians['baseline']:.2f}")
    print(f"P3n on a warm server: {medians['without_tests'] / medians['baseline']:.2f}")


if __name__ == "__main__":
    main()
