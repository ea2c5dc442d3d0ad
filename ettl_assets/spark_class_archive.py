"""A class-data archive (Java AppCDS) that halves the embedded Spark's start.

Every dbt step on the embedded engine starts a JVM that loads Spark's, Hive's and Derby's
classes before its first query: ~10 s of a one-day step, twice per run (bench P3). Java can
map those classes from an archive dumped once instead of loading and verifying them again: a
Spark session with Hive support starts in ~5 s with it (docs/performance.md).

The archive belongs to one Java and one set of Spark jars, so it lives in the virtualenv and
its name says which Java and pyspark it was dumped with. `make install` starts its dump in the
background, as does a dbt step that finds none, so nothing waits for it. A
missing archive only means a slower start; a dump that fails is logged and not used, and a
dump is only kept after a JVM has started with `-Xshare:on`, which refuses an archive it
cannot map: a run never fails because of it.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from ettl_assets.spark_settings import ENGINE, catalog, derby_metastore_url

JAVA_OPTIONS_ENV = "ETTL_SPARK_JAVA_OPTIONS"  # read by profiles.yml (local target)


def _java() -> Path:
    """The java pyspark launches: $JAVA_HOME/bin/java, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    found = Path(home) / "bin" / "java" if home else shutil.which("java")
    return Path(found).resolve() if found else Path("java")


def archive_file() -> Path:
    java = _java()
    built = java.stat().st_mtime_ns if java.exists() else 0
    identity = f"{version('pyspark')}|{java}|{built}"
    key = hashlib.sha256(identity.encode()).hexdigest()[:12]
    return Path(sys.prefix) / "share" / "ettl" / f"spark-classes-{key}.jsa"


def java_options() -> str:
    archive = archive_file()
    return f"-XX:SharedArchiveFile={archive}" if archive.exists() else ""


def export_java_options() -> None:
    """Let the dbt processes started from here use the archive, when there is one."""
    os.environ[JAVA_OPTIONS_ENV] = java_options()


def _run_workload(java_option: str) -> subprocess.CompletedProcess:
    # In a scratch working directory: a JVM that refuses an archive may crash, and writes its
    # hs_err_pid*.log there, not into the caller's directory.
    with tempfile.TemporaryDirectory() as scratch:
        return subprocess.run(
            [sys.executable, "-m", "ettl_assets.spark_class_archive", java_option],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=scratch,
        )


def _dump_lock(archive: Path) -> Path:
    archive.parent.mkdir(parents=True, exist_ok=True)
    return archive.parent / ".dump.lock"


def dump_archive(log: Callable[[str], None]) -> None:
    """Dump the archive if this virtualenv has none (~1 min, once). A dump under way in another
    process is left to finish: this one returns at once."""
    archive = archive_file()
    with _dump_lock(archive).open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        if not archive.exists():
            _dump(archive, log)


def start_background_dump() -> None:
    """Dump the archive in a process of its own, so neither `make install` nor the first run
    waits the minute it takes; that run's JVMs start without it, the next ones with it."""
    archive = archive_file()
    if archive.exists():
        return
    log = _dump_lock(archive).with_name("dump.log").open("a")
    subprocess.Popen(
        [sys.executable, "-m", "ettl_assets.spark_class_archive", "--dump"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # not stopped by the Ctrl-C or the end of whoever started it
        cwd=tempfile.gettempdir(),
    )


def wait_for_dump() -> None:
    """Return once no dump is under way (for the tests that need the archive)."""
    with _dump_lock(archive_file()).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)


def ensure_archive(log: Callable[[str], None]) -> None:
    """Before a dbt step on the embedded engine: have the archive dumped in the background when
    there is none (this step's Spark starts without it); java_options() names it once it exists."""
    if not archive_file().exists():
        log("the embedded Spark's class-data archive is being dumped in the background (once, "
            "~1 min); this step's Spark starts without it")  # fmt: skip
        start_background_dump()


def _dump(archive: Path, log: Callable[[str], None]) -> None:
    log(f"dumping the embedded Spark's class-data archive to {archive} (once, ~1 min)")
    partial = archive.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    result = _run_workload(f"-XX:ArchiveClassesAtExit={partial}")
    if result.returncode == 0:  # dumped: keep it only if a JVM maps it
        result = _run_workload(f"-XX:SharedArchiveFile={partial} -Xshare:on")
    if result.returncode:
        lines = (result.stderr or result.stdout).strip().splitlines()
        log(f"no class-data archive, Spark starts without it: {lines[-1] if lines else result}")
        partial.unlink(missing_ok=True)
        return
    partial.rename(archive)
    for older in archive.parent.glob("spark-classes-*.jsa"):  # of a former Java or pyspark
        if older != archive:
            older.unlink()


# The workload the archive is dumped from: what a dbt step does on the embedded engine (Hive
# catalog on Derby, partitioned Parquet tables, dynamic overwrite, joins, aggregates, the PII
# hash), on a throwaway metastore, so it needs no lock and touches no data.
WORKLOAD = [
    "create database if not exists silver",
    "create table silver.t (id bigint, name string, day date) using parquet partitioned by (day)",
    "insert overwrite table silver.t partition (day) select id, cast(id as string), "
    "date_add(current_date(), cast(id % 3 as int)) from range(100)",
    "alter table silver.t recover partitions",
    "show partitions silver.t",
    "alter table silver.t add if not exists partition (day = '2000-01-01')",
    "refresh table silver.t",
    "show table extended in silver like '*'",
    "describe extended silver.t",
    "create or replace temporary view v as select day, count(*) n, avg(id) m from silver.t "
    "group by day",
    "select t.day, v.n, row_number() over (partition by t.day order by t.id) r, "
    "reflect('org.apache.commons.codec.digest.HmacUtils', 'hmacSha256Hex', 'k', t.name) h "
    "from silver.t join v on t.day = v.day",
    "create table silver.u using parquet as select * from silver.t where id > 50",
    "show databases",
]


def _workload(java_option: str) -> None:
    from pyspark.sql import SparkSession

    with tempfile.TemporaryDirectory() as scratch:
        scratch_dir = Path(scratch)
        conf = ENGINE | catalog(
            scratch_dir / "warehouse", derby_metastore_url(scratch_dir), scratch_dir, java_option
        )
        builder = SparkSession.builder.master("local[*]").enableHiveSupport()
        for key, value in conf.items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        for statement in WORKLOAD:
            spark.sql(statement).collect()
        # The JVM writes the archive as it exits: stop it and wait, so the dump is complete
        # when this process returns.
        jvm = spark.sparkContext._gateway.proc
        spark.stop()
        jvm.stdin.close()
        jvm.wait(timeout=300)


if __name__ == "__main__":
    if sys.argv[1:] == ["--dump"]:  # the background dump
        dump_archive(print)
    elif sys.argv[1:] == ["--path"]:  # for .venv/bin/activate, which checks it exists
        print(archive_file())
    elif len(sys.argv) > 1:  # the workload, in a process of its own
        _workload(sys.argv[1])
    else:  # `make install`
        start_background_dump()
