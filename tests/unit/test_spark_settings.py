"""The engine's session settings are written once (ettl_assets/spark_settings.py); profiles.yml,
which dbt reads without Python, restates them, and must say the same."""

import yaml

from ettl_assets.spark_settings import ENGINE
from tests.conftest import PROJECT_ROOT


def test_the_local_dbt_target_starts_spark_with_the_engine_settings():
    profiles = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "profiles.yml").read_text())
    (profile,) = profiles.values()
    local = profile["outputs"]["local"]["server_side_parameters"]
    assert {key: local.get(key) for key in ENGINE} == ENGINE


def test_the_thrift_server_is_started_with_the_engine_settings():
    from ettl import spark_server

    command = spark_server.spark_submit_command("127.0.0.1", 10999)
    given = dict(arg.split("=", 1) for arg in command if arg.startswith("spark."))
    assert {key: given.get(key) for key in ENGINE} == ENGINE
