"""`ettl spark-server`: what it starts, and the clear errors before it starts anything."""

import socket

import pytest

from ettl import spark_server
from ettl_assets import settings, thrift_server


def test_the_server_runs_on_loopback_with_this_data_dirs_warehouse_and_metastore(data_dir):
    command = spark_server.spark_submit_command("127.0.0.1", 10099)
    assert command[0].endswith("bin/spark-submit")
    assert thrift_server.THRIFT_SERVER_CLASS in command
    joined = " ".join(command)
    assert f"spark.sql.warehouse.dir={data_dir / 'warehouse'}" in joined
    assert f"databaseName={data_dir / 'metastore_db'};create=true" in joined
    assert "hive.server2.thrift.port=10099" in joined
    assert "hive.server2.thrift.bind.host=127.0.0.1" in joined


def test_a_remote_host_is_not_started_from_here(data_dir, monkeypatch):
    monkeypatch.setenv(settings.SPARK_HOST_ENV, "spark.example.internal")
    with pytest.raises(spark_server.SparkServerError, match="remote server is not started"):
        spark_server.start(progress=lambda _: None)


def test_a_port_taken_by_another_process_is_named(data_dir, monkeypatch):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        monkeypatch.setenv(settings.SPARK_PORT_ENV, str(other.getsockname()[1]))
        with pytest.raises(spark_server.SparkServerError, match="taken by another process"):
            spark_server.start(progress=lambda _: None)
    assert spark_server.running_pid() is None


@pytest.mark.parametrize(
    ("deployment", "target", "embedded"),
    [("local", "local", True), ("thrift", "thrift", False), ("k8s", "thrift", False)],
)
def test_one_setting_picks_the_dbt_target(monkeypatch, deployment, target, embedded):
    monkeypatch.setenv(settings.DEPLOYMENT_ENV, deployment)
    assert (settings.dbt_target(), settings.embedded_spark()) == (target, embedded)


def test_an_unknown_deployment_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(settings.DEPLOYMENT_ENV, "cloud")
    with pytest.raises(ValueError, match="not a known deployment"):
        settings.dbt_target()


@pytest.mark.parametrize(("thrift_pid", "warm", "status"), [
    (None, (4321, 40001), 0),  # the warm server of the dbt steps (docs/performance.md)
    (1234, None, 0),
    (None, None, 3),
])  # fmt: skip
def test_status_exits_0_when_a_server_of_this_data_dir_runs(
    data_dir, monkeypatch, capsys, thrift_pid, warm, status
):
    from ettl import cli
    from ettl_assets import warm_spark

    monkeypatch.setattr(spark_server, "running_pid", lambda: thrift_pid)
    monkeypatch.setattr(warm_spark, "running_server", lambda files: warm)
    monkeypatch.setattr(spark_server, "cluster_status_lines", lambda: [])
    assert cli.spark_server(cli.argparse.Namespace(action="status", cluster=False)) == status
    shown = capsys.readouterr().out
    assert ("warm Spark server of the dbt steps: running" in shown) == (warm is not None)
