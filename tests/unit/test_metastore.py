"""The shared PostgreSQL metastore's configuration and the cluster's server command: what each
Spark is given, and that the password stays off every command line."""

import pytest

from ettl import metastore, spark_cluster, spark_server

URL = "jdbc:postgresql://db.example.internal:5433/metastore"


@pytest.fixture
def shared_metastore(monkeypatch):
    monkeypatch.setenv(metastore.URL_ENV, URL)
    monkeypatch.setenv(metastore.USER_ENV, "hive")
    monkeypatch.setenv(metastore.PASSWORD_ENV, "s3cret<&>")
    return metastore.configured()


def test_unset_means_the_embedded_derby_metastore(monkeypatch):
    monkeypatch.delenv(metastore.URL_ENV, raising=False)
    assert metastore.configured() is None
    assert metastore.prepare() is None


def test_the_url_names_host_port_and_database(shared_metastore):
    assert (shared_metastore.host, shared_metastore.port) == ("db.example.internal", 5433)
    assert shared_metastore.database == "metastore"


@pytest.mark.parametrize(
    ("url", "user", "error"),
    [("postgresql://db/metastore", "hive", "jdbc:postgresql://"), (URL, "", metastore.USER_ENV)],
)
def test_a_misconfiguration_is_a_clear_error(monkeypatch, url, user, error):
    monkeypatch.setenv(metastore.URL_ENV, url)
    monkeypatch.setenv(metastore.USER_ENV, user)
    with pytest.raises(metastore.MetastoreError, match=error):
        metastore.configured()


def test_the_connection_goes_to_a_hive_site_only_its_owner_reads(data_dir, shared_metastore):
    path = metastore.write_hive_site(shared_metastore)
    assert path.parent == metastore.conf_dir()
    assert (path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    text = path.read_text()
    assert "<value>s3cret&lt;&amp;&gt;</value>" in text  # escaped XML
    assert "<name>datanucleus.schema.autoCreateAll</name><value>false</value>" in text


def test_the_server_on_the_shared_metastore_has_its_url_never_its_password(
    data_dir, shared_metastore
):
    command = spark_server.spark_submit_command("127.0.0.1", 10099)
    joined = " ".join(command)
    assert f"spark.hadoop.javax.jdo.option.ConnectionURL={URL}" in joined
    assert (
        f"spark.driver.extraClassPath={metastore.conf_dir()}:{metastore.JDBC_DRIVER_JAR}" in joined
    )
    assert "s3cret" not in joined and "metastore_db" not in joined


def test_on_a_cluster_the_server_is_its_driver_with_one_executor_per_worker(data_dir):
    command = spark_server.spark_submit_command("127.0.0.1", 10099, "spark://127.0.0.1:7177")
    assert command[command.index("--master") + 1] == "spark://127.0.0.1:7177"
    joined = " ".join(command)
    assert "spark.executor.cores=1" in joined and "spark.cores.max=2" in joined
    assert "spark.ui.enabled=true" in joined
    assert "--master" not in spark_server.spark_submit_command("127.0.0.1", 10099)


def test_the_workers_register_with_the_configured_master_on_loopback(data_dir, monkeypatch):
    monkeypatch.setenv(spark_cluster.MASTER_PORT_ENV, "7177")
    master, *workers = spark_cluster.processes()
    ui_port = str(spark_cluster.master_ui_port())
    assert spark_cluster.spark_class_command(master)[-4:] == [
        "--port",
        "7177",
        "--webui-port",
        ui_port,
    ]
    for worker in workers:
        command = spark_cluster.spark_class_command(worker)
        assert command[-1] == "spark://127.0.0.1:7177"
        assert command[command.index("--host") + 1] == "127.0.0.1"
    assert spark_cluster.environment()["SPARK_LOCAL_IP"] == "127.0.0.1"
