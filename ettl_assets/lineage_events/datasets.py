"""Dataset names and dataset facets, following OpenLineage's naming spec
(openlineage.io/docs/spec/naming): a local file is namespace `file` plus its absolute path, a
Spark table is namespace `spark://<engine>` plus `<schema>.<table>` (dbt's relation name).

The bronze asset's output and the silver model's input are the same table, so their events name
the same dataset: that is what connects landing file -> bronze -> silver -> gold in Marquez.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path

import dagster as dg
from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import (
    DatasetFacet,
    documentation_dataset,
    output_statistics_output_dataset,
    ownership_dataset,
    schema_dataset,
    storage_dataset,
)

from ettl_assets import settings

FILE_NAMESPACE = "file"


def warehouse_namespace() -> str:
    if settings.embedded_spark():
        return "spark://local"  # the embedded Spark has no host: it is this checkout's warehouse
    host, port = settings.spark_server_address()
    return f"spark://{host}:{port}"


def table_name(asset_key: dg.AssetKey) -> str:
    """The Spark table of an asset: models/<tier>/<name> and bronze/<table> are <tier>.<name>."""
    return ".".join(asset_key.path)


def schema_facet(columns: Mapping[str, str]) -> schema_dataset.SchemaDatasetFacet:
    return schema_dataset.SchemaDatasetFacet(
        fields=[
            schema_dataset.SchemaDatasetFacetFields(name=name, type=data_type)
            for name, data_type in columns.items()
        ]
    )


def owner_facet(owners: Sequence[str]) -> ownership_dataset.OwnershipDatasetFacet:
    return ownership_dataset.OwnershipDatasetFacet(
        owners=[ownership_dataset.Owner(name=owner, type=owner_type(owner)) for owner in owners]
    )


def owner_type(owner: str) -> str:
    """Dagster owners are `team:<name>` or an email address."""
    return "TEAM" if owner.startswith("team:") else "USER"


def table_facets(
    spec: dg.AssetSpec | None, columns: Mapping[str, str] | None
) -> dict[str, DatasetFacet]:
    """What the catalog knows of a table: its schema, owners, description, Parquet storage."""
    facets: dict[str, DatasetFacet] = {
        "storage": storage_dataset.StorageDatasetFacet(storageLayer="spark", fileFormat="parquet")
    }
    if columns:
        facets["schema"] = schema_facet(columns)
    if spec is not None and spec.owners:
        facets["ownership"] = owner_facet(spec.owners)
    if spec is not None and spec.description:
        facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(
            description=spec.description
        )
    return facets


def input_table(name: str, columns: Mapping[str, str] | None) -> InputDataset:
    """A table a job read; its owners and description travel with the job that wrote it."""
    return InputDataset(
        namespace=warehouse_namespace(), name=name, facets=table_facets(None, columns)
    )


def output_table(
    name: str,
    spec: dg.AssetSpec,
    columns: Mapping[str, str] | None,
    rows: int | None = None,
    extra: Mapping[str, DatasetFacet] | None = None,
) -> OutputDataset:
    output_facets = {}
    if rows is not None:
        output_facets["outputStatistics"] = (
            output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(rowCount=rows)
        )
    return OutputDataset(
        namespace=warehouse_namespace(),
        name=name,
        facets={**table_facets(spec, columns), **(extra or {})},
        outputFacets=output_facets,
    )


def landing_file(location: str) -> InputDataset:
    """A delivered file, by its local path or its URL (OpenLineage's naming: the URL's scheme
    and authority are the namespace, its path the name)."""
    if "://" not in location:
        return InputDataset(namespace=FILE_NAMESPACE, name=str(Path(location).resolve()))
    scheme, rest = location.split("://", 1)
    authority, _, path = rest.partition("/")
    return InputDataset(namespace=f"{scheme}://{authority}", name=f"/{path}")
