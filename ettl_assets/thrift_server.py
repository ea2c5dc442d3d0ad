"""A Spark Thrift server from pyspark's own jars: its command and whether it answers SQL.

Started by `ettl spark-server` (the `thrift` deployment, by hand) and by the local deployment's
warm engine (warm_spark.py), which the dbt steps start themselves.
"""

import socket
from dataclasses import dataclass
from pathlib import Path

import pyspark

THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
LOOPBACK_HOST = "127.0.0.1"


@dataclass(frozen=True)
class ServerFiles:
    """Where a server keeps its pid and log."""

    root: Path

    @property
    def pid(self) -> Path:
        return self.root / "server.pid"

    @property
    def log(self) -> Path:
        return self.root / "server.log"


def server_command(
    host: str, port: int, conf: dict[str, str], master: str | None = None
) -> list[str]:
    """spark-submit of the server with these settings, listening on host:port; in local mode,
    or as the driver of the cluster at `master`."""
    spark_home = Path(pyspark.__file__).parent
    command = [str(spark_home / "bin" / "spark-submit"), "--class", THRIFT_SERVER_CLASS,
               "--name", "ettl-spark-thrift-server"]  # fmt: skip
    if master:
        command += ["--master", master]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    command += ["--hiveconf", f"hive.server2.thrift.port={port}"]
    command += ["--hiveconf", f"hive.server2.thrift.bind.host={host}", "spark-internal"]
    return command


def accepts_connections(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def answers_sql(host: str, port: int) -> bool:
    """The server runs SQL: the port alone opens before the session catalog is ready."""
    from pyhive import hive

    if not accepts_connections(host, port):  # pyhive would log every refused attempt
        return False
    try:
        connection = hive.connect(host=host, port=port, username="ettl")
        try:
            cursor = connection.cursor()
            cursor.execute("select 1")
            return cursor.fetchall() == [(1,)]
        finally:
            connection.close()
    except Exception:
        return False


def free_port() -> int:
    """A port nothing listens on now, on loopback."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK_HOST, 0))
        return probe.getsockname()[1]
