"""Dataset names and dataset facets, following OpenLineage's naming spec
(openlineage.io/docs/spec/naming): a local file is namespace `file` plus its absolute path, a
Spark table is namespace `spark://<engine>` plus `<schema>.<table>` (dbt's relation name).

The bronze asset's output and the silver model's input are the same table, so their events name
the same dataset: that is what connects landing file -> bronze -> silver -> gold in Marquez.
"""

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import dagster as dg
from openlineage.client.event_v2 import InputDataset
from openlineage.client.facet_v2 import (
    DatasetFacet,
    OutputDatasetFacet,
    column_lineage_dataset,
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


def described_by(owners: Sequence[str], description: str | None) -> dict[str, DatasetFacet]:
    """Who owns a dataset and what it holds, as its asset's definition says."""
    facets: dict[str, DatasetFacet] = {}
    if owners:
        facets["ownership"] = owner_facet(owners)
    if description:
        facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(
            description=description
        )
    return facets


def table_facets(
    columns: Mapping[str, str] | None,
    owners: Sequence[str] = (),
    description: str | None = None,
) -> dict[str, DatasetFacet]:
    """What the catalog knows of a table: its schema, owners, description, Parquet storage."""
    facets: dict[str, DatasetFacet] = {
        "storage": storage_dataset.StorageDatasetFacet(storageLayer="spark", fileFormat="parquet")
    }
    if columns:
        facets["schema"] = schema_facet(columns)
    return facets | described_by(owners, description)


def input_table(name: str, columns: Mapping[str, str] | None) -> InputDataset:
    """A table a job read; its owners and description travel with the job that wrote it."""
    return InputDataset(namespace=warehouse_namespace(), name=name, facets=table_facets(columns))


def row_count(rows: int | None) -> dict[str, OutputDatasetFacet]:
    if rows is None:
        return {}
    return {
        "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            rowCount=rows
        )
    }


def column_lineage_facet(
    lineage: dg.TableColumnLineage, dataset_of: Callable[[dg.AssetKey], str]
) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    """Dagster's column lineage (asset key + column) as OpenLineage's (dataset + field)."""
    fields = {
        column: column_lineage_dataset.Fields(
            inputFields=[
                column_lineage_dataset.InputField(
                    namespace=warehouse_namespace(),
                    name=dataset_of(dep.asset_key),
                    field=dep.column_name,
                )
                for dep in deps
            ]
        )
        for column, deps in lineage.deps_by_column.items()
    }
    return column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields)


def landing_file(location: str) -> InputDataset:
    """A delivered file, by its local path or its URL (OpenLineage's naming: the URL's scheme
    and authority are the namespace, its path the name)."""
    if "://" not in location:
        return InputDataset(namespace=FILE_NAMESPACE, name=str(Path(location).resolve()))
    scheme, rest = location.split("://", 1)
    authority, _, path = rest.partition("/")
    return InputDataset(namespace=f"{scheme}://{authority}", name=f"/{path}")
