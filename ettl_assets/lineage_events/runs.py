"""One OpenLineage run per asset a Dagster step built (or failed to), and its START/COMPLETE/FAIL.

The OpenLineage job is the asset (`bronze/flights`), its parent the Dagster run that built it;
a partitioned step's window is the run's nominal time, so a backfill's runs say which days they
rebuilt.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata

import dagster as dg
from dagster._core.storage.tags import (  # the run tags Dagster sets for a partition (range)
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    JobFacet,
    RunFacet,
    documentation_job,
    error_message_run,
    job_type_job,
    nominal_time_run,
    ownership_job,
    parent_run,
    set_producer,
)
from openlineage.client.uuid import generate_new_uuid

from ettl_assets.lineage_events.datasets import owner_type

NAMESPACE_ENV = "OPENLINEAGE_NAMESPACE"  # the variable openlineage-python's clients read
DEFAULT_NAMESPACE = "ettl"
PRODUCER = f"urn:ettl-assets:{metadata.version('ettl-assets')}"
set_producer(PRODUCER)  # facets name their producer too


def job_namespace() -> str:
    return os.environ.get(NAMESPACE_ENV, DEFAULT_NAMESPACE)


def job_facets(
    owners: Sequence[str],
    description: str | None,
    integration: str,
    job_type: str,
    extra: dict[str, JobFacet] | None = None,
) -> dict[str, JobFacet]:
    facets: dict[str, JobFacet] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration=integration, jobType=job_type
        )
    }
    if owners:
        facets["ownership"] = ownership_job.OwnershipJobFacet(
            owners=[ownership_job.Owner(name=o, type=owner_type(o)) for o in owners]
        )
    if description:
        facets["documentation"] = documentation_job.DocumentationJobFacet(description=description)
    return facets | (extra or {})


def parent_facet(dagster_run: dg.DagsterRun) -> parent_run.ParentRunFacet:
    """Every asset run's parent: the Dagster run that built it."""
    return parent_run.ParentRunFacet(
        run=parent_run.Run(runId=dagster_run.run_id),
        job=parent_run.Job(namespace=job_namespace(), name=dagster_run.job_name),
    )


def nominal_time_facet(
    dagster_run: dg.DagsterRun, partitions_def: dg.PartitionsDefinition | None
) -> nominal_time_run.NominalTimeRunFacet | None:
    """The days a partitioned asset's run rebuilt, from the run's partition (range) tags."""
    if not isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return None
    tags = dagster_run.tags
    first = tags.get(ASSET_PARTITION_RANGE_START_TAG) or tags.get(PARTITION_NAME_TAG)
    last = tags.get(ASSET_PARTITION_RANGE_END_TAG) or tags.get(PARTITION_NAME_TAG)
    if first is None or last is None:
        return None
    return nominal_time_run.NominalTimeRunFacet(
        nominalStartTime=partitions_def.time_window_for_partition_key(first).start.isoformat(),
        nominalEndTime=partitions_def.time_window_for_partition_key(last).end.isoformat(),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class AssetRun:
    """The events of one asset's materialization; START and the final event share a run id."""

    asset_key: dg.AssetKey
    job_facets: dict[str, JobFacet]
    run_facets: dict[str, RunFacet]
    run_id: str = field(default_factory=lambda: str(generate_new_uuid()))

    def event(
        self,
        state: RunState,
        inputs: list[InputDataset],
        outputs: list[OutputDataset],
        at: str | None = None,
        run_facets: dict[str, RunFacet] | None = None,
    ) -> RunEvent:
        return RunEvent(
            eventType=state,
            eventTime=at or _now(),
            producer=PRODUCER,
            run=Run(runId=self.run_id, facets={**self.run_facets, **(run_facets or {})}),
            job=Job(
                namespace=job_namespace(),
                name=self.asset_key.to_user_string(),
                facets=self.job_facets,
            ),
            inputs=inputs,
            outputs=outputs,
        )

    def failed(
        self,
        message: str,
        stack: str | None,
        inputs: list[InputDataset],
        outputs: list[OutputDataset],
        at: str | None = None,
        language: str = "python",
    ) -> RunEvent:
        """FAIL with the step's error: a Python exception's, or dbt's for a dbt model."""
        facet = error_message_run.ErrorMessageRunFacet(
            message=message, programmingLanguage=language, stackTrace=stack
        )
        return self.event(RunState.FAIL, inputs, outputs, at, {"errorMessage": facet})
