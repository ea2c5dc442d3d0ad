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

from ettl_assets import pii_key, project_config, settings
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
    """The Spark dbt runs on: started by dbt itself on the Derby metastore of the warehouse's
    data dir (the local deployment), or a Thrift server that holds its own catalog."""

    warehouse: Warehouse
    deployment: str = Field(description="local | thrift | k8s (ETTL_DEPLOYMENT).")

    @classmethod
    def configured(cls, warehouse: Warehouse) -> "SparkEngine":
        return cls(warehouse=warehouse, deployment=settings.deployment())

    @property
    def embedded(self) -> bool:
        return settings.DBT_TARGET_BY_DEPLOYMENT[self.deployment] == "local"

    @contextmanager
    def ready_for_dbt(self, log: Callable[[str], None]) -> Iterator[dict[str, str]]:
        """The engine, ready for one dbt invocation: on the embedded one its class-data archive
        (a faster JVM start) and the metastore to itself (metastore_lock.py). Yields what dbt's
        environment needs for it."""
        if self.embedded:
            ensure_archive(log)
        with holding_embedded_metastore(log, self.warehouse.root, self.embedded):
            yield {JAVA_OPTIONS_ENV: java_options()}


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
