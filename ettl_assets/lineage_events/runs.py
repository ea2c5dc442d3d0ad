"""One OpenLineage run per asset materialized in a Dagster step, and its START/COMPLETE/FAIL.

The OpenLineage job is the asset (`bronze/flights`), its parent the Dagster run that built it;
a partitioned step's window is the run's nominal time, so a backfill's runs say which days they
rebuilt.
"""

import os
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata

import dagster as dg
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
    spec: dg.AssetSpec, integration: str, job_type: str, extra: dict[str, JobFacet] | None = None
) -> dict[str, JobFacet]:
    facets: dict[str, JobFacet] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration=integration, jobType=job_type
        )
    }
    if spec.owners:
        facets["ownership"] = ownership_job.OwnershipJobFacet(
            owners=[ownership_job.Owner(name=o, type=owner_type(o)) for o in spec.owners]
        )
    if spec.description:
        facets["documentation"] = documentation_job.DocumentationJobFacet(
            description=spec.description
        )
    return facets | (extra or {})


def step_run_facets(context: dg.AssetExecutionContext) -> dict[str, RunFacet]:
    """What every asset run of a step shares: its Dagster run, its partition window."""
    facets: dict[str, RunFacet] = {
        "parent": parent_run.ParentRunFacet(
            run=parent_run.Run(runId=context.run.run_id),
            job=parent_run.Job(namespace=job_namespace(), name=context.run.job_name),
        )
    }
    partitioned_run = context.has_partition_key or context.has_partition_key_range
    if partitioned_run and context.assets_def.partitions_def is not None:
        window = context.partition_time_window
        facets["nominalTime"] = nominal_time_run.NominalTimeRunFacet(
            nominalStartTime=window.start.isoformat(), nominalEndTime=window.end.isoformat()
        )
    return facets


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
        error: BaseException | str,
        inputs: list[InputDataset],
        outputs: list[OutputDataset],
        at: str | None = None,
        language: str = "python",
    ) -> RunEvent:
        """FAIL with the error: a Python exception, or the message of a failed dbt model."""
        if isinstance(error, BaseException):
            message = str(error) or type(error).__name__
            stack = "".join(traceback.format_exception(error))
        else:
            message, stack = error, None
        facet = error_message_run.ErrorMessageRunFacet(
            message=message, programmingLanguage=language, stackTrace=stack
        )
        return self.event(RunState.FAIL, inputs, outputs, at, {"errorMessage": facet})
