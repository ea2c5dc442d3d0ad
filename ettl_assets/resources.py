"""The Dagster resources the steps use: where the data lives, the Spark engine dbt runs on, and
the PII hashing key.

Their defaults come from the project configuration (ettl.yaml and its ETTL_* overrides) when the
definitions are built, so `dagster asset materialize`, `ettl` and the UI run unchanged, and the UI
shows them with each run. A test passes its own instead of setting environment variables. No key
is ever part of a resource's configuration (which Dagster records in events): PiiKey says where
the key is, and reads it when a step needs it.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from ettl_assets import pii_key, project_config, settings, warm_spark
from ettl_assets.metastore_lock import holding_embedded_metastore
from ettl_assets.spark_class_archive import JAVA_OPTIONS_ENV, ensure_archive, java_options


class Warehouse(dg.ConfigurableResource):
    """Where the pipeline reads deliveries and writes every tier, and how dbt is told so."""

    data_dir: str = Field(description="Warehouse, metastore and reports (ettl.yaml data_dir).")
    landing_root: str = Field(
        description="Where sources deliver: a path or fsspec URL (ettl.yaml landing_root)."
    )

    @classmethod
    def configured(cls) -> "Warehouse":
        config = project_config.load()
        return cls(data_dir=str(config.data_dir), landing_root=config.landing_root)

    @property
    def root(self) -> Path:
        return Path(self.data_dir)

    def warehouse_dir(self) -> Path:
        return settings.warehouse_dir(self.root)

    def bronze_dir(self) -> Path:
        return settings.bronze_dir(self.root)

    def reports_dir(self) -> Path:
        return settings.reports_dir(self.root)

    def dbt_env(self) -> dict[str, str]:
        """profiles.yml and the bronze macros find the warehouse and metastore by it."""
        return {settings.DATA_DIR_ENV: self.data_dir}


class SparkEngine(dg.ConfigurableResource):
    """The Spark dbt runs on: on the local deployment started by dbt itself on the Derby
    metastore of the warehouse's data dir, or the data dir's warm Spark server (warm_spark.py);
    otherwise a Thrift server that holds its own catalog."""

    warehouse: Warehouse
    deployment: str = Field(description="local | thrift | k8s (ETTL_DEPLOYMENT).")
    warm_idle_minutes: float | None = Field(
        default=None,
        description="Local deployment: run dbt on the data dir's warm Spark server, stopped "
        f"after this many idle minutes ({warm_spark.IDLE_MINUTES_ENV}); none: an embedded "
        "Spark in each dbt step.",
    )

    @classmethod
    def configured(cls, warehouse: Warehouse) -> "SparkEngine":
        return cls(
            warehouse=warehouse,
            deployment=settings.deployment(),
            warm_idle_minutes=warm_spark.idle_minutes(),
        )

    @property
    def embedded(self) -> bool:
        return settings.DBT_TARGET_BY_DEPLOYMENT[self.deployment] == "local"

    @contextmanager
    def ready_for_dbt(self, log: Callable[[str], None]) -> Iterator[dict[str, str]]:
        """The engine, ready for one dbt invocation: on the local deployment its class-data
        archive (a faster JVM start), then either the metastore to itself (metastore_lock.py)
        or the warm server in use. Yields what dbt's environment needs for it."""
        if self.embedded:
            ensure_archive(log)
        options = {JAVA_OPTIONS_ENV: java_options()}
        if self.embedded and self.warm_idle_minutes:
            root, minutes = self.warehouse.root, self.warm_idle_minutes
            with warm_spark.serving(root, minutes, options[JAVA_OPTIONS_ENV], log) as port:
                yield options | warm_spark.dbt_environment(port)
            return
        if self.embedded:
            warm_spark.stop(self.warehouse.root, log)  # one left running when it was turned off
        with holding_embedded_metastore(log, self.warehouse.root, self.embedded):
            yield options


class PiiKey(dg.ConfigurableResource):
    """Where the key silver hashes personal data with is (pii_key.py, docs/security.md): never
    the key itself, which is read when a dbt step needs it."""

    warehouse: Warehouse
    deployment: str = Field(description="local | thrift | k8s: only local makes its own key.")
    key_file: str | None = Field(
        default=None,
        description="A file holding the key (e.g. a mounted secret). Default: the environment "
        f"variable {pii_key.PII_KEY_ENV}, else on the local deployment the data dir's key.",
    )

    @classmethod
    def configured(cls, warehouse: Warehouse) -> "PiiKey":
        return cls(warehouse=warehouse, deployment=settings.deployment())

    def read(self) -> str:
        """The key, checked: MissingPiiKeyError or WeakPiiKeyError say what to do."""
        return pii_key.read_key(
            self.deployment, self.warehouse.root, Path(self.key_file) if self.key_file else None
        )


def configured_resources() -> dict[str, dg.ConfigurableResource]:
    """The resources of the definitions, as the project configuration sets them."""
    warehouse = Warehouse.configured()
    return {
        "warehouse": warehouse,
        "spark": SparkEngine.configured(warehouse),
        "pii_key": PiiKey.configured(warehouse),
    }
